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
        .routes(routes!(sync_status))
        .routes(routes!(channel_levels))
        .routes(routes!(resync))
        .routes(routes!(test_connection))
        .routes(routes!(upload_orders))
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
    /// `import_only` (default: orders in, nothing pushed out) or `live`.
    pub mode: Option<String>,
    /// Our SKUs whose listings Switchyard controls: SKUs, or prefixes ending in `*`; all when empty.
    #[serde(default)]
    pub sku_scope: Vec<String>,
    /// Replaces the platform's API hosts (a stand-in, a test).
    pub base_url: Option<String>,
    /// The platform's credentials, e.g. {"access_token": "..."} for Shopify or {"client_id", "client_secret",
    /// "refresh_token"} for Amazon and eBay. Write-only: never returned or logged; left as they are when absent,
    /// removed by `{}`.
    pub credentials: Option<BTreeMap<String, String>>,
    pub display_name: Option<String>,
    /// Settings as string pairs, e.g. {"location_id": "..."} for Shopify.
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
    pub mode: String,
    pub sku_scope: Vec<String>,
    pub base_url: Option<String>,
    pub display_name: String,
    pub settings: BTreeMap<String, String>,
    pub active: bool,
}

fn channel_view(c: Channel) -> ChannelView {
    ChannelView {
        mode: c.mode.as_str().to_owned(),
        sku_scope: c.sku_scope.entries().to_vec(),
        base_url: c.base_url.clone(),
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
    let channel = parse_channel(name, &body)?;
    app.engine.put_connection(&channel, body.webhook_secret, body.credentials).await?;
    Ok(Json(channel_view(channel)))
}

/// A connection from its name and body, checked as `PUT /channels/{name}`
/// checks it (the core's `Channel::parse`, and the webhook secret's
/// length); the credentials are checked by the engine. The dashboard's
/// form goes through here too.
pub(crate) fn parse_channel(name: String, body: &ChannelBody) -> Result<Channel, ApiError> {
    let channel = Channel::parse(ChannelDraft {
        name,
        kind: body.kind.clone(),
        buffer_units: body.buffer_units,
        buffer_percent: body.buffer_percent,
        max_share_percent: body.max_share_percent,
        mode: body.mode.clone(),
        sku_scope: body.sku_scope.clone(),
        base_url: body.base_url.clone(),
        display_name: body.display_name.clone(),
        settings: body.settings.clone(),
        active: body.active,
    })?;
    if body.webhook_secret.as_ref().is_some_and(|s| s.len() > 500 || s.chars().any(char::is_control)) {
        return Err(ApiError::new(Code::InvalidBody, "webhook_secret must be at most 500 characters, one line"));
    }
    Ok(channel)
}

/// A connection, its webhook secret and its credentials (`None`: keep them).
pub type Connection = (Channel, Option<String>, Option<BTreeMap<String, String>>);

/// A connection from a `PUT /channels/{name}` body given as JSON text
/// (`switchyard channel connect` reads the same file): the connection, its
/// webhook secret and its credentials, or why the body is refused.
pub fn connection_from_json(name: &str, json: &[u8]) -> Result<Connection, String> {
    let body: ChannelBody = serde_json::from_slice(json).map_err(|e| e.to_string())?;
    let channel = parse_channel(name.to_owned(), &body).map_err(|e| e.message)?;
    Ok((channel, body.webhook_secret, body.credentials))
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
    /// The platform's id of the listing, where it needs one to set stock: Shopify's inventory item id,
    /// WooCommerce's product id (`parent:variation` for a variation), Etsy's listing id.
    pub listing: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SkuMappingView {
    pub channel: String,
    /// The channel's SKU (or `variant:<id>`, `product:<id>`, `listing:<id>`, `asin:<ASIN>`).
    pub channel_sku: String,
    pub sku: String,
    pub listing: Option<String>,
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
    app.engine.map_channel_sku(&channel, &channel_sku, &sku, body.listing.as_deref()).await?;
    Ok(Json(SkuMappingView {
        channel: channel.to_string(),
        channel_sku: channel_sku.trim().to_owned(),
        sku: sku.to_string(),
        listing: body.listing.map(|l| l.trim().to_owned()).filter(|l| !l.is_empty()),
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
    let map = app.engine.channel_sku_entries(&channel).await?;
    Ok(Json(
        map.into_iter()
            .map(|e| SkuMappingView {
                channel: channel.to_string(),
                channel_sku: e.channel_sku,
                sku: e.sku.to_string(),
                listing: e.listing,
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

#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptView {
    pub at: String,
    /// `stock`, `token`, `fulfilment`, `cancel`, `poll`.
    pub purpose: String,
    pub items: i64,
    /// `accepted`, `throttled`, `transient`, `rejected` or `unsendable`.
    pub outcome: String,
    pub http_status: Option<i64>,
    pub error: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SyncStatusView {
    pub channel: String,
    pub mode: String,
    /// Whether stock levels are pushed now (active, live, and a kind with an API).
    pub pushes_stock: bool,
    /// The names of the credentials it holds (never their values).
    pub credentials: Vec<String>,
    /// Levels waiting to be sent, at most one per SKU (coalesced).
    pub backlog: i64,
    /// Levels dead-lettered after repeated failures or a refusal.
    pub dead: i64,
    /// Stock changes (of any SKU) not yet turned into levels for the connections.
    pub unprocessed_changes: i64,
    /// Orders (and units) the marketplace fulfilled from its own stock (Amazon FBA): recorded, not reserved.
    pub marketplace_orders: i64,
    pub marketplace_units: i64,
    pub last_ack_at: Option<String>,
    pub last_order_at: Option<String>,
    /// Stock change → channel acknowledgement, over the last hour.
    pub lag_p50_ms: Option<i64>,
    pub lag_p95_ms: Option<i64>,
    pub lag_samples: usize,
    pub recent: Vec<AttemptView>,
    pub recent_failures: Vec<AttemptView>,
}

fn attempt_view(a: switchyard_engine::SyncAttempt) -> AttemptView {
    AttemptView {
        at: switchyard_store::rfc3339(a.at),
        purpose: a.purpose,
        items: a.items,
        outcome: a.outcome,
        http_status: a.http_status,
        error: a.error,
    }
}

/// How the channel's stock sync stands: backlog, lag, recent requests and errors.
#[utoipa::path(get, path = "/channels/{name}/sync", tag = "channels", params(("name" = String, Path)),
    responses((status = 200, body = SyncStatusView), (status = 404, body = ErrorBody)))]
async fn sync_status(
    State(app): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<SyncStatusView>, ApiError> {
    let channel = channel_name(&name)?;
    let s = app.engine.channel_sync_status(&channel).await?;
    Ok(Json(SyncStatusView {
        channel: channel.to_string(),
        mode: s.mode.as_str().to_owned(),
        pushes_stock: s.pushes_stock,
        credentials: s.credentials,
        backlog: s.backlog,
        dead: s.dead,
        unprocessed_changes: s.unprocessed_changes,
        marketplace_orders: s.marketplace_orders,
        marketplace_units: s.marketplace_units,
        last_ack_at: s.last_ack_at.map(switchyard_store::rfc3339),
        last_order_at: s.last_order_at.map(switchyard_store::rfc3339),
        lag_p50_ms: s.lag_p50_ms,
        lag_p95_ms: s.lag_p95_ms,
        lag_samples: s.lag_samples,
        recent: s.recent.into_iter().map(attempt_view).collect(),
        recent_failures: s.recent_failures.into_iter().map(attempt_view).collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LevelView {
    pub sku: String,
    /// What the channel should show now.
    pub wanted: i64,
    /// What it last acknowledged.
    pub sent: Option<i64>,
    pub sent_at: Option<String>,
    /// `settled`, `pending` or `dead`.
    pub state: String,
    pub failures: i64,
    pub last_error: Option<String>,
}

/// Every stock level of the channel: what it should show and what it last acknowledged.
#[utoipa::path(get, path = "/channels/{name}/levels", tag = "channels", params(("name" = String, Path)),
    responses((status = 200, body = Vec<LevelView>)))]
async fn channel_levels(
    State(app): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<Vec<LevelView>>, ApiError> {
    let channel = channel_name(&name)?;
    let levels = app.engine.channel_levels(&channel).await?;
    Ok(Json(
        levels
            .into_iter()
            .map(|l| LevelView {
                state: match (l.dead_at, l.changed_at) {
                    (Some(_), _) => "dead",
                    (None, Some(_)) => "pending",
                    (None, None) => "settled",
                }
                .into(),
                sku: l.sku,
                wanted: l.wanted,
                sent: l.sent,
                sent_at: l.sent_at.map(switchyard_store::rfc3339),
                failures: l.failures,
                last_error: l.last_error,
            })
            .collect(),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ResyncView {
    /// Levels made due again.
    pub levels: usize,
}

/// Send every SKU's level to the channel again ("resync all stock"), dead-lettered ones included.
#[utoipa::path(post, path = "/channels/{name}/resync", tag = "channels", params(("name" = String, Path)),
    responses((status = 200, body = ResyncView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn resync(State(app): State<AppState>, ApiPath(name): ApiPath<String>) -> Result<Json<ResyncView>, ApiError> {
    let channel = channel_name(&name)?;
    Ok(Json(ResyncView { levels: app.engine.resync_channel(&channel).await? }))
}

/// What a connection test found.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectionCheckView {
    /// The platform accepted the credentials and answered.
    pub ok: bool,
    /// How far it got: `settings`, `token` (the token refresh) or `request` (the test read).
    pub step: String,
    /// The platform's HTTP status, when it answered.
    pub http_status: Option<i64>,
    /// What worked, or what to fix.
    pub message: String,
}

/// Test a connection now: a token refresh where the platform has one, then one cheap authenticated read (Shopify
/// `shop { name }`, WooCommerce `system_status`, Amazon `getMarketplaceParticipations`, Etsy `getShop`, eBay
/// `getOrders?limit=1`). Changes nothing on the platform; `ok: false` says which step failed and why.
#[utoipa::path(post, path = "/channels/{name}/test", tag = "channels", params(("name" = String, Path)),
    responses((status = 200, body = ConnectionCheckView), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn test_connection(
    State(app): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<ConnectionCheckView>, ApiError> {
    let channel = channel_name(&name)?;
    let mut sync = switchyard_engine::ChannelSync::new(app.engine.clone(), switchyard_engine::SyncOptions::default())?;
    let c = sync.check_connection(&channel).await?;
    Ok(Json(ConnectionCheckView { ok: c.ok, step: c.step, http_status: c.http_status, message: c.message }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReceivedView {
    pub external_id: String,
    pub order_id: Option<String>,
    /// `created`, `unchanged`, `cancelled`, `paid`, `cancelled_before_taken` or `fulfilled_by_marketplace`.
    pub outcome: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UploadView {
    pub received: usize,
    pub orders: Vec<ReceivedView>,
}

/// Take orders in the connection's own payload shape: a point-of-sale or pickup JSON (`pos`), a wholesale
/// purchase-order CSV (`wholesale`), or any platform's order JSON (a manual import). The whole upload is checked
/// before anything is taken; a refusal names the place (`line 7`, `lines[2].quantity`) and changes nothing.
#[utoipa::path(post, path = "/channels/{name}/orders", tag = "channels", params(("name" = String, Path)),
    request_body(content = String, description = "the payload, as `switchyard channel parse <kind>` reads it",
        content_type = "text/csv"),
    responses((status = 200, body = UploadView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn upload_orders(
    State(app): State<AppState>,
    ApiPath(name): ApiPath<String>,
    super::ApiBytes(body): super::ApiBytes,
) -> Result<Json<UploadView>, ApiError> {
    let channel = channel_name(&name)?;
    let (c, _) = app
        .engine
        .channel_connection(&channel)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("channel {channel} is not configured")))?;
    if !c.active {
        return Err(ApiError::new(Code::ChannelInactive, format!("channel {channel} is inactive")));
    }
    if switchyard_channels::adapter(c.kind).is_none() {
        return Err(ApiError::new(
            Code::InvalidRequest,
            format!("channel {channel} is of kind {}: post its orders to /api/v1/orders", c.kind.as_str()),
        ));
    }
    let orders =
        switchyard_channels::parse(c.kind, &body).map_err(|e| ApiError::new(Code::InvalidBody, e.to_string()))?;
    let received = app.engine.receive_channel_orders(&channel, None, &orders).await?;
    let orders: Vec<ReceivedView> = received
        .into_iter()
        .map(|r| ReceivedView { external_id: r.external_id, order_id: r.order_id, outcome: r.outcome.as_str().into() })
        .collect();
    Ok(Json(UploadView { received: orders.len(), orders }))
}
