//! `kill -9` test: a child process writes batches (and blobs) from 16 concurrent submitters and
//! prints each one once it is acknowledged; the test kills it mid-stream, reopens the data
//! directory and checks that every acknowledged batch is there, whole.
//!
//! The child is this same test binary, re-run with `--ignored --exact crash_child`.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aloft_store::{Batch, BlobId, Blobs, Durability, Durable, Store, TempDir};

const DIR_VAR: &str = "ALOFT_CRASH_TEST_DIR";
/// `process` runs the child in [`Durability::Process`] mode, which must survive `kill -9` too.
const MODE_VAR: &str = "ALOFT_CRASH_TEST_MODE";
const SUBMITTERS: u32 = 16;
/// Kill once this many batches were acknowledged.
const KILL_AFTER: usize = 600;

struct Acked {
    task: u32,
    seq: u32,
    blob: Option<BlobId>,
}

fn parse_ack(line: &str) -> Option<Acked> {
    let mut it = line.strip_prefix("ACK ")?.split(' ');
    let task = it.next()?.parse().ok()?;
    let seq = it.next()?.parse().ok()?;
    let blob = match it.next()? {
        "-" => None,
        id => Some(BlobId(id.to_string())),
    };
    Some(Acked { task, seq, blob })
}

fn value(task: u32, seq: u32) -> Vec<u8> {
    format!("value of {task}/{seq} ").repeat(8).into_bytes()
}

#[test]
fn acknowledged_batches_survive_kill_9() {
    survive_kill_9("disk");
}

#[test]
fn acknowledged_batches_survive_kill_9_in_process_mode() {
    survive_kill_9("process");
}

fn survive_kill_9(mode: &str) {
    let dir = TempDir::new("crash-test").unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "crash_child", "--nocapture"])
        .env(DIR_VAR, dir.path())
        .env(MODE_VAR, mode)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut acked = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while acked.len() < KILL_AFTER && Instant::now() < deadline {
        let Some(Ok(line)) = lines.next() else { break };
        acked.extend(parse_ack(&line));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    // Acknowledgements still in the pipe count too; a torn last line does not parse.
    acked.extend(lines.map_while(Result::ok).filter_map(|l| parse_ack(&l)));
    assert!(
        acked.len() >= KILL_AFTER,
        "child acknowledged only {}",
        acked.len()
    );

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let store = Durable::open(dir.path()).unwrap();
    let blobs = Blobs::durable(dir.path()).unwrap().scope("crash").unwrap();
    let entries: std::collections::HashMap<Vec<u8>, Vec<u8>> =
        store.load("crash", b"").unwrap().into_iter().collect();
    let mut with_blob = 0;
    for a in &acked {
        let key = |part: &str| format!("{:02}/{:06}/{part}", a.task, a.seq).into_bytes();
        let want = value(a.task, a.seq);
        assert_eq!(
            entries.get(&key("a")),
            Some(&want),
            "lost {}/{}",
            a.task,
            a.seq
        );
        assert_eq!(
            entries.get(&key("b")),
            Some(&want),
            "lost {}/{}",
            a.task,
            a.seq
        );
        if let Some(id) = &a.blob {
            with_blob += 1;
            let stored = BlobId(String::from_utf8(entries[&key("blob")].clone()).unwrap());
            assert_eq!(&stored, id);
            assert_eq!(rt.block_on(blobs.read(id)).unwrap(), want, "blob {id}");
        }
    }
    assert!(with_blob > 0);
    // No torn batch: every batch that is there at all is there whole.
    for key in entries.keys() {
        if let Some(stem) = key.strip_suffix(b"/a") {
            assert!(entries.contains_key(&[stem, b"/b"].concat()));
        }
    }
    // Blobs the killed process finished but never committed are orphans; gc finds only those.
    let live: HashSet<BlobId> = entries
        .iter()
        .filter(|(k, _)| k.ends_with(b"/blob"))
        .map(|(_, v)| BlobId(String::from_utf8(v.clone()).unwrap()))
        .collect();
    blobs.gc(&live).unwrap();
    for id in &live {
        assert!(
            blobs.path(id).unwrap().exists(),
            "committed blob {id} missing"
        );
    }
    eprintln!(
        "crash test ({mode}): {} acknowledged batches ({} with blobs) all present after kill -9; {} entries",
        acked.len(),
        with_blob,
        entries.len()
    );
}

/// The writer half; does nothing unless started by the test above.
#[test]
#[ignore = "child process of acknowledged_batches_survive_kill_9"]
fn crash_child() {
    let Some(dir) = std::env::var_os(DIR_VAR) else {
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let durability = match std::env::var(MODE_VAR).as_deref() {
            Ok("process") => Durability::Process,
            _ => Durability::Disk,
        };
        let store: Arc<dyn Store> = Arc::new(Durable::open_with(&dir, durability).unwrap());
        let blobs = Arc::new(Blobs::durable(&dir).unwrap().scope("crash").unwrap());
        let tasks: Vec<_> = (0..SUBMITTERS)
            .map(|task| {
                let (store, blobs) = (Arc::clone(&store), Arc::clone(&blobs));
                tokio::spawn(async move {
                    for seq in 0.. {
                        let want = value(task, seq);
                        let key = |part: &str| format!("{task:02}/{seq:06}/{part}");
                        let mut batch = Batch::new();
                        batch.put("crash", key("a"), want.clone());
                        batch.put("crash", key("b"), want.clone());
                        let blob = if seq % 4 == 0 {
                            let id = blobs.put(&want).await.unwrap();
                            batch.put("crash", key("blob"), id.0.clone());
                            Some(id)
                        } else {
                            None
                        };
                        store.submit(batch).await.unwrap();
                        let blob = blob.map_or_else(|| "-".to_string(), |id| id.0);
                        let mut out = std::io::stdout().lock();
                        writeln!(out, "ACK {task} {seq} {blob}").unwrap();
                        out.flush().unwrap();
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
}
