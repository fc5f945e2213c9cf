//! A return's label and the steps after it: issue the label through the
//! configured carrier, print it (PDF, ZPL) and the packing slip, the parcel
//! in transit, and closing the return. A return is named by its id or its
//! RMA number.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use switchyard_engine::ReturnView;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{actor, optional_json, Actor, ApiBytes, ApiPath};
use crate::error::ErrorBody;
use crate::{ApiError, AppState};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(issue_label))
        .routes(routes!(label_pdf))
        .routes(routes!(label_zpl))
        .routes(routes!(packing_slip_pdf))
        .routes(routes!(in_transit))
        .routes(routes!(close_return))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueLabelBody {
    /// Who asks; logged (`api` when left out).
    #[serde(default)]
    pub by: String,
}

/// Issue an authorized return's label through the configured carrier:
/// `label_issued`, with the carrier and its tracking number (the built-in
/// carrier: `self_printed`, no tracking). Not authorized → 409
/// `illegal_transition` (no RMA yet: `no_label`); the carrier failing → 502
/// `carrier_failed`, nothing recorded.
#[utoipa::path(post, path = "/returns/{id}/label", tag = "returns", params(("id" = String, Path)),
    request_body(content = Option<IssueLabelBody>),
    responses((status = 200, body = ReturnView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 502, body = ErrorBody)))]
async fn issue_label(
    State(app): State<AppState>,
    who: Actor,
    ApiPath(id): ApiPath<String>,
    ApiBytes(body): ApiBytes,
) -> Result<Json<ReturnView>, ApiError> {
    let body: IssueLabelBody = optional_json(&body)?;
    Ok(Json(app.engine.issue_return_label(&id, &actor(&who, &body.by)).await?))
}

fn file(content_type: &'static str, name: String, bytes: Vec<u8>) -> Response {
    let disposition = format!("inline; filename=\"{name}\"");
    ([(header::CONTENT_TYPE, content_type.to_owned()), (header::CONTENT_DISPOSITION, disposition)], bytes)
        .into_response()
}

/// A file name from the return's key (an id or an RMA: letters, digits, `-`).
fn file_name(key: &str, what: &str) -> String {
    let safe: String = key.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').take(64).collect();
    format!("{safe}-{what}")
}

/// The return label as a PDF, 4 × 6 inches: the carrier's postage-paid
/// label once one issued it, otherwise the self-printed label (the
/// customer's address, the destination, a Code 128 barcode of the RMA, the
/// reason). A return never authorized → 409 `no_label`.
#[utoipa::path(get, path = "/returns/{id}/label.pdf", tag = "returns", params(("id" = String, Path)),
    responses((status = 200, content_type = "application/pdf", body = Vec<u8>),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn label_pdf(
    State(app): State<AppState>,
    who: Actor,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    if who.only_location().is_some() {
        super::returns::return_for(&app, &who, &id).await?;
    }
    let pdf = app.engine.return_label_pdf(&id).await?;
    Ok(file("application/pdf", file_name(&id, "label.pdf"), pdf))
}

/// The self-printed label as ZPL II for a 203 dpi 4 × 6 thermal printer
/// (Code 128 by `^BC`). A return never authorized → 409 `no_label`.
#[utoipa::path(get, path = "/returns/{id}/label.zpl", tag = "returns", params(("id" = String, Path)),
    responses((status = 200, content_type = "text/plain", body = String),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn label_zpl(
    State(app): State<AppState>,
    who: Actor,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    if who.only_location().is_some() {
        super::returns::return_for(&app, &who, &id).await?;
    }
    let zpl = app.engine.return_label_zpl(&id).await?;
    Ok(file("text/plain; charset=utf-8", file_name(&id, "label.zpl"), zpl.into_bytes()))
}

/// The packing slip (US Letter): the RMA and its barcode, where the parcel
/// goes, each line and quantity to put in the box. A return never
/// authorized → 409 `no_label`.
#[utoipa::path(get, path = "/returns/{id}/packing-slip.pdf", tag = "returns", params(("id" = String, Path)),
    responses((status = 200, content_type = "application/pdf", body = Vec<u8>),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn packing_slip_pdf(State(app): State<AppState>, ApiPath(id): ApiPath<String>) -> Result<Response, ApiError> {
    let pdf = app.engine.return_packing_slip_pdf(&id).await?;
    Ok(file("application/pdf", file_name(&id, "packing-slip.pdf"), pdf))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InTransitBody {
    /// The parcel's tracking number, when known (replaces the carrier's).
    pub tracking: Option<String>,
    #[serde(default)]
    pub by: String,
}

/// The parcel was handed to the carrier: `in_transit` (from `authorized`
/// or `label_issued`; otherwise 409 `illegal_transition`).
#[utoipa::path(post, path = "/returns/{id}/in-transit", tag = "returns", params(("id" = String, Path)),
    request_body(content = Option<InTransitBody>),
    responses((status = 200, body = ReturnView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
async fn in_transit(
    State(app): State<AppState>,
    who: Actor,
    ApiPath(id): ApiPath<String>,
    ApiBytes(body): ApiBytes,
) -> Result<Json<ReturnView>, ApiError> {
    let body: InTransitBody = optional_json(&body)?;
    Ok(Json(app.engine.return_in_transit(&id, body.tracking.as_deref(), &actor(&who, &body.by)).await?))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseBody {
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub by: String,
}

/// Close a refunded or exchanged return, or a rejection: `closed`, final.
/// Anything else → 409 `illegal_transition`; a rejection still waiting for
/// a person → 409 `invalid_request`.
#[utoipa::path(post, path = "/returns/{id}/close", tag = "returns", params(("id" = String, Path)),
    request_body(content = Option<CloseBody>),
    responses((status = 200, body = ReturnView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn close_return(
    State(app): State<AppState>,
    who: Actor,
    ApiPath(id): ApiPath<String>,
    ApiBytes(body): ApiBytes,
) -> Result<Json<ReturnView>, ApiError> {
    let body: CloseBody = optional_json(&body)?;
    Ok(Json(app.engine.close_return(&id, &actor(&who, &body.by), &body.note).await?))
}
