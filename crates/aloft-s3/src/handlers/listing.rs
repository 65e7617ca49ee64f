//! ListObjects (v1 and v2) and ListObjectVersions: parameters, paging tokens, url encoding.

use aloft_core::AwsError;
use aloft_core::body::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Serialize;

use super::buckets::{Owner, owner};
use super::{Call, iso};
use crate::S3;
use crate::domain::listing::{Entry, VersionEntry, list_current, list_versions};
use crate::domain::model::ObjectVersion;
use crate::error::{internal, invalid_argument};
use crate::xml::Resp;

/// `encoding-type=url` escapes all but unreserved characters and `/`.
pub const KEY_ESCAPE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

pub struct Encoder(bool);

impl Encoder {
    pub fn from_call(call: &Call) -> Result<Self, AwsError> {
        match call.q.get("encoding-type") {
            None => Ok(Encoder(false)),
            Some(e) if e.eq_ignore_ascii_case("url") => Ok(Encoder(true)),
            Some(e) => Err(invalid_argument(
                "Invalid Encoding Method specified in Request",
                "encoding-type",
                e,
            )),
        }
    }
    pub fn enc(&self, s: &str) -> String {
        if self.0 {
            // S3 form-encodes: a space is `+` (and a literal `+` is `%2B`).
            utf8_percent_encode(s, KEY_ESCAPE)
                .to_string()
                .replace("%20", "+")
        } else {
            s.to_string()
        }
    }
    pub fn opt(&self, s: Option<&str>) -> Option<String> {
        s.map(|s| self.enc(s))
    }
    pub fn kind(&self) -> Option<&'static str> {
        self.0.then_some("url")
    }
}

pub fn max_keys(call: &Call, name: &str) -> Result<usize, AwsError> {
    match call.q.get(name) {
        None => Ok(1000),
        Some(v) => match v.parse::<i64>() {
            Ok(n) if n >= 0 => Ok(n.min(1000) as usize),
            Ok(_) => Err(invalid_argument(
                "Argument maxKeys must be an integer between 0 and 2147483647",
                name,
                v,
            )),
            Err(_) => Err(invalid_argument(
                "Provided max-keys not an integer or within integer range",
                name,
                v,
            )),
        },
    }
}

#[derive(Serialize)]
struct Contents {
    #[serde(rename = "Key")]
    key: String,
    #[serde(rename = "LastModified")]
    last_modified: String,
    #[serde(rename = "ETag")]
    etag: String,
    #[serde(rename = "ChecksumAlgorithm", skip_serializing_if = "Option::is_none")]
    checksum_algorithm: Option<&'static str>,
    #[serde(rename = "ChecksumType", skip_serializing_if = "Option::is_none")]
    checksum_type: Option<&'static str>,
    #[serde(rename = "Size")]
    size: u64,
    #[serde(rename = "Owner", skip_serializing_if = "Option::is_none")]
    owner: Option<Owner>,
    #[serde(rename = "StorageClass")]
    storage_class: String,
    #[serde(rename = "RestoreStatus", skip_serializing_if = "Option::is_none")]
    restore_status: Option<RestoreStatus>,
}

/// `RestoreStatus`, listed when asked for with `x-amz-optional-object-attributes`.
#[derive(Serialize)]
struct RestoreStatus {
    #[serde(rename = "IsRestoreInProgress")]
    in_progress: bool,
    #[serde(rename = "RestoreExpiryDate", skip_serializing_if = "Option::is_none")]
    expiry: Option<String>,
}

fn wants_restore_status(call: &Call) -> bool {
    call.header("x-amz-optional-object-attributes")
        .is_some_and(|h| h.split(',').any(|a| a.trim() == "RestoreStatus"))
}

fn restore_status(v: &ObjectVersion) -> Option<RestoreStatus> {
    use crate::domain::storage::RestoreState;
    match v
        .meta
        .restore
        .as_ref()?
        .state(aloft_core::clock::now_millis())
    {
        RestoreState::Ongoing => Some(RestoreStatus {
            in_progress: true,
            expiry: None,
        }),
        RestoreState::Restored { expires_at } => Some(RestoreStatus {
            in_progress: false,
            expiry: Some(iso(expires_at)),
        }),
        RestoreState::Expired => None,
    }
}

fn contents(enc: &Encoder, key: &str, v: &ObjectVersion, owner_of: Option<&str>) -> Contents {
    Contents {
        key: enc.enc(key),
        last_modified: iso(v.modified),
        etag: v.quoted_etag(),
        checksum_algorithm: v.checksum.as_ref().map(|c| c.algo.name()),
        checksum_type: v.checksum.as_ref().map(|c| {
            if c.composite {
                "COMPOSITE"
            } else {
                "FULL_OBJECT"
            }
        }),
        size: v.size,
        owner: owner_of.map(owner),
        storage_class: v
            .meta
            .storage_class
            .clone()
            .unwrap_or_else(|| "STANDARD".into()),
        restore_status: None,
    }
}

#[derive(Serialize)]
struct CommonPrefix {
    #[serde(rename = "Prefix")]
    prefix: String,
}

#[derive(Serialize)]
struct ListBucketResult {
    #[serde(rename = "Name")]
    name: String,
    #[serde(rename = "Prefix")]
    prefix: String,
    #[serde(rename = "Marker", skip_serializing_if = "Option::is_none")]
    marker: Option<String>,
    #[serde(rename = "MaxKeys")]
    max_keys: usize,
    #[serde(rename = "Delimiter", skip_serializing_if = "Option::is_none")]
    delimiter: Option<String>,
    #[serde(rename = "IsTruncated")]
    is_truncated: bool,
    #[serde(rename = "NextMarker", skip_serializing_if = "Option::is_none")]
    next_marker: Option<String>,
    #[serde(rename = "Contents")]
    contents: Vec<Contents>,
    #[serde(rename = "CommonPrefixes")]
    common_prefixes: Vec<CommonPrefix>,
    #[serde(rename = "EncodingType", skip_serializing_if = "Option::is_none")]
    encoding_type: Option<&'static str>,
    #[serde(rename = "KeyCount", skip_serializing_if = "Option::is_none")]
    key_count: Option<usize>,
    #[serde(rename = "ContinuationToken", skip_serializing_if = "Option::is_none")]
    continuation_token: Option<String>,
    #[serde(
        rename = "NextContinuationToken",
        skip_serializing_if = "Option::is_none"
    )]
    next_continuation_token: Option<String>,
    #[serde(rename = "StartAfter", skip_serializing_if = "Option::is_none")]
    start_after: Option<String>,
}

pub async fn list_objects(s3: &S3, call: &mut Call, v2: bool) -> Result<Response, AwsError> {
    let enc = Encoder::from_call(call)?;
    let max = max_keys(call, "max-keys")?;
    let prefix = call.q.get("prefix").unwrap_or("").to_string();
    let delimiter = call
        .q
        .get("delimiter")
        .filter(|d| !d.is_empty())
        .map(str::to_string);
    let token = call.q.get("continuation-token").map(str::to_string);
    let start_after = call.q.get("start-after").map(str::to_string);
    let marker_v1 = call.q.get("marker").map(str::to_string);
    let marker = if v2 {
        match &token {
            Some(t) => Some(continuation_marker(t)?),
            None => start_after.clone(),
        }
    } else {
        marker_v1.clone()
    };
    let fetch_owner = !v2 || call.q.get("fetch-owner") == Some("true");
    let with_restore = wants_restore_status(call);
    let cell = s3.bucket(&call.bucket)?;
    let b = cell.read().map_err(internal)?;
    let account = b.info.account.clone();
    let l = list_current(
        &b.objects,
        &prefix,
        delimiter.as_deref(),
        marker.as_deref(),
        max,
    );
    let mut out = ListBucketResult {
        name: call.bucket.clone(),
        prefix: enc.enc(&prefix),
        marker: None,
        max_keys: max,
        delimiter: enc.opt(delimiter.as_deref()),
        is_truncated: l.truncated,
        next_marker: None,
        contents: Vec::new(),
        common_prefixes: Vec::new(),
        encoding_type: enc.kind(),
        key_count: None,
        continuation_token: None,
        next_continuation_token: None,
        start_after: None,
    };
    for e in &l.entries {
        match e {
            Entry::Object(k, v) => {
                let mut c = contents(&enc, k, v, fetch_owner.then_some(account.as_str()));
                if with_restore {
                    c.restore_status = restore_status(v);
                }
                out.contents.push(c);
            }
            Entry::Prefix(p) => out
                .common_prefixes
                .push(CommonPrefix { prefix: enc.enc(p) }),
        }
    }
    if v2 {
        out.key_count = Some(l.entries.len());
        out.continuation_token = token;
        out.start_after = enc.opt(start_after.as_deref());
        if l.truncated {
            out.next_continuation_token = l.last.as_ref().map(|k| B64.encode(k));
        }
    } else {
        out.marker = Some(enc.enc(marker_v1.as_deref().unwrap_or("")));
        // S3 returns NextMarker only with a delimiter; without one clients use the last key.
        if l.truncated && delimiter.is_some() {
            out.next_marker = enc.opt(l.last.as_deref());
        }
    }
    Ok(Resp::ok().xml("ListBucketResult", &out))
}

#[derive(Serialize)]
struct VersionXml {
    #[serde(rename = "Key")]
    key: String,
    #[serde(rename = "VersionId")]
    version_id: String,
    #[serde(rename = "IsLatest")]
    is_latest: bool,
    #[serde(rename = "LastModified")]
    last_modified: String,
    #[serde(rename = "ETag")]
    etag: String,
    #[serde(rename = "ChecksumAlgorithm", skip_serializing_if = "Option::is_none")]
    checksum_algorithm: Option<&'static str>,
    #[serde(rename = "Size")]
    size: u64,
    #[serde(rename = "Owner")]
    owner: Owner,
    #[serde(rename = "StorageClass")]
    storage_class: String,
    #[serde(rename = "RestoreStatus", skip_serializing_if = "Option::is_none")]
    restore_status: Option<RestoreStatus>,
}

#[derive(Serialize)]
struct DeleteMarkerXml {
    #[serde(rename = "Key")]
    key: String,
    #[serde(rename = "VersionId")]
    version_id: String,
    #[serde(rename = "IsLatest")]
    is_latest: bool,
    #[serde(rename = "LastModified")]
    last_modified: String,
    #[serde(rename = "Owner")]
    owner: Owner,
}

/// Versions and delete markers interleaved in listing order, as S3 returns them.
#[derive(Serialize)]
enum VersionItem {
    Version(VersionXml),
    DeleteMarker(DeleteMarkerXml),
    CommonPrefixes(CommonPrefix),
}

#[derive(Serialize)]
struct ListVersionsResult {
    #[serde(rename = "Name")]
    name: String,
    #[serde(rename = "Prefix")]
    prefix: String,
    #[serde(rename = "KeyMarker")]
    key_marker: String,
    #[serde(rename = "VersionIdMarker")]
    version_id_marker: String,
    #[serde(rename = "MaxKeys")]
    max_keys: usize,
    #[serde(rename = "Delimiter", skip_serializing_if = "Option::is_none")]
    delimiter: Option<String>,
    #[serde(rename = "IsTruncated")]
    is_truncated: bool,
    #[serde(rename = "NextKeyMarker", skip_serializing_if = "Option::is_none")]
    next_key_marker: Option<String>,
    #[serde(
        rename = "NextVersionIdMarker",
        skip_serializing_if = "Option::is_none"
    )]
    next_version_id_marker: Option<String>,
    #[serde(rename = "EncodingType", skip_serializing_if = "Option::is_none")]
    encoding_type: Option<&'static str>,
    #[serde(rename = "$value")]
    items: Vec<VersionItem>,
}

pub async fn list_object_versions(s3: &S3, call: &mut Call) -> Result<Response, AwsError> {
    let enc = Encoder::from_call(call)?;
    let max = max_keys(call, "max-keys")?;
    let prefix = call.q.get("prefix").unwrap_or("").to_string();
    let delimiter = call
        .q
        .get("delimiter")
        .filter(|d| !d.is_empty())
        .map(str::to_string);
    let key_marker = call.q.get("key-marker").map(str::to_string);
    let version_marker = call.q.get("version-id-marker").map(str::to_string);
    if version_marker.is_some() && key_marker.is_none() {
        return Err(invalid_argument(
            "A version-id marker cannot be specified without a key marker.",
            "version-id-marker",
            version_marker.as_deref().unwrap_or(""),
        ));
    }
    let cell = s3.bucket(&call.bucket)?;
    let b = cell.read().map_err(internal)?;
    let account = b.info.account.clone();
    let l = list_versions(
        &b.objects,
        &prefix,
        delimiter.as_deref(),
        key_marker.as_deref(),
        version_marker.as_deref(),
        max,
    );
    let mut items = Vec::with_capacity(l.entries.len());
    for e in &l.entries {
        items.push(match e {
            VersionEntry::Version(k, v, latest) if v.delete_marker => {
                VersionItem::DeleteMarker(DeleteMarkerXml {
                    key: enc.enc(k),
                    version_id: v.version_str().to_string(),
                    is_latest: *latest,
                    last_modified: iso(v.modified),
                    owner: owner(&account),
                })
            }
            VersionEntry::Version(k, v, latest) => VersionItem::Version(VersionXml {
                key: enc.enc(k),
                version_id: v.version_str().to_string(),
                is_latest: *latest,
                last_modified: iso(v.modified),
                etag: v.quoted_etag(),
                checksum_algorithm: v.checksum.as_ref().map(|c| c.algo.name()),
                size: v.size,
                owner: owner(&account),
                storage_class: v
                    .meta
                    .storage_class
                    .clone()
                    .unwrap_or_else(|| "STANDARD".into()),
                restore_status: wants_restore_status(call)
                    .then(|| restore_status(v))
                    .flatten(),
            }),
            VersionEntry::Prefix(p) => {
                VersionItem::CommonPrefixes(CommonPrefix { prefix: enc.enc(p) })
            }
        });
    }
    let out = ListVersionsResult {
        name: call.bucket.clone(),
        prefix: enc.enc(&prefix),
        key_marker: enc.enc(key_marker.as_deref().unwrap_or("")),
        version_id_marker: version_marker.unwrap_or_default(),
        max_keys: max,
        delimiter: enc.opt(delimiter.as_deref()),
        is_truncated: l.truncated,
        next_key_marker: if l.truncated {
            enc.opt(l.next_key_marker.as_deref())
        } else {
            None
        },
        next_version_id_marker: if l.truncated {
            l.next_version_marker
        } else {
            None
        },
        encoding_type: enc.kind(),
        items,
    };
    Ok(Resp::ok().xml("ListVersionsResult", &out))
}

/// The key a ListObjectsV2 continuation token stands for (tokens are the key, base64).
pub(crate) fn continuation_marker(token: &str) -> Result<String, AwsError> {
    B64.decode(token)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| {
            invalid_argument(
                "The continuation token provided is incorrect",
                "continuation-token",
                token,
            )
        })
}
