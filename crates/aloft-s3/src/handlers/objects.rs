//! Writing and deleting objects: PutObject, CopyObject, DeleteObject, DeleteObjects, and the
//! shared path every write takes (conditional writes, versioning, journal, events).

use aloft_core::AwsError;
use aloft_core::body::Response;
use aloft_store::Batch;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use percent_encoding::percent_decode_str;
use serde::{Deserialize, Serialize};

pub use super::object_input::{
    COPY_SOURCE_SSE_C, ingest_body, meta_from_headers, parse_tagging_header, requested_checksum,
    sse_c, validate_tags, verify_checksum,
};
use super::{Call, MAX_PUT, committed, iso};
use crate::bodies::Data;
use crate::checksums::Algo;
use crate::domain::conditions::{Precondition, etag_matches, evaluate};
use crate::domain::model::{Checksum, ObjectMeta, ObjectVersion, Sse, Versioning};
use crate::domain::notifications::{EventExtra, ObjectEvent};
use crate::domain::{storage, versions};
use crate::error::{S3Error, internal, invalid_argument, no_such_key};
use crate::events;
use crate::xml::{Resp, names};
use crate::{S3, store};

/// A new object about to be written.
pub struct NewObject {
    pub key: String,
    pub data: Data,
    pub size: u64,
    pub etag: String,
    pub meta: ObjectMeta,
    pub checksum: Option<Checksum>,
    pub parts: Option<u32>,
    /// The multipart upload this object completes: forgotten in the same journal batch, and
    /// its part bodies (which the object now owns) are kept if the write fails.
    pub completes: Option<crate::domain::model::Upload>,
}

/// Conditional-write headers of PutObject / CompleteMultipartUpload.
pub struct WriteCondition {
    pub if_match: Option<String>,
    pub if_none_match: Option<String>,
}

impl WriteCondition {
    pub fn from_call(call: &Call) -> Result<Self, AwsError> {
        let inm = call.header("if-none-match").map(str::to_string);
        if let Some(v) = &inm
            && v.trim() != "*"
        {
            return Err(S3Error::NotImplemented
                .err()
                .with_field("Header", "If-None-Match"));
        }
        Ok(Self {
            if_match: call.header("if-match").map(str::to_string),
            if_none_match: inm,
        })
    }
}

/// Writes a new current version: conditions, versioning, journal, then the event.
pub async fn write_object(
    s3: &S3,
    call: &Call,
    bucket: &str,
    obj: NewObject,
    event: &'static str,
    cond: Option<WriteCondition>,
) -> Result<(ObjectVersion, Versioning), AwsError> {
    write_object_with(s3, call, bucket, obj, event, cond, |v, versioning| {
        (v.summary(), versioning)
    })
    .await
}

/// [`write_object`], answering with `respond`'s view of the stored version (taken under the
/// bucket's lock, so the version is not copied for it).
pub async fn write_object_with<R>(
    s3: &S3,
    call: &Call,
    bucket: &str,
    mut obj: NewObject,
    event: &'static str,
    cond: Option<WriteCondition>,
    respond: impl FnOnce(&ObjectVersion, Versioning) -> R,
) -> Result<R, AwsError> {
    let ctx = &call.ctx;
    let owned = obj.completes.is_none();
    let free_new = |obj_data: &Data| {
        if !owned {
            return;
        }
        let mut ids = Vec::new();
        obj_data.blob_ids(&mut ids);
        s3.bodies.remove(&ids);
    };
    let cell = match s3.bucket(bucket) {
        Ok(c) => c,
        Err(e) => {
            free_new(&obj.data);
            return Err(e);
        }
    };
    let now = aloft_core::clock::now_millis();
    let (commit, answer, removed, staged) = {
        let mut guard = cell.write().map_err(internal)?;
        let b = &mut *guard;
        if let Some(c) = &cond {
            let cur = b.current(&obj.key);
            let failed = if c.if_none_match.is_some() && cur.is_some() {
                Some(
                    S3Error::PreconditionFailed
                        .err()
                        .with_field("Condition", "If-None-Match"),
                )
            } else if let Some(m) = &c.if_match {
                match cur {
                    None => Some(no_such_key(&obj.key)),
                    Some(v) if !etag_matches(m, &v.etag) => Some(
                        S3Error::PreconditionFailed
                            .err()
                            .with_field("Condition", "If-Match"),
                    ),
                    _ => None,
                }
            } else {
                None
            };
            if let Some(e) = failed {
                drop(guard);
                free_new(&obj.data);
                return Err(e);
            }
        }
        // Buckets encrypt by default. SSE-S3 (the universal default) is not stored: an object
        // without `sse` reports AES256, which keeps the common object small.
        let by_default = b
            .info
            .config
            .encryption
            .as_ref()
            .and_then(|e| e.rules.first())
            .and_then(|r| r.by_default.clone())
            .filter(|d| d.algorithm != "AES256");
        if obj.meta.sse.is_none() && by_default.is_some() {
            obj.meta.sse = Some(Box::new(Sse {
                algorithm: Some(
                    by_default
                        .as_ref()
                        .map_or("AES256".into(), |d| d.algorithm.clone()),
                ),
                kms_key_id: by_default.and_then(|d| d.kms_key_id),
                ..Default::default()
            }));
        }
        let v = ObjectVersion {
            version_id: None,
            delete_marker: false,
            modified: now,
            etag: obj.etag,
            size: obj.size,
            data: obj.data,
            seq: s3.next_seq(),
            meta: obj.meta,
            checksum: obj.checksum,
            parts: obj.parts,
        };
        let versioning = b.info.versioning;
        let (stored, removed) = versions::push(&mut b.objects, versioning, &obj.key, v);
        let mut batch = Batch::new();
        if s3.durable {
            for r in &removed {
                store::delete_version(&mut batch, bucket, &obj.key, r.version_id.as_deref());
            }
            store::put_version(&mut batch, bucket, &obj.key, stored);
            if let Some(up) = &obj.completes {
                store::delete_upload(&mut batch, bucket, up);
            }
        }
        // The events go in the same batch: delivered at least once, even after a crash. Built
        // only for a bucket with a notification configuration: most have none, and an event
        // is a dozen strings.
        let staged = match b.info.config.notification.as_ref() {
            None => events::Staged::default(),
            Some(cfg) => {
                let ev = ObjectEvent {
                    name: event,
                    bucket: bucket.to_string(),
                    key: obj.key,
                    size: Some(stored.size),
                    etag: Some(stored.etag.clone()),
                    version_id: stored.version_id.clone(),
                    seq: stored.seq,
                    time_ms: now,
                    region: ctx.region.clone(),
                    account: ctx.account_id.clone(),
                    request_id: ctx.request_id.clone(),
                    principal: principal(call),
                    source_ip: "127.0.0.1".into(),
                    extra: EventExtra::default(),
                };
                events::stage(s3, Some(cfg), &ev, &mut batch)
            }
        };
        let answer = respond(stored, versioning);
        (s3.store.submit(batch), answer, removed, staged)
    };
    committed(commit).await?;
    free_versions(s3, &removed);
    events::send(s3, staged);
    Ok(answer)
}

/// The access key a browser POST form was signed with (its fields are the request's auth).
#[derive(Debug, Clone)]
pub struct FormSigner(pub String);

/// `AWS:<access key>` of the caller: SigV4 (header or presigned), SigV2, whose
/// `Authorization: AWS key:signature` header or `AWSAccessKeyId` query names the key, or the
/// signer of a POST form.
pub fn principal(call: &Call) -> String {
    let key = call
        .ctx
        .access_key()
        .map(str::to_string)
        .or_else(|| {
            call.parts
                .extensions
                .get::<aloft_core::auth::Caller>()
                .map(|c| c.access_key.clone())
                .filter(|k| !k.is_empty())
        })
        .or_else(|| {
            let query = call.parts.uri.query().unwrap_or("");
            aloft_sigv4::parse_v2(call.header("authorization"), query).map(|v| v.access_key)
        })
        .or_else(|| {
            call.parts
                .extensions
                .get::<FormSigner>()
                .map(|f| f.0.clone())
        });
    format!("AWS:{}", key.as_deref().unwrap_or("anonymous"))
}

pub fn free_versions(s3: &S3, removed: &[ObjectVersion]) {
    let mut ids = Vec::new();
    for r in removed {
        r.data.blob_ids(&mut ids);
    }
    s3.bodies.remove(&ids);
}

/// Headers every write answers with: ETag, version, SSE, checksum.
pub fn write_headers(mut r: Resp, v: &ObjectVersion, versioning: Versioning) -> Resp {
    r = r.put_string(http::header::ETAG, v.quoted_etag());
    if versioning != Versioning::Unversioned {
        r = r.put_str(names::VERSION_ID, v.version_str());
    }
    r = sse_headers(r, &v.meta);
    if let Some(c) = &v.checksum {
        r = checksum_headers(r, c);
    }
    r
}

/// The checksum and its type (`x-amz-checksum-<algo>`, `x-amz-checksum-type`).
pub fn checksum_headers(r: Resp, c: &Checksum) -> Resp {
    r.put_str(c.algo.header_name(), &c.value).put_static(
        names::CHECKSUM_TYPE,
        if c.composite {
            "COMPOSITE"
        } else {
            "FULL_OBJECT"
        },
    )
}

pub fn sse_headers(mut r: Resp, m: &ObjectMeta) -> Resp {
    let Some(s) = &m.sse else {
        return r.put_static(names::SSE, "AES256");
    };
    r = r
        .put_opt(names::SSE, s.algorithm.as_deref())
        .put_opt(names::SSE_KMS_KEY_ID, s.kms_key_id.as_deref());
    if let Some(b) = s.bucket_key {
        r = r.put_static(names::SSE_BUCKET_KEY, if b { "true" } else { "false" });
    }
    r.put_opt(names::SSE_C_ALGORITHM, s.customer_algorithm.as_deref())
        .put_opt(names::SSE_C_KEY_MD5, s.customer_key_md5.as_deref())
}

pub async fn put_object(s3: &S3, call: &mut Call) -> Result<Response, AwsError> {
    s3.bucket(&call.bucket)?;
    let meta = meta_from_headers(s3, call)?;
    let cond = WriteCondition::from_call(call)?;
    let (algo, sent) = requested_checksum(call)?;
    // Boxed: the body reader's state is kilobytes, and every future that contains it inline
    // (up to the gateway's boxed service call) is moved by memcpy on every request.
    let got = Box::pin(ingest_body(s3, call, algo, MAX_PUT)).await?;
    verify_checksum(s3, &got, sent.as_deref())?;
    let checksum = got.checksum.clone().map(|(algo, value)| Checksum {
        algo,
        value,
        composite: false,
    });
    let obj = NewObject {
        key: call.key.clone(),
        etag: got.etag(),
        size: got.size,
        data: got.data,
        meta,
        checksum,
        parts: None,
        completes: None,
    };
    let answer = write_object_with(
        s3,
        call,
        &call.bucket,
        obj,
        "ObjectCreated:Put",
        Some(cond),
        |v, versioning| write_headers(Resp::ok(), v, versioning),
    )
    .await?;
    Ok(answer.empty())
}

/// `x-amz-copy-source`: `bucket/key[?versionId=v]`, URL-encoded, optionally with a leading `/`.
pub fn parse_copy_source(raw: &str) -> Result<(String, String, Option<String>), AwsError> {
    let raw = raw.strip_prefix('/').unwrap_or(raw);
    let (path, version) = match raw.split_once("?versionId=") {
        Some((p, v)) => (
            p,
            Some(percent_decode_str(v).decode_utf8_lossy().into_owned()),
        ),
        None => (raw, None),
    };
    let path = percent_decode_str(path).decode_utf8_lossy().into_owned();
    match path.split_once('/') {
        Some((b, k)) if !b.is_empty() && !k.is_empty() => {
            Ok((b.to_string(), k.to_string(), version))
        }
        _ => Err(invalid_argument(
            "Invalid copy source object key",
            "x-amz-copy-source",
            raw,
        )),
    }
}

/// The source version of a copy, after its `x-amz-copy-source-if-*` conditions.
pub fn copy_source(s3: &S3, call: &Call) -> Result<(ObjectVersion, String, String), AwsError> {
    let raw = call.header("x-amz-copy-source").unwrap_or_default();
    let (sb, sk, sv) = parse_copy_source(raw)?;
    let cell = s3.bucket(&sb)?;
    let b = cell.read().map_err(internal)?;
    let v = versions::find(&b, &sk, sv.as_deref()).cloned();
    let v = match (v, &sv) {
        (None, None) => return Err(no_such_key(&sk)),
        (None, Some(vid)) => {
            return Err(S3Error::NoSuchVersion
                .err()
                .with_field("Key", sk.clone())
                .with_field("VersionId", vid.clone()));
        }
        (Some(v), Some(_)) if v.delete_marker => {
            return Err(S3Error::InvalidRequest.msg(
                "The source of a copy request may not specifically refer to a delete marker by version id.",
            ));
        }
        (Some(v), None) if v.delete_marker => return Err(no_such_key(&sk)),
        (Some(v), _) => v,
    };
    // Archived sources must be restored first; the copy reads the restored copy.
    if !storage::readable(
        v.meta.storage_class.as_deref(),
        v.meta.restore.as_deref(),
        aloft_core::clock::now_millis(),
    ) {
        return Err(S3Error::InvalidObjectState
            .msg("Operation is not valid for the source object's storage class")
            .with_field(
                "StorageClass",
                v.meta.storage_class.clone().unwrap_or_default(),
            ));
    }
    let h = |n: &str| call.header(n);
    match evaluate(
        h("x-amz-copy-source-if-match"),
        h("x-amz-copy-source-if-none-match"),
        h("x-amz-copy-source-if-modified-since"),
        h("x-amz-copy-source-if-unmodified-since"),
        &v.etag,
        v.modified,
    ) {
        Precondition::Proceed => {}
        Precondition::NotModified => {
            return Err(S3Error::PreconditionFailed
                .err()
                .with_field("Condition", "x-amz-copy-source-If-None-Match"));
        }
        Precondition::Failed(c) => {
            return Err(S3Error::PreconditionFailed
                .err()
                .with_field("Condition", format!("x-amz-copy-source-{c}")));
        }
    }
    // The source's SSE-C key must be presented to copy it.
    if let Some(md5) = v.meta.sse.as_ref().and_then(|s| s.customer_key_md5.clone()) {
        let given = sse_c(call, &COPY_SOURCE_SSE_C)?;
        if given.map(|g| g.1) != Some(md5) {
            return Err(S3Error::AccessDenied.err());
        }
    }
    Ok((v, sb, sk))
}

#[derive(Serialize)]
struct CopyObjectResult {
    #[serde(rename = "ETag")]
    etag: String,
    #[serde(rename = "LastModified")]
    last_modified: String,
    #[serde(rename = "ChecksumType", skip_serializing_if = "Option::is_none")]
    checksum_type: Option<&'static str>,
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
}

pub async fn copy_object(s3: &S3, call: &mut Call) -> Result<Response, AwsError> {
    s3.bucket(&call.bucket)?;
    let (src, sb, sk) = copy_source(s3, call)?;
    let replace_meta = match call.header("x-amz-metadata-directive") {
        None | Some("COPY") => false,
        Some("REPLACE") => true,
        Some(other) => {
            return Err(invalid_argument(
                "Unknown metadata directive.",
                "x-amz-metadata-directive",
                other,
            ));
        }
    };
    let mut meta = if replace_meta {
        meta_from_headers(s3, call)?
    } else {
        let fresh = meta_from_headers(s3, call)?;
        let mut m = src.meta.clone();
        m.storage_class = fresh.storage_class.clone();
        m.sse = fresh.sse.clone();
        m.website_redirect = fresh.website_redirect.clone().or(m.website_redirect);
        m.set_acl(fresh.acl_spec());
        m.set_owner(fresh.owner().map(str::to_string));
        // A copy is a new object in its own class: no restore carries over.
        m.restore = None;
        if call.header("x-amz-tagging-directive") == Some("REPLACE") {
            m.tags = fresh.tags.clone();
        }
        m
    };
    if replace_meta && call.header("x-amz-tagging-directive") != Some("REPLACE") {
        meta.tags = src.meta.tags.clone();
    }
    let changes_something = replace_meta
        || meta.storage_class != src.meta.storage_class
        || (meta.sse.is_some() && meta.sse != src.meta.sse)
        || call.header("x-amz-website-redirect-location").is_some();
    if sb == call.bucket && sk == call.key && !changes_something {
        return Err(S3Error::InvalidRequest.msg(
            "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
        ));
    }
    let algo = call
        .header("x-amz-checksum-algorithm")
        .and_then(Algo::parse)
        .or(src.checksum.as_ref().map(|c| c.algo))
        .unwrap_or(Algo::CRC64NVME);
    let copied = s3.bodies.copy(&src.data, 0, src.size, Some(algo)).await?;
    let checksum = copied.checksum.clone().map(|(algo, value)| Checksum {
        algo,
        value,
        composite: false,
    });
    let obj = NewObject {
        key: call.key.clone(),
        etag: if src.parts.is_some() {
            copied.etag()
        } else {
            src.etag.clone()
        },
        size: copied.size,
        data: copied.data,
        meta,
        checksum,
        parts: None,
        completes: None,
    };
    let (v, versioning) =
        write_object(s3, call, &call.bucket, obj, "ObjectCreated:Copy", None).await?;
    let mut result = CopyObjectResult {
        etag: v.quoted_etag(),
        last_modified: iso(v.modified),
        checksum_type: v.checksum.as_ref().map(|_| "FULL_OBJECT"),
        crc32: None,
        crc32c: None,
        crc64nvme: None,
        sha1: None,
        sha256: None,
    };
    if let Some(c) = &v.checksum {
        let slot = match c.algo {
            Algo::CRC32 => &mut result.crc32,
            Algo::CRC32C => &mut result.crc32c,
            Algo::CRC64NVME => &mut result.crc64nvme,
            Algo::SHA1 => &mut result.sha1,
            Algo::SHA256 => &mut result.sha256,
        };
        *slot = Some(c.value.clone());
    }
    let mut r = Resp::ok();
    if versioning != Versioning::Unversioned {
        r = r.header("x-amz-version-id", v.version_str());
    }
    if let Some(sv) = &src.version_id {
        r = r.header("x-amz-copy-source-version-id", sv);
    }
    r = sse_headers(r, &v.meta);
    Ok(r.xml("CopyObjectResult", &result))
}

/// Version ids Aloft issues are 32 alphanumerics; `null` names the null version.
pub fn check_version_id(v: &str) -> Result<(), AwsError> {
    if v == "null"
        || (!v.is_empty()
            && v.len() <= 1024
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-'))
    {
        Ok(())
    } else {
        Err(invalid_argument(
            "Invalid version id specified",
            "versionId",
            v,
        ))
    }
}

/// Deletes one key or version; returns (delete marker?, version id header).
async fn delete_one(
    s3: &S3,
    call: &Call,
    bucket: &str,
    key: &str,
    version: Option<&str>,
) -> Result<(bool, Option<String>), AwsError> {
    let cell = s3.bucket(bucket)?;
    let now = aloft_core::clock::now_millis();
    let (commit, d, staged, versioning) = {
        let mut b = cell.write().map_err(internal)?;
        let d = versions::delete(&mut b, key, version, s3.next_seq(), now);
        let mut batch = Batch::new();
        if s3.durable {
            for r in &d.removed {
                store::delete_version(&mut batch, bucket, key, r.version_id.as_deref());
            }
            if let Some(m) = &d.marker {
                store::put_version(&mut batch, bucket, key, m);
            }
        }
        let mut staged = events::Staged::default();
        let announce = d.marker.is_some()
            || !d.removed.is_empty()
            || b.info.versioning == Versioning::Unversioned;
        if announce && b.info.config.notification.is_some() {
            let (name, vid, seq) = match &d.marker {
                Some(m) => (
                    "ObjectRemoved:DeleteMarkerCreated",
                    m.version_id.clone(),
                    m.seq,
                ),
                None => (
                    "ObjectRemoved:Delete",
                    version.map(str::to_string),
                    s3.next_seq(),
                ),
            };
            let ev = ObjectEvent {
                name,
                bucket: bucket.to_string(),
                key: key.to_string(),
                size: None,
                etag: None,
                version_id: vid,
                seq,
                time_ms: now,
                region: call.ctx.region.clone(),
                account: call.ctx.account_id.clone(),
                request_id: call.ctx.request_id.clone(),
                principal: principal(call),
                source_ip: "127.0.0.1".into(),
                extra: EventExtra::default(),
            };
            staged = events::stage(s3, b.info.config.notification.as_ref(), &ev, &mut batch);
        }
        (s3.store.submit(batch), d, staged, b.info.versioning)
    };
    committed(commit).await?;
    free_versions(s3, &d.removed);
    events::send(s3, staged);
    let vid = d
        .version_id
        .filter(|_| versioning != Versioning::Unversioned || version.is_some());
    Ok((d.delete_marker, vid))
}

pub async fn delete_object(s3: &S3, call: &mut Call) -> Result<Response, AwsError> {
    let version = call.q.get("versionId").map(str::to_string);
    if let Some(v) = &version {
        check_version_id(v)?;
    }
    if let Some(m) = call.header("if-match") {
        let cell = s3.bucket(&call.bucket)?;
        let b = cell.read().map_err(internal)?;
        match b.current(&call.key) {
            None => return Err(no_such_key(&call.key)),
            Some(v) if !etag_matches(m, &v.etag) => {
                return Err(S3Error::PreconditionFailed
                    .err()
                    .with_field("Condition", "If-Match"));
            }
            _ => {}
        }
    }
    let (marker, vid) = delete_one(s3, call, &call.bucket, &call.key, version.as_deref()).await?;
    let mut r = Resp::new(204);
    if marker {
        r = r.header("x-amz-delete-marker", "true");
    }
    Ok(r.opt_header("x-amz-version-id", vid).empty())
}

#[derive(Deserialize)]
struct ObjectIdentifier {
    #[serde(rename = "Key")]
    key: String,
    #[serde(rename = "VersionId", default)]
    version_id: Option<String>,
}

#[derive(Deserialize)]
struct Delete {
    #[serde(rename = "Object", default)]
    objects: Vec<ObjectIdentifier>,
    #[serde(rename = "Quiet", default)]
    quiet: bool,
}

#[derive(Serialize)]
struct DeletedEntry {
    #[serde(rename = "Key")]
    key: String,
    #[serde(rename = "VersionId", skip_serializing_if = "Option::is_none")]
    version_id: Option<String>,
    #[serde(rename = "DeleteMarker", skip_serializing_if = "Option::is_none")]
    delete_marker: Option<bool>,
    #[serde(
        rename = "DeleteMarkerVersionId",
        skip_serializing_if = "Option::is_none"
    )]
    delete_marker_version_id: Option<String>,
}

#[derive(Serialize)]
struct ErrorEntry {
    #[serde(rename = "Key")]
    key: String,
    #[serde(rename = "VersionId", skip_serializing_if = "Option::is_none")]
    version_id: Option<String>,
    #[serde(rename = "Code")]
    code: String,
    #[serde(rename = "Message")]
    message: String,
}

#[derive(Serialize)]
struct DeleteResult {
    #[serde(rename = "Deleted")]
    deleted: Vec<DeletedEntry>,
    #[serde(rename = "Error")]
    errors: Vec<ErrorEntry>,
}

pub async fn delete_objects(s3: &S3, call: &mut Call) -> Result<Response, AwsError> {
    s3.bucket(&call.bucket)?;
    let has_digest = call.header("content-md5").is_some()
        || Algo::ALL.iter().any(|a| call.header(a.header()).is_some())
        || call.header("x-amz-sdk-checksum-algorithm").is_some();
    if !has_digest {
        return Err(
            S3Error::InvalidRequest.msg("Missing required header for this request: Content-MD5")
        );
    }
    let raw = call.read_small().await?;
    if let Some(m) = call.header("content-md5")
        && B64.decode(m).ok().as_deref() != Some(&crate::bodies::md5(&raw)[..])
    {
        return Err(S3Error::BadDigest.err());
    }
    let req: Delete = crate::xml::from_xml(&raw)?;
    if req.objects.is_empty() || req.objects.len() > 1000 {
        return Err(S3Error::MalformedXML.err());
    }
    let mut result = DeleteResult {
        deleted: Vec::new(),
        errors: Vec::new(),
    };
    for o in req.objects {
        let checked = crate::domain::names::check_key(&o.key)
            .and_then(|()| o.version_id.as_deref().map_or(Ok(()), check_version_id));
        let outcome = match checked {
            Ok(()) => delete_one(s3, call, &call.bucket, &o.key, o.version_id.as_deref()).await,
            Err(e) => Err(e),
        };
        match outcome {
            Ok((marker, vid)) => {
                if req.quiet {
                    continue;
                }
                let by_version = o.version_id.is_some();
                result.deleted.push(DeletedEntry {
                    key: o.key,
                    version_id: o.version_id.clone(),
                    delete_marker: marker.then_some(true),
                    delete_marker_version_id: if marker && !by_version {
                        vid
                    } else if marker {
                        o.version_id
                    } else {
                        None
                    },
                });
            }
            Err(e) => result.errors.push(ErrorEntry {
                key: o.key,
                version_id: o.version_id,
                code: e.code.to_string(),
                message: e.message,
            }),
        }
    }
    Ok(Resp::ok().xml("DeleteResult", &result))
}

pub(crate) fn fuzz_delete_document(data: &[u8]) {
    let _ = crate::xml::from_xml::<Delete>(data);
}
