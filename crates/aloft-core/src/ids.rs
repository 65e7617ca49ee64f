//! Identifiers that look like AWS's.

use rand::Rng;

/// A request id: a UUID v4, as most services use.
pub fn request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

pub fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
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
