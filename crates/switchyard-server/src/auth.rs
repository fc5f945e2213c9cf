//! Bearer-token auth for the API; server-side sessions and CSRF for the
//! pages; and the limit on failed sign-ins per client address.
//!
//! A session is a random 32-byte id in an `HttpOnly` cookie. The database
//! keeps only its SHA-256 (so a leaked table signs nobody in), a random CSRF
//! token, an expiry, and a binding to the admin token it was opened with:
//! signing out deletes the row, and changing the admin token invalidates
//! every session at once. Comparisons of secrets are constant-time.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use switchyard_engine::{Code, NewSession};

use crate::{ApiError, AppState};

pub const SESSION_COOKIE: &str = "switchyard_session";

fn digest(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    hex::encode(h.finalize())
}

fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn same(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

pub fn token_matches(state: &AppState, presented: &str) -> bool {
    same(&digest(&["token", state.config.api_token.expose()]), &digest(&["token", presented]))
}

/// The client's address as the listener saw it (no proxy header is
/// trusted); unspecified when the server was started without it.
pub fn client_ip(req_extensions: &axum::http::Extensions) -> IpAddr {
    req_extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| a.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

/// The client's address, as an extractor.
pub struct ClientIp(pub IpAddr);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(client_ip(&parts.extensions)))
    }
}

/// The 429 a client gets while its failed attempts are over the limit.
pub fn too_many_failures(retry_after_secs: u64) -> ApiError {
    let mut e = ApiError::new(
        Code::TooManyRequests,
        format!("too many failed sign-in attempts from this address; retry in {retry_after_secs} s"),
    );
    e.retry_after = Some(retry_after_secs);
    e
}

/// A signed-in browser.
#[derive(Debug, Clone)]
pub struct Session {
    id_hash: String,
    csrf: String,
}

impl Session {
    /// The CSRF token every changing form of this session must carry.
    pub fn csrf(&self) -> &str {
        &self.csrf
    }

    pub fn csrf_ok(&self, presented: &str) -> bool {
        same(&self.csrf, presented)
    }
}

fn binding(state: &AppState, id_hash: &str) -> String {
    digest(&["bind", state.config.api_token.expose(), id_hash])
}

/// Opens a session; returns the `Set-Cookie` value that carries it.
pub async fn open_session(state: &AppState) -> Result<String, ApiError> {
    let id = random_secret();
    let id_hash = digest(&["session", &id]);
    let new = NewSession { binding: binding(state, &id_hash), id_hash, csrf: random_secret() };
    let ttl_ms = i64::try_from(state.config.session_ttl_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
    state.engine.open_session(new, ttl_ms).await?;
    let secure = if state.config.secure_cookies { "; Secure" } else { "" };
    Ok(format!(
        "{SESSION_COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        state.config.session_ttl_secs
    ))
}

/// The cookie that tells the browser to forget its session.
pub fn cleared_cookie() -> String {
    format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
}

fn presented_ids(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .filter(|(k, v)| *k == SESSION_COOKIE && v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(|(_, v)| v)
}

/// The live session the request's cookie names, if any: stored, not
/// expired, and opened with the current admin token.
pub async fn session(state: &AppState, headers: &HeaderMap) -> Result<Option<Session>, ApiError> {
    for id in presented_ids(headers) {
        let id_hash = digest(&["session", id]);
        if let Some(record) = state.engine.session(&id_hash).await? {
            if same(&record.binding, &binding(state, &id_hash)) {
                return Ok(Some(Session { id_hash, csrf: record.csrf }));
            }
        }
    }
    Ok(None)
}

/// Ends the session (sign-out).
pub async fn close_session(state: &AppState, s: &Session) -> Result<(), ApiError> {
    state.engine.close_session(&s.id_hash).await?;
    Ok(())
}

/// The cookie that carries a public form's nonce (the customer's
/// self-service return pages, which have no session).
pub const FORM_COOKIE: &str = "switchyard_form";

fn form_nonce(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, v)| *k == FORM_COOKIE && v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(|(_, v)| v)
}

fn form_token(state: &AppState, nonce: &str) -> String {
    digest(&["public-form", state.config.api_token.expose(), nonce])
}

/// CSRF for a form with no session (signed double submit): a random nonce
/// in an `HttpOnly`, `SameSite=Strict` cookie scoped to `path`, and in the
/// form a keyed hash of it that only this server can make. Returns the
/// `Set-Cookie` value when the browser has no nonce yet, and the form's
/// token.
pub fn public_form(state: &AppState, headers: &HeaderMap, path: &str) -> (Option<String>, String) {
    if let Some(nonce) = form_nonce(headers) {
        return (None, form_token(state, nonce));
    }
    let nonce = random_secret();
    let secure = if state.config.secure_cookies { "; Secure" } else { "" };
    let cookie = format!("{FORM_COOKIE}={nonce}; Path={path}; HttpOnly; SameSite=Strict; Max-Age=86400{secure}");
    (Some(cookie), form_token(state, &nonce))
}

/// Whether a public form's token matches the browser's nonce cookie.
pub fn public_form_ok(state: &AppState, headers: &HeaderMap, presented: &str) -> bool {
    form_nonce(headers).is_some_and(|nonce| same(&form_token(state, nonce), presented))
}

/// Middleware: `Authorization: Bearer <token>` or 401; an address with too
/// many failures gets 429 before its token is even looked at.
pub async fn require_bearer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let ip = client_ip(req.extensions());
    let now = state.engine.now_ms();
    if let Some(wait) = state.failures.blocked(ip, now) {
        return too_many_failures(wait).into_response();
    }
    let presented = req.headers().get(AUTHORIZATION).map(|v| v.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")));
    match presented {
        Some(Some(t)) if token_matches(&state, t.trim()) => next.run(req).await,
        // A wrong token is a guess and counts; no header at all does not.
        Some(_) => {
            state.failures.record(ip, now);
            ApiError::unauthorized().into_response()
        }
        None => ApiError::unauthorized().into_response(),
    }
}
