//! The dashboard: server-rendered pages (askama) behind a session cookie.
//!
//! Every page extends `base.html`, which carries the navigation; a new page
//! is a template, a handler in its section's module (registered in that
//! module's `routes()`) and a nav link. Every form that changes something
//! posts a CSRF token derived from the session. This module holds the router
//! and the sign-in pages; [`page`] holds what every page shares.

mod exceptions;
mod inventory;
mod orders;
mod page;
mod rules;

use askama::Template;
use axum::extract::{Form, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;

use crate::auth::{csrf_ok, has_session, session_value, token_matches, SESSION_COOKIE};
use crate::AppState;
use page::{render, CsrfForm, Nav, PageError};

pub fn routes(state: AppState) -> Router {
    Router::new()
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/static/app.css", get(css))
        .merge(orders::routes())
        .merge(inventory::routes())
        .merge(exceptions::routes())
        .merge(rules::routes())
        .with_state(state)
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

async fn logout(State(state): State<AppState>, headers: HeaderMap, Form(form): Form<CsrfForm>) -> Response {
    if !has_session(&state, &headers) || !csrf_ok(&state, &form.csrf) {
        return (StatusCode::FORBIDDEN, "invalid CSRF token").into_response();
    }
    let cookie = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    ([(header::SET_COOKIE, cookie)], Redirect::to("/login")).into_response()
}
