//! The Store page (issue 9, item 0): store staff choose their location, see
//! its pick list (the engine's `pick_list`: same-day and pickup first, then
//! expedited, then standard, oldest first) and do each step with one tap —
//! picked, packed, ship (carrier, tracking and tracking URL), ready for
//! pickup, picked up, and "can't find it" on a line (a short pick: the
//! allocation is rejected and re-routed). Every form posts the session's
//! CSRF token; a refused step is the error page with the engine's reason.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use switchyard_core::{LocationCode, ShipmentDraft};
use switchyard_engine::PickOrder;

use super::page::{
    check_csrf, nav, only_location, render, require_floor, short_time, signed_in, url_component, whole_number, Nav,
    PageError, PageForm, PageQuery,
};
use crate::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/store", get(store_page)).route("/store/step", post(step))
}

/// The one-tap steps: (action, button).
const BUTTONS: [(&str, &str); 4] =
    [("picked", "Picked"), ("packed", "Packed"), ("ready_for_pickup", "Ready for pickup"), ("picked_up", "Picked up")];

struct Place {
    code: String,
    name: String,
    chosen: bool,
}

struct Card {
    order: PickOrder,
    created: String,
}

impl Card {
    /// Whether this action is offered at the order's step (the core's
    /// `offered`, through the pick list).
    fn offers(&self, action: &str) -> bool {
        self.order.actions.iter().any(|a| a == action)
    }
}

#[derive(Template)]
#[template(path = "store.html")]
struct StorePage {
    nav: Nav,
    places: Vec<Place>,
    location: Option<String>,
    cards: Vec<Card>,
    buttons: &'static [(&'static str, &'static str)],
    more: bool,
    message: Option<&'static str>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StoreQuery {
    location: Option<String>,
    done: Option<Done>,
}

/// What the redirect after a step reports; the text is ours.
#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum Done {
    Picked,
    Packed,
    Shipped,
    ReadyForPickup,
    PickedUp,
    ShortPick,
}

impl Done {
    fn message(self) -> &'static str {
        match self {
            Done::Picked => "Marked picked.",
            Done::Packed => "Marked packed.",
            Done::Shipped => "Shipped.",
            Done::ReadyForPickup => "Ready for pickup: the customer is told.",
            Done::PickedUp => "Handed over: the order is completed.",
            Done::ShortPick => "Marked not found: the line was re-routed.",
        }
    }
}

async fn store_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    PageQuery(q): PageQuery<StoreQuery>,
) -> Result<Html<String>, PageError> {
    let nav = nav(&state, &headers, "store").await?;
    // Store staff see their own location, whatever the query says.
    let only = only_location(&signed_in(&state, &headers).await?);
    let location = only.clone().or(q.location).filter(|l| !l.trim().is_empty());
    let location = location.map(|l| LocationCode::parse(l.trim())).transpose()?;
    let places: Vec<Place> = state
        .engine
        .list_locations()
        .await?
        .into_iter()
        .filter(|l| l.active && l.kind != switchyard_core::LocationKind::Dropship)
        .filter(|l| only.as_ref().is_none_or(|o| o == l.code.as_str()))
        .map(|l| Place { chosen: location.as_ref() == Some(&l.code), code: l.code.to_string(), name: l.name })
        .collect();
    let (cards, more) = match &location {
        None => (vec![], false),
        Some(code) => {
            let list = state.engine.pick_list(code).await?;
            let cards =
                list.orders.into_iter().map(|order| Card { created: short_time(&order.created_at), order }).collect();
            (cards, list.more)
        }
    };
    let message = q.done.map(Done::message);
    let location = location.map(|l| l.to_string());
    render(StorePage { nav, places, location, cards, buttons: &BUTTONS, more, message })
}

#[derive(Deserialize)]
struct StepForm {
    csrf: String,
    location: String,
    order: String,
    /// `picked`, `packed`, `ship`, `ready_for_pickup`, `picked_up` or
    /// `short_pick`.
    action: String,
    /// The line a short pick names.
    line: Option<String>,
    carrier: Option<String>,
    tracking: Option<String>,
    tracking_url: Option<String>,
}

/// A form's optional text: blank is none.
fn given(raw: Option<String>) -> Option<String> {
    raw.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

async fn step(
    State(state): State<AppState>,
    headers: HeaderMap,
    PageForm(f): PageForm<StepForm>,
) -> Result<Response, PageError> {
    let session = check_csrf(&state, &headers, Some(f.csrf.as_str())).await?;
    require_floor(&session, &f.location)?;
    let by = session.by();
    let location = LocationCode::parse(&f.location)?;
    let engine = &state.engine;
    let id = f.order.as_str();
    let done = match f.action.as_str() {
        "picked" => {
            engine.mark_picked(id, &location, &by).await?;
            "picked"
        }
        "packed" => {
            engine.mark_packed(id, &location, &by).await?;
            "packed"
        }
        "ship" => {
            let draft = ShipmentDraft {
                location: location.to_string(),
                lines: vec![],
                carrier: given(f.carrier),
                tracking: given(f.tracking),
                tracking_url: given(f.tracking_url),
            };
            engine.ship_packed(id, &draft).await?;
            "shipped"
        }
        "ready_for_pickup" => {
            engine.ready_for_pickup(id, &location).await?;
            "ready_for_pickup"
        }
        "picked_up" => {
            // The handover happens at the order's pickup store.
            if only_location(&session).is_some() {
                let order = engine.get_order(id).await?;
                let at = order.and_then(|o| o.pickup_location).unwrap_or_default();
                require_floor(&session, &at)?;
            }
            engine.picked_up(id).await?;
            "picked_up"
        }
        "short_pick" => {
            let bad = |problem: String| PageError::Status(StatusCode::UNPROCESSABLE_ENTITY, problem);
            let line: i64 = whole_number("line", f.line.as_deref().unwrap_or("")).map_err(bad)?;
            if line < 1 {
                return Err(bad(format!("line numbers start at 1 (got {line})")));
            }
            engine.short_pick(id, line, &location, &by).await?;
            "short_pick"
        }
        other => return Err(PageError::Status(StatusCode::BAD_REQUEST, format!("{other:?} is not a step"))),
    };
    let to = format!("/store?location={}&done={done}", url_component(location.as_str()));
    Ok(Redirect::to(&to).into_response())
}
