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
    as_string(&request_id_bytes())
}

/// A request id as its 36 ASCII bytes, for the gateway, which makes both the context's `String`
/// and the response header's value from them without going through one to make the other.
pub fn request_id_bytes() -> [u8; 36] {
    // One u128 is two 64-bit draws; a `[u8; 16]` would be sixteen.
    let bits: u128 = REQUEST_IDS.with(|r| r.borrow_mut().random());
    hyphenated_bytes(uuid::Builder::from_random_bytes(bits.to_le_bytes()).into_uuid())
}

/// The id's text: hex digits and hyphens are ASCII, so the check cannot fail, and it is a
/// word-at-a-time pass where `from_utf8_lossy` (the former way) costs 300 instructions.
pub fn as_string(id: &[u8; 36]) -> String {
    std::str::from_utf8(id).unwrap_or_default().to_owned()
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
    as_string(&hyphenated_bytes(id))
}

fn hyphenated_bytes(id: uuid::Uuid) -> [u8; 36] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    // Where each byte's two digits go: constant offsets let the compiler drop the bounds checks.
    const AT: [usize; 16] = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
    let mut buf = [b'-'; 36];
    for (&at, b) in AT.iter().zip(id.as_bytes()) {
        buf[at] = HEX[usize::from(b >> 4)];
        buf[at + 1] = HEX[usize::from(b & 0xf)];
    }
    buf
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
