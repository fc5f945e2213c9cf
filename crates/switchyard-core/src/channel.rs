//! Sales channels: a name plus the settings that apply to its orders.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ids::{ChannelName, Sku};
use crate::intake::{IntakeError, MAX_SETTINGS};
use crate::text::{checked, TextRule};

/// The platform a channel connection speaks to. `api` is a client of
/// `POST /api/v1/orders` (the kind of a channel registered by its first
/// order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    Shopify,
    Woocommerce,
    Amazon,
    Etsy,
    Ebay,
    Pos,
    Wholesale,
    #[default]
    Api,
}

impl ChannelKind {
    pub const ALL: [ChannelKind; 8] = [
        ChannelKind::Shopify,
        ChannelKind::Woocommerce,
        ChannelKind::Amazon,
        ChannelKind::Etsy,
        ChannelKind::Ebay,
        ChannelKind::Pos,
        ChannelKind::Wholesale,
        ChannelKind::Api,
    ];

    pub fn parse(raw: &str) -> Option<ChannelKind> {
        ChannelKind::ALL.into_iter().find(|k| k.as_str() == raw)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Shopify => "shopify",
            ChannelKind::Woocommerce => "woocommerce",
            ChannelKind::Amazon => "amazon",
            ChannelKind::Etsy => "etsy",
            ChannelKind::Ebay => "ebay",
            ChannelKind::Pos => "pos",
            ChannelKind::Wholesale => "wholesale",
            ChannelKind::Api => "api",
        }
    }
}

/// How much of what is available a channel is told it may sell: held back
/// `units`, then `percent` of what is available (rounded up, so a buffer
/// never rounds to nothing), and never more than `max_share_percent` of it
/// (rounded down). Never below 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AtpBuffer {
    pub units: i64,
    pub percent: i64,
    pub max_share_percent: Option<i64>,
}

impl AtpBuffer {
    /// The largest buffer in units.
    pub const MAX_UNITS: i64 = 1_000_000;

    /// Checks each part: units 0–1,000,000, percentages 0–100.
    pub fn parse(units: i64, percent: i64, max_share_percent: Option<i64>) -> Result<AtpBuffer, IntakeError> {
        if !(0..=Self::MAX_UNITS).contains(&units) {
            return Err(IntakeError::BadBuffer("buffer_units must be between 0 and 1000000"));
        }
        if !(0..=100).contains(&percent) {
            return Err(IntakeError::BadBuffer("buffer_percent must be between 0 and 100"));
        }
        if max_share_percent.is_some_and(|p| !(0..=100).contains(&p)) {
            return Err(IntakeError::BadBuffer("max_share_percent must be between 0 and 100"));
        }
        Ok(AtpBuffer { units, percent, max_share_percent })
    }

    /// What the channel may sell of `available` units.
    pub fn atp(&self, available: i64) -> i64 {
        let available = available.max(0);
        let by_percent = (available.saturating_mul(self.percent) + 99) / 100;
        let mut atp = available.saturating_sub(self.units).saturating_sub(by_percent);
        if let Some(share) = self.max_share_percent {
            atp = atp.min(available.saturating_mul(share) / 100);
        }
        atp.max(0)
    }
}

/// Whether Switchyard pushes stock levels to the connection: a new
/// connection starts `import_only` (its orders come in and reserve stock;
/// nothing is sent out), then goes `live` once the shop trusts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncMode {
    #[default]
    ImportOnly,
    Live,
}

impl SyncMode {
    pub fn parse(raw: &str) -> Option<SyncMode> {
        match raw {
            "import_only" => Some(SyncMode::ImportOnly),
            "live" => Some(SyncMode::Live),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SyncMode::ImportOnly => "import_only",
            SyncMode::Live => "live",
        }
    }
}

/// Which of our SKUs a connection's listings Switchyard controls: every
/// SKU when empty, else those equal to an entry or, for an entry ending in
/// `*`, starting with what precedes it (`TEE-*`). Case matters, as in SKUs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SkuScope(Vec<String>);

impl SkuScope {
    pub const MAX_ENTRIES: usize = 1_000;

    pub fn parse(entries: Vec<String>) -> Result<SkuScope, IntakeError> {
        if entries.len() > Self::MAX_ENTRIES {
            return Err(IntakeError::BadConnection(format!("sku_scope has at most {} entries", Self::MAX_ENTRIES)));
        }
        let mut out = Vec::with_capacity(entries.len());
        for e in entries {
            let e = e.trim().to_owned();
            let stem = e.strip_suffix('*').unwrap_or(&e);
            if stem.is_empty() || stem.contains('*') || e.chars().count() > 100 || e.chars().any(char::is_control) {
                return Err(IntakeError::BadConnection(format!(
                    "sku_scope entry {e:?} must be a SKU, or a SKU prefix followed by one '*'"
                )));
            }
            out.push(e);
        }
        out.sort();
        out.dedup();
        Ok(SkuScope(out))
    }

    pub fn entries(&self) -> &[String] {
        &self.0
    }

    pub fn contains(&self, sku: &str) -> bool {
        self.0.is_empty()
            || self.0.iter().any(|e| match e.strip_suffix('*') {
                Some(prefix) => sku.starts_with(prefix),
                None => e == sku,
            })
    }
}

/// Checks a connection's `base_url`: `http://` or `https://`, a host, no
/// query, fragment or user info; kept without a trailing slash.
pub fn parse_base_url(raw: &str) -> Result<String, IntakeError> {
    let url = raw.trim().trim_end_matches('/');
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    let ok = rest.is_some_and(|r| {
        let host = r.split('/').next().unwrap_or("");
        !host.is_empty() && r.chars().all(|c| c.is_ascii_graphic()) && !r.contains(['?', '#', '@', '\\'])
    });
    if !ok || url.len() > 300 {
        return Err(IntakeError::BadConnection(format!(
            "base_url {raw:?} must be an http:// or https:// address without a query (at most 300 characters)"
        )));
    }
    Ok(url.to_owned())
}

/// A channel (shopify, amazon, pos, ...). Orders may arrive from a channel
/// before anyone configures it; it is then registered with default settings.
/// Its secrets (a webhook secret, API credentials) are kept apart and are
/// never part of this value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Channel {
    pub name: ChannelName,
    #[serde(default)]
    pub kind: ChannelKind,
    /// What the channel is told it may sell, below what is available.
    #[serde(default)]
    pub buffer: AtpBuffer,
    /// Whether stock levels are pushed to it.
    #[serde(default)]
    pub mode: SyncMode,
    /// Which of our SKUs its listings Switchyard controls.
    #[serde(default)]
    pub sku_scope: SkuScope,
    /// Replaces the platform's API hosts (a stand-in, a test).
    #[serde(default)]
    pub base_url: Option<String>,
    /// Free-form display name.
    pub display_name: String,
    /// Channel settings as string pairs (credentials are never stored here).
    pub settings: BTreeMap<String, String>,
    pub active: bool,
}

impl Channel {
    pub fn new(name: ChannelName) -> Self {
        Self {
            display_name: name.to_string(),
            name,
            kind: ChannelKind::Api,
            buffer: AtpBuffer::default(),
            mode: SyncMode::default(),
            sku_scope: SkuScope::default(),
            base_url: None,
            settings: BTreeMap::new(),
            active: true,
        }
    }
}

/// A channel's configuration as an adapter received it, before any check.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChannelDraft {
    pub name: String,
    /// `api` when absent.
    pub kind: Option<String>,
    pub buffer_units: Option<i64>,
    pub buffer_percent: Option<i64>,
    pub max_share_percent: Option<i64>,
    /// `import_only` when absent.
    pub mode: Option<String>,
    /// Every SKU when empty.
    pub sku_scope: Vec<String>,
    pub base_url: Option<String>,
    /// The name itself when absent.
    pub display_name: Option<String>,
    pub settings: BTreeMap<String, String>,
    pub active: bool,
}

impl Channel {
    /// Checks a channel draft: its name (kept in lower case), display name
    /// and settings (at most 100; keys one line, values free text).
    pub fn parse(d: ChannelDraft) -> Result<Channel, IntakeError> {
        let name = ChannelName::parse(&d.name)?;
        let kind = match d.kind.as_deref() {
            None => ChannelKind::Api,
            Some(raw) => ChannelKind::parse(raw).ok_or_else(|| IntakeError::UnknownChannelKind(raw.to_owned()))?,
        };
        let display_name = match d.display_name {
            Some(n) => checked("display_name", n, TextRule::NAME)?,
            None => name.to_string(),
        };
        if d.settings.len() > MAX_SETTINGS {
            return Err(IntakeError::TooManySettings);
        }
        let mut settings = BTreeMap::new();
        for (k, v) in d.settings {
            settings.insert(
                checked("settings key", k, TextRule::SETTING_KEY)?,
                checked("settings value", v, TextRule::SETTING_VALUE)?,
            );
        }
        let buffer = AtpBuffer::parse(d.buffer_units.unwrap_or(0), d.buffer_percent.unwrap_or(0), d.max_share_percent)?;
        let mode = match d.mode.as_deref() {
            None => SyncMode::default(),
            Some(raw) => SyncMode::parse(raw)
                .ok_or_else(|| IntakeError::BadConnection(format!("mode {raw:?} must be import_only or live")))?,
        };
        let sku_scope = SkuScope::parse(d.sku_scope)?;
        let base_url = d.base_url.as_deref().filter(|u| !u.trim().is_empty()).map(parse_base_url).transpose()?;
        Ok(Channel { name, kind, buffer, mode, sku_scope, base_url, display_name, settings, active: d.active })
    }
}

/// The prefix of the SKU an order line is held under while the channel's
/// SKU is one our SKUs could never be (a space, an accent, a `+`):
/// `Blue Mug 12oz` is held as `unmapped:Blue#20Mug#2012oz` until it is
/// mapped. Real SKUs do not start with it.
pub const HELD_SKU_PREFIX: &str = "unmapped:";

/// The SKU to hold a line under when the channel's SKU `raw` does not parse
/// as ours: the prefix and `raw` with every byte outside `A–Z a–z 0–9 . _ -
/// : /` written `#` + two hex digits (so it reads back exactly). `None` when
/// `raw` is empty, has a control character, or does not fit a SKU encoded.
pub fn held_sku(raw: &str) -> Option<Sku> {
    let raw = raw.trim();
    if raw.is_empty() || raw.chars().any(char::is_control) {
        return None;
    }
    let mut out = String::from(HELD_SKU_PREFIX);
    for b in raw.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b':' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("#{b:02X}"));
        }
    }
    Sku::parse(&out).ok()
}

/// The channel's SKU a held SKU stands for ([`held_sku`] read back);
/// `None` for any other SKU.
pub fn channel_sku_of(held: &str) -> Option<String> {
    let encoded = held.strip_prefix(HELD_SKU_PREFIX)?;
    let mut bytes = Vec::with_capacity(encoded.len());
    let mut rest = encoded.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        if b == b'#' {
            let hex = std::str::from_utf8(tail.get(..2)?).ok()?;
            bytes.push(u8::from_str_radix(hex, 16).ok()?);
            rest = &tail[2..];
        } else {
            bytes.push(b);
            rest = tail;
        }
    }
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_channel_is_told_what_is_available_less_its_buffer() {
        let none = AtpBuffer::default();
        assert_eq!((none.atp(10), none.atp(0), none.atp(-3)), (10, 0, 0));
        let units = AtpBuffer::parse(3, 0, None).expect("valid");
        assert_eq!((units.atp(10), units.atp(3), units.atp(2)), (7, 0, 0), "the last 3 units are held back");
        let percent = AtpBuffer::parse(0, 10, None).expect("valid");
        assert_eq!((percent.atp(100), percent.atp(5), percent.atp(1)), (90, 4, 0), "rounded up: never nothing");
        let share = AtpBuffer::parse(1, 0, Some(50)).expect("valid");
        assert_eq!((share.atp(10), share.atp(3)), (5, 1), "at most half, and one held back");
        assert!(AtpBuffer::parse(-1, 0, None).is_err());
        assert!(AtpBuffer::parse(0, 101, None).is_err());
        assert!(AtpBuffer::parse(0, 0, Some(-5)).is_err());
    }

    #[test]
    fn a_channel_draft_is_parsed_with_its_name_in_lower_case() {
        let c = Channel::parse(ChannelDraft { name: "Shopify".into(), active: true, ..ChannelDraft::default() })
            .expect("valid");
        assert_eq!((c.name.as_str(), c.display_name.as_str()), ("shopify", "shopify"));
    }

    #[test]
    fn a_scope_names_skus_or_prefixes() {
        let all = SkuScope::default();
        assert!(all.contains("ANY"));
        let scope = SkuScope::parse(vec!["TEE-*".into(), " MUG-1 ".into()]).expect("valid");
        assert!(scope.contains("TEE-RED") && scope.contains("MUG-1"));
        assert!(!scope.contains("MUG-10") && !scope.contains("tee-red") && !scope.contains("TEE"));
        for bad in ["*", "", "A*B*", "a\u{0}"] {
            assert!(SkuScope::parse(vec![bad.into()]).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_base_url_is_http_without_a_query() {
        assert_eq!(parse_base_url("http://127.0.0.1:9000/").as_deref(), Ok("http://127.0.0.1:9000"));
        assert_eq!(parse_base_url("https://shop.example/api").as_deref(), Ok("https://shop.example/api"));
        for bad in ["ftp://x", "http://", "http://a b", "https://x/?q=1", "https://u:p@x", "x"] {
            assert!(parse_base_url(bad).is_err(), "{bad:?}");
        }
        let mode = ChannelDraft { name: "s".into(), mode: Some("on".into()), ..ChannelDraft::default() };
        assert_eq!(
            Channel::parse(mode).map_err(|e| e.to_string()),
            Err("mode \"on\" must be import_only or live".into())
        );
    }

    #[test]
    fn channel_rejections() {
        let base = || ChannelDraft { name: "shopify".into(), active: true, ..ChannelDraft::default() };
        let nul = ChannelDraft { display_name: Some("Shop\u{0}".into()), ..base() };
        let e = Channel::parse(nul).expect_err("nul");
        assert_eq!(
            (e.code(), e.to_string().as_str()),
            ("invalid_body", "display_name must not contain control characters such as NUL (found U+0000)")
        );
        let long = ChannelDraft { display_name: Some("x".repeat(101)), ..base() };
        assert_eq!(
            Channel::parse(long).map_err(|e| e.to_string()),
            Err("display_name is longer than 100 characters".into())
        );
        let blank_key = ChannelDraft { settings: [(" ".to_owned(), "1".to_owned())].into(), ..base() };
        assert_eq!(Channel::parse(blank_key).map_err(|e| e.to_string()), Err("settings key must not be empty".into()));
        let many = ChannelDraft { settings: (0..101).map(|i| (format!("k{i}"), String::new())).collect(), ..base() };
        assert_eq!(Channel::parse(many).map_err(|e| e.to_string()), Err("at most 100 settings".into()));
    }

    #[test]
    fn channel_skus_we_could_never_store_are_held_under_a_sku_that_reads_back() {
        for raw in ["Blue Mug 12oz", "Tasse bleue à café", "TEE+RED#M", "a:b/c.d_e-f"] {
            let held = held_sku(raw).expect("fits");
            assert!(held.as_str().starts_with(HELD_SKU_PREFIX), "{held}");
            assert_eq!(channel_sku_of(held.as_str()).as_deref(), Some(raw), "{held}");
        }
        assert_eq!(held_sku("Blue Mug").map(|s| s.to_string()).as_deref(), Some("unmapped:Blue#20Mug"));
        assert_eq!(held_sku(""), None);
        assert_eq!(held_sku("tab\there"), None);
        assert_eq!(held_sku(&"é".repeat(40)), None, "too long once encoded");
        assert_eq!(channel_sku_of("TEE-RED-M"), None);
        assert_eq!(channel_sku_of("unmapped:bad#Z1"), None);
    }
}
