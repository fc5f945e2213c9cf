//! The two sqlx backends. The SQL is shared (both accept `$1` parameters,
//! `ON CONFLICT` and `RETURNING`); what differs is how a writing transaction
//! starts and how rows are locked:
//!
//! * SQLite: one writer connection, `BEGIN IMMEDIATE`. Writers queue on the
//!   pool inside the process instead of meeting `SQLITE_BUSY`; readers use
//!   their own pool and never block the writer (WAL).
//! * PostgreSQL: a shared pool; stock rows are locked with `FOR UPDATE`,
//!   always in (sku, location) order and always after the order row, so two
//!   transactions can never wait on each other in a cycle.
//!
//! The method bodies live once, in `store_impl!`, and expand for each backend.

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};
use std::sync::Arc;

use switchyard_core::allocation::{AllocationPlan, AllocationRequest, CandidateLocation, LineRequest};
use switchyard_core::exception::{escalated, escalation_level};
use switchyard_core::order::status_after_allocation;
use switchyard_core::routing::{
    route, Decision, Destination, Outcome, Policy, RoutingInput, RoutingLine, RoutingLocation,
};
use switchyard_core::{
    address, allocate, Address, Channel, ChannelName, Currency, ExceptionKind, ExceptionStatus, ExpiredAction,
    IllegalTransition, LedgerKind, Location, LocationCode, LocationKind, Money, OrderStatus, PaymentState, Position,
    Quantity, ResolutionAction, ServiceLevel, ShipTo, Sku, SkuDef, StockDelta,
};

use crate::model::*;
use crate::{Store, StoreError};

/// The embedded backend: a SQLite file in WAL mode.
pub struct SqliteStore {
    write: SqlitePool,
    read: SqlitePool,
    policies: PolicyCache,
}

impl SqliteStore {
    /// Opens (creating if missing) the file and applies migrations.
    pub async fn open(path: &str) -> Result<Self, StoreError> {
        let path = path.strip_prefix("sqlite://").unwrap_or(path);
        let base = SqliteConnectOptions::from_str(&format!("sqlite://{path}"))?
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(60))
            .connect_with(base.clone().create_if_missing(true))
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&write).await?;
        let read = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(60))
            .connect_with(base.read_only(true))
            .await?;
        Ok(Self { write, read, policies: PolicyCache::new() })
    }

    const FOR_UPDATE: &'static str = "";

    async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, StoreError> {
        Ok(self.write.begin_with("BEGIN IMMEDIATE").await?)
    }
    async fn begin_snapshot(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, StoreError> {
        Ok(self.read.begin().await?)
    }
    fn reader(&self) -> &SqlitePool {
        &self.read
    }
}

/// The server backend: PostgreSQL, shared by any number of processes.
pub struct PostgresStore {
    pool: PgPool,
    policies: PolicyCache,
}

impl PostgresStore {
    /// Connects and applies migrations.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let opts = PgConnectOptions::from_str(url)?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(60))
            .connect_with(opts)
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(Self { pool, policies: PolicyCache::new() })
    }

    const FOR_UPDATE: &'static str = " FOR UPDATE";

    async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, StoreError> {
        Ok(self.pool.begin().await?)
    }
    async fn begin_snapshot(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, StoreError> {
        Ok(self.pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").await?)
    }
    fn reader(&self) -> &PgPool {
        &self.pool
    }
}

/// `$start, $start+1, ...` for an IN list of `n` values.
fn placeholders(start: usize, n: usize) -> String {
    (start..start + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

#[derive(sqlx::FromRow)]
struct OrderRow {
    id: String,
    channel: String,
    external_id: String,
    status: String,
    currency: String,
    total_minor: i64,
    payment: String,
    service_level: String,
    pickup_location: Option<String>,
    ship_to: String,
    reservation_expires_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

const ORDER_COLUMNS: &str = "id, channel, external_id, status, currency, total_minor, payment, service_level, \
     pickup_location, ship_to, reservation_expires_at, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct LocationRow {
    code: String,
    name: String,
    kind: String,
    line1: String,
    city: String,
    region: String,
    postal_code: String,
    country: String,
    lat: Option<f64>,
    lon: Option<f64>,
    can_ship: bool,
    can_pickup: bool,
    priority: i64,
    active: bool,
    lead_time_days: i64,
    timezone: String,
}

const LOCATION_COLUMNS: &str = "code, name, kind, line1, city, region, postal_code, country, lat, lon, can_ship, \
     can_pickup, priority, active, lead_time_days, timezone";

fn location_from_row(r: LocationRow) -> Result<Location, StoreError> {
    let corrupt = |what: &str| StoreError::Invalid(format!("stored location has a bad {what}"));
    Ok(Location {
        code: LocationCode::parse(&r.code).map_err(|_| corrupt("code"))?,
        name: r.name,
        kind: LocationKind::parse(&r.kind).ok_or_else(|| corrupt("kind"))?,
        address: Address {
            line1: r.line1,
            city: r.city,
            region: r.region,
            postal_code: r.postal_code,
            country: r.country,
        },
        lat: r.lat,
        lon: r.lon,
        can_ship: r.can_ship,
        can_pickup: r.can_pickup,
        priority: i32::try_from(r.priority).unwrap_or(i32::MAX),
        active: r.active,
        lead_time_days: u32::try_from(r.lead_time_days).unwrap_or(0),
        timezone: r.timezone,
    })
}

fn parse_status(raw: &str) -> Result<OrderStatus, StoreError> {
    OrderStatus::parse(raw).ok_or_else(|| StoreError::Invalid(format!("stored order has unknown status {raw:?}")))
}

fn assemble(
    row: OrderRow,
    lines: Vec<(String, i64, String, i64, i64, i64)>,
    allocs: &[(String, i64, String, i64, i64, i64)],
    exceptions: Vec<ExceptionView>,
    events: Option<Vec<EventView>>,
) -> OrderView {
    let ship_to: ShipTo = serde_json::from_str(&row.ship_to).unwrap_or_default();
    let lines: Vec<LineView> = lines
        .into_iter()
        .map(|(order_id, line_no, sku, quantity, unit_price, backordered)| LineView {
            sku,
            quantity,
            unit_price,
            backordered,
            allocations: allocs
                .iter()
                .filter(|a| a.0 == order_id && a.1 == line_no)
                .map(|a| AllocationView { location: a.2.clone(), quantity: a.3, shipped: a.4, released: a.5 })
                .collect(),
        })
        .collect();
    OrderView {
        id: row.id,
        channel: row.channel,
        external_id: row.external_id,
        status: row.status,
        currency: row.currency,
        total: row.total_minor,
        payment: row.payment,
        service_level: row.service_level,
        pickup_location: row.pickup_location,
        ship_to: ShipToView {
            name: ship_to.name,
            line1: ship_to.line1,
            city: ship_to.city,
            region: ship_to.region,
            postal_code: ship_to.postal_code,
            country: ship_to.country,
            lat: ship_to.lat,
            lon: ship_to.lon,
        },
        lines,
        exceptions,
        events,
        routing: None,
        reservation_expires_at: row.reservation_expires_at.map(rfc3339),
        created_at: rfc3339(row.created_at),
        updated_at: rfc3339(row.updated_at),
    }
}

const EXCEPTION_COLUMNS: &str =
    "e.id, e.order_id, o.external_id, e.kind, e.severity, e.owner_role, e.status, e.message, \
     e.level, e.sla_ms, e.created_at, e.resolved_at, e.resolved_by, e.resolution, e.note";

#[derive(sqlx::FromRow)]
struct ExceptionRow {
    id: String,
    order_id: String,
    external_id: String,
    kind: String,
    severity: String,
    owner_role: String,
    status: String,
    message: String,
    level: i64,
    sla_ms: i64,
    created_at: i64,
    resolved_at: Option<i64>,
    resolved_by: Option<String>,
    resolution: Option<String>,
    note: Option<String>,
}

fn exception_view(r: ExceptionRow) -> ExceptionView {
    let kind = ExceptionKind::parse(&r.kind);
    let open = r.status == ExceptionStatus::Open.as_str();
    ExceptionView {
        due_at: open.then(|| rfc3339(r.created_at.saturating_add(r.sla_ms.saturating_mul(r.level + 1)))),
        actions: if open {
            kind.map(|k| k.actions().iter().map(|a| a.as_str().to_owned()).collect()).unwrap_or_default()
        } else {
            vec![]
        },
        id: r.id,
        order_id: r.order_id,
        external_id: r.external_id,
        kind: r.kind,
        severity: r.severity,
        owner_role: r.owner_role,
        status: r.status,
        message: r.message,
        level: r.level,
        sla_secs: r.sla_ms / 1000,
        created_at: rfc3339(r.created_at),
        resolved_at: r.resolved_at.map(rfc3339),
        resolved_by: r.resolved_by,
        resolution: r.resolution,
        note: r.note,
        log: None,
        created_ms: r.created_at,
    }
}

const POLICY_COLUMNS: &str = "version, body, note, created_by, created_at, is_active, is_shadow, activated_at";

type PolicyRow = (i64, String, String, String, i64, bool, bool, Option<i64>);

fn policy_record(r: PolicyRow) -> PolicyRecord {
    PolicyRecord {
        version: r.0,
        body: r.1,
        note: r.2,
        created_by: r.3,
        created_at: rfc3339(r.4),
        active: r.5,
        shadow: r.6,
        activated_at: r.7.map(rfc3339),
    }
}

/// Parsed routing policies by version (versions are immutable, so a cached
/// parse is never stale), plus the built-in default.
pub(crate) struct PolicyCache {
    parsed: std::sync::Mutex<BTreeMap<i64, Arc<Policy>>>,
    default: Arc<Policy>,
}

impl PolicyCache {
    fn new() -> Self {
        Self { parsed: std::sync::Mutex::new(BTreeMap::new()), default: Arc::new(Policy::default()) }
    }
    fn default_policy(&self) -> Arc<Policy> {
        self.default.clone()
    }
    fn get(&self, version: i64) -> Option<Arc<Policy>> {
        self.parsed.lock().ok()?.get(&version).cloned()
    }
    fn put(&self, version: i64, policy: Policy) -> Arc<Policy> {
        let policy = Arc::new(policy);
        if let Ok(mut map) = self.parsed.lock() {
            // Bounded: only the active and shadow versions are ever looked up.
            if map.len() > 16 {
                map.clear();
            }
            map.insert(version, policy.clone());
        }
        policy
    }
}

/// What routing needs to know about the order.
struct OrderFacts<'a> {
    channel: ChannelName,
    value: Money,
    ship_to: &'a ShipTo,
    service_level: ServiceLevel,
    pickup_location: Option<&'a LocationCode>,
    /// Positions this routing must not draw on (a store could not find the
    /// item there).
    avoid: Vec<(Sku, LocationCode)>,
}

/// Who decides an allocation.
#[derive(Clone, Copy)]
enum Mode<'a> {
    /// The active routing policy (the shadow policy is recorded beside it).
    Policy,
    /// A person's override: the built-in allocator, ignoring the policy's
    /// rules (never availability), optionally at one location only.
    Override(Option<&'a LocationCode>),
}

/// The result of an allocation, in line units.
struct Routed {
    /// Units not reserved (backordered or held).
    unfilled: i64,
    /// Units waiting for a restock.
    backordered: i64,
    /// The exception a held order raises, with the decision's explanation.
    held: Option<(ExceptionKind, String)>,
    /// "2 × SKU at LOC" pieces for the timeline.
    summary: Vec<String>,
    explanation: Option<String>,
}

/// A line to allocate: (line_no, sku, units wanted).
type Want = (i64, Sku, i64);

macro_rules! store_impl {
    ($store:ident, $db:ty) => {
        impl $store {
            /// Applies a delta computed by `Position`'s rules and appends it
            /// to the ledger.
            async fn apply_delta(
                tx: &mut sqlx::Transaction<'static, $db>,
                sku: &str,
                location: &str,
                d: &StockDelta,
                reason: &str,
                order_id: Option<&str>,
                now_ms: i64,
            ) -> Result<(), StoreError> {
                sqlx::query(
                    "UPDATE stock SET on_hand = on_hand + $1, reserved = reserved + $2, \
                     safety_stock = safety_stock + $3, updated_at = $4 WHERE sku = $5 AND location = $6",
                )
                .bind(d.on_hand)
                .bind(d.reserved)
                .bind(d.safety_stock)
                .bind(now_ms)
                .bind(sku)
                .bind(location)
                .execute(&mut **tx)
                .await?;
                sqlx::query(
                    "INSERT INTO stock_ledger (sku, location, kind, on_hand_delta, reserved_delta, \
                     safety_stock_delta, reason, order_id, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(sku)
                .bind(location)
                .bind(d.kind.as_str())
                .bind(d.on_hand)
                .bind(d.reserved)
                .bind(d.safety_stock)
                .bind(reason)
                .bind(order_id)
                .bind(now_ms)
                .execute(&mut **tx)
                .await?;
                Ok(())
            }

            /// Records that a SKU's available-to-promise changed, for the
            /// channel adapters to push.
            async fn outbox_atp(
                tx: &mut sqlx::Transaction<'static, $db>,
                skus: impl IntoIterator<Item = &str>,
                now_ms: i64,
            ) -> Result<(), StoreError> {
                let skus: BTreeSet<&str> = skus.into_iter().collect();
                for sku in skus {
                    sqlx::query("INSERT INTO outbox (topic, key, payload, created_at) VALUES ('atp_changed', $1, $2, $3)")
                        .bind(sku)
                        .bind(serde_json::json!({ "sku": sku }).to_string())
                        .bind(now_ms)
                        .execute(&mut **tx)
                        .await?;
                }
                Ok(())
            }

            async fn event(
                tx: &mut sqlx::Transaction<'static, $db>,
                order_id: &str,
                now_ms: i64,
                kind: &str,
                message: &str,
            ) -> Result<(), StoreError> {
                sqlx::query("INSERT INTO order_events (order_id, at, kind, message) VALUES ($1, $2, $3, $4)")
                    .bind(order_id)
                    .bind(now_ms)
                    .bind(kind)
                    .bind(message)
                    .execute(&mut **tx)
                    .await?;
                Ok(())
            }

            /// Locks one position (creating a zero row when `create`).
            async fn lock_position(
                tx: &mut sqlx::Transaction<'static, $db>,
                sku: &str,
                location: &str,
                create: Option<i64>,
            ) -> Result<Option<Position>, StoreError> {
                if let Some(now_ms) = create {
                    sqlx::query(
                        "INSERT INTO stock (sku, location, on_hand, reserved, safety_stock, updated_at) \
                         VALUES ($1, $2, 0, 0, 0, $3) ON CONFLICT (sku, location) DO NOTHING",
                    )
                    .bind(sku)
                    .bind(location)
                    .bind(now_ms)
                    .execute(&mut **tx)
                    .await?;
                }
                let sql = format!(
                    "SELECT on_hand, reserved, safety_stock FROM stock WHERE sku = $1 AND location = $2{}",
                    Self::FOR_UPDATE
                );
                let row: Option<(i64, i64, i64)> =
                    sqlx::query_as(&sql).bind(sku).bind(location).fetch_optional(&mut **tx).await?;
                Ok(row.map(|(on_hand, reserved, safety_stock)| Position { on_hand, reserved, safety_stock }))
            }

            /// Checks that the SKU exists, is not a bundle, and the location exists.
            async fn check_stock_key(
                tx: &mut sqlx::Transaction<'static, $db>,
                sku: &Sku,
                location: &LocationCode,
            ) -> Result<(), StoreError> {
                let bundle: Option<(bool,)> = sqlx::query_as("SELECT is_bundle FROM skus WHERE sku = $1")
                    .bind(sku.as_str())
                    .fetch_optional(&mut **tx)
                    .await?;
                match bundle {
                    None => return Err(StoreError::UnknownSku(sku.to_string())),
                    Some((true,)) => {
                        return Err(StoreError::Invalid(format!(
                            "{sku} is a bundle: it has no stock of its own; count its components"
                        )))
                    }
                    Some((false,)) => {}
                }
                let loc: Option<(String,)> = sqlx::query_as("SELECT code FROM locations WHERE code = $1")
                    .bind(location.as_str())
                    .fetch_optional(&mut **tx)
                    .await?;
                if loc.is_none() {
                    return Err(StoreError::UnknownLocation(location.to_string()));
                }
                Ok(())
            }

            async fn set_stock_tx(
                tx: &mut sqlx::Transaction<'static, $db>,
                sku: &Sku,
                location: &LocationCode,
                on_hand: i64,
                safety_stock: Option<i64>,
                reason: &str,
                now_ms: i64,
            ) -> Result<Position, StoreError> {
                Self::check_stock_key(tx, sku, location).await?;
                let mut pos = Self::lock_position(tx, sku.as_str(), location.as_str(), Some(now_ms))
                    .await?
                    .unwrap_or_default();
                let count = pos.count(on_hand)?;
                let safety = safety_stock.map(|s| pos.set_safety_stock(s)).transpose()?;
                for d in [Some(count), safety].into_iter().flatten() {
                    if d.on_hand != 0 || d.safety_stock != 0 || d.kind == LedgerKind::CycleCount {
                        Self::apply_delta(tx, sku.as_str(), location.as_str(), &d, reason, None, now_ms).await?;
                        pos = pos.apply(&d);
                    }
                }
                Ok(pos)
            }

            /// Reads everything a routing decision needs: the lines' SKUs
            /// (bundles expanded, tags), the positions they may draw on —
            /// locked in key order when `lock` — the locations and, when asked,
            /// today's routed-order counts.
            async fn build_input(
                tx: &mut sqlx::Transaction<'static, $db>,
                wants: &[Want],
                facts: &OrderFacts<'_>,
                lock: bool,
                with_counts: bool,
                now_ms: i64,
            ) -> Result<(RoutingInput, Vec<Location>), StoreError> {
                // What each line's unit is made of.
                let skus: BTreeSet<&str> = wants.iter().map(|w| w.1.as_str()).collect();
                let skus: Vec<&str> = skus.into_iter().collect();
                let sql = format!(
                    "SELECT sku, is_bundle, tags, allow_backorder FROM skus WHERE sku IN ({})",
                    placeholders(1, skus.len())
                );
                let mut q = sqlx::query_as::<_, (String, bool, String, bool)>(&sql);
                for s in &skus {
                    q = q.bind(*s);
                }
                let known: BTreeMap<String, (bool, Vec<String>, bool)> = q
                    .fetch_all(&mut **tx)
                    .await?
                    .into_iter()
                    .map(|(sku, bundle, tags, backorder)| (sku, (bundle, serde_json::from_str(&tags).unwrap_or_default(), backorder)))
                    .collect();
                if let Some(unknown) = skus.iter().find(|s| !known.contains_key(**s)) {
                    return Err(StoreError::UnknownSku((*unknown).to_string()));
                }
                let bundles: Vec<&str> = skus.iter().copied().filter(|s| known.get(*s).is_some_and(|k| k.0)).collect();
                let mut components: BTreeMap<String, Vec<(Sku, i64)>> = BTreeMap::new();
                let mut component_tags: BTreeMap<Sku, Vec<String>> = BTreeMap::new();
                if !bundles.is_empty() {
                    let sql = format!(
                        "SELECT c.bundle_sku, c.component_sku, c.quantity, s.tags FROM sku_components c \
                         JOIN skus s ON s.sku = c.component_sku WHERE c.bundle_sku IN ({}) \
                         ORDER BY c.bundle_sku, c.component_sku",
                        placeholders(1, bundles.len())
                    );
                    let mut q = sqlx::query_as::<_, (String, String, i64, String)>(&sql);
                    for s in &bundles {
                        q = q.bind(*s);
                    }
                    for (b, c, n, tags) in q.fetch_all(&mut **tx).await? {
                        let c = Sku::parse(&c).map_err(|e| StoreError::Invalid(e.to_string()))?;
                        component_tags.insert(c.clone(), serde_json::from_str(&tags).unwrap_or_default());
                        components.entry(b).or_default().push((c, n));
                    }
                }
                let lines: Vec<RoutingLine> = wants
                    .iter()
                    .map(|(_, sku, qty)| {
                        let (_, tags, may_backorder) = known.get(sku.as_str()).cloned().unwrap_or_default();
                        RoutingLine {
                            sku: sku.clone(),
                            quantity: *qty,
                            units: components.get(sku.as_str()).cloned().unwrap_or_else(|| vec![(sku.clone(), 1)]),
                            tags,
                            may_backorder,
                        }
                    })
                    .collect();

                // Lock every position the order could draw on, in key order.
                let unit_skus: BTreeSet<String> =
                    lines.iter().flat_map(|l| l.units.iter().map(|(s, _)| s.to_string())).collect();
                let sql = format!(
                    "SELECT sku, location, on_hand, reserved, safety_stock FROM stock WHERE sku IN ({}) \
                     ORDER BY sku, location{}",
                    placeholders(1, unit_skus.len()),
                    if lock { Self::FOR_UPDATE } else { "" }
                );
                let mut q = sqlx::query_as::<_, (String, String, i64, i64, i64)>(&sql);
                for s in &unit_skus {
                    q = q.bind(s.as_str());
                }
                let mut stock = BTreeMap::new();
                for (s, l, on_hand, reserved, safety_stock) in q.fetch_all(&mut **tx).await? {
                    if let (Ok(s), Ok(l)) = (Sku::parse(&s), LocationCode::parse(&l)) {
                        stock.insert((s, l), Position { on_hand, reserved, safety_stock });
                    }
                }
                for key in &facts.avoid {
                    stock.remove(key);
                }
                let sql = format!("SELECT {LOCATION_COLUMNS} FROM locations");
                let rows: Vec<LocationRow> = sqlx::query_as(&sql).fetch_all(&mut **tx).await?;
                let locations: Vec<Location> = rows.into_iter().filter_map(|r| location_from_row(r).ok()).collect();
                if let Some(p) = facts.pickup_location {
                    if !locations.iter().any(|l| &l.code == p) {
                        return Err(StoreError::UnknownLocation(p.to_string()));
                    }
                }
                let counts = if with_counts { Self::day_counts(tx, &locations, now_ms).await? } else { BTreeMap::new() };
                let input = RoutingInput {
                    lines,
                    order_value: facts.value,
                    channel: facts.channel.clone(),
                    service_level: facts.service_level,
                    ship_to: Destination {
                        lat: facts.ship_to.lat,
                        lon: facts.ship_to.lon,
                        postal_code: facts.ship_to.postal_code.clone(),
                        region: facts.ship_to.region.clone(),
                        country: facts.ship_to.country.clone(),
                    },
                    pickup_location: facts.pickup_location.cloned(),
                    locations: locations
                        .iter()
                        .map(|l| RoutingLocation {
                            code: l.code.clone(),
                            name: l.name.clone(),
                            kind: l.kind,
                            lat: l.lat,
                            lon: l.lon,
                            postal_code: l.address.postal_code.clone(),
                            region: l.address.region.clone(),
                            country: l.address.country.clone(),
                            can_ship: l.can_ship,
                            can_pickup: l.can_pickup,
                            active: l.active,
                            priority: l.priority,
                            lead_time_days: l.lead_time_days,
                            orders_today: counts.get(&l.code).copied().unwrap_or(0),
                        })
                        .collect(),
                    component_tags,
                    stock,
                };
                Ok((input, locations))
            }


            /// Decides where `wants` come from and reserves it: the active
            /// routing policy decides (and the shadow policy, if one runs,
            /// is recorded beside it), or a person's override uses the
            /// built-in allocator. The stock rows read are locked until commit.
            #[allow(clippy::too_many_arguments)]
            async fn allocate_and_reserve(
                tx: &mut sqlx::Transaction<'static, $db>,
                policies: &PolicyCache,
                order_id: &str,
                wants: &[Want],
                facts: &OrderFacts<'_>,
                mode: Mode<'_>,
                now_ms: i64,
            ) -> Result<Routed, StoreError> {
                let policies = match mode {
                    Mode::Policy => Some(Self::policies_in_force(tx, policies).await?),
                    Mode::Override(_) => None,
                };
                let with_counts = policies.as_ref().is_some_and(|(active, shadow)| {
                    !active.1.eligibility.daily_capacity.is_empty()
                        || shadow.as_ref().is_some_and(|s| !s.1.eligibility.daily_capacity.is_empty())
                });
                let (input, locations) = Self::build_input(tx, wants, facts, true, with_counts, now_ms).await?;
                let snapshot = input.stock.clone();
                let (plan, routed_by) = match (mode, policies) {
                    (Mode::Policy, Some((active, shadow))) => {
                        let decision = route(&input, &active.1, now_ms);
                        let explanation = decision.explain();
                        Self::record_decision(tx, order_id, active.0, false, &decision, &explanation, now_ms).await?;
                        if let Some((version, policy)) = &shadow {
                            let shadow_decision = route(&input, policy, now_ms);
                            let shadow_explanation = shadow_decision.explain();
                            Self::record_decision(tx, order_id, *version, true, &shadow_decision, &shadow_explanation, now_ms)
                                .await?;
                        }
                        (decision.plan.clone(), Some((decision, explanation)))
                    }
                    _ => {
                        let only = match mode {
                            Mode::Override(o) => o,
                            Mode::Policy => None,
                        };
                        if let Some(o) = only {
                            if !locations.iter().any(|l| &l.code == o) {
                                return Err(StoreError::UnknownLocation(o.to_string()));
                            }
                        }
                        let request = AllocationRequest {
                            lines: input
                                .lines
                                .iter()
                                .map(|l| LineRequest { sku: l.sku.clone(), quantity: l.quantity, units: l.units.clone() })
                                .collect(),
                            service_level: facts.service_level,
                            pickup_location: facts.pickup_location.cloned(),
                            locations: locations
                                .iter()
                                .filter(|l| only.is_none_or(|o| o == &l.code))
                                .map(|l| CandidateLocation {
                                    code: l.code.clone(),
                                    priority: l.priority,
                                    can_ship: l.can_ship,
                                    can_pickup: l.can_pickup,
                                    active: l.active,
                                })
                                .collect(),
                            stock: input.stock,
                        };
                        (allocate(&request), None)
                    }
                };
                let mut positions = snapshot;
                for r in &plan.reservations {
                    let key = (r.sku.clone(), r.location.clone());
                    let pos = positions.get(&key).copied().unwrap_or_default();
                    let d = pos.reserve(r.quantity)?;
                    positions.insert(key, pos.apply(&d));
                    let line_no = wants[r.line].0;
                    Self::apply_delta(tx, r.sku.as_str(), r.location.as_str(), &d, "order", Some(order_id), now_ms)
                        .await?;
                    sqlx::query(
                        "INSERT INTO reservations (order_id, line_no, sku, location, per_unit, held) \
                         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (order_id, line_no, sku, location) \
                         DO UPDATE SET held = reservations.held + excluded.held",
                    )
                    .bind(order_id)
                    .bind(line_no)
                    .bind(r.sku.as_str())
                    .bind(r.location.as_str())
                    .bind(r.per_unit)
                    .bind(r.quantity)
                    .execute(&mut **tx)
                    .await?;
                }
                let mut summary = Vec::new();
                for (i, line) in plan.lines.iter().enumerate() {
                    let (line_no, sku, _) = &wants[i];
                    for (loc, n) in &line.allocations {
                        sqlx::query(
                            "INSERT INTO allocations (order_id, line_no, location, quantity, shipped, released) \
                             VALUES ($1, $2, $3, $4, 0, 0) ON CONFLICT (order_id, line_no, location) \
                             DO UPDATE SET quantity = allocations.quantity + excluded.quantity",
                        )
                        .bind(order_id)
                        .bind(*line_no)
                        .bind(loc.as_str())
                        .bind(*n)
                        .execute(&mut **tx)
                        .await?;
                        summary.push(format!("{n} × {sku} at {loc}"));
                    }
                    sqlx::query("UPDATE order_lines SET backordered = $1 WHERE order_id = $2 AND line_no = $3")
                        .bind(line.backordered)
                        .bind(order_id)
                        .bind(*line_no)
                        .execute(&mut **tx)
                        .await?;
                    if line.backordered > 0 {
                        summary.push(format!("{} × {sku} backordered", line.backordered));
                    }
                }
                let unfilled: i64 = plan.lines.iter().map(|l| l.backordered).sum();
                Self::outbox_atp(tx, plan.reservations.iter().map(|r| r.sku.as_str()), now_ms).await?;
                Self::count_routed(tx, &locations, &plan, now_ms).await?;
                let Some((decision, explanation)) = routed_by else {
                    return Ok(Routed { unfilled, backordered: unfilled, held: None, summary, explanation: None });
                };
                let held = match &decision.outcome {
                    Outcome::Held { exception, auto_cancel_at_ms, .. } => {
                        if let Some(at) = auto_cancel_at_ms {
                            // The sweeper cancels it then, if it is still held.
                            sqlx::query("UPDATE orders SET auto_cancel_at = $1 WHERE id = $2")
                                .bind(*at)
                                .bind(order_id)
                                .execute(&mut **tx)
                                .await?;
                        }
                        let kind = ExceptionKind::parse(exception.as_str()).unwrap_or(ExceptionKind::Unroutable);
                        Some((kind, explanation.clone()))
                    }
                    _ => None,
                };
                let backordered = decision.lines.iter().map(|l| l.backordered_units).sum();
                Ok(Routed { unfilled, backordered, held, summary, explanation: Some(explanation) })
            }

            /// The active policy (the built-in default when none is) and the
            /// shadow policy, parsed once per version: versions never change.
            async fn policies_in_force(
                tx: &mut sqlx::Transaction<'static, $db>,
                cache: &PolicyCache,
            ) -> Result<((Option<i64>, Arc<Policy>), Option<(Option<i64>, Arc<Policy>)>), StoreError> {
                let rows: Vec<(i64, bool)> = sqlx::query_as(
                    "SELECT version, is_active FROM routing_policies WHERE is_active = $1 OR is_shadow = $1",
                )
                .bind(true)
                .fetch_all(&mut **tx)
                .await?;
                let mut active = (None, cache.default_policy());
                let mut shadow = None;
                for (version, is_active) in rows {
                    let policy = match cache.get(version) {
                        Some(p) => p,
                        None => {
                            let (body,): (String,) = sqlx::query_as("SELECT body FROM routing_policies WHERE version = $1")
                                .bind(version)
                                .fetch_one(&mut **tx)
                                .await?;
                            match Policy::from_toml(&body) {
                                Ok(p) => cache.put(version, p),
                                Err(e) => {
                                    // Activation validates, so only a hand-edited row gets here.
                                    tracing::error!(version, error = %e, "stored routing policy does not parse; using the default");
                                    continue;
                                }
                            }
                        }
                    };
                    if is_active {
                        active = (Some(version), policy);
                    } else {
                        shadow = Some((Some(version), policy));
                    }
                }
                Ok((active, shadow))
            }

            /// Orders routed today (local day) per location.
            async fn day_counts(
                tx: &mut sqlx::Transaction<'static, $db>,
                locations: &[Location],
                now_ms: i64,
            ) -> Result<BTreeMap<LocationCode, u32>, StoreError> {
                let days: BTreeMap<&LocationCode, String> =
                    locations.iter().map(|l| (&l.code, crate::local_date(&l.timezone, now_ms))).collect();
                let distinct: BTreeSet<&String> = days.values().collect();
                let sql = format!(
                    "SELECT location, day, orders FROM location_day_counts WHERE day IN ({})",
                    placeholders(1, distinct.len())
                );
                let mut q = sqlx::query_as::<_, (String, String, i64)>(&sql);
                for d in &distinct {
                    q = q.bind(d.as_str());
                }
                let mut counts = BTreeMap::new();
                for (location, day, orders) in q.fetch_all(&mut **tx).await? {
                    if let Some((code, _)) = days.iter().find(|(c, d)| c.as_str() == location && **d == day) {
                        counts.insert((*code).clone(), u32::try_from(orders).unwrap_or(u32::MAX));
                    }
                }
                Ok(counts)
            }

            /// Counts the order once at each location it was routed to.
            async fn count_routed(
                tx: &mut sqlx::Transaction<'static, $db>,
                locations: &[Location],
                plan: &AllocationPlan,
                now_ms: i64,
            ) -> Result<(), StoreError> {
                let used: BTreeSet<&LocationCode> =
                    plan.lines.iter().flat_map(|l| l.allocations.iter().map(|(c, _)| c)).collect();
                for code in used {
                    let tz = locations.iter().find(|l| &l.code == code).map_or("UTC", |l| l.timezone.as_str());
                    sqlx::query(
                        "INSERT INTO location_day_counts (location, day, orders) VALUES ($1, $2, 1) \
                         ON CONFLICT (location, day) DO UPDATE SET orders = location_day_counts.orders + 1",
                    )
                    .bind(code.as_str())
                    .bind(crate::local_date(tz, now_ms))
                    .execute(&mut **tx)
                    .await?;
                }
                Ok(())
            }

            async fn record_decision(
                tx: &mut sqlx::Transaction<'static, $db>,
                order_id: &str,
                version: Option<i64>,
                shadow: bool,
                decision: &Decision,
                explanation: &str,
                now_ms: i64,
            ) -> Result<(), StoreError> {
                let trace = serde_json::to_string(decision).map_err(|e| StoreError::Invalid(e.to_string()))?;
                sqlx::query(
                    "INSERT INTO routing_decisions (order_id, policy_version, shadow, outcome, explanation, trace, at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(order_id)
                .bind(version)
                .bind(shadow)
                .bind(decision.outcome.as_str())
                .bind(explanation)
                .bind(&trace)
                .bind(now_ms)
                .execute(&mut **tx)
                .await?;
                Ok(())
            }

            /// Gives back everything an order still holds.
            async fn release_all(
                tx: &mut sqlx::Transaction<'static, $db>,
                order_id: &str,
                reason: &str,
                now_ms: i64,
            ) -> Result<i64, StoreError> {
                let held: Vec<(i64, String, String, i64)> = sqlx::query_as(
                    "SELECT line_no, sku, location, held FROM reservations WHERE order_id = $1 AND held > 0 \
                     ORDER BY sku, location, line_no",
                )
                .bind(order_id)
                .fetch_all(&mut **tx)
                .await?;
                let mut released = 0;
                for (line_no, sku, location, qty) in &held {
                    let pos = Self::lock_position(tx, sku, location, None).await?.unwrap_or_default();
                    let d = pos.release(*qty)?;
                    Self::apply_delta(tx, sku, location, &d, reason, Some(order_id), now_ms).await?;
                    sqlx::query(
                        "UPDATE reservations SET held = 0 WHERE order_id = $1 AND line_no = $2 AND sku = $3 AND location = $4",
                    )
                    .bind(order_id)
                    .bind(*line_no)
                    .bind(sku.as_str())
                    .bind(location.as_str())
                    .execute(&mut **tx)
                    .await?;
                    released += qty;
                }
                sqlx::query("UPDATE allocations SET released = quantity - shipped WHERE order_id = $1")
                    .bind(order_id)
                    .execute(&mut **tx)
                    .await?;
                Self::outbox_atp(tx, held.iter().map(|h| h.1.as_str()), now_ms).await?;
                Ok(released)
            }

            /// Locks the order row and returns (status, payment, service
            /// level, pickup location, reservation expiry).
            async fn lock_order(
                tx: &mut sqlx::Transaction<'static, $db>,
                id: &str,
            ) -> Result<(OrderStatus, PaymentState, ServiceLevel, Option<String>, Option<i64>), StoreError> {
                let sql = format!(
                    "SELECT status, payment, service_level, pickup_location, reservation_expires_at FROM orders WHERE id = $1{}",
                    Self::FOR_UPDATE
                );
                let row: Option<(String, String, String, Option<String>, Option<i64>)> =
                    sqlx::query_as(&sql).bind(id).fetch_optional(&mut **tx).await?;
                let (status, payment, level, pickup, expires) =
                    row.ok_or_else(|| StoreError::NotFound { what: "order", key: id.to_owned() })?;
                Ok((
                    parse_status(&status)?,
                    PaymentState::parse(&payment).unwrap_or_default(),
                    ServiceLevel::parse(&level).unwrap_or_default(),
                    pickup,
                    expires,
                ))
            }

            async fn set_status(
                tx: &mut sqlx::Transaction<'static, $db>,
                id: &str,
                status: OrderStatus,
                now_ms: i64,
            ) -> Result<(), StoreError> {
                sqlx::query("UPDATE orders SET status = $1, updated_at = $2 WHERE id = $3")
                    .bind(status.as_str())
                    .bind(now_ms)
                    .bind(id)
                    .execute(&mut **tx)
                    .await?;
                Ok(())
            }

            /// Opens an exception on an order, logs it and notes it on the timeline.
            async fn open_exception(
                tx: &mut sqlx::Transaction<'static, $db>,
                order_id: &str,
                kind: ExceptionKind,
                message: &str,
                now_ms: i64,
            ) -> Result<String, StoreError> {
                let id = uuid::Uuid::now_v7().to_string();
                sqlx::query(
                    "INSERT INTO exceptions (id, order_id, kind, severity, owner_role, status, message, level, sla_ms, created_at) \
                     VALUES ($1, $2, $3, $4, $5, 'open', $6, 0, $7, $8)",
                )
                .bind(&id)
                .bind(order_id)
                .bind(kind.as_str())
                .bind(kind.severity().as_str())
                .bind(kind.owner().as_str())
                .bind(message)
                .bind(kind.sla_ms())
                .bind(now_ms)
                .execute(&mut **tx)
                .await?;
                Self::log_exception(tx, &id, "system", "opened", message, now_ms).await?;
                Self::event(tx, order_id, now_ms, "exception", &format!("Exception {}: {message}", kind.as_str())).await?;
                Ok(id)
            }

            async fn log_exception(
                tx: &mut sqlx::Transaction<'static, $db>,
                exception_id: &str,
                actor: &str,
                action: &str,
                note: &str,
                now_ms: i64,
            ) -> Result<(), StoreError> {
                sqlx::query("INSERT INTO exception_log (exception_id, at, actor, action, note) VALUES ($1, $2, $3, $4, $5)")
                    .bind(exception_id)
                    .bind(now_ms)
                    .bind(actor)
                    .bind(action)
                    .bind(note)
                    .execute(&mut **tx)
                    .await?;
                Ok(())
            }

            /// A notification for the notifier to deliver (email, webhooks).
            async fn notify(
                tx: &mut sqlx::Transaction<'static, $db>,
                order_id: &str,
                payload: serde_json::Value,
                now_ms: i64,
            ) -> Result<(), StoreError> {
                sqlx::query("INSERT INTO outbox (topic, key, payload, created_at) VALUES ('notification', $1, $2, $3)")
                    .bind(order_id)
                    .bind(payload.to_string())
                    .bind(now_ms)
                    .execute(&mut **tx)
                    .await?;
                Ok(())
            }

            /// Whether an open exception keeps the order from shipping.
            async fn blocking_open(tx: &mut sqlx::Transaction<'static, $db>, order_id: &str) -> Result<bool, StoreError> {
                let kinds: Vec<(String,)> =
                    sqlx::query_as("SELECT kind FROM exceptions WHERE order_id = $1 AND status = 'open'")
                        .bind(order_id)
                        .fetch_all(&mut **tx)
                        .await?;
                Ok(kinds.iter().any(|(k,)| ExceptionKind::parse(k).is_some_and(ExceptionKind::blocks_fulfilment)))
            }

            /// Resolves every open exception of an order (it was cancelled).
            async fn close_order_exceptions(
                tx: &mut sqlx::Transaction<'static, $db>,
                order_id: &str,
                actor: &str,
                note: &str,
                now_ms: i64,
            ) -> Result<(), StoreError> {
                Self::close_exceptions(tx, order_id, None, "cancel", actor, note, now_ms).await
            }

            /// Resolves an order's open exceptions (of one kind, or all).
            #[allow(clippy::too_many_arguments)]
            async fn close_exceptions(
                tx: &mut sqlx::Transaction<'static, $db>,
                order_id: &str,
                kind: Option<ExceptionKind>,
                resolution: &str,
                actor: &str,
                note: &str,
                now_ms: i64,
            ) -> Result<(), StoreError> {
                let open: Vec<(String, String)> =
                    sqlx::query_as("SELECT id, kind FROM exceptions WHERE order_id = $1 AND status = 'open'")
                        .bind(order_id)
                        .fetch_all(&mut **tx)
                        .await?;
                for (id, k) in open {
                    if kind.is_some_and(|want| want.as_str() != k) {
                        continue;
                    }
                    sqlx::query(
                        "UPDATE exceptions SET status = 'resolved', resolved_at = $1, resolved_by = $2, resolution = $3, note = $4 WHERE id = $5",
                    )
                    .bind(now_ms)
                    .bind(actor)
                    .bind(resolution)
                    .bind(note)
                    .bind(&id)
                    .execute(&mut **tx)
                    .await?;
                    Self::log_exception(tx, &id, actor, resolution, note, now_ms).await?;
                }
                Ok(())
            }

            async fn load_exceptions(&self, order_ids: &[String], status: Option<&str>) -> Result<Vec<ExceptionView>, StoreError> {
                if order_ids.is_empty() {
                    return Ok(vec![]);
                }
                let sql = format!(
                    "SELECT {EXCEPTION_COLUMNS} FROM exceptions e JOIN orders o ON o.id = e.order_id \
                     WHERE e.order_id IN ({}){} ORDER BY e.created_at, e.id",
                    placeholders(1, order_ids.len()),
                    if status.is_some() { format!(" AND e.status = ${}", order_ids.len() + 1) } else { String::new() }
                );
                let mut q = sqlx::query_as::<_, ExceptionRow>(&sql);
                for id in order_ids {
                    q = q.bind(id.as_str());
                }
                if let Some(st) = status {
                    q = q.bind(st);
                }
                Ok(q.fetch_all(self.reader()).await?.into_iter().map(exception_view).collect())
            }

            /// Releases what an order holds — at one (line, location), or
            /// everything — and makes those line units unfilled again.
            /// Returns the units released and (sku, location, units) per key.
            async fn release_scope(
                tx: &mut sqlx::Transaction<'static, $db>,
                id: &str,
                status: OrderStatus,
                scope: Option<(i64, &LocationCode)>,
                now_ms: i64,
            ) -> Result<(i64, Vec<(String, String, i64)>), StoreError> {
                if !status.is_open() || status == OrderStatus::ReadyForPickup {
                    return Err(StoreError::Invalid(format!("a {} order cannot be re-routed", status.as_str())));
                }
                let held: Vec<(i64, String, String, i64)> = sqlx::query_as(
                    "SELECT line_no, sku, location, held FROM reservations WHERE order_id = $1 AND held > 0 \
                     ORDER BY sku, location, line_no",
                )
                .bind(id)
                .fetch_all(&mut **tx)
                .await?;
                let held: Vec<(i64, String, String, i64)> = match scope {
                    Some((line, loc)) => held.into_iter().filter(|h| h.0 == line && h.2 == loc.as_str()).collect(),
                    None => held,
                };
                if let Some((line, loc)) = scope {
                    if held.is_empty() {
                        return Err(StoreError::Invalid(format!("line {line} holds nothing at {loc}")));
                    }
                }
                let mut released = 0;
                let mut keys = Vec::new();
                for (line_no, sku, location, qty) in &held {
                    let pos = Self::lock_position(tx, sku, location, None).await?.unwrap_or_default();
                    let d = pos.release(*qty)?;
                    Self::apply_delta(tx, sku, location, &d, "re-route", Some(id), now_ms).await?;
                    sqlx::query(
                        "UPDATE reservations SET held = 0 WHERE order_id = $1 AND line_no = $2 AND sku = $3 AND location = $4",
                    )
                    .bind(id)
                    .bind(*line_no)
                    .bind(sku.as_str())
                    .bind(location.as_str())
                    .execute(&mut **tx)
                    .await?;
                    released += qty;
                    keys.push((sku.clone(), location.clone(), *qty));
                }
                let allocs: Vec<(i64, String, i64)> = sqlx::query_as(
                    "SELECT line_no, location, quantity - shipped - released FROM allocations \
                     WHERE order_id = $1 AND quantity - shipped - released > 0",
                )
                .bind(id)
                .fetch_all(&mut **tx)
                .await?;
                for (line_no, location, open) in allocs {
                    if scope.is_some_and(|(l, loc)| l != line_no || loc.as_str() != location) {
                        continue;
                    }
                    sqlx::query(
                        "UPDATE allocations SET released = released + $1 WHERE order_id = $2 AND line_no = $3 AND location = $4",
                    )
                    .bind(open)
                    .bind(id)
                    .bind(line_no)
                    .bind(location.as_str())
                    .execute(&mut **tx)
                    .await?;
                    sqlx::query("UPDATE order_lines SET backordered = backordered + $1 WHERE order_id = $2 AND line_no = $3")
                        .bind(open)
                        .bind(id)
                        .bind(line_no)
                        .execute(&mut **tx)
                        .await?;
                }
                Self::outbox_atp(tx, held.iter().map(|h| h.1.as_str()), now_ms).await?;
                Ok((released, keys))
            }

            /// Routes an order's unfilled units with the active policy and
            /// settles its exceptions and status; notes it on the timeline.
            #[allow(clippy::too_many_arguments)]
            async fn route_unfilled(
                tx: &mut sqlx::Transaction<'static, $db>,
                policies: &PolicyCache,
                id: &str,
                order: (OrderStatus, PaymentState, ServiceLevel, Option<String>, Option<i64>),
                avoid: Vec<(Sku, LocationCode)>,
                actor: &str,
                what: &str,
                reason: &str,
                released_units: i64,
                now_ms: i64,
            ) -> Result<(), StoreError> {
                let (status, payment, level, pickup, _) = order;
                let wants = Self::unfilled_wants(tx, id).await?;
                let pickup = pickup.and_then(|p| LocationCode::parse(&p).ok());
                let (channel, value, ship_to) = Self::order_facts(tx, id).await?;
                let facts = OrderFacts { channel, value, ship_to: &ship_to, service_level: level, pickup_location: pickup.as_ref(), avoid };
                let routed = if wants.is_empty() {
                    Routed { unfilled: 0, backordered: 0, held: None, summary: vec![], explanation: None }
                } else {
                    Self::allocate_and_reserve(tx, policies, id, &wants, &facts, Mode::Policy, now_ms).await?
                };
                let unfilled = Self::unfilled_units(tx, id).await?;
                let placed: Vec<&str> =
                    routed.summary.iter().filter(|s| !s.ends_with("backordered")).map(|s| s.as_str()).collect();
                let placed = if placed.is_empty() { "nothing could be allocated".to_owned() } else { format!("now {}", placed.join("; ")) };
                let why = if reason.is_empty() { String::new() } else { format!(" ({reason})") };
                Self::event(tx, id, now_ms, "rerouted", &format!("{actor}: {what}{why}; released {released_units} unit(s); {placed}")).await?;
                if let Some(explanation) = &routed.explanation {
                    Self::event(tx, id, now_ms, "routed", explanation).await?;
                }
                let open: Vec<(String,)> = sqlx::query_as("SELECT kind FROM exceptions WHERE order_id = $1 AND status = 'open'")
                    .bind(id)
                    .fetch_all(&mut **tx)
                    .await?;
                let is_open = |k: ExceptionKind| open.iter().any(|(o,)| o == k.as_str());
                if unfilled == 0 {
                    for k in [ExceptionKind::Backordered, ExceptionKind::Unroutable, ExceptionKind::PickupUnavailable, ExceptionKind::SplitOverLimit] {
                        Self::close_exceptions(tx, id, Some(k), "rerouted", actor, "every unit is allocated after a re-route", now_ms).await?;
                    }
                } else {
                    if let Some((kind, why)) = &routed.held {
                        if !is_open(*kind) {
                            Self::open_exception(tx, id, *kind, why, now_ms).await?;
                        }
                    }
                    if routed.backordered > 0 && !is_open(ExceptionKind::Backordered) {
                        let msg = format!("{} unit(s) short after a re-route", routed.backordered);
                        Self::open_exception(tx, id, ExceptionKind::Backordered, &msg, now_ms).await?;
                    }
                }
                let target = match status {
                    OrderStatus::PendingPayment | OrderStatus::PartiallyShipped => status,
                    _ if Self::blocking_open(tx, id).await? => OrderStatus::OnHold,
                    _ => status_after_allocation(payment, unfilled > 0),
                };
                if target != status {
                    let next = status.transition(target)?;
                    Self::set_status(tx, id, next, now_ms).await?;
                }
                Ok(())
            }

            /// Cancels a locked order: releases what it holds, closes its
            /// exceptions, notes why on the timeline and queues a notification.
            async fn cancel_tx(
                tx: &mut sqlx::Transaction<'static, $db>,
                id: &str,
                status: OrderStatus,
                message: &str,
                reason: &str,
                now_ms: i64,
            ) -> Result<i64, StoreError> {
                let next = status.transition(OrderStatus::Cancelled)?;
                let released = Self::release_all(tx, id, "cancel", now_ms).await?;
                Self::set_status(tx, id, next, now_ms).await?;
                sqlx::query("UPDATE orders SET reservation_expires_at = NULL, auto_cancel_at = NULL WHERE id = $1")
                    .bind(id)
                    .execute(&mut **tx)
                    .await?;
                Self::close_order_exceptions(tx, id, "system", "order cancelled", now_ms).await?;
                Self::event(tx, id, now_ms, "cancelled", &format!("{message}; released {released} unit(s)")).await?;
                Self::notify(tx, id, serde_json::json!({"kind": "order_cancelled", "order_id": id, "reason": reason}), now_ms).await?;
                Ok(released)
            }

            /// The order's lines with unfilled units, as allocation wants them.
            async fn unfilled_wants(tx: &mut sqlx::Transaction<'static, $db>, id: &str) -> Result<Vec<Want>, StoreError> {
                let rows: Vec<(i64, String, i64)> = sqlx::query_as(
                    "SELECT line_no, sku, backordered FROM order_lines WHERE order_id = $1 AND backordered > 0 ORDER BY line_no",
                )
                .bind(id)
                .fetch_all(&mut **tx)
                .await?;
                Ok(rows.into_iter().filter_map(|(n, s, q)| Some((n, Sku::parse(&s).ok()?, q))).collect())
            }

            /// Line units of the order not reserved anywhere.
            async fn unfilled_units(tx: &mut sqlx::Transaction<'static, $db>, id: &str) -> Result<i64, StoreError> {
                let (n,): (i64,) =
                    sqlx::query_as("SELECT CAST(COALESCE(SUM(backordered), 0) AS BIGINT) FROM order_lines WHERE order_id = $1")
                        .bind(id)
                        .fetch_one(&mut **tx)
                        .await?;
                Ok(n)
            }

            /// Channel, value and ship-to of a stored order, for re-routing.
            async fn order_facts(
                tx: &mut sqlx::Transaction<'static, $db>,
                id: &str,
            ) -> Result<(ChannelName, Money, ShipTo), StoreError> {
                let (channel, total, currency, ship_to): (String, i64, String, String) =
                    sqlx::query_as("SELECT channel, total_minor, currency, ship_to FROM orders WHERE id = $1")
                        .bind(id)
                        .fetch_one(&mut **tx)
                        .await?;
                let corrupt = |what: &str| StoreError::Invalid(format!("stored order has a bad {what}"));
                Ok((
                    ChannelName::parse(&channel).map_err(|_| corrupt("channel"))?,
                    Money::new(total, Currency::parse(&currency).map_err(|_| corrupt("currency"))?),
                    serde_json::from_str(&ship_to).map_err(|_| corrupt("ship_to"))?,
                ))
            }

            /// Makes `version` the only active policy (or none).
            async fn switch_active(
                tx: &mut sqlx::Transaction<'static, $db>,
                version: Option<i64>,
                now_ms: i64,
            ) -> Result<(), StoreError> {
                sqlx::query("UPDATE routing_policies SET is_active = $1 WHERE is_active = $2")
                    .bind(false)
                    .bind(true)
                    .execute(&mut **tx)
                    .await?;
                if let Some(v) = version {
                    sqlx::query("UPDATE routing_policies SET is_active = $1, activated_at = $2 WHERE version = $3")
                        .bind(true)
                        .bind(now_ms)
                        .bind(v)
                        .execute(&mut **tx)
                        .await?;
                }
                Ok(())
            }

            async fn must_get(&self, id: &str) -> Result<OrderView, StoreError> {
                self.get_order(id).await?.ok_or_else(|| StoreError::NotFound { what: "order", key: id.to_owned() })
            }

            async fn load_lines(
                &self,
                ids: &[String],
            ) -> Result<(Vec<(String, i64, String, i64, i64, i64)>, Vec<(String, i64, String, i64, i64, i64)>), StoreError> {
                if ids.is_empty() {
                    return Ok((vec![], vec![]));
                }
                let list = placeholders(1, ids.len());
                let sql = format!(
                    "SELECT order_id, line_no, sku, quantity, unit_price, backordered FROM order_lines \
                     WHERE order_id IN ({list}) ORDER BY order_id, line_no"
                );
                let mut q = sqlx::query_as(&sql);
                for id in ids {
                    q = q.bind(id.as_str());
                }
                let lines = q.fetch_all(self.reader()).await?;
                let sql = format!(
                    "SELECT order_id, line_no, location, quantity, shipped, released FROM allocations \
                     WHERE order_id IN ({list}) ORDER BY order_id, line_no, location"
                );
                let mut q = sqlx::query_as(&sql);
                for id in ids {
                    q = q.bind(id.as_str());
                }
                let allocs = q.fetch_all(self.reader()).await?;
                Ok((lines, allocs))
            }
        }

        #[async_trait]
        impl Store for $store {
            fn backend(&self) -> &'static str {
                Self::BACKEND
            }

            async fn ping(&self) -> Result<(), StoreError> {
                sqlx::query("SELECT 1").execute(self.reader()).await?;
                Ok(())
            }

            async fn put_location(&self, l: &Location, now_ms: i64) -> Result<(), StoreError> {
                let mut tx = self.begin().await?;
                sqlx::query(
                    "INSERT INTO locations (code, name, kind, line1, city, region, postal_code, country, lat, lon, \
                     can_ship, can_pickup, priority, active, updated_at, lead_time_days, timezone) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
                     ON CONFLICT (code) DO UPDATE SET name = excluded.name, kind = excluded.kind, \
                     line1 = excluded.line1, city = excluded.city, region = excluded.region, \
                     postal_code = excluded.postal_code, country = excluded.country, lat = excluded.lat, \
                     lon = excluded.lon, can_ship = excluded.can_ship, can_pickup = excluded.can_pickup, \
                     priority = excluded.priority, active = excluded.active, updated_at = excluded.updated_at, \
                     lead_time_days = excluded.lead_time_days, timezone = excluded.timezone",
                )
                .bind(l.code.as_str())
                .bind(&l.name)
                .bind(l.kind.as_str())
                .bind(&l.address.line1)
                .bind(&l.address.city)
                .bind(&l.address.region)
                .bind(&l.address.postal_code)
                .bind(&l.address.country)
                .bind(l.lat)
                .bind(l.lon)
                .bind(l.can_ship)
                .bind(l.can_pickup)
                .bind(i64::from(l.priority))
                .bind(l.active)
                .bind(now_ms)
                .bind(i64::from(l.lead_time_days))
                .bind(&l.timezone)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn list_locations(&self) -> Result<Vec<Location>, StoreError> {
                let sql = format!("SELECT {LOCATION_COLUMNS} FROM locations ORDER BY priority, code");
                let rows: Vec<LocationRow> = sqlx::query_as(&sql).fetch_all(self.reader()).await?;
                rows.into_iter().map(location_from_row).collect()
            }

            async fn put_channel(&self, c: &Channel, now_ms: i64) -> Result<(), StoreError> {
                let settings = serde_json::to_string(&c.settings).map_err(|e| StoreError::Invalid(e.to_string()))?;
                let mut tx = self.begin().await?;
                sqlx::query(
                    "INSERT INTO channels (name, display_name, settings, active, created_at) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (name) DO UPDATE SET display_name = excluded.display_name, \
                     settings = excluded.settings, active = excluded.active",
                )
                .bind(c.name.as_str())
                .bind(&c.display_name)
                .bind(&settings)
                .bind(c.active)
                .bind(now_ms)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn list_channels(&self) -> Result<Vec<Channel>, StoreError> {
                let rows: Vec<(String, String, String, bool)> =
                    sqlx::query_as("SELECT name, display_name, settings, active FROM channels ORDER BY name")
                        .fetch_all(self.reader())
                        .await?;
                Ok(rows
                    .into_iter()
                    .filter_map(|(name, display_name, settings, active)| {
                        Some(Channel {
                            name: ChannelName::parse(&name).ok()?,
                            display_name,
                            settings: serde_json::from_str(&settings).unwrap_or_default(),
                            active,
                        })
                    })
                    .collect())
            }

            async fn put_sku(&self, def: &SkuDef, now_ms: i64) -> Result<(), StoreError> {
                let mut tx = self.begin().await?;
                for c in &def.components {
                    if c.sku == def.sku {
                        return Err(StoreError::Invalid(format!("bundle {} cannot contain itself", def.sku)));
                    }
                    let row: Option<(bool,)> = sqlx::query_as("SELECT is_bundle FROM skus WHERE sku = $1")
                        .bind(c.sku.as_str())
                        .fetch_optional(&mut *tx)
                        .await?;
                    match row {
                        None => return Err(StoreError::UnknownSku(c.sku.to_string())),
                        Some((true,)) => {
                            return Err(StoreError::Invalid(format!(
                                "component {} is itself a bundle; bundles may not nest",
                                c.sku
                            )))
                        }
                        Some((false,)) => {}
                    }
                }
                if def.is_bundle() {
                    let stocked: Option<(i64,)> =
                        sqlx::query_as("SELECT COUNT(*) FROM stock WHERE sku = $1 AND (on_hand <> 0 OR reserved <> 0)")
                            .bind(def.sku.as_str())
                            .fetch_optional(&mut *tx)
                            .await?;
                    if stocked.is_some_and(|(n,)| n > 0) {
                        return Err(StoreError::Invalid(format!(
                            "{} holds stock of its own and cannot become a bundle",
                            def.sku
                        )));
                    }
                    let used: Option<(i64,)> =
                        sqlx::query_as("SELECT COUNT(*) FROM sku_components WHERE component_sku = $1")
                            .bind(def.sku.as_str())
                            .fetch_optional(&mut *tx)
                            .await?;
                    if used.is_some_and(|(n,)| n > 0) {
                        return Err(StoreError::Invalid(format!(
                            "{} is a component of another bundle and cannot become a bundle",
                            def.sku
                        )));
                    }
                }
                let tags = serde_json::to_string(&def.tags).map_err(|e| StoreError::Invalid(e.to_string()))?;
                sqlx::query(
                    "INSERT INTO skus (sku, title, is_bundle, updated_at, tags, allow_backorder) \
                     VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (sku) DO UPDATE SET title = excluded.title, is_bundle = excluded.is_bundle, \
                     updated_at = excluded.updated_at, tags = excluded.tags, allow_backorder = excluded.allow_backorder",
                )
                .bind(def.sku.as_str())
                .bind(&def.title)
                .bind(def.is_bundle())
                .bind(now_ms)
                .bind(&tags)
                .bind(def.allow_backorder)
                .execute(&mut *tx)
                .await?;
                sqlx::query("DELETE FROM sku_components WHERE bundle_sku = $1")
                    .bind(def.sku.as_str())
                    .execute(&mut *tx)
                    .await?;
                for c in &def.components {
                    sqlx::query("INSERT INTO sku_components (bundle_sku, component_sku, quantity) VALUES ($1, $2, $3)")
                        .bind(def.sku.as_str())
                        .bind(c.sku.as_str())
                        .bind(c.quantity.as_i64())
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn get_sku(&self, sku: &Sku) -> Result<Option<SkuDef>, StoreError> {
                let row: Option<(String, String, String, bool)> =
                    sqlx::query_as("SELECT sku, title, tags, allow_backorder FROM skus WHERE sku = $1")
                        .bind(sku.as_str())
                        .fetch_optional(self.reader())
                        .await?;
                let Some((_, title, tags, allow_backorder)) = row else { return Ok(None) };
                let comps: Vec<(String, i64)> = sqlx::query_as(
                    "SELECT component_sku, quantity FROM sku_components WHERE bundle_sku = $1 ORDER BY component_sku",
                )
                .bind(sku.as_str())
                .fetch_all(self.reader())
                .await?;
                let components = comps
                    .into_iter()
                    .filter_map(|(c, q)| {
                        Some(switchyard_core::Component { sku: Sku::parse(&c).ok()?, quantity: Quantity::new(q).ok()? })
                    })
                    .collect();
                let tags = serde_json::from_str(&tags).unwrap_or_default();
                Ok(Some(SkuDef { sku: sku.clone(), title, components, tags, allow_backorder }))
            }

            async fn list_skus(&self) -> Result<Vec<SkuDef>, StoreError> {
                let rows: Vec<(String, String, String, bool)> =
                    sqlx::query_as("SELECT sku, title, tags, allow_backorder FROM skus ORDER BY sku")
                        .fetch_all(self.reader())
                        .await?;
                let comps: Vec<(String, String, i64)> = sqlx::query_as(
                    "SELECT bundle_sku, component_sku, quantity FROM sku_components ORDER BY bundle_sku, component_sku",
                )
                .fetch_all(self.reader())
                .await?;
                Ok(rows
                    .into_iter()
                    .filter_map(|(sku, title, tags, allow_backorder)| {
                        let components = comps
                            .iter()
                            .filter(|c| c.0 == sku)
                            .filter_map(|(_, c, q)| {
                                Some(switchyard_core::Component {
                                    sku: Sku::parse(c).ok()?,
                                    quantity: Quantity::new(*q).ok()?,
                                })
                            })
                            .collect();
                        let tags = serde_json::from_str(&tags).unwrap_or_default();
                        Some(SkuDef { sku: Sku::parse(&sku).ok()?, title, components, tags, allow_backorder })
                    })
                    .collect())
            }

            async fn set_stock(
                &self,
                sku: &Sku,
                location: &LocationCode,
                on_hand: i64,
                safety_stock: Option<i64>,
                reason: &str,
                now_ms: i64,
            ) -> Result<Position, StoreError> {
                let mut tx = self.begin().await?;
                // A count below what open orders hold takes units back from
                // the newest of them, which are then re-routed. Their order
                // rows are locked first (orders before stock, as everywhere).
                let current: Option<(i64,)> = sqlx::query_as("SELECT reserved FROM stock WHERE sku = $1 AND location = $2")
                    .bind(sku.as_str())
                    .bind(location.as_str())
                    .fetch_optional(&mut *tx)
                    .await?;
                let excess = current.map_or(0, |(r,)| r - on_hand.max(0));
                let mut bumped: Vec<(String, i64)> = Vec::new();
                if excess > 0 && on_hand >= 0 {
                    let holders: Vec<(String, i64, i64)> = sqlx::query_as(
                        "SELECT order_id, line_no, held FROM reservations WHERE sku = $1 AND location = $2 AND held > 0 \
                         ORDER BY order_id DESC, line_no DESC",
                    )
                    .bind(sku.as_str())
                    .bind(location.as_str())
                    .fetch_all(&mut *tx)
                    .await?;
                    let mut freed = 0;
                    for (order_id, line_no, held) in holders {
                        if freed >= excess {
                            break;
                        }
                        freed += held;
                        bumped.push((order_id, line_no));
                    }
                }
                let mut orders: Vec<String> = bumped.iter().map(|(o, _)| o.clone()).collect();
                orders.sort();
                orders.dedup();
                let mut locked = BTreeMap::new();
                for o in &orders {
                    locked.insert(o.clone(), Self::lock_order(&mut tx, o).await?);
                }
                for (order_id, line_no) in &bumped {
                    let status = locked.get(order_id).map_or(OrderStatus::Cancelled, |o| o.0);
                    Self::release_scope(&mut tx, order_id, status, Some((*line_no, location)), now_ms).await?;
                }
                let pos = Self::set_stock_tx(&mut tx, sku, location, on_hand, safety_stock, reason, now_ms).await?;
                for o in &orders {
                    let Some(order) = locked.get(o).cloned() else { continue };
                    let what = format!("a count of {sku} at {location} found {on_hand}");
                    Self::route_unfilled(&mut tx, &self.policies, o, order, vec![], "system", &what, reason, 0, now_ms).await?;
                }
                Self::outbox_atp(&mut tx, [sku.as_str()], now_ms).await?;
                tx.commit().await?;
                Ok(pos)
            }

            async fn adjust_stock(
                &self,
                sku: &Sku,
                location: &LocationCode,
                delta: i64,
                reason: &str,
                now_ms: i64,
            ) -> Result<Position, StoreError> {
                let mut tx = self.begin().await?;
                Self::check_stock_key(&mut tx, sku, location).await?;
                let pos = Self::lock_position(&mut tx, sku.as_str(), location.as_str(), Some(now_ms))
                    .await?
                    .unwrap_or_default();
                let d = pos.adjust(delta)?;
                Self::apply_delta(&mut tx, sku.as_str(), location.as_str(), &d, reason, None, now_ms).await?;
                Self::outbox_atp(&mut tx, [sku.as_str()], now_ms).await?;
                tx.commit().await?;
                Ok(pos.apply(&d))
            }

            async fn import_stock(&self, rows: &[ImportRow], now_ms: i64) -> Result<ImportSummary, StoreError> {
                let mut tx = self.begin().await?;
                let mut summary = ImportSummary::default();
                // Rows are applied in (sku, location) order, the order every
                // transaction locks positions in, so an import never
                // deadlocks with orders on PostgreSQL; errors keep the row's
                // index in the file.
                let mut order: Vec<usize> = (0..rows.len()).collect();
                order.sort_by(|a, b| (&rows[*a].sku, &rows[*a].location).cmp(&(&rows[*b].sku, &rows[*b].location)));
                for i in order {
                    let row = &rows[i];
                    let inserted = sqlx::query(
                        "INSERT INTO skus (sku, title, is_bundle, updated_at) VALUES ($1, $2, $3, $4) \
                         ON CONFLICT (sku) DO NOTHING",
                    )
                    .bind(row.sku.as_str())
                    .bind(&row.title)
                    .bind(false)
                    .bind(now_ms)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| StoreError::from(e).at_row(i))?
                    .rows_affected();
                    summary.skus_created += inserted as usize;
                    Self::set_stock_tx(&mut tx, &row.sku, &row.location, row.on_hand, row.safety_stock, "import", now_ms)
                        .await
                        .map_err(|e| e.at_row(i))?;
                    summary.positions_set += 1;
                }
                Self::outbox_atp(&mut tx, rows.iter().map(|r| r.sku.as_str()), now_ms).await?;
                tx.commit().await?;
                Ok(summary)
            }

            async fn sku_positions(&self, sku: &Sku) -> Result<Vec<(LocationCode, Position)>, StoreError> {
                let rows: Vec<(String, i64, i64, i64)> = sqlx::query_as(
                    "SELECT location, on_hand, reserved, safety_stock FROM stock WHERE sku = $1 ORDER BY location",
                )
                .bind(sku.as_str())
                .fetch_all(self.reader())
                .await?;
                Ok(rows
                    .into_iter()
                    .filter_map(|(l, on_hand, reserved, safety_stock)| {
                        Some((LocationCode::parse(&l).ok()?, Position { on_hand, reserved, safety_stock }))
                    })
                    .collect())
            }

            async fn all_positions(&self) -> Result<Vec<StockRow>, StoreError> {
                let rows: Vec<(String, String, i64, i64, i64)> = sqlx::query_as(
                    "SELECT sku, location, on_hand, reserved, safety_stock FROM stock ORDER BY sku, location",
                )
                .fetch_all(self.reader())
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(sku, location, on_hand, reserved, safety_stock)| StockRow {
                        available: Position { on_hand, reserved, safety_stock }.available(),
                        sku,
                        location,
                        on_hand,
                        reserved,
                        safety_stock,
                    })
                    .collect())
            }

            async fn create_order(
                &self,
                o: &NewOrder,
                now_ms: i64,
                ttl_ms: i64,
            ) -> Result<(OrderView, bool), StoreError> {
                let id = uuid::Uuid::now_v7().to_string();
                let ship_to = serde_json::to_string(&o.ship_to).map_err(|e| StoreError::Invalid(e.to_string()))?;
                let mut tx = self.begin().await?;
                // Claim (channel, external_id) first: a duplicate stops here,
                // before it touches any stock row.
                let claimed = sqlx::query(
                    "INSERT INTO orders (id, channel, external_id, status, currency, total_minor, payment, \
                     service_level, pickup_location, ship_to, reservation_expires_at, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL, $11, $11) \
                     ON CONFLICT (channel, external_id) DO NOTHING",
                )
                .bind(&id)
                .bind(o.channel.as_str())
                .bind(o.external_id.as_str())
                .bind(OrderStatus::Accepted.as_str())
                .bind(o.currency.as_str())
                .bind(o.total_minor)
                .bind(o.payment.as_str())
                .bind(o.service_level.as_str())
                .bind(o.pickup_location.as_ref().map(|p| p.as_str()))
                .bind(&ship_to)
                .bind(now_ms)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if claimed == 0 {
                    tx.rollback().await?;
                    let existing: Option<(String,)> =
                        sqlx::query_as("SELECT id FROM orders WHERE channel = $1 AND external_id = $2")
                            .bind(o.channel.as_str())
                            .bind(o.external_id.as_str())
                            .fetch_optional(self.reader())
                            .await?;
                    let (existing,) = existing.ok_or_else(|| StoreError::NotFound {
                        what: "order",
                        key: format!("{}/{}", o.channel, o.external_id),
                    })?;
                    return Ok((self.must_get(&existing).await?, false));
                }
                // An order from a channel nobody configured registers it.
                sqlx::query(
                    "INSERT INTO channels (name, display_name, settings, active, created_at) \
                     VALUES ($1, $1, '{}', $2, $3) ON CONFLICT (name) DO NOTHING",
                )
                .bind(o.channel.as_str())
                .bind(true)
                .bind(now_ms)
                .execute(&mut *tx)
                .await?;
                let mut wants = Vec::with_capacity(o.lines.len());
                for (i, line) in o.lines.iter().enumerate() {
                    let line_no = i as i64 + 1;
                    sqlx::query(
                        "INSERT INTO order_lines (order_id, line_no, sku, quantity, unit_price, backordered) \
                         VALUES ($1, $2, $3, $4, $5, $4)",
                    )
                    .bind(&id)
                    .bind(line_no)
                    .bind(line.sku.as_str())
                    .bind(line.quantity.as_i64())
                    .bind(line.unit_price)
                    .execute(&mut *tx)
                    .await?;
                    wants.push((line_no, line.sku.clone(), line.quantity.as_i64()));
                }
                let facts = OrderFacts {
                    channel: o.channel.clone(),
                    value: Money::new(o.total_minor, o.currency),
                    ship_to: &o.ship_to,
                    service_level: o.service_level,
                    pickup_location: o.pickup_location.as_ref(),
                    avoid: vec![],
                };
                let routed =
                    Self::allocate_and_reserve(&mut tx, &self.policies, &id, &wants, &facts, Mode::Policy, now_ms).await?;
                let summary = &routed.summary;
                let mut status = status_after_allocation(o.payment, routed.unfilled > 0);
                let problems = address::check(&o.ship_to);
                let expires = (o.payment == PaymentState::Pending).then(|| now_ms.saturating_add(ttl_ms));
                sqlx::query("UPDATE orders SET status = $1, reservation_expires_at = $2 WHERE id = $3")
                    .bind(status.as_str())
                    .bind(expires)
                    .bind(&id)
                    .execute(&mut *tx)
                    .await?;
                let lines = o.lines.len();
                Self::event(&mut tx, &id, now_ms, "received", &format!("Received from {} as {} ({lines} line(s))", o.channel, o.external_id)).await?;
                let message = if summary.is_empty() { "Nothing could be allocated".to_owned() } else { summary.join("; ") };
                Self::event(&mut tx, &id, now_ms, "allocated", &message).await?;
                if let Some(why) = &routed.explanation {
                    Self::event(&mut tx, &id, now_ms, "routed", why).await?;
                }
                let mut hold = false;
                if !problems.is_empty() {
                    let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
                    Self::open_exception(&mut tx, &id, ExceptionKind::AddressInvalid, &text.join("; "), now_ms).await?;
                    hold = true;
                }
                if let Some((kind, why)) = &routed.held {
                    Self::open_exception(&mut tx, &id, *kind, why, now_ms).await?;
                    hold = true;
                }
                if routed.backordered > 0 {
                    let short: Vec<&str> =
                        summary.iter().filter(|s| s.ends_with("backordered")).map(|s| s.as_str()).collect();
                    let what = if short.is_empty() { format!("{} unit(s)", routed.backordered) } else { short.join(", ") };
                    Self::open_exception(&mut tx, &id, ExceptionKind::Backordered, &format!("No location can fill {what}"), now_ms)
                        .await?;
                }
                // The order is kept with what stock it got, but must not ship.
                if hold && status != OrderStatus::PendingPayment {
                    status = OrderStatus::OnHold;
                    sqlx::query("UPDATE orders SET status = $1 WHERE id = $2")
                        .bind(status.as_str())
                        .bind(&id)
                        .execute(&mut *tx)
                        .await?;
                }
                Self::event(&mut tx, &id, now_ms, "status", &format!("Status {}", status.as_str())).await?;
                tx.commit().await?;
                Ok((self.must_get(&id).await?, true))
            }

            async fn get_order(&self, id: &str) -> Result<Option<OrderView>, StoreError> {
                let sql = format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1");
                let row: Option<OrderRow> = sqlx::query_as(&sql).bind(id).fetch_optional(self.reader()).await?;
                let Some(row) = row else { return Ok(None) };
                let (lines, allocs) = self.load_lines(std::slice::from_ref(&row.id)).await?;
                let events: Vec<(i64, String, String)> =
                    sqlx::query_as("SELECT at, kind, message FROM order_events WHERE order_id = $1 ORDER BY id")
                        .bind(id)
                        .fetch_all(self.reader())
                        .await?;
                let events = events.into_iter().map(|(at, kind, message)| EventView { at: rfc3339(at), kind, message }).collect();
                let exceptions = self.load_exceptions(std::slice::from_ref(&row.id), None).await?;
                let mut view = assemble(row, lines, &allocs, exceptions, Some(events));
                view.routing = Some(self.order_decisions(id).await?);
                Ok(Some(view))
            }

            async fn list_orders(&self, f: &OrderFilter) -> Result<OrderPage, StoreError> {
                let mut clauses = Vec::new();
                let mut binds: Vec<&str> = Vec::new();
                for (col, value) in [("status", &f.status), ("channel", &f.channel)] {
                    if let Some(v) = value {
                        binds.push(v.as_str());
                        clauses.push(format!("{col} = ${}", binds.len()));
                    }
                }
                if let Some(c) = &f.cursor {
                    binds.push(c.as_str());
                    clauses.push(format!("id < ${}", binds.len()));
                }
                let limit = f.limit.clamp(1, 500);
                let sql = format!(
                    "SELECT {ORDER_COLUMNS} FROM orders {} ORDER BY id DESC LIMIT ${}",
                    if clauses.is_empty() { String::new() } else { format!("WHERE {}", clauses.join(" AND ")) },
                    binds.len() + 1
                );
                let mut q = sqlx::query_as::<_, OrderRow>(&sql);
                for b in &binds {
                    q = q.bind(*b);
                }
                let mut rows = q.bind(limit + 1).fetch_all(self.reader()).await?;
                let more = rows.len() as i64 > limit;
                rows.truncate(limit as usize);
                let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
                let (lines, allocs) = self.load_lines(&ids).await?;
                let mut by_order: BTreeMap<String, Vec<_>> = BTreeMap::new();
                for l in lines {
                    by_order.entry(l.0.clone()).or_default().push(l);
                }
                let next_cursor = if more { ids.last().cloned() } else { None };
                let mut exceptions: BTreeMap<String, Vec<ExceptionView>> = BTreeMap::new();
                for e in self.load_exceptions(&ids, Some("open")).await? {
                    exceptions.entry(e.order_id.clone()).or_default().push(e);
                }
                let orders = rows
                    .into_iter()
                    .map(|r| {
                        let lines = by_order.remove(&r.id).unwrap_or_default();
                        let ex = exceptions.remove(&r.id).unwrap_or_default();
                        assemble(r, lines, &allocs, ex, None)
                    })
                    .collect();
                Ok(OrderPage { orders, next_cursor })
            }

            async fn cancel_order(&self, id: &str, reason: &str, now_ms: i64) -> Result<OrderView, StoreError> {
                let mut tx = self.begin().await?;
                let (status, ..) = Self::lock_order(&mut tx, id).await?;
                let why = if reason.is_empty() { String::new() } else { format!(": {reason}") };
                Self::cancel_tx(&mut tx, id, status, &format!("Cancelled{why}"), if reason.is_empty() { "cancelled" } else { reason }, now_ms).await?;
                tx.commit().await?;
                self.must_get(id).await
            }

            async fn mark_paid(&self, id: &str, now_ms: i64) -> Result<OrderView, StoreError> {
                let mut tx = self.begin().await?;
                let (status, payment, level, pickup, _) = Self::lock_order(&mut tx, id).await?;
                if payment == PaymentState::Paid {
                    return Err(StoreError::Invalid(format!("order {id} is already paid")));
                }
                let mut message = "Payment received".to_owned();
                let mut backordered = Self::unfilled_units(&mut tx, id).await?;
                if status == OrderStatus::OnHold && backordered > 0 {
                    // The hold expired and the stock went back: allocate again.
                    let wants = Self::unfilled_wants(&mut tx, id).await?;
                    let pickup = pickup.and_then(|p| LocationCode::parse(&p).ok());
                    let (channel, value, ship_to) = Self::order_facts(&mut tx, id).await?;
                    let facts = OrderFacts { channel, value, ship_to: &ship_to, service_level: level, pickup_location: pickup.as_ref(), avoid: vec![] };
                    let routed =
                        Self::allocate_and_reserve(&mut tx, &self.policies, id, &wants, &facts, Mode::Policy, now_ms).await?;
                    backordered = routed.unfilled;
                    if !routed.summary.is_empty() {
                        message = format!("Payment received; allocated again: {}", routed.summary.join("; "));
                    }
                }
                Self::close_exceptions(&mut tx, id, Some(ExceptionKind::PaymentTimeout), "paid", "system", "payment received", now_ms).await?;
                // An open exception that blocks fulfilment keeps the order on hold.
                let target = if Self::blocking_open(&mut tx, id).await? {
                    OrderStatus::OnHold
                } else {
                    status_after_allocation(PaymentState::Paid, backordered > 0)
                };
                let next = if target == status { status } else { status.transition(target)? };
                sqlx::query("UPDATE orders SET payment = 'paid', reservation_expires_at = NULL WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                Self::set_status(&mut tx, id, next, now_ms).await?;
                Self::event(&mut tx, id, now_ms, "paid", &message).await?;
                tx.commit().await?;
                self.must_get(id).await
            }

            async fn ship(&self, id: &str, s: &NewShipment, now_ms: i64) -> Result<OrderView, StoreError> {
                let mut tx = self.begin().await?;
                let (status, ..) = Self::lock_order(&mut tx, id).await?;
                if !status.can_ship() {
                    return Err(IllegalTransition { from: status, to: OrderStatus::Shipped }.into());
                }
                let loc: Option<(String,)> = sqlx::query_as("SELECT code FROM locations WHERE code = $1")
                    .bind(s.location.as_str())
                    .fetch_optional(&mut *tx)
                    .await?;
                if loc.is_none() {
                    return Err(StoreError::UnknownLocation(s.location.to_string()));
                }
                // Open line units at this location, per line.
                let open: Vec<(i64, String, i64)> = sqlx::query_as(
                    "SELECT l.line_no, l.sku, a.quantity - a.shipped - a.released FROM order_lines l \
                     JOIN allocations a ON a.order_id = l.order_id AND a.line_no = l.line_no \
                     WHERE l.order_id = $1 AND a.location = $2 ORDER BY l.line_no",
                )
                .bind(id)
                .bind(s.location.as_str())
                .fetch_all(&mut *tx)
                .await?;
                let mut open: Vec<(i64, String, i64)> = open;
                let mut takes: Vec<(i64, i64)> = Vec::new();
                for (sku, qty) in &s.lines {
                    let mut left = qty.as_i64();
                    for (line_no, line_sku, units) in open.iter_mut() {
                        if line_sku == sku.as_str() && *units > 0 && left > 0 {
                            let take = left.min(*units);
                            *units -= take;
                            left -= take;
                            takes.push((*line_no, take));
                        }
                    }
                    if left > 0 {
                        return Err(StoreError::ExceedsAllocation(format!(
                            "cannot ship {} × {sku} from {}: {} more than is allocated there and not yet shipped",
                            qty.get(),
                            s.location,
                            left
                        )));
                    }
                }
                // Consume the reservations behind those units, in key order.
                let mut consume: BTreeMap<(String, i64), i64> = BTreeMap::new();
                for (line_no, take) in &takes {
                    let rows: Vec<(String, i64)> = sqlx::query_as(
                        "SELECT sku, per_unit FROM reservations WHERE order_id = $1 AND line_no = $2 AND location = $3",
                    )
                    .bind(id)
                    .bind(*line_no)
                    .bind(s.location.as_str())
                    .fetch_all(&mut *tx)
                    .await?;
                    for (sku, per_unit) in rows {
                        *consume.entry((sku, *line_no)).or_default() += take * per_unit;
                    }
                    sqlx::query("UPDATE allocations SET shipped = shipped + $1 WHERE order_id = $2 AND line_no = $3 AND location = $4")
                        .bind(*take)
                        .bind(id)
                        .bind(*line_no)
                        .bind(s.location.as_str())
                        .execute(&mut *tx)
                        .await?;
                }
                for ((sku, line_no), qty) in &consume {
                    let pos = Self::lock_position(&mut tx, sku, s.location.as_str(), None).await?.unwrap_or_default();
                    let d = pos.ship(*qty)?;
                    Self::apply_delta(&mut tx, sku, s.location.as_str(), &d, "shipment", Some(id), now_ms).await?;
                    sqlx::query("UPDATE reservations SET held = held - $1 WHERE order_id = $2 AND line_no = $3 AND sku = $4 AND location = $5")
                        .bind(*qty)
                        .bind(id)
                        .bind(*line_no)
                        .bind(sku.as_str())
                        .bind(s.location.as_str())
                        .execute(&mut *tx)
                        .await?;
                }
                let remaining: (i64, i64) = sqlx::query_as(
                    "SELECT CAST(COALESCE((SELECT SUM(quantity - shipped - released) FROM allocations WHERE order_id = $1), 0) AS BIGINT), \
                     CAST(COALESCE((SELECT SUM(backordered) FROM order_lines WHERE order_id = $1), 0) AS BIGINT)",
                )
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
                let target = if remaining == (0, 0) { OrderStatus::Shipped } else { OrderStatus::PartiallyShipped };
                let next = status.transition(target)?;
                Self::set_status(&mut tx, id, next, now_ms).await?;
                let lines_json = serde_json::to_string(
                    &s.lines.iter().map(|(sku, q)| serde_json::json!({"sku": sku, "quantity": q.get()})).collect::<Vec<_>>(),
                )
                .map_err(|e| StoreError::Invalid(e.to_string()))?;
                sqlx::query(
                    "INSERT INTO shipments (id, order_id, location, carrier, tracking, lines, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(uuid::Uuid::now_v7().to_string())
                .bind(id)
                .bind(s.location.as_str())
                .bind(s.carrier.as_deref())
                .bind(s.tracking.as_deref())
                .bind(&lines_json)
                .bind(now_ms)
                .execute(&mut *tx)
                .await?;
                let what: Vec<String> = s.lines.iter().map(|(sku, q)| format!("{} × {sku}", q.get())).collect();
                let tracking = match (&s.carrier, &s.tracking) {
                    (Some(c), Some(t)) => format!(" via {c} ({t})"),
                    (Some(c), None) => format!(" via {c}"),
                    (None, Some(t)) => format!(" (tracking {t})"),
                    (None, None) => String::new(),
                };
                Self::event(&mut tx, id, now_ms, "shipped", &format!("Shipped {} from {}{tracking}; status {}", what.join(", "), s.location, next.as_str())).await?;
                Self::outbox_atp(&mut tx, consume.keys().map(|(sku, _)| sku.as_str()), now_ms).await?;
                tx.commit().await?;
                self.must_get(id).await
            }

            async fn reroute(
                &self,
                id: &str,
                reject: Option<(i64, &LocationCode)>,
                actor: &str,
                reason: &str,
                now_ms: i64,
            ) -> Result<OrderView, StoreError> {
                let mut tx = self.begin().await?;
                let order = Self::lock_order(&mut tx, id).await?;
                let released = Self::release_scope(&mut tx, id, order.0, reject, now_ms).await?;
                let mut avoid = Vec::new();
                if reject.is_some() {
                    // The store cannot find it: correct the count, as far as
                    // other orders' reservations allow, and look elsewhere.
                    for (sku, location, qty) in &released.1 {
                        let pos = Self::lock_position(&mut tx, sku, location, None).await?.unwrap_or_default();
                        let missing = (*qty).min(pos.on_hand - pos.reserved);
                        if missing > 0 {
                            let d = pos.adjust(-missing)?;
                            let why = format!("not found at {location} for order {id}: {reason}");
                            Self::apply_delta(&mut tx, sku, location, &d, &why, Some(id), now_ms).await?;
                        }
                        if let (Ok(s), Ok(l)) = (Sku::parse(sku), LocationCode::parse(location)) {
                            avoid.push((s, l));
                        }
                    }
                }
                let what = match reject {
                    Some((line, loc)) => format!("{loc} could not find line {line}'s item"),
                    None => "re-route requested".to_owned(),
                };
                Self::route_unfilled(&mut tx, &self.policies, id, order, avoid, actor, &what, reason, released.0, now_ms).await?;
                tx.commit().await?;
                self.must_get(id).await
            }

            async fn expire_reservations(
                &self,
                now_ms: i64,
                action: ExpiredAction,
                limit: i64,
            ) -> Result<Vec<String>, StoreError> {
                let due: Vec<(String,)> = sqlx::query_as(
                    "SELECT id FROM orders WHERE status = 'pending_payment' AND reservation_expires_at <= $1 \
                     ORDER BY reservation_expires_at LIMIT $2",
                )
                .bind(now_ms)
                .bind(limit)
                .fetch_all(self.reader())
                .await?;
                let mut expired = Vec::new();
                for (id,) in due {
                    let mut tx = self.begin().await?;
                    let (status, payment, _, _, expires) = Self::lock_order(&mut tx, &id).await?;
                    // Paid or cancelled meanwhile: nothing to do.
                    if status != OrderStatus::PendingPayment
                        || payment != PaymentState::Pending
                        || expires.is_none_or(|e| e > now_ms)
                    {
                        tx.rollback().await?;
                        continue;
                    }
                    let next = status.transition(action.status())?;
                    let released = Self::release_all(&mut tx, &id, "reservation expired", now_ms).await?;
                    if action == ExpiredAction::Hold {
                        sqlx::query(
                            "UPDATE order_lines SET backordered = quantity - COALESCE((SELECT SUM(a.shipped) FROM allocations a \
                             WHERE a.order_id = order_lines.order_id AND a.line_no = order_lines.line_no), 0) WHERE order_id = $1",
                        )
                        .bind(&id)
                        .execute(&mut *tx)
                        .await?;
                    }
                    sqlx::query("UPDATE orders SET reservation_expires_at = NULL WHERE id = $1")
                        .bind(&id)
                        .execute(&mut *tx)
                        .await?;
                    Self::set_status(&mut tx, &id, next, now_ms).await?;
                    if action == ExpiredAction::Hold {
                        Self::open_exception(&mut tx, &id, ExceptionKind::PaymentTimeout, "Payment did not arrive in time; stock released; paying re-allocates", now_ms).await?;
                    } else {
                        Self::close_order_exceptions(&mut tx, &id, "system", "payment timed out; order cancelled", now_ms).await?;
                        Self::notify(&mut tx, &id, serde_json::json!({"kind": "order_cancelled", "order_id": id, "reason": "payment_timeout"}), now_ms).await?;
                    }
                    Self::event(
                        &mut tx,
                        &id,
                        now_ms,
                        "reservation_expired",
                        &format!("Payment did not arrive in time; released {released} unit(s); status {}", next.as_str()),
                    )
                    .await?;
                    tx.commit().await?;
                    expired.push(id);
                }
                Ok(expired)
            }

            async fn auto_cancel_held(&self, now_ms: i64, limit: i64) -> Result<Vec<String>, StoreError> {
                let due: Vec<(String,)> = sqlx::query_as(
                    "SELECT id FROM orders WHERE auto_cancel_at <= $1 ORDER BY auto_cancel_at LIMIT $2",
                )
                .bind(now_ms)
                .bind(limit)
                .fetch_all(self.reader())
                .await?;
                let mut cancelled = Vec::new();
                for (id,) in due {
                    let mut tx = self.begin().await?;
                    let (status, ..) = Self::lock_order(&mut tx, &id).await?;
                    let still_held: (i64, i64) = sqlx::query_as(
                        "SELECT CAST(COALESCE((SELECT SUM(backordered) FROM order_lines WHERE order_id = $1), 0) AS BIGINT), \
                         CAST((SELECT COUNT(*) FROM exceptions WHERE order_id = $1 AND status = 'open' \
                         AND kind IN ('unroutable', 'pickup_unavailable', 'split_over_limit')) AS BIGINT)",
                    )
                    .bind(&id)
                    .fetch_one(&mut *tx)
                    .await?;
                    sqlx::query("UPDATE orders SET auto_cancel_at = NULL WHERE id = $1").bind(&id).execute(&mut *tx).await?;
                    // Resolved meanwhile (allocated, approved, cancelled): nothing to do.
                    if status != OrderStatus::OnHold || still_held.0 == 0 || still_held.1 == 0 {
                        tx.commit().await?;
                        continue;
                    }
                    Self::cancel_tx(&mut tx, &id, status, "Held past the routing policy's auto-cancel time; cancelled", "auto_cancel", now_ms).await?;
                    tx.commit().await?;
                    cancelled.push(id);
                }
                Ok(cancelled)
            }

            async fn audit(&self) -> Result<AuditReport, StoreError> {
                let mut tx = self.begin_snapshot().await?;
                let mut report = AuditReport::default();
                let rows: Vec<(String, String, i64, i64, i64, i64, i64, i64)> = sqlx::query_as(
                    "SELECT s.sku, s.location, s.on_hand, s.reserved, s.safety_stock, \
                     CAST(COALESCE(SUM(l.on_hand_delta), 0) AS BIGINT), CAST(COALESCE(SUM(l.reserved_delta), 0) AS BIGINT), \
                     CAST(COALESCE(SUM(l.safety_stock_delta), 0) AS BIGINT) \
                     FROM stock s LEFT JOIN stock_ledger l ON l.sku = s.sku AND l.location = s.location \
                     GROUP BY s.sku, s.location, s.on_hand, s.reserved, s.safety_stock ORDER BY s.sku, s.location",
                )
                .fetch_all(&mut *tx)
                .await?;
                report.positions_checked = rows.len();
                for (sku, loc, on_hand, reserved, safety, l_on_hand, l_reserved, l_safety) in rows {
                    if !(0 <= reserved && reserved <= on_hand) {
                        report.drift.push(format!("{sku}@{loc}: reserved {reserved} outside 0..={on_hand}"));
                    }
                    if (on_hand, reserved, safety) != (l_on_hand, l_reserved, l_safety) {
                        report.drift.push(format!(
                            "{sku}@{loc}: position on_hand={on_hand} reserved={reserved} safety_stock={safety}, \
                             ledger says on_hand={l_on_hand} reserved={l_reserved} safety_stock={l_safety}"
                        ));
                    }
                }
                let orphans: Vec<(String, String, i64)> = sqlx::query_as(
                    "SELECT l.sku, l.location, CAST(COUNT(*) AS BIGINT) FROM stock_ledger l LEFT JOIN stock s \
                     ON s.sku = l.sku AND s.location = l.location WHERE s.sku IS NULL GROUP BY l.sku, l.location",
                )
                .fetch_all(&mut *tx)
                .await?;
                for (sku, loc, n) in orphans {
                    report.drift.push(format!("{sku}@{loc}: {n} ledger entries but no position"));
                }
                let held: Vec<(String, String, i64, i64)> = sqlx::query_as(
                    "SELECT s.sku, s.location, s.reserved, CAST(COALESCE(SUM(r.held), 0) AS BIGINT) FROM stock s \
                     LEFT JOIN reservations r ON r.sku = s.sku AND r.location = s.location \
                     GROUP BY s.sku, s.location, s.reserved ORDER BY s.sku, s.location",
                )
                .fetch_all(&mut *tx)
                .await?;
                for (sku, loc, reserved, held) in held {
                    if reserved != held {
                        report.drift.push(format!("{sku}@{loc}: reserved {reserved} but open orders hold {held}"));
                    }
                }
                let closed: Vec<(String, String, String, i64, String)> = sqlx::query_as(
                    "SELECT r.order_id, r.sku, r.location, r.held, o.status FROM reservations r JOIN orders o ON o.id = r.order_id \
                     WHERE r.held > 0 AND o.status IN ('shipped', 'completed', 'cancelled')",
                )
                .fetch_all(&mut *tx)
                .await?;
                for (order, sku, loc, held, status) in closed {
                    report.drift.push(format!("order {order} is {status} but still holds {held} × {sku}@{loc}"));
                }
                let mismatched: Vec<(String, i64, String, String, i64, i64)> = sqlx::query_as(
                    "SELECT r.order_id, r.line_no, r.sku, r.location, r.held, r.per_unit * (a.quantity - a.shipped - a.released) \
                     FROM reservations r LEFT JOIN allocations a ON a.order_id = r.order_id AND a.line_no = r.line_no \
                     AND a.location = r.location WHERE a.order_id IS NULL OR r.held <> r.per_unit * (a.quantity - a.shipped - a.released)",
                )
                .fetch_all(&mut *tx)
                .await?;
                for (order, line, sku, loc, held, expected) in mismatched {
                    report.drift.push(format!(
                        "order {order} line {line}: holds {held} × {sku}@{loc} but its allocation leaves {expected} open"
                    ));
                }
                let counts: (i64, i64) = sqlx::query_as(
                    "SELECT CAST((SELECT COUNT(*) FROM reservations) AS BIGINT), CAST((SELECT COUNT(*) FROM stock_ledger) AS BIGINT)",
                )
                .fetch_one(&mut *tx)
                .await?;
                report.reservations_checked = counts.0 as usize;
                report.ledger_entries = counts.1;
                tx.rollback().await?;
                Ok(report)
            }

            async fn list_exceptions(&self, f: &ExceptionFilter) -> Result<Vec<ExceptionView>, StoreError> {
                let mut clauses = Vec::new();
                let mut binds: Vec<&str> = Vec::new();
                for (col, value) in [("e.status", &f.status), ("e.kind", &f.kind), ("e.order_id", &f.order_id)] {
                    if let Some(v) = value {
                        binds.push(v.as_str());
                        clauses.push(format!("{col} = ${}", binds.len()));
                    }
                }
                let sql = format!(
                    "SELECT {EXCEPTION_COLUMNS} FROM exceptions e JOIN orders o ON o.id = e.order_id {} \
                     ORDER BY e.created_at, e.id LIMIT ${}",
                    if clauses.is_empty() { String::new() } else { format!("WHERE {}", clauses.join(" AND ")) },
                    binds.len() + 1
                );
                let mut q = sqlx::query_as::<_, ExceptionRow>(&sql);
                for b in &binds {
                    q = q.bind(*b);
                }
                let rows = q.bind(f.limit.clamp(1, 500)).fetch_all(self.reader()).await?;
                Ok(rows.into_iter().map(exception_view).collect())
            }

            async fn get_exception(&self, id: &str) -> Result<Option<ExceptionView>, StoreError> {
                let sql = format!("SELECT {EXCEPTION_COLUMNS} FROM exceptions e JOIN orders o ON o.id = e.order_id WHERE e.id = $1");
                let row: Option<ExceptionRow> = sqlx::query_as(&sql).bind(id).fetch_optional(self.reader()).await?;
                let Some(row) = row else { return Ok(None) };
                let log: Vec<(i64, String, String, String)> =
                    sqlx::query_as("SELECT at, actor, action, note FROM exception_log WHERE exception_id = $1 ORDER BY id")
                        .bind(id)
                        .fetch_all(self.reader())
                        .await?;
                let mut view = exception_view(row);
                view.log = Some(
                    log.into_iter()
                        .map(|(at, actor, action, note)| ExceptionLogView { at: rfc3339(at), actor, action, note })
                        .collect(),
                );
                Ok(Some(view))
            }

            async fn resolve_exception(&self, id: &str, r: &Resolution, now_ms: i64) -> Result<ExceptionView, StoreError> {
                let mut tx = self.begin().await?;
                let sql = format!("SELECT order_id, kind, status FROM exceptions WHERE id = $1{}", Self::FOR_UPDATE);
                let row: Option<(String, String, String)> = sqlx::query_as(&sql).bind(id).fetch_optional(&mut *tx).await?;
                let (order_id, kind, status) =
                    row.ok_or_else(|| StoreError::NotFound { what: "exception", key: id.to_owned() })?;
                if status != ExceptionStatus::Open.as_str() {
                    return Err(StoreError::Invalid(format!("exception {id} is already {status}")));
                }
                let kind = ExceptionKind::parse(&kind)
                    .ok_or_else(|| StoreError::Invalid(format!("stored exception has unknown kind {kind:?}")))?;
                if !kind.actions().contains(&r.action) {
                    let allowed: Vec<&str> = kind.actions().iter().map(|a| a.as_str()).collect();
                    return Err(StoreError::Invalid(format!(
                        "{} does not apply to a {} exception (use one of: {})",
                        r.action.as_str(),
                        kind.as_str(),
                        allowed.join(", ")
                    )));
                }
                let actor = if r.actor.trim().is_empty() { "unknown" } else { r.actor.trim() };
                let (order_status, payment, level, pickup, _) = Self::lock_order(&mut tx, &order_id).await?;
                let mut resolved = true;
                let mut final_status = ExceptionStatus::Resolved;
                let mut note = r.note.trim().to_owned();
                match r.action {
                    ResolutionAction::Retry | ResolutionAction::OverrideLocation | ResolutionAction::ApproveSplit => {
                        if r.action == ResolutionAction::OverrideLocation && r.location.is_none() {
                            return Err(StoreError::Invalid("override_location needs a location".into()));
                        }
                        if !order_status.is_open() {
                            return Err(StoreError::Invalid(format!("order is {}: nothing to allocate", order_status.as_str())));
                        }
                        let wants = Self::unfilled_wants(&mut tx, &order_id).await?;
                        if !wants.is_empty() {
                            let pickup = pickup.and_then(|p| LocationCode::parse(&p).ok());
                            let (channel, value, ship_to) = Self::order_facts(&mut tx, &order_id).await?;
                            let facts =
                                OrderFacts { channel, value, ship_to: &ship_to, service_level: level, pickup_location: pickup.as_ref(), avoid: vec![] };
                            let mode = match r.action {
                                ResolutionAction::OverrideLocation => Mode::Override(r.location.as_ref()),
                                ResolutionAction::ApproveSplit => Mode::Override(None),
                                _ => Mode::Policy,
                            };
                            let routed =
                                Self::allocate_and_reserve(&mut tx, &self.policies, &order_id, &wants, &facts, mode, now_ms)
                                    .await?;
                            let (left, summary) = (routed.unfilled, routed.summary);
                            let placed: Vec<&String> = summary.iter().filter(|s| !s.ends_with("backordered")).collect();
                            let placed: Vec<&str> = placed.iter().map(|s| s.as_str()).collect();
                            let what = if placed.is_empty() { "nothing more could be allocated".to_owned() } else { format!("allocated {}", placed.join("; ")) };
                            Self::event(&mut tx, &order_id, now_ms, "allocated", &format!("{actor} retried: {what}")).await?;
                            resolved = left == 0;
                            note = if note.is_empty() { what } else { format!("{note} ({what})") };

                        }
                    }
                    ResolutionAction::EditAddress => {
                        let address = r.address.as_ref().ok_or_else(|| StoreError::Invalid("edit_address needs an address".into()))?;
                        let problems = address::check(address);
                        if !problems.is_empty() {
                            let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
                            return Err(StoreError::InvalidAddress(text.join("; ")));
                        }
                        let json = serde_json::to_string(address).map_err(|e| StoreError::Invalid(e.to_string()))?;
                        sqlx::query("UPDATE orders SET ship_to = $1, updated_at = $2 WHERE id = $3")
                            .bind(&json)
                            .bind(now_ms)
                            .bind(&order_id)
                            .execute(&mut *tx)
                            .await?;
                        Self::event(&mut tx, &order_id, now_ms, "address_updated", &format!("{actor} corrected the address")).await?;
                    }
                    ResolutionAction::Cancel => {
                        let message = format!("Cancelled by {actor} ({} exception)", kind.as_str());
                        Self::cancel_tx(&mut tx, &order_id, order_status, &message, kind.as_str(), now_ms).await?;
                    }
                    ResolutionAction::Dismiss => {
                        if note.is_empty() {
                            return Err(StoreError::Invalid("dismissing an exception needs a reason".into()));
                        }
                        final_status = ExceptionStatus::Dismissed;
                    }
                }
                if resolved {
                    sqlx::query(
                        "UPDATE exceptions SET status = $1, resolved_at = $2, resolved_by = $3, resolution = $4, note = $5 WHERE id = $6",
                    )
                    .bind(final_status.as_str())
                    .bind(now_ms)
                    .bind(actor)
                    .bind(r.action.as_str())
                    .bind(&note)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                    if r.action == ResolutionAction::Cancel {
                        Self::close_order_exceptions(&mut tx, &order_id, actor, "order cancelled", now_ms).await?;
                    }
                    // With nothing left blocking, a held or backordered order
                    // moves on (accepted once everything is reserved).
                    let status_now = Self::lock_order(&mut tx, &order_id).await?.0;
                    if matches!(status_now, OrderStatus::OnHold | OrderStatus::Backordered)
                        && kind != ExceptionKind::PaymentTimeout
                        && !Self::blocking_open(&mut tx, &order_id).await?
                    {
                        let unfilled = Self::unfilled_units(&mut tx, &order_id).await?;
                        let target = status_after_allocation(payment, unfilled > 0);
                        if target != status_now {
                            let next = status_now.transition(target)?;
                            Self::set_status(&mut tx, &order_id, next, now_ms).await?;
                            Self::event(&mut tx, &order_id, now_ms, "status", &format!("Released from hold; status {}", next.as_str())).await?;
                        }
                    }
                }
                Self::log_exception(&mut tx, id, actor, r.action.as_str(), &note, now_ms).await?;
                let outcome = if resolved { final_status.as_str() } else { "still open" };
                Self::event(
                    &mut tx,
                    &order_id,
                    now_ms,
                    "exception_action",
                    &format!("{actor}: {} on {} exception ({outcome}){}", r.action.as_str(), kind.as_str(), if note.is_empty() { String::new() } else { format!(": {note}") }),
                )
                .await?;
                tx.commit().await?;
                self.get_exception(id).await?.ok_or_else(|| StoreError::NotFound { what: "exception", key: id.to_owned() })
            }

            async fn escalate_exceptions(&self, now_ms: i64) -> Result<Vec<(String, i64)>, StoreError> {
                let open: Vec<(String, String, String, i64, i64, i64)> = sqlx::query_as(
                    "SELECT id, order_id, kind, level, sla_ms, created_at FROM exceptions WHERE status = 'open' \
                     ORDER BY created_at LIMIT 1000",
                )
                .fetch_all(self.reader())
                .await?;
                let mut raised = Vec::new();
                for (id, order_id, kind, level, sla_ms, created_at) in open {
                    let due = escalation_level(created_at, now_ms, sla_ms);
                    let Some(kind) = ExceptionKind::parse(&kind) else { continue };
                    if due <= level {
                        continue;
                    }
                    let severity = escalated(kind.severity(), due);
                    let mut tx = self.begin().await?;
                    // `level < due` keeps this idempotent across processes.
                    let changed = sqlx::query(
                        "UPDATE exceptions SET level = $1, severity = $2 WHERE id = $3 AND status = 'open' AND level < $1",
                    )
                    .bind(due)
                    .bind(severity.as_str())
                    .bind(&id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if changed == 0 {
                        tx.rollback().await?;
                        continue;
                    }
                    let note = format!("past its SLA: escalated to level {due} ({})", severity.as_str());
                    Self::log_exception(&mut tx, &id, "system", "escalated", &note, now_ms).await?;
                    Self::event(&mut tx, &order_id, now_ms, "exception_escalated", &format!("{} exception {note}", kind.as_str())).await?;
                    Self::notify(
                        &mut tx,
                        &order_id,
                        serde_json::json!({"kind": "exception_escalated", "exception_id": id, "exception_kind": kind.as_str(),
                                           "level": due, "severity": severity.as_str(), "owner_role": kind.owner().as_str()}),
                        now_ms,
                    )
                    .await?;
                    tx.commit().await?;
                    raised.push((id, due));
                }
                Ok(raised)
            }

            async fn open_exception_count(&self) -> Result<i64, StoreError> {
                let (n,): (i64,) = sqlx::query_as("SELECT CAST(COUNT(*) AS BIGINT) FROM exceptions WHERE status = 'open'")
                    .fetch_one(self.reader())
                    .await?;
                Ok(n)
            }

            async fn save_policy(&self, body: &str, note: &str, by: &str, now_ms: i64) -> Result<PolicyRecord, StoreError> {
                let mut tx = self.begin().await?;
                let (version,): (i64,) = sqlx::query_as(
                    "INSERT INTO routing_policies (body, note, created_by, created_at, is_active, is_shadow) \
                     VALUES ($1, $2, $3, $4, $5, $5) RETURNING version",
                )
                .bind(body)
                .bind(note)
                .bind(by)
                .bind(now_ms)
                .bind(false)
                .fetch_one(&mut *tx)
                .await?;
                sqlx::query("INSERT INTO routing_policy_log (version, action, actor, at) VALUES ($1, 'save', $2, $3)")
                    .bind(version)
                    .bind(by)
                    .bind(now_ms)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                self.get_policy(version).await?.ok_or_else(|| StoreError::NotFound { what: "policy", key: version.to_string() })
            }

            async fn get_policy(&self, version: i64) -> Result<Option<PolicyRecord>, StoreError> {
                let sql = format!("SELECT {POLICY_COLUMNS} FROM routing_policies WHERE version = $1");
                let row: Option<PolicyRow> = sqlx::query_as(&sql).bind(version).fetch_optional(self.reader()).await?;
                Ok(row.map(policy_record))
            }

            async fn list_policies(&self, limit: i64) -> Result<Vec<PolicyRecord>, StoreError> {
                let sql = format!("SELECT {POLICY_COLUMNS} FROM routing_policies ORDER BY version DESC LIMIT $1");
                let rows: Vec<PolicyRow> = sqlx::query_as(&sql).bind(limit.clamp(1, 500)).fetch_all(self.reader()).await?;
                Ok(rows.into_iter().map(policy_record).collect())
            }

            async fn active_policy(&self) -> Result<Option<PolicyRecord>, StoreError> {
                let sql = format!("SELECT {POLICY_COLUMNS} FROM routing_policies WHERE is_active = $1");
                let row: Option<PolicyRow> = sqlx::query_as(&sql).bind(true).fetch_optional(self.reader()).await?;
                Ok(row.map(policy_record))
            }

            async fn activate_policy(&self, version: i64, by: &str, now_ms: i64) -> Result<PolicyRecord, StoreError> {
                let mut tx = self.begin().await?;
                let sql = format!("SELECT version FROM routing_policies WHERE version = $1{}", Self::FOR_UPDATE);
                let exists: Option<(i64,)> = sqlx::query_as(&sql).bind(version).fetch_optional(&mut *tx).await?;
                if exists.is_none() {
                    return Err(StoreError::NotFound { what: "policy", key: version.to_string() });
                }
                Self::switch_active(&mut tx, Some(version), now_ms).await?;
                sqlx::query("INSERT INTO routing_policy_log (version, action, actor, at) VALUES ($1, 'activate', $2, $3)")
                    .bind(version)
                    .bind(by)
                    .bind(now_ms)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                self.get_policy(version).await?.ok_or_else(|| StoreError::NotFound { what: "policy", key: version.to_string() })
            }

            async fn rollback_policy(&self, by: &str, now_ms: i64) -> Result<Option<PolicyRecord>, StoreError> {
                let mut tx = self.begin().await?;
                // The activation history, newest first: the current one, then
                // the one to go back to.
                let history: Vec<(Option<i64>,)> = sqlx::query_as(
                    "SELECT version FROM routing_policy_log WHERE action IN ('activate', 'rollback') ORDER BY id DESC LIMIT 2",
                )
                .fetch_all(&mut *tx)
                .await?;
                if history.is_empty() {
                    return Err(StoreError::Invalid("no policy has been activated; nothing to roll back".into()));
                }
                let previous = history.get(1).and_then(|(v,)| *v);
                Self::switch_active(&mut tx, previous, now_ms).await?;
                sqlx::query("INSERT INTO routing_policy_log (version, action, actor, at) VALUES ($1, 'rollback', $2, $3)")
                    .bind(previous)
                    .bind(by)
                    .bind(now_ms)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                match previous {
                    Some(v) => self.get_policy(v).await,
                    None => Ok(None),
                }
            }

            async fn set_shadow_policy(&self, version: Option<i64>, by: &str, now_ms: i64) -> Result<(), StoreError> {
                let mut tx = self.begin().await?;
                sqlx::query("UPDATE routing_policies SET is_shadow = $1 WHERE is_shadow = $2")
                    .bind(false)
                    .bind(true)
                    .execute(&mut *tx)
                    .await?;
                if let Some(v) = version {
                    let changed = sqlx::query("UPDATE routing_policies SET is_shadow = $1 WHERE version = $2")
                        .bind(true)
                        .bind(v)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    if changed == 0 {
                        return Err(StoreError::NotFound { what: "policy", key: v.to_string() });
                    }
                }
                sqlx::query("INSERT INTO routing_policy_log (version, action, actor, at) VALUES ($1, $2, $3, $4)")
                    .bind(version)
                    .bind(if version.is_some() { "shadow_start" } else { "shadow_stop" })
                    .bind(by)
                    .bind(now_ms)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn shadow_policy(&self) -> Result<Option<PolicyRecord>, StoreError> {
                let sql = format!("SELECT {POLICY_COLUMNS} FROM routing_policies WHERE is_shadow = $1");
                let row: Option<PolicyRow> = sqlx::query_as(&sql).bind(true).fetch_optional(self.reader()).await?;
                Ok(row.map(policy_record))
            }

            async fn preview_route(
                &self,
                o: &NewOrder,
                draft: Option<&Policy>,
                now_ms: i64,
            ) -> Result<DecisionView, StoreError> {
                let mut tx = self.reader().begin().await?;
                let (version, policy) = match draft {
                    Some(p) => (None, Arc::new(p.clone())),
                    None => Self::policies_in_force(&mut tx, &self.policies).await?.0,
                };
                let wants: Vec<Want> =
                    o.lines.iter().enumerate().map(|(i, l)| (i as i64 + 1, l.sku.clone(), l.quantity.as_i64())).collect();
                let facts = OrderFacts {
                    channel: o.channel.clone(),
                    value: Money::new(o.total_minor, o.currency),
                    ship_to: &o.ship_to,
                    service_level: o.service_level,
                    pickup_location: o.pickup_location.as_ref(),
                    avoid: vec![],
                };
                let with_counts = !policy.eligibility.daily_capacity.is_empty();
                let (input, _) = Self::build_input(&mut tx, &wants, &facts, false, with_counts, now_ms).await?;
                tx.rollback().await?;
                let decision = route(&input, &policy, now_ms);
                Ok(DecisionView {
                    policy_version: version,
                    shadow: false,
                    outcome: decision.outcome.as_str().to_owned(),
                    explanation: decision.explain(),
                    trace: serde_json::to_value(&decision).map_err(|e| StoreError::Invalid(e.to_string()))?,
                    at: rfc3339(now_ms),
                })
            }

            async fn shadow_pairs(&self, limit: i64) -> Result<Vec<ShadowPair>, StoreError> {
                type Row = (String, String, Option<i64>, String, String, String, i64, Option<i64>, String, String, String, i64);
                let rows: Vec<Row> = sqlx::query_as(
                    "SELECT s.order_id, o.external_id, a.policy_version, a.outcome, a.explanation, a.trace, a.at, \
                     s.policy_version, s.outcome, s.explanation, s.trace, s.at \
                     FROM routing_decisions s JOIN orders o ON o.id = s.order_id \
                     JOIN routing_decisions a ON a.id = (SELECT MAX(x.id) FROM routing_decisions x \
                       WHERE x.order_id = s.order_id AND x.shadow = $1 AND x.id < s.id) \
                     WHERE s.shadow = $2 ORDER BY s.id DESC LIMIT $3",
                )
                .bind(false)
                .bind(true)
                .bind(limit.clamp(1, 500))
                .fetch_all(self.reader())
                .await?;
                let view = |version, outcome, explanation, trace: String, at, shadow| DecisionView {
                    policy_version: version,
                    shadow,
                    outcome,
                    explanation,
                    trace: serde_json::from_str(&trace).unwrap_or(serde_json::Value::Null),
                    at: rfc3339(at),
                };
                Ok(rows
                    .into_iter()
                    .map(|r| ShadowPair {
                        order_id: r.0,
                        external_id: r.1,
                        active: view(r.2, r.3, r.4, r.5, r.6, false),
                        shadow: view(r.7, r.8, r.9, r.10, r.11, true),
                    })
                    .collect())
            }

            async fn order_decisions(&self, order_id: &str) -> Result<Vec<DecisionView>, StoreError> {
                let rows: Vec<(Option<i64>, bool, String, String, String, i64)> = sqlx::query_as(
                    "SELECT policy_version, shadow, outcome, explanation, trace, at FROM routing_decisions \
                     WHERE order_id = $1 ORDER BY id",
                )
                .bind(order_id)
                .fetch_all(self.reader())
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(policy_version, shadow, outcome, explanation, trace, at)| DecisionView {
                        policy_version,
                        shadow,
                        outcome,
                        explanation,
                        trace: serde_json::from_str(&trace).unwrap_or(serde_json::Value::Null),
                        at: rfc3339(at),
                    })
                    .collect())
            }

            async fn status_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
                Ok(sqlx::query_as("SELECT status, CAST(COUNT(*) AS BIGINT) FROM orders GROUP BY status ORDER BY status")
                    .fetch_all(self.reader())
                    .await?)
            }
        }
    };
}

impl SqliteStore {
    const BACKEND: &'static str = "sqlite";
}
impl PostgresStore {
    const BACKEND: &'static str = "postgres";
}

store_impl!(SqliteStore, sqlx::Sqlite);
store_impl!(PostgresStore, sqlx::Postgres);
