//! Stock levels out to the channels, first half: from the outbox's
//! `atp_changed` messages to each live connection's level per SKU.
//!
//! The fan-out claims the messages, computes what each live connection in
//! whose SKU scope the SKU falls may sell (available less its buffer; a
//! component's change reaches the bundles made of it) and writes it to
//! `channel_stock`, one row per (connection, SKU) — so only the newest
//! level is ever sent (coalescing) — then acknowledges the messages, all in
//! one transaction. The second half (`channel_push`) sends due rows.

use std::collections::{BTreeMap, BTreeSet};

use switchyard_channels::remote::remote;
use switchyard_core::outbox::Message;
use switchyard_core::{Channel, ChannelName, Sku, SyncMode};
use switchyard_store::channel_sync::{self, Attempt, Level};
use switchyard_store::{catalog, outbox, Tx};

use crate::reads::availability_in;
use crate::{Engine, Error};

/// The consumer name the fan-out claims `atp_changed` messages under.
const CONSUMER: &str = "channel-sync";
/// How long a claim is held (the fan-out runs in one transaction, far less).
const LEASE_MS: i64 = 60_000;

/// Whether Switchyard pushes stock to this connection now.
pub(crate) fn pushes_stock(c: &Channel) -> bool {
    c.active && c.mode == SyncMode::Live && remote(c.kind).is_some()
}

/// The new state of a (connection, SKU) level when the channel should now
/// show `wanted`, first changed at `changed_at`; `None` when nothing
/// changes (the same level is already waiting or settled).
pub(crate) fn next_level(
    old: Option<Level>,
    channel: &ChannelName,
    sku: &str,
    wanted: i64,
    changed_at: i64,
    now_ms: i64,
) -> Option<Level> {
    let Some(mut l) = old else {
        return Some(Level {
            channel: channel.to_string(),
            sku: sku.to_owned(),
            wanted,
            version: 1,
            changed_at: Some(changed_at),
            sent: None,
            sent_at: None,
            failures: 0,
            next_attempt_at: now_ms,
            last_error: None,
            dead_at: None,
        });
    };
    if l.wanted == wanted {
        return None;
    }
    l.wanted = wanted;
    l.version += 1;
    if l.dead_at.is_some() {
        // A new level is a new message: it gets its own attempts.
        (l.dead_at, l.failures, l.next_attempt_at) = (None, 0, now_ms);
    }
    if l.sent == Some(wanted) {
        // Back to what the channel already shows: nothing to send.
        (l.changed_at, l.failures, l.last_error) = (None, 0, None);
    } else {
        l.changed_at = Some(l.changed_at.unwrap_or(changed_at));
        // A connection backing off keeps backing off; otherwise, now.
        l.next_attempt_at = if l.failures > 0 { l.next_attempt_at.max(now_ms) } else { now_ms };
    }
    Some(l)
}

/// Sets each pushing connection's level of each SKU to what it may sell.
/// `force` makes every level due again (a resync), even an unchanged one.
async fn set_levels(
    tx: &mut Tx,
    channels: &[Channel],
    skus: &BTreeMap<String, i64>,
    force: bool,
    now_ms: i64,
) -> Result<usize, Error> {
    let mut written = 0;
    for (raw, changed_at) in skus {
        let Ok(sku) = Sku::parse(raw) else { continue };
        let Some(a) = availability_in(tx, &sku).await? else { continue };
        for c in channels.iter().filter(|c| c.sku_scope.contains(raw)) {
            let wanted = c.buffer.atp(a.available);
            let old = channel_sync::get(tx, &c.name, raw).await?;
            let next = match next_level(old.clone(), &c.name, raw, wanted, *changed_at, now_ms) {
                Some(l) => Some(l),
                None if force => old.map(|mut l| {
                    // A new instruction: an attempt of the old one in flight
                    // must not dead-letter it.
                    l.version += 1;
                    l.changed_at = Some(l.changed_at.unwrap_or(*changed_at));
                    (l.dead_at, l.failures, l.next_attempt_at, l.last_error) = (None, 0, now_ms, None);
                    l
                }),
                None => None,
            };
            if let Some(l) = next {
                channel_sync::put(tx, &l).await?;
                written += 1;
            }
        }
    }
    Ok(written)
}

/// Makes every level of a pushing connection due, computed afresh for
/// every SKU in its scope (and every SKU it has a level for).
pub(crate) async fn resync_in(tx: &mut Tx, c: &Channel, now_ms: i64) -> Result<usize, Error> {
    let mut skus: BTreeSet<String> = catalog::sku_codes(tx).await?.into_iter().collect();
    skus.extend(channel_sync::skus(tx, &c.name).await?);
    let skus = skus.into_iter().map(|s| (s, now_ms)).collect();
    set_levels(tx, std::slice::from_ref(c), &skus, true, now_ms).await
}

/// Makes one SKU's level of a pushing connection due again, dead or not
/// (its mapping changed: where it is sent is new).
pub(crate) async fn resend_in(tx: &mut Tx, c: &Channel, sku: &str, now_ms: i64) -> Result<usize, Error> {
    if !pushes_stock(c) {
        return Ok(0);
    }
    let skus = BTreeMap::from([(sku.to_owned(), now_ms)]);
    set_levels(tx, std::slice::from_ref(c), &skus, true, now_ms).await
}

/// What one fan-out did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FanOut {
    /// `atp_changed` messages taken from the outbox.
    pub messages: usize,
    /// Connection levels that changed.
    pub levels: usize,
}

impl Engine {
    /// Takes up to `limit` `atp_changed` messages and turns them into the
    /// live connections' levels (see the module doc).
    pub async fn fan_out_stock(&self, limit: i64) -> Result<FanOut, Error> {
        let now = self.now_ms();
        self.run(move |tx, _| {
            Box::pin(async move {
                outbox::supersede(tx, "atp_changed", now).await?;
                let claimed = outbox::claim(tx, "atp_changed", CONSUMER, limit, now, LEASE_MS).await?;
                if claimed.is_empty() {
                    return Ok(FanOut::default());
                }
                let channels: Vec<Channel> =
                    catalog::list_channels(tx).await?.into_iter().filter(pushes_stock).collect();
                let mut skus = BTreeMap::new();
                if !channels.is_empty() {
                    for c in &claimed {
                        let Message::AtpChanged { sku } = &c.message else { continue };
                        let mut affected = catalog::bundles_containing(tx, sku).await?;
                        affected.push(sku.clone());
                        for s in affected {
                            let at = skus.entry(s).or_insert(c.created_at);
                            *at = (*at).min(c.created_at);
                        }
                    }
                }
                let levels = set_levels(tx, &channels, &skus, false, now).await?;
                for c in &claimed {
                    outbox::ack(tx, c.id, CONSUMER, now).await?;
                }
                Ok(FanOut { messages: claimed.len(), levels })
            })
        })
        .await
    }

    /// Makes every level of a connection due again, computed afresh for
    /// every SKU in its scope ("resync all stock"); returns how many.
    pub async fn resync_channel(&self, name: &ChannelName) -> Result<usize, Error> {
        let (now, name) = (self.now_ms(), name.clone());
        self.run(move |tx, _| {
            Box::pin(async move {
                let c = catalog::get_channel(tx, &name)
                    .await?
                    .ok_or_else(|| Error::NotFound { what: "channel", key: name.to_string() })?;
                if !pushes_stock(&c) {
                    return Err(Error::Invalid(format!(
                        "channel {name} does not receive stock levels \
                         (it must be active, live and of a kind with an API)"
                    )));
                }
                resync_in(tx, &c, now).await
            })
        })
        .await
    }

    /// Every level of a connection (what it should show, what it last
    /// acknowledged), by SKU.
    pub async fn channel_levels(&self, name: &ChannelName) -> Result<Vec<Level>, Error> {
        let mut tx = self.read().await?;
        let out = channel_sync::list(&mut tx, name).await?;
        tx.rollback().await?;
        Ok(out)
    }
}

/// How a connection's sync stands, for the Channels page and its API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncStatus {
    pub mode: SyncMode,
    /// The names of the connection's credentials (never their values).
    pub credentials: Vec<String>,
    pub pushes_stock: bool,
    /// Levels waiting to be sent (coalesced: one per SKU at most).
    pub backlog: i64,
    /// Levels dead-lettered.
    pub dead: i64,
    /// Stock changes not yet turned into levels (for every connection).
    pub unprocessed_changes: i64,
    /// Orders (and units) the marketplace fulfilled itself, recorded.
    pub marketplace_orders: i64,
    pub marketplace_units: i64,
    pub last_ack_at: Option<i64>,
    pub last_order_at: Option<i64>,
    /// Sync lag (stock change → channel acknowledgement) over the last
    /// hour's acknowledgements.
    pub lag_p50_ms: Option<i64>,
    pub lag_p95_ms: Option<i64>,
    pub lag_samples: usize,
    /// The newest requests, and the newest failures.
    pub recent: Vec<Attempt>,
    pub recent_failures: Vec<Attempt>,
}

/// The `p`-th percentile (nearest rank) of sorted values.
pub(crate) fn percentile(sorted: &[i64], p: usize) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (sorted.len() * p.min(100)).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

impl Engine {
    /// A connection's sync status (see [`SyncStatus`]).
    pub async fn channel_sync_status(&self, name: &ChannelName) -> Result<SyncStatus, Error> {
        let now = self.now_ms();
        let mut tx = self.read().await?;
        let c = catalog::get_channel(&mut tx, name)
            .await?
            .ok_or_else(|| Error::NotFound { what: "channel", key: name.to_string() })?;
        let (backlog, dead, last_ack_at) = channel_sync::counts(&mut tx, name).await?;
        let lags = channel_sync::lags(&mut tx, name, now.saturating_sub(3_600_000), 10_000).await?;
        let recent = channel_sync::recent(&mut tx, name, false, 10).await?;
        let recent_failures = channel_sync::recent(&mut tx, name, true, 10).await?;
        let last_order_at = channel_sync::last_order_at(&mut tx, name).await?;
        let unprocessed_changes = outbox::pending(&mut tx, "atp_changed").await?;
        let credentials = catalog::credential_names(&mut tx, name).await?;
        let (marketplace_orders, marketplace_units) = switchyard_store::marketplace::totals(&mut tx, name).await?;
        tx.rollback().await?;
        Ok(SyncStatus {
            mode: c.mode,
            credentials,
            pushes_stock: pushes_stock(&c),
            backlog,
            dead,
            unprocessed_changes,
            marketplace_orders,
            marketplace_units,
            last_ack_at,
            last_order_at,
            lag_p50_ms: percentile(&lags, 50),
            lag_p95_ms: percentile(&lags, 95),
            lag_samples: lags.len(),
            recent,
            recent_failures,
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<i64> = (1..=20).collect();
        assert_eq!((percentile(&v, 50), percentile(&v, 95), percentile(&v, 100)), (Some(10), Some(19), Some(20)));
        assert_eq!((percentile(&[7], 95), percentile(&[], 50)), (Some(7), None));
    }

    use super::*;

    fn name() -> ChannelName {
        ChannelName::parse("shop").expect("name")
    }

    #[test]
    fn a_level_coalesces_to_the_newest_and_settles_when_back_to_what_was_sent() {
        let first = next_level(None, &name(), "TEE", 5, 100, 110).expect("new");
        assert_eq!((first.wanted, first.version, first.changed_at, first.next_attempt_at), (5, 1, Some(100), 110));
        assert_eq!(next_level(Some(first.clone()), &name(), "TEE", 5, 200, 210), None, "same level: nothing new");
        let second = next_level(Some(first), &name(), "TEE", 4, 200, 210).expect("changed");
        assert_eq!((second.wanted, second.version, second.changed_at), (4, 2, Some(100)), "lag from the first change");
        let sent = Level { sent: Some(4), changed_at: None, ..second };
        let back = next_level(Some(sent.clone()), &name(), "TEE", 3, 300, 310).expect("changed");
        assert_eq!(back.changed_at, Some(300));
        let settled = next_level(Some(back), &name(), "TEE", 4, 400, 410).expect("changed");
        assert_eq!((settled.changed_at, settled.version), (None, 4), "the channel already shows 4");
    }

    #[test]
    fn a_backing_off_level_keeps_its_wait_and_a_dead_one_revives_on_a_new_level() {
        let waiting = Level {
            failures: 2,
            next_attempt_at: 5_000,
            ..next_level(None, &name(), "TEE", 5, 100, 100).expect("new")
        };
        let next = next_level(Some(waiting), &name(), "TEE", 6, 200, 200).expect("changed");
        assert_eq!((next.failures, next.next_attempt_at), (2, 5_000));
        let dead = Level { dead_at: Some(300), failures: 8, ..next };
        let revived = next_level(Some(dead), &name(), "TEE", 7, 400, 400).expect("changed");
        assert_eq!((revived.dead_at, revived.failures, revived.next_attempt_at), (None, 0, 400));
    }
}
