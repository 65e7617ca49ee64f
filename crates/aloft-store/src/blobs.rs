//! The blob store: bodies written as files (temp → fsync → rename), read as files.
//!
//! Blobs live in `--data-dir/blobs` (durable) or in a private temp directory (ephemeral). A
//! blob's name is a random id, never anything taken from a request, so no user key can name a
//! path outside the store; ids read back from metadata are checked for the same reason.
//!
//! Ordering rules that keep metadata and bodies consistent across a crash:
//! - finish the blob ([`BlobWriter::finish`]) before committing metadata that names it;
//! - delete a blob only after the commit that forgets it is durable.
//!
//! A crash in between leaves an orphan file, which [`Blobs::gc`] removes at the next start.
//! Several services share one store: each takes its own [`Blobs::scope`] so that its `gc`
//! only judges its own blobs.

use std::collections::HashSet;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::datadir::{self, sync_dir};
use crate::tempdir::TempDir;

/// Where in-progress writes live, inside each scope's directory.
const TMP: &str = "tmp";
const ID_LEN: usize = 32;
const TEMP_LABEL: &str = "blobs";

/// The name of a stored blob, kept in service metadata.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlobId(pub String);

impl BlobId {
    fn random() -> Self {
        BlobId(format!("{:032x}", rand::random::<u128>()))
    }

    /// True for names this store generates: 32 lowercase hex digits.
    pub fn is_valid(&self) -> bool {
        self.0.len() == ID_LEN
            && self
                .0
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    }
}

impl std::fmt::Display for BlobId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where blobs live.
#[derive(Debug)]
pub struct Blobs {
    pub(crate) dir: PathBuf,
    pub(crate) durable: bool,
    /// The ephemeral root, shared by its scopes; removed when the last of them is dropped.
    temp: Option<Arc<TempDir>>,
}

impl Blobs {
    /// A private spill directory under the system temp dir, removed when dropped or by
    /// [`Blobs::close`]. Directories left by killed Aloft processes are swept in the background
    /// ([`TempDir::sweep_stale_soon`]).
    pub fn ephemeral() -> io::Result<Self> {
        TempDir::sweep_stale_soon(TEMP_LABEL);
        let temp = TempDir::new(TEMP_LABEL)?;
        let dir = temp.path().to_path_buf();
        std::fs::create_dir(dir.join(TMP))?;
        Ok(Self {
            dir,
            durable: false,
            temp: Some(Arc::new(temp)),
        })
    }

    /// `data_dir/blobs`, where finished blobs are fsynced before they are acknowledged. Checks
    /// (or writes) the data directory's format marker, like [`crate::Durable::open`].
    pub fn durable(data_dir: impl AsRef<Path>) -> io::Result<Self> {
        let data_dir = data_dir.as_ref();
        datadir::prepare(data_dir).map_err(|e| io::Error::other(e.to_string()))?;
        let dir = data_dir.join("blobs");
        std::fs::create_dir_all(dir.join(TMP))?;
        sync_dir(&dir)?;
        sync_dir(data_dir)?;
        Ok(Self {
            dir,
            durable: true,
            temp: None,
        })
    }

    /// The sub-store of one owner (a service: `s3`, `lambda`), in its own directory, so that its
    /// [`Blobs::gc`] cannot touch another owner's blobs. `name` is `[a-z0-9-]+`.
    pub fn scope(&self, name: &str) -> io::Result<Blobs> {
        let valid = !name.is_empty()
            && name != TMP
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !valid {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("invalid blob scope name {name:?}"),
            ));
        }
        let dir = self.dir.join(name);
        std::fs::create_dir_all(dir.join(TMP))?;
        if self.durable {
            sync_dir(&dir)?;
            sync_dir(&self.dir)?;
        }
        Ok(Blobs {
            dir,
            durable: self.durable,
            temp: self.temp.clone(),
        })
    }

    pub fn is_durable(&self) -> bool {
        self.durable
    }

    /// The directory holding this store's (or scope's) blobs.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Removes an ephemeral store's directory now (shutdown: process exit skips destructors).
    /// A durable store is left alone.
    pub fn close(&self) {
        if let Some(temp) = &self.temp {
            temp.remove();
        }
    }

    /// Starts a blob; nothing is visible under its id until [`BlobWriter::finish`].
    pub async fn create(&self) -> io::Result<BlobWriter> {
        let id = BlobId::random();
        let tmp = self.dir.join(TMP).join(&id.0);
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .await?;
        Ok(BlobWriter {
            final_path: self.dir.join(&id.0),
            tmp,
            file,
            id,
            durable: self.durable,
            dir: self.dir.clone(),
            written: 0,
            finished: false,
        })
    }

    /// Stores a body that is already in memory.
    pub async fn put(&self, bytes: &[u8]) -> io::Result<BlobId> {
        let mut w = self.create().await?;
        w.write_all(bytes).await?;
        w.finish().await
    }

    /// The file of a finished blob. `NotFound` when it does not exist, `InvalidInput` when the
    /// id is not one this store could have made.
    pub fn path(&self, id: &BlobId) -> io::Result<PathBuf> {
        if id.is_valid() {
            Ok(self.dir.join(&id.0))
        } else {
            Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("invalid blob id {:?}", id.0),
            ))
        }
    }

    /// Opens a finished blob for reading (and seeking, for ranges).
    pub async fn open(&self, id: &BlobId) -> io::Result<tokio::fs::File> {
        tokio::fs::File::open(self.path(id)?).await
    }

    /// Reads a whole blob; for small bodies only.
    pub async fn read(&self, id: &BlobId) -> io::Result<Vec<u8>> {
        tokio::fs::read(self.path(id)?).await
    }

    /// Removes a blob. Deleting a blob that is already gone succeeds.
    pub async fn delete(&self, id: &BlobId) -> io::Result<()> {
        match tokio::fs::remove_file(self.path(id)?).await {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            r => r,
        }
    }

    /// At start, before serving: removes every blob of this store (or scope) that `live` does
    /// not name, and every unfinished temp file. Sub-scopes' directories are left alone.
    /// Returns how many files were removed.
    pub fn gc(&self, live: &HashSet<BlobId>) -> io::Result<usize> {
        let mut removed = 0;
        for entry in std::fs::read_dir(self.dir.join(TMP))? {
            let entry = entry?;
            if entry.file_type()?.is_file() {
                std::fs::remove_file(entry.path())?;
                removed += 1;
            }
        }
        for entry in std::fs::read_dir(&self.dir)? {
            let entry = entry?;
            let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                continue;
            };
            let id = BlobId(name);
            if entry.file_type()?.is_file() && id.is_valid() && !live.contains(&id) {
                std::fs::remove_file(entry.path())?;
                removed += 1;
            }
        }
        Ok(removed)
    }
}

/// A blob being written; nothing is visible until [`BlobWriter::finish`]. Dropping it
/// unfinished removes the partial file. It is also an [`AsyncWrite`], for `tokio::io::copy`.
pub struct BlobWriter {
    pub(crate) tmp: PathBuf,
    pub(crate) file: tokio::fs::File,
    pub(crate) id: BlobId,
    pub(crate) durable: bool,
    pub(crate) final_path: PathBuf,
    dir: PathBuf,
    written: u64,
    finished: bool,
}

impl std::fmt::Debug for BlobWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobWriter")
            .field("id", &self.id)
            .field("written", &self.written)
            .finish_non_exhaustive()
    }
}

impl BlobWriter {
    /// The id the blob will have once finished.
    pub fn id(&self) -> &BlobId {
        &self.id
    }

    /// Bytes written so far.
    pub fn len(&self) -> u64 {
        self.written
    }

    pub fn is_empty(&self) -> bool {
        self.written == 0
    }

    /// Appends the whole of `chunk` (unlike `AsyncWrite::write`, never a part of it).
    pub async fn write(&mut self, chunk: &[u8]) -> io::Result<()> {
        self.write_all(chunk).await
    }

    /// Appends the whole of `chunk`.
    pub async fn write_all(&mut self, chunk: &[u8]) -> io::Result<()> {
        self.file.write_all(chunk).await?;
        self.written += chunk.len() as u64;
        Ok(())
    }

    /// Makes the blob visible under its id, durable first when the store is: the file is
    /// synced before the rename and the directory after it.
    pub async fn finish(mut self) -> io::Result<BlobId> {
        self.file.flush().await?;
        if self.durable {
            self.file.sync_all().await?;
        }
        tokio::fs::rename(&self.tmp, &self.final_path).await?;
        self.finished = true;
        if self.durable {
            let dir = self.dir.clone();
            tokio::task::spawn_blocking(move || sync_dir(&dir))
                .await
                .map_err(io::Error::other)??;
        }
        Ok(self.id.clone())
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        if !self.finished {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

impl AsyncWrite for BlobWriter {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.file).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = poll {
            self.written += n as u64;
        }
        poll
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.file).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.file).poll_shutdown(cx)
    }
}
