//! SigV4 as Aloft needs it, free of any HTTP server: parsing of `Authorization` headers and
//! presigned queries (every request's credential scope names the account key, region and
//! service), verification against a secret with AWS's errors, presigning, aws-chunked bodies
//! with chained chunk signatures and trailers, S3's checksums and browser POST policies.

pub mod canonical;
pub mod checksums;
pub mod chunked;
pub mod dates;
mod error;
mod parse;
pub mod post_policy;
mod sign;
mod verify;

pub use canonical::{Request, UriMode};
pub use chunked::{ChunkedDecoder, ChunkedError, ChunkedMode, Trailers};
pub use error::{ErrorDoc, Flavor, MAX_SKEW_MILLIS, SigError};
pub use parse::{Credential, SignatureParts, parse_authorization, parse_presigned};
pub use sign::{
    ALGORITHM, EMPTY_SHA256, SigningKey, StreamingContext, scope, sha256_hex, string_to_sign,
};
pub use verify::{
    ContentSha256, MAX_PRESIGNED_EXPIRES, Presign, UNSIGNED_PAYLOAD, Verified, VerifyOptions,
    check_presigned_query, presign, verify,
};
