//! The cost of inaction: what fewer cancelled orders are worth, as exact
//! arithmetic (the seed's "start with the cost of inaction").
//!
//! [`report`] turns an [`RoiInput`] — orders per month or year, the average
//! order value, the cancellation rate before and after, the minutes each
//! cancellation costs the team, optional labour cost and subscription ranges
//! — into an [`RoiReport`]. Adapters (the `switchyard roi` command, a
//! dashboard form) copy what they received into an [`RoiDraft`] and call
//! [`RoiInput::parse`], so every entry point applies the same rules and says
//! the same things about bad input.
//!
//! # The arithmetic, and where it rounds
//!
//! Money is integer minor units and rates are exact fixed-point
//! [`Percent`]s; nothing goes through a float. Each figure is computed from
//! exact integers and rounded once, half up:
//!
//! - **a measured rate** (`--db`: cancelled ÷ orders of the shop's own
//!   period) is rounded half up to hundredths of a percent before anything
//!   else uses it ([`Percent::measured`]): the rate shown is the rate used.
//! - **failed orders** (per period) = orders × rate, rounded half up to whole
//!   orders (800 × 3% = 24; 9,000 × 2.8% = 252; 10 × 2.5% = 0.25 → 0).
//! - **prevented** (per period) = failed before − failed after, the
//!   difference of the two rounded counts, so the three numbers shown always
//!   agree. A rate after above the rate before is refused
//!   ([`RoiProblem::AboveRateBefore`]): this is a calculator of what is
//!   prevented, not of losses.
//! - **protected revenue** (per period) = prevented × average order value,
//!   exact; per year it is × 12 for a monthly period.
//! - **minutes saved** (per year) = prevented per year × minutes per
//!   cancellation (default 20, the seed's); **hours saved** is that ÷ 60,
//!   rounded half up to hundredths of an hour.
//! - **labour saved** (per year, low and high) = minutes saved × cost per
//!   hour ÷ 60, rounded half up to the minor unit (from the exact minutes,
//!   not the rounded hours).
//! - **cost of protection** (optional, per period) = orders routed elsewhere
//!   because flagship stock was protected × the extra cost per such order
//!   (extra shipping distance, a dearer carrier); per year × 12 for a
//!   monthly period. It is subtracted from the value.
//! - **seasonal revenue preserved** (optional, per year) = a top seller's
//!   weekly sales × out-of-stock weeks prevented (the seed: one prevented
//!   week of an $8,000-a-week seller preserves $8,000). It is added to the
//!   value.
//! - **value per year** (low, high) = protected revenue per year + labour
//!   saved (low, high; 0 without a labour cost) + seasonal revenue preserved
//!   − cost of protection per year. It may be negative.
//! - **payback months** (low, high) = one year of subscription ÷ the monthly
//!   value = 12 × (12 × subscription per month) ÷ value per year, rounded
//!   half up to hundredths of a month: how many months of value earn back a
//!   year's subscription. The low end pairs the cheapest subscription with
//!   the highest value, the high end the dearest subscription with the
//!   lowest value. `None` without a subscription, or when that value is not
//!   positive (it never pays back). For the seed's $500,000 retailer
//!   ($7,920 protected, $960–$1,440 labour, $250–$500 a month) that is
//!   3.85–8.11 months.

mod parse;
#[cfg(test)]
mod tests;

use std::fmt;

use crate::{Currency, Money, MoneyError};

pub use parse::{RoiDraft, RoiField, RoiProblem};

/// How long the order count covers; every "per period" figure uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    Month,
    Year,
}

impl Period {
    /// `month` or `year`.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "month" => Some(Self::Month),
            "year" => Some(Self::Year),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Month => "month",
            Self::Year => "year",
        }
    }
    /// How many of these periods make a year.
    pub fn per_year(self) -> u64 {
        match self {
            Self::Month => 12,
            Self::Year => 1,
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A percentage from 0 to 100 with up to four decimals, held exactly as
/// ten-thousandths of a percent (2.8% is 28,000; 100% is 1,000,000).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Percent(u32);

impl Percent {
    /// Decimal places kept after the percent's point.
    pub const PLACES: u32 = 4;
    /// 100%, in ten-thousandths of a percent.
    pub const HUNDRED: u32 = 1_000_000;

    /// `ten_thousandths` of a percent, if at most 100%.
    pub fn from_ten_thousandths(ten_thousandths: u32) -> Option<Self> {
        (ten_thousandths <= Self::HUNDRED).then_some(Self(ten_thousandths))
    }
    /// `part` of `whole` (e.g. cancelled of all orders, as measured), rounded
    /// half up to the fourth decimal; `None` when `whole` is 0 or `part`
    /// exceeds it.
    pub fn of(part: u64, whole: u64) -> Option<Self> {
        if whole == 0 || part > whole {
            return None;
        }
        let scaled = div_half_up(u128::from(part) * u128::from(Self::HUNDRED), u128::from(whole));
        u32::try_from(scaled).ok().and_then(Self::from_ten_thousandths)
    }
    /// A rate measured from the shop's own orders (`switchyard roi --db`, the
    /// dashboard's prefill): `part` of `whole` rounded half up to hundredths
    /// of a percent — two decimals, as it is shown (1 of 8 is 12.50%, 1 of
    /// 3 is 33.33%, 1 of 1,600 is 0.06%); `None` when `whole` is 0 or `part`
    /// exceeds it.
    pub fn measured(part: u64, whole: u64) -> Option<Self> {
        if whole == 0 || part > whole {
            return None;
        }
        let hundredths = div_half_up(u128::from(part) * 10_000, u128::from(whole));
        u32::try_from(hundredths * 100).ok().and_then(Self::from_ten_thousandths)
    }
    pub fn ten_thousandths(self) -> u32 {
        self.0
    }
    /// The percentage with exactly two decimals (`12.50`, `0.06`, `100.00`),
    /// rounded half up when it has more.
    pub fn two_decimals(self) -> String {
        let hundredths = div_half_up(u128::from(self.0), 100);
        format!("{}.{:02}", hundredths / 100, hundredths % 100)
    }
    /// `count` × this rate, rounded half up to a whole number.
    pub fn of_count(self, count: u64) -> u64 {
        let exact = div_half_up(u128::from(count) * u128::from(self.0), u128::from(Self::HUNDRED));
        // At most `count`, since the rate is at most 100%.
        u64::try_from(exact).unwrap_or(count)
    }
}

impl fmt::Display for Percent {
    /// The shortest exact decimal: `3`, `1.5`, `2.8`, `0.0001`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", Fixed { units: u64::from(self.0), places: Self::PLACES })
    }
}

/// An exact non-negative figure in hundredths (hours, months): 48 hours is
/// 4,800; 3.85 months is 385.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hundredths(pub u64);

impl fmt::Display for Hundredths {
    /// The shortest exact decimal: `48`, `3.85`, `0.5`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", Fixed { units: self.0, places: 2 })
    }
}

/// `units` ÷ 10^`places`, written without trailing zeros.
struct Fixed {
    units: u64,
    places: u32,
}

impl fmt::Display for Fixed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scale = 10u64.pow(self.places);
        let (whole, frac) = (self.units / scale, self.units % scale);
        if frac == 0 {
            return write!(f, "{whole}");
        }
        let digits = format!("{frac:0width$}", width = self.places as usize);
        write!(f, "{whole}.{}", digits.trim_end_matches('0'))
    }
}

/// A low–high range of one currency, low ≤ high, neither negative (a labour
/// cost of $20–$30 an hour, a subscription of $250–$500 a month). A single
/// figure is a range whose ends are equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MoneyRange {
    low: Money,
    high: Money,
}

impl MoneyRange {
    /// Refuses a negative end, two currencies, or a low end above the high.
    pub fn new(low: Money, high: Money) -> Result<Self, RoiProblem> {
        if low.minor() < 0 || high.minor() < 0 {
            return Err(RoiProblem::Money(MoneyError::Negative));
        }
        if low.currency() != high.currency() {
            return Err(RoiProblem::Money(MoneyError::CurrencyMismatch {
                left: low.currency(),
                right: high.currency(),
            }));
        }
        if low.minor() > high.minor() {
            return Err(RoiProblem::LowAboveHigh { low, high });
        }
        Ok(Self { low, high })
    }
    pub fn low(&self) -> Money {
        self.low
    }
    pub fn high(&self) -> Money {
        self.high
    }
}

/// The cost of protecting flagship stock: orders sent elsewhere (a farther
/// warehouse, a dearer carrier) because a protected unit was not used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProtectionCost {
    /// Orders routed elsewhere per period (the report's period).
    pub orders_rerouted: u64,
    /// What each such order cost more than it would have.
    pub extra_cost_per_order: Money,
}

impl ProtectionCost {
    /// Orders rerouted × extra cost per order, per period.
    pub fn per_period(&self) -> Result<Money, RoiError> {
        times(self.extra_cost_per_order, self.orders_rerouted)
    }
}

/// A seasonal top seller: out-of-stock weeks that orchestration prevents
/// (per year) preserve that many weeks of its sales.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SeasonalStockout {
    /// The top seller's sales in a normal in-stock week.
    pub weekly_sales: Money,
    /// Out-of-stock weeks prevented in a year.
    pub weeks_prevented: u32,
}

impl SeasonalStockout {
    /// Weekly sales × weeks prevented: the revenue preserved per year.
    pub fn preserved(&self) -> Result<Money, RoiError> {
        times(self.weekly_sales, u64::from(self.weeks_prevented))
    }
}

/// Everything the report is computed from, typed. Built by
/// [`RoiInput::parse`] from a draft, or directly (a measured history).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoiInput {
    /// Orders taken per `period`.
    pub orders: u64,
    pub period: Period,
    /// Average order value; its currency is the report's.
    pub aov: Money,
    /// Cancellation rate without orchestration (the cost of inaction).
    pub rate_before: Percent,
    /// Cancellation rate with it; at most `rate_before`.
    pub rate_after: Percent,
    /// Team time each cancellation costs (support, refund, stock clean-up).
    pub minutes_per_cancellation: u32,
    pub labour_cost_per_hour: Option<MoneyRange>,
    pub subscription_per_month: Option<MoneyRange>,
    pub protection: Option<ProtectionCost>,
    pub seasonal: Option<SeasonalStockout>,
}

impl RoiInput {
    /// The seed's figure: 20 minutes per cancelled order across support,
    /// refunds and inventory clean-up.
    pub const DEFAULT_MINUTES_PER_CANCELLATION: u32 = 20;
}

/// What the report found. "Per period" figures are per [`RoiReport::period`];
/// the rest are per year. Money is in the input's currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoiReport {
    pub period: Period,
    pub currency: Currency,
    /// Orders cancelled per period at the rate before.
    pub failed_before: u64,
    /// Orders cancelled per period at the rate after.
    pub failed_after: u64,
    /// Cancellations prevented per period: `failed_before − failed_after`.
    pub prevented: u64,
    pub prevented_per_year: u64,
    /// Revenue protected per period: `prevented × aov`.
    pub protected_revenue: Money,
    pub protected_revenue_per_year: Money,
    /// Team minutes saved per year (exact).
    pub minutes_saved: u64,
    /// Team hours saved per year, to hundredths.
    pub hours_saved: Hundredths,
    pub labour_saved_low: Option<Money>,
    pub labour_saved_high: Option<Money>,
    /// Cost of protection per period, when given.
    pub protection_cost: Option<Money>,
    pub protection_cost_per_year: Option<Money>,
    /// Seasonal top-seller revenue preserved per year, when given.
    pub seasonal_preserved: Option<Money>,
    pub value_per_year_low: Money,
    pub value_per_year_high: Money,
    pub payback_months_low: Option<Hundredths>,
    pub payback_months_high: Option<Hundredths>,
}

/// Why a report could not be made. Each names the input at fault, except
/// figures too large to compute.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoiError {
    #[error("{field}: {problem}")]
    Input { field: RoiField, problem: RoiProblem },
    #[error("the figures are too large to compute")]
    Overflow,
}

impl From<MoneyError> for RoiError {
    /// Arithmetic between amounts that already passed their field's checks:
    /// only an overflow or (for typed input) two currencies can fail.
    fn from(e: MoneyError) -> Self {
        match e {
            MoneyError::CurrencyMismatch { .. } => {
                RoiError::Input { field: RoiField::Currency, problem: RoiProblem::Money(e) }
            }
            _ => RoiError::Overflow,
        }
    }
}

/// The cost-of-inaction report for `input` (see the module doc for every
/// formula and rounding rule). Never panics: bad combinations and figures too
/// large are typed errors.
pub fn report(input: &RoiInput) -> Result<RoiReport, RoiError> {
    check(input)?;
    let currency = input.aov.currency();
    let per_year = input.period.per_year();
    let failed_before = input.rate_before.of_count(input.orders);
    let failed_after = input.rate_after.of_count(input.orders);
    // Rounding is monotone, so a lower rate never fails more orders.
    let prevented = failed_before.checked_sub(failed_after).ok_or(RoiError::Overflow)?;
    let prevented_per_year = prevented.checked_mul(per_year).ok_or(RoiError::Overflow)?;
    let protected_revenue = times(input.aov, prevented)?;
    let protected_revenue_per_year = times(protected_revenue, per_year)?;
    let minutes_saved =
        prevented_per_year.checked_mul(u64::from(input.minutes_per_cancellation)).ok_or(RoiError::Overflow)?;
    let hours_saved = Hundredths(to_u64(div_half_up(u128::from(minutes_saved) * 100, 60))?);
    let labour = |pick: fn(&MoneyRange) -> Money| {
        input.labour_cost_per_hour.map(|r| labour_cost(minutes_saved, pick(&r))).transpose()
    };
    let labour_saved_low = labour(MoneyRange::low)?;
    let labour_saved_high = labour(MoneyRange::high)?;
    let protection_cost = input.protection.map(|p| p.per_period()).transpose()?;
    let protection_cost_per_year = protection_cost.map(|c| times(c, per_year)).transpose()?;
    let seasonal_preserved = input.seasonal.map(|s| s.preserved()).transpose()?;
    let value = |labour: Option<Money>| -> Result<Money, RoiError> {
        let mut total = protected_revenue_per_year.checked_add(labour.unwrap_or(Money::zero(currency)))?;
        if let Some(s) = seasonal_preserved {
            total = total.checked_add(s)?;
        }
        if let Some(c) = protection_cost_per_year {
            total = total.checked_add(Money::new(c.minor().checked_neg().ok_or(RoiError::Overflow)?, currency))?;
        }
        Ok(total)
    };
    let value_per_year_low = value(labour_saved_low)?;
    let value_per_year_high = value(labour_saved_high)?;
    let payback = |sub: Option<Money>, value: Money| sub.map(|s| payback_months(s, value)).transpose();
    let payback_months_low = payback(input.subscription_per_month.map(|r| r.low()), value_per_year_high)?.flatten();
    let payback_months_high = payback(input.subscription_per_month.map(|r| r.high()), value_per_year_low)?.flatten();
    Ok(RoiReport {
        period: input.period,
        currency,
        failed_before,
        failed_after,
        prevented,
        prevented_per_year,
        protected_revenue,
        protected_revenue_per_year,
        minutes_saved,
        hours_saved,
        labour_saved_low,
        labour_saved_high,
        protection_cost,
        protection_cost_per_year,
        seasonal_preserved,
        value_per_year_low,
        value_per_year_high,
        payback_months_low,
        payback_months_high,
    })
}

/// The rules typed input may still break: the rate after above the rate
/// before, negative or foreign amounts.
fn check(input: &RoiInput) -> Result<(), RoiError> {
    let fail = |field, problem| Err(RoiError::Input { field, problem });
    if input.rate_after > input.rate_before {
        return fail(
            RoiField::CancelRateAfter,
            RoiProblem::AboveRateBefore { before: input.rate_before, after: input.rate_after },
        );
    }
    let currency = input.aov.currency();
    let mut amounts = vec![(RoiField::Aov, input.aov)];
    for (field, range) in [
        (RoiField::LabourCostPerHour, input.labour_cost_per_hour),
        (RoiField::SubscriptionPerMonth, input.subscription_per_month),
    ] {
        amounts.extend(range.iter().flat_map(|r| [(field, r.low()), (field, r.high())]));
    }
    amounts.extend(input.protection.map(|p| (RoiField::ExtraCostPerReroutedOrder, p.extra_cost_per_order)));
    amounts.extend(input.seasonal.map(|s| (RoiField::TopSellerWeeklySales, s.weekly_sales)));
    for (field, amount) in amounts {
        if amount.minor() < 0 {
            return fail(field, RoiProblem::Money(MoneyError::Negative));
        }
        if amount.currency() != currency {
            let mismatch = MoneyError::CurrencyMismatch { left: currency, right: amount.currency() };
            return fail(field, RoiProblem::Money(mismatch));
        }
    }
    Ok(())
}

/// `amount × count`, checked.
fn times(amount: Money, count: u64) -> Result<Money, RoiError> {
    let count = i64::try_from(count).map_err(|_| RoiError::Overflow)?;
    Ok(amount.checked_mul(count)?)
}

/// `minutes × per_hour ÷ 60`, rounded half up to the minor unit.
fn labour_cost(minutes: u64, per_hour: Money) -> Result<Money, RoiError> {
    let rate = u128::try_from(per_hour.minor()).map_err(|_| RoiError::Overflow)?;
    let minor = div_half_up(u128::from(minutes) * rate, 60);
    Ok(Money::new(i64::try_from(minor).map_err(|_| RoiError::Overflow)?, per_hour.currency()))
}

/// A year of `per_month` ÷ the monthly value (`value_per_year` ÷ 12), in
/// hundredths of a month, rounded half up; `None` when the value is not
/// positive.
fn payback_months(per_month: Money, value_per_year: Money) -> Result<Option<Hundredths>, RoiError> {
    let Ok(value) = u128::try_from(value_per_year.minor()) else { return Ok(None) };
    if value == 0 {
        return Ok(None);
    }
    let sub = u128::try_from(per_month.minor()).map_err(|_| RoiError::Overflow)?;
    // 12 months × 12 × subscription × 100 (hundredths) ÷ value per year.
    Ok(Some(Hundredths(to_u64(div_half_up(sub * 12 * 12 * 100, value))?)))
}

fn to_u64(n: u128) -> Result<u64, RoiError> {
    u64::try_from(n).map_err(|_| RoiError::Overflow)
}

/// `num ÷ den` rounded half up; `den` must not be 0 (callers pass constants
/// or values checked positive).
fn div_half_up(num: u128, den: u128) -> u128 {
    if den == 0 {
        return 0;
    }
    let (q, r) = (num / den, num % den);
    // 2r ≥ den, written so that it cannot overflow.
    q + u128::from(r >= den - r)
}
