//! The key of a row in a table's or an index's ordered map: the encoded key bytes, kept
//! inside the map's node when short, so that the comparisons on the way down a large table
//! read the node they are in instead of a separate allocation per key (a cache miss each).
//!
//! Order and equality are exactly those of the encoded bytes (Query, Scan, pagination and
//! ExclusiveStartKey rely on it). Keys of up to [`INLINE`] bytes (a 4-byte partition hash and
//! a partition key of ~16 characters, with or without a short sort key) are fully inline;
//! longer ones keep their first [`PREFIX`] bytes inline, which decide every comparison
//! between different partitions but for a hash collision, and the whole key on the heap.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};

use super::value::Item;

/// The longest key kept entirely inline (the key stays 24 bytes, as a `Vec<u8>` was).
pub const INLINE: usize = 22;
/// The bytes of a longer key kept inline.
pub const PREFIX: usize = 6;

/// A table's or an index's rows by encoded key.
pub type Rows = BTreeMap<RowKey, Item>;

#[derive(Clone)]
pub enum RowKey {
    Inline {
        len: u8,
        bytes: [u8; INLINE],
    },
    Heap {
        prefix: [u8; PREFIX],
        all: Box<[u8]>,
    },
}

impl RowKey {
    #[inline]
    pub fn new(b: &[u8]) -> RowKey {
        if b.len() <= INLINE {
            let mut bytes = [0; INLINE];
            bytes[..b.len()].copy_from_slice(b);
            RowKey::Inline {
                len: b.len() as u8,
                bytes,
            }
        } else {
            RowKey::Heap {
                prefix: head(b),
                all: b.into(),
            }
        }
    }

    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            RowKey::Inline { len, bytes } => &bytes[..usize::from(*len)],
            RowKey::Heap { all, .. } => all,
        }
    }

    /// The leading bytes held inline: the whole key, or its first [`PREFIX`] bytes.
    fn head(&self) -> &[u8] {
        match self {
            RowKey::Inline { .. } => self.as_bytes(),
            RowKey::Heap { prefix, .. } => prefix,
        }
    }
}

fn head(b: &[u8]) -> [u8; PREFIX] {
    let mut p = [0; PREFIX];
    p.copy_from_slice(&b[..PREFIX]);
    p
}

impl From<Vec<u8>> for RowKey {
    fn from(v: Vec<u8>) -> RowKey {
        if v.len() <= INLINE {
            RowKey::new(&v)
        } else {
            RowKey::Heap {
                prefix: head(&v),
                all: v.into_boxed_slice(),
            }
        }
    }
}

impl From<&[u8]> for RowKey {
    fn from(b: &[u8]) -> RowKey {
        RowKey::new(b)
    }
}

impl std::ops::Deref for RowKey {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl Borrow<[u8]> for RowKey {
    #[inline]
    fn borrow(&self) -> &[u8] {
        self.as_bytes()
    }
}

/// Bytes `at..at + 8` of an inline key's (zero-padded) bytes, as a big-endian number.
#[inline]
fn word(b: &[u8; INLINE], at: usize) -> u64 {
    let mut w = [0u8; 8];
    let end = (at + 8).min(INLINE);
    w[..end - at].copy_from_slice(&b[at..end]);
    u64::from_be_bytes(w)
}

impl Ord for RowKey {
    /// Small enough to be inlined into the tree's search loop: the rest is out of line.
    #[inline]
    fn cmp(&self, other: &Self) -> Ordering {
        if let (RowKey::Inline { bytes: a, .. }, RowKey::Inline { bytes: b, .. }) = (self, other) {
            // The first 8 bytes (the partition hash and 4 more) as one number decide nearly
            // every comparison on the way down a table.
            let (x, y) = (word(a, 0), word(b, 0));
            if x != y {
                return x.cmp(&y);
            }
        }
        self.cmp_rest(other)
    }
}

impl RowKey {
    #[inline(never)]
    fn cmp_rest(&self, other: &Self) -> Ordering {
        if let (RowKey::Inline { len: la, bytes: a }, RowKey::Inline { len: lb, bytes: b }) =
            (self, other)
        {
            // The zero-padded bytes as numbers, then the lengths: where the padded bytes
            // differ the keys differ the same way (a key's padding meets either the other's
            // padding or its real bytes, of which a non-zero one makes the key that ended
            // first the smaller, as it is a prefix); where they do not, the shorter key is a
            // prefix of the longer.
            return word(a, 0)
                .cmp(&word(b, 0))
                .then_with(|| word(a, 8).cmp(&word(b, 8)))
                .then_with(|| word(a, 16).cmp(&word(b, 16)))
                .then_with(|| la.cmp(lb));
        }
        // Both heads are prefixes of their keys: where they differ, the keys differ.
        let (a, b) = (self.head(), other.head());
        let n = a.len().min(b.len());
        match a[..n].cmp(&b[..n]) {
            Ordering::Equal => self.as_bytes().cmp(other.as_bytes()),
            o => o,
        }
    }
}

impl PartialOrd for RowKey {
    #[inline]
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for RowKey {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for RowKey {}

impl Hash for RowKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state)
    }
}

impl std::fmt::Debug for RowKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.as_bytes().fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_as_small_as_a_vec() {
        assert_eq!(std::mem::size_of::<RowKey>(), 24);
    }

    #[test]
    fn orders_and_compares_as_the_bytes() {
        // Lengths around both limits, shared prefixes, zero bytes and 0xFF bytes.
        let mut keys: Vec<Vec<u8>> = Vec::new();
        for len in [0, 1, 5, 6, 7, 21, 22, 23, 24, 40] {
            for fill in [0u8, 1, 0x7f, 0xff] {
                keys.push(vec![fill; len]);
                let mut k = vec![b'a'; len];
                if len > 0 {
                    k[len - 1] = fill;
                }
                keys.push(k.clone());
                if len > 3 {
                    k[3] = fill;
                    keys.push(k);
                }
            }
        }
        // Pseudo-random keys that share long prefixes and end in every way.
        let mut x: u32 = 1;
        for _ in 0..300 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let len = (x >> 8) as usize % 30;
            keys.push(
                (0..len)
                    .map(|i| [0u8, 1, 0xff, b'a'][(x as usize >> (i % 16)) & 3])
                    .collect(),
            );
        }
        for a in &keys {
            for b in &keys {
                let (ka, kb) = (RowKey::from(a.clone()), RowKey::new(b));
                assert_eq!(ka.cmp(&kb), a.cmp(b), "{a:?} vs {b:?}");
                assert_eq!(ka == kb, a == b);
                assert_eq!(ka.as_bytes(), &a[..]);
            }
        }
    }

    #[test]
    fn maps_find_and_range_by_bytes() {
        let mut m: BTreeMap<RowKey, u32> = BTreeMap::new();
        let long = vec![7u8; 30];
        m.insert(RowKey::new(b"abc"), 1);
        m.insert(RowKey::new(&long), 2);
        assert_eq!(m.get(&b"abc"[..]), Some(&1));
        assert_eq!(m.get(&RowKey::new(&long)), Some(&2));
        let r: Vec<u32> = m
            .range::<[u8], _>((
                std::ops::Bound::Excluded(&b"abc"[..]),
                std::ops::Bound::Unbounded,
            ))
            .map(|(_, v)| *v)
            .collect();
        assert!(r.is_empty());
        let r: Vec<u32> = m
            .range::<[u8], _>((
                std::ops::Bound::Included(&[7u8][..]),
                std::ops::Bound::Unbounded,
            ))
            .map(|(_, v)| *v)
            .collect();
        assert_eq!(r, vec![2, 1]);
    }
}
