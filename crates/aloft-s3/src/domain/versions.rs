//! How writes and deletes change a key's versions under each versioning state: null versions
//! replaced, ids assigned, delete markers added or removed.

use std::collections::BTreeMap;

use crate::bodies::Data;
use crate::domain::model::{Bucket, ObjectMeta, ObjectVersion, Versioning, new_version_id};

/// Adds `v` as the key's current version; returns the versions it replaced (to forget and to
/// free their bodies).
pub fn insert(
    bucket: &mut Bucket,
    key: &str,
    v: ObjectVersion,
) -> (ObjectVersion, Vec<ObjectVersion>) {
    let versioning = bucket.info.versioning;
    let (stored, removed) = push(&mut bucket.objects, versioning, key, v);
    (stored.summary(), removed)
}

/// [`insert`] without the copy: the stored version is lent, not cloned (the bucket's other
/// fields stay free to read, as the objects are passed alone).
pub fn push<'a>(
    objects: &'a mut BTreeMap<String, Vec<ObjectVersion>>,
    versioning: Versioning,
    key: &str,
    mut v: ObjectVersion,
) -> (&'a ObjectVersion, Vec<ObjectVersion>) {
    // Most keys only ever have one version: a default Vec would reserve four (1.7 KiB).
    let versions = objects
        .entry(key.to_string())
        .or_insert_with(|| Vec::with_capacity(1));
    let mut removed = Vec::new();
    match versioning {
        Versioning::Enabled => v.version_id = Some(new_version_id()),
        // Unversioned and suspended buckets write the `null` version, replacing any.
        Versioning::Unversioned | Versioning::Suspended => {
            v.version_id = None;
            if let Some(i) = versions.iter().position(|x| x.version_id.is_none()) {
                removed.push(versions.remove(i));
            }
        }
    }
    let at = versions.len();
    versions.push(v);
    (&versions[at], removed)
}

/// What a DeleteObject did.
#[derive(Debug, Default)]
pub struct Deleted {
    /// Versions permanently removed.
    pub removed: Vec<ObjectVersion>,
    /// The delete marker created, if any.
    pub marker: Option<ObjectVersion>,
    /// `x-amz-delete-marker: true` in the answer.
    pub delete_marker: bool,
    /// `x-amz-version-id` in the answer.
    pub version_id: Option<String>,
}

fn marker(seq: u64, now: i64, version_id: Option<String>) -> ObjectVersion {
    ObjectVersion {
        version_id,
        delete_marker: true,
        modified: now,
        etag: String::new(),
        size: 0,
        data: Data::empty(),
        seq,
        meta: ObjectMeta::default(),
        checksum: None,
        parts: None,
    }
}

/// Deletes `key` (or one version of it) as S3 does under the bucket's versioning state.
pub fn delete(
    bucket: &mut Bucket,
    key: &str,
    version: Option<&str>,
    seq: u64,
    now: i64,
) -> Deleted {
    let versioning = bucket.info.versioning;
    let mut out = Deleted::default();
    if let Some(vid) = version {
        let want = (vid != "null").then_some(vid);
        if let Some(versions) = bucket.objects.get_mut(key)
            && let Some(i) = versions
                .iter()
                .position(|x| x.version_id.as_deref() == want)
        {
            let v = versions.remove(i);
            out.delete_marker = v.delete_marker;
            out.removed.push(v);
            if versions.is_empty() {
                bucket.objects.remove(key);
            }
        }
        out.version_id = Some(vid.to_string());
        return out;
    }
    match versioning {
        Versioning::Unversioned => {
            if let Some(vs) = bucket.objects.remove(key) {
                out.removed = vs;
            }
        }
        Versioning::Enabled => {
            let m = marker(seq, now, Some(new_version_id()));
            out.delete_marker = true;
            out.version_id = m.version_id.clone();
            bucket
                .objects
                .entry(key.to_string())
                .or_default()
                .push(m.clone());
            out.marker = Some(m);
        }
        Versioning::Suspended => {
            let versions = bucket.objects.entry(key.to_string()).or_default();
            if let Some(i) = versions.iter().position(|x| x.version_id.is_none()) {
                out.removed.push(versions.remove(i));
            }
            let m = marker(seq, now, None);
            out.delete_marker = true;
            out.version_id = Some("null".into());
            versions.push(m.clone());
            out.marker = Some(m);
        }
    }
    out
}

/// Finds a version: the current one, or by id (`null` names the null version).
pub fn find<'a>(bucket: &'a Bucket, key: &str, version: Option<&str>) -> Option<&'a ObjectVersion> {
    let versions = bucket.objects.get(key)?;
    match version {
        None => versions.last(),
        Some(vid) => {
            let want = (vid != "null").then_some(vid);
            versions.iter().find(|v| v.version_id.as_deref() == want)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::model::BucketInfo;

    fn bucket(v: Versioning) -> Bucket {
        Bucket::new(BucketInfo {
            name: "b".into(),
            account: "1".into(),
            region: "us-east-1".into(),
            created: 0,
            versioning: v,
            config: Default::default(),
        })
    }

    fn obj(etag: &str) -> ObjectVersion {
        ObjectVersion {
            etag: etag.into(),
            ..marker(0, 0, None)
        }
        .with_live()
    }

    impl ObjectVersion {
        fn with_live(mut self) -> Self {
            self.delete_marker = false;
            self
        }
    }

    #[test]
    fn unversioned_replaces_and_deletes() {
        let mut b = bucket(Versioning::Unversioned);
        insert(&mut b, "k", obj("1"));
        let (_, removed) = insert(&mut b, "k", obj("2"));
        assert_eq!(removed.len(), 1);
        assert_eq!(b.objects["k"].len(), 1);
        let d = delete(&mut b, "k", None, 1, 0);
        assert_eq!(d.removed.len(), 1);
        assert!(b.objects.is_empty());
    }

    #[test]
    fn enabled_keeps_versions_and_adds_markers() {
        let mut b = bucket(Versioning::Enabled);
        let (v1, _) = insert(&mut b, "k", obj("1"));
        insert(&mut b, "k", obj("2"));
        let d = delete(&mut b, "k", None, 3, 0);
        assert!(d.delete_marker);
        assert!(b.current("k").is_none());
        assert_eq!(find(&b, "k", v1.version_id.as_deref()).unwrap().etag, "1");
        // Deleting the marker by id brings the object back.
        let d2 = delete(&mut b, "k", d.version_id.as_deref(), 4, 0);
        assert!(d2.delete_marker);
        assert_eq!(b.current("k").unwrap().etag, "2");
    }

    #[test]
    fn suspended_replaces_only_the_null_version() {
        let mut b = bucket(Versioning::Enabled);
        insert(&mut b, "k", obj("1"));
        b.info.versioning = Versioning::Suspended;
        insert(&mut b, "k", obj("2"));
        let (_, removed) = insert(&mut b, "k", obj("3"));
        assert_eq!(removed[0].etag, "2");
        assert_eq!(b.objects["k"].len(), 2);
        assert_eq!(find(&b, "k", Some("null")).unwrap().etag, "3");
    }
}
