//! The ROI page: the `switchyard roi` inputs as a form (a GET: it changes
//! nothing), prefilled with the shop's measured order count and
//! cancellation rate over the last 30 days (the "after" side: the rate with
//! Switchyard), and the report made by the same `switchyard_core::roi`
//! functions the command uses. Bad input is named on the page, field and
//! all, with the form as it was sent.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use switchyard_core::metrics::{Period, DAY_MS};
use switchyard_core::roi::{report, Percent, RoiDraft, RoiError, RoiInput, RoiReport};
use switchyard_core::Money;
use switchyard_engine::MetricsQuery;

use super::page::{nav, render, Nav, PageError, PageQuery};
use crate::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/roi", get(roi_page))
}

/// The days the prefilled figures are measured over (entered as a month).
const MEASURED_DAYS: i64 = 30;

/// The form's fields, as typed; all absent on a first visit.
#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
struct RoiForm {
    orders: Option<String>,
    per: Option<String>,
    aov: Option<String>,
    cancel_rate_before: Option<String>,
    cancel_rate_after: Option<String>,
    minutes_per_cancellation: Option<String>,
    labour_cost_per_hour: Option<String>,
    subscription_per_month: Option<String>,
    currency: Option<String>,
}

/// A blank optional field is "not given".
fn given(v: &Option<String>) -> Option<String> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

impl RoiForm {
    fn draft(&self) -> RoiDraft {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        RoiDraft {
            orders: text(&self.orders),
            per: text(&self.per),
            aov: text(&self.aov),
            cancel_rate_before: text(&self.cancel_rate_before),
            cancel_rate_after: text(&self.cancel_rate_after),
            minutes_per_cancellation: given(&self.minutes_per_cancellation),
            labour_cost_per_hour: given(&self.labour_cost_per_hour),
            subscription_per_month: given(&self.subscription_per_month),
            currency: given(&self.currency),
            ..RoiDraft::default()
        }
    }
}

/// One line of the results: what, and its figure.
struct Figure {
    id: &'static str,
    name: &'static str,
    value: String,
}

#[derive(Template)]
#[template(path = "roi.html")]
struct RoiPage {
    nav: Nav,
    form: RoiForm,
    /// What was measured for the prefill, in words.
    measured: Option<String>,
    error: Option<String>,
    figures: Vec<Figure>,
}

fn span(low: Option<Money>, high: Option<Money>) -> Option<String> {
    match (low, high) {
        (Some(l), Some(h)) if l == h => Some(l.to_string()),
        (Some(l), Some(h)) => Some(format!("{l} to {h}")),
        _ => None,
    }
}

/// The report as the page lists it (the command's figures, in its words).
fn figures(input: &RoiInput, r: &RoiReport) -> Vec<Figure> {
    let per = r.period.as_str();
    let mut out = vec![
        Figure {
            id: "roi-failed",
            name: "Failed orders",
            value: format!("{} per {per} before, {} after", r.failed_before, r.failed_after),
        },
        Figure {
            id: "roi-prevented",
            name: "Prevented cancellations",
            value: format!("{} per {per} ({} per year)", r.prevented, r.prevented_per_year),
        },
        Figure {
            id: "roi-revenue",
            name: "Protected revenue",
            value: format!("{} per {per} ({} per year)", r.protected_revenue, r.protected_revenue_per_year),
        },
        Figure {
            id: "roi-hours",
            name: "Team time saved",
            value: format!(
                "{} hours per year ({} minutes per cancellation)",
                r.hours_saved, input.minutes_per_cancellation
            ),
        },
    ];
    if let Some(v) = span(r.labour_saved_low, r.labour_saved_high) {
        out.push(Figure { id: "roi-labour", name: "Labour saved", value: format!("{v} per year") });
    }
    let value = span(Some(r.value_per_year_low), Some(r.value_per_year_high)).unwrap_or_default();
    out.push(Figure { id: "roi-value", name: "Value", value: format!("{value} per year") });
    if input.subscription_per_month.is_some() {
        let months = match (r.payback_months_low, r.payback_months_high) {
            (Some(l), Some(h)) if l == h => format!("{l} months"),
            (Some(l), Some(h)) => format!("{l} to {h} months"),
            (Some(l), None) => format!("{l} months at best, never at worst"),
            (None, _) => "never (the value is not positive)".to_owned(),
        };
        out.push(Figure { id: "roi-payback", name: "Payback", value: months });
    }
    out
}

async fn roi_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    PageQuery(mut form): PageQuery<RoiForm>,
) -> Result<Response, PageError> {
    let nav = nav(&state, &headers, "roi").await?;
    // A first visit: the form, prefilled with what the shop's own orders say.
    if form.orders.is_none() {
        // The last 30 days up to and including now.
        let end = state.engine.now_ms().saturating_add(1);
        let period = Period::new(end.saturating_sub(MEASURED_DAYS * DAY_MS).max(0), end.max(1))
            .map_err(|e| PageError::Status(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
        let m = state.engine.metrics(&MetricsQuery { period, channel: None, location: None }).await?;
        let measured = u64::try_from(m.orders).ok().filter(|n| *n > 0).and_then(|orders| {
            let rate = Percent::of(u64::try_from(m.cancelled).ok()?, orders)?;
            Some((orders, rate))
        });
        form.per = Some("month".into());
        form.minutes_per_cancellation = Some(RoiInput::DEFAULT_MINUTES_PER_CANCELLATION.to_string());
        form.currency = Some("USD".into());
        let measured = measured.map(|(orders, rate)| {
            form.orders = Some(orders.to_string());
            form.cancel_rate_after = Some(rate.to_string());
            format!(
                "Prefilled from your last {MEASURED_DAYS} days: {orders} order(s), {rate}% cancelled (the rate \
                 with Switchyard). Enter your cancellation rate before it and your average order value."
            )
        });
        return Ok(render(RoiPage { nav, form, measured, error: None, figures: vec![] })?.into_response());
    }
    let result = RoiInput::parse(&form.draft()).and_then(|input| Ok((input, report(&input)?)));
    match result {
        Ok((input, r)) => {
            let figures = figures(&input, &r);
            Ok(render(RoiPage { nav, form, measured: None, error: None, figures })?.into_response())
        }
        Err(e) => {
            let error = match e {
                RoiError::Input { field, problem } => format!("{}: {problem}", field.as_str().replace('_', " ")),
                other => other.to_string(),
            };
            let page = render(RoiPage { nav, form, measured: None, error: Some(error), figures: vec![] })?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}
