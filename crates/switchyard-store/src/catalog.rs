//! The catalog: locations (`locations`), SKUs and bundle composition
//! (`skus`, `sku_components`) and sales channels (`channels`).
//!
//! Nothing here checks a definition — that a bundle does not nest, that a
//! SKU holding stock does not become a bundle: the engine asks the questions
//! ([`sku_is_bundle`], [`sku_holds_stock`], [`sku_is_component`]) and decides.
//! A stored row that does not read back as its core type is
//! [`StoreError::Corrupt`], never skipped: a location or SKU that silently
//! vanished from a list would route orders as if it did not exist.

use std::collections::BTreeMap;

use switchyard_core::{
    Address, AtpBuffer, Channel, ChannelKind, ChannelName, Component, Location, LocationCode, LocationKind, Quantity,
    Sku, SkuDef, SkuScope, SyncMode,
};

use crate::db::{placeholders, Row, Tx, Value};
use crate::{args, StoreError};

const LOCATION_COLUMNS: &str = "code, name, kind, line1, city, region, postal_code, country, lat, lon, can_ship, \
     can_pickup, priority, active, lead_time_days, timezone";

const UPSERT_LOCATION: &str = "INSERT INTO locations (code, name, kind, line1, city, region, postal_code, country, \
     lat, lon, can_ship, can_pickup, priority, active, updated_at, lead_time_days, timezone) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
     ON CONFLICT (code) DO UPDATE SET name = excluded.name, kind = excluded.kind, \
     line1 = excluded.line1, city = excluded.city, region = excluded.region, \
     postal_code = excluded.postal_code, country = excluded.country, lat = excluded.lat, \
     lon = excluded.lon, can_ship = excluded.can_ship, can_pickup = excluded.can_pickup, \
     priority = excluded.priority, active = excluded.active, updated_at = excluded.updated_at, \
     lead_time_days = excluded.lead_time_days, timezone = excluded.timezone";

/// Creates or replaces a location.
pub async fn upsert_location(tx: &mut Tx, l: &Location, now_ms: i64) -> Result<(), StoreError> {
    let a = &l.address;
    tx.execute(
        UPSERT_LOCATION,
        args![
            l.code.as_str(),
            &l.name,
            l.kind.as_str(),
            &a.line1,
            &a.city,
            &a.region,
            &a.postal_code,
            &a.country,
            l.lat,
            l.lon,
            l.can_ship,
            l.can_pickup,
            i64::from(l.priority),
            l.active,
            now_ms,
            i64::from(l.lead_time_days),
            &l.timezone,
        ],
    )
    .await?;
    bump_version(tx).await
}

/// The catalogue version: it moves forward, in the same transaction, with
/// every change to the locations, the channels, the SKUs and which routing
/// policies are in force (what order intake may reuse from an earlier read
/// while it stands).
pub async fn version(tx: &mut Tx) -> Result<i64, StoreError> {
    tx.query_one("SELECT version FROM catalog_version WHERE id = 1", args![]).await?.i64(0)
}

/// Moves the catalogue version forward (see [`version`]).
pub(crate) async fn bump_version(tx: &mut Tx) -> Result<(), StoreError> {
    tx.execute("UPDATE catalog_version SET version = version + 1 WHERE id = 1", args![]).await?;
    Ok(())
}

/// Every location, in the order allocation tries them (priority, then code).
pub async fn list_locations(tx: &mut Tx) -> Result<Vec<Location>, StoreError> {
    let sql = format!("SELECT {LOCATION_COLUMNS} FROM locations ORDER BY priority, code");
    tx.query(&sql, args![]).await?.iter().map(location_from_row).collect()
}

/// One location.
pub async fn get_location(tx: &mut Tx, code: &LocationCode) -> Result<Option<Location>, StoreError> {
    let sql = format!("SELECT {LOCATION_COLUMNS} FROM locations WHERE code = $1");
    tx.query_opt(&sql, args![code.as_str()]).await?.as_ref().map(location_from_row).transpose()
}

/// Whether a location with this code exists.
pub async fn location_exists(tx: &mut Tx, code: &LocationCode) -> Result<bool, StoreError> {
    Ok(tx.query_opt("SELECT code FROM locations WHERE code = $1", args![code.as_str()]).await?.is_some())
}

/// Reads a row of [`LOCATION_COLUMNS`].
fn location_from_row(r: &Row) -> Result<Location, StoreError> {
    let code = location_code(&r.string(0)?)?;
    let kind = r.string(2)?;
    let bad = |what: &str, value: String| StoreError::corrupt(format!("location {code}: {what} {value}"));
    Ok(Location {
        kind: LocationKind::parse(&kind).ok_or_else(|| bad("kind", format!("{kind:?}")))?,
        name: r.string(1)?,
        address: Address {
            line1: r.string(3)?,
            city: r.string(4)?,
            region: r.string(5)?,
            postal_code: r.string(6)?,
            country: r.string(7)?,
        },
        lat: r.opt_f64(8)?,
        lon: r.opt_f64(9)?,
        can_ship: r.bool(10)?,
        can_pickup: r.bool(11)?,
        priority: narrow(r.i64(12)?).map_err(|p| bad("priority", p.to_string()))?,
        active: r.bool(13)?,
        lead_time_days: narrow(r.i64(14)?).map_err(|d| bad("lead_time_days", d.to_string()))?,
        timezone: r.string(15)?,
        code,
    })
}

/// A stored integer into a narrower field; the value back when it does not fit.
fn narrow<T: TryFrom<i64>>(v: i64) -> Result<T, i64> {
    T::try_from(v).map_err(|_| v)
}

/// Creates or replaces a channel's display name, settings and flag.
pub async fn upsert_channel(tx: &mut Tx, c: &Channel, now_ms: i64) -> Result<(), StoreError> {
    // Built as a JSON value rather than serialized, which cannot fail.
    let settings: serde_json::Map<String, serde_json::Value> =
        c.settings.iter().map(|(k, v)| (k.clone(), serde_json::Value::from(v.as_str()))).collect();
    tx.execute(
        "INSERT INTO channels (name, display_name, settings, active, created_at, kind, buffer_units, buffer_percent, \
         max_share_percent, mode, sku_scope, base_url) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         ON CONFLICT (name) DO UPDATE SET display_name = excluded.display_name, \
         settings = excluded.settings, active = excluded.active, kind = excluded.kind, \
         buffer_units = excluded.buffer_units, buffer_percent = excluded.buffer_percent, \
         max_share_percent = excluded.max_share_percent, mode = excluded.mode, sku_scope = excluded.sku_scope, \
         base_url = excluded.base_url",
        args![
            c.name.as_str(),
            &c.display_name,
            serde_json::Value::Object(settings).to_string(),
            c.active,
            now_ms,
            c.kind.as_str(),
            c.buffer.units,
            c.buffer.percent,
            c.buffer.max_share_percent,
            c.mode.as_str(),
            serde_json::Value::from(c.sku_scope.entries().to_vec()).to_string(),
            c.base_url.as_deref()
        ],
    )
    .await?;
    // Whether it takes orders and is told stock levels is read through the
    // catalogue view.
    bump_version(tx).await
}

/// Registers a channel an order arrived from before anyone configured it:
/// active, no settings, its name as display name. A configured channel is
/// left as it is.
pub async fn register_channel(tx: &mut Tx, name: &ChannelName, now_ms: i64) -> Result<(), StoreError> {
    let registered = tx
        .execute(
            "INSERT INTO channels (name, display_name, settings, active, created_at) \
         VALUES ($1, $1, '{}', $2, $3) ON CONFLICT (name) DO NOTHING",
            args![name.as_str(), true, now_ms],
        )
        .await?;
    if registered == 1 {
        bump_version(tx).await?;
    }
    Ok(())
}

/// Whether the channel takes orders; `None` when nobody configured it and no
/// order registered it yet.
pub async fn channel_active(tx: &mut Tx, name: &ChannelName) -> Result<Option<bool>, StoreError> {
    let row = tx.query_opt("SELECT active FROM channels WHERE name = $1", args![name.as_str()]).await?;
    row.map(|r| r.bool(0)).transpose()
}

/// What `channel_from_row` reads, in its order.
const CHANNEL_COLUMNS: &str =
    "name, display_name, settings, active, kind, buffer_units, buffer_percent, max_share_percent, mode, sku_scope, \
     base_url";

/// Every channel, by name.
pub async fn list_channels(tx: &mut Tx) -> Result<Vec<Channel>, StoreError> {
    let rows = tx.query(&format!("SELECT {CHANNEL_COLUMNS} FROM channels ORDER BY name"), args![]).await?;
    rows.iter().map(channel_from_row).collect()
}

/// One channel, by name.
pub async fn get_channel(tx: &mut Tx, name: &ChannelName) -> Result<Option<Channel>, StoreError> {
    let sql = format!("SELECT {CHANNEL_COLUMNS} FROM channels WHERE name = $1");
    let row = tx.query_opt(&sql, args![name.as_str()]).await?;
    row.as_ref().map(channel_from_row).transpose()
}

/// Sets (or, with `None`, removes) a channel's webhook secret.
pub async fn set_webhook_secret(tx: &mut Tx, name: &ChannelName, secret: Option<&str>) -> Result<(), StoreError> {
    tx.execute("UPDATE channels SET webhook_secret = $2 WHERE name = $1", args![name.as_str(), secret]).await?;
    Ok(())
}

/// Sets (or, with `None`, removes) a channel's API credentials (a JSON
/// object of strings, as the platform issued them).
pub async fn set_credentials(
    tx: &mut Tx,
    name: &ChannelName,
    credentials: Option<&BTreeMap<String, String>>,
) -> Result<(), StoreError> {
    let json = credentials.map(|c| {
        serde_json::Value::from(serde_json::Map::from_iter(
            c.iter().map(|(k, v)| (k.clone(), serde_json::Value::from(v.as_str()))),
        ))
        .to_string()
    });
    tx.execute("UPDATE channels SET credentials = $2 WHERE name = $1", args![name.as_str(), json]).await?;
    Ok(())
}

/// A channel's API credentials (empty when it has none).
pub async fn credentials(tx: &mut Tx, name: &ChannelName) -> Result<BTreeMap<String, String>, StoreError> {
    let row = tx.query_opt("SELECT credentials FROM channels WHERE name = $1", args![name.as_str()]).await?;
    match row.map(|r| r.opt_string(0)).transpose()?.flatten() {
        None => Ok(BTreeMap::new()),
        Some(raw) => serde_json::from_str(&raw)
            .map_err(|e| StoreError::corrupt(format!("credentials of channel {name} are not a JSON object: {e}"))),
    }
}

/// Which credentials a channel has, by name only (the values never leave).
pub async fn credential_names(tx: &mut Tx, name: &ChannelName) -> Result<Vec<String>, StoreError> {
    Ok(credentials(tx, name).await?.into_keys().collect())
}

/// A channel's webhook secret, if it has one.
pub async fn webhook_secret(tx: &mut Tx, name: &ChannelName) -> Result<Option<String>, StoreError> {
    let row = tx.query_opt("SELECT webhook_secret FROM channels WHERE name = $1", args![name.as_str()]).await?;
    Ok(row.map(|r| r.opt_string(0)).transpose()?.flatten())
}

fn channel_from_row(r: &Row) -> Result<Channel, StoreError> {
    let raw = r.string(0)?;
    let name = ChannelName::parse(&raw).map_err(|e| StoreError::corrupt(format!("channel name {raw:?}: {e}")))?;
    let settings = serde_json::from_str(&r.string(2)?)
        .map_err(|e| StoreError::corrupt(format!("settings of channel {name}: {e}")))?;
    let raw_kind = r.string(4)?;
    let kind = ChannelKind::parse(&raw_kind)
        .ok_or_else(|| StoreError::corrupt(format!("kind {raw_kind:?} of channel {name}")))?;
    let buffer = AtpBuffer::parse(r.i64(5)?, r.i64(6)?, r.opt_i64(7)?)
        .map_err(|e| StoreError::corrupt(format!("buffer of channel {name}: {e}")))?;
    let raw_mode = r.string(8)?;
    let mode = SyncMode::parse(&raw_mode)
        .ok_or_else(|| StoreError::corrupt(format!("mode {raw_mode:?} of channel {name}")))?;
    let scope: Vec<String> = serde_json::from_str(&r.string(9)?)
        .map_err(|e| StoreError::corrupt(format!("sku_scope of channel {name}: {e}")))?;
    let sku_scope =
        SkuScope::parse(scope).map_err(|e| StoreError::corrupt(format!("sku_scope of channel {name}: {e}")))?;
    let base_url = r.opt_string(10)?;
    Ok(Channel {
        name,
        kind,
        buffer,
        mode,
        sku_scope,
        base_url,
        display_name: r.string(1)?,
        settings,
        active: r.bool(3)?,
    })
}

/// Whether the SKU is a bundle; `None` when there is no such SKU.
pub async fn sku_is_bundle(tx: &mut Tx, sku: &Sku) -> Result<Option<bool>, StoreError> {
    let row = tx.query_opt("SELECT is_bundle FROM skus WHERE sku = $1", args![sku.as_str()]).await?;
    row.map(|r| r.bool(0)).transpose()
}

/// Whether any position of the SKU has units on hand or reserved (so it
/// cannot become a bundle, which holds no stock of its own).
pub async fn sku_holds_stock(tx: &mut Tx, sku: &Sku) -> Result<bool, StoreError> {
    let sql = "SELECT CAST(COUNT(*) AS BIGINT) FROM stock WHERE sku = $1 AND (on_hand <> 0 OR reserved <> 0)";
    Ok(tx.query_one(sql, args![sku.as_str()]).await?.i64(0)? > 0)
}

/// Whether the SKU is a component of some bundle (so it cannot become one:
/// bundles do not nest).
pub async fn sku_is_component(tx: &mut Tx, sku: &Sku) -> Result<bool, StoreError> {
    let sql = "SELECT CAST(COUNT(*) AS BIGINT) FROM sku_components WHERE component_sku = $1";
    Ok(tx.query_one(sql, args![sku.as_str()]).await?.i64(0)? > 0)
}

/// The bundles that hold `sku` as a component.
pub async fn bundles_containing(tx: &mut Tx, sku: &str) -> Result<Vec<String>, StoreError> {
    let rows = tx
        .query(
            "SELECT DISTINCT bundle_sku FROM sku_components WHERE component_sku = $1 ORDER BY bundle_sku",
            args![sku],
        )
        .await?;
    rows.iter().map(|r| r.string(0)).collect()
}

/// Every SKU's code, in order.
pub async fn sku_codes(tx: &mut Tx) -> Result<Vec<String>, StoreError> {
    let rows = tx.query("SELECT sku FROM skus ORDER BY sku", args![]).await?;
    rows.iter().map(|r| r.string(0)).collect()
}

/// Creates or replaces a SKU and replaces its components. The caller has
/// validated the definition.
pub async fn upsert_sku(tx: &mut Tx, def: &SkuDef, now_ms: i64) -> Result<(), StoreError> {
    let sku = def.sku.as_str();
    // Built as a JSON value rather than serialized, which cannot fail.
    let tags = serde_json::Value::from(def.tags.clone()).to_string();
    tx.execute(
        "INSERT INTO skus (sku, title, is_bundle, updated_at, tags, allow_backorder) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (sku) DO UPDATE SET title = excluded.title, is_bundle = excluded.is_bundle, \
         updated_at = excluded.updated_at, tags = excluded.tags, allow_backorder = excluded.allow_backorder",
        args![sku, &def.title, def.is_bundle(), now_ms, tags, def.allow_backorder],
    )
    .await?;
    tx.execute("DELETE FROM sku_components WHERE bundle_sku = $1", args![sku]).await?;
    for c in &def.components {
        tx.execute(
            "INSERT INTO sku_components (bundle_sku, component_sku, quantity) VALUES ($1, $2, $3)",
            args![sku, c.sku.as_str(), c.quantity.as_i64()],
        )
        .await?;
    }
    // Order intake reuses SKU facts read at the current version.
    bump_version(tx).await
}

/// Creates a plain SKU unless one exists (a stock import naming a new SKU);
/// true when it was created.
pub async fn insert_sku_if_missing(tx: &mut Tx, sku: &Sku, title: &str, now_ms: i64) -> Result<bool, StoreError> {
    let inserted = tx
        .execute(
            "INSERT INTO skus (sku, title, is_bundle, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (sku) DO NOTHING",
            args![sku.as_str(), title, false, now_ms],
        )
        .await?;
    if inserted > 0 {
        bump_version(tx).await?;
    }
    Ok(inserted > 0)
}

/// One SKU with its components.
pub async fn get_sku(tx: &mut Tx, sku: &Sku) -> Result<Option<SkuDef>, StoreError> {
    let sql = "SELECT sku, title, tags, allow_backorder FROM skus WHERE sku = $1";
    let Some(row) = tx.query_opt(sql, args![sku.as_str()]).await? else { return Ok(None) };
    let sql = "SELECT bundle_sku, component_sku, quantity FROM sku_components WHERE bundle_sku = $1 \
               ORDER BY component_sku";
    let components =
        tx.query(sql, args![sku.as_str()]).await?.iter().map(component_from_row).collect::<Result<_, _>>()?;
    sku_from_row(&row, components).map(Some)
}

/// Every SKU with its components, by SKU.
pub async fn list_skus(tx: &mut Tx) -> Result<Vec<SkuDef>, StoreError> {
    let rows = tx.query("SELECT sku, title, tags, allow_backorder FROM skus ORDER BY sku", args![]).await?;
    let sql = "SELECT bundle_sku, component_sku, quantity FROM sku_components ORDER BY bundle_sku, component_sku";
    let mut components: BTreeMap<String, Vec<Component>> = BTreeMap::new();
    for r in tx.query(sql, args![]).await? {
        components.entry(r.string(0)?).or_default().push(component_from_row(&r)?);
    }
    rows.iter().map(|r| sku_from_row(r, take_group(&mut components, &r.string(0)?))).collect()
}

/// Takes the rows grouped under `key` out of `groups`. A key with no group
/// simply has no rows (a plain SKU has no components): a missing group,
/// not a stored value that failed to parse.
fn take_group<K: Ord, V>(groups: &mut BTreeMap<K, Vec<V>>, key: &K) -> Vec<V> {
    groups.remove(key).into_iter().flatten().collect()
}

/// Reads `sku, title, tags, allow_backorder`.
fn sku_from_row(r: &Row, components: Vec<Component>) -> Result<SkuDef, StoreError> {
    let sku = sku_code(&r.string(0)?)?;
    let tags = parse_tags(&sku, &r.string(2)?)?;
    Ok(SkuDef { title: r.string(1)?, components, tags, allow_backorder: r.bool(3)?, sku })
}

/// Reads `bundle_sku, component_sku, quantity`.
fn component_from_row(r: &Row) -> Result<Component, StoreError> {
    let (bundle, sku, quantity) = (r.string(0)?, sku_code(&r.string(1)?)?, r.i64(2)?);
    let quantity = Quantity::new(quantity)
        .map_err(|e| StoreError::corrupt(format!("component {sku} of {bundle}: quantity {quantity}: {e}")))?;
    Ok(Component { sku, quantity })
}

/// What routing needs to know about a SKU an order line names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkuFacts {
    pub is_bundle: bool,
    pub tags: Vec<String>,
    pub allow_backorder: bool,
}

/// The facts of each of `skus` that exists, by SKU; a SKU missing from the
/// map does not exist.
pub async fn sku_facts(tx: &mut Tx, skus: &[&str]) -> Result<BTreeMap<String, SkuFacts>, StoreError> {
    if skus.is_empty() {
        return Ok(BTreeMap::new());
    }
    let sql = format!(
        "SELECT sku, is_bundle, tags, allow_backorder FROM skus WHERE sku IN ({})",
        placeholders(1, skus.len())
    );
    let args: Vec<Value> = skus.iter().map(|s| Value::from(*s)).collect();
    let mut facts = BTreeMap::new();
    for r in tx.query(&sql, &args).await? {
        let sku = r.string(0)?;
        let tags = parse_tags(&sku, &r.string(2)?)?;
        facts.insert(sku, SkuFacts { is_bundle: r.bool(1)?, tags, allow_backorder: r.bool(3)? });
    }
    Ok(facts)
}

/// One component of a bundle, with the component's tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentRow {
    pub bundle: String,
    pub component: Sku,
    /// Units of the component per unit of the bundle.
    pub quantity: i64,
    pub tags: Vec<String>,
}

/// The components of `bundles`, by bundle then component.
pub async fn components_of(tx: &mut Tx, bundles: &[&str]) -> Result<Vec<ComponentRow>, StoreError> {
    if bundles.is_empty() {
        return Ok(vec![]);
    }
    let sql = format!(
        "SELECT c.bundle_sku, c.component_sku, c.quantity, s.tags FROM sku_components c \
         JOIN skus s ON s.sku = c.component_sku WHERE c.bundle_sku IN ({}) \
         ORDER BY c.bundle_sku, c.component_sku",
        placeholders(1, bundles.len())
    );
    let args: Vec<Value> = bundles.iter().map(|s| Value::from(*s)).collect();
    let rows = tx.query(&sql, &args).await?;
    rows.iter().map(component_row).collect()
}

fn component_row(r: &Row) -> Result<ComponentRow, StoreError> {
    let component = sku_code(&r.string(1)?)?;
    let tags = parse_tags(&component, &r.string(3)?)?;
    Ok(ComponentRow { bundle: r.string(0)?, component, quantity: r.i64(2)?, tags })
}

fn sku_code(raw: &str) -> Result<Sku, StoreError> {
    Sku::parse(raw).map_err(|e| StoreError::corrupt(format!("sku {raw:?}: {e}")))
}

fn location_code(raw: &str) -> Result<LocationCode, StoreError> {
    LocationCode::parse(raw).map_err(|e| StoreError::corrupt(format!("location code {raw:?}: {e}")))
}

/// A SKU's `tags` column: a JSON array of strings.
fn parse_tags(sku: &dyn std::fmt::Display, raw: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(raw).map_err(|e| StoreError::corrupt(format!("tags of sku {sku}: {e}")))
}
