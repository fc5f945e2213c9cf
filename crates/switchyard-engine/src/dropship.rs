//! Dropship purchase orders, the use cases (issue 9, item 0).
//!
//! - **Issue.** When an allocation of a paid order places units at a
//!   location of kind `dropship`, [`issue_for_plan`] (called by `allocate`
//!   in the allocation's transaction) makes one purchase order per such
//!   location; an unpaid order's units wait, reserved, and
//!   [`issue_on_payment`] makes its purchase orders when it is paid (an
//!   unpaid order that lapses never told the vendor anything):
//!   its lines (the order lines' SKUs, titles and units placed there), the
//!   order's ship-to, due time = now + the location's lead time, status
//!   `sent`, and one `vendor_notice` outbox message per way the vendor is
//!   told (e-mail, webhook; its settings in `dropship_vendors`). Deciding
//!   whether an allocation touched a dropship location reads only the
//!   locations routing already has in memory: an order with no dropship
//!   allocation runs no extra statement.
//! - **Release.** The order's reservation read (`orders::held`) says, in
//!   the same statement, whether held units belong to an open purchase
//!   order. When a cancellation, expiry, re-route, rejection or count
//!   releases such units, [`released`] cancels those purchase orders (the
//!   vendor is told) and issues a new one for what the order still has
//!   allocated at that location.
//! - **Confirm, ship.** The vendor confirms (`sent → confirmed`) and sends
//!   carrier and tracking (`→ shipped`, which ships the purchase order's
//!   lines through the existing `orders::ship` use case) through its link
//!   or the API. Each locks the order row first, then the purchase order.
//! - **Late.** The sweeper opens a `dropship_unconfirmed` exception for a
//!   purchase order still `sent` past its due time; confirming or shipping
//!   it closes that exception.
//!
//! **Vendor links.** Each e-mail or webhook call carries a fresh link
//! `/vendor/po/{token}`: 32 random bytes from the OS (hex), of which only
//! the SHA-256 is stored, valid for [`LINK_TTL_MS`].

use std::collections::{BTreeMap, BTreeSet};

use rand::RngCore;
use sha2::{Digest, Sha256};
use switchyard_core::allocation::AllocationPlan;
use switchyard_core::dropship::{self as rules, PoEvent, PoLine, PoStatus, Vendor, VendorDraft};
use switchyard_core::notification::{DeliveryChannel, DeliveryStatus};
use switchyard_core::outbox::Message;
use switchyard_core::{
    ExceptionKind, ExceptionStatus, Location, LocationCode, LocationKind, NewShipment, ShipTo, ShipmentDraft,
};
use switchyard_store::orders::Held;
use switchyard_store::outbox::{self, Claimed};
use switchyard_store::purchase_orders::{
    self as store, NewPurchaseOrder, PurchaseOrder, PurchaseOrderView, VendorView,
};
use switchyard_store::{catalog, exceptions, orders, Tx};

use crate::allocate::Want;
use crate::outbox::RetryPolicy;
use crate::{Ctx, Engine, Error, StoreError};

/// How long a vendor link opens its purchase order.
pub const LINK_TTL_MS: i64 = 30 * 86_400_000;
/// How many late purchase orders one sweep flags.
const SWEEP_LIMIT: i64 = 500;

fn corrupt(e: impl std::fmt::Display) -> Error {
    Error::Store(StoreError::corrupt(e.to_string()))
}

fn not_found(id: &str) -> Error {
    Error::NotFound { what: "purchase order", key: id.to_owned() }
}

// ---------------------------------------------------------------- issue

/// Makes the purchase orders for the units `plan` placed at dropship
/// locations (none placed there: nothing is read or written).
pub(crate) async fn issue_for_plan(
    tx: &mut Tx,
    ctx: &Ctx,
    order_id: &str,
    wants: &[Want],
    plan: &AllocationPlan,
    locations: &[Location],
    now_ms: i64,
) -> Result<(), Error> {
    let mut placed: BTreeMap<&LocationCode, Vec<(i64, String, i64)>> = BTreeMap::new();
    for (line, w) in plan.lines.iter().zip(wants) {
        for (code, units) in &line.allocations {
            if locations.iter().any(|l| &l.code == code && l.kind == LocationKind::Dropship) {
                placed.entry(code).or_default().push((w.line_no, w.sku.to_string(), *units));
            }
        }
    }
    for (code, lines) in placed {
        if let Some(location) = locations.iter().find(|l| &l.code == code) {
            issue(tx, ctx, order_id, location, &lines, now_ms).await?;
        }
    }
    Ok(())
}

/// Makes one purchase order at `location` for `(line_no, sku, units)` and
/// queues the vendor's notices; returns its id.
async fn issue(
    tx: &mut Tx,
    ctx: &Ctx,
    order_id: &str,
    location: &Location,
    placed: &[(i64, String, i64)],
    now_ms: i64,
) -> Result<String, Error> {
    let (_, ship_to) = store::order_ref(tx, order_id).await?;
    let skus: Vec<&str> = placed.iter().map(|(_, s, _)| s.as_str()).collect::<BTreeSet<_>>().into_iter().collect();
    let titles: BTreeMap<String, String> = store::titles(tx, &skus).await?.into_iter().collect();
    let mut by_line: BTreeMap<i64, PoLine> = BTreeMap::new();
    for (line_no, sku, units) in placed {
        let title = titles.get(sku).cloned().unwrap_or_else(|| sku.clone());
        by_line
            .entry(*line_no)
            .or_insert_with(|| PoLine { line_no: *line_no, sku: sku.clone(), title, quantity: 0 })
            .quantity += units;
    }
    let lines: Vec<PoLine> = by_line.into_values().collect();
    let id = ctx.ids.next(now_ms);
    let number = rules::number(&id);
    let due_at = rules::due_ms(now_ms, location.lead_time_days);
    let p = NewPurchaseOrder {
        id: &id,
        number: &number,
        order_id,
        location: location.code.as_str(),
        ship_to: &ship_to,
        due_at,
        lines: &lines,
    };
    store::insert(tx, &p, now_ms).await?;
    let told = tell(tx, &id, order_id, location.code.as_str(), PoEvent::Issued, now_ms).await?;
    let units: i64 = lines.iter().map(|l| l.quantity).sum();
    let message = format!(
        "Purchase order {number} for {units} unit(s) made for {} ({}); confirmation due {}",
        location.name,
        told,
        switchyard_store::rfc3339(due_at)
    );
    orders::event(tx, order_id, now_ms, "purchase_order", &message).await?;
    Ok(id)
}

/// Queues the vendor's notices of `event`; says how it is told.
async fn tell(
    tx: &mut Tx,
    po_id: &str,
    order_id: &str,
    location: &str,
    event: PoEvent,
    now_ms: i64,
) -> Result<String, Error> {
    let vendor = store::vendor(tx, location).await?;
    let mut ways = Vec::new();
    if vendor.as_ref().is_some_and(|v| v.email.is_some()) {
        ways.push(DeliveryChannel::Email);
    }
    if vendor.as_ref().is_some_and(|v| v.webhook_url.is_some()) {
        ways.push(DeliveryChannel::Webhook);
    }
    for &channel in &ways {
        let m = Message::VendorNotice { po_id: po_id.to_owned(), order_id: order_id.to_owned(), event, channel };
        outbox::enqueue(tx, &m, now_ms).await?;
    }
    Ok(if ways.is_empty() {
        "the vendor has no e-mail or webhook set: tell it yourself".to_owned()
    } else {
        let names: Vec<&str> = ways.iter().map(|c| c.as_str()).collect();
        format!("vendor told by {}", names.join(" and "))
    })
}

/// An order was just paid: the units it holds at dropship vendors, under no
/// open purchase order yet, get one per vendor (decided from the
/// catalogue's locations in memory: no statement when none is a vendor).
pub(crate) async fn issue_on_payment(tx: &mut Tx, ctx: &Ctx, order_id: &str, now_ms: i64) -> Result<(), Error> {
    let view = crate::allocate::catalog_view(tx, ctx).await?;
    let vendors: Vec<&Location> = view.locations.iter().filter(|l| l.kind == LocationKind::Dropship).collect();
    if vendors.is_empty() {
        return Ok(());
    }
    let open: BTreeSet<String> = store::open_of_order(tx, order_id).await?.into_iter().map(|p| p.location).collect();
    for location in vendors {
        if open.contains(location.code.as_str()) {
            continue;
        }
        let held: Vec<(i64, String, i64)> = orders::open_at(tx, order_id, location.code.as_str())
            .await?
            .into_iter()
            .filter(|(_, _, _, units)| *units > 0)
            .map(|(line_no, _, sku, units)| (line_no, sku, units))
            .collect();
        if !held.is_empty() {
            issue(tx, ctx, order_id, location, &held, now_ms).await?;
        }
    }
    Ok(())
}

// -------------------------------------------------------------- release

/// After units were released from `held`: the open purchase orders they
/// belonged to are cancelled (the vendor told), and what the order still
/// has allocated at those locations gets a new purchase order.
pub(crate) async fn released(tx: &mut Tx, ctx: &Ctx, order_id: &str, held: &[Held], now_ms: i64) -> Result<(), Error> {
    let at: BTreeSet<&str> = held.iter().filter(|h| h.for_po).map(|h| h.location.as_str()).collect();
    if at.is_empty() {
        return Ok(());
    }
    for po in store::open_of_order(tx, order_id).await? {
        if at.contains(po.location.as_str()) {
            cancel(tx, &po, now_ms).await?;
        }
    }
    for code in at {
        let left: Vec<(i64, String, i64)> = orders::open_at(tx, order_id, code)
            .await?
            .into_iter()
            .filter(|(_, _, _, units)| *units > 0)
            .map(|(line_no, _, sku, units)| (line_no, sku, units))
            .collect();
        if left.is_empty() {
            continue;
        }
        let code = LocationCode::parse(code).map_err(corrupt)?;
        let Some(location) = catalog::get_location(tx, &code).await? else { continue };
        if location.kind == LocationKind::Dropship {
            issue(tx, ctx, order_id, &location, &left, now_ms).await?;
        }
    }
    Ok(())
}

async fn cancel(tx: &mut Tx, po: &PurchaseOrder, now_ms: i64) -> Result<(), Error> {
    let next = po.status.transition(PoStatus::Cancelled).map_err(|e| Error::Conflict(e.to_string()))?;
    store::set_status(tx, &po.id, next, now_ms).await?;
    close_exception(tx, po, "system", "cancel", "purchase order cancelled", now_ms).await?;
    let told = tell(tx, &po.id, &po.order_id, &po.location, PoEvent::Cancelled, now_ms).await?;
    let message = format!("Purchase order {} cancelled: its units were released ({told})", po.number);
    orders::event(tx, &po.order_id, now_ms, "purchase_order", &message).await?;
    Ok(())
}

/// Closes the purchase order's `dropship_unconfirmed` exception if open.
async fn close_exception(
    tx: &mut Tx,
    po: &PurchaseOrder,
    actor: &str,
    resolution: &str,
    note: &str,
    now_ms: i64,
) -> Result<(), Error> {
    let Some(id) = &po.exception_id else { return Ok(()) };
    if exceptions::lock(tx, id).await?.is_some_and(|e| e.status == ExceptionStatus::Open) {
        exceptions::close(tx, id, ExceptionStatus::Resolved, actor, resolution, note, now_ms).await?;
        exceptions::log(tx, id, actor, resolution, note, now_ms).await?;
    }
    Ok(())
}

// ------------------------------------------------------ confirm and ship

/// Locks the purchase order's order row, then the purchase order (the
/// order-first lock order every use case keeps).
async fn locked(tx: &mut Tx, po_id: &str) -> Result<PurchaseOrder, Error> {
    let po = store::get(tx, po_id, false).await?.ok_or_else(|| not_found(po_id))?;
    orders::lock(tx, &po.order_id).await?;
    store::get(tx, po_id, true).await?.ok_or_else(|| not_found(po_id))
}

async fn confirm(tx: &mut Tx, po_id: &str, actor: &str, now_ms: i64) -> Result<(), Error> {
    let po = locked(tx, po_id).await?;
    let next = po.status.transition(PoStatus::Confirmed)?;
    store::set_status(tx, po_id, next, now_ms).await?;
    close_exception(tx, &po, actor, "confirmed", "the vendor confirmed the purchase order", now_ms).await?;
    let message = format!("Purchase order {} confirmed by {actor}", po.number);
    orders::event(tx, &po.order_id, now_ms, "purchase_order", &message).await?;
    Ok(())
}

/// The purchase order's lines leave the vendor: shipped through the order's
/// ship use case (its reservations consumed, the customer told), the
/// purchase order `shipped` (an unconfirmed one is confirmed by it).
async fn ship(
    tx: &mut Tx,
    ctx: &Ctx,
    po_id: &str,
    carrier: Option<&str>,
    tracking: Option<&str>,
    actor: &str,
    now_ms: i64,
) -> Result<(), Error> {
    let po = locked(tx, po_id).await?;
    let next = po.status.transition(PoStatus::Shipped)?;
    let mut units: BTreeMap<&str, i64> = BTreeMap::new();
    for l in &po.lines {
        *units.entry(l.sku.as_str()).or_default() += l.quantity;
    }
    let shipment = NewShipment::parse(ShipmentDraft {
        location: po.location.clone(),
        lines: units.into_iter().map(|(sku, n)| (sku.to_owned(), n)).collect(),
        carrier: carrier.map(str::to_owned),
        tracking: tracking.map(str::to_owned),
        tracking_url: None,
    })?;
    crate::orders::ship(tx, ctx, &po.order_id, &shipment, now_ms).await?;
    store::set_status(tx, po_id, next, now_ms).await?;
    store::set_tracking(tx, po_id, shipment.carrier.as_deref(), shipment.tracking.as_deref()).await?;
    close_exception(tx, &po, actor, "shipped", "the vendor shipped the purchase order", now_ms).await?;
    let message = format!("Purchase order {} shipped by {actor}", po.number);
    orders::event(tx, &po.order_id, now_ms, "purchase_order", &message).await?;
    Ok(())
}

/// Opens the `dropship_unconfirmed` exception of a purchase order still
/// `sent` past its due time; false when it was settled meanwhile.
async fn flag_unconfirmed(tx: &mut Tx, ctx: &Ctx, po_id: &str, now_ms: i64) -> Result<bool, Error> {
    let po = locked(tx, po_id).await?;
    if po.status != PoStatus::Sent || po.due_at > now_ms || po.exception_id.is_some() {
        return Ok(false);
    }
    let message = format!(
        "The vendor at {} has not confirmed purchase order {} (due {}). Call the vendor, or cancel the order; \
         the vendor's confirmation closes this.",
        po.location,
        po.number,
        switchyard_store::rfc3339(po.due_at)
    );
    let id =
        crate::exceptions::open(tx, ctx, &po.order_id, ExceptionKind::DropshipUnconfirmed, &message, now_ms).await?;
    store::set_exception(tx, po_id, &id).await?;
    Ok(true)
}

// ---------------------------------------------------------------- links

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Whether `token` has the shape of one we hand out (64 lower-case hex).
fn token_shaped(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The purchase order a vendor link opens now; `None`: unknown, malformed
/// or expired.
async fn by_token(tx: &mut Tx, token: &str, now_ms: i64) -> Result<Option<String>, Error> {
    if !token_shaped(token) {
        return Ok(None);
    }
    Ok(store::find_link(tx, &token_hash(token), now_ms).await?)
}

// ------------------------------------------------------------- delivery

/// Everything one vendor notice needs to be sent.
#[derive(Debug, Clone)]
pub struct VendorNotice {
    pub event: PoEvent,
    pub channel: DeliveryChannel,
    pub po: PurchaseOrderView,
    /// The dropship location's name.
    pub vendor_name: String,
    pub vendor: Vendor,
    /// The purchase order as CSV and as a one-page PDF.
    pub csv: String,
    pub pdf: Option<Vec<u8>>,
    /// The purchase order in plain text lines.
    pub text: Vec<String>,
}

/// One page of text (US Letter), for the PDF attached to the e-mail.
fn pdf_of(lines: &[String]) -> Option<Vec<u8>> {
    use switchyard_core::returns::label::{Mark, Page};
    let marks = lines
        .iter()
        .take(48)
        .enumerate()
        .map(|(i, text)| Mark::Text {
            x: 54.0,
            y: 738.0 - 14.0 * i as f64,
            size: if i == 0 { 16.0 } else { 11.0 },
            bold: i == 0,
            text: text.chars().take(90).collect(),
        })
        .collect();
    crate::pdf::render(&[Page { width: 612.0, height: 792.0, marks }]).ok()
}

/// Records how a vendor notice's delivery ended: acknowledged, retried, or
/// dead-lettered (which opens the order's `notification_failed` exception).
/// Logs on the order's timeline how a vendor notice's delivery ended (the
/// vendor's side of the delivery log: when the vendor was told, and how).
async fn log_delivery(tx: &mut Tx, m: &Message, outcome: &str, now_ms: i64) -> Result<(), Error> {
    let Message::VendorNotice { po_id, order_id, event, channel } = m else { return Ok(()) };
    let number = store::get(tx, po_id, false).await?.map_or_else(|| po_id.clone(), |po| po.number);
    let what = match event {
        PoEvent::Issued => "Purchase order",
        PoEvent::Cancelled => "Cancellation of purchase order",
    };
    let by = match channel {
        DeliveryChannel::Email => "e-mail",
        DeliveryChannel::Webhook => "webhook",
    };
    let message = format!("{what} {number} to the vendor by {by}: {outcome}");
    orders::event(tx, order_id, now_ms, "vendor_notice", &message).await?;
    Ok(())
}

async fn finish(
    tx: &mut Tx,
    ctx: &Ctx,
    claimed: &Claimed,
    consumer: &str,
    attempt: &crate::notify::Attempt,
    policy: &RetryPolicy,
    now_ms: i64,
) -> Result<DeliveryStatus, Error> {
    use crate::notify::Attempt;
    let (retry_at, error) = match attempt {
        Attempt::Sent => {
            outbox::ack(tx, claimed.id, consumer, now_ms).await?;
            log_delivery(tx, &claimed.message, "sent", now_ms).await?;
            return Ok(DeliveryStatus::Sent);
        }
        Attempt::Failed(e) => (policy.next_attempt(claimed.attempts, now_ms), e),
        Attempt::Refused(e) => (None, e),
    };
    let error: String = error.chars().take(500).collect();
    outbox::fail(tx, claimed.id, consumer, &error, retry_at, now_ms).await?;
    let order_id = claimed.message.subject().to_owned();
    tracing::warn!(outbox = claimed.id, order = %order_id, error = %error, "vendor notice failed");
    if retry_at.is_some() {
        return Ok(DeliveryStatus::Retrying);
    }
    log_delivery(tx, &claimed.message, &format!("not delivered ({error})"), now_ms).await?;
    let open = exceptions::open_of_order(tx, &order_id).await?;
    if !open.iter().any(|(_, k)| *k == ExceptionKind::NotificationFailed) {
        let message = format!(
            "A purchase order notice to the dropship vendor was not delivered: {error}. Fix the vendor's \
             settings and retry, or dismiss and tell the vendor yourself."
        );
        crate::exceptions::open(tx, ctx, &order_id, ExceptionKind::NotificationFailed, &message, now_ms).await?;
    }
    Ok(DeliveryStatus::Dead)
}

fn vendor_view(location: &str, v: Option<&Vendor>) -> VendorView {
    VendorView {
        location: location.to_owned(),
        email: v.and_then(|v| v.email.as_ref()).map(|e| e.as_str().to_owned()),
        webhook_url: v.and_then(|v| v.webhook_url.clone()),
        has_webhook_secret: v.is_some_and(|v| v.webhook_secret.is_some()),
    }
}

impl Engine {
    /// Saves a dropship location's vendor settings (validated; a draft
    /// without a secret keeps the stored one).
    pub async fn put_vendor(&self, location: &LocationCode, d: &VendorDraft) -> Result<VendorView, Error> {
        let (now, code, d) = (self.now_ms(), location.clone(), d.clone());
        self.run(move |tx, _| {
            Box::pin(async move {
                let l =
                    catalog::get_location(tx, &code).await?.ok_or_else(|| Error::UnknownLocation(code.to_string()))?;
                if l.kind != LocationKind::Dropship {
                    return Err(Error::Conflict(format!(
                        "{code} is a {} location: only dropship locations have vendor settings",
                        l.kind.as_str()
                    )));
                }
                let stored = store::vendor(tx, code.as_str()).await?;
                let stored_secret = stored.as_ref().and_then(|v| v.webhook_secret.as_deref());
                let v = Vendor::parse(d, stored_secret).map_err(|e| Error::Invalid(e.to_string()))?;
                store::put_vendor(tx, code.as_str(), &v, now).await?;
                Ok(vendor_view(code.as_str(), Some(&v)))
            })
        })
        .await
    }

    /// A location's vendor settings, without the secret.
    pub async fn get_vendor(&self, location: &LocationCode) -> Result<VendorView, Error> {
        let mut tx = self.read().await?;
        if catalog::get_location(&mut tx, location).await?.is_none() {
            tx.rollback().await?;
            return Err(Error::UnknownLocation(location.to_string()));
        }
        let v = store::vendor(&mut tx, location.as_str()).await?;
        tx.rollback().await?;
        Ok(vendor_view(location.as_str(), v.as_ref()))
    }

    /// Purchase orders, newest first.
    pub async fn list_purchase_orders(
        &self,
        status: Option<PoStatus>,
        order_id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<PurchaseOrderView>, Error> {
        let mut tx = self.read().await?;
        let list = store::list(&mut tx, status, order_id, limit).await?;
        tx.rollback().await?;
        Ok(list.iter().map(PurchaseOrder::view).collect::<Result<Vec<_>, StoreError>>()?)
    }

    pub async fn get_purchase_order(&self, id: &str) -> Result<PurchaseOrderView, Error> {
        let mut tx = self.read().await?;
        let po = store::get(&mut tx, id, false).await?;
        tx.rollback().await?;
        Ok(po.ok_or_else(|| not_found(id))?.view()?)
    }

    /// The vendor confirms it will ship (`sent → confirmed`).
    pub async fn confirm_purchase_order(&self, id: &str, by: &str) -> Result<PurchaseOrderView, Error> {
        let (now, i, by) = (self.now_ms(), id.to_owned(), crate::actor(by)?);
        self.run(move |tx, _| Box::pin(async move { confirm(tx, &i, &by, now).await })).await?;
        self.get_purchase_order(id).await
    }

    /// The vendor shipped: the purchase order's lines are shipped from its
    /// location through the order's ship use case.
    pub async fn ship_purchase_order(
        &self,
        id: &str,
        carrier: Option<&str>,
        tracking: Option<&str>,
        by: &str,
    ) -> Result<PurchaseOrderView, Error> {
        let (now, i, by) = (self.now_ms(), id.to_owned(), crate::actor(by)?);
        let (c, t) = (carrier.map(str::to_owned), tracking.map(str::to_owned));
        self.run(move |tx, ctx| Box::pin(async move { ship(tx, ctx, &i, c.as_deref(), t.as_deref(), &by, now).await }))
            .await?;
        self.get_purchase_order(id).await
    }

    /// The purchase order a vendor link opens; `None` for a token we never
    /// handed out, a malformed or an expired one.
    pub async fn vendor_purchase_order(&self, token: &str) -> Result<Option<PurchaseOrderView>, Error> {
        let mut tx = self.read().await?;
        let id = by_token(&mut tx, token, self.now_ms()).await?;
        let po = match id {
            Some(id) => store::get(&mut tx, &id, false).await?,
            None => None,
        };
        tx.rollback().await?;
        Ok(po.map(|p| p.view()).transpose()?)
    }

    /// Confirms through a vendor link; `None`: the link opens nothing.
    pub async fn vendor_confirm(&self, token: &str) -> Result<Option<PurchaseOrderView>, Error> {
        let Some(po) = self.vendor_purchase_order(token).await? else { return Ok(None) };
        self.confirm_purchase_order(&po.id, "vendor (link)").await.map(Some)
    }

    /// Ships through a vendor link; `None`: the link opens nothing.
    pub async fn vendor_ship(
        &self,
        token: &str,
        carrier: Option<&str>,
        tracking: Option<&str>,
    ) -> Result<Option<PurchaseOrderView>, Error> {
        let Some(po) = self.vendor_purchase_order(token).await? else { return Ok(None) };
        self.ship_purchase_order(&po.id, carrier, tracking, "vendor (link)").await.map(Some)
    }

    /// Mints a fresh vendor link to a purchase order; only its hash is kept.
    pub async fn mint_vendor_link(&self, po_id: &str) -> Result<String, Error> {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let token = hex::encode(bytes);
        let (now, hash, id) = (self.now_ms(), token_hash(&token), po_id.to_owned());
        self.run(move |tx, _| {
            Box::pin(async move { Ok(store::insert_link(tx, &hash, &id, now, now.saturating_add(LINK_TTL_MS)).await?) })
        })
        .await?;
        Ok(token)
    }

    /// Opens a `dropship_unconfirmed` exception for each purchase order
    /// past its due time unconfirmed (each its own transaction); their ids.
    pub async fn flag_unconfirmed_purchase_orders(&self) -> Result<Vec<String>, Error> {
        let now = self.now_ms();
        let mut tx = self.read().await?;
        let due = store::unconfirmed_due(&mut tx, now, SWEEP_LIMIT).await?;
        tx.rollback().await?;
        let mut flagged = Vec::new();
        for id in due {
            let i = id.clone();
            if self.run(move |tx, ctx| Box::pin(async move { flag_unconfirmed(tx, ctx, &i, now).await })).await? {
                flagged.push(id);
            }
        }
        Ok(flagged)
    }

    /// Reads what a vendor notice needs; `None` when the purchase order is
    /// gone (the message is acknowledged and dropped).
    pub async fn prepare_vendor_notice(&self, m: &Message) -> Result<Option<VendorNotice>, Error> {
        let Message::VendorNotice { po_id, event, channel, .. } = m else { return Ok(None) };
        let mut tx = self.read().await?;
        let Some(po) = store::get(&mut tx, po_id, false).await? else {
            tx.rollback().await?;
            return Ok(None);
        };
        let vendor = store::vendor(&mut tx, &po.location).await?;
        let code = LocationCode::parse(&po.location).map_err(corrupt)?;
        let name = catalog::get_location(&mut tx, &code).await?.map_or_else(|| po.location.clone(), |l| l.name);
        tx.rollback().await?;
        let ship_to: ShipTo = serde_json::from_str(&po.ship_to).map_err(corrupt)?;
        let due = switchyard_store::rfc3339(po.due_at);
        let doc = rules::PoDocument {
            number: &po.number,
            order_number: &po.order_number,
            due: &due,
            ship_to: &ship_to,
            lines: &po.lines,
        };
        let text = rules::text_lines(&doc);
        Ok(Some(VendorNotice {
            event: *event,
            channel: *channel,
            csv: rules::csv(&doc),
            pdf: pdf_of(&text),
            text,
            po: po.view()?,
            vendor_name: name,
            vendor: vendor.unwrap_or(Vendor { email: None, webhook_url: None, webhook_secret: None }),
        }))
    }

    /// Records how a vendor notice's delivery attempt ended.
    pub async fn finish_vendor_notice(
        &self,
        claimed: &Claimed,
        consumer: &str,
        attempt: crate::notify::Attempt,
        policy: &RetryPolicy,
    ) -> Result<DeliveryStatus, Error> {
        let now = self.now_ms();
        let (c, consumer, policy, attempt) =
            (claimed.clone(), consumer.to_owned(), *policy, std::sync::Arc::new(attempt));
        self.run(move |tx, ctx| Box::pin(async move { finish(tx, ctx, &c, &consumer, &attempt, &policy, now).await }))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendor_tokens_are_checked_for_shape() {
        assert!(token_shaped(&"0f".repeat(32)));
        assert!(!token_shaped(&"0F".repeat(32)) && !token_shaped("abc") && !token_shaped(&"g0".repeat(32)));
        assert_ne!(token_hash("a"), "a");
    }

    #[test]
    fn the_pdf_is_one_page_of_the_text() {
        let pdf = pdf_of(&["Purchase order PO-1".to_owned(), "2 x MUG (Mug)".to_owned()]).expect("pdf");
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.starts_with("%PDF-1.4") && text.contains("/Count 1") && text.contains("2 x MUG"), "{text}");
    }
}
