//! The write-ahead log as the threads share it: appends in order, the groups logged but not yet
//! taken by the applier, and the failure that stops the store.
//!
//! Whoever logs calls [`Log::append`]: the writer thread in [`Durability::Disk`] mode (one
//! `O_DSYNC` write per group), the submitting task itself in [`Durability::Process`] mode (a
//! write to the page cache takes a few microseconds, less than handing the batch to a thread
//! and being woken for the answer). Appends hold `order` from start to end, so records are
//! logged one at a time in the order their callers got there, even while one of them waits
//! for log space; `state` is only held for short moments, so the applier can always take it.
//!
//! The applier takes the logged records itself ([`Log::take`]) rather than being handed each
//! one: an append wakes it only when it is not polling already (the first record after a
//! quiet spell) or when [`HANDOFF_BYTES`] are waiting; while records keep coming it takes them
//! every [`HANDOFF_EVERY`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, mpsc};
use std::time::{Duration, Instant};

use crate::Durability;
use crate::applier::ToApplier;
use crate::wal::{Record, Wal};

/// The applier is woken to take the logged records once this many bytes wait, so that it
/// applies them in redb commits of a useful size.
const HANDOFF_BYTES: usize = 256 << 10;
/// While records keep coming the applier takes them at least this often (and the background
/// sync of [`Durability::Process`] mode counts from when the first of them was written).
pub(crate) const HANDOFF_EVERY: Duration = Duration::from_millis(100);

/// A logged record: its sequence number, bytes (header and payload) and end in the log.
pub(crate) type Logged = (u64, Vec<u8>, u64);

pub(crate) struct Log {
    /// Held by an append from start to end (see the module comment).
    order: Mutex<()>,
    state: Mutex<State>,
    applier: mpsc::Sender<ToApplier>,
    groups: AtomicU64,
    /// Background syncs done (tests watch it).
    syncs: AtomicU64,
}

struct State {
    wal: Wal,
    /// The last sequence number logged.
    seq: u64,
    /// Set when the log could not be written, or the applier failed: redb may then hold changes
    /// the log does not, so nothing more is accepted.
    failed: Option<String>,
    closed: bool,
    /// Logged records the applier has not taken yet, their bytes, and when the first of them
    /// was written.
    unsent: Vec<Logged>,
    unsent_bytes: usize,
    unsent_since: Option<Instant>,
    /// The applier will take the records before long without a wake-up.
    polling: bool,
    /// The applier was woken for [`HANDOFF_BYTES`] waiting and has not taken them yet.
    woken_full: bool,
}

/// What [`Log::take`] hands the applier.
pub(crate) struct Taken {
    pub(crate) records: Vec<Logged>,
    /// When the first of them was written.
    pub(crate) since: Option<Instant>,
}

/// Why nothing more is accepted after the store was closed.
pub(crate) const STOPPED: &str = "storage writer stopped";

impl Log {
    pub(crate) fn new(wal: Wal, seq: u64, applier: mpsc::Sender<ToApplier>) -> Self {
        Self {
            order: Mutex::new(()),
            state: Mutex::new(State {
                wal,
                seq,
                failed: None,
                closed: false,
                unsent: Vec::new(),
                unsent_bytes: 0,
                unsent_since: None,
                polling: false,
                woken_full: false,
            }),
            applier,
            groups: AtomicU64::new(0),
            syncs: AtomicU64::new(0),
        }
    }

    /// How many records were logged (one write each).
    pub(crate) fn groups(&self) -> u64 {
        self.groups.load(Ordering::Relaxed)
    }

    pub(crate) fn synced(&self) {
        self.syncs.fetch_add(1, Ordering::Relaxed);
    }

    #[cfg(test)]
    pub(crate) fn syncs(&self) -> u64 {
        self.syncs.load(Ordering::Relaxed)
    }

    /// Makes every later write to the log fail, as a full or failing disk would (or not).
    #[cfg(test)]
    pub(crate) fn break_writes(&self, broken: bool) {
        lock(&self.state).wal.broken = broken;
    }

    /// Logs `record`. When this returns `Ok`, it is in the log (on the device in
    /// [`Durability::Disk`] mode, in the OS otherwise) and every earlier append too; after an
    /// error nothing more is logged. Blocks only when the ring is full until a checkpoint frees
    /// space.
    pub(crate) fn append(&self, record: Record) -> Result<(), String> {
        let _order = lock(&self.order);
        let mut state = lock(&self.state);
        state.refuses()?;
        if record.is_empty() {
            return Ok(());
        }
        // Only appends change `seq`, and they hold `order`: it stays ours across a wait.
        let seq = state.seq + 1;
        let record = record.seal(seq);
        let end = loop {
            match state.wal.append(seq, &record) {
                Ok(Some(end)) => break end,
                Ok(None) => {
                    drop(state);
                    self.wait_for_checkpoint();
                    state = lock(&self.state);
                    state.refuses()?;
                }
                Err(e) => {
                    return Err(state.fail(format!("writing the write-ahead log failed: {e}")));
                }
            }
        };
        state.seq = seq;
        self.groups.fetch_add(1, Ordering::Relaxed);
        state.unsent_bytes += record.len();
        state.unsent_since.get_or_insert_with(Instant::now);
        state.unsent.push((seq, record, end));
        let mut wake = false;
        if !state.polling {
            state.polling = true;
            wake = true;
        } else if state.unsent_bytes >= HANDOFF_BYTES && !state.woken_full {
            state.woken_full = true;
            wake = true;
        }
        let grow = state.wal.wants_growth();
        drop(state);
        // Sent without the lock: the applier takes it as soon as it wakes.
        if wake {
            let _ = self.applier.send(ToApplier::Wake);
        }
        if let Some(want) = grow {
            let _ = self.applier.send(ToApplier::Grow(want));
        }
        Ok(())
    }

    /// Makes everything logged so far durable ([`Durability::Process`] mode's flush; in
    /// [`Durability::Disk`] mode it is already).
    pub(crate) fn sync(&self) -> Result<(), String> {
        let _order = lock(&self.order);
        let mut state = lock(&self.state);
        state.refuses()?;
        if let Err(e) = state.wal.sync() {
            return Err(state.fail(format!("syncing the write-ahead log failed: {e}")));
        }
        Ok(())
    }

    /// The ring is full of records redb does not hold durably yet: asks the applier for a
    /// checkpoint now and waits for it (a failure is left in `failed`).
    fn wait_for_checkpoint(&self) {
        let (done, wait) = mpsc::channel();
        if self.applier.send(ToApplier::Checkpoint(done)).is_err() || wait.recv().is_err() {
            lock(&self.state).fail("the storage applier stopped".into());
        }
    }

    /// The records logged since the last call, for the applier. When there are none the
    /// applier stops polling and the next append wakes it.
    pub(crate) fn take(&self) -> Taken {
        let mut state = lock(&self.state);
        state.woken_full = false;
        state.unsent_bytes = 0;
        let records = std::mem::take(&mut state.unsent);
        state.polling = !records.is_empty();
        Taken {
            records,
            since: state.unsent_since.take(),
        }
    }

    /// Frees the log space of the records up to `seq`, which redb now holds durably.
    pub(crate) fn checkpointed(&self, seq: u64) {
        lock(&self.state).wal.checkpointed(seq);
    }

    /// Stops the store for good (the applier failed).
    pub(crate) fn fail(&self, e: String) {
        lock(&self.state).fail(e);
    }

    /// Refuses every later append; returns once no append is running.
    pub(crate) fn close(&self) {
        let _order = lock(&self.order);
        lock(&self.state).closed = true;
    }

    /// Asks the applier to do something (nothing happens once it has stopped).
    pub(crate) fn tell(&self, message: ToApplier) -> bool {
        self.applier.send(message).is_ok()
    }
}

impl State {
    fn refuses(&self) -> Result<(), String> {
        match (&self.failed, self.closed) {
            (Some(e), _) => Err(e.clone()),
            (None, true) => Err(STOPPED.into()),
            (None, false) => Ok(()),
        }
    }

    fn fail(&mut self, e: String) -> String {
        if let Some(first) = &self.failed {
            return first.clone();
        }
        tracing::error!("{e}; the store accepts no more writes");
        self.failed = Some(e.clone());
        e
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Whether `durability` logs in the submitting task (see the module comment).
pub(crate) fn inline(durability: Durability) -> bool {
    durability == Durability::Process
}
