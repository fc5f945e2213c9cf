//! What every dashboard page shares: the layout's [`Nav`], the session and
//! CSRF checks, [`PageError`] and [`render`], and small formatting helpers.
//! The page modules import from here and never from each other.

use askama::Template;
use axum::extract::{FromRequest, FromRequestParts};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use switchyard_core::staff::Action;

use crate::auth::{self, Actor, Session};
use crate::{ApiError, AppState};

/// `Query<T>` whose rejections are styled error pages (400).
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(PageError))]
pub(crate) struct PageQuery<T>(pub T);

/// `Path<T>` whose rejections are styled error pages (400).
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(PageError))]
pub(crate) struct PagePath<T>(pub T);

/// `Form<T>` whose rejections are styled error pages.
#[derive(FromRequest)]
#[from_request(via(axum::extract::Form), rejection(PageError))]
pub(crate) struct PageForm<T>(pub T);

/// What the layout needs on every page.
pub(crate) struct Nav {
    pub(crate) signed_in: bool,
    pub(crate) section: &'static str,
    pub(crate) csrf: String,
    pub(crate) open_exceptions: i64,
    /// Who is signed in, as the log names them.
    pub(crate) who: String,
    /// Whether they see everything but staff (owner, ops); store staff see
    /// only the Store and Returns pages.
    pub(crate) operate: bool,
    /// Whether they manage staff and tokens (the owner).
    pub(crate) manage_staff: bool,
}

impl Nav {
    pub(crate) fn anonymous() -> Self {
        Nav {
            signed_in: false,
            section: "",
            csrf: String::new(),
            open_exceptions: 0,
            who: String::new(),
            operate: false,
            manage_staff: false,
        }
    }
}

/// Checks the session and gathers the layout's counts.
pub(crate) async fn nav(state: &AppState, headers: &HeaderMap, section: &'static str) -> Result<Nav, PageError> {
    let session = signed_in(state, headers).await?;
    let p = session.principal();
    let operate = p.may(Action::Operate);
    Ok(Nav {
        signed_in: true,
        section,
        csrf: session.csrf().to_owned(),
        open_exceptions: if operate { state.engine.open_exception_count().await? } else { 0 },
        who: p.actor(),
        operate,
        manage_staff: p.may(Action::ManageStaff),
    })
}

/// The error page: the layout, what went wrong, and a way back.
#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    nav: Nav,
    status: u16,
    title: &'static str,
    message: String,
}

/// A page failure: a redirect to sign in, or the error page.
pub(crate) enum PageError {
    SignIn,
    Status(StatusCode, String),
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::SignIn => Redirect::to("/login").into_response(),
            PageError::Status(code, message) => {
                let page = ErrorPage {
                    nav: Nav::anonymous(),
                    status: code.as_u16(),
                    title: code.canonical_reason().unwrap_or("Error"),
                    message,
                };
                match page.render() {
                    Ok(html) => (code, Html(html)).into_response(),
                    Err(e) => {
                        tracing::error!(error = %e, "error page failed");
                        (code, "error").into_response()
                    }
                }
            }
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

pub(crate) fn render(t: impl Template) -> Result<Html<String>, PageError> {
    t.render().map(Html).map_err(|e| {
        tracing::error!(error = %e, "template failed");
        PageError::Status(StatusCode::INTERNAL_SERVER_ERROR, "the page could not be rendered".into())
    })
}

/// The request's live session, or a redirect to sign in.
pub(crate) async fn signed_in(state: &AppState, headers: &HeaderMap) -> Result<Session, PageError> {
    auth::session(state, headers).await.map_err(api_page)?.ok_or(PageError::SignIn)
}

/// A form that changes something: signed in, and the session's CSRF token.
pub(crate) async fn check_csrf(
    state: &AppState,
    headers: &HeaderMap,
    csrf: Option<&str>,
) -> Result<Session, PageError> {
    let session = signed_in(state, headers).await?;
    if !csrf.is_some_and(|c| session.csrf_ok(c)) {
        return Err(PageError::Status(StatusCode::FORBIDDEN, "invalid CSRF token; reload the page".into()));
    }
    Ok(session)
}

/// Store-floor work at a location named in a form or query.
pub(crate) fn require_floor(session: &Session, location: &str) -> Result<(), PageError> {
    session.actor().require_floor(location).map_err(api_page)
}

/// The one location a store staff member's pages show; `None` for owner
/// and ops.
pub(crate) fn only_location(session: &Session) -> Option<String> {
    Actor::only_location(&session.actor()).map(|l| l.to_string())
}

/// Any dashboard path that does not exist.
pub(crate) async fn not_found() -> PageError {
    PageError::Status(StatusCode::NOT_FOUND, "There is no such page.".into())
}

/// A form that carries nothing but its CSRF token.
#[derive(Deserialize)]
pub(crate) struct CsrfForm {
    pub(crate) csrf: String,
}

/// `raw` as one URL query value or path segment: everything but letters,
/// digits and `- . _ ~` percent-encoded (a SKU may hold `/` and `#`).
pub(crate) fn url_component(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for b in raw.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A whole number typed into a form field, or a message naming the field.
pub(crate) fn whole_number<T: std::str::FromStr>(field: &str, raw: &str) -> Result<T, String> {
    raw.trim().parse().map_err(|_| format!("{field}: {:?} is not a whole number", raw.trim()))
}

/// "2026-11-27T11:25:12.345Z" -> "2026-11-27 11:25:12".
pub(crate) fn short_time(rfc3339: &str) -> String {
    rfc3339.get(..19).map(|s| s.replace('T', " ")).unwrap_or_else(|| rfc3339.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_components_escape_everything_but_unreserved() {
        assert_eq!(url_component("TEE-RED_M.1~"), "TEE-RED_M.1~");
        assert_eq!(url_component("A/B#C D&q=é"), "A%2FB%23C%20D%26q%3D%C3%A9");
        assert_eq!(whole_number::<i64>("quantity", " 12 "), Ok(12));
        assert_eq!(whole_number::<i64>("quantity", "1.5"), Err("quantity: \"1.5\" is not a whole number".into()));
    }
}
