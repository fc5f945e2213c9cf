//! Parsed routing policies by version. Versions are immutable, so a cached
//! parse is never stale.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use switchyard_core::routing::Policy;

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
/// force (version, is_active), every location and every channel — as of one
/// catalogue version (`switchyard_store::catalog::version`).
#[derive(Clone)]
pub struct CatalogView {
    pub version: i64,
    pub in_force: Arc<Vec<(i64, bool)>>,
    pub locations: Arc<Vec<switchyard_core::Location>>,
    pub channels: Arc<Vec<switchyard_core::Channel>>,
}

impl CatalogView {
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
