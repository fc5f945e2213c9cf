//! Stock levels out to the channels, second half: the sync worker. Each
//! round it runs the fan-out (`channel_sync`), then, for every live
//! connection, sends its due levels in the platform's own request shape
//! (`switchyard_channels::remote`), within the platform's rate limit (a
//! token bucket per connection; a 429 empties it until `Retry-After`), with
//! exponential backoff and jitter after failures, and dead-letters a level
//! after `Backoff::max_attempts` failures or at once when the platform
//! refuses it. Levels are absolute quantities, so a request repeated after
//! a crash sets the same number again: nothing is double-applied.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use switchyard_channels::remote::{remote, Conn, Outcome, Remote, Request, Step, StockLevel};
use switchyard_core::sync::{Backoff, TokenBucket};
use switchyard_core::{Channel, ChannelName};
use switchyard_store::channel_sync::{self, Attempt, Level, StoredToken};
use switchyard_store::{catalog, sku_map};

use crate::channel_exceptions::{open_sync_failed, settle_sync_failed};
use crate::channel_sync::pushes_stock;
use crate::{Engine, Error};

/// How the sync worker runs.
#[derive(Debug, Clone, Copy)]
pub struct SyncOptions {
    /// Pause between rounds.
    pub tick: Duration,
    /// A request that takes longer failed (transient).
    pub request_timeout: Duration,
    pub backoff: Backoff,
    /// A 429 without `Retry-After` waits this long.
    pub default_retry_after_ms: i64,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            tick: Duration::from_millis(250),
            request_timeout: Duration::from_secs(20),
            backoff: Backoff::default(),
            default_retry_after_ms: 2_000,
        }
    }
}

/// What one round did, for logs and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Round {
    pub messages: usize,
    pub requests: usize,
    pub accepted: usize,
    pub throttled: usize,
    pub failed: usize,
}

/// The sync worker: one per process (one per database).
pub struct ChannelSync {
    pub(crate) engine: Arc<Engine>,
    http: reqwest::Client,
    pub(crate) buckets: HashMap<String, TokenBucket>,
    pub(crate) options: SyncOptions,
    /// Order polls under way (`channel_poll`).
    pub(crate) polls: crate::channel_poll::Runs,
}

impl ChannelSync {
    pub fn new(engine: Arc<Engine>, options: SyncOptions) -> Result<ChannelSync, Error> {
        let http = reqwest::Client::builder()
            .timeout(options.request_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::Store(switchyard_store::StoreError::CommitFailed(format!("HTTP client: {e}"))))?;
        Ok(ChannelSync { engine, http, buckets: HashMap::new(), options, polls: Default::default() })
    }

    pub(crate) fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    pub(crate) fn options(&self) -> SyncOptions {
        self.options
    }

    /// Holds every rate-limit bucket of a connection until `until_ms`.
    pub(crate) fn pause(&mut self, channel: &ChannelName, until_ms: i64) {
        let prefix = format!("{channel}/");
        for (_, b) in self.buckets.iter_mut().filter(|(k, _)| k.starts_with(&prefix)) {
            b.pause_until(until_ms);
        }
    }

    /// Runs rounds every `tick` until the runtime stops.
    pub fn spawn(mut self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            // A tick first: a server that just started answers its first
            // requests before the worker competes for the writer.
            loop {
                tokio::time::sleep(self.options.tick).await;
                if let Err(e) = self.round().await {
                    tracing::error!(error = %e, "channel sync round failed");
                }
            }
        })
    }

    /// One round: the order polls (`channel_poll`), the fan-out, then each
    /// live connection's due levels.
    pub async fn round(&mut self) -> Result<Round, Error> {
        let mut round = Round::default();
        self.poll().await?;
        loop {
            let f = self.engine.fan_out_stock(500).await?;
            round.messages += f.messages;
            if f.messages < 500 {
                break;
            }
        }
        for c in self.engine.list_channels().await?.into_iter().filter(pushes_stock) {
            self.push_connection(&c, &mut round).await?;
        }
        self.tell_origins(&mut round).await?;
        Ok(round)
    }

    async fn push_connection(&mut self, c: &Channel, round: &mut Round) -> Result<(), Error> {
        let Some(api) = remote(c.kind) else { return Ok(()) };
        let now = self.engine.now_ms();
        let per_request = api.max_levels_per_request().max(1);
        let (mut credentials, entries, due, stored) = {
            let mut tx = self.engine.read().await?;
            let creds = catalog::credentials(&mut tx, &c.name).await?;
            let entries = sku_map::entries(&mut tx, &c.name).await?;
            let limit = i64::try_from(per_request.saturating_mul(8)).unwrap_or(i64::MAX);
            let due = channel_sync::due(&mut tx, &c.name, now, limit).await?;
            let stored = channel_sync::token(&mut tx, &c.name).await?;
            tx.rollback().await?;
            (creds, entries, due, stored)
        };
        if due.is_empty() {
            return Ok(());
        }
        if let Some(rotated) = stored.as_ref().and_then(|t| t.refresh_token.clone()) {
            credentials.insert("refresh_token".into(), rotated);
        }
        // Our SKU → where the channel sells it (its SKU, its listing id).
        let mut targets: BTreeMap<String, Vec<(String, Option<String>)>> = BTreeMap::new();
        for e in entries {
            targets.entry(e.sku.to_string()).or_default().push((e.channel_sku, e.listing));
        }
        let settings = connection_settings(c);
        let conn = Conn { settings: &settings, credentials: &credentials };
        let mut groups: Vec<(Vec<Level>, Vec<StockLevel>)> = Vec::new();
        for l in due {
            let levels: Vec<StockLevel> = match targets.get(&l.sku) {
                Some(t) => t
                    .iter()
                    .map(|(cs, listing)| StockLevel {
                        channel_sku: cs.clone(),
                        listing: listing.clone(),
                        quantity: l.wanted,
                    })
                    .collect(),
                None => vec![StockLevel { channel_sku: l.sku.clone(), listing: None, quantity: l.wanted }],
            };
            // A level that cannot be sent (a listing id missing) is
            // dead-lettered alone: it must not take its batch with it.
            if let Err(e) = api.stock_requests(conn, &levels) {
                let note = format!("cannot build the request: {e}");
                self.settle(c, std::slice::from_ref(&l), &Outcome::Rejected(note), None, "unsendable").await?;
                round.failed += 1;
                continue;
            }
            match groups.last_mut() {
                Some((ls, items)) if items.len() + levels.len() <= per_request => {
                    ls.push(l);
                    items.extend(levels);
                }
                _ => groups.push((vec![l], levels)),
            }
        }
        let mut token: Option<Option<String>> = None;
        for (levels, items) in groups {
            let steps = match api.stock_requests(conn, &items) {
                Ok(r) => r,
                Err(e) => {
                    let note = format!("cannot build the request: {e}");
                    self.settle(c, &levels, &Outcome::Rejected(note), None, "unsendable").await?;
                    round.failed += 1;
                    continue;
                }
            };
            let access = match &token {
                Some(t) => t.clone(),
                None => match self.access_token(c, api, conn, stored.as_ref()).await? {
                    Ok(t) => {
                        token = Some(t.clone());
                        t
                    }
                    Err(outcome) => {
                        self.settle(c, &levels, &outcome, None, "token").await?;
                        round.failed += 1;
                        return Ok(());
                    }
                },
            };
            let mut result = (Outcome::Accepted, None);
            for step in steps {
                match self.run_step(c, api, conn, access.as_deref(), step, round).await {
                    None => return Ok(()), // out of rate-limit tokens: a later round goes on
                    Some((Outcome::Accepted, status)) => result.1 = status,
                    Some(other) => {
                        result = other;
                        break;
                    }
                }
            }
            match &result.0 {
                Outcome::Accepted => round.accepted += 1,
                Outcome::Throttled { .. } => round.throttled += 1,
                _ => round.failed += 1,
            }
            let stop = matches!(result.0, Outcome::Throttled { .. });
            self.settle(c, &levels, &result.0, result.1, "stock").await?;
            if stop {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Runs one step of a message: its request, and for a question the
    /// steps its answer leads to. `None` when the rate limit has no token
    /// left for a request (nothing was sent for it).
    pub(crate) async fn run_step(
        &mut self,
        c: &Channel,
        api: &dyn Remote,
        conn: Conn<'_>,
        access: Option<&str>,
        mut step: Step,
        round: &mut Round,
    ) -> Option<(Outcome, Option<i64>)> {
        // A question's answer leads to at most a few more steps.
        for _ in 0..8 {
            let (mut req, then) = match step {
                Step::Send(r) => (r, None),
                Step::Ask { request, then } => (request, Some(then)),
            };
            let (bucket, rl) = api.limit_for(&req);
            let now = self.engine.now_ms();
            let key = format!("{}/{bucket}", c.name);
            let b = self.buckets.entry(key).or_insert_with(|| TokenBucket::new(rl.requests, rl.per_ms, rl.burst, now));
            b.take(now).ok()?;
            if let Err(e) = api.authorize(conn, access, &mut req) {
                return Some((Outcome::Rejected(format!("cannot authorize: {e}")), None));
            }
            round.requests += 1;
            let (outcome, status, body) = self.send(conn, api, &req).await;
            match (outcome, then) {
                (Outcome::Accepted, Some(then)) => match api.resume(conn, &then, &body) {
                    Ok(next) => step = next,
                    Err(o) => return Some((o, status)),
                },
                (outcome, _) => return Some((outcome, status)),
            }
        }
        Some((Outcome::Rejected("the platform's answers led to too many steps".into()), None))
    }

    /// Sends one request; a transport failure is transient.
    pub(crate) async fn send(
        &self,
        conn: Conn<'_>,
        api: &dyn Remote,
        req: &Request,
    ) -> (Outcome, Option<i64>, Vec<u8>) {
        let base = match api.base_url(conn, req.host) {
            Ok(b) => b,
            Err(e) => return (Outcome::Rejected(e.to_string()), None, Vec::new()),
        };
        let method = match req.method.as_str() {
            "GET" => reqwest::Method::GET,
            "PUT" => reqwest::Method::PUT,
            "PATCH" => reqwest::Method::PATCH,
            _ => reqwest::Method::POST,
        };
        let mut b = self.http.request(method, format!("{base}{}", req.path));
        for (k, v) in &req.headers {
            b = b.header(k.as_str(), v.as_str());
        }
        if let Some((content_type, body)) = &req.body {
            b = b.header("content-type", content_type.as_str()).body(body.clone());
        }
        let response = match b.send().await {
            Ok(r) => r,
            Err(e) if e.is_timeout() => return (Outcome::Transient("the request timed out".into()), None, Vec::new()),
            Err(e) => {
                let note = format!("could not reach the channel: {}", without_url(&e));
                return (Outcome::Transient(note), None, Vec::new());
            }
        };
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<i64>().ok());
        let body = match response.bytes().await {
            Ok(b) => b.to_vec(),
            Err(e) => {
                let note = format!("the answer broke off: {}", without_url(&e));
                return (Outcome::Transient(note), Some(status.into()), Vec::new());
            }
        };
        (api.outcome(status, retry_after, &body), Some(status.into()), body)
    }

    /// The connection's access token, refreshed when it is about to expire;
    /// `Ok(None)` for platforms with fixed tokens.
    pub(crate) async fn access_token(
        &self,
        c: &Channel,
        api: &dyn Remote,
        conn: Conn<'_>,
        stored: Option<&StoredToken>,
    ) -> Result<Result<Option<String>, Outcome>, Error> {
        let now = self.engine.now_ms();
        let req = match api.token_request(conn) {
            Ok(None) => return Ok(Ok(None)),
            Ok(Some(r)) => r,
            Err(e) => return Ok(Err(Outcome::Rejected(format!("cannot refresh the access token: {e}")))),
        };
        if let Some(t) = stored.filter(|t| t.expires_at > now.saturating_add(60_000)) {
            return Ok(Ok(Some(t.access_token.clone())));
        }
        let (outcome, status, body) = self.send(conn, api, &req).await;
        let token = match outcome {
            Outcome::Accepted => match api.read_token(&body) {
                Ok(t) => t,
                Err(e) => {
                    self.log(c, "token", 1, &Outcome::Transient(e.clone()), status).await?;
                    return Ok(Err(Outcome::Transient(format!("the token endpoint answered: {e}"))));
                }
            },
            o => {
                self.log(c, "token", 1, &o, status).await?;
                return Ok(Err(o));
            }
        };
        let t = StoredToken {
            access_token: token.access_token.clone(),
            expires_at: now.saturating_add(token.expires_in_secs.saturating_mul(1_000)),
            refresh_token: token.refresh_token,
        };
        let name = c.name.clone();
        self.engine
            .run(move |tx, _| Box::pin(async move { Ok(channel_sync::put_token(tx, &name, &t).await?) }))
            .await?;
        self.log(c, "token", 1, &Outcome::Accepted, status).await?;
        Ok(Ok(Some(token.access_token)))
    }

    pub(crate) async fn log(
        &self,
        c: &Channel,
        purpose: &str,
        items: usize,
        o: &Outcome,
        status: Option<i64>,
    ) -> Result<(), Error> {
        let a = attempt(self.engine.now_ms(), purpose, items, o, status);
        let name = c.name.clone();
        self.engine.run(move |tx, _| Box::pin(async move { Ok(channel_sync::log(tx, &name, &a).await?) })).await
    }

    /// Records how a request for `levels` went: acknowledged levels settle
    /// (unless a newer level came meanwhile) and their lag is recorded; a
    /// throttle pauses the connection; a failure backs off or dead-letters.
    async fn settle(
        &mut self,
        c: &Channel,
        levels: &[Level],
        outcome: &Outcome,
        status: Option<i64>,
        purpose: &str,
    ) -> Result<(), Error> {
        let now = self.engine.now_ms();
        if let Outcome::Throttled { retry_after_secs } = outcome {
            let wait = retry_after_secs
                .map(|s| s.clamp(0, 3_600).saturating_mul(1_000))
                .unwrap_or(self.options.default_retry_after_ms);
            // The whole connection waits: the platform knows its limits better.
            self.pause(&c.name, now.saturating_add(wait));
        }
        let a = attempt(now, purpose, levels.len(), outcome, status);
        let (name, levels, outcome, backoff) = (c.name.clone(), levels.to_vec(), outcome.clone(), self.options.backoff);
        let draws: Vec<u64> = levels.iter().map(|_| rand::random::<u64>()).collect();
        self.engine
            .run(move |tx, ctx| {
                Box::pin(async move {
                    channel_sync::log(tx, &name, &a).await?;
                    let mut died: Vec<(String, String)> = Vec::new();
                    for (sent, draw) in levels.iter().zip(draws) {
                        let Some(mut l) = channel_sync::get(tx, &name, &sent.sku).await? else { continue };
                        match &outcome {
                            Outcome::Throttled { .. } => continue,
                            Outcome::Accepted => {
                                (l.sent, l.sent_at) = (Some(sent.wanted), Some(now));
                                if l.version == sent.version {
                                    if let Some(changed) = l.changed_at {
                                        channel_sync::lag(tx, &name, now, now.saturating_sub(changed).max(0)).await?;
                                    }
                                    (l.changed_at, l.failures, l.last_error) = (None, 0, None);
                                }
                            }
                            // Changed meanwhile (a new level, a new mapping): the
                            // failure was the old one's; the new one is tried afresh.
                            Outcome::Transient(_) | Outcome::Rejected(_) if l.version != sent.version => continue,
                            Outcome::Transient(e) | Outcome::Rejected(e) => {
                                l.failures += 1;
                                l.last_error = Some(e.chars().take(500).collect());
                                let delay = match outcome {
                                    Outcome::Rejected(_) => None,
                                    _ => backoff.delay_ms(l.failures, draw),
                                };
                                match delay {
                                    Some(d) => l.next_attempt_at = now.saturating_add(d),
                                    None => {
                                        l.dead_at = Some(now);
                                        died.push((l.sku.clone(), e.chars().take(200).collect()));
                                    }
                                }
                            }
                        }
                        channel_sync::put(tx, &l).await?;
                    }
                    if let Some((sku, error)) = died.first() {
                        let message = format!(
                            "{name} did not accept {} stock level(s) after every retry (SKU {sku}: {error}); \
                             the channel may be selling units we do not have. Fix the cause, then retry.",
                            died.len()
                        );
                        open_sync_failed(tx, ctx, &name, &message, now).await?;
                    } else if matches!(outcome, Outcome::Accepted) {
                        settle_sync_failed(tx, &name, now).await?;
                    }
                    Ok(())
                })
            })
            .await
    }
}

/// A connection's settings as the remote layer reads them: its `base_url`
/// (stand-ins, tests) among them.
pub(crate) fn connection_settings(c: &Channel) -> BTreeMap<String, String> {
    let mut settings = c.settings.clone();
    if let Some(url) = &c.base_url {
        settings.insert("base_url".into(), url.clone());
    }
    settings
}

fn attempt(at: i64, purpose: &str, items: usize, o: &Outcome, http_status: Option<i64>) -> Attempt {
    let (outcome, error) = match o {
        Outcome::Accepted => ("accepted", None),
        Outcome::Throttled { retry_after_secs } => {
            ("throttled", Some(format!("rate limited; retry after {}s", retry_after_secs.unwrap_or(0))))
        }
        Outcome::Transient(e) => ("transient", Some(e.clone())),
        Outcome::Rejected(e) if purpose == "unsendable" => ("unsendable", Some(e.clone())),
        Outcome::Rejected(e) => ("rejected", Some(e.clone())),
    };
    Attempt {
        at,
        purpose: if purpose == "unsendable" { "stock".into() } else { purpose.into() },
        items: i64::try_from(items).unwrap_or(i64::MAX),
        outcome: outcome.into(),
        http_status,
        error: error.map(|e| e.chars().take(500).collect()),
    }
}

/// A transport error's text without the URL (it may hold a query with ids).
fn without_url(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    if let Some(url) = e.url() {
        s = s.replace(url.as_str(), "<url>");
    }
    s
}
