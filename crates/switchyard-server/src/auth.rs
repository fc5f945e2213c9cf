//! Bearer-token auth for the API; server-side sessions and CSRF for the
//! pages; the limit on failed sign-ins per client address; and the [`Actor`]
//! every request acts as.
//!
//! A session is a random 32-byte id in an `HttpOnly` cookie. The database
//! keeps only its SHA-256 (so a leaked table signs nobody in), a random CSRF
//! token, an expiry, the staff member who opened it (none: the admin token),
//! and a binding to the admin token it was opened with: signing out deletes
//! the row, changing the admin token invalidates every session at once, and
//! disabling a staff member ends theirs. Comparisons of secrets are
//! constant-time.
//!
//! A bearer token is the admin token (the owner) or a scoped API token made
//! by the owner (`sy_` and 64 hex digits; the engine keeps its SHA-256). The
//! middleware puts the request's [`Actor`] in its extensions and refuses,
//! with 403 `forbidden`, what the core's permission table does not allow
//! ([`api_need`]); handlers check the location of store-floor work.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use switchyard_core::staff::Action;
use switchyard_core::LocationCode;
use switchyard_engine::{Code, NewSession, Principal};

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

/// Who a request acts as: the admin token's owner, a staff member (by their
/// session or not at all: the API takes tokens), or a scoped API token.
#[derive(Debug, Clone)]
pub struct Actor(pub Principal);

impl Actor {
    /// Who the log names. The admin token may say on whose behalf it acts
    /// (`by` in the body; `api` when blank); anyone else is named by their
    /// account, whatever the body says.
    pub fn by(&self, given: &str) -> String {
        match self.0.kind {
            switchyard_engine::PrincipalKind::AdminToken => {
                let given = given.trim();
                if given.is_empty() { "api" } else { given }.to_owned()
            }
            _ => self.0.actor(),
        }
    }

    /// Like [`Actor::by`], but the admin token's `by` is kept as given
    /// (where the body must name someone).
    pub fn named(&self, given: &str) -> String {
        match self.0.kind {
            switchyard_engine::PrincipalKind::AdminToken => given.to_owned(),
            _ => self.0.actor(),
        }
    }

    /// 403 `forbidden` unless the permission table allows it.
    pub fn require(&self, action: Action<'_>) -> Result<(), ApiError> {
        if self.0.may(action) {
            Ok(())
        } else {
            Err(forbidden(&self.0, action))
        }
    }

    /// Store-floor work at `location` (a raw code from a body or path, or
    /// none: an order with no pickup store). A code that does not parse is
    /// 422 for owner and ops, and simply not store staff's location.
    pub fn require_floor(&self, location: &str) -> Result<(), ApiError> {
        match LocationCode::parse(location) {
            Ok(code) => self.require(Action::Floor(&code)),
            Err(e) if self.0.may(Action::Operate) => Err(e.into()),
            Err(_) => Err(ApiError::new(
                Code::Forbidden,
                format!("{} may not see or change the work of another location", self.0.actor()),
            )),
        }
    }

    /// The one location whose work they see, when they see only one.
    pub fn only_location(&self) -> Option<&LocationCode> {
        if self.0.may(Action::Operate) {
            None
        } else {
            self.0.grant.location()
        }
    }
}

/// The refusal: what was asked and who asked.
pub fn forbidden(p: &Principal, action: Action<'_>) -> ApiError {
    let what = match action {
        Action::Floor(at) => format!("the work of location {at}"),
        Action::Operate => "this (owner and ops only)".to_owned(),
        Action::ManageStaff => "staff and API tokens (owner only)".to_owned(),
    };
    ApiError::new(Code::Forbidden, format!("{} may not see or change {what}", p.actor()))
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Actor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, ApiError> {
        parts.extensions.get::<Actor>().cloned().ok_or_else(ApiError::unauthorized)
    }
}

/// A signed-in browser.
#[derive(Debug, Clone)]
pub struct Session {
    id_hash: String,
    csrf: String,
    principal: Principal,
}

impl Session {
    /// Who signed in.
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// As an [`Actor`] (its `by` is the account's name).
    pub fn actor(&self) -> Actor {
        Actor(self.principal.clone())
    }

    /// Who the log names for what this session does.
    pub fn by(&self) -> String {
        self.principal.actor()
    }

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

/// Opens a session for the admin token (`staff_id` none) or a staff
/// member; returns the `Set-Cookie` value that carries it.
pub async fn open_session(state: &AppState, staff_id: Option<String>) -> Result<String, ApiError> {
    let id = random_secret();
    let id_hash = digest(&["session", &id]);
    let new = NewSession { binding: binding(state, &id_hash), id_hash, csrf: random_secret(), staff_id };
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
/// expired, opened with the current admin token, and (for a staff member)
/// their account not disabled.
pub async fn session(state: &AppState, headers: &HeaderMap) -> Result<Option<Session>, ApiError> {
    for id in presented_ids(headers) {
        let id_hash = digest(&["session", id]);
        let Some(record) = state.engine.session(&id_hash).await? else { continue };
        if !same(&record.binding, &binding(state, &id_hash)) {
            continue;
        }
        let principal = match &record.staff_id {
            None => Principal::admin(),
            Some(staff) => match state.engine.staff_principal(staff).await? {
                Some(p) => p,
                None => continue,
            },
        };
        return Ok(Some(Session { id_hash, csrf: record.csrf, principal }));
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

/// Whether text has the shape of a scoped API token (`sy_` + 64 hex), so
/// that nothing else is looked up.
fn looks_like_api_token(t: &str) -> bool {
    t.strip_prefix("sy_").is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Who a bearer token is: the admin token, or a live scoped token.
async fn bearer_principal(state: &AppState, presented: &str) -> Result<Option<Principal>, ApiError> {
    if token_matches(state, presented) {
        return Ok(Some(Principal::admin()));
    }
    if !looks_like_api_token(presented) {
        return Ok(None);
    }
    Ok(state.engine.token_principal(presented).await?)
}

/// What an API route needs, by its path under `/api/v1`. Default: the
/// owner's and ops' [`Action::Operate`]. Store-floor routes (`Floor`) are let
/// through to their handlers, which check the location they name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Need {
    Anyone,
    Floor,
    Operate,
    ManageStaff,
}

pub fn api_need(method: &axum::http::Method, path: &str) -> Need {
    let path = path.strip_prefix("/api/v1").unwrap_or(path);
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let get = method == axum::http::Method::GET;
    let post = method == axum::http::Method::POST;
    match parts.as_slice() {
        ["openapi.json"] => Need::Anyone,
        ["staff", ..] | ["tokens", ..] => Need::ManageStaff,
        ["locations", _, "picks"] if get => Need::Floor,
        ["orders", _, "picked" | "packed" | "ready-for-pickup" | "picked-up"] if post => Need::Floor,
        ["returns", "stats"] => Need::Operate,
        ["returns"] if get => Need::Floor,
        ["returns", _] | ["returns", _, "label.pdf" | "label.zpl"] if get => Need::Floor,
        ["returns", _, "receive"] if post => Need::Floor,
        _ => Need::Operate,
    }
}

/// Middleware: `Authorization: Bearer <token>` or 401 (an address with too
/// many failures gets 429 before its token is even looked at); then the
/// route's [`Need`] or 403 `forbidden`. The [`Actor`] goes in the request's
/// extensions.
pub async fn require_bearer(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let ip = client_ip(req.extensions());
    let now = state.engine.now_ms();
    if let Some(wait) = state.failures.blocked(ip, now) {
        return too_many_failures(wait).into_response();
    }
    let presented = req.headers().get(AUTHORIZATION).map(|v| v.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")));
    let principal = match presented {
        Some(Some(t)) => match bearer_principal(&state, t.trim()).await {
            Ok(p) => p,
            Err(e) => return e.into_response(),
        },
        // A wrong token is a guess and counts; no header at all does not.
        Some(None) => None,
        None => return ApiError::unauthorized().into_response(),
    };
    let Some(principal) = principal else {
        state.failures.record(ip, now);
        return ApiError::unauthorized().into_response();
    };
    let actor = Actor(principal);
    let allowed = match api_need(req.method(), req.uri().path()) {
        Need::Anyone => Ok(()),
        // Owner and ops pass; store staff reach the handler, which checks
        // the location (their role may do floor work nowhere else).
        Need::Floor if actor.0.grant.location().is_some() || actor.0.may(Action::Operate) => Ok(()),
        Need::Floor | Need::Operate => actor.require(Action::Operate),
        Need::ManageStaff => actor.require(Action::ManageStaff),
    };
    if let Err(e) = allowed {
        return e.into_response();
    }
    req.extensions_mut().insert(actor);
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use axum::http::Method;

    use super::*;

    #[test]
    fn api_routes_need_what_their_area_needs() {
        let (get, post, put, delete) = (Method::GET, Method::POST, Method::PUT, Method::DELETE);
        for (method, path, need) in [
            (&get, "/openapi.json", Need::Anyone),
            (&get, "/api/v1/staff", Need::ManageStaff),
            (&post, "/staff/abc/disable", Need::ManageStaff),
            (&delete, "/tokens/abc", Need::ManageStaff),
            (&get, "/locations/SHOP1/picks", Need::Floor),
            (&put, "/locations/SHOP1", Need::Operate),
            (&post, "/orders/o1/picked", Need::Floor),
            (&post, "/orders/o1/picked-up", Need::Floor),
            (&post, "/orders/o1/cancel", Need::Operate),
            (&get, "/orders/o1", Need::Operate),
            (&get, "/returns", Need::Floor),
            (&post, "/returns", Need::Operate),
            (&get, "/returns/stats", Need::Operate),
            (&get, "/returns/r1", Need::Floor),
            (&get, "/returns/r1/label.zpl", Need::Floor),
            (&post, "/returns/r1/receive", Need::Floor),
            (&post, "/returns/r1/refund", Need::Operate),
            (&get, "/routing/policies", Need::Operate),
            (&put, "/channels/web", Need::Operate),
        ] {
            assert_eq!(api_need(method, path), need, "{method} {path}");
        }
    }

    #[test]
    fn only_scoped_token_shapes_are_looked_up() {
        assert!(looks_like_api_token(&format!("sy_{}", "a".repeat(64))));
        assert!(!looks_like_api_token(&format!("sy_{}", "a".repeat(63))));
        assert!(!looks_like_api_token(&format!("xx_{}", "a".repeat(64))));
        assert!(!looks_like_api_token(&format!("sy_{}", "g".repeat(64))));
    }
}
