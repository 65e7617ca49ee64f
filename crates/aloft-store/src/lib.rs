//! Storage shared by every service.
//!
//! Services keep their working state in memory (indexes, maps) and write every change
//! to a [`Store`] as a [`Batch`] of key/value puts and deletes. At start they [`Store::load`]
//! it back. In the default ephemeral mode the store keeps nothing; with `--data-dir` it is a
//! durable embedded database where an acknowledged commit survives `kill -9`.
//!
//! Keys are namespaced: `ns` is the service's table (e.g. `s3/objects`), and keys inside it
//! start with the account/region scope so that reset and per-account views are range scans.
//!
//! Large bodies (S3 objects, Lambda packages) go to [`Blobs`], never through the journal.

mod blobs;
mod ephemeral;
mod journal;

pub use blobs::{BlobId, BlobWriter, Blobs};
pub use ephemeral::Ephemeral;
pub use journal::{Batch, Commit, Entries, Store, StoreError};
