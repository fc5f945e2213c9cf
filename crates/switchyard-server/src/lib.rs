//! The HTTP face of Switchyard: the JSON API under `/api/v1` (with its
//! OpenAPI document) and the dashboard pages at `/`; `serve` also runs the
//! engine's sweeper.
//!
//! Only this crate knows HTTP. Handlers parse DTOs into core types, call the
//! [`Engine`], and map typed errors to stable codes through [`ApiError`].

mod api;
mod auth;
mod compare;
mod config;
mod dashboard;
mod error;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use switchyard_engine::Engine;
use tokio::net::TcpListener;

pub use api::{openapi_document, parse_order, parse_policy, CreateOrderBody, OrderLineBody, ShipToBody};
pub use config::{ApiToken, ServerConfig};
pub use error::ApiError;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub engine: Arc<Engine>,
    pub config: Arc<ServerConfig>,
}

impl AppState {
    pub fn new(engine: Arc<Engine>, config: ServerConfig) -> Self {
        Self { engine, config: Arc::new(config) }
    }
}

/// The whole application: API, dashboard, health check.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(api::routes(state.clone()))
        .merge(dashboard::routes(state.clone()))
        .layer(tower_http::trace::TraceLayer::new_for_http())
}

/// Serves until the process ends (or ctrl-c), with the sweeper running.
pub async fn serve(listener: TcpListener, state: AppState) -> std::io::Result<()> {
    let interval = Duration::from_millis(state.config.sweep_interval_ms.max(10));
    let sweeper = state.engine.clone().spawn_sweeper(interval);
    let app = router(state);
    let result = axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await;
    sweeper.abort();
    result
}
