//! Parsing and checking a [`ReturnPolicy`], with errors that name the field
//! path and, when the policy came from TOML, the line.
//!
//! Three layers, each collecting every problem it finds rather than stopping
//! at the first:
//! 1. syntax and shape (TOML grammar, unknown fields, wrong types, an
//!    unknown condition, refund method or payer) — the TOML deserializer's
//!    message with its position;
//! 2. reason codes, read as text and turned into [`ReturnReason`]s, so an
//!    unknown code is [`ReturnPolicyProblem::UnknownReason`] at its place;
//! 3. [`ReturnPolicy::check`]: negative or too long windows, a percentage
//!    over 100 %, negative amounts, amounts in different currencies, empty
//!    lists and tags, channel codes that collide once case and punctuation
//!    are ignored.
//!
//! Deserializing a `ReturnPolicy` with serde (JSON from the store) runs the
//! same layers, so a `ReturnPolicy` read from anywhere has passed them.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::destination::ReturnDestination;
use super::policy::{
    default_reasons, normalise, FinalSale, ReasonMapping, ReasonRule, RefundRules, RestockingFee, ReturnPolicy,
    ReturnReason, WindowRules, BASIS_POINTS, MAX_WINDOW_DAYS,
};
use crate::field_path::{line_and_column, FieldPath, KeyIndex};
use crate::ids::{ChannelName, Sku};
use crate::money::Currency;

/// What is wrong with a field. A closed list, so the API can map each to a
/// stable code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReturnPolicyProblem {
    /// TOML grammar, an unknown field, or a wrong type.
    #[error("{message}")]
    Syntax { message: String },
    #[error(
        "unknown return reason {code:?} (expected one of wrong_size, damaged_in_transit, defective, \
         not_as_described, wrong_item, changed_mind, late_delivery, other)"
    )]
    UnknownReason { code: String },
    #[error("must not be negative (got {value})")]
    Negative { value: i64 },
    #[error("must be at most {max} (got {value})")]
    TooLarge { value: i64, max: i64 },
    #[error("must be at most 10000 basis points, i.e. 100% (got {basis_points})")]
    PercentOver100 { basis_points: i64 },
    #[error("all amounts in a return policy must use one currency (expected {expected}, found {found})")]
    CurrencyMismatch { expected: Currency, found: Currency },
    #[error("must not be empty")]
    Empty,
    #[error("{what} appears more than once")]
    Duplicate { what: String },
    /// A location the catalogue does not know (checked by the engine at
    /// save and activation: see `ReturnPolicy::check_locations`).
    #[error("unknown location {code:?}")]
    UnknownLocation { code: String },
}

/// One problem: where, what, and the TOML position when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnPolicyError {
    pub path: FieldPath,
    /// 1-based line in the TOML text, when the policy came from TOML.
    pub line: Option<usize>,
    /// 1-based column (characters) in that line.
    pub column: Option<usize>,
    pub problem: ReturnPolicyProblem,
}

impl ReturnPolicyError {
    fn new(path: FieldPath, problem: ReturnPolicyProblem) -> Self {
        Self { path, line: None, column: None, problem }
    }

    /// A problem at `path` (its line is filled in by
    /// [`ReturnPolicyErrors::with_lines_from`]).
    pub fn at(path: FieldPath, problem: ReturnPolicyProblem) -> Self {
        Self::new(path, problem)
    }
}

impl fmt::Display for ReturnPolicyError {
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

/// Every problem found in a return policy; never empty when returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnPolicyErrors(Vec<ReturnPolicyError>);

impl ReturnPolicyErrors {
    /// Exactly one error.
    pub fn one(error: ReturnPolicyError) -> Self {
        Self(vec![error])
    }

    pub fn errors(&self) -> &[ReturnPolicyError] {
        &self.0
    }
    pub fn into_vec(self) -> Vec<ReturnPolicyError> {
        self.0
    }

    /// Fills in line and column from the TOML text the policy came from.
    pub fn with_lines_from(mut self, toml_text: &str) -> Self {
        if let Some(index) = KeyIndex::build(toml_text) {
            for error in self.0.iter_mut().filter(|e| e.line.is_none()) {
                if let Some(offset) = index.offset_of(&error.path) {
                    let (line, column) = line_and_column(toml_text, offset);
                    error.line = Some(line);
                    error.column = Some(column);
                }
            }
        }
        self
    }

    fn from_vec(errors: Vec<ReturnPolicyError>) -> Result<(), Self> {
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Self(errors))
        }
    }
}

impl fmt::Display for ReturnPolicyErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.0.len();
        write!(f, "the return policy has {count} error{}", if count == 1 { "" } else { "s" })?;
        for error in &self.0 {
            write!(f, "\n  {error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ReturnPolicyErrors {}

/// The policy as written: reason codes still text. Absent `reasons` means
/// the default set (every reason); a present table lists exactly the
/// accepted ones.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawPolicy {
    // First: TOML writes plain values before tables.
    #[serde(skip_serializing_if = "ReturnDestination::is_origin")]
    destination: ReturnDestination,
    window: WindowRules,
    final_sale: RawFinalSale,
    #[serde(skip_serializing_if = "Option::is_none")]
    reasons: Option<BTreeMap<String, ReasonRule>>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    channel_reasons: BTreeMap<ChannelName, RawMapping>,
    refund: RefundRules,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawFinalSale {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    skus: Vec<Sku>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    except_reasons: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawMapping {
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    codes: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    keywords: BTreeMap<String, String>,
}

impl RawPolicy {
    /// The typed policy; each unknown reason code is an error at its place
    /// (and left out, so the checks that follow still run).
    fn into_policy(self, errors: &mut Vec<ReturnPolicyError>) -> ReturnPolicy {
        let root = FieldPath::root();
        let mut reason = |path: FieldPath, code: &str| {
            let parsed = ReturnReason::parse(code);
            if parsed.is_none() {
                errors.push(ReturnPolicyError::new(path, ReturnPolicyProblem::UnknownReason { code: code.to_owned() }));
            }
            parsed
        };
        let reasons = match self.reasons {
            None => default_reasons(),
            Some(raw) => raw
                .into_iter()
                .filter_map(|(code, rule)| reason(root.key("reasons").key(&code), &code).map(|r| (r, rule)))
                .collect(),
        };
        let except_path = root.key("final_sale").key("except_reasons");
        let except_reasons = (self.final_sale.except_reasons.iter().enumerate())
            .filter_map(|(i, code)| reason(except_path.index(i), code))
            .collect();
        let mut channel_reasons = BTreeMap::new();
        for (channel, raw) in self.channel_reasons {
            let path = root.key("channel_reasons").key(channel.as_str());
            let mut table = |kind: &str, entries: BTreeMap<String, String>| -> BTreeMap<String, ReturnReason> {
                (entries.into_iter())
                    .filter_map(|(text, code)| reason(path.key(kind).key(&text), &code).map(|r| (text, r)))
                    .collect()
            };
            let codes = table("codes", raw.codes);
            let keywords = table("keywords", raw.keywords);
            channel_reasons.insert(channel, ReasonMapping { codes, keywords });
        }
        ReturnPolicy {
            destination: self.destination,
            window: self.window,
            final_sale: FinalSale { skus: self.final_sale.skus, tags: self.final_sale.tags, except_reasons },
            reasons,
            channel_reasons,
            refund: self.refund,
        }
    }
}

impl From<ReturnPolicy> for RawPolicy {
    fn from(policy: ReturnPolicy) -> Self {
        let text = |table: BTreeMap<String, ReturnReason>| -> BTreeMap<String, String> {
            table.into_iter().map(|(key, reason)| (key, reason.as_str().to_owned())).collect()
        };
        RawPolicy {
            destination: policy.destination,
            window: policy.window,
            final_sale: RawFinalSale {
                skus: policy.final_sale.skus,
                tags: policy.final_sale.tags,
                except_reasons: policy.final_sale.except_reasons.iter().map(|r| r.as_str().to_owned()).collect(),
            },
            reasons: Some(
                policy.reasons.into_iter().map(|(reason, rule)| (reason.as_str().to_owned(), rule)).collect(),
            ),
            channel_reasons: (policy.channel_reasons.into_iter())
                .map(|(channel, m)| (channel, RawMapping { codes: text(m.codes), keywords: text(m.keywords) }))
                .collect(),
            refund: policy.refund,
        }
    }
}

impl TryFrom<RawPolicy> for ReturnPolicy {
    type Error = ReturnPolicyErrors;

    fn try_from(raw: RawPolicy) -> Result<Self, Self::Error> {
        let mut errors = Vec::new();
        let policy = raw.into_policy(&mut errors);
        policy.check_into(&mut errors);
        ReturnPolicyErrors::from_vec(errors).map(|()| policy)
    }
}

impl ReturnPolicy {
    /// Parses a policy from TOML and checks it; every error carries its
    /// line. Never panics, whatever the text.
    pub fn from_toml(text: &str) -> Result<ReturnPolicy, ReturnPolicyErrors> {
        let raw: RawPolicy = match toml::from_str(text) {
            Ok(raw) => raw,
            Err(error) => return Err(ReturnPolicyErrors(vec![toml_error(text, &error)])),
        };
        ReturnPolicy::try_from(raw).map_err(|errors| errors.with_lines_from(text))
    }

    /// Renders the policy as TOML (for `policy show` and round trips).
    pub fn to_toml(&self) -> Result<String, toml::ser::Error> {
        toml::to_string(self)
    }

    /// The checks that need nothing but the policy itself.
    pub fn check(&self) -> Result<(), ReturnPolicyErrors> {
        let mut errors = Vec::new();
        self.check_into(&mut errors);
        ReturnPolicyErrors::from_vec(errors)
    }

    fn check_into(&self, errors: &mut Vec<ReturnPolicyError>) {
        let root = FieldPath::root();
        let mut push = |path: FieldPath, problem| errors.push(ReturnPolicyError::new(path, problem));

        // Windows.
        let window = root.key("window");
        check_days(window.key("default_days"), self.window.default_days, &mut push);
        for (channel, days) in &self.window.channels {
            check_days(window.key("channels").key(channel.as_str()), *days, &mut push);
        }
        for (tag, days) in &self.window.tags {
            let path = window.key("tags").key(tag);
            if tag.trim().is_empty() {
                push(path.clone(), ReturnPolicyProblem::Empty);
            }
            check_days(path, *days, &mut push);
        }
        for (sku, days) in &self.window.skus {
            check_days(window.key("skus").key(sku.as_str()), *days, &mut push);
        }

        // Final sale.
        for (i, tag) in self.final_sale.tags.iter().enumerate() {
            if tag.trim().is_empty() {
                push(root.key("final_sale").key("tags").index(i), ReturnPolicyProblem::Empty);
            }
        }

        // Reasons.
        if self.reasons.is_empty() {
            push(root.key("reasons"), ReturnPolicyProblem::Empty);
        }
        for (reason, rule) in &self.reasons {
            let path = root.key("reasons").key(reason.as_str());
            match rule.restocking_fee {
                Some(RestockingFee::PercentBp(bp)) => {
                    let path = path.key("restocking_fee").key("percent_bp");
                    if bp < 0 {
                        push(path, ReturnPolicyProblem::Negative { value: bp });
                    } else if bp > BASIS_POINTS {
                        push(path, ReturnPolicyProblem::PercentOver100 { basis_points: bp });
                    }
                }
                // Flat amounts are checked with the other amounts below.
                Some(RestockingFee::Flat(_)) | None => {}
            }
            if let Some(conditions) = &rule.accepted_conditions {
                let path = path.key("accepted_conditions");
                if conditions.is_empty() {
                    push(path.clone(), ReturnPolicyProblem::Empty);
                }
                for (i, condition) in conditions.iter().enumerate() {
                    if conditions[..i].contains(condition) {
                        let what = format!("condition `{condition}`");
                        push(path.index(i), ReturnPolicyProblem::Duplicate { what });
                    }
                }
            }
        }

        // Amounts: none negative, all in one currency.
        let mut expected: Option<Currency> = None;
        for (keys, money) in self.amounts() {
            let path = FieldPath::from_keys(keys.iter().map(String::as_str));
            if money.minor() < 0 {
                push(path.key("minor"), ReturnPolicyProblem::Negative { value: money.minor() });
            }
            match expected {
                None => expected = Some(money.currency()),
                Some(expected) if expected != money.currency() => push(
                    path.key("currency"),
                    ReturnPolicyProblem::CurrencyMismatch { expected, found: money.currency() },
                ),
                Some(_) => {}
            }
        }

        // Channel vocabularies: each entry must mean something and be one
        // entry once case and punctuation are ignored.
        for (channel, mapping) in &self.channel_reasons {
            let path = root.key("channel_reasons").key(channel.as_str());
            for (kind, table) in [("codes", &mapping.codes), ("keywords", &mapping.keywords)] {
                let mut seen: BTreeMap<String, &String> = BTreeMap::new();
                for text in table.keys() {
                    let entry = path.key(kind).key(text);
                    let normal = normalise(text);
                    if normal.is_empty() {
                        push(entry, ReturnPolicyProblem::Empty);
                    } else if let Some(first) = seen.get(&normal) {
                        let what = format!("{text:?} (the same as {first:?} once case and punctuation are ignored)");
                        push(entry, ReturnPolicyProblem::Duplicate { what });
                    } else {
                        seen.insert(normal, text);
                    }
                }
            }
        }
    }
}

fn check_days(path: FieldPath, days: i64, push: &mut impl FnMut(FieldPath, ReturnPolicyProblem)) {
    if days < 0 {
        push(path, ReturnPolicyProblem::Negative { value: days });
    } else if days > MAX_WINDOW_DAYS {
        push(path, ReturnPolicyProblem::TooLarge { value: days, max: MAX_WINDOW_DAYS });
    }
}

/// A deserializer error as a `ReturnPolicyError` with the line, column and
/// the field path recovered from the span.
fn toml_error(text: &str, error: &toml::de::Error) -> ReturnPolicyError {
    let message = error.message().trim().to_owned();
    let mut result = ReturnPolicyError::new(FieldPath::root(), ReturnPolicyProblem::Syntax { message });
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
