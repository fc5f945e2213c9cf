//! The dashboard: server-rendered pages (askama) behind a session cookie.
//!
//! Every page extends `base.html`, which carries the navigation; a new page
//! is a template, a handler and a nav link. Every form that changes
//! something posts a CSRF token derived from the session.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use switchyard_core::{Currency, Money, OrderStatus};
use switchyard_store::{
    EventView, ExceptionFilter, ExceptionLogView, ExceptionView, OrderFilter, OrderView, ShipToView,
};

use crate::api::{parse_resolution, ResolveBody, ShipToBody};
use crate::auth::{csrf_ok, csrf_token, has_session, session_value, token_matches, SESSION_COOKIE};
use crate::AppState;

pub fn routes(state: AppState) -> Router {
    Router::new()
        .route("/", get(orders_page))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/orders/{id}", get(order_page))
        .route("/orders/{id}/cancel", post(cancel))
        .route("/inventory", get(inventory_page))
        .route("/exceptions", get(exceptions_page))
        .route("/exceptions/{id}", get(exception_page))
        .route("/exceptions/{id}/resolve", post(resolve))
        .route("/rules", get(crate::rules::rules_page))
        .route("/rules/settings", post(crate::rules::save_settings))
        .route("/rules/text", post(crate::rules::save_text))
        .route("/rules/{version}/activate", post(crate::rules::activate))
        .route("/rules/{version}/shadow", post(crate::rules::shadow))
        .route("/rules/shadow/stop", post(crate::rules::shadow_stop))
        .route("/rules/rollback", post(crate::rules::rollback))
        .route("/static/app.css", get(css))
        .with_state(state)
}

/// What the layout needs on every page.
pub(crate) struct Nav {
    pub(crate) signed_in: bool,
    pub(crate) section: &'static str,
    pub(crate) csrf: String,
    pub(crate) open_exceptions: i64,
}

impl Nav {
    fn anonymous() -> Self {
        Nav { signed_in: false, section: "", csrf: String::new(), open_exceptions: 0 }
    }
}

/// Checks the session and gathers the layout's counts.
pub(crate) async fn nav(state: &AppState, headers: &HeaderMap, section: &'static str) -> Result<Nav, PageError> {
    signed_in(state, headers)?;
    Ok(Nav {
        signed_in: true,
        section,
        csrf: csrf_token(state),
        open_exceptions: state.engine.open_exception_count().await?,
    })
}

/// A page failure: a redirect to sign in, or a plain error page.
pub(crate) enum PageError {
    SignIn,
    Status(StatusCode, String),
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::SignIn => Redirect::to("/login").into_response(),
            PageError::Status(code, msg) => (
                code,
                Html(format!(
                    "<!doctype html><meta name=viewport content='width=device-width'>\
                     <link rel=stylesheet href='/static/app.css'>\
                     <main><p class=error>{}</p><p><a href='/'>Back to orders</a></p></main>",
                    html_escape(&msg)
                )),
            )
                .into_response(),
        }
    }
}

impl<E: std::fmt::Display> From<E> for PageError
where
    E: Into<crate::ApiError>,
{
    fn from(e: E) -> Self {
        let api: crate::ApiError = e.into();
        PageError::Status(api.status(), api.message)
    }
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

pub(crate) fn render(t: impl Template) -> Result<Html<String>, PageError> {
    t.render().map(Html).map_err(|e| {
        tracing::error!(error = %e, "template failed");
        PageError::Status(StatusCode::INTERNAL_SERVER_ERROR, "the page could not be rendered".into())
    })
}

pub(crate) fn signed_in(state: &AppState, headers: &HeaderMap) -> Result<(), PageError> {
    if has_session(state, headers) {
        Ok(())
    } else {
        Err(PageError::SignIn)
    }
}

async fn css() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "max-age=3600")],
        include_str!("../templates/app.css"),
    )
}

// -------------------------------------------------------------------- login

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    nav: Nav,
    error: Option<String>,
}

async fn login_page() -> Result<Html<String>, PageError> {
    render(LoginPage { nav: Nav::anonymous(), error: None })
}

#[derive(Deserialize)]
struct LoginForm {
    token: String,
}

async fn login(State(state): State<AppState>, Form(form): Form<LoginForm>) -> Response {
    if !token_matches(&state, form.token.trim()) {
        let page = render(LoginPage { nav: Nav::anonymous(), error: Some("That token is not right.".into()) });
        return (StatusCode::UNAUTHORIZED, page).into_response();
    }
    let secure = if state.config.secure_cookies { "; Secure" } else { "" };
    let cookie = format!(
        "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age=2592000{secure}",
        session_value(&state)
    );
    ([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response()
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
    #[serde(default)]
    reason: String,
}

async fn logout(State(state): State<AppState>, headers: HeaderMap, Form(form): Form<CsrfForm>) -> Response {
    if !has_session(&state, &headers) || !csrf_ok(&state, &form.csrf) {
        return (StatusCode::FORBIDDEN, "invalid CSRF token").into_response();
    }
    let cookie = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    ([(header::SET_COOKIE, cookie)], Redirect::to("/login")).into_response()
}

// ------------------------------------------------------------------- orders

struct OrderRow {
    id: String,
    external_id: String,
    channel: String,
    status: String,
    items: i64,
    total: String,
    created_at: String,
}

#[derive(Template)]
#[template(path = "orders.html")]
struct OrdersPage {
    nav: Nav,
    /// (value, selected) for the filter menus.
    statuses: Vec<(&'static str, bool)>,
    channels: Vec<(String, bool)>,
    counts: Vec<(String, i64)>,
    orders: Vec<OrderRow>,
    next: Option<String>,
}

#[derive(Deserialize)]
struct OrdersQuery {
    status: Option<String>,
    channel: Option<String>,
    cursor: Option<String>,
}

fn money(minor: i64, currency: &str) -> String {
    Currency::parse(currency)
        .map(|c| Money::new(minor, c).to_string())
        .unwrap_or_else(|_| format!("{minor} {currency}"))
}

fn short_time(rfc3339: &str) -> String {
    // "2026-11-27T11:25:12.345Z" -> "2026-11-27 11:25:12"
    rfc3339.get(..19).map(|s| s.replace('T', " ")).unwrap_or_else(|| rfc3339.to_owned())
}

async fn orders_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<OrdersQuery>,
) -> Result<Html<String>, PageError> {
    let nav = nav(&state, &headers, "orders").await?;
    let status = q.status.filter(|s| OrderStatus::parse(s).is_some());
    let channel = q.channel.filter(|c| !c.is_empty());
    let filter = OrderFilter { status: status.clone(), channel: channel.clone(), limit: 50, cursor: q.cursor };
    let page = state.engine.list_orders(&filter).await?;
    let counts = state.engine.status_counts().await?;
    let mut channels: Vec<String> =
        state.engine.list_channels().await?.into_iter().map(|c| c.name.to_string()).collect();
    if let Some(c) = &channel {
        if !channels.contains(c) {
            channels.push(c.clone());
        }
    }
    let next = page.next_cursor.map(|c| {
        let mut url = format!("/?cursor={c}");
        if let Some(s) = &status {
            url.push_str(&format!("&status={s}"));
        }
        if let Some(ch) = &channel {
            url.push_str(&format!("&channel={ch}"));
        }
        url
    });
    render(OrdersPage {
        nav,
        statuses: OrderStatus::ALL.iter().map(|s| (s.as_str(), status.as_deref() == Some(s.as_str()))).collect(),
        channels: channels.into_iter().map(|c| (c.clone(), channel.as_deref() == Some(c.as_str()))).collect(),
        counts,
        orders: page
            .orders
            .into_iter()
            .map(|o| OrderRow {
                items: o.lines.iter().map(|l| l.quantity).sum(),
                total: money(o.total, &o.currency),
                created_at: short_time(&o.created_at),
                id: o.id,
                external_id: o.external_id,
                channel: o.channel,
                status: o.status,
            })
            .collect(),
        next,
    })
}

#[derive(Template)]
#[template(path = "order.html")]
struct OrderPage {
    nav: Nav,
    o: OrderView,
    total: String,
    can_cancel: bool,
    events: Vec<EventView>,
    decisions: Vec<switchyard_store::DecisionView>,
}

async fn order_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Html<String>, PageError> {
    let nav = nav(&state, &headers, "orders").await?;
    let o = state
        .engine
        .get_order(&id)
        .await?
        .ok_or_else(|| PageError::Status(StatusCode::NOT_FOUND, format!("order {id} not found")))?;
    let can_cancel = OrderStatus::parse(&o.status).is_some_and(|s| s.transition(OrderStatus::Cancelled).is_ok());
    let events =
        o.events.clone().unwrap_or_default().into_iter().map(|e| EventView { at: short_time(&e.at), ..e }).collect();
    let decisions = o.routing.clone().unwrap_or_default();
    render(OrderPage { nav, decisions, total: money(o.total, &o.currency), o, can_cancel, events })
}

async fn cancel(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    signed_in(&state, &headers)?;
    if !csrf_ok(&state, &form.csrf) {
        return Err(PageError::Status(StatusCode::FORBIDDEN, "invalid CSRF token; reload the page".into()));
    }
    let reason = if form.reason.trim().is_empty() { "cancelled from the dashboard" } else { form.reason.trim() };
    state.engine.cancel_order(&id, reason).await?;
    Ok(Redirect::to(&format!("/orders/{id}")).into_response())
}

// ---------------------------------------------------------------- inventory

struct Cell {
    present: bool,
    on_hand: i64,
    reserved: i64,
    available: i64,
}

struct GridRow {
    sku: String,
    title: String,
    cells: Vec<Cell>,
    available: i64,
}

#[derive(Template)]
#[template(path = "inventory.html")]
struct InventoryPage {
    nav: Nav,
    locations: Vec<String>,
    rows: Vec<GridRow>,
}

async fn inventory_page(State(state): State<AppState>, headers: HeaderMap) -> Result<Html<String>, PageError> {
    let nav = nav(&state, &headers, "inventory").await?;
    let locations: Vec<String> = state.engine.list_locations().await?.into_iter().map(|l| l.code.to_string()).collect();
    let skus = state.engine.list_skus().await?;
    let mut positions: BTreeMap<(String, String), switchyard_store::StockRow> = BTreeMap::new();
    for p in state.engine.all_positions().await? {
        positions.insert((p.sku.clone(), p.location.clone()), p);
    }
    let rows = skus
        .into_iter()
        .filter(|s| !s.is_bundle())
        .map(|s| {
            let sku = s.sku.to_string();
            let cells: Vec<Cell> = locations
                .iter()
                .map(|l| match positions.get(&(sku.clone(), l.clone())) {
                    Some(p) => Cell { present: true, on_hand: p.on_hand, reserved: p.reserved, available: p.available },
                    None => Cell { present: false, on_hand: 0, reserved: 0, available: 0 },
                })
                .collect();
            GridRow { available: cells.iter().map(|c| c.available).sum(), sku, title: s.title, cells }
        })
        .collect();
    render(InventoryPage { nav, locations, rows })
}

// --------------------------------------------------------------- exceptions

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
    can_edit_address: bool,
    can_approve_split: bool,
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
struct ExceptionsQuery {
    status: Option<String>,
}

async fn exceptions_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<ExceptionsQuery>,
) -> Result<Html<String>, PageError> {
    let nav = nav(&state, &headers, "exceptions").await?;
    let shown = q.status.as_deref().filter(|s| matches!(*s, "resolved" | "dismissed" | "all")).unwrap_or("open");
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
            can_edit_address: e.actions.iter().any(|a| a == "edit_address"),
            can_approve_split: e.actions.iter().any(|a| a == "approve_split"),
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
    ship_to: ShipToView,
    log: Vec<ExceptionLogView>,
}

async fn exception_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Html<String>, PageError> {
    let nav = nav(&state, &headers, "exceptions").await?;
    let e = state
        .engine
        .get_exception(&id)
        .await?
        .ok_or_else(|| PageError::Status(StatusCode::NOT_FOUND, format!("exception {id} not found")))?;
    let order = state
        .engine
        .get_order(&e.order_id)
        .await?
        .ok_or_else(|| PageError::Status(StatusCode::NOT_FOUND, "order not found".into()))?;
    let log = e
        .log
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(|l| ExceptionLogView { at: short_time(&l.at), ..l })
        .collect();
    render(ExceptionPage { nav, age: age(state.engine.now_ms() - e.created_ms), ship_to: order.ship_to, log, e })
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
    Path(id): Path<String>,
    Form(form): Form<ResolveForm>,
) -> Result<Response, PageError> {
    signed_in(&state, &headers)?;
    if !csrf_ok(&state, &form.csrf) {
        return Err(PageError::Status(StatusCode::FORBIDDEN, "invalid CSRF token; reload the page".into()));
    }
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
        by: "admin (dashboard)".into(),
        reason: form.reason,
        address,
        location: form.location.filter(|l| !l.is_empty()),
    };
    let resolution = parse_resolution(body).map_err(|e| PageError::Status(e.status(), e.message))?;
    state.engine.resolve_exception(&id, &resolution).await?;
    Ok(Redirect::to(&back).into_response())
}
