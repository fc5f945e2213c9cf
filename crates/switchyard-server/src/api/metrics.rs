//! `/metrics` and `/metrics.csv`: the shop's operational metrics over a
//! period, as JSON (the whole period) or CSV (one row per UTC day). The
//! numbers and their rules are `switchyard_core::metrics`; what counts is
//! the engine's (`Engine::metrics`).
//!
//! `from` and `to` are RFC 3339 times or `YYYY-MM-DD` dates (UTC): a date
//! as `from` is that day's midnight, as `to` the end of that day, so
//! `from=2026-03-01&to=2026-03-31` is all of March. `to` is excluded. By
//! default the period is the last 30 days up to the end of today.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use switchyard_core::metrics::{Cell, Metrics, Period, DAY_MS};
use switchyard_core::{ChannelName, LocationCode};
use switchyard_engine::{Code, MetricsQuery};
use switchyard_store::rfc3339;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::ApiQuery;
use crate::error::ErrorBody;
use crate::{ApiError, AppState};

/// The default period: this many days up to the end of today.
const DEFAULT_DAYS: i64 = 30;
/// The most days one CSV export covers (a row each).
pub const MAX_CSV_DAYS: i64 = 1000;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_metrics)).routes(routes!(get_metrics_csv))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MetricsParams {
    /// Start (included): RFC 3339, or `YYYY-MM-DD` for that day's midnight
    /// UTC. Default: 30 days before `to`.
    pub from: Option<String>,
    /// End (excluded): RFC 3339, or `YYYY-MM-DD` for the end of that day
    /// UTC. Default: the end of today.
    pub to: Option<String>,
    /// Only orders from this channel (and its exceptions and sync lags).
    pub channel: Option<String>,
    /// Only orders with units allocated at this location.
    pub location: Option<String>,
}

/// The metrics of a period. Rates are fractions from 0 to 1 (0 over
/// nothing: see the count beside each); durations are seconds, `null`
/// when nothing was measured.
#[derive(Debug, Serialize, ToSchema)]
pub struct MetricsBody {
    /// Start of the period, RFC 3339 UTC (included).
    pub from: String,
    /// End of the period, RFC 3339 UTC (excluded).
    pub to: String,
    pub channel: Option<String>,
    pub location: Option<String>,
    /// Orders received in the period.
    pub orders: i64,
    /// Orders whose intake was recorded (older orders are not measured).
    pub orders_measured: i64,
    /// Orders fully allocated when taken ÷ measured orders.
    pub fill_rate: f64,
    /// Units allocated when taken ÷ units ordered (measured orders).
    pub fill_rate_units: f64,
    pub lines_measured: i64,
    /// Lines whose SKU had nothing available to promise when ordered ÷
    /// measured lines.
    pub stockout_rate: f64,
    pub cancelled: i64,
    /// Cancelled orders ÷ orders.
    pub cancellation_rate: f64,
    /// Cancelled orders per reason (`cancelled`: none given; `unrecorded`:
    /// cancelled before reasons were recorded).
    pub cancellations_by_reason: BTreeMap<String, i64>,
    /// Orders cancelled while short of stock (a backorder). The goal is 0.
    pub oversell_cancellations: i64,
    pub split_shipments: i64,
    /// Orders with units at more than one location ÷ orders.
    pub split_shipment_rate: f64,
    /// Fully shipped or picked-up orders, counter sales aside (the
    /// handling-time sample).
    pub shipped_orders: i64,
    /// Mean time from intake to the last shipment.
    pub avg_handling_secs: Option<f64>,
    pub p90_handling_secs: Option<f64>,
    /// Pickup orders made ready for pickup in the period.
    pub pickups_ready: i64,
    /// Of the pickups made ready in the period, those ready within the
    /// routing policy's `service_levels.pickup_ready_within_hours` of being
    /// taken ÷ all of them; `null` when none was made ready.
    pub pickup_on_time_rate: Option<f64>,
    /// 0 until returns are recorded.
    pub return_rate: f64,
    /// `null` until returns are recorded.
    pub return_turnaround_secs: Option<f64>,
    /// Complaints recorded in the period.
    pub complaints: i64,
    pub exceptions_opened: i64,
    /// Exceptions resolved, dismissed or closed with their order.
    pub exceptions_resolved: i64,
    /// Exceptions opened in the period and still open.
    pub exceptions_open: i64,
    pub exceptions_open_avg_age_secs: Option<f64>,
    pub exceptions_open_max_age_secs: Option<f64>,
    /// Stock levels channels acknowledged in the period.
    pub sync_lags: i64,
    pub sync_lag_p50_secs: Option<f64>,
    pub sync_lag_p95_secs: Option<f64>,
}

impl MetricsBody {
    fn new(q: &MetricsQuery, m: Metrics) -> MetricsBody {
        MetricsBody {
            from: rfc3339(q.period.from_ms()),
            to: rfc3339(q.period.to_ms()),
            channel: q.channel.as_ref().map(ToString::to_string),
            location: q.location.as_ref().map(ToString::to_string),
            orders: m.orders,
            orders_measured: m.orders_measured,
            fill_rate: m.fill_rate,
            fill_rate_units: m.fill_rate_units,
            lines_measured: m.lines_measured,
            stockout_rate: m.stockout_rate,
            cancelled: m.cancelled,
            cancellation_rate: m.cancellation_rate,
            cancellations_by_reason: m.cancellations_by_reason,
            oversell_cancellations: m.oversell_cancellations,
            split_shipments: m.split_shipments,
            split_shipment_rate: m.split_shipment_rate,
            shipped_orders: m.shipped_orders,
            avg_handling_secs: m.avg_handling_secs,
            p90_handling_secs: m.p90_handling_secs,
            pickups_ready: m.pickups_ready,
            pickup_on_time_rate: m.pickup_on_time_rate,
            return_rate: m.return_rate,
            return_turnaround_secs: m.return_turnaround_secs,
            complaints: m.complaints,
            exceptions_opened: m.exceptions_opened,
            exceptions_resolved: m.exceptions_resolved,
            exceptions_open: m.exceptions_open,
            exceptions_open_avg_age_secs: m.exceptions_open_avg_age_secs,
            exceptions_open_max_age_secs: m.exceptions_open_max_age_secs,
            sync_lags: m.sync_lags,
            sync_lag_p50_secs: m.sync_lag_p50_secs,
            sync_lag_p95_secs: m.sync_lag_p95_secs,
        }
    }
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(Code::InvalidQuery, message)
}

/// Milliseconds of an RFC 3339 time, or of a `YYYY-MM-DD` date's midnight
/// UTC (`end`: the next midnight, so the day is included).
pub(super) fn instant(name: &str, raw: &str, end: bool) -> Result<i64, ApiError> {
    let raw = raw.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Ok(t.timestamp_millis());
    }
    let bad = || invalid(format!("`{name}` must be an RFC 3339 time or a YYYY-MM-DD date, not {raw:?}"));
    let day = NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| bad())?;
    let day = if end { day.succ_opt().ok_or_else(bad)? } else { day };
    Ok(day.and_hms_opt(0, 0, 0).ok_or_else(bad)?.and_utc().timestamp_millis())
}

/// The query's period and filters; `max_days` bounds the period.
fn parse(p: MetricsParams, now_ms: i64, max_days: Option<i64>) -> Result<MetricsQuery, ApiError> {
    let to = match &p.to {
        Some(raw) => instant("to", raw, true)?,
        None => (Period::day_of(now_ms) + 1).saturating_mul(DAY_MS),
    };
    let from = match &p.from {
        Some(raw) => instant("from", raw, false)?,
        None => to.saturating_sub(DEFAULT_DAYS * DAY_MS),
    };
    let mut period = Period::new(from, to).map_err(|e| invalid(e.to_string()))?;
    if let Some(max) = max_days {
        period = period.at_most_days(max).map_err(|e| invalid(e.to_string()))?;
    }
    let channel = match p.channel {
        Some(c) => Some(ChannelName::parse(&c).map_err(|e| invalid(e.to_string()))?),
        None => None,
    };
    let location = match p.location {
        Some(l) => Some(LocationCode::parse(&l).map_err(|e| invalid(e.to_string()))?),
        None => None,
    };
    Ok(MetricsQuery { period, channel, location })
}

/// The shop's metrics over a period, optionally for one channel and one
/// location: fill, stockout, cancellation (by reason; oversell apart),
/// split-shipment rates, handling time, complaints, exceptions, sync lag.
#[utoipa::path(get, path = "/metrics", tag = "metrics", params(MetricsParams),
    responses((status = 200, body = MetricsBody), (status = 400, body = ErrorBody)))]
async fn get_metrics(
    State(app): State<AppState>,
    ApiQuery(p): ApiQuery<MetricsParams>,
) -> Result<Json<MetricsBody>, ApiError> {
    let q = parse(p, app.engine.now_ms(), None)?;
    let m = app.engine.metrics(&q).await?;
    Ok(Json(MetricsBody::new(&q, m)))
}

/// The same metrics as CSV, one row per UTC day the period touches (at
/// most 1,000), with a header line: `date` and every number of the JSON
/// but the per-reason map; an empty cell where the JSON has `null`.
#[utoipa::path(get, path = "/metrics.csv", tag = "metrics", params(MetricsParams),
    responses((status = 200, content_type = "text/csv", body = String, description = "One row per day"),
              (status = 400, body = ErrorBody)))]
async fn get_metrics_csv(
    State(app): State<AppState>,
    ApiQuery(p): ApiQuery<MetricsParams>,
) -> Result<Response, ApiError> {
    let q = parse(p, app.engine.now_ms(), Some(MAX_CSV_DAYS))?;
    let days = app.engine.daily_metrics(&q).await?;
    let mut out = String::new();
    let names: Vec<&str> = switchyard_core::metrics::Bucket::default().report().scalars().iter().map(|c| c.0).collect();
    out.push_str("date,");
    out.push_str(&names.join(","));
    out.push('\n');
    for d in days {
        let date = rfc3339(d.day_start_ms);
        out.push_str(date.get(..10).unwrap_or(&date));
        for (_, cell) in d.metrics.scalars() {
            out.push(',');
            match cell {
                Cell::Count(n) => out.push_str(&n.to_string()),
                Cell::Rate(r) | Cell::Maybe(Some(r)) => out.push_str(&r.to_string()),
                Cell::Maybe(None) => {}
            }
        }
        out.push('\n');
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"switchyard-metrics.csv\""),
        ],
        out,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(rfc: &str) -> i64 {
        DateTime::parse_from_rfc3339(rfc).expect("time").timestamp_millis()
    }

    #[test]
    fn dates_cover_whole_days_and_times_are_exact() {
        assert_eq!(instant("from", "2026-03-01", false).ok(), Some(ms("2026-03-01T00:00:00Z")));
        assert_eq!(instant("to", "2026-03-31", true).ok(), Some(ms("2026-04-01T00:00:00Z")));
        assert_eq!(instant("to", "2026-03-31T10:00:00+02:00", true).ok(), Some(ms("2026-03-31T08:00:00Z")));
        for bad in ["yesterday", "2026-13-01", "2026-02-30", "", "1700000000"] {
            let e = instant("from", bad, false).expect_err(bad);
            assert_eq!(e.code, Code::InvalidQuery, "{bad}");
        }
    }

    #[test]
    fn the_default_period_is_thirty_days_to_the_end_of_today() {
        let now = ms("2026-03-15T13:00:00Z");
        let none = MetricsParams { from: None, to: None, channel: None, location: None };
        let q = parse(none, now, None).expect("query");
        assert_eq!(q.period.to_ms(), ms("2026-03-16T00:00:00Z"));
        assert_eq!(q.period.from_ms(), ms("2026-02-14T00:00:00Z"));
    }

    #[test]
    fn the_json_has_every_number_of_the_core_report() {
        let q = parse(
            MetricsParams { from: Some("2026-03-01".into()), to: None, channel: Some("Web".into()), location: None },
            ms("2026-03-15T13:00:00Z"),
            None,
        )
        .expect("query");
        let m = switchyard_core::metrics::Bucket::default().report();
        let body = serde_json::to_value(MetricsBody::new(&q, m.clone())).expect("json");
        let core = serde_json::to_value(&m).expect("json");
        for (k, v) in core.as_object().expect("object") {
            assert_eq!(body.get(k), Some(v), "{k}");
        }
        assert_eq!(body["channel"], "web");
        assert_eq!(body["from"], "2026-03-01T00:00:00.000Z");
    }
}
