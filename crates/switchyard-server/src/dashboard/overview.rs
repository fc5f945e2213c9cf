//! The Overview page: the last 7, 30 or 90 days against the same span
//! before (KPIs with their trend), orders per channel per day, fill and
//! cancellation rates per day, open exceptions by age — server-rendered SVG
//! (`charts`) from the engine's `overview` — and the "Catalogue health"
//! panel (`Engine::doctor`, what `switchyard doctor` prints).

use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Html;
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use switchyard_core::doctor::{Finding, HealthReport};
use switchyard_core::metrics::Metrics;
use switchyard_core::overview::Trend;
use switchyard_engine::DEFAULT_DOCTOR_DAYS;

use super::charts::{self, Series};
use super::page::{nav, render, Nav, PageError, PageQuery};
use crate::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/overview", get(overview_page))
}

/// The periods offered; anything else is refused.
const PERIODS: [i64; 3] = [7, 30, 90];
/// How old a catalogue health report may be when the page is shown again.
const HEALTH_MAX_AGE_MS: i64 = 60_000;

/// Findings listed on the page (the rest are counted; `switchyard doctor` lists all).
const FINDINGS_SHOWN: usize = 50;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct OverviewQuery {
    days: Option<i64>,
}

/// One KPI card.
struct Kpi {
    id: &'static str,
    name: &'static str,
    current: String,
    previous: String,
    arrow: &'static str,
    verdict: &'static str,
}

#[derive(Template)]
#[template(path = "overview.html")]
struct OverviewPage {
    nav: Nav,
    days: i64,
    periods: Vec<(i64, bool)>,
    kpis: Vec<Kpi>,
    orders_chart: String,
    rates_chart: String,
    ages_chart: String,
    health: HealthReport,
    /// When the health report was made (RFC 3339).
    health_checked_at: String,
    findings: Vec<Finding>,
    findings_hidden: usize,
}

fn percent(v: f64) -> String {
    format!("{:.1}%", v * 100.0)
}

fn whole(v: f64) -> String {
    format!("{v:.0}")
}

fn hours(secs: Option<f64>) -> String {
    secs.map_or_else(|| "—".to_owned(), |s| format!("{:.1} h", s / 3600.0))
}

/// The KPI cards: each figure now, before, and whether it moved the good way.
fn kpis(now: &Metrics, before: &Metrics) -> Vec<Kpi> {
    let had_base = before.orders > 0;
    let card = |id, name, current: f64, previous: f64, higher_is_better, fmt: fn(f64) -> String, base| {
        let t = Trend::new(current, previous, higher_is_better, base);
        Kpi { id, name, current: fmt(current), previous: fmt(previous), arrow: t.arrow(), verdict: t.verdict.as_str() }
    };
    let mut cards = vec![
        card("kpi-orders", "Orders", now.orders as f64, before.orders as f64, true, whole, had_base),
        card("kpi-fill", "Fill rate", now.fill_rate, before.fill_rate, true, percent, before.orders_measured > 0),
        card(
            "kpi-cancel",
            "Cancellation rate",
            now.cancellation_rate,
            before.cancellation_rate,
            false,
            percent,
            had_base,
        ),
        card(
            "kpi-split",
            "Split shipments",
            now.split_shipment_rate,
            before.split_shipment_rate,
            false,
            percent,
            had_base,
        ),
        card(
            "kpi-stockout",
            "Stockout rate",
            now.stockout_rate,
            before.stockout_rate,
            false,
            percent,
            before.lines_measured > 0,
        ),
        card(
            "kpi-oversell",
            "Oversell cancellations",
            now.oversell_cancellations as f64,
            before.oversell_cancellations as f64,
            false,
            whole,
            had_base,
        ),
    ];
    let handling = match (now.avg_handling_secs, before.avg_handling_secs) {
        (Some(c), Some(p)) => card("kpi-handling", "Handling time", c, p, false, |s| hours(Some(s)), true),
        (c, p) => Kpi {
            id: "kpi-handling",
            name: "Handling time",
            current: hours(c),
            previous: hours(p),
            arrow: "",
            verdict: "new",
        },
    };
    cards.push(handling);
    cards
}

/// "Nov 27" for the UTC day starting at `ms`.
fn day_label(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map_or_else(|| ms.to_string(), |d| d.format("%b %d").to_string())
}

async fn overview_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    PageQuery(q): PageQuery<OverviewQuery>,
) -> Result<Html<String>, PageError> {
    let nav = nav(&state, &headers, "overview").await?;
    let days = q.days.unwrap_or(7);
    if !PERIODS.contains(&days) {
        return Err(PageError::Status(
            axum::http::StatusCode::BAD_REQUEST,
            format!("days must be 7, 30 or 90 (got {days})"),
        ));
    }
    let o = state.engine.overview(days).await?;
    // Reused for a minute: the check reads the whole catalogue.
    let (health, checked_at) = state.engine.doctor_recent(DEFAULT_DOCTOR_DAYS, HEALTH_MAX_AGE_MS).await?;
    let labels: Vec<String> = o.daily.iter().map(|d| day_label(d.day_start_ms)).collect();
    let per_channel: Vec<Series> = o
        .channels
        .iter()
        .enumerate()
        .map(|(i, name)| Series {
            name: name.clone(),
            values: o.orders_by_channel.iter().map(|day| day.get(i).copied().unwrap_or(0) as f64).collect(),
        })
        .collect();
    let rates = vec![
        Series { name: "fill rate".into(), values: o.daily.iter().map(|d| d.metrics.fill_rate).collect() },
        Series {
            name: "cancellation rate".into(),
            values: o.daily.iter().map(|d| d.metrics.cancellation_rate).collect(),
        },
    ];
    let ages: Vec<(String, f64)> = o.exception_ages.iter().map(|(label, n)| ((*label).to_owned(), *n as f64)).collect();
    let findings: Vec<Finding> = health.findings.iter().take(FINDINGS_SHOWN).cloned().collect();
    render(OverviewPage {
        nav,
        days,
        periods: PERIODS.iter().map(|p| (*p, *p == days)).collect(),
        kpis: kpis(&o.current, &o.previous),
        orders_chart: charts::stacked_bars("Orders per channel per day", &labels, &per_channel, whole),
        rates_chart: charts::lines("Fill and cancellation rates per day", &labels, &rates, Some(1.0), |v| {
            format!("{:.0}%", v * 100.0)
        }),
        ages_chart: charts::horizontal_bars("Open exceptions by age", &ages, whole),
        findings_hidden: health.findings.len().saturating_sub(findings.len()),
        findings,
        health,
        health_checked_at: switchyard_store::rfc3339(checked_at),
    })
}
