//! `/routing`: routing policy versions — validate, save, list, activate, roll
//! back, run in shadow — and previews of a decision or of a draft policy on
//! recent orders, with the shadow report.
//!
//! A policy is checked twice before it can run: its structure (the core's
//! parser) and its references to today's locations and SKU tags.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use switchyard_core::routing::Policy;
use switchyard_core::LocationCode;
use switchyard_engine::Code;
use switchyard_store::{DecisionView, OrderFilter, OrderView, PolicyRecord};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{
    actor, optional_json, parse_order, Actor, ApiBytes, ApiJson, ApiPath, ApiQuery, CreateOrderBody, OrderLineBody,
    ShipToBody,
};
use crate::compare::{compare, report, ComparisonReport};
use crate::error::ErrorBody;
use crate::{ApiError, AppState};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(validate_policy))
        .routes(routes!(save_policy, list_policies))
        .routes(routes!(get_policy))
        .routes(routes!(activate_policy))
        .routes(routes!(rollback_policy))
        .routes(routes!(active_policy))
        .routes(routes!(set_shadow))
        .routes(routes!(preview_route))
        .routes(routes!(preview_recent))
        .routes(routes!(shadow_report))
}

/// A routing policy, as TOML text or as the same structure in JSON.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyBody {
    /// The policy as TOML (see the routing module docs for the format).
    pub toml: Option<String>,
    /// The policy as JSON.
    #[schema(value_type = Option<Object>)]
    pub policy: Option<serde_json::Value>,
    #[serde(default)]
    pub note: String,
    /// Who saves it; logged.
    #[serde(default)]
    pub by: String,
}

/// The largest policy text accepted.
const MAX_POLICY_BYTES: usize = 256 * 1024;

/// Parses and checks a policy body; returns it with its TOML text.
pub fn parse_policy(toml: Option<String>, json: Option<serde_json::Value>) -> Result<(Policy, String), ApiError> {
    policy_and_text(
        toml,
        json,
        |text| Ok(Policy::from_toml(text)?),
        |value| {
            let policy: Policy = serde_json::from_value(value)
                .map_err(|e| ApiError::new(Code::InvalidPolicy, format!("the routing policy is not valid: {e}")))?;
            policy.check()?;
            Ok(policy)
        },
        Policy::to_toml,
    )
}

/// A policy given as exactly one of TOML text (at most 256 KiB) or the same
/// structure as JSON, with the TOML text to store: the routing and the
/// return policy endpoints both read their bodies through here.
pub(super) fn policy_and_text<P, E: std::fmt::Display>(
    toml: Option<String>,
    json: Option<serde_json::Value>,
    from_toml: impl FnOnce(&str) -> Result<P, ApiError>,
    from_json: impl FnOnce(serde_json::Value) -> Result<P, ApiError>,
    to_toml: impl FnOnce(&P) -> Result<String, E>,
) -> Result<(P, String), ApiError> {
    match (toml, json) {
        (Some(text), None) => {
            if text.len() > MAX_POLICY_BYTES {
                return Err(ApiError::new(Code::InvalidPolicy, "the policy is larger than 256 KiB"));
            }
            Ok((from_toml(&text)?, text))
        }
        (None, Some(value)) => {
            let policy = from_json(value)?;
            let text = to_toml(&policy).map_err(|e| {
                ApiError::new(Code::InvalidPolicy, format!("the policy cannot be written as TOML: {e}"))
            })?;
            Ok((policy, text))
        }
        _ => Err(ApiError::new(Code::InvalidBody, "give the policy as exactly one of `toml` or `policy`")),
    }
}

/// The locations and SKU tags a policy may refer to.
pub(crate) async fn known_references(app: &AppState) -> Result<(Vec<LocationCode>, Vec<String>), ApiError> {
    let locations = app.engine.list_locations().await?.into_iter().map(|l| l.code).collect();
    let mut tags: Vec<String> = app.engine.list_skus().await?.into_iter().flat_map(|s| s.tags).collect();
    tags.sort();
    tags.dedup();
    Ok((locations, tags))
}

/// Validates a policy completely (structure and references), with the TOML
/// line of every error.
async fn validate_fully(app: &AppState, policy: &Policy, text: &str) -> Result<(), ApiError> {
    let (locations, tags) = known_references(app).await?;
    policy.validate(&locations, &tags).map_err(|e| ApiError::from(e.with_lines_from(text)))
}

/// A saved version, or 404.
async fn saved_policy(app: &AppState, version: i64) -> Result<PolicyRecord, ApiError> {
    app.engine
        .get_policy(version)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("policy version {version} not found")))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyView {
    #[serde(flatten)]
    pub record: PolicyRecord,
    /// The parsed policy as JSON.
    #[schema(value_type = Object)]
    pub policy: serde_json::Value,
}

fn policy_view(record: PolicyRecord) -> PolicyView {
    let policy = Policy::from_toml(&record.body)
        .ok()
        .and_then(|p| serde_json::to_value(p).ok())
        .unwrap_or(serde_json::Value::Null);
    PolicyView { record, policy }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ValidationView {
    pub valid: bool,
    #[schema(value_type = Object)]
    pub policy: serde_json::Value,
}

/// Check a policy without saving it. Errors name the line and field.
#[utoipa::path(post, path = "/routing/policies/validate", tag = "routing", request_body = PolicyBody,
    responses((status = 200, body = ValidationView), (status = 422, body = ErrorBody)))]
async fn validate_policy(
    State(app): State<AppState>,
    ApiJson(body): ApiJson<PolicyBody>,
) -> Result<Json<ValidationView>, ApiError> {
    let (policy, text) = parse_policy(body.toml, body.policy)?;
    validate_fully(&app, &policy, &text).await?;
    let policy = serde_json::to_value(&policy).unwrap_or_default();
    Ok(Json(ValidationView { valid: true, policy }))
}

/// Save a new policy version (validated; not active until activated).
#[utoipa::path(post, path = "/routing/policies", tag = "routing", request_body = PolicyBody,
    responses((status = 201, body = PolicyView), (status = 422, body = ErrorBody)))]
async fn save_policy(
    State(app): State<AppState>,
    who: Actor,
    ApiJson(body): ApiJson<PolicyBody>,
) -> Result<(StatusCode, Json<PolicyView>), ApiError> {
    let by = actor(&who, &body.by);
    let (policy, text) = parse_policy(body.toml, body.policy)?;
    validate_fully(&app, &policy, &text).await?;
    let record = app.engine.save_policy(&text, &body.note, &by).await?;
    Ok((StatusCode::CREATED, Json(policy_view(record))))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyList {
    pub policies: Vec<PolicyRecord>,
}

/// Saved policy versions, newest first.
#[utoipa::path(get, path = "/routing/policies", tag = "routing", responses((status = 200, body = PolicyList)))]
async fn list_policies(State(app): State<AppState>) -> Result<Json<PolicyList>, ApiError> {
    Ok(Json(PolicyList { policies: app.engine.list_policies(100).await? }))
}

/// One saved policy version.
#[utoipa::path(get, path = "/routing/policies/{version}", tag = "routing", params(("version" = i64, Path)),
    responses((status = 200, body = PolicyView), (status = 404, body = ErrorBody)))]
async fn get_policy(State(app): State<AppState>, ApiPath(version): ApiPath<i64>) -> Result<Json<PolicyView>, ApiError> {
    Ok(Json(policy_view(saved_policy(&app, version).await?)))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActorBody {
    #[serde(default)]
    pub by: String,
}

/// Make a saved version the active policy. It is validated again against
/// today's locations and tags: an invalid policy never becomes active.
#[utoipa::path(post, path = "/routing/policies/{version}/activate", tag = "routing", params(("version" = i64, Path)),
    request_body(content = Option<ActorBody>),
    responses((status = 200, body = PolicyView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn activate_policy(
    State(app): State<AppState>,
    who: Actor,
    ApiPath(version): ApiPath<i64>,
    ApiBytes(body): ApiBytes,
) -> Result<Json<PolicyView>, ApiError> {
    let by = actor(&who, &optional_json::<ActorBody>(&body)?.by);
    let record = saved_policy(&app, version).await?;
    let (policy, text) = parse_policy(Some(record.body), None)?;
    validate_fully(&app, &policy, &text).await?;
    let record = app.engine.activate_policy(version, &by).await?;
    Ok(Json(policy_view(record)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ActivePolicyView {
    /// The active version; `null` when the built-in default applies.
    pub version: Option<i64>,
    /// The policy in force, as TOML.
    pub toml: String,
    /// The version running in shadow, if any.
    pub shadow_version: Option<i64>,
}

async fn active_view(app: &AppState) -> Result<ActivePolicyView, ApiError> {
    let shadow_version = app.engine.shadow_policy().await?.map(|p| p.version);
    Ok(match app.engine.active_policy().await? {
        Some(p) => ActivePolicyView { version: Some(p.version), toml: p.body, shadow_version },
        None => {
            ActivePolicyView { version: None, toml: Policy::default().to_toml().unwrap_or_default(), shadow_version }
        }
    })
}

/// Go back to the previously active policy (or the built-in default).
#[utoipa::path(post, path = "/routing/rollback", tag = "routing", request_body(content = Option<ActorBody>),
    responses((status = 200, body = ActivePolicyView), (status = 409, body = ErrorBody)))]
async fn rollback_policy(
    State(app): State<AppState>,
    who: Actor,
    ApiBytes(body): ApiBytes,
) -> Result<Json<ActivePolicyView>, ApiError> {
    let by = actor(&who, &optional_json::<ActorBody>(&body)?.by);
    app.engine.rollback_policy(&by).await?;
    Ok(Json(active_view(&app).await?))
}

/// The policy in force.
#[utoipa::path(get, path = "/routing/policy", tag = "routing", responses((status = 200, body = ActivePolicyView)))]
async fn active_policy(State(app): State<AppState>) -> Result<Json<ActivePolicyView>, ApiError> {
    Ok(Json(active_view(&app).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShadowBody {
    /// The version to run in shadow; `null` stops shadowing.
    pub version: Option<i64>,
    #[serde(default)]
    pub by: String,
}

/// Run a saved version in shadow beside the active one (every order gets
/// both decisions recorded; only the active one reserves), or stop.
#[utoipa::path(post, path = "/routing/shadow", tag = "routing", request_body = ShadowBody,
    responses(
        (status = 200, body = ActivePolicyView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)
    ))]
async fn set_shadow(
    State(app): State<AppState>,
    who: Actor,
    ApiJson(body): ApiJson<ShadowBody>,
) -> Result<Json<ActivePolicyView>, ApiError> {
    let by = actor(&who, &body.by);
    if let Some(v) = body.version {
        let record = saved_policy(&app, v).await?;
        let (policy, text) = parse_policy(Some(record.body), None)?;
        validate_fully(&app, &policy, &text).await?;
    }
    app.engine.set_shadow_policy(body.version, &by).await?;
    Ok(Json(active_view(&app).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewBody {
    pub order: CreateOrderBody,
    /// A draft policy as TOML; without one (or `policy`) the active policy.
    pub toml: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub policy: Option<serde_json::Value>,
}

/// The decision and its explanation for an order, without reserving
/// anything; with a draft policy or the active one.
#[utoipa::path(post, path = "/routing/preview", tag = "routing", request_body = PreviewBody,
    responses((status = 200, body = DecisionView), (status = 422, body = ErrorBody)))]
async fn preview_route(
    State(app): State<AppState>,
    ApiJson(body): ApiJson<PreviewBody>,
) -> Result<Json<DecisionView>, ApiError> {
    let order = parse_order(body.order)?;
    let draft = if body.toml.is_some() || body.policy.is_some() {
        let (policy, text) = parse_policy(body.toml, body.policy)?;
        validate_fully(&app, &policy, &text).await?;
        Some(policy)
    } else {
        None
    };
    Ok(Json(app.engine.preview_route(&order, draft.as_ref()).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitParams {
    pub limit: Option<i64>,
}

/// How the shadow policy's decisions differ from the active ones, over the
/// latest orders that got both.
#[utoipa::path(get, path = "/routing/shadow/report", tag = "routing",
    params(("limit" = Option<i64>, Query, description = "Orders, 1–500 (default 100)")),
    responses((status = 200, body = crate::compare::ComparisonReport)))]
async fn shadow_report(
    State(app): State<AppState>,
    ApiQuery(p): ApiQuery<LimitParams>,
) -> Result<Json<ComparisonReport>, ApiError> {
    let limit = switchyard_core::intake::page_limit(p.limit, 100, switchyard_core::intake::MAX_PAGE_LIMIT)?;
    let pairs = app.engine.shadow_pairs(limit).await?;
    let orders = pairs
        .into_iter()
        .map(|p| compare(p.order_id, p.external_id, &p.active.trace, &p.shadow.trace, p.shadow.explanation))
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok(Json(report(orders)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewRecentBody {
    pub toml: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub policy: Option<serde_json::Value>,
    /// How many of the latest orders (default 50, at most 200).
    pub limit: Option<i64>,
}

/// Run a draft policy over the latest orders (against today's stock,
/// reserving nothing) and compare with the decisions they got.
#[utoipa::path(post, path = "/routing/preview/recent", tag = "routing", request_body = PreviewRecentBody,
    responses((status = 200, body = crate::compare::ComparisonReport), (status = 422, body = ErrorBody)))]
async fn preview_recent(
    State(app): State<AppState>,
    ApiJson(body): ApiJson<PreviewRecentBody>,
) -> Result<Json<ComparisonReport>, ApiError> {
    let limit = body.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::new(Code::InvalidBody, "limit must be between 1 and 200"));
    }
    let (policy, text) = parse_policy(body.toml, body.policy)?;
    validate_fully(&app, &policy, &text).await?;
    Ok(Json(preview_on_recent(&app, &policy, limit).await?))
}

/// The comparison behind `preview_recent` (shared with the Rules page).
pub async fn preview_on_recent(app: &AppState, policy: &Policy, limit: i64) -> Result<ComparisonReport, ApiError> {
    let page = app.engine.list_orders(&OrderFilter { limit, ..OrderFilter::default() }).await?;
    let mut orders = Vec::new();
    for summary in page.orders {
        let Some(order) = app.engine.get_order(&summary.id).await? else { continue };
        let Some(current) = order.routing.as_ref().and_then(|d| d.iter().find(|d| !d.shadow)).cloned() else {
            continue;
        };
        let Ok(new_order) = parse_order(order_body(&order)) else { continue };
        let candidate = app.engine.preview_route(&new_order, Some(policy)).await?;
        orders.push(compare(order.id, order.external_id, &current.trace, &candidate.trace, candidate.explanation)?);
    }
    Ok(report(orders))
}

/// A stored order as the body that would create it again.
fn order_body(o: &OrderView) -> CreateOrderBody {
    CreateOrderBody {
        channel: o.channel.clone(),
        external_id: o.external_id.clone(),
        currency: o.currency.clone(),
        lines: o
            .lines
            .iter()
            .map(|l| OrderLineBody {
                sku: l.sku.clone(),
                quantity: l.quantity,
                unit_price: l.unit_price,
                currency: None,
            })
            .collect(),
        ship_to: ShipToBody {
            name: o.ship_to.name.clone(),
            line1: o.ship_to.line1.clone(),
            city: o.ship_to.city.clone(),
            region: o.ship_to.region.clone(),
            postal_code: o.ship_to.postal_code.clone(),
            country: o.ship_to.country.clone(),
            lat: o.ship_to.lat,
            lon: o.ship_to.lon,
        },
        service_level: Some(o.service_level.clone()),
        pickup_location: o.pickup_location.clone(),
        payment: Some(o.payment.clone()),
        // A preview never notifies anyone.
        email: None,
    }
}
