//! The `--data-dir` marker: which on-disk format a data directory holds, checked before use.
//!
//! `FORMAT` names the layout of the whole directory (`meta.redb`'s key encoding and table,
//! `blobs/`). A build refuses a directory from a newer format rather than misreading it, and
//! refuses a non-empty directory without a marker so that `--data-dir ~` cannot scatter files.
//!
//! Formats: 1 = `meta.redb` + `blobs/`; 2 adds `wal.log`, the write-ahead log whose records
//! newer than `meta.redb`'s checkpoint are part of the state (a format-1 build would ignore them
//! and lose acknowledged writes, hence the new number); 3 makes the log a ring whose replay
//! starts where `meta.redb`'s checkpoint says (a format-2 build would replay from offset 0 and
//! miss the records before a wrap). An older directory is read as it is (a format-2 log from
//! offset 0, a format-1 directory as an empty log), so opening it just rewrites the marker.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

use crate::journal::StoreError;

/// The data directory format this build writes, and the newest it reads.
pub const DATA_FORMAT: u32 = 3;

const MARKER: &str = "FORMAT";
const HEADER: &str = "aloft data directory";

/// Makes `dir` an Aloft data directory of the current format, or checks that it is one this
/// build can read, upgrading an older one. Returns the format found.
pub(crate) fn prepare(dir: &Path) -> Result<u32, StoreError> {
    let shown = dir.display();
    let io = |what: &str, e: io::Error| StoreError::DataDir(format!("{what} {shown}: {e}"));
    fs::create_dir_all(dir).map_err(|e| io("cannot create data directory", e))?;
    let marker = dir.join(MARKER);
    match fs::read_to_string(&marker) {
        Ok(text) => {
            let found = parse(&text).ok_or_else(|| {
                StoreError::DataDir(format!(
                    "{} is not an Aloft data directory marker (expected `{HEADER}` and `format = N`)",
                    marker.display()
                ))
            })?;
            if found > DATA_FORMAT {
                return Err(StoreError::DataDir(format!(
                    "data directory {shown} was written by a newer Aloft (data format {found}); \
                     this build reads format {DATA_FORMAT} or older. Use a newer aloft, or \
                     another --data-dir"
                )));
            }
            if found < DATA_FORMAT {
                // Before anything of the new format is written: an older build must refuse the
                // directory from the moment it could hold a log record.
                write_marker(dir).map_err(|e| io("cannot upgrade the format marker in", e))?;
                tracing::info!("data directory {shown}: format {found} upgraded to {DATA_FORMAT}");
            }
            Ok(found)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let mut entries = fs::read_dir(dir).map_err(|e| io("cannot read data directory", e))?;
            if entries.next().is_some() {
                return Err(StoreError::DataDir(format!(
                    "data directory {shown} is not empty and has no {MARKER} file, so it is not \
                     an Aloft data directory; give an empty or new directory"
                )));
            }
            write_marker(dir).map_err(|e| io("cannot write the format marker in", e))?;
            Ok(DATA_FORMAT)
        }
        Err(e) => Err(io("cannot read the format marker in", e)),
    }
}

fn parse(text: &str) -> Option<u32> {
    let mut lines = text.lines();
    if lines.next()?.trim() != HEADER {
        return None;
    }
    lines.find_map(|line| {
        let (k, v) = line.split_once('=')?;
        (k.trim() == "format").then(|| v.trim().parse().ok())?
    })
}

/// Written to a temporary name, synced and renamed, so a crash never leaves a torn marker.
fn write_marker(dir: &Path) -> io::Result<()> {
    let tmp = dir.join(format!("{MARKER}.tmp"));
    let mut f = fs::File::create(&tmp)?;
    writeln!(f, "{HEADER}\nformat = {DATA_FORMAT}")?;
    f.sync_all()?;
    fs::rename(&tmp, dir.join(MARKER))?;
    sync_dir(dir)
}

/// Makes a directory's entries (new names, renames) durable.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tempdir::TempDir;

    #[test]
    fn a_new_directory_gets_the_current_format() {
        let d = TempDir::new("datadir-test").unwrap();
        let dir = d.path().join("data");
        assert_eq!(prepare(&dir).unwrap(), DATA_FORMAT);
        assert_eq!(prepare(&dir).unwrap(), DATA_FORMAT);
        assert!(dir.join(MARKER).exists());
        assert!(!dir.join("FORMAT.tmp").exists());
    }

    #[test]
    fn a_newer_format_is_refused_with_a_clear_message() {
        let d = TempDir::new("datadir-test").unwrap();
        fs::write(d.path().join(MARKER), "aloft data directory\nformat = 99\n").unwrap();
        let err = prepare(d.path()).unwrap_err().to_string();
        assert!(err.contains("newer Aloft (data format 99)"), "{err}");
        assert!(
            err.contains(&format!("reads format {DATA_FORMAT}")),
            "{err}"
        );
    }

    #[test]
    fn a_format_1_directory_is_upgraded() {
        let d = TempDir::new("datadir-test").unwrap();
        fs::write(d.path().join(MARKER), "aloft data directory\nformat = 1\n").unwrap();
        assert_eq!(prepare(d.path()).unwrap(), 1);
        let text = fs::read_to_string(d.path().join(MARKER)).unwrap();
        assert_eq!(parse(&text), Some(DATA_FORMAT));
        assert_eq!(prepare(d.path()).unwrap(), DATA_FORMAT);
    }

    #[test]
    fn a_foreign_directory_is_refused() {
        let d = TempDir::new("datadir-test").unwrap();
        fs::write(d.path().join("notes.txt"), "mine").unwrap();
        let err = prepare(d.path()).unwrap_err().to_string();
        assert!(err.contains("not empty and has no FORMAT file"), "{err}");
        fs::write(d.path().join(MARKER), "something else\n").unwrap();
        let err = prepare(d.path()).unwrap_err().to_string();
        assert!(err.contains("not an Aloft data directory marker"), "{err}");
    }

    #[test]
    fn the_marker_parser_is_strict_about_the_header_only() {
        assert_eq!(parse("aloft data directory\nformat = 1\n"), Some(1));
        assert_eq!(parse("aloft data directory\n# note\nformat=3"), Some(3));
        assert_eq!(parse("aloft data directory\nformat = x"), None);
        assert_eq!(parse("format = 1"), None);
        assert_eq!(parse(""), None);
    }
}
