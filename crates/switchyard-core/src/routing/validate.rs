//! Parsing and validating a [`Policy`], with errors that name the field path
//! and, when the policy came from TOML, the line.
//!
//! Three layers, each collecting every problem it finds rather than stopping
//! at the first:
//! 1. syntax and shape (TOML grammar, unknown fields or rule kinds, wrong
//!    types) — reported by the TOML deserializer with its byte span;
//! 2. [`Policy::check`]: rules that need no outside knowledge (negative
//!    thresholds, `max_shipments = 0`, a fallback chain that repeats a step,
//!    contradictory fields);
//! 3. [`Policy::validate`]: references to locations and tags that must exist.
//!
//! Line numbers come from [`crate::field_path`], which the return policy
//! shares.

use std::fmt;

use super::policy::{Criterion, FallbackStep, Policy, RankingMode, SplitStrategy};
use crate::field_path::{line_and_column, KeyIndex};
pub use crate::field_path::{FieldPath, PathSegment};
use crate::ids::LocationCode;
use crate::money::Currency;

/// What is wrong with a field. A closed list, so the API can map each to a
/// stable code.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PolicyProblem {
    /// TOML grammar, an unknown field or rule kind, or a wrong type.
    #[error("{message}")]
    Syntax { message: String },
    #[error("must not be negative (got {value})")]
    Negative { value: String },
    #[error("must be a finite number (got {value})")]
    NotFinite { value: String },
    #[error("must be at least 1 (got {value})")]
    ZeroOrLess { value: i64 },
    #[error("must not be empty")]
    Empty,
    #[error("give either `sku` or `tag`, not both")]
    BothSkuAndTag,
    #[error("give `sku` or `tag`")]
    NeitherSkuNorTag,
    #[error("give `only_locations` or `except_locations` (or both)")]
    NoLocations,
    #[error("location {location} is both allowed and excluded")]
    LocationAllowedAndExcluded { location: LocationCode },
    #[error("{what} appears more than once")]
    Duplicate { what: String },
    #[error("fallback step `{}` appears more than once: a chain may not loop back to a step", step.as_str())]
    FallbackRepeated { step: FallbackStep },
    #[error(
        "fallback step `{}` comes after `hold` and would never run (only `auto_cancel` may follow `hold`)",
        step.as_str()
    )]
    FallbackUnreachable { step: FallbackStep },
    #[error("`auto_cancel` must come directly after `hold`: it cancels held orders")]
    AutoCancelWithoutHold,
    #[error("is required {because}")]
    Missing { because: &'static str },
    #[error("bands must be in strictly ascending `up_to_km` order")]
    BandsNotAscending,
    #[error("all shipping rate tables must use one currency (expected {expected}, found {found})")]
    CurrencyMismatch { expected: Currency, found: Currency },
    #[error("unknown location {location}")]
    UnknownLocation { location: LocationCode },
    #[error("unknown tag {tag:?}")]
    UnknownTag { tag: String },
    #[error("is ignored in lexicographic mode; set `mode = \"weighted\"` or leave weights at 1")]
    WeightIgnored,
}

/// One validation error: where, what, and the TOML position when known.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyError {
    pub path: FieldPath,
    /// 1-based line in the TOML text, when the policy came from TOML.
    pub line: Option<usize>,
    /// 1-based column (characters) in that line.
    pub column: Option<usize>,
    pub problem: PolicyProblem,
}

impl PolicyError {
    fn new(path: FieldPath, problem: PolicyProblem) -> Self {
        Self { path, line: None, column: None, problem }
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(line) = self.line {
            write!(f, "line {line}")?;
            if let Some(column) = self.column {
                write!(f, ", column {column}")?;
            }
            f.write_str(": ")?;
        }
        write!(f, "{}: {}", self.path, self.problem)
    }
}

/// Every problem found in a policy; never empty when returned as an error.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyErrors(Vec<PolicyError>);

impl PolicyErrors {
    pub fn errors(&self) -> &[PolicyError] {
        &self.0
    }
    pub fn into_vec(self) -> Vec<PolicyError> {
        self.0
    }

    /// Fills in line and column from the TOML text the policy was parsed
    /// from, for errors found after parsing (by `check` or `validate`).
    pub fn with_lines_from(mut self, toml_text: &str) -> Self {
        if let Some(index) = KeyIndex::build(toml_text) {
            for error in &mut self.0 {
                if error.line.is_none() {
                    if let Some(offset) = index.offset_of(&error.path) {
                        let (line, column) = line_and_column(toml_text, offset);
                        error.line = Some(line);
                        error.column = Some(column);
                    }
                }
            }
        }
        self
    }

    fn from_vec(errors: Vec<PolicyError>) -> Result<(), Self> {
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Self(errors))
        }
    }
}

impl fmt::Display for PolicyErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.0.len();
        write!(f, "the routing policy has {count} error{}", if count == 1 { "" } else { "s" })?;
        for error in &self.0 {
            write!(f, "\n  {error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for PolicyErrors {}

impl Policy {
    /// Parses a policy from TOML and runs [`Policy::check`]. Never panics,
    /// whatever the text.
    pub fn from_toml(text: &str) -> Result<Policy, PolicyErrors> {
        let policy: Policy = match toml::from_str(text) {
            Ok(policy) => policy,
            Err(error) => return Err(PolicyErrors(vec![toml_error(text, &error)])),
        };
        match policy.check() {
            Ok(()) => Ok(policy),
            Err(errors) => Err(errors.with_lines_from(text)),
        }
    }

    /// Parses TOML, checks it, and validates its references in one go, with
    /// line numbers on every error.
    pub fn from_toml_validated(
        text: &str,
        known_locations: &[LocationCode],
        known_tags: &[String],
    ) -> Result<Policy, PolicyErrors> {
        let policy = Self::from_toml(text)?;
        match policy.validate(known_locations, known_tags) {
            Ok(()) => Ok(policy),
            Err(errors) => Err(errors.with_lines_from(text)),
        }
    }

    /// Renders the policy as TOML (for `policy show` and round trips).
    pub fn to_toml(&self) -> Result<String, toml::ser::Error> {
        toml::to_string(self)
    }

    /// The checks that need nothing but the policy itself.
    pub fn check(&self) -> Result<(), PolicyErrors> {
        let mut errors = Vec::new();
        self.check_into(&mut errors);
        PolicyErrors::from_vec(errors)
    }

    /// [`Policy::check`] plus every location and tag reference checked
    /// against what exists.
    pub fn validate(&self, known_locations: &[LocationCode], known_tags: &[String]) -> Result<(), PolicyErrors> {
        let mut errors = Vec::new();
        self.check_into(&mut errors);
        self.check_references(known_locations, known_tags, &mut errors);
        PolicyErrors::from_vec(errors)
    }

    fn check_into(&self, errors: &mut Vec<PolicyError>) {
        let root = FieldPath::root();
        let mut push = |path: FieldPath, problem| errors.push(PolicyError::new(path, problem));

        // Eligibility.
        let eligibility = root.key("eligibility");
        for (i, rule) in self.eligibility.channels.iter().enumerate() {
            let path = eligibility.key("channels").index(i);
            check_location_lists(&path, &rule.only_locations, &rule.except_locations, &mut push);
        }
        for (i, rule) in self.eligibility.skus.iter().enumerate() {
            let path = eligibility.key("skus").index(i);
            match (&rule.sku, &rule.tag) {
                (Some(_), Some(_)) => push(path.key("tag"), PolicyProblem::BothSkuAndTag),
                (None, None) => push(path.clone(), PolicyProblem::NeitherSkuNorTag),
                (None, Some(tag)) if tag.trim().is_empty() => push(path.key("tag"), PolicyProblem::Empty),
                _ => {}
            }
            check_location_lists(&path, &rule.only_locations, &rule.except_locations, &mut push);
        }
        let max_distance = eligibility.key("max_distance_km");
        check_optional_km(&max_distance.key("standard"), self.eligibility.max_distance_km.standard, &mut push);
        check_optional_km(&max_distance.key("expedited"), self.eligibility.max_distance_km.expedited, &mut push);
        for (code, max_orders) in &self.eligibility.daily_capacity {
            check_not_negative(&eligibility.key("daily_capacity").key(code.as_str()), *max_orders, &mut push);
        }

        // Protection.
        for (i, rule) in self.protection.iter().enumerate() {
            let path = root.key("protection").index(i);
            if rule.locations.is_empty() {
                push(path.key("locations"), PolicyProblem::Empty);
            }
            if rule.sku.is_some() && rule.tag.is_some() {
                push(path.key("tag"), PolicyProblem::BothSkuAndTag);
            }
            if rule.tag.as_deref().is_some_and(|t| t.trim().is_empty()) {
                push(path.key("tag"), PolicyProblem::Empty);
            }
            check_not_negative(&path.key("keep_units"), rule.keep_units, &mut push);
            if let Some(value) = rule.release_to.min_order_value {
                check_not_negative(&path.key("release_to").key("min_order_value"), value.minor(), &mut push);
            }
        }

        // Ranking.
        let ranking = root.key("ranking");
        if self.ranking.criteria.is_empty() {
            push(ranking.key("criteria"), PolicyProblem::Empty);
        }
        for (i, criterion) in self.ranking.criteria.iter().enumerate() {
            let path = ranking.key("criteria").index(i);
            let duplicate = self.ranking.criteria[..i].iter().any(|earlier| same_criterion(earlier, criterion));
            if duplicate {
                push(
                    path.clone(),
                    PolicyProblem::Duplicate { what: format!("criterion `{}`", criterion.kind().as_str()) },
                );
            }
            let weight = criterion.weight();
            if !weight.is_finite() {
                push(path.key("weight"), PolicyProblem::NotFinite { value: weight.to_string() });
            } else if weight < 0.0 {
                push(path.key("weight"), PolicyProblem::Negative { value: weight.to_string() });
            } else if self.ranking.mode == RankingMode::Lexicographic && weight != 1.0 {
                push(path.key("weight"), PolicyProblem::WeightIgnored);
            }
            if let Criterion::WarehouseFirst { tag, .. } = criterion {
                if tag.trim().is_empty() {
                    push(path.key("tag"), PolicyProblem::Empty);
                }
            }
        }

        // Shipping rates.
        let first_currency = self.shipping_rates.first().map(|table| table.currency);
        for (i, table) in self.shipping_rates.iter().enumerate() {
            let path = root.key("shipping_rates").index(i);
            if let Some(expected) = first_currency {
                if table.currency != expected {
                    push(path.key("currency"), PolicyProblem::CurrencyMismatch { expected, found: table.currency });
                }
            }
            let duplicate = self.shipping_rates[..i]
                .iter()
                .any(|earlier| earlier.location == table.location && earlier.service_level == table.service_level);
            if duplicate {
                push(
                    path.clone(),
                    PolicyProblem::Duplicate {
                        what: format!("a rate table for {} / {}", table.location, table.service_level.as_str()),
                    },
                );
            }
            if table.bands.is_empty() {
                push(path.key("bands"), PolicyProblem::Empty);
            }
            let mut previous_km: Option<f64> = None;
            for (j, band) in table.bands.iter().enumerate() {
                let band_path = path.key("bands").index(j);
                check_km(&band_path.key("up_to_km"), band.up_to_km, &mut push);
                check_not_negative(&band_path.key("cost_minor"), band.cost_minor, &mut push);
                if previous_km.is_some_and(|previous| band.up_to_km <= previous) {
                    push(band_path.key("up_to_km"), PolicyProblem::BandsNotAscending);
                }
                previous_km = Some(band.up_to_km);
            }
        }

        // Split.
        let split = root.key("split");
        match (self.split.strategy, self.split.min_order_value) {
            (SplitStrategy::AboveValue, None) => push(
                split.key("min_order_value"),
                PolicyProblem::Missing { because: "when strategy = \"above_value\"" },
            ),
            (_, Some(value)) => check_not_negative(&split.key("min_order_value"), value.minor(), &mut push),
            _ => {}
        }
        if let Some(max) = self.split.max_shipments {
            if max < 1 {
                push(split.key("max_shipments"), PolicyProblem::ZeroOrLess { value: max });
            }
        }
        check_optional_km(&split.key("prefer_single_within_km"), self.split.prefer_single_within_km, &mut push);
        if let Some(cost) = self.split.prefer_single_within_cost_minor {
            check_not_negative(&split.key("prefer_single_within_cost_minor"), cost, &mut push);
        }

        // Service levels and distance estimates.
        check_optional_km(
            &root.key("service_levels").key("same_day_radius_km"),
            self.service_levels.same_day_radius_km,
            &mut push,
        );
        let days = self.service_levels.pickup_uncollected_days;
        if days < 1 {
            push(root.key("service_levels").key("pickup_uncollected_days"), PolicyProblem::ZeroOrLess { value: days });
        }
        let hours = self.service_levels.pickup_ready_within_hours;
        if hours < 1 {
            push(
                root.key("service_levels").key("pickup_ready_within_hours"),
                PolicyProblem::ZeroOrLess { value: hours },
            );
        }
        let distance = root.key("distance");
        check_not_negative(&distance.key("postal_prefix_len"), self.distance.postal_prefix_len, &mut push);
        for (name, km) in [
            ("same_postal_prefix_km", self.distance.same_postal_prefix_km),
            ("same_region_km", self.distance.same_region_km),
            ("same_country_km", self.distance.same_country_km),
            ("elsewhere_km", self.distance.elsewhere_km),
        ] {
            check_km(&distance.key(name), km, &mut push);
        }

        // Fallback chain.
        let fallback = root.key("fallback");
        check_not_negative(&fallback.key("backorder_restock_days"), self.fallback.backorder_restock_days, &mut push);
        let chain = &self.fallback.chain;
        let mut hold_seen = false;
        for (i, step) in chain.iter().enumerate() {
            let path = fallback.key("chain").index(i);
            if chain[..i].contains(step) {
                push(path, PolicyProblem::FallbackRepeated { step: *step });
                continue;
            }
            match step {
                FallbackStep::AutoCancel => {
                    if i == 0 || chain[i - 1] != FallbackStep::Hold {
                        push(path, PolicyProblem::AutoCancelWithoutHold);
                    } else if self.fallback.auto_cancel_after_hours.is_none() {
                        push(
                            fallback.key("auto_cancel_after_hours"),
                            PolicyProblem::Missing { because: "when the chain has `auto_cancel`" },
                        );
                    }
                }
                FallbackStep::Hold => hold_seen = true,
                FallbackStep::Dropship | FallbackStep::Backorder if hold_seen => {
                    push(path, PolicyProblem::FallbackUnreachable { step: *step });
                }
                FallbackStep::Dropship | FallbackStep::Backorder => {}
            }
        }
        if let Some(hours) = self.fallback.auto_cancel_after_hours {
            if hours < 1 {
                push(fallback.key("auto_cancel_after_hours"), PolicyProblem::ZeroOrLess { value: hours });
            }
        }
    }

    fn check_references(&self, known_locations: &[LocationCode], known_tags: &[String], errors: &mut Vec<PolicyError>) {
        let root = FieldPath::root();
        let mut location = |path: FieldPath, code: &LocationCode| {
            if !known_locations.contains(code) {
                errors.push(PolicyError::new(path, PolicyProblem::UnknownLocation { location: code.clone() }));
            }
        };
        let eligibility = root.key("eligibility");
        for (i, rule) in self.eligibility.channels.iter().enumerate() {
            let path = eligibility.key("channels").index(i);
            for (j, code) in rule.only_locations.iter().enumerate() {
                location(path.key("only_locations").index(j), code);
            }
            for (j, code) in rule.except_locations.iter().enumerate() {
                location(path.key("except_locations").index(j), code);
            }
        }
        for (i, rule) in self.eligibility.skus.iter().enumerate() {
            let path = eligibility.key("skus").index(i);
            for (j, code) in rule.only_locations.iter().enumerate() {
                location(path.key("only_locations").index(j), code);
            }
            for (j, code) in rule.except_locations.iter().enumerate() {
                location(path.key("except_locations").index(j), code);
            }
        }
        for code in self.eligibility.daily_capacity.keys() {
            location(eligibility.key("daily_capacity").key(code.as_str()), code);
        }
        for (i, rule) in self.protection.iter().enumerate() {
            for (j, code) in rule.locations.iter().enumerate() {
                location(root.key("protection").index(i).key("locations").index(j), code);
            }
        }
        for (i, table) in self.shipping_rates.iter().enumerate() {
            location(root.key("shipping_rates").index(i).key("location"), &table.location);
        }

        let mut tag = |path: FieldPath, tag: &str| {
            if !known_tags.iter().any(|known| known == tag) {
                errors.push(PolicyError::new(path, PolicyProblem::UnknownTag { tag: tag.to_owned() }));
            }
        };
        for (i, rule) in self.eligibility.skus.iter().enumerate() {
            if let Some(name) = &rule.tag {
                tag(eligibility.key("skus").index(i).key("tag"), name);
            }
        }
        for (i, rule) in self.protection.iter().enumerate() {
            if let Some(name) = &rule.tag {
                tag(root.key("protection").index(i).key("tag"), name);
            }
        }
        for (i, criterion) in self.ranking.criteria.iter().enumerate() {
            if let Criterion::WarehouseFirst { tag: name, .. } = criterion {
                tag(root.key("ranking").key("criteria").index(i).key("tag"), name);
            }
        }
    }
}

fn same_criterion(a: &Criterion, b: &Criterion) -> bool {
    match (a, b) {
        (Criterion::WarehouseFirst { tag: x, .. }, Criterion::WarehouseFirst { tag: y, .. }) => x == y,
        _ => a.kind() == b.kind(),
    }
}

fn check_location_lists(
    path: &FieldPath,
    only: &[LocationCode],
    except: &[LocationCode],
    push: &mut impl FnMut(FieldPath, PolicyProblem),
) {
    if only.is_empty() && except.is_empty() {
        push(path.clone(), PolicyProblem::NoLocations);
    }
    for (j, code) in except.iter().enumerate() {
        if only.contains(code) {
            push(
                path.key("except_locations").index(j),
                PolicyProblem::LocationAllowedAndExcluded { location: code.clone() },
            );
        }
    }
}

fn check_not_negative(path: &FieldPath, value: i64, push: &mut impl FnMut(FieldPath, PolicyProblem)) {
    if value < 0 {
        push(path.clone(), PolicyProblem::Negative { value: value.to_string() });
    }
}

fn check_km(path: &FieldPath, km: f64, push: &mut impl FnMut(FieldPath, PolicyProblem)) {
    if !km.is_finite() {
        push(path.clone(), PolicyProblem::NotFinite { value: km.to_string() });
    } else if km < 0.0 {
        push(path.clone(), PolicyProblem::Negative { value: km.to_string() });
    }
}

fn check_optional_km(path: &FieldPath, km: Option<f64>, push: &mut impl FnMut(FieldPath, PolicyProblem)) {
    if let Some(km) = km {
        check_km(path, km, push);
    }
}

/// Converts a deserializer error into a `PolicyError` with the line, column
/// and the field path recovered from the span.
fn toml_error(text: &str, error: &toml::de::Error) -> PolicyError {
    let message = error.message().trim().to_owned();
    let mut result = PolicyError::new(FieldPath::root(), PolicyProblem::Syntax { message });
    if let Some(span) = error.span() {
        let (line, column) = line_and_column(text, span.start);
        result.line = Some(line);
        result.column = Some(column);
        if let Some(index) = KeyIndex::build(text) {
            result.path = index.path_of_error(text, span.start);
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn errors_of(text: &str) -> Vec<PolicyError> {
        match Policy::from_toml(text) {
            Ok(policy) => panic!("expected errors, got {policy:?}"),
            Err(errors) => errors.into_vec(),
        }
    }

    /// (toml, expected path, expected line, expected message fragment)
    #[test]
    fn errors_name_the_line_and_the_field() {
        let cases: &[(&str, &str, usize, &str)] = &[
            ("[split]\nstrategy = \"sometimes\"\n", "split.strategy", 2, "unknown variant `sometimes`"),
            ("[split]\nmax_shipments = 0\n", "split.max_shipments", 2, "at least 1"),
            (
                "[service_levels]\npickup_uncollected_days = 0\n",
                "service_levels.pickup_uncollected_days",
                2,
                "at least 1 (got 0)",
            ),
            (
                "[service_levels]\npickup_uncollected_days = 3\npickup_ready_within_hours = -2\n",
                "service_levels.pickup_ready_within_hours",
                3,
                "at least 1 (got -2)",
            ),
            ("[split]\nstrategy = \"above_value\"\n", "split.min_order_value", 1, "is required"),
            ("[rankin]\n", "rankin", 1, "unknown field `rankin`"),
            (
                "[ranking]\ncriteria = [\n  { kind = \"distance\" },\n  { kind = \"nearest\" },\n]\n",
                "ranking.criteria[1].kind",
                4,
                "unknown variant `nearest`",
            ),
            (
                // Internally tagged rule kinds are buffered by serde, so the
                // span (and path) is the array's.
                "[ranking]\ncriteria = [{ kind = \"distance\", colour = 1 }]\n",
                "ranking.criteria",
                2,
                "unknown field `colour`",
            ),
            (
                "[[protection]]\nlocations = [\"FLAGSHIP\"]\nkeep_units = 2\n\n\
                 [[protection]]\nlocations = [\"FLAGSHIP\"]\ntag = \"bestseller\"\nkeep_units = -3\n",
                "protection[1].keep_units",
                8,
                "must not be negative (got -3)",
            ),
            (
                "[fallback]\nchain = [\"dropship\", \"backorder\", \"dropship\"]\n",
                "fallback.chain[2]",
                2,
                "more than once",
            ),
            ("[fallback]\nchain = [\"hold\", \"backorder\"]\n", "fallback.chain[1]", 2, "never run"),
            ("[fallback]\nchain = [\"auto_cancel\"]\n", "fallback.chain[0]", 2, "directly after `hold`"),
            ("[fallback]\nchain = [\"teleport\"]\n", "fallback.chain[0]", 2, "unknown variant `teleport`"),
            (
                "[eligibility.daily_capacity]\n\"STORE.1\" = -1\n",
                "eligibility.daily_capacity.\"STORE.1\"",
                2,
                "negative",
            ),
            (
                "[eligibility.max_distance_km]\nsame_day = 10\n",
                "eligibility.max_distance_km.same_day",
                2,
                "unknown field",
            ),
            ("[distance]\nsame_region_km = nan\n", "distance.same_region_km", 2, "finite"),
            (
                "[split]\nmin_order_value = { minor = 7500, currency = \"usd\" }\n",
                "split.min_order_value.currency",
                2,
                "ISO 4217",
            ),
            ("[[eligibility.channels]]\nchannel = \"amazon\"\n", "eligibility.channels[0]", 1, "only_locations"),
            (
                // A missing field is reported at its table's header, not at
                // the key before it (regression: it named `split.strategy`).
                "[split]\nstrategy = \"never\"\n\n[[eligibility.channels]]\nonly_locations = [\"A\"]\n",
                "eligibility.channels",
                4,
                "missing field `channel`",
            ),
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
    fn every_problem_is_reported_not_just_the_first() {
        let text =
            "[split]\nmax_shipments = -1\nprefer_single_within_km = -5\n[fallback]\nbackorder_restock_days = -2\n";
        let errors = errors_of(text);
        let paths: Vec<String> = errors.iter().map(|e| e.path.to_string()).collect();
        assert_eq!(
            paths,
            vec!["split.max_shipments", "split.prefer_single_within_km", "fallback.backorder_restock_days"]
        );
        assert_eq!(errors.iter().map(|e| e.line).collect::<Vec<_>>(), vec![Some(2), Some(3), Some(5)]);
        let shown = PolicyErrors(errors).to_string();
        assert!(shown.starts_with("the routing policy has 3 errors"), "{shown}");
        assert!(shown.contains("line 2, column 1: split.max_shipments: must be at least 1 (got -1)"), "{shown}");
    }

    #[test]
    fn references_must_exist() {
        let text = r#"
[eligibility]
daily_capacity = { FLAGSHIP = 10, GHOST = 3 }

[[eligibility.channels]]
channel = "amazon"
only_locations = ["WH-RENO", "WH-MARS"]

[[protection]]
locations = ["FLAGSHIP"]
tag = "bestsellr"
keep_units = 2

[ranking]
criteria = [{ kind = "warehouse_first", tag = "high-volume" }, { kind = "distance" }]
"#;
        let known_locations: Vec<LocationCode> =
            ["FLAGSHIP", "WH-RENO"].iter().map(|c| LocationCode::parse(c).expect("code")).collect();
        let known_tags = vec!["bestseller".to_owned(), "high-volume".to_owned()];
        let errors = Policy::from_toml_validated(text, &known_locations, &known_tags).expect_err("invalid").into_vec();
        let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            vec![
                "line 7, column 30: eligibility.channels[0].only_locations[1]: unknown location WH-MARS",
                "line 3, column 35: eligibility.daily_capacity.GHOST: unknown location GHOST",
                "line 11, column 1: protection[0].tag: unknown tag \"bestsellr\"",
            ]
        );
        // With the right names it passes.
        let fixed = text.replace("WH-MARS", "WH-RENO").replace(", GHOST = 3", "").replace("bestsellr", "bestseller");
        assert!(Policy::from_toml_validated(&fixed, &known_locations, &known_tags).is_ok());
    }

    #[test]
    fn structural_rules() {
        let check = |text: &str| Policy::from_toml(text).map(|_| ()).map_err(|e| e.errors()[0].problem.clone());
        assert_eq!(check("[[eligibility.skus]]\nonly_locations = [\"A\"]\n"), Err(PolicyProblem::NeitherSkuNorTag));
        assert_eq!(
            check("[[eligibility.skus]]\nsku = \"X\"\ntag = \"t\"\nonly_locations = [\"A\"]\n"),
            Err(PolicyProblem::BothSkuAndTag)
        );
        assert!(matches!(
            check("[[eligibility.skus]]\ntag = \"t\"\nonly_locations = [\"A\"]\nexcept_locations = [\"A\"]\n"),
            Err(PolicyProblem::LocationAllowedAndExcluded { .. })
        ));
        assert!(matches!(
            check("[ranking]\ncriteria = [{ kind = \"distance\" }, { kind = \"distance\" }]\n"),
            Err(PolicyProblem::Duplicate { .. })
        ));
        assert_eq!(check("[ranking]\ncriteria = []\n"), Err(PolicyProblem::Empty));
        assert_eq!(
            check("[ranking]\ncriteria = [{ kind = \"distance\", weight = 2 }]\n"),
            Err(PolicyProblem::WeightIgnored)
        );
        assert!(check("[ranking]\nmode = \"weighted\"\ncriteria = [{ kind = \"distance\", weight = 2 }]\n").is_ok());
        assert!(matches!(
            check("[ranking]\nmode = \"weighted\"\ncriteria = [{ kind = \"distance\", weight = -1 }]\n"),
            Err(PolicyProblem::Negative { .. })
        ));
        let rates = |second: &str| {
            format!(
                "[[shipping_rates]]\nlocation = \"A\"\nservice_level = \"standard\"\ncurrency = \"USD\"\n\
                 bands = [{{ up_to_km = 100, cost_minor = 500 }}, {{ up_to_km = {second}, cost_minor = 900 }}]\n"
            )
        };
        assert!(check(&rates("1000")).is_ok());
        assert_eq!(check(&rates("50")), Err(PolicyProblem::BandsNotAscending));
        assert_eq!(
            check("[fallback]\nchain = [\"hold\", \"auto_cancel\"]\n"),
            Err(PolicyProblem::Missing { because: "when the chain has `auto_cancel`" })
        );
        assert!(check("[fallback]\nchain = [\"hold\", \"auto_cancel\"]\nauto_cancel_after_hours = 48\n").is_ok());
        assert_eq!(
            check("[fallback]\nchain = [\"hold\"]\nauto_cancel_after_hours = 0\n"),
            Err(PolicyProblem::ZeroOrLess { value: 0 })
        );
        assert_eq!(check("[[protection]]\nlocations = []\nkeep_units = 1\n"), Err(PolicyProblem::Empty));
    }

    const VALID_POLICY: &str = include_str!("example_policy.toml");

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn parsing_arbitrary_text_never_panics(text in "\\PC{0,200}") {
            let _ = Policy::from_toml(&text).map_err(|e| e.to_string());
        }

        #[test]
        fn parsing_mutated_policies_never_panics(
            edits in proptest::collection::vec(
                (any::<prop::sample::Index>(), 0..4u8, "[\\[\\]{}=\",.#0-9a-z_ \n-]{0,6}"),
                1..6
            )
        ) {
            let mut text = VALID_POLICY.to_owned();
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
                        text.replace_range(offset..end, "");
                    }
                    2 => {
                        let mut end = (offset + fragment.len()).min(text.len());
                        while !text.is_char_boundary(end) {
                            end -= 1;
                        }
                        text.replace_range(offset..end, &fragment);
                    }
                    _ => text = text.replacen(|c: char| c.is_ascii_digit(), "-", 1),
                }
            }
            match Policy::from_toml(&text) {
                Ok(policy) => {
                    // Whatever parses must also survive the reference checks and a round trip.
                    let _ = policy.validate(&[], &[]);
                    let again = policy.to_toml().map(|t| Policy::from_toml(&t));
                    prop_assert!(matches!(again, Ok(Ok(_))), "round trip failed for {text}");
                }
                Err(errors) => {
                    prop_assert!(!errors.errors().is_empty());
                    let _ = errors.to_string();
                }
            }
        }
    }
}
