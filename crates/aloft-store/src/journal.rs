//! The journal contract: ordered batches, acknowledged when durable.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("storage I/O failed: {0}")]
    Io(String),
    /// The data directory cannot be used: written by a newer Aloft, not an Aloft directory,
    /// or open in another process. The message says which and what to do.
    #[error("{0}")]
    DataDir(String),
}

/// Key/value pairs in key order, as [`Store::load`] returns them.
pub type Entries = Vec<(Vec<u8>, Vec<u8>)>;

/// Puts and deletes applied atomically, in order.
#[derive(Debug, Default)]
pub struct Batch {
    pub ops: Vec<(String, Vec<u8>, Option<Vec<u8>>)>,
}

impl Batch {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn put(&mut self, ns: &str, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        self.ops
            .push((ns.to_string(), key.into(), Some(value.into())));
    }
    pub fn delete(&mut self, ns: &str, key: impl Into<Vec<u8>>) {
        self.ops.push((ns.to_string(), key.into(), None));
    }
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}

/// Resolves when the batch it was returned for is durable (at once for the ephemeral store).
///
/// Submit while holding the lock that orders your in-memory change, await after releasing it:
/// batches are applied in submission order, and concurrent batches share one fsync.
pub struct Commit(pub(crate) Option<tokio::sync::oneshot::Receiver<Result<(), String>>>);

impl Commit {
    pub fn done() -> Self {
        Commit(None)
    }

    /// A commit that resolves to `Err(StoreError::Io(message))`.
    pub(crate) fn failed(message: String) -> Self {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let _ = tx.send(Err(message));
        Commit(Some(rx))
    }
}

impl Future for Commit {
    type Output = Result<(), StoreError>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.0.as_mut() {
            None => Poll::Ready(Ok(())),
            Some(rx) => Pin::new(rx).poll(cx).map(|r| match r {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(StoreError::Io(e)),
                Err(_) => Err(StoreError::Io("storage writer stopped".into())),
            }),
        }
    }
}

/// A namespaced, ordered key/value journal.
pub trait Store: Send + Sync + 'static {
    /// True when commits survive a crash (a `--data-dir` was given).
    fn is_durable(&self) -> bool;
    /// Every entry of `ns` whose key starts with `prefix`, in key order. Used at start-up.
    fn load(&self, ns: &str, prefix: &[u8]) -> Result<Entries, StoreError>;
    /// Queues a batch; the returned [`Commit`] resolves once it is durable.
    fn submit(&self, batch: Batch) -> Commit;
    /// Deletes every entry of `ns` whose key starts with `prefix` (reset), durably.
    fn clear(&self, ns: &str, prefix: &[u8]) -> Commit;
    /// Waits until everything submitted so far is durable (shutdown).
    fn flush(&self) -> Commit;
    /// Stops taking writes and releases the store, once, at the very end of shutdown (after
    /// `flush`). Blocking: it may compact the durable file.
    fn close(&self) {}
}
