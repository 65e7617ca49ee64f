//! Recovery of the durable store: what `open` makes of redb's last durable state and the log.

use std::collections::BTreeMap;
use std::fs;

use super::*;
use crate::tempdir::TempDir;

fn block<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}

fn put(s: &Durable, k: &str, v: &str) {
    let mut b = Batch::new();
    b.put("t", k, v);
    block(s.submit(b)).unwrap();
}

fn state(s: &Durable) -> BTreeMap<String, String> {
    s.load("t", b"")
        .unwrap()
        .into_iter()
        .map(|(k, v)| (String::from_utf8(k).unwrap(), String::from_utf8(v).unwrap()))
        .collect()
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|&(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn key(k: &str) -> Vec<u8> {
    keys::encode("t", k.as_bytes())
}

/// A log record of `ops` (keys in namespace `t`): `(op, key, value)`, op `p`ut, `d`elete or
/// `c`lear (a prefix).
fn record(seq: u64, ops: &[(char, &str, &str)]) -> Vec<u8> {
    let mut payload = Vec::new();
    for &(op, k, v) in ops {
        let stored = key(k);
        let range = keys::prefix_range("t", k.as_bytes());
        wal::encode(
            &mut payload,
            match op {
                'p' => Op::Put(&stored, v.as_bytes()),
                'd' => Op::Delete(&stored),
                _ => Op::Clear(&range.start, &range.end),
            },
        );
    }
    wal::frame(seq, &payload)
}

/// A data directory as a crash could leave it: redb durably holding `entries` and `checkpoint`,
/// and `log` in the write-ahead log.
fn crashed_dir(dir: &Path, entries: &[(&str, &str)], checkpoint: u64, log: &[u8]) {
    datadir::prepare(dir).unwrap();
    let db = Database::create(dir.join(DB_FILE)).unwrap();
    let txn = db.begin_write().unwrap();
    {
        let mut t = txn.open_table(ENTRIES).unwrap();
        for (k, v) in entries {
            t.insert(key(k).as_slice(), v.as_bytes()).unwrap();
        }
        let mut w = txn.open_table(WAL_STATE).unwrap();
        w.insert(CHECKPOINT, checkpoint).unwrap();
    }
    txn.commit().unwrap();
    drop(db);
    fs::write(dir.join(WAL_FILE), log).unwrap();
}

/// The files as they are now, which is what `kill -9` leaves (the page cache outlives the
/// process): copied while the store is open and idle.
fn snapshot(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for f in ["FORMAT", DB_FILE, WAL_FILE] {
        fs::copy(from.join(f), to.join(f)).unwrap();
    }
}

#[test]
fn a_torn_tail_ends_the_replay_and_stays_gone() {
    let d = TempDir::new("recovery-test").unwrap();
    let third = record(3, &[('p', "c", "3")]);
    let mut log = [record(1, &[('p', "a", "1")]), record(2, &[('p', "b", "2")])].concat();
    log.extend_from_slice(&third[..third.len() / 2]);
    crashed_dir(d.path(), &[], 0, &log);
    let s = Durable::open(d.path()).unwrap();
    assert_eq!(state(&s), map(&[("a", "1"), ("b", "2")]));
    put(&s, "d", "4");
    s.close();
    let s = Durable::open(d.path()).unwrap();
    assert_eq!(state(&s), map(&[("a", "1"), ("b", "2"), ("d", "4")]));
}

#[test]
fn a_checksum_mismatch_ends_the_replay() {
    let d = TempDir::new("recovery-test").unwrap();
    let mut second = record(2, &[('p', "b", "2")]);
    let last = second.len() - 1;
    second[last] ^= 1;
    let log = [
        record(1, &[('p', "a", "1")]),
        second,
        record(3, &[('p', "c", "3")]),
    ]
    .concat();
    crashed_dir(d.path(), &[], 0, &log);
    let s = Durable::open(d.path()).unwrap();
    assert_eq!(state(&s), map(&[("a", "1")]));
}

#[test]
fn replay_is_idempotent_whatever_redb_already_holds() {
    let log = [
        record(1, &[('p', "a", "1"), ('p', "b", "1"), ('p', "x/1", "1")]),
        record(2, &[('d', "b", ""), ('p', "a", "2"), ('p', "x/2", "2")]),
        record(3, &[('c', "x/", ""), ('p', "b", "3")]),
    ]
    .concat();
    let want = map(&[("a", "2"), ("b", "3")]);
    // redb's durable state may be anywhere from before the first record to after the last
    // one (non-durable commits reach the file in any order before a crash).
    let holds: [&[(&str, &str)]; 4] = [
        &[],
        &[("a", "1"), ("b", "1"), ("x/1", "1")],
        &[("a", "2"), ("x/1", "1"), ("x/2", "2")],
        &[("a", "2"), ("b", "3")],
    ];
    for held in holds {
        let d = TempDir::new("recovery-test").unwrap();
        crashed_dir(d.path(), held, 0, &log);
        let s = Durable::open(d.path()).unwrap();
        assert_eq!(state(&s), want, "redb held {held:?}");
        drop(s);
        // Opened again: the replay was checkpointed, the log is not applied twice.
        let s = Durable::open(d.path()).unwrap();
        assert_eq!(state(&s), want, "reopened, redb held {held:?}");
    }
}

#[test]
fn records_up_to_the_checkpoint_are_not_replayed() {
    let d = TempDir::new("recovery-test").unwrap();
    let log = [
        record(1, &[('p', "a", "1")]),
        record(2, &[('p', "b", "2")]),
        record(3, &[('p', "c", "3")]),
    ]
    .concat();
    crashed_dir(d.path(), &[("a", "from redb")], 2, &log);
    let s = Durable::open(d.path()).unwrap();
    assert_eq!(state(&s), map(&[("a", "from redb"), ("c", "3")]));
}

#[test]
fn a_log_of_an_earlier_round_only_is_not_replayed() {
    // Checkpointed at 3, then killed before the next group: the log still holds 1..=3.
    let d = TempDir::new("recovery-test").unwrap();
    let log = [record(1, &[('p', "a", "1")]), record(2, &[('d', "a", "")])].concat();
    crashed_dir(d.path(), &[("a", "3")], 3, &log);
    let s = Durable::open(d.path()).unwrap();
    assert_eq!(state(&s), map(&[("a", "3")]));
    put(&s, "b", "4");
    drop(s);
    let s = Durable::open(d.path()).unwrap();
    assert_eq!(state(&s), map(&[("a", "3"), ("b", "4")]));
}

#[test]
fn a_log_ahead_of_the_checkpoint_is_refused() {
    let d = TempDir::new("recovery-test").unwrap();
    crashed_dir(d.path(), &[], 1, &record(5, &[('p', "a", "1")]));
    let err = Durable::open(d.path()).unwrap_err().to_string();
    assert!(err.contains("records are missing"), "{err}");
}

#[test]
fn acknowledged_writes_survive_a_crash_between_and_after_checkpoints() {
    crash_between_and_after_checkpoints(Durability::Disk);
}

#[test]
fn process_mode_writes_survive_a_crash_of_the_process() {
    crash_between_and_after_checkpoints(Durability::Process);
}

fn crash_between_and_after_checkpoints(durability: Durability) {
    let d = TempDir::new("recovery-test").unwrap();
    let live = d.path().join("live");
    // A tiny ring: a checkpoint every few groups, wraps, groups waiting for room, stale
    // records of earlier laps behind the newest one in the log.
    let tuning = Tuning {
        log_bytes: 700,
        checkpoint_bytes: 250,
        idle: Duration::from_secs(3600),
        every: Duration::from_secs(3600),
        apply_bytes: 100,
        sync_every: PROCESS_SYNC_EVERY,
        writers: 3,
        pipeline_min: 4,
    };
    let s = Durable::open_tuned(&live, tuning, durability).unwrap();
    let mut want = BTreeMap::new();
    for i in 0..120u32 {
        let k = format!("k{}", i % 37);
        let v = format!("v{i}");
        put(&s, &k, &v);
        want.insert(k, v);
        if i % 29 == 0 {
            let mut b = Batch::new();
            b.delete("t", format!("k{}", (i + 5) % 37));
            want.remove(&format!("k{}", (i + 5) % 37));
            block(s.submit(b)).unwrap();
        }
        if i == 60 {
            block(s.clear("t", b"k1")).unwrap();
            want.retain(|k, _| !k.starts_with("k1"));
        }
        if i % 17 == 0 {
            assert_eq!(state(&s), want, "live, after write {i}");
        }
        if i % 13 == 0 {
            let crashed = d.path().join(format!("crash-{i}"));
            // A copy is not an instant like `kill -9`: let the applier finish what it is
            // doing (the log itself already holds every acknowledged write).
            s.apply_logged().unwrap();
            snapshot(&live, &crashed);
            let r = Durable::open(&crashed).unwrap();
            assert_eq!(state(&r), want, "after write {i}");
        }
    }
    assert!(s.groups_committed() > 120);
    drop(s);
    let s = Durable::open(&live).unwrap();
    assert_eq!(state(&s), want);
}

#[test]
fn a_ring_log_is_replayed_from_the_checkpoint_across_a_wrap_and_reopens() {
    let d = TempDir::new("recovery-test").unwrap();
    let (r1, r2, r3) = (
        record(7, &[('p', "a", "7")]),
        record(8, &[('p', "b", "8")]),
        record(9, &[('d', "a", "")]),
    );
    // Lap two: 7 and 8 near the end of the ring, 9 wrapped to offset 0; redb holds up to 7.
    let log = [r3.clone(), r1.clone(), r2].concat();
    datadir::prepare(d.path()).unwrap();
    {
        let db = Database::create(d.path().join(DB_FILE)).unwrap();
        let txn = db.begin_write().unwrap();
        {
            txn.open_table(ENTRIES).unwrap();
            let mut w = txn.open_table(WAL_STATE).unwrap();
            w.insert(CHECKPOINT, 7).unwrap();
            w.insert(REPLAY_FROM, (r3.len() + r1.len()) as u64).unwrap();
        }
        txn.commit().unwrap();
    }
    fs::write(d.path().join(WAL_FILE), &log).unwrap();
    let s = Durable::open(d.path()).unwrap();
    // 8 and 9 are replayed, 7 is not (redb holds it; here, nothing).
    assert_eq!(state(&s), map(&[("b", "8")]));
    put(&s, "c", "new");
    drop(s);
    let s = Durable::open(d.path()).unwrap();
    assert_eq!(state(&s), map(&[("b", "8"), ("c", "new")]));
    drop(s);
    // Checkpoint 1, and record 7 is where record 2 should start: records are missing.
    let d2 = TempDir::new("recovery-test").unwrap();
    datadir::prepare(d2.path()).unwrap();
    {
        let db = Database::create(d2.path().join(DB_FILE)).unwrap();
        let txn = db.begin_write().unwrap();
        {
            let mut w = txn.open_table(WAL_STATE).unwrap();
            w.insert(CHECKPOINT, 1).unwrap();
            w.insert(REPLAY_FROM, 0).unwrap();
        }
        txn.commit().unwrap();
    }
    fs::write(d2.path().join(WAL_FILE), &r1).unwrap();
    let err = Durable::open(d2.path()).unwrap_err().to_string();
    assert!(err.contains("records are missing"), "{err}");
}

#[test]
fn a_full_ring_waits_for_a_checkpoint_and_loses_nothing() {
    full_ring_waits_for_a_checkpoint(Durability::Disk);
}

#[test]
fn a_full_ring_waits_for_a_checkpoint_in_process_mode_too() {
    full_ring_waits_for_a_checkpoint(Durability::Process);
}

fn full_ring_waits_for_a_checkpoint(durability: Durability) {
    let d = TempDir::new("recovery-test").unwrap();
    // Checkpoints only when the writer runs out of room.
    let tuning = Tuning {
        log_bytes: 300,
        checkpoint_bytes: u64::MAX,
        idle: Duration::from_secs(3600),
        every: Duration::from_secs(3600),
        apply_bytes: usize::MAX,
        sync_every: PROCESS_SYNC_EVERY,
        writers: 3,
        pipeline_min: 4,
    };
    let s = Durable::open_tuned(d.path(), tuning, durability).unwrap();
    let mut want = BTreeMap::new();
    for i in 0..60u32 {
        put(&s, &format!("k{i:02}"), &"v".repeat(i as usize));
        want.insert(format!("k{i:02}"), "v".repeat(i as usize));
    }
    assert_eq!(state(&s), want);
    // Larger than the ring: the file grows past it.
    put(&s, "big", &"x".repeat(1000));
    want.insert("big".into(), "x".repeat(1000));
    let crashed = d.path().join("crash");
    s.apply_logged().unwrap();
    snapshot(d.path(), &crashed);
    assert_eq!(state(&Durable::open(&crashed).unwrap()), want);
    drop(s);
    assert_eq!(state(&Durable::open(d.path()).unwrap()), want);
}

/// Nothing applied or checkpointed on its own: redb changes only when a test reads.
const LAZY: Tuning = Tuning {
    log_bytes: 1 << 20,
    checkpoint_bytes: u64::MAX,
    idle: Duration::from_secs(3600),
    every: Duration::from_secs(3600),
    apply_bytes: usize::MAX,
    sync_every: Duration::from_secs(3600),
    writers: 3,
    // A group of one is written behind one in flight (the tests hold a write).
    pipeline_min: 1,
};

#[test]
fn process_mode_logs_in_the_submitting_task_before_submit_returns() {
    let d = TempDir::new("recovery-test").unwrap();
    let live = d.path().join("live");
    let s = Durable::open_tuned(&live, LAZY, Durability::Process).unwrap();
    let mut b = Batch::new();
    b.put("t", "a", "1");
    b.put("t", "b", "2");
    let mut commit = std::pin::pin!(s.submit(b));
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    assert!(matches!(
        commit.as_mut().poll(&mut cx),
        std::task::Poll::Ready(Ok(()))
    ));
    let mut b = Batch::new();
    b.delete("t", "a");
    assert!(std::pin::pin!(s.submit(b)).poll(&mut cx).is_ready());
    assert!(std::pin::pin!(s.clear("t", b"x")).poll(&mut cx).is_ready());
    assert_eq!(s.groups_committed(), 3);
    // Not applied to redb, not closed: what `kill -9` leaves now is the log.
    let crashed = d.path().join("crash");
    snapshot(&live, &crashed);
    assert_eq!(state(&Durable::open(&crashed).unwrap()), map(&[("b", "2")]));
    // Reads see every acknowledged write.
    assert_eq!(state(&s), map(&[("b", "2")]));
    drop(s);
    assert_eq!(state(&Durable::open(&live).unwrap()), map(&[("b", "2")]));
}

#[test]
fn process_mode_syncs_the_log_in_the_background() {
    let d = TempDir::new("recovery-test").unwrap();
    let tuning = Tuning {
        sync_every: Duration::from_millis(20),
        ..LAZY
    };
    let s = Durable::open_tuned(d.path(), tuning, Durability::Process).unwrap();
    put(&s, "a", "1");
    // The applier was woken by the first write, then polls: no read or flush asks for it.
    let start = std::time::Instant::now();
    while s.log.syncs() == 0 {
        assert!(start.elapsed() < Duration::from_secs(10), "never synced");
        std::thread::sleep(Duration::from_millis(5));
    }
    // A quiet store stops polling and needs no more syncs; the next write wakes it again.
    std::thread::sleep(Duration::from_millis(250));
    let quiet = s.log.syncs();
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(s.log.syncs(), quiet);
    put(&s, "b", "2");
    while s.log.syncs() == quiet {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "never synced again"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn a_failed_log_write_stops_the_store() {
    for durability in [Durability::Disk, Durability::Process] {
        let d = TempDir::new("recovery-test").unwrap();
        let s = Durable::open_tuned(d.path(), LAZY, durability).unwrap();
        put(&s, "a", "1");
        s.log.break_writes(true);
        let mut b = Batch::new();
        b.put("t", "b", "2");
        let err = block(s.submit(b)).unwrap_err().to_string();
        assert!(err.contains("no space left"), "{durability:?}: {err}");
        // Nothing more is accepted, even once the disk would take it.
        s.log.break_writes(false);
        let mut b = Batch::new();
        b.put("t", "c", "3");
        let again = block(s.submit(b)).unwrap_err().to_string();
        assert_eq!(again, err, "{durability:?}");
        assert!(block(s.clear("t", b"")).is_err());
        assert!(block(s.flush()).is_err());
        assert_eq!(state(&s), map(&[("a", "1")]), "{durability:?}");
        drop(s);
        let s = Durable::open(d.path()).unwrap();
        assert_eq!(state(&s), map(&[("a", "1")]), "{durability:?}");
    }
}

/// A hook holding back the first log write it sees (telling `held`) until `release` is sent,
/// then letting it through (`fail`: failing it); every other write goes through at once.
fn hold_first_write(fail: bool) -> (crate::wal::WriteHook, mpsc::Receiver<()>, mpsc::Sender<()>) {
    let (release, gate) = mpsc::channel::<()>();
    let (tell, held) = mpsc::channel::<()>();
    let (gate, tell) = (Mutex::new(gate), Mutex::new(tell));
    let first = std::sync::atomic::AtomicU64::new(0);
    let hook = move |seq: u64| {
        use std::sync::atomic::Ordering::SeqCst;
        let held = first.compare_exchange(0, seq, SeqCst, SeqCst).is_ok();
        if held {
            let _ = lock(&tell).send(());
            let _ = lock(&gate).recv();
            if fail {
                return Err(std::io::Error::other("no space left on device (a test)"));
            }
        }
        Ok(())
    };
    (Arc::new(hook), held, release)
}

fn submit_put(s: &Durable, k: &str, v: &str) -> Commit {
    let mut b = Batch::new();
    b.put("t", k, v);
    s.submit(b)
}

fn is_pending(commit: &mut std::pin::Pin<&mut Commit>) -> bool {
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    commit.as_mut().poll(&mut cx).is_pending()
}

/// Waits until a group was written behind the held one (the writers run on their own).
fn until_written_behind(s: &Durable) {
    let start = std::time::Instant::now();
    while s.log.done_waiting() == 0 {
        assert!(start.elapsed() < Duration::from_secs(10), "never written");
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn a_durable_record_after_one_in_flight_is_neither_acknowledged_nor_replayed() {
    let d = TempDir::new("recovery-test").unwrap();
    let live = d.path().join("live");
    let s = Durable::open_tuned(&live, LAZY, Durability::Disk).unwrap();
    put(&s, "a", "1");
    let (hook, in_hook, release) = hold_first_write(false);
    s.log.hook_writes(hook);
    // Group k is being written (held); group k + 1 is written while it is, and waits.
    let mut held = std::pin::pin!(submit_put(&s, "b", "held-value"));
    in_hook.recv().unwrap();
    let mut behind = std::pin::pin!(submit_put(&s, "c", "orphan-value"));
    until_written_behind(&s);
    assert!(is_pending(&mut held));
    assert!(
        is_pending(&mut behind),
        "acknowledged before an earlier group"
    );
    // A flush answers once everything before it is on the device.
    let mut flush = std::pin::pin!(s.flush());
    std::thread::sleep(Duration::from_millis(20));
    assert!(is_pending(&mut flush));

    // A crash now: record k + 1 is in the log, record k is not.
    let crashed = d.path().join("crash");
    snapshot(&live, &crashed);
    let log = fs::read(crashed.join(WAL_FILE)).unwrap();
    assert!(contains(&log, b"orphan-value"));
    assert!(!contains(&log, b"held-value"));
    let r = Durable::open_tuned(&crashed, LAZY, Durability::Disk).unwrap();
    assert_eq!(state(&r), map(&[("a", "1")]));
    // The orphan k + 1 stays in the log behind the new writes, and never continues their
    // chain: the sequence numbers of the new run are 2^32 further on.
    put(&r, "d", "4");
    put(&r, "e", "5");
    drop(r);
    let log = fs::read(crashed.join(WAL_FILE)).unwrap();
    assert!(contains(&log, b"orphan-value"));
    for _ in 0..2 {
        let r = Durable::open_tuned(&crashed, LAZY, Durability::Disk).unwrap();
        assert_eq!(state(&r), map(&[("a", "1"), ("d", "4"), ("e", "5")]));
    }

    // No crash: once k is written, both are acknowledged, then the flush.
    release.send(()).unwrap();
    block(held).unwrap();
    block(behind).unwrap();
    block(flush).unwrap();
    assert_eq!(
        state(&s),
        map(&[("a", "1"), ("b", "held-value"), ("c", "orphan-value")])
    );
    drop(s);
    let s = Durable::open(&live).unwrap();
    assert_eq!(
        state(&s),
        map(&[("a", "1"), ("b", "held-value"), ("c", "orphan-value")])
    );
}

#[test]
fn a_failed_write_fails_the_groups_written_after_it() {
    let d = TempDir::new("recovery-test").unwrap();
    let s = Durable::open_tuned(d.path(), LAZY, Durability::Disk).unwrap();
    put(&s, "a", "1");
    let (hook, in_hook, release) = hold_first_write(true);
    s.log.hook_writes(hook);
    let mut held = std::pin::pin!(submit_put(&s, "b", "2"));
    in_hook.recv().unwrap();
    let mut behind = std::pin::pin!(submit_put(&s, "c", "orphan-value"));
    until_written_behind(&s);
    assert!(is_pending(&mut held) && is_pending(&mut behind));
    release.send(()).unwrap();
    let err = block(held).unwrap_err().to_string();
    assert!(err.contains("no space left"), "{err}");
    // On the device, but after a record that is not: never acknowledged.
    assert_eq!(block(behind).unwrap_err().to_string(), err);
    assert_eq!(
        block(submit_put(&s, "d", "4")).unwrap_err().to_string(),
        err
    );
    assert!(block(s.flush()).is_err());
    assert_eq!(state(&s), map(&[("a", "1")]));
    drop(s);
    let log = fs::read(d.path().join(WAL_FILE)).unwrap();
    assert!(contains(&log, b"orphan-value"));
    let s = Durable::open(d.path()).unwrap();
    assert_eq!(state(&s), map(&[("a", "1")]));
    put(&s, "e", "5");
    drop(s);
    let s = Durable::open(d.path()).unwrap();
    assert_eq!(state(&s), map(&[("a", "1"), ("e", "5")]));
}

#[test]
fn a_torn_record_wrapped_to_the_start_with_the_next_one_where_it_began_still_opens() {
    // Record 5 wrapped to offset 0 and ended where 4 (the checkpoint) ended; 6 followed it
    // and reached the device, 5 did not (torn). Not "records are missing": 6 was in flight
    // with 5, never acknowledged.
    let d = TempDir::new("recovery-test").unwrap();
    let five = record(5, &[('p', "b", "5")]);
    let mut log = five.clone();
    let last = log.len() - 1;
    log[last] ^= 1;
    log.extend_from_slice(&record(6, &[('p', "c", "6")]));
    datadir::prepare(d.path()).unwrap();
    {
        let db = Database::create(d.path().join(DB_FILE)).unwrap();
        let txn = db.begin_write().unwrap();
        {
            let mut t = txn.open_table(ENTRIES).unwrap();
            t.insert(key("a").as_slice(), b"4".as_slice()).unwrap();
            let mut w = txn.open_table(WAL_STATE).unwrap();
            w.insert(CHECKPOINT, 4).unwrap();
            w.insert(REPLAY_FROM, five.len() as u64).unwrap();
        }
        txn.commit().unwrap();
    }
    fs::write(d.path().join(WAL_FILE), &log).unwrap();
    let s = Durable::open(d.path()).unwrap();
    assert_eq!(state(&s), map(&[("a", "4")]));
}

#[test]
fn a_small_group_waits_for_the_write_in_flight_and_grows() {
    let d = TempDir::new("recovery-test").unwrap();
    let tuning = Tuning {
        pipeline_min: 4,
        ..LAZY
    };
    let s = Durable::open_tuned(d.path(), tuning, Durability::Disk).unwrap();
    put(&s, "a", "1");
    let (hook, in_hook, release) = hold_first_write(false);
    s.log.hook_writes(hook);
    let held = submit_put(&s, "b", "2");
    in_hook.recv().unwrap();
    let groups = s.log.groups();
    // Three requests behind the held write: too few for a write of their own beside it.
    let behind: Vec<Commit> = ["c", "d", "e"]
        .iter()
        .map(|k| submit_put(&s, k, k))
        .collect();
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(
        s.log.groups(),
        groups,
        "a small group was written beside the held one"
    );
    release.send(()).unwrap();
    block(held).unwrap();
    for commit in behind {
        block(commit).unwrap();
    }
    // ...so they shared one write once it was done.
    assert_eq!(s.log.groups(), groups + 1);
    assert_eq!(
        state(&s),
        map(&[("a", "1"), ("b", "2"), ("c", "c"), ("d", "d"), ("e", "e")])
    );
}
