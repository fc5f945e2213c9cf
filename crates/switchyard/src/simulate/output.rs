//! What `switchyard simulate` prints: JSON (`--json`), a table, and the
//! per-order decisions file (`--decisions`). Rates are rounded to four
//! decimals and kilometres to one, so float noise never reaches the output;
//! maps are sorted, so the same results print the same bytes.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use serde_json::{json, Value};
use switchyard_core::simulate::{versus, PolicyResult, VsBaseline};
use switchyard_core::Currency;

use super::Inputs;

fn rate(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

fn km(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// An exact decimal's text (`0.33`, `25`) as a JSON number written the same way.
fn decimal(text: String) -> Value {
    match text.parse::<serde_json::Number>() {
        Ok(n) => Value::Number(n),
        Err(_) => Value::String(text),
    }
}

fn time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map_or_else(|| ms.to_string(), |t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
}

fn money_map(map: &BTreeMap<Currency, i64>) -> Value {
    Value::Object(map.iter().map(|(c, minor)| (c.as_str().to_owned(), json!(minor))).collect())
}

/// The run's inputs: rows, orders, the span replayed and what was left out.
fn input_json(inputs: &Inputs) -> Value {
    let orders = inputs.history.orders();
    let count = |map: &BTreeMap<String, u64>, key: &str| -> Vec<Value> {
        map.iter().map(|(code, rows)| json!({ key: code, "rows": rows })).collect()
    };
    json!({
        "history_rows": inputs.history_rows,
        "orders": orders.len(),
        "skipped_orders": inputs.skipped_orders,
        "first_order_at": orders.first().map(|o| time(o.at_ms)),
        "last_order_at": orders.last().map(|o| time(o.at_ms)),
        "receipts": inputs.history.receipts().len(),
        "stock_positions": inputs.stock.len(),
        "unknown_skus": count(&inputs.unknowns.skus, "sku"),
        "unknown_locations": count(&inputs.unknowns.locations, "location"),
    })
}

fn policy_json(name: &str, r: &PolicyResult, vs: Option<(&str, VsBaseline)>) -> Value {
    let stockouts: Vec<Value> = r
        .stockouts_ranked()
        .into_iter()
        .map(|(sku, s)| json!({ "sku": sku.as_str(), "lines": s.lines, "units": s.units }))
        .collect();
    json!({
        "policy": name,
        "orders": r.orders,
        "fill_rate": rate(r.fill_rate()),
        "split_rate": rate(r.split_rate()),
        "backordered": r.backordered,
        "cancelled": r.cancelled,
        "protected_units_used": r.protected_units_used,
        "distance_km": km(r.distance_km),
        "filled": r.filled,
        "split": r.split,
        "held": r.held,
        "backordered_units": r.backordered_units,
        "cancelled_units": r.cancelled_units,
        "units_ordered": r.units_ordered,
        "units_allocated": r.units_allocated,
        "dropship_units": r.dropship_units,
        "shipments": r.shipments,
        "pickups": r.pickups,
        "distance_km_estimated": km(r.distance_km_estimated),
        "shipping_cost": money_map(&r.shipping_cost),
        "unpriced_shipments": r.unpriced_shipments,
        "stockouts": stockouts,
        "stock_errors": r.stock_errors,
        "vs_baseline": vs.map(|(baseline, vs)| vs_json(baseline, &vs)),
    })
}

fn vs_json(baseline: &str, vs: &VsBaseline) -> Value {
    let roi = vs.roi.as_ref().map(|(input, report)| {
        json!({
            "currency": report.currency.as_str(),
            "orders": input.orders,
            "aov": input.aov.minor(),
            "cancel_rate_before": decimal(input.rate_before.to_string()),
            "cancel_rate_after": decimal(input.rate_after.to_string()),
            "failed_before": report.failed_before,
            "failed_after": report.failed_after,
            "prevented": report.prevented,
            "protected_revenue": report.protected_revenue.minor(),
            "minutes_saved": report.minutes_saved,
            "hours_saved": decimal(report.hours_saved.to_string()),
        })
    });
    json!({
        "baseline": baseline,
        "failed_orders_prevented": vs.failed_orders_prevented,
        "fill_rate_difference": rate(vs.fill_rate_difference),
        "extra_distance_km": km(vs.extra_distance_km),
        "extra_shipping_cost": money_map(&vs.extra_shipping_cost),
        "roi": roi,
    })
}

/// The baseline comparison of every policy after the first.
fn comparisons<'a>(inputs: &'a Inputs, results: &[PolicyResult]) -> Vec<Option<(&'a str, VsBaseline)>> {
    let baseline = inputs.policies.first().map(|(name, _)| name.as_str()).zip(results.first());
    results
        .iter()
        .enumerate()
        .map(|(i, r)| match baseline {
            Some((name, base)) if i > 0 => Some((name, versus(base, r))),
            _ => None,
        })
        .collect()
}

pub fn json(inputs: &Inputs, results: &[PolicyResult]) -> anyhow::Result<String> {
    let policies: Vec<Value> = inputs
        .policies
        .iter()
        .zip(results)
        .zip(comparisons(inputs, results))
        .map(|(((name, _), r), vs)| policy_json(name, r, vs))
        .collect();
    let doc = json!({ "input": input_json(inputs), "policies": policies });
    Ok(format!("{}\n", serde_json::to_string_pretty(&doc)?))
}

fn percent(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

fn money_text(map: &BTreeMap<Currency, i64>) -> String {
    if map.is_empty() {
        return "-".into();
    }
    let parts: Vec<String> = map.iter().map(|(c, minor)| switchyard_core::Money::new(*minor, *c).to_string()).collect();
    parts.join(" + ")
}

/// The readable report: one row per policy, then the comparisons, the
/// stockouts and what was left out.
pub fn table(inputs: &Inputs, results: &[PolicyResult]) -> String {
    let orders = inputs.history.orders();
    let mut out = String::new();
    let span = match (orders.first(), orders.last()) {
        (Some(first), Some(last)) => format!(" from {} to {}", time(first.at_ms), time(last.at_ms)),
        _ => String::new(),
    };
    out.push_str(&format!(
        "Replayed {} order(s) ({} history rows, {} skipped){span}; {} receipt(s); {} starting position(s).\n\n",
        orders.len(),
        inputs.history_rows,
        inputs.skipped_orders,
        inputs.history.receipts().len(),
        inputs.stock.len()
    ));
    let header = ["policy", "orders", "filled", "split", "backordered", "cancelled", "protected", "km", "shipping"];
    let mut rows: Vec<Vec<String>> = vec![header.iter().map(|h| h.to_string()).collect()];
    for ((name, _), r) in inputs.policies.iter().zip(results) {
        rows.push(vec![
            name.clone(),
            r.orders.to_string(),
            percent(r.fill_rate()),
            percent(r.split_rate()),
            r.backordered.to_string(),
            r.cancelled.to_string(),
            r.protected_units_used.to_string(),
            format!("{:.1}", km(r.distance_km)),
            money_text(&r.shipping_cost),
        ]);
    }
    let widths: Vec<usize> =
        (0..header.len()).map(|c| rows.iter().map(|row| row[c].chars().count()).max().unwrap_or(0)).collect();
    for row in &rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(c, (cell, w))| if c == 0 { format!("{cell:<w$}") } else { format!("{cell:>w$}") })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out.push('\n');
    for (((name, _), r), vs) in inputs.policies.iter().zip(results).zip(comparisons(inputs, results)) {
        if let Some((baseline, vs)) = vs {
            let failed = failed_phrase(vs.failed_orders_prevented);
            out.push_str(&format!(
                "{name} against {baseline}: {failed}, {:+.1} km, shipping {}",
                km(vs.extra_distance_km),
                signed_money(&vs.extra_shipping_cost)
            ));
            if let Some((_, roi)) = &vs.roi {
                out.push_str(&format!("; protected revenue {}, {} team hours", roi.protected_revenue, roi.hours_saved));
            }
            out.push_str(".\n");
        }
        let ranked = r.stockouts_ranked();
        if !ranked.is_empty() {
            let top: Vec<String> = ranked
                .iter()
                .take(10)
                .map(|(sku, s)| format!("{sku} {} unit(s) in {} line(s)", s.units, s.lines))
                .collect();
            let more = if ranked.len() > 10 { format!(" and {} more", ranked.len() - 10) } else { String::new() };
            out.push_str(&format!("{name} stockouts: {}{more}.\n", top.join(", ")));
        }
        if r.distance_km_estimated > 0.0 {
            out.push_str(&format!(
                "{name}: {:.1} of {:.1} km estimated from addresses (no coordinates).\n",
                km(r.distance_km_estimated),
                km(r.distance_km)
            ));
        }
        if r.stock_errors > 0 {
            out.push_str(&format!("{name}: {} stock change(s) refused (a bug: please report it).\n", r.stock_errors));
        }
    }
    let listed = |map: &BTreeMap<String, u64>| -> String {
        map.iter().map(|(code, rows)| format!("{code} ({rows} row(s))")).collect::<Vec<_>>().join(", ")
    };
    if !inputs.unknowns.skus.is_empty() {
        out.push_str(&format!("Unknown SKUs, left out: {}.\n", listed(&inputs.unknowns.skus)));
    }
    if !inputs.unknowns.locations.is_empty() {
        out.push_str(&format!("Unknown locations, left out: {}.\n", listed(&inputs.unknowns.locations)));
    }
    out
}

/// Failed orders a policy prevents against the baseline, said as a person
/// would: a policy that fails more orders does not "prevent -176".
fn failed_phrase(prevented: i64) -> String {
    if prevented < 0 {
        format!("{} more failed order(s)", prevented.unsigned_abs())
    } else {
        format!("{prevented} failed order(s) prevented")
    }
}

fn signed_money(map: &BTreeMap<Currency, i64>) -> String {
    if map.values().all(|v| *v == 0) {
        return "unchanged".into();
    }
    let parts: Vec<String> = map
        .iter()
        .filter(|(_, v)| **v != 0)
        .map(|(c, minor)| {
            let sign = if *minor > 0 { "+" } else { "" };
            format!("{sign}{}", switchyard_core::Money::new(*minor, *c))
        })
        .collect();
    parts.join(" ")
}

/// One CSV row per order and policy: where it shipped from and how it ended.
pub fn write_decisions(path: &Path, inputs: &Inputs, results: &[PolicyResult]) -> anyhow::Result<()> {
    let file = std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut w = csv::Writer::from_writer(std::io::BufWriter::new(file));
    w.write_record(["policy", "created_at", "channel", "external_id", "fate", "allocations", "unfilled_units"])?;
    for ((name, _), r) in inputs.policies.iter().zip(results) {
        let Some(fates) = &r.fates else { continue };
        for (order, fate) in inputs.history.orders().iter().zip(fates) {
            let allocations: Vec<String> =
                fate.allocations.iter().map(|(code, units)| format!("{code}:{units}")).collect();
            w.write_record([
                name.as_str(),
                &time(order.at_ms),
                order.channel.as_str(),
                order.external_id.as_str(),
                fate.fate.as_str(),
                &allocations.join(" "),
                &fate.unfilled_units.to_string(),
            ])?;
        }
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn more_failures_are_not_negative_prevention() {
        assert_eq!(super::failed_phrase(3), "3 failed order(s) prevented");
        assert_eq!(super::failed_phrase(0), "0 failed order(s) prevented");
        assert_eq!(super::failed_phrase(-176), "176 more failed order(s)");
    }
}
