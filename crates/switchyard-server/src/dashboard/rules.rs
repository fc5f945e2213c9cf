//! The Rules page: the routing policy for people. A form for the settings a
//! shop owner changes (ranking, splits, walk-in protection, fallback order,
//! daily capacity, same-day radius), the whole policy as text for the rest,
//! previews on recent orders, shadow mode, activation and rollback. Every
//! change is saved as a new version first; nothing becomes active unseen.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use switchyard_core::routing::{Criterion, FallbackStep, Policy, ProtectionRule, ReleaseConditions, SplitStrategy};
use switchyard_core::{Currency, LocationCode, Money, ServiceLevel};
use switchyard_store::PolicyRecord;

use super::page::{api_page, check_csrf, nav, render, CsrfForm, Nav, PageError, PageForm, PagePath, PageQuery};
use crate::api::{known_references, parse_policy, preview_on_recent};
use crate::compare::{self, ComparisonReport};
use crate::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/rules", get(rules_page))
        .route("/rules/settings", post(save_settings))
        .route("/rules/text", post(save_text))
        .route("/rules/{version}/activate", post(activate))
        .route("/rules/{version}/shadow", post(shadow))
        .route("/rules/shadow/stop", post(shadow_stop))
        .route("/rules/rollback", post(rollback))
}

const CRITERIA: [&str; 5] = ["distance", "priority", "shipping_cost", "stock_depth", "lead_time"];
const STRATEGIES: [&str; 3] = ["always", "above_value", "never"];
/// Blank protection rows offered after the existing ones.
const SPARE_PROTECTION_ROWS: usize = 2;

struct ProtectionRow {
    locations: Vec<(String, bool)>,
    tag: String,
    keep: String,
    min_value: String,
    pickup: bool,
}

#[derive(Template)]
#[template(path = "rules.html")]
struct RulesPage {
    nav: Nav,
    active_version: Option<i64>,
    shadow_version: Option<i64>,
    message: Option<String>,
    error: Option<String>,
    currency: String,
    rank1: Vec<(&'static str, bool)>,
    rank2: Vec<(&'static str, bool)>,
    warehouse_first_tag: String,
    split_strategies: Vec<(&'static str, bool)>,
    split_threshold: String,
    max_shipments: String,
    fallback: String,
    same_day_radius: String,
    capacities: Vec<(String, String)>,
    protections: Vec<ProtectionRow>,
    versions: Vec<PolicyRecord>,
    report: Option<ComparisonReport>,
    report_title: String,
    text: String,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RulesQuery {
    saved: Option<i64>,
    edit: Option<i64>,
    preview: Option<i64>,
    /// What the redirect after an action reports; the text is ours, so a
    /// link cannot put words on the page.
    done: Option<Done>,
    /// The version `done` is about.
    v: Option<i64>,
    /// Set by the page itself (never from the URL).
    #[serde(skip)]
    message: Option<String>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum Done {
    Activated,
    Shadow,
    ShadowStopped,
    RolledBack,
}

impl Done {
    fn message(self, v: Option<i64>) -> String {
        let v = v.map(|v| format!("v{v}")).unwrap_or_else(|| "The version".into());
        match self {
            Done::Activated => format!("Policy {v} is now active."),
            Done::Shadow => format!("{v} runs in shadow."),
            Done::ShadowStopped => "Shadow stopped.".into(),
            Done::RolledBack => "Rolled back to the previous version.".into(),
        }
    }
}

/// "75.00" in `currency` → minor units.
fn parse_major(raw: &str, currency: Currency) -> Result<i64, String> {
    let raw = raw.trim().trim_start_matches('$');
    let exp = currency.exponent() as usize;
    let (whole, frac) = raw.split_once('.').unwrap_or((raw, ""));
    let ok = !whole.is_empty() && whole.bytes().all(|b| b.is_ascii_digit()) && frac.bytes().all(|b| b.is_ascii_digit());
    if !ok || frac.len() > exp || whole.len() > 12 {
        return Err(format!("{raw:?} is not an amount like 75.00"));
    }
    let frac = format!("{frac:0<exp$}");
    format!("{whole}{frac}").parse::<i64>().map_err(|_| format!("{raw:?} is not an amount"))
}

fn format_major(money: Option<Money>) -> String {
    money
        .map(|m| {
            let exp = m.currency().exponent();
            if exp == 0 {
                m.minor().to_string()
            } else {
                let div = 10i64.pow(exp);
                format!("{}.{:0width$}", m.minor() / div, m.minor() % div, width = exp as usize)
            }
        })
        .unwrap_or_default()
}

fn criterion_name(c: &Criterion) -> &'static str {
    match c {
        Criterion::Distance { .. } => "distance",
        Criterion::Priority { .. } => "priority",
        Criterion::ShippingCost { .. } => "shipping_cost",
        Criterion::StockDepth { .. } => "stock_depth",
        Criterion::LeadTime { .. } => "lead_time",
        Criterion::WarehouseFirst { .. } => "warehouse_first",
    }
}

fn criterion(name: &str) -> Option<Criterion> {
    Some(match name {
        "distance" => Criterion::Distance { weight: 1.0 },
        "priority" => Criterion::Priority { weight: 1.0 },
        "shipping_cost" => Criterion::ShippingCost { weight: 1.0 },
        "stock_depth" => Criterion::StockDepth { weight: 1.0 },
        "lead_time" => Criterion::LeadTime { weight: 1.0 },
        _ => return None,
    })
}

async fn page(
    state: &AppState,
    nav: Nav,
    q: RulesQuery,
    error: Option<String>,
    text: Option<String>,
) -> Result<Html<String>, PageError> {
    let active = state.engine.active_policy().await?;
    let shadow = state.engine.shadow_policy().await?;
    let versions = state.engine.list_policies(50).await?;
    let locations: Vec<String> = state.engine.list_locations().await?.into_iter().map(|l| l.code.to_string()).collect();
    // The form shows the version being edited, else the active policy.
    let base_text = match q.edit {
        Some(v) => Some(state.engine.get_policy(v).await?.ok_or_else(|| no_version(v))?.body),
        None => active.as_ref().map(|p| p.body.clone()),
    };
    let policy = base_text.as_deref().and_then(|t| Policy::from_toml(t).ok()).unwrap_or_default();
    let text = text.or(base_text).unwrap_or_else(|| Policy::default().to_toml().unwrap_or_default());
    let currency = policy
        .split
        .min_order_value
        .map(|m| m.currency().to_string())
        .or_else(|| {
            policy.protection.iter().find_map(|p| p.release_to.min_order_value.map(|m| m.currency().to_string()))
        })
        .unwrap_or_else(|| "USD".into());
    let ranked: Vec<&'static str> =
        policy.ranking.criteria.iter().map(criterion_name).filter(|c| *c != "warehouse_first").collect();
    let pick = |i: usize, fallback: &'static str| {
        let chosen = ranked.get(i).copied().unwrap_or(fallback);
        CRITERIA.iter().map(|c| (*c, *c == chosen)).collect::<Vec<_>>()
    };
    let warehouse_first_tag = policy
        .ranking
        .criteria
        .iter()
        .find_map(|c| match c {
            Criterion::WarehouseFirst { tag, .. } => Some(tag.clone()),
            _ => None,
        })
        .unwrap_or_default();
    let mut protections: Vec<ProtectionRow> = policy
        .protection
        .iter()
        .filter(|p| p.sku.is_none() && p.locations.len() == 1)
        .map(|p| ProtectionRow {
            locations: locations.iter().map(|l| (l.clone(), p.locations[0].as_str() == l)).collect(),
            tag: p.tag.clone().unwrap_or_default(),
            keep: p.keep_units.to_string(),
            min_value: format_major(p.release_to.min_order_value),
            pickup: p.release_to.service_levels.contains(&ServiceLevel::Pickup),
        })
        .collect();
    for _ in 0..SPARE_PROTECTION_ROWS {
        protections.push(ProtectionRow {
            locations: locations.iter().map(|l| (l.clone(), false)).collect(),
            tag: String::new(),
            keep: String::new(),
            min_value: String::new(),
            pickup: false,
        });
    }
    let (report, report_title) = match q.preview {
        Some(v) => match state.engine.get_policy(v).await? {
            Some(record) => {
                let (p, _) = parse_policy(Some(record.body), None).map_err(api_page)?;
                (
                    Some(preview_on_recent(state, &p, 50).await.map_err(api_page)?),
                    format!("Preview of v{v} on the last 50 orders"),
                )
            }
            None => return Err(no_version(v)),
        },
        None if shadow.is_some() => {
            let pairs = state.engine.shadow_pairs(100).await?;
            let orders = pairs
                .into_iter()
                .map(|p| {
                    compare::compare(p.order_id, p.external_id, &p.active.trace, &p.shadow.trace, p.shadow.explanation)
                })
                .collect::<Result<Vec<_>, _>>()
                .map_err(api_page)?;
            (Some(compare::report(orders)), "Shadow report: where the shadow version would differ".to_owned())
        }
        None => (None, String::new()),
    };
    let message = q
        .message
        .or(q.done.map(|d| d.message(q.v)))
        .or(q.saved.map(|v| format!("Saved as draft v{v}. Preview it, run it in shadow, or activate it.")));
    render(RulesPage {
        nav,
        active_version: active.map(|p| p.version),
        shadow_version: shadow.map(|p| p.version),
        message,
        error,
        currency,
        rank1: pick(0, "priority"),
        rank2: pick(1, "distance"),
        warehouse_first_tag,
        split_strategies: STRATEGIES.iter().map(|s| (*s, policy.split.strategy.as_str() == *s)).collect(),
        split_threshold: format_major(policy.split.min_order_value),
        max_shipments: policy.split.max_shipments.map(|n| n.to_string()).unwrap_or_default(),
        fallback: policy.fallback.chain.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "),
        same_day_radius: policy.service_levels.same_day_radius_km.map(|r| r.to_string()).unwrap_or_default(),
        capacities: locations
            .iter()
            .map(|l| {
                let cap = LocationCode::parse(l).ok().and_then(|c| policy.eligibility.daily_capacity.get(&c).copied());
                (l.clone(), cap.map(|c| c.to_string()).unwrap_or_default())
            })
            .collect(),
        protections,
        versions,
        report,
        report_title,
        text,
    })
}

fn no_version(v: i64) -> PageError {
    PageError::Status(StatusCode::NOT_FOUND, format!("there is no policy version {v}"))
}

async fn rules_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    PageQuery(q): PageQuery<RulesQuery>,
) -> Result<Html<String>, PageError> {
    let nav = nav(&state, &headers, "rules").await?;
    page(&state, nav, q, None, None).await
}

/// Builds a policy from the settings form on top of the active policy.
fn policy_from_form(base: Policy, f: &HashMap<String, String>) -> Result<Policy, String> {
    let mut p = base;
    let get = |k: &str| f.get(k).map(|v| v.trim()).unwrap_or("");
    let currency =
        p.split.min_order_value.map(|m| m.currency()).or_else(|| Currency::parse("USD").ok()).ok_or("no currency")?;
    // Ranking: the two chosen criteria first, warehouse-first for a tag before them.
    let mut criteria = Vec::new();
    let tag = get("warehouse_first_tag");
    if !tag.is_empty() {
        criteria.push(Criterion::WarehouseFirst { tag: tag.to_owned(), weight: 1.0 });
    }
    for key in ["rank1", "rank2"] {
        let c = criterion(get(key)).ok_or_else(|| format!("unknown ranking criterion {:?}", get(key)))?;
        if !criteria.iter().any(|x| criterion_name(x) == criterion_name(&c)) {
            criteria.push(c);
        }
    }
    for c in std::mem::take(&mut p.ranking.criteria) {
        if !criteria.iter().any(|x| criterion_name(x) == criterion_name(&c)) && criterion_name(&c) != "warehouse_first"
        {
            criteria.push(c);
        }
    }
    p.ranking.criteria = criteria;
    // Splits.
    p.split.strategy = match get("split_strategy") {
        "never" => SplitStrategy::Never,
        "above_value" => SplitStrategy::AboveValue,
        _ => SplitStrategy::Always,
    };
    p.split.min_order_value = match get("split_threshold") {
        "" => None,
        v => Some(Money::new(parse_major(v, currency).map_err(|e| format!("split threshold: {e}"))?, currency)),
    };
    p.split.max_shipments = match get("max_shipments") {
        "" => None,
        v => Some(v.parse().map_err(|_| format!("maximum shipments: {v:?} is not a whole number"))?),
    };
    // Fallback order.
    let mut chain = Vec::new();
    for step in get("fallback").split(',').map(str::trim).filter(|s| !s.is_empty()) {
        chain.push(match step {
            "dropship" => FallbackStep::Dropship,
            "backorder" => FallbackStep::Backorder,
            "hold" => FallbackStep::Hold,
            "auto_cancel" => FallbackStep::AutoCancel,
            other => return Err(format!("fallback: unknown step {other:?} (dropship, backorder, hold, auto_cancel)")),
        });
    }
    p.fallback.chain = chain;
    p.service_levels.same_day_radius_km = match get("same_day_radius_km") {
        "" => None,
        v => Some(v.parse().map_err(|_| format!("same-day radius: {v:?} is not a number"))?),
    };
    // Daily capacity per location.
    p.eligibility.daily_capacity.clear();
    for (k, v) in f {
        if let Some(code) = k.strip_prefix("capacity_") {
            if v.trim().is_empty() {
                continue;
            }
            let code = LocationCode::parse(code).map_err(|e| e.to_string())?;
            let n = v.trim().parse().map_err(|_| format!("capacity of {code}: {v:?} is not a whole number"))?;
            p.eligibility.daily_capacity.insert(code, n);
        }
    }
    // Walk-in protection: the form's rows replace the one-location tag rules.
    p.protection.retain(|r| r.sku.is_some() || r.locations.len() != 1);
    for i in 0.. {
        let Some(loc) = f.get(&format!("protect_location_{i}")) else { break };
        let keep = get(&format!("protect_keep_{i}"));
        if loc.is_empty() || keep.is_empty() {
            continue;
        }
        let tag = get(&format!("protect_tag_{i}"));
        let min_value = get(&format!("protect_value_{i}"));
        p.protection.push(ProtectionRule {
            locations: vec![LocationCode::parse(loc).map_err(|e| e.to_string())?],
            sku: None,
            tag: (!tag.is_empty()).then(|| tag.to_owned()),
            keep_units: keep.parse().map_err(|_| format!("keep units: {keep:?} is not a whole number"))?,
            release_to: ReleaseConditions {
                min_order_value: match min_value {
                    "" => None,
                    v => {
                        Some(Money::new(parse_major(v, currency).map_err(|e| format!("release value: {e}"))?, currency))
                    }
                },
                service_levels: if f.contains_key(&format!("protect_pickup_{i}")) {
                    vec![ServiceLevel::Pickup, ServiceLevel::SameDay]
                } else {
                    vec![]
                },
                channels: vec![],
            },
        });
    }
    Ok(p)
}

/// Parses and validates policy text against today's locations and tags:
/// the policy and its text, or the errors (with line numbers).
async fn check_text(state: &AppState, text: String) -> Result<Result<(Policy, String), String>, PageError> {
    let (policy, text) = match parse_policy(Some(text), None) {
        Ok(p) => p,
        Err(e) => return Ok(Err(e.message)),
    };
    let (locations, tags) = known_references(state).await.map_err(api_page)?;
    Ok(match policy.validate(&locations, &tags) {
        Ok(()) => Ok((policy, text)),
        Err(e) => Err(e.with_lines_from(&text).to_string()),
    })
}

/// Validates and saves policy text as a draft version.
async fn save_draft(state: &AppState, text: String, note: &str, by: &str) -> Result<Result<i64, String>, PageError> {
    let text = match check_text(state, text).await? {
        Ok((_, text)) => text,
        Err(e) => return Ok(Err(e)),
    };
    let record = state.engine.save_policy(&text, note, by).await?;
    Ok(Ok(record.version))
}

async fn save_settings(
    State(state): State<AppState>,
    headers: HeaderMap,
    PageForm(f): PageForm<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let by = check_csrf(&state, &headers, f.get("csrf").map(String::as_str)).await?.by();
    let base = match state.engine.active_policy().await? {
        Some(p) => Policy::from_toml(&p.body).unwrap_or_default(),
        None => Policy::default(),
    };
    let nav = nav(&state, &headers, "rules").await?;
    let policy = match policy_from_form(base, &f) {
        Ok(p) => p,
        Err(e) => {
            return Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                page(&state, nav, RulesQuery::default(), Some(e), None).await?,
            )
                .into_response())
        }
    };
    let text = policy.to_toml().map_err(|e| PageError::Status(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
    match save_draft(&state, text.clone(), f.get("note").map_or("", |s| s.as_str()), &by).await? {
        Ok(v) => Ok(Redirect::to(&format!("/rules?saved={v}&edit={v}")).into_response()),
        Err(e) => {
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page(&state, nav, RulesQuery::default(), Some(e), Some(text)).await?)
                .into_response())
        }
    }
}

#[derive(Deserialize)]
struct TextForm {
    csrf: String,
    toml: String,
    #[serde(default)]
    note: String,
    intent: String,
}

async fn save_text(
    State(state): State<AppState>,
    headers: HeaderMap,
    PageForm(f): PageForm<TextForm>,
) -> Result<Response, PageError> {
    let by = check_csrf(&state, &headers, Some(f.csrf.as_str())).await?.by();
    let nav = nav(&state, &headers, "rules").await?;
    if f.intent == "validate" {
        let result = check_text(&state, f.toml.clone()).await?.err();
        let q = RulesQuery {
            message: result.is_none().then(|| "The policy is valid.".to_owned()),
            ..RulesQuery::default()
        };
        let status = if result.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
        return Ok((status, page(&state, nav, q, result, Some(f.toml)).await?).into_response());
    }
    match save_draft(&state, f.toml.clone(), &f.note, &by).await? {
        Ok(v) => Ok(Redirect::to(&format!("/rules?saved={v}&edit={v}")).into_response()),
        Err(e) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            page(&state, nav, RulesQuery::default(), Some(e), Some(f.toml)).await?,
        )
            .into_response()),
    }
}

/// A saved version must still validate against today's locations and tags
/// before it runs, actively or in shadow.
async fn still_valid(state: &AppState, version: i64) -> Result<(), PageError> {
    let record = state
        .engine
        .get_policy(version)
        .await?
        .ok_or_else(|| PageError::Status(StatusCode::NOT_FOUND, format!("policy v{version} not found")))?;
    match check_text(state, record.body).await? {
        Ok(_) => Ok(()),
        Err(e) => {
            Err(PageError::Status(StatusCode::UNPROCESSABLE_ENTITY, format!("v{version} is no longer valid: {e}")))
        }
    }
}

async fn activate(
    State(state): State<AppState>,
    headers: HeaderMap,
    PagePath(version): PagePath<i64>,
    PageForm(f): PageForm<CsrfForm>,
) -> Result<Response, PageError> {
    let by = check_csrf(&state, &headers, Some(f.csrf.as_str())).await?.by();
    still_valid(&state, version).await?;
    state.engine.activate_policy(version, &by).await?;
    Ok(Redirect::to(&format!("/rules?done=activated&v={version}")).into_response())
}

async fn shadow(
    State(state): State<AppState>,
    headers: HeaderMap,
    PagePath(version): PagePath<i64>,
    PageForm(f): PageForm<CsrfForm>,
) -> Result<Response, PageError> {
    let by = check_csrf(&state, &headers, Some(f.csrf.as_str())).await?.by();
    still_valid(&state, version).await?;
    state.engine.set_shadow_policy(Some(version), &by).await?;
    Ok(Redirect::to(&format!("/rules?done=shadow&v={version}")).into_response())
}

async fn shadow_stop(
    State(state): State<AppState>,
    headers: HeaderMap,
    PageForm(f): PageForm<CsrfForm>,
) -> Result<Response, PageError> {
    let by = check_csrf(&state, &headers, Some(f.csrf.as_str())).await?.by();
    state.engine.set_shadow_policy(None, &by).await?;
    Ok(Redirect::to("/rules?done=shadow_stopped").into_response())
}

async fn rollback(
    State(state): State<AppState>,
    headers: HeaderMap,
    PageForm(f): PageForm<CsrfForm>,
) -> Result<Response, PageError> {
    let by = check_csrf(&state, &headers, Some(f.csrf.as_str())).await?.by();
    state.engine.rollback_policy(&by).await?;
    Ok(Redirect::to("/rules?done=rolled_back").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_parse_in_minor_units() {
        let usd = Currency::parse("USD").expect("usd");
        assert_eq!(parse_major("75", usd), Ok(7500));
        assert_eq!(parse_major("75.5", usd), Ok(7550));
        assert_eq!(parse_major("$0.99", usd), Ok(99));
        assert!(parse_major("7.555", usd).is_err());
        assert!(parse_major("-1", usd).is_err());
        assert!(parse_major("abc", usd).is_err());
        assert_eq!(format_major(Some(Money::new(7550, usd))), "75.50");
    }

    #[test]
    fn the_form_builds_a_valid_policy() {
        let mut f = HashMap::new();
        for (k, v) in [
            ("rank1", "distance"),
            ("rank2", "priority"),
            ("warehouse_first_tag", "high-volume"),
            ("split_strategy", "above_value"),
            ("split_threshold", "75.00"),
            ("max_shipments", "2"),
            ("fallback", "dropship, backorder, hold"),
            ("same_day_radius_km", "40"),
            ("capacity_FLAGSHIP", "40"),
            ("protect_location_0", "FLAGSHIP"),
            ("protect_tag_0", "bestseller"),
            ("protect_keep_0", "2"),
            ("protect_value_0", "75"),
            ("protect_pickup_0", "1"),
            ("protect_location_1", ""),
        ] {
            f.insert(k.to_owned(), v.to_owned());
        }
        let p = policy_from_form(Policy::default(), &f).expect("builds");
        assert!(p.check().is_ok(), "{:?}", p.check());
        assert_eq!(p.split.min_order_value.map(|m| m.minor()), Some(7500));
        assert_eq!(p.protection.len(), 1);
        assert_eq!(criterion_name(&p.ranking.criteria[0]), "warehouse_first");
        assert_eq!(criterion_name(&p.ranking.criteria[1]), "distance");
        let text = p.to_toml().expect("toml");
        assert_eq!(Policy::from_toml(&text).expect("round trip"), p);
        f.insert("fallback".into(), "teleport".into());
        assert!(policy_from_form(Policy::default(), &f).is_err());
    }
}
