//! `/exceptions`: the queue of orders that need a person, and the actions
//! that resolve them.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use switchyard_core::intake::ResolutionDraft;
use switchyard_core::{ExceptionKind, ExceptionStatus, Resolution};
use switchyard_engine::Code;
use switchyard_store::{ExceptionFilter, ExceptionView};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ship_to, Actor, ApiJson, ApiPath, ApiQuery, ShipToBody};
use crate::error::ErrorBody;
use crate::{ApiError, AppState};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_exceptions))
        .routes(routes!(get_exception))
        .routes(routes!(resolve_exception))
}

/// An exception with its age.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExceptionItem {
    #[serde(flatten)]
    pub exception: ExceptionView,
    /// Seconds since it was opened.
    pub age_secs: i64,
}

impl ExceptionItem {
    pub fn new(exception: ExceptionView, now_ms: i64) -> Self {
        let age_secs = (now_ms - exception.created_ms).max(0) / 1000;
        Self { exception, age_secs }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExceptionList {
    pub exceptions: Vec<ExceptionItem>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExceptionParams {
    /// `open` (default), `resolved`, `dismissed` or `all`.
    pub status: Option<String>,
    /// Only this kind.
    pub kind: Option<String>,
    /// Only this order's.
    pub order_id: Option<String>,
    /// Only this channel's: the connection's own exceptions (stock levels it
    /// refused) and its orders'.
    pub channel: Option<String>,
    /// 1–500 (default 100).
    pub limit: Option<i64>,
}

/// The exception queue, oldest first.
#[utoipa::path(get, path = "/exceptions", tag = "exceptions", params(ExceptionParams),
    responses((status = 200, body = ExceptionList), (status = 422, body = ErrorBody)))]
async fn list_exceptions(
    State(app): State<AppState>,
    ApiQuery(p): ApiQuery<ExceptionParams>,
) -> Result<Json<ExceptionList>, ApiError> {
    let status = match p.status.as_deref() {
        None => Some("open".to_owned()),
        Some("all") => None,
        Some(s) if ExceptionStatus::parse(s).is_some() => Some(s.to_owned()),
        Some(s) => return Err(ApiError::new(Code::InvalidQuery, format!("unknown exception status {s:?}"))),
    };
    if let Some(k) = &p.kind {
        if ExceptionKind::parse(k).is_none() {
            return Err(ApiError::new(Code::InvalidQuery, format!("unknown exception kind {k:?}")));
        }
    }
    let limit = switchyard_core::intake::page_limit(p.limit, 100, switchyard_core::intake::MAX_PAGE_LIMIT)?;
    let filter = ExceptionFilter { status, kind: p.kind, order_id: p.order_id, channel: p.channel, limit };
    let now = app.engine.now_ms();
    let exceptions =
        app.engine.list_exceptions(&filter).await?.into_iter().map(|e| ExceptionItem::new(e, now)).collect();
    Ok(Json(ExceptionList { exceptions }))
}

/// One exception with its action log.
#[utoipa::path(get, path = "/exceptions/{id}", tag = "exceptions", params(("id" = String, Path)),
    responses((status = 200, body = ExceptionItem), (status = 404, body = ErrorBody)))]
async fn get_exception(
    State(app): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ExceptionItem>, ApiError> {
    let e =
        app.engine.get_exception(&id).await?.ok_or_else(|| ApiError::not_found(format!("exception {id} not found")))?;
    Ok(Json(ExceptionItem::new(e, app.engine.now_ms())))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveBody {
    /// `retry`, `override_location`, `approve_split`, `edit_address`,
    /// `cancel` or `dismiss`; for a `return_out_of_policy` exception
    /// `approve_return` or `reject_return` (a reason is required).
    pub action: String,
    /// Who acts (a name or role); logged.
    pub by: String,
    /// Why; required to dismiss.
    #[serde(default)]
    pub reason: String,
    /// The corrected address, for `edit_address`.
    pub address: Option<ShipToBody>,
    /// The location to allocate from, for `override_location`.
    pub location: Option<String>,
}

/// Act on an exception: retry allocation, allocate from a named location,
/// correct the address, cancel the order (with a notification), or dismiss
/// with a reason. Every action is logged with who and why.
#[utoipa::path(post, path = "/exceptions/{id}/resolve", tag = "exceptions", params(("id" = String, Path)),
    request_body = ResolveBody,
    responses((status = 200, body = ExceptionItem), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
async fn resolve_exception(
    State(app): State<AppState>,
    who: Actor,
    ApiPath(id): ApiPath<String>,
    ApiJson(mut body): ApiJson<ResolveBody>,
) -> Result<Json<ExceptionItem>, ApiError> {
    // `by` is required here: the admin token names who resolves; an
    // account is named by itself.
    body.by = who.named(&body.by);
    let resolution = parse_resolution(body)?;
    let e = app.engine.resolve_exception(&id, &resolution).await?;
    Ok(Json(ExceptionItem::new(e, app.engine.now_ms())))
}

/// Parses a resolve request (shared with the dashboard's forms).
pub fn parse_resolution(body: ResolveBody) -> Result<Resolution, ApiError> {
    Ok(Resolution::parse(ResolutionDraft {
        action: body.action,
        by: body.by,
        reason: body.reason,
        address: body.address.map(ship_to),
        location: body.location,
    })?)
}
