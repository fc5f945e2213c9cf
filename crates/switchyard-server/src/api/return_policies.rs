//! `/return-policies`: return policy versions — validate, save, list, read,
//! activate — and `/return-policy`, the one in force. They mirror the
//! routing policy endpoints: a version is checked when saved and again when
//! activated, so an invalid policy is never in force; with no active
//! version the built-in default applies.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use switchyard_core::returns::ReturnPolicy;
use switchyard_engine::{Code, ReturnPolicyRecord};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::policies::{policy_and_text, ActorBody};
use super::{actor, optional_json, Actor, ApiBytes, ApiJson, ApiPath};
use crate::error::ErrorBody;
use crate::{ApiError, AppState};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(validate_return_policy))
        .routes(routes!(save_return_policy, list_return_policies))
        .routes(routes!(get_return_policy))
        .routes(routes!(activate_return_policy))
        .routes(routes!(return_policy_in_force))
}

/// A return policy, as TOML text or as the same structure in JSON.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnPolicyBody {
    /// The policy as TOML (see the README's Returns section for the format).
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

/// Parses and checks a return policy body; returns it with its TOML text.
fn parse_return_policy(
    toml: Option<String>,
    json: Option<serde_json::Value>,
) -> Result<(ReturnPolicy, String), ApiError> {
    policy_and_text(
        toml,
        json,
        |text| Ok(ReturnPolicy::from_toml(text)?),
        // Deserializing runs the same checks as the TOML parser.
        |value| {
            serde_json::from_value(value)
                .map_err(|e| ApiError::new(Code::InvalidPolicy, format!("the return policy is not valid: {e}")))
        },
        ReturnPolicy::to_toml,
    )
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReturnPolicyView {
    #[serde(flatten)]
    pub record: ReturnPolicyRecord,
    /// The parsed policy as JSON.
    #[schema(value_type = Object)]
    pub policy: serde_json::Value,
}

fn policy_view(record: ReturnPolicyRecord) -> ReturnPolicyView {
    let policy = ReturnPolicy::from_toml(&record.body)
        .ok()
        .and_then(|p| serde_json::to_value(p).ok())
        .unwrap_or(serde_json::Value::Null);
    ReturnPolicyView { record, policy }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReturnPolicyCheck {
    pub valid: bool,
    #[schema(value_type = Object)]
    pub policy: serde_json::Value,
}

/// Check a return policy without saving it. Errors name the line and field
/// (`details`).
#[utoipa::path(post, path = "/return-policies/validate", tag = "returns", request_body = ReturnPolicyBody,
    responses((status = 200, body = ReturnPolicyCheck), (status = 422, body = ErrorBody)))]
async fn validate_return_policy(ApiJson(body): ApiJson<ReturnPolicyBody>) -> Result<Json<ReturnPolicyCheck>, ApiError> {
    let (policy, _) = parse_return_policy(body.toml, body.policy)?;
    let policy = serde_json::to_value(&policy).unwrap_or_default();
    Ok(Json(ReturnPolicyCheck { valid: true, policy }))
}

/// Save a new return policy version (validated; not in force until
/// activated).
#[utoipa::path(post, path = "/return-policies", tag = "returns", request_body = ReturnPolicyBody,
    responses((status = 201, body = ReturnPolicyView), (status = 422, body = ErrorBody)))]
async fn save_return_policy(
    State(app): State<AppState>,
    who: Actor,
    ApiJson(body): ApiJson<ReturnPolicyBody>,
) -> Result<(StatusCode, Json<ReturnPolicyView>), ApiError> {
    let by = actor(&who, &body.by);
    let (_, text) = parse_return_policy(body.toml, body.policy)?;
    let record = app.engine.save_return_policy(&text, &body.note, &by).await?;
    Ok((StatusCode::CREATED, Json(policy_view(record))))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReturnPolicyList {
    pub policies: Vec<ReturnPolicyRecord>,
}

/// Saved return policy versions, newest first.
#[utoipa::path(get, path = "/return-policies", tag = "returns", responses((status = 200, body = ReturnPolicyList)))]
async fn list_return_policies(State(app): State<AppState>) -> Result<Json<ReturnPolicyList>, ApiError> {
    Ok(Json(ReturnPolicyList { policies: app.engine.list_return_policies(100).await? }))
}

/// One saved return policy version.
#[utoipa::path(get, path = "/return-policies/{version}", tag = "returns", params(("version" = i64, Path)),
    responses((status = 200, body = ReturnPolicyView), (status = 404, body = ErrorBody)))]
async fn get_return_policy(
    State(app): State<AppState>,
    ApiPath(version): ApiPath<i64>,
) -> Result<Json<ReturnPolicyView>, ApiError> {
    let found = app.engine.get_return_policy(version).await?;
    let record = found.ok_or_else(|| ApiError::not_found(format!("return policy version {version} not found")))?;
    Ok(Json(policy_view(record)))
}

/// Put a saved version in force (validated again; the previous one stops).
#[utoipa::path(post, path = "/return-policies/{version}/activate", tag = "returns",
    params(("version" = i64, Path)), request_body(content = Option<ActorBody>),
    responses((status = 200, body = ReturnPolicyView), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
async fn activate_return_policy(
    State(app): State<AppState>,
    who: Actor,
    ApiPath(version): ApiPath<i64>,
    ApiBytes(body): ApiBytes,
) -> Result<Json<ReturnPolicyView>, ApiError> {
    let by = actor(&who, &optional_json::<ActorBody>(&body)?.by);
    Ok(Json(policy_view(app.engine.activate_return_policy(version, &by).await?)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReturnPolicyInForce {
    /// The active version; `null` when the built-in default applies.
    pub version: Option<i64>,
    /// The policy in force, as TOML.
    pub toml: String,
}

/// The return policy in force.
#[utoipa::path(get, path = "/return-policy", tag = "returns", responses((status = 200, body = ReturnPolicyInForce)))]
async fn return_policy_in_force(State(app): State<AppState>) -> Result<Json<ReturnPolicyInForce>, ApiError> {
    Ok(Json(match app.engine.active_return_policy().await? {
        Some(p) => ReturnPolicyInForce { version: Some(p.version), toml: p.body },
        None => ReturnPolicyInForce { version: None, toml: ReturnPolicy::default().to_toml().unwrap_or_default() },
    }))
}
