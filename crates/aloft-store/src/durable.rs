//! The durable store behind `--data-dir`: a write-ahead log in front of redb, written in
//! submission order while a background thread keeps redb up to date.
//!
//! In [`Durability::Disk`] mode every batch goes through a queue to the writer
//! threads (`writer`). A writer takes everything queued and writes it as ONE record to the
//! write-ahead log (`wal`), which is durable when the write returns (`O_DSYNC`). Up to
//! `Tuning::writers` such writes run at once (the device completes concurrent flushes in
//! parallel); each batch is acknowledged once its record and every earlier one are on the
//! device (see `log`). While the writes run, new batches queue up and share the next one, so
//! throughput grows with concurrency instead of stopping at one sync per request.
//!
//! [`Durability::Process`] (the default) acknowledges a batch once its record is written to the
//! OS, without waiting for the device: it survives `kill -9` of Aloft, and the applier syncs the
//! log at most [`PROCESS_SYNC_EVERY`] later; an OS crash or power loss can lose that last 0.1 s.
//! Such a write takes a few microseconds, so the submitting task logs its own batch inside
//! [`Store::submit`] (which services call while holding the lock that orders their in-memory
//! change: log order is memory order) and gets an already completed [`Commit`]; no thread
//! hand-off, no wake-up.
//!
//! Either way the appends go through `log`, which keeps the logged records for the applier
//! thread (`applier`). The applier takes them in batches, applies them to redb many per
//! transaction, committed without a sync (visible to readers, lost by a crash), and
//! checkpoints: a durable redb commit that also stores the last logged sequence number it holds
//! and where that record ends in the log. The log is a ring whose space behind the checkpoint is
//! reused, so neither redb's page writes nor its syncs ever delay an acknowledgement (unless the
//! ring is full). Reads ask the applier to apply every record logged so far first, which
//! includes every acknowledged one.
//!
//! Opening replays the records newer than the checkpoint onto redb's last durable state and
//! checkpoints them; the first torn, missing, corrupt or stale record ends the replay (nothing
//! after it was acknowledged: each group is acknowledged only after the write covering it and
//! the writes of everything before it returned, so a record on the device after a missing one,
//! left by a crash with writes in flight, was never acknowledged).
//!
//! All namespaces live in one table, keyed `ns ++ 0x00 ++ key` (see `keys`): a group that
//! touches many namespaces updates one B-tree rather than opening a table per namespace, new
//! namespaces need no registry, and reset of a namespace or a scope inside it is one range delete.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use redb::{Database, ReadableDatabase, ReadableTable, Table, TableDefinition, WriteTransaction};

use crate::applier::{Applier, ToApplier};
use crate::datadir;
use crate::journal::{Batch, Commit, Entries, Store, StoreError};
use crate::keys;
use crate::log::{self, Log, lock};
use crate::wal::{self, Op, Record, Wal};
use crate::writer;

pub(crate) const ENTRIES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("entries");

/// The write-ahead log's state inside redb: [`CHECKPOINT`], the sequence number of the last
/// log record whose changes the last durable commit holds, and [`REPLAY_FROM`], where that
/// record ends in the log (absent in a format-2 directory, whose log starts at offset 0).
pub(crate) const WAL_STATE: TableDefinition<&str, u64> = TableDefinition::new("wal");
pub(crate) const CHECKPOINT: &str = "checkpoint";
pub(crate) const REPLAY_FROM: &str = "replay_from";

/// The database file inside the data directory.
const DB_FILE: &str = "meta.redb";
/// The write-ahead log inside the data directory.
const WAL_FILE: &str = "wal.log";

/// How long a write acknowledged in [`Durability::Process`] mode may wait for its sync.
/// Ten syncs a second cost the applier next to nothing; the window an OS crash can lose stays
/// short.
pub const PROCESS_SYNC_EVERY: Duration = Duration::from_millis(100);

/// After a restart the sequence numbers jump by this much, past any record an earlier run
/// may have left beyond the end of the replay (unsynced ones in [`Durability::Process`] mode
/// can reach the disk out of order), so that no stale record can ever continue the new chain.
const RESTART_GAP: u64 = 1 << 32;

/// When an acknowledged write is safe.
///
/// `Process` is the default because it is what DESIGN.md asks of `--data-dir` (an acknowledged
/// write survives `kill -9`) at a small cost, while `Disk` waits for the device on every group:
/// on a VM or a consumer SSD that flush takes ~0.4 ms and most of a durable put's CPU
/// (bench/README.md, "Durable writes").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// On the device before it is acknowledged: survives a crash of Aloft, of the OS, and power
    /// loss.
    Disk,
    /// Written to the OS before it is acknowledged and synced at most [`PROCESS_SYNC_EVERY`]
    /// later: survives `kill -9` of Aloft; an OS crash or power loss can lose that last 0.1 s.
    #[default]
    Process,
}

/// When the applier applies and checkpoints.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tuning {
    /// The log's ring size: the file is zero-filled up to it and reused from its start. It
    /// bounds the replay at open and the disk the log takes.
    pub(crate) log_bytes: u64,
    /// A checkpoint is due once this much was logged since the last one, well before the ring
    /// is full so that the writer never waits for one.
    pub(crate) checkpoint_bytes: u64,
    /// A checkpoint follows when no write came for this long after the last one...
    pub(crate) idle: Duration,
    /// ...and at least this often under a steady trickle of writes.
    pub(crate) every: Duration,
    /// Logged groups are applied to redb (without a sync) once they hold this much, so that
    /// one redb commit serves many groups; reads apply what is left first.
    pub(crate) apply_bytes: usize,
    /// [`Durability::Process`] mode syncs the log at most this long after a write.
    pub(crate) sync_every: Duration,
    /// [`Durability::Disk`] mode: writer threads, each with at most one log write in flight
    /// (at most [`wal::IN_FLIGHT_MAX`]).
    pub(crate) writers: usize,
    /// ...but a group of fewer requests than this waits for the write in flight and grows
    /// meanwhile: another write in flight pays only when enough requests wait for it. An
    /// `O_DSYNC` write costs this VM's kernel ~70-90 µs of CPU (bench/README.md), more than a
    /// whole in-memory PutItem, so small groups written side by side cost more than they save.
    pub(crate) pipeline_min: usize,
}

const TUNING: Tuning = Tuning {
    log_bytes: 32 << 20,
    checkpoint_bytes: 8 << 20,
    idle: Duration::from_secs(1),
    every: Duration::from_secs(30),
    apply_bytes: 1 << 20,
    sync_every: PROCESS_SYNC_EVERY,
    writers: 3,
    pipeline_min: 4,
};

/// redb's page cache. State is loaded once at start and then only written, so a large cache
/// would only hold memory a laptop wants back.
const CACHE_BYTES: usize = 32 << 20;

pub(crate) type Ack = tokio::sync::oneshot::Sender<Result<(), String>>;

/// What the writer thread of [`Durability::Disk`] mode is asked to do.
pub(crate) enum Request {
    Write(Batch, Ack),
    Clear(String, Vec<u8>, Ack),
    Flush(Ack),
}

impl Request {
    /// The size of the keys and values it writes.
    pub(crate) fn bytes(&self) -> usize {
        match self {
            Request::Write(batch, _) => writer::batch_bytes(&batch.ops),
            Request::Clear(ns, prefix, _) => ns.len() + prefix.len(),
            Request::Flush(_) => 0,
        }
    }

    pub(crate) fn answer(self, result: Result<(), String>) {
        // The submitter may have stopped waiting; the data is committed all the same.
        match self {
            Request::Write(_, ack) | Request::Clear(_, _, ack) | Request::Flush(ack) => {
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
    log: Arc<Log>,
    durability: Durability,
    /// The writer threads' queue ([`Durability::Disk`] mode).
    queue: Mutex<Option<mpsc::Sender<Request>>>,
    writers: Mutex<Vec<JoinHandle<()>>>,
    /// `None` once stopped.
    applier: Mutex<Option<JoinHandle<()>>>,
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
        Self::open_with(dir, Durability::default())
    }

    /// [`Self::open`] with the given durability mode.
    pub fn open_with(dir: impl AsRef<Path>, durability: Durability) -> Result<Self, StoreError> {
        Self::open_tuned(dir.as_ref(), TUNING, durability)
    }

    pub(crate) fn open_tuned(
        dir: &Path,
        tuning: Tuning,
        durability: Durability,
    ) -> Result<Self, StoreError> {
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
        let (wal, grower, seq) = recover(&db, &dir.join(WAL_FILE), tuning, durability)?;
        // redb and the log sync their files' contents, not the directory entries naming them.
        datadir::sync_dir(dir).map_err(io)?;

        let (to_applier, applier_rx) = mpsc::channel();
        let log = Arc::new(Log::new(wal, seq, tuning.writers, to_applier));
        let applier = Applier::new(
            Arc::clone(&db),
            Arc::clone(&log),
            grower,
            seq,
            tuning,
            durability,
        );
        let applier = std::thread::Builder::new()
            .name("aloft-store-apply".into())
            .spawn(move || applier.run(&applier_rx))
            .map_err(|e| StoreError::Io(format!("cannot start the storage applier: {e}")))?;
        let (mut queue, mut writers) = (None, Vec::new());
        if !log::inline(durability) {
            let (tx, rx) = mpsc::channel();
            let rx = Arc::new(Mutex::new(rx));
            for _ in 0..tuning.writers.max(1) {
                let (writer_log, rx) = (Arc::clone(&log), Arc::clone(&rx));
                let pipeline_min = tuning.pipeline_min;
                let spawned = std::thread::Builder::new()
                    .name("aloft-store-writer".into())
                    .spawn(move || writer::run(&writer_log, &rx, pipeline_min));
                match spawned {
                    Ok(thread) => writers.push(thread),
                    Err(e) => {
                        drop(tx);
                        for writer in writers {
                            let _ = writer.join();
                        }
                        log.tell(ToApplier::Stop);
                        let _ = applier.join();
                        return Err(StoreError::Io(format!(
                            "cannot start the storage writer: {e}"
                        )));
                    }
                }
            }
            queue = Some(tx);
        }
        Ok(Self {
            db: Mutex::new(Some(db)),
            log,
            durability,
            queue: Mutex::new(queue),
            writers: Mutex::new(writers),
            applier: Mutex::new(Some(applier)),
            path,
        })
    }

    /// How many groups the writer has logged, each with one log write (for benchmarks: commits
    /// divided by this is the group size).
    pub fn groups_committed(&self) -> u64 {
        self.log.groups()
    }

    /// Logs `record` in the calling task ([`Durability::Process`] mode, see `log`).
    fn append(&self, record: Record) -> Commit {
        match self.log.append(record) {
            Ok(()) => Commit::done(),
            Err(e) => Commit::failed(e),
        }
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

    /// Waits until redb holds every group logged so far (the applier applies them lazily).
    fn apply_logged(&self) -> Result<(), StoreError> {
        let (ack, rx) = mpsc::channel();
        {
            let applier = lock(&self.applier);
            // Stopped: the applier applied and checkpointed everything first.
            if applier.is_none() {
                return Ok(());
            }
            self.log.tell(ToApplier::Catch(ack));
        }
        match rx.recv() {
            Ok(result) => result.map_err(StoreError::Io),
            Err(_) => Err(StoreError::Io(log::STOPPED.into())),
        }
    }

    /// Ends the writers after they have logged what was queued, then the applier after it has
    /// applied and checkpointed everything.
    fn stop_writer(&self) {
        lock(&self.queue).take();
        for writer in std::mem::take(&mut *lock(&self.writers)) {
            let _ = writer.join();
        }
        self.log.close();
        if let Some(applier) = lock(&self.applier).take() {
            self.log.tell(ToApplier::Stop);
            let _ = applier.join();
        }
    }
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
        if log::inline(self.durability) {
            return self.append(writer::record_of_batch(&batch.ops));
        }
        self.send(|ack| Request::Write(batch, ack))
    }

    fn clear(&self, ns: &str, prefix: &[u8]) -> Commit {
        if let Some(msg) = keys::invalid_ns(ns) {
            return Commit::failed(msg);
        }
        if log::inline(self.durability) {
            return self.append(writer::record_of_clear(ns, prefix));
        }
        let (ns, prefix) = (ns.to_string(), prefix.to_vec());
        self.send(|ack| Request::Clear(ns, prefix, ack))
    }

    fn flush(&self) -> Commit {
        if log::inline(self.durability) {
            return match self.log.sync() {
                Ok(()) => Commit::done(),
                Err(e) => Commit::failed(e),
            };
        }
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
/// applied and checkpointed in one durable commit, so the log starts empty. Returns the log, its
/// grower and the last sequence number used.
fn recover(
    db: &Database,
    path: &Path,
    tuning: Tuning,
    durability: Durability,
) -> Result<(Wal, wal::Grower, u64), StoreError> {
    let mut txn = db.begin_write().map_err(io)?;
    txn.set_quick_repair(true);
    let (checkpoint, from) = {
        // Make sure the tables exist so that reads never have to tell "missing" from "empty".
        txn.open_table(ENTRIES).map_err(io)?;
        let state = txn.open_table(WAL_STATE).map_err(io)?;
        let checkpoint = state.get(CHECKPOINT).map_err(io)?.map_or(0, |v| v.value());
        let from = state.get(REPLAY_FROM).map_err(io)?.map(|v| v.value());
        (checkpoint, from)
    };
    let (wal, grower, content) = Wal::open(path, tuning.log_bytes, durability)
        .map_err(|e| StoreError::DataDir(format!("cannot open {}: {e}", path.display())))?;
    let missing = |first: u64| {
        StoreError::DataDir(format!(
            "{} holds record {first} but the database holds records up to {checkpoint} \
                 only: records are missing, so the data directory cannot be opened safely",
            path.display()
        ))
    };
    let records = match from {
        Some(from) => wal::replay(&content, checkpoint, from).map_err(missing)?,
        None => {
            // A format-2 log: rewound to offset 0 at each checkpoint.
            let records = wal::records(&content);
            if let Some(&(first, _)) = records.first()
                && first > checkpoint + 1
            {
                return Err(missing(first));
            }
            records
        }
    };
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
    let seq = seq + RESTART_GAP;
    {
        let mut state = txn.open_table(WAL_STATE).map_err(io)?;
        state.insert(CHECKPOINT, seq).map_err(io)?;
        // The writer starts at offset 0.
        state.insert(REPLAY_FROM, 0).map_err(io)?;
    }
    txn.commit().map_err(io)?;
    Ok((wal, grower, seq))
}

/// Applies a group's ops in order. Every op is a blind write (put, delete, range delete), so
/// applying a record again over a state that already holds it changes nothing.
pub(crate) fn apply(txn: &WriteTransaction, ops: &[Op<'_>]) -> Result<(), redb::Error> {
    apply_to(&mut txn.open_table(ENTRIES)?, ops)
}

/// [`apply`] to the entries table opened once for many records (opening it looks it up and
/// closing it writes its root back: per record, that cost more than small records' inserts).
pub(crate) fn apply_to(
    table: &mut Table<'_, &[u8], &[u8]>,
    ops: &[Op<'_>],
) -> Result<(), redb::Error> {
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

#[cfg(test)]
#[path = "durable_recovery_tests.rs"]
mod recovery_tests;
