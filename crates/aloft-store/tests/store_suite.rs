//! One behaviour suite for every journal backend that keeps data (`Memory`, `Durable`), plus
//! what is particular to `Ephemeral` and to reopening a durable directory.

use std::sync::Arc;

use aloft_store::{Batch, Durable, Ephemeral, Memory, Store, StoreError, TempDir};

/// A backend under test, with whatever must outlive it (the data directory).
struct Backend {
    store: Arc<dyn Store>,
    _dir: Option<TempDir>,
}

fn memory() -> Backend {
    Backend {
        store: Arc::new(Memory::new()),
        _dir: None,
    }
}

fn durable() -> Backend {
    let dir = TempDir::new("store-test").unwrap();
    Backend {
        store: Arc::new(Durable::open(dir.path()).unwrap()),
        _dir: Some(dir),
    }
}

fn kv(pairs: &[(&[u8], &[u8])]) -> Vec<(Vec<u8>, Vec<u8>)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_vec(), v.to_vec()))
        .collect()
}

async fn put(store: &dyn Store, ns: &str, key: &[u8], value: &[u8]) {
    let mut b = Batch::new();
    b.put(ns, key, value);
    store.submit(b).await.unwrap();
}

async fn a_fresh_store_is_empty(s: &dyn Store) {
    assert!(s.load("t", b"").unwrap().is_empty());
    assert!(s.load("t", b"x").unwrap().is_empty());
}

async fn a_batch_applies_in_order(s: &dyn Store) {
    let mut b = Batch::new();
    b.put("t", "k", "1");
    b.put("t", "j", "1");
    b.put("t", "k", "2");
    b.delete("t", "j");
    b.delete("t", "never-there");
    s.submit(b).await.unwrap();
    assert_eq!(s.load("t", b"").unwrap(), kv(&[(b"k", b"2")]));
}

async fn load_returns_a_prefix_in_key_order(s: &dyn Store) {
    for key in [&b"b\xff"[..], b"a", b"b", b"ba", b"c", b"", b"b\x00"] {
        put(s, "t", key, key).await;
    }
    assert_eq!(
        s.load("t", b"b").unwrap(),
        kv(&[
            (b"b", b"b"),
            (b"b\x00", b"b\x00"),
            (b"ba", b"ba"),
            (b"b\xff", b"b\xff")
        ])
    );
    let all: Vec<Vec<u8>> = s.load("t", b"").unwrap().into_iter().map(|e| e.0).collect();
    assert_eq!(all.len(), 7);
    assert!(all.windows(2).all(|w| w[0] < w[1]), "{all:?}");
    assert_eq!(all[0], b"");
}

async fn namespaces_are_separate(s: &dyn Store) {
    put(s, "s3", b"k", b"one").await;
    put(s, "s3x", b"k", b"two").await;
    put(s, "s3/objects", b"k", b"three").await;
    assert_eq!(s.load("s3", b"").unwrap(), kv(&[(b"k", b"one")]));
    assert_eq!(s.load("s3x", b"").unwrap(), kv(&[(b"k", b"two")]));
    assert_eq!(s.load("s3/objects", b"k").unwrap(), kv(&[(b"k", b"three")]));
    assert!(s.load("s", b"").unwrap().is_empty());
}

async fn clear_removes_a_prefix_only(s: &dyn Store) {
    for key in [
        "000000000000/us-east-1/a",
        "000000000000/us-east-1/b",
        "000000000000/eu-west-1/a",
    ] {
        put(s, "q", key.as_bytes(), b"v").await;
    }
    put(s, "other", b"000000000000/us-east-1/a", b"v").await;
    s.clear("q", b"000000000000/us-east-1/").await.unwrap();
    assert_eq!(
        s.load("q", b"").unwrap(),
        kv(&[(b"000000000000/eu-west-1/a", b"v")])
    );
    s.clear("q", b"").await.unwrap();
    assert!(s.load("q", b"").unwrap().is_empty());
    assert_eq!(s.load("other", b"").unwrap().len(), 1);
    // Clearing what is empty, or an all-0xFF prefix, is fine.
    s.clear("q", b"\xff\xff").await.unwrap();
    s.clear("nothing", b"").await.unwrap();
}

async fn queued_requests_apply_in_submission_order(s: &dyn Store) {
    // Submitted without awaiting in between, as a service does while holding its lock.
    let mut first = Batch::new();
    first.put("o", "k", "first");
    first.put("o", "gone", "x");
    let c1 = s.submit(first);
    let c2 = s.clear("o", b"gone");
    let mut second = Batch::new();
    second.put("o", "k", "second");
    let c3 = s.submit(second);
    let flushed = s.flush();
    c3.await.unwrap();
    c1.await.unwrap();
    c2.await.unwrap();
    flushed.await.unwrap();
    assert_eq!(s.load("o", b"").unwrap(), kv(&[(b"k", b"second")]));
}

async fn concurrent_submitters_all_land(s: Arc<dyn Store>) {
    let mut tasks = Vec::new();
    for t in 0..16u32 {
        let s = Arc::clone(&s);
        tasks.push(tokio::spawn(async move {
            for i in 0..50u32 {
                let mut b = Batch::new();
                b.put("c", format!("{t:02}/{i:03}/a"), i.to_be_bytes());
                b.put("c", format!("{t:02}/{i:03}/b"), t.to_be_bytes());
                s.submit(b).await.unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    s.flush().await.unwrap();
    assert_eq!(s.load("c", b"").unwrap().len(), 16 * 50 * 2);
    assert_eq!(s.load("c", b"07/").unwrap().len(), 100);
}

async fn empty_keys_values_and_batches_are_fine(s: &dyn Store) {
    s.submit(Batch::new()).await.unwrap();
    put(s, "e", b"", b"").await;
    put(s, "e", b"big", &vec![7u8; 1 << 20]).await;
    let got = s.load("e", b"").unwrap();
    assert_eq!(got[0], (vec![], vec![]));
    assert_eq!(got[1].1.len(), 1 << 20);
}

async fn bad_namespaces_are_refused_without_applying_anything(s: &dyn Store) {
    let mut b = Batch::new();
    b.put("good", "k", "v");
    b.put("bad\0ns", "k", "v");
    assert!(matches!(s.submit(b).await, Err(StoreError::Io(_))));
    assert!(s.load("good", b"").unwrap().is_empty());
    assert!(s.load("", b"").is_err());
    assert!(s.clear("a\0", b"").await.is_err());
    // The store still works afterwards.
    put(s, "good", b"k", b"v").await;
    assert_eq!(s.load("good", b"").unwrap().len(), 1);
}

macro_rules! suite {
    ($backend:ident) => {
        mod $backend {
            use super::*;

            #[tokio::test]
            async fn a_fresh_store_is_empty() {
                let b = super::$backend();
                super::a_fresh_store_is_empty(&*b.store).await;
            }
            #[tokio::test]
            async fn a_batch_applies_in_order() {
                let b = super::$backend();
                super::a_batch_applies_in_order(&*b.store).await;
            }
            #[tokio::test]
            async fn load_returns_a_prefix_in_key_order() {
                let b = super::$backend();
                super::load_returns_a_prefix_in_key_order(&*b.store).await;
            }
            #[tokio::test]
            async fn namespaces_are_separate() {
                let b = super::$backend();
                super::namespaces_are_separate(&*b.store).await;
            }
            #[tokio::test]
            async fn clear_removes_a_prefix_only() {
                let b = super::$backend();
                super::clear_removes_a_prefix_only(&*b.store).await;
            }
            #[tokio::test]
            async fn queued_requests_apply_in_submission_order() {
                let b = super::$backend();
                super::queued_requests_apply_in_submission_order(&*b.store).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn concurrent_submitters_all_land() {
                let b = super::$backend();
                super::concurrent_submitters_all_land(Arc::clone(&b.store)).await;
            }
            #[tokio::test]
            async fn empty_keys_values_and_batches_are_fine() {
                let b = super::$backend();
                super::empty_keys_values_and_batches_are_fine(&*b.store).await;
            }
            #[tokio::test]
            async fn bad_namespaces_are_refused_without_applying_anything() {
                let b = super::$backend();
                super::bad_namespaces_are_refused_without_applying_anything(&*b.store).await;
            }
        }
    };
}

suite!(memory);
suite!(durable);

#[tokio::test]
async fn ephemeral_acknowledges_and_forgets() {
    let s = Ephemeral;
    assert!(!s.is_durable());
    put(&s, "t", b"k", b"v").await;
    s.clear("t", b"").await.unwrap();
    s.flush().await.unwrap();
    assert!(s.load("t", b"").unwrap().is_empty());
}

#[tokio::test]
async fn a_durable_store_reopens_with_its_data() {
    let dir = TempDir::new("store-test").unwrap();
    {
        let s = Durable::open(dir.path()).unwrap();
        assert!(s.is_durable());
        put(&s, "t", b"kept", b"1").await;
        put(&s, "t", b"dropped", b"1").await;
        let mut b = Batch::new();
        b.delete("t", "dropped");
        // Not awaited: dropping the store still commits what was queued.
        drop(s.submit(b));
    }
    let s = Durable::open(dir.path()).unwrap();
    assert_eq!(s.load("t", b"").unwrap(), kv(&[(b"kept", b"1")]));
}

#[tokio::test]
async fn a_data_dir_cannot_be_opened_twice() {
    let dir = TempDir::new("store-test").unwrap();
    let _first = Durable::open(dir.path()).unwrap();
    let err = Durable::open(dir.path()).unwrap_err();
    assert!(matches!(err, StoreError::DataDir(_)));
    assert!(
        err.to_string().contains("in use by another Aloft process"),
        "{err}"
    );
}

#[tokio::test]
async fn a_newer_data_dir_is_refused() {
    let dir = TempDir::new("store-test").unwrap();
    std::fs::write(
        dir.path().join("FORMAT"),
        format!(
            "aloft data directory\nformat = {}\n",
            aloft_store::DATA_FORMAT + 1
        ),
    )
    .unwrap();
    let err = Durable::open(dir.path()).unwrap_err().to_string();
    assert!(err.contains("written by a newer Aloft"), "{err}");
    assert!(!dir.path().join("meta.redb").exists());
}

#[tokio::test]
async fn close_gives_a_mostly_free_file_back_and_keeps_the_data() {
    let dir = TempDir::new("store-compact").unwrap();
    let file = dir.path().join("meta.redb");
    let value = vec![7u8; 64 << 10];
    {
        let s = Durable::open(dir.path()).unwrap();
        // 48 MiB written, then all but one entry deleted: the file keeps its size until close.
        for i in 0..768u32 {
            put(&s, "t", &i.to_be_bytes(), &value).await;
        }
        let mut b = Batch::new();
        for i in 1..768u32 {
            b.delete("t", i.to_be_bytes());
        }
        s.submit(b).await.unwrap();
        let grown = std::fs::metadata(&file).unwrap().len();
        assert!(grown > 40 << 20, "file is {grown} bytes");
        s.close();
        let after = std::fs::metadata(&file).unwrap().len();
        assert!(after < 8 << 20, "file is still {after} bytes after close");
        // Closed: writes fail instead of vanishing.
        let mut b = Batch::new();
        b.put("t", "late", "x");
        assert!(s.submit(b).await.is_err());
    }
    let s = Durable::open(dir.path()).unwrap();
    assert_eq!(
        s.load("t", b"").unwrap(),
        vec![(0u32.to_be_bytes().to_vec(), value)]
    );
}

#[tokio::test]
async fn close_leaves_a_dense_file_alone() {
    let dir = TempDir::new("store-dense").unwrap();
    let s = Durable::open(dir.path()).unwrap();
    put(&s, "t", b"k", b"v").await;
    s.close();
    drop(s);
    let s = Durable::open(dir.path()).unwrap();
    assert_eq!(s.load("t", b"").unwrap(), kv(&[(b"k", b"v")]));
}
