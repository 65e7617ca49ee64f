//! S3's journal tables, keys and value formats, and loading them back at start.
//!
//! - `s3/buckets`: `{account}/{region}/{bucket}` → [`BucketInfo`] (JSON)
//! - `s3/objects`: `{bucket}\0{key}\0{version or "null"}` → [`ObjectVersion`] (JSON)
//! - `s3/uploads`: `{bucket}\0{upload id}` → [`Upload`] (JSON, without parts)
//! - `s3/parts`:   `{bucket}\0{upload id}\0{part number:05}` → [`Part`] (JSON)
//!
//! Values start with a format version byte so that later layouts can be read side by side.

use std::collections::{HashMap, HashSet};

use aloft_store::{Batch, Store, StoreError};

use crate::domain::model::{Bucket, BucketInfo, ObjectVersion, Part, Upload};

pub const BUCKETS: &str = "s3/buckets";
pub const OBJECTS: &str = "s3/objects";
pub const UPLOADS: &str = "s3/uploads";
pub const PARTS: &str = "s3/parts";
const FORMAT: u8 = 1;

fn encode<T: serde::Serialize>(v: &T) -> Vec<u8> {
    let mut out = vec![FORMAT];
    serde_json::to_writer(&mut out, v).expect("S3 metadata serialises");
    out
}

fn decode<T: serde::de::DeserializeOwned>(raw: &[u8]) -> Option<T> {
    match raw.split_first() {
        Some((&FORMAT, rest)) => serde_json::from_slice(rest).ok(),
        _ => None,
    }
}

pub fn bucket_key(info: &BucketInfo) -> Vec<u8> {
    format!("{}/{}/{}", info.account, info.region, info.name).into_bytes()
}

pub fn object_key(bucket: &str, key: &str, version: Option<&str>) -> Vec<u8> {
    let mut k = Vec::with_capacity(bucket.len() + key.len() + 40);
    k.extend_from_slice(bucket.as_bytes());
    k.push(0);
    k.extend_from_slice(key.as_bytes());
    k.push(0);
    k.extend_from_slice(version.unwrap_or("null").as_bytes());
    k
}

pub fn upload_key(bucket: &str, upload_id: &str) -> Vec<u8> {
    format!("{bucket}\0{upload_id}").into_bytes()
}

pub fn part_key(bucket: &str, upload_id: &str, part: u32) -> Vec<u8> {
    format!("{bucket}\0{upload_id}\0{part:05}").into_bytes()
}

pub fn put_bucket(b: &mut Batch, info: &BucketInfo) {
    b.put(BUCKETS, bucket_key(info), encode(info));
}

pub fn put_version(b: &mut Batch, bucket: &str, key: &str, v: &ObjectVersion) {
    b.put(
        OBJECTS,
        object_key(bucket, key, v.version_id.as_deref()),
        encode(v),
    );
}

pub fn delete_version(b: &mut Batch, bucket: &str, key: &str, version: Option<&str>) {
    b.delete(OBJECTS, object_key(bucket, key, version));
}

pub fn put_upload(b: &mut Batch, bucket: &str, u: &Upload) {
    b.put(UPLOADS, upload_key(bucket, &u.upload_id), encode(u));
}

pub fn delete_upload(b: &mut Batch, bucket: &str, u: &Upload) {
    b.delete(UPLOADS, upload_key(bucket, &u.upload_id));
    for n in u.parts.keys() {
        b.delete(PARTS, part_key(bucket, &u.upload_id, *n));
    }
}

pub fn put_part(b: &mut Batch, bucket: &str, upload_id: &str, n: u32, p: &Part) {
    b.put(PARTS, part_key(bucket, upload_id, n), encode(p));
}

/// Splits `bucket\0rest...` keys.
fn split(raw: &[u8]) -> Option<Vec<String>> {
    let s = std::str::from_utf8(raw).ok()?;
    Some(s.split('\0').map(str::to_string).collect())
}

/// Loads every bucket with its objects and uploads; also returns the blob ids still referenced.
pub fn load(store: &dyn Store) -> Result<(HashMap<String, Bucket>, HashSet<String>), StoreError> {
    let mut buckets = HashMap::new();
    for (_, v) in store.load(BUCKETS, b"")? {
        if let Some(info) = decode::<BucketInfo>(&v) {
            buckets.insert(info.name.clone(), Bucket::new(info));
        }
    }
    let mut blobs = Vec::new();
    for (k, v) in store.load(OBJECTS, b"")? {
        let (Some(parts), Some(ver)) = (split(&k), decode::<ObjectVersion>(&v)) else {
            continue;
        };
        // The key itself may contain NUL; the bucket is first and the version last.
        if parts.len() < 3 {
            continue;
        }
        let key = parts[1..parts.len() - 1].join("\0");
        if let Some(b) = buckets.get_mut(&parts[0]) {
            ver.data.blob_ids(&mut blobs);
            b.objects.entry(key).or_default().push(ver);
        }
    }
    for b in buckets.values_mut() {
        for versions in b.objects.values_mut() {
            versions.sort_by_key(|v| v.seq);
            versions.shrink_to_fit();
        }
    }
    for (k, v) in store.load(UPLOADS, b"")? {
        let (Some(parts), Some(up)) = (split(&k), decode::<Upload>(&v)) else {
            continue;
        };
        if let Some(b) = buckets.get_mut(&parts[0]) {
            b.uploads.insert(up.upload_id.clone(), up);
        }
    }
    for (k, v) in store.load(PARTS, b"")? {
        let (Some(parts), Some(part)) = (split(&k), decode::<Part>(&v)) else {
            continue;
        };
        if parts.len() != 3 {
            continue;
        }
        let Ok(n) = parts[2].parse::<u32>() else {
            continue;
        };
        if let Some(up) = buckets
            .get_mut(&parts[0])
            .and_then(|b| b.uploads.get_mut(&parts[1]))
        {
            part.data.blob_ids(&mut blobs);
            up.parts.insert(n, part);
        }
    }
    let live = blobs.iter().map(|id| id.to_string()).collect();
    Ok((buckets, live))
}

/// The highest sequence number in use, so new versions order after loaded ones.
pub fn max_seq(buckets: &HashMap<String, Bucket>) -> u64 {
    buckets
        .values()
        .flat_map(|b| b.objects.values().flatten())
        .map(|v| v.seq)
        .max()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_values_round_trip() {
        let k = object_key("b", "a\0b", Some("v1"));
        let parts = split(&k).unwrap();
        assert_eq!(parts[0], "b");
        assert_eq!(parts[1..parts.len() - 1].join("\0"), "a\0b");
        let info = BucketInfo {
            name: "b".into(),
            account: "1".into(),
            region: "r".into(),
            created: 5,
            versioning: Default::default(),
            config: Default::default(),
        };
        let back: BucketInfo = decode(&encode(&info)).unwrap();
        assert_eq!(back.created, 5);
        assert!(decode::<BucketInfo>(b"\x09{}").is_none());
    }
}
