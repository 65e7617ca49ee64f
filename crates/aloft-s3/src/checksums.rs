//! Flexible checksums (CRC32, CRC32C, CRC64NVME, SHA1, SHA256) and MD5 ETags, computed while
//! bodies stream so that no body is read twice.

use aloft_sigv4::checksums as sig;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};

/// The algorithms of `x-amz-checksum-*` / `x-amz-sdk-checksum-algorithm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Algo {
    CRC32,
    CRC32C,
    CRC64NVME,
    SHA1,
    SHA256,
}

impl Algo {
    pub const ALL: [Algo; 5] = [
        Algo::CRC32,
        Algo::CRC32C,
        Algo::CRC64NVME,
        Algo::SHA1,
        Algo::SHA256,
    ];

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_uppercase().as_str() {
            "CRC32" => Algo::CRC32,
            "CRC32C" => Algo::CRC32C,
            "CRC64NVME" => Algo::CRC64NVME,
            "SHA1" => Algo::SHA1,
            "SHA256" => Algo::SHA256,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Algo::CRC32 => "CRC32",
            Algo::CRC32C => "CRC32C",
            Algo::CRC64NVME => "CRC64NVME",
            Algo::SHA1 => "SHA1",
            Algo::SHA256 => "SHA256",
        }
    }

    /// `x-amz-checksum-crc32` etc.
    pub fn header(self) -> &'static str {
        match self {
            Algo::CRC32 => "x-amz-checksum-crc32",
            Algo::CRC32C => "x-amz-checksum-crc32c",
            Algo::CRC64NVME => "x-amz-checksum-crc64nvme",
            Algo::SHA1 => "x-amz-checksum-sha1",
            Algo::SHA256 => "x-amz-checksum-sha256",
        }
    }

    /// [`Algo::header`] as a ready header name.
    pub fn header_name(self) -> http::HeaderName {
        use http::HeaderName as H;
        match self {
            Algo::CRC32 => const { H::from_static("x-amz-checksum-crc32") },
            Algo::CRC32C => const { H::from_static("x-amz-checksum-crc32c") },
            Algo::CRC64NVME => const { H::from_static("x-amz-checksum-crc64nvme") },
            Algo::SHA1 => const { H::from_static("x-amz-checksum-sha1") },
            Algo::SHA256 => const { H::from_static("x-amz-checksum-sha256") },
        }
    }

    /// The member name in XML outputs (`ChecksumCRC32`).
    pub fn member(self) -> &'static str {
        match self {
            Algo::CRC32 => "ChecksumCRC32",
            Algo::CRC32C => "ChecksumCRC32C",
            Algo::CRC64NVME => "ChecksumCRC64NVME",
            Algo::SHA1 => "ChecksumSHA1",
            Algo::SHA256 => "ChecksumSHA256",
        }
    }

    /// Length of the raw digest, to validate a client's base64 value.
    pub fn digest_len(self) -> usize {
        match self {
            Algo::CRC32 | Algo::CRC32C => 4,
            Algo::CRC64NVME => 8,
            Algo::SHA1 => 20,
            Algo::SHA256 => 32,
        }
    }

    pub fn sig(self) -> sig::ChecksumAlgorithm {
        match self {
            Algo::CRC32 => sig::ChecksumAlgorithm::Crc32,
            Algo::CRC32C => sig::ChecksumAlgorithm::Crc32c,
            Algo::CRC64NVME => sig::ChecksumAlgorithm::Crc64Nvme,
            Algo::SHA1 => sig::ChecksumAlgorithm::Sha1,
            Algo::SHA256 => sig::ChecksumAlgorithm::Sha256,
        }
    }

    pub fn from_sig(a: sig::ChecksumAlgorithm) -> Self {
        match a {
            sig::ChecksumAlgorithm::Crc32 => Algo::CRC32,
            sig::ChecksumAlgorithm::Crc32c => Algo::CRC32C,
            sig::ChecksumAlgorithm::Crc64Nvme => Algo::CRC64NVME,
            sig::ChecksumAlgorithm::Sha1 => Algo::SHA1,
            sig::ChecksumAlgorithm::Sha256 => Algo::SHA256,
        }
    }

    /// CRCs combine into a full-object checksum across parts; SHAs only into composites.
    pub fn is_crc(self) -> bool {
        matches!(self, Algo::CRC32 | Algo::CRC32C | Algo::CRC64NVME)
    }
}

/// A running checksum (aloft-sigv4's hashers).
pub struct Hasher(sig::Checksummer);

impl Hasher {
    pub fn new(algo: Algo) -> Self {
        Hasher(sig::Checksummer::new(algo.sig()))
    }

    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    /// The digest as base64, as S3 carries checksums.
    pub fn finish(self) -> String {
        self.0.finish().to_base64()
    }
}

/// One-shot checksum of bytes in memory.
pub fn checksum(algo: Algo, data: &[u8]) -> String {
    let mut h = Hasher::new(algo);
    h.update(data);
    h.finish()
}

/// True when `value` is base64 of a digest of the algorithm's length.
pub fn well_formed(algo: Algo, value: &str) -> bool {
    B64.decode(value)
        .is_ok_and(|raw| raw.len() == algo.digest_len())
}

/// The composite checksum of a multipart object: the checksum of the parts' raw checksums,
/// suffixed with `-N` (S3's `COMPOSITE` type).
pub fn composite(algo: Algo, parts: &[&str]) -> Option<String> {
    let parts: Option<Vec<_>> = parts
        .iter()
        .map(|p| sig::Checksum::from_base64(algo.sig(), p))
        .collect();
    sig::composite_checksum(&parts?)
}

/// The FULL_OBJECT checksum of a multipart object: part CRCs combined by length.
pub fn full_object(algo: Algo, parts: &[(&str, u64)]) -> Option<String> {
    let parts: Option<Vec<_>> = parts
        .iter()
        .map(|(p, len)| sig::Checksum::from_base64(algo.sig(), p).map(|c| (c, *len)))
        .collect();
    sig::combine_full_object(&parts?).map(|c| c.to_base64())
}

/// The multipart ETag: MD5 of the parts' binary MD5s, then `-N`.
pub fn multipart_etag(part_etags: &[&str]) -> String {
    let mut h = sig::Md5::new();
    for e in part_etags {
        if let Ok(raw) = hex::decode(e.trim_matches('"')) {
            h.update(&raw);
        }
    }
    format!("{}-{}", hex::encode(h.finish()), part_etags.len())
}

pub fn md5_hex(data: &[u8]) -> String {
    hex::encode(sig::md5(data))
}

pub fn md5_b64(data: &[u8]) -> String {
    B64.encode(sig::md5(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors() {
        // Check values from the AWS SDK checksum tests for "Hello world".
        assert_eq!(checksum(Algo::CRC32, b"Hello world"), "i9aeUg==");
        assert_eq!(checksum(Algo::CRC32C, b"Hello world"), "crUfeA==");
        assert_eq!(checksum(Algo::CRC64NVME, b"Hello world"), "OOJZ0D8xKts=");
        assert_eq!(
            checksum(Algo::SHA1, b"Hello world"),
            "e1AsOh9IyGCa4hLN+2Od7jlnP14="
        );
        assert_eq!(
            checksum(Algo::SHA256, b"Hello world"),
            "ZOyIygCyaOW6GjVnihtTFtIS9PNmskdyMlNKiuyjfzw="
        );
        assert_eq!(md5_hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
        assert!(well_formed(Algo::CRC32, "i9aeUg=="));
        assert!(!well_formed(Algo::CRC32, "nope"));
    }

    #[test]
    fn multipart_etag_matches_s3() {
        let a = md5_hex(b"a");
        let b = md5_hex(b"b");
        let e = multipart_etag(&[&a, &b]);
        assert!(e.ends_with("-2"));
        assert_eq!(e.len(), 34);
    }
}
