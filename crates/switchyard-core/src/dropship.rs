//! Dropship purchase orders: when an order's units are allocated to a
//! dropship vendor's location, the vendor is sent a purchase order (PO) and
//! ships those units to the customer itself. This module holds the pure
//! parts: the PO's status machine (`sent → confirmed → shipped`, or
//! `cancelled` while open), the vendor's settings parsed once (where it is
//! told: an e-mail address, a webhook URL with its secret), the PO's number
//! and due time, and the CSV the vendor receives.

use serde::{Deserialize, Serialize};

use crate::notification::EmailAddress;
use crate::order::ShipTo;

/// Where a purchase order stands. Stored by its snake_case code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PoStatus {
    /// Made and sent to the vendor; waiting for its confirmation.
    Sent,
    /// The vendor said it will ship.
    Confirmed,
    /// The vendor shipped it (the order's shipment is recorded).
    Shipped,
    /// Its allocation was released (the order cancelled or re-routed); the
    /// vendor was told.
    Cancelled,
}

/// A purchase order status change the machine does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a {} purchase order cannot become {}", from.as_str(), to.as_str())]
pub struct IllegalPoTransition {
    pub from: PoStatus,
    pub to: PoStatus,
}

impl PoStatus {
    pub const ALL: [PoStatus; 4] = [Self::Sent, Self::Confirmed, Self::Shipped, Self::Cancelled];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::Confirmed => "confirmed",
            Self::Shipped => "shipped",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// Still waiting for the vendor to ship (its units are held for it).
    pub fn is_open(self) -> bool {
        matches!(self, Self::Sent | Self::Confirmed)
    }

    /// The status after `to`, or why not: confirming needs `sent`; shipping
    /// needs an open PO (shipping unconfirmed confirms it); cancelling
    /// needs an open PO.
    pub fn transition(self, to: PoStatus) -> Result<PoStatus, IllegalPoTransition> {
        let ok = match to {
            Self::Confirmed => self == Self::Sent,
            Self::Shipped | Self::Cancelled => self.is_open(),
            Self::Sent => false,
        };
        if ok {
            Ok(to)
        } else {
            Err(IllegalPoTransition { from: self, to })
        }
    }
}

/// What the vendor is told of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PoEvent {
    /// A new purchase order.
    Issued,
    /// A purchase order is cancelled: do not ship it.
    Cancelled,
}

impl PoEvent {
    /// The webhook's `event` (and `X-Switchyard-Event`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Issued => "purchase_order_issued",
            Self::Cancelled => "purchase_order_cancelled",
        }
    }
}

/// The most characters of a webhook URL.
pub const MAX_URL_CHARS: usize = 2000;
/// The fewest characters of a webhook secret (an HMAC key).
pub const MIN_SECRET_CHARS: usize = 16;
/// The most characters of a webhook secret.
pub const MAX_SECRET_CHARS: usize = 200;

/// A vendor's settings as an adapter received them. `webhook_secret`
/// `None` keeps the stored secret (secrets are write-only: never read back).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VendorDraft {
    pub email: Option<String>,
    pub webhook_url: Option<String>,
    pub webhook_secret: Option<String>,
}

/// Where a dropship vendor is told of its purchase orders.
#[derive(Clone, PartialEq, Eq)]
pub struct Vendor {
    pub email: Option<EmailAddress>,
    pub webhook_url: Option<String>,
    /// The HMAC key of the webhook's signature: `Some` whenever
    /// `webhook_url` is (never printed by `Debug`).
    pub webhook_secret: Option<String>,
}

impl std::fmt::Debug for Vendor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vendor")
            .field("email", &self.email)
            .field("webhook_url", &self.webhook_url)
            .field("webhook_secret", &self.webhook_secret.as_ref().map(|_| "***"))
            .finish()
    }
}

/// Why vendor settings were refused (the API answers `invalid_body`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VendorError {
    #[error("email is not a valid e-mail address")]
    BadEmail,
    #[error("webhook_url must be an http:// or https:// URL of at most {MAX_URL_CHARS} characters, without spaces")]
    BadUrl,
    #[error("webhook_secret must have {MIN_SECRET_CHARS} to {MAX_SECRET_CHARS} printable characters")]
    BadSecret,
    #[error("a webhook_url needs a webhook_secret (none is stored)")]
    NoSecret,
}

impl Vendor {
    /// Checks a draft; `stored_secret` is the secret kept from before (used
    /// when the draft brings none). A secret without a URL is dropped.
    pub fn parse(d: VendorDraft, stored_secret: Option<&str>) -> Result<Vendor, VendorError> {
        let blank = |s: &Option<String>| s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
        let email = blank(&d.email).map(|e| EmailAddress::parse(&e).map_err(|_| VendorError::BadEmail)).transpose()?;
        let webhook_url = blank(&d.webhook_url);
        if let Some(u) = &webhook_url {
            let scheme = u.starts_with("http://") || u.starts_with("https://");
            let host = u.split_once("://").map(|(_, rest)| rest).is_some_and(|r| !r.is_empty() && !r.starts_with('/'));
            let clean = u.chars().all(|c| c.is_ascii_graphic());
            if !scheme || !host || !clean || u.chars().count() > MAX_URL_CHARS {
                return Err(VendorError::BadUrl);
            }
        }
        let secret = match d.webhook_secret {
            Some(s) => {
                let n = s.chars().count();
                if !(MIN_SECRET_CHARS..=MAX_SECRET_CHARS).contains(&n) || !s.chars().all(|c| c.is_ascii_graphic()) {
                    return Err(VendorError::BadSecret);
                }
                Some(s)
            }
            None => stored_secret.map(str::to_owned),
        };
        if webhook_url.is_some() && secret.is_none() {
            return Err(VendorError::NoSecret);
        }
        let webhook_secret = if webhook_url.is_some() { secret } else { None };
        Ok(Vendor { email, webhook_url, webhook_secret })
    }
}

/// A purchase order's number: `PO-` and the last 10 hex digits of its id,
/// upper case (the id's random part: unique in practice, and the table's
/// unique index refuses the rare clash).
pub fn number(po_id: &str) -> String {
    let hex: Vec<char> = po_id.chars().filter(char::is_ascii_hexdigit).collect();
    let tail: String = hex[hex.len().saturating_sub(10)..].iter().collect();
    format!("PO-{}", tail.to_ascii_uppercase())
}

const DAY_MS: i64 = 86_400_000;

/// When the vendor must have confirmed: now plus its lead time (a vendor
/// with no lead time has one day).
pub fn due_ms(now_ms: i64, lead_time_days: u32) -> i64 {
    now_ms.saturating_add(i64::from(lead_time_days.max(1)).saturating_mul(DAY_MS))
}

/// One line of a purchase order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoLine {
    /// The order line it ships.
    pub line_no: i64,
    pub sku: String,
    pub title: String,
    pub quantity: i64,
}

/// What a purchase order document says.
#[derive(Debug, Clone, PartialEq)]
pub struct PoDocument<'a> {
    pub number: &'a str,
    /// The order's number as the customer knows it.
    pub order_number: &'a str,
    /// RFC 3339.
    pub due: &'a str,
    pub ship_to: &'a ShipTo,
    pub lines: &'a [PoLine],
}

/// A CSV field: quoted when it holds a separator, quote or line break; a
/// leading `= + - @` (a spreadsheet formula) is defused with a `'`.
fn csv_field(raw: &str) -> String {
    let defused = if raw.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{raw}") } else { raw.to_owned() };
    if defused.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", defused.replace('"', "\"\""))
    } else {
        defused
    }
}

/// The CSV header (one row per line; the PO's fields repeated on each).
pub const CSV_HEADER: &str = "po_number,order_number,line,sku,title,quantity,ship_to_name,ship_to_line1,\
ship_to_city,ship_to_region,ship_to_postal_code,ship_to_country,due";

/// The purchase order as CSV (RFC 4180, CRLF line ends).
pub fn csv(d: &PoDocument<'_>) -> String {
    let mut out = format!("{CSV_HEADER}\r\n");
    let s = d.ship_to;
    for l in d.lines {
        let fields = [
            d.number.to_owned(),
            d.order_number.to_owned(),
            l.line_no.to_string(),
            l.sku.clone(),
            l.title.clone(),
            l.quantity.to_string(),
            s.name.clone(),
            s.line1.clone(),
            s.city.clone(),
            s.region.clone(),
            s.postal_code.clone(),
            s.country.clone(),
            d.due.to_owned(),
        ];
        let row: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    out
}

/// The purchase order as lines of plain text (the e-mail body and the PDF).
pub fn text_lines(d: &PoDocument<'_>) -> Vec<String> {
    let s = d.ship_to;
    let mut out = vec![
        format!("Purchase order {}", d.number),
        format!("Order {}", d.order_number),
        format!("Please confirm by {}", d.due),
        String::new(),
        "Ship to:".to_owned(),
        s.name.clone(),
        s.line1.clone(),
        format!("{} {} {}", s.city, s.region, s.postal_code).split_whitespace().collect::<Vec<_>>().join(" "),
        s.country.clone(),
        String::new(),
        "Items:".to_owned(),
    ];
    out.extend(d.lines.iter().map(|l| format!("{} x {} ({})", l.quantity, l.sku, l.title)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_machine() {
        use PoStatus::*;
        let cases = [
            (Sent, Confirmed, true),
            (Sent, Shipped, true),
            (Sent, Cancelled, true),
            (Confirmed, Shipped, true),
            (Confirmed, Cancelled, true),
            (Confirmed, Confirmed, false),
            (Shipped, Cancelled, false),
            (Shipped, Confirmed, false),
            (Cancelled, Confirmed, false),
            (Cancelled, Shipped, false),
            (Sent, Sent, false),
        ];
        for (from, to, ok) in cases {
            assert_eq!(from.transition(to).is_ok(), ok, "{from:?} -> {to:?}");
        }
        let e = Shipped.transition(Cancelled).expect_err("shipped");
        assert_eq!(e.to_string(), "a shipped purchase order cannot become cancelled");
        for s in PoStatus::ALL {
            assert_eq!(PoStatus::parse(s.as_str()), Some(s));
        }
    }

    fn draft(email: &str, url: &str, secret: Option<&str>) -> VendorDraft {
        VendorDraft {
            email: Some(email.into()),
            webhook_url: Some(url.into()),
            webhook_secret: secret.map(str::to_owned),
        }
    }

    #[test]
    fn vendor_settings_are_checked_and_the_secret_is_write_only() {
        let v = Vendor::parse(draft("po@vendor.example", "https://v.example/po", Some("s3cret-s3cret-s3cret")), None)
            .expect("valid");
        assert_eq!(v.email.as_ref().map(EmailAddress::as_str), Some("po@vendor.example"));
        assert!(!format!("{v:?}").contains("s3cret"));
        // No secret in the draft: the stored one is kept.
        let kept = Vendor::parse(draft("", "http://127.0.0.1:9/h", None), Some("stored-secret-0123")).expect("kept");
        assert_eq!((kept.email, kept.webhook_secret.as_deref()), (None, Some("stored-secret-0123")));
        // No URL: no secret either.
        let none = Vendor::parse(draft("a@b.example", " ", None), Some("stored-secret-0123")).expect("no url");
        assert_eq!((none.webhook_url, none.webhook_secret), (None, None));
        let cases = [
            (draft("not an address", "", None), VendorError::BadEmail),
            (draft("", "ftp://x.example", Some("0123456789abcdef")), VendorError::BadUrl),
            (draft("", "https://", Some("0123456789abcdef")), VendorError::BadUrl),
            (draft("", "https://x.example/a b", Some("0123456789abcdef")), VendorError::BadUrl),
            (draft("", "https://x.example/", Some("short")), VendorError::BadSecret),
            (draft("", "https://x.example/", Some("0123456789abcdef\u{0}")), VendorError::BadSecret),
            (draft("", "https://x.example/", None), VendorError::NoSecret),
        ];
        for (d, want) in cases {
            assert_eq!(Vendor::parse(d.clone(), None).expect_err("refused"), want, "{d:?}");
        }
    }

    #[test]
    fn numbers_and_due_times() {
        assert_eq!(number("0190c3a2-7b1e-7000-8a1b-2c3d4e5f6a7b"), "PO-3D4E5F6A7B");
        assert_eq!(due_ms(1_000, 5), 1_000 + 5 * DAY_MS);
        assert_eq!(due_ms(1_000, 0), 1_000 + DAY_MS, "no lead time still leaves a day");
    }

    #[test]
    fn the_csv_quotes_and_defuses_what_it_must() {
        let ship_to = ShipTo {
            name: "Ana \"A\" Lee".into(),
            line1: "1 Oak St, Apt 2".into(),
            city: "Portland".into(),
            region: "OR".into(),
            postal_code: "97205".into(),
            country: "US".into(),
            lat: None,
            lon: None,
        };
        let lines = vec![
            PoLine { line_no: 1, sku: "MUG".into(), title: "Mug".into(), quantity: 2 },
            PoLine { line_no: 3, sku: "TEE".into(), title: "=HYPERLINK(\"x\")".into(), quantity: 1 },
        ];
        let d = PoDocument {
            number: "PO-1",
            order_number: "W-1",
            due: "2026-12-05T12:00:00.000Z",
            ship_to: &ship_to,
            lines: &lines,
        };
        let csv = csv(&d);
        let rows: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(rows[0], CSV_HEADER);
        assert_eq!(
            rows[1],
            concat!(
                "PO-1,W-1,1,MUG,Mug,2,\"Ana \"\"A\"\" Lee\",\"1 Oak St, Apt 2\",Portland,OR,97205,US,",
                "2026-12-05T12:00:00.000Z"
            )
        );
        assert!(rows[2].starts_with("PO-1,W-1,3,TEE,\"'=HYPERLINK(\"\"x\"\")\",1,"), "{}", rows[2]);
        assert_eq!((rows.len(), rows[3]), (4, ""));
        assert!(text_lines(&d).contains(&"2 x MUG (Mug)".to_owned()));
    }
}
