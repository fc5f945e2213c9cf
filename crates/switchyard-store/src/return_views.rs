//! Read models of returns for the API and the dashboard: a return with its
//! decision, lines, receipts and timeline; pages of returns; return policy
//! versions.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

use crate::db::{placeholders, Row, Tx, Value};
use crate::{args, rfc3339, StoreError};

/// The most returns one list answers.
const MAX_PAGE: i64 = 500;

/// The decision a return got, in plain English and in figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ReturnDecisionView {
    /// `approved`, `rejected` or `needs_review`: what the policy said (a
    /// person's override changes the return's status, not this).
    pub outcome: String,
    /// E.g. "Rejected: delivered 47 days ago; the window for etsy orders is 30 days".
    pub explanation: String,
    /// The return policy version used; `null`: the built-in default.
    pub policy_version: Option<i64>,
    /// Σ unit price × units, minor units of the return's `currency`.
    pub subtotal: i64,
    pub restocking_fee: i64,
    /// The label fee kept when the customer pays return shipping.
    pub shipping_fee: i64,
    /// `customer` or `merchant`.
    pub shipping_paid_by: String,
    /// `original_payment`, `store_credit` or `exchange`.
    pub refund_method: String,
    /// Every rule applied, typed (`kind` and its facts).
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub findings: serde_json::Value,
}

/// Units of a return line received in one grade.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ReceiptView {
    /// `resellable`, `damaged`, `defective` or `wrong_item`.
    pub grade: String,
    /// `restock`, `inspection`, `return_to_vendor` or `quarantine`.
    pub disposition: String,
    pub quantity: i64,
    /// Where it was received.
    pub location: String,
    pub at: String,
}

/// An order line a return takes back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ReturnLineView {
    /// The order line.
    pub line_no: i64,
    pub sku: String,
    pub quantity: i64,
    /// Minor units of the return's `currency`.
    pub unit_price: i64,
    pub received: i64,
    pub receipts: Vec<ReceiptView>,
}

/// One entry of a return's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ReturnEventView {
    pub at: String,
    pub kind: String,
    /// Who acted (`system` for the policy's own steps).
    pub actor: String,
    pub message: String,
}

/// A return as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ReturnView {
    pub id: String,
    /// The RMA number, once authorized (`RMA-YYMMDD-NNNN`).
    pub rma: Option<String>,
    pub order_id: String,
    /// The channel's order id and the channel.
    pub external_id: String,
    pub channel: String,
    /// `requested`, `authorized`, `rejected`, `label_issued`, `in_transit`,
    /// `received`, `inspected`, `dispositioned`, `refunded`, `exchanged`,
    /// `closed` or `cancelled`.
    pub status: String,
    /// The canonical reason the policy mapped `reason_text` to.
    pub reason: String,
    /// What the customer or channel said.
    pub reason_text: String,
    /// The condition the customer stated, if any.
    pub condition: Option<String>,
    pub decision: ReturnDecisionView,
    pub currency: String,
    /// What the return pays out if it goes ahead (minor units).
    pub refund: i64,
    /// What was paid out, once refunded (for what came back).
    pub refunded: Option<i64>,
    pub refunded_at: Option<String>,
    /// The location the return is sent to and received at.
    pub destination: String,
    /// The `return_out_of_policy` exception that asks a person about it.
    pub exception_id: Option<String>,
    /// Who issued the label (`self_printed`, or the carrier's name), once
    /// issued.
    pub carrier: Option<String>,
    /// The parcel's tracking number, when a carrier or the customer gave one.
    pub tracking: Option<String>,
    pub label_issued_at: Option<String>,
    /// An exchange's replacement order (created, reserved and held unpaid
    /// when the return was authorized; released for fulfilment when the
    /// return is settled as `exchanged`, cancelled with the return).
    pub replacement_order_id: Option<String>,
    pub lines: Vec<ReturnLineView>,
    /// The timeline; omitted in lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<ReturnEventView>>,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
}

/// Filters for listing returns, newest first.
#[derive(Debug, Clone, Default)]
pub struct ReturnFilter {
    pub status: Option<String>,
    pub order_id: Option<String>,
    /// Only returns sent to this location (store staff see their own).
    pub destination: Option<String>,
    pub limit: i64,
}

const RETURN_SELECT: &str = "SELECT r.id, r.rma, r.order_id, o.external_id, o.channel, r.status, r.reason, \
     r.reason_text, r.item_condition, r.outcome, r.explanation, r.policy_version, r.subtotal, r.restocking_fee, \
     r.shipping_fee, r.shipping_paid_by, r.refund_method, r.decision, r.currency, r.refund, r.refunded, \
     r.refunded_at, r.destination, r.exception_id, r.created_by, r.created_at, r.updated_at, r.carrier, \
     r.tracking, r.label_issued_at, r.replacement_order_id FROM returns r JOIN orders o ON o.id = r.order_id";

fn return_view(r: &Row) -> Result<ReturnView, StoreError> {
    let id = r.string(0)?;
    let decision: serde_json::Value = serde_json::from_str(&r.string(17)?)
        .map_err(|e| StoreError::corrupt(format!("decision of return {id}: {e}")))?;
    Ok(ReturnView {
        rma: r.opt_string(1)?,
        order_id: r.string(2)?,
        external_id: r.string(3)?,
        channel: r.string(4)?,
        status: r.string(5)?,
        reason: r.string(6)?,
        reason_text: r.string(7)?,
        condition: r.opt_string(8)?,
        decision: ReturnDecisionView {
            outcome: r.string(9)?,
            explanation: r.string(10)?,
            policy_version: r.opt_i64(11)?,
            subtotal: r.i64(12)?,
            restocking_fee: r.i64(13)?,
            shipping_fee: r.i64(14)?,
            shipping_paid_by: r.string(15)?,
            refund_method: r.string(16)?,
            findings: decision.get("findings").cloned().unwrap_or(serde_json::Value::Array(vec![])),
        },
        currency: r.string(18)?,
        refund: r.i64(19)?,
        refunded: r.opt_i64(20)?,
        refunded_at: r.opt_i64(21)?.map(rfc3339),
        destination: r.string(22)?,
        exception_id: r.opt_string(23)?,
        carrier: r.opt_string(27)?,
        tracking: r.opt_string(28)?,
        label_issued_at: r.opt_i64(29)?.map(rfc3339),
        replacement_order_id: r.opt_string(30)?,
        lines: vec![],
        events: None,
        created_by: r.string(24)?,
        created_at: rfc3339(r.i64(25)?),
        updated_at: rfc3339(r.i64(26)?),
        id,
    })
}

/// The lines (with receipts) of the given returns, by return id.
async fn lines_of(tx: &mut Tx, ids: &[String]) -> Result<BTreeMap<String, Vec<ReturnLineView>>, StoreError> {
    let mut out: BTreeMap<String, Vec<ReturnLineView>> = BTreeMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let params: Vec<Value> = ids.iter().map(Value::from).collect();
    let list = placeholders(1, ids.len());
    let sql = format!(
        "SELECT return_id, line_no, sku, quantity, unit_price, received FROM return_lines \
         WHERE return_id IN ({list}) ORDER BY return_id, line_no"
    );
    for r in tx.query(&sql, &params).await? {
        let line = ReturnLineView {
            line_no: r.i64(1)?,
            sku: r.string(2)?,
            quantity: r.i64(3)?,
            unit_price: r.i64(4)?,
            received: r.i64(5)?,
            receipts: vec![],
        };
        out.entry(r.string(0)?).or_default().push(line);
    }
    let sql = format!(
        "SELECT return_id, line_no, grade, disposition, quantity, location, at FROM return_receipts \
         WHERE return_id IN ({list}) ORDER BY return_id, id"
    );
    for r in tx.query(&sql, &params).await? {
        let (return_id, line_no) = (r.string(0)?, r.i64(1)?);
        let receipt = ReceiptView {
            grade: r.string(2)?,
            disposition: r.string(3)?,
            quantity: r.i64(4)?,
            location: r.string(5)?,
            at: rfc3339(r.i64(6)?),
        };
        let line = out.get_mut(&return_id).and_then(|ls| ls.iter_mut().find(|l| l.line_no == line_no));
        match line {
            Some(l) => l.receipts.push(receipt),
            None => return Err(StoreError::corrupt(format!("a receipt of return {return_id} has no line {line_no}"))),
        }
    }
    Ok(out)
}

/// Every return takes back at least one line.
fn no_lines(id: &str) -> StoreError {
    StoreError::corrupt(format!("return {id} has no lines"))
}

/// One return with its lines, receipts and timeline.
pub async fn get_return(tx: &mut Tx, id: &str) -> Result<Option<ReturnView>, StoreError> {
    let sql = format!("{RETURN_SELECT} WHERE r.id = $1");
    let Some(row) = tx.query_opt(&sql, args![id]).await? else { return Ok(None) };
    let mut view = return_view(&row)?;
    view.lines = lines_of(tx, std::slice::from_ref(&view.id)).await?.remove(&view.id).ok_or_else(|| no_lines(id))?;
    let sql = "SELECT at, kind, actor, message FROM return_events WHERE return_id = $1 ORDER BY id";
    let events = tx.query(sql, args![id]).await?;
    let events = events.iter().map(|r| {
        Ok(ReturnEventView { at: rfc3339(r.i64(0)?), kind: r.string(1)?, actor: r.string(2)?, message: r.string(3)? })
    });
    view.events = Some(events.collect::<Result<_, StoreError>>()?);
    Ok(Some(view))
}

/// Returns matching the filter, newest first, with their lines.
pub async fn list_returns(tx: &mut Tx, f: &ReturnFilter) -> Result<Vec<ReturnView>, StoreError> {
    let mut clauses = Vec::new();
    let mut params: Vec<Value> = Vec::new();
    for (col, value) in [("r.status", &f.status), ("r.order_id", &f.order_id), ("r.destination", &f.destination)] {
        if let Some(v) = value {
            params.push(Value::from(v));
            clauses.push(format!("{col} = ${}", params.len()));
        }
    }
    params.push(Value::from(f.limit.clamp(1, MAX_PAGE)));
    let filter = if clauses.is_empty() { String::new() } else { format!(" WHERE {}", clauses.join(" AND ")) };
    let sql = format!("{RETURN_SELECT}{filter} ORDER BY r.id DESC LIMIT ${}", params.len());
    let mut views = tx.query(&sql, &params).await?.iter().map(return_view).collect::<Result<Vec<_>, _>>()?;
    let ids: Vec<String> = views.iter().map(|v| v.id.clone()).collect();
    let mut lines = lines_of(tx, &ids).await?;
    for v in &mut views {
        v.lines = lines.remove(&v.id).ok_or_else(|| no_lines(&v.id))?;
    }
    Ok(views)
}

/// A saved return policy version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ReturnPolicyRecord {
    pub version: i64,
    /// The policy text (TOML) as saved.
    pub body: String,
    pub note: String,
    pub created_by: String,
    pub created_at: String,
    pub active: bool,
    pub activated_at: Option<String>,
    pub activated_by: Option<String>,
}

const POLICY_SELECT: &str =
    "SELECT version, body, note, created_by, created_at, is_active, activated_at, activated_by FROM return_policies";

fn policy_record(r: &Row) -> Result<ReturnPolicyRecord, StoreError> {
    Ok(ReturnPolicyRecord {
        version: r.i64(0)?,
        body: r.string(1)?,
        note: r.string(2)?,
        created_by: r.string(3)?,
        created_at: rfc3339(r.i64(4)?),
        active: r.bool(5)?,
        activated_at: r.opt_i64(6)?.map(rfc3339),
        activated_by: r.opt_string(7)?,
    })
}

/// One saved return policy version.
pub async fn get_policy(tx: &mut Tx, version: i64) -> Result<Option<ReturnPolicyRecord>, StoreError> {
    let sql = format!("{POLICY_SELECT} WHERE version = $1");
    tx.query_opt(&sql, args![version]).await?.as_ref().map(policy_record).transpose()
}

/// The latest return policy versions, newest first.
pub async fn list_policies(tx: &mut Tx, limit: i64) -> Result<Vec<ReturnPolicyRecord>, StoreError> {
    let sql = format!("{POLICY_SELECT} ORDER BY version DESC LIMIT $1");
    tx.query(&sql, args![limit.clamp(1, MAX_PAGE)]).await?.iter().map(policy_record).collect()
}

/// The active return policy version; `None`: the built-in default.
pub async fn active_policy(tx: &mut Tx) -> Result<Option<ReturnPolicyRecord>, StoreError> {
    let sql = format!("{POLICY_SELECT} WHERE is_active = $1");
    tx.query_opt(&sql, args![true]).await?.as_ref().map(policy_record).transpose()
}
