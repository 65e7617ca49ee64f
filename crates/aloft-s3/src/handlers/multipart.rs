//! Multipart uploads: Create, UploadPart, UploadPartCopy, ListParts, Complete (order, size and
//! ETag rules; `md5-N` ETags; composite or full-object checksums), Abort, ListMultipartUploads.

use std::sync::Arc;

use aloft_core::AwsError;
use aloft_core::body::Response;
use aloft_store::Batch;
use serde::{Deserialize, Serialize};

use super::buckets::{Owner, owner};
use super::objects::{
    NewObject, WriteCondition, copy_source, ingest_body, meta_from_headers, requested_checksum,
    sse_headers, verify_checksum, write_headers, write_object,
};
use super::{Call, MAX_PUT, committed, iso};
use crate::S3;
use crate::bodies::{Data, Piece};
use crate::checksums::{self, Algo};
use crate::domain::conditions::{RangeResult, parse_range};
use crate::domain::model::{Checksum, Part, Upload, new_upload_id};
use crate::error::{S3Error, internal, invalid_argument};
use crate::store;
use crate::xml::Resp;

/// S3's minimum size for every part but the last.
const MIN_PART: u64 = 5 * 1024 * 1024;

fn no_such_upload(id: &str) -> AwsError {
    S3Error::NoSuchUpload.err().with_field("UploadId", id)
}

fn part_number(call: &Call) -> Result<u32, AwsError> {
    let raw = call.q.get("partNumber").unwrap_or("");
    raw.parse::<u32>()
        .ok()
        .filter(|n| (1..=10_000).contains(n))
        .ok_or_else(|| {
            invalid_argument(
                "Part number must be an integer between 1 and 10000, inclusive",
                "partNumber",
                raw,
            )
        })
}

fn upload_id(call: &Call) -> String {
    call.q.get("uploadId").unwrap_or("").to_string()
}

#[derive(Serialize)]
struct InitiateMultipartUploadResult {
    #[serde(rename = "Bucket")]
    bucket: String,
    #[serde(rename = "Key")]
    key: String,
    #[serde(rename = "UploadId")]
    upload_id: String,
}

pub async fn create_multipart_upload(s3: &S3, call: &mut Call) -> Result<Response, AwsError> {
    let cell = s3.bucket(&call.bucket)?;
    let meta = meta_from_headers(s3, call)?;
    let algo = match call.header("x-amz-checksum-algorithm") {
        None => None,
        Some(a) => Some(Algo::parse(a).ok_or_else(|| {
            invalid_argument("Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]", "x-amz-checksum-algorithm", a)
        })?),
    };
    let full_object = match call.header("x-amz-checksum-type") {
        None => algo == Some(Algo::CRC64NVME),
        Some("FULL_OBJECT") => true,
        Some("COMPOSITE") => false,
        Some(other) => {
            return Err(invalid_argument(
                "Value for x-amz-checksum-type header is invalid.",
                "x-amz-checksum-type",
                other,
            ));
        }
    };
    if let Some(a) = algo
        && ((full_object && !a.is_crc()) || (!full_object && a == Algo::CRC64NVME))
    {
        return Err(S3Error::InvalidRequest.msg(format!(
            "The {} checksum type cannot be used with the {} checksum algorithm.",
            if full_object {
                "FULL_OBJECT"
            } else {
                "COMPOSITE"
            },
            a.name().to_lowercase()
        )));
    }
    let up = Upload {
        upload_id: new_upload_id(),
        key: call.key.clone(),
        initiated: aloft_core::clock::now_millis(),
        meta,
        checksum_algo: algo,
        full_object_checksum: full_object,
        parts: Default::default(),
    };
    let commit = {
        let mut b = cell.write().map_err(internal)?;
        let mut batch = Batch::new();
        store::put_upload(&mut batch, &call.bucket, &up);
        b.uploads.insert(up.upload_id.clone(), up.clone());
        s3.store.submit(batch)
    };
    committed(commit).await?;
    let mut r = sse_headers(Resp::ok(), &up.meta);
    if let Some(a) = algo {
        r = r.header("x-amz-checksum-algorithm", a.name()).header(
            "x-amz-checksum-type",
            if full_object {
                "FULL_OBJECT"
            } else {
                "COMPOSITE"
            },
        );
    }
    Ok(r.xml(
        "InitiateMultipartUploadResult",
        &InitiateMultipartUploadResult {
            bucket: call.bucket.clone(),
            key: call.key.clone(),
            upload_id: up.upload_id,
        },
    ))
}

/// Stores a finished part, replacing (and freeing) any earlier part of that number.
async fn save_part(s3: &S3, bucket: &str, id: &str, n: u32, part: Part) -> Result<(), AwsError> {
    let cell = s3.bucket(bucket)?;
    let (commit, old) = {
        let mut b = cell.write().map_err(internal)?;
        let Some(up) = b.uploads.get_mut(id) else {
            drop(b);
            let mut ids = Vec::new();
            part.data.blob_ids(&mut ids);
            s3.bodies.remove(&ids);
            return Err(no_such_upload(id));
        };
        let mut batch = Batch::new();
        store::put_part(&mut batch, bucket, id, n, &part);
        let old = up.parts.insert(n, part);
        (s3.store.submit(batch), old)
    };
    committed(commit).await?;
    if let Some(old) = old {
        let mut ids = Vec::new();
        old.data.blob_ids(&mut ids);
        s3.bodies.remove(&ids);
    }
    Ok(())
}

fn upload_algo(s3: &S3, call: &Call, id: &str) -> Result<Option<Algo>, AwsError> {
    let cell = s3.bucket(&call.bucket)?;
    let b = cell.read().map_err(internal)?;
    let up = b
        .uploads
        .get(id)
        .filter(|u| u.key == call.key)
        .ok_or_else(|| no_such_upload(id))?;
    Ok(up.checksum_algo)
}

pub async fn upload_part(s3: &S3, call: &mut Call) -> Result<Response, AwsError> {
    let n = part_number(call)?;
    let id = upload_id(call);
    let upload_algo = upload_algo(s3, call, &id)?;
    let (algo, sent) = requested_checksum(call)?;
    if let (Some(u), Some(a)) = (upload_algo, algo)
        && u != a
    {
        return Err(S3Error::InvalidRequest.msg(format!(
            "Checksum Type mismatch occurred, expected checksum Type: {}, actual checksum Type: {}",
            u.name().to_lowercase(),
            a.name().to_lowercase()
        )));
    }
    let got = ingest_body(s3, call, algo.or(upload_algo), MAX_PUT).await?;
    verify_checksum(s3, &got, sent.as_deref())?;
    let checksum = got
        .checksum
        .clone()
        .filter(|_| upload_algo.is_some() || algo.is_some());
    let etag = got.etag();
    let part = Part {
        etag: etag.clone(),
        size: got.size,
        modified: aloft_core::clock::now_millis(),
        data: got.data,
        checksum: checksum.as_ref().map(|c| c.1.clone()),
    };
    save_part(s3, &call.bucket, &id, n, part).await?;
    let mut r = Resp::ok().header("etag", format!("\"{etag}\""));
    if let Some((a, v)) = checksum {
        r = r.header(a.header(), v);
    }
    Ok(r.empty())
}

#[derive(Serialize)]
struct CopyPartResult {
    #[serde(rename = "ETag")]
    etag: String,
    #[serde(rename = "LastModified")]
    last_modified: String,
}

pub async fn upload_part_copy(s3: &S3, call: &mut Call) -> Result<Response, AwsError> {
    let n = part_number(call)?;
    let id = upload_id(call);
    let algo = upload_algo(s3, call, &id)?;
    let (src, _, _) = copy_source(s3, call)?;
    let (start, len) = match call.header("x-amz-copy-source-range") {
        None => (0, src.size),
        Some(h) => match parse_range(h, src.size) {
            RangeResult::Partial(r)
                if h.trim()
                    .strip_prefix("bytes=")
                    .is_some_and(|s| !s.starts_with('-') && !s.ends_with('-')) =>
            {
                // The range must lie inside the source: S3 does not clamp copy ranges.
                let end: u64 = h
                    .rsplit('-')
                    .next()
                    .and_then(|e| e.trim().parse().ok())
                    .unwrap_or(0);
                if end >= src.size {
                    return Err(invalid_argument(
                        format!(
                            "Range specified is not valid for source object of size: {}",
                            src.size
                        ),
                        "x-amz-copy-source-range",
                        h,
                    ));
                }
                (r.start, r.len)
            }
            _ => {
                return Err(invalid_argument(
                    "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy",
                    "x-amz-copy-source-range",
                    h,
                ));
            }
        },
    };
    let got = s3.bodies.copy(&src.data, start, len, algo).await?;
    let etag = got.etag();
    let now = aloft_core::clock::now_millis();
    let part = Part {
        etag: etag.clone(),
        size: got.size,
        modified: now,
        data: got.data,
        checksum: got.checksum.map(|c| c.1),
    };
    save_part(s3, &call.bucket, &id, n, part).await?;
    let mut r = Resp::ok();
    if let Some(sv) = &src.version_id {
        r = r.header("x-amz-copy-source-version-id", sv);
    }
    Ok(r.xml(
        "CopyPartResult",
        &CopyPartResult {
            etag: format!("\"{etag}\""),
            last_modified: iso(now),
        },
    ))
}

#[derive(Deserialize)]
struct CompletedPart {
    #[serde(rename = "PartNumber")]
    part_number: u32,
    #[serde(rename = "ETag", default)]
    etag: Option<String>,
}

#[derive(Deserialize)]
struct CompleteMultipartUpload {
    #[serde(rename = "Part", default)]
    parts: Vec<CompletedPart>,
}

#[derive(Serialize)]
struct CompleteMultipartUploadResult {
    #[serde(rename = "Location")]
    location: String,
    #[serde(rename = "Bucket")]
    bucket: String,
    #[serde(rename = "Key")]
    key: String,
    #[serde(rename = "ETag")]
    etag: String,
    #[serde(flatten)]
    checksum: Option<super::objects_read::ChecksumOutPub>,
}

pub async fn complete_multipart_upload(s3: &S3, call: &mut Call) -> Result<Response, AwsError> {
    let id = upload_id(call);
    let cell = s3.bucket(&call.bucket)?;
    let cond = WriteCondition::from_call(call)?;
    let req: CompleteMultipartUpload = call.read_xml().await?;
    if req.parts.is_empty() {
        return Err(S3Error::MalformedXML.err());
    }
    let (pieces, etags, checksum, meta) = {
        let b = cell.read().map_err(internal)?;
        let up = b
            .uploads
            .get(&id)
            .filter(|u| u.key == call.key)
            .ok_or_else(|| no_such_upload(&id))?;
        // S3 checks the order first, then that every part exists, then the sizes.
        if req
            .parts
            .windows(2)
            .any(|w| w[1].part_number <= w[0].part_number)
        {
            return Err(S3Error::InvalidPartOrder
                .err()
                .with_field("UploadId", id.clone()));
        }
        let mut stored_parts = Vec::with_capacity(req.parts.len());
        for p in &req.parts {
            let stored = up.parts.get(&p.part_number).filter(|s| {
                p.etag
                    .as_deref()
                    .is_none_or(|e| e.trim().trim_matches('"') == s.etag)
            });
            let Some(s) = stored else {
                return Err(S3Error::InvalidPart
                    .err()
                    .with_field("UploadId", id.clone())
                    .with_field("PartNumber", p.part_number.to_string())
                    .with_field("ETag", p.etag.clone().unwrap_or_default()));
            };
            stored_parts.push((p.part_number, s));
        }
        let mut pieces = Vec::with_capacity(req.parts.len());
        let mut etags = Vec::with_capacity(req.parts.len());
        let mut sums: Vec<(String, u64)> = Vec::new();
        let last = stored_parts.len() - 1;
        for (i, (n, s)) in stored_parts.into_iter().enumerate() {
            if i < last && s.size < MIN_PART {
                return Err(S3Error::EntityTooSmall
                    .err()
                    .with_field("ProposedSize", s.size.to_string())
                    .with_field("MinSizeAllowed", MIN_PART.to_string())
                    .with_field("PartNumber", n.to_string())
                    .with_field("ETag", s.etag.clone()));
            }
            pieces.push(Piece {
                data: s.data.clone(),
                size: s.size,
            });
            etags.push(s.etag.clone());
            if let Some(c) = &s.checksum {
                sums.push((c.clone(), s.size));
            }
        }
        let checksum = match up.checksum_algo {
            Some(a) if sums.len() == req.parts.len() => {
                let value = if up.full_object_checksum {
                    let parts: Vec<(&str, u64)> =
                        sums.iter().map(|(c, l)| (c.as_str(), *l)).collect();
                    checksums::full_object(a, &parts)
                } else {
                    let parts: Vec<&str> = sums.iter().map(|(c, _)| c.as_str()).collect();
                    checksums::composite(a, &parts)
                };
                value.map(|value| Checksum {
                    algo: a,
                    value,
                    composite: !up.full_object_checksum,
                })
            }
            _ => None,
        };
        (pieces, etags, checksum, up.meta.clone())
    };
    let size = pieces.iter().map(|p| p.size).sum();
    let refs: Vec<&str> = etags.iter().map(String::as_str).collect();
    let obj = NewObject {
        key: call.key.clone(),
        data: Data::Parts(Arc::from(pieces)),
        size,
        etag: checksums::multipart_etag(&refs),
        meta,
        checksum,
        parts: Some(req.parts.len() as u32),
        completes: None,
    };
    let used: Vec<u32> = req.parts.iter().map(|p| p.part_number).collect();
    let (v, versioning) = write_object_completing(s3, call, obj, cond, &id, &used).await?;
    let key_path = percent_encoding::utf8_percent_encode(&call.key, super::listing::KEY_ESCAPE);
    let location = format!("{}/{}/{key_path}", call.ctx.base_url, call.bucket);
    let r = write_headers(Resp::ok(), &v, versioning);
    Ok(r.xml(
        "CompleteMultipartUploadResult",
        &CompleteMultipartUploadResult {
            location,
            bucket: call.bucket.clone(),
            key: call.key.clone(),
            etag: v.quoted_etag(),
            checksum: v.checksum.as_ref().map(super::objects_read::checksum_out),
        },
    ))
}

/// Writes the object and forgets the upload in one journal batch; unused parts are freed.
async fn write_object_completing(
    s3: &S3,
    call: &Call,
    mut obj: NewObject,
    cond: WriteCondition,
    id: &str,
    used: &[u32],
) -> Result<
    (
        crate::domain::model::ObjectVersion,
        crate::domain::model::Versioning,
    ),
    AwsError,
> {
    // The upload is taken out first so a concurrent Complete or Abort cannot free its parts.
    let cell = s3.bucket(&call.bucket)?;
    let up = {
        let mut b = cell.write().map_err(internal)?;
        b.uploads.remove(id).ok_or_else(|| no_such_upload(id))?
    };
    let mut unused = Vec::new();
    for (n, p) in &up.parts {
        if !used.contains(n) {
            p.data.blob_ids(&mut unused);
        }
    }
    obj.completes = Some(up);
    let keep = obj.completes.clone();
    let result = write_object(
        s3,
        call,
        &call.bucket,
        obj,
        "ObjectCreated:CompleteMultipartUpload",
        Some(cond),
    )
    .await;
    match result {
        Ok(ok) => {
            s3.bodies.remove(&unused);
            Ok(ok)
        }
        Err(e) => {
            // The upload stays open after a failed completion (e.g. a failed If-None-Match).
            if let (Some(up), Ok(mut b)) = (keep, cell.write()) {
                b.uploads.insert(up.upload_id.clone(), up);
            }
            Err(e)
        }
    }
}

pub async fn abort_multipart_upload(s3: &S3, call: &mut Call) -> Result<Response, AwsError> {
    let id = upload_id(call);
    let cell = s3.bucket(&call.bucket)?;
    let (commit, up) = {
        let mut b = cell.write().map_err(internal)?;
        if b.uploads.get(&id).is_none_or(|u| u.key != call.key) {
            return Err(no_such_upload(&id));
        }
        let up = b.uploads.remove(&id).expect("checked above");
        let mut batch = Batch::new();
        store::delete_upload(&mut batch, &call.bucket, &up);
        (s3.store.submit(batch), up)
    };
    committed(commit).await?;
    let mut ids = Vec::new();
    for p in up.parts.values() {
        p.data.blob_ids(&mut ids);
    }
    s3.bodies.remove(&ids);
    Ok(Resp::new(204).empty())
}

#[derive(Serialize)]
struct PartXml {
    #[serde(rename = "PartNumber")]
    part_number: u32,
    #[serde(rename = "LastModified")]
    last_modified: String,
    #[serde(rename = "ETag")]
    etag: String,
    #[serde(rename = "Size")]
    size: u64,
    #[serde(flatten)]
    checksum: Option<super::objects_read::ChecksumOutPub>,
}

#[derive(Serialize)]
struct ListPartsResult {
    #[serde(rename = "Bucket")]
    bucket: String,
    #[serde(rename = "Key")]
    key: String,
    #[serde(rename = "UploadId")]
    upload_id: String,
    #[serde(rename = "PartNumberMarker")]
    part_number_marker: u32,
    #[serde(
        rename = "NextPartNumberMarker",
        skip_serializing_if = "Option::is_none"
    )]
    next_part_number_marker: Option<u32>,
    #[serde(rename = "MaxParts")]
    max_parts: usize,
    #[serde(rename = "IsTruncated")]
    is_truncated: bool,
    #[serde(rename = "Part")]
    parts: Vec<PartXml>,
    #[serde(rename = "Initiator")]
    initiator: Owner,
    #[serde(rename = "Owner")]
    owner: Owner,
    #[serde(rename = "StorageClass")]
    storage_class: String,
    #[serde(rename = "ChecksumAlgorithm", skip_serializing_if = "Option::is_none")]
    checksum_algorithm: Option<&'static str>,
    #[serde(rename = "ChecksumType", skip_serializing_if = "Option::is_none")]
    checksum_type: Option<&'static str>,
}

pub async fn list_parts(s3: &S3, call: &mut Call) -> Result<Response, AwsError> {
    let id = upload_id(call);
    let max = super::listing::max_keys(call, "max-parts")?;
    let marker: u32 = match call.q.get("part-number-marker") {
        None => 0,
        Some(m) => m.parse().map_err(|_| {
            invalid_argument(
                "Provided part-number-marker not an integer or within integer range",
                "part-number-marker",
                m,
            )
        })?,
    };
    let cell = s3.bucket(&call.bucket)?;
    let b = cell.read().map_err(internal)?;
    let up = b
        .uploads
        .get(&id)
        .filter(|u| u.key == call.key)
        .ok_or_else(|| no_such_upload(&id))?;
    let mut parts = Vec::new();
    let mut truncated = false;
    for (n, p) in up.parts.range(marker + 1..) {
        if parts.len() >= max {
            truncated = true;
            break;
        }
        parts.push(PartXml {
            part_number: *n,
            last_modified: iso(p.modified),
            etag: format!("\"{}\"", p.etag),
            size: p.size,
            checksum: match (up.checksum_algo, &p.checksum) {
                (Some(a), Some(c)) => Some(super::objects_read::checksum_out(&Checksum {
                    algo: a,
                    value: c.clone(),
                    composite: false,
                })),
                _ => None,
            },
        });
    }
    let out = ListPartsResult {
        bucket: call.bucket.clone(),
        key: call.key.clone(),
        upload_id: id.clone(),
        part_number_marker: marker,
        next_part_number_marker: parts.last().map(|p| p.part_number),
        max_parts: max,
        is_truncated: truncated,
        parts,
        initiator: owner(&b.info.account),
        owner: owner(&b.info.account),
        storage_class: up
            .meta
            .storage_class
            .clone()
            .unwrap_or_else(|| "STANDARD".into()),
        checksum_algorithm: up.checksum_algo.map(Algo::name),
        checksum_type: up.checksum_algo.map(|_| {
            if up.full_object_checksum {
                "FULL_OBJECT"
            } else {
                "COMPOSITE"
            }
        }),
    };
    Ok(Resp::ok().xml("ListPartsResult", &out))
}

#[derive(Serialize)]
struct UploadXml {
    #[serde(rename = "Key")]
    key: String,
    #[serde(rename = "UploadId")]
    upload_id: String,
    #[serde(rename = "Initiator")]
    initiator: Owner,
    #[serde(rename = "Owner")]
    owner: Owner,
    #[serde(rename = "StorageClass")]
    storage_class: String,
    #[serde(rename = "Initiated")]
    initiated: String,
    #[serde(rename = "ChecksumAlgorithm", skip_serializing_if = "Option::is_none")]
    checksum_algorithm: Option<&'static str>,
}

#[derive(Serialize)]
struct CommonPrefix {
    #[serde(rename = "Prefix")]
    prefix: String,
}

#[derive(Serialize)]
struct ListMultipartUploadsResult {
    #[serde(rename = "Bucket")]
    bucket: String,
    #[serde(rename = "KeyMarker")]
    key_marker: String,
    #[serde(rename = "UploadIdMarker")]
    upload_id_marker: String,
    #[serde(rename = "NextKeyMarker", skip_serializing_if = "Option::is_none")]
    next_key_marker: Option<String>,
    #[serde(rename = "NextUploadIdMarker", skip_serializing_if = "Option::is_none")]
    next_upload_id_marker: Option<String>,
    #[serde(rename = "Prefix", skip_serializing_if = "Option::is_none")]
    prefix: Option<String>,
    #[serde(rename = "Delimiter", skip_serializing_if = "Option::is_none")]
    delimiter: Option<String>,
    #[serde(rename = "MaxUploads")]
    max_uploads: usize,
    #[serde(rename = "IsTruncated")]
    is_truncated: bool,
    #[serde(rename = "Upload")]
    uploads: Vec<UploadXml>,
    #[serde(rename = "CommonPrefixes")]
    common_prefixes: Vec<CommonPrefix>,
}

pub async fn list_multipart_uploads(s3: &S3, call: &mut Call) -> Result<Response, AwsError> {
    let max = super::listing::max_keys(call, "max-uploads")?;
    let prefix = call.q.get("prefix").unwrap_or("").to_string();
    let delimiter = call
        .q
        .get("delimiter")
        .filter(|d| !d.is_empty())
        .map(str::to_string);
    let key_marker = call.q.get("key-marker").unwrap_or("").to_string();
    let id_marker = call.q.get("upload-id-marker").unwrap_or("").to_string();
    let cell = s3.bucket(&call.bucket)?;
    let b = cell.read().map_err(internal)?;
    let mut all: Vec<&Upload> = b
        .uploads
        .values()
        .filter(|u| u.key.starts_with(&prefix))
        .collect();
    all.sort_by(|a, b| {
        (&a.key, a.initiated, &a.upload_id).cmp(&(&b.key, b.initiated, &b.upload_id))
    });
    let mut out = ListMultipartUploadsResult {
        bucket: call.bucket.clone(),
        key_marker: key_marker.clone(),
        upload_id_marker: id_marker.clone(),
        next_key_marker: None,
        next_upload_id_marker: None,
        prefix: call.q.get("prefix").map(str::to_string),
        delimiter: delimiter.clone(),
        max_uploads: max,
        is_truncated: false,
        uploads: Vec::new(),
        common_prefixes: Vec::new(),
    };
    let mut count = 0;
    for u in all {
        let after = if id_marker.is_empty() {
            u.key > key_marker || key_marker.is_empty()
        } else {
            u.key > key_marker || (u.key == key_marker && u.upload_id > id_marker)
        };
        if !after {
            continue;
        }
        if let Some(d) = &delimiter
            && let Some(i) = u.key[prefix.len()..].find(d.as_str())
        {
            let cp = u.key[..prefix.len() + i + d.len()].to_string();
            if out.common_prefixes.last().is_some_and(|c| c.prefix == cp) {
                continue;
            }
            if count >= max {
                out.is_truncated = true;
                break;
            }
            count += 1;
            out.common_prefixes.push(CommonPrefix { prefix: cp });
            continue;
        }
        if count >= max {
            out.is_truncated = true;
            break;
        }
        count += 1;
        out.next_key_marker = Some(u.key.clone());
        out.next_upload_id_marker = Some(u.upload_id.clone());
        out.uploads.push(UploadXml {
            key: u.key.clone(),
            upload_id: u.upload_id.clone(),
            initiator: owner(&b.info.account),
            owner: owner(&b.info.account),
            storage_class: u
                .meta
                .storage_class
                .clone()
                .unwrap_or_else(|| "STANDARD".into()),
            initiated: iso(u.initiated),
            checksum_algorithm: u.checksum_algo.map(Algo::name),
        });
    }
    if !out.is_truncated {
        out.next_key_marker = None;
        out.next_upload_id_marker = None;
    }
    Ok(Resp::ok().xml("ListMultipartUploadsResult", &out))
}

pub(crate) fn fuzz_complete_document(data: &[u8]) {
    let _ = crate::xml::from_xml::<CompleteMultipartUpload>(data);
}
