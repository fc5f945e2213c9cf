//! Complaints: a person records that a customer complained about an order
//! (the complaint volume metric counts them). The order's timeline notes
//! it too.

use switchyard_core::{Text, TextRule};
use switchyard_store::complaints::{self, ComplaintView};
use switchyard_store::orders;

use crate::{actor, Engine, Error};

impl Engine {
    /// Records a complaint against an order (404 when there is no such
    /// order); `note` says what it was about, `by` who recorded it.
    pub async fn add_complaint(&self, order_id: &str, note: &str, by: &str) -> Result<ComplaintView, Error> {
        let note = Text::parse("note", note, TextRule::NOTE.required())?.into_string();
        let by = actor(by)?;
        let (now, order_id) = (self.now_ms(), order_id.to_owned());
        let id = self
            .run(move |tx, ctx| {
                Box::pin(async move {
                    if orders::lock(tx, &order_id).await?.is_none() {
                        return Err(Error::NotFound { what: "order", key: order_id.clone() });
                    }
                    let id = ctx.ids.next(now);
                    complaints::insert(tx, &id, &order_id, &note, &by, now).await?;
                    orders::event(tx, &order_id, now, "complaint", &format!("Complaint recorded by {by}: {note}"))
                        .await?;
                    Ok(id)
                })
            })
            .await?;
        let mut tx = self.read().await?;
        let view = complaints::get(&mut tx, &id).await?;
        tx.rollback().await?;
        view.ok_or_else(|| Error::NotFound { what: "complaint", key: id })
    }
}
