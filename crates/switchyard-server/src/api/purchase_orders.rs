//! `/purchase-orders` and `/locations/{code}/vendor`: dropship purchase
//! orders (made by the engine when an order's units are allocated to a
//! dropship location), the vendor's confirmation and shipment (which ships
//! those lines of the order), and where each vendor is told (an e-mail
//! address, a webhook URL and its write-only secret).

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use switchyard_core::dropship::{PoStatus, VendorDraft};
use switchyard_core::LocationCode;
use switchyard_engine::{Code, PurchaseOrderView, VendorView};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{actor, optional_json, Actor, ApiBytes, ApiJson, ApiPath, ApiQuery};
use crate::error::ErrorBody;
use crate::{ApiError, AppState};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_purchase_orders))
        .routes(routes!(get_purchase_order))
        .routes(routes!(confirm_purchase_order))
        .routes(routes!(ship_purchase_order))
        .routes(routes!(put_vendor, get_vendor))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PurchaseOrderList {
    pub purchase_orders: Vec<PurchaseOrderView>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PurchaseOrderParams {
    /// Only purchase orders in this status: `sent`, `confirmed`, `shipped`
    /// or `cancelled`.
    pub status: Option<String>,
    /// Only this order's purchase orders.
    pub order_id: Option<String>,
    /// 1–500 (default 100).
    pub limit: Option<i64>,
}

/// Dropship purchase orders, newest first.
#[utoipa::path(get, path = "/purchase-orders", tag = "purchase orders", params(PurchaseOrderParams),
    responses((status = 200, body = PurchaseOrderList), (status = 400, body = ErrorBody)))]
async fn list_purchase_orders(
    State(app): State<AppState>,
    ApiQuery(p): ApiQuery<PurchaseOrderParams>,
) -> Result<Json<PurchaseOrderList>, ApiError> {
    let status = match p.status.as_deref() {
        None => None,
        Some(s) => Some(
            PoStatus::parse(s)
                .ok_or_else(|| ApiError::new(Code::InvalidQuery, format!("unknown purchase order status {s:?}")))?,
        ),
    };
    let limit = switchyard_core::intake::page_limit(p.limit, 100, switchyard_core::intake::MAX_PAGE_LIMIT)?;
    let list = app.engine.list_purchase_orders(status, p.order_id.as_deref(), limit).await?;
    Ok(Json(PurchaseOrderList { purchase_orders: list }))
}

/// One purchase order with its lines and ship-to.
#[utoipa::path(get, path = "/purchase-orders/{id}", tag = "purchase orders", params(("id" = String, Path)),
    responses((status = 200, body = PurchaseOrderView), (status = 404, body = ErrorBody)))]
async fn get_purchase_order(
    State(app): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<PurchaseOrderView>, ApiError> {
    Ok(Json(app.engine.get_purchase_order(&id).await?))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmBody {
    /// Who confirms (default `api`).
    #[serde(default)]
    pub by: String,
}

/// The vendor confirms it will ship (`sent` → `confirmed`); closes the
/// purchase order's `dropship_unconfirmed` exception if one is open.
#[utoipa::path(post, path = "/purchase-orders/{id}/confirm", tag = "purchase orders", params(("id" = String, Path)),
    request_body = ConfirmBody,
    responses((status = 200, body = PurchaseOrderView), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody)))]
async fn confirm_purchase_order(
    State(app): State<AppState>,
    who: Actor,
    ApiPath(id): ApiPath<String>,
    ApiBytes(body): ApiBytes,
) -> Result<Json<PurchaseOrderView>, ApiError> {
    let body: ConfirmBody = optional_json(&body)?;
    Ok(Json(app.engine.confirm_purchase_order(&id, &actor(&who, &body.by)).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PoShipmentBody {
    pub carrier: Option<String>,
    pub tracking: Option<String>,
    /// Who ships (default `api`).
    #[serde(default)]
    pub by: String,
}

/// The vendor shipped: every line of the purchase order is shipped from its
/// location through the order's shipments (the customer is told, the
/// channel too); the purchase order becomes `shipped`.
#[utoipa::path(post, path = "/purchase-orders/{id}/shipments", tag = "purchase orders",
    params(("id" = String, Path)), request_body = PoShipmentBody,
    responses((status = 200, body = PurchaseOrderView), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn ship_purchase_order(
    State(app): State<AppState>,
    who: Actor,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<PoShipmentBody>,
) -> Result<Json<PurchaseOrderView>, ApiError> {
    let po = app
        .engine
        .ship_purchase_order(&id, body.carrier.as_deref(), body.tracking.as_deref(), &actor(&who, &body.by))
        .await?;
    Ok(Json(po))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VendorBody {
    /// Where purchase orders are e-mailed (CSV and PDF attached); `null` or
    /// absent: no e-mail.
    pub email: Option<String>,
    /// Where purchase orders are POSTed, signed like every Switchyard
    /// webhook; `null` or absent: no webhook.
    pub webhook_url: Option<String>,
    /// The webhook's HMAC key (16–200 characters), write-only: absent keeps
    /// the stored one.
    pub webhook_secret: Option<String>,
}

/// Set where a dropship location's vendor is told of its purchase orders.
#[utoipa::path(put, path = "/locations/{code}/vendor", tag = "purchase orders",
    params(("code" = String, Path, description = "A dropship location's code")), request_body = VendorBody,
    responses((status = 200, body = VendorView), (status = 409, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
async fn put_vendor(
    State(app): State<AppState>,
    ApiPath(code): ApiPath<String>,
    ApiJson(body): ApiJson<VendorBody>,
) -> Result<Json<VendorView>, ApiError> {
    let code = LocationCode::parse(&code)?;
    let draft = VendorDraft { email: body.email, webhook_url: body.webhook_url, webhook_secret: body.webhook_secret };
    Ok(Json(app.engine.put_vendor(&code, &draft).await?))
}

/// A dropship location's vendor settings (the secret is never returned).
#[utoipa::path(get, path = "/locations/{code}/vendor", tag = "purchase orders",
    params(("code" = String, Path, description = "A location's code")),
    responses((status = 200, body = VendorView), (status = 422, body = ErrorBody)))]
async fn get_vendor(State(app): State<AppState>, ApiPath(code): ApiPath<String>) -> Result<Json<VendorView>, ApiError> {
    let code = LocationCode::parse(&code)?;
    Ok(Json(app.engine.get_vendor(&code).await?))
}
