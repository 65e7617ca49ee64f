//! SigV2, which S3 still accepts from older SDKs and tools (s3cmd, boto2, botocore's `s3`
//! signature version): `Authorization: AWS AKID:signature` headers and `AWSAccessKeyId` /
//! `Signature` / `Expires` query parameters. The signature is base64 HMAC-SHA1 over method,
//! Content-MD5, Content-Type, date (or `Expires`), the canonicalized `x-amz-*` headers and the
//! canonicalized resource (AWS, "Signing and authenticating REST requests").

use base64::Engine;
use hmac::{Hmac, Mac};

use crate::canonical::Request;
use crate::error::{MAX_SKEW_MILLIS, SigError};

/// What a SigV2 request says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2Signature {
    pub access_key: String,
    /// Base64, as sent (query values already percent-decoded).
    pub signature: String,
    /// Query authentication: the `Expires` parameter (epoch seconds; empty when missing).
    /// `None` for a header-signed request.
    pub expires: Option<String>,
}

/// Query parameters that are part of the canonicalized resource: AWS's documented list
/// (`acl`, `lifecycle`, `location`, `logging`, `notification`, `partNumber`, `policy`,
/// `requestPayment`, `uploadId`, `uploads`, `versionId`, `versioning`, `versions`, `website`,
/// the `response-*` overrides, `delete`) and those the SDKs sign besides.
const SUBRESOURCES: &[&str] = &[
    "accelerate",
    "acl",
    "analytics",
    "cors",
    "defaultObjectAcl",
    "delete",
    "inventory",
    "lifecycle",
    "location",
    "logging",
    "metrics",
    "notification",
    "object-lock",
    "partNumber",
    "policy",
    "replication",
    "requestPayment",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
    "restore",
    "select",
    "select-type",
    "storageClass",
    "tagging",
    "torrent",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
    "website",
];

fn decode(v: &str) -> String {
    percent_encoding::percent_decode_str(v)
        .decode_utf8_lossy()
        .into_owned()
}

/// Parses `AWS AKID:signature`; `None` for anything else (SigV4 starts `AWS4-`).
pub fn parse_v2_header(value: &str) -> Option<V2Signature> {
    let rest = value.strip_prefix("AWS ")?.trim();
    let (key, sig) = rest.rsplit_once(':')?;
    if key.is_empty() || sig.is_empty() {
        return None;
    }
    Some(V2Signature {
        access_key: key.to_string(),
        signature: sig.to_string(),
        expires: None,
    })
}

/// Parses `AWSAccessKeyId`, `Signature` and `Expires` from a raw query; `None` unless both of
/// the first two are there.
pub fn parse_v2_query(query: &str) -> Option<V2Signature> {
    let (mut key, mut sig, mut expires) = (None, None, String::new());
    for pair in query.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "AWSAccessKeyId" => key = Some(decode(v)),
            "Signature" => sig = Some(decode(v)),
            "Expires" => expires = decode(v),
            _ => {}
        }
    }
    Some(V2Signature {
        access_key: key.filter(|k| !k.is_empty())?,
        signature: sig?,
        expires: Some(expires),
    })
}

/// A SigV2 signature in the `Authorization` header, else in the query.
pub fn parse_v2(authorization: Option<&str>, query: &str) -> Option<V2Signature> {
    match authorization {
        Some(a) => parse_v2_header(a),
        None if query.contains("AWSAccessKeyId=") => parse_v2_query(query),
        None => None,
    }
}

/// Base64 HMAC-SHA1 of `string_to_sign` under `secret`.
pub fn sign_v2(secret: &str, string_to_sign: &str) -> String {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(string_to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Which date goes in the string to sign when a header-signed request has `x-amz-date`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AmzDate {
    /// As documented: the Date line is empty and `x-amz-date` is signed among the `x-amz-*`
    /// headers (what boto2 and s3cmd send).
    Documented,
    /// As AWS's own DELETE example shows it: `x-amz-date`'s value on the Date line, and not
    /// repeated below.
    OnDateLine,
}

/// The string to sign. `bucket` is the bucket a virtual host named (`b.s3.amazonaws.com`),
/// which the canonicalized resource starts with; path-style paths already carry it.
pub fn string_to_sign_v2(
    req: &Request<'_>,
    bucket: Option<&str>,
    sig: &V2Signature,
    amz_date: AmzDate,
) -> String {
    let query: Vec<(&str, Option<&str>)> = req
        .query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (p, None),
        })
        .collect();
    // Presigned URLs carry the signed headers as query parameters (botocore moves them there).
    let from_query = |name: &str| -> Option<String> {
        sig.expires.as_ref()?;
        query
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| decode(v.unwrap_or("")))
    };
    let standard = |name: &str| -> String {
        req.header(name)
            .map(|v| v.trim().to_string())
            .or_else(|| from_query(name))
            .unwrap_or_default()
    };
    let mut amz: Vec<(String, String)> = Vec::new();
    let mut add = |name: String, value: String| {
        let value = unfold(&value);
        match amz.iter_mut().find(|(n, _)| *n == name) {
            Some((_, v)) => {
                v.push(',');
                v.push_str(&value);
            }
            None => amz.push((name, value)),
        }
    };
    let x_amz_date = req.header("x-amz-date");
    for (name, value) in req.headers {
        let lower = name.to_ascii_lowercase();
        if lower.starts_with("x-amz-")
            && !(lower == "x-amz-date" && amz_date == AmzDate::OnDateLine)
        {
            add(lower, String::from_utf8_lossy(value).into_owned());
        }
    }
    if sig.expires.is_some() {
        for (k, v) in &query {
            let lower = k.to_ascii_lowercase();
            if lower.starts_with("x-amz-") {
                add(lower, decode(v.unwrap_or("")));
            }
        }
    }
    amz.sort_by(|a, b| a.0.cmp(&b.0));
    let date = match (&sig.expires, x_amz_date) {
        (Some(expires), _) => expires.clone(),
        (None, Some(d)) if amz_date == AmzDate::OnDateLine => d.trim().to_string(),
        (None, Some(_)) => String::new(),
        (None, None) => standard("date"),
    };
    let mut out = format!(
        "{}\n{}\n{}\n{}\n",
        req.method,
        standard("content-md5"),
        standard("content-type"),
        date
    );
    for (k, v) in amz {
        out.push_str(&k);
        out.push(':');
        out.push_str(&v);
        out.push('\n');
    }
    if let Some(b) = bucket.filter(|b| !b.is_empty()) {
        out.push('/');
        out.push_str(b);
    }
    out.push_str(req.path);
    // A path-style bucket request (`/bucket`) is the bucket's resource `/bucket/`, as it is
    // when virtual-hosted; botocore signs it so.
    if bucket.is_none_or(str::is_empty) && bucket_only(req.path) {
        out.push('/');
    }
    let mut subs: Vec<(&str, Option<&str>)> = query
        .into_iter()
        .filter(|(k, _)| SUBRESOURCES.contains(k))
        .collect();
    subs.sort_by(|a, b| a.0.cmp(b.0));
    for (i, (k, v)) in subs.into_iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        out.push_str(k);
        if let Some(v) = v {
            out.push('=');
            out.push_str(&decode(v));
        }
    }
    out
}

fn bucket_only(path: &str) -> bool {
    path.len() > 1 && path.starts_with('/') && !path[1..].contains('/')
}

/// Header values lose folding (a newline and the whitespace around it become one space) and
/// the whitespace at either end.
fn unfold(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for (i, line) in v.split('\n').enumerate() {
        if i > 0 {
            out.push(' ');
            out.push_str(line.trim());
        } else {
            out.push_str(line.trim_end());
        }
    }
    out.trim().to_string()
}

/// A SigV2 `Date`/`x-amz-date`: an HTTP date with `GMT` or a numeric `+0000` zone, or (some
/// tools send it) SigV4's `20070327T193642Z`.
fn parse_v2_date(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Some(ms) = crate::dates::parse_http_date(s) {
        return Some(ms);
    }
    if let Some(rest) = s.strip_suffix("+0000").or_else(|| s.strip_suffix("UTC")) {
        return crate::dates::parse_http_date(&format!("{}GMT", rest));
    }
    crate::dates::parse_amz_date(s)
}

/// Checks a SigV2 signature against `secret`. Header-signed requests must carry a date
/// within 15 minutes of `now_millis`; a presigned URL's expiry is the caller's to check
/// (S3 answers it after the signature, with its own `Expires`/`ServerTime` fields).
pub fn verify_v2(
    req: &Request<'_>,
    bucket: Option<&str>,
    sig: &V2Signature,
    secret: &str,
    now_millis: i64,
) -> Result<(), SigError> {
    match &sig.expires {
        Some(e) if e.is_empty() => return Err(SigError::V2QueryIncomplete),
        Some(_) => {}
        None => {
            let date = req.header("x-amz-date").or_else(|| req.header("date"));
            let at = date.and_then(parse_v2_date).ok_or(SigError::MissingDate)?;
            if (at - now_millis).abs() > MAX_SKEW_MILLIS {
                return Err(SigError::RequestTimeTooSkewed {
                    request_millis: at,
                    now_millis,
                });
            }
        }
    }
    let documented = string_to_sign_v2(req, bucket, sig, AmzDate::Documented);
    let matches = |sts: &str| sign_v2(secret, sts) == sig.signature;
    if matches(&documented) {
        return Ok(());
    }
    if sig.expires.is_none() && req.header("x-amz-date").is_some() {
        let alt = string_to_sign_v2(req, bucket, sig, AmzDate::OnDateLine);
        if matches(&alt) {
            return Ok(());
        }
    }
    // Some tools sign a path-style bucket request as the bare `/bucket` they sent.
    if bucket.is_none_or(str::is_empty)
        && bucket_only(req.path)
        && let Some(bare) = documented.strip_suffix('/')
        && matches(bare)
    {
        return Ok(());
    }
    Err(SigError::V2SignatureDoesNotMatch {
        access_key: sig.access_key.clone(),
        string_to_sign: documented,
        provided: sig.signature.clone(),
    })
}

#[cfg(test)]
#[path = "sigv2_tests.rs"]
mod tests;
