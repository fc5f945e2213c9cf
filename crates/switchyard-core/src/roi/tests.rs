//! The seed's three cases, exactly; the rounding rules; every refusal; and a
//! property that no input makes the report panic.

use proptest::prelude::*;

use super::parse::{parse_amount, parse_percent, parse_range, parse_whole};
use super::*;

fn usd() -> Currency {
    Currency::parse("USD").expect("valid")
}

fn dollars(d: i64) -> Money {
    Money::new(d * 100, usd())
}

fn pct(raw: &str) -> Percent {
    parse_percent(raw).expect("valid percentage")
}

fn range(low: i64, high: i64) -> Option<MoneyRange> {
    Some(MoneyRange::new(dollars(low), dollars(high)).expect("valid range"))
}

fn input(orders: u64, period: Period, aov: i64, before: &str, after: &str) -> RoiInput {
    RoiInput {
        orders,
        period,
        aov: dollars(aov),
        rate_before: pct(before),
        rate_after: pct(after),
        minutes_per_cancellation: RoiInput::DEFAULT_MINUTES_PER_CANCELLATION,
        labour_cost_per_hour: None,
        subscription_per_month: None,
        protection: None,
        seasonal: None,
    }
}

fn draft(orders: &str, per: &str, aov: &str, before: &str, after: &str) -> RoiDraft {
    RoiDraft {
        orders: orders.into(),
        per: per.into(),
        aov: aov.into(),
        cancel_rate_before: before.into(),
        cancel_rate_after: after.into(),
        ..RoiDraft::default()
    }
}

fn refused(d: &RoiDraft) -> (RoiField, RoiProblem) {
    match RoiInput::parse(d).and_then(|i| report(&i)) {
        Err(RoiError::Input { field, problem }) => (field, problem),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// Seed: "800 orders per month and reduces cancelations from 3% to 1.5%,
/// that is 12 fewer failed orders every month ... average order value is
/// only $45 ... protects $540 in monthly sales, or $6,480 a year".
#[test]
fn seed_case_one_800_orders_a_month_from_3_to_1_5_percent_at_45_dollars() {
    let r = report(&input(800, Period::Month, 45, "3", "1.5")).expect("report");
    assert_eq!((r.failed_before, r.failed_after, r.prevented), (24, 12, 12));
    assert_eq!(r.prevented_per_year, 144);
    assert_eq!(r.protected_revenue, dollars(540));
    assert_eq!(r.protected_revenue_per_year, dollars(6_480));
    assert_eq!((r.period, r.currency), (Period::Month, usd()));
    assert_eq!((r.labour_saved_low, r.payback_months_low, r.payback_months_high), (None, None, None));
    assert_eq!(r.value_per_year_low, dollars(6_480));
}

/// Seed: "9,000 orders per year at an average order value of $55 ... 2.8%
/// ... 252 failed orders annually ... cuts that to 1.2%, the retailer
/// prevents 144 cancellations ... protects $7,920 ... 20 minutes per
/// canceled order ... saves 48 hours a year ... $20 to $30 per hour, that is
/// another $960 to $1,440 ... If the system costs $250 to $500 per month".
#[test]
fn seed_case_two_9000_orders_a_year_with_labour_and_a_subscription() {
    let mut i = input(9_000, Period::Year, 55, "2.8", "1.2");
    i.labour_cost_per_hour = range(20, 30);
    i.subscription_per_month = range(250, 500);
    let r = report(&i).expect("report");
    assert_eq!((r.failed_before, r.failed_after, r.prevented, r.prevented_per_year), (252, 108, 144, 144));
    assert_eq!(r.protected_revenue, dollars(7_920));
    assert_eq!(r.protected_revenue_per_year, dollars(7_920));
    assert_eq!(r.minutes_saved, 2_880);
    assert_eq!(r.hours_saved, Hundredths(4_800));
    assert_eq!((r.labour_saved_low, r.labour_saved_high), (Some(dollars(960)), Some(dollars(1_440))));
    // "the annual value can exceed $8,000 to $9,000".
    assert_eq!((r.value_per_year_low, r.value_per_year_high), (dollars(8_880), dollars(9_360)));
    // A year at $250 (3,000) ÷ the best monthly value (9,360 ÷ 12 = 780) = 3.846…;
    // a year at $500 (6,000) ÷ the worst (8,880 ÷ 12 = 740) = 8.108….
    assert_eq!((r.payback_months_low, r.payback_months_high), (Some(Hundredths(385)), Some(Hundredths(811))));
    assert_eq!(r.hours_saved.to_string(), "48");
    assert_eq!(r.payback_months_low.map(|m| m.to_string()).as_deref(), Some("3.85"));
}

/// Seed: "prevents even one out-of-stock week on a top seller that moves
/// $8,000 in sales".
#[test]
fn seed_case_three_one_prevented_stockout_week_of_an_8000_dollar_seller() {
    let seasonal = SeasonalStockout { weekly_sales: dollars(8_000), weeks_prevented: 1 };
    assert_eq!(seasonal.preserved(), Ok(dollars(8_000)));
    assert_eq!(SeasonalStockout { weeks_prevented: 3, ..seasonal }.preserved(), Ok(dollars(24_000)));
    // In a report it is a line of its own and part of the value.
    let mut i = input(800, Period::Month, 45, "3", "1.5");
    i.seasonal = Some(seasonal);
    let r = report(&i).expect("report");
    assert_eq!(r.seasonal_preserved, Some(dollars(8_000)));
    assert_eq!(r.value_per_year_low, dollars(6_480 + 8_000));
}

#[test]
fn the_seed_cases_parse_from_the_text_people_type() {
    let i = RoiInput::parse(&draft("800", "month", "45", "3", "1.5")).expect("parse");
    assert_eq!(i, input(800, Period::Month, 45, "3", "1.5"));
    let mut d = draft("9000", "year", "55.00", "2.8%", "1.2");
    d.labour_cost_per_hour = Some("20-30".into());
    d.subscription_per_month = Some("250-500".into());
    d.minutes_per_cancellation = Some("20".into());
    d.currency = Some("USD".into());
    let r = report(&RoiInput::parse(&d).expect("parse")).expect("report");
    assert_eq!((r.prevented, r.protected_revenue.minor(), r.hours_saved), (144, 792_000, Hundredths(4_800)));
    assert_eq!((r.payback_months_low, r.payback_months_high), (Some(Hundredths(385)), Some(Hundredths(811))));
    let mut d = draft("800", "month", "45", "3", "1.5");
    d.top_seller_weekly_sales = Some("8000".into());
    let r = report(&RoiInput::parse(&d).expect("parse")).expect("report");
    assert_eq!(r.seasonal_preserved, Some(dollars(8_000)), "one week when weeks are not given");
}

#[test]
fn failed_orders_round_half_up_to_whole_orders() {
    for (orders, rate, failed) in [
        (10, "2.5", 0), // 0.25
        (50, "1", 1),   // 0.5
        (149, "1", 1),  // 1.49
        (150, "1", 2),  // 1.5
        (30, "5", 2),   // 1.5
        (7, "100", 7),  // everything
        (7, "0", 0),    // nothing
        (1_000_000, "0.0001", 1),
    ] {
        assert_eq!(pct(rate).of_count(orders), failed, "{orders} × {rate}%");
    }
    // prevented is the difference of the rounded counts, so the lines agree.
    let r = report(&input(150, Period::Month, 10, "1", "0.5")).expect("report");
    assert_eq!((r.failed_before, r.failed_after, r.prevented), (2, 1, 1));
}

#[test]
fn hours_labour_and_payback_round_half_up() {
    // 10 prevented a year × 20 minutes = 200 minutes = 3.333… hours.
    let mut i = input(1_000, Period::Year, 10, "2", "1");
    i.labour_cost_per_hour = range(25, 25);
    i.subscription_per_month = range(1, 1);
    let r = report(&i).expect("report");
    assert_eq!((r.minutes_saved, r.hours_saved), (200, Hundredths(333)));
    // 200 × 2,500 ÷ 60 = 8,333.33… cents, from the exact minutes.
    assert_eq!(r.labour_saved_low.map(|m| m.minor()), Some(8_333));
    // value 10,000 + 8,333 cents; 144 × 100 × 100 ÷ 18,333 = 78.55
    assert_eq!(r.payback_months_low, Some(Hundredths(79)));
    // 31 minutes for 1 → 0.5166… hours → 0.52; at 1.00/hour 51.66… → 52 cents.
    let mut i = input(100, Period::Year, 1, "1", "0");
    i.minutes_per_cancellation = 31;
    i.labour_cost_per_hour = range(1, 1);
    let r = report(&i).expect("report");
    assert_eq!((r.hours_saved, r.labour_saved_high.map(|m| m.minor())), (Hundredths(52), Some(52)));
}

#[test]
fn the_cost_of_protection_is_reported_and_subtracted() {
    let mut i = input(800, Period::Month, 45, "3", "1.5");
    i.protection = Some(ProtectionCost { orders_rerouted: 10, extra_cost_per_order: Money::new(250, usd()) });
    i.subscription_per_month = range(250, 500);
    let r = report(&i).expect("report");
    assert_eq!(r.protection_cost, Some(dollars(25)));
    assert_eq!(r.protection_cost_per_year, Some(dollars(300)));
    assert_eq!(r.value_per_year_low, dollars(6_480 - 300));
    // 144 × 25,000 × 100 ÷ 618,000 = 582.52…; 144 × 50,000 × 100 ÷ 618,000 = 1,165.04…
    assert_eq!((r.payback_months_low, r.payback_months_high), (Some(Hundredths(583)), Some(Hundredths(1_165))));
    // When protection costs more than everything is worth, it never pays back.
    i.protection = Some(ProtectionCost { orders_rerouted: 1_000, extra_cost_per_order: dollars(1) });
    let r = report(&i).expect("report");
    assert_eq!(r.value_per_year_high, dollars(6_480 - 12_000));
    assert_eq!((r.payback_months_low, r.payback_months_high), (None, None));
}

#[test]
fn nothing_prevented_means_no_payback() {
    let mut i = input(800, Period::Month, 45, "2", "2");
    i.subscription_per_month = range(250, 500);
    let r = report(&i).expect("report");
    assert_eq!((r.prevented, r.protected_revenue_per_year.minor()), (0, 0));
    assert_eq!((r.payback_months_low, r.payback_months_high), (None, None));
}

#[test]
fn a_rate_after_above_the_rate_before_is_refused() {
    let (field, problem) = refused(&draft("800", "month", "45", "1.5", "3"));
    assert_eq!(field, RoiField::CancelRateAfter);
    assert_eq!(problem, RoiProblem::AboveRateBefore { before: pct("1.5"), after: pct("3") });
    assert_eq!(
        report(&input(800, Period::Month, 45, "1.5", "3")).map_err(|e| e.to_string()),
        Err("cancel_rate_after: 3% is above the rate before (1.5%); this report counts what is prevented".into())
    );
}

#[test]
fn bad_drafts_are_refused_naming_the_field() {
    let cases: Vec<(RoiDraft, RoiField, &str)> = vec![
        (draft("-5", "month", "45", "3", "1"), RoiField::Orders, "orders: must not be negative (got \"-5\")"),
        (draft("8x", "month", "45", "3", "1"), RoiField::Orders, "orders: must be a whole number like 800"),
        (draft("", "month", "45", "3", "1"), RoiField::Orders, "orders: is required"),
        (draft("800", "week", "45", "3", "1"), RoiField::Per, "per: must be month or year (got \"week\")"),
        (draft("800", "month", "-1", "3", "1"), RoiField::Aov, "aov: must not be negative"),
        (draft("800", "month", "45.001", "3", "1"), RoiField::Aov, "aov: has more than 2 decimal places"),
        (draft("800", "month", "4,5", "3", "1"), RoiField::Aov, "aov: must be a decimal amount"),
        (draft("800", "month", "45", "3,5", "1"), RoiField::CancelRateBefore, "must be a percentage like 3"),
        (draft("800", "month", "45", "101", "1"), RoiField::CancelRateBefore, "must be at most 100%"),
        (draft("800", "month", "45", "3", "1.00001"), RoiField::CancelRateAfter, "more than 4 decimal places"),
        (draft("800", "month", "45", "3", "-1%"), RoiField::CancelRateAfter, "must not be negative (got \"-1%\")"),
    ];
    for (d, field, message) in cases {
        let err = RoiInput::parse(&d).and_then(|i| report(&i)).expect_err("refused");
        assert!(matches!(err, RoiError::Input { field: f, .. } if f == field), "{err:?}");
        assert!(err.to_string().contains(message), "{err} should contain {message:?}");
    }
    let with = |f: fn(&mut RoiDraft)| {
        let mut d = draft("800", "month", "45", "3", "1");
        f(&mut d);
        refused(&d)
    };
    let (field, problem) = with(|d| d.labour_cost_per_hour = Some("30-20".into()));
    assert_eq!(
        (field, problem),
        (RoiField::LabourCostPerHour, RoiProblem::LowAboveHigh { low: dollars(30), high: dollars(20) })
    );
    assert_eq!(with(|d| d.subscription_per_month = Some("250-".into())).0, RoiField::SubscriptionPerMonth);
    assert_eq!(with(|d| d.currency = Some("usd".into())).0, RoiField::Currency);
    assert_eq!(with(|d| d.minutes_per_cancellation = Some("99999999999".into())).0, RoiField::MinutesPerCancellation);
    assert_eq!(
        with(|d| d.rerouted_orders = Some("10".into())),
        (RoiField::ReroutedOrders, RoiProblem::NeedsAlso(RoiField::ExtraCostPerReroutedOrder))
    );
    assert_eq!(
        with(|d| d.prevented_stockout_weeks = Some("2".into())),
        (RoiField::PreventedStockoutWeeks, RoiProblem::NeedsAlso(RoiField::TopSellerWeeklySales))
    );
}

#[test]
fn typed_input_is_checked_too() {
    let eur = Currency::parse("EUR").expect("valid");
    let mut i = input(800, Period::Month, 45, "3", "1.5");
    i.aov = Money::new(-1, usd());
    assert!(matches!(report(&i), Err(RoiError::Input { field: RoiField::Aov, .. })));
    let mut i = input(800, Period::Month, 45, "3", "1.5");
    i.seasonal = Some(SeasonalStockout { weekly_sales: Money::new(100, eur), weeks_prevented: 1 });
    assert!(matches!(report(&i), Err(RoiError::Input { field: RoiField::TopSellerWeeklySales, .. })));
    assert!(MoneyRange::new(dollars(1), Money::new(2, eur)).is_err());
    assert!(MoneyRange::new(dollars(-1), dollars(2)).is_err());
}

#[test]
fn figures_too_large_are_an_error_not_a_panic() {
    let mut i = input(u64::MAX, Period::Month, 45, "100", "0");
    assert_eq!(report(&i), Err(RoiError::Overflow));
    i.period = Period::Year;
    i.aov = Money::new(i64::MAX, usd());
    assert_eq!(report(&i), Err(RoiError::Overflow));
}

#[test]
fn numbers_parse_exactly() {
    for (raw, ten_thousandths) in [("3", 30_000), ("1.5", 15_000), ("2.8", 28_000), ("2.8%", 28_000), ("0.0001", 1)] {
        assert_eq!(parse_percent(raw).map(Percent::ten_thousandths), Ok(ten_thousandths), "{raw}");
    }
    assert_eq!(parse_percent("100").map(Percent::ten_thousandths), Ok(Percent::HUNDRED));
    assert_eq!(parse_percent(" 2.80000 ").map(|p| p.to_string()), Ok("2.8".into()));
    for bad in ["", "%", ".", "abc", "1e2", "3%%", "+3", "100.0001", "99999999999999999999"] {
        assert!(parse_percent(bad).is_err(), "{bad:?}");
    }
    for (raw, shown) in [("3", "3"), ("1.50", "1.5"), ("0.25", "0.25"), ("12.3456", "12.3456")] {
        assert_eq!(pct(raw).to_string(), shown);
    }
    assert_eq!(Percent::of(252, 9_000), Some(pct("2.8")));
    assert_eq!(Percent::of(1, 3), Some(pct("33.3333")));
    assert_eq!(Percent::of(2, 3), Some(pct("66.6667")));
    assert_eq!((Percent::of(1, 0), Percent::of(2, 1)), (None, None));
}

/// `roi --db`'s measured rate: half up to hundredths of a percent, shown
/// with two decimals, and the report computed from that rounded rate.
#[test]
fn a_measured_rate_rounds_half_up_to_hundredths_of_a_percent() {
    let shown = |part, whole| Percent::measured(part, whole).map(Percent::two_decimals);
    assert_eq!(shown(1, 8), Some("12.50".into()));
    assert_eq!(shown(1, 3), Some("33.33".into()));
    assert_eq!(shown(2, 3), Some("66.67".into()));
    // 1 of 1,600 is 0.0625%: half up to 0.06; 1 of 800 is 0.125%: to 0.13.
    assert_eq!(shown(1, 1_600), Some("0.06".into()));
    assert_eq!(shown(1, 800), Some("0.13".into()));
    // 1 of 20,001 is 0.004999…%: down to 0; 1 of 20,000 exactly 0.005%: up to 0.01.
    assert_eq!(shown(1, 20_001), Some("0.00".into()));
    assert_eq!(shown(1, 20_000), Some("0.01".into()));
    assert_eq!((shown(0, 5), shown(5, 5)), (Some("0.00".into()), Some("100.00".into())));
    assert_eq!((Percent::measured(1, 0), Percent::measured(2, 1)), (None, None));
    assert_eq!(Percent::measured(1, 3), Some(pct("33.33")), "the rounded rate is the rate used");
    assert_eq!(pct("2.8").two_decimals(), "2.80");
    assert_eq!(pct("0.125").two_decimals(), "0.13");
    let jpy = Currency::parse("JPY").expect("valid");
    assert_eq!(parse_amount("45", usd()), Ok(dollars(45)));
    assert_eq!(parse_amount("45.5", usd()), Ok(Money::new(4_550, usd())));
    assert_eq!(parse_amount(".5", usd()), Ok(Money::new(50, usd())));
    assert_eq!(parse_amount("4500.00", jpy), Ok(Money::new(4_500, jpy)));
    assert!(matches!(parse_amount("45.5", jpy), Err(RoiProblem::TooPrecise { places: 0, .. })));
    assert!(matches!(parse_amount("99999999999999999.99", usd()), Err(RoiProblem::TooLarge(_))));
    assert_eq!(parse_range("25", usd()).map(|r| (r.low(), r.high())), Ok((dollars(25), dollars(25))));
    assert_eq!(parse_range("20.50–30", usd()).map(|r| r.low().minor()), Ok(2_050));
    assert!(matches!(parse_range("-5", usd()), Err(RoiProblem::Negative(_))));
    assert_eq!(parse_whole(" 800 "), Ok(800));
    assert!(matches!(parse_whole("18446744073709551616"), Err(RoiProblem::TooLarge(_))));
    assert_eq!(Hundredths(50).to_string(), "0.5");
    assert_eq!(Period::parse("year").map(Period::as_str), Some("year"));
}

fn money() -> impl Strategy<Value = Money> {
    prop_oneof![0..1_000_000i64, any::<i64>()].prop_map(|m| Money::new(m, Currency::parse("USD").expect("valid")))
}

fn money_range() -> impl Strategy<Value = Option<MoneyRange>> {
    let usd = Currency::parse("USD").expect("valid");
    let end = prop_oneof![0..100_000i64, 0..=i64::MAX];
    proptest::option::of((end.clone(), end)).prop_map(move |ends| {
        ends.and_then(|(a, b)| MoneyRange::new(Money::new(a.min(b), usd), Money::new(a.max(b), usd)).ok())
    })
}

fn percent() -> impl Strategy<Value = Percent> {
    (0..=Percent::HUNDRED).prop_map(|p| Percent::from_ten_thousandths(p).unwrap_or(Percent(0)))
}

fn typed_input() -> impl Strategy<Value = RoiInput> {
    (
        (prop_oneof![0..100_000u64, any::<u64>()], any::<bool>(), money(), percent(), percent(), any::<u32>()),
        (money_range(), money_range()),
        proptest::option::of((any::<u64>(), money())),
        proptest::option::of((money(), any::<u32>())),
    )
        .prop_map(|((orders, monthly, aov, before, after, minutes), (labour, sub), protection, seasonal)| {
            RoiInput {
                orders,
                period: if monthly { Period::Month } else { Period::Year },
                aov,
                rate_before: before,
                rate_after: after,
                minutes_per_cancellation: minutes,
                labour_cost_per_hour: labour,
                subscription_per_month: sub,
                protection: protection.map(|(orders_rerouted, extra_cost_per_order)| ProtectionCost {
                    orders_rerouted,
                    extra_cost_per_order,
                }),
                seasonal: seasonal
                    .map(|(weekly_sales, weeks_prevented)| SeasonalStockout { weekly_sales, weeks_prevented }),
            }
        })
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof!["[0-9]{0,25}", "[0-9]{0,6}\\.[0-9]{0,6}%?", "[-0-9.,%a-z–]{0,12}", ".*"]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn the_report_never_panics_and_its_lines_agree(i in typed_input()) {
        if let Ok(r) = report(&i) {
            prop_assert!(r.failed_after <= r.failed_before && r.failed_before <= i.orders);
            prop_assert_eq!(r.prevented, r.failed_before - r.failed_after);
            prop_assert_eq!(r.protected_revenue, i.aov.checked_mul(r.prevented as i64).expect("checked in report"));
            prop_assert!(r.value_per_year_low.minor() <= r.value_per_year_high.minor());
            if let (Some(low), Some(high)) = (r.payback_months_low, r.payback_months_high) {
                prop_assert!(low <= high);
            }
        }
    }

    #[test]
    fn parsing_any_text_never_panics(
        orders in text(), per in "month|year|.*", aov in text(), before in text(), after in text(),
        extras in proptest::collection::vec(proptest::option::of(text()), 8),
    ) {
        let d = RoiDraft {
            orders, per, aov, cancel_rate_before: before, cancel_rate_after: after,
            minutes_per_cancellation: extras[0].clone(),
            labour_cost_per_hour: extras[1].clone(),
            subscription_per_month: extras[2].clone(),
            currency: extras[3].clone().map(|_| "USD".to_owned()),
            rerouted_orders: extras[4].clone(),
            extra_cost_per_rerouted_order: extras[5].clone(),
            top_seller_weekly_sales: extras[6].clone(),
            prevented_stockout_weeks: extras[7].clone(),
        };
        let _ = RoiInput::parse(&d).and_then(|i| report(&i));
    }
}
