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
    Router::new().route("/status/status.css", get(css)).route("/status/{token}", get(page)).with_state(state)
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
    page: StatusPage,
    ret: Option<PublicReturn>,
}

const PRIVATE: [(header::HeaderName, &str); 2] =
    [(header::CACHE_CONTROL, "no-store"), (header::HeaderName::from_static("x-robots-tag"), "noindex, nofollow")];

async fn page(State(app): State<AppState>, Path(token): Path<String>) -> Response {
    let not_found = || {
        let body = Html(
            "<!doctype html><meta charset=\"utf-8\"><title>Not found</title>\
                         <p>This link does not open any order. Check that it was copied whole.</p>",
        );
        (StatusCode::NOT_FOUND, PRIVATE, body).into_response()
    };
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
    match (StatusHtml { shop, page: found, ret }).render() {
        Ok(html) => (PRIVATE, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "status page template");
            (StatusCode::INTERNAL_SERVER_ERROR, PRIVATE, "The page could not be shown.").into_response()
        }
    }
}
