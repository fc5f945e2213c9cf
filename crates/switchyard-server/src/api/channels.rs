//! `/channels`: the sales channels orders come from — connection records
//! with their kind, settings and (write-only) webhook secret.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use switchyard_core::{Channel, ChannelDraft, ChannelName, Sku};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use switchyard_engine::Code;

use super::{yes, ApiJson, ApiPath};
use crate::error::ErrorBody;
use crate::{ApiError, AppState};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(put_channel))
        .routes(routes!(list_channels))
        .routes(routes!(list_sku_map))
        .routes(routes!(channel_atp))
        .routes(routes!(put_sku_mapping, delete_sku_mapping))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelBody {
    /// shopify, woocommerce, amazon, etsy, ebay, pos, wholesale or api (default).
    pub kind: Option<String>,
    /// The secret the platform signs webhooks with. Write-only: never
    /// returned or logged; left as it is when absent, removed by `""`.
    pub webhook_secret: Option<String>,
    /// Units held back from what the channel is told it may sell (default 0).
    pub buffer_units: Option<i64>,
    /// Percent of what is available held back, rounded up (default 0).
    pub buffer_percent: Option<i64>,
    /// The channel is told at most this percent of what is available.
    pub max_share_percent: Option<i64>,
    pub display_name: Option<String>,
    /// Settings as string pairs, e.g. {"atp_buffer": "2"}.
    #[serde(default)]
    pub settings: BTreeMap<String, String>,
    #[serde(default = "yes")]
    pub active: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelView {
    pub name: String,
    pub kind: String,
    pub buffer_units: i64,
    pub buffer_percent: i64,
    pub max_share_percent: Option<i64>,
    pub display_name: String,
    pub settings: BTreeMap<String, String>,
    pub active: bool,
}

fn channel_view(c: Channel) -> ChannelView {
    ChannelView {
        name: c.name.to_string(),
        kind: c.kind.as_str().to_owned(),
        buffer_units: c.buffer.units,
        buffer_percent: c.buffer.percent,
        max_share_percent: c.buffer.max_share_percent,
        display_name: c.display_name,
        settings: c.settings,
        active: c.active,
    }
}

/// Create or replace a channel's settings.
#[utoipa::path(put, path = "/channels/{name}", tag = "channels",
    params(("name" = String, Path)), request_body = ChannelBody,
    responses((status = 200, body = ChannelView), (status = 422, body = ErrorBody)))]
async fn put_channel(
    State(app): State<AppState>,
    ApiPath(name): ApiPath<String>,
    ApiJson(body): ApiJson<ChannelBody>,
) -> Result<Json<ChannelView>, ApiError> {
    let channel = Channel::parse(ChannelDraft {
        name,
        kind: body.kind,
        buffer_units: body.buffer_units,
        buffer_percent: body.buffer_percent,
        max_share_percent: body.max_share_percent,
        display_name: body.display_name,
        settings: body.settings,
        active: body.active,
    })?;
    if body.webhook_secret.as_ref().is_some_and(|s| s.len() > 500 || s.chars().any(char::is_control)) {
        return Err(ApiError::new(Code::InvalidBody, "webhook_secret must be at most 500 characters, one line"));
    }
    app.engine.put_connection(&channel, body.webhook_secret).await?;
    Ok(Json(channel_view(channel)))
}

/// List channels, configured or registered by their first order.
#[utoipa::path(get, path = "/channels", tag = "channels", responses((status = 200, body = Vec<ChannelView>)))]
async fn list_channels(State(app): State<AppState>) -> Result<Json<Vec<ChannelView>>, ApiError> {
    Ok(Json(app.engine.list_channels().await?.into_iter().map(channel_view).collect()))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SkuMappingBody {
    /// Our SKU, which must exist.
    pub sku: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SkuMappingView {
    pub channel: String,
    /// The channel's SKU (or `variant:<id>`, `product:<id>`, `listing:<id>`, `asin:<ASIN>`).
    pub channel_sku: String,
    pub sku: String,
}

fn channel_name(raw: &str) -> Result<ChannelName, ApiError> {
    ChannelName::parse(raw).map_err(|e| ApiError::new(Code::InvalidPath, e.to_string()))
}

/// Map one of the channel's SKUs to ours: its orders' lines are translated before intake.
#[utoipa::path(put, path = "/channels/{name}/skus/{channel_sku}", tag = "channels",
    params(("name" = String, Path), ("channel_sku" = String, Path)), request_body = SkuMappingBody,
    responses(
        (status = 200, body = SkuMappingView),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)
    ))]
async fn put_sku_mapping(
    State(app): State<AppState>,
    ApiPath((name, channel_sku)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<SkuMappingBody>,
) -> Result<Json<SkuMappingView>, ApiError> {
    let channel = channel_name(&name)?;
    let sku = Sku::parse(&body.sku)?;
    app.engine.map_channel_sku(&channel, &channel_sku, &sku).await?;
    Ok(Json(SkuMappingView {
        channel: channel.to_string(),
        channel_sku: channel_sku.trim().to_owned(),
        sku: sku.to_string(),
    }))
}

/// Remove a mapping.
#[utoipa::path(delete, path = "/channels/{name}/skus/{channel_sku}", tag = "channels",
    params(("name" = String, Path), ("channel_sku" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn delete_sku_mapping(
    State(app): State<AppState>,
    ApiPath((name, channel_sku)): ApiPath<(String, String)>,
) -> Result<axum::http::StatusCode, ApiError> {
    let channel = channel_name(&name)?;
    if app.engine.unmap_channel_sku(&channel, &channel_sku).await? {
        Ok(axum::http::StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!("channel {channel} has no mapping for {channel_sku:?}")))
    }
}

/// The channel's SKU map.
#[utoipa::path(get, path = "/channels/{name}/skus", tag = "channels", params(("name" = String, Path)),
    responses((status = 200, body = Vec<SkuMappingView>)))]
async fn list_sku_map(
    State(app): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<Vec<SkuMappingView>>, ApiError> {
    let channel = channel_name(&name)?;
    let map = app.engine.channel_sku_map(&channel).await?;
    Ok(Json(
        map.into_iter()
            .map(|(channel_sku, sku)| SkuMappingView {
                channel: channel.to_string(),
                channel_sku,
                sku: sku.to_string(),
            })
            .collect(),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AtpView {
    pub channel: String,
    pub sku: String,
    /// What this channel is told it may sell: available less its buffer.
    pub available: i64,
}

/// What the channel is told it may sell of a SKU.
#[utoipa::path(get, path = "/channels/{name}/atp/{sku}", tag = "channels",
    params(("name" = String, Path), ("sku" = String, Path)),
    responses((status = 200, body = AtpView), (status = 404, body = ErrorBody)))]
async fn channel_atp(
    State(app): State<AppState>,
    ApiPath((name, sku)): ApiPath<(String, String)>,
) -> Result<Json<AtpView>, ApiError> {
    let channel = channel_name(&name)?;
    let sku = Sku::parse(&sku).map_err(|e| ApiError::new(Code::InvalidPath, e.to_string()))?;
    let available = app.engine.channel_atp(&channel, &sku).await?;
    Ok(Json(AtpView { channel: channel.to_string(), sku: sku.to_string(), available }))
}
