//! The durable store behind `--data-dir`: a write-ahead log in front of redb, written by one
//! thread doing group commit.
//!
//! Every batch goes through a queue to a single writer thread. The writer takes everything
//! queued, writes it as ONE record to the write-ahead log (`wal`), makes it durable with one
//! `fdatasync`, then acknowledges each batch. While that sync runs, new batches queue up and
//! share the next one, so throughput grows with concurrency instead of stopping at one sync per
//! request. A redb durable commit writes its pages and syncs more than once; the log's sync is
//! one small overwrite. Logged groups are applied to redb later, many per transaction and
//! committed without a sync (`Durability::None`: visible to readers, lost by a crash), once
//! they reach `TUNING.apply_bytes` or before any read, so a read sees every acknowledged write.
//!
//! A checkpoint (a durable redb commit that also stores the last logged sequence number) makes
//! the log's records redundant, after which the log is reused from its start. It happens when
//! the log reaches `TUNING.log_bytes`, when writes pause, at least every `TUNING.every` and at
//! close. Opening
//! replays the records newer than the checkpoint onto redb's last durable state and checkpoints
//! them; the first torn, corrupt or stale record ends the replay (nothing after it was
//! acknowledged: each group is acknowledged only after the sync covering it and everything
//! before it).
//!
//! All namespaces live in one table, keyed `ns ++ 0x00 ++ key` (see `keys`): a group that
//! touches many namespaces updates one B-tree rather than opening a table per namespace, new
//! namespaces need no registry, and reset of a namespace or a scope inside it is one range delete.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use redb::{
    Database, Durability, ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction,
};

use crate::datadir;
use crate::journal::{Batch, Commit, Entries, Store, StoreError};
use crate::keys;
use crate::wal::{self, Op, Wal};

const ENTRIES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("entries");

/// The write-ahead log's state inside redb: [`CHECKPOINT`], the sequence number of the last
/// log record whose changes the last durable commit holds.
const WAL_STATE: TableDefinition<&str, u64> = TableDefinition::new("wal");
const CHECKPOINT: &str = "checkpoint";

/// The database file inside the data directory.
const DB_FILE: &str = "meta.redb";
/// The write-ahead log inside the data directory.
const WAL_FILE: &str = "wal.log";

/// When the writer checkpoints.
#[derive(Debug, Clone, Copy)]
struct Tuning {
    /// A checkpoint is due once the log holds this much: it bounds the replay at open and the
    /// pages redb cannot reuse until a durable commit.
    log_bytes: u64,
    /// A checkpoint follows when no write came for this long after the last one...
    idle: Duration,
    /// ...and at least this often under a steady trickle of writes.
    every: Duration,
    /// Logged groups are applied to redb (without a sync) once they hold this much, so that
    /// one redb commit serves many groups; reads apply what is left first.
    apply_bytes: usize,
}

const TUNING: Tuning = Tuning {
    log_bytes: 32 << 20,
    idle: Duration::from_secs(1),
    every: Duration::from_secs(30),
    apply_bytes: 1 << 20,
};

/// At most this many queued requests share one transaction, bounding its size and the delay of
/// the first request in it.
const MAX_GROUP: usize = 4096;

/// ...and a group stops growing once its keys and values reach this size, bounding its log
/// record.
const MAX_GROUP_BYTES: usize = 16 << 20;

/// redb's page cache. State is loaded once at start and then only written, so a large cache
/// would only hold memory a laptop wants back.
const CACHE_BYTES: usize = 32 << 20;

type Ack = tokio::sync::oneshot::Sender<Result<(), String>>;

enum Request {
    Write(Batch, Ack),
    Clear(String, Vec<u8>, Ack),
    Flush(Ack),
    /// Applies every logged group to redb, so that a read sees all that was acknowledged.
    Apply(mpsc::Sender<Result<(), String>>),
}

impl Request {
    /// The size of the keys and values it writes.
    fn bytes(&self) -> usize {
        match self {
            Request::Write(batch, _) => batch
                .ops
                .iter()
                .map(|(ns, k, v)| ns.len() + k.len() + v.as_ref().map_or(0, Vec::len))
                .sum(),
            Request::Clear(ns, prefix, _) => ns.len() + prefix.len(),
            Request::Flush(_) | Request::Apply(_) => 0,
        }
    }

    fn answer(self, result: Result<(), String>) {
        // The submitter may have stopped waiting; the data is committed all the same.
        match self {
            Request::Write(_, ack) | Request::Clear(_, _, ack) | Request::Flush(ack) => {
                let _ = ack.send(result);
            }
            Request::Apply(ack) => {
                let _ = ack.send(result);
            }
        }
    }
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
    groups: Arc<AtomicU64>,
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
        Self::open_tuned(dir.as_ref(), TUNING)
    }

    fn open_tuned(dir: &Path, tuning: Tuning) -> Result<Self, StoreError> {
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
        let db = Arc::new(db);
        let (wal, seq) = recover(&db, &dir.join(WAL_FILE))?;
        // redb and the log sync their files' contents, not the directory entries naming them.
        datadir::sync_dir(dir).map_err(io)?;

        let (queue, rx) = mpsc::channel();
        let groups = Arc::new(AtomicU64::new(0));
        let mut writer = Writer {
            db: Arc::clone(&db),
            wal,
            seq,
            checkpointed: seq,
            last_checkpoint: Instant::now(),
            failed: None,
            groups: Arc::clone(&groups),
            tuning,
            pending: Vec::new(),
            pending_bytes: 0,
        };
        let writer = std::thread::Builder::new()
            .name("aloft-store-writer".into())
            .spawn(move || writer.run(&rx))
            .map_err(|e| StoreError::Io(format!("cannot start the storage writer: {e}")))?;
        Ok(Self {
            db: Mutex::new(Some(db)),
            queue: Mutex::new(Some(queue)),
            writer: Mutex::new(Some(writer)),
            path,
            groups,
        })
    }

    /// How many groups the writer has made durable, each with one log sync (for benchmarks:
    /// commits divided by this is the group size).
    pub fn groups_committed(&self) -> u64 {
        self.groups.load(Ordering::Relaxed)
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

    /// Waits until redb holds every group logged so far (the writer applies them lazily).
    fn apply_logged(&self) -> Result<(), StoreError> {
        let (ack, rx) = mpsc::channel();
        if let Some(queue) = lock(&self.queue).as_ref() {
            let _ = queue.send(Request::Apply(ack));
        } else {
            // Closed: the writer applied and checkpointed everything when it stopped.
            return Ok(());
        }
        match rx.recv() {
            Ok(result) => result.map_err(StoreError::Io),
            Err(_) => Err(StoreError::Io("storage writer stopped".into())),
        }
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
        let db = self.db()?;
        self.apply_logged()?;
        let txn = db.begin_read().map_err(io)?;
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

/// Brings redb up to date with the log at open: the records newer than redb's checkpoint are
/// applied and checkpointed in one durable commit, so the log starts empty. Returns the log and
/// the last sequence number used.
fn recover(db: &Database, path: &Path) -> Result<(Wal, u64), StoreError> {
    let mut txn = db.begin_write().map_err(io)?;
    txn.set_quick_repair(true);
    let checkpoint = {
        // Make sure the tables exist so that reads never have to tell "missing" from "empty".
        txn.open_table(ENTRIES).map_err(io)?;
        let state = txn.open_table(WAL_STATE).map_err(io)?;
        state.get(CHECKPOINT).map_err(io)?.map_or(0, |v| v.value())
    };
    let (wal, content) = Wal::open(path)
        .map_err(|e| StoreError::DataDir(format!("cannot open {}: {e}", path.display())))?;
    let records = wal::records(&content);
    if let Some(&(first, _)) = records.first()
        && first > checkpoint + 1
    {
        return Err(StoreError::DataDir(format!(
            "{} starts at record {first} but the database holds records up to {checkpoint} \
                 only: records are missing, so the data directory cannot be opened safely",
            path.display()
        )));
    }
    let mut seq = checkpoint;
    for &(record, payload) in records.iter().filter(|r| r.0 > checkpoint) {
        let Some(ops) = wal::decode(payload) else {
            tracing::warn!(
                "{}: record {record} is unreadable; replay ends there",
                path.display()
            );
            break;
        };
        apply(&txn, &ops).map_err(io)?;
        seq = record;
    }
    if seq > checkpoint {
        tracing::info!(
            "replayed {} write-ahead log records into {}",
            seq - checkpoint,
            DB_FILE
        );
    }
    txn.open_table(WAL_STATE)
        .map_err(io)?
        .insert(CHECKPOINT, seq)
        .map_err(io)?;
    txn.commit().map_err(io)?;
    Ok((wal, seq))
}

/// Applies a group's ops in order. Every op is a blind write (put, delete, range delete), so
/// applying a record again over a state that already holds it changes nothing.
fn apply(txn: &WriteTransaction, ops: &[Op<'_>]) -> Result<(), redb::Error> {
    let mut table = txn.open_table(ENTRIES)?;
    for op in ops {
        match *op {
            Op::Put(k, v) => {
                table.insert(k, v)?;
            }
            Op::Delete(k) => {
                table.remove(k)?;
            }
            Op::Clear(start, end) => table.retain_in(start..end, |_, _| false)?,
        }
    }
    Ok(())
}

/// The writer thread's state.
struct Writer {
    db: Arc<Database>,
    wal: Wal,
    /// The last sequence number logged.
    seq: u64,
    /// The last sequence number redb holds durably.
    checkpointed: u64,
    last_checkpoint: Instant,
    /// Set when the log could not be written or synced, or a checkpoint failed: redb may then
    /// hold changes the log does not, so nothing more is accepted (and nothing checkpointed).
    failed: Option<String>,
    groups: Arc<AtomicU64>,
    tuning: Tuning,
    /// Payloads of the groups logged since redb last had them applied, in order.
    pending: Vec<Vec<u8>>,
    pending_bytes: usize,
}

impl Writer {
    fn run(&mut self, queue: &mpsc::Receiver<Request>) {
        loop {
            let first = if self.seq > self.checkpointed && self.failed.is_none() {
                let wait = (self.tuning.idle)
                    .min((self.tuning.every).saturating_sub(self.last_checkpoint.elapsed()));
                match queue.recv_timeout(wait) {
                    Ok(first) => first,
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        self.checkpoint_or_fail();
                        continue;
                    }
                    Err(mpsc::RecvTimeoutError::Disconnected) => break,
                }
            } else {
                match queue.recv() {
                    Ok(first) => first,
                    Err(_) => break,
                }
            };
            let mut bytes = first.bytes();
            let mut group = vec![first];
            while group.len() < MAX_GROUP && bytes < MAX_GROUP_BYTES {
                match queue.try_recv() {
                    Ok(next) => {
                        bytes += next.bytes();
                        group.push(next);
                    }
                    Err(_) => break,
                }
            }
            let result = self.commit_group(&group);
            let applied = if group.iter().any(|r| matches!(r, Request::Apply(_))) {
                self.apply_pending()
            } else {
                Ok(())
            };
            for request in group {
                let result = match request {
                    Request::Apply(_) => applied.clone(),
                    _ => result.clone(),
                };
                request.answer(result);
            }
            if self.failed.is_none() && self.last_checkpoint.elapsed() >= self.tuning.every {
                self.checkpoint_or_fail();
            }
        }
        if self.failed.is_none() && self.seq > self.checkpointed {
            self.checkpoint_or_fail();
        }
    }

    /// Applies a group in queue order to redb, logs it and syncs the log. Either all of it is
    /// durable or none of it was acknowledged; on failure every request of the group is told so.
    fn commit_group(&mut self, group: &[Request]) -> Result<(), String> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let mut payload = Vec::new();
        for request in group {
            match request {
                Request::Write(batch, _) => {
                    for (ns, key, value) in &batch.ops {
                        let key = keys::encode(ns, key);
                        match value {
                            Some(v) => wal::encode(&mut payload, Op::Put(&key, v)),
                            None => wal::encode(&mut payload, Op::Delete(&key)),
                        }
                    }
                }
                Request::Clear(ns, prefix, _) => {
                    let range = keys::prefix_range(ns, prefix);
                    wal::encode(&mut payload, Op::Clear(&range.start, &range.end));
                }
                // Everything acknowledged before a flush is in the synced log already.
                Request::Flush(_) | Request::Apply(_) => {}
            }
        }
        if payload.is_empty() {
            return Ok(());
        }
        let record = wal::frame(self.seq + 1, &payload);
        if self.wal.used() > 0 && self.wal.used() + record.len() as u64 > self.tuning.log_bytes {
            self.checkpoint_or_fail();
            if let Some(e) = &self.failed {
                return Err(e.clone());
            }
        }
        if let Err(e) = self.wal.write(&record).and_then(|()| self.wal.sync()) {
            return Err(self.fail(format!("writing the write-ahead log failed: {e}")));
        }
        self.seq += 1;
        self.groups.fetch_add(1, Ordering::Relaxed);
        self.pending_bytes += payload.len();
        self.pending.push(payload);
        if self.pending_bytes >= self.tuning.apply_bytes {
            // The group is durable in the log whatever happens to this.
            let _ = self.apply_pending();
        }
        Ok(())
    }

    /// Stops the store for good after an error that may leave redb and the log apart.
    fn fail(&mut self, e: String) -> String {
        tracing::error!("{e}; the store accepts no more writes");
        self.failed = Some(e.clone());
        e
    }

    /// Applies the logged groups redb does not have yet, in one commit without a sync.
    fn apply_pending(&mut self) -> Result<(), String> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if self.pending.is_empty() {
            return Ok(());
        }
        let result = (|| -> Result<(), redb::Error> {
            let mut txn = self.db.begin_write()?;
            txn.set_durability(Durability::None)?;
            self.apply_pending_in(&txn)?;
            txn.commit()?;
            Ok(())
        })();
        match result {
            Ok(()) => {
                self.pending.clear();
                self.pending_bytes = 0;
                Ok(())
            }
            Err(e) => Err(self.fail(format!("applying the write-ahead log to redb failed: {e}"))),
        }
    }

    fn apply_pending_in(&self, txn: &WriteTransaction) -> Result<(), redb::Error> {
        for payload in &self.pending {
            // Encoded by this process a moment ago: it decodes.
            apply(txn, &wal::decode(payload).unwrap_or_default())?;
        }
        Ok(())
    }

    /// Commits redb durably with the last logged sequence number, then reuses the log.
    fn checkpoint_or_fail(&mut self) {
        let result = (|| -> Result<(), redb::Error> {
            let mut txn = self.db.begin_write()?;
            txn.set_quick_repair(true);
            self.apply_pending_in(&txn)?;
            txn.open_table(WAL_STATE)?.insert(CHECKPOINT, self.seq)?;
            txn.commit()?;
            Ok(())
        })();
        match result {
            Ok(()) => {
                self.pending.clear();
                self.pending_bytes = 0;
                self.checkpointed = self.seq;
                self.last_checkpoint = Instant::now();
                self.wal.rewind();
            }
            Err(e) => {
                self.fail(format!("checkpointing the write-ahead log failed: {e}"));
            }
        }
    }
}

#[cfg(test)]
#[path = "durable_recovery_tests.rs"]
mod recovery_tests;
