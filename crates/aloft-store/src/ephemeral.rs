//! The default store: services' in-memory state is all there is, so writes are discarded.

use crate::journal::{Batch, Commit, Entries, Store, StoreError};

/// The default store: services hold their state in memory, so writes are dropped, every
/// commit is acknowledged at once and `load` finds nothing. Nothing survives a restart, which
/// is what running without `--data-dir` promises.
#[derive(Debug, Default, Clone, Copy)]
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
