//! Decision tables for every return rule, and property tests of the
//! decision's invariants (the policy's text is tested in `policy_tests`).
//!
//! The shop sells on Etsy (30 days), Amazon (45), in its stores (`pos`, 14)
//! and elsewhere (30); electronics have 15 days, fragile items 20, holiday
//! items 60, the big gift box 60. Unless a case says otherwise the customer
//! returns one TEE-1 at 20.00 USD, delivered 10 days ago, as the wrong size,
//! like new.

use proptest::prelude::*;

use super::*;
use crate::ids::{ChannelName, Quantity, Sku};
use crate::money::{Currency, Money};

/// 2026-06-01T00:00:00Z.
const NOW: i64 = 1_780_272_000_000;

const POLICY: &str = r#"
[window]
default_days = 30
channels = { etsy = 30, pos = 14, amazon = 45 }
tags = { electronics = 15, fragile = 20, holiday = 60 }
skus = { "GIFT-BOX" = 60 }

[final_sale]
skus = ["SALE-TEE"]
tags = ["clearance"]
except_reasons = ["defective"]

[refund]
method = "original_payment"
auto_approve_up_to = { minor = 15000, currency = "USD" }

[reasons.wrong_size]
shipping_paid_by = "customer"

[reasons.damaged_in_transit]
shipping_paid_by = "merchant"

[reasons.defective]
shipping_paid_by = "merchant"

[reasons.not_as_described]
shipping_paid_by = "merchant"
refund_method = "exchange"

[reasons.changed_mind]
shipping_paid_by = "customer"
restocking_fee = { percent_bp = 1500 }
refund_method = "store_credit"
accepted_conditions = ["unopened", "like_new"]

[reasons.other]
shipping_paid_by = "customer"
restocking_fee = { flat = { minor = 500, currency = "USD" } }
"#;

pub(super) const EXAMPLE: &str = include_str!("example_return_policy.toml");

pub(super) fn policy() -> ReturnPolicy {
    ReturnPolicy::from_toml(POLICY).unwrap_or_else(|e| panic!("test policy: {e}"))
}
fn usd(minor: i64) -> Money {
    Money::new(minor, Currency::parse("USD").expect("USD"))
}
fn eur(minor: i64) -> Money {
    Money::new(minor, Currency::parse("EUR").expect("EUR"))
}
pub(super) fn sku(code: &str) -> Sku {
    Sku::parse(code).expect("test sku")
}
pub(super) fn channel(name: &str) -> ChannelName {
    ChannelName::parse(name).expect("test channel")
}
fn days(n: i64) -> i64 {
    n * DAY_MS
}

fn line(code: &str, price_minor: i64, quantity: i64) -> ReturnLine {
    ReturnLine {
        sku: sku(code),
        tags: Vec::new(),
        quantity_ordered: quantity,
        quantity_shipped: quantity,
        quantity_returned: 0,
        unit_price: usd(price_minor),
        quantity: Quantity::new(quantity).expect("test quantity"),
    }
}

fn tagged(mut line: ReturnLine, tags: &[&str]) -> ReturnLine {
    line.tags = tags.iter().map(|t| (*t).to_owned()).collect();
    line
}

fn request() -> ReturnRequest {
    ReturnRequest {
        channel: channel("etsy"),
        currency: Currency::parse("USD").expect("USD"),
        delivered_at_ms: Some(NOW - days(10)),
        shipped_at_ms: Some(NOW - days(12)),
        lines: vec![line("TEE-1", 2000, 1)],
        reason: ReturnReason::WrongSize,
        condition: Some(ItemCondition::LikeNew),
    }
}

/// The request with its delivery `ago` milliseconds before now.
fn delivered(request: &mut ReturnRequest, ago: i64) {
    request.delivered_at_ms = Some(NOW - ago);
}

type Edit = fn(&mut ReturnRequest);

/// Decides the edited request under `policy` and compares the outcome and
/// the whole explanation.
fn check(policy: &ReturnPolicy, cases: &[(&str, Edit, ReturnOutcome, &str)]) {
    for (name, edit, outcome, explanation) in cases {
        let mut input = request();
        edit(&mut input);
        let decision = decide(&input, policy, NOW).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!((decision.outcome, decision.explain().as_str()), (*outcome, *explanation), "{name}");
    }
}

const WRONG_SIZE_OK_30: &str = "Approved: within the 30-day window; the customer pays return shipping for wrong_size";

#[test]
fn windows_by_channel_tag_and_sku() {
    use ReturnOutcome::*;
    check(
        &policy(),
        &[
            ("10 days, etsy", |_| {}, Approved, WRONG_SIZE_OK_30),
            ("exactly 30 days is inside", |r| delivered(r, days(30)), Approved, WRONG_SIZE_OK_30),
            (
                "a millisecond past day 30",
                |r| delivered(r, days(30) + 1),
                Rejected,
                "Rejected: delivered more than 30 days ago; the window for etsy orders is 30 days",
            ),
            (
                "47 days, etsy",
                |r| delivered(r, days(47) + 3_600_000),
                Rejected,
                "Rejected: delivered 47 days ago; the window for etsy orders is 30 days",
            ),
            (
                "pos has 14 days",
                |r| {
                    r.channel = channel("POS");
                    delivered(r, days(20));
                },
                Rejected,
                "Rejected: delivered 20 days ago; the window for pos orders is 14 days",
            ),
            (
                "a channel without a window takes the default",
                |r| {
                    r.channel = channel("shopify");
                    delivered(r, days(31));
                },
                Rejected,
                "Rejected: delivered 31 days ago; the return window is 30 days",
            ),
            (
                "amazon has 45 days",
                |r| {
                    r.channel = channel("amazon");
                    delivered(r, days(40));
                },
                Approved,
                "Approved: within the 45-day window; the customer pays return shipping for wrong_size",
            ),
            (
                "a tag overrides the channel",
                |r| {
                    r.lines = vec![tagged(line("CAM-1", 2000, 1), &["electronics"])];
                    delivered(r, days(20));
                },
                Rejected,
                "Rejected: delivered 20 days ago; the window for items tagged electronics is 15 days",
            ),
            (
                "a tag overrides even a longer channel window",
                |r| {
                    r.channel = channel("amazon");
                    r.lines = vec![tagged(line("CAM-1", 2000, 1), &["electronics"])];
                    delivered(r, days(16));
                },
                Rejected,
                "Rejected: delivered 16 days ago; the window for items tagged electronics is 15 days",
            ),
            (
                "a tag may lengthen the window",
                |r| {
                    r.lines = vec![tagged(line("WREATH", 2000, 1), &["holiday"])];
                    delivered(r, days(50));
                },
                Approved,
                "Approved: within the 60-day window; the customer pays return shipping for wrong_size",
            ),
            (
                "of two tags the shorter window holds",
                |r| {
                    r.lines = vec![tagged(line("LAMP", 2000, 1), &["fragile", "electronics", "holiday"])];
                    delivered(r, days(17));
                },
                Rejected,
                "Rejected: delivered 17 days ago; the window for items tagged electronics is 15 days",
            ),
            (
                "the SKU's own window beats its tags",
                |r| {
                    r.lines = vec![tagged(line("GIFT-BOX", 2000, 1), &["electronics"])];
                    delivered(r, days(50));
                },
                Approved,
                "Approved: within the 60-day window; the customer pays return shipping for wrong_size",
            ),
            (
                "each line has its window; only the line outside it is named",
                |r| {
                    r.lines = vec![line("TEE-1", 2000, 1), tagged(line("CAM-1", 2000, 1), &["electronics"])];
                    delivered(r, days(20));
                },
                Rejected,
                "Rejected: delivered 20 days ago; the window for items tagged electronics is 15 days",
            ),
            (
                "two lines outside two windows: both named, shortest first",
                |r| {
                    r.lines = vec![line("TEE-1", 2000, 1), tagged(line("CAM-1", 2000, 1), &["electronics"])];
                    delivered(r, days(40));
                },
                Rejected,
                "Rejected: delivered 40 days ago; the window for items tagged electronics is 15 days; \
                 delivered 40 days ago; the window for etsy orders is 30 days",
            ),
            (
                "the approval names the shortest window of the lines",
                |r| r.lines = vec![line("TEE-1", 2000, 1), tagged(line("CAM-1", 2000, 1), &["electronics"])],
                Approved,
                "Approved: within the 15-day window; the customer pays return shipping for wrong_size",
            ),
            (
                "a delivery time after now counts as just delivered",
                |r| delivered(r, -days(2)),
                Approved,
                WRONG_SIZE_OK_30,
            ),
            (
                "never shipped",
                |r| {
                    r.delivered_at_ms = None;
                    r.shipped_at_ms = None;
                },
                NeedsReview,
                "Needs review: the order has no shipment or delivery date yet",
            ),
            (
                "shipped within the window, delivery unknown",
                |r| {
                    r.delivered_at_ms = None;
                    r.shipped_at_ms = Some(NOW - days(20));
                },
                Approved,
                WRONG_SIZE_OK_30,
            ),
            (
                "shipped past the window, delivery unknown",
                |r| {
                    r.delivered_at_ms = None;
                    r.shipped_at_ms = Some(NOW - days(35));
                },
                NeedsReview,
                "Needs review: shipped 35 days ago and the delivery date is unknown; \
                 the window for etsy orders is 30 days from delivery",
            ),
        ],
    );
}

#[test]
fn final_sale_reasons_and_conditions() {
    use ReturnOutcome::*;
    check(
        &policy(),
        &[
            (
                "a final-sale SKU",
                |r| r.lines = vec![line("SALE-TEE", 900, 1)],
                Rejected,
                "Rejected: SALE-TEE is final sale",
            ),
            (
                "a final-sale tag",
                |r| r.lines = vec![tagged(line("MUG-1", 900, 1), &["gift", "clearance"])],
                Rejected,
                "Rejected: MUG-1 is final sale (tagged clearance)",
            ),
            (
                "final sale, but defective is excepted",
                |r| {
                    r.lines = vec![tagged(line("MUG-1", 900, 1), &["clearance"])];
                    r.reason = ReturnReason::Defective;
                },
                Approved,
                "Approved: within the 30-day window; MUG-1 is final sale, but defective returns are accepted; \
                 the merchant pays return shipping for defective",
            ),
            (
                "one final-sale line rejects the request",
                |r| r.lines = vec![line("TEE-1", 2000, 1), line("SALE-TEE", 900, 2)],
                Rejected,
                "Rejected: SALE-TEE is final sale",
            ),
            (
                "a reason the policy does not take",
                |r| r.reason = ReturnReason::WrongItem,
                Rejected,
                "Rejected: wrong_item is not an accepted return reason",
            ),
            (
                "every broken rule is named",
                |r| {
                    r.reason = ReturnReason::LateDelivery;
                    r.lines.push(line("SALE-TEE", 900, 1));
                    delivered(r, days(47));
                },
                Rejected,
                "Rejected: late_delivery is not an accepted return reason; SALE-TEE is final sale; \
                 delivered 47 days ago; the window for etsy orders is 30 days",
            ),
            (
                "used is not accepted for changed_mind",
                |r| {
                    r.reason = ReturnReason::ChangedMind;
                    r.condition = Some(ItemCondition::Used);
                },
                Rejected,
                "Rejected: changed_mind returns are accepted only unopened or like_new (stated: used)",
            ),
            (
                "no condition stated where one matters",
                |r| {
                    r.reason = ReturnReason::ChangedMind;
                    r.condition = None;
                },
                NeedsReview,
                "Needs review: no condition was stated; changed_mind returns are accepted only unopened or like_new",
            ),
            (
                "like_new is accepted for changed_mind, with its fee",
                |r| r.reason = ReturnReason::ChangedMind,
                Approved,
                "Approved: within the 30-day window; the customer pays return shipping for changed_mind; \
                 a restocking fee of 15% (3.00 USD) applies",
            ),
            (
                "used is fine for a reason without condition rules",
                |r| r.condition = Some(ItemCondition::Used),
                Approved,
                WRONG_SIZE_OK_30,
            ),
            (
                "the merchant pays for what the carrier broke",
                |r| {
                    r.reason = ReturnReason::DamagedInTransit;
                    r.condition = Some(ItemCondition::Damaged);
                },
                Approved,
                "Approved: within the 30-day window; the merchant pays return shipping for damaged_in_transit",
            ),
            (
                "a flat fee",
                |r| r.reason = ReturnReason::Other,
                Approved,
                "Approved: within the 30-day window; the customer pays return shipping for other; \
                 a restocking fee of 5.00 USD applies",
            ),
        ],
    );
}

#[test]
fn the_auto_approve_limit() {
    use ReturnOutcome::*;
    check(
        &policy(),
        &[
            ("exactly at the limit", |r| r.lines = vec![line("COAT", 15000, 1)], Approved, WRONG_SIZE_OK_30),
            (
                "a cent above",
                |r| r.lines = vec![line("COAT", 15001, 1)],
                NeedsReview,
                "Needs review: refund 150.01 USD is above the auto-approve limit of 150.00 USD",
            ),
            (
                "lines add up",
                |r| r.lines = vec![line("COAT", 9000, 1), line("HAT", 4500, 2)],
                NeedsReview,
                "Needs review: refund 180.00 USD is above the auto-approve limit of 150.00 USD",
            ),
            (
                "the limit is on the refund, after fees",
                |r| {
                    r.reason = ReturnReason::ChangedMind;
                    r.lines = vec![line("COAT", 17647, 1)];
                },
                Approved,
                "Approved: within the 30-day window; the customer pays return shipping for changed_mind; \
                 a restocking fee of 15% (26.47 USD) applies",
            ),
            (
                "a rejection outranks a review",
                |r| r.lines = vec![line("COAT", 90000, 1), line("SALE-TEE", 900, 1)],
                Rejected,
                "Rejected: SALE-TEE is final sale",
            ),
            (
                "an order in another currency than the policy's amounts",
                |r| {
                    r.currency = Currency::parse("EUR").expect("EUR");
                    r.lines[0].unit_price = eur(2000);
                },
                NeedsReview,
                "Needs review: the order is in EUR but the policy's amounts are in USD",
            ),
        ],
    );
}

/// (case, edit, subtotal, restocking fee, label fee, refund, payer, method)
type MoneyCase = (&'static str, Edit, i64, i64, i64, i64, ShippingPayer, RefundMethod);

fn check_money(policy: &ReturnPolicy, cases: &[MoneyCase]) {
    for (name, edit, subtotal, fee, label, refund, payer, method) in cases {
        let mut input = request();
        edit(&mut input);
        let d = decide(&input, policy, NOW).unwrap_or_else(|e| panic!("{name}: {e}"));
        let got = (d.subtotal, d.restocking_fee, d.shipping_fee, d.refund, d.shipping_paid_by, d.refund_method);
        assert_eq!(got, (usd(*subtotal), usd(*fee), usd(*label), usd(*refund), *payer, *method), "{name}");
    }
}

#[test]
fn refund_money_fees_and_rounding() {
    use RefundMethod::*;
    use ShippingPayer::*;
    let changed_mind: Edit = |r| r.reason = ReturnReason::ChangedMind;
    check_money(
        &policy(),
        &[
            ("no fee", |_| {}, 2000, 0, 0, 2000, Customer, OriginalPayment),
            ("15% of 20.00", changed_mind, 2000, 300, 0, 1700, Customer, StoreCredit),
            (
                "15% of 33.33 is 4.9995: rounded down",
                |r| {
                    r.reason = ReturnReason::ChangedMind;
                    r.lines = vec![line("TEE-1", 3333, 1)];
                },
                3333,
                499,
                0,
                2834,
                Customer,
                StoreCredit,
            ),
            (
                "15% of one cent is nothing",
                |r| {
                    r.reason = ReturnReason::ChangedMind;
                    r.lines = vec![line("PIN", 1, 1)];
                },
                1,
                0,
                0,
                1,
                Customer,
                StoreCredit,
            ),
            (
                "a percentage of several lines",
                |r| {
                    r.reason = ReturnReason::ChangedMind;
                    r.lines = vec![line("TEE-1", 1250, 2), line("CAP", 999, 3)];
                },
                5497,
                824,
                0,
                4673,
                Customer,
                StoreCredit,
            ),
            ("a flat fee", |r| r.reason = ReturnReason::Other, 2000, 500, 0, 1500, Customer, OriginalPayment),
            (
                "a flat fee never exceeds the items",
                |r| {
                    r.reason = ReturnReason::Other;
                    r.lines = vec![line("PIN", 300, 1)];
                },
                300,
                300,
                0,
                0,
                Customer,
                OriginalPayment,
            ),
            (
                "the reason's refund method",
                |r| r.reason = ReturnReason::NotAsDescribed,
                2000,
                0,
                0,
                2000,
                Merchant,
                Exchange,
            ),
            (
                "a reason without a rule: the shop pays when at fault",
                |r| r.reason = ReturnReason::WrongItem,
                2000,
                0,
                0,
                2000,
                Merchant,
                OriginalPayment,
            ),
        ],
    );
}

#[test]
fn the_label_fee_when_the_customer_pays_and_a_whole_percentage() {
    use RefundMethod::*;
    use ShippingPayer::*;
    let mut with_label = policy();
    with_label.refund.customer_shipping_fee = Some(usd(595));
    with_label
        .reasons
        .entry(ReturnReason::Defective)
        .and_modify(|r| r.restocking_fee = Some(RestockingFee::PercentBp(10_000)));
    check_money(
        &with_label,
        &[
            ("the customer pays the label", |_| {}, 2000, 0, 595, 1405, Customer, OriginalPayment),
            (
                "the merchant pays the label",
                |r| r.reason = ReturnReason::DamagedInTransit,
                2000,
                0,
                0,
                2000,
                Merchant,
                OriginalPayment,
            ),
            (
                "fee and label never exceed the items",
                |r| {
                    r.reason = ReturnReason::ChangedMind;
                    r.lines = vec![line("PIN", 500, 1)];
                },
                500,
                75,
                425,
                0,
                Customer,
                StoreCredit,
            ),
            (
                "100% keeps everything",
                |r| r.reason = ReturnReason::Defective,
                2000,
                2000,
                0,
                0,
                Merchant,
                OriginalPayment,
            ),
        ],
    );
    check(
        &with_label,
        &[(
            "the label fee is said",
            |_| {},
            ReturnOutcome::Approved,
            "Approved: within the 30-day window; the customer pays return shipping for wrong_size; \
             the return label fee of 5.95 USD is kept from the refund",
        )],
    );
}

#[test]
fn a_policy_without_amounts_works_in_any_currency() {
    let mut policy = policy();
    policy.refund.auto_approve_up_to = None;
    policy.reasons.remove(&ReturnReason::Other);
    assert_eq!(policy.currency(), None);
    let mut input = request();
    input.currency = Currency::parse("EUR").expect("EUR");
    input.lines = vec![line("TEE-1", 0, 1)];
    input.lines[0].unit_price = eur(3333);
    input.reason = ReturnReason::ChangedMind;
    let decision = decide(&input, &policy, NOW).expect("decides");
    assert_eq!(decision.outcome, ReturnOutcome::Approved);
    assert_eq!((decision.restocking_fee, decision.refund), (eur(499), eur(2834)));
}

#[test]
fn impossible_requests_are_errors_not_decisions() {
    let policy = policy();
    let cases: &[(&str, Edit, Result<(), ReturnRequestError>)] = &[
        (
            "more than shipped less returned",
            |r| {
                r.lines = vec![ReturnLine {
                    quantity_ordered: 2,
                    quantity_shipped: 2,
                    quantity_returned: 1,
                    ..line("TEE-1", 2000, 2)
                }]
            },
            Err(ReturnRequestError::TooMany { sku: sku("TEE-1"), requested: 2, returnable: 1 }),
        ),
        (
            "exactly what is left",
            |r| {
                r.lines = vec![ReturnLine {
                    quantity_ordered: 2,
                    quantity_shipped: 2,
                    quantity_returned: 1,
                    ..line("TEE-1", 2000, 1)
                }]
            },
            Ok(()),
        ),
        (
            "nothing shipped",
            |r| r.lines = vec![ReturnLine { quantity_shipped: 0, ..line("TEE-1", 2000, 1) }],
            Err(ReturnRequestError::TooMany { sku: sku("TEE-1"), requested: 1, returnable: 0 }),
        ),
        (
            "never more than ordered, whatever the shipment says",
            |r| r.lines = vec![ReturnLine { quantity_ordered: 2, quantity_shipped: 3, ..line("TEE-1", 2000, 3) }],
            Err(ReturnRequestError::TooMany { sku: sku("TEE-1"), requested: 3, returnable: 2 }),
        ),
        (
            "more returned than shipped",
            |r| r.lines = vec![ReturnLine { quantity_returned: 5, ..line("TEE-1", 2000, 1) }],
            Err(ReturnRequestError::TooMany { sku: sku("TEE-1"), requested: 1, returnable: 0 }),
        ),
        ("no lines", |r| r.lines.clear(), Err(ReturnRequestError::NoLines)),
        (
            "a line in another currency",
            |r| r.lines[0].unit_price = eur(2000),
            Err(ReturnRequestError::LineCurrency {
                sku: sku("TEE-1"),
                expected: Currency::parse("USD").expect("USD"),
                found: Currency::parse("EUR").expect("EUR"),
            }),
        ),
        (
            "a negative price",
            |r| r.lines[0].unit_price = usd(-1),
            Err(ReturnRequestError::NegativePrice { sku: sku("TEE-1") }),
        ),
        (
            "an amount past i64",
            |r| r.lines = vec![line("GOLD", i64::MAX / 2 + 1, 2)],
            Err(ReturnRequestError::Overflow),
        ),
    ];
    for (name, edit, expected) in cases {
        let mut input = request();
        edit(&mut input);
        assert_eq!(decide(&input, &policy, NOW).map(|_| ()), *expected, "{name}");
    }
    let error = ReturnRequestError::TooMany { sku: sku("TEE-1"), requested: 2, returnable: 1 };
    assert_eq!(error.to_string(), "cannot return 2 of TEE-1: 1 shipped and not yet returned");
}

#[test]
fn the_default_policy_takes_every_reason_within_30_days() {
    let policy = ReturnPolicy::default();
    for reason in ReturnReason::ALL {
        let mut input = request();
        input.reason = reason;
        input.lines = vec![line("COAT", 1_000_000, 1)];
        let decision = decide(&input, &policy, NOW).expect("decides");
        assert_eq!(decision.outcome, ReturnOutcome::Approved, "{reason}");
        let payer = if reason.shop_at_fault() { ShippingPayer::Merchant } else { ShippingPayer::Customer };
        assert_eq!((decision.shipping_paid_by, decision.refund), (payer, usd(1_000_000)), "{reason}");
    }
}

#[test]
fn a_decision_reads_back_from_json() {
    let mut input = request();
    input.reason = ReturnReason::ChangedMind;
    delivered(&mut input, days(47));
    let decision = decide(&input, &policy(), NOW).expect("decides");
    let json = serde_json::to_string(&decision).expect("json");
    assert!(json.contains(r#""outcome":"rejected""#), "{json}");
    assert!(json.contains(r#""kind":"outside_window""#), "{json}");
    let back: ReturnDecision = serde_json::from_str(&json).expect("reads back");
    assert_eq!(back, decision);
    assert_eq!(back.explain(), "Rejected: delivered 47 days ago; the window for etsy orders is 30 days");
}

fn arb_money() -> impl Strategy<Value = Money> {
    (-1_000i64..1_000_000, prop::bool::ANY).prop_map(|(minor, euro)| if euro { eur(minor) } else { usd(minor) })
}

/// Any policy, checked or not: `decide` must hold up even on one built in
/// code without `check`.
fn arb_policy() -> impl Strategy<Value = ReturnPolicy> {
    let fee = prop_oneof![
        Just(None),
        (-500i64..12_000).prop_map(|bp| Some(RestockingFee::PercentBp(bp))),
        arb_money().prop_map(|m| Some(RestockingFee::Flat(m))),
        Just(Some(RestockingFee::PercentBp(i64::MAX))),
    ];
    let rule = (prop::bool::ANY, fee, prop::option::of(prop::sample::subsequence(ItemCondition::ALL.to_vec(), 0..4)))
        .prop_map(|(merchant, restocking_fee, accepted_conditions)| ReasonRule {
            shipping_paid_by: if merchant { ShippingPayer::Merchant } else { ShippingPayer::Customer },
            restocking_fee,
            refund_method: None,
            accepted_conditions,
        });
    (
        prop::collection::btree_map(prop::sample::select(ReturnReason::ALL.to_vec()), rule, 0..8),
        -10i64..4_000,
        prop::collection::btree_map(prop::sample::select(vec!["a".to_owned(), "b".to_owned()]), -10i64..100, 0..2),
        prop::option::of(arb_money()),
        prop::option::of(arb_money()),
        prop::bool::ANY,
    )
        .prop_map(|(reasons, default_days, tags, limit, label, final_b)| {
            let mut policy = ReturnPolicy { reasons, ..ReturnPolicy::default() };
            policy.window.default_days = default_days;
            policy.window.tags = tags;
            policy.window.channels.insert(channel("etsy"), i64::MAX);
            policy.refund.auto_approve_up_to = limit;
            policy.refund.customer_shipping_fee = label;
            if final_b {
                policy.final_sale.tags.push("b".to_owned());
            }
            policy
        })
}

fn arb_line() -> impl Strategy<Value = ReturnLine> {
    (0i64..2_000_000_000_000, 1i64..50, -2i64..60, -2i64..60, -2i64..10, prop::bool::ANY, prop::bool::ANY).prop_map(
        |(price, quantity, ordered, shipped, returned, a, b)| ReturnLine {
            tags: [(a, "a"), (b, "b")].iter().filter(|(on, _)| *on).map(|(_, t)| (*t).to_owned()).collect(),
            quantity_ordered: ordered,
            quantity_shipped: shipped,
            quantity_returned: returned,
            ..line("SKU-1", price, quantity)
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn decide_never_panics_and_never_refunds_more_than_the_items(
        policy in arb_policy(),
        lines in prop::collection::vec(arb_line(), 0..4),
        delivered in prop::option::of(prop_oneof![any::<i64>(), (-DAY_MS..days(100)).prop_map(|ago| NOW - ago)]),
        shipped in prop::option::of(prop_oneof![any::<i64>(), (-DAY_MS..days(100)).prop_map(|ago| NOW - ago)]),
        now in prop_oneof![any::<i64>(), Just(NOW)],
        reason in prop::sample::select(ReturnReason::ALL.to_vec()),
        condition in prop::option::of(prop::sample::select(ItemCondition::ALL.to_vec())),
        on_etsy in prop::bool::ANY,
    ) {
        let input = ReturnRequest {
            channel: channel(if on_etsy { "etsy" } else { "shopify" }),
            delivered_at_ms: delivered,
            shipped_at_ms: shipped,
            lines,
            reason,
            condition,
            ..request()
        };
        let all_returnable = input.lines.iter().all(|l| l.quantity.as_i64() <= l.returnable());
        match decide(&input, &policy, now) {
            Ok(d) => {
                prop_assert!(all_returnable && !input.lines.is_empty());
                prop_assert!(0 <= d.refund.minor() && d.refund.minor() <= d.subtotal.minor(), "{d:?}");
                prop_assert!(d.restocking_fee.minor() >= 0 && d.shipping_fee.minor() >= 0, "{d:?}");
                let parts = d.refund.minor() + d.restocking_fee.minor() + d.shipping_fee.minor();
                prop_assert_eq!(parts, d.subtotal.minor());
                let explanation = d.explain();
                prop_assert!(explanation.starts_with(d.outcome.label()), "{}", explanation);
                let first_broken = d.findings.iter().map(Finding::effect).max();
                let expected = match first_broken {
                    Some(FindingEffect::Reject) => ReturnOutcome::Rejected,
                    Some(FindingEffect::Review) => ReturnOutcome::NeedsReview,
                    _ => ReturnOutcome::Approved,
                };
                prop_assert_eq!(d.outcome, expected);
            }
            Err(ReturnRequestError::TooMany { .. }) => prop_assert!(!all_returnable),
            Err(ReturnRequestError::NoLines) => prop_assert!(input.lines.is_empty()),
            // A line may overflow before a later line is found over quantity.
            Err(ReturnRequestError::Overflow) => {}
            Err(other) => prop_assert!(false, "unexpected {other}"),
        }
    }
}
