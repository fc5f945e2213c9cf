//! Renders a [`Decision`]'s trace as plain English for the order page and
//! the API, e.g. "Ships from Warehouse East (412 km): nearest location
//! holding all 3 items. Flagship excluded for SKU TEE-RED-M: protected stock
//! (keeps 2 for walk-ins; order value $38.00 < $75.00)."
//!
//! A decision is made when the order is placed, before anything ships: it
//! says where units *will* ship from, never that they shipped. It says
//! nothing the order's lines contradict (their `backordered` count is every
//! unfilled unit, held or waiting for a restock).
//!
//! Only what a person needs is said: the choice and its reason, locations
//! that had stock but were ruled out, protected stock refused or released,
//! and every fallback taken. The full detail stays in the structured trace.

use std::fmt::Write as _;

use super::decision::{
    CandidateTrace, DecidingFactor, DecidingStep, Decision, DistanceSummary, ExceptionKind, Exclusion, FallbackResult,
    Outcome, ProtectionTrace, ProtectionVerdict, RefusalReason, ReleaseReason, Selection, Shortage, ShortageCause,
    SkipReason, SplitComparison, SplitPermission, Trace,
};
use super::geo::{AddressTier, DistanceSource};
use super::policy::{CriterionKind, FallbackStep};
use crate::ids::LocationCode;
use crate::money::Money;
use crate::order::ServiceLevel;

impl Decision {
    /// The decision in a few plain sentences.
    pub fn explain(&self) -> String {
        let mut sentences: Vec<String> = Vec::new();
        let trace = &self.trace;
        sentences.push(self.selection_sentence());
        match trace.distance_source {
            DistanceSummary::Estimated if trace.candidates.iter().any(|c| c.rank.is_some()) => sentences.push(
                "Distances are estimated from postal code, region and country: the ship-to address has no coordinates."
                    .to_owned(),
            ),
            DistanceSummary::Mixed => {
                sentences.push("Some distances are estimated: not every location has coordinates.".to_owned())
            }
            _ => {}
        }
        for candidate in trace.candidates.iter().filter(|c| c.usable_units > 0) {
            if let Some(reason) = candidate.exclusion.as_ref().and_then(|e| exclusion_text(e, trace)) {
                sentences.push(format!("{} excluded: {reason}.", candidate.name));
            }
        }
        for (code, sku) in &trace.avoided {
            sentences.push(format!("{} is not used for SKU {sku}: it could not find the item.", name_of(trace, code)));
        }
        for exclusion in &trace.line_exclusions {
            let candidate = candidate(trace, &exclusion.location);
            if candidate.is_some_and(|c| c.usable_units > 0) {
                let sku = trace.line_skus.get(exclusion.line).map_or("?", |s| s.as_str());
                sentences.push(format!(
                    "{} may not ship {sku} (SKU rule {}).",
                    name_of(trace, &exclusion.location),
                    exclusion.rule + 1
                ));
            }
        }
        for protection in &trace.protection {
            if let Some(sentence) = self.protection_sentence(protection) {
                sentences.push(sentence);
            }
        }
        // Steps the service level rules out are named in one sentence.
        let ruled_out: Vec<&str> = trace
            .fallbacks
            .iter()
            .filter(|f| matches!(f.result, FallbackResult::Skipped { reason: SkipReason::NotForServiceLevel { .. } }))
            .map(|f| step_name(f.step))
            .collect();
        if !ruled_out.is_empty() {
            let steps: Vec<String> = ruled_out.iter().map(|s| s.to_lowercase()).collect();
            let mut sentence = and_list(&steps);
            sentence[..1].make_ascii_uppercase();
            let verb = if steps.len() == 1 { "is" } else { "are" };
            sentences.push(format!("{sentence} {verb} not possible for {} orders.", level_name(trace.service_level)));
        }
        for fallback in &trace.fallbacks {
            if let Some(sentence) = self.fallback_sentence(fallback.step, fallback.implicit, &fallback.result) {
                sentences.push(sentence);
            }
        }
        if let Outcome::Held { nearest_store_with_stock: Some(code), .. } = &self.outcome {
            sentences.push(format!("Nearest other store with stock: {}.", name_of(trace, code)));
        }
        sentences.join(" ")
    }

    fn selection_sentence(&self) -> String {
        let trace = &self.trace;
        let all = all_items(trace.total_units);
        match &trace.selection {
            Selection::NothingToFill => "Nothing to route: the order has no units.".to_owned(),
            Selection::NoPrimaryStock => "No eligible store or warehouse could ship any of the order.".to_owned(),
            Selection::WholeOrder { location, deciding, split_comparison, locations_filling_whole_order } => {
                let reason = match deciding {
                    DecidingFactor::OnlyCandidate => format!("the only location that can fill {all}"),
                    DecidingFactor::Ranking { steps } => ranking_reason(steps, &all),
                    DecidingFactor::WeightedScore { chosen, runner_up } => format!(
                        "best weighted score ({chosen:.2} against {runner_up:.2}) of the \
                         {locations_filling_whole_order} locations holding {all}"
                    ),
                };
                let mut sentence = format!("{} from {}: {reason}.", self.verb(), place(trace, location));
                if let Some(comparison) = split_comparison {
                    let _ = write!(sentence, " {}", comparison_text(trace, comparison));
                }
                sentence
            }
            Selection::Split { locations, preferred_over_whole, .. } => {
                let shipments: Vec<String> = locations
                    .iter()
                    .map(|code| {
                        let units = candidate(trace, code).map_or(0, |c| c.planned_units);
                        format!("{} ships {}", place(trace, code), items(units))
                    })
                    .collect();
                let mut sentence = format!("Split into {} shipments: {}.", locations.len(), shipments.join("; "));
                match preferred_over_whole {
                    Some(comparison) => {
                        let _ = write!(sentence, " {}", comparison_text(trace, comparison));
                    }
                    None => {
                        let _ = write!(sentence, " No single location holds {all}");
                        if let SplitPermission::ValueAtLeast { value, threshold } = &trace.split.permission {
                            let _ = write!(
                                sentence,
                                "; order value {} ≥ {} allows a split",
                                money(*value),
                                money(*threshold)
                            );
                        }
                        sentence.push('.');
                    }
                }
                sentence
            }
            Selection::BestSingleLocation { location, filled_units } => {
                let mut sentence = format!(
                    "{} {} of {} from {}: no location holds {all}.",
                    self.verb(),
                    filled_units,
                    items(trace.total_units),
                    place(trace, location)
                );
                if let Some(reason) = no_split_reason(&trace.split.permission) {
                    let _ = write!(sentence, " Not split: {reason}.");
                }
                sentence
            }
            Selection::Pickup { requested, eligible, filled_units } => {
                let store = requested.as_ref().map_or_else(|| "the pickup store".to_owned(), |c| name_of(trace, c));
                if !eligible {
                    let why = requested
                        .as_ref()
                        .and_then(|code| candidate(trace, code))
                        .and_then(|c| c.exclusion.as_ref())
                        .and_then(|e| exclusion_text(e, trace))
                        .unwrap_or_else(|| "it is not a known location".to_owned());
                    format!("Pickup at {store} is not possible: {why}.")
                } else if *filled_units >= trace.total_units {
                    format!("Ready for pickup at {store}: {all} reserved at the chosen store.")
                } else {
                    format!("Pickup at {store} is short: {filled_units} of {} reserved.", items(trace.total_units))
                }
            }
        }
    }

    fn verb(&self) -> &'static str {
        match self.trace.service_level {
            ServiceLevel::SameDay => "Same-day delivery",
            _ => "Ships",
        }
    }

    fn protection_sentence(&self, protection: &ProtectionTrace) -> Option<String> {
        let shipped_here =
            self.plan.reservations.iter().any(|r| r.location == protection.location && r.sku == protection.sku);
        match &protection.verdict {
            ProtectionVerdict::Refused { reason } => {
                let ranked = candidate(&self.trace, &protection.location).is_some_and(|c| c.rank.is_some());
                if !ranked {
                    return None;
                }
                let why = match reason {
                    RefusalReason::OrderValueBelow { value, threshold } => {
                        format!("order value {} < {}", money(*value), money(*threshold))
                    }
                    RefusalReason::CurrencyDiffers { value, threshold } => {
                        format!("the threshold is in {}, the order in {}", threshold.currency(), value.currency())
                    }
                    RefusalReason::NotQualifying => "this order's service level and channel do not qualify".to_owned(),
                    RefusalReason::NeverReleased => "never released to orders".to_owned(),
                };
                let keeps = format!("keeps {} for walk-ins; {why}", protection.keep_units);
                Some(if shipped_here {
                    format!(
                        "{} shipped only unprotected units of SKU {} ({keeps}).",
                        name_of(&self.trace, &protection.location),
                        protection.sku
                    )
                } else {
                    format!(
                        "{} excluded for SKU {}: protected stock ({keeps}).",
                        name_of(&self.trace, &protection.location),
                        protection.sku
                    )
                })
            }
            ProtectionVerdict::Released { reason } if protection.protected_units_used > 0 => {
                let why = match reason {
                    ReleaseReason::OrderValue { value, threshold } => {
                        format!("order value {} ≥ {}", money(*value), money(*threshold))
                    }
                    ReleaseReason::ServiceLevel { level } => format!("{} orders qualify", level_name(*level)),
                    ReleaseReason::Channel { channel } => format!("{channel} orders qualify"),
                };
                Some(format!(
                    "{} released {} of SKU {} kept for walk-ins: {why}.",
                    name_of(&self.trace, &protection.location),
                    units(protection.protected_units_used),
                    protection.sku
                ))
            }
            ProtectionVerdict::Released { .. } => None,
        }
    }

    fn fallback_sentence(&self, step: FallbackStep, implicit: bool, result: &FallbackResult) -> Option<String> {
        let trace = &self.trace;
        Some(match result {
            FallbackResult::Dropshipped { name, lead_time_days, expected_ship_ms, lines, .. } => format!(
                "{} ({}) dropshipped by {name} (lead time {}; expected to ship by {}).",
                items(lines.iter().map(|(_, n)| n).sum()),
                line_list(trace, lines),
                days(i64::from(*lead_time_days)),
                date(*expected_ship_ms)
            ),
            FallbackResult::Backordered { lines, expected_restock_ms } => format!(
                "{} ({}) backordered; restock expected by {}.",
                items(lines.iter().map(|(_, n)| n).sum()),
                line_list(trace, lines),
                date(*expected_restock_ms)
            ),
            FallbackResult::Held { exception, lines } => {
                let reasons: Vec<String> = lines
                    .iter()
                    .map(|&(line, units)| {
                        let sku = trace.line_skus.get(line).map_or("?", |s| s.as_str());
                        let shortage = self.lines.get(line).and_then(|l| l.shortage.as_ref());
                        match shortage {
                            Some(shortage) => format!("{sku} ×{units}: {}", shortage_text(trace, sku, shortage)),
                            None => format!("{sku} ×{units}"),
                        }
                    })
                    .collect();
                let kind = match exception {
                    ExceptionKind::Unroutable => "unroutable",
                    ExceptionKind::PickupUnavailable => "pickup unavailable",
                    ExceptionKind::SplitOverLimit => "over the split limit",
                };
                let ended = if implicit { " (the fallback chain has no further step)" } else { "" };
                format!("Held as {kind}{ended}: {}.", reasons.join("; "))
            }
            FallbackResult::AutoCancel { at_ms } => {
                format!("It will be cancelled automatically at {} UTC unless resolved first.", date_time(*at_ms))
            }
            FallbackResult::Skipped { reason } => match reason {
                // Said once for all steps, above.
                SkipReason::NotForServiceLevel { .. } => return None,
                SkipReason::ShipmentLimitReached { max_shipments } => {
                    format!("{} skipped: at most {} allowed.", step_name(step), shipments(*max_shipments))
                }
                SkipReason::NoVendorHasStock => "No dropship vendor has the rest.".to_owned(),
                SkipReason::NoLineMayBackorder => {
                    "Those SKUs may not wait for a restock: what is left unfilled is held for a person.".to_owned()
                }
                SkipReason::StockExistsElsewhere => "What is left unfilled waits for a person to approve a split, not \
                                                     for a restock: another location has the stock."
                    .to_owned(),
                SkipReason::NothingHeld => return None,
            },
        })
    }
}

/// "nearest location holding all 3 items", "warehouses come first for SKUs
/// tagged "high-volume"; this is the nearest one holding the item", ...
fn ranking_reason(steps: &[DecidingStep], all: &str) -> String {
    let full = |step: &DecidingStep| match step {
        DecidingStep::DistanceFirst => {
            format!("nearest location holding {all} (expedited orders go by distance first)")
        }
        DecidingStep::Criterion { criterion } => match criterion {
            CriterionKind::Distance => format!("nearest location holding {all}"),
            CriterionKind::Priority => format!("highest-priority location holding {all}"),
            CriterionKind::ShippingCost => format!("cheapest location to ship from that holds {all}"),
            CriterionKind::StockDepth => format!("location with the deepest stock holding {all}"),
            CriterionKind::LeadTime => format!("location with the shortest lead time holding {all}"),
            CriterionKind::WarehouseFirst => format!("a warehouse holding {all}"),
        },
        DecidingStep::WarehouseFirst { tag } => {
            format!("warehouses come first for SKUs tagged {tag:?}, and this one holds {all}")
        }
        DecidingStep::LocationCode => {
            format!("holds {all}; tied with another location on every criterion, first by code")
        }
    };
    let name = |step: &DecidingStep| match step {
        DecidingStep::DistanceFirst => "distance",
        DecidingStep::Criterion { criterion } => match criterion {
            CriterionKind::Distance => "distance",
            CriterionKind::Priority => "priority",
            CriterionKind::ShippingCost => "shipping cost",
            CriterionKind::StockDepth => "stock depth",
            CriterionKind::LeadTime => "lead time",
            CriterionKind::WarehouseFirst => "warehouse first",
        },
        DecidingStep::WarehouseFirst { .. } => "warehouse first",
        DecidingStep::LocationCode => "location code",
    };
    match steps {
        [] => format!("holds {all}"),
        [only] => full(only),
        [DecidingStep::WarehouseFirst { tag }, rest @ ..] => {
            let by: Vec<&str> = rest.iter().map(name).collect();
            format!(
                "warehouses come first for SKUs tagged {tag:?}; among them it holds {all} and wins on {}",
                by.join(", then ")
            )
        }
        [first, rest @ ..] => {
            let by: Vec<&str> = rest.iter().map(name).collect();
            format!("{}; ties broken by {}", full(first), by.join(", then "))
        }
    }
}

fn candidate<'t>(trace: &'t Trace, code: &LocationCode) -> Option<&'t CandidateTrace> {
    trace.candidates.iter().find(|c| &c.location == code)
}

fn name_of(trace: &Trace, code: &LocationCode) -> String {
    candidate(trace, code).map_or_else(|| code.to_string(), |c| c.name.clone())
}

/// "Warehouse East (412 km)" or "Flagship (same region)".
fn place(trace: &Trace, code: &LocationCode) -> String {
    match candidate(trace, code) {
        None => code.to_string(),
        Some(c) => match c.distance_source {
            DistanceSource::GreatCircle => format!("{} ({})", c.name, km(c.distance_km)),
            DistanceSource::Estimated(AddressTier::SamePostalPrefix) => format!("{} (same postal area)", c.name),
            DistanceSource::Estimated(AddressTier::SameRegion) => format!("{} (same region)", c.name),
            DistanceSource::Estimated(AddressTier::SameCountry) => format!("{} (same country)", c.name),
            DistanceSource::Estimated(AddressTier::Elsewhere) => c.name.clone(),
        },
    }
}

fn comparison_text(trace: &Trace, comparison: &SplitComparison) -> String {
    let nearest = comparison
        .split_locations
        .iter()
        .filter_map(|code| candidate(trace, code))
        .min_by(|a, b| a.distance_km.total_cmp(&b.distance_km))
        .map_or_else(String::new, |c| c.name.clone());
    let farther = km((comparison.whole_distance_km - comparison.split_nearest_km).max(0.0));
    let whole = name_of(trace, &comparison.whole_location);
    if comparison.within_tolerance {
        format!(
            "Preferred over a split whose nearest location is {nearest}: \
             {whole} is only {farther} farther, within the tolerance."
        )
    } else {
        format!(
            "{whole} holds everything but is {farther} farther than {nearest}, \
             beyond the tolerance, so the order is split."
        )
    }
}

fn exclusion_text(exclusion: &Exclusion, trace: &Trace) -> Option<String> {
    Some(match exclusion {
        Exclusion::Inactive => "inactive".to_owned(),
        Exclusion::DuplicateCode | Exclusion::NotPickupLocation => return None,
        Exclusion::CannotShip => "does not ship orders".to_owned(),
        Exclusion::CannotPickup => "does not offer pickup".to_owned(),
        Exclusion::ChannelRule { rule } => {
            format!("{} orders may not ship from it (channel rule {})", trace.channel, rule + 1)
        }
        Exclusion::CapacityReached { orders_today, max_orders } => {
            format!("daily capacity reached ({orders_today} of {max_orders} orders today)")
        }
        Exclusion::TooFar { distance_km, max_km } => format!(
            "{} away, beyond the {} limit for {} orders",
            km(*distance_km),
            km(*max_km),
            level_name(trace.service_level)
        ),
        Exclusion::OutsideSameDayRadius { distance_km, radius_km } => {
            format!("{} away, outside the {} same-day radius", km(*distance_km), km(*radius_km))
        }
        Exclusion::DropshipNotForServiceLevel => {
            format!("dropship vendors cannot serve {} orders", level_name(trace.service_level))
        }
    })
}

fn shortage_text(trace: &Trace, line_sku: &str, shortage: &Shortage) -> String {
    let component =
        if shortage.sku.as_str() == line_sku { String::new() } else { format!("component {} — ", shortage.sku) };
    let why = match &shortage.cause {
        ShortageCause::NoEligibleLocation => "no location may ship it".to_owned(),
        ShortageCause::SplitLimit { location } => format!(
            "{} has it, but another shipment would break the split rules ({})",
            name_of(trace, location),
            no_split_reason(&trace.split.permission)
                .unwrap_or_else(|| format!("at most {}", shipments(trace.split.max_shipments.unwrap_or(0))))
        ),
        ShortageCause::TakenByOtherLine { line, line_sku: other, is_bundle: true, units } => format!(
            "the only remaining stock ({}) is reserved for bundle {other} (line {}) of this order",
            self::units(*units),
            line + 1
        ),
        ShortageCause::TakenByOtherLine { line, line_sku: other, is_bundle: false, units } => format!(
            "the only remaining stock ({}) is taken by {other} (line {}) of this order",
            self::units(*units),
            line + 1
        ),
        ShortageCause::ReservedForOtherOrders { units } => {
            format!("the remaining stock ({}) is reserved for other open orders", self::units(*units))
        }
        ShortageCause::Protected { units } => {
            format!("the remaining {} are protected for walk-in customers", self::units(*units))
        }
        ShortageCause::SafetyStock { units } => format!("only safety stock ({}) remains", self::units(*units)),
        ShortageCause::OnlyAtExcludedLocations { locations } => {
            let names: Vec<String> = locations.iter().map(|code| name_of(trace, code)).collect();
            match names.as_slice() {
                [one] => format!("only {one} has it, and it is excluded for this order"),
                _ => format!("only {} have it, and they are excluded for this order", and_list(&names)),
            }
        }
        ShortageCause::NoStock if trace.service_level == ServiceLevel::Pickup => "the pickup store has none".to_owned(),
        ShortageCause::NoStock => "no eligible location has it".to_owned(),
    };
    format!("{component}{why}")
}

fn no_split_reason(permission: &SplitPermission) -> Option<String> {
    match permission {
        SplitPermission::Never => Some("the policy never splits orders".to_owned()),
        SplitPermission::ValueBelow { value, threshold } => {
            Some(format!("order value {} < {} does not allow a split", money(*value), money(*threshold)))
        }
        SplitPermission::CurrencyDiffers { threshold, .. } => {
            Some(format!("the split threshold is in {}", threshold.currency()))
        }
        SplitPermission::PickupIsOneStore => Some("a pickup order is handed over at one store".to_owned()),
        SplitPermission::Always | SplitPermission::ValueAtLeast { .. } => None,
    }
}

/// "A", "A and B", "A, B and C".
fn and_list(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

fn line_list(trace: &Trace, lines: &[(usize, i64)]) -> String {
    lines
        .iter()
        .map(|&(line, n)| format!("{} ×{n}", trace.line_skus.get(line).map_or("?", |s| s.as_str())))
        .collect::<Vec<_>>()
        .join(", ")
}

fn step_name(step: FallbackStep) -> &'static str {
    match step {
        FallbackStep::Dropship => "Dropship",
        FallbackStep::Backorder => "Backorder",
        FallbackStep::Hold => "Hold",
        FallbackStep::AutoCancel => "Auto-cancel",
    }
}

fn level_name(level: ServiceLevel) -> &'static str {
    match level {
        ServiceLevel::Standard => "standard",
        ServiceLevel::Expedited => "expedited",
        ServiceLevel::SameDay => "same-day",
        ServiceLevel::Pickup => "pickup",
    }
}

fn plural(n: i64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

fn items(n: i64) -> String {
    plural(n, "item", "items")
}

fn units(n: i64) -> String {
    plural(n, "unit", "units")
}

fn days(n: i64) -> String {
    plural(n, "day", "days")
}

fn shipments(n: usize) -> String {
    plural(i64::try_from(n).unwrap_or(i64::MAX), "shipment", "shipments")
}

/// "all 3 items", or "the item" for one.
fn all_items(n: i64) -> String {
    if n == 1 {
        "the item".to_owned()
    } else {
        format!("all {n} items")
    }
}

fn km(distance: f64) -> String {
    if distance.is_finite() && distance < 10.0 {
        format!("{distance:.1} km")
    } else {
        format!("{distance:.0} km")
    }
}

/// "$38.00" for the common dollar, euro and pound currencies; otherwise
/// Money's own "38.00 CHF".
fn money(amount: Money) -> String {
    let symbol = match amount.currency().as_str() {
        "USD" => "$",
        "EUR" => "€",
        "GBP" => "£",
        _ => return amount.to_string(),
    };
    let shown = amount.to_string();
    let number = shown.split(' ').next().unwrap_or(&shown);
    match number.strip_prefix('-') {
        Some(positive) => format!("-{symbol}{positive}"),
        None => format!("{symbol}{number}"),
    }
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian
/// (H. Hinnant's `civil_from_days`), so the core needs no date library.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// "2026-06-12" (UTC).
fn date(ms: i64) -> String {
    let (year, month, day) = civil_from_days(ms.div_euclid(86_400_000));
    format!("{year:04}-{month:02}-{day:02}")
}

/// "2026-06-12 14:05" (UTC).
fn date_time(ms: i64) -> String {
    let minutes_of_day = ms.rem_euclid(86_400_000) / 60_000;
    format!("{} {:02}:{:02}", date(ms), minutes_of_day / 60, minutes_of_day % 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;

    #[test]
    fn dates_render_in_utc() {
        assert_eq!(date(0), "1970-01-01");
        // 2024-02-29T12:34:00Z, a leap day.
        assert_eq!(date_time(1_709_210_040_000), "2024-02-29 12:34");
        assert_eq!(date(-86_400_000), "1969-12-31");
        assert_eq!(date(951_782_400_000), "2000-02-29");
    }

    #[test]
    fn money_renders_with_symbols_where_unambiguous() {
        let currency = |code| Currency::parse(code).expect("currency");
        assert_eq!(money(Money::new(3800, currency("USD"))), "$38.00");
        assert_eq!(money(Money::new(-5, currency("EUR"))), "-€0.05");
        assert_eq!(money(Money::new(1200, currency("CHF"))), "12.00 CHF");
        assert_eq!(money(Money::new(500, currency("JPY"))), "500 JPY");
    }

    #[test]
    fn small_words() {
        assert_eq!(items(1), "1 item");
        assert_eq!(items(3), "3 items");
        assert_eq!(all_items(1), "the item");
        assert_eq!(km(3.04), "3.0 km");
        assert_eq!(km(412.4), "412 km");
    }
}
