//! Bearer-token auth for the API, session cookies and CSRF for the pages.
//!
//! The session cookie and CSRF token are derived from the admin token with
//! SHA-256, so rotating the token signs every browser out; comparisons are
//! constant-time.

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::{ApiError, AppState};

pub const SESSION_COOKIE: &str = "switchyard_session";

fn digest(purpose: &str, secret: &str) -> String {
    let mut h = Sha256::new();
    h.update(purpose.as_bytes());
    h.update([0]);
    h.update(secret.as_bytes());
    hex::encode(h.finalize())
}

pub fn token_matches(state: &AppState, presented: &str) -> bool {
    let want = digest("token", state.config.api_token.expose());
    let got = digest("token", presented);
    want.as_bytes().ct_eq(got.as_bytes()).into()
}

/// The session cookie value a signed-in browser carries.
pub fn session_value(state: &AppState) -> String {
    digest("session", state.config.api_token.expose())
}

/// The CSRF token every changing form must carry.
pub fn csrf_token(state: &AppState) -> String {
    digest("csrf", &session_value(state))
}

pub fn csrf_ok(state: &AppState, presented: &str) -> bool {
    csrf_token(state).as_bytes().ct_eq(presented.as_bytes()).into()
}

/// Whether the request carries a valid session cookie.
pub fn has_session(state: &AppState, headers: &axum::http::HeaderMap) -> bool {
    let want = session_value(state);
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .any(|(k, v)| k == SESSION_COOKIE && bool::from(v.as_bytes().ct_eq(want.as_bytes())))
}

/// Middleware: `Authorization: Bearer <token>` or 401.
pub async fn require_bearer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let ok = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| token_matches(&state, t.trim()));
    if ok {
        next.run(req).await
    } else {
        ApiError::unauthorized().into_response()
    }
}
