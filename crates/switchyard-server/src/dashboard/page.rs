//! What every dashboard page shares: the layout's [`Nav`], the session and
//! CSRF checks, [`PageError`] and [`render`], and small formatting helpers.
//! The page modules import from here and never from each other.

use askama::Template;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::auth::{csrf_ok, csrf_token, has_session};
use crate::{ApiError, AppState};

/// What the layout needs on every page.
pub(crate) struct Nav {
    pub(crate) signed_in: bool,
    pub(crate) section: &'static str,
    pub(crate) csrf: String,
    pub(crate) open_exceptions: i64,
}

impl Nav {
    pub(crate) fn anonymous() -> Self {
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
    E: Into<ApiError>,
{
    fn from(e: E) -> Self {
        let api: ApiError = e.into();
        PageError::Status(api.status(), api.message)
    }
}

/// An API error (from the API's parsers) as the error page with its status.
pub(crate) fn api_page(e: ApiError) -> PageError {
    PageError::Status(e.status(), e.message)
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

/// A form that changes something: signed in, and the session's CSRF token.
pub(crate) fn check_csrf(state: &AppState, headers: &HeaderMap, csrf: Option<&str>) -> Result<(), PageError> {
    signed_in(state, headers)?;
    if !csrf.is_some_and(|c| csrf_ok(state, c)) {
        return Err(PageError::Status(StatusCode::FORBIDDEN, "invalid CSRF token; reload the page".into()));
    }
    Ok(())
}

/// A form that carries nothing but its CSRF token.
#[derive(Deserialize)]
pub(crate) struct CsrfForm {
    pub(crate) csrf: String,
}

/// "2026-11-27T11:25:12.345Z" -> "2026-11-27 11:25:12".
pub(crate) fn short_time(rfc3339: &str) -> String {
    rfc3339.get(..19).map(|s| s.replace('T', " ")).unwrap_or_else(|| rfc3339.to_owned())
}
