//! What arrives from outside, parsed: an order, a shipment, a stock import
//! row, a person's resolution of an exception. Every adapter (the HTTP API,
//! a channel, a CSV upload) produces these types; the engine takes only
//! these.
//!
//! Adapters copy what they received, unchecked, into a draft
//! ([`OrderDraft`], [`ShipmentDraft`], [`ResolutionDraft`]) and call
//! [`NewOrder::parse`], [`NewShipment::parse`] or [`Resolution::parse`], so
//! every entry point applies the same rules and answers with the same
//! [`IntakeError`] codes and messages.

use crate::notification::{EmailAddress, EmailError};
use crate::text::{checked, TextError, TextRule};
use crate::{
    ChannelName, Currency, ExternalOrderId, IdError, LocationCode, Money, MoneyError, PaymentState, Quantity,
    ResolutionAction, ServiceLevel, ShipTo, Sku,
};

/// An order line as it arrives.
#[derive(Debug, Clone)]
pub struct NewLine {
    pub sku: Sku,
    pub quantity: Quantity,
    pub unit_price: i64,
}

/// A parsed, validated incoming order.
#[derive(Debug, Clone)]
pub struct NewOrder {
    pub channel: ChannelName,
    pub external_id: ExternalOrderId,
    pub currency: Currency,
    pub lines: Vec<NewLine>,
    pub ship_to: ShipTo,
    pub service_level: ServiceLevel,
    pub pickup_location: Option<LocationCode>,
    pub payment: PaymentState,
    /// Sum of line totals in minor units, computed with checked arithmetic
    /// by [`NewOrder::parse`].
    pub total_minor: i64,
    /// Where the customer is told of the order (notifications); none: only
    /// webhooks hear of it.
    pub email: Option<EmailAddress>,
}

/// A shipment as it arrives.
#[derive(Debug, Clone)]
pub struct NewShipment {
    pub location: LocationCode,
    pub lines: Vec<(Sku, Quantity)>,
    pub carrier: Option<String>,
    pub tracking: Option<String>,
    /// Where the customer follows the parcel: an `http://` or `https://`
    /// address (never a script), at most [`MAX_URL_CHARS`] characters.
    pub tracking_url: Option<String>,
}

/// The longest tracking URL accepted.
pub const MAX_URL_CHARS: usize = 500;

/// One row of a stock import file.
#[derive(Debug, Clone)]
pub struct ImportRow {
    pub sku: Sku,
    pub title: String,
    pub location: LocationCode,
    pub on_hand: i64,
    pub safety_stock: Option<i64>,
}

/// A human's action on an exception.
#[derive(Debug, Clone)]
pub struct Resolution {
    pub action: ResolutionAction,
    /// Who acted (free text: a name or a role).
    pub actor: String,
    /// Why; required to dismiss.
    pub note: String,
    /// The corrected address, for `edit_address`.
    pub address: Option<ShipTo>,
    /// The location to allocate from, for `override_location`.
    pub location: Option<LocationCode>,
}

/// The most lines one order may carry.
pub const MAX_ORDER_LINES: usize = 200;

/// The most components one bundle may have.
pub const MAX_COMPONENTS: usize = 50;

/// The most tags one SKU may carry.
pub const MAX_TAGS: usize = 20;

/// The longest tag, in characters.
pub const MAX_TAG_CHARS: usize = 40;

/// The most settings one channel may have.
pub const MAX_SETTINGS: usize = 100;

/// The largest page a list answers (`limit`).
pub const MAX_PAGE_LIMIT: i64 = 500;

/// Why an intake was refused. Each variant maps to one stable snake_case
/// code ([`IntakeError::code`]) that adapters return to callers; `Display`
/// is the human message, prefixed with `line N: ` where it concerns one
/// order line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntakeError {
    /// An identifier or quantity outside any order line.
    #[error(transparent)]
    Id(#[from] IdError),
    /// A currency or amount outside any order line.
    #[error(transparent)]
    Money(#[from] MoneyError),
    /// An identifier or quantity on order line `line` (1-based). The inner
    /// error is part of the message, so it is deliberately not a `source`
    /// (error-chain printers would repeat it).
    #[error("line {line}: {error}")]
    LineId { line: usize, error: IdError },
    /// Money arithmetic on order line `line` (1-based) was refused.
    #[error("line {line}: {error}")]
    LineMoney { line: usize, error: MoneyError },
    #[error("line {line}: unit_price must not be negative")]
    NegativeUnitPrice { line: usize },
    #[error("an order needs at least one line")]
    NoOrderLines,
    #[error("an order may have at most {MAX_ORDER_LINES} lines")]
    TooManyOrderLines { count: usize },
    #[error("service_level must be standard, expedited, same_day or pickup")]
    UnknownServiceLevel(String),
    #[error("a pickup order needs pickup_location")]
    PickupWithoutLocation,
    #[error("payment must be paid or pending")]
    UnknownPayment(String),
    #[error("lat must be within ±90 and lon within ±180")]
    CoordinatesOutOfRange,
    #[error("a shipment needs at least one line")]
    NoShipmentLines,
    #[error("tracking_url must be an http:// or https:// address of at most {MAX_URL_CHARS} characters, no spaces")]
    BadTrackingUrl,
    #[error(
        "action must be retry, override_location, approve_split, edit_address, cancel, dismiss, approve_return or \
         reject_return"
    )]
    UnknownAction(String),
    /// A text field (title, name, reason, ...) has a control character, is
    /// too long, or is blank where it is required.
    #[error(transparent)]
    Text(#[from] TextError),
    #[error("component {0} is listed twice")]
    DuplicateComponent(Sku),
    #[error("a bundle may have at most {MAX_COMPONENTS} components")]
    TooManyComponents,
    #[error("tag {0:?} must be 1–{MAX_TAG_CHARS} letters, digits, - _ or .")]
    BadTag(String),
    #[error("at most {MAX_TAGS} tags")]
    TooManyTags,
    #[error("kind must be store, warehouse or dropship")]
    UnknownLocationKind(String),
    #[error("priority must be 0 or more (lower is tried first)")]
    NegativePriority,
    #[error("at most {MAX_SETTINGS} settings")]
    TooManySettings,
    #[error("kind must be shopify, woocommerce, amazon, etsy, ebay, pos, wholesale or api")]
    UnknownChannelKind(String),
    #[error("{0}")]
    BadBuffer(&'static str),
    /// A connection's sync mode, SKU scope or base URL.
    #[error("{0}")]
    BadConnection(String),
    /// A list's `cursor` is not one this server handed out.
    #[error("cursor is not a next_cursor this server gave")]
    BadCursor(String),
    #[error("limit must be between 1 and {max}")]
    LimitOutOfRange { max: i64 },
    #[error(transparent)]
    Email(#[from] EmailError),
}

impl IntakeError {
    /// The stable snake_case code for this failure; the same codes the API
    /// has always returned, so scripts matching on them keep working.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Id(e) | Self::LineId { error: e, .. } => id_code(e),
            Self::Money(e) | Self::LineMoney { error: e, .. } => money_code(e),
            Self::NegativeUnitPrice { .. } => "invalid_amount",
            Self::CoordinatesOutOfRange => "invalid_coordinates",
            Self::NoOrderLines
            | Self::TooManyOrderLines { .. }
            | Self::UnknownServiceLevel(_)
            | Self::PickupWithoutLocation
            | Self::UnknownPayment(_)
            | Self::NoShipmentLines
            | Self::BadTrackingUrl
            | Self::UnknownAction(_)
            | Self::Text(_)
            | Self::DuplicateComponent(_)
            | Self::TooManyComponents
            | Self::BadTag(_)
            | Self::TooManyTags
            | Self::UnknownLocationKind(_)
            | Self::NegativePriority
            | Self::TooManySettings
            | Self::UnknownChannelKind(_)
            | Self::BadBuffer(_)
            | Self::BadConnection(_)
            | Self::Email(_) => "invalid_body",
            Self::BadCursor(_) | Self::LimitOutOfRange { .. } => "invalid_query",
        }
    }
}

fn id_code(e: &IdError) -> &'static str {
    match e {
        IdError::ZeroQuantity | IdError::NegativeQuantity(_) | IdError::QuantityTooLarge(_) => "invalid_quantity",
        IdError::Empty { .. } | IdError::TooLong { .. } | IdError::BadChar { .. } => "invalid_identifier",
    }
}

fn money_code(e: &MoneyError) -> &'static str {
    match e {
        MoneyError::BadCurrency(_) => "invalid_currency",
        MoneyError::CurrencyMismatch { .. } => "currency_mismatch",
        MoneyError::Overflow => "amount_overflow",
        MoneyError::Negative => "invalid_amount",
    }
}

/// Refuses coordinates off the globe (NaN included). Either may be absent.
pub fn check_coordinates(lat: Option<f64>, lon: Option<f64>) -> Result<(), IntakeError> {
    if lat.is_some_and(|v| !(-90.0..=90.0).contains(&v)) || lon.is_some_and(|v| !(-180.0..=180.0).contains(&v)) {
        return Err(IntakeError::CoordinatesOutOfRange);
    }
    Ok(())
}

/// Field names of an order's ship-to address, as messages name them.
const SHIP_TO_FIELDS: [&str; 6] =
    ["ship_to.name", "ship_to.line1", "ship_to.city", "ship_to.region", "ship_to.postal_code", "ship_to.country"];

/// Field names of a corrected address (a resolution's `address`).
const ADDRESS_FIELDS: [&str; 6] =
    ["address.name", "address.line1", "address.city", "address.region", "address.postal_code", "address.country"];

/// Checks every text field of an address; `names` are the field names for
/// messages, in the order name, line1, city, region, postal_code, country.
fn parse_ship_to(names: [&'static str; 6], a: ShipTo) -> Result<ShipTo, IntakeError> {
    let [name, line1, city, region, postal_code, country] = names;
    Ok(ShipTo {
        name: checked(name, a.name, TextRule::NAME)?,
        line1: checked(line1, a.line1, TextRule::ADDRESS)?,
        city: checked(city, a.city, TextRule::ADDRESS)?,
        region: checked(region, a.region, TextRule::ADDRESS)?,
        postal_code: checked(postal_code, a.postal_code, TextRule::ADDRESS)?,
        country: checked(country, a.country, TextRule::ADDRESS)?,
        lat: a.lat,
        lon: a.lon,
    })
}

/// A page size from a query (`limit`): `default` when absent, else 1 to
/// [`MAX_PAGE_LIMIT`] (or a smaller `max`).
pub fn page_limit(raw: Option<i64>, default: i64, max: i64) -> Result<i64, IntakeError> {
    let max = max.min(MAX_PAGE_LIMIT);
    match raw {
        None => Ok(default),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(_) => Err(IntakeError::LimitOutOfRange { max }),
    }
}

/// A list's `cursor`: the `next_cursor` of the previous page, which is an
/// order id (a UUID in its lower-case hyphenated form). Anything else is
/// refused rather than read as "from the start".
pub fn page_cursor(raw: Option<String>) -> Result<Option<String>, IntakeError> {
    let Some(raw) = raw else { return Ok(None) };
    let b = raw.as_bytes();
    let uuid_like = b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_digit() || (b'a'..=b'f').contains(c),
        });
    if uuid_like {
        Ok(Some(raw))
    } else {
        Err(IntakeError::BadCursor(raw))
    }
}

/// An order line as an adapter received it, before any check.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineDraft {
    pub sku: String,
    pub quantity: i64,
    /// Minor units of the line's currency.
    pub unit_price: i64,
    /// Must equal the order's currency when given.
    pub currency: Option<String>,
}

/// An order as an adapter received it, before any check.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrderDraft {
    pub channel: String,
    pub external_id: String,
    /// ISO 4217 code of every price on the order.
    pub currency: String,
    pub lines: Vec<LineDraft>,
    pub ship_to: ShipTo,
    /// `standard` (when absent), `expedited`, `same_day` or `pickup`.
    pub service_level: Option<String>,
    /// Required for `pickup`.
    pub pickup_location: Option<String>,
    /// `paid` (when absent) or `pending`.
    pub payment: Option<String>,
    /// The customer's e-mail address, for notifications.
    pub email: Option<String>,
}

/// A shipment as an adapter received it, before any check.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShipmentDraft {
    pub location: String,
    /// (sku, quantity) pairs.
    pub lines: Vec<(String, i64)>,
    pub carrier: Option<String>,
    pub tracking: Option<String>,
    pub tracking_url: Option<String>,
}

/// A person's resolution of an exception as an adapter received it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResolutionDraft {
    /// `retry`, `override_location`, `approve_split`, `edit_address`,
    /// `cancel` or `dismiss`.
    pub action: String,
    /// Who acts (a name or role).
    pub by: String,
    /// Why; may be empty.
    pub reason: String,
    pub address: Option<ShipTo>,
    pub location: Option<String>,
}

impl NewOrder {
    /// Checks an order draft and computes its total. Checks run in a fixed
    /// order and the first failure is returned, so a given bad order always
    /// gets the same error.
    pub fn parse(d: OrderDraft) -> Result<NewOrder, IntakeError> {
        let channel = ChannelName::parse(&d.channel)?;
        let external_id = ExternalOrderId::parse(&d.external_id)?;
        let currency = Currency::parse(&d.currency)?;
        if d.lines.is_empty() {
            return Err(IntakeError::NoOrderLines);
        }
        if d.lines.len() > MAX_ORDER_LINES {
            return Err(IntakeError::TooManyOrderLines { count: d.lines.len() });
        }
        let mut total = Money::zero(currency);
        let mut lines = Vec::with_capacity(d.lines.len());
        for (i, l) in d.lines.into_iter().enumerate() {
            let line = i + 1;
            let sku = Sku::parse(&l.sku).map_err(|error| IntakeError::LineId { line, error })?;
            let quantity = Quantity::new(l.quantity).map_err(|error| IntakeError::LineId { line, error })?;
            if l.unit_price < 0 {
                return Err(IntakeError::NegativeUnitPrice { line });
            }
            // A malformed line currency is reported without the line prefix,
            // as the API always has; a well-formed but different one is a
            // `currency_mismatch` on that line, found by the checked sum.
            let line_currency = match &l.currency {
                Some(c) => Currency::parse(c)?,
                None => currency,
            };
            let line_total = Money::new(l.unit_price, line_currency)
                .checked_mul(quantity.as_i64())
                .map_err(|error| IntakeError::LineMoney { line, error })?;
            total = total.checked_add(line_total).map_err(|error| IntakeError::LineMoney { line, error })?;
            lines.push(NewLine { sku, quantity, unit_price: l.unit_price });
        }
        let service_level = match d.service_level {
            None => ServiceLevel::Standard,
            Some(s) => ServiceLevel::parse(&s).ok_or(IntakeError::UnknownServiceLevel(s))?,
        };
        let pickup_location = d.pickup_location.as_deref().map(LocationCode::parse).transpose()?;
        if service_level == ServiceLevel::Pickup && pickup_location.is_none() {
            return Err(IntakeError::PickupWithoutLocation);
        }
        let payment = match d.payment {
            None => PaymentState::Paid,
            Some(p) => PaymentState::parse(&p).ok_or(IntakeError::UnknownPayment(p))?,
        };
        check_coordinates(d.ship_to.lat, d.ship_to.lon)?;
        let ship_to = parse_ship_to(SHIP_TO_FIELDS, d.ship_to)?;
        // A blank address is no address (channels send "" for none).
        let email = d.email.as_deref().filter(|e| !e.trim().is_empty()).map(EmailAddress::parse).transpose()?;
        Ok(NewOrder {
            channel,
            external_id,
            currency,
            lines,
            ship_to,
            service_level,
            pickup_location,
            payment,
            total_minor: total.minor(),
            email,
        })
    }
}

impl ImportRow {
    /// Checks one row of a stock import (numbers already read by the
    /// adapter): the codes, and the title (the SKU code when blank).
    pub fn parse(
        sku: &str,
        title: Option<String>,
        location: &str,
        on_hand: i64,
        safety_stock: Option<i64>,
    ) -> Result<ImportRow, IntakeError> {
        let sku = Sku::parse(sku)?;
        let location = LocationCode::parse(location)?;
        let title = match title.filter(|t| !t.trim().is_empty()) {
            Some(t) => checked("title", t, TextRule::TITLE)?,
            None => sku.to_string(),
        };
        Ok(ImportRow { sku, title, location, on_hand, safety_stock })
    }
}

impl NewShipment {
    /// Checks a shipment draft. Line errors carry no line prefix (as the API
    /// has always answered).
    pub fn parse(d: ShipmentDraft) -> Result<NewShipment, IntakeError> {
        let location = LocationCode::parse(&d.location)?;
        if d.lines.is_empty() {
            return Err(IntakeError::NoShipmentLines);
        }
        let mut lines = Vec::with_capacity(d.lines.len());
        for (sku, quantity) in d.lines {
            lines.push((Sku::parse(&sku)?, Quantity::new(quantity)?));
        }
        let carrier = d.carrier.map(|c| checked("carrier", c, TextRule::CARRIER)).transpose()?;
        let tracking = d.tracking.map(|t| checked("tracking", t, TextRule::CARRIER)).transpose()?;
        // Blank is none (a form's empty field); anything else is a web
        // address a page may link to, so no `javascript:` or `data:` URL.
        let tracking_url = match d.tracking_url.map(|u| u.trim().to_owned()).filter(|u| !u.is_empty()) {
            None => None,
            Some(u) => Some(web_link(&u).ok_or(IntakeError::BadTrackingUrl)?.to_owned()),
        };
        Ok(NewShipment { location, lines, carrier, tracking, tracking_url })
    }
}

/// `raw` when it is a web address a page or an e-mail may link to: `http://`
/// or `https://` with a host, no spaces, control characters, quotes or angle
/// brackets, at most [`MAX_URL_CHARS`] characters — never `javascript:` or
/// `data:`. Shipments are checked with it when they arrive, and what is
/// shown to a customer is checked again (a stored value is not trusted).
pub fn web_link(raw: &str) -> Option<&str> {
    let lower = raw.to_ascii_lowercase();
    let web = lower.starts_with("https://") || lower.starts_with("http://");
    let host = raw.split_once("://").map_or("", |(_, rest)| rest);
    let clean = !raw.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '<' | '>'));
    (web && !host.is_empty() && clean && raw.chars().count() <= MAX_URL_CHARS).then_some(raw)
}

impl Resolution {
    /// Checks a resolution draft. Whether the action needs an address, a
    /// location or a reason is decided where the exception is known, not
    /// here.
    pub fn parse(d: ResolutionDraft) -> Result<Resolution, IntakeError> {
        let action = ResolutionAction::parse(&d.action).ok_or(IntakeError::UnknownAction(d.action))?;
        let actor = checked("by", d.by, TextRule::NAME.required())?;
        let note = checked("reason", d.reason, TextRule::REASON)?;
        if let Some(a) = &d.address {
            check_coordinates(a.lat, a.lon)?;
        }
        let address = d.address.map(|a| parse_ship_to(ADDRESS_FIELDS, a)).transpose()?;
        let location = d.location.as_deref().map(LocationCode::parse).transpose()?;
        Ok(Resolution { action, actor, note, address, location })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_web_addresses_are_links() {
        for ok in ["https://track.example/1Z?x=1&y=2", "HTTP://carrier.example/t/9"] {
            assert_eq!(web_link(ok), Some(ok));
        }
        let long = format!("https://x.example/{}", "a".repeat(MAX_URL_CHARS));
        for bad in [
            "javascript:alert(1)",
            "data:text/html,<script>",
            "https://",
            "ftp://example.com/x",
            "https://x.example/\"a\" onmouseover=\"x",
            "https://x.example/<script>",
            "https://x.example/a b",
            "https://x.example/\u{0}",
            long.as_str(),
        ] {
            assert_eq!(web_link(bad), None, "{bad}");
        }
    }

    fn line(sku: &str, quantity: i64, unit_price: i64) -> LineDraft {
        LineDraft { sku: sku.into(), quantity, unit_price, currency: None }
    }

    fn ship_to() -> ShipTo {
        ShipTo {
            name: "Ada Lovelace".into(),
            line1: "1 Main St".into(),
            city: "Springfield".into(),
            region: "IL".into(),
            postal_code: "62701".into(),
            country: "US".into(),
            lat: Some(39.8),
            lon: Some(-89.6),
        }
    }

    fn order() -> OrderDraft {
        OrderDraft {
            channel: "shopify".into(),
            external_id: "1001".into(),
            currency: "USD".into(),
            lines: vec![line("TEE-RED-M", 2, 1500), line("MUG", 3, 999)],
            ship_to: ship_to(),
            service_level: None,
            pickup_location: None,
            payment: None,
            email: None,
        }
    }

    #[test]
    fn an_order_may_carry_the_customers_email() {
        let mut d = order();
        d.email = Some(" ada@example.com ".into());
        assert_eq!(NewOrder::parse(d).expect("valid").email.map(String::from).as_deref(), Some("ada@example.com"));
        let mut blank = order();
        blank.email = Some("  ".into());
        assert_eq!(NewOrder::parse(blank).expect("blank is none").email, None);
        let mut bad = order();
        bad.email = Some("ada at example".into());
        let e = NewOrder::parse(bad).expect_err("refused");
        assert_eq!(e.code(), "invalid_body");
        assert!(e.to_string().starts_with("email must be one address"), "{e}");
    }

    fn shipment() -> ShipmentDraft {
        ShipmentDraft {
            location: "FLAGSHIP".into(),
            lines: vec![("TEE-RED-M".into(), 2)],
            carrier: Some("ups".into()),
            tracking: Some("1Z999".into()),
            tracking_url: Some("https://track.example/1Z999".into()),
        }
    }

    fn resolution() -> ResolutionDraft {
        ResolutionDraft {
            action: "override_location".into(),
            by: "ops-lead".into(),
            reason: "flagship has it".into(),
            address: None,
            location: Some("FLAGSHIP".into()),
        }
    }

    /// Applies `edit` to a valid draft, parses it, and expects `code` and
    /// `message`; the case's `name` is printed on failure.
    fn check_rejection<D, T: std::fmt::Debug>(
        name: &str,
        draft: D,
        edit: fn(&mut D),
        parse: fn(D) -> Result<T, IntakeError>,
        code: &str,
        message: &str,
    ) {
        let mut draft = draft;
        edit(&mut draft);
        match parse(draft) {
            Ok(parsed) => panic!("{name}: accepted as {parsed:?}"),
            Err(e) => {
                assert_eq!((e.code(), e.to_string().as_str()), (code, message), "{name}");
            }
        }
    }

    #[test]
    fn a_valid_order_is_parsed_with_its_total() {
        let o = NewOrder::parse(order()).expect("valid order");
        assert_eq!(o.channel.as_str(), "shopify");
        assert_eq!(o.external_id.as_str(), "1001");
        assert_eq!(o.currency.as_str(), "USD");
        assert_eq!(o.total_minor, 2 * 1500 + 3 * 999);
        let lines: Vec<_> = o.lines.iter().map(|l| (l.sku.as_str(), l.quantity.get(), l.unit_price)).collect();
        assert_eq!(lines, vec![("TEE-RED-M", 2, 1500), ("MUG", 3, 999)]);
        assert_eq!(o.service_level, ServiceLevel::Standard);
        assert_eq!(o.payment, PaymentState::Paid);
        assert_eq!(o.pickup_location, None);
        assert_eq!(o.ship_to, ship_to());
    }

    #[test]
    fn optional_order_fields_are_parsed() {
        let mut d = order();
        d.lines[0].currency = Some("USD".into());
        d.lines[1].unit_price = 0;
        d.service_level = Some("pickup".into());
        d.pickup_location = Some(" FLAGSHIP ".into());
        d.payment = Some("pending".into());
        d.ship_to.lat = Some(90.0);
        d.ship_to.lon = Some(-180.0);
        let o = NewOrder::parse(d).expect("valid order");
        assert_eq!(o.total_minor, 3000);
        assert_eq!(o.service_level, ServiceLevel::Pickup);
        assert_eq!(o.pickup_location.as_ref().map(LocationCode::as_str), Some("FLAGSHIP"));
        assert_eq!(o.payment, PaymentState::Pending);
    }

    #[test]
    fn an_order_may_have_exactly_the_maximum_lines() {
        let mut d = order();
        d.lines = vec![line("A", 1, 1); MAX_ORDER_LINES];
        assert_eq!(NewOrder::parse(d).map(|o| o.total_minor), Ok(200));
    }

    #[test]
    fn order_rejections() {
        type Case = (&'static str, fn(&mut OrderDraft), &'static str, &'static str);
        let cases: &[Case] = &[
            ("empty channel", |d| d.channel = " ".into(), "invalid_identifier", "channel must not be empty"),
            (
                "bad external id",
                |d| d.external_id = "a b".into(),
                "invalid_identifier",
                "external_id may contain only letters, digits and . _ - : / # (found ' ')",
            ),
            (
                "long external id",
                |d| d.external_id = "x".repeat(129),
                "invalid_identifier",
                "external_id is longer than 128 characters",
            ),
            (
                "bad currency",
                |d| d.currency = "usd".into(),
                "invalid_currency",
                "currency must be a three-letter ISO 4217 code (got \"usd\")",
            ),
            ("no lines", |d| d.lines.clear(), "invalid_body", "an order needs at least one line"),
            (
                "too many lines",
                |d| d.lines = vec![line("A", 1, 1); MAX_ORDER_LINES + 1],
                "invalid_body",
                "an order may have at most 200 lines",
            ),
            ("empty sku", |d| d.lines[1].sku = String::new(), "invalid_identifier", "line 2: sku must not be empty"),
            ("zero quantity", |d| d.lines[0].quantity = 0, "invalid_quantity", "line 1: quantity must be at least 1"),
            (
                "negative quantity",
                |d| d.lines[1].quantity = -4,
                "invalid_quantity",
                "line 2: quantity must not be negative (got -4)",
            ),
            (
                "huge quantity",
                |d| d.lines[0].quantity = 1_000_001,
                "invalid_quantity",
                "line 1: quantity 1000001 is too large (at most 1000000)",
            ),
            (
                "negative price",
                |d| d.lines[1].unit_price = -1,
                "invalid_amount",
                "line 2: unit_price must not be negative",
            ),
            // The API never prefixed a malformed line currency; kept as is.
            (
                "bad line currency",
                |d| d.lines[0].currency = Some("eur".into()),
                "invalid_currency",
                "currency must be a three-letter ISO 4217 code (got \"eur\")",
            ),
            (
                "other line currency",
                |d| d.lines[1].currency = Some("EUR".into()),
                "currency_mismatch",
                "line 2: cannot combine USD with EUR",
            ),
            (
                "line total overflows",
                |d| d.lines[0].unit_price = i64::MAX,
                "amount_overflow",
                "line 1: amount overflows",
            ),
            (
                "order total overflows",
                |d| d.lines = vec![line("A", 1, i64::MAX), line("B", 1, 1)],
                "amount_overflow",
                "line 2: amount overflows",
            ),
            (
                "unknown service level",
                |d| d.service_level = Some("overnight".into()),
                "invalid_body",
                "service_level must be standard, expedited, same_day or pickup",
            ),
            (
                "bad pickup location",
                |d| d.pickup_location = Some(String::new()),
                "invalid_identifier",
                "location code must not be empty",
            ),
            (
                "pickup without location",
                |d| d.service_level = Some("pickup".into()),
                "invalid_body",
                "a pickup order needs pickup_location",
            ),
            ("unknown payment", |d| d.payment = Some("cod".into()), "invalid_body", "payment must be paid or pending"),
            (
                "nul in the ship-to name",
                |d| d.ship_to.name = "Ada\u{0}".into(),
                "invalid_body",
                "ship_to.name must not contain control characters such as NUL (found U+0000)",
            ),
            (
                "long address line",
                |d| d.ship_to.line1 = "x".repeat(201),
                "invalid_body",
                "ship_to.line1 is longer than 200 characters",
            ),
            (
                "not an iso currency",
                |d| d.currency = "ABC".into(),
                "invalid_currency",
                "currency must be a three-letter ISO 4217 code (got \"ABC\")",
            ),
            (
                "latitude off the globe",
                |d| d.ship_to.lat = Some(90.5),
                "invalid_coordinates",
                "lat must be within ±90 and lon within ±180",
            ),
            (
                "longitude off the globe",
                |d| d.ship_to.lon = Some(-180.01),
                "invalid_coordinates",
                "lat must be within ±90 and lon within ±180",
            ),
            (
                "latitude not a number",
                |d| d.ship_to.lat = Some(f64::NAN),
                "invalid_coordinates",
                "lat must be within ±90 and lon within ±180",
            ),
        ];
        for &(name, edit, code, message) in cases {
            check_rejection(name, order(), edit, NewOrder::parse, code, message);
        }
    }

    #[test]
    fn page_limits_and_cursors_are_parsed() {
        assert_eq!(page_limit(None, 50, MAX_PAGE_LIMIT), Ok(50));
        assert_eq!(page_limit(Some(500), 50, MAX_PAGE_LIMIT), Ok(500));
        for bad in [0, -1, 501] {
            let e = page_limit(Some(bad), 50, MAX_PAGE_LIMIT).expect_err("out of range");
            assert_eq!((e.code(), e.to_string().as_str()), ("invalid_query", "limit must be between 1 and 500"));
        }
        assert_eq!(
            page_limit(Some(201), 50, 200).map_err(|e| e.to_string()),
            Err("limit must be between 1 and 200".into())
        );
        let id = "0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
        assert_eq!(page_cursor(Some(id.into())), Ok(Some(id.into())));
        assert_eq!(page_cursor(None), Ok(None));
        for bad in ["garbage", "", "0199A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B", "0199a1b2c3d47e5f8a9b0c1d2e3f4a5b0000"] {
            let e = page_cursor(Some(bad.into())).expect_err(bad);
            assert_eq!(e.code(), "invalid_query", "{bad}");
        }
    }

    #[test]
    fn the_first_failing_check_wins() {
        let mut d = order();
        d.channel = String::new();
        d.lines.clear();
        d.payment = Some("cod".into());
        assert_eq!(NewOrder::parse(d).map_err(|e| e.code()).err(), Some("invalid_identifier"));
    }

    #[test]
    fn a_valid_shipment_is_parsed() {
        let s = NewShipment::parse(shipment()).expect("valid shipment");
        assert_eq!(s.location.as_str(), "FLAGSHIP");
        let lines: Vec<_> = s.lines.iter().map(|(sku, q)| (sku.as_str(), q.get())).collect();
        assert_eq!(lines, vec![("TEE-RED-M", 2)]);
        assert_eq!((s.carrier.as_deref(), s.tracking.as_deref()), (Some("ups"), Some("1Z999")));
        assert_eq!(s.tracking_url.as_deref(), Some("https://track.example/1Z999"));
        let blank = NewShipment::parse(ShipmentDraft { tracking_url: Some("  ".into()), ..shipment() });
        assert_eq!(blank.expect("blank is none").tracking_url, None);
    }

    const URL_RULE: &str = "tracking_url must be an http:// or https:// address of at most 500 characters, no spaces";

    #[test]
    fn shipment_rejections() {
        type Case = (&'static str, fn(&mut ShipmentDraft), &'static str, &'static str);
        let cases: &[Case] = &[
            (
                "bad location",
                |d| d.location = "FLAG SHIP".into(),
                "invalid_identifier",
                "location code may contain only letters, digits and . _ - : / # (found ' ')",
            ),
            ("no lines", |d| d.lines.clear(), "invalid_body", "a shipment needs at least one line"),
            ("empty sku", |d| d.lines[0].0 = String::new(), "invalid_identifier", "sku must not be empty"),
            ("zero quantity", |d| d.lines[0].1 = 0, "invalid_quantity", "quantity must be at least 1"),
            (
                "negative quantity",
                |d| d.lines.push(("MUG".into(), -1)),
                "invalid_quantity",
                "quantity must not be negative (got -1)",
            ),
            (
                "nul in the carrier",
                |d| d.carrier = Some("UP\u{0}S".into()),
                "invalid_body",
                "carrier must not contain control characters such as NUL (found U+0000)",
            ),
            (
                "long tracking",
                |d| d.tracking = Some("1".repeat(101)),
                "invalid_body",
                "tracking is longer than 100 characters",
            ),
            ("script url", |d| d.tracking_url = Some("javascript:alert(1)".into()), "invalid_body", URL_RULE),
            ("data url", |d| d.tracking_url = Some("data:text/html,x".into()), "invalid_body", URL_RULE),
            ("no host", |d| d.tracking_url = Some("https://".into()), "invalid_body", URL_RULE),
            ("a quote", |d| d.tracking_url = Some("https://t.example/\"x".into()), "invalid_body", URL_RULE),
            ("long url", |d| d.tracking_url = Some(format!("https://{}", "a".repeat(500))), "invalid_body", URL_RULE),
        ];
        for &(name, edit, code, message) in cases {
            check_rejection(name, shipment(), edit, NewShipment::parse, code, message);
        }
    }

    #[test]
    fn a_valid_resolution_is_parsed() {
        let r = Resolution::parse(resolution()).expect("valid resolution");
        assert_eq!(r.action, ResolutionAction::OverrideLocation);
        assert_eq!((r.actor.as_str(), r.note.as_str()), ("ops-lead", "flagship has it"));
        assert_eq!(r.location.as_ref().map(LocationCode::as_str), Some("FLAGSHIP"));

        let mut d = resolution();
        d.action = "edit_address".into();
        d.address = Some(ship_to());
        d.location = None;
        d.reason = String::new();
        d.by = "é".repeat(crate::text::MAX_NAME_CHARS);
        let r = Resolution::parse(d).expect("valid resolution");
        assert_eq!(r.address, Some(ship_to()));
        assert_eq!(r.location, None);
    }

    #[test]
    fn resolution_rejections() {
        type Case = (&'static str, fn(&mut ResolutionDraft), &'static str, &'static str);
        let by = "by is longer than 100 characters";
        let cases: &[Case] = &[
            (
                "unknown action",
                |d| d.action = "escalate".into(),
                "invalid_body",
                "action must be retry, override_location, approve_split, edit_address, cancel, dismiss, approve_return \
                 or reject_return",
            ),
            ("blank by", |d| d.by = "  ".into(), "invalid_body", "by must not be empty"),
            ("long by", |d| d.by = "x".repeat(101), "invalid_body", by),
            // Measured in characters: 101 two-byte characters.
            ("long by in characters", |d| d.by = "é".repeat(101), "invalid_body", by),
            ("long reason", |d| d.reason = "x".repeat(1001), "invalid_body", "reason is longer than 1000 characters"),
            (
                "nul in by",
                |d| d.by = "ana\u{0}".into(),
                "invalid_body",
                "by must not contain control characters such as NUL (found U+0000)",
            ),
            (
                "nul in reason",
                |d| d.reason = "\u{0}".into(),
                "invalid_body",
                "reason must not contain control characters such as NUL (found U+0000)",
            ),
            (
                "nul in the corrected address",
                |d| d.address = Some(ShipTo { city: "Port\u{0}land".into(), ..ShipTo::default() }),
                "invalid_body",
                "address.city must not contain control characters such as NUL (found U+0000)",
            ),
            (
                "address off the globe",
                |d| d.address = Some(ShipTo { lon: Some(181.0), ..ShipTo::default() }),
                "invalid_coordinates",
                "lat must be within ±90 and lon within ±180",
            ),
            (
                "bad location",
                |d| d.location = Some("x".repeat(33)),
                "invalid_identifier",
                "location code is longer than 32 characters",
            ),
        ];
        for &(name, edit, code, message) in cases {
            check_rejection(name, resolution(), edit, Resolution::parse, code, message);
        }
    }

    #[test]
    fn every_id_and_money_error_keeps_its_api_code() {
        let cases = [
            (IntakeError::from(IdError::Empty { what: "sku" }), "invalid_identifier"),
            (IdError::TooLong { what: "sku", max: 64 }.into(), "invalid_identifier"),
            (IdError::BadChar { what: "sku", found: ' ' }.into(), "invalid_identifier"),
            (IdError::ZeroQuantity.into(), "invalid_quantity"),
            (IdError::NegativeQuantity(-1).into(), "invalid_quantity"),
            (IdError::QuantityTooLarge(2_000_000).into(), "invalid_quantity"),
            (MoneyError::BadCurrency("x".into()).into(), "invalid_currency"),
            (MoneyError::Overflow.into(), "amount_overflow"),
            (MoneyError::Negative.into(), "invalid_amount"),
            (IntakeError::LineMoney { line: 3, error: MoneyError::Negative }, "invalid_amount"),
            (IntakeError::LineId { line: 3, error: IdError::ZeroQuantity }, "invalid_quantity"),
        ];
        for (e, code) in cases {
            assert_eq!(e.code(), code, "{e:?}");
        }
    }
}
