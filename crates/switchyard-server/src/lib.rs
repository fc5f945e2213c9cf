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
mod hooks;
mod limits;
mod self_service;
mod status_page;
pub mod stock_csv;
mod telemetry;
mod vendor_page;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use switchyard_engine::Engine;
use tokio::net::TcpListener;

pub use api::{
    connection_from_json, openapi_document, parse_order, parse_policy, CreateOrderBody, OrderLineBody, ShipToBody,
};
pub use config::{ApiToken, ServerConfig, MIN_TOKEN_CHARS};
pub use error::ApiError;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub engine: Arc<Engine>,
    pub config: Arc<ServerConfig>,
    /// Failed authentications per client address.
    failures: Arc<limits::FailureLimiter>,
    /// Failed self-service order look-ups per client address (apart from
    /// sign-ins: a customer's typos never lock the staff out).
    lookups: Arc<limits::FailureLimiter>,
    /// Request counts and latencies for `/metrics`.
    http: Arc<telemetry::HttpMetrics>,
}

impl AppState {
    pub fn new(engine: Arc<Engine>, config: ServerConfig) -> Self {
        let window_ms = i64::try_from(config.auth_failure_window_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
        let failures = Arc::new(limits::FailureLimiter::new(config.max_auth_failures, window_ms));
        let lookups = Arc::new(limits::FailureLimiter::new(config.max_auth_failures, window_ms));
        Self { engine, config: Arc::new(config), failures, lookups, http: Default::default() }
    }
}

/// The whole application: API, dashboard, health check, `/metrics`; every
/// answer carries the security headers, every request has a time limit and
/// is counted (by its matched route) for `/metrics`.
pub fn router(state: AppState) -> Router {
    let timeout = Duration::from_secs(state.config.request_timeout_secs.max(1));
    Router::new()
        .merge(api::routes(state.clone()))
        .merge(hooks::routes(state.clone()))
        .merge(status_page::routes(state.clone()))
        .merge(self_service::routes(state.clone()))
        .merge(vendor_page::routes(state.clone()))
        .merge(telemetry::routes(state.clone()))
        .merge(dashboard::routes(state.clone()))
        .layer(axum::middleware::from_fn(move |req, next| limits::time_limit(timeout, req, next)))
        .layer(axum::middleware::map_response(limits::security_headers))
        .layer(axum::middleware::from_fn_with_state(state, telemetry::track))
        .layer(tower_http::trace::TraceLayer::new_for_http())
}

/// Serves until the process ends (or ctrl-c), with the sweeper, the
/// channel sync worker (stock levels out to live connections) and, when
/// configured, the notifier (customer e-mails and webhooks) running.
///
/// Each connection is HTTP/1.1 with a header-read timeout (which also
/// closes idle keep-alive connections) and small buffers; at most
/// `max_connections` are open at once (more are closed as they arrive, so
/// idle clients cannot exhaust memory); every request has a time limit.
pub async fn serve(listener: TcpListener, state: AppState) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};

    let interval = Duration::from_millis(state.config.sweep_interval_ms.max(10));
    let sweeper = state.engine.clone().spawn_sweeper(interval);
    let sync_options = switchyard_engine::SyncOptions {
        tick: Duration::from_millis(state.config.sync_tick_ms.max(10)),
        ..switchyard_engine::SyncOptions::default()
    };
    let sync = switchyard_engine::ChannelSync::new(state.engine.clone(), sync_options)
        .map_err(|e| std::io::Error::other(e.to_string()))?
        .spawn();
    // Customer notifications and dropship vendors' purchase orders, when a
    // mail server, a webhook or the public URL is configured.
    let notifier = match state.config.notify.clone() {
        Some(n) => Some(
            switchyard_engine::Notifier::new(state.engine.clone(), n)
                .map_err(|e| std::io::Error::other(e.to_string()))?
                .spawn(),
        ),
        None => None,
    };
    let config = state.config.clone();
    let app = router(state);
    let permits = Arc::new(tokio::sync::Semaphore::new(config.max_connections.max(1)));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(config.header_timeout_secs.max(1)))
        .max_buf_size(64 * 1024)
        .keep_alive(true);
    let stop = tokio::signal::ctrl_c();
    tokio::pin!(stop);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait, don't spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut stop => break,
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            tracing::warn!(%peer, limit = config.max_connections, "connection limit reached; closing a new connection");
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let svc = tower::ServiceBuilder::new()
            .map_request(move |mut req: axum::http::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(axum::extract::ConnectInfo(peer));
                req
            })
            .service(app.clone());
        let conn = http.serve_connection(TokioIo::new(stream), hyper_util::service::TowerToHyperService::new(svc));
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let _ = conn.await;
            drop(permit);
        });
    }
    sweeper.abort();
    sync.abort();
    if let Some(n) = notifier {
        n.abort();
    }
    // Let requests in flight finish (bounded), then stop.
    let _ = tokio::time::timeout(Duration::from_secs(10), graceful.shutdown()).await;
    Ok(())
}
