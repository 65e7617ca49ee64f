//! [`Memory`]: a store that keeps its entries in a map, for services' tests.

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::journal::{Batch, Commit, Entries, Store, StoreError};
use crate::keys;

/// A store that keeps what it is given in a map, so that a service's tests can check that
/// state written through the journal loads back the same, without a disk. Same semantics as
/// [`crate::Durable`] (it runs the same test suite) except that nothing outlives the value.
#[derive(Debug, Default)]
pub struct Memory {
    map: Mutex<BTreeMap<Vec<u8>, Vec<u8>>>,
}

impl Memory {
    pub fn new() -> Self {
        Self::default()
    }

    fn map(&self) -> std::sync::MutexGuard<'_, BTreeMap<Vec<u8>, Vec<u8>>> {
        // A panic while holding the lock cannot leave the map half-updated in a way that
        // matters more than losing the test that panicked; keep serving.
        self.map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Store for Memory {
    fn is_durable(&self) -> bool {
        false
    }

    fn load(&self, ns: &str, prefix: &[u8]) -> Result<Entries, StoreError> {
        if let Some(msg) = keys::invalid_ns(ns) {
            return Err(StoreError::Io(msg));
        }
        Ok(self
            .map()
            .range(keys::prefix_range(ns, prefix))
            .map(|(k, v)| (keys::user_key(ns, k).to_vec(), v.clone()))
            .collect())
    }

    fn submit(&self, batch: Batch) -> Commit {
        if let Some(msg) = batch.ops.iter().find_map(|(ns, _, _)| keys::invalid_ns(ns)) {
            return Commit::failed(msg);
        }
        let mut map = self.map();
        for (ns, key, value) in batch.ops {
            let key = keys::encode(&ns, &key);
            match value {
                Some(v) => map.insert(key, v),
                None => map.remove(&key),
            };
        }
        Commit::done()
    }

    fn clear(&self, ns: &str, prefix: &[u8]) -> Commit {
        if let Some(msg) = keys::invalid_ns(ns) {
            return Commit::failed(msg);
        }
        let range = keys::prefix_range(ns, prefix);
        let mut map = self.map();
        let doomed: Vec<Vec<u8>> = map.range(range).map(|(k, _)| k.clone()).collect();
        for k in doomed {
            map.remove(&k);
        }
        Commit::done()
    }

    fn flush(&self) -> Commit {
        Commit::done()
    }
}
