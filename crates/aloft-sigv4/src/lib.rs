//! SigV4 as Aloft needs it, free of any HTTP server: parsing of `Authorization` headers and
//! presigned queries (every request's credential scope names the account key, region and
//! service), signing primitives, aws-chunked bodies with chained chunk signatures and trailers,
//! and S3's checksums.

pub mod checksums;
pub mod chunked;
pub mod dates;
mod error;
mod parse;
mod sign;

pub use chunked::{ChunkedDecoder, ChunkedError, ChunkedMode, Trailers};
pub use error::{ErrorDoc, Flavor, MAX_SKEW_MILLIS, SigError};
pub use parse::{Credential, SignatureParts, parse_authorization, parse_presigned};
pub use sign::{
    ALGORITHM, EMPTY_SHA256, SigningKey, StreamingContext, scope, sha256_hex, string_to_sign,
};
