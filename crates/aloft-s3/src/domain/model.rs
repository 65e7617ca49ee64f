//! Buckets, object versions and multipart uploads as S3 keeps them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::bodies::Data;
use crate::checksums::Algo;
use crate::domain::acl::AclSpec;
use crate::domain::config::{AccessControlPolicy, BucketConfig};
use crate::domain::storage::Restore;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Versioning {
    #[default]
    Unversioned,
    Enabled,
    Suspended,
}

/// What the journal keeps of a bucket besides its objects.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BucketInfo {
    pub name: String,
    pub account: String,
    pub region: String,
    pub created: i64,
    #[serde(default)]
    pub versioning: Versioning,
    #[serde(default)]
    pub config: BucketConfig,
}

/// A bucket with its objects (`key → versions, oldest first`) and open uploads.
#[derive(Debug)]
pub struct Bucket {
    pub info: BucketInfo,
    pub objects: BTreeMap<String, Vec<ObjectVersion>>,
    pub uploads: BTreeMap<String, Upload>,
}

impl Bucket {
    pub fn new(info: BucketInfo) -> Self {
        Self {
            info,
            objects: BTreeMap::new(),
            uploads: BTreeMap::new(),
        }
    }

    /// The current version of `key`, unless it is a delete marker.
    pub fn current(&self, key: &str) -> Option<&ObjectVersion> {
        self.objects
            .get(key)
            .and_then(|v| v.last())
            .filter(|v| !v.delete_marker)
    }

    /// True when no object version (delete markers included) remains.
    pub fn is_empty(&self) -> bool {
        self.objects.values().all(Vec::is_empty)
    }
}

/// Content headers, user metadata and the rest of what S3 returns about an object.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct ObjectMeta {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_encoding: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_disposition: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_language: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub user: Vec<(String, String)>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<(String, String)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_class: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub website_redirect: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sse: Option<Box<Sse>>,
    /// A canned ACL (most objects carry one or none; kept as its name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acl: Option<String>,
    /// Explicit grants and a writer that owns the object, when there are any (boxed: rare).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acl_ext: Option<Box<AclExt>>,
    /// The restore of an archived (GLACIER, DEEP_ARCHIVE) object, once requested.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restore: Option<Box<Restore>>,
}

/// What an object's ACL needs beyond a canned name.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct AclExt {
    /// Explicit grants (from grant headers or a PutObjectAcl document), in place of `acl`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grants: Option<AccessControlPolicy>,
    /// The writing account, when it owns the object instead of the bucket owner (Object
    /// Ownership `ObjectWriter`, or `BucketOwnerPreferred` without bucket-owner-full-control).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

impl ObjectMeta {
    /// The ACL as it was set, if it was.
    pub fn acl_spec(&self) -> Option<AclSpec> {
        match (
            self.acl_ext.as_ref().and_then(|e| e.grants.as_ref()),
            &self.acl,
        ) {
            (Some(g), _) => Some(AclSpec::Grants(g.clone())),
            (None, Some(c)) => Some(AclSpec::Canned(c.clone())),
            (None, None) => None,
        }
    }

    pub fn set_acl(&mut self, spec: Option<AclSpec>) {
        let owner = self.owner().map(str::to_string);
        let grants;
        (self.acl, grants) = match spec {
            Some(AclSpec::Canned(c)) => (Some(c), None),
            Some(AclSpec::Grants(g)) => (None, Some(g)),
            None => (None, None),
        };
        self.set_ext(grants, owner);
    }

    /// The writer that owns the object, when not the bucket owner.
    pub fn owner(&self) -> Option<&str> {
        self.acl_ext.as_ref().and_then(|e| e.owner.as_deref())
    }

    pub fn set_owner(&mut self, owner: Option<String>) {
        let grants = self.acl_ext.as_mut().and_then(|e| e.grants.take());
        self.set_ext(grants, owner);
    }

    fn set_ext(&mut self, grants: Option<AccessControlPolicy>, owner: Option<String>) {
        self.acl_ext =
            (grants.is_some() || owner.is_some()).then(|| Box::new(AclExt { grants, owner }));
    }

    /// The object's full ACL in a bucket `bucket_owner` owns.
    pub fn acl_policy(&self, bucket_owner: &str) -> AccessControlPolicy {
        let owner = self.owner().unwrap_or(bucket_owner);
        crate::domain::acl::object_policy(self.acl_spec().as_ref(), owner, bucket_owner)
    }

    /// The account that owns the object.
    pub fn owner_account<'a>(&'a self, bucket_owner: &'a str) -> &'a str {
        self.owner().unwrap_or(bucket_owner)
    }
}

/// Server-side encryption as recorded (SSE-S3/KMS echoed; SSE-C's key MD5 checked on read).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Sse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bucket_key: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_algorithm: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_key_md5: Option<String>,
}

/// A stored checksum: its algorithm, base64 value and type (`FULL_OBJECT` or `COMPOSITE`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Checksum {
    pub algo: Algo,
    pub value: String,
    pub composite: bool,
}

/// One version of an object, or a delete marker.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ObjectVersion {
    /// `None` is the `null` version (unversioned or suspended buckets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    #[serde(default)]
    pub delete_marker: bool,
    pub modified: i64,
    /// The ETag without quotes.
    pub etag: String,
    pub size: u64,
    pub data: Data,
    /// Orders events and versions (S3's `sequencer`).
    pub seq: u64,
    #[serde(default)]
    pub meta: ObjectMeta,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<Checksum>,
    /// Number of parts for multipart objects, with their sizes (for `PartsCount`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parts: Option<u32>,
}

impl ObjectVersion {
    /// The version without its body, for answers and events. Cloning an in-memory body would
    /// turn it into a shared buffer with an extra allocation kept for the object's lifetime.
    pub fn summary(&self) -> ObjectVersion {
        ObjectVersion {
            version_id: self.version_id.clone(),
            delete_marker: self.delete_marker,
            modified: self.modified,
            etag: self.etag.clone(),
            size: self.size,
            data: Data::empty(),
            seq: self.seq,
            meta: self.meta.clone(),
            checksum: self.checksum.clone(),
            parts: self.parts,
        }
    }

    pub fn version_str(&self) -> &str {
        self.version_id.as_deref().unwrap_or("null")
    }
    /// The ETag as headers carry it. Sized exactly, so that a `HeaderValue` made from it
    /// takes the buffer over without another allocation.
    pub fn quoted_etag(&self) -> String {
        let mut s = String::with_capacity(self.etag.len() + 2);
        s.push('"');
        s.push_str(&self.etag);
        s.push('"');
        s
    }
}

/// A multipart upload in progress.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Upload {
    pub upload_id: String,
    pub key: String,
    pub initiated: i64,
    pub meta: ObjectMeta,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum_algo: Option<Algo>,
    /// `FULL_OBJECT` (CRC only) instead of the default `COMPOSITE`.
    #[serde(default)]
    pub full_object_checksum: bool,
    #[serde(skip)]
    pub parts: BTreeMap<u32, Part>,
}

/// An uploaded part.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Part {
    pub etag: String,
    pub size: u64,
    pub modified: i64,
    pub data: Data,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<String>,
}

/// A fresh version id: 32 URL-safe characters, like AWS's.
pub fn new_version_id() -> String {
    aloft_core::ids::random_string(32, aloft_core::ids::ALNUM)
}

/// A fresh upload id.
pub fn new_upload_id() -> String {
    aloft_core::ids::random_string(64, aloft_core::ids::ALNUM)
}

#[cfg(test)]
mod size_tests {
    /// Per-object overhead is a target (≤ 1 KiB beyond the body): keep the version compact.
    #[test]
    fn versions_stay_compact() {
        assert!(
            std::mem::size_of::<super::ObjectVersion>() <= 448,
            "{}",
            std::mem::size_of::<super::ObjectVersion>()
        );
    }
}
