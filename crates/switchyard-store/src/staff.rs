//! Staff accounts (`staff`) and scoped API tokens (`api_tokens`): rows in,
//! rows out. Who may do what is the core's (`switchyard_core::staff`);
//! hashing passwords and making secrets is the engine's.

use serde::Serialize;
#[cfg(feature = "openapi")]
use utoipa::ToSchema;

use crate::db::{Row, Tx};
use crate::{args, rfc3339, StoreError};

/// A stored staff member, password hash included (never serialized).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffRecord {
    pub id: String,
    pub name: String,
    pub email: String,
    pub password_hash: String,
    pub role: String,
    pub location: Option<String>,
    pub created_at: i64,
    pub disabled_at: Option<i64>,
}

/// A staff member as lists and the API show them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct StaffView {
    pub id: String,
    pub name: String,
    pub email: String,
    /// `owner`, `ops` or `store`.
    pub role: String,
    /// The location of a store staff member.
    pub location: Option<String>,
    pub created_at: String,
    /// When they were disabled (they can no longer sign in).
    pub disabled_at: Option<String>,
}

/// A stored API token (the secret itself is never stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub id: String,
    pub name: String,
    pub secret_hash: String,
    pub role: String,
    pub location: Option<String>,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

/// An API token as lists and the API show it: never its secret or hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TokenView {
    pub id: String,
    pub name: String,
    pub role: String,
    pub location: Option<String>,
    pub created_at: String,
    pub revoked_at: Option<String>,
    pub last_used_at: Option<String>,
}

const STAFF_COLUMNS: &str = "id, name, email, password_hash, role, location, created_at, disabled_at";
const TOKEN_COLUMNS: &str = "id, name, secret_hash, role, location, created_at, revoked_at, last_used_at";

fn staff_row(r: &Row) -> Result<StaffRecord, StoreError> {
    Ok(StaffRecord {
        id: r.string(0)?,
        name: r.string(1)?,
        email: r.string(2)?,
        password_hash: r.string(3)?,
        role: r.string(4)?,
        location: r.opt_string(5)?,
        created_at: r.i64(6)?,
        disabled_at: r.opt_i64(7)?,
    })
}

fn token_row(r: &Row) -> Result<TokenRecord, StoreError> {
    Ok(TokenRecord {
        id: r.string(0)?,
        name: r.string(1)?,
        secret_hash: r.string(2)?,
        role: r.string(3)?,
        location: r.opt_string(4)?,
        created_at: r.i64(5)?,
        revoked_at: r.opt_i64(6)?,
        last_used_at: r.opt_i64(7)?,
    })
}

/// Adds a staff member; false (nothing written) when the e-mail address is
/// taken, whatever its case.
pub async fn insert_staff(tx: &mut Tx, s: &StaffRecord) -> Result<bool, StoreError> {
    let n = tx
        .execute(
            "INSERT INTO staff (id, name, email, password_hash, role, location, created_at, disabled_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
            args![
                s.id.as_str(),
                s.name.as_str(),
                s.email.as_str(),
                s.password_hash.as_str(),
                s.role.as_str(),
                s.location.as_deref(),
                s.created_at,
                s.disabled_at
            ],
        )
        .await?;
    Ok(n > 0)
}

pub async fn get_staff(tx: &mut Tx, id: &str) -> Result<Option<StaffRecord>, StoreError> {
    let sql = format!("SELECT {STAFF_COLUMNS} FROM staff WHERE id = $1");
    tx.query_opt(&sql, args![id]).await?.as_ref().map(staff_row).transpose()
}

/// The staff member with this e-mail address, whatever its case.
pub async fn staff_by_email(tx: &mut Tx, email: &str) -> Result<Option<StaffRecord>, StoreError> {
    let sql = format!("SELECT {STAFF_COLUMNS} FROM staff WHERE lower(email) = lower($1)");
    tx.query_opt(&sql, args![email]).await?.as_ref().map(staff_row).transpose()
}

/// Every staff member, by name (a shop has tens, not thousands).
pub async fn list_staff(tx: &mut Tx, limit: i64) -> Result<Vec<StaffRecord>, StoreError> {
    let sql = format!("SELECT {STAFF_COLUMNS} FROM staff ORDER BY lower(name), id LIMIT $1");
    tx.query(&sql, args![limit]).await?.iter().map(staff_row).collect()
}

/// Marks a staff member disabled (once); whether it changed.
pub async fn disable_staff(tx: &mut Tx, id: &str, now_ms: i64) -> Result<bool, StoreError> {
    let n = tx
        .execute("UPDATE staff SET disabled_at = $2 WHERE id = $1 AND disabled_at IS NULL", args![id, now_ms])
        .await?;
    Ok(n > 0)
}

pub async fn set_password(tx: &mut Tx, id: &str, password_hash: &str) -> Result<bool, StoreError> {
    Ok(tx.execute("UPDATE staff SET password_hash = $2 WHERE id = $1", args![id, password_hash]).await? > 0)
}

pub async fn insert_token(tx: &mut Tx, t: &TokenRecord) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO api_tokens (id, name, secret_hash, role, location, created_at, revoked_at, last_used_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        args![
            t.id.as_str(),
            t.name.as_str(),
            t.secret_hash.as_str(),
            t.role.as_str(),
            t.location.as_deref(),
            t.created_at,
            t.revoked_at,
            t.last_used_at
        ],
    )
    .await?;
    Ok(())
}

/// The live (unrevoked) token whose secret has this hash.
pub async fn live_token(tx: &mut Tx, secret_hash: &str) -> Result<Option<TokenRecord>, StoreError> {
    let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE secret_hash = $1 AND revoked_at IS NULL");
    tx.query_opt(&sql, args![secret_hash]).await?.as_ref().map(token_row).transpose()
}

pub async fn get_token(tx: &mut Tx, id: &str) -> Result<Option<TokenRecord>, StoreError> {
    let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE id = $1");
    tx.query_opt(&sql, args![id]).await?.as_ref().map(token_row).transpose()
}

/// Every token, newest first.
pub async fn list_tokens(tx: &mut Tx, limit: i64) -> Result<Vec<TokenRecord>, StoreError> {
    let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY created_at DESC, id LIMIT $1");
    tx.query(&sql, args![limit]).await?.iter().map(token_row).collect()
}

/// Revokes a token (once); whether it changed.
pub async fn revoke_token(tx: &mut Tx, id: &str, now_ms: i64) -> Result<bool, StoreError> {
    let n = tx
        .execute("UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL", args![id, now_ms])
        .await?;
    Ok(n > 0)
}

/// Notes when a token was last used.
pub async fn touch_token(tx: &mut Tx, id: &str, now_ms: i64) -> Result<(), StoreError> {
    tx.execute("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1", args![id, now_ms]).await?;
    Ok(())
}

impl From<&StaffRecord> for StaffView {
    fn from(s: &StaffRecord) -> Self {
        StaffView {
            id: s.id.clone(),
            name: s.name.clone(),
            email: s.email.clone(),
            role: s.role.clone(),
            location: s.location.clone(),
            created_at: rfc3339(s.created_at),
            disabled_at: s.disabled_at.map(rfc3339),
        }
    }
}

impl From<&TokenRecord> for TokenView {
    fn from(t: &TokenRecord) -> Self {
        TokenView {
            id: t.id.clone(),
            name: t.name.clone(),
            role: t.role.clone(),
            location: t.location.clone(),
            created_at: rfc3339(t.created_at),
            revoked_at: t.revoked_at.map(rfc3339),
            last_used_at: t.last_used_at.map(rfc3339),
        }
    }
}
