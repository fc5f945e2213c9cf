//! A webhook receiver on a loopback port, as a shop's or a vendor's system
//! would run one: records every call (its headers and raw body), answers
//! with the status it is set to (200 at first), and checks a call's
//! `x-switchyard-signature` the way a receiver would (constant time).

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// A call the receiver got: its headers and raw body.
pub type Call = (HeaderMap, Vec<u8>);

#[derive(Clone)]
pub struct WebhookReceiver {
    got: Arc<Mutex<Vec<Call>>>,
    answer: Arc<AtomicU16>,
}

impl WebhookReceiver {
    /// Listens on a free loopback port; returns the receiver and the URL
    /// that posts to `path` there.
    pub async fn start(path: &str) -> std::io::Result<(WebhookReceiver, String)> {
        let hooks = WebhookReceiver { got: Arc::default(), answer: Arc::new(AtomicU16::new(200)) };
        let h = hooks.clone();
        let app = axum::Router::new().route(
            path,
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let h = h.clone();
                async move {
                    h.got.lock().unwrap_or_else(|p| p.into_inner()).push((headers, body.to_vec()));
                    StatusCode::from_u16(h.answer.load(Ordering::Relaxed)).unwrap_or(StatusCode::OK)
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}{path}", listener.local_addr()?);
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok((hooks, url))
    }

    /// Every call so far, oldest first.
    pub fn calls(&self) -> Vec<Call> {
        self.got.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The status the next calls are answered with.
    pub fn answer_with(&self, status: u16) {
        self.answer.store(status, Ordering::Relaxed);
    }
}

/// Whether `x-switchyard-signature` is `sha256=<hex>` of HMAC-SHA256 of
/// `body` under `secret`.
pub fn verified(headers: &HeaderMap, body: &[u8], secret: &str) -> bool {
    let Some(sig) = headers.get("x-switchyard-signature").and_then(|v| v.to_str().ok()) else { return false };
    let Some(hex_sig) = sig.strip_prefix("sha256=") else { return false };
    let Ok(bytes) = hex::decode(hex_sig) else { return false };
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()) else { return false };
    mac.update(body);
    mac.verify_slice(&bytes).is_ok()
}
