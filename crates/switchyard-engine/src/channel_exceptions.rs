//! Exceptions about a channel connection itself rather than an order: stock
//! levels the channel kept refusing (dead-lettered). One stays open per
//! connection while levels are dead; it closes by itself once every level
//! is delivered again, or by a person: `retry` makes every level due again
//! (a resync), `dismiss` (with a reason) leaves them as they are.

use switchyard_core::{ChannelName, ExceptionKind, ExceptionStatus, Resolution, ResolutionAction};
use switchyard_store::{catalog, channel_sync, exceptions, Tx};

use crate::channel_sync::{pushes_stock, resync_in};
use crate::{Ctx, Error, StoreError};

/// Opens a `sync_failed` exception on the connection unless one is open
/// already (a channel that is down for an hour is one problem, not one per
/// SKU). Returns the new exception's id.
pub(crate) async fn open_sync_failed(
    tx: &mut Tx,
    ctx: &Ctx,
    channel: &ChannelName,
    message: &str,
    now_ms: i64,
) -> Result<Option<String>, Error> {
    let open = exceptions::open_of_channel(tx, channel.as_str()).await?;
    if open.iter().any(|(_, k)| *k == ExceptionKind::SyncFailed) {
        return Ok(None);
    }
    let id = ctx.ids.next(now_ms);
    exceptions::insert_for_channel(tx, &id, channel.as_str(), ExceptionKind::SyncFailed, message, now_ms).await?;
    exceptions::log(tx, &id, "system", "opened", message, now_ms).await?;
    Ok(Some(id))
}

/// Resolves the connection's open `sync_failed` exception once none of its
/// levels is dead any more (every one delivered since).
pub(crate) async fn settle_sync_failed(tx: &mut Tx, channel: &ChannelName, now_ms: i64) -> Result<(), Error> {
    let open = exceptions::open_of_channel(tx, channel.as_str()).await?;
    let open: Vec<String> =
        open.into_iter().filter(|(_, k)| *k == ExceptionKind::SyncFailed).map(|(id, _)| id).collect();
    if open.is_empty() {
        return Ok(());
    }
    let (_, dead, _) = channel_sync::counts(tx, channel).await?;
    if dead > 0 {
        return Ok(());
    }
    let note = "every stock level was delivered again";
    for id in open {
        exceptions::close(tx, &id, ExceptionStatus::Resolved, "system", "delivered", note, now_ms).await?;
        exceptions::log(tx, &id, "system", "delivered", note, now_ms).await?;
    }
    Ok(())
}

/// A person's resolution of a connection's exception (already locked,
/// open, and the action one its kind allows).
pub(crate) async fn resolve(
    tx: &mut Tx,
    id: &str,
    channel: Option<&str>,
    r: &Resolution,
    actor: &str,
    now_ms: i64,
) -> Result<(), Error> {
    let channel =
        channel.ok_or_else(|| StoreError::corrupt(format!("exception {id} names no order and no channel")))?;
    let mut note = r.note.trim().to_owned();
    let status = match r.action {
        ResolutionAction::Retry => {
            let name = ChannelName::parse(channel)
                .map_err(|e| StoreError::corrupt(format!("exception {id}: channel {channel:?}: {e}")))?;
            let c = catalog::get_channel(tx, &name)
                .await?
                .ok_or_else(|| Error::NotFound { what: "channel", key: channel.to_owned() })?;
            if !pushes_stock(&c) {
                return Err(Error::Conflict(format!(
                    "channel {channel} does not receive stock levels now (inactive, import_only or no API): \
                     dismiss the exception instead"
                )));
            }
            let n = resync_in(tx, &c, now_ms).await?;
            let sent = format!("{n} stock levels made due again");
            note = if note.is_empty() { sent } else { format!("{note} ({sent})") };
            ExceptionStatus::Resolved
        }
        ResolutionAction::Dismiss if note.is_empty() => {
            return Err(Error::Conflict("dismissing an exception needs a reason".into()));
        }
        ResolutionAction::Dismiss => ExceptionStatus::Dismissed,
        other => {
            return Err(Error::Conflict(format!(
                "{} does not apply to an exception about channel {channel} (use retry or dismiss)",
                other.as_str()
            )))
        }
    };
    exceptions::close(tx, id, status, actor, r.action.as_str(), &note, now_ms).await?;
    exceptions::log(tx, id, actor, r.action.as_str(), &note, now_ms).await?;
    Ok(())
}
