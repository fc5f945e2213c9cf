//! The JSON API under `/api/v1`: the router, the extractors whose rejections
//! are [`ApiError`]s, the OpenAPI document generated from the handlers, the
//! health check, and the DTOs more than one resource uses (an order body, its
//! lines and ship-to address, the acting user).
//!
//! Each resource has its module with its DTOs, its handlers (annotated for
//! utoipa) and a `router()` that registers them; [`api_router`] merges them.
//! Handlers move fields into the core's drafts, call the engine and return
//! its views.

mod channels;
mod complaints;
mod exceptions;
mod fulfilment;
mod inventory;
mod locations;
mod metrics;
mod notifications;
mod orders;
mod policies;
mod purchase_orders;
mod return_labels;
mod return_policies;
mod return_stats;
mod returns;
mod skus;
mod staff;

use axum::extract::{FromRequest, FromRequestParts, State};
use axum::middleware;
use axum::routing::get;
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use switchyard_core::intake::{LineDraft, OrderDraft};
use switchyard_core::{NewOrder, ShipTo};
use switchyard_engine::Code;
use switchyard_store::{AllocationView, EventView, ExceptionLogView, ExceptionView, LineView, ShipToView};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;

pub(crate) use crate::auth::Actor;
use crate::error::{ErrorBody, ErrorDetail};
use crate::{auth, ApiError, AppState};

pub use channels::connection_from_json;
pub(crate) use channels::{parse_channel, ChannelBody};
pub(crate) use exceptions::{parse_resolution, ResolveBody};
pub(crate) use locations::{parse_location, AddressBody, LocationBody};
pub use policies::parse_policy;
pub(crate) use policies::{known_references, preview_on_recent};
pub(crate) use return_stats::{stats_period, ReturnStatsBody};

/// `Json<T>` whose rejections are [`ApiError`]s.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

/// `Path<T>` whose rejections are [`ApiError`]s.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

/// A raw body whose rejections (too large, cut off) are [`ApiError`]s.
pub struct ApiBytes(pub axum::body::Bytes);

impl<S: Send + Sync> FromRequest<S> for ApiBytes {
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        Ok(ApiBytes(axum::body::Bytes::from_request(req, state).await?))
    }
}

/// `Query<T>` whose rejections are [`ApiError`]s.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

#[derive(OpenApi)]
#[openapi(
    info(title = "Switchyard API", description = "Order orchestration for small multichannel retailers."),
    servers((url = "/api/v1")),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    components(schemas(
        ErrorBody, ErrorDetail, AllocationView, EventView, ExceptionView, ExceptionLogView, LineView, ShipToView
    ))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme(
                "bearer",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
        }
    }
}

/// Every resource's routes, with the document they generate.
fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(locations::router())
        .merge(channels::router())
        .merge(skus::router())
        .merge(inventory::router())
        .merge(orders::router())
        .merge(fulfilment::router())
        .merge(policies::router())
        .merge(exceptions::router())
        .merge(complaints::router())
        .merge(metrics::router())
        .merge(return_stats::router())
        .merge(returns::router())
        .merge(return_labels::router())
        .merge(return_policies::router())
        .merge(notifications::router())
        .merge(purchase_orders::router())
        .merge(staff::router())
}

/// The OpenAPI 3 document of the whole API, generated from the handlers.
/// Paths are relative to the server URL `/api/v1`.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    api_router().split_for_parts().1
}

pub fn routes(state: AppState) -> Router {
    let (api, _) = api_router().split_for_parts();
    let doc = openapi_document();
    let api = api
        .route("/openapi.json", get(move || async move { Json(doc) }))
        .fallback(|| async { ApiError::not_found("no such API route") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(Code::MethodNotAllowed, "this route does not take that method")
        })
        .layer(middleware::from_fn_with_state(state.clone(), auth::require_bearer))
        .layer(axum::extract::DefaultBodyLimit::max(state.config.body_limit_bytes));
    Router::new().nest("/api/v1", api).route("/healthz", get(healthz)).with_state(state)
}

async fn healthz(State(app): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    app.engine.ping().await.map_err(|e| {
        tracing::error!(error = %e, "health check failed");
        ApiError::new(Code::Unavailable, "database is not answering")
    })?;
    Ok(Json(serde_json::json!({ "status": "ok" })))
}

// ------------------------------------------------------------ shared bodies

/// Serde default for flags that are on unless said otherwise.
fn yes() -> bool {
    true
}

/// A JSON body that may be left out: an empty (or all-whitespace) body is
/// `T::default()`. Like [`ApiJson`]: malformed JSON is `invalid_json`, JSON
/// of the wrong shape (an unknown field, a wrong type) `invalid_body`.
fn optional_json<T: Default + DeserializeOwned>(bytes: &axum::body::Bytes) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(bytes).map_err(|e| {
        let code = if e.is_data() { Code::InvalidBody } else { Code::InvalidJson };
        ApiError::new(code, e.to_string())
    })
}

/// Who acts, as logged: the account behind the token, or (for the admin
/// token) `by` trimmed, `api` when blank (the engine applies the core's rule
/// for names to it).
fn actor(who: &Actor, by: &str) -> String {
    who.by(by)
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderLineBody {
    pub sku: String,
    pub quantity: i64,
    /// Minor units of the order's currency.
    pub unit_price: i64,
    /// Optional; must equal the order's currency when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipToBody {
    pub name: String,
    pub line1: String,
    pub city: String,
    #[serde(default)]
    pub region: String,
    pub postal_code: String,
    pub country: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lat: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lon: Option<f64>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrderBody {
    pub channel: String,
    pub external_id: String,
    /// ISO 4217 code of every price on the order.
    pub currency: String,
    pub lines: Vec<OrderLineBody>,
    pub ship_to: ShipToBody,
    /// `standard` (default), `expedited`, `same_day` or `pickup`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_level: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pickup_location: Option<String>,
    /// `paid` (default) or `pending`: a pending order holds its stock for the
    /// reservation TTL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment: Option<String>,
    /// The customer's e-mail address: notifications (order accepted,
    /// shipped, ...) go there, each with a link to the order's status page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

fn ship_to(s: ShipToBody) -> ShipTo {
    ShipTo {
        name: s.name,
        line1: s.line1,
        city: s.city,
        region: s.region,
        postal_code: s.postal_code,
        country: s.country,
        lat: s.lat,
        lon: s.lon,
    }
}

/// Parses an order body into a validated [`NewOrder`] (the core's intake
/// rules; the server only moves fields).
pub fn parse_order(body: CreateOrderBody) -> Result<NewOrder, ApiError> {
    let draft = OrderDraft {
        channel: body.channel,
        external_id: body.external_id,
        currency: body.currency,
        lines: body
            .lines
            .into_iter()
            .map(|l| LineDraft { sku: l.sku, quantity: l.quantity, unit_price: l.unit_price, currency: l.currency })
            .collect(),
        ship_to: ship_to(body.ship_to),
        service_level: body.service_level,
        pickup_location: body.pickup_location,
        payment: body.payment,
        email: body.email,
    };
    Ok(NewOrder::parse(draft)?)
}
