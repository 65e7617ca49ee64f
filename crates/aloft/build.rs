//! Link options for the `aloft` binary.
//!
//! Packed relative relocations (DT_RELR): a position-independent Rust binary carries tens of
//! thousands of relative relocations, which the dynamic loader reads at every start. Packed, the
//! table shrinks from ~740 KB to ~9 KB, and idle RSS by ~0.7 MiB (those pages are no longer
//! touched). Only glibc 2.36 and later can load such a binary, so it is used only when building
//! for Linux on a host whose glibc has it (a binary usually runs where it was built).
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let target = std::env::var("TARGET").unwrap_or_default();
    let host = std::env::var("HOST").unwrap_or_default();
    if target != host || !target.ends_with("-linux-gnu") {
        return;
    }
    if host_glibc().is_some_and(|v| v >= (2, 36)) {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}

/// The host's glibc version, from `getconf GNU_LIBC_VERSION` (`glibc 2.36`).
fn host_glibc() -> Option<(u32, u32)> {
    let out = Command::new("getconf")
        .arg("GNU_LIBC_VERSION")
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let (major, minor) = text.trim().strip_prefix("glibc ")?.split_once('.')?;
    Some((major.parse().ok()?, minor.split('.').next()?.parse().ok()?))
}
