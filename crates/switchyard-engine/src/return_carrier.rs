//! Who issues a return's label: a [`ReturnCarrier`]. The engine asks it
//! once, outside any transaction, when a label is issued
//! (`Engine::issue_return_label`), and records what it answered.
//!
//! - [`SelfPrinted`], the default: the label is the one Switchyard draws
//!   itself (`label.pdf`, `label.zpl`); no postage, no tracking number.
//! - [`HttpCarrier`]: posts the parcel to a carrier's (or a shipping
//!   aggregator's) API and keeps the postage-paid label PDF and tracking
//!   number it sends back. Configured with a base URL and an API key
//!   (`return_carrier_url`, `return_carrier_api_key`); the key is sent as a
//!   bearer token and never printed.
//!
//! The HTTP carrier's API, as Switchyard speaks it:
//!
//! ```text
//! POST {base_url}/v1/return-labels
//! Authorization: Bearer {api_key}
//! {"reference": "RMA-261130-0001", "order": "web 1001", "reason": "defective",
//!  "from": {name, line1, city, region, postal_code, country},   // the customer
//!  "to": {name, line1, city, region, postal_code, country},     // the destination
//!  "items": [{"sku", "quantity"}], "label_format": "pdf"}
//! → 200 or 201 {"carrier": "UPS", "tracking_number": "1Z...", "label_pdf": "<base64>"}
//! ```
//!
//! Any other status, a body that is not that shape, a label that is not a
//! PDF (or over 5 MB) or a request that takes over 20 s is a
//! [`CarrierError`]: nothing is recorded and the client is told
//! (`carrier_failed`, 502).

use std::time::Duration;

use base64::Engine as _;
use futures::future::BoxFuture;
use serde_json::{json, Value};
use switchyard_core::returns::label::LabelAddress;
use switchyard_core::{Text, TextRule};

/// The largest label file accepted from a carrier.
pub const MAX_LABEL_BYTES: usize = 5 * 1024 * 1024;
/// How long a carrier may take to answer.
pub const CARRIER_TIMEOUT: Duration = Duration::from_secs(20);
/// The name recorded for the built-in carrier.
pub const SELF_PRINTED: &str = "self_printed";

/// What goes in the box and why, for the carrier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parcel {
    pub rma: String,
    /// The order as the customer knows it (`web 1001`).
    pub order: String,
    pub reason: String,
    /// (SKU, units).
    pub items: Vec<(String, i64)>,
}

/// What a carrier issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedLabel {
    /// Recorded as the return's `carrier`.
    pub carrier: String,
    pub tracking: Option<String>,
    /// The carrier's label; `None`: Switchyard's own label is the label.
    pub pdf: Option<Vec<u8>>,
}

/// A carrier that did not issue a label. The message is safe to show (it
/// never carries the API key).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CarrierError {
    #[error("the return carrier could not be reached: {0}")]
    Unreachable(String),
    #[error("the return carrier refused the label ({status}): {message}")]
    Refused { status: u16, message: String },
    #[error("the return carrier's answer is unusable: {0}")]
    BadAnswer(String),
}

/// Issues return labels.
pub trait ReturnCarrier: Send + Sync + 'static {
    /// The carrier's name, as the settings and the logs show it.
    fn name(&self) -> &str;

    /// A label for `parcel` from the customer (`from`) to the destination
    /// (`to`).
    fn issue_label<'a>(
        &'a self,
        parcel: &'a Parcel,
        from: &'a LabelAddress,
        to: &'a LabelAddress,
    ) -> BoxFuture<'a, Result<IssuedLabel, CarrierError>>;
}

/// The built-in carrier: Switchyard's own printable label, no tracking.
#[derive(Debug, Clone, Copy, Default)]
pub struct SelfPrinted;

impl ReturnCarrier for SelfPrinted {
    fn name(&self) -> &str {
        SELF_PRINTED
    }

    fn issue_label<'a>(
        &'a self,
        _: &'a Parcel,
        _: &'a LabelAddress,
        _: &'a LabelAddress,
    ) -> BoxFuture<'a, Result<IssuedLabel, CarrierError>> {
        Box::pin(async { Ok(IssuedLabel { carrier: SELF_PRINTED.to_owned(), tracking: None, pdf: None }) })
    }
}

/// A carrier's HTTP API (see the module docs for the exchange).
pub struct HttpCarrier {
    base_url: String,
    api_key: String,
    client: reqwest::Client,
}

impl std::fmt::Debug for HttpCarrier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpCarrier").field("base_url", &self.base_url).field("api_key", &"[hidden]").finish()
    }
}

impl HttpCarrier {
    /// A carrier at `base_url` (`https://…`, or a loopback stand-in).
    pub fn new(base_url: &str, api_key: &str) -> Result<HttpCarrier, CarrierError> {
        let client = reqwest::Client::builder()
            .timeout(CARRIER_TIMEOUT)
            .build()
            .map_err(|e| CarrierError::Unreachable(e.to_string()))?;
        Ok(HttpCarrier { base_url: base_url.trim_end_matches('/').to_owned(), api_key: api_key.to_owned(), client })
    }

    async fn post(&self, parcel: &Parcel, from: &LabelAddress, to: &LabelAddress) -> Result<IssuedLabel, CarrierError> {
        let body = json!({
            "reference": parcel.rma,
            "order": parcel.order,
            "reason": parcel.reason,
            "from": address_json(from),
            "to": address_json(to),
            "items": parcel.items.iter().map(|(sku, n)| json!({"sku": sku, "quantity": n})).collect::<Vec<_>>(),
            "label_format": "pdf",
        });
        let url = format!("{}/v1/return-labels", self.base_url);
        let response = (self.client.post(&url).bearer_auth(&self.api_key).json(&body).send().await)
            .map_err(|e| CarrierError::Unreachable(e.without_url().to_string()))?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(|e| CarrierError::Unreachable(e.without_url().to_string()))?;
        if !(200..300).contains(&status) {
            let text = String::from_utf8_lossy(&bytes);
            return Err(CarrierError::Refused { status, message: text.chars().take(300).collect() });
        }
        read_answer(&bytes)
    }
}

impl ReturnCarrier for HttpCarrier {
    fn name(&self) -> &str {
        "http"
    }

    fn issue_label<'a>(
        &'a self,
        parcel: &'a Parcel,
        from: &'a LabelAddress,
        to: &'a LabelAddress,
    ) -> BoxFuture<'a, Result<IssuedLabel, CarrierError>> {
        Box::pin(self.post(parcel, from, to))
    }
}

fn address_json(a: &LabelAddress) -> Value {
    json!({"name": a.name, "line1": a.line1, "city": a.city, "region": a.region, "postal_code": a.postal_code,
           "country": a.country})
}

/// The carrier's answer, checked: a carrier name and tracking number that
/// are one line of text, and a PDF.
fn read_answer(bytes: &[u8]) -> Result<IssuedLabel, CarrierError> {
    let bad = |what: &str| CarrierError::BadAnswer(what.to_owned());
    if bytes.len() > MAX_LABEL_BYTES * 2 {
        return Err(bad("the answer is too large"));
    }
    let v: Value = serde_json::from_slice(bytes).map_err(|_| bad("not JSON"))?;
    let line = |field: &'static str| -> Result<String, CarrierError> {
        let raw = v[field].as_str().ok_or_else(|| bad(&format!("no {field}")))?;
        Text::parse(field, raw, TextRule::CARRIER.required())
            .map(Text::into_string)
            .map_err(|e| CarrierError::BadAnswer(e.to_string()))
    };
    let carrier = line("carrier")?;
    let tracking = line("tracking_number")?;
    let encoded = v["label_pdf"].as_str().ok_or_else(|| bad("no label_pdf"))?;
    let pdf =
        base64::engine::general_purpose::STANDARD.decode(encoded.trim()).map_err(|_| bad("label_pdf is not base64"))?;
    if pdf.len() > MAX_LABEL_BYTES {
        return Err(bad("the label is over 5 MB"));
    }
    if !pdf.starts_with(b"%PDF-") {
        return Err(bad("the label is not a PDF"));
    }
    Ok(IssuedLabel { carrier, tracking: Some(tracking), pdf: Some(pdf) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_carriers_answer_is_checked() {
        let pdf = base64::engine::general_purpose::STANDARD.encode(b"%PDF-1.4 label");
        let good = json!({"carrier": "UPS", "tracking_number": "1Z999", "label_pdf": pdf}).to_string();
        let issued = read_answer(good.as_bytes()).expect("good");
        assert_eq!((issued.carrier.as_str(), issued.tracking.as_deref()), ("UPS", Some("1Z999")));
        assert_eq!(issued.pdf.as_deref(), Some(&b"%PDF-1.4 label"[..]));
        let not_pdf = base64::engine::general_purpose::STANDARD.encode(b"<html>");
        for (body, why) in [
            ("nope".to_owned(), "not JSON"),
            (json!({"carrier": "UPS", "label_pdf": pdf}).to_string(), "no tracking_number"),
            (json!({"carrier": "UPS", "tracking_number": "1Z\n9", "label_pdf": pdf}).to_string(), "tracking"),
            (json!({"carrier": "UPS", "tracking_number": "1Z", "label_pdf": "!!"}).to_string(), "not base64"),
            (json!({"carrier": "UPS", "tracking_number": "1Z", "label_pdf": not_pdf}).to_string(), "not a PDF"),
        ] {
            let e = read_answer(body.as_bytes()).expect_err(why);
            assert!(e.to_string().contains(why), "{e} should say {why}");
        }
    }

    #[test]
    fn the_api_key_never_prints() {
        let c = HttpCarrier::new("http://127.0.0.1:9/", "sk-secret").expect("client");
        assert!(!format!("{c:?}").contains("sk-secret"));
        assert_eq!(c.base_url, "http://127.0.0.1:9");
    }
}
