//! The write-ahead log of the durable store: `wal.log` in the data directory.
//!
//! Each group of batches logged at once (see `log`; in `Durability::Process` mode each batch) is
//! one record: a header (magic, payload length, sequence number, CRC-32C of all three and the
//! payload) and the payload, a list of [`Op`]s on stored keys. A record is on the device once
//! its write returns (`O_DSYNC`: one device write per group, no separate `fdatasync`; several
//! records may be written at once, see `log`), which
//! costs one small disk write when the record overwrites blocks the file already has: the file's
//! size and extents do not change, so the file system has no metadata to journal. The log is
//! therefore grown ahead of the writes in zero-filled steps (by the applier thread, off the
//! commit path) and reused as a ring rather than truncated.
//!
//! The ring: record `k + 1` starts where record `k` ended, or at offset 0 when it does not fit
//! before the end of the ring. The writer never overwrites a record newer than redb's durable
//! checkpoint, so a checkpoint can run in the background while records keep coming; it stores
//! the sequence number `S` it covers and where record `S` ended, the replay's starting point.
//! Sequence numbers run on across laps and restarts, so what follows the newest record (a torn
//! write, zeros, a record of an earlier lap) fails the checksum or the sequence check and ends
//! the replay there.

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::{Arc, Mutex};

use crc_fast::CrcAlgorithm;

use crate::Durability;
use crate::keys;

const MAGIC: [u8; 4] = *b"AWL1";
const HEADER: usize = 20;

/// The log grows by this many zero bytes at a time, so that only one write in many changes the
/// file's size; the applier grows it once the writer is within [`GROW_AHEAD`] of the end.
pub(crate) const GROW_STEP: u64 = 1 << 20;
const GROW_AHEAD: u64 = 2 << 20;

/// At most this many records are being written at once ([`Durability::Disk`] mode: each is
/// acknowledged once it and every earlier one are on the device, and no record is started while
/// this many are not acknowledged). A crash can therefore leave at most this many records on
/// the device after the first one that is not: they were never acknowledged, and the replay,
/// which follows the chain of sequence numbers, stops before them.
pub(crate) const IN_FLIGHT_MAX: u64 = 4;

/// One change to the stored key space, as the log records it (keys are stored keys, see `keys`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op<'a> {
    Put(&'a [u8], &'a [u8]),
    Delete(&'a [u8]),
    /// Deletes every key in `start..end`.
    Clear(&'a [u8], &'a [u8]),
}

const PUT: u8 = 1;
const DELETE: u8 = 2;
const CLEAR: u8 = 3;

/// Appends `op` to a record's payload.
pub(crate) fn encode(out: &mut Vec<u8>, op: Op<'_>) {
    fn field(out: &mut Vec<u8>, bytes: &[u8]) {
        // A stored key or value over 4 GiB never reaches the journal (large bodies go to blobs).
        let len = u32::try_from(bytes.len()).expect("journal field over 4 GiB");
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(bytes);
    }
    match op {
        Op::Put(k, v) => {
            out.push(PUT);
            field(out, k);
            field(out, v);
        }
        Op::Delete(k) => {
            out.push(DELETE);
            field(out, k);
        }
        Op::Clear(start, end) => {
            out.push(CLEAR);
            field(out, start);
            field(out, end);
        }
    }
}

/// The ops of a payload, in order; `None` for a payload this code did not write (only possible
/// when the checksum let a corrupt record through).
pub(crate) fn decode(mut payload: &[u8]) -> Option<Vec<Op<'_>>> {
    fn field<'a>(p: &mut &'a [u8]) -> Option<&'a [u8]> {
        let len = u32::from_le_bytes(p.get(..4)?.try_into().ok()?) as usize;
        let bytes = p.get(4..4 + len)?;
        *p = &p[4 + len..];
        Some(bytes)
    }
    let mut ops = Vec::new();
    while let Some((&tag, rest)) = payload.split_first() {
        payload = rest;
        ops.push(match tag {
            PUT => Op::Put(field(&mut payload)?, field(&mut payload)?),
            DELETE => Op::Delete(field(&mut payload)?),
            CLEAR => Op::Clear(field(&mut payload)?, field(&mut payload)?),
            _ => return None,
        });
    }
    Some(ops)
}

fn crc(len: u32, seq: u64, payload: &[u8]) -> u32 {
    let mut d = crc_fast::Digest::new(CrcAlgorithm::Crc32Iscsi);
    d.update(&len.to_le_bytes());
    d.update(&seq.to_le_bytes());
    d.update(payload);
    // A CRC-32 digest fits in 32 bits.
    u32::try_from(d.finalize()).unwrap_or(u32::MAX)
}

/// A record as it is written: header and payload.
#[cfg(test)]
pub(crate) fn frame(seq: u64, payload: &[u8]) -> Vec<u8> {
    let mut record = Record::new(payload.len());
    record.0.extend_from_slice(payload);
    record.seal(seq)
}

/// A record being built in place: the ops are encoded right behind room for the header, which
/// [`Record::seal`] fills in, so the bytes written are never copied into another buffer.
pub(crate) struct Record(Vec<u8>);

impl Record {
    pub(crate) fn new(payload_bytes: usize) -> Self {
        let mut out = Vec::with_capacity(HEADER + payload_bytes);
        out.resize(HEADER, 0);
        Self(out)
    }

    /// Appends a put or delete of the stored key `ns ++ 0x00 ++ key` (see `keys`) without
    /// building that key first.
    pub(crate) fn write(&mut self, ns: &str, key: &[u8], value: Option<&[u8]>) {
        let out = &mut self.0;
        out.push(if value.is_some() { PUT } else { DELETE });
        let len = ns.len() + 1 + key.len();
        let len = u32::try_from(len).expect("journal field over 4 GiB");
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(ns.as_bytes());
        out.push(keys::SEP);
        out.extend_from_slice(key);
        if let Some(v) = value {
            let len = u32::try_from(v.len()).expect("journal field over 4 GiB");
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(v);
        }
    }

    pub(crate) fn push(&mut self, op: Op<'_>) {
        encode(&mut self.0, op);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.len() == HEADER
    }

    /// The finished record, numbered `seq`.
    pub(crate) fn seal(mut self, seq: u64) -> Vec<u8> {
        let len = u32::try_from(self.0.len() - HEADER).expect("journal record over 4 GiB");
        let sum = crc(len, seq, &self.0[HEADER..]);
        let header = &mut self.0[..HEADER];
        header[..4].copy_from_slice(&MAGIC);
        header[4..8].copy_from_slice(&len.to_le_bytes());
        header[8..16].copy_from_slice(&seq.to_le_bytes());
        header[16..20].copy_from_slice(&sum.to_le_bytes());
        self.0
    }
}

/// The payload of a sealed record.
pub(crate) fn payload(record: &[u8]) -> &[u8] {
    &record[HEADER..]
}

/// The consecutive records at the start of `log`, from the first one on: `(seq, payload)`.
/// Stops at the first bytes that are not a whole, intact record following the previous one.
/// This is how a format-2 log (always rewound to offset 0 after a checkpoint) is replayed.
pub(crate) fn records(log: &[u8]) -> Vec<(u64, &[u8])> {
    let mut out: Vec<(u64, &[u8])> = Vec::new();
    let mut at = 0usize;
    while let Some((seq, payload, end)) = record_at(log, at) {
        if out.last().is_some_and(|&(prev, _)| seq != prev + 1) {
            break;
        }
        out.push((seq, payload));
        at = end;
    }
    out
}

/// The record at `at`, if one is there intact: `(seq, payload, end)`.
fn record_at(log: &[u8], at: usize) -> Option<(u64, &[u8], usize)> {
    let header = log.get(at..at.checked_add(HEADER)?)?;
    if header[..4] != MAGIC {
        return None;
    }
    let len = u32::from_le_bytes(header[4..8].try_into().ok()?);
    let seq = u64::from_le_bytes(header[8..16].try_into().ok()?);
    let sum = u32::from_le_bytes(header[16..20].try_into().ok()?);
    let end = at + HEADER + len as usize;
    let payload = log.get(at + HEADER..end)?;
    (crc(len, seq, payload) == sum).then_some((seq, payload, end))
}

/// The records newer than `checkpoint` in a ring log whose record `checkpoint` ended at `from`:
/// `(seq, payload)` in order. Each next record is at the end of the previous one or, after a
/// wrap, at offset 0. `Err(seq)` when no record follows the checkpoint but the one where it
/// should start is newer than that by more than [`IN_FLIGHT_MAX`]: records are missing (e.g.
/// `meta.redb` was put back from an older copy). Only that place is checked: in
/// `Durability::Process` mode an OS crash may leave record `S + 2` at offset 0 without `S + 1`,
/// writes that were never synced, and the directory must still open. Within the window, a
/// crash with writes in flight can leave `S + 1` torn and `S + 2` there: `S + 1` wrapped to
/// offset 0 and ended exactly where `S` did.
pub(crate) fn replay(log: &[u8], checkpoint: u64, from: u64) -> Result<Vec<(u64, &[u8])>, u64> {
    let from = usize::try_from(from).unwrap_or(usize::MAX);
    let mut out: Vec<(u64, &[u8])> = Vec::new();
    let mut at = from;
    loop {
        let expect = checkpoint + out.len() as u64 + 1;
        let next = record_at(log, at)
            .filter(|r| r.0 == expect)
            .or_else(|| record_at(log, 0).filter(|r| at != 0 && r.0 == expect));
        let Some((seq, payload, end)) = next else {
            break;
        };
        out.push((seq, payload));
        at = end;
    }
    if out.is_empty()
        && let Some((newer, _, _)) =
            record_at(log, from).filter(|r| r.0 > checkpoint + IN_FLIGHT_MAX)
    {
        return Err(newer);
    }
    Ok(out)
}

/// Opens the log file for the writer: with `O_DSYNC` in [`Durability::Disk`] mode, so that a
/// write returns once the device has it.
fn open_for_writes(path: &Path, durability: Durability) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    if durability == Durability::Disk {
        options.custom_flags(libc::O_DSYNC);
    }
    options.open(path)
}

/// The open log. Where each record goes is decided under `log`'s lock (by a writer thread or,
/// in [`Durability::Process`] mode, the submitting task); in [`Durability::Disk`] mode the
/// write itself runs outside it ([`LogFile::write`]), so that several can be in flight. The
/// applier thread grows the file.
pub(crate) struct Wal {
    file: Arc<LogFile>,
    durability: Durability,
    /// Where the next record goes, unless it wraps.
    head: u64,
    /// The ring's size: a record that would end past it goes to offset 0 when that is free.
    ring: u64,
    /// The records not yet covered by a durable checkpoint, oldest first: `(seq, start, end)`.
    /// A record is live from the moment its place is reserved, before it is written.
    live: VecDeque<(u64, u64, u64)>,
    /// The end up to which growth was last asked for.
    grow_asked: u64,
}

/// The log file as the writes share it.
pub(crate) struct LogFile {
    file: File,
    /// The file's length: everything below it has been written (zeros or records), but for
    /// records being written past it. Shared with [`Grower`], which only writes at or past
    /// it, under the lock.
    filled: Arc<Mutex<u64>>,
    /// Runs before each write with the record's sequence number; an error fails the write
    /// (tests of a failing disk, and of writes completing out of order).
    #[cfg(test)]
    pub(crate) hook: Mutex<Option<WriteHook>>,
}

#[cfg(test)]
pub(crate) type WriteHook = Arc<dyn Fn(u64) -> io::Result<()> + Send + Sync>;

/// Grows the log file ahead of the writer with zeros and syncs it (the applier thread).
pub(crate) struct Grower {
    file: File,
    filled: Arc<Mutex<u64>>,
    ring: u64,
}

impl Wal {
    /// Opens (creating) the log and returns it with its whole content, for replay. Writing
    /// starts at offset 0 again: the caller checkpoints what it replays before writing.
    pub(crate) fn open(
        path: &Path,
        ring: u64,
        durability: Durability,
    ) -> io::Result<(Self, Grower, Vec<u8>)> {
        let mut file = open_for_writes(path, durability)?;
        let mut content = Vec::new();
        file.read_to_end(&mut content)?;
        let filled = Arc::new(Mutex::new(content.len() as u64));
        let grower = Grower {
            file: OpenOptions::new().write(true).open(path)?,
            filled: Arc::clone(&filled),
            ring,
        };
        let file = Arc::new(LogFile {
            file,
            filled,
            #[cfg(test)]
            hook: Mutex::new(None),
        });
        Ok((
            Self {
                file,
                durability,
                head: 0,
                ring,
                live: VecDeque::new(),
                grow_asked: 0,
            },
            grower,
            content,
        ))
    }

    /// Where a record of `len` bytes can go without overwriting a live record, if anywhere.
    fn place(&self, len: u64) -> Option<u64> {
        let Some(&(_, tail, _)) = self.live.front() else {
            return Some(if self.head + len <= self.ring {
                self.head
            } else {
                0
            });
        };
        if self.head > tail {
            // Not wrapped: the live records run from `tail` to `head`.
            if self.head + len <= self.ring {
                Some(self.head)
            } else if len <= tail {
                Some(0)
            } else if self.head + len <= self.ring.saturating_mul(4) {
                // Past the ring rather than wait for the checkpoint (a burst, or a large group).
                Some(self.head)
            } else {
                None
            }
        } else {
            (self.head + len <= tail).then_some(self.head)
        }
    }

    /// Writes record `seq` (see [`frame`]) and returns where it ends, or `None` when the live
    /// records leave no room for it until the next checkpoint. In [`Durability::Disk`] mode it
    /// is durable when this returns.
    pub(crate) fn append(&mut self, seq: u64, record: &[u8]) -> io::Result<Option<u64>> {
        let Some(at) = self.reserve(seq, record.len() as u64) else {
            return Ok(None);
        };
        self.file.write(seq, record, at)?;
        Ok(Some(at + record.len() as u64))
    }

    /// Reserves the place of record `seq` of `len` bytes, which the caller then writes there
    /// with [`LogFile::write`]: where it starts, or `None` when the live records leave no room
    /// for it until the next checkpoint. Records are reserved in sequence order; until a
    /// checkpoint covers it, nothing later is placed over it, written or not.
    pub(crate) fn reserve(&mut self, seq: u64, len: u64) -> Option<u64> {
        let at = self.place(len)?;
        self.head = at + len;
        self.live.push_back((seq, at, at + len));
        Some(at)
    }

    /// The file, for writes outside the lock.
    pub(crate) fn file(&self) -> &Arc<LogFile> {
        &self.file
    }

    /// How far the file should be zero-filled, when the writer is close to its end and has not
    /// asked for it yet.
    pub(crate) fn wants_growth(&mut self) -> Option<u64> {
        let want = (self.head + GROW_AHEAD).min(self.ring);
        if want <= self.grow_asked || want <= *lock(&self.file.filled) {
            return None;
        }
        self.grow_asked = want + GROW_STEP;
        Some(self.grow_asked)
    }

    /// Forgets the records up to `seq`, now in redb durably: their space can be reused.
    pub(crate) fn checkpointed(&mut self, seq: u64) {
        while self.live.front().is_some_and(|r| r.0 <= seq) {
            self.live.pop_front();
        }
    }

    /// Makes the records written so far durable (in [`Durability::Disk`] mode they are).
    pub(crate) fn sync(&self) -> io::Result<()> {
        match self.durability {
            Durability::Disk => Ok(()),
            Durability::Process => self.file.file.sync_data(),
        }
    }
}

impl LogFile {
    /// Writes the sealed record `seq` at `at`, its reserved place ([`Wal::reserve`]). In
    /// [`Durability::Disk`] mode it is on the device when this returns. Writes of different
    /// records may run at once: they never overlap.
    pub(crate) fn write(&self, seq: u64, record: &[u8], at: u64) -> io::Result<()> {
        #[cfg(test)]
        {
            // Not called under the lock: a hook may block one write while others run.
            let hook = lock(&self.hook).clone();
            if let Some(hook) = hook {
                hook(seq)?;
            }
        }
        #[cfg(not(test))]
        let _ = seq;
        let end = at + record.len() as u64;
        if end <= *lock(&self.filled) {
            return self.file.write_all_at(record, at);
        }
        // Past the zero-filled part: extend the file ourselves, the grower held off. (Another
        // record's write may extend it past a place reserved before it and not written yet:
        // that space reads as zeros until then, like the grower's.)
        let mut filled = lock(&self.filled);
        self.file.write_all_at(record, at)?;
        *filled = (*filled).max(end);
        Ok(())
    }
}

impl Grower {
    /// Zero-fills the file up to `want` (at most the ring's size) and syncs it, so that later
    /// records overwrite blocks the file has.
    pub(crate) fn grow(&self, want: u64) -> io::Result<()> {
        let mut filled = lock(&self.filled);
        let target = want.min(self.ring).next_multiple_of(4096);
        if target > *filled {
            let zeros = vec![0u8; usize::try_from(target - *filled).unwrap_or(0)];
            self.file.write_all_at(&zeros, *filled)?;
            self.file.sync_data()?;
            *filled = target;
        }
        Ok(())
    }

    /// Makes every record written to the file durable (the background sync of
    /// [`Durability::Process`] mode).
    pub(crate) fn sync(&self) -> io::Result<()> {
        self.file.sync_data()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tempdir::TempDir;

    fn payload(ops: &[Op<'_>]) -> Vec<u8> {
        let mut out = Vec::new();
        for &op in ops {
            encode(&mut out, op);
        }
        out
    }

    #[test]
    fn ops_round_trip() {
        let ops = [
            Op::Put(b"t\0a", b"1"),
            Op::Delete(b"t\0b"),
            Op::Clear(b"t\0", b"t\x01"),
            Op::Put(b"", b""),
        ];
        assert_eq!(decode(&payload(&ops)).unwrap(), ops);
        assert_eq!(decode(&[]).unwrap(), []);
        assert!(decode(&[9]).is_none());
        assert!(decode(&[PUT, 5, 0, 0, 0, b'a']).is_none());
    }

    fn log_of(seqs: &[u64]) -> Vec<u8> {
        seqs.iter()
            .flat_map(|&s| frame(s, &payload(&[Op::Put(b"k", &s.to_le_bytes())])))
            .collect()
    }

    #[test]
    fn records_run_until_a_torn_tail() {
        let log = log_of(&[5, 6, 7]);
        assert_eq!(records(&log).len(), 3);
        let ends: Vec<usize> = (1..=3).map(|n| log_of(&[5, 6, 7][..n]).len()).collect();
        for cut in 0..=log.len() {
            let whole = ends.iter().filter(|&&e| e <= cut).count();
            assert_eq!(records(&log[..cut]).len(), whole, "cut at {cut}");
        }
        let mut zeros = log.clone();
        zeros.extend_from_slice(&[0; 100]);
        assert_eq!(records(&zeros).len(), 3);
    }

    #[test]
    fn a_checksum_mismatch_ends_the_records() {
        let mut log = log_of(&[1, 2, 3]);
        let second = log_of(&[1]).len();
        for at in [second + 4, second + 9, second + 17, second + HEADER + 3] {
            let mut bad = log.clone();
            bad[at] ^= 0x40;
            assert_eq!(records(&bad).len(), 1, "flipped byte {at}");
        }
        let last = log.len() - 1;
        log[last] ^= 1;
        assert_eq!(records(&log).len(), 2);
    }

    #[test]
    fn a_stale_record_of_an_earlier_round_ends_the_records() {
        // A new round wrote 11 and 12 over the start of a round that had written 1..=4; records
        // 3 and 4 of the old round follow at a record boundary.
        let mut log = log_of(&[11, 12]);
        log.extend_from_slice(&log_of(&[1, 2, 3, 4])[log.len()..]);
        let got: Vec<u64> = records(&log).iter().map(|r| r.0).collect();
        assert_eq!(got, [11, 12]);
    }

    #[test]
    fn the_ring_grows_ahead_wraps_and_never_overwrites_live_records() {
        let d = TempDir::new("wal-test").unwrap();
        let path = d.path().join("wal.log");
        let rec = |seq: u64| frame(seq, &payload(&[Op::Put(b"key", b"value")]));
        let len = rec(1).len() as u64;
        let ring = 4 * len + 10;
        let (mut wal, grower, content) = Wal::open(&path, ring, Durability::Disk).unwrap();
        assert!(content.is_empty());
        let mut ends = Vec::new();
        for seq in 1..=4 {
            ends.push(wal.append(seq, &rec(seq)).unwrap().unwrap());
        }
        assert_eq!(ends, [len, 2 * len, 3 * len, 4 * len]);
        // Record 5 would end past the ring and record 1 is live: past the ring it goes.
        assert_eq!(wal.append(5, &rec(5)).unwrap(), Some(5 * len));
        // Up to 4 checkpointed: the next record wraps to the start.
        wal.checkpointed(4);
        assert_eq!(wal.append(6, &rec(6)).unwrap(), Some(len));
        // Record 5 (at 4 * len) is live: 7, 8, 9 fit before it, 10 does not.
        for seq in 7..=9 {
            assert!(wal.append(seq, &rec(seq)).unwrap().is_some());
        }
        assert_eq!(wal.append(10, &rec(10)).unwrap(), None);
        let log = std::fs::read(&path).unwrap();
        let seqs = |r: Vec<(u64, &[u8])>| r.iter().map(|r| r.0).collect::<Vec<_>>();
        assert_eq!(seqs(replay(&log, 4, 4 * len).unwrap()), [5, 6, 7, 8, 9]);
        assert_eq!(seqs(replay(&log, 8, 3 * len).unwrap()), [9]);
        assert_eq!(seqs(replay(&log, 9, 4 * len).unwrap()), Vec::<u64>::new());
        assert_eq!(replay(&log, 2, 2 * len), Err(8));

        // Growth: zero-filled ahead, capped at the ring.
        assert_eq!(wal.wants_growth(), None);
        let (mut big, grower2, _) =
            Wal::open(&d.path().join("big.log"), 64 << 20, Durability::Process).unwrap();
        let want = big.wants_growth().unwrap();
        assert!(want > GROW_AHEAD, "{want}");
        assert_eq!(big.wants_growth(), None);
        grower2.grow(want).unwrap();
        assert_eq!(
            std::fs::metadata(d.path().join("big.log")).unwrap().len(),
            want
        );
        assert_eq!(big.append(1, &rec(1)).unwrap(), Some(len));
        big.sync().unwrap();
        grower.grow(1 << 20).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 4096);
    }

    #[test]
    fn replay_follows_a_wrap_and_ignores_older_laps() {
        let rec = |seq: u64| frame(seq, &payload(&[Op::Put(b"k", &seq.to_le_bytes())]));
        let len = rec(1).len();
        // Lap one wrote 1..=4; lap two wrote 5 and 6 over the start; 3 was the checkpoint.
        let mut log = [rec(5), rec(6), rec(3), rec(4)].concat();
        assert_eq!(replay(&log, 3, 3 * len as u64).unwrap().len(), 3);
        assert_eq!(
            replay(&log, 3, 3 * len as u64)
                .unwrap()
                .iter()
                .map(|r| r.0)
                .collect::<Vec<_>>(),
            [4, 5, 6]
        );
        // A torn 6 ends the replay after 5.
        log[2 * len - 1] ^= 1;
        let got: Vec<u64> = replay(&log, 3, 3 * len as u64)
            .unwrap()
            .iter()
            .map(|r| r.0)
            .collect();
        assert_eq!(got, [4, 5]);
        // Nothing after the checkpoint, only older records: nothing to replay.
        assert!(replay(&log, 9, 0).unwrap().is_empty());
        assert!(replay(&[0; 64], 9, 20).unwrap().is_empty());
        // 4 lost (never synced) but 5 reached offset 0: not a refusal, nothing to replay.
        assert!(replay(&log, 3, 2 * len as u64).unwrap().is_empty());
        // 5 where 4 should start: 4 torn, 5 written at the same time (or not synced before it).
        assert!(replay(&log, 3, 0).unwrap().is_empty());
        // Further ahead than the writes in flight: records are missing.
        assert_eq!(replay(&log, 0, 0), Err(5));
    }
}
