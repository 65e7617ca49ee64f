//! Private temporary directories: the ephemeral blob spill area, and tests' data directories.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

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

    /// Queues the removal of `$TMPDIR/aloft-<label>-<pid>` and `aloft-<label>-<pid>-*`
    /// directories whose process no longer runs (what a `kill -9` left behind; only where
    /// process liveness can be read, Linux `/proc`) on a background thread that runs every queued
    /// label in one scan of `$TMPDIR`, [`SWEEP_DELAY`] after the first is queued (or at once
    /// after [`TempDir::finish_sweeps`]). A `$TMPDIR` can hold thousands of entries: reading
    /// it at start delayed the ready line by milliseconds and competed with the first requests.
    pub fn sweep_stale_soon(label: &'static str) {
        let mut s = lock_sweeps();
        if !s.labels.contains(&label) {
            s.labels.push(label);
        }
        if !s.running {
            let spawned = std::thread::Builder::new()
                .name("aloft-sweep".into())
                .spawn(sweeper);
            match spawned {
                Ok(_) => s.running = true,
                Err(_) => {
                    // No thread to be had: sweep here rather than leave the directories.
                    let labels = std::mem::take(&mut s.labels);
                    drop(s);
                    sweep(&labels);
                }
            }
        }
    }

    /// Runs the queued sweeps now and waits for them (shutdown, so that a short-lived process
    /// still sweeps what it queued).
    pub fn finish_sweeps() {
        let mut s = lock_sweeps();
        s.now = true;
        SWEEP_WAKE.notify_all();
        while s.running {
            s = SWEEP_WAKE.wait(s).unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// How long after the first [`TempDir::sweep_stale_soon`] the sweep runs: past start-up and
/// the first requests.
pub const SWEEP_DELAY: Duration = Duration::from_secs(1);

struct Sweeps {
    labels: Vec<&'static str>,
    running: bool,
    now: bool,
}

static SWEEPS: Mutex<Sweeps> = Mutex::new(Sweeps {
    labels: Vec::new(),
    running: false,
    now: false,
});
static SWEEP_WAKE: Condvar = Condvar::new();

fn lock_sweeps() -> MutexGuard<'static, Sweeps> {
    SWEEPS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The background sweeper: waits out the delay (or for [`TempDir::finish_sweeps`]), then sweeps
/// until nothing is queued. One condition variable wakes it and the waiters of `finish_sweeps`.
fn sweeper() {
    let deadline = Instant::now() + SWEEP_DELAY;
    let mut s = lock_sweeps();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if s.now || left.is_zero() {
            break;
        }
        s = SWEEP_WAKE
            .wait_timeout(s, left)
            .unwrap_or_else(PoisonError::into_inner)
            .0;
    }
    loop {
        let labels = std::mem::take(&mut s.labels);
        if labels.is_empty() {
            s.running = false;
            SWEEP_WAKE.notify_all();
            return;
        }
        drop(s);
        sweep(&labels);
        s = lock_sweeps();
    }
}

/// One scan of `$TMPDIR` for the stale directories of every label.
fn sweep(labels: &[&str]) {
    if labels.is_empty() || !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(PREFIX)) else {
            continue;
        };
        let Some(pid) = labels.iter().find_map(|l| {
            let after = rest.strip_prefix(l)?.strip_prefix('-')?;
            Some(after.split_once('-').map_or(after, |(pid, _)| pid))
        }) else {
            continue;
        };
        if pid.parse::<u32>().is_ok() && !Path::new("/proc").join(pid).exists() {
            let _ = fs::remove_dir_all(entry.path());
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
        sweep(&["sweeptest"]);
        if Path::new("/proc/self").exists() {
            assert!(!stale.exists());
        }
        assert!(live.path().exists());
        let _ = fs::remove_dir_all(stale);
    }

    #[test]
    fn queued_sweeps_run_in_one_scan_and_finish_on_demand() {
        if !Path::new("/proc/self").exists() {
            return;
        }
        let base = std::env::temp_dir();
        let tag = rand::random::<u64>();
        // A TempDir-style name and a bare `aloft-<label>-<pid>` one (Lambda's work directory).
        let a = base.join(format!("{PREFIX}sweepa-0-{tag:016x}"));
        let b = base.join(format!("{PREFIX}sweepb-0"));
        let other = base.join(format!("{PREFIX}sweepc-0-{tag:016x}"));
        let not_pid = base.join(format!("{PREFIX}sweepa-x{tag:x}"));
        for d in [&a, &b, &other, &not_pid] {
            let _ = fs::create_dir(d);
        }
        fs::write(a.join("f"), b"x").unwrap();
        let queued = Instant::now();
        TempDir::sweep_stale_soon("sweepa");
        TempDir::sweep_stale_soon("sweepb");
        // Not yet: the sweep waits out its delay unless finished early.
        if queued.elapsed() < SWEEP_DELAY / 2 {
            assert!(a.exists() && b.exists());
        }
        TempDir::finish_sweeps();
        assert!(!a.exists() && !b.exists());
        assert!(other.exists() && not_pid.exists());
        let _ = fs::remove_dir_all(other);
        let _ = fs::remove_dir_all(not_pid);
    }
}
