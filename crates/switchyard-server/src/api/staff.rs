//! `/staff` and `/tokens` (the owner only; the middleware refuses anyone
//! else with 403 `forbidden`): staff accounts with their own passwords, and
//! scoped API tokens whose secret is shown once.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use switchyard_engine::{StaffDraft, StaffView, TokenView};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiJson, ApiPath};
use crate::error::ErrorBody;
use crate::{ApiError, AppState};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_staff, add_staff))
        .routes(routes!(disable_staff))
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StaffList {
    pub staff: Vec<StaffView>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffBody {
    /// Shown on timelines with the role: "Ana Ruiz (store staff, SHOP1)". At most 50 characters.
    pub name: String,
    /// Signs in with it; unique whatever its case.
    pub email: String,
    /// `owner`, `ops` or `store`.
    pub role: String,
    /// Required for `store` (the location they work at), refused for the others.
    #[serde(default)]
    pub location: Option<String>,
    /// At least 12 characters; stored only as an argon2id hash.
    pub password: String,
}

/// Staff members, by name (at most 500), without password hashes.
#[utoipa::path(get, path = "/staff", tag = "staff",
    responses((status = 200, body = StaffList), (status = 403, body = ErrorBody)))]
async fn list_staff(State(app): State<AppState>) -> Result<Json<StaffList>, ApiError> {
    Ok(Json(StaffList { staff: app.engine.list_staff().await? }))
}

/// Add a staff member (owner only). A taken e-mail address → 409 `invalid_request`; a bad field → 422.
#[utoipa::path(post, path = "/staff", tag = "staff", request_body = StaffBody,
    responses((status = 201, body = StaffView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
async fn add_staff(
    State(app): State<AppState>,
    ApiJson(b): ApiJson<StaffBody>,
) -> Result<(StatusCode, Json<StaffView>), ApiError> {
    let draft = StaffDraft { name: b.name, email: b.email, role: b.role, location: b.location, password: b.password };
    Ok((StatusCode::CREATED, Json(app.engine.create_staff(draft).await?)))
}

/// Disable a staff member: they cannot sign in any more and their open sessions end. Again → no change.
#[utoipa::path(post, path = "/staff/{id}/disable", tag = "staff", params(("id" = String, Path)),
    responses((status = 200, body = StaffView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn disable_staff(State(app): State<AppState>, ApiPath(id): ApiPath<String>) -> Result<Json<StaffView>, ApiError> {
    Ok(Json(app.engine.disable_staff(&id).await?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenList {
    pub tokens: Vec<TokenView>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    /// What the token is for (a till, an integration); names its actions on timelines.
    pub name: String,
    /// `owner`, `ops` or `store`.
    pub role: String,
    /// Required for `store`, refused for the others.
    #[serde(default)]
    pub location: Option<String>,
}

/// A new token: the secret is in this answer only.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    #[serde(flatten)]
    pub token: TokenView,
    /// Send it as `Authorization: Bearer <secret>`. Shown once; only its SHA-256 is stored.
    pub secret: String,
}

/// API tokens, newest first (at most 500); never their secrets.
#[utoipa::path(get, path = "/tokens", tag = "staff",
    responses((status = 200, body = TokenList), (status = 403, body = ErrorBody)))]
async fn list_tokens(State(app): State<AppState>) -> Result<Json<TokenList>, ApiError> {
    Ok(Json(TokenList { tokens: app.engine.list_tokens().await? }))
}

/// Create a scoped API token (owner only); the answer carries its secret, once.
#[utoipa::path(post, path = "/tokens", tag = "staff", request_body = TokenBody,
    responses((status = 201, body = CreatedToken), (status = 403, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
async fn create_token(
    State(app): State<AppState>,
    ApiJson(b): ApiJson<TokenBody>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    let made = app.engine.create_token(&b.name, &b.role, b.location.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(CreatedToken { token: made.token, secret: made.secret })))
}

/// Revoke a token: from now on it gets 401. Again → no change.
#[utoipa::path(delete, path = "/tokens/{id}", tag = "staff", params(("id" = String, Path)),
    responses((status = 200, body = TokenView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn revoke_token(State(app): State<AppState>, ApiPath(id): ApiPath<String>) -> Result<Json<TokenView>, ApiError> {
    Ok(Json(app.engine.revoke_token(&id).await?))
}
