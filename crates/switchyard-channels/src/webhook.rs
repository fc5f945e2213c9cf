//! Webhook signatures: Shopify (`X-Shopify-Hmac-Sha256`) and WooCommerce
//! (`X-WC-Webhook-Signature`) both send base64(HMAC-SHA256(secret, raw
//! body)). Checked over the raw bytes, in constant time, before anything
//! is parsed.

use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::Kind;

/// How a platform signs and identifies its webhook deliveries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scheme {
    /// The header carrying the signature.
    pub signature_header: &'static str,
    /// The header carrying the delivery's unique id (repeats share it).
    pub delivery_header: &'static str,
}

/// The signature scheme of a kind that delivers webhooks.
pub fn scheme(kind: Kind) -> Option<Scheme> {
    match kind {
        Kind::Shopify => {
            Some(Scheme { signature_header: "x-shopify-hmac-sha256", delivery_header: "x-shopify-webhook-id" })
        }
        Kind::Woocommerce => {
            Some(Scheme { signature_header: "x-wc-webhook-signature", delivery_header: "x-wc-webhook-delivery-id" })
        }
        _ => None,
    }
}

/// base64(HMAC-SHA256(secret, body)), as the platforms send it.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Whether `signature` (the header's value) is the body's signature under
/// `secret`. Constant-time; a malformed header is simply not valid.
pub fn verify(secret: &str, body: &[u8], signature: &str) -> bool {
    let Ok(given) = base64::engine::general_purpose::STANDARD.decode(signature.trim()) else { return false };
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()) else { return false };
    mac.update(body);
    mac.verify_slice(&given).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_only_for_the_same_body_and_secret() {
        let body = br#"{"id": 1}"#;
        let sig = sign("s3cret", body);
        assert!(verify("s3cret", body, &sig));
        assert!(!verify("s3cret", br#"{"id": 2}"#, &sig), "tampered body");
        assert!(!verify("other", body, &sig), "other secret");
        assert!(!verify("s3cret", body, ""), "missing");
        assert!(!verify("s3cret", body, "not base64!"), "garbage");
        // A known vector: HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog").
        let fox = sign("key", b"The quick brown fox jumps over the lazy dog");
        assert_eq!(fox, "97yD9DBThCSxMpjmqm+xQ+9NWaFJRhdZl0edvC0aPNg=");
    }
}
