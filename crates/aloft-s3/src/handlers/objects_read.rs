//! Reading objects: GetObject and HeadObject (versions, delete markers, SSE-C, conditions,
//! ranges and parts, streamed bodies) and GetObjectAttributes.

use aloft_core::AwsError;
use aloft_core::body::Response;
use serde::Serialize;

use super::Call;
use super::objects::{check_version_id, sse_c, sse_headers};
use crate::S3;
use crate::bodies::Data;
use crate::domain::conditions::{ByteRange, Precondition, RangeResult, evaluate, parse_range};
use crate::domain::model::{ObjectVersion, Versioning};
use crate::domain::{storage, versions};
use crate::error::{S3Error, internal, invalid_argument, no_such_key};
use crate::xml::Resp;

/// Looks up the version a read names, with S3's errors for missing keys and delete markers.
pub fn read_version(s3: &S3, call: &Call) -> Result<(ObjectVersion, Versioning), AwsError> {
    with_version(s3, call, |v, versioning| Ok((v.clone(), versioning)))
}

/// Runs `f` on the version a read names, under the bucket's read lock (a GET answers from
/// it without copying the version), or fails as [`read_version`] does.
pub fn with_version<R>(
    s3: &S3,
    call: &Call,
    f: impl FnOnce(&ObjectVersion, Versioning) -> Result<R, AwsError>,
) -> Result<R, AwsError> {
    let version = call.q.get("versionId");
    if let Some(v) = version {
        check_version_id(v)?;
    }
    let cell = s3.bucket(&call.bucket)?;
    let b = cell.read().map_err(internal)?;
    let found = versions::find(&b, &call.key, version);
    match (found, version) {
        (None, None) => Err(no_such_key(&call.key)),
        (None, Some(v)) => Err(S3Error::NoSuchVersion
            .err()
            .with_field("Key", call.key.clone())
            .with_field("VersionId", v)),
        (Some(m), None) if m.delete_marker => Err(no_such_key(&call.key)
            .with_header("x-amz-delete-marker", "true")
            .with_header("x-amz-version-id", m.version_str())),
        (Some(m), Some(_)) if m.delete_marker => Err(S3Error::MethodNotAllowed
            .err()
            .with_field("Method", call.parts.method.as_str())
            .with_field("ResourceType", "DeleteMarker")
            .with_header("x-amz-delete-marker", "true")
            .with_header("x-amz-version-id", m.version_str())
            .with_header("last-modified", aloft_core::clock::http_date(m.modified))),
        (Some(v), _) => f(v, b.info.versioning),
    }
}

/// SSE-C objects are readable only with their key; others refuse SSE-C headers.
pub fn check_sse_c(call: &Call, v: &ObjectVersion) -> Result<(), AwsError> {
    let given = sse_c(call, &super::object_input::SSE_C)?;
    let stored = v
        .meta
        .sse
        .as_ref()
        .and_then(|s| s.customer_key_md5.as_deref());
    match (stored, given) {
        (None, None) => Ok(()),
        (Some(_), None) => Err(S3Error::InvalidRequest.msg(
            "The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.",
        )),
        (None, Some(_)) => Err(S3Error::InvalidRequest.msg("The encryption parameters are not applicable to this object.")),
        (Some(s), Some((_, g))) if s == g => Ok(()),
        (Some(_), Some(_)) => Err(S3Error::AccessDenied.err()),
    }
}

/// The byte range of part `n` of an object (a whole single-part object is part 1).
fn part_range(v: &ObjectVersion, n: u32) -> Option<(ByteRange, u32)> {
    match &v.data {
        Data::Parts(pieces) if v.parts.is_some() => {
            let i = n.checked_sub(1)? as usize;
            let start: u64 = pieces.iter().take(i).map(|p| p.size).sum();
            let p = pieces.get(i)?;
            Some((ByteRange { start, len: p.size }, pieces.len() as u32))
        }
        _ if n == 1 => Some((
            ByteRange {
                start: 0,
                len: v.size,
            },
            1,
        )),
        _ => None,
    }
}

fn object_headers(mut r: Resp, v: &ObjectVersion, versioning: Versioning, call: &Call) -> Resp {
    use crate::xml::names;
    use http::header;
    let m = &v.meta;
    fn over<'a>(call: &'a Call, name: &str, stored: &'a Option<String>) -> Option<&'a str> {
        call.q.get(name).or(stored.as_deref())
    }
    r = r
        .put_string(header::ETAG, v.quoted_etag())
        .put_string(
            header::LAST_MODIFIED,
            aloft_core::clock::http_date(v.modified),
        )
        .put_static(header::ACCEPT_RANGES, "bytes");
    r = match over(call, "response-content-type", &m.content_type) {
        Some(t) => r.put_str(header::CONTENT_TYPE, t),
        None => r.put_static(header::CONTENT_TYPE, "binary/octet-stream"),
    };
    r = r
        .put_opt(
            header::CONTENT_ENCODING,
            over(call, "response-content-encoding", &m.content_encoding),
        )
        .put_opt(
            header::CONTENT_DISPOSITION,
            over(call, "response-content-disposition", &m.content_disposition),
        )
        .put_opt(
            header::CONTENT_LANGUAGE,
            over(call, "response-content-language", &m.content_language),
        )
        .put_opt(
            header::CACHE_CONTROL,
            over(call, "response-cache-control", &m.cache_control),
        )
        .put_opt(header::EXPIRES, over(call, "response-expires", &m.expires))
        .put_opt(names::STORAGE_CLASS, m.storage_class.as_deref());
    if let Some(restore) = &m.restore
        && let Some(h) = restore.header(aloft_core::clock::now_millis())
    {
        r = r.put_string(names::RESTORE, h);
    }
    r = r.put_opt(names::WEBSITE_REDIRECT, m.website_redirect.as_deref());
    if v.version_id.is_some() || versioning != Versioning::Unversioned {
        r = r.put_str(names::VERSION_ID, v.version_str());
    }
    for (k, val) in &m.user {
        r = r.header(&format!("x-amz-meta-{k}"), val);
    }
    if !m.tags.is_empty() && call.parts.method == http::Method::GET {
        r = r.put_u64(names::TAGGING_COUNT, m.tags.len() as u64);
    }
    sse_headers(r, m)
}

pub async fn get_object(s3: &S3, call: &mut Call) -> Result<Response, AwsError> {
    with_version(s3, call, |v, versioning| {
        serve_version(s3, call, v, versioning)
    })
}

/// GetObject / HeadObject's answer from the version, under the bucket's read lock (nothing
/// here waits: a stored body is opened only when the response is polled).
fn serve_version(
    s3: &S3,
    call: &Call,
    v: &ObjectVersion,
    versioning: Versioning,
) -> Result<Response, AwsError> {
    // Archived objects are read through a restored copy (HEAD still answers).
    if !call.is_head()
        && !storage::readable(
            v.meta.storage_class.as_deref(),
            v.meta.restore.as_deref(),
            aloft_core::clock::now_millis(),
        )
    {
        return Err(S3Error::InvalidObjectState.err().with_field(
            "StorageClass",
            v.meta.storage_class.clone().unwrap_or_default(),
        ));
    }
    check_sse_c(call, v)?;
    match evaluate(
        call.header("if-match"),
        call.header("if-none-match"),
        call.header("if-modified-since"),
        call.header("if-unmodified-since"),
        &v.etag,
        v.modified,
    ) {
        Precondition::Proceed => {}
        Precondition::NotModified => {
            return Ok(Resp::new(304)
                .put_string(http::header::ETAG, v.quoted_etag())
                .put_string(
                    http::header::LAST_MODIFIED,
                    aloft_core::clock::http_date(v.modified),
                )
                .empty());
        }
        Precondition::Failed(cond) => {
            return Err(S3Error::PreconditionFailed
                .err()
                .with_field("Condition", cond));
        }
    }
    let mut r = object_headers(Resp::ok(), v, versioning, call);
    let mut range: Option<ByteRange> = None;
    let mut partial = false;
    if let Some(pn) = call.q.get("partNumber") {
        let n: u32 = pn
            .parse()
            .ok()
            .filter(|n| (1..=10_000).contains(n))
            .ok_or_else(|| {
                invalid_argument(
                    "Part number must be an integer between 1 and 10000, inclusive",
                    "partNumber",
                    pn,
                )
            })?;
        if call.header("range").is_some() {
            return Err(S3Error::InvalidRequest
                .msg("Cannot specify both Range header and partNumber query parameter"));
        }
        let (pr, count) = part_range(v, n).ok_or_else(|| S3Error::InvalidPartNumber.err())?;
        r = r.header("x-amz-mp-parts-count", count.to_string());
        range = Some(pr);
        partial = v.parts.is_some();
    } else if let Some(h) = call.header("range") {
        match parse_range(h, v.size) {
            RangeResult::Whole => {}
            RangeResult::Partial(br) => {
                range = Some(br);
                partial = true;
            }
            RangeResult::Unsatisfiable => {
                return Err(S3Error::InvalidRange
                    .err()
                    .with_field("RangeRequested", h)
                    .with_field("ActualObjectSize", v.size.to_string())
                    .with_header("content-range", format!("bytes */{}", v.size)));
            }
        }
    }
    let br = range.unwrap_or(ByteRange {
        start: 0,
        len: v.size,
    });
    if partial {
        r = r.header(
            "content-range",
            format!("bytes {}-{}/{}", br.start, br.start + br.len - 1, v.size),
        );
    }
    if !partial
        && call
            .header("x-amz-checksum-mode")
            .is_some_and(|m| m.eq_ignore_ascii_case("ENABLED"))
        && let Some(c) = &v.checksum
    {
        r = super::objects::checksum_headers(r, c);
    }
    let status = if partial { 206 } else { 200 };
    let r = r
        .status(status)
        .put_u64(http::header::CONTENT_LENGTH, br.len);
    if call.is_head() {
        return Ok(r.empty());
    }
    Ok(r.body(s3.bodies.body(&v.data, br.start, br.len)))
}

#[derive(Serialize, Default)]
struct ChecksumOut {
    #[serde(rename = "ChecksumCRC32", skip_serializing_if = "Option::is_none")]
    crc32: Option<String>,
    #[serde(rename = "ChecksumCRC32C", skip_serializing_if = "Option::is_none")]
    crc32c: Option<String>,
    #[serde(rename = "ChecksumCRC64NVME", skip_serializing_if = "Option::is_none")]
    crc64nvme: Option<String>,
    #[serde(rename = "ChecksumSHA1", skip_serializing_if = "Option::is_none")]
    sha1: Option<String>,
    #[serde(rename = "ChecksumSHA256", skip_serializing_if = "Option::is_none")]
    sha256: Option<String>,
    #[serde(rename = "ChecksumType", skip_serializing_if = "Option::is_none")]
    checksum_type: Option<&'static str>,
}

#[derive(Serialize)]
struct ObjectParts {
    #[serde(rename = "TotalPartsCount")]
    total: u32,
}

#[derive(Serialize)]
struct GetObjectAttributesOutput {
    #[serde(rename = "ETag", skip_serializing_if = "Option::is_none")]
    etag: Option<String>,
    #[serde(rename = "Checksum", skip_serializing_if = "Option::is_none")]
    checksum: Option<ChecksumOut>,
    #[serde(rename = "ObjectParts", skip_serializing_if = "Option::is_none")]
    parts: Option<ObjectParts>,
    #[serde(rename = "StorageClass", skip_serializing_if = "Option::is_none")]
    storage_class: Option<String>,
    #[serde(rename = "ObjectSize", skip_serializing_if = "Option::is_none")]
    size: Option<u64>,
}

pub fn checksum_out(c: &crate::domain::model::Checksum) -> ChecksumOutPub {
    let mut out = ChecksumOut {
        checksum_type: Some(if c.composite {
            "COMPOSITE"
        } else {
            "FULL_OBJECT"
        }),
        ..Default::default()
    };
    use crate::checksums::Algo::*;
    let slot = match c.algo {
        CRC32 => &mut out.crc32,
        CRC32C => &mut out.crc32c,
        CRC64NVME => &mut out.crc64nvme,
        SHA1 => &mut out.sha1,
        SHA256 => &mut out.sha256,
    };
    *slot = Some(c.value.clone());
    ChecksumOutPub(out)
}

/// A checksum group as XML outputs carry it.
#[derive(Serialize)]
#[serde(transparent)]
pub struct ChecksumOutPub(ChecksumOut);

pub async fn get_object_attributes(s3: &S3, call: &mut Call) -> Result<Response, AwsError> {
    let (v, versioning) = read_version(s3, call)?;
    check_sse_c(call, &v)?;
    let wanted: Vec<String> = call
        .header("x-amz-object-attributes")
        .unwrap_or_default()
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if wanted.is_empty() {
        return Err(S3Error::InvalidRequest.msg("Invalid attribute name specified."));
    }
    let has = |n: &str| wanted.iter().any(|w| w == n);
    let out = GetObjectAttributesOutput {
        etag: has("ETag").then(|| v.etag.clone()),
        checksum: if has("Checksum") {
            v.checksum.as_ref().map(|c| checksum_out(c).0)
        } else {
            None
        },
        parts: if has("ObjectParts") {
            v.parts.map(|total| ObjectParts { total })
        } else {
            None
        },
        storage_class: has("StorageClass").then(|| {
            v.meta
                .storage_class
                .clone()
                .unwrap_or_else(|| "STANDARD".into())
        }),
        size: has("ObjectSize").then_some(v.size),
    };
    let mut r = Resp::ok().header("last-modified", aloft_core::clock::http_date(v.modified));
    if v.version_id.is_some() || versioning != Versioning::Unversioned {
        r = r.header("x-amz-version-id", v.version_str());
    }
    Ok(r.xml("GetObjectAttributesResponse", &out))
}
