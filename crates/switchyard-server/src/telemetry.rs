//! `GET /metrics`: operational metrics in the Prometheus text exposition
//! format 0.0.4, and the middleware that counts every request.
//!
//! Written by hand rather than with a metrics crate: a handful of series,
//! one small fixed-bucket histogram, and the text format is a few lines
//! (no new dependency for that). What a scrape shows:
//!
//! - `switchyard_http_requests_total{method,route,status}` and the histogram
//!   `switchyard_http_request_duration_seconds{route}`: counted in this
//!   process since it started. `route` is the matched route template
//!   (`/api/v1/orders/{id}`), never the raw path, and `unmatched` for a
//!   request no route took; `method` is one of the standard methods or
//!   `other`: every label has a bounded set of values.
//! - `switchyard_reservations_units`, `switchyard_outbox_backlog{state}`,
//!   `switchyard_exceptions_open{kind}`, `switchyard_orders_total{status}`:
//!   read from the database at scrape time (every kind and status listed,
//!   zeros included).
//! - `switchyard_sweeper_runs_total` (and `..._failures_total`): sweeps this
//!   process ran.
//!
//! Access: the bearer token, like the API, unless `metrics_public` is set
//! (a scraper on a private network).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, Method};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use switchyard_engine::clock::Stopwatch;

use crate::{auth, ApiError, AppState};

/// Upper bounds of the latency buckets, in seconds (Prometheus' defaults).
const BUCKETS: [f64; 11] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// The route label of a request no route matched.
const UNMATCHED: &str = "unmatched";

#[derive(Debug, Default, Clone)]
struct Histogram {
    /// Per bucket, the requests at or under its bound (not cumulative here).
    buckets: [u64; BUCKETS.len()],
    sum_secs: f64,
    count: u64,
}

#[derive(Debug, Default, Clone)]
struct Recorded {
    requests: BTreeMap<(&'static str, String, u16), u64>,
    durations: BTreeMap<String, Histogram>,
}

/// Request counts and latencies since the process started.
#[derive(Debug, Default)]
pub struct HttpMetrics {
    recorded: Mutex<Recorded>,
}

impl HttpMetrics {
    fn record(&self, method: &'static str, route: &str, status: u16, secs: f64) {
        // A poisoned lock only means another request panicked mid-update;
        // the counts are still counts.
        let mut r = self.recorded.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *r.requests.entry((method, route.to_owned(), status)).or_insert(0) += 1;
        let h = r.durations.entry(route.to_owned()).or_default();
        if let Some(i) = BUCKETS.iter().position(|bound| secs <= *bound) {
            h.buckets[i] += 1;
        }
        h.sum_secs += secs;
        h.count += 1;
    }

    /// A copy, so the lock is not held while the scrape is written.
    fn snapshot(&self) -> Recorded {
        self.recorded.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}

fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// The route template a request matched; `unmatched` when none did (a
/// nested router's catch-all counts as none).
fn route_label(matched: Option<&MatchedPath>) -> String {
    match matched {
        Some(p) if !p.as_str().contains("__private__") => p.as_str().to_owned(),
        _ => UNMATCHED.to_owned(),
    }
}

/// Middleware: counts every request by method, matched route and status,
/// and times it.
pub async fn track(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let method = method_label(req.method());
    let route = route_label(req.extensions().get::<MatchedPath>());
    let watch = Stopwatch::start();
    let response = next.run(req).await;
    let secs = watch.micros() as f64 / 1e6;
    app.http.record(method, &route, response.status().as_u16(), secs);
    response
}

/// `GET /metrics`, behind the bearer token unless `metrics_public`.
pub fn routes(state: AppState) -> Router {
    let public = state.config.metrics_public;
    let r = Router::new().route("/metrics", get(scrape));
    let r = if public { r } else { r.layer(middleware::from_fn_with_state(state.clone(), auth::require_bearer)) };
    r.with_state(state)
}

/// A label value, escaped as the text format wants.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn describe(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

async fn scrape(State(app): State<AppState>) -> Result<Response, ApiError> {
    let g = app.engine.gauges().await?;
    let Recorded { requests, durations } = app.http.snapshot();
    let mut out = String::with_capacity(4096);

    let name = "switchyard_http_requests_total";
    describe(&mut out, name, "counter", "HTTP requests answered since start, by method, route template and status.");
    for ((method, route, status), n) in &requests {
        let _ = writeln!(out, "{name}{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}", escape(route));
    }
    let name = "switchyard_http_request_duration_seconds";
    describe(&mut out, name, "histogram", "Time to answer HTTP requests since start, by route template.");
    for (route, h) in &durations {
        let route = escape(route);
        let mut cumulative = 0;
        for (bound, n) in BUCKETS.iter().zip(h.buckets) {
            cumulative += n;
            let _ = writeln!(out, "{name}_bucket{{route=\"{route}\",le=\"{bound}\"}} {cumulative}");
        }
        let _ = writeln!(out, "{name}_bucket{{route=\"{route}\",le=\"+Inf\"}} {}", h.count);
        let _ = writeln!(out, "{name}_sum{{route=\"{route}\"}} {}", h.sum_secs);
        let _ = writeln!(out, "{name}_count{{route=\"{route}\"}} {}", h.count);
    }

    let name = "switchyard_reservations_units";
    describe(&mut out, name, "gauge", "Units reserved for open orders over every position.");
    let _ = writeln!(out, "{name} {}", g.reserved_units);
    let name = "switchyard_outbox_backlog";
    describe(&mut out, name, "gauge", "Outbox messages by state (delivered ones are kept a week).");
    for (state, n) in [("pending", g.outbox.pending), ("delivered", g.outbox.delivered), ("dead", g.outbox.dead)] {
        let _ = writeln!(out, "{name}{{state=\"{state}\"}} {n}");
    }
    let name = "switchyard_exceptions_open";
    describe(&mut out, name, "gauge", "Open exceptions by kind.");
    for (kind, n) in &g.open_exceptions {
        let _ = writeln!(out, "{name}{{kind=\"{}\"}} {n}", kind.as_str());
    }
    let name = "switchyard_sweeper_runs_total";
    describe(&mut out, name, "counter", "Sweeps (expired holds, auto-cancel, escalation) run since start.");
    let _ = writeln!(out, "{name} {}", g.sweeper_runs);
    let name = "switchyard_sweeper_failures_total";
    describe(&mut out, name, "counter", "Sweeps that failed since start.");
    let _ = writeln!(out, "{name} {}", g.sweeper_failures);
    let name = "switchyard_orders_total";
    describe(&mut out, name, "gauge", "Orders in the database by current status.");
    for (status, n) in &g.orders {
        let _ = writeln!(out, "{name}{{status=\"{}\"}} {n}", status.as_str());
    }
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], out).into_response())
}
