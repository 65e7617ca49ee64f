//! What object writes read from a request: content headers and user metadata, tags, storage
//! class, SSE (incl. SSE-C keys), requested checksums, and the body itself (framing, digests).

use aloft_core::AwsError;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

use super::Call;
use crate::S3;
use crate::bodies::{IngestOptions, Ingested};
use crate::checksums::Algo;
use crate::domain::acl::{self, AclSpec};
use crate::domain::model::{ObjectMeta, Sse};
use crate::error::{S3Error, invalid_argument};

const STORAGE_CLASSES: &[&str] = &[
    "STANDARD",
    "REDUCED_REDUNDANCY",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "GLACIER",
    "DEEP_ARCHIVE",
    "OUTPOSTS",
    "GLACIER_IR",
    "SNOW",
    "EXPRESS_ONEZONE",
];

/// Parses `k1=v1&k2=v2` (the `x-amz-tagging` header) with S3's tag limits.
pub fn parse_tagging_header(raw: &str) -> Result<Vec<(String, String)>, AwsError> {
    let q = crate::routes::Query::parse(raw);
    let tags: Vec<(String, String)> = q.0;
    validate_tags(&tags)?;
    Ok(tags)
}

pub fn validate_tags(tags: &[(String, String)]) -> Result<(), AwsError> {
    if tags.len() > 10 {
        return Err(S3Error::InvalidTag.msg("Object tags cannot be greater than 10"));
    }
    for (i, (k, v)) in tags.iter().enumerate() {
        if k.is_empty() || k.chars().count() > 128 {
            return Err(S3Error::InvalidTag.msg("The TagKey you have provided is invalid"));
        }
        if v.chars().count() > 256 {
            return Err(S3Error::InvalidTag.msg("The TagValue you have provided is invalid"));
        }
        if tags[..i].iter().any(|(k2, _)| k2 == k) {
            return Err(S3Error::InvalidTag.msg("Cannot provide multiple Tags with the same key"));
        }
    }
    Ok(())
}

/// The SSE-C headers (algorithm, key, key MD5) of an object or of a copy's source.
pub type SseCHeaders = [&'static str; 3];
pub const SSE_C: SseCHeaders = [
    "x-amz-server-side-encryption-customer-algorithm",
    "x-amz-server-side-encryption-customer-key",
    "x-amz-server-side-encryption-customer-key-md5",
];
pub const COPY_SOURCE_SSE_C: SseCHeaders = [
    "x-amz-copy-source-server-side-encryption-customer-algorithm",
    "x-amz-copy-source-server-side-encryption-customer-key",
    "x-amz-copy-source-server-side-encryption-customer-key-md5",
];

/// SSE-C headers: validates them and returns the key's MD5 (base64).
pub fn sse_c(call: &Call, names: &SseCHeaders) -> Result<Option<(String, String)>, AwsError> {
    let [alg, key, md5] = names.map(|n| call.header(n));
    if alg.is_none() && key.is_none() && md5.is_none() {
        return Ok(None);
    }
    let Some(alg) = alg else {
        return Err(invalid_argument(
            "Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm.",
            "x-amz-server-side-encryption",
            "null",
        ));
    };
    if alg != "AES256" {
        return Err(invalid_argument(
            "The encryption method specified is not supported",
            "x-amz-server-side-encryption",
            alg,
        ));
    }
    let raw = key
        .and_then(|k| B64.decode(k).ok())
        .filter(|k| k.len() == 32)
        .ok_or_else(|| {
            invalid_argument(
                "The secret key was invalid for the specified algorithm.",
                "x-amz-server-side-encryption",
                "null",
            )
        })?;
    let computed = crate::checksums::md5_b64(&raw);
    if md5.is_some_and(|m| m != computed) {
        return Err(invalid_argument(
            "The calculated MD5 hash of the key did not match the hash that was provided.",
            "x-amz-server-side-encryption",
            "null",
        ));
    }
    Ok(Some((alg.to_string(), computed)))
}

/// Content headers, user metadata, tags, storage class, SSE and ACL from request headers.
pub fn meta_from_headers(s3: &S3, call: &Call) -> Result<ObjectMeta, AwsError> {
    let h = |n: &str| call.header(n).map(str::to_string);
    let mut m = ObjectMeta {
        content_type: h("content-type"),
        content_encoding: call.header("content-encoding").and_then(|ce| {
            // aws-chunked is framing, not a property of the object.
            let rest: Vec<&str> = ce
                .split(',')
                .map(str::trim)
                .filter(|t| !t.eq_ignore_ascii_case("aws-chunked") && !t.is_empty())
                .collect();
            (!rest.is_empty()).then(|| rest.join(","))
        }),
        content_disposition: h("content-disposition"),
        content_language: h("content-language"),
        cache_control: h("cache-control"),
        expires: h("expires"),
        website_redirect: h("x-amz-website-redirect-location"),
        ..Default::default()
    };
    for (name, value) in &call.parts.headers {
        if let Some(k) = name.as_str().strip_prefix("x-amz-meta-") {
            let v = String::from_utf8_lossy(value.as_bytes()).into_owned();
            m.user.push((k.to_string(), v));
        }
    }
    if let Some(t) = call.header("x-amz-tagging") {
        m.tags = parse_tagging_header(t)?;
    }
    if let Some(sc) = call.header("x-amz-storage-class") {
        if !STORAGE_CLASSES.contains(&sc) {
            return Err(S3Error::InvalidStorageClass
                .err()
                .with_field("StorageClassRequested", sc));
        }
        if sc != "STANDARD" {
            m.storage_class = Some(sc.to_string());
        }
    }
    let spec = acl::from_headers(&|n| h(n), &call.ctx.account_id)?;
    if let Some(spec) = &spec {
        check_ownership(s3, &call.bucket, spec)?;
    }
    m.set_acl(spec.clone());
    m.set_owner(object_owner(
        s3,
        &call.bucket,
        &call.ctx.account_id,
        spec.as_ref(),
    ));
    let sse = call.header("x-amz-server-side-encryption");
    if let Some(s) = sse
        && !matches!(s, "AES256" | "aws:kms" | "aws:kms:dsse")
    {
        return Err(invalid_argument(
            "The encryption method specified is not supported",
            "x-amz-server-side-encryption",
            s,
        ));
    }
    let customer = sse_c(call, &SSE_C)?;
    if sse.is_some() || customer.is_some() {
        m.sse = Some(Box::new(Sse {
            algorithm: sse.map(str::to_string),
            kms_key_id: h("x-amz-server-side-encryption-aws-kms-key-id"),
            bucket_key: call
                .header("x-amz-server-side-encryption-bucket-key-enabled")
                .map(|v| v.eq_ignore_ascii_case("true")),
            customer_algorithm: customer.as_ref().map(|c| c.0.clone()),
            customer_key_md5: customer.map(|c| c.1),
        }));
    }
    Ok(m)
}

/// Which checksum the client asked for, and the value it sent in a header (if any).
pub fn requested_checksum(call: &Call) -> Result<(Option<Algo>, Option<String>), AwsError> {
    // One pass over the request's headers answers the common case (no checksum asked for)
    // instead of eight lookups.
    let asks = call.parts.headers.keys().any(|n| {
        let n = n.as_str();
        n.starts_with("x-amz-checksum-")
            || n == "x-amz-sdk-checksum-algorithm"
            || n == "x-amz-trailer"
    });
    if !asks {
        return Ok((None, None));
    }
    for a in Algo::ALL {
        if let Some(v) = call.header(a.header()) {
            if !crate::checksums::well_formed(a, v) {
                return Err(S3Error::InvalidRequest
                    .msg(format!("Value for {} header is invalid.", a.header())));
            }
            return Ok((Some(a), Some(v.to_string())));
        }
    }
    let named = call
        .header("x-amz-sdk-checksum-algorithm")
        .or_else(|| call.header("x-amz-checksum-algorithm"))
        .or_else(|| {
            call.header("x-amz-trailer")
                .and_then(|t| t.strip_prefix("x-amz-checksum-"))
        });
    match named {
        None => Ok((None, None)),
        Some(n) => match Algo::parse(n) {
            Some(a) => Ok((Some(a), None)),
            None => Err(S3Error::InvalidRequest.msg(
                "Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]",
            )),
        },
    }
}

/// Reads the request body with the hashing, framing and limits its headers ask for.
pub async fn ingest_body(
    s3: &S3,
    call: &mut Call,
    algo: Option<Algo>,
    max: u64,
) -> Result<Ingested, AwsError> {
    let sha = call.header("x-amz-content-sha256").map(str::to_string);
    let chunked_mode = sha
        .as_deref()
        .and_then(aloft_sigv4::ChunkedMode::from_content_sha256)
        .or_else(|| {
            call.header("content-encoding")
                .is_some_and(|ce| {
                    ce.split(',')
                        .any(|t| t.trim().eq_ignore_ascii_case("aws-chunked"))
                })
                .then_some(aloft_sigv4::ChunkedMode::Unsigned)
        });
    let decoded_len = call
        .header("x-amz-decoded-content-length")
        .and_then(|v| v.parse().ok());
    if chunked_mode.is_none()
        && call.header("content-length").is_none()
        && call.header("transfer-encoding").is_none()
    {
        return Err(S3Error::MissingContentLength.err());
    }
    let content_sha256 = sha
        .as_deref()
        .filter(|s| s.len() == 64)
        .and_then(|s| hex::decode(s).ok())
        .and_then(|v| <[u8; 32]>::try_from(v).ok());
    let content_md5 = match call.header("content-md5") {
        None => None,
        Some(m) => Some(
            B64.decode(m)
                .ok()
                .filter(|d| d.len() == 16)
                .ok_or_else(|| S3Error::InvalidDigest.err().with_field("Content-MD5", m))?,
        ),
    };
    let opts = IngestOptions {
        algo: Some(algo.unwrap_or(Algo::CRC64NVME)),
        content_sha256,
        chunked: chunked_mode.map(|m| (m, decoded_len)),
        verify: call
            .parts
            .extensions
            .get::<aloft_sigv4::Verified>()
            .map(aloft_sigv4::Verified::streaming_context),
        max,
    };
    let body = call.take_body();
    let got = s3.bodies.ingest(body, opts).await?;
    let reject = |e: AwsError, got: &Ingested| {
        let mut ids = Vec::new();
        got.data.blob_ids(&mut ids);
        s3.bodies.remove(&ids);
        e
    };
    if let Some(md5) = content_md5
        && md5 != got.md5
    {
        let e = S3Error::BadDigest
            .err()
            .with_field("ExpectedDigest", hex::encode(&md5))
            .with_field("CalculatedDigest", got.md5_b64());
        return Err(reject(e, &got));
    }
    Ok(got)
}

/// Compares the computed checksum with the one the client sent (header or trailer).
pub fn verify_checksum(s3: &S3, got: &Ingested, sent: Option<&str>) -> Result<(), AwsError> {
    let Some((algo, computed)) = &got.checksum else {
        return Ok(());
    };
    let sent = sent.map(str::to_string).or_else(|| {
        got.trailer_checksum
            .as_ref()
            .filter(|(a, _)| a == algo)
            .map(|(_, v)| v.clone())
    });
    if let Some(sent) = sent
        && &sent != computed
    {
        let mut ids = Vec::new();
        got.data.blob_ids(&mut ids);
        s3.bodies.remove(&ids);
        return Err(S3Error::BadDigest.msg(format!(
            "The {} you specified did not match the calculated checksum.",
            algo.name()
        )));
    }
    Ok(())
}

/// Under Object Ownership `BucketOwnerEnforced` ACLs are disabled: only "bucket owner full
/// control" may still be set.
pub fn check_ownership(s3: &S3, bucket: &str, spec: &AclSpec) -> Result<(), AwsError> {
    let Ok(cell) = s3.bucket(bucket) else {
        return Ok(());
    };
    let b = cell.read().map_err(crate::error::internal)?;
    let enforced = b.info.config.ownership.as_ref().is_some_and(|o| {
        o.rules
            .iter()
            .any(|r| r.object_ownership == "BucketOwnerEnforced")
    });
    if enforced && !acl::allowed_when_enforced(spec, &b.info.account) {
        return Err(S3Error::AccessControlListNotSupported.err());
    }
    Ok(())
}

/// The writer, when it (not the bucket owner) owns what it writes.
fn object_owner(s3: &S3, bucket: &str, writer: &str, spec: Option<&AclSpec>) -> Option<String> {
    let cell = s3.bucket(bucket).ok()?;
    let b = cell.read().ok()?;
    let ownership = b
        .info
        .config
        .ownership
        .as_ref()
        .and_then(|o| o.rules.first())
        .map(|r| r.object_ownership.as_str());
    acl::writer_owns(ownership, writer, &b.info.account, spec).then(|| writer.to_string())
}
