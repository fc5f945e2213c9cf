//! Orders in by polling, for the platforms that send no webhooks we take
//! (Amazon's Orders v0 `getOrders`, Etsy's `getShopReceipts`, eBay's
//! Fulfillment `getOrders`): part of the sync worker's round, for every
//! active connection whose platform is polled — live or `import_only` (import
//! only means no stock goes out; orders still come in).
//!
//! A poll is a **run** of pages from the connection's stored checkpoint (the
//! platform's own timestamp of the newest change taken in; none yet: since
//! `now − poll_lookback_hours`, default 24). Amazon's orders each need their
//! items first (`Polled::NeedsItems`), joined with `Remote::with_items`.
//! Every payload goes through the channel's adapter and then, one order at a
//! time, to `Engine::receive_channel_orders`, idempotent by (channel,
//! external id): an order seen again is unchanged, or cancelled / marked
//! paid when the platform says so now. Only after the whole run is applied
//! does the checkpoint move (to the newest change seen, but never past the
//! run's start less a minute: an order that changed while the run paged is
//! read again next run) and the next poll come due (`poll_interval_secs`, default 60, 15 to
//! 3,600). A crash or restart mid-run restarts from the stored checkpoint:
//! orders are applied again, which changes nothing — none is lost, none
//! doubled.
//!
//! Requests draw on the same token buckets as stock pushes
//! (`<channel>/<bucket>`, `Remote::limit_for`: Amazon's `getOrders` and
//! `getOrderItems` each have their own). When a bucket runs dry mid-run the
//! run is kept in memory and goes on in a later round, where it stopped. A
//! 429 pauses the connection until `Retry-After` and keeps the run; a 5xx, a
//! timeout or an unreadable page drops the run and backs off
//! (`core::sync::Backoff`, never giving up: a poll is retried at the longest
//! delay after `max_attempts`), with the failures and the last error kept in
//! `channel_polls`; the checkpoint stays where it was.
//!
//! A connection whose orders reach us another way sets `poll_orders: off`.
//!
//! An order the adapter refuses (or the engine's intake refuses: an unknown
//! SKU, a bad address) is logged (purpose `poll`, outcome `rejected`, the
//! parser's words) and skipped; the run goes on and the checkpoint moves
//! past it. Refused as it is, it would be refused at every poll and hold back
//! every order after it; when the platform changes it (an Amazon order
//! leaving `Pending`, a fixed listing), its change time moves past the
//! checkpoint and it comes again.

use std::collections::{HashMap, VecDeque};

use switchyard_channels::remote::{checkpoint_ms, later_checkpoint, remote, Conn, Outcome, Polled, Remote, Request};
use switchyard_channels::{adapter, ChannelOrder};
use switchyard_core::sync::TokenBucket;
use switchyard_core::{Channel, ChannelName};
use switchyard_store::catalog;
use switchyard_store::channel_sync::{self, PollState, StoredToken};

use crate::channel_push::{connection_settings, ChannelSync};
use crate::{Engine, Error};

/// Seconds between polls unless the connection's `poll_interval_secs` says
/// otherwise (bounded by [`MIN_INTERVAL_SECS`] and [`MAX_INTERVAL_SECS`]).
pub const DEFAULT_POLL_INTERVAL_SECS: i64 = 60;
const MIN_INTERVAL_SECS: i64 = 15;
const MAX_INTERVAL_SECS: i64 = 3_600;
/// How far back the first poll looks (`poll_lookback_hours`, at most 30 days).
const DEFAULT_LOOKBACK_HOURS: i64 = 24;
const MAX_LOOKBACK_HOURS: i64 = 720;
/// A run of more pages than this is refused (a platform paging forever).
const MAX_PAGES_PER_RUN: usize = 1_000;
/// A run's checkpoint never passes the run's start less this much: an
/// order that changed while the run was paging (read before its change, or
/// on a page the change moved it past) is read again by the next run, and
/// the platform's clock may run a little ahead of ours. Repeats are harmless.
const RUN_OVERLAP_MS: i64 = 60_000;
/// At most this many requests per connection in one round, so a long run
/// does not hold up the other connections' stock; the run goes on next round.
const MAX_REQUESTS_PER_ROUND: usize = 200;

/// What one round of polls did, for logs and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PollRound {
    /// Runs finished (checkpoint stored).
    pub runs: usize,
    pub requests: usize,
    /// Orders applied (created, cancelled, paid or unchanged).
    pub orders: usize,
    pub created: usize,
    /// Orders refused and skipped.
    pub rejected: usize,
    pub throttled: usize,
    pub failed: usize,
}

/// A run of pages under way, kept between rounds when a rate limit stops it.
#[derive(Debug, Clone)]
pub(crate) struct Run {
    /// The stored checkpoint it started from (a changed one drops the run).
    from: Option<String>,
    start_ms: i64,
    /// When the run began (our clock).
    began_ms: i64,
    /// The next page's cursor (`None` before the first page, or after the last).
    cursor: Option<String>,
    pages: usize,
    /// Orders of the current page not yet applied.
    pending: VecDeque<Polled>,
    newest: Option<String>,
}

/// The runs under way, by connection.
pub(crate) type Runs = HashMap<String, Run>;

/// How a run's step ended when it did not simply go on.
enum Stop {
    /// A bucket is empty, or this round's share is spent: go on later.
    Later,
    /// The platform said 429.
    Throttled(Option<i64>),
    /// Drop the run and back off.
    Failed(String),
    /// The platform refused the request (a 4xx): for an order's items, that
    /// order is skipped; for a page, the run fails.
    Refused(String),
}

/// Whether a connection is polled: active, with a remote API that polls,
/// and not switched off by its setting `poll_orders: off` (its orders reach
/// us another way; it is connected for stock and shipments only).
fn polled(c: &Channel) -> Option<&'static dyn Remote> {
    let off = c.settings.get("poll_orders").is_some_and(|v| matches!(v.trim(), "off" | "false" | "no" | "0"));
    let api = remote(c.kind).filter(|_| c.active && !off)?;
    let (settings, creds) = (connection_settings(c), Default::default());
    let conn = Conn { settings: &settings, credentials: &creds };
    // A platform that polls builds a request, or refuses for want of a
    // setting (still polled: the refusal is reported); one that does not
    // returns `Ok(None)`.
    match api.poll_request(conn, None, 0, None) {
        Ok(None) => None,
        _ => Some(api),
    }
}

/// A bounded number setting, or its default when absent or unreadable.
fn bounded_setting(c: &Channel, key: &str, default: i64, min: i64, max: i64) -> i64 {
    c.settings.get(key).and_then(|v| v.trim().parse::<i64>().ok()).unwrap_or(default).clamp(min, max)
}

/// The connection's poll interval in milliseconds.
/// Where the next run starts: the newest change this run saw, but never
/// past `cap_ms` (the run's start less [`RUN_OVERLAP_MS`]) and never back
/// before the old checkpoint. Checkpoints the platform writes in a form we
/// cannot read as a time keep the plain "newest seen" rule.
fn next_checkpoint(api: &dyn Remote, old: Option<&str>, newest: Option<&str>, cap_ms: i64) -> Option<String> {
    let Some(newest) = newest else { return old.map(str::to_owned) };
    let newest = match checkpoint_ms(newest) {
        Some(ms) if ms > cap_ms => api.checkpoint_at(cap_ms),
        _ => newest.to_owned(),
    };
    let Some(old) = old else { return Some(newest) };
    match (checkpoint_ms(old), checkpoint_ms(&newest)) {
        (Some(o), Some(n)) if o > n => Some(old.to_owned()),
        (Some(_), Some(_)) => Some(newest),
        _ => Some(later_checkpoint(old, &newest).to_owned()),
    }
}

pub(crate) fn poll_interval_ms(c: &Channel) -> i64 {
    bounded_setting(c, "poll_interval_secs", DEFAULT_POLL_INTERVAL_SECS, MIN_INTERVAL_SECS, MAX_INTERVAL_SECS) * 1_000
}

fn lookback_ms(c: &Channel) -> i64 {
    bounded_setting(c, "poll_lookback_hours", DEFAULT_LOOKBACK_HOURS, 0, MAX_LOOKBACK_HOURS) * 3_600_000
}

/// Errors that are ours or the database's: the run fails and is retried;
/// any other refusal is the order's own.
fn is_ours(e: &Error) -> bool {
    matches!(e, Error::Store(_) | Error::Overloaded)
}

impl Engine {
    /// Where a connection's polling stands (its checkpoint, failures, next
    /// poll).
    pub async fn channel_poll_state(&self, name: &ChannelName) -> Result<PollState, Error> {
        let mut tx = self.read().await?;
        let state = channel_sync::poll_state(&mut tx, name).await?;
        tx.rollback().await?;
        Ok(state)
    }

    async fn put_poll_state(&self, name: &ChannelName, state: PollState) -> Result<(), Error> {
        let name = name.clone();
        self.run(move |tx, _| Box::pin(async move { Ok(channel_sync::put_poll_state(tx, &name, &state).await?) })).await
    }
}

impl ChannelSync {
    /// Polls every due connection (see the module doc). An `Err` is the
    /// database's; a platform's failure is recorded on its connection.
    pub async fn poll(&mut self) -> Result<PollRound, Error> {
        let mut round = PollRound::default();
        for c in self.engine.list_channels().await? {
            let Some(api) = polled(&c) else {
                self.polls.remove(c.name.as_str());
                continue;
            };
            self.poll_connection(&c, api, &mut round).await?;
        }
        Ok(round)
    }

    async fn poll_connection(&mut self, c: &Channel, api: &dyn Remote, round: &mut PollRound) -> Result<(), Error> {
        let now = self.engine.now_ms();
        let (mut credentials, state, stored) = {
            let mut tx = self.engine.read().await?;
            let creds = catalog::credentials(&mut tx, &c.name).await?;
            let state = channel_sync::poll_state(&mut tx, &c.name).await?;
            let stored = channel_sync::token(&mut tx, &c.name).await?;
            tx.rollback().await?;
            (creds, state, stored)
        };
        if state.next_poll_at > now {
            return Ok(());
        }
        if let Some(rotated) = stored.as_ref().and_then(|t| t.refresh_token.clone()) {
            credentials.insert("refresh_token".into(), rotated);
        }
        let settings = connection_settings(c);
        let conn = Conn { settings: &settings, credentials: &credentials };
        let key = c.name.to_string();
        let mut run = match self.polls.remove(&key) {
            Some(r) if r.from == state.checkpoint => r,
            _ => Run {
                from: state.checkpoint.clone(),
                start_ms: now.saturating_sub(lookback_ms(c)),
                began_ms: now,
                cursor: None,
                pages: 0,
                pending: VecDeque::new(),
                newest: None,
            },
        };
        let mut session = Session { c, api, conn, stored: stored.as_ref(), access: None, requests: 0 };
        let stop = self.advance(&mut session, &mut run, round).await?;
        round.requests += session.requests;
        let now = self.engine.now_ms();
        let mut next = PollState { polled_at: Some(now), ..state.clone() };
        match stop {
            None => {
                round.runs += 1;
                let cap_ms = run.began_ms.saturating_sub(RUN_OVERLAP_MS);
                next.checkpoint = next_checkpoint(api, state.checkpoint.as_deref(), run.newest.as_deref(), cap_ms);
                (next.failures, next.last_error) = (0, None);
                next.next_poll_at = now.saturating_add(poll_interval_ms(c));
            }
            Some(Stop::Later) => {
                // Nothing failed: the run goes on when a token is there.
                self.polls.insert(key, run);
                return Ok(());
            }
            Some(Stop::Throttled(secs)) => {
                round.throttled += 1;
                let wait = secs.map(|s| s.clamp(0, 3_600) * 1_000).unwrap_or(self.options.default_retry_after_ms);
                let prefix = format!("{}/", c.name);
                for (_, b) in self.buckets.iter_mut().filter(|(k, _)| k.starts_with(&prefix)) {
                    b.pause_until(now.saturating_add(wait));
                }
                next.next_poll_at = now.saturating_add(wait);
                next.last_error = Some(format!("rate limited; retry after {}s", wait / 1_000));
                self.polls.insert(key, run);
            }
            Some(Stop::Failed(e) | Stop::Refused(e)) => {
                round.failed += 1;
                next.failures = state.failures.saturating_add(1);
                let b = self.options.backoff;
                let delay = b.delay_ms(next.failures, rand::random::<u64>()).unwrap_or(b.max_ms.max(1));
                next.next_poll_at = now.saturating_add(delay);
                next.last_error = Some(e.chars().take(500).collect());
                tracing::warn!(channel = %c.name, failures = next.failures, error = %e, "poll failed");
            }
        }
        self.engine.put_poll_state(&c.name, next).await
    }

    /// Takes the run as far as it goes: `None` when it is complete.
    async fn advance(
        &mut self,
        s: &mut Session<'_>,
        run: &mut Run,
        round: &mut PollRound,
    ) -> Result<Option<Stop>, Error> {
        loop {
            while let Some(item) = run.pending.front().cloned() {
                let payload = match item {
                    Polled::Ready(payload) => payload,
                    Polled::NeedsItems { order, items } => {
                        let body = match self.fetch(s, items, 1).await? {
                            Ok(body) => body,
                            Err(Stop::Refused(_)) => {
                                // Logged as refused: skipped like a payload the parser refuses.
                                round.rejected += 1;
                                run.pending.pop_front();
                                continue;
                            }
                            Err(stop) => return Ok(Some(stop)),
                        };
                        match s.api.with_items(&order, &body) {
                            Ok(p) => p,
                            Err(e) => return Ok(Some(Stop::Failed(e))),
                        }
                    }
                };
                if let Err(stop) = self.apply(s.c, &payload, round).await? {
                    return Ok(Some(stop));
                }
                run.pending.pop_front();
            }
            if run.pages > 0 && run.cursor.is_none() {
                return Ok(None);
            }
            if run.pages >= MAX_PAGES_PER_RUN {
                return Ok(Some(Stop::Failed(format!("more than {MAX_PAGES_PER_RUN} pages in one poll"))));
            }
            let req = match s.api.poll_request(s.conn, run.from.as_deref(), run.start_ms, run.cursor.as_deref()) {
                Ok(Some(r)) => r,
                Ok(None) => return Ok(None),
                Err(e) => {
                    let note = format!("cannot build the poll request: {e}");
                    self.log(s.c, "poll", 0, &Outcome::Rejected(note.clone()), None).await?;
                    return Ok(Some(Stop::Failed(note)));
                }
            };
            let body = match self.fetch(s, req, 0).await? {
                Ok(body) => body,
                Err(stop) => return Ok(Some(stop)),
            };
            match s.api.read_poll(&body, run.cursor.as_deref()) {
                Ok(page) => {
                    run.pages += 1;
                    run.cursor = page.next;
                    run.newest = match (run.newest.take(), page.newest) {
                        (Some(a), Some(b)) => Some(later_checkpoint(&a, &b).to_owned()),
                        (a, b) => a.or(b),
                    };
                    run.pending = page.orders.into();
                }
                Err(e) => return Ok(Some(Stop::Failed(e))),
            }
        }
    }

    /// Sends one poll request (a page, or an order's items) within the rate
    /// limit and logs it: its answer's body, or why the run stops.
    async fn fetch(
        &mut self,
        s: &mut Session<'_>,
        mut req: Request,
        items: usize,
    ) -> Result<Result<Vec<u8>, Stop>, Error> {
        if s.requests >= MAX_REQUESTS_PER_ROUND {
            return Ok(Err(Stop::Later));
        }
        let (bucket, rl) = s.api.limit_for(&req);
        let now = self.engine.now_ms();
        let b = self
            .buckets
            .entry(format!("{}/{bucket}", s.c.name))
            .or_insert_with(|| TokenBucket::new(rl.requests, rl.per_ms, rl.burst, now));
        if b.take(now).is_err() {
            return Ok(Err(Stop::Later));
        }
        if s.access.is_none() {
            match self.access_token(s.c, s.api, s.conn, s.stored).await? {
                Ok(t) => s.access = Some(t),
                Err(o) => return Ok(Err(Stop::Failed(format!("cannot get an access token: {}", words(&o))))),
            }
        }
        if let Err(e) = s.api.authorize(s.conn, s.access.as_ref().and_then(|t| t.as_deref()), &mut req) {
            return Ok(Err(Stop::Failed(format!("cannot authorize: {e}"))));
        }
        s.requests += 1;
        let (outcome, status, body) = self.send(s.conn, s.api, &req).await;
        self.log(s.c, "poll", items, &outcome, status).await?;
        Ok(match outcome {
            Outcome::Accepted => Ok(body),
            Outcome::Throttled { retry_after_secs } => Err(Stop::Throttled(retry_after_secs)),
            Outcome::Transient(e) => Err(Stop::Failed(e)),
            Outcome::Rejected(e) => Err(Stop::Refused(e)),
        })
    }

    /// Parses one payload and hands its orders to the intake one by one; a
    /// refused payload or order is logged and skipped. `Err(stop)` only for
    /// a failure that is ours (the run is retried).
    async fn apply(&mut self, c: &Channel, payload: &[u8], round: &mut PollRound) -> Result<Result<(), Stop>, Error> {
        let Some(parser) = adapter(c.kind) else {
            return Ok(Err(Stop::Failed(format!("no parser for {}", c.kind.as_str()))));
        };
        let orders: Vec<ChannelOrder> = match parser.parse(payload) {
            Ok(o) => o,
            Err(e) => {
                round.rejected += 1;
                self.log(c, "poll", 1, &Outcome::Rejected(e.to_string()), None).await?;
                return Ok(Ok(()));
            }
        };
        for o in orders {
            match self.engine.receive_channel_orders(&c.name, None, std::slice::from_ref(&o)).await {
                Ok(received) => {
                    round.orders += received.len();
                    round.created += received.iter().filter(|r| r.outcome == crate::ChannelOutcome::Created).count();
                }
                Err(e) if is_ours(&e) => return Ok(Err(Stop::Failed(format!("order {}: {e}", o.external_id)))),
                Err(e) => {
                    round.rejected += 1;
                    let note = format!("order {}: {}: {e}", o.external_id, e.code().as_str());
                    self.log(c, "poll", 1, &Outcome::Rejected(note), None).await?;
                }
            }
        }
        Ok(Ok(()))
    }
}

/// One connection's poll in one round: what every request needs.
struct Session<'a> {
    c: &'a Channel,
    api: &'a dyn Remote,
    conn: Conn<'a>,
    stored: Option<&'a StoredToken>,
    /// The access token once asked for (`Some(None)`: the platform has none).
    access: Option<Option<String>>,
    requests: usize,
}

fn words(o: &Outcome) -> String {
    match o {
        Outcome::Accepted => "accepted".into(),
        Outcome::Throttled { retry_after_secs } => format!("rate limited ({retry_after_secs:?}s)"),
        Outcome::Transient(e) | Outcome::Rejected(e) => e.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_core::ChannelDraft;

    fn channel(kind: &str, settings: &[(&str, &str)]) -> Channel {
        Channel::parse(ChannelDraft {
            name: "c".into(),
            kind: Some(kind.into()),
            settings: settings.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            active: true,
            ..ChannelDraft::default()
        })
        .expect("channel")
    }

    #[test]
    fn marketplaces_without_webhooks_are_polled_and_intervals_are_bounded() {
        assert!(polled(&channel("amazon", &[])).is_some(), "a missing setting is reported, not ignored");
        assert!(polled(&channel("etsy", &[("shop_id", "1")])).is_some());
        assert!(polled(&channel("ebay", &[])).is_some());
        assert!(polled(&channel("ebay", &[("poll_orders", "off")])).is_none());
        assert!(polled(&channel("ebay", &[("poll_orders", "on")])).is_some());
        assert!(polled(&channel("shopify", &[])).is_none());
        assert!(polled(&channel("pos", &[])).is_none());
        assert_eq!(poll_interval_ms(&channel("ebay", &[])), 60_000);
        assert_eq!(poll_interval_ms(&channel("ebay", &[("poll_interval_secs", "1")])), 15_000);
        assert_eq!(poll_interval_ms(&channel("ebay", &[("poll_interval_secs", "999999")])), 3_600_000);
        assert_eq!(poll_interval_ms(&channel("ebay", &[("poll_interval_secs", "x")])), 60_000);
        assert_eq!(lookback_ms(&channel("ebay", &[("poll_lookback_hours", "2")])), 7_200_000);
    }
}
