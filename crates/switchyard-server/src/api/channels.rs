//! `/channels`: the sales channels orders come from — connection records
//! with their kind, settings and (write-only) webhook secret.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use switchyard_core::{Channel, ChannelDraft};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use switchyard_engine::Code;

use super::{yes, ApiJson, ApiPath};
use crate::error::ErrorBody;
use crate::{ApiError, AppState};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(put_channel)).routes(routes!(list_channels))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelBody {
    /// shopify, woocommerce, amazon, etsy, ebay, pos, wholesale or api (default).
    pub kind: Option<String>,
    /// The secret the platform signs webhooks with. Write-only: never
    /// returned or logged; left as it is when absent, removed by `""`.
    pub webhook_secret: Option<String>,
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
    pub display_name: String,
    pub settings: BTreeMap<String, String>,
    pub active: bool,
}

fn channel_view(c: Channel) -> ChannelView {
    ChannelView {
        name: c.name.to_string(),
        kind: c.kind.as_str().to_owned(),
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
