//! Fulfilment by store staff (issue 9, item 0): a location's pick list
//! (`/locations/{code}/picks`), the steps recorded per order and location
//! (`/orders/{id}/picked`, `/packed`), and a shipped order delivered
//! (`/orders/{id}/delivered`). Shipping, ready for pickup, picked up and a
//! short pick (reject with reason `short_pick`) are the `orders` module's.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use switchyard_core::staff::Action;
use switchyard_core::LocationCode;
use switchyard_engine::PickList;
use switchyard_store::OrderView;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{actor, Actor, ApiJson, ApiPath};
use crate::error::ErrorBody;
use crate::{ApiError, AppState};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(picks))
        .routes(routes!(picked))
        .routes(routes!(packed))
        .routes(routes!(delivered))
}

/// The location's pick list: open orders with unshipped units there, same-day and pickup first, then expedited,
/// then standard, oldest first within each; per order its lines to pick there, its step (`to_pick`, `picked`,
/// `packed`, `ready_for_pickup`) and what may follow. At most 200 orders (`more` says whether others wait).
#[utoipa::path(get, path = "/locations/{code}/picks", tag = "fulfilment", params(("code" = String, Path)),
    responses((status = 200, body = PickList), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn picks(
    State(app): State<AppState>,
    who: Actor,
    ApiPath(code): ApiPath<String>,
) -> Result<Json<PickList>, ApiError> {
    let location = LocationCode::parse(&code)?;
    who.require(Action::Floor(&location))?;
    Ok(Json(app.engine.pick_list(&location).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepBody {
    /// The location where the step was done.
    pub location: String,
    /// Who did it (logged on the timeline); `api` when absent.
    #[serde(default)]
    pub by: String,
}

/// Record that the order's units at `location` are picked (the first step; once).
#[utoipa::path(post, path = "/orders/{id}/picked", tag = "fulfilment", params(("id" = String, Path)),
    request_body = StepBody,
    responses((status = 200, body = OrderView), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody, description = "`step_out_of_order` or `nothing_to_pick`"),
              (status = 422, body = ErrorBody)))]
async fn picked(
    State(app): State<AppState>,
    who: Actor,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<StepBody>,
) -> Result<Json<OrderView>, ApiError> {
    let location = LocationCode::parse(&body.location)?;
    who.require(Action::Floor(&location))?;
    Ok(Json(app.engine.mark_picked(&id, &location, &actor(&who, &body.by)).await?))
}

/// Record that the order's units at `location` are packed (after picked; once; not for pickup orders, which are
/// made ready for pickup instead).
#[utoipa::path(post, path = "/orders/{id}/packed", tag = "fulfilment", params(("id" = String, Path)),
    request_body = StepBody,
    responses((status = 200, body = OrderView), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody, description = "`step_out_of_order` or `nothing_to_pick`"),
              (status = 422, body = ErrorBody)))]
async fn packed(
    State(app): State<AppState>,
    who: Actor,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<StepBody>,
) -> Result<Json<OrderView>, ApiError> {
    let location = LocationCode::parse(&body.location)?;
    who.require(Action::Floor(&location))?;
    Ok(Json(app.engine.mark_packed(&id, &location, &actor(&who, &body.by)).await?))
}

/// The carrier delivered a `shipped` order: it is `completed`. Any other status → 409 `illegal_transition`.
#[utoipa::path(post, path = "/orders/{id}/delivered", tag = "fulfilment", params(("id" = String, Path)),
    responses((status = 200, body = OrderView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn delivered(State(app): State<AppState>, ApiPath(id): ApiPath<String>) -> Result<Json<OrderView>, ApiError> {
    Ok(Json(app.engine.mark_delivered(&id).await?))
}
