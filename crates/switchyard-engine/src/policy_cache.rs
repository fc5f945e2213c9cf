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
