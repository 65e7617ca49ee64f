//! The durable store behind `--data-dir`: redb, written by one thread doing group commit.
//!
//! Every batch goes through a queue to a single writer thread. The writer takes everything
//! queued, applies it in order in ONE write transaction and commits it with one fsync, then
//! acknowledges each batch. While a commit's fsync runs, new batches queue up and share the next
//! one, so throughput grows with concurrency instead of stopping at one fsync per request.
//!
//! All namespaces live in one table, keyed `ns ++ 0x00 ++ key` (see `keys`): a group that
//! touches many namespaces updates one B-tree rather than opening a table per namespace, new
//! namespaces need no registry, and reset of a namespace or a scope inside it is one range delete.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use redb::{Database, ReadableDatabase, TableDefinition};

use crate::datadir;
use crate::journal::{Batch, Commit, Entries, Store, StoreError};
use crate::keys;

const ENTRIES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("entries");

/// The database file inside the data directory.
const DB_FILE: &str = "meta.redb";

/// At most this many queued requests share one transaction, bounding its size and the delay of
/// the first request in it.
const MAX_GROUP: usize = 4096;

/// redb's page cache. State is loaded once at start and then only written, so a large cache
/// would only hold memory a laptop wants back.
const CACHE_BYTES: usize = 32 << 20;

type Ack = tokio::sync::oneshot::Sender<Result<(), String>>;

enum Request {
    Write(Batch, Ack),
    Clear(String, Vec<u8>, Ack),
    Flush(Ack),
}

/// redb reuses freed pages but never gives them back to the file system, so a data directory
/// keeps its high-water size. At close the file is compacted when at least this much of it,
/// and a quarter of it, is free.
const COMPACT_MIN_FREE: u64 = 16 << 20;

/// The durable store. Closing or dropping it waits for queued batches to commit and closes the
/// database.
pub struct Durable {
    /// `None` once closed.
    db: Mutex<Option<Arc<Database>>>,
    queue: Mutex<Option<mpsc::Sender<Request>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    path: PathBuf,
}

impl std::fmt::Debug for Durable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Durable").finish_non_exhaustive()
    }
}

impl Durable {
    /// Opens (creating if needed) the store in `dir`, checking the directory's format marker.
    /// Fails with [`StoreError::DataDir`] when another process has it open or it holds a newer
    /// format.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, StoreError> {
        let dir = dir.as_ref();
        datadir::prepare(dir)?;
        let path = dir.join(DB_FILE);
        let db = Database::builder()
            .set_cache_size(CACHE_BYTES)
            .create(&path)
            .map_err(|e| match e {
                redb::DatabaseError::DatabaseAlreadyOpen => StoreError::DataDir(format!(
                    "data directory {} is in use by another Aloft process",
                    dir.display()
                )),
                e => StoreError::DataDir(format!("cannot open {}: {e}", path.display())),
            })?;
        // redb syncs the file's contents on commit, not the directory entry naming it.
        datadir::sync_dir(dir).map_err(io)?;
        let db = Arc::new(db);
        // Make sure the table exists so that reads never have to tell "missing" from "empty".
        let txn = db.begin_write().map_err(io)?;
        txn.open_table(ENTRIES).map_err(io)?;
        txn.commit().map_err(io)?;

        let (queue, rx) = mpsc::channel();
        let writer_db = Arc::clone(&db);
        let writer = std::thread::Builder::new()
            .name("aloft-store-writer".into())
            .spawn(move || write_loop(&writer_db, &rx))
            .map_err(|e| StoreError::Io(format!("cannot start the storage writer: {e}")))?;
        Ok(Self {
            db: Mutex::new(Some(db)),
            queue: Mutex::new(Some(queue)),
            writer: Mutex::new(Some(writer)),
            path,
        })
    }

    fn send(&self, make: impl FnOnce(Ack) -> Request) -> Commit {
        let (ack, rx) = tokio::sync::oneshot::channel();
        if let Some(queue) = lock(&self.queue).as_ref() {
            // A send error drops `ack`, so the commit resolves to "storage writer stopped".
            let _ = queue.send(make(ack));
        }
        Commit(Some(rx))
    }

    fn db(&self) -> Result<Arc<Database>, StoreError> {
        lock(&self.db)
            .clone()
            .ok_or_else(|| StoreError::Io("the store is closed".into()))
    }

    /// Ends the writer after it has committed what was queued.
    fn stop_writer(&self) {
        lock(&self.queue).take();
        if let Some(writer) = lock(&self.writer).take() {
            let _ = writer.join();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Compacts the file when much of it is free pages. Needs the only handle on the database.
fn compact_if_sparse(db: &mut Database, path: &Path) -> Result<bool, String> {
    let file_len = std::fs::metadata(path).map_err(|e| e.to_string())?.len();
    let used = {
        let txn = db.begin_write().map_err(|e| e.to_string())?;
        let stats = txn.stats().map_err(|e| e.to_string())?;
        txn.abort().map_err(|e| e.to_string())?;
        stats.allocated_pages() * stats.page_size() as u64
    };
    let free = file_len.saturating_sub(used);
    if free < COMPACT_MIN_FREE || free < file_len / 4 {
        return Ok(false);
    }
    db.compact().map_err(|e| e.to_string())
}

impl Store for Durable {
    fn is_durable(&self) -> bool {
        true
    }

    fn load(&self, ns: &str, prefix: &[u8]) -> Result<Entries, StoreError> {
        if let Some(msg) = keys::invalid_ns(ns) {
            return Err(StoreError::Io(msg));
        }
        let range = keys::prefix_range(ns, prefix);
        let txn = self.db()?.begin_read().map_err(io)?;
        let table = txn.open_table(ENTRIES).map_err(io)?;
        let mut out = Vec::new();
        for entry in table
            .range(range.start.as_slice()..range.end.as_slice())
            .map_err(io)?
        {
            let (k, v) = entry.map_err(io)?;
            out.push((keys::user_key(ns, k.value()).to_vec(), v.value().to_vec()));
        }
        Ok(out)
    }

    fn submit(&self, batch: Batch) -> Commit {
        if batch.is_empty() {
            return Commit::done();
        }
        if let Some(msg) = batch.ops.iter().find_map(|(ns, _, _)| keys::invalid_ns(ns)) {
            return Commit::failed(msg);
        }
        self.send(|ack| Request::Write(batch, ack))
    }

    fn clear(&self, ns: &str, prefix: &[u8]) -> Commit {
        if let Some(msg) = keys::invalid_ns(ns) {
            return Commit::failed(msg);
        }
        let (ns, prefix) = (ns.to_string(), prefix.to_vec());
        self.send(|ack| Request::Clear(ns, prefix, ack))
    }

    fn flush(&self) -> Commit {
        self.send(Request::Flush)
    }

    fn close(&self) {
        self.stop_writer();
        let Some(db) = lock(&self.db).take() else {
            return;
        };
        // A load still running would hold a clone; then the file stays as it is.
        if let Some(mut db) = Arc::into_inner(db) {
            match compact_if_sparse(&mut db, &self.path) {
                Ok(true) => tracing::info!("compacted {}", self.path.display()),
                Ok(false) => {}
                Err(e) => tracing::warn!("compacting {} failed: {e}", self.path.display()),
            }
        }
    }
}

impl Drop for Durable {
    fn drop(&mut self) {
        self.stop_writer();
    }
}

fn io(e: impl std::fmt::Display) -> StoreError {
    StoreError::Io(e.to_string())
}

fn write_loop(db: &Database, queue: &mpsc::Receiver<Request>) {
    while let Ok(first) = queue.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match queue.try_recv() {
                Ok(next) => group.push(next),
                Err(_) => break,
            }
        }
        let result = commit_group(db, &group).map_err(|e| e.to_string());
        for request in group {
            let ack = match request {
                Request::Write(_, ack) | Request::Clear(_, _, ack) | Request::Flush(ack) => ack,
            };
            // The submitter may have stopped waiting; the data is committed all the same.
            let _ = ack.send(result.clone());
        }
    }
}

/// Applies a group in queue order in one transaction. Either all of it commits or none does;
/// on failure every request of the group is told so.
fn commit_group(db: &Database, group: &[Request]) -> Result<(), redb::Error> {
    if group.iter().all(|r| matches!(r, Request::Flush(_))) {
        // Everything queued before a flush was committed by earlier groups.
        return Ok(());
    }
    let txn = db.begin_write()?;
    {
        let mut table = txn.open_table(ENTRIES)?;
        for request in group {
            match request {
                Request::Write(batch, _) => {
                    for (ns, key, value) in &batch.ops {
                        let key = keys::encode(ns, key);
                        match value {
                            Some(v) => table.insert(key.as_slice(), v.as_slice())?,
                            None => table.remove(key.as_slice())?,
                        };
                    }
                }
                Request::Clear(ns, prefix, _) => {
                    let range = keys::prefix_range(ns, prefix);
                    table.retain_in(range.start.as_slice()..range.end.as_slice(), |_, _| false)?;
                }
                Request::Flush(_) => {}
            }
        }
    }
    txn.commit()?;
    Ok(())
}
