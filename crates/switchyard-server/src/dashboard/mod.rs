//! The dashboard: server-rendered pages (askama) behind a session cookie.
//!
//! Every page extends `base.html`, which carries the navigation; a new page
//! is a template, a handler in its section's module (registered in that
//! module's `routes()`) and a nav link. Every form that changes something
//! posts a CSRF token derived from the session. This module holds the router
//! and the sign-in pages; [`page`] holds what every page shares.

mod channel_form;
mod channels;
mod charts;
mod exceptions;
mod import;
mod inventory;
mod locations;
mod orders;
mod overview;
mod page;
mod reference;
mod returns;
mod roi;
mod rules;
mod simulation;
mod staff;
mod store;

use askama::Template;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;

use switchyard_core::staff::Action;

use crate::auth::{self, token_matches};
use crate::AppState;
pub(crate) use page::{api_page as api_error_page, render as render_page, Nav, PageError, PageForm};
use page::{render, CsrfForm};

pub fn routes(state: AppState) -> Router {
    Router::new()
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/static/app.css", get(css))
        .merge(orders::routes())
        .merge(inventory::routes())
        .merge(import::routes())
        .merge(locations::routes())
        .merge(reference::routes())
        .merge(exceptions::routes())
        .merge(rules::routes())
        .merge(channel_form::routes())
        .merge(channels::routes())
        .merge(overview::routes())
        .merge(roi::routes())
        .merge(simulation::routes())
        .merge(store::routes())
        .merge(returns::routes())
        .merge(staff::routes())
        .fallback(page::not_found)
        .layer(axum::middleware::from_fn_with_state(state.clone(), gate))
        .with_state(state)
}

/// What a dashboard path needs, by the core's permission table. Store
/// staff reach only the Store and Returns pages (whose handlers check the
/// location); the Staff page is the owner's; everything else owner and ops.
fn page_need(path: &str) -> auth::Need {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    match parts.as_slice() {
        ["login"] | ["logout"] | ["static", ..] => auth::Need::Anyone,
        ["store"] | ["store", "step"] => auth::Need::Floor,
        ["returns"] | ["returns", _] | ["returns", _, "label.pdf" | "receive"] => auth::Need::Floor,
        ["staff", ..] => auth::Need::ManageStaff,
        _ => auth::Need::Operate,
    }
}

/// Middleware: a signed-in person asking for a page their role does not
/// reach gets 403 (store staff asking for `/` are sent to the Store page).
/// Without a session the handler answers (a redirect to sign in).
async fn gate(State(state): State<AppState>, req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let need = page_need(req.uri().path());
    if need == auth::Need::Anyone {
        return next.run(req).await;
    }
    let session = match auth::session(&state, req.headers()).await {
        Ok(Some(s)) => s,
        Ok(None) => return next.run(req).await,
        Err(e) => return page::api_page(e).into_response(),
    };
    let p = session.principal();
    let operate = p.may(Action::Operate);
    let allowed = match need {
        auth::Need::Anyone => true,
        auth::Need::Floor => operate || p.grant.location().is_some(),
        auth::Need::Operate => operate,
        auth::Need::ManageStaff => p.may(Action::ManageStaff),
    };
    if allowed {
        next.run(req).await
    } else if req.uri().path() == "/" {
        Redirect::to("/store").into_response()
    } else {
        let action = if need == auth::Need::ManageStaff { Action::ManageStaff } else { Action::Operate };
        page::api_page(auth::forbidden(p, action)).into_response()
    }
}

async fn css() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "max-age=3600")],
        include_str!("../../templates/app.css"),
    )
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    nav: Nav,
    error: Option<String>,
}

async fn login_page() -> Result<Html<String>, PageError> {
    render(LoginPage { nav: Nav::anonymous(), error: None })
}

/// Either the admin token, or a staff member's e-mail and password.
#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

async fn login(
    State(state): State<AppState>,
    auth::ClientIp(ip): auth::ClientIp,
    PageForm(form): PageForm<LoginForm>,
) -> Response {
    let now = state.engine.now_ms();
    let refuse = |status: StatusCode, error: String| {
        let page = render(LoginPage { nav: Nav::anonymous(), error: Some(error) });
        (status, page).into_response()
    };
    if let Some(wait) = state.failures.blocked(ip, now) {
        let mut r = refuse(
            StatusCode::TOO_MANY_REQUESTS,
            format!("Too many failed sign-ins from your address. Try again in {wait} seconds."),
        );
        r.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(wait));
        return r;
    }
    // A staff member signs in with e-mail and password; the owner may also
    // use the admin token. Every failure counts toward the address's limit.
    let (staff_id, home) = if form.email.trim().is_empty() {
        if !token_matches(&state, form.token.trim()) {
            state.failures.record(ip, now);
            return refuse(StatusCode::UNAUTHORIZED, "That token is not right.".into());
        }
        (None, "/")
    } else {
        match state.engine.authenticate(&form.email, &form.password).await {
            Ok(Some(p)) => {
                let home = if p.may(Action::Operate) { "/" } else { "/store" };
                (p.staff_id().map(str::to_owned), home)
            }
            Ok(None) => {
                state.failures.record(ip, now);
                return refuse(StatusCode::UNAUTHORIZED, "That e-mail and password do not match.".into());
            }
            Err(e) => return page::api_page(e.into()).into_response(),
        }
    };
    match auth::open_session(&state, staff_id).await {
        Ok(cookie) => ([(header::SET_COOKIE, cookie)], Redirect::to(home)).into_response(),
        Err(e) => page::api_page(e).into_response(),
    }
}

/// Signs out: the session is deleted on the server, so the old cookie is
/// worthless even if it was copied.
async fn logout(State(state): State<AppState>, headers: HeaderMap, PageForm(form): PageForm<CsrfForm>) -> Response {
    let session = match page::check_csrf(&state, &headers, Some(form.csrf.as_str())).await {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    if let Err(e) = auth::close_session(&state, &session).await {
        return page::api_page(e).into_response();
    }
    ([(header::SET_COOKIE, auth::cleared_cookie())], Redirect::to("/login")).into_response()
}
