//! The customer's status page: `GET /status/{token}`, reached from the link
//! in every notification, with no sign-in. The engine builds the page from
//! customer-facing facts only ([`switchyard_engine::StatusPage`]); an
//! unknown or malformed token is a plain 404 that says nothing about why.
//! Answers are never cached and ask not to be indexed; the site-wide
//! `referrer-policy: no-referrer` keeps the token out of the tracking sites'
//! logs when the customer follows a link.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use switchyard_engine::{PublicReturn, StatusPage};

use crate::AppState;

pub fn routes(state: AppState) -> Router {
    Router::new()
        .route("/status/status.css", get(css))
        .route("/status/{token}", get(page))
        .route("/status/{token}/label.pdf", get(label_pdf))
        .with_state(state)
}

async fn css() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "max-age=3600")],
        include_str!("../templates/status.css"),
    )
}

#[derive(Template)]
#[template(path = "status.html")]
struct StatusHtml {
    shop: String,
    /// The link's token, for the label's link (checked: 64 hex digits).
    token: String,
    page: StatusPage,
    ret: Option<PublicReturn>,
}

const PRIVATE: [(header::HeaderName, &str); 2] =
    [(header::CACHE_CONTROL, "no-store"), (header::HeaderName::from_static("x-robots-tag"), "noindex, nofollow")];

fn not_found() -> Response {
    let body = Html(
        "<!doctype html><meta charset=\"utf-8\"><title>Not found</title>\
                     <p>This link does not open any order. Check that it was copied whole.</p>",
    );
    (StatusCode::NOT_FOUND, PRIVATE, body).into_response()
}

/// The return label of the return a link is about (issue 9, item 3: the
/// customer prints it from the self-service page or any e-mail's link).
/// A link about no return, or a return never authorized: the same 404 as
/// an unknown link.
async fn label_pdf(State(app): State<AppState>, Path(token): Path<String>) -> Response {
    match app.engine.status_label_pdf(&token).await {
        Ok(Some(pdf)) => {
            let headers = [
                (header::CONTENT_TYPE, "application/pdf"),
                (header::CONTENT_DISPOSITION, "inline; filename=\"return-label.pdf\""),
            ];
            (PRIVATE, headers, pdf).into_response()
        }
        Ok(None) => not_found(),
        Err(e) => {
            tracing::error!(error = %e, "status page label");
            (StatusCode::SERVICE_UNAVAILABLE, PRIVATE, "The label is not available right now; try again soon.")
                .into_response()
        }
    }
}

async fn page(State(app): State<AppState>, Path(token): Path<String>) -> Response {
    let found = match app.engine.status_page(&token).await {
        Ok(Some(p)) => p,
        Ok(None) => return not_found(),
        Err(e) => {
            tracing::error!(error = %e, "status page");
            return (StatusCode::SERVICE_UNAVAILABLE, PRIVATE, "The page is not available right now; try again soon.")
                .into_response();
        }
    };
    let shop = app.config.shop_name.clone();
    let ret = found.ret.clone();
    match (StatusHtml { shop, token, page: found, ret }).render() {
        Ok(html) => (PRIVATE, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "status page template");
            (StatusCode::INTERNAL_SERVER_ERROR, PRIVATE, "The page could not be shown.").into_response()
        }
    }
}
