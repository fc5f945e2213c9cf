//! `/orders/{id}/complaints`: record that a customer complained about an
//! order (the complaint volume in the metrics counts these).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use switchyard_engine::ComplaintView;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{actor, Actor, ApiJson, ApiPath};
use crate::error::ErrorBody;
use crate::{ApiError, AppState};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(add_complaint))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComplaintBody {
    /// What the customer complained about (required).
    pub note: String,
    /// Who records it (default `api`).
    #[serde(default)]
    pub by: String,
}

/// Record a customer's complaint against an order; it is noted on the
/// order's timeline too.
#[utoipa::path(post, path = "/orders/{id}/complaints", tag = "orders", params(("id" = String, Path)),
    request_body = ComplaintBody,
    responses((status = 201, body = ComplaintView), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
async fn add_complaint(
    State(app): State<AppState>,
    who: Actor,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ComplaintBody>,
) -> Result<(StatusCode, Json<ComplaintView>), ApiError> {
    let view = app.engine.add_complaint(&id, body.note.trim(), &actor(&who, &body.by)).await?;
    Ok((StatusCode::CREATED, Json(view)))
}
