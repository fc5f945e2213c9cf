//! The return policy as plain data: what a shop says about which returns it
//! takes, for how long, who pays, and what comes back. The TOML format is
//! documented (with a full example) in the [`returns`](super) module docs;
//! JSON uses the same field names.
//!
//! Every struct refuses unknown fields, so a misspelt rule is an error rather
//! than a silently ignored line. Numbers that must not be negative are kept
//! signed on purpose: validation then names the field and the value.
//!
//! Reason codes are read through a private document shape
//! (`validate::RawPolicy`) so that an unknown code is a typed error naming
//! its place, not a serde message; [`ReturnPolicy`] itself only ever holds
//! the closed [`ReturnReason`] enum.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::destination::ReturnDestination;
use crate::channel::ChannelKind;
use crate::ids::{ChannelName, Sku};
use crate::money::{Currency, Money};

/// Milliseconds in a day: windows are whole days of exactly this length
/// (time zones and daylight saving play no part).
pub const DAY_MS: i64 = 86_400_000;

/// The longest return window a policy may set (ten years): keeps every
/// window in milliseconds far inside `i64`.
pub const MAX_WINDOW_DAYS: i64 = 3_650;

/// Basis points in 100 %: a percentage fee of 1 500 is 15 %.
pub const BASIS_POINTS: i64 = 10_000;

/// A channel's reason text is read up to this many characters: enough for
/// any code or sentence, and keyword matching stays cheap on hostile input.
pub const MAX_REASON_TEXT_CHARS: usize = 2_000;

/// The canonical return reasons. Every channel's own codes and free text
/// map onto these (see [`ReturnPolicy::map_reason`]); the codes are stable
/// and stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnReason {
    WrongSize,
    DamagedInTransit,
    Defective,
    NotAsDescribed,
    WrongItem,
    ChangedMind,
    LateDelivery,
    Other,
}

impl ReturnReason {
    pub const ALL: [ReturnReason; 8] = [
        ReturnReason::WrongSize,
        ReturnReason::DamagedInTransit,
        ReturnReason::Defective,
        ReturnReason::NotAsDescribed,
        ReturnReason::WrongItem,
        ReturnReason::ChangedMind,
        ReturnReason::LateDelivery,
        ReturnReason::Other,
    ];

    /// The reason from its exact code (`wrong_size`), or `None`.
    pub fn parse(code: &str) -> Option<ReturnReason> {
        ReturnReason::ALL.into_iter().find(|r| r.as_str() == code)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ReturnReason::WrongSize => "wrong_size",
            ReturnReason::DamagedInTransit => "damaged_in_transit",
            ReturnReason::Defective => "defective",
            ReturnReason::NotAsDescribed => "not_as_described",
            ReturnReason::WrongItem => "wrong_item",
            ReturnReason::ChangedMind => "changed_mind",
            ReturnReason::LateDelivery => "late_delivery",
            ReturnReason::Other => "other",
        }
    }

    /// Whether the shop (or its carrier) caused the return: who pays return
    /// shipping in [`ReturnPolicy::default`].
    pub fn shop_at_fault(self) -> bool {
        match self {
            ReturnReason::DamagedInTransit
            | ReturnReason::Defective
            | ReturnReason::NotAsDescribed
            | ReturnReason::WrongItem
            | ReturnReason::LateDelivery => true,
            ReturnReason::WrongSize | ReturnReason::ChangedMind | ReturnReason::Other => false,
        }
    }
}

impl fmt::Display for ReturnReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The condition the customer says the item is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemCondition {
    Unopened,
    LikeNew,
    Used,
    Damaged,
}

impl ItemCondition {
    pub const ALL: [ItemCondition; 4] =
        [ItemCondition::Unopened, ItemCondition::LikeNew, ItemCondition::Used, ItemCondition::Damaged];

    pub fn parse(code: &str) -> Option<ItemCondition> {
        ItemCondition::ALL.into_iter().find(|c| c.as_str() == code)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ItemCondition::Unopened => "unopened",
            ItemCondition::LikeNew => "like_new",
            ItemCondition::Used => "used",
            ItemCondition::Damaged => "damaged",
        }
    }
}

impl fmt::Display for ItemCondition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who pays for the return label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShippingPayer {
    Customer,
    Merchant,
}

impl ShippingPayer {
    pub fn as_str(self) -> &'static str {
        match self {
            ShippingPayer::Customer => "customer",
            ShippingPayer::Merchant => "merchant",
        }
    }
}

/// How the customer gets their money back.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundMethod {
    #[default]
    OriginalPayment,
    StoreCredit,
    Exchange,
}

impl RefundMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            RefundMethod::OriginalPayment => "original_payment",
            RefundMethod::StoreCredit => "store_credit",
            RefundMethod::Exchange => "exchange",
        }
    }
}

/// A fee kept from the refund: a share of the returned items' value, or a
/// flat amount per return. In TOML: `{ percent_bp = 1500 }` (15 %) or
/// `{ flat = { minor = 500, currency = "USD" } }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RestockingFee {
    /// Basis points of the refund subtotal, 0–10 000.
    PercentBp(i64),
    /// A fixed amount per return, in the policy's currency.
    Flat(Money),
}

impl RestockingFee {
    /// The fee on `subtotal`, or the fee's own currency when it is a flat
    /// amount in another currency (then nobody can say what it is).
    ///
    /// Rounding: a percentage is rounded **down** to the minor unit (the
    /// customer never pays a fraction of a cent more than the rate says),
    /// computed in `i128` so it cannot overflow. Either kind is clamped to
    /// `0..=subtotal`, so a fee never makes a refund negative; a negative
    /// subtotal (never produced by `decide`) gives a zero fee.
    pub fn amount_on(&self, subtotal: Money) -> Result<Money, Currency> {
        let ceiling = subtotal.minor().max(0);
        let minor = match *self {
            RestockingFee::PercentBp(bp) => {
                let bp = i128::from(bp.clamp(0, BASIS_POINTS));
                let exact = i128::from(ceiling) * bp / i128::from(BASIS_POINTS);
                // exact ≤ ceiling, which is an i64.
                i64::try_from(exact).unwrap_or(ceiling)
            }
            RestockingFee::Flat(amount) => {
                if amount.currency() != subtotal.currency() {
                    return Err(amount.currency());
                }
                amount.minor()
            }
        };
        Ok(Money::new(minor.clamp(0, ceiling), subtotal.currency()))
    }
}

/// A complete return policy. `ReturnPolicy::default()` takes every reason
/// within 30 days of delivery, the shop pays return shipping when it was at
/// fault ([`ReturnReason::shop_at_fault`]) and the customer otherwise, no
/// fees, refunds to the original payment, every in-policy return approved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "super::validate::RawPolicy", into = "super::validate::RawPolicy")]
pub struct ReturnPolicy {
    /// Where returns are sent (`destination.rs`): the origin by default.
    pub destination: ReturnDestination,
    pub window: WindowRules,
    pub final_sale: FinalSale,
    /// The accepted reasons and what each entails; a reason missing here is
    /// not accepted.
    pub reasons: BTreeMap<ReturnReason, ReasonRule>,
    /// Per channel (its name or its kind, e.g. `amazon`), how its own reason
    /// codes and words map to the canonical reasons.
    pub channel_reasons: BTreeMap<ChannelName, ReasonMapping>,
    pub refund: RefundRules,
}

impl Default for ReturnPolicy {
    fn default() -> Self {
        Self {
            destination: ReturnDestination::Origin,
            window: WindowRules::default(),
            final_sale: FinalSale::default(),
            reasons: default_reasons(),
            channel_reasons: BTreeMap::new(),
            refund: RefundRules::default(),
        }
    }
}

/// Every reason accepted; the shop pays return shipping when at fault.
pub(super) fn default_reasons() -> BTreeMap<ReturnReason, ReasonRule> {
    ReturnReason::ALL
        .into_iter()
        .map(|reason| {
            let payer = if reason.shop_at_fault() { ShippingPayer::Merchant } else { ShippingPayer::Customer };
            (reason, ReasonRule::paid_by(payer))
        })
        .collect()
}

/// How long after delivery an item may be returned, in whole days.
///
/// Precedence, most specific first: a `skus` entry for the line's SKU, then
/// a `tags` entry for any of its tags (when several of its tags have one, the
/// **shortest** window applies, ties to the tag first in byte order: every
/// restriction a tag carries holds), then a `channels` entry for the order's
/// channel, then `default_days`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WindowRules {
    pub default_days: i64,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub channels: BTreeMap<ChannelName, i64>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, i64>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub skus: BTreeMap<Sku, i64>,
}

impl Default for WindowRules {
    fn default() -> Self {
        Self { default_days: 30, channels: BTreeMap::new(), tags: BTreeMap::new(), skus: BTreeMap::new() }
    }
}

/// The window that applies to one line, and the rule it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub days: i64,
    pub source: WindowSource,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WindowSource {
    Sku { sku: Sku },
    Tag { tag: String },
    Channel { channel: ChannelName },
    Default,
}

impl WindowRules {
    /// The window for a line of `sku` with `tags` on an order from `channel`
    /// (precedence on [`WindowRules`]).
    pub fn window_for(&self, channel: &ChannelName, sku: &Sku, tags: &[String]) -> Window {
        if let Some(days) = self.skus.get(sku) {
            return Window { days: *days, source: WindowSource::Sku { sku: sku.clone() } };
        }
        let by_tag =
            self.tags.iter().filter(|(tag, _)| tags.contains(tag)).fold(None::<(&String, i64)>, |best, (tag, days)| {
                match best {
                    Some((_, best_days)) if best_days <= *days => best,
                    _ => Some((tag, *days)),
                }
            });
        if let Some((tag, days)) = by_tag {
            return Window { days, source: WindowSource::Tag { tag: tag.clone() } };
        }
        if let Some(days) = self.channels.get(channel) {
            return Window { days: *days, source: WindowSource::Channel { channel: channel.clone() } };
        }
        Window { days: self.default_days, source: WindowSource::Default }
    }
}

/// Items that cannot be returned, by SKU or tag, except for the listed
/// reasons (a final-sale item that arrives broken is usually still taken).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FinalSale {
    pub skus: Vec<Sku>,
    pub tags: Vec<String>,
    pub except_reasons: Vec<ReturnReason>,
}

/// Why a line is final sale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum FinalSaleBy {
    Sku,
    Tag { tag: String },
}

impl FinalSale {
    /// Whether a line of `sku` with `tags` is final sale, and why (the SKU
    /// first, then the first listed tag it carries).
    pub fn matches(&self, sku: &Sku, tags: &[String]) -> Option<FinalSaleBy> {
        if self.skus.contains(sku) {
            return Some(FinalSaleBy::Sku);
        }
        self.tags.iter().find(|tag| tags.contains(tag)).map(|tag| FinalSaleBy::Tag { tag: tag.clone() })
    }
}

/// What an accepted reason entails.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReasonRule {
    pub shipping_paid_by: ShippingPayer,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restocking_fee: Option<RestockingFee>,
    /// Overrides `refund.method` for this reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_method: Option<RefundMethod>,
    /// The conditions this reason is accepted in; any condition when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_conditions: Option<Vec<ItemCondition>>,
}

impl ReasonRule {
    /// A rule with nothing but the shipping payer.
    pub fn paid_by(payer: ShippingPayer) -> Self {
        Self { shipping_paid_by: payer, restocking_fee: None, refund_method: None, accepted_conditions: None }
    }
}

/// One channel's vocabulary. `codes` match the whole reason text; `keywords`
/// match whole words inside free text (`"broken"` matches "arrived broken",
/// `"mind"` does not match "reminded"). Both compare case-insensitively with
/// every run of non-alphanumeric characters read as one space, so
/// `CR-DEFECTIVE`, `cr_defective` and `Cr Defective` are one code.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReasonMapping {
    pub codes: BTreeMap<String, ReturnReason>,
    pub keywords: BTreeMap<String, ReturnReason>,
}

/// Refunds: the method, the value up to which in-policy returns are
/// approved without a person, and the label fee kept when the customer pays
/// return shipping.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RefundRules {
    pub method: RefundMethod,
    /// Refunds above this need a review; exactly this much is approved. No
    /// limit when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_approve_up_to: Option<Money>,
    /// Kept from the refund when the customer pays return shipping (the
    /// label the shop issues); nothing is kept when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_shipping_fee: Option<Money>,
}

impl ReturnPolicy {
    /// The canonical reason for a channel's own reason text, with the
    /// mapping of `channel` (a channel name or kind; see
    /// [`ReturnPolicy::map_channel_reason`] to try both).
    ///
    /// In order: the channel's `codes` (the whole text), a canonical code
    /// itself (`wrong_size`, `Wrong size`), the channel's `keywords` (the
    /// longest matching keyword wins; ties to the first in byte order), and
    /// `other` when nothing matches. Never fails, whatever the text.
    pub fn map_reason(&self, channel: &str, raw: &str) -> ReturnReason {
        let mapping = ChannelName::parse(channel).ok().and_then(|name| self.channel_reasons.get(&name));
        map_with(mapping, raw)
    }

    /// [`ReturnPolicy::map_reason`] with the channel's own mapping when the
    /// policy has one for its name, else the mapping for its kind.
    pub fn map_channel_reason(&self, name: &ChannelName, kind: ChannelKind, raw: &str) -> ReturnReason {
        let mapping = self.channel_reasons.get(name).or_else(|| {
            ChannelName::parse(kind.as_str()).ok().and_then(|kind_name| self.channel_reasons.get(&kind_name))
        });
        map_with(mapping, raw)
    }

    /// Whether returns for `reason` are taken at all.
    pub fn accepts(&self, reason: ReturnReason) -> bool {
        self.reasons.contains_key(&reason)
    }

    /// The currency of the policy's amounts (all share one, see
    /// `check`), or `None` when it names no amount.
    pub fn currency(&self) -> Option<Currency> {
        self.amounts().next().map(|(_, money)| money.currency())
    }

    /// Every amount in the policy with its field path, in a fixed order
    /// (refund settings, then fees by reason): the first sets the currency.
    pub(super) fn amounts(&self) -> impl Iterator<Item = (Vec<String>, Money)> + '_ {
        let refund = [
            ("auto_approve_up_to", self.refund.auto_approve_up_to),
            ("customer_shipping_fee", self.refund.customer_shipping_fee),
        ]
        .into_iter()
        .filter_map(|(key, money)| money.map(|m| (vec!["refund".to_owned(), key.to_owned()], m)));
        let fees = self.reasons.iter().filter_map(|(reason, rule)| match rule.restocking_fee {
            Some(RestockingFee::Flat(money)) => Some((
                vec!["reasons".to_owned(), reason.as_str().to_owned(), "restocking_fee".to_owned(), "flat".to_owned()],
                money,
            )),
            _ => None,
        });
        refund.chain(fees)
    }
}

fn map_with(mapping: Option<&ReasonMapping>, raw: &str) -> ReturnReason {
    let text = normalise(raw);
    if text.is_empty() {
        return ReturnReason::Other;
    }
    if let Some(reason) = mapping.and_then(|m| m.codes.iter().find(|(code, _)| normalise(code) == text)) {
        return *reason.1;
    }
    if let Some(reason) = ReturnReason::ALL.into_iter().find(|r| normalise(r.as_str()) == text) {
        return reason;
    }
    let padded = format!(" {text} ");
    let mut best: Option<(usize, ReturnReason)> = None;
    for (keyword, reason) in mapping.map(|m| &m.keywords).into_iter().flatten() {
        let keyword = normalise(keyword);
        let length = keyword.chars().count();
        let longer = best.is_none_or(|(best_length, _)| length > best_length);
        if !keyword.is_empty() && longer && padded.contains(&format!(" {keyword} ")) {
            best = Some((length, *reason));
        }
    }
    best.map_or(ReturnReason::Other, |(_, reason)| reason)
}

/// Lower case, each run of characters that are not letters or digits as
/// one space, trimmed; at most [`MAX_REASON_TEXT_CHARS`] characters read.
pub(super) fn normalise(raw: &str) -> String {
    let mut out = String::new();
    let mut gap = false;
    for c in raw.chars().take(MAX_REASON_TEXT_CHARS) {
        if c.is_alphanumeric() {
            if gap && !out.is_empty() {
                out.push(' ');
            }
            gap = false;
            out.extend(c.to_lowercase());
        } else {
            gap = true;
        }
    }
    out
}
