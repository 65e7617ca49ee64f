//! The SigV4 primitives: signing key derivation, string to sign, HMAC signatures, and the chained
//! signatures of aws-chunked bodies (chunks and trailers).

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::checksums::to_hex;

type HmacSha256 = Hmac<Sha256>;

/// Hex SHA-256 of the empty string (the payload hash of bodiless requests and of each chunk
/// signature's "previous headers" slot).
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// The one SigV4 algorithm Aloft verifies.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut m = HmacSha256::new_from_slice(key).expect("HMAC accepts any key length");
    m.update(data);
    m.finalize().into_bytes().into()
}

/// Hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    to_hex(&Sha256::digest(data))
}

/// `kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")`.
/// Valid for one day, region and service: callers may cache it by credential scope.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKey([u8; 32]);

impl SigningKey {
    /// `date` is the scope's `YYYYMMDD`.
    pub fn derive(secret: &str, date: &str, region: &str, service: &str) -> Self {
        let k = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
        let k = hmac(&k, region.as_bytes());
        let k = hmac(&k, service.as_bytes());
        Self(hmac(&k, b"aws4_request"))
    }

    /// Lower-case hex HMAC-SHA256 of `string_to_sign`: the `Signature=` value.
    pub fn sign(&self, string_to_sign: &str) -> String {
        to_hex(&hmac(&self.0, string_to_sign.as_bytes()))
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(..)")
    }
}

/// `AKID`-less credential scope: `20130524/us-east-1/s3/aws4_request`.
pub fn scope(date: &str, region: &str, service: &str) -> String {
    format!("{date}/{region}/{service}/aws4_request")
}

/// `AWS4-HMAC-SHA256\n<amz-date>\n<scope>\n<hex sha256(canonical request)>`.
pub fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        sha256_hex(canonical_request.as_bytes())
    )
}

/// What the chained signatures of an aws-chunked body need: the request's signing key, date and
/// scope, and the request's own (seed) signature.
#[derive(Clone, Debug)]
pub struct StreamingContext {
    pub key: SigningKey,
    /// `X-Amz-Date` of the request, `YYYYMMDDTHHMMSSZ`.
    pub amz_date: String,
    /// `date/region/service/aws4_request`.
    pub scope: String,
    /// The request's signature (from `Authorization`), which the first chunk chains from.
    pub seed_signature: String,
}

impl StreamingContext {
    /// Signature of one chunk given the previous signature and the hex SHA-256 of its data.
    pub fn chunk_signature(&self, previous: &str, data_sha256_hex: &str) -> String {
        self.key.sign(&format!(
            "AWS4-HMAC-SHA256-PAYLOAD\n{}\n{}\n{previous}\n{EMPTY_SHA256}\n{data_sha256_hex}",
            self.amz_date, self.scope
        ))
    }

    /// Signature of the trailer section given the final chunk's signature. `canonical_trailers`
    /// is each trailer as `name:value\n` in the order sent (the signature line excluded).
    pub fn trailer_signature(&self, previous: &str, canonical_trailers: &str) -> String {
        self.key.sign(&format!(
            "AWS4-HMAC-SHA256-TRAILER\n{}\n{}\n{previous}\n{}",
            self.amz_date,
            self.scope,
            sha256_hex(canonical_trailers.as_bytes())
        ))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    /// The S3 chunked upload example ("Example: PUT Object" in the S3 API reference).
    pub fn s3_example_context() -> StreamingContext {
        StreamingContext {
            key: SigningKey::derive(SECRET, "20130524", "us-east-1", "s3"),
            amz_date: "20130524T000000Z".into(),
            scope: scope("20130524", "us-east-1", "s3"),
            seed_signature: "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
                .into(),
        }
    }

    #[test]
    fn derives_the_documented_signing_key() {
        // AWS General Reference, "Examples of how to derive a signing key for Signature Version 4".
        // (Its example secret has a '+' where the S3 examples have a '/'.)
        let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
        let k = SigningKey::derive(secret, "20120215", "us-east-1", "iam");
        assert_eq!(
            to_hex(k.as_bytes()),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
        );
    }

    #[test]
    fn chains_the_documented_chunk_signatures() {
        let ctx = s3_example_context();
        let c1 = ctx.chunk_signature(&ctx.seed_signature, &sha256_hex(&[b'a'; 65536]));
        assert_eq!(
            c1,
            "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"
        );
        let c2 = ctx.chunk_signature(&c1, &sha256_hex(&[b'a'; 1024]));
        assert_eq!(
            c2,
            "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"
        );
        let c3 = ctx.chunk_signature(&c2, EMPTY_SHA256);
        assert_eq!(
            c3,
            "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"
        );
    }
}
