//! The ROI inputs as people type them — `800`, `45.00`, `2.8`, `20-30` —
//! parsed exactly into [`RoiInput`], each problem naming its field.

use std::fmt;

use super::{MoneyRange, Percent, Period, ProtectionCost, RoiError, RoiInput, SeasonalStockout};
use crate::{Currency, Money, MoneyError};

/// The inputs as received, unchecked (a command's flags, a form's fields).
/// `None` is "not given".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoiDraft {
    /// Orders per `per`: a whole number.
    pub orders: String,
    /// `month` or `year`.
    pub per: String,
    /// Average order value, a decimal amount (`45`, `45.00`).
    pub aov: String,
    /// Cancellation rate in percent (`3`, `1.5`, `2.8%`).
    pub cancel_rate_before: String,
    pub cancel_rate_after: String,
    /// Whole minutes; [`RoiInput::DEFAULT_MINUTES_PER_CANCELLATION`] when
    /// not given.
    pub minutes_per_cancellation: Option<String>,
    /// `20-30` or `25`.
    pub labour_cost_per_hour: Option<String>,
    /// `250-500` or `300`.
    pub subscription_per_month: Option<String>,
    /// ISO 4217; `USD` when not given.
    pub currency: Option<String>,
    /// Orders per period routed elsewhere because flagship stock was
    /// protected; needs `extra_cost_per_rerouted_order`.
    pub rerouted_orders: Option<String>,
    pub extra_cost_per_rerouted_order: Option<String>,
    /// A seasonal top seller's weekly sales.
    pub top_seller_weekly_sales: Option<String>,
    /// Out-of-stock weeks prevented a year; 1 when weekly sales are given
    /// without it.
    pub prevented_stockout_weeks: Option<String>,
}

/// Which input a problem is with. `as_str` is the draft's field name; the
/// command line's flag is the same with dashes (`--cancel-rate-before`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RoiField {
    Orders,
    Per,
    Aov,
    CancelRateBefore,
    CancelRateAfter,
    MinutesPerCancellation,
    LabourCostPerHour,
    SubscriptionPerMonth,
    Currency,
    ReroutedOrders,
    ExtraCostPerReroutedOrder,
    TopSellerWeeklySales,
    PreventedStockoutWeeks,
}

impl RoiField {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Orders => "orders",
            Self::Per => "per",
            Self::Aov => "aov",
            Self::CancelRateBefore => "cancel_rate_before",
            Self::CancelRateAfter => "cancel_rate_after",
            Self::MinutesPerCancellation => "minutes_per_cancellation",
            Self::LabourCostPerHour => "labour_cost_per_hour",
            Self::SubscriptionPerMonth => "subscription_per_month",
            Self::Currency => "currency",
            Self::ReroutedOrders => "rerouted_orders",
            Self::ExtraCostPerReroutedOrder => "extra_cost_per_rerouted_order",
            Self::TopSellerWeeklySales => "top_seller_weekly_sales",
            Self::PreventedStockoutWeeks => "prevented_stockout_weeks",
        }
    }
}

impl fmt::Display for RoiField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What is wrong with one input; the message reads after the field's name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoiProblem {
    #[error("is required")]
    Missing,
    #[error("must not be negative (got {0:?})")]
    Negative(String),
    #[error("must be a whole number like 800 (got {0:?})")]
    NotWhole(String),
    #[error("must be a decimal amount like 45 or 45.00 (got {0:?})")]
    NotAmount(String),
    #[error("must be a percentage like 3, 1.5 or 2.8% (got {0:?})")]
    NotPercent(String),
    #[error("has more than {places} decimal places (got {raw:?})")]
    TooPrecise { raw: String, places: u32 },
    #[error("is too large (got {0:?})")]
    TooLarge(String),
    #[error("must be at most 100% (got {0:?})")]
    OverHundred(String),
    #[error("must be month or year (got {0:?})")]
    NotPeriod(String),
    #[error("must be an amount or a range like 20-30 (got {0:?})")]
    NotRange(String),
    #[error("the low end {low} is above the high end {high}")]
    LowAboveHigh { low: Money, high: Money },
    #[error("{after}% is above the rate before ({before}%); this report counts what is prevented")]
    AboveRateBefore { before: Percent, after: Percent },
    #[error("needs {0} too")]
    NeedsAlso(RoiField),
    #[error(transparent)]
    Money(MoneyError),
}

impl RoiInput {
    /// Parses every field of `draft`; the first problem found is returned,
    /// naming its field. Cross-field rules (the rate after at most the rate
    /// before) are [`super::report`]'s, so typed input meets them too.
    pub fn parse(draft: &RoiDraft) -> Result<Self, RoiError> {
        let currency = match &draft.currency {
            None => Currency::parse("USD"),
            Some(raw) => Currency::parse(raw.trim()),
        }
        .map_err(|e| at(RoiField::Currency, RoiProblem::Money(e)))?;
        let amount = |field, raw: &str| parse_amount(raw, currency).map_err(|p| at(field, p));
        let range = |field, raw: &Option<String>| {
            raw.as_deref().map(|r| parse_range(r, currency).map_err(|p| at(field, p))).transpose()
        };
        let whole = |field, raw: &str| parse_whole(raw).map_err(|p| at(field, p));
        let percent = |field, raw: &str| parse_percent(raw).map_err(|p| at(field, p));
        let minutes_per_cancellation = match &draft.minutes_per_cancellation {
            None => RoiInput::DEFAULT_MINUTES_PER_CANCELLATION,
            Some(raw) => small(RoiField::MinutesPerCancellation, raw, whole(RoiField::MinutesPerCancellation, raw)?)?,
        };
        let protection = match (&draft.rerouted_orders, &draft.extra_cost_per_rerouted_order) {
            (None, None) => None,
            (Some(orders), Some(cost)) => Some(ProtectionCost {
                orders_rerouted: whole(RoiField::ReroutedOrders, orders)?,
                extra_cost_per_order: amount(RoiField::ExtraCostPerReroutedOrder, cost)?,
            }),
            (Some(_), None) => {
                return Err(at(RoiField::ReroutedOrders, RoiProblem::NeedsAlso(RoiField::ExtraCostPerReroutedOrder)))
            }
            (None, Some(_)) => {
                return Err(at(RoiField::ExtraCostPerReroutedOrder, RoiProblem::NeedsAlso(RoiField::ReroutedOrders)))
            }
        };
        let seasonal = match (&draft.top_seller_weekly_sales, &draft.prevented_stockout_weeks) {
            (None, None) => None,
            (Some(sales), weeks) => Some(SeasonalStockout {
                weekly_sales: amount(RoiField::TopSellerWeeklySales, sales)?,
                weeks_prevented: match weeks {
                    None => 1,
                    Some(raw) => {
                        small(RoiField::PreventedStockoutWeeks, raw, whole(RoiField::PreventedStockoutWeeks, raw)?)?
                    }
                },
            }),
            (None, Some(_)) => {
                return Err(at(RoiField::PreventedStockoutWeeks, RoiProblem::NeedsAlso(RoiField::TopSellerWeeklySales)))
            }
        };
        Ok(RoiInput {
            orders: whole(RoiField::Orders, &draft.orders)?,
            period: parse_period(&draft.per).map_err(|p| at(RoiField::Per, p))?,
            aov: amount(RoiField::Aov, &draft.aov)?,
            rate_before: percent(RoiField::CancelRateBefore, &draft.cancel_rate_before)?,
            rate_after: percent(RoiField::CancelRateAfter, &draft.cancel_rate_after)?,
            minutes_per_cancellation,
            labour_cost_per_hour: range(RoiField::LabourCostPerHour, &draft.labour_cost_per_hour)?,
            subscription_per_month: range(RoiField::SubscriptionPerMonth, &draft.subscription_per_month)?,
            protection,
            seasonal,
        })
    }
}

fn at(field: RoiField, problem: RoiProblem) -> RoiError {
    RoiError::Input { field, problem }
}

/// A whole number that must also fit a `u32` (minutes, weeks).
fn small(field: RoiField, raw: &str, n: u64) -> Result<u32, RoiError> {
    u32::try_from(n).map_err(|_| at(field, RoiProblem::TooLarge(raw.to_owned())))
}

fn parse_period(raw: &str) -> Result<Period, RoiProblem> {
    match raw.trim() {
        "" => Err(RoiProblem::Missing),
        s => Period::parse(s).ok_or_else(|| RoiProblem::NotPeriod(raw.to_owned())),
    }
}

/// Digits only: `800`.
pub(super) fn parse_whole(raw: &str) -> Result<u64, RoiProblem> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(RoiProblem::Missing);
    }
    if s.starts_with('-') {
        return Err(RoiProblem::Negative(raw.to_owned()));
    }
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(RoiProblem::NotWhole(raw.to_owned()));
    }
    s.parse().map_err(|_| RoiProblem::TooLarge(raw.to_owned()))
}

/// A decimal amount in `currency`'s minor units: `45` and `45.00` are 4,500
/// cents. More decimals than the currency has are refused unless zeros.
pub(super) fn parse_amount(raw: &str, currency: Currency) -> Result<Money, RoiProblem> {
    let units = parse_fixed(raw, currency.exponent(), RoiProblem::NotAmount)?;
    let minor = i64::try_from(units).map_err(|_| RoiProblem::TooLarge(raw.to_owned()))?;
    Ok(Money::new(minor, currency))
}

/// A percentage with up to four decimals, an optional `%` after it: `3`,
/// `1.5`, `2.8%`.
pub(super) fn parse_percent(raw: &str) -> Result<Percent, RoiProblem> {
    let s = raw.trim();
    let number = s.strip_suffix('%').unwrap_or(s);
    let units = parse_fixed(number, Percent::PLACES, RoiProblem::NotPercent).map_err(|p| match p {
        // The whole text, `%` and all, in the message.
        RoiProblem::TooPrecise { places, .. } => RoiProblem::TooPrecise { raw: raw.to_owned(), places },
        RoiProblem::Negative(_) => RoiProblem::Negative(raw.to_owned()),
        RoiProblem::NotPercent(_) => RoiProblem::NotPercent(raw.to_owned()),
        RoiProblem::TooLarge(_) => RoiProblem::OverHundred(raw.to_owned()),
        other => other,
    })?;
    u32::try_from(units)
        .ok()
        .and_then(Percent::from_ten_thousandths)
        .ok_or_else(|| RoiProblem::OverHundred(raw.to_owned()))
}

/// `low-high` (`20-30`, `20.50-30`) or one amount (`25`, both ends).
pub(super) fn parse_range(raw: &str, currency: Currency) -> Result<MoneyRange, RoiProblem> {
    let s = raw.trim();
    if s.starts_with('-') {
        return Err(RoiProblem::Negative(raw.to_owned()));
    }
    let (low, high) = match s.split_once(['-', '–']) {
        Some((low, high)) if !low.trim().is_empty() && !high.trim().is_empty() => {
            (parse_amount(low, currency)?, parse_amount(high, currency)?)
        }
        Some(_) => return Err(RoiProblem::NotRange(raw.to_owned())),
        None => {
            let one = parse_amount(s, currency)?;
            (one, one)
        }
    };
    MoneyRange::new(low, high)
}

/// `raw` as an exact count of 10^-`places` units: digits, at most one point,
/// digits. Digits past `places` must be zeros. `not_number` builds the
/// problem for text that is not a number at all.
fn parse_fixed(raw: &str, places: u32, not_number: fn(String) -> RoiProblem) -> Result<u64, RoiProblem> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(RoiProblem::Missing);
    }
    if s.starts_with('-') {
        return Err(RoiProblem::Negative(raw.to_owned()));
    }
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && frac.is_empty()) || !digits(whole) || !digits(frac) {
        return Err(not_number(raw.to_owned()));
    }
    let cut = frac.len().min(places as usize);
    let (kept, rest) = frac.split_at(cut);
    if rest.bytes().any(|b| b != b'0') {
        return Err(RoiProblem::TooPrecise { raw: raw.to_owned(), places });
    }
    let too_large = || RoiProblem::TooLarge(raw.to_owned());
    let scale = 10u64.checked_pow(places).ok_or_else(too_large)?;
    let whole: u64 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| too_large())? };
    let kept_units: u64 = if kept.is_empty() { 0 } else { kept.parse().map_err(|_| too_large())? };
    // "2.8" with 4 places: kept "8" is 8 × 10^3 ten-thousandths.
    let kept_scale = 10u64.checked_pow(places - cut as u32).ok_or_else(too_large)?;
    whole
        .checked_mul(scale)
        .and_then(|w| kept_units.checked_mul(kept_scale).and_then(|k| w.checked_add(k)))
        .ok_or_else(too_large)
}
