//! Why a SigV4 check failed, and what AWS answers for it: S3's codes, messages and extra
//! `<Error>` elements, and the forms other services use.

use crate::dates::{format_amz_date, format_iso8601};

/// S3's `SignatureDoesNotMatch` message.
pub const S3_SIGNATURE_MISMATCH: &str = "The request signature we calculated does not match the signature you provided. Check your key and signing method.";

/// The message every other service uses for a wrong signature.
pub const SIGNATURE_MISMATCH: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

/// Largest accepted clock difference (AWS: 15 minutes).
pub const MAX_SKEW_MILLIS: i64 = 15 * 60 * 1000;

/// A failed SigV4 check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SigError {
    /// The signature is wrong. Carries what S3 echoes back so a client can debug it.
    SignatureDoesNotMatch {
        access_key: String,
        string_to_sign: String,
        canonical_request: String,
        provided: String,
    },
    /// A presigned URL past `X-Amz-Date + X-Amz-Expires`.
    Expired {
        expires_secs: u64,
        expires_at_millis: i64,
        now_millis: i64,
    },
    /// A header-signed request whose date is more than 15 minutes from now.
    RequestTimeTooSkewed {
        request_millis: i64,
        now_millis: i64,
    },
    /// A malformed presigned query (S3 `AuthorizationQueryParametersError`); the S3 message.
    QueryParameters(String),
    /// A malformed `Authorization` header (S3 `AuthorizationHeaderMalformed`); the S3 message.
    HeaderMalformed(String),
    /// No usable `X-Amz-Date`/`Date` header.
    MissingDate,
    /// S3 requires `x-amz-content-sha256` on header-signed requests.
    MissingContentSha256,
    /// `x-amz-content-sha256` is neither a known marker nor a SHA-256.
    InvalidContentSha256,
    /// A wrong SigV2 signature: S3 echoes the string to sign but has no canonical request.
    V2SignatureDoesNotMatch {
        access_key: String,
        string_to_sign: String,
        provided: String,
    },
    /// A SigV2 presigned URL without `Expires`.
    V2QueryIncomplete,
}

/// An error as a response needs it; convert into `AwsError` (code, status, message, fields).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorDoc {
    pub code: &'static str,
    pub status: u16,
    pub message: String,
    /// Extra elements of S3's `<Error>` document, in order.
    pub fields: Vec<(&'static str, String)>,
}

impl ErrorDoc {
    fn new(code: &'static str, status: u16, message: impl Into<String>) -> Self {
        Self {
            code,
            status,
            message: message.into(),
            fields: Vec::new(),
        }
    }

    fn field(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.fields.push((name, value.into()));
        self
    }
}

fn bytes_field(s: &str) -> String {
    // S3 adds the hex bytes, space separated, so encoding problems can be spotted.
    s.bytes()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Which family of services answers: S3 has its own codes; JSON-protocol services say
/// `InvalidSignatureException` (400, 403 for rest-json ones such as Lambda), query-protocol
/// services `SignatureDoesNotMatch` (403).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    S3,
    Json,
    RestJson,
    Query,
}

impl SigError {
    /// S3's answer.
    pub fn s3(&self) -> ErrorDoc {
        match self {
            Self::SignatureDoesNotMatch {
                access_key,
                string_to_sign,
                canonical_request,
                provided,
            } => ErrorDoc::new("SignatureDoesNotMatch", 403, S3_SIGNATURE_MISMATCH)
                .field("AWSAccessKeyId", access_key)
                .field("StringToSign", string_to_sign)
                .field("SignatureProvided", provided)
                .field("StringToSignBytes", bytes_field(string_to_sign))
                .field("CanonicalRequest", canonical_request)
                .field("CanonicalRequestBytes", bytes_field(canonical_request)),
            Self::Expired {
                expires_secs,
                expires_at_millis,
                now_millis,
            } => ErrorDoc::new("AccessDenied", 403, "Request has expired")
                .field("X-Amz-Expires", expires_secs.to_string())
                .field("Expires", format_iso8601(*expires_at_millis))
                .field("ServerTime", format_iso8601(*now_millis)),
            Self::RequestTimeTooSkewed {
                request_millis,
                now_millis,
            } => ErrorDoc::new(
                "RequestTimeTooSkewed",
                403,
                "The difference between the request time and the current time is too large.",
            )
            .field("RequestTime", format_amz_date(*request_millis))
            .field("ServerTime", format_iso8601(*now_millis))
            .field("MaxAllowedSkewMilliseconds", MAX_SKEW_MILLIS.to_string()),
            Self::QueryParameters(m) => ErrorDoc::new("AuthorizationQueryParametersError", 400, m),
            Self::HeaderMalformed(m) => ErrorDoc::new("AuthorizationHeaderMalformed", 400, m),
            Self::MissingDate => ErrorDoc::new(
                "AccessDenied",
                403,
                "AWS authentication requires a valid Date or x-amz-date header",
            ),
            Self::MissingContentSha256 => ErrorDoc::new(
                "InvalidRequest",
                400,
                "Missing required header for this request: x-amz-content-sha256",
            ),
            Self::InvalidContentSha256 => ErrorDoc::new(
                "InvalidArgument",
                400,
                "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER or a valid sha256 value.",
            )
            .field("ArgumentName", "x-amz-content-sha256"),
            Self::V2SignatureDoesNotMatch {
                access_key,
                string_to_sign,
                provided,
            } => ErrorDoc::new("SignatureDoesNotMatch", 403, S3_SIGNATURE_MISMATCH)
                .field("AWSAccessKeyId", access_key)
                .field("StringToSign", string_to_sign)
                .field("SignatureProvided", provided)
                .field("StringToSignBytes", bytes_field(string_to_sign)),
            Self::V2QueryIncomplete => ErrorDoc::new(
                "AccessDenied",
                403,
                "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters",
            ),
        }
    }

    /// The answer of services other than S3.
    pub fn other(&self, flavor: Flavor) -> ErrorDoc {
        if flavor == Flavor::S3 {
            return self.s3();
        }
        let (code, status) = match flavor {
            Flavor::Json => ("InvalidSignatureException", 400),
            Flavor::RestJson => ("InvalidSignatureException", 403),
            _ => ("SignatureDoesNotMatch", 403),
        };
        match self {
            Self::RequestTimeTooSkewed {
                request_millis,
                now_millis,
            } => {
                let (req, now) = (format_amz_date(*request_millis), *now_millis);
                let message = if *request_millis < now {
                    format!(
                        "Signature expired: {req} is now earlier than {} ({} - 15 min.)",
                        format_amz_date(now - MAX_SKEW_MILLIS),
                        format_amz_date(now)
                    )
                } else {
                    format!(
                        "Signature not yet current: {req} is still later than {} ({} + 15 min.)",
                        format_amz_date(now + MAX_SKEW_MILLIS),
                        format_amz_date(now)
                    )
                };
                ErrorDoc::new(code, status, message)
            }
            Self::Expired { .. } => ErrorDoc::new(
                code,
                status,
                "Signature expired: the presigned request has expired",
            ),
            Self::SignatureDoesNotMatch { .. } | Self::V2SignatureDoesNotMatch { .. } => {
                ErrorDoc::new(code, status, SIGNATURE_MISMATCH)
            }
            Self::MissingDate => ErrorDoc::new(
                "IncompleteSignature",
                400,
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
            ),
            Self::QueryParameters(m) | Self::HeaderMalformed(m) => {
                ErrorDoc::new("IncompleteSignature", 400, m.clone())
            }
            Self::MissingContentSha256 | Self::InvalidContentSha256 | Self::V2QueryIncomplete => {
                self.s3()
            }
        }
    }
}

impl std::fmt::Display for SigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let d = self.s3();
        write!(f, "{}: {}", d.code, d.message)
    }
}

impl std::error::Error for SigError {}
