//! The Exceptions pages: the queue (with one-click actions), one exception
//! with the order's address and the action log, and the resolve form, which
//! goes through the API's resolve parser.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use switchyard_store::{ExceptionFilter, ExceptionLogView, ExceptionView, ShipToView};

use super::page::{api_page, check_csrf, nav, render, short_time, Nav, PageError, PageForm, PagePath, PageQuery};
use crate::api::{parse_resolution, ResolveBody, ShipToBody};
use crate::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/exceptions", get(exceptions_page))
        .route("/exceptions/{id}", get(exception_page))
        .route("/exceptions/{id}/resolve", post(resolve))
}

/// "3h 12m" from milliseconds.
fn age(ms: i64) -> String {
    let mins = ms.max(0) / 60_000;
    match (mins / (60 * 24), (mins / 60) % 24, mins % 60) {
        (0, 0, m) => format!("{m}m"),
        (0, h, m) => format!("{h}h {m}m"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

/// An exception with what the queue page shows beside it.
struct ExceptionRowView {
    ex: ExceptionView,
    age: String,
    can_retry: bool,
    can_override: bool,
    can_edit_address: bool,
    can_approve_split: bool,
    can_cancel: bool,
    can_dismiss: bool,
    /// A return out of policy: a person approves or rejects it.
    can_review_return: bool,
}

#[derive(Template)]
#[template(path = "exceptions.html")]
struct ExceptionsPage {
    nav: Nav,
    statuses: Vec<(&'static str, bool)>,
    items: Vec<ExceptionRowView>,
    locations: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExceptionsQuery {
    status: Option<String>,
}

async fn exceptions_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    PageQuery(q): PageQuery<ExceptionsQuery>,
) -> Result<Html<String>, PageError> {
    let nav = nav(&state, &headers, "exceptions").await?;
    let shown = match q.status.as_deref() {
        None | Some("") => "open",
        Some(s @ ("open" | "resolved" | "dismissed" | "all")) => s,
        Some(s) => {
            let problem = format!("{s:?} is not one of open, resolved, dismissed, all");
            return Err(PageError::Status(StatusCode::BAD_REQUEST, problem));
        }
    };
    let filter = ExceptionFilter {
        status: (shown != "all").then(|| shown.to_owned()),
        limit: 200,
        ..ExceptionFilter::default()
    };
    let now = state.engine.now_ms();
    let items = state
        .engine
        .list_exceptions(&filter)
        .await?
        .into_iter()
        .map(|e| ExceptionRowView {
            age: age(now - e.created_ms),
            can_retry: e.actions.iter().any(|a| a == "retry"),
            can_override: e.actions.iter().any(|a| a == "override_location"),
            can_edit_address: e.actions.iter().any(|a| a == "edit_address"),
            can_approve_split: e.actions.iter().any(|a| a == "approve_split"),
            can_cancel: e.actions.iter().any(|a| a == "cancel"),
            can_dismiss: e.actions.iter().any(|a| a == "dismiss"),
            can_review_return: e.actions.iter().any(|a| a == "approve_return"),
            ex: e,
        })
        .collect();
    let locations =
        state.engine.list_locations().await?.into_iter().filter(|l| l.active).map(|l| l.code.to_string()).collect();
    let statuses = ["open", "resolved", "dismissed", "all"].into_iter().map(|s| (s, s == shown)).collect();
    render(ExceptionsPage { nav, statuses, items, locations })
}

#[derive(Template)]
#[template(path = "exception.html")]
struct ExceptionPage {
    nav: Nav,
    e: ExceptionView,
    age: String,
    /// The order's address (none for a channel's exception).
    ship_to: Option<ShipToView>,
    log: Vec<ExceptionLogView>,
}

async fn exception_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    PagePath(id): PagePath<String>,
) -> Result<Html<String>, PageError> {
    let nav = nav(&state, &headers, "exceptions").await?;
    let e = state
        .engine
        .get_exception(&id)
        .await?
        .ok_or_else(|| PageError::Status(StatusCode::NOT_FOUND, format!("exception {id} not found")))?;
    let ship_to = match &e.order_id {
        Some(order_id) => Some(
            state
                .engine
                .get_order(order_id)
                .await?
                .ok_or_else(|| PageError::Status(StatusCode::NOT_FOUND, "order not found".into()))?
                .ship_to,
        ),
        None => None,
    };
    let log = e
        .log
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(|l| ExceptionLogView { at: short_time(&l.at), ..l })
        .collect();
    render(ExceptionPage { nav, age: age(state.engine.now_ms() - e.created_ms), ship_to, log, e })
}

#[derive(Deserialize)]
struct ResolveForm {
    csrf: String,
    action: String,
    #[serde(default)]
    reason: String,
    location: Option<String>,
    name: Option<String>,
    line1: Option<String>,
    city: Option<String>,
    region: Option<String>,
    postal_code: Option<String>,
    country: Option<String>,
}

async fn resolve(
    State(state): State<AppState>,
    headers: HeaderMap,
    PagePath(id): PagePath<String>,
    PageForm(form): PageForm<ResolveForm>,
) -> Result<Response, PageError> {
    let by = check_csrf(&state, &headers, Some(form.csrf.as_str())).await?.by();
    let address = form.line1.is_some().then(|| ShipToBody {
        name: form.name.unwrap_or_default(),
        line1: form.line1.unwrap_or_default(),
        city: form.city.unwrap_or_default(),
        region: form.region.unwrap_or_default(),
        postal_code: form.postal_code.unwrap_or_default(),
        country: form.country.unwrap_or_default().trim().to_ascii_uppercase(),
        lat: None,
        lon: None,
    });
    let back = if address.is_some() { format!("/exceptions/{id}") } else { "/exceptions".to_owned() };
    let body = ResolveBody {
        action: form.action,
        by,
        reason: form.reason,
        address,
        location: form.location.filter(|l| !l.is_empty()),
    };
    let resolution = parse_resolution(body).map_err(api_page)?;
    state.engine.resolve_exception(&id, &resolution).await?;
    Ok(Redirect::to(&back).into_response())
}
