//! The durable store's applier thread: keeps redb up to date with the write-ahead log, off the
//! commit path.
//!
//! It takes the logged records in order from the log (in batches, see `log`), applies them to
//! redb many at a time without a sync, checkpoints (a durable redb commit recording the last
//! sequence number it holds and where that record ends in the log), tells the log which
//! space that freed, zero-fills the log ahead of the writes, and in
//! [`Durability::Process`] mode syncs the log in the background.

use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use redb::{Database, WriteTransaction};

use crate::Durability;
use crate::durable::{CHECKPOINT, ENTRIES, REPLAY_FROM, Tuning, WAL_STATE, apply_to};
use crate::log::{HANDOFF_EVERY, Log, Logged};
use crate::wal::{self, Grower};

pub(crate) enum ToApplier {
    /// Records were logged while the applier was not polling, or many are waiting: take them.
    Wake,
    /// Apply everything logged so far, then answer (a read waits for it).
    Catch(mpsc::Sender<Result<(), String>>),
    /// An append needs log space: checkpoint now, then answer.
    Checkpoint(mpsc::Sender<()>),
    /// Zero-fill the log up to this offset.
    Grow(u64),
    /// Apply and checkpoint everything, then stop.
    Stop,
}

pub(crate) struct Applier {
    db: Arc<Database>,
    log: Arc<Log>,
    grower: Grower,
    tuning: Tuning,
    durability: Durability,
    /// Records logged since redb last had them applied, in order.
    pending: Vec<Logged>,
    pending_bytes: usize,
    /// The last sequence number taken and where its record ends.
    seq: u64,
    end: u64,
    /// The last sequence number redb holds durably.
    checkpointed: u64,
    logged_since_checkpoint: u64,
    last_checkpoint: Instant,
    last_write: Instant,
    /// When to take the log's records next while they keep coming (see `log`).
    next_take: Option<Instant>,
    /// In [`Durability::Process`] mode: the log has writes not yet synced (since when).
    unsynced: Option<Instant>,
    failed: Option<String>,
}

impl Applier {
    pub(crate) fn new(
        db: Arc<Database>,
        log: Arc<Log>,
        grower: Grower,
        seq: u64,
        tuning: Tuning,
        durability: Durability,
    ) -> Self {
        let now = Instant::now();
        Self {
            db,
            log,
            grower,
            tuning,
            durability,
            pending: Vec::new(),
            pending_bytes: 0,
            seq,
            end: 0,
            checkpointed: seq,
            logged_since_checkpoint: 0,
            last_checkpoint: now,
            last_write: now,
            next_take: None,
            unsynced: None,
            failed: None,
        }
    }

    pub(crate) fn run(mut self, rx: &mpsc::Receiver<ToApplier>) {
        loop {
            let message = match self.next_deadline() {
                None => rx.recv().ok(),
                Some(wait) => match rx.recv_timeout(wait) {
                    Ok(m) => Some(m),
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        self.on_timer();
                        continue;
                    }
                    Err(mpsc::RecvTimeoutError::Disconnected) => None,
                },
            };
            match message {
                Some(ToApplier::Wake) => self.take(),
                Some(ToApplier::Catch(ack)) => {
                    self.take();
                    let _ = ack.send(self.apply_pending());
                }
                Some(ToApplier::Checkpoint(done)) => {
                    self.take();
                    self.checkpoint();
                    let _ = done.send(());
                }
                Some(ToApplier::Grow(want)) => {
                    if let Err(e) = self.grower.grow(want) {
                        // Not fatal: an append extends the file itself when it gets there.
                        tracing::warn!("growing the write-ahead log failed: {e}");
                    }
                }
                Some(ToApplier::Stop) | None => break,
            }
        }
        self.take();
        if self.seq > self.checkpointed {
            self.checkpoint();
        }
        self.sync_log();
    }

    /// Takes the records logged since the last look, and applies or checkpoints when enough
    /// have come.
    fn take(&mut self) {
        let taken = self.log.take();
        if taken.records.is_empty() {
            self.next_take = None;
            return;
        }
        self.next_take = Some(Instant::now() + HANDOFF_EVERY);
        for (seq, record, end) in taken.records {
            self.seq = seq;
            self.end = end;
            self.logged_since_checkpoint += record.len() as u64;
            self.pending_bytes += record.len();
            self.pending.push((seq, record, end));
        }
        self.last_write = Instant::now();
        if self.durability == Durability::Process && self.unsynced.is_none() {
            self.unsynced = taken.since;
        }
        if self.logged_since_checkpoint >= self.tuning.checkpoint_bytes {
            self.checkpoint();
        } else if self.pending_bytes >= self.tuning.apply_bytes {
            // A failure is kept in `failed` and stops the log.
            let _ = self.apply_pending();
        }
    }

    /// How long to wait for the next message before a timed checkpoint or sync, if any is due.
    fn next_deadline(&self) -> Option<Duration> {
        if self.failed.is_some() {
            return None;
        }
        let mut wait: Option<Duration> = self
            .next_take
            .map(|t| t.saturating_duration_since(Instant::now()));
        if self.seq > self.checkpointed {
            let idle = self.tuning.idle.saturating_sub(self.last_write.elapsed());
            let every = (self.tuning.every).saturating_sub(self.last_checkpoint.elapsed());
            wait = Some(wait.map_or(idle, |w| w.min(idle)).min(every));
        }
        if let Some(since) = self.unsynced {
            let sync = self.tuning.sync_every.saturating_sub(since.elapsed());
            wait = Some(wait.map_or(sync, |w| w.min(sync)));
        }
        wait
    }

    fn on_timer(&mut self) {
        if self.next_take.is_some_and(|t| t <= Instant::now()) {
            self.take();
        }
        if self
            .unsynced
            .is_some_and(|since| since.elapsed() >= self.tuning.sync_every)
        {
            self.sync_log();
        }
        if self.seq > self.checkpointed
            && (self.last_write.elapsed() >= self.tuning.idle
                || self.last_checkpoint.elapsed() >= self.tuning.every)
        {
            self.checkpoint();
        }
    }

    /// Makes the log's records durable ([`Durability::Process`] mode's background sync).
    fn sync_log(&mut self) {
        if self.unsynced.take().is_some() {
            match self.grower.sync() {
                Ok(()) => self.log.synced(),
                // The writes are in the OS; a later sync or checkpoint may still make them
                // durable.
                Err(e) => tracing::warn!("syncing the write-ahead log failed: {e}"),
            }
        }
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
            txn.set_durability(redb::Durability::None)?;
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
        if self.pending.is_empty() {
            return Ok(());
        }
        let mut table = txn.open_table(ENTRIES)?;
        for (_, record, _) in &self.pending {
            // Encoded by this process a moment ago: it decodes.
            apply_to(
                &mut table,
                &wal::decode(wal::payload(record)).unwrap_or_default(),
            )?;
        }
        Ok(())
    }

    /// Commits redb durably with the last logged sequence number and where its record ends,
    /// then tells the log that the space before it is free.
    fn checkpoint(&mut self) {
        if self.failed.is_some() || self.seq == self.checkpointed {
            return;
        }
        let result = (|| -> Result<(), redb::Error> {
            let mut txn = self.db.begin_write()?;
            txn.set_quick_repair(true);
            self.apply_pending_in(&txn)?;
            let mut state = txn.open_table(WAL_STATE)?;
            state.insert(CHECKPOINT, self.seq)?;
            state.insert(REPLAY_FROM, self.end)?;
            drop(state);
            txn.commit()?;
            Ok(())
        })();
        match result {
            Ok(()) => {
                self.pending.clear();
                self.pending_bytes = 0;
                self.checkpointed = self.seq;
                self.logged_since_checkpoint = 0;
                self.last_checkpoint = Instant::now();
                self.log.checkpointed(self.seq);
            }
            Err(e) => {
                self.fail(format!("checkpointing the write-ahead log failed: {e}"));
            }
        }
    }

    /// Stops the store for good after an error that may leave redb and the log apart.
    fn fail(&mut self, e: String) -> String {
        tracing::error!("{e}; the store accepts no more writes");
        self.failed = Some(e.clone());
        self.log.fail(e.clone());
        e
    }
}
