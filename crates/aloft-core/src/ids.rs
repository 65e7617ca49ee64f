//! Identifiers that look like AWS's.

use rand::Rng;

/// A request id: a UUID v4, as most services use.
pub fn request_id() -> String {
    uuid()
}

/// A random (v4) UUID, lower-case and hyphenated.
///
/// From the thread's CSPRNG (`rand::rng()`, seeded from the OS) rather than `Uuid::new_v4`, which
/// makes a `getrandom` system call for every id, and every request has one.
pub fn uuid() -> String {
    let id = uuid::Builder::from_random_bytes(rand::rng().random()).into_uuid();
    let mut buf = uuid::Uuid::encode_buffer();
    id.hyphenated().encode_lower(&mut buf).to_string()
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
