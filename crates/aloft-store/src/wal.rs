//! The write-ahead log of the durable store: `wal.log` in the data directory.
//!
//! Each group of batches the writer commits is one record: a header (magic, payload length,
//! sequence number, CRC-32C of all three and the payload) and the payload, a list of [`Op`]s on
//! stored keys. A group is durable once its record is written and one `fdatasync` returned, which
//! costs one small disk write when the record overwrites blocks the file already has: the file's
//! size and extents do not change, so the file system has no metadata to journal. The log is
//! therefore grown ahead of the writes in zero-filled steps and reused from offset 0 after each
//! checkpoint rather than truncated.
//!
//! Sequence numbers run on across reuses, so what lies past the newest record (a torn write,
//! zeros, a record of an earlier round) fails the checksum or the sequence check and ends the
//! replay there.

use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::path::Path;

use crc_fast::CrcAlgorithm;

const MAGIC: [u8; 4] = *b"AWL1";
const HEADER: usize = 20;

/// The log grows by at least this many zero bytes at a time, so that only one group in many
/// pays for a size change.
const GROW_STEP: u64 = 1 << 20;

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
pub(crate) fn frame(seq: u64, payload: &[u8]) -> Vec<u8> {
    let len = u32::try_from(payload.len()).expect("journal record over 4 GiB");
    let mut out = Vec::with_capacity(HEADER + payload.len());
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&seq.to_le_bytes());
    out.extend_from_slice(&crc(len, seq, payload).to_le_bytes());
    out.extend_from_slice(payload);
    out
}

/// The consecutive records at the start of `log`, from the first one on: `(seq, payload)`.
/// Stops at the first bytes that are not a whole, intact record following the previous one.
pub(crate) fn records(log: &[u8]) -> Vec<(u64, &[u8])> {
    let mut out: Vec<(u64, &[u8])> = Vec::new();
    let mut at = 0usize;
    while let Some(header) = log.get(at..at + HEADER) {
        if header[..4] != MAGIC {
            break;
        }
        let len = u32::from_le_bytes(header[4..8].try_into().unwrap_or_default());
        let seq = u64::from_le_bytes(header[8..16].try_into().unwrap_or_default());
        let sum = u32::from_le_bytes(header[16..20].try_into().unwrap_or_default());
        let Some(payload) = log.get(at + HEADER..at + HEADER + len as usize) else {
            break;
        };
        if crc(len, seq, payload) != sum {
            break;
        }
        if out.last().is_some_and(|&(prev, _)| seq != prev + 1) {
            break;
        }
        out.push((seq, payload));
        at += HEADER + len as usize;
    }
    out
}

/// The open log, written by the store's writer thread only.
pub(crate) struct Wal {
    file: File,
    /// Where the next record goes.
    offset: u64,
    /// The file's length: everything below it has been written (zeros or records).
    filled: u64,
}

impl Wal {
    /// Opens (creating) the log and returns it with its whole content, for replay. Writing
    /// starts at offset 0 again: the caller checkpoints what it replays before writing.
    pub(crate) fn open(path: &Path) -> io::Result<(Self, Vec<u8>)> {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        let mut content = Vec::new();
        file.read_to_end(&mut content)?;
        let filled = content.len() as u64;
        Ok((
            Self {
                file,
                offset: 0,
                filled,
            },
            content,
        ))
    }

    /// Bytes written since the last [`Self::rewind`].
    pub(crate) fn used(&self) -> u64 {
        self.offset
    }

    /// Writes a record (see [`frame`]) after the previous one. Not durable until [`Self::sync`].
    pub(crate) fn write(&mut self, record: &[u8]) -> io::Result<()> {
        let end = self.offset + record.len() as u64;
        if end > self.filled {
            // Zero-fill ahead so that the next records overwrite instead of extending the file.
            let target = end.max(self.filled + GROW_STEP).next_multiple_of(4096);
            let zeros = vec![0u8; usize::try_from(target - end).unwrap_or(0)];
            self.file.write_all_at(&zeros, end)?;
            self.filled = target;
        }
        self.file.write_all_at(record, self.offset)?;
        self.offset = end;
        Ok(())
    }

    /// Makes the records written so far durable.
    pub(crate) fn sync(&self) -> io::Result<()> {
        self.file.sync_data()
    }

    /// Starts the next round at offset 0, once everything logged is checkpointed.
    pub(crate) fn rewind(&mut self) {
        self.offset = 0;
    }
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
    fn the_file_is_zero_filled_ahead_and_reused_from_the_start() {
        let d = TempDir::new("wal-test").unwrap();
        let path = d.path().join("wal.log");
        let (mut wal, content) = Wal::open(&path).unwrap();
        assert!(content.is_empty());
        wal.write(&frame(1, b"")).unwrap();
        wal.write(&frame(2, &payload(&[Op::Delete(b"x")]))).unwrap();
        wal.sync().unwrap();
        let len = std::fs::metadata(&path).unwrap().len();
        assert!(len >= GROW_STEP, "{len}");
        wal.rewind();
        wal.write(&frame(3, b"")).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().len(), len);
        drop(wal);
        let (_, content) = Wal::open(&path).unwrap();
        let seqs: Vec<u64> = records(&content).iter().map(|r| r.0).collect();
        assert_eq!(seqs, [3]);
    }
}
