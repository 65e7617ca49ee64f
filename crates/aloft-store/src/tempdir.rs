//! Private temporary directories: the ephemeral blob spill area, and tests' data directories.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Names start with this, then the owner's pid, so that directories left by a killed process
/// can be recognised and swept by the next one.
const PREFIX: &str = "aloft-";

/// A fresh directory under the system temp dir, removed (with its contents) on drop.
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Creates `$TMPDIR/aloft-<label>-<pid>-<random>`. `label` is a short ASCII word.
    pub fn new(label: &str) -> io::Result<Self> {
        let base = std::env::temp_dir();
        let path = base.join(format!(
            "{PREFIX}{label}-{}-{:016x}",
            std::process::id(),
            rand::random::<u64>()
        ));
        // create_dir (not _all) fails if the name exists: never adopt someone else's directory.
        fs::create_dir(&path)?;
        Ok(Self { path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Removes the directory now (shutdown); dropping afterwards is harmless.
    pub fn remove(&self) {
        let _ = fs::remove_dir_all(&self.path);
    }

    /// Removes `$TMPDIR/aloft-<label>-<pid>-*` directories whose process no longer runs:
    /// what a `kill -9` left behind. Only where process liveness can be read (Linux `/proc`).
    pub fn sweep_stale(label: &str) {
        if !Path::new("/proc/self").exists() {
            return;
        }
        let Ok(entries) = fs::read_dir(std::env::temp_dir()) else {
            return;
        };
        let start = format!("{PREFIX}{label}-");
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(&start)) else {
                continue;
            };
            let Some((pid, _)) = rest.split_once('-') else {
                continue;
            };
            if pid.parse::<u32>().is_ok() && !Path::new("/proc").join(pid).exists() {
                let _ = fs::remove_dir_all(entry.path());
            }
        }
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        self.remove();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_temp_dir_is_unique_and_removed_on_drop() {
        let a = TempDir::new("t").unwrap();
        let b = TempDir::new("t").unwrap();
        assert_ne!(a.path(), b.path());
        fs::write(a.path().join("f"), b"x").unwrap();
        let p = a.path().to_path_buf();
        drop(a);
        assert!(!p.exists());
    }

    #[test]
    fn stale_directories_of_dead_processes_are_swept() {
        let base = std::env::temp_dir();
        // pid 0 is never a user process; /proc/0 does not exist.
        let stale = base.join(format!(
            "{PREFIX}sweeptest-0-{:016x}",
            rand::random::<u64>()
        ));
        let live = TempDir::new("sweeptest").unwrap();
        fs::create_dir(&stale).unwrap();
        TempDir::sweep_stale("sweeptest");
        if Path::new("/proc/self").exists() {
            assert!(!stale.exists());
        }
        assert!(live.path().exists());
        let _ = fs::remove_dir_all(stale);
    }
}
