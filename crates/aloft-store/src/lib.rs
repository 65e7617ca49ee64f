//! Storage shared by every service.
//!
//! Services keep their working state in memory (indexes, maps) and write every change
//! to a [`Store`] as a [`Batch`] of key/value puts and deletes. At start they [`Store::load`]
//! it back. In the default ephemeral mode the store keeps nothing ([`Ephemeral`]); with
//! `--data-dir` it is durable ([`Durable`]: a write-ahead log with group commit in front of redb)
//! and an acknowledged commit survives `kill -9` (and, in the default [`Durability::Disk`] mode,
//! an OS crash or power loss). [`Memory`] keeps writes in a map, for tests.
//!
//! Keys are namespaced: `ns` is the service's table (e.g. `s3/objects`), and keys inside it
//! start with the account/region scope so that reset and per-account views are range scans.
//! Values are bytes in formats the services own and version.
//!
//! Large bodies (S3 objects, Lambda packages) go to [`Blobs`], never through the journal.
//!
//! A data directory holds `FORMAT` (the on-disk format, checked at open), `meta.redb`,
//! `wal.log` (the write-ahead log, see `durable`) and `blobs/`.

mod applier;
mod blobs;
mod datadir;
mod durable;
mod ephemeral;
mod journal;
mod keys;
mod log;
mod memory;
mod tempdir;
mod wal;
mod writer;

pub use blobs::{BlobId, BlobWriter, Blobs};
pub use datadir::DATA_FORMAT;
pub use durable::{Durability, Durable, PROCESS_SYNC_EVERY};
pub use ephemeral::Ephemeral;
pub use journal::{Batch, Commit, Entries, Store, StoreError};
pub use memory::Memory;
pub use tempdir::TempDir;
