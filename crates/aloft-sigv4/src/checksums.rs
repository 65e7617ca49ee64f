//! S3's flexible checksums (CRC32, CRC32C, CRC64NVME, SHA1, SHA256) and MD5, as incremental hashers
//! with the base64 forms S3 puts in `x-amz-checksum-*` headers, plus the multipart forms:
//! COMPOSITE ("checksum of checksums", `BASE64-N`) and FULL_OBJECT (CRCs combined by length).
//!
//! CRCs use `crc-fast` (the crate AWS's own Rust SDK uses; SIMD carry-less multiplication), SHA-256
//! picks SHA-NI at run time, so the hot loop of an S3 PUT is bounded by MD5 (the ETag).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use crc_fast::CrcAlgorithm;
use md5::Digest as _;

/// The checksum algorithms of S3's `x-amz-checksum-algorithm` / `ChecksumAlgorithm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChecksumAlgorithm {
    Crc32,
    Crc32c,
    Crc64Nvme,
    Sha1,
    Sha256,
}

impl ChecksumAlgorithm {
    pub const ALL: [Self; 5] = [
        Self::Crc32,
        Self::Crc32c,
        Self::Crc64Nvme,
        Self::Sha1,
        Self::Sha256,
    ];

    /// Parses the model's enum value (`CRC32`, `CRC32C`, `CRC64NVME`, `SHA1`, `SHA256`); S3 accepts
    /// any case in `x-amz-checksum-algorithm` / `x-amz-sdk-checksum-algorithm`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(name))
    }

    /// The model's enum value, e.g. `CRC64NVME`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Crc32 => "CRC32",
            Self::Crc32c => "CRC32C",
            Self::Crc64Nvme => "CRC64NVME",
            Self::Sha1 => "SHA1",
            Self::Sha256 => "SHA256",
        }
    }

    /// The header (and trailer) that carries it, e.g. `x-amz-checksum-crc32c`.
    pub fn header_name(self) -> &'static str {
        match self {
            Self::Crc32 => "x-amz-checksum-crc32",
            Self::Crc32c => "x-amz-checksum-crc32c",
            Self::Crc64Nvme => "x-amz-checksum-crc64nvme",
            Self::Sha1 => "x-amz-checksum-sha1",
            Self::Sha256 => "x-amz-checksum-sha256",
        }
    }

    /// Inverse of [`Self::header_name`], case-insensitive.
    pub fn from_header_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|a| a.header_name().eq_ignore_ascii_case(name))
    }

    /// Raw digest length in bytes (what the base64 form must decode to).
    pub fn digest_len(self) -> usize {
        match self {
            Self::Crc32 | Self::Crc32c => 4,
            Self::Crc64Nvme => 8,
            Self::Sha1 => 20,
            Self::Sha256 => 32,
        }
    }

    /// Only CRCs can be combined into a FULL_OBJECT checksum of a multipart upload.
    pub fn supports_full_object(self) -> bool {
        matches!(self, Self::Crc32 | Self::Crc32c | Self::Crc64Nvme)
    }

    /// Only CRC64NVME cannot be COMPOSITE (S3 rejects that pairing).
    pub fn supports_composite(self) -> bool {
        self != Self::Crc64Nvme
    }

    fn crc(self) -> Option<CrcAlgorithm> {
        match self {
            Self::Crc32 => Some(CrcAlgorithm::Crc32IsoHdlc),
            Self::Crc32c => Some(CrcAlgorithm::Crc32Iscsi),
            Self::Crc64Nvme => Some(CrcAlgorithm::Crc64Nvme),
            Self::Sha1 | Self::Sha256 => None,
        }
    }
}

/// A finished digest (at most 32 bytes), printable in S3's base64 form.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Checksum {
    algorithm: ChecksumAlgorithm,
    bytes: [u8; 32],
}

impl Checksum {
    /// Builds from raw digest bytes; `None` if the length is wrong for the algorithm.
    pub fn from_bytes(algorithm: ChecksumAlgorithm, raw: &[u8]) -> Option<Self> {
        if raw.len() != algorithm.digest_len() {
            return None;
        }
        let mut bytes = [0; 32];
        bytes[..raw.len()].copy_from_slice(raw);
        Some(Self { algorithm, bytes })
    }

    /// Parses a header value such as `x-amz-checksum-crc32: AAAAAA==`. `None` when it is not
    /// base64 or decodes to the wrong length: S3 answers that with `InvalidRequest` "Value for
    /// x-amz-checksum-crc32 header is invalid."
    pub fn from_base64(algorithm: ChecksumAlgorithm, text: &str) -> Option<Self> {
        let raw = B64.decode(text.trim()).ok()?;
        Self::from_bytes(algorithm, &raw)
    }

    fn from_crc(algorithm: ChecksumAlgorithm, value: u64) -> Self {
        let mut bytes = [0; 32];
        if algorithm.digest_len() == 4 {
            // The CRC32 family is 32 bits wide; crc-fast returns it in the low half.
            #[allow(clippy::cast_possible_truncation)]
            bytes[..4].copy_from_slice(&(value as u32).to_be_bytes());
        } else {
            bytes[..8].copy_from_slice(&value.to_be_bytes());
        }
        Self { algorithm, bytes }
    }

    pub fn algorithm(&self) -> ChecksumAlgorithm {
        self.algorithm
    }

    /// The raw digest, big-endian for CRCs.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.algorithm.digest_len()]
    }

    /// The form S3 sends and expects in `x-amz-checksum-*`.
    pub fn to_base64(&self) -> String {
        B64.encode(self.as_bytes())
    }

    /// The CRC as a number (`None` for SHA digests).
    pub fn crc_value(&self) -> Option<u64> {
        self.algorithm.crc()?;
        let raw = self.as_bytes();
        Some(raw.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }
}

impl std::fmt::Debug for Checksum {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.algorithm.as_str(), self.to_base64())
    }
}

enum Inner {
    Crc(crc_fast::Digest),
    Sha1(sha1::Sha1),
    Sha256(sha2::Sha256),
}

/// An incremental hasher for one [`ChecksumAlgorithm`].
pub struct Checksummer {
    algorithm: ChecksumAlgorithm,
    inner: Inner,
    len: u64,
}

impl Checksummer {
    pub fn new(algorithm: ChecksumAlgorithm) -> Self {
        let inner = match algorithm.crc() {
            Some(crc) => Inner::Crc(crc_fast::Digest::new(crc)),
            None if algorithm == ChecksumAlgorithm::Sha1 => Inner::Sha1(sha1::Sha1::new()),
            None => Inner::Sha256(sha2::Sha256::new()),
        };
        Self {
            algorithm,
            inner,
            len: 0,
        }
    }

    pub fn algorithm(&self) -> ChecksumAlgorithm {
        self.algorithm
    }

    pub fn update(&mut self, data: &[u8]) {
        self.len += data.len() as u64;
        match &mut self.inner {
            Inner::Crc(d) => d.update(data),
            Inner::Sha1(d) => d.update(data),
            Inner::Sha256(d) => d.update(data),
        }
    }

    /// Bytes hashed so far (what a FULL_OBJECT combination needs for each part).
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn finish(self) -> Checksum {
        match self.inner {
            Inner::Crc(d) => Checksum::from_crc(self.algorithm, d.finalize()),
            Inner::Sha1(d) => Checksum::from_bytes(self.algorithm, &d.finalize())
                .expect("sha1 digest is 20 bytes"),
            Inner::Sha256(d) => Checksum::from_bytes(self.algorithm, &d.finalize())
                .expect("sha256 digest is 32 bytes"),
        }
    }
}

/// One-shot helper.
pub fn checksum(algorithm: ChecksumAlgorithm, data: &[u8]) -> Checksum {
    let mut c = Checksummer::new(algorithm);
    c.update(data);
    c.finish()
}

/// The COMPOSITE checksum of a multipart upload: the algorithm applied to the concatenated raw
/// part digests, printed `BASE64-N` (N = number of parts), as S3 shows it after
/// CompleteMultipartUpload. `None` if a part's algorithm differs or the list is empty.
pub fn composite_checksum(parts: &[Checksum]) -> Option<String> {
    let algorithm = parts.first()?.algorithm;
    let mut c = Checksummer::new(algorithm);
    for p in parts {
        if p.algorithm != algorithm {
            return None;
        }
        c.update(p.as_bytes());
    }
    Some(format!("{}-{}", c.finish().to_base64(), parts.len()))
}

/// The FULL_OBJECT checksum of a multipart upload: the part CRCs combined as if the whole object
/// had been hashed in one pass. Each part is its checksum and its length in bytes. `None` for
/// SHA algorithms, mixed algorithms or an empty list.
pub fn combine_full_object(parts: &[(Checksum, u64)]) -> Option<Checksum> {
    let (first, _) = parts.first()?;
    let algorithm = first.algorithm;
    let crc = algorithm.crc()?;
    let mut acc = first.crc_value()?;
    for (p, len) in &parts[1..] {
        if p.algorithm != algorithm {
            return None;
        }
        acc = crc_fast::checksum_combine(crc, acc, p.crc_value()?, *len);
    }
    Some(Checksum::from_crc(algorithm, acc))
}

/// Incremental MD5: `Content-MD5` (base64) and S3 ETags (hex).
pub use crate::digest_md5::Md5;

/// MD5 of a buffer.
pub fn md5(data: &[u8]) -> [u8; 16] {
    let mut m = Md5::new();
    m.update(data);
    m.finish()
}

/// Lower-case hex (ETags, SigV4 hashes).
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

/// Base64 (the `Content-MD5` form).
pub fn to_base64(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

/// Parses a `Content-MD5` header: `None` unless it is base64 of exactly 16 bytes (S3:
/// `InvalidDigest` "The Content-MD5 you specified was invalid.").
pub fn parse_content_md5(value: &str) -> Option<[u8; 16]> {
    B64.decode(value.trim()).ok()?.try_into().ok()
}

/// The ETag S3 gives a multipart object: MD5 of the concatenated part MD5s, then `-N`, quoted.
pub fn multipart_etag(part_md5s: &[[u8; 16]]) -> String {
    let mut m = Md5::new();
    for p in part_md5s {
        m.update(p);
    }
    format!("\"{}-{}\"", to_hex(&m.finish()), part_md5s.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    // The catalogued check values (CRC of "123456789") of each CRC variant.
    #[test]
    fn crc_check_values() {
        let c = |a| checksum(a, b"123456789").crc_value().unwrap();
        assert_eq!(c(ChecksumAlgorithm::Crc32), 0xcbf4_3926);
        assert_eq!(c(ChecksumAlgorithm::Crc32c), 0xe306_9283);
        assert_eq!(c(ChecksumAlgorithm::Crc64Nvme), 0xae8b_1486_0a79_9888);
    }

    #[test]
    fn base64_forms_match_the_sdks() {
        // Empty bodies: values the SDKs send for a zero-length PutObject.
        let e = |a| checksum(a, b"").to_base64();
        assert_eq!(e(ChecksumAlgorithm::Crc32), "AAAAAA==");
        assert_eq!(e(ChecksumAlgorithm::Crc32c), "AAAAAA==");
        assert_eq!(e(ChecksumAlgorithm::Crc64Nvme), "AAAAAAAAAAA=");
        assert_eq!(e(ChecksumAlgorithm::Sha1), "2jmj7l5rSw0yVb/vlWAYkK/YBwk=");
        assert_eq!(
            e(ChecksumAlgorithm::Sha256),
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
        // "Hello world", cross-checked with a bitwise reference implementation and hashlib.
        let h = |a| checksum(a, b"Hello world").to_base64();
        assert_eq!(h(ChecksumAlgorithm::Crc32), "i9aeUg==");
        assert_eq!(h(ChecksumAlgorithm::Crc32c), "crUfeA==");
        assert_eq!(h(ChecksumAlgorithm::Crc64Nvme), "OOJZ0D8xKts=");
        assert_eq!(h(ChecksumAlgorithm::Sha1), "e1AsOh9IyGCa4hLN+2Od7jlnP14=");
        assert_eq!(
            h(ChecksumAlgorithm::Sha256),
            "ZOyIygCyaOW6GjVnihtTFtIS9PNmskdyMlNKiuyjfzw="
        );
    }

    #[test]
    fn incremental_equals_one_shot() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
        for a in ChecksumAlgorithm::ALL {
            let mut c = Checksummer::new(a);
            for piece in data.chunks(777) {
                c.update(piece);
            }
            assert_eq!(c.len(), data.len() as u64);
            assert_eq!(c.finish(), checksum(a, &data), "{a:?}");
        }
    }

    #[test]
    fn names_round_trip() {
        for a in ChecksumAlgorithm::ALL {
            assert_eq!(ChecksumAlgorithm::from_name(a.as_str()), Some(a));
            assert_eq!(
                ChecksumAlgorithm::from_name(&a.as_str().to_lowercase()),
                Some(a)
            );
            assert_eq!(
                ChecksumAlgorithm::from_header_name(a.header_name()),
                Some(a)
            );
        }
        assert_eq!(ChecksumAlgorithm::from_name("MD5"), None);
    }

    #[test]
    fn parses_and_rejects_header_values() {
        let c = Checksum::from_base64(ChecksumAlgorithm::Crc32, "i9aeUg==").unwrap();
        assert_eq!(c, checksum(ChecksumAlgorithm::Crc32, b"Hello world"));
        assert!(Checksum::from_base64(ChecksumAlgorithm::Crc32, "AAAAAAAAAAA=").is_none());
        assert!(Checksum::from_base64(ChecksumAlgorithm::Sha256, "not base64!").is_none());
    }

    #[test]
    fn full_object_combination_equals_one_pass() {
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
        let cuts = [0, 131_072, 200_001, data.len()];
        for a in [
            ChecksumAlgorithm::Crc32,
            ChecksumAlgorithm::Crc32c,
            ChecksumAlgorithm::Crc64Nvme,
        ] {
            let parts: Vec<(Checksum, u64)> = cuts
                .windows(2)
                .map(|w| {
                    let p = &data[w[0]..w[1]];
                    (checksum(a, p), p.len() as u64)
                })
                .collect();
            assert_eq!(combine_full_object(&parts), Some(checksum(a, &data)));
        }
        let sha = [(checksum(ChecksumAlgorithm::Sha256, b"x"), 1)];
        assert_eq!(combine_full_object(&sha), None);
    }

    #[test]
    fn composite_is_hash_of_raw_part_digests() {
        let p1 = checksum(ChecksumAlgorithm::Sha256, b"part one");
        let p2 = checksum(ChecksumAlgorithm::Sha256, b"part two");
        let mut raw = p1.as_bytes().to_vec();
        raw.extend_from_slice(p2.as_bytes());
        let expect = format!(
            "{}-2",
            checksum(ChecksumAlgorithm::Sha256, &raw).to_base64()
        );
        assert_eq!(composite_checksum(&[p1, p2]).unwrap(), expect);
        let mixed = [p1, checksum(ChecksumAlgorithm::Crc32, b"x")];
        assert_eq!(composite_checksum(&mixed), None);
    }

    #[test]
    fn md5_and_etags() {
        assert_eq!(to_hex(&md5(b"")), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(
            parse_content_md5("1B2M2Y8AsgTpgAmY7PhCfg=="),
            Some(md5(b""))
        );
        assert_eq!(parse_content_md5("AAAA"), None);
        // Two parts: MD5 over the two binary MD5s.
        let parts = [md5(b"a"), md5(b"b")];
        let mut cat = parts[0].to_vec();
        cat.extend_from_slice(&parts[1]);
        assert_eq!(
            multipart_etag(&parts),
            format!("\"{}-2\"", to_hex(&md5(&cat)))
        );
    }
}
