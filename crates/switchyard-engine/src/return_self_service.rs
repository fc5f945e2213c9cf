//! A customer's return started alone, with no sign-in (issue 9, item 3):
//! find the order from what the customer knows — its number as printed on
//! the confirmation (the channel's order number, or our order id) and the
//! e-mail address or ship-to postal code on it (`core::returns::
//! contact_matches`) —, show the units that may go back, and take the
//! request through the same use case as the API (`returns::request`: the
//! policy decides at once). An approved return gets its label issued at
//! once and a fresh status link (the notifications' token mechanism: only
//! the token's hash is stored), which opens the status page and the label
//! PDF (`/status/{token}/label.pdf`).
//!
//! **No enumeration**: an unknown number and a wrong e-mail or postal code
//! are the same `None`; the server counts both against the client's
//! address. Every read here is bounded (at most `MAX_CANDIDATES` orders by
//! an indexed number).

use std::collections::BTreeMap;

use switchyard_core::returns::{
    contact_matches, order_number_candidates, NewReturn, ReturnDraft, ReturnReason, ReturnStatus,
};
use switchyard_core::{ChannelName, Currency, OrderStatus};
use switchyard_store::return_stats;
use switchyard_store::return_views::ReturnView;
use switchyard_store::{catalog, notifications, views, StoreError};

use crate::{Engine, Error};

/// Who a customer's request is logged as.
pub const CUSTOMER: &str = "customer (self-service)";

fn corrupt(e: impl std::fmt::Display) -> Error {
    Error::Store(StoreError::corrupt(e.to_string()))
}

/// One line of the customer's order as the self-service page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerLine {
    pub line_no: i64,
    pub sku: String,
    /// The SKU's title; `None` when the SKU left the catalogue.
    pub title: Option<String>,
    pub shipped: i64,
    /// Shipped and not yet on another return.
    pub returnable: i64,
}

/// The order a customer proved they hold: what the page may show them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerOrder {
    pub order_id: String,
    /// The channel's order number (what the customer knows).
    pub number: String,
    pub lines: Vec<CustomerLine>,
}

impl CustomerOrder {
    /// Whether anything may still go back.
    pub fn returnable(&self) -> bool {
        self.lines.iter().any(|l| l.returnable > 0)
    }
}

/// What the customer chose: units per order line, the canonical reason
/// code, and anything they want to add.
#[derive(Debug, Clone, Default)]
pub struct CustomerAsk {
    pub number: String,
    pub contact: String,
    /// (order line, units); lines with 0 units are left out.
    pub lines: Vec<(i64, i64)>,
    pub reason: String,
    pub note: String,
}

/// The answer to a customer's request.
#[derive(Debug, Clone)]
pub struct CustomerReturn {
    pub view: ReturnView,
    /// The status link's token: `/status/{token}` and, once authorized,
    /// `/status/{token}/label.pdf`.
    pub token: String,
}

impl Engine {
    /// The order `number` names whose e-mail or postal code is `contact`;
    /// `None` when there is no such order or the contact does not match
    /// (the same answer, on purpose).
    pub async fn find_customer_order(&self, number: &str, contact: &str) -> Result<Option<CustomerOrder>, Error> {
        let numbers = order_number_candidates(number);
        if numbers.is_empty() {
            return Ok(None);
        }
        let mut tx = self.read().await?;
        let candidates = return_stats::candidate_orders(&mut tx, &numbers).await?;
        let Some(found) = candidates.into_iter().find(|c| contact_matches(contact, c.email.as_deref(), &c.postal_code))
        else {
            tx.rollback().await?;
            return Ok(None);
        };
        let order = views::get_order(&mut tx, &found.id).await?.ok_or_else(|| corrupt("the order vanished"))?;
        let status = OrderStatus::parse(&order.status).ok_or_else(|| corrupt(format!("status {:?}", order.status)))?;
        let channel = ChannelName::parse(&order.channel).map_err(corrupt)?;
        let currency = Currency::parse(&order.currency).map_err(corrupt)?;
        let facts = crate::returns::order_for_return(&mut tx, &order.id, status, channel, currency, None).await?;
        let mut titles = BTreeMap::new();
        for l in &facts.lines {
            if let Some(def) = catalog::get_sku(&mut tx, &l.sku).await? {
                titles.insert(l.line_no, def.title);
            }
        }
        tx.rollback().await?;
        let lines = facts
            .lines
            .iter()
            .filter(|l| l.quantity_shipped > 0)
            .map(|l| CustomerLine {
                line_no: l.line_no,
                sku: l.sku.to_string(),
                title: titles.remove(&l.line_no),
                shipped: l.quantity_shipped,
                returnable: facts.returnable(l.line_no),
            })
            .collect();
        Ok(Some(CustomerOrder { order_id: order.id, number: order.external_id, lines }))
    }

    /// Takes a customer's return request: the order is proved again (the
    /// form travels through the customer's browser), the chosen lines
    /// become SKUs and units, and the policy decides as for any request.
    /// Approved: the label is issued at once (a carrier failing leaves the
    /// self-printed label, which an authorized return always has). Then a
    /// status link is minted. `None`: the order was not proved.
    pub async fn request_customer_return(&self, ask: &CustomerAsk) -> Result<Option<CustomerReturn>, Error> {
        let Some(order) = self.find_customer_order(&ask.number, &ask.contact).await? else { return Ok(None) };
        let reason = ReturnReason::parse(ask.reason.trim())
            .ok_or_else(|| Error::Invalid("choose a reason from the list".into()))?;
        let mut lines: Vec<(String, i64)> = Vec::new();
        for (line_no, units) in ask.lines.iter().copied().filter(|(_, units)| *units != 0) {
            let line = order
                .lines
                .iter()
                .find(|l| l.line_no == line_no)
                .ok_or_else(|| Error::Invalid(format!("line {line_no} of the order has not shipped")))?;
            lines.push((line.sku.clone(), units));
        }
        if lines.is_empty() {
            return Err(Error::Invalid("choose at least one item and how many to send back".into()));
        }
        let new = NewReturn::parse(ReturnDraft {
            order_id: order.order_id.clone(),
            lines,
            reason: reason.as_str().to_owned(),
            condition: None,
            note: ask.note.clone(),
            by: CUSTOMER.to_owned(),
        })?;
        let mut view = self.request_return(&new).await?;
        if view.status == ReturnStatus::Authorized.as_str() {
            match self.issue_return_label(&view.id, CUSTOMER).await {
                Ok(issued) => view = issued,
                Err(e) => tracing::warn!(error = %e, ret = %view.id, "self-service label not issued; self-printed"),
            }
        }
        let token = self.mint_status_link(&order.order_id, Some(view.id.as_str())).await?;
        Ok(Some(CustomerReturn { view, token }))
    }

    /// The label PDF of the return a status link is about; `None` for a
    /// token we never handed out, a link about no return, or a return with
    /// no label (never authorized).
    pub async fn status_label_pdf(&self, token: &str) -> Result<Option<Vec<u8>>, Error> {
        if !crate::notify::token_shaped(token) {
            return Ok(None);
        }
        let not_before = self.now_ms().saturating_sub(crate::notify::STATUS_LINK_TTL_MS);
        let mut tx = self.read().await?;
        let link = notifications::find_link(&mut tx, &crate::notify::token_hash(token), not_before).await?;
        tx.rollback().await?;
        let Some((_, Some(return_id))) = link else { return Ok(None) };
        match self.return_label_pdf(&return_id).await {
            Ok(pdf) => Ok(Some(pdf)),
            Err(Error::NoLabel(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }
}
