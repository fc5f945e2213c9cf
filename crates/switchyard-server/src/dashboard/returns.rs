//! The Returns pages (issue 9, items 5 and 8): returns listed by status; a
//! search box with autofocus where a barcode scanner types the RMA number
//! and presses Enter, which opens that return; one return with its
//! decision, lines, receipts (each unit's grade and disposition) and
//! timeline, and its forms — receive with a grade per unit (the engine's
//! `receive_return`: resellable units go back on sale), approve or reject
//! one the policy did not approve (with a reason; who and why logged), and
//! refund; and the return data of a period (`Engine::return_stats`).
//!
//! A scan of an unknown number, a second scan, or a second receipt of the
//! same parcel each get a clear message and change nothing (the engine's
//! state machine refuses a second receipt).

use askama::Template;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use switchyard_core::returns::{Disposition, Receipt, ReceiptDraft, ReturnGrade, ReturnReason, ReturnStatus};
use switchyard_engine::{Code, ReturnFilter, ReturnView};

use super::page::{
    check_csrf, nav, only_location, render, require_floor, short_time, signed_in, url_component, Nav, PageError,
    PageForm, PagePath, PageQuery,
};
use crate::api::{stats_period, ReturnStatsBody};
use crate::{ApiError, AppState};

/// Who acts from the dashboard, as logged.
/// Returns on one list page.
const LIST_LIMIT: i64 = 200;
/// The most unit rows one receive form shows (a bigger return is received
/// through the API).
const MAX_UNIT_ROWS: i64 = 200;
/// The longest search accepted.
const MAX_SEARCH_CHARS: usize = 100;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/returns", get(returns_page))
        .route("/returns/{id}", get(return_page))
        .route("/returns/{id}/label.pdf", get(label_pdf))
        .route("/returns/{id}/receive", post(receive))
        .route("/returns/{id}/review", post(review))
        .route("/returns/{id}/refund", post(refund))
}

/// A grade's words on the receive form: what it is and what happens.
fn grade_words(g: ReturnGrade) -> &'static str {
    match g {
        ReturnGrade::Resellable => "resellable — back on sale",
        ReturnGrade::Damaged => "damaged — to inspection",
        ReturnGrade::Defective => "defective — return to vendor",
        ReturnGrade::WrongItem => "wrong item — held aside",
    }
}

/// "56.00 USD" of minor units.
fn money(minor: i64, currency: &str) -> String {
    match switchyard_core::Currency::parse(currency) {
        Ok(c) => switchyard_core::Money::new(minor, c).to_string(),
        Err(_) => format!("{minor} {currency}"),
    }
}

fn reason_words(code: &str) -> &'static str {
    ReturnReason::parse(code).map_or("", |r| r.label())
}

// ------------------------------------------------------------------ list

struct Row {
    r: ReturnView,
    units: i64,
    created: String,
}

#[derive(Template)]
#[template(path = "returns.html")]
struct ReturnsPage {
    nav: Nav,
    q: String,
    error: Option<String>,
    statuses: Vec<(&'static str, bool)>,
    rows: Vec<Row>,
    from: String,
    to: String,
    stats: Option<ReturnStatsBody>,
    stats_error: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    q: Option<String>,
    status: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

async fn returns_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    PageQuery(query): PageQuery<ListQuery>,
) -> Result<Response, PageError> {
    let nav = nav(&state, &headers, "returns").await?;
    // Store staff see the returns sent to their location, and no figures.
    let only = only_location(&signed_in(&state, &headers).await?);
    let q = query.q.unwrap_or_default().trim().to_owned();
    let mut error = None;
    if q.chars().count() > MAX_SEARCH_CHARS {
        error = Some(format!("A search is at most {MAX_SEARCH_CHARS} characters."));
    } else if !q.is_empty() {
        // A scanner types the RMA number and Enter: straight to the return.
        if let Some(r) = state.engine.get_return(&q).await? {
            return Ok(Redirect::to(&format!("/returns/{}", url_component(&r.id))).into_response());
        }
        error = Some(format!(
            "No return has the number “{q}”. Check the label (the RMA number is printed under the barcode); \
             nothing was changed."
        ));
    }
    let status = query.status.filter(|s| !s.is_empty());
    if let Some(s) = status.as_deref().filter(|s| ReturnStatus::parse(s).is_none()) {
        return Err(PageError::Status(StatusCode::BAD_REQUEST, format!("{s:?} is not a return status")));
    }
    let filter = ReturnFilter { status: status.clone(), order_id: None, destination: only.clone(), limit: LIST_LIMIT };
    let rows = state
        .engine
        .list_returns(&filter)
        .await?
        .into_iter()
        .map(|r| Row { units: r.lines.iter().map(|l| l.quantity).sum(), created: short_time(&r.created_at), r })
        .collect();
    let statuses = ReturnStatus::ALL.iter().map(|s| (s.as_str(), status.as_deref() == Some(s.as_str()))).collect();
    let (from, to) = (query.from.unwrap_or_default(), query.to.unwrap_or_default());
    let (stats, stats_error) = match stats_period(Some(&from), Some(&to), state.engine.now_ms()) {
        Ok(_) if only.is_some() => (None, None),
        Ok(period) => (Some(ReturnStatsBody::new(period, &state.engine.return_stats(period).await?)), None),
        Err(e) => (None, Some(e.message)),
    };
    let code = if error.is_some() { StatusCode::NOT_FOUND } else { StatusCode::OK };
    let page = ReturnsPage { nav, q, error, statuses, rows, from, to, stats, stats_error };
    Ok((code, render(page)?).into_response())
}

// ------------------------------------------------------------ one return

struct UnitRow {
    /// The select's name: `u{line_no}`.
    name: String,
    sku: String,
    n: i64,
    of: i64,
}

struct ReceiptRow {
    sku: String,
    quantity: i64,
    grade: String,
    fate: String,
    at: String,
}

#[derive(Template)]
#[template(path = "return.html")]
struct ReturnPage {
    nav: Nav,
    r: ReturnView,
    reason_words: &'static str,
    message: Option<&'static str>,
    error: Option<String>,
    units: Vec<UnitRow>,
    grades: Vec<(&'static str, &'static str)>,
    receipts: Vec<ReceiptRow>,
    can_receive: bool,
    can_review: bool,
    can_refund: bool,
    /// Too many units for the form: receive through the API.
    too_many_units: bool,
    already_received: bool,
    /// What the return pays out, and what was paid ("56.00 USD").
    refund: String,
    refunded: Option<String>,
    events: Vec<(String, String, String, String)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OneQuery {
    done: Option<Done>,
}

/// What the redirect after a change reports; the text is ours.
#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum Done {
    Received,
    Approved,
    Rejected,
    Refunded,
}

fn one_page(nav: Nav, r: ReturnView, message: Option<&'static str>, error: Option<String>) -> ReturnPage {
    let status = ReturnStatus::parse(&r.status);
    let can_receive = status.is_some_and(ReturnStatus::awaits_goods);
    let expected: i64 = r.lines.iter().map(|l| l.quantity - l.received).sum();
    let too_many_units = can_receive && expected > MAX_UNIT_ROWS;
    let mut units = Vec::new();
    if can_receive && !too_many_units {
        for l in &r.lines {
            let of = l.quantity - l.received;
            for n in 1..=of {
                units.push(UnitRow { name: format!("u{}", l.line_no), sku: l.sku.clone(), n, of });
            }
        }
    }
    let receipts = (r.lines.iter())
        .flat_map(|l| {
            l.receipts.iter().map(move |c| ReceiptRow {
                sku: l.sku.clone(),
                quantity: c.quantity,
                grade: c.grade.clone(),
                fate: Disposition::parse(&c.disposition)
                    .map_or_else(|| c.disposition.clone(), |d| d.describe(&c.location)),
                at: short_time(&c.at),
            })
        })
        .collect();
    let events = (r.events.iter().flatten())
        .map(|e| (short_time(&e.at), e.kind.clone(), e.actor.clone(), e.message.clone()))
        .collect();
    ReturnPage {
        nav,
        reason_words: reason_words(&r.reason),
        message,
        error,
        units,
        grades: ReturnGrade::ALL.iter().map(|g| (g.as_str(), grade_words(*g))).collect(),
        receipts,
        can_receive,
        can_review: matches!(status, Some(ReturnStatus::Requested | ReturnStatus::Rejected)),
        can_refund: status == Some(ReturnStatus::Dispositioned),
        too_many_units,
        already_received: r.lines.iter().any(|l| l.received > 0),
        refund: money(r.refund, &r.currency),
        refunded: r.refunded.map(|m| money(m, &r.currency)),
        events,
        r,
    }
}

async fn must_get(state: &AppState, id: &str) -> Result<ReturnView, PageError> {
    let found = state.engine.get_return(id).await?;
    found.ok_or_else(|| PageError::Status(StatusCode::NOT_FOUND, format!("No return {id}; nothing was changed.")))
}

async fn return_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    PagePath(id): PagePath<String>,
    PageQuery(q): PageQuery<OneQuery>,
) -> Result<Html<String>, PageError> {
    let nav = nav(&state, &headers, "returns").await?;
    let r = must_get(&state, &id).await?;
    require_floor(&signed_in(&state, &headers).await?, &r.destination)?;
    let message = q.done.map(|d| match d {
        Done::Received => "Received: each unit is graded and dispositioned below.",
        Done::Approved => "Approved: the return is authorized and the customer is told.",
        Done::Rejected => "Rejected: the customer is told.",
        Done::Refunded => "Refund recorded.",
    });
    render(one_page(nav, r, message, None))
}

/// The return's page again with what went wrong (nothing changed).
async fn refused(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
    e: ApiError,
    what: &str,
) -> Result<Response, PageError> {
    let nav = nav(state, headers, "returns").await?;
    let r = must_get(state, id).await?;
    let message = match e.code {
        Code::IllegalTransition => format!(
            "Return {} is {}: it cannot be {what} now (already done, or not at that step). Nothing was changed.",
            r.rma.as_deref().unwrap_or(&r.id),
            r.status
        ),
        _ => format!("{} Nothing was changed.", e.message),
    };
    let status = e.status();
    Ok((status, render(one_page(nav, r, None, Some(message)))?).into_response())
}

async fn label_pdf(
    State(state): State<AppState>,
    headers: HeaderMap,
    PagePath(id): PagePath<String>,
) -> Result<Response, PageError> {
    let session = signed_in(&state, &headers).await?;
    require_floor(&session, &must_get(&state, &id).await?.destination)?;
    let pdf = state.engine.return_label_pdf(&id).await?;
    Ok(([(header::CONTENT_TYPE, "application/pdf")], pdf).into_response())
}

async fn receive(
    State(state): State<AppState>,
    headers: HeaderMap,
    PagePath(id): PagePath<String>,
    PageForm(fields): PageForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let csrf = fields.iter().find(|(k, _)| k == "csrf").map(|(_, v)| v.as_str());
    let session = check_csrf(&state, &headers, csrf).await?;
    let r = must_get(&state, &id).await?;
    require_floor(&session, &r.destination)?;
    let mut counts: Vec<(String, i64, String)> = Vec::new();
    let mut note = String::new();
    for (name, value) in &fields {
        if name == "csrf" {
            continue;
        }
        if name == "note" {
            note.clone_from(value);
            continue;
        }
        let line = name.strip_prefix('u').and_then(|n| n.parse::<i64>().ok());
        let Some(line) = line.and_then(|n| r.lines.iter().find(|l| l.line_no == n)) else {
            let e = ApiError::new(Code::BadRequest, format!("the form names no line of this return ({name:?})."));
            return refused(&state, &headers, &id, e, "received").await;
        };
        if value == "missing" {
            continue;
        }
        match counts.iter_mut().find(|(sku, _, grade)| *sku == line.sku && grade == value) {
            Some((_, n, _)) => *n += 1,
            None => counts.push((line.sku.clone(), 1, value.clone())),
        }
    }
    let draft = ReceiptDraft { lines: counts, note, by: session.by() };
    let receipt = match Receipt::parse(draft) {
        Ok(r) => r,
        Err(e) => return refused(&state, &headers, &id, ApiError::from(e), "received").await,
    };
    match state.engine.receive_return(&r.id, &receipt).await {
        Ok(_) => Ok(Redirect::to(&format!("/returns/{}?done=received", url_component(&r.id))).into_response()),
        Err(e) => refused(&state, &headers, &id, ApiError::from(e), "received").await,
    }
}

#[derive(Deserialize)]
struct ReviewForm {
    csrf: String,
    decision: String,
    #[serde(default)]
    reason: String,
}

async fn review(
    State(state): State<AppState>,
    headers: HeaderMap,
    PagePath(id): PagePath<String>,
    PageForm(form): PageForm<ReviewForm>,
) -> Result<Response, PageError> {
    let by = check_csrf(&state, &headers, Some(form.csrf.as_str())).await?.by();
    let (approve, done) = match form.decision.as_str() {
        "approve" => (true, "approved"),
        "reject" => (false, "rejected"),
        other => {
            let e = ApiError::new(Code::BadRequest, format!("{other:?} is not approve or reject."));
            return refused(&state, &headers, &id, e, "reviewed").await;
        }
    };
    match state.engine.review_return(&id, approve, &by, &form.reason).await {
        Ok(r) => Ok(Redirect::to(&format!("/returns/{}?done={done}", url_component(&r.id))).into_response()),
        Err(e) => refused(&state, &headers, &id, ApiError::from(e), done).await,
    }
}

#[derive(Deserialize)]
struct RefundForm {
    csrf: String,
    #[serde(default)]
    note: String,
}

async fn refund(
    State(state): State<AppState>,
    headers: HeaderMap,
    PagePath(id): PagePath<String>,
    PageForm(form): PageForm<RefundForm>,
) -> Result<Response, PageError> {
    let by = check_csrf(&state, &headers, Some(form.csrf.as_str())).await?.by();
    match state.engine.refund_return(&id, &by, &form.note).await {
        Ok(r) => Ok(Redirect::to(&format!("/returns/{}?done=refunded", url_component(&r.id))).into_response()),
        Err(e) => refused(&state, &headers, &id, ApiError::from(e), "refunded").await,
    }
}
