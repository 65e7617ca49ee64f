//! Prints the durable store's commit latency (one submitter) and group-commit throughput
//! (16 concurrent submitters), and the durable blob write latency. Figures go to
//! `bench/README.md` ("storage").
//!
//! `cargo run --release -p aloft-store --example store_bench [DIR]` (DIR: where to put the
//! data directory; default the system temp dir, which must be a real disk to mean anything).

use std::sync::Arc;
use std::time::{Duration, Instant};

use aloft_store::{Batch, Blobs, Durable, Store, TempDir};

const VALUE: usize = 256;

fn batch(task: u32, seq: u32) -> Batch {
    let mut b = Batch::new();
    b.put(
        "bench",
        format!("000000000000/us-east-1/{task:02}/{seq:08}"),
        vec![b'v'; VALUE],
    );
    b
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    // Nearest-rank percentile: the index is small and non-negative by construction.
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let i = ((sorted.len() as f64 * p).ceil() as usize).saturating_sub(1);
    sorted[i.min(sorted.len() - 1)]
}

fn main() {
    let base = std::env::args().nth(1);
    let temp = TempDir::new("bench").unwrap();
    let dir = base.map_or_else(
        || temp.path().to_path_buf(),
        |b| std::path::PathBuf::from(b).join(format!("aloft-bench-{}", std::process::id())),
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = Arc::new(Durable::open(&dir).unwrap());

        let n = 2000u32;
        let mut lat = Vec::with_capacity(n as usize);
        let start = Instant::now();
        for seq in 0..n {
            let t = Instant::now();
            store.submit(batch(99, seq)).await.unwrap();
            lat.push(t.elapsed());
        }
        let total = start.elapsed();
        lat.sort();
        println!(
            "single submitter: {n} commits of one {VALUE}-byte put: p50 {:?}, p99 {:?}, {:.0} commits/s",
            percentile(&lat, 0.5),
            percentile(&lat, 0.99),
            f64::from(n) / total.as_secs_f64()
        );

        let submitters = 16u32;
        let each = 1000u32;
        let groups_before = store.groups_committed();
        let start = Instant::now();
        let tasks: Vec<_> = (0..submitters)
            .map(|task| {
                let store = Arc::clone(&store);
                tokio::spawn(async move {
                    let mut lat = Vec::with_capacity(each as usize);
                    for seq in 0..each {
                        let t = Instant::now();
                        store.submit(batch(task, seq)).await.unwrap();
                        lat.push(t.elapsed());
                    }
                    lat
                })
            })
            .collect();
        let mut lat = Vec::new();
        for t in tasks {
            lat.extend(t.await.unwrap());
        }
        let total = start.elapsed();
        let groups = store.groups_committed() - groups_before;
        lat.sort();
        println!(
            "{submitters} concurrent submitters: {} commits: {:.0} commits/s, p50 {:?}, p99 {:?}, \
             {groups} log syncs ({:.1} batches per sync)",
            submitters * each,
            f64::from(submitters * each) / total.as_secs_f64(),
            percentile(&lat, 0.5),
            percentile(&lat, 0.99),
            f64::from(submitters * each) / groups.max(1) as f64
        );

        let blobs = Blobs::durable(&dir).unwrap();
        let body = vec![b'b'; 64 << 10];
        let n = 300u32;
        let mut lat = Vec::with_capacity(n as usize);
        for _ in 0..n {
            let t = Instant::now();
            blobs.put(&body).await.unwrap();
            lat.push(t.elapsed());
        }
        lat.sort();
        println!(
            "durable blob put (64 KiB, fsync file + dir): p50 {:?}, p99 {:?}",
            percentile(&lat, 0.5),
            percentile(&lat, 0.99)
        );
    });
    if dir != temp.path() {
        let _ = std::fs::remove_dir_all(&dir);
    }
}
