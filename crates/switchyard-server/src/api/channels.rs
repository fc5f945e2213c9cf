//! `/channels`: the sales channels orders come from, with their settings.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use switchyard_core::{Channel, ChannelDraft};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{yes, ApiJson, ApiPath};
use crate::error::ErrorBody;
use crate::{ApiError, AppState};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(put_channel)).routes(routes!(list_channels))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelBody {
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
    pub display_name: String,
    pub settings: BTreeMap<String, String>,
    pub active: bool,
}

fn channel_view(c: Channel) -> ChannelView {
    ChannelView { name: c.name.to_string(), display_name: c.display_name, settings: c.settings, active: c.active }
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
        display_name: body.display_name,
        settings: body.settings,
        active: body.active,
    })?;
    app.engine.put_channel(&channel).await?;
    Ok(Json(channel_view(channel)))
}

/// List channels, configured or registered by their first order.
#[utoipa::path(get, path = "/channels", tag = "channels", responses((status = 200, body = Vec<ChannelView>)))]
async fn list_channels(State(app): State<AppState>) -> Result<Json<Vec<ChannelView>>, ApiError> {
    Ok(Json(app.engine.list_channels().await?.into_iter().map(channel_view).collect()))
}
