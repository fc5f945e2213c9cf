//! Complaints a customer made about an order (`complaints`), recorded by a
//! person through the API: the complaint volume metric counts these rows.

use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

use crate::db::Tx;
use crate::{args, rfc3339, StoreError};

/// A recorded complaint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ComplaintView {
    pub id: String,
    pub order_id: String,
    pub note: String,
    /// Who recorded it.
    pub created_by: String,
    /// RFC 3339 UTC.
    pub created_at: String,
}

/// Records a complaint against an order.
pub async fn insert(
    tx: &mut Tx,
    id: &str,
    order_id: &str,
    note: &str,
    by: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO complaints (id, order_id, note, created_by, created_at) VALUES ($1, $2, $3, $4, $5)",
        args![id, order_id, note, by, now_ms],
    )
    .await?;
    Ok(())
}

/// One complaint, by id.
pub async fn get(tx: &mut Tx, id: &str) -> Result<Option<ComplaintView>, StoreError> {
    let row = tx
        .query_opt("SELECT id, order_id, note, created_by, created_at FROM complaints WHERE id = $1", args![id])
        .await?;
    let Some(r) = row else { return Ok(None) };
    Ok(Some(ComplaintView {
        id: r.string(0)?,
        order_id: r.string(1)?,
        note: r.string(2)?,
        created_by: r.string(3)?,
        created_at: rfc3339(r.i64(4)?),
    }))
}
