//! Verification of header-signed and presigned requests against a secret key, with AWS's checks
//! and their order: parameters, dates (skew or expiry, against Aloft's clock), then the
//! signature. Also `presign` for URLs Aloft hands out.

use crate::canonical::{Request, UriMode, canonical_request, uri_encode};
use crate::dates::{format_amz_date, parse_amz_date, parse_http_date};
use crate::error::{MAX_SKEW_MILLIS, SigError};
use crate::parse::SignatureParts;
use crate::sign::{ALGORITHM, EMPTY_SHA256, SigningKey, StreamingContext, scope, string_to_sign};

/// Longest validity of a presigned URL (seven days).
pub const MAX_PRESIGNED_EXPIRES: u64 = 604_800;

/// The `x-amz-content-sha256` payload markers and S3's unsigned one.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// What `verify` needs besides the request.
#[derive(Debug, Clone, Copy)]
pub struct VerifyOptions<'a> {
    /// Now, from Aloft's clock (`aloft_core::clock::now_millis()`).
    pub now_millis: i64,
    /// [`UriMode::S3`] for S3, [`UriMode::DEFAULT`] otherwise ([`UriMode::for_service`]).
    pub uri: UriMode,
    /// Hex SHA-256 of the body, for services whose clients sign the real payload hash (all but
    /// S3). `None` for S3: the hash is then the `x-amz-content-sha256` header (required on
    /// header-signed requests), or `UNSIGNED-PAYLOAD` for presigned URLs without it.
    pub payload_hash: Option<&'a str>,
}

/// A verified request: what the rest of the request (aws-chunked bodies) needs.
#[derive(Debug, Clone)]
pub struct Verified {
    pub key: SigningKey,
    /// `X-Amz-Date` (or the `Date` header rewritten in that form).
    pub amz_date: String,
    pub request_millis: i64,
    pub scope: String,
    pub signature: String,
    /// The payload hash that was signed (`x-amz-content-sha256` for S3).
    pub payload_hash: String,
}

impl Verified {
    /// The context that verifies the chained signatures of an aws-chunked body.
    pub fn streaming_context(&self) -> StreamingContext {
        StreamingContext {
            key: self.key.clone(),
            amz_date: self.amz_date.clone(),
            scope: self.scope.clone(),
            seed_signature: self.signature.clone(),
        }
    }
}

/// What `x-amz-content-sha256` says about the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentSha256 {
    /// `UNSIGNED-PAYLOAD`.
    Unsigned,
    /// A `STREAMING-*` marker: an aws-chunked body.
    Streaming(crate::chunked::ChunkedMode),
    /// The body's SHA-256, to be checked once it is read (S3: `XAmzContentSHA256Mismatch`).
    Sha256([u8; 32]),
}

impl ContentSha256 {
    /// Parses a header value; S3 answers `InvalidArgument` for anything else (the SigV4a ECDSA
    /// markers included: Aloft does not verify SigV4a).
    pub fn parse(value: &str) -> Result<Self, SigError> {
        if value == UNSIGNED_PAYLOAD {
            return Ok(Self::Unsigned);
        }
        if let Some(mode) = crate::chunked::ChunkedMode::from_content_sha256(value) {
            return Ok(Self::Streaming(mode));
        }
        let b = value.as_bytes();
        if b.len() != 64 || !b.iter().all(u8::is_ascii_hexdigit) {
            return Err(SigError::InvalidContentSha256);
        }
        let mut out = [0u8; 32];
        for (i, pair) in b.chunks(2).enumerate() {
            let hi = char::from(pair[0]).to_digit(16).unwrap_or(0);
            let lo = char::from(pair[1]).to_digit(16).unwrap_or(0);
            out[i] = u8::try_from(hi * 16 + lo).unwrap_or(0);
        }
        Ok(Self::Sha256(out))
    }
}

fn query_param<'q>(query: &'q str, name: &str) -> Option<&'q str> {
    query
        .split('&')
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn query_error(message: &str) -> SigError {
    SigError::QueryParameters(message.to_string())
}

/// Checks a presigned URL's `X-Amz-*` parameters before any signature work, with S3's messages.
/// `query` is the raw query string. `Ok(None)` when the query is not a SigV4 presigned one.
pub fn check_presigned_query(query: &str) -> Result<Option<(i64, u64)>, SigError> {
    let Some(algorithm) = query_param(query, "X-Amz-Algorithm") else {
        return Ok(None);
    };
    if algorithm != ALGORITHM {
        return Err(query_error(
            "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"",
        ));
    }
    let required = [
        "X-Amz-Credential",
        "X-Amz-Signature",
        "X-Amz-Date",
        "X-Amz-SignedHeaders",
        "X-Amz-Expires",
    ];
    if required.iter().any(|p| query_param(query, p).is_none()) {
        return Err(query_error(
            "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.",
        ));
    }
    let credential = query_param(query, "X-Amz-Credential").unwrap_or_default();
    let credential = percent_encoding::percent_decode_str(credential).decode_utf8_lossy();
    if crate::parse::Credential::parse(&credential).is_none() {
        return Err(query_error(
            "Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".",
        ));
    }
    let date = query_param(query, "X-Amz-Date").unwrap_or_default();
    let Some(date_millis) = parse_amz_date(date) else {
        return Err(query_error(
            "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"",
        ));
    };
    let expires = query_param(query, "X-Amz-Expires").unwrap_or_default();
    let expires: i64 = expires
        .parse()
        .map_err(|_| query_error("X-Amz-Expires should be a number"))?;
    if expires < 0 {
        return Err(query_error("X-Amz-Expires must be non-negative"));
    }
    let expires = expires.cast_unsigned();
    if expires > MAX_PRESIGNED_EXPIRES {
        return Err(query_error(
            "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds",
        ));
    }
    Ok(Some((date_millis, expires)))
}

/// Verifies a request signed with `secret` (the secret of `sig.credential.access_key`).
pub fn verify(
    req: &Request<'_>,
    sig: &SignatureParts,
    secret: &str,
    opts: &VerifyOptions<'_>,
) -> Result<Verified, SigError> {
    // Decided from the request, not from `sig`, so a presigned URL missing `X-Amz-Date` is
    // refused for that rather than checked as header-signed.
    let presigned = req.header("authorization").is_none()
        && query_param(req.query, "X-Amz-Algorithm").is_some();
    let (request_millis, amz_date) = if presigned {
        let (date, expires) =
            check_presigned_query(req.query)?.ok_or_else(|| query_error("X-Amz-Algorithm"))?;
        let expires_at = date + i64::try_from(expires).unwrap_or(i64::MAX) * 1000;
        if opts.now_millis > expires_at {
            return Err(SigError::Expired {
                expires_secs: expires,
                expires_at_millis: expires_at,
                now_millis: opts.now_millis,
            });
        }
        (date, format_amz_date(date))
    } else {
        let (millis, text) = header_date(req)?;
        if (opts.now_millis - millis).abs() > MAX_SKEW_MILLIS {
            return Err(SigError::RequestTimeTooSkewed {
                request_millis: millis,
                now_millis: opts.now_millis,
            });
        }
        (millis, text)
    };

    let cred = &sig.credential;
    if cred.date != amz_date[..8] {
        let m = "Invalid credential date. Date is not the same as X-Amz-Date.";
        return Err(if presigned {
            query_error(m)
        } else {
            SigError::HeaderMalformed(format!("The authorization header is malformed; {m}"))
        });
    }

    let payload_hash = match opts.payload_hash {
        Some(h) => h.to_string(),
        None => match req.header("x-amz-content-sha256") {
            Some(v) => {
                ContentSha256::parse(v)?;
                v.to_string()
            }
            None if presigned => UNSIGNED_PAYLOAD.to_string(),
            None => return Err(SigError::MissingContentSha256),
        },
    };

    let canonical = canonical_request(req, &sig.signed_headers, &payload_hash, opts.uri, presigned);
    let scope = scope(&cred.date, &cred.region, &cred.service);
    let sts = string_to_sign(&amz_date, &scope, &canonical);
    let key = SigningKey::derive(secret, &cred.date, &cred.region, &cred.service);
    let expected = key.sign(&sts);
    if !constant_time_eq(expected.as_bytes(), sig.signature.as_bytes()) {
        return Err(SigError::SignatureDoesNotMatch {
            access_key: cred.access_key.clone(),
            string_to_sign: sts,
            canonical_request: canonical,
            provided: sig.signature.clone(),
        });
    }
    Ok(Verified {
        key,
        amz_date,
        request_millis,
        scope,
        signature: expected,
        payload_hash,
    })
}

fn header_date(req: &Request<'_>) -> Result<(i64, String), SigError> {
    if let Some(v) = req.header("x-amz-date") {
        let millis = parse_amz_date(v).ok_or(SigError::MissingDate)?;
        return Ok((millis, v.to_string()));
    }
    let millis = req
        .header("date")
        .and_then(parse_http_date)
        .ok_or(SigError::MissingDate)?;
    Ok((millis, format_amz_date(millis)))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// What a presigned URL is made of.
#[derive(Debug, Clone, Copy)]
pub struct Presign<'a> {
    pub method: &'a str,
    /// `Host` header value the URL will be fetched with (e.g. `localhost:4566`).
    pub host: &'a str,
    /// Wire path, already percent-encoded (e.g. `/bucket/my%20key`).
    pub path: &'a str,
    /// Extra query parameters, not encoded (e.g. `("versionId", "3")`).
    pub query: &'a [(&'a str, &'a str)],
    pub access_key: &'a str,
    pub secret: &'a str,
    pub session_token: Option<&'a str>,
    pub region: &'a str,
    pub service: &'a str,
    pub now_millis: i64,
    pub expires_secs: u64,
}

/// Builds `path?query` of a presigned URL signing only `host`, as the SDKs do: S3 signs
/// `UNSIGNED-PAYLOAD`, other services the hash of an empty body.
pub fn presign(p: &Presign<'_>) -> String {
    let amz_date = format_amz_date(p.now_millis);
    let date = &amz_date[..8];
    let scope = scope(date, p.region, p.service);
    let credential = format!("{}/{scope}", p.access_key);
    let expires = p.expires_secs.to_string();
    let mut params: Vec<(&str, &str)> = p.query.to_vec();
    params.extend([
        ("X-Amz-Algorithm", ALGORITHM),
        ("X-Amz-Credential", credential.as_str()),
        ("X-Amz-Date", amz_date.as_str()),
        ("X-Amz-Expires", expires.as_str()),
        ("X-Amz-SignedHeaders", "host"),
    ]);
    if let Some(t) = p.session_token {
        params.push(("X-Amz-Security-Token", t));
    }
    let query = params
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                uri_encode(k.as_bytes(), false),
                uri_encode(v.as_bytes(), false)
            )
        })
        .collect::<Vec<_>>()
        .join("&");
    let mode = UriMode::for_service(p.service);
    let payload = if mode == UriMode::S3 {
        UNSIGNED_PAYLOAD
    } else {
        EMPTY_SHA256
    };
    let headers: &[(&str, &[u8])] = &[("host", p.host.as_bytes())];
    let req = Request {
        method: p.method,
        path: p.path,
        query: &query,
        headers,
    };
    let canonical = canonical_request(&req, &["host".to_string()], payload, mode, true);
    let key = SigningKey::derive(p.secret, date, p.region, p.service);
    let signature = key.sign(&string_to_sign(&amz_date, &scope, &canonical));
    format!("{}?{query}&X-Amz-Signature={signature}", p.path)
}

#[cfg(test)]
#[path = "verify_tests.rs"]
mod tests;
