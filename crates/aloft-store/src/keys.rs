//! How `(namespace, key)` pairs are laid out in one ordered key space, and prefix ranges over it.
//!
//! Every backend stores `ns ++ 0x00 ++ key`. A namespace never contains `0x00`, so the separator
//! keeps each namespace's keys contiguous and in the service's own byte order, and no namespace's
//! range can reach into another's (`s3` + `0x00` sorts before `s3x`).

use std::ops::Range;

pub(crate) const SEP: u8 = 0;

/// Why a namespace name is refused; `None` when it is usable.
pub(crate) fn invalid_ns(ns: &str) -> Option<String> {
    if ns.is_empty() {
        Some("storage namespace is empty".into())
    } else if ns.as_bytes().contains(&SEP) {
        Some(format!("storage namespace {ns:?} contains a NUL byte"))
    } else {
        None
    }
}

/// The stored key for `key` in `ns`.
pub(crate) fn encode(ns: &str, key: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(ns.len() + 1 + key.len());
    out.extend_from_slice(ns.as_bytes());
    out.push(SEP);
    out.extend_from_slice(key);
    out
}

/// The half-open range of stored keys holding `ns`'s keys that start with `prefix`.
pub(crate) fn prefix_range(ns: &str, prefix: &[u8]) -> Range<Vec<u8>> {
    let start = encode(ns, prefix);
    let end = match successor(prefix) {
        Some(next) => encode(ns, &next),
        // An empty or all-0xFF prefix runs to the end of the namespace: `ns ++ 0x01`.
        None => {
            let mut end = ns.as_bytes().to_vec();
            end.push(SEP + 1);
            end
        }
    };
    start..end
}

/// The part of a stored key after its namespace.
pub(crate) fn user_key<'a>(ns: &str, stored: &'a [u8]) -> &'a [u8] {
    &stored[ns.len() + 1..]
}

/// The smallest byte string greater than every string starting with `prefix`, if one exists.
fn successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut next = prefix.to_vec();
    while let Some(last) = next.pop() {
        if last < u8::MAX {
            next.push(last + 1);
            return Some(next);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn in_range(ns: &str, prefix: &[u8], other_ns: &str, key: &[u8]) -> bool {
        prefix_range(ns, prefix).contains(&encode(other_ns, key))
    }

    #[test]
    fn a_prefix_range_holds_exactly_the_keys_with_that_prefix() {
        assert!(in_range("t", b"ab", "t", b"ab"));
        assert!(in_range("t", b"ab", "t", b"ab\xff\xff"));
        assert!(in_range("t", b"ab", "t", b"abc"));
        assert!(!in_range("t", b"ab", "t", b"ac"));
        assert!(!in_range("t", b"ab", "t", b"a"));
        assert!(!in_range("t", b"ab", "t", b"aa\xff"));
    }

    #[test]
    fn all_ff_and_empty_prefixes_run_to_the_end_of_the_namespace_only() {
        assert!(in_range("t", b"\xff", "t", b"\xff\xff\xff"));
        assert!(!in_range("t", b"\xff", "t", b"\xfe"));
        assert!(in_range("t", b"", "t", b""));
        assert!(in_range("t", b"", "t", b"\xff\xff"));
        assert!(!in_range("t", b"", "t2", b""));
        assert!(!in_range("t", b"", "u", b""));
        assert!(!in_range("t2", b"", "t", b"\xff"));
    }

    #[test]
    fn namespaces_that_prefix_each_other_stay_apart() {
        assert!(!in_range("s3", b"", "s3x", b"a"));
        assert!(!in_range("s3x", b"", "s3", b"x"));
        assert!(encode("s3", b"\xff") < encode("s3x", b""));
    }

    #[test]
    fn user_keys_come_back_without_their_namespace() {
        assert_eq!(user_key("ns/t", &encode("ns/t", b"k\x00")), b"k\x00");
    }

    #[test]
    fn bad_namespaces_are_refused() {
        assert!(invalid_ns("").is_some());
        assert!(invalid_ns("a\0b").is_some());
        assert!(invalid_ns("s3/objects").is_none());
    }
}
