//! The Staff page (the owner only; the dashboard's gate refuses anyone
//! else): people and API tokens listed, a person added or disabled, a token
//! created (its secret shown on the answer, once) or revoked.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use switchyard_engine::{StaffDraft, StaffView, TokenView};

use super::page::{api_page, check_csrf, nav, render, Nav, PageError, PageForm, PageQuery};
use crate::{ApiError, AppState};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/staff", get(staff_page).post(add))
        .route("/staff/disable", post(disable))
        .route("/staff/tokens", post(create_token))
        .route("/staff/tokens/revoke", post(revoke))
}

#[derive(Template)]
#[template(path = "staff.html")]
struct StaffPage {
    nav: Nav,
    staff: Vec<StaffView>,
    tokens: Vec<TokenView>,
    locations: Vec<String>,
    message: Option<&'static str>,
    error: Option<String>,
    /// A token just made: (name, secret).
    secret: Option<(String, String)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StaffQuery {
    done: Option<String>,
}

async fn page(
    state: &AppState,
    nav: Nav,
    message: Option<&'static str>,
    error: Option<String>,
    secret: Option<(String, String)>,
) -> Result<Html<String>, PageError> {
    let staff = state.engine.list_staff().await?;
    let tokens = state.engine.list_tokens().await?;
    let locations = state.engine.list_locations().await?.into_iter().map(|l| l.code.to_string()).collect();
    render(StaffPage { nav, staff, tokens, locations, message, error, secret })
}

async fn staff_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    PageQuery(q): PageQuery<StaffQuery>,
) -> Result<Html<String>, PageError> {
    let nav = nav(&state, &headers, "staff").await?;
    let message = match q.done.as_deref() {
        Some("added") => Some("Added: they can sign in with their e-mail and password."),
        Some("disabled") => Some("Disabled: they are signed out and cannot sign in."),
        Some("revoked") => Some("Revoked: the token is refused from now on."),
        _ => None,
    };
    page(&state, nav, message, None, None).await
}

/// The page again with what went wrong (nothing changed).
async fn refused(state: &AppState, headers: &HeaderMap, e: ApiError) -> Result<Response, PageError> {
    let nav = nav(state, headers, "staff").await?;
    let status = e.status();
    Ok((status, page(state, nav, None, Some(format!("{} Nothing was changed.", e.message)), None).await?)
        .into_response())
}

/// A form's location: blank is none.
fn location(raw: String) -> Option<String> {
    Some(raw.trim().to_owned()).filter(|l| !l.is_empty())
}

#[derive(Deserialize)]
struct AddForm {
    csrf: String,
    name: String,
    email: String,
    role: String,
    #[serde(default)]
    location: String,
    password: String,
}

async fn add(
    State(state): State<AppState>,
    headers: HeaderMap,
    PageForm(f): PageForm<AddForm>,
) -> Result<Response, PageError> {
    check_csrf(&state, &headers, Some(f.csrf.as_str())).await?;
    let draft =
        StaffDraft { name: f.name, email: f.email, role: f.role, location: location(f.location), password: f.password };
    match state.engine.create_staff(draft).await {
        Ok(_) => Ok(Redirect::to("/staff?done=added").into_response()),
        Err(e) => refused(&state, &headers, e.into()).await,
    }
}

#[derive(Deserialize)]
struct IdForm {
    csrf: String,
    id: String,
}

async fn disable(
    State(state): State<AppState>,
    headers: HeaderMap,
    PageForm(f): PageForm<IdForm>,
) -> Result<Response, PageError> {
    check_csrf(&state, &headers, Some(f.csrf.as_str())).await?;
    state.engine.disable_staff(&f.id).await.map_err(|e| api_page(e.into()))?;
    Ok(Redirect::to("/staff?done=disabled").into_response())
}

#[derive(Deserialize)]
struct TokenForm {
    csrf: String,
    name: String,
    role: String,
    #[serde(default)]
    location: String,
}

/// Creates a token and shows its secret on this answer (never again; not
/// in a redirect's URL).
async fn create_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    PageForm(f): PageForm<TokenForm>,
) -> Result<Response, PageError> {
    check_csrf(&state, &headers, Some(f.csrf.as_str())).await?;
    match state.engine.create_token(&f.name, &f.role, location(f.location).as_deref()).await {
        Ok(made) => {
            let nav = nav(&state, &headers, "staff").await?;
            let secret = Some((made.token.name, made.secret));
            let html = page(&state, nav, None, None, secret).await?;
            Ok((StatusCode::CREATED, [(axum::http::header::CACHE_CONTROL, "no-store")], html).into_response())
        }
        Err(e) => refused(&state, &headers, e.into()).await,
    }
}

async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    PageForm(f): PageForm<IdForm>,
) -> Result<Response, PageError> {
    check_csrf(&state, &headers, Some(f.csrf.as_str())).await?;
    state.engine.revoke_token(&f.id).await.map_err(|e| api_page(e.into()))?;
    Ok(Redirect::to("/staff?done=revoked").into_response())
}
