//! The durable store's writer threads in [`Durability::Disk`](crate::Durability::Disk) mode:
//! group commit to the write-ahead log, several groups in flight, and nothing else.
//!
//! A writer takes every queued request, logs the group as one record (one `O_DSYNC` write, see
//! `log`) and, once it and every earlier group are on the device, the group is acknowledged.
//! While one writer waits for its write, another takes what was queued since and writes it at
//! the same time (the device completes concurrent flushes in parallel); once the log's window
//! of groups is in flight, new batches queue up and share the next write. Taking the queue and
//! reserving the group's place in the log happen under the queue's lock, so groups are logged
//! in queue order. The applier thread takes the logged records from the log itself.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use crate::durable::Request;
use crate::keys;
use crate::log::{Log, lock};
use crate::wal::{Op, Record};

/// At most this many queued requests share one record, bounding its size and the delay of the
/// first request in it.
const MAX_GROUP: usize = 4096;

/// ...and a group stops growing once its keys and values reach this size, bounding its log
/// record.
const MAX_GROUP_BYTES: usize = 16 << 20;

/// One writer thread; returns once the queue is closed and empty.
/// A group smaller than `pipeline_min` requests waits for the write in flight, if any, and
/// grows meanwhile (see `Tuning::pipeline_min`).
pub(crate) fn run(log: &Arc<Log>, queue: &Mutex<mpsc::Receiver<Request>>, pipeline_min: usize) {
    loop {
        let reserved = {
            let queue = lock(queue);
            let Ok(first) = queue.recv() else {
                return;
            };
            let mut bytes = first.bytes();
            let mut group = vec![first];
            loop {
                while group.len() < MAX_GROUP && bytes < MAX_GROUP_BYTES {
                    match queue.try_recv() {
                        Ok(next) => {
                            bytes += next.bytes();
                            group.push(next);
                        }
                        Err(_) => break,
                    }
                }
                if group.len() >= pipeline_min || !log.wait_if_writing() {
                    break;
                }
            }
            let record = record_of(&group, bytes);
            log.reserve(record, group)
        };
        if let Some(group) = reserved {
            let result = log.write(&group);
            log.complete(group, result);
        }
    }
}

/// The group's writes as one record, in queue order. Flushes add nothing: everything
/// acknowledged before one is in the log already.
fn record_of(group: &[Request], bytes: usize) -> Record {
    let ops: usize = group
        .iter()
        .map(|r| match r {
            Request::Write(batch, _) => batch.ops.len(),
            _ => 1,
        })
        .sum();
    let mut record = Record::new(bytes + OP_OVERHEAD * ops);
    for request in group {
        match request {
            Request::Write(batch, _) => encode_batch(&mut record, &batch.ops),
            Request::Clear(ns, prefix, _) => push_clear(&mut record, ns, prefix),
            Request::Flush(_) => {}
        }
    }
    record
}

type Ops = [(String, Vec<u8>, Option<Vec<u8>>)];

/// The size of a batch's keys and values.
pub(crate) fn batch_bytes(ops: &Ops) -> usize {
    ops.iter()
        .map(|(ns, k, v)| ns.len() + k.len() + v.as_ref().map_or(0, Vec::len))
        .sum()
}

/// A batch as a record of its own ([`Durability::Process`](crate::Durability::Process) mode
/// logs each batch in the task that submits it).
pub(crate) fn record_of_batch(ops: &Ops) -> Record {
    let mut record = Record::new(batch_bytes(ops) + OP_OVERHEAD * ops.len());
    encode_batch(&mut record, ops);
    record
}

/// A clear of `prefix` in `ns` as a record of its own (see [`record_of_batch`]).
pub(crate) fn record_of_clear(ns: &str, prefix: &[u8]) -> Record {
    let mut record = Record::new(2 * (ns.len() + prefix.len() + 2) + OP_OVERHEAD);
    push_clear(&mut record, ns, prefix);
    record
}

fn push_clear(record: &mut Record, ns: &str, prefix: &[u8]) {
    let range = keys::prefix_range(ns, prefix);
    record.push(Op::Clear(&range.start, &range.end));
}

/// The bytes an op's encoding adds to its keys and values: a tag, two lengths, a separator.
const OP_OVERHEAD: usize = 10;

fn encode_batch(record: &mut Record, ops: &Ops) {
    for (ns, key, value) in ops {
        record.write(ns, key, value.as_deref());
    }
}
