//! The HTTP face of Switchyard: the JSON API under `/api/v1` (with its
//! OpenAPI document), the dashboard pages at `/`, and the background sweeper
//! that releases unpaid orders' reservations when they expire.
//!
//! Only this crate knows HTTP. Handlers parse DTOs into core types, call the
//! [`Store`], and map typed errors to stable codes through [`ApiError`].

mod api;
mod auth;
mod compare;
mod config;
mod dashboard;
mod error;
mod rules;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use switchyard_store::Store;
use tokio::net::TcpListener;

pub use api::{openapi_document, parse_order, parse_policy, CreateOrderBody, OrderLineBody, ShipToBody};
pub use config::{ApiToken, ServerConfig};
pub use error::ApiError;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub config: Arc<ServerConfig>,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, config: ServerConfig) -> Self {
        Self { store, config: Arc::new(config) }
    }
}

/// The wall clock, read here at the edge and passed into the store and core.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The whole application: API, dashboard, health check.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(api::routes(state.clone()))
        .merge(dashboard::routes(state.clone()))
        .layer(tower_http::trace::TraceLayer::new_for_http())
}

/// Every `sweep_interval`: releases expired reservations, cancels orders held
/// past the policy's auto-cancel time, and escalates exceptions past their
/// SLA, for as long as the process runs.
pub fn spawn_sweeper(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(state.config.sweep_interval_ms.max(10)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match state.store.expire_reservations(now_ms(), state.config.expired_action, 200).await {
                Ok(ids) if !ids.is_empty() => {
                    tracing::info!(count = ids.len(), "released expired reservations");
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "reservation sweep failed"),
            }
            match state.store.auto_cancel_held(now_ms(), 200).await {
                Ok(ids) if !ids.is_empty() => tracing::info!(count = ids.len(), "auto-cancelled held orders"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "auto-cancel sweep failed"),
            }
            match state.store.escalate_exceptions(now_ms()).await {
                Ok(raised) if !raised.is_empty() => {
                    tracing::info!(count = raised.len(), "escalated exceptions past their SLA")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "exception escalation failed"),
            }
        }
    })
}

/// Serves until the process ends (or ctrl-c), with the sweeper running.
pub async fn serve(listener: TcpListener, state: AppState) -> std::io::Result<()> {
    let sweeper = spawn_sweeper(state.clone());
    let app = router(state);
    let result = axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await;
    sweeper.abort();
    result
}
