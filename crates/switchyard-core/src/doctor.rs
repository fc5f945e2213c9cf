//! Catalogue health (`switchyard doctor`, the dashboard's "Catalogue health"
//! panel): pure checks over facts the engine read, each finding with its fix
//! in plain words.
//!
//! What is checked, and how far:
//!
//! - **Near-duplicate SKU codes**: codes equal once case, whitespace and
//!   punctuation are ignored (`TEE-RED-M`, `tee_red_m`, `TEE RED M`).
//! - **Near-duplicate titles**: titles equal on their letters and digits
//!   alone (case folded: `Blue Mug 12oz`, `blue mug, 12 OZ`), and titles
//!   whose words are the same but for a typo: at most [`MAX_TYPO_WORDS`]
//!   words differ, each by one edit, each at least [`MIN_TYPO_CHARS`] long
//!   and without digits (so `Wool hat S` and `Wool hat M`, or `Mug 1200`
//!   and `Mug 1201`, are variants, not duplicates). The comparison is
//!   bounded work: each title is compared with its [`NEIGHBOURS`] next
//!   neighbours in the sorted order of its letters, and again in the order
//!   of its letters reversed (so a typo near the start or the end is found);
//!   a typo in the middle of two titles far apart in both orders can be
//!   missed.
//! - **No stock that still sells**: a SKU ordered in the window (a bundle:
//!   any of its components) with no unit on hand at any location.
//! - **Locations**: active ones without coordinates (distances to them are
//!   estimated from postal codes), or whose address fails the intake address
//!   check ([`crate::address::check`]).
//! - **Unmapped channel SKUs**: order lines held because the channel's SKU is
//!   not ours (held `unmapped:` stand-ins are shown as the channel wrote them).
//! - **Routing policies** in force (active, shadow) naming locations or tags
//!   that no longer exist ([`Policy::validate`]'s reference checks, with the
//!   TOML line).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::catalog::SkuDef;
use crate::location::Location;
use crate::order::ShipTo;
use crate::routing::{Policy, PolicyProblem};

/// Titles are compared with this many neighbours in each sorted order.
pub const NEIGHBOURS: usize = 4;
/// Titles are cut to this many characters before they are compared.
pub const TITLE_CHARS: usize = 120;
/// The most words two titles may differ in (by a typo each).
pub const MAX_TYPO_WORDS: usize = 2;
/// A word shorter than this is never taken for a typo of another.
pub const MIN_TYPO_CHARS: usize = 4;

/// What the engine read for the checks.
#[derive(Debug, Clone, Default)]
pub struct CatalogueFacts {
    pub skus: Vec<SkuDef>,
    pub locations: Vec<Location>,
    /// Units on hand per SKU summed over every location (a SKU without any
    /// stock row is absent).
    pub on_hand: BTreeMap<String, i64>,
    /// SKUs of ours ordered in the window: (SKU, orders).
    pub recently_ordered: Vec<(String, i64)>,
    pub window_days: i64,
    /// Lines held because their SKU is not ours: (channel, SKU as held, orders).
    pub held: Vec<(String, String, i64)>,
    /// The routing policies in force: (what it is, e.g. `active policy v3`; its TOML).
    pub policies: Vec<(String, String)>,
}

/// Which check a finding comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    DuplicateSku,
    SimilarTitles,
    NoStockStillSells,
    LocationWithoutCoordinates,
    LocationBadAddress,
    UnmappedChannelSku,
    PolicyUnknownLocation,
    PolicyUnknownTag,
    PolicyUnreadable,
}

impl FindingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DuplicateSku => "duplicate_sku",
            Self::SimilarTitles => "similar_titles",
            Self::NoStockStillSells => "no_stock_still_sells",
            Self::LocationWithoutCoordinates => "location_without_coordinates",
            Self::LocationBadAddress => "location_bad_address",
            Self::UnmappedChannelSku => "unmapped_channel_sku",
            Self::PolicyUnknownLocation => "policy_unknown_location",
            Self::PolicyUnknownTag => "policy_unknown_tag",
            Self::PolicyUnreadable => "policy_unreadable",
        }
    }
}

/// One problem: what it is about, what is wrong, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub kind: FindingKind,
    /// The SKU(s), location, channel SKU or policy concerned.
    pub subject: String,
    pub problem: String,
    pub fix: String,
}

/// Every check's findings, in check order, then by subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HealthReport {
    pub skus_checked: usize,
    pub locations_checked: usize,
    pub policies_checked: usize,
    pub window_days: i64,
    pub findings: Vec<Finding>,
}

impl HealthReport {
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }
}

/// Runs every check.
pub fn check(f: &CatalogueFacts) -> HealthReport {
    let mut findings = Vec::new();
    duplicate_skus(&f.skus, &mut findings);
    similar_titles(&f.skus, &mut findings);
    no_stock_still_sells(f, &mut findings);
    locations(&f.locations, &mut findings);
    unmapped(&f.held, &mut findings);
    policies(f, &mut findings);
    HealthReport {
        skus_checked: f.skus.len(),
        locations_checked: f.locations.len(),
        policies_checked: f.policies.len(),
        window_days: f.window_days,
        findings,
    }
}

/// Letters and digits only, upper case: `tee_red m` → `TEERED M` → `TEEREDM`.
pub fn sku_key(sku: &str) -> String {
    sku.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_uppercase).collect()
}

/// Letters and digits only, lower case: `Blue Mug, 12 oz.` → `bluemug12oz`.
pub fn title_key(title: &str) -> String {
    title.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

fn duplicate_skus(skus: &[SkuDef], out: &mut Vec<Finding>) {
    let mut groups: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for s in skus {
        groups.entry(sku_key(s.sku.as_str())).or_default().push(s.sku.as_str());
    }
    for codes in groups.values_mut().filter(|g| g.len() > 1) {
        codes.sort_unstable();
        out.push(Finding {
            kind: FindingKind::DuplicateSku,
            subject: codes.join(", "),
            problem: "these SKU codes differ only in case, spaces or punctuation: probably one product".into(),
            fix: format!(
                "Keep one code: move the stock to it (Inventory), map the others' channel SKUs to it \
                 (Channels → SKU map), and stop using {}.",
                codes[1..].join(", ")
            ),
        });
    }
}

fn similar_titles(skus: &[SkuDef], out: &mut Vec<Finding>) {
    // SKUs already reported as one code are not reported again for their titles.
    let codes: Vec<String> = skus.iter().map(|s| sku_key(s.sku.as_str())).collect();
    let same_code = |a: usize, b: usize| codes[a] == codes[b];
    let cut = |t: &str| t.chars().take(TITLE_CHARS).collect::<String>();
    let keys: Vec<String> = skus.iter().map(|s| title_key(&cut(&s.title))).collect();
    let words: Vec<Vec<Vec<char>>> = skus.iter().map(|s| title_words(&cut(&s.title))).collect();
    let mut equal: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, k) in keys.iter().enumerate().filter(|(_, k)| !k.is_empty()) {
        equal.entry(k.as_str()).or_default().push(i);
    }
    for group in equal.values().filter(|g| g.len() > 1) {
        if group.iter().all(|i| same_code(group[0], *i)) {
            continue;
        }
        let mut codes: Vec<&str> = group.iter().map(|i| skus[*i].sku.as_str()).collect();
        codes.sort_unstable();
        out.push(Finding {
            kind: FindingKind::SimilarTitles,
            subject: codes.join(", "),
            problem: format!("the same title ({:?}) under different SKUs", skus[group[0]].title),
            fix: "If they are one product, keep one SKU and map the others' channel SKUs to it; if not, give \
                  each a title that tells them apart."
                .into(),
        });
    }
    // Near, not equal: neighbours in two sorted orders.
    let mut pairs: BTreeSet<(usize, usize)> = BTreeSet::new();
    let reversed: Vec<String> = keys.iter().map(|k| k.chars().rev().collect()).collect();
    for order in [&keys, &reversed] {
        let mut sorted: Vec<usize> = (0..skus.len()).filter(|i| !keys[*i].is_empty()).collect();
        sorted.sort_by(|a, b| order[*a].cmp(&order[*b]));
        for (n, a) in sorted.iter().enumerate() {
            for b in sorted.iter().skip(n + 1).take(NEIGHBOURS) {
                let (a, b) = (*a.min(b), *a.max(b));
                if keys[a] != keys[b] && !same_code(a, b) && typos_apart(&words[a], &words[b]) {
                    pairs.insert((a, b));
                }
            }
        }
    }
    for (a, b) in pairs {
        let (first, second) = if skus[a].sku <= skus[b].sku { (a, b) } else { (b, a) };
        out.push(Finding {
            kind: FindingKind::SimilarTitles,
            subject: format!("{}, {}", skus[first].sku, skus[second].sku),
            problem: format!("nearly the same title: {:?} and {:?}", skus[a].title, skus[b].title),
            fix: "If they are one product, keep one SKU and map the other's channel SKUs to it; if not, make \
                  the titles tell them apart."
                .into(),
        });
    }
}

/// A title's words: runs of letters and digits, lower case.
fn title_words(title: &str) -> Vec<Vec<char>> {
    title
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.chars().flat_map(char::to_lowercase).collect())
        .collect()
}

/// The same words but for one to [`MAX_TYPO_WORDS`] typos: words at the same
/// place, each pair equal or, both at least [`MIN_TYPO_CHARS`] long and
/// without digits, one edit apart.
fn typos_apart(a: &[Vec<char>], b: &[Vec<char>]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut typos = 0;
    for (x, y) in a.iter().zip(b) {
        if x == y {
            continue;
        }
        // A number that differs is another product (`Mug 1200`, `Mug 1201`), not a typo.
        let has_digit = |w: &[char]| w.iter().any(|c| c.is_numeric());
        if x.len().min(y.len()) < MIN_TYPO_CHARS || has_digit(x) || has_digit(y) || !edits_within(x, y, 1) {
            return false;
        }
        typos += 1;
    }
    (1..=MAX_TYPO_WORDS).contains(&typos)
}

/// Whether the Levenshtein distance between `a` and `b` is at most `limit`
/// (one row at a time; stops once every cell of a row is over the limit).
pub fn edits_within(a: &[char], b: &[char], limit: usize) -> bool {
    if a.len().abs_diff(b.len()) > limit {
        return false;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut row = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = prev[j] + usize::from(ca != cb);
            row[j + 1] = substitute.min(prev[j + 1] + 1).min(row[j] + 1);
        }
        if row.iter().all(|d| *d > limit) {
            return false;
        }
        std::mem::swap(&mut prev, &mut row);
    }
    prev[b.len()] <= limit
}

fn no_stock_still_sells(f: &CatalogueFacts, out: &mut Vec<Finding>) {
    let defs: BTreeMap<&str, &SkuDef> = f.skus.iter().map(|s| (s.sku.as_str(), s)).collect();
    let on_hand = |sku: &str| f.on_hand.get(sku).copied().unwrap_or(0);
    for (sku, orders) in &f.recently_ordered {
        let Some(def) = defs.get(sku.as_str()) else { continue };
        let empty: Vec<&str> = if def.components.is_empty() {
            vec![sku.as_str()].into_iter().filter(|s| on_hand(s) <= 0).collect()
        } else {
            def.components.iter().map(|c| c.sku.as_str()).filter(|s| on_hand(s) <= 0).collect()
        };
        if empty.is_empty() {
            continue;
        }
        let what = if def.components.is_empty() {
            "no unit on hand at any location".to_owned()
        } else {
            format!("its component(s) {} have no unit on hand at any location", empty.join(", "))
        };
        let waits = if def.allow_backorder { " It allows backorders, so these orders wait." } else { "" };
        out.push(Finding {
            kind: FindingKind::NoStockStillSells,
            subject: sku.clone(),
            problem: format!("ordered in {orders} order(s) in the last {} day(s), but {what}.{waits}", f.window_days),
            fix: format!(
                "Receive or count stock of {} (Inventory), or take {sku} off the channels that sell it (their \
                 SKU scope) until it is back.",
                empty.join(", ")
            ),
        });
    }
}

fn locations(locations: &[Location], out: &mut Vec<Finding>) {
    for l in locations.iter().filter(|l| l.active) {
        if l.lat.is_none() || l.lon.is_none() {
            out.push(Finding {
                kind: FindingKind::LocationWithoutCoordinates,
                subject: l.code.to_string(),
                problem: "no coordinates: distances to it are only estimated from postal codes".into(),
                fix: format!(
                    "Edit location {} (Locations) and enter its latitude and longitude (a US ZIP code fills \
                     them in when they are left blank).",
                    l.code
                ),
            });
        }
        let ship_to = ShipTo {
            name: l.name.clone(),
            line1: l.address.line1.clone(),
            city: l.address.city.clone(),
            region: l.address.region.clone(),
            postal_code: l.address.postal_code.clone(),
            country: l.address.country.clone(),
            lat: l.lat,
            lon: l.lon,
        };
        let problems = crate::address::check(&ship_to);
        if !problems.is_empty() {
            let words: Vec<String> = problems.iter().map(ToString::to_string).collect();
            out.push(Finding {
                kind: FindingKind::LocationBadAddress,
                subject: l.code.to_string(),
                problem: format!("its address fails the address check: {}", words.join("; ")),
                fix: format!("Edit location {} (Locations) and correct its address.", l.code),
            });
        }
    }
}

fn unmapped(held: &[(String, String, i64)], out: &mut Vec<Finding>) {
    for (channel, sku, orders) in held {
        let shown = crate::channel::channel_sku_of(sku).unwrap_or_else(|| sku.clone());
        out.push(Finding {
            kind: FindingKind::UnmappedChannelSku,
            subject: format!("{channel}: {shown:?}"),
            problem: format!("{channel} sells {shown:?}, which is not one of our SKUs: {orders} order(s) wait on hold"),
            fix: format!(
                "Map {shown:?} to one of our SKUs on {channel}'s page (Channels → {channel} → SKU map); the \
                 waiting orders are routed at once."
            ),
        });
    }
}

fn policies(f: &CatalogueFacts, out: &mut Vec<Finding>) {
    let codes: Vec<_> = f.locations.iter().map(|l| l.code.clone()).collect();
    let mut tags: Vec<String> = f.skus.iter().flat_map(|s| s.tags.iter().cloned()).collect();
    tags.sort();
    tags.dedup();
    for (label, text) in &f.policies {
        let policy = match Policy::from_toml(text) {
            Ok(p) => p,
            Err(e) => {
                out.push(Finding {
                    kind: FindingKind::PolicyUnreadable,
                    subject: label.clone(),
                    problem: format!("it no longer reads as a policy: {e}"),
                    fix: "Open it on the Rules page, correct the text, save it and activate the new version.".into(),
                });
                continue;
            }
        };
        let Err(errors) = policy.validate(&codes, &tags) else { continue };
        for e in errors.with_lines_from(text).into_vec() {
            let (kind, what) = match &e.problem {
                PolicyProblem::UnknownLocation { location } => {
                    (FindingKind::PolicyUnknownLocation, format!("location {location}"))
                }
                PolicyProblem::UnknownTag { tag } => (FindingKind::PolicyUnknownTag, format!("tag {tag:?}")),
                _ => continue,
            };
            out.push(Finding {
                kind,
                subject: label.clone(),
                problem: format!("{e}: no {what} exists any more, so this rule applies to nothing"),
                fix: format!(
                    "On the Rules page, change the rule to name an existing {} (or remove it), save and \
                     activate the new version.",
                    if kind == FindingKind::PolicyUnknownTag { "tag" } else { "location" }
                ),
            });
        }
    }
}

#[cfg(test)]
mod tests;
