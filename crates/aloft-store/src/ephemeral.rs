//! The default store: services' in-memory state is all there is, so writes are discarded.

use crate::journal::{Batch, Commit, Entries, Store, StoreError};

pub struct Ephemeral;

impl Store for Ephemeral {
    fn is_durable(&self) -> bool {
        false
    }
    fn load(&self, _ns: &str, _prefix: &[u8]) -> Result<Entries, StoreError> {
        Ok(Vec::new())
    }
    fn submit(&self, _batch: Batch) -> Commit {
        Commit::done()
    }
    fn clear(&self, _ns: &str, _prefix: &[u8]) -> Commit {
        Commit::done()
    }
    fn flush(&self) -> Commit {
        Commit::done()
    }
}
