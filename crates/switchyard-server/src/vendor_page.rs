//! The dropship vendor's page: `GET /vendor/po/{token}`, reached from the
//! link in each purchase order e-mail or webhook call, with no sign-in: the
//! purchase order, a confirm button (`POST …/confirm`) and a tracking form
//! (`POST …/shipments`, which ships the purchase order's lines through the
//! order's shipments). An unknown, malformed or expired token is a plain 404
//! that says nothing about why.
//!
//! No session or CSRF token: the unguessable token in the path is the
//! credential (only its SHA-256 is stored), so a page elsewhere cannot
//! forge a request without it. Answers are never cached and ask not to be
//! indexed; the site-wide `referrer-policy: no-referrer` keeps the token out
//! of the carriers' logs.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use switchyard_engine::{Error, PurchaseOrderView};

use crate::AppState;

pub fn routes(state: AppState) -> Router {
    Router::new()
        .route("/vendor/po/{token}", get(page))
        .route("/vendor/po/{token}/confirm", post(confirm))
        .route("/vendor/po/{token}/shipments", post(ship))
        .with_state(state)
}

#[derive(Template)]
#[template(path = "vendor_po.html")]
struct VendorHtml {
    shop: String,
    token: String,
    po: PurchaseOrderView,
    status_words: &'static str,
    error: Option<String>,
}

const PRIVATE: [(header::HeaderName, &str); 2] =
    [(header::CACHE_CONTROL, "no-store"), (header::HeaderName::from_static("x-robots-tag"), "noindex, nofollow")];

fn not_found() -> Response {
    let body = Html(
        "<!doctype html><meta charset=\"utf-8\"><title>Not found</title>\
         <p>This link does not open any purchase order. Check that it was copied whole, or ask for a new one.</p>",
    );
    (StatusCode::NOT_FOUND, PRIVATE, body).into_response()
}

fn unavailable(e: &Error) -> Response {
    tracing::error!(error = %e, "vendor page");
    (StatusCode::SERVICE_UNAVAILABLE, PRIVATE, "The page is not available right now; try again soon.").into_response()
}

fn words(status: &str) -> &'static str {
    match status {
        "sent" => "Waiting for your confirmation",
        "confirmed" => "Confirmed: waiting for tracking",
        "shipped" => "Shipped: thank you",
        "cancelled" => "Cancelled: do not ship",
        _ => "In progress",
    }
}

fn render(app: &AppState, token: String, po: PurchaseOrderView, error: Option<String>, code: StatusCode) -> Response {
    let status_words = words(&po.status);
    let html = VendorHtml { shop: app.config.shop_name.clone(), token, po, status_words, error };
    match html.render() {
        Ok(html) => (code, PRIVATE, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "vendor page template");
            (StatusCode::INTERNAL_SERVER_ERROR, PRIVATE, "The page could not be shown.").into_response()
        }
    }
}

async fn page(State(app): State<AppState>, Path(token): Path<String>) -> Response {
    match app.engine.vendor_purchase_order(&token).await {
        Ok(Some(po)) => render(&app, token, po, None, StatusCode::OK),
        Ok(None) => not_found(),
        Err(e) => unavailable(&e),
    }
}

/// After an action: back to the page (303), or the page with the refusal.
async fn after(app: &AppState, token: String, done: Result<Option<PurchaseOrderView>, Error>) -> Response {
    match done {
        Ok(Some(_)) => (PRIVATE, Redirect::to(&format!("/vendor/po/{token}"))).into_response(),
        Ok(None) => not_found(),
        Err(e) if e.is_internal() || e.code() == switchyard_engine::Code::Unavailable => unavailable(&e),
        Err(e) => {
            let code = crate::error::status(e.code());
            match app.engine.vendor_purchase_order(&token).await {
                Ok(Some(po)) => render(app, token, po, Some(e.to_string()), code),
                Ok(None) => not_found(),
                Err(e) => unavailable(&e),
            }
        }
    }
}

async fn confirm(State(app): State<AppState>, Path(token): Path<String>) -> Response {
    let done = app.engine.vendor_confirm(&token).await;
    after(&app, token, done).await
}

#[derive(Debug, Deserialize)]
struct ShipForm {
    carrier: String,
    tracking: String,
}

async fn ship(
    State(app): State<AppState>,
    Path(token): Path<String>,
    form: Result<Form<ShipForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let done = match form {
        Ok(Form(f)) => {
            let blank = |s: &str| s.trim().is_empty();
            if blank(&f.carrier) || blank(&f.tracking) {
                Err(Error::Invalid("carrier and tracking number are both needed".into()))
            } else {
                app.engine.vendor_ship(&token, Some(f.carrier.trim()), Some(f.tracking.trim())).await
            }
        }
        Err(_) => Err(Error::Invalid("the form needs a carrier and a tracking number".into())),
    };
    after(&app, token, done).await
}
