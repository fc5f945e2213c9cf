//! A return's label and the steps after it: issuing the label through the
//! [`ReturnCarrier`] (`authorized → label_issued`), the parcel handed to
//! the carrier (`→ in_transit`), and closing a settled return (`→
//! closed`); and the documents: the label as PDF and ZPL and the packing
//! slip PDF, drawn from the return by the core's layout
//! (`switchyard_core::returns::label`) and this crate's PDF writer
//! (`pdf.rs`).
//!
//! A return has a label once it was authorized (it has an RMA number): the
//! self-printed one can be printed from then on, before it is issued (a
//! customer may walk the parcel into a store); once an outside carrier
//! issued one, `label.pdf` is that carrier's postage-paid PDF. A rejected
//! return, or one waiting for a person, has none (`no_label`, 409).
//!
//! Issuing asks the carrier first, outside the writer (a carrier may take
//! seconds), then records the answer in one transaction that checks the
//! status again: two issues at once record one label, the other is an
//! `illegal_transition`.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine as _;
use switchyard_core::returns::label::{LabelAddress, PackingSlip, ReturnLabel, SlipLine};
use switchyard_core::returns::{looks_like_rma, ReturnStatus};
use switchyard_core::{ExceptionStatus, LocationCode, ShipTo, Sku, Text, TextRule};
use switchyard_store::return_views::{self, ReturnView};
use switchyard_store::returns::{self, LockedReturn};
use switchyard_store::{catalog, exceptions, orders, StoreError, Tx};

use crate::return_carrier::{CarrierError, IssuedLabel, Parcel, ReturnCarrier};
use crate::{Ctx, Engine, Error};

/// The content type of a label file a carrier sent.
const PDF: &str = "application/pdf";

fn corrupt(what: impl std::fmt::Display) -> Error {
    Error::Store(StoreError::corrupt(what.to_string()))
}

/// Everything the documents are drawn from, read in one transaction.
struct LabelFacts {
    view: ReturnView,
    rma: String,
    from: LabelAddress,
    to: LabelAddress,
    /// SKU → title, for the packing slip.
    titles: BTreeMap<String, String>,
}

impl LabelFacts {
    fn order(&self) -> String {
        format!("{} {}", self.view.channel, self.view.external_id)
    }

    fn label(&self) -> ReturnLabel {
        let carrier = self.view.carrier.clone().filter(|c| c != crate::return_carrier::SELF_PRINTED);
        ReturnLabel {
            rma: self.rma.clone(),
            reason: self.view.reason.clone(),
            order: self.order(),
            from: self.from.clone(),
            to: self.to.clone(),
            carrier,
            tracking: self.view.tracking.clone(),
        }
    }

    fn slip(&self) -> PackingSlip {
        let lines = (self.view.lines.iter())
            .map(|l| SlipLine {
                sku: l.sku.clone(),
                // A SKU no longer in the catalogue has no title to print.
                title: self.titles.get(&l.sku).map_or_else(String::new, String::clone),
                quantity: l.quantity,
            })
            .collect();
        PackingSlip {
            rma: self.rma.clone(),
            reason: self.view.reason.clone(),
            order: self.order(),
            to: self.to.clone(),
            lines,
        }
    }

    fn parcel(&self) -> Parcel {
        Parcel {
            rma: self.rma.clone(),
            order: self.order(),
            reason: self.view.reason.clone(),
            items: self.view.lines.iter().map(|l| (l.sku.clone(), l.quantity)).collect(),
        }
    }
}

fn ship_to_address(s: &ShipTo) -> LabelAddress {
    LabelAddress {
        name: s.name.clone(),
        line1: s.line1.clone(),
        city: s.city.clone(),
        region: s.region.clone(),
        postal_code: s.postal_code.clone(),
        country: s.country.clone(),
    }
}

/// The return's id for a key that is an id or an RMA number.
async fn id_of(tx: &mut Tx, key: &str) -> Result<Option<String>, Error> {
    if looks_like_rma(key) {
        Ok(returns::id_by_rma(tx, &key.trim().to_ascii_uppercase()).await?)
    } else {
        Ok(Some(key.to_owned()))
    }
}

async fn label_facts(tx: &mut Tx, key: &str) -> Result<LabelFacts, Error> {
    let not_found = || Error::NotFound { what: "return", key: key.to_owned() };
    let id = id_of(tx, key).await?.ok_or_else(not_found)?;
    let view = return_views::get_return(tx, &id).await?.ok_or_else(not_found)?;
    let Some(rma) = view.rma.clone() else {
        return Err(Error::NoLabel(format!(
            "return {id} has no label: it is {} and was never authorized (labels come with the RMA number)",
            view.status
        )));
    };
    let ship_to = orders::facts(tx, &view.order_id).await?.ship_to;
    let code = LocationCode::parse(&view.destination).map_err(corrupt)?;
    let place = catalog::get_location(tx, &code)
        .await?
        .ok_or_else(|| corrupt(format!("return {id} goes to {code}, which is not a location")))?;
    let to = LabelAddress {
        name: place.name.clone(),
        line1: place.address.line1.clone(),
        city: place.address.city.clone(),
        region: place.address.region.clone(),
        postal_code: place.address.postal_code.clone(),
        country: place.address.country.clone(),
    };
    let mut titles = BTreeMap::new();
    for line in &view.lines {
        let sku = Sku::parse(&line.sku).map_err(corrupt)?;
        if let Some(def) = catalog::get_sku(tx, &sku).await? {
            titles.insert(line.sku.clone(), def.title);
        }
    }
    Ok(LabelFacts { view, rma, from: ship_to_address(&ship_to), to, titles })
}

fn status_of(view: &ReturnView) -> Result<ReturnStatus, Error> {
    ReturnStatus::parse(&view.status).ok_or_else(|| corrupt(format!("return status {:?}", view.status)))
}

/// Finds a return by id or RMA number and locks it.
async fn locate(tx: &mut Tx, key: &str) -> Result<LockedReturn, Error> {
    let not_found = || Error::NotFound { what: "return", key: key.to_owned() };
    let id = id_of(tx, key).await?.ok_or_else(not_found)?;
    returns::lock(tx, &id).await?.ok_or_else(not_found)
}

fn label_of(r: &LockedReturn) -> &str {
    r.rma.as_deref().unwrap_or(&r.id)
}

/// Records a label the carrier issued: `label_issued`, its carrier and
/// tracking number, the carrier's PDF when it sent one.
async fn record_label(tx: &mut Tx, key: &str, issued: &IssuedLabel, by: &str, now_ms: i64) -> Result<(), Error> {
    let r = locate(tx, key).await?;
    let next = r.status.transition(ReturnStatus::LabelIssued)?;
    returns::set_label(tx, &r.id, &issued.carrier, issued.tracking.as_deref(), now_ms).await?;
    if let Some(pdf) = &issued.pdf {
        let body = base64::engine::general_purpose::STANDARD.encode(pdf);
        returns::put_label_file(tx, &r.id, PDF, &body, now_ms).await?;
    }
    returns::set_status(tx, &r.id, next, now_ms).await?;
    let message = match &issued.tracking {
        Some(t) => format!("Label issued by {}, tracking {t}", issued.carrier),
        None => "Self-printed label issued (no tracking number): print label.pdf or label.zpl".to_owned(),
    };
    returns::event(tx, &r.id, now_ms, next.as_str(), by, &message).await?;
    let order_message = format!("Return {}: {message}", label_of(&r));
    orders::event(tx, &r.order_id, now_ms, "return_label_issued", &order_message).await?;
    Ok(())
}

/// The parcel is on its way: `in_transit`, with the tracking number when
/// one is given (it replaces the carrier's).
async fn in_transit(tx: &mut Tx, key: &str, tracking: Option<&str>, by: &str, now_ms: i64) -> Result<(), Error> {
    let r = locate(tx, key).await?;
    let next = r.status.transition(ReturnStatus::InTransit)?;
    if let Some(t) = tracking {
        returns::set_tracking(tx, &r.id, t).await?;
    }
    returns::set_status(tx, &r.id, next, now_ms).await?;
    let message = match tracking {
        Some(t) => format!("Handed to the carrier, tracking {t}"),
        None => "Handed to the carrier".to_owned(),
    };
    returns::event(tx, &r.id, now_ms, next.as_str(), by, &message).await?;
    orders::event(tx, &r.order_id, now_ms, "return_in_transit", &format!("Return {}: {message}", label_of(&r))).await?;
    Ok(())
}

/// Closes a settled return (`refunded` or `exchanged`) or a rejection. A
/// return whose `return_out_of_policy` exception is still open is answered
/// first.
async fn close(tx: &mut Tx, key: &str, by: &str, note: &str, now_ms: i64) -> Result<(), Error> {
    let r = locate(tx, key).await?;
    let next = r.status.transition(ReturnStatus::Closed)?;
    if let Some(exception_id) = &r.exception_id {
        if exceptions::lock(tx, exception_id).await?.is_some_and(|e| e.status == ExceptionStatus::Open) {
            return Err(Error::Conflict(format!(
                "return {} waits for a person (exception {exception_id}): approve or reject it first",
                label_of(&r)
            )));
        }
    }
    returns::set_status(tx, &r.id, next, now_ms).await?;
    let note = if note.trim().is_empty() { String::new() } else { format!(": {}", note.trim()) };
    returns::event(tx, &r.id, now_ms, next.as_str(), by, &format!("Closed by {by}{note}")).await?;
    orders::event(tx, &r.order_id, now_ms, "return_closed", &format!("Return {} closed{note}", label_of(&r))).await?;
    Ok(())
}

/// Calls off an authorized return whose units have not arrived
/// (`authorized`, `label_issued` or `in_transit` → `cancelled`, final): its
/// units may be asked for again, and an exchange's replacement order is
/// cancelled with its reservation released. Who and why are logged.
async fn cancel(tx: &mut Tx, ctx: &Ctx, key: &str, by: &str, reason: &str, now_ms: i64) -> Result<(), Error> {
    let r = locate(tx, key).await?;
    let next = r.status.transition(ReturnStatus::Cancelled)?;
    returns::set_status(tx, &r.id, next, now_ms).await?;
    returns::event(tx, &r.id, now_ms, next.as_str(), by, &format!("Cancelled by {by}: {reason}")).await?;
    let message = format!("Return {} cancelled by {by}: {reason}", label_of(&r));
    orders::event(tx, &r.order_id, now_ms, "return_cancelled", &message).await?;
    crate::exchanges::follow_return(tx, ctx, &r, next, now_ms).await?;
    Ok(())
}

/// The documents and the steps after authorization, as [`Engine`] methods.
impl Engine {
    /// Uses `carrier` to issue return labels (the default is
    /// [`crate::return_carrier::SelfPrinted`]).
    pub fn with_return_carrier(mut self, carrier: Arc<dyn ReturnCarrier>) -> Engine {
        self.carrier = carrier;
        self
    }

    async fn label_facts(&self, key: &str) -> Result<LabelFacts, Error> {
        let mut tx = self.read().await?;
        let facts = label_facts(&mut tx, key).await;
        tx.rollback().await?;
        facts
    }

    /// The return label as a PDF: the carrier's, once one issued it;
    /// otherwise the self-printed 4 × 6 label.
    pub async fn return_label_pdf(&self, key: &str) -> Result<Vec<u8>, Error> {
        let facts = self.label_facts(key).await?;
        let mut tx = self.read().await?;
        let stored = returns::label_file(&mut tx, &facts.view.id).await?;
        tx.rollback().await?;
        if let Some((_, body)) = stored {
            return base64::engine::general_purpose::STANDARD
                .decode(body)
                .map_err(|e| corrupt(format!("label file of return {}: {e}", facts.view.id)));
        }
        let page = facts.label().layout().map_err(corrupt)?;
        crate::pdf::render(&[page]).map_err(corrupt)
    }

    /// The self-printed label as ZPL, for a thermal printer.
    pub async fn return_label_zpl(&self, key: &str) -> Result<String, Error> {
        self.label_facts(key).await?.label().zpl().map_err(corrupt)
    }

    /// The packing slip: what goes in the box.
    pub async fn return_packing_slip_pdf(&self, key: &str) -> Result<Vec<u8>, Error> {
        let pages = self.label_facts(key).await?.slip().layout().map_err(corrupt)?;
        crate::pdf::render(&pages).map_err(corrupt)
    }

    /// Issues an authorized return's label through the carrier and records
    /// it: `label_issued`. Nothing is recorded when the carrier fails
    /// ([`Error::Carrier`]) or the return is past `authorized`.
    pub async fn issue_return_label(&self, key: &str, by: &str) -> Result<ReturnView, Error> {
        let by = crate::actor(by)?;
        let facts = self.label_facts(key).await?;
        // Refused before the carrier is asked (and charges for a label).
        status_of(&facts.view)?.transition(ReturnStatus::LabelIssued)?;
        let issued = self
            .carrier
            .issue_label(&facts.parcel(), &facts.from, &facts.to)
            .await
            .map_err(|e: CarrierError| Error::Carrier(e.to_string()))?;
        let (now, id, issued) = (self.now_ms(), facts.view.id.clone(), Arc::new(issued));
        self.run(move |tx, _| Box::pin(async move { record_label(tx, &id, &issued, &by, now).await })).await?;
        self.get_return(&facts.view.id).await?.ok_or_else(|| corrupt("the return vanished"))
    }

    /// The parcel was handed to the carrier: `in_transit` (tracking number
    /// optional).
    pub async fn return_in_transit(&self, key: &str, tracking: Option<&str>, by: &str) -> Result<ReturnView, Error> {
        let by = crate::actor(by)?;
        let tracking = match tracking.map(str::trim).filter(|t| !t.is_empty()) {
            Some(t) => Some(Text::parse("tracking", t, TextRule::CARRIER)?.into_string()),
            None => None,
        };
        let (now, k) = (self.now_ms(), key.to_owned());
        self.run(move |tx, _| Box::pin(async move { in_transit(tx, &k, tracking.as_deref(), &by, now).await })).await?;
        self.get_return(key).await?.ok_or_else(|| Error::NotFound { what: "return", key: key.to_owned() })
    }

    /// Calls off an authorized return before its units arrive: `cancelled`
    /// (an exchange's replacement order is cancelled); `reason` is required.
    pub async fn cancel_return(&self, key: &str, by: &str, reason: &str) -> Result<ReturnView, Error> {
        let by = Text::parse("by", by, TextRule::NAME.required())?.into_string();
        let reason = Text::parse("reason", reason, TextRule::REASON.required())?.into_string();
        let (now, k) = (self.now_ms(), key.to_owned());
        self.run(move |tx, ctx| Box::pin(async move { cancel(tx, ctx, &k, &by, &reason, now).await })).await?;
        self.get_return(key).await?.ok_or_else(|| Error::NotFound { what: "return", key: key.to_owned() })
    }

    /// Closes a refunded or exchanged return (or a rejection): `closed`.
    pub async fn close_return(&self, key: &str, by: &str, note: &str) -> Result<ReturnView, Error> {
        let by = crate::actor(by)?;
        let note = Text::parse("note", note, TextRule::NOTE)?.into_string();
        let (now, k) = (self.now_ms(), key.to_owned());
        self.run(move |tx, _| Box::pin(async move { close(tx, &k, &by, &note, now).await })).await?;
        self.get_return(key).await?.ok_or_else(|| Error::NotFound { what: "return", key: key.to_owned() })
    }
}
