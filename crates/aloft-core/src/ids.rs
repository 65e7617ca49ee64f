//! Identifiers that look like AWS's.

use std::cell::RefCell;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

thread_local! {
    /// Request ids need to be unique, not secret: a small generator seeded once per thread from
    /// the thread's CSPRNG costs a few instructions where ChaCha costs hundreds, on every request.
    static REQUEST_IDS: RefCell<SmallRng> = RefCell::new(SmallRng::from_rng(&mut rand::rng()));
}

/// A request id: a UUID v4, as most services use.
pub fn request_id() -> String {
    // One u128 is two 64-bit draws; a `[u8; 16]` would be sixteen.
    let bits: u128 = REQUEST_IDS.with(|r| r.borrow_mut().random());
    hyphenated(uuid::Builder::from_random_bytes(bits.to_le_bytes()).into_uuid())
}

/// A random (v4) UUID, lower-case and hyphenated.
///
/// From the thread's CSPRNG (`rand::rng()`, seeded from the OS) rather than `Uuid::new_v4`, which
/// makes a `getrandom` system call for every id, and every request has one.
pub fn uuid() -> String {
    let bits: u128 = rand::rng().random();
    hyphenated(uuid::Builder::from_random_bytes(bits.to_le_bytes()).into_uuid())
}

/// Lower-case and hyphenated (8-4-4-4-12), written into a buffer then copied once.
fn hyphenated(id: uuid::Uuid) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut buf = [b'-'; 36];
    let mut at = 0;
    for (i, b) in id.as_bytes().iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            at += 1;
        }
        buf[at] = HEX[usize::from(b >> 4)];
        buf[at + 1] = HEX[usize::from(b & 0xf)];
        at += 2;
    }
    String::from_utf8_lossy(&buf).into_owned()
}

/// `len` characters from `alphabet`, e.g. API Gateway's 10-character lowercase ids.
pub fn random_string(len: usize, alphabet: &[u8]) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| alphabet[rng.random_range(0..alphabet.len())] as char)
        .collect()
}

pub const LOWER_ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
pub const UPPER_ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
pub const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Lower-case hex of `bytes` random bytes.
pub fn hex(bytes: usize) -> String {
    let mut rng = rand::rng();
    (0..bytes)
        .map(|_| format!("{:02x}", rng.random::<u8>()))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn uuids_are_random_v4() {
        let (a, b) = (super::uuid(), super::request_id());
        assert_ne!(a, b);
        for id in [a, b] {
            let u = uuid::Uuid::parse_str(&id).unwrap();
            assert_eq!(u.get_version_num(), 4);
            assert_eq!(u.get_variant(), uuid::Variant::RFC4122);
            assert_eq!(id, u.hyphenated().to_string());
        }
    }
}
