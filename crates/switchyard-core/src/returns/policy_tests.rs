//! The return policy's text: parsing errors with their lines, round trips,
//! the example policy, the reason codes, and each channel's vocabulary.

use proptest::prelude::*;

use super::tests::{channel, policy, sku, EXAMPLE};
use super::*;
use crate::money::Currency;

#[test]
fn channel_reasons_map_to_the_canonical_list() {
    let policy = ReturnPolicy::from_toml(EXAMPLE).unwrap_or_else(|e| panic!("{e}"));
    use ReturnReason::*;
    let cases: &[(&str, &str, ReturnReason)] = &[
        ("amazon", "DEFECTIVE", Defective),
        ("amazon", "damaged_by_carrier", DamagedInTransit),
        ("Amazon", "Apparel too small", WrongSize),
        ("amazon", "SWITCHEROO", WrongItem),
        ("amazon", "wrong_size", WrongSize),
        ("amazon", "SOMETHING_NEW", Other),
        ("amazon", "broken", Other),
        ("etsy", "The mug arrived broken :(", DamagedInTransit),
        ("etsy", "It's TOO   SMALL for me", WrongSize),
        ("etsy", "It doesn't fit", WrongSize),
        ("etsy", "I changed my mind, and it is broken", ChangedMind),
        ("etsy", "brokenhearted", Other),
        ("etsy", "Not as described", NotAsDescribed),
        ("etsy", "", Other),
        ("etsy", " \u{0} \n ", Other),
        ("shopify", "Defective", Defective),
        ("shopify", "broken", Other),
        ("not a channel!", "wrong item", WrongItem),
    ];
    for (channel_name, raw, expected) in cases {
        assert_eq!(policy.map_reason(channel_name, raw), *expected, "{channel_name}: {raw:?}");
    }
    // A channel without its own table uses its kind's.
    let shop_two = channel("etsy-shop-2");
    assert_eq!(policy.map_channel_reason(&shop_two, crate::channel::ChannelKind::Etsy, "broken"), DamagedInTransit);
    assert_eq!(policy.map_channel_reason(&shop_two, crate::channel::ChannelKind::Shopify, "broken"), Other);
    // Hostile text: long, and no panic.
    let long = "broken ".repeat(50_000);
    assert_eq!(policy.map_reason("etsy", &long), DamagedInTransit);
    assert_eq!(policy.map_reason("etsy", &"\u{fe0f}".repeat(100_000)), Other);
}

#[test]
fn reason_and_condition_codes_are_stable() {
    let codes: Vec<&str> = ReturnReason::ALL.iter().map(|r| r.as_str()).collect();
    assert_eq!(
        codes,
        [
            "wrong_size",
            "damaged_in_transit",
            "defective",
            "not_as_described",
            "wrong_item",
            "changed_mind",
            "late_delivery",
            "other"
        ]
    );
    for reason in ReturnReason::ALL {
        assert_eq!(ReturnReason::parse(reason.as_str()), Some(reason));
        assert_eq!(serde_json::to_string(&reason).expect("json"), format!("\"{reason}\""));
    }
    for condition in ItemCondition::ALL {
        assert_eq!(ItemCondition::parse(condition.as_str()), Some(condition));
        assert_eq!(serde_json::to_string(&condition).expect("json"), format!("\"{condition}\""));
    }
    let outcomes = [ReturnOutcome::Approved, ReturnOutcome::Rejected, ReturnOutcome::NeedsReview];
    for outcome in outcomes {
        assert_eq!(serde_json::to_string(&outcome).expect("json"), format!("\"{}\"", outcome.as_str()));
    }
    assert_eq!(outcomes.map(ReturnOutcome::as_str), ["approved", "rejected", "needs_review"]);
}

#[test]
fn the_example_policy_parses_and_round_trips() {
    let example = ReturnPolicy::from_toml(EXAMPLE).unwrap_or_else(|e| panic!("{e}"));
    assert!(!example.accepts(ReturnReason::LateDelivery));
    assert_eq!(example.reasons.len(), 7);
    assert_eq!(example.currency(), Currency::parse("USD").ok());
    assert_eq!(example.window.skus.get(&sku("GIFT-BOX-XL")), Some(&90));
    for policy in [example, policy(), ReturnPolicy::default()] {
        let text = policy.to_toml().expect("renders");
        assert_eq!(ReturnPolicy::from_toml(&text), Ok(policy.clone()), "{text}");
        let json = serde_json::to_string(&policy).expect("json");
        let back: ReturnPolicy = serde_json::from_str(&json).expect("reads back");
        assert_eq!(back, policy);
    }
    // An empty document is the default policy.
    assert_eq!(ReturnPolicy::from_toml(""), Ok(ReturnPolicy::default()));
    // JSON goes through the same checks.
    let bad = r#"{"reasons": {"broken": {"shipping_paid_by": "customer"}}}"#;
    let error = serde_json::from_str::<ReturnPolicy>(bad).expect_err("unknown reason").to_string();
    assert!(error.contains("reasons.broken: unknown return reason \"broken\""), "{error}");
}

fn errors_of(text: &str) -> Vec<ReturnPolicyError> {
    match ReturnPolicy::from_toml(text) {
        Ok(policy) => panic!("expected errors, got {policy:?}"),
        Err(errors) => errors.into_vec(),
    }
}

/// (toml, expected path, expected line, expected message fragment)
#[test]
fn policy_errors_name_the_line_and_the_field() {
    let cases: &[(&str, &str, usize, &str)] = &[
        ("[window]\ndefault_days = -5\n", "window.default_days", 2, "must not be negative (got -5)"),
        ("[window]\nchannels = { etsy = 4000 }\n", "window.channels.etsy", 2, "at most 3650 (got 4000)"),
        ("[window]\ntags = { \" \" = 3 }\n", "window.tags.\" \"", 2, "must not be empty"),
        ("[windw]\n", "windw", 1, "unknown field `windw`"),
        (
            "[reasons.broken]\nshipping_paid_by = \"customer\"\n",
            "reasons.broken",
            1,
            "unknown return reason \"broken\"",
        ),
        ("[reasons]\n", "reasons", 1, "must not be empty"),
        (
            "[reasons.changed_mind]\nshipping_paid_by = \"nobody\"\n",
            "reasons.changed_mind.shipping_paid_by",
            2,
            "unknown variant `nobody`",
        ),
        (
            "[reasons.changed_mind]\nrefund_method = \"exchange\"\n",
            "reasons.changed_mind",
            1,
            "missing field `shipping_paid_by`",
        ),
        (
            "[reasons.changed_mind]\nshipping_paid_by = \"customer\"\nrestocking_fee = { percent_bp = 12000 }\n",
            "reasons.changed_mind.restocking_fee.percent_bp",
            3,
            "at most 10000 basis points, i.e. 100% (got 12000)",
        ),
        (
            "[reasons.other]\nshipping_paid_by = \"customer\"\nrestocking_fee = { percent_bp = -1 }\n",
            "reasons.other.restocking_fee.percent_bp",
            3,
            "must not be negative",
        ),
        (
            "[refund]\nauto_approve_up_to = { minor = 100, currency = \"USD\" }\n\n[reasons.other]\n\
             shipping_paid_by = \"customer\"\nrestocking_fee = { flat = { minor = 500, currency = \"EUR\" } }\n",
            "reasons.other.restocking_fee.flat.currency",
            6,
            "one currency (expected USD, found EUR)",
        ),
        (
            "[refund]\nauto_approve_up_to = { minor = -1, currency = \"USD\" }\n",
            "refund.auto_approve_up_to.minor",
            2,
            "must not be negative (got -1)",
        ),
        (
            "[reasons.changed_mind]\nshipping_paid_by = \"customer\"\naccepted_conditions = []\n",
            "reasons.changed_mind.accepted_conditions",
            3,
            "must not be empty",
        ),
        (
            "[reasons.changed_mind]\nshipping_paid_by = \"customer\"\naccepted_conditions = [\"used\", \"used\"]\n",
            "reasons.changed_mind.accepted_conditions[1]",
            3,
            "condition `used` appears more than once",
        ),
        (
            "[reasons.changed_mind]\nshipping_paid_by = \"customer\"\naccepted_conditions = [\"mint\"]\n",
            "reasons.changed_mind.accepted_conditions[0]",
            3,
            "unknown variant `mint`",
        ),
        (
            "[final_sale]\nexcept_reasons = [\"defective\", \"bogus\"]\n",
            "final_sale.except_reasons[1]",
            2,
            "unknown return reason \"bogus\"",
        ),
        ("[final_sale]\ntags = [\"\"]\n", "final_sale.tags[0]", 2, "must not be empty"),
        (
            "[channel_reasons.amazon.codes]\nDEFECTIVE = \"faulty\"\n",
            "channel_reasons.amazon.codes.DEFECTIVE",
            2,
            "unknown return reason \"faulty\"",
        ),
        (
            "[channel_reasons.amazon.codes]\nDEFECTIVE = \"defective\"\n\"defective\" = \"defective\"\n",
            "channel_reasons.amazon.codes.defective",
            3,
            "\"defective\" (the same as \"DEFECTIVE\" once case and punctuation are ignored) appears more than once",
        ),
        ("[channel_reasons.etsy.keywords]\n\"!!\" = \"other\"\n", "channel_reasons.etsy.keywords.\"!!\"", 2, "empty"),
        (
            "[window]\ndefault_days = 9\n\n[reasons.changed_mind]\nrefund_method = \"exchange\"\n",
            "reasons.changed_mind",
            4,
            "missing field `shipping_paid_by`",
        ),
        ("[channel_reasons.etsy]\nwords = {}\n", "channel_reasons.etsy.words", 2, "unknown field `words`"),
        ("this is not toml", "", 1, ""),
    ];
    for (text, path, line, fragment) in cases {
        let errors = errors_of(text);
        let first = &errors[0];
        assert_eq!(first.path.to_string(), if path.is_empty() { "(policy)" } else { path }, "{text}");
        assert_eq!(first.line, Some(*line), "{text}: {first}");
        assert!(first.to_string().contains(fragment), "{text}: {first}");
    }
}

#[test]
fn every_policy_problem_is_reported_not_just_the_first() {
    let text = "[window]\ndefault_days = -5\n\n[reasons.broken]\nshipping_paid_by = \"customer\"\n\n\
                [reasons.other]\nshipping_paid_by = \"customer\"\nrestocking_fee = { percent_bp = 10001 }\n";
    let errors = errors_of(text);
    let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            "line 4, column 10: reasons.broken: unknown return reason \"broken\" (expected one of wrong_size, \
             damaged_in_transit, defective, not_as_described, wrong_item, changed_mind, late_delivery, other)",
            "line 2, column 1: window.default_days: must not be negative (got -5)",
            "line 9, column 20: reasons.other.restocking_fee.percent_bp: must be at most 10000 basis points, \
             i.e. 100% (got 10001)",
        ]
    );
    let all = ReturnPolicyErrors::to_string(&ReturnPolicy::from_toml(text).expect_err("invalid"));
    assert!(all.starts_with("the return policy has 3 errors\n  line 4"), "{all}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn parsing_arbitrary_text_never_panics(text in "\\PC{0,200}") {
        let _ = ReturnPolicy::from_toml(&text).map_err(|e| e.to_string());
    }

    #[test]
    fn parsing_mutated_policies_never_panics(
        edits in prop::collection::vec(
            (any::<prop::sample::Index>(), 0..3u8, "[\\[\\]{}=\",.#0-9a-z_ \n-]{0,6}"),
            1..6
        )
    ) {
        let mut text = EXAMPLE.to_owned();
        for (at, action, fragment) in edits {
            let mut offset = at.index(text.len() + 1);
            while !text.is_char_boundary(offset) {
                offset -= 1;
            }
            match action {
                0 => text.insert_str(offset, &fragment),
                1 => {
                    let mut end = (offset + fragment.len().max(1)).min(text.len());
                    while !text.is_char_boundary(end) {
                        end -= 1;
                    }
                    text.replace_range(offset..end, &fragment);
                }
                _ => text = text.replacen(|c: char| c.is_ascii_digit(), "-", 1),
            }
        }
        match ReturnPolicy::from_toml(&text) {
            Ok(policy) => {
                let again = policy.to_toml().map(|t| ReturnPolicy::from_toml(&t));
                prop_assert!(matches!(again, Ok(Ok(ref p)) if *p == policy), "round trip failed for {}", text);
            }
            Err(errors) => {
                prop_assert!(!errors.errors().is_empty());
                let _ = errors.to_string();
            }
        }
    }
}
