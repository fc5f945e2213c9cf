//! The Orders pages: the list (filters, status counts, paging), one order
//! with its allocations, routing decisions and timeline, and cancelling it.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use switchyard_core::intake::page_cursor;
use switchyard_core::{ChannelName, Currency, Money, OrderStatus};
use switchyard_store::{DecisionView, EventView, OrderFilter, OrderView};

use super::page::{api_page, check_csrf, nav, render, short_time, Nav, PageError, PageForm, PagePath, PageQuery};
use crate::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(orders_page))
        .route("/orders/{id}", get(order_page))
        .route("/orders/{id}/cancel", post(cancel))
}

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
#[serde(deny_unknown_fields)]
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

async fn orders_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    PageQuery(q): PageQuery<OrdersQuery>,
) -> Result<Html<String>, PageError> {
    let nav = nav(&state, &headers, "orders").await?;
    let status = q.status.filter(|s| !s.is_empty());
    if let Some(s) = status.as_deref().filter(|s| OrderStatus::parse(s).is_none()) {
        return Err(PageError::Status(StatusCode::BAD_REQUEST, format!("{s:?} is not an order status")));
    }
    let channel = match q.channel.filter(|c| !c.is_empty()) {
        Some(c) => Some(ChannelName::parse(&c).map_err(|e| PageError::Status(StatusCode::BAD_REQUEST, e.to_string()))?),
        None => None,
    }
    .map(|c| c.to_string());
    let cursor = page_cursor(q.cursor).map_err(|e| api_page(e.into()))?;
    let filter = OrderFilter { status: status.clone(), channel: channel.clone(), limit: 50, cursor };
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
    decisions: Vec<DecisionView>,
}

async fn order_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    PagePath(id): PagePath<String>,
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

#[derive(Deserialize)]
struct CancelForm {
    csrf: String,
    #[serde(default)]
    reason: String,
}

async fn cancel(
    State(state): State<AppState>,
    headers: HeaderMap,
    PagePath(id): PagePath<String>,
    PageForm(form): PageForm<CancelForm>,
) -> Result<Response, PageError> {
    check_csrf(&state, &headers, Some(form.csrf.as_str())).await?;
    let reason = if form.reason.trim().is_empty() { "cancelled from the dashboard" } else { form.reason.trim() };
    state.engine.cancel_order(&id, reason).await?;
    Ok(Redirect::to(&format!("/orders/{id}")).into_response())
}
