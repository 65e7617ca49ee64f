//! The durable store's writer thread: group commit to the write-ahead log, and nothing else.
//!
//! It takes every queued request, logs the group as one record, acknowledges it, and hands the
//! record's payload to the applier thread (`applier`), which owns redb. The only time it waits
//! for the applier is when the log's ring has no room left behind the last checkpoint (the
//! applier checkpoints long before, see `Tuning::checkpoint_bytes`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::Durability;
use crate::applier::ToApplier;
use crate::durable::Request;
use crate::keys;
use crate::wal::{self, Op, Wal};

/// At most this many queued requests share one record, bounding its size and the delay of the
/// first request in it.
const MAX_GROUP: usize = 4096;

/// ...and a group stops growing once its keys and values reach this size, bounding its log
/// record.
const MAX_GROUP_BYTES: usize = 16 << 20;

/// Logged groups go to the applier in batches of this many payload bytes, not one by one: each
/// hand-over wakes the applier thread, a context switch per group on a 2-core laptop. Reads,
/// checkpoints, a pause of [`HANDOFF_IDLE`] and the end hand over what is there at once.
const HANDOFF_BYTES: usize = 256 << 10;
const HANDOFF_IDLE: Duration = Duration::from_millis(20);
/// ...and a steady trickle of writes is handed over at least this often.
const HANDOFF_EVERY: Duration = Duration::from_millis(100);

pub(crate) struct Writer {
    wal: Wal,
    /// The last sequence number logged.
    seq: u64,
    /// Set when the log could not be written, or the applier failed: redb may then hold changes
    /// the log does not, so nothing more is accepted.
    failed: Option<String>,
    groups: Arc<AtomicU64>,
    durability: Durability,
    applier: mpsc::Sender<ToApplier>,
    /// Checkpoints the applier made durable (the sequence number each covers), or its failure.
    checkpoints: mpsc::Receiver<Result<u64, String>>,
    applier_thread: Option<JoinHandle<()>>,
    /// Logged groups not handed to the applier yet, their payload bytes, and when the first of
    /// them was written.
    unsent: Vec<(u64, Vec<u8>, u64)>,
    unsent_bytes: usize,
    unsent_since: Option<Instant>,
}

impl Writer {
    pub(crate) fn new(
        wal: Wal,
        seq: u64,
        groups: Arc<AtomicU64>,
        durability: Durability,
        applier: mpsc::Sender<ToApplier>,
        checkpoints: mpsc::Receiver<Result<u64, String>>,
        applier_thread: JoinHandle<()>,
    ) -> Self {
        Self {
            wal,
            seq,
            failed: None,
            groups,
            durability,
            applier,
            checkpoints,
            applier_thread: Some(applier_thread),
            unsent: Vec::new(),
            unsent_bytes: 0,
            unsent_since: None,
        }
    }

    pub(crate) fn run(&mut self, queue: &mpsc::Receiver<Request>) {
        loop {
            let first = if self.unsent.is_empty() {
                match queue.recv() {
                    Ok(first) => first,
                    Err(_) => break,
                }
            } else {
                match queue.recv_timeout(HANDOFF_IDLE) {
                    Ok(first) => first,
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        self.hand_over();
                        continue;
                    }
                    Err(mpsc::RecvTimeoutError::Disconnected) => break,
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
            self.take_checkpoints();
            let result = self.commit_group(&group);
            if result.is_ok()
                && self.durability == Durability::Process
                && group.iter().any(|r| matches!(r, Request::Flush(_)))
                && let Err(e) = self.wal.sync()
            {
                self.fail(format!("syncing the write-ahead log failed: {e}"));
            }
            if self.unsent_bytes >= HANDOFF_BYTES
                || self
                    .unsent_since
                    .is_some_and(|t| t.elapsed() >= HANDOFF_EVERY)
                || group.iter().any(|r| matches!(r, Request::Apply(_)))
            {
                self.hand_over();
            }
            for request in group {
                match request {
                    Request::Apply(ack) => {
                        if let Some(e) = &self.failed {
                            let _ = ack.send(Err(e.clone()));
                        } else if let Err(mpsc::SendError(ToApplier::Catch(ack))) =
                            self.applier.send(ToApplier::Catch(ack))
                        {
                            let _ = ack.send(Err("storage applier stopped".into()));
                        }
                    }
                    request => request.answer(result.clone()),
                }
            }
            if let Some(want) = self.wal.wants_growth() {
                let _ = self.applier.send(ToApplier::Grow(want));
            }
        }
        // Everything queued is logged: the applier applies it, checkpoints and stops.
        self.hand_over();
        let _ = self.applier.send(ToApplier::Stop);
        if let Some(thread) = self.applier_thread.take() {
            let _ = thread.join();
        }
    }

    /// Logs a group in queue order. Either all of it is durable (written to the OS in
    /// [`Durability::Process`] mode) or none of it was acknowledged; on failure every request
    /// of the group is told so.
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
                // Everything acknowledged before a flush is in the log already.
                Request::Flush(_) | Request::Apply(_) => {}
            }
        }
        if payload.is_empty() {
            return Ok(());
        }
        let seq = self.seq + 1;
        let record = wal::frame(seq, &payload);
        let end = loop {
            match self.wal.append(seq, &record) {
                Ok(Some(end)) => break end,
                Ok(None) => self.wait_for_checkpoint()?,
                Err(e) => return Err(self.fail(format!("writing the write-ahead log failed: {e}"))),
            }
        };
        self.seq = seq;
        self.groups.fetch_add(1, Ordering::Relaxed);
        self.unsent_bytes += payload.len();
        self.unsent_since.get_or_insert_with(Instant::now);
        self.unsent.push((seq, payload, end));
        Ok(())
    }

    /// Hands the logged groups not yet sent to the applier.
    fn hand_over(&mut self) {
        if self.unsent.is_empty() {
            return;
        }
        let groups = std::mem::take(&mut self.unsent);
        let since = self.unsent_since.take().unwrap_or_else(Instant::now);
        self.unsent_bytes = 0;
        if self.applier.send(ToApplier::Logged(groups, since)).is_err() && self.failed.is_none() {
            // The groups are in the log (replayed at the next open) but redb will not get them.
            self.fail("the storage applier stopped".into());
        }
    }

    /// Frees the log space of the checkpoints made since the last look.
    fn take_checkpoints(&mut self) {
        while let Ok(done) = self.checkpoints.try_recv() {
            self.checkpoint_done(done);
        }
    }

    fn checkpoint_done(&mut self, done: Result<u64, String>) {
        match done {
            Ok(seq) => self.wal.checkpointed(seq),
            Err(e) => {
                if self.failed.is_none() {
                    self.failed = Some(e);
                }
            }
        }
    }

    /// The ring is full of records redb does not hold durably yet: asks for a checkpoint now and
    /// waits for it.
    fn wait_for_checkpoint(&mut self) -> Result<(), String> {
        self.hand_over();
        if self.applier.send(ToApplier::Checkpoint).is_err() {
            return Err(self.fail("the storage applier stopped".into()));
        }
        match self.checkpoints.recv() {
            Ok(done) => self.checkpoint_done(done),
            Err(_) => return Err(self.fail("the storage applier stopped".into())),
        }
        match &self.failed {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    /// Stops the store for good after an error that may leave redb and the log apart.
    fn fail(&mut self, e: String) -> String {
        tracing::error!("{e}; the store accepts no more writes");
        self.failed = Some(e.clone());
        e
    }
}
