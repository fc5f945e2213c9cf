//! "Simulate the last N days" from the Rules page: a saved version (a
//! draft) and the policy in force replayed over the shop's own orders of the
//! period (`Engine::simulate_recent`, the routing engine live traffic uses),
//! side by side. A GET: it writes nothing.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use switchyard_core::routing::Policy;
use switchyard_core::Money;
use switchyard_engine::MAX_SIMULATION_DAYS;

use super::page::{api_page, nav, render, whole_number, Nav, PageError, PageQuery};
use crate::api::parse_policy;
use crate::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/rules/simulate", get(simulate_page))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SimulateQuery {
    version: String,
    days: String,
}

/// One policy's figures, formatted.
struct Row {
    name: String,
    orders: u64,
    fill_rate: String,
    split_rate: String,
    backordered: u64,
    held: u64,
    cancelled: u64,
    protected_units_used: i64,
    distance_km: String,
    shipping_cost: String,
    /// Against the first policy (blank for the first).
    failed_prevented: String,
    fill_difference: String,
    extra_distance_km: String,
}

#[derive(Template)]
#[template(path = "simulation.html")]
struct SimulationPage {
    nav: Nav,
    version: i64,
    days: i64,
    orders_read: usize,
    skipped_orders: usize,
    capped: bool,
    rows: Vec<Row>,
}

fn pct(v: f64) -> String {
    format!("{:.1}%", v * 100.0)
}

async fn simulate_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    PageQuery(q): PageQuery<SimulateQuery>,
) -> Result<Response, PageError> {
    let nav = nav(&state, &headers, "rules").await?;
    let bad = |m: String| PageError::Status(StatusCode::UNPROCESSABLE_ENTITY, m);
    let version: i64 = whole_number("version", &q.version).map_err(bad)?;
    let days: i64 = whole_number("days", &q.days).map_err(bad)?;
    if !(1..=MAX_SIMULATION_DAYS).contains(&days) {
        return Err(bad(format!("days: from 1 to {MAX_SIMULATION_DAYS} (got {days})")));
    }
    let draft = state
        .engine
        .get_policy(version)
        .await?
        .ok_or_else(|| PageError::Status(StatusCode::NOT_FOUND, format!("there is no policy version {version}")))?;
    let (draft_policy, _) = parse_policy(Some(draft.body), None).map_err(api_page)?;
    let (active_name, active_policy) = match state.engine.active_policy().await? {
        Some(p) => (format!("active v{}", p.version), parse_policy(Some(p.body), None).map_err(api_page)?.0),
        None => ("built-in default".to_owned(), Policy::default()),
    };
    let policies = vec![(active_name, active_policy), (format!("v{version}"), draft_policy)];
    let sim = state.engine.simulate_recent(days, policies).await?;
    let rows = sim
        .results
        .iter()
        .zip(&sim.versus)
        .map(|((name, r), vs)| {
            let cost: Vec<String> =
                r.shipping_cost.iter().map(|(c, minor)| Money::new(*minor, *c).to_string()).collect();
            Row {
                name: name.clone(),
                orders: r.orders,
                fill_rate: pct(r.fill_rate()),
                split_rate: pct(r.split_rate()),
                backordered: r.backordered,
                held: r.held,
                cancelled: r.cancelled,
                protected_units_used: r.protected_units_used,
                distance_km: format!("{:.0} ({:.0} estimated)", r.distance_km, r.distance_km_estimated),
                shipping_cost: if cost.is_empty() { "—".into() } else { cost.join(", ") },
                failed_prevented: vs.as_ref().map(|v| format!("{:+}", v.failed_orders_prevented)).unwrap_or_default(),
                fill_difference: vs
                    .as_ref()
                    .map(|v| format!("{:+.1} points", v.fill_rate_difference * 100.0))
                    .unwrap_or_default(),
                extra_distance_km: vs.as_ref().map(|v| format!("{:+.0}", v.extra_distance_km)).unwrap_or_default(),
            }
        })
        .collect();
    let page = SimulationPage {
        nav,
        version,
        days,
        orders_read: sim.orders_read,
        skipped_orders: sim.skipped_orders,
        capped: sim.capped,
        rows,
    };
    render(page).map(|h: Html<String>| h.into_response())
}
