//! Parsed routing policies by version. Versions are immutable, so a cached
//! parse is never stale.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use switchyard_core::routing::Policy;
use switchyard_store::catalog::SkuFacts;

/// The cache, plus the built-in default policy.
pub struct PolicyCache {
    parsed: Mutex<BTreeMap<i64, Arc<Policy>>>,
    default: Arc<Policy>,
}

impl Default for PolicyCache {
    fn default() -> Self {
        Self { parsed: Mutex::new(BTreeMap::new()), default: Arc::new(Policy::default()) }
    }
}

impl PolicyCache {
    pub fn default_policy(&self) -> Arc<Policy> {
        self.default.clone()
    }

    pub fn get(&self, version: i64) -> Option<Arc<Policy>> {
        self.parsed.lock().ok()?.get(&version).cloned()
    }

    pub fn put(&self, version: i64, policy: Policy) -> Arc<Policy> {
        let policy = Arc::new(policy);
        if let Ok(mut map) = self.parsed.lock() {
            // Bounded: only the active and shadow versions are looked up.
            if map.len() > 16 {
                map.clear();
            }
            map.insert(version, policy.clone());
        }
        policy
    }
}

/// What routing reads about the shop besides stock — the policy versions in
/// force (version, is_active), every location and every channel, and the
/// facts of the SKUs ordered since (tags, bundle, backorder) — as of one
/// catalogue version (`switchyard_store::catalog::version`).
#[derive(Clone)]
pub struct CatalogView {
    pub version: i64,
    pub in_force: Arc<Vec<(i64, bool)>>,
    pub locations: Arc<Vec<switchyard_core::Location>>,
    pub channels: Arc<Vec<switchyard_core::Channel>>,
    /// SKU facts read at this version, filled as orders name SKUs (a SKU's
    /// change moves the version, so they are never stale), bounded.
    pub skus: Arc<Mutex<HashMap<String, SkuFacts>>>,
}

/// How many SKUs' facts a catalogue view keeps (about 100 bytes each).
const MAX_CACHED_SKUS: usize = 50_000;

impl CatalogView {
    /// A view of what was read at `version`, no SKU facts yet.
    pub fn new(
        version: i64,
        in_force: Vec<(i64, bool)>,
        locations: Vec<switchyard_core::Location>,
        channels: Vec<switchyard_core::Channel>,
    ) -> CatalogView {
        CatalogView {
            version,
            in_force: Arc::new(in_force),
            locations: Arc::new(locations),
            channels: Arc::new(channels),
            skus: Arc::default(),
        }
    }

    /// The facts of every one of `skus`, when all were read at this version.
    pub fn sku_facts(&self, skus: &[&str]) -> Option<BTreeMap<String, SkuFacts>> {
        let known = self.skus.lock().ok()?;
        skus.iter().map(|s| known.get(*s).map(|f| ((*s).to_owned(), f.clone()))).collect()
    }

    /// Keeps facts read at this version.
    pub fn remember_sku_facts(&self, facts: &BTreeMap<String, SkuFacts>) {
        if let Ok(mut known) = self.skus.lock() {
            if known.len() + facts.len() > MAX_CACHED_SKUS {
                known.clear();
            }
            known.extend(facts.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
    }

    /// Whether the channel takes orders; `None` when it is not registered.
    pub fn channel_active(&self, name: &switchyard_core::ChannelName) -> Option<bool> {
        self.channels.iter().find(|c| &c.name == name).map(|c| c.active)
    }

    /// Whether any connection is told stock levels: only then is a change of
    /// available-to-promise worth an outbox message (nothing else reads it).
    pub fn pushes_stock(&self) -> bool {
        self.channels.iter().any(crate::channel_sync::pushes_stock)
    }
}

/// The last [`CatalogView`] read, reused while the catalogue version stands.
/// It may hold what a command read inside a transaction that was then
/// rolled back: the writer calls [`CatalogCache::forget`] on every rollback.
#[derive(Default)]
pub struct CatalogCache {
    last: Mutex<Option<CatalogView>>,
}

impl CatalogCache {
    /// The view read at `version`, if it is the last one read.
    pub fn get(&self, version: i64) -> Option<CatalogView> {
        self.last.lock().ok()?.as_ref().filter(|v| v.version == version).cloned()
    }

    pub fn put(&self, view: CatalogView) {
        if let Ok(mut last) = self.last.lock() {
            *last = Some(view);
        }
    }

    pub fn forget(&self) {
        if let Ok(mut last) = self.last.lock() {
            *last = None;
        }
    }
}
