//! `/returns`: ask for a return (decided at once by the return policy in
//! force), read and list returns, a person's approval or rejection of one
//! the policy did not approve, receiving and grading what arrived, and
//! recording the refund. A return is named by its id or its RMA number
//! (`RMA-261130-0001`, as a scanner types it).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use switchyard_core::returns::{NewReturn, Receipt, ReceiptDraft, ReturnDraft, ReturnStatus};
use switchyard_engine::{Code, ReturnFilter, ReturnView};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{actor, optional_json, Actor, ApiBytes, ApiJson, ApiPath, ApiQuery};
use crate::error::ErrorBody;
use crate::{ApiError, AppState};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_return, list_returns))
        .routes(routes!(get_return))
        .routes(routes!(receive_return))
        .routes(routes!(refund_return))
        .routes(routes!(approve_return))
        .routes(routes!(reject_return))
        .routes(routes!(cancel_return))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnLineBody {
    pub sku: String,
    pub quantity: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateReturnBody {
    pub order_id: String,
    pub lines: Vec<ReturnLineBody>,
    /// A canonical reason (`wrong_size`, `damaged_in_transit`, `defective`,
    /// `not_as_described`, `wrong_item`, `changed_mind`, `late_delivery`,
    /// `other`) or the channel's own code or words, which the policy maps.
    pub reason: String,
    /// `unopened`, `like_new`, `used` or `damaged`.
    pub condition: Option<String>,
    #[serde(default)]
    pub note: String,
    /// Who asks; logged (`api` when left out).
    #[serde(default)]
    pub by: String,
}

/// Ask for a return of shipped units. The policy in force decides at once:
/// approved → `authorized` with an RMA number; rejected → `rejected`; needs
/// review → stays `requested`. The last two open a `return_out_of_policy`
/// exception for a person. More units than shipped and not yet returned →
/// 409 `exceeds_returnable`, and nothing is stored.
#[utoipa::path(post, path = "/returns", tag = "returns", request_body = CreateReturnBody,
    responses((status = 201, body = ReturnView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
async fn create_return(
    State(app): State<AppState>,
    who: Actor,
    ApiJson(body): ApiJson<CreateReturnBody>,
) -> Result<(StatusCode, Json<ReturnView>), ApiError> {
    let ask = NewReturn::parse(ReturnDraft {
        order_id: body.order_id,
        lines: body.lines.into_iter().map(|l| (l.sku, l.quantity)).collect(),
        reason: body.reason,
        condition: body.condition,
        note: body.note,
        by: actor(&who, &body.by),
    })?;
    Ok((StatusCode::CREATED, Json(app.engine.request_return(&ask).await?)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReturnList {
    pub returns: Vec<ReturnView>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReturnParams {
    /// Only returns in this status.
    pub status: Option<String>,
    /// Only this order's returns.
    pub order_id: Option<String>,
    /// 1–500 (default 100).
    pub limit: Option<i64>,
}

/// Returns, newest first (without their timelines).
#[utoipa::path(get, path = "/returns", tag = "returns", params(ReturnParams),
    responses((status = 200, body = ReturnList), (status = 400, body = ErrorBody)))]
async fn list_returns(
    State(app): State<AppState>,
    who: Actor,
    ApiQuery(p): ApiQuery<ReturnParams>,
) -> Result<Json<ReturnList>, ApiError> {
    if let Some(s) = p.status.as_deref().filter(|s| ReturnStatus::parse(s).is_none()) {
        return Err(ApiError::new(Code::InvalidQuery, format!("unknown return status {s:?}")));
    }
    let limit = switchyard_core::intake::page_limit(p.limit, 100, switchyard_core::intake::MAX_PAGE_LIMIT)?;
    // Store staff see the returns sent to their location only.
    let destination = who.only_location().map(|l| l.to_string());
    let filter = ReturnFilter { status: p.status, order_id: p.order_id, destination, limit };
    Ok(Json(ReturnList { returns: app.engine.list_returns(&filter).await? }))
}

/// One return (by id or RMA number) with its decision, lines, receipts and
/// timeline.
#[utoipa::path(get, path = "/returns/{id}", tag = "returns", params(("id" = String, Path)),
    responses((status = 200, body = ReturnView), (status = 404, body = ErrorBody)))]
async fn get_return(
    State(app): State<AppState>,
    who: Actor,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ReturnView>, ApiError> {
    Ok(Json(return_for(&app, &who, &id).await?))
}

/// The return, if the actor may see its destination's work (403 otherwise).
pub(super) async fn return_for(app: &AppState, who: &Actor, id: &str) -> Result<ReturnView, ApiError> {
    let found = app.engine.get_return(id).await?;
    let found = found.ok_or_else(|| ApiError::not_found(format!("return {id} not found")))?;
    who.require_floor(&found.destination)?;
    Ok(found)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiveLineBody {
    pub sku: String,
    pub quantity: i64,
    /// `resellable`, `damaged`, `defective` or `wrong_item`.
    pub grade: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiveBody {
    pub lines: Vec<ReceiveLineBody>,
    #[serde(default)]
    pub note: String,
    /// Who received it; logged (`api` when left out).
    #[serde(default)]
    pub by: String,
}

/// Record what arrived and its grade: the return is received, inspected
/// and dispositioned in one step. Resellable units go back on sale at the
/// return's destination (a ledger entry; the channels are told); damaged →
/// inspection, defective → return to vendor, wrong item → quarantine, none
/// back on sale. A return is received once (again → 409
/// `illegal_transition`); more than it expects → 409 `exceeds_returnable`.
#[utoipa::path(post, path = "/returns/{id}/receive", tag = "returns", params(("id" = String, Path)),
    request_body = ReceiveBody,
    responses((status = 200, body = ReturnView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
async fn receive_return(
    State(app): State<AppState>,
    who: Actor,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ReceiveBody>,
) -> Result<Json<ReturnView>, ApiError> {
    if who.only_location().is_some() {
        return_for(&app, &who, &id).await?;
    }
    let receipt = Receipt::parse(ReceiptDraft {
        lines: body.lines.into_iter().map(|l| (l.sku, l.quantity, l.grade)).collect(),
        note: body.note,
        by: actor(&who, &body.by),
    })?;
    Ok(Json(app.engine.receive_return(&id, &receipt).await?))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundBody {
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub by: String,
}

/// Record the refund of a dispositioned return: the policy's refund for
/// the units that came back (`refunded`), or the exchange (`exchanged`).
/// No payment provider is connected: pay it at the channel.
#[utoipa::path(post, path = "/returns/{id}/refund", tag = "returns", params(("id" = String, Path)),
    request_body(content = Option<RefundBody>),
    responses((status = 200, body = ReturnView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn refund_return(
    State(app): State<AppState>,
    who: Actor,
    ApiPath(id): ApiPath<String>,
    ApiBytes(body): ApiBytes,
) -> Result<Json<ReturnView>, ApiError> {
    let body: RefundBody = optional_json(&body)?;
    Ok(Json(app.engine.refund_return(&id, &actor(&who, &body.by), &body.note).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewBody {
    /// Who decides; logged.
    pub by: String,
    /// Why; required, logged.
    pub reason: String,
}

/// A person approves a return the policy rejected or sent to review (an
/// override): it is authorized with an RMA number, and its
/// `return_out_of_policy` exception is resolved. Who and why are logged.
#[utoipa::path(post, path = "/returns/{id}/approve", tag = "returns", params(("id" = String, Path)),
    request_body = ReviewBody,
    responses((status = 200, body = ReturnView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
async fn approve_return(
    State(app): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ReviewBody>,
) -> Result<Json<ReturnView>, ApiError> {
    Ok(Json(app.engine.review_return(&id, true, &body.by, &body.reason).await?))
}

/// A person rejects a return waiting for review, or upholds a rejection;
/// its exception is resolved. Who and why are logged.
#[utoipa::path(post, path = "/returns/{id}/reject", tag = "returns", params(("id" = String, Path)),
    request_body = ReviewBody,
    responses((status = 200, body = ReturnView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
async fn reject_return(
    State(app): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ReviewBody>,
) -> Result<Json<ReturnView>, ApiError> {
    Ok(Json(app.engine.review_return(&id, false, &body.by, &body.reason).await?))
}

/// A person calls off an authorized return whose units have not arrived
/// (`authorized`, `label_issued` or `in_transit` → `cancelled`, final): the
/// units may be asked for again, and an exchange's replacement order is
/// cancelled with its reservation released. Who and why are logged.
#[utoipa::path(post, path = "/returns/{id}/cancel", tag = "returns", params(("id" = String, Path)),
    request_body = ReviewBody,
    responses((status = 200, body = ReturnView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
async fn cancel_return(
    State(app): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ReviewBody>,
) -> Result<Json<ReturnView>, ApiError> {
    Ok(Json(app.engine.cancel_return(&id, &body.by, &body.reason).await?))
}
