//! `POST /hooks/{name}`: a channel connection's webhook endpoint. The
//! platform's signature over the raw body is checked (constant time) with
//! the connection's secret before anything is parsed; a bad or missing
//! signature is 401 and stores nothing (and counts as a wrong token for the
//! sender's address). A repeated delivery is answered 200 without being
//! applied again. The payload is parsed by the channel's adapter into
//! canonical orders, which the engine creates or applies.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::json;
use switchyard_channels::webhook;
use switchyard_core::ChannelName;
use switchyard_engine::Code;

use crate::api::{ApiBytes, ApiPath};
use crate::auth::{too_many_failures, ClientIp};
use crate::{ApiError, AppState};

pub fn routes(state: AppState) -> Router {
    Router::new()
        .route("/hooks/{name}", post(receive))
        .layer(axum::extract::DefaultBodyLimit::max(state.config.body_limit_bytes))
        .with_state(state)
}

fn unsigned() -> ApiError {
    ApiError::new(Code::Unauthorized, "the webhook signature is missing or does not match")
}

async fn receive(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiPath(name): ApiPath<String>,
    headers: HeaderMap,
    ApiBytes(body): ApiBytes,
) -> Result<Response, ApiError> {
    let now = state.engine.now_ms();
    if let Some(wait) = state.failures.blocked(ip, now) {
        return Err(too_many_failures(wait));
    }
    let name = ChannelName::parse(&name).map_err(|_| unsigned())?;
    // An unknown connection, one without a secret, or a kind that sends no
    // webhooks all look the same to the sender: not signed by us.
    let connection = state.engine.channel_connection(&name).await?;
    let Some((channel, Some(secret))) = connection else {
        state.failures.record(ip, now);
        return Err(unsigned());
    };
    let Some(scheme) = webhook::scheme(channel.kind) else {
        state.failures.record(ip, now);
        return Err(unsigned());
    };
    let header = |h: &str| headers.get(h).and_then(|v| v.to_str().ok());
    if !header(scheme.signature_header).is_some_and(|sig| webhook::verify(&secret, &body, sig)) {
        state.failures.record(ip, now);
        return Err(unsigned());
    }
    if !channel.active {
        return Err(ApiError::new(Code::ChannelInactive, format!("channel {name} is inactive")));
    }
    // WooCommerce pings a new webhook with a form body, not an order.
    if body.starts_with(b"webhook_id=") {
        return Ok(Json(json!({"received": 0, "orders": []})).into_response());
    }
    let delivery = header(scheme.delivery_header).map(str::trim).filter(|d| !d.is_empty() && d.len() <= 200);
    if let Some(d) = delivery {
        if state.engine.delivery_seen(&name, d).await? {
            return Ok(Json(json!({"received": 0, "duplicate_delivery": d, "orders": []})).into_response());
        }
    }
    let orders =
        switchyard_channels::parse(channel.kind, &body).map_err(|e| ApiError::new(Code::InvalidBody, e.to_string()))?;
    let received = state.engine.receive_channel_orders(&name, delivery, &orders).await?;
    let list: Vec<_> = received
        .iter()
        .map(|r| json!({"external_id": r.external_id, "order_id": r.order_id, "outcome": r.outcome.as_str()}))
        .collect();
    Ok(Json(json!({"received": list.len(), "orders": list})).into_response())
}
