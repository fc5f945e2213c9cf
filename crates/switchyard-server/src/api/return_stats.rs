//! `GET /returns/stats`: return data over a period (issue 9, item 8) —
//! reasons by SKU and by channel, the return rate per SKU, the turnaround
//! from request to refund. What counts is `switchyard_core::returns::stats`
//! (requests in the period for reasons; orders received in it for rates;
//! refunds in it for turnaround). `from` and `to` as for `/metrics`.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use switchyard_core::metrics::{Period, DAY_MS};
use switchyard_core::returns::{ReasonCount, ReturnStats, SkuRate};
use switchyard_engine::Code;
use switchyard_store::rfc3339;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::metrics::instant;
use super::ApiQuery;
use crate::error::ErrorBody;
use crate::{ApiError, AppState};

/// The default period: this many days up to the end of today.
const DEFAULT_DAYS: i64 = 30;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_return_stats))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReturnStatsParams {
    /// Start (included): RFC 3339, or `YYYY-MM-DD` for that day's midnight
    /// UTC. Default: 30 days before `to`.
    pub from: Option<String>,
    /// End (excluded): RFC 3339, or `YYYY-MM-DD` for the end of that day
    /// UTC. Default: the end of today.
    pub to: Option<String>,
}

/// The period `from`/`to` name (the metrics' rules and defaults).
pub(crate) fn stats_period(from: Option<&str>, to: Option<&str>, now_ms: i64) -> Result<Period, ApiError> {
    let to = match to.filter(|t| !t.trim().is_empty()) {
        Some(raw) => instant("to", raw, true)?,
        None => (Period::day_of(now_ms) + 1).saturating_mul(DAY_MS),
    };
    let from = match from.filter(|f| !f.trim().is_empty()) {
        Some(raw) => instant("from", raw, false)?,
        None => to.saturating_sub(DEFAULT_DAYS * DAY_MS),
    };
    Period::new(from, to).map_err(|e| ApiError::new(Code::InvalidQuery, e.to_string()))
}

/// Returns and units asked back for one reason.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReasonRow {
    /// The canonical reason code.
    pub reason: String,
    /// Its plain-English words.
    pub label: String,
    pub returns: i64,
    pub units: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SkuReasons {
    pub sku: String,
    pub reasons: Vec<ReasonRow>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelReasons {
    pub channel: String,
    pub reasons: Vec<ReasonRow>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SkuReturnRate {
    pub sku: String,
    /// Units shipped of the orders received in the period.
    pub units_shipped: i64,
    /// Of those orders, units on returns the shop accepted (ever authorized).
    pub units_returned: i64,
    /// `units_returned ÷ units_shipped` (0 when nothing shipped).
    pub return_rate: f64,
}

/// Request → refund of the returns refunded in the period (seconds;
/// `null` when none was).
#[derive(Debug, Serialize, ToSchema)]
pub struct TurnaroundBody {
    pub refunded: i64,
    pub mean_secs: Option<f64>,
    pub p50_secs: Option<f64>,
    pub p90_secs: Option<f64>,
    pub max_secs: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReturnStatsBody {
    /// Start of the period, RFC 3339 UTC (included).
    pub from: String,
    /// End of the period, RFC 3339 UTC (excluded).
    pub to: String,
    /// Returns requested in the period (any outcome) and their units.
    pub returns: i64,
    pub units: i64,
    /// Reasons of the returns requested in the period, per SKU (most units
    /// first).
    pub reasons_by_sku: Vec<SkuReasons>,
    /// Reasons of the returns requested in the period, per channel (most
    /// returns first).
    pub reasons_by_channel: Vec<ChannelReasons>,
    /// Over the orders received in the period; highest rate first.
    pub return_rate_by_sku: Vec<SkuReturnRate>,
    pub turnaround: TurnaroundBody,
}

/// Rows of one key grouped, in the core's order.
fn grouped(rows: &[ReasonCount]) -> Vec<(String, Vec<ReasonRow>)> {
    let mut out: Vec<(String, Vec<ReasonRow>)> = Vec::new();
    for c in rows {
        let row = ReasonRow { reason: c.reason.clone(), label: c.label.clone(), returns: c.returns, units: c.units };
        match out.last_mut() {
            Some((key, rows)) if *key == c.key => rows.push(row),
            _ => out.push((c.key.clone(), vec![row])),
        }
    }
    out
}

impl ReturnStatsBody {
    pub(crate) fn new(period: Period, s: &ReturnStats) -> Self {
        let rate = |r: &SkuRate| SkuReturnRate {
            sku: r.sku.clone(),
            units_shipped: r.units_shipped,
            units_returned: r.units_returned,
            return_rate: r.return_rate,
        };
        let t = &s.turnaround;
        ReturnStatsBody {
            from: rfc3339(period.from_ms()),
            to: rfc3339(period.to_ms()),
            returns: s.returns,
            units: s.units,
            reasons_by_sku: grouped(&s.reasons_by_sku)
                .into_iter()
                .map(|(sku, reasons)| SkuReasons { sku, reasons })
                .collect(),
            reasons_by_channel: grouped(&s.reasons_by_channel)
                .into_iter()
                .map(|(channel, reasons)| ChannelReasons { channel, reasons })
                .collect(),
            return_rate_by_sku: s.rate_by_sku.iter().map(rate).collect(),
            turnaround: TurnaroundBody {
                refunded: t.refunded,
                mean_secs: t.mean_secs,
                p50_secs: t.p50_secs,
                p90_secs: t.p90_secs,
                max_secs: t.max_secs,
            },
        }
    }
}

/// Return data over a period: reasons by SKU and by channel (returns
/// requested in the period, any outcome), the return rate per SKU (units
/// on accepted returns ÷ units shipped, over the orders received in the
/// period) and the turnaround from request to refund (returns refunded in
/// the period).
#[utoipa::path(get, path = "/returns/stats", tag = "returns", params(ReturnStatsParams),
    responses((status = 200, body = ReturnStatsBody), (status = 400, body = ErrorBody)))]
async fn get_return_stats(
    State(app): State<AppState>,
    ApiQuery(p): ApiQuery<ReturnStatsParams>,
) -> Result<Json<ReturnStatsBody>, ApiError> {
    let period = stats_period(p.from.as_deref(), p.to.as_deref(), app.engine.now_ms())?;
    let stats = app.engine.return_stats(period).await?;
    Ok(Json(ReturnStatsBody::new(period, &stats)))
}
