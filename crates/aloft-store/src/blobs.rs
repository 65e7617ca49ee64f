//! The blob store contract: bodies written as files (temp → fsync → rename), read as files.
//!
//! The implementation (ephemeral spill directory or `--data-dir/blobs`) is filled in by the
//! storage work; this is the surface services code against.

use std::path::PathBuf;

/// The name of a stored blob, kept in service metadata.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlobId(pub String);

/// Where blobs live.
pub struct Blobs {
    pub(crate) dir: PathBuf,
    pub(crate) durable: bool,
}

/// A blob being written; nothing is visible until [`BlobWriter::finish`].
pub struct BlobWriter {
    pub(crate) tmp: PathBuf,
    pub(crate) file: tokio::fs::File,
    pub(crate) id: BlobId,
    pub(crate) durable: bool,
    pub(crate) final_path: PathBuf,
}

impl Blobs {
    /// Blobs in a fresh temporary directory, for the ephemeral mode.
    pub fn ephemeral() -> std::io::Result<Self> {
        let dir = std::env::temp_dir().join(format!("aloft-blobs-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        Ok(Self {
            dir,
            durable: false,
        })
    }

    /// Blobs under `data_dir/blobs`, fsynced.
    pub fn durable(data_dir: &std::path::Path) -> std::io::Result<Self> {
        let dir = data_dir.join("blobs");
        std::fs::create_dir_all(&dir)?;
        Ok(Self { dir, durable: true })
    }

    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    pub fn is_durable(&self) -> bool {
        self.durable
    }
}
