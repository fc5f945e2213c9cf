//! `/skus`: the catalog, including bundles that reserve their components.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use switchyard_core::{Sku, SkuDef, SkuDraft};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{yes, ApiJson, ApiPath};
use crate::error::ErrorBody;
use crate::{ApiError, AppState};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(put_sku, get_sku))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComponentBody {
    pub sku: String,
    pub quantity: i64,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SkuBody {
    pub title: String,
    /// With components, the SKU is a bundle that reserves them.
    #[serde(default)]
    pub components: Option<Vec<ComponentBody>>,
    /// Labels routing rules refer to, e.g. `["high-volume"]`.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Whether orders may wait for it when nothing can fill them (default true).
    #[serde(default = "yes")]
    pub allow_backorder: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SkuView {
    pub sku: String,
    pub title: String,
    pub components: Vec<ComponentBody>,
    pub tags: Vec<String>,
    pub allow_backorder: bool,
}

fn sku_view(d: SkuDef) -> SkuView {
    SkuView {
        sku: d.sku.to_string(),
        title: d.title,
        components: d
            .components
            .into_iter()
            .map(|c| ComponentBody { sku: c.sku.to_string(), quantity: c.quantity.as_i64() })
            .collect(),
        tags: d.tags,
        allow_backorder: d.allow_backorder,
    }
}

/// Create or replace a SKU (a bundle when it has components).
#[utoipa::path(put, path = "/skus/{sku}", tag = "skus",
    params(("sku" = String, Path)), request_body = SkuBody,
    responses((status = 200, body = SkuView), (status = 422, body = ErrorBody)))]
async fn put_sku(
    State(app): State<AppState>,
    ApiPath(sku): ApiPath<String>,
    ApiJson(body): ApiJson<SkuBody>,
) -> Result<Json<SkuView>, ApiError> {
    let def = SkuDef::parse(SkuDraft {
        sku,
        title: body.title,
        components: body.components.unwrap_or_default().into_iter().map(|c| (c.sku, c.quantity)).collect(),
        tags: body.tags,
        allow_backorder: body.allow_backorder,
    })?;
    app.engine.put_sku(&def).await?;
    Ok(Json(sku_view(def)))
}

/// Get a SKU.
#[utoipa::path(get, path = "/skus/{sku}", tag = "skus", params(("sku" = String, Path)),
    responses((status = 200, body = SkuView), (status = 404, body = ErrorBody)))]
async fn get_sku(State(app): State<AppState>, ApiPath(sku): ApiPath<String>) -> Result<Json<SkuView>, ApiError> {
    let sku = Sku::parse(&sku)?;
    let def = app.engine.get_sku(&sku).await?.ok_or_else(|| ApiError::not_found(format!("sku {sku} not found")))?;
    Ok(Json(sku_view(def)))
}
