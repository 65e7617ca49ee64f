//! One behaviour suite for both blob stores (ephemeral and durable), plus what differs.

use std::collections::HashSet;
use std::io::ErrorKind;

use aloft_store::{BlobId, Blobs, TempDir};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

struct Backend {
    blobs: Blobs,
    _dir: Option<TempDir>,
}

fn ephemeral() -> Backend {
    Backend {
        blobs: Blobs::ephemeral().unwrap(),
        _dir: None,
    }
}

fn durable() -> Backend {
    let dir = TempDir::new("blobs-test").unwrap();
    Backend {
        blobs: Blobs::durable(dir.path()).unwrap(),
        _dir: Some(dir),
    }
}

fn files_in(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_type().unwrap().is_file())
        .count()
}

async fn a_written_blob_reads_back(b: &Blobs) {
    let mut w = b.create().await.unwrap();
    let id = w.id().clone();
    w.write(b"hello ").await.unwrap();
    w.write_all(b"world").await.unwrap();
    // As an AsyncWrite, for tokio::io::copy from a request body.
    tokio::io::copy(&mut &b"!"[..], &mut w).await.unwrap();
    assert_eq!(w.len(), 12);
    // Not visible until finished.
    assert_eq!(b.open(&id).await.unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(w.finish().await.unwrap(), id);
    assert_eq!(b.read(&id).await.unwrap(), b"hello world!");
    let mut f = b.open(&id).await.unwrap();
    f.seek(std::io::SeekFrom::Start(6)).await.unwrap();
    let mut tail = String::new();
    f.read_to_string(&mut tail).await.unwrap();
    assert_eq!(tail, "world!");
    assert!(b.path(&id).unwrap().starts_with(b.dir()));
}

async fn put_makes_distinct_generated_ids(b: &Blobs) {
    let x = b.put(b"same").await.unwrap();
    let y = b.put(b"same").await.unwrap();
    let empty = b.put(b"").await.unwrap();
    assert_ne!(x, y);
    assert!(x.is_valid() && y.is_valid());
    assert_eq!(b.read(&empty).await.unwrap(), b"");
}

async fn an_abandoned_writer_leaves_nothing(b: &Blobs) {
    let mut w = b.create().await.unwrap();
    w.write(&[1; 10_000]).await.unwrap();
    let id = w.id().clone();
    drop(w);
    assert_eq!(files_in(&b.dir().join("tmp")), 0);
    assert_eq!(b.read(&id).await.unwrap_err().kind(), ErrorKind::NotFound);
}

async fn ids_never_escape_the_store(b: &Blobs) {
    for bad in [
        "../../etc/passwd",
        "/etc/passwd",
        "..",
        "",
        "tmp",
        "0123456789abcdef0123456789ABCDEF",
        "0123456789abcdef0123456789abcde/",
    ] {
        let id = BlobId(bad.to_string());
        assert_eq!(
            b.path(&id).unwrap_err().kind(),
            ErrorKind::InvalidInput,
            "{bad}"
        );
        assert_eq!(
            b.open(&id).await.unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            b.delete(&id).await.unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
    }
}

async fn delete_is_idempotent(b: &Blobs) {
    let id = b.put(b"x").await.unwrap();
    b.delete(&id).await.unwrap();
    b.delete(&id).await.unwrap();
    assert_eq!(b.read(&id).await.unwrap_err().kind(), ErrorKind::NotFound);
}

async fn gc_keeps_live_blobs_and_other_scopes(b: &Blobs) {
    let s3 = b.scope("s3").unwrap();
    let lambda = b.scope("lambda").unwrap();
    let live = s3.put(b"live").await.unwrap();
    let orphan = s3.put(b"orphan").await.unwrap();
    let others = lambda.put(b"not s3's").await.unwrap();
    let root = b.put(b"root").await.unwrap();
    // A temp file left by a crash mid-write.
    let mut pending = s3.create().await.unwrap();
    pending.write(b"half").await.unwrap();
    std::mem::forget(pending);
    std::fs::write(s3.dir().join("not-a-blob-name"), b"kept").unwrap();

    let removed = s3.gc(&HashSet::from([live.clone()])).unwrap();
    assert_eq!(removed, 2);
    assert_eq!(s3.read(&live).await.unwrap(), b"live");
    assert_eq!(
        s3.read(&orphan).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(lambda.read(&others).await.unwrap(), b"not s3's");
    assert_eq!(b.read(&root).await.unwrap(), b"root");
    assert!(s3.dir().join("not-a-blob-name").exists());
    assert_eq!(files_in(&s3.dir().join("tmp")), 0);
    // The root's gc does not descend into scopes.
    assert_eq!(b.gc(&HashSet::new()).unwrap(), 1);
    assert_eq!(lambda.read(&others).await.unwrap(), b"not s3's");
}

async fn scope_names_are_checked(b: &Blobs) {
    for bad in ["", "tmp", "../x", "S3", "a/b", "."] {
        assert_eq!(
            b.scope(bad).unwrap_err().kind(),
            ErrorKind::InvalidInput,
            "{bad}"
        );
    }
    assert!(b.scope("cognito-idp").is_ok());
}

async fn a_large_blob_streams_through(b: &Blobs) {
    let mut w = b.create().await.unwrap();
    let chunk = vec![0xAB; 1 << 20];
    for _ in 0..8 {
        w.write_all(&chunk).await.unwrap();
    }
    w.flush().await.unwrap();
    let id = w.finish().await.unwrap();
    let meta = tokio::fs::metadata(b.path(&id).unwrap()).await.unwrap();
    assert_eq!(meta.len(), 8 << 20);
}

macro_rules! suite {
    ($backend:ident: $($test:ident),*) => {
        mod $backend {
            $(
                #[tokio::test]
                async fn $test() {
                    let b = super::$backend();
                    super::$test(&b.blobs).await;
                }
            )*
        }
    };
}

suite!(ephemeral: a_written_blob_reads_back, put_makes_distinct_generated_ids,
    an_abandoned_writer_leaves_nothing, ids_never_escape_the_store, delete_is_idempotent,
    gc_keeps_live_blobs_and_other_scopes, scope_names_are_checked, a_large_blob_streams_through);
suite!(durable: a_written_blob_reads_back, put_makes_distinct_generated_ids,
    an_abandoned_writer_leaves_nothing, ids_never_escape_the_store, delete_is_idempotent,
    gc_keeps_live_blobs_and_other_scopes, scope_names_are_checked, a_large_blob_streams_through);

#[tokio::test]
async fn an_ephemeral_store_is_removed_on_close_and_drop() {
    let b = Blobs::ephemeral().unwrap();
    assert!(!b.is_durable());
    let scope = b.scope("s3").unwrap();
    scope.put(b"x").await.unwrap();
    let dir = b.dir().to_path_buf();
    b.close();
    assert!(!dir.exists());

    let b = Blobs::ephemeral().unwrap();
    let dir = b.dir().to_path_buf();
    let scope = b.scope("s3").unwrap();
    drop(b);
    // A scope keeps the shared directory alive.
    assert!(dir.exists());
    drop(scope);
    assert!(!dir.exists());
}

#[tokio::test]
async fn durable_blobs_are_there_after_reopening() {
    let dir = TempDir::new("blobs-test").unwrap();
    let id = {
        let b = Blobs::durable(dir.path()).unwrap();
        assert!(b.is_durable());
        b.close(); // a durable store is never removed
        b.scope("s3").unwrap().put(b"kept").await.unwrap()
    };
    let b = Blobs::durable(dir.path()).unwrap().scope("s3").unwrap();
    assert_eq!(b.read(&id).await.unwrap(), b"kept");
    assert_eq!(b.gc(&HashSet::from([id.clone()])).unwrap(), 0);
}

#[tokio::test]
async fn blobs_and_journal_share_the_data_dir_in_either_order() {
    let dir = TempDir::new("blobs-test").unwrap();
    let blobs = Blobs::durable(dir.path()).unwrap();
    blobs.put(b"x").await.unwrap();
    drop(aloft_store::Durable::open(dir.path()).unwrap());
    assert!(Blobs::durable(dir.path()).is_ok());

    let newer = TempDir::new("blobs-test").unwrap();
    std::fs::write(
        newer.path().join("FORMAT"),
        "aloft data directory\nformat = 999\n",
    )
    .unwrap();
    let err = Blobs::durable(newer.path()).unwrap_err().to_string();
    assert!(err.contains("written by a newer Aloft"), "{err}");
    assert!(!newer.path().join("blobs").exists());
}
