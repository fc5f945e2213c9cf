//! The customer's self-service return pages (issue 9, item 3), public and
//! with no sign-in: `GET /return` asks for the order number and the e-mail
//! address or postal code; `POST /return/find` shows the shipped lines to
//! choose from, with the canonical reasons in plain words; `POST
//! /return/request` takes the request through the engine
//! (`Engine::request_customer_return`: the policy decides at once, an
//! approved return's label is issued) and shows the decision, its
//! explanation, and the status link and label link (the status page's
//! unguessable tokens).
//!
//! - **No enumeration**: an unknown order and a wrong e-mail or postal code
//!   get the very same answer (status and page), and each counts as a
//!   failure against the client's address; past the sign-in limit
//!   (`max_auth_failures` in `auth_failure_window_secs`) the address gets
//!   429 with `Retry-After` — on the engine's clock.
//! - **CSRF** without a session: `auth::public_form` (a nonce cookie and
//!   the server's keyed hash of it in the form).
//! - Every answer is `no-store` (the done page carries the status token).

use askama::Template;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use switchyard_core::returns::ReturnReason;
use switchyard_engine::{CustomerAsk, CustomerOrder, Error};

use crate::auth::{self, ClientIp};
use crate::dashboard::{render_page, Nav, PageError, PageForm};
use crate::{ApiError, AppState};

/// The cookie's path: every page of the flow.
const PATH: &str = "/return";

/// The one answer to an order that was not found or not proved.
const NOT_FOUND: &str =
    "We could not find an order with that number and e-mail address or postal code. Check both and try again.";

pub fn routes(state: AppState) -> Router {
    Router::new()
        .route("/return", get(start))
        .route("/return/find", post(find))
        .route("/return/request", post(request))
        .with_state(state)
}

#[derive(Template)]
#[template(path = "return_start.html")]
struct StartPage {
    nav: Nav,
    shop: String,
    csrf: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "return_choose.html")]
struct ChoosePage {
    nav: Nav,
    shop: String,
    csrf: String,
    number: String,
    contact: String,
    order: CustomerOrder,
    reasons: Vec<(&'static str, &'static str)>,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "return_done.html")]
struct DonePage {
    nav: Nav,
    shop: String,
    headline: &'static str,
    explanation: String,
    rma: Option<String>,
    token: String,
}

/// An answer with the flow's headers (and the nonce cookie when new).
fn answer(status: StatusCode, cookie: Option<String>, html: Result<Html<String>, PageError>) -> Response {
    let mut r = match html {
        Ok(html) => (status, html).into_response(),
        Err(e) => e.into_response(),
    };
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(c) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        r.headers_mut().append(header::SET_COOKIE, c);
    }
    r
}

fn page(t: impl Template) -> Result<Html<String>, PageError> {
    render_page(t)
}

fn start_page(state: &AppState, csrf: String, error: Option<String>) -> Result<Html<String>, PageError> {
    page(StartPage { nav: Nav::anonymous(), shop: state.config.shop_name.clone(), csrf, error })
}

async fn start(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let (cookie, csrf) = auth::public_form(&state, &headers, PATH);
    answer(StatusCode::OK, cookie, start_page(&state, csrf, None))
}

#[derive(serde::Deserialize)]
struct FindForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    number: String,
    #[serde(default)]
    contact: String,
}

/// A form posted without this browser's token: refused, nothing looked up.
fn stale_form(state: &AppState, headers: &HeaderMap) -> Response {
    let (cookie, csrf) = auth::public_form(state, headers, PATH);
    let error = "This form has expired. Please enter your details again.".to_owned();
    answer(StatusCode::FORBIDDEN, cookie, start_page(state, csrf, Some(error)))
}

/// 429 while the address is over the limit of failed look-ups.
fn over_limit(state: &AppState, ip: std::net::IpAddr, csrf: &str) -> Option<Response> {
    let wait = state.lookups.blocked(ip, state.engine.now_ms())?;
    let error = format!("Too many attempts from your network. Please try again in {wait} seconds.");
    let mut r = answer(StatusCode::TOO_MANY_REQUESTS, None, start_page(state, csrf.to_owned(), Some(error)));
    r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(wait));
    Some(r)
}

/// The same answer for an unknown order and a wrong e-mail or postal code,
/// counted against the address.
fn not_proved(state: &AppState, ip: std::net::IpAddr, csrf: String) -> Response {
    state.lookups.record(ip, state.engine.now_ms());
    answer(StatusCode::NOT_FOUND, None, start_page(state, csrf, Some(NOT_FOUND.to_owned())))
}

fn unavailable(e: Error) -> Response {
    crate::dashboard::api_error_page(ApiError::from(e)).into_response()
}

fn choose(state: &AppState, csrf: String, number: String, contact: String, order: CustomerOrder) -> ChoosePage {
    ChoosePage {
        nav: Nav::anonymous(),
        shop: state.config.shop_name.clone(),
        csrf,
        number,
        contact,
        order,
        reasons: ReturnReason::ALL.iter().map(|r| (r.as_str(), r.label())).collect(),
        error: None,
    }
}

async fn find(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    PageForm(form): PageForm<FindForm>,
) -> Response {
    if !auth::public_form_ok(&state, &headers, &form.csrf) {
        return stale_form(&state, &headers);
    }
    if let Some(r) = over_limit(&state, ip, &form.csrf) {
        return r;
    }
    match state.engine.find_customer_order(&form.number, &form.contact).await {
        Ok(Some(order)) => {
            let p = choose(&state, form.csrf, form.number.trim().to_owned(), form.contact.trim().to_owned(), order);
            answer(StatusCode::OK, None, page(p))
        }
        Ok(None) => not_proved(&state, ip, form.csrf),
        Err(e) => unavailable(e),
    }
}

/// The request form's fields: its token, and the ask (`q{line_no}`: units
/// per order line besides the named fields) or what is wrong with it.
fn ask_of(fields: Vec<(String, String)>) -> (String, Result<CustomerAsk, String>) {
    let mut csrf = String::new();
    let mut ask = CustomerAsk::default();
    let mut problem = None;
    for (name, value) in fields {
        match name.as_str() {
            "csrf" => csrf = value,
            "number" => ask.number = value,
            "contact" => ask.contact = value,
            "reason" => ask.reason = value,
            "note" => ask.note = value,
            _ => {
                let line_no = name.strip_prefix('q').and_then(|n| n.parse::<i64>().ok());
                let raw = value.trim();
                let units = if raw.is_empty() { Some(0) } else { raw.parse::<i64>().ok() };
                match (line_no, units) {
                    (None, _) => problem = Some(format!("unknown field {name:?}")),
                    (_, None) => problem = Some("a quantity is not a whole number".to_owned()),
                    (Some(_), Some(_)) if ask.lines.len() >= switchyard_core::returns::MAX_RETURN_LINES => {
                        problem = Some("too many lines".to_owned())
                    }
                    (Some(line_no), Some(units)) => ask.lines.push((line_no, units)),
                }
            }
        }
    }
    (csrf, problem.map_or(Ok(ask), Err))
}

/// The choice form again, with what was wrong (nothing was stored).
fn refused(state: &AppState, csrf: String, ask: &CustomerAsk, order: CustomerOrder, api: ApiError) -> Response {
    let mut p = choose(state, csrf, ask.number.trim().to_owned(), ask.contact.trim().to_owned(), order);
    let status = api.status();
    p.error = Some(api.message);
    answer(status, None, page(p))
}

async fn request(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    PageForm(fields): PageForm<Vec<(String, String)>>,
) -> Response {
    let (csrf, ask) = ask_of(fields);
    if !auth::public_form_ok(&state, &headers, &csrf) {
        return stale_form(&state, &headers);
    }
    if let Some(r) = over_limit(&state, ip, &csrf) {
        return r;
    }
    let ask = match ask {
        Ok(ask) => ask,
        Err(problem) => return answer(StatusCode::BAD_REQUEST, None, start_page(&state, csrf, Some(problem))),
    };
    match state.engine.request_customer_return(&ask).await {
        Ok(Some(done)) => {
            let v = &done.view;
            let headline = match v.status.as_str() {
                "authorized" | "label_issued" => "Your return is approved",
                "rejected" => "We can't accept this return",
                _ => "We will look at your request",
            };
            let p = DonePage {
                nav: Nav::anonymous(),
                shop: state.config.shop_name.clone(),
                headline,
                explanation: v.decision.explanation.clone(),
                rma: v.rma.clone(),
                token: done.token.clone(),
            };
            answer(StatusCode::CREATED, None, page(p))
        }
        Ok(None) => not_proved(&state, ip, csrf),
        Err(e) => {
            let api = ApiError::from(e);
            if api.status().is_server_error() {
                return crate::dashboard::api_error_page(api).into_response();
            }
            match state.engine.find_customer_order(&ask.number, &ask.contact).await {
                Ok(Some(order)) => refused(&state, csrf, &ask, order, api),
                Ok(None) => not_proved(&state, ip, csrf),
                Err(e) => unavailable(e),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    #[test]
    fn request_fields_become_lines_and_unknown_fields_are_refused() {
        let fields = f(&[("csrf", "t"), ("number", "1001"), ("q1", "2"), ("q3", ""), ("reason", "defective")]);
        let (csrf, ask) = ask_of(fields);
        let ask = ask.expect("parses");
        assert_eq!((csrf.as_str(), ask.number.as_str(), ask.reason.as_str()), ("t", "1001", "defective"));
        assert_eq!(ask.lines, vec![(1, 2), (3, 0)]);
        let (csrf, ask) = ask_of(f(&[("csrf", "t"), ("q1", "two")]));
        assert_eq!((csrf.as_str(), ask.is_err()), ("t", true), "the token is kept to answer the form");
        assert!(ask_of(f(&[("admin", "1")])).1.is_err());
    }
}
