//! What happens to returned goods and money once a return is authorized:
//! where the parcel goes ([`destination`]), its RMA number ([`rma`]), what
//! each grade of unit becomes ([`ReturnGrade::disposition`]), and the
//! refund for what actually came back ([`ReturnDecision::refund_for_received`]).

use serde::{Deserialize, Serialize};

use super::decision::ReturnDecision;
use crate::location::Location;
use crate::money::Money;
use crate::LocationCode;

/// The grade staff give a returned unit on inspection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnGrade {
    /// As new: back on sale.
    Resellable,
    /// Damaged (in transit or by the customer).
    Damaged,
    /// Does not work as it should.
    Defective,
    /// Not the item we sent.
    WrongItem,
}

/// Where a graded unit goes. Only [`Disposition::Restock`] puts it back on
/// sale; every other disposition is recorded and leaves stock unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    /// Back to on_hand at the receiving location (a `return_restock`
    /// ledger entry).
    Restock,
    /// Set aside for a closer look (repair, sell as seconds, write off).
    Inspection,
    /// Sent back to the vendor or manufacturer.
    ReturnToVendor,
    /// Held aside: not what we sent, so it is not ours to sell.
    Quarantine,
}

impl ReturnGrade {
    pub const ALL: [ReturnGrade; 4] = [Self::Resellable, Self::Damaged, Self::Defective, Self::WrongItem];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Resellable => "resellable",
            Self::Damaged => "damaged",
            Self::Defective => "defective",
            Self::WrongItem => "wrong_item",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.as_str() == raw)
    }

    /// The disposition rule: resellable → restock; damaged → inspection;
    /// defective → return to vendor; wrong item → quarantine.
    pub fn disposition(self) -> Disposition {
        match self {
            Self::Resellable => Disposition::Restock,
            Self::Damaged => Disposition::Inspection,
            Self::Defective => Disposition::ReturnToVendor,
            Self::WrongItem => Disposition::Quarantine,
        }
    }
}

impl Disposition {
    pub const ALL: [Disposition; 4] = [Self::Restock, Self::Inspection, Self::ReturnToVendor, Self::Quarantine];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Restock => "restock",
            Self::Inspection => "inspection",
            Self::ReturnToVendor => "return_to_vendor",
            Self::Quarantine => "quarantine",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == raw)
    }

    /// Whether the units go back on sale.
    pub fn restocks(self) -> bool {
        self == Self::Restock
    }

    /// For the timeline: "restocked at WH", "to the inspection queue".
    pub fn describe(self, location: &str) -> String {
        match self {
            Self::Restock => format!("restocked at {location}"),
            Self::Inspection => "to the inspection queue (not back on sale)".to_owned(),
            Self::ReturnToVendor => "to return to the vendor (not back on sale)".to_owned(),
            Self::Quarantine => "held aside as not the item sent (not back on sale)".to_owned(),
        }
    }
}

/// Where a return is sent: the location that shipped most of the returned
/// units (`shipped_from`: location and units, ties to the code first in
/// order) while it is active; otherwise the first active location in
/// allocation order (`locations` as listed: priority, then code). `None`
/// when no location is active.
pub fn destination(shipped_from: &[(LocationCode, i64)], locations: &[Location]) -> Option<LocationCode> {
    let active = |code: &LocationCode| locations.iter().any(|l| &l.code == code && l.active);
    let mut origins: Vec<&(LocationCode, i64)> = shipped_from.iter().filter(|(_, units)| *units > 0).collect();
    origins.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    if let Some((code, _)) = origins.first().filter(|(code, _)| active(code)) {
        return Some(code.clone());
    }
    locations.iter().find(|l| l.active).map(|l| l.code.clone())
}

/// The RMA number of a return authorized at `now_ms` as the `seq`-th of its
/// UTC day: `RMA-YYMMDD-NNNN` (at least four digits), e.g.
/// `RMA-261130-0007`. Short enough to read out on the phone, and a scanner
/// types it into the Returns search.
pub fn rma(now_ms: i64, seq: i64) -> String {
    let (y, m, d) = civil_date(now_ms);
    format!("RMA-{:02}{m:02}{d:02}-{seq:04}", y.rem_euclid(100))
}

/// The UTC day RMA numbers are counted per: `YYYY-MM-DD`.
pub fn rma_day(now_ms: i64) -> String {
    let (y, m, d) = civil_date(now_ms);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Whether `text` is written like an RMA number (`RMA-` and digits and
/// dashes, any case): a lookup by RMA rather than by id.
pub fn looks_like_rma(text: &str) -> bool {
    let t = text.trim();
    t.len() > 4
        && t.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("RMA-"))
        && t[4..].chars().all(|c| c.is_ascii_digit() || c == '-')
}

/// The proleptic Gregorian UTC date of `ms` (H. Hinnant's
/// `civil_from_days`): year, month 1–12, day 1–31.
fn civil_date(ms: i64) -> (i64, i64, i64) {
    let z = ms.div_euclid(86_400_000) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

impl ReturnDecision {
    /// The refund for the units that came back, worth `received` (Σ unit
    /// price × units received). Everything received: the decision's refund.
    /// Fewer: the refund in proportion, `refund × received ÷ subtotal`
    /// rounded down (fees are kept in the same proportion), so it never
    /// exceeds the decision's refund. Nothing received, a nothing-worth
    /// return, or another currency: zero.
    pub fn refund_for_received(&self, received: Money) -> Money {
        let currency = self.refund.currency();
        let (whole, got) = (self.subtotal.minor(), received.minor());
        if received.currency() != currency || got <= 0 || whole <= 0 {
            return Money::zero(currency);
        }
        if got >= whole {
            return self.refund;
        }
        let share = i128::from(self.refund.minor().max(0)) * i128::from(got) / i128::from(whole);
        // share ≤ refund, which is an i64.
        Money::new(i64::try_from(share).unwrap_or(0), currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::location::{Address, LocationKind};
    use crate::money::Currency;
    use crate::returns::{ReturnOutcome, ReturnReason, ShippingPayer};
    use crate::RefundMethod;

    fn place(code: &str, priority: i32, active: bool) -> Location {
        Location {
            code: LocationCode::parse(code).expect("code"),
            name: code.into(),
            kind: LocationKind::Warehouse,
            address: Address::default(),
            lat: None,
            lon: None,
            can_ship: true,
            can_pickup: false,
            priority,
            active,
            lead_time_days: 0,
            timezone: "UTC".into(),
        }
    }

    fn code(c: &str) -> LocationCode {
        LocationCode::parse(c).expect("code")
    }

    #[test]
    fn grades_have_one_disposition_and_only_resellable_restocks() {
        for g in ReturnGrade::ALL {
            assert_eq!(ReturnGrade::parse(g.as_str()), Some(g));
            assert_eq!(g.disposition().restocks(), g == ReturnGrade::Resellable, "{}", g.as_str());
            assert_eq!(Disposition::parse(g.disposition().as_str()), Some(g.disposition()));
        }
        assert_eq!(ReturnGrade::Damaged.disposition(), Disposition::Inspection);
        assert_eq!(ReturnGrade::Defective.disposition(), Disposition::ReturnToVendor);
        assert_eq!(ReturnGrade::WrongItem.disposition(), Disposition::Quarantine);
        assert_eq!(ReturnGrade::parse("broken"), None);
        assert_eq!(Disposition::Restock.describe("WH"), "restocked at WH");
    }

    #[test]
    fn a_return_goes_to_the_location_that_shipped_it() {
        let locations = [place("A", 1, true), place("B", 2, true), place("C", 0, false)];
        assert_eq!(destination(&[(code("B"), 2), (code("A"), 1)], &locations), Some(code("B")));
        assert_eq!(destination(&[(code("B"), 1), (code("A"), 1)], &locations), Some(code("A")), "ties by code");
        // The origin is switched off: the first active location instead.
        assert_eq!(destination(&[(code("C"), 3)], &locations), Some(code("A")));
        assert_eq!(destination(&[], &locations), Some(code("A")));
        assert_eq!(destination(&[(code("A"), 0), (code("B"), 1)], &locations), Some(code("B")));
        assert_eq!(destination(&[(code("A"), 1)], &[place("A", 1, false)]), None);
    }

    #[test]
    fn rma_numbers_read_the_utc_day() {
        // 2026-11-30T12:00:00Z.
        assert_eq!(rma(1_796_040_000_000, 7), "RMA-261130-0007");
        assert_eq!(rma(1_796_040_000_000, 12_345), "RMA-261130-12345");
        assert_eq!(rma_day(1_796_040_000_000), "2026-11-30");
        assert_eq!(rma_day(0), "1970-01-01");
        assert_eq!(rma_day(-1), "1969-12-31");
        // 2024-02-29T23:59:59.999Z, a leap day, and the next millisecond.
        assert_eq!(rma_day(1_709_251_199_999), "2024-02-29");
        assert_eq!(rma_day(1_709_251_200_000), "2024-03-01");
        assert!(looks_like_rma("RMA-261130-0007") && looks_like_rma(" rma-261130-0007 "));
        assert!(!looks_like_rma("0195f3a2-0000-7000-8000-000000000000") && !looks_like_rma("RMA-"));
        assert!(!looks_like_rma("RMA-<script>"));
    }

    fn decision(subtotal: i64, refund: i64) -> ReturnDecision {
        let usd = Currency::parse("USD").expect("usd");
        ReturnDecision {
            outcome: ReturnOutcome::Approved,
            findings: vec![],
            reason: ReturnReason::ChangedMind,
            subtotal: Money::new(subtotal, usd),
            restocking_fee: Money::new(subtotal - refund, usd),
            shipping_fee: Money::zero(usd),
            shipping_paid_by: ShippingPayer::Customer,
            refund: Money::new(refund, usd),
            refund_method: RefundMethod::OriginalPayment,
        }
    }

    #[test]
    fn the_refund_follows_what_came_back() {
        let usd = Currency::parse("USD").expect("usd");
        let d = decision(9000, 7650);
        assert_eq!(d.refund_for_received(Money::new(9000, usd)), Money::new(7650, usd));
        assert_eq!(d.refund_for_received(Money::new(4500, usd)), Money::new(3825, usd));
        // 7650 × 1 ÷ 9000 = 0.85: rounded down.
        assert_eq!(d.refund_for_received(Money::new(1, usd)), Money::new(0, usd));
        assert_eq!(d.refund_for_received(Money::new(3001, usd)).minor(), 7650 * 3001 / 9000);
        assert_eq!(d.refund_for_received(Money::zero(usd)), Money::zero(usd));
        assert_eq!(d.refund_for_received(Money::new(99_999, usd)), Money::new(7650, usd), "never more");
        let eur = Currency::parse("EUR").expect("eur");
        assert_eq!(d.refund_for_received(Money::new(9000, eur)), Money::zero(usd));
        assert_eq!(decision(0, 0).refund_for_received(Money::new(5, usd)), Money::zero(usd));
    }
}
