//! SigV4 as Aloft needs it, free of any HTTP server: parsing of `Authorization` headers and
//! presigned queries (every request's credential scope names the account key, region and
//! service), verification against a secret with AWS's errors, presigning, aws-chunked bodies
//! with chained chunk signatures and trailers, S3's checksums and browser POST policies.
//!
//! # Verifying a request
//! Build a [`Request`] from the method, wire path, raw query and headers, take the
//! [`SignatureParts`] the gateway parsed, look up the access key's secret, and call [`verify`]
//! with [`VerifyOptions`] (now from Aloft's clock, [`UriMode::for_service`], and for services
//! other than S3 the body's hex SHA-256). Errors are [`SigError`]s; `.s3()` or
//! `.other(Flavor::Json | RestJson | Query)` give code, status, message and S3's extra fields.
//!
//! # aws-chunked bodies (S3 PUT/UploadPart)
//! [`ChunkedMode::detect`] from `x-amz-content-sha256` and `Content-Encoding`; then
//! [`ChunkedDecoder::new`] with `x-amz-decoded-content-length` and, to check chunk signatures,
//! [`Verified::streaming_context`]. Feed each body frame to [`ChunkedDecoder::decode`] (returns
//! ranges into the frame: no copy) or [`ChunkedDecoder::push`]; [`ChunkedDecoder::finish`]
//! returns the [`Trailers`]. Compare `Trailers::checksum()` with a
//! [`checksums::Checksummer`] run over the payload.
//!
//! # Fuzz entry points (bytes or text in, never a panic)
//! [`parse_authorization`], [`parse_presigned`], [`check_presigned_query`],
//! [`chunked::decode_all`] (and [`ChunkedDecoder::decode`] with arbitrary splits),
//! [`post_policy::PostPolicy::parse`] then [`post_policy::PostPolicy::check`],
//! [`ContentSha256::parse`], [`checksums::Checksum::from_base64`],
//! [`canonical::canonical_uri`], [`canonical::canonical_query`], and the parsers of [`dates`].

pub mod canonical;
pub mod checksums;
pub mod chunked;
pub mod dates;
mod digest_md5;
mod error;
mod parse;
pub mod post_policy;
mod sign;
pub mod sigv2;
mod verify;

pub use canonical::{Request, UriMode};
pub use chunked::{ChunkedDecoder, ChunkedError, ChunkedMode, Trailers};
pub use error::{ErrorDoc, Flavor, MAX_SKEW_MILLIS, SigError};
pub use parse::{Credential, SignatureParts, parse_authorization, parse_presigned};
pub use sign::{
    ALGORITHM, EMPTY_SHA256, SigningKey, StreamingContext, scope, sha256_hex, string_to_sign,
};
pub use sigv2::{V2Signature, parse_v2, verify_v2};
pub use verify::{
    ContentSha256, MAX_PRESIGNED_EXPIRES, Presign, UNSIGNED_PAYLOAD, Verified, VerifyOptions,
    check_presigned_query, presign, verify,
};
