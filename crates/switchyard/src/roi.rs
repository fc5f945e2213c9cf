//! `switchyard roi`: the cost-of-inaction report (prevented cancellations,
//! protected revenue, team time and labour saved, payback months) from
//! figures typed on the command line — or, with `--db`, with the order count
//! and the cancellation rate since Switchyard measured from the shop's own
//! orders over the last period (30 days for `--per month`, 365 for `year`). The arithmetic, and every rounding
//! rule, is `switchyard_core::roi`'s; this module only reads the flags and
//! prints. Bad input exits 2 with a message naming the flag and prints
//! nothing on standard output.

use std::process::ExitCode;

use clap::Args;
use serde_json::{json, Value};
use switchyard_core::metrics::Period;
use switchyard_core::roi::{report, Hundredths, MoneyRange, Percent, RoiDraft, RoiError, RoiInput, RoiReport};
use switchyard_core::Money;
use switchyard_engine::{Clock, MetricsQuery, SystemClock};

use crate::settings::Settings;

/// The flags, kept as text: the core parses them exactly (never through a
/// float) and names the one at fault. Values may start with `-` so that a
/// negative number reaches that check instead of being taken for a flag.
#[derive(Args)]
pub struct RoiArgs {
    /// Measure --orders and --cancel-rate-after from this shop's orders (SQLite file path or
    /// postgres:// URL; only read) over the period before --as-of.
    #[arg(long, conflicts_with_all = ["orders", "cancel_rate_after"])]
    pub db: Option<String>,
    /// With --db: the end of the measured period, RFC 3339 [default: now].
    #[arg(long, requires = "db")]
    as_of: Option<String>,
    /// Orders taken per period (a whole number); measured with --db.
    #[arg(long, allow_hyphen_values = true, required_unless_present = "db")]
    orders: Option<String>,
    /// The period --orders covers: month or year.
    #[arg(long, allow_hyphen_values = true)]
    per: String,
    /// Average order value, a decimal amount (45 or 45.00).
    #[arg(long, allow_hyphen_values = true)]
    aov: String,
    /// Cancellation rate today, in percent (3, 1.5, 2.8%).
    #[arg(long, allow_hyphen_values = true)]
    cancel_rate_before: String,
    /// Cancellation rate expected with Switchyard, in percent; at most --cancel-rate-before; measured with --db.
    #[arg(long, allow_hyphen_values = true, required_unless_present = "db")]
    cancel_rate_after: Option<String>,
    /// Team minutes each cancellation costs (support, refund, stock clean-up) [default: 20].
    #[arg(long, allow_hyphen_values = true)]
    minutes_per_cancellation: Option<String>,
    /// Blended labour cost per hour: one amount or a range (20-30).
    #[arg(long, allow_hyphen_values = true)]
    labour_cost_per_hour: Option<String>,
    /// The subscription per month: one amount or a range (250-500); gives payback months.
    #[arg(long, allow_hyphen_values = true)]
    subscription_per_month: Option<String>,
    /// ISO 4217 currency of every amount [default: USD].
    #[arg(long, allow_hyphen_values = true)]
    currency: Option<String>,
    /// Orders per period sent elsewhere because flagship stock was protected (needs
    /// --extra-cost-per-rerouted-order); their cost is subtracted from the value.
    #[arg(long, allow_hyphen_values = true)]
    rerouted_orders: Option<String>,
    /// What each rerouted order costs more (farther warehouse, dearer carrier).
    #[arg(long, allow_hyphen_values = true)]
    extra_cost_per_rerouted_order: Option<String>,
    /// A seasonal top seller's sales in a normal week; prevented out-of-stock weeks preserve them.
    #[arg(long, allow_hyphen_values = true)]
    top_seller_weekly_sales: Option<String>,
    /// Out-of-stock weeks of that top seller prevented in a year [default: 1].
    #[arg(long, allow_hyphen_values = true)]
    prevented_stockout_weeks: Option<String>,
    /// Print JSON (money in minor units) instead of sentences.
    #[arg(long)]
    json: bool,
}

/// What `--db` measured: the period, its orders and how many were cancelled.
struct Measured {
    from_ms: i64,
    to_ms: i64,
    orders: i64,
    cancelled: i64,
}

impl Measured {
    /// The cancellation rate in percent with two decimals, as the ROI core
    /// rounds a measured rate (`Percent::measured`; the core then parses it
    /// as typed text).
    fn rate(&self) -> String {
        let (part, whole) = (u64::try_from(self.cancelled).unwrap_or(0), u64::try_from(self.orders).unwrap_or(0));
        Percent::measured(part, whole).map_or_else(|| "0.00".to_owned(), Percent::two_decimals)
    }
}

/// Days measured per period.
fn period_days(per: &str) -> Option<i64> {
    match per.trim() {
        "month" => Some(30),
        "year" => Some(365),
        _ => None,
    }
}

async fn measure(settings: &Settings, per: &str, as_of: Option<&str>) -> Result<Measured, String> {
    let days = period_days(per).ok_or_else(|| format!("--per: {per:?} is not month or year"))?;
    let to_ms = match as_of {
        Some(raw) => chrono::DateTime::parse_from_rfc3339(raw.trim())
            .map(|t| t.timestamp_millis())
            .map_err(|e| format!("--as-of: {raw:?} is not an RFC 3339 time ({e})"))?,
        None => SystemClock.now_ms(),
    };
    let from_ms = to_ms.saturating_sub(days * 24 * 3_600_000);
    let period = Period::new(from_ms, to_ms).map_err(|e| format!("--as-of: {e}"))?;
    let engine = settings.open_engine().await.map_err(|e| format!("--db: {e:#}"))?;
    let m = engine
        .metrics_read_only(&MetricsQuery { period, channel: None, location: None })
        .await
        .map_err(|e| format!("--db: {e}"))?;
    if m.orders == 0 {
        return Err(format!(
            "--db: no orders in the {days} days before {}; give --orders and --cancel-rate-after instead",
            switchyard_store::rfc3339(to_ms)
        ));
    }
    Ok(Measured { from_ms, to_ms, orders: m.orders, cancelled: m.cancelled })
}

pub async fn run(args: RoiArgs, settings: Option<&Settings>) -> anyhow::Result<ExitCode> {
    let json_out = args.json;
    let measured = match settings {
        Some(settings) => match measure(settings, &args.per, args.as_of.as_deref()).await {
            Ok(m) => Some(m),
            Err(message) => {
                eprintln!("error: {message}");
                return Ok(ExitCode::from(2));
            }
        },
        None => None,
    };
    let (orders, cancel_rate_after) = match &measured {
        Some(m) => (m.orders.to_string(), m.rate()),
        None => (args.orders.unwrap_or_default(), args.cancel_rate_after.unwrap_or_default()),
    };
    let draft = RoiDraft {
        orders,
        per: args.per,
        aov: args.aov,
        cancel_rate_before: args.cancel_rate_before,
        cancel_rate_after,
        minutes_per_cancellation: args.minutes_per_cancellation,
        labour_cost_per_hour: args.labour_cost_per_hour,
        subscription_per_month: args.subscription_per_month,
        currency: args.currency,
        rerouted_orders: args.rerouted_orders,
        extra_cost_per_rerouted_order: args.extra_cost_per_rerouted_order,
        top_seller_weekly_sales: args.top_seller_weekly_sales,
        prevented_stockout_weeks: args.prevented_stockout_weeks,
    };
    let (input, r) = match RoiInput::parse(&draft).and_then(|input| Ok((input, report(&input)?))) {
        Ok(done) => done,
        Err(RoiError::Input { field, problem }) => {
            eprintln!("error: --{}: {problem}", field.as_str().replace('_', "-"));
            return Ok(ExitCode::from(2));
        }
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    if json_out {
        let mut v = as_json(&input, &r);
        if let (Some(m), Some(object)) = (&measured, v.as_object_mut()) {
            object.insert(
                "measured".into(),
                json!({
                    "from": switchyard_store::rfc3339(m.from_ms),
                    "to": switchyard_store::rfc3339(m.to_ms),
                    "orders": m.orders,
                    "cancelled": m.cancelled,
                }),
            );
        }
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        if let Some(m) = &measured {
            println!(
                "Measured from the shop's orders {} to {}: {} orders, {} cancelled ({}%, every cancellation counted)",
                switchyard_store::rfc3339(m.from_ms),
                switchyard_store::rfc3339(m.to_ms),
                m.orders,
                m.cancelled,
                m.rate()
            );
        }
        for line in sentences(&input, &r) {
            println!("{line}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The contract's fields (money in minor units, rates as given, in percent)
/// plus the inputs echoed and the optional lines.
fn as_json(input: &RoiInput, r: &RoiReport) -> Value {
    let minor = |m: Option<Money>| m.map(|m| m.minor());
    json!({
        "period": r.period.as_str(),
        "currency": r.currency.as_str(),
        "orders": input.orders,
        "aov": input.aov.minor(),
        "cancel_rate_before": decimal(input.rate_before.to_string()),
        "cancel_rate_after": decimal(input.rate_after.to_string()),
        "minutes_per_cancellation": input.minutes_per_cancellation,
        "failed_before": r.failed_before,
        "failed_after": r.failed_after,
        "prevented": r.prevented,
        "prevented_per_year": r.prevented_per_year,
        "protected_revenue": r.protected_revenue.minor(),
        "protected_revenue_per_year": r.protected_revenue_per_year.minor(),
        "minutes_saved": r.minutes_saved,
        "hours_saved": decimal(r.hours_saved.to_string()),
        "labour_saved_low": minor(r.labour_saved_low),
        "labour_saved_high": minor(r.labour_saved_high),
        "protection_cost": minor(r.protection_cost),
        "protection_cost_per_year": minor(r.protection_cost_per_year),
        "seasonal_preserved": minor(r.seasonal_preserved),
        "value_per_year_low": r.value_per_year_low.minor(),
        "value_per_year_high": r.value_per_year_high.minor(),
        "payback_months_low": r.payback_months_low.map(months),
        "payback_months_high": r.payback_months_high.map(months),
    })
}

fn months(m: Hundredths) -> Value {
    decimal(m.to_string())
}

/// An exact decimal's text (`2.8`, `48`, `3.85`) as a JSON number written the
/// same way.
fn decimal(text: String) -> Value {
    match text.parse::<serde_json::Number>() {
        Ok(n) => Value::Number(n),
        Err(_) => Value::String(text),
    }
}

/// The report in plain English, one figure a line.
fn sentences(input: &RoiInput, r: &RoiReport) -> Vec<String> {
    let per = r.period.as_str();
    let monthly = r.period.per_year() != 1;
    let yearly = |per_period: String, per_year: String| {
        if monthly {
            format!("{per_period} per month ({per_year} per year)")
        } else {
            format!("{per_period} per year")
        }
    };
    let mut lines = vec![
        format!(
            "Cost of inaction for {} orders per {per} at {} each, cancellations {}% -> {}%",
            input.orders, input.aov, input.rate_before, input.rate_after
        ),
        format!("Failed orders: {} per {per} before, {} after", r.failed_before, r.failed_after),
        format!("Prevented cancellations: {}", yearly(r.prevented.to_string(), r.prevented_per_year.to_string())),
        format!(
            "Protected revenue: {}",
            yearly(r.protected_revenue.to_string(), r.protected_revenue_per_year.to_string())
        ),
        format!(
            "Team time saved: {} hours per year ({} minutes per cancellation)",
            r.hours_saved, input.minutes_per_cancellation
        ),
    ];
    if let (Some(low), Some(high), Some(cost)) = (r.labour_saved_low, r.labour_saved_high, input.labour_cost_per_hour) {
        lines.push(format!("Labour saved: {} per year (at {} per hour)", span(low, high), range(cost)));
    }
    if let (Some(cost), Some(per_year)) = (r.protection_cost, r.protection_cost_per_year) {
        lines.push(format!("Cost of protection (subtracted): {}", yearly(cost.to_string(), per_year.to_string())));
    }
    if let (Some(kept), Some(s)) = (r.seasonal_preserved, input.seasonal) {
        let weeks = if s.weeks_prevented == 1 { "week" } else { "weeks" };
        lines.push(format!(
            "Seasonal revenue preserved: {kept} per year ({} out-of-stock {weeks} of {} a week prevented)",
            s.weeks_prevented, s.weekly_sales
        ));
    }
    lines.push(format!("Value: {} per year", span(r.value_per_year_low, r.value_per_year_high)));
    if let Some(sub) = input.subscription_per_month {
        let months = match (r.payback_months_low, r.payback_months_high) {
            (Some(low), Some(high)) if low == high => format!("{low} months"),
            (Some(low), Some(high)) => format!("{low} to {high} months"),
            (Some(low), None) => format!("{low} months at best, never at worst"),
            // The low end pairs with the highest value: if it never pays back, neither does the high end.
            (None, _) => "never (the value is not positive)".to_owned(),
        };
        lines.push(format!("Payback: {months} (a year of {} a month, repaid by the monthly value)", range(sub)));
    }
    lines
}

fn range(r: MoneyRange) -> String {
    span(r.low(), r.high())
}

/// `960.00 USD to 1440.00 USD`, or one amount when both ends agree.
fn span(low: Money, high: Money) -> String {
    if low == high {
        low.to_string()
    } else {
        format!("{low} to {high}")
    }
}
