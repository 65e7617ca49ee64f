//! The write-ahead log as the threads share it: appends in order, the groups logged but not yet
//! taken by the applier, and the failure that stops the store.
//!
//! In [`Durability::Process`] mode the submitting task logs its own batch ([`Log::append`]): a
//! write to the page cache takes a few microseconds, less than handing the batch to a thread
//! and being woken for the answer. Appends hold `order` from start to end, so records are
//! logged one at a time in the order their callers got there, even while one of them waits
//! for log space.
//!
//! In [`Durability::Disk`] mode the writer threads (see `writer`) log groups with several
//! `O_DSYNC` writes in flight at once (the device completes concurrent flushes in parallel):
//! [`Log::reserve`] numbers a group and places it in the ring, in queue order under `order`;
//! the write runs outside every lock; [`Log::complete`] marks it done. A group is acknowledged,
//! and handed to the applier, only once it and every earlier group are on the device (the
//! "durable up to" watermark moves over the done groups in sequence order), so the log order
//! and the acknowledgements stay those of one write at a time. A failed write fails its group
//! and every later one not acknowledged yet, and stops the store: the replay stops at the first
//! missing record, so nothing after it may have been acknowledged. `state` is only held for
//! short moments, so the applier can always take it.
//!
//! The applier takes the logged records itself ([`Log::take`]) rather than being handed each
//! one: a logged record wakes it only when it is not polling already (the first record after a
//! quiet spell) or when [`HANDOFF_BYTES`] are waiting; while records keep coming it takes them
//! every [`HANDOFF_EVERY`].

use std::collections::VecDeque;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, mpsc};
use std::time::{Duration, Instant};

use crate::Durability;
use crate::applier::ToApplier;
use crate::durable::Request;
use crate::wal::{LogFile, Record, Wal};

/// The applier is woken to take the logged records once this many bytes wait, so that it
/// applies them in redb commits of a useful size.
const HANDOFF_BYTES: usize = 256 << 10;
/// While records keep coming the applier takes them at least this often (and the background
/// sync of [`Durability::Process`] mode counts from when the first of them was written).
pub(crate) const HANDOFF_EVERY: Duration = Duration::from_millis(100);

/// A logged record: its sequence number, bytes (header and payload) and end in the log.
pub(crate) type Logged = (u64, Vec<u8>, u64);

pub(crate) struct Log {
    /// Held by an append, or a reservation, from start to end (see the module comment).
    order: Mutex<()>,
    state: Mutex<State>,
    /// Signalled when groups in flight are settled (acknowledged or failed).
    settled: Condvar,
    /// At most this many groups are in flight (reserved and not settled) at once.
    window: usize,
    /// The file, for the writes of [`Durability::Disk`] mode outside the lock.
    file: Arc<LogFile>,
    applier: mpsc::Sender<ToApplier>,
    groups: AtomicU64,
    /// Background syncs done (tests watch it).
    syncs: AtomicU64,
}

struct State {
    wal: Wal,
    /// The last sequence number logged (in [`Durability::Disk`] mode, reserved).
    seq: u64,
    /// [`Durability::Disk`] mode: the groups reserved and not settled yet, in sequence order.
    in_flight: VecDeque<InFlight>,
    /// A group's write failed: it and every later group fail (the first error).
    torn: Option<String>,
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

/// A group being written ([`Durability::Disk`] mode).
struct InFlight {
    seq: u64,
    end: u64,
    /// Answered when the group settles.
    requests: Vec<Request>,
    /// Once its write returned: the record written, or the error.
    done: Option<Result<Vec<u8>, String>>,
}

/// A group whose place in the log is reserved: its sealed record goes at `at` ([`Log::write`]),
/// then [`Log::complete`].
pub(crate) struct Reserved {
    seq: u64,
    at: u64,
    record: Vec<u8>,
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
    /// The log with at most `window` groups in flight ([`Durability::Disk`] mode).
    pub(crate) fn new(wal: Wal, seq: u64, window: usize, applier: mpsc::Sender<ToApplier>) -> Self {
        let window = window.clamp(1, crate::wal::IN_FLIGHT_MAX as usize);
        Self {
            order: Mutex::new(()),
            settled: Condvar::new(),
            window,
            file: Arc::clone(wal.file()),
            state: Mutex::new(State {
                wal,
                seq,
                in_flight: VecDeque::new(),
                torn: None,
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
        let hook: Option<crate::wal::WriteHook> = broken.then(|| {
            Arc::new(|_| Err(io::Error::other("no space left on device (a test)")))
                as crate::wal::WriteHook
        });
        *lock(&self.file.hook) = hook;
    }

    /// Runs `hook` before each later write (see [`LogFile`]).
    #[cfg(test)]
    pub(crate) fn hook_writes(&self, hook: crate::wal::WriteHook) {
        *lock(&self.file.hook) = Some(hook);
    }

    /// The groups written and waiting for an earlier one to be acknowledged with them.
    #[cfg(test)]
    pub(crate) fn done_waiting(&self) -> usize {
        let state = lock(&self.state);
        state.in_flight.iter().filter(|g| g.done.is_some()).count()
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
        let wake = state.logged(seq, record, end);
        let grow = state.wal.wants_growth();
        drop(state);
        self.tell_applier(wake, grow);
        Ok(())
    }

    /// Sent without the lock: the applier takes the records as soon as it wakes.
    fn tell_applier(&self, wake: bool, grow: Option<u64>) {
        if wake {
            let _ = self.applier.send(ToApplier::Wake);
        }
        if let Some(want) = grow {
            let _ = self.applier.send(ToApplier::Grow(want));
        }
    }

    /// Numbers `record`, the group of `requests`, and reserves its place in the log
    /// ([`Durability::Disk`] mode): the caller writes it there ([`Log::write`]) outside every
    /// lock, then calls [`Log::complete`]. Groups are numbered and placed in the order their
    /// callers got here. Waits while [`Log::new`]'s window of groups is in flight, and when the
    /// ring is full until a checkpoint frees space. `None` when there is nothing to write: the
    /// requests are answered already (refused), or will be with the last group in flight (an
    /// empty record: flushes).
    pub(crate) fn reserve(&self, record: Record, requests: Vec<Request>) -> Option<Reserved> {
        let _order = lock(&self.order);
        let mut state = lock(&self.state);
        while state.refuses().is_ok() && state.in_flight.len() >= self.window {
            state = wait(&self.settled, state);
        }
        if let Err(e) = state.refuses() {
            drop(state);
            answer(requests, &Err(e));
            return None;
        }
        if record.is_empty() {
            // Acknowledged with everything before it: with the last group in flight, if any.
            if let Some(last) = state.in_flight.back_mut() {
                last.requests.extend(requests);
            } else {
                drop(state);
                answer(requests, &Ok(()));
            }
            return None;
        }
        // Only reservations change `seq`, and they hold `order`: it stays ours across a wait.
        let seq = state.seq + 1;
        let record = record.seal(seq);
        let len = record.len() as u64;
        let at = loop {
            if let Some(at) = state.wal.reserve(seq, len) {
                break at;
            }
            // The ring is full: a checkpoint can only cover acknowledged groups, so let the
            // ones in flight settle first.
            while state.refuses().is_ok() && !state.in_flight.is_empty() {
                state = wait(&self.settled, state);
            }
            if state.refuses().is_ok() {
                drop(state);
                self.wait_for_checkpoint();
                state = lock(&self.state);
            }
            if let Err(e) = state.refuses() {
                drop(state);
                answer(requests, &Err(e));
                return None;
            }
        };
        state.seq = seq;
        self.groups.fetch_add(1, Ordering::Relaxed);
        state.in_flight.push_back(InFlight {
            seq,
            end: at + len,
            requests,
            done: None,
        });
        let grow = state.wal.wants_growth();
        drop(state);
        self.tell_applier(false, grow);
        Some(Reserved { seq, at, record })
    }

    /// Waits until a group in flight settles, if any is: whether it waited.
    pub(crate) fn wait_if_writing(&self) -> bool {
        let state = lock(&self.state);
        if state.refuses().is_err() || state.in_flight.is_empty() {
            return false;
        }
        drop(wait(&self.settled, state));
        true
    }

    /// Writes a reserved group to its place; on the device when this returns
    /// ([`Durability::Disk`] mode). Called outside every lock: several run at once.
    pub(crate) fn write(&self, group: &Reserved) -> io::Result<()> {
        self.file.write(group.seq, &group.record, group.at)
    }

    /// Marks a reserved group written (or failed), then settles every group up to the first
    /// one still being written: acknowledges those on the device after nothing but groups on
    /// the device and hands them to the applier, in sequence order; fails the others.
    pub(crate) fn complete(&self, group: Reserved, result: io::Result<()>) {
        let mut state = lock(&self.state);
        let done = match result {
            Ok(()) => Ok(group.record),
            Err(e) => Err(state.fail(format!("writing the write-ahead log failed: {e}"))),
        };
        let Some(first) = state.in_flight.front().map(|g| g.seq) else {
            return;
        };
        let at = usize::try_from(group.seq - first).unwrap_or(usize::MAX);
        if let Some(slot) = state.in_flight.get_mut(at) {
            slot.done = Some(done);
        }
        let mut answers = Vec::new();
        let mut wake = false;
        while state.in_flight.front().is_some_and(|g| g.done.is_some()) {
            let Some(InFlight {
                seq,
                end,
                requests,
                done: Some(done),
            }) = state.in_flight.pop_front()
            else {
                break;
            };
            let result = match (done, &state.torn) {
                (Ok(record), None) => {
                    wake |= state.logged(seq, record, end);
                    Ok(())
                }
                (Ok(_), Some(e)) => Err(e.clone()),
                (Err(e), _) => Err(state.torn.get_or_insert(e).clone()),
            };
            answers.push((requests, result));
        }
        drop(state);
        // Also when nothing settled: a failure ends every wait.
        self.settled.notify_all();
        self.tell_applier(wake, None);
        for (requests, result) in answers {
            answer(requests, &result);
        }
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
        self.settled.notify_all();
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
    /// Record `seq`, ending at `end`, is logged: the applier takes it. Whether to wake it.
    fn logged(&mut self, seq: u64, record: Vec<u8>, end: u64) -> bool {
        self.unsent_bytes += record.len();
        self.unsent_since.get_or_insert_with(Instant::now);
        self.unsent.push((seq, record, end));
        if !self.polling {
            self.polling = true;
            true
        } else if self.unsent_bytes >= HANDOFF_BYTES && !self.woken_full {
            self.woken_full = true;
            true
        } else {
            false
        }
    }

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

fn answer(requests: Vec<Request>, result: &Result<(), String>) {
    for request in requests {
        request.answer(result.clone());
    }
}

fn wait<'a, T>(c: &Condvar, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
    c.wait(guard)
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Whether `durability` logs in the submitting task (see the module comment).
pub(crate) fn inline(durability: Durability) -> bool {
    durability == Durability::Process
}
