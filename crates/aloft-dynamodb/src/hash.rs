//! A fast unkeyed hasher (FxHash's word-at-a-time multiply-rotate, with a final mix) for the
//! maps every request looks up: the table map, keyed by `account/region/name`, and the
//! interned attribute names. std's SipHash cost ~450 instructions a lookup, and a
//! byte-at-a-time FNV-1a was no cheaper on a 30-byte key. Not keyed: only for maps whose keys
//! an attacker cannot fill at will (tables are created one by one and are few; the name set
//! is capped).

use std::hash::{BuildHasherDefault, Hasher};

/// A `HashMap`/`HashSet` hasher: `HashMap<K, V, FastBuild>`.
pub type FastBuild = BuildHasherDefault<Fast>;

const K: u64 = 0xf135_7aea_2e62_a9c5;

#[derive(Default)]
pub struct Fast(u64);

impl Fast {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(26) ^ word).wrapping_mul(K);
    }
}

impl Hasher for Fast {
    fn finish(&self) -> u64 {
        // hashbrown takes its control byte from the top bits: fold the low ones in.
        let h = self.0;
        (h ^ (h >> 32)).wrapping_mul(K).rotate_left(20)
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes([
                c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7],
            ]));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut buf = [0u8; 8];
            buf[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(buf) ^ ((rest.len() as u64) << 59));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i) | 0x100);
    }
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    #[test]
    fn distinct_short_keys_hash_apart() {
        let b = FastBuild::default();
        let keys = [
            "",
            "a",
            "b",
            "ab",
            "ba",
            ":p",
            ":q",
            "#n",
            "aaaaaaaa",
            "aaaaaaaab",
            "aaaaaaaa\0",
            "000000000000/us-east-1/table1",
            "000000000000/us-east-1/table2",
        ];
        let hashes: std::collections::HashSet<u64> = keys.iter().map(|k| b.hash_one(k)).collect();
        assert_eq!(hashes.len(), keys.len());
        assert_eq!(b.hash_one("same"), b.hash_one("same"));
    }
}
