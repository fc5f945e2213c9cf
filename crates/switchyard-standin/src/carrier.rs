//! A local stand-in of a return carrier's label API (the exchange the
//! engine's `HttpCarrier` speaks; see `switchyard_engine::return_carrier`):
//! `POST /v1/return-labels` with `Authorization: Bearer <key>` answers 201
//! `{"carrier", "tracking_number", "label_pdf"}`: a one-page PDF naming the
//! reference, and tracking numbers `1ZSTANDIN0001`, `1ZSTANDIN0002`, …
//! A wrong key is 401; scripted answers (a status) come first, in order.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::{json, Value};

/// The carrier name the stand-in answers with.
pub const CARRIER_NAME: &str = "Stand-in Parcel";

/// One request as it arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarrierRequest {
    pub method: String,
    pub path: String,
    pub authorization: Option<String>,
    pub body: Value,
}

#[derive(Default)]
struct Inner {
    requests: Vec<CarrierRequest>,
    /// Statuses to answer with instead, in order.
    script: Vec<u16>,
    issued: u64,
    /// Labels issued, by tracking number.
    labels: Vec<(String, Vec<u8>)>,
}

/// A running carrier stand-in. Dropping it stops the server.
pub struct CarrierStandIn {
    addr: SocketAddr,
    key: String,
    inner: Arc<Mutex<Inner>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for CarrierStandIn {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Clone)]
struct App {
    key: String,
    inner: Arc<Mutex<Inner>>,
}

fn lock(m: &Mutex<Inner>) -> MutexGuard<'_, Inner> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl CarrierStandIn {
    /// Starts a carrier on a free loopback port that accepts `api_key`.
    pub async fn start(api_key: &str) -> std::io::Result<CarrierStandIn> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app =
            axum::Router::new().fallback(answer).with_state(App { key: api_key.to_owned(), inner: inner.clone() });
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(CarrierStandIn { addr, key: api_key.to_owned(), inner, task })
    }

    /// `http://127.0.0.1:<port>`: the carrier's base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn api_key(&self) -> &str {
        &self.key
    }

    /// Answers the next requests with these statuses (and an error body).
    pub fn script(&self, statuses: impl IntoIterator<Item = u16>) {
        lock(&self.inner).script.extend(statuses);
    }

    pub fn requests(&self) -> Vec<CarrierRequest> {
        lock(&self.inner).requests.clone()
    }

    /// The labels issued so far: (tracking number, PDF).
    pub fn labels(&self) -> Vec<(String, Vec<u8>)> {
        lock(&self.inner).labels.clone()
    }
}

async fn answer(State(app): State<App>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let authorization = headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut inner = lock(&app.inner);
    inner.requests.push(CarrierRequest {
        method: method.as_str().to_owned(),
        path: uri.path().to_owned(),
        authorization: authorization.clone(),
        body: body.clone(),
    });
    if !inner.script.is_empty() {
        let status = inner.script.remove(0);
        let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return (code, axum::Json(json!({"error": "scripted"}))).into_response();
    }
    if method != Method::POST || uri.path() != "/v1/return-labels" {
        return (StatusCode::NOT_FOUND, axum::Json(json!({"error": "no such call"}))).into_response();
    }
    if authorization.as_deref() != Some(&format!("Bearer {}", app.key)) {
        return (StatusCode::UNAUTHORIZED, axum::Json(json!({"error": "bad api key"}))).into_response();
    }
    let Some(reference) = body["reference"].as_str().filter(|r| !r.is_empty()) else {
        return (StatusCode::UNPROCESSABLE_ENTITY, axum::Json(json!({"error": "reference is required"})))
            .into_response();
    };
    inner.issued += 1;
    let tracking = format!("1ZSTANDIN{:04}", inner.issued);
    let pdf = label_pdf(&format!("{CARRIER_NAME} {tracking} {reference}"));
    inner.labels.push((tracking.clone(), pdf.clone()));
    let encoded = base64::engine::general_purpose::STANDARD.encode(&pdf);
    let answer = json!({"carrier": CARRIER_NAME, "tracking_number": tracking, "label_pdf": encoded});
    (StatusCode::CREATED, axum::Json(answer)).into_response()
}

/// A one-page 4 × 6 PDF showing `text` (printable ASCII).
fn label_pdf(text: &str) -> Vec<u8> {
    let text: String =
        text.chars().filter(|c| c.is_ascii_graphic() || *c == ' ').filter(|c| !"()\\".contains(*c)).collect();
    let content = format!("BT /F1 8 Tf 10 380 Td ({text}) Tj ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 288 432] /Resources << /Font << /F1 4 0 R >> >> \
         /Contents 5 0 R >>"
            .to_owned(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
        format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len()),
    ];
    let mut out = String::from("%PDF-1.4\n");
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.push_str(&format!("{} 0 obj\n{o}\nendobj\n", i + 1));
    }
    let xref = out.len();
    out.push_str(&format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1));
    for offset in offsets {
        out.push_str(&format!("{offset:010} 00000 n \n"));
    }
    out.push_str(&format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1));
    out.into_bytes()
}
