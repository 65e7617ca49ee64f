//! Lifecycle configuration and which objects its expiration rules expire at a given time.

use serde::{Deserialize, Serialize};

use crate::domain::config::Tag;
use crate::domain::model::{Bucket, ObjectVersion};

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct LifecycleConfiguration {
    #[serde(rename = "Rule", default)]
    pub rules: Vec<LifecycleRule>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct LifecycleAnd {
    #[serde(rename = "Prefix", skip_serializing_if = "Option::is_none", default)]
    pub prefix: Option<String>,
    #[serde(rename = "Tag", default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
    #[serde(
        rename = "ObjectSizeGreaterThan",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub size_gt: Option<u64>,
    #[serde(
        rename = "ObjectSizeLessThan",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub size_lt: Option<u64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct LifecycleFilter {
    #[serde(rename = "Prefix", skip_serializing_if = "Option::is_none", default)]
    pub prefix: Option<String>,
    #[serde(rename = "Tag", skip_serializing_if = "Option::is_none", default)]
    pub tag: Option<Tag>,
    #[serde(
        rename = "ObjectSizeGreaterThan",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub size_gt: Option<u64>,
    #[serde(
        rename = "ObjectSizeLessThan",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub size_lt: Option<u64>,
    #[serde(rename = "And", skip_serializing_if = "Option::is_none", default)]
    pub and: Option<LifecycleAnd>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Expiration {
    #[serde(rename = "Date", skip_serializing_if = "Option::is_none", default)]
    pub date: Option<String>,
    #[serde(rename = "Days", skip_serializing_if = "Option::is_none", default)]
    pub days: Option<u32>,
    #[serde(
        rename = "ExpiredObjectDeleteMarker",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub expired_object_delete_marker: Option<bool>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct NoncurrentVersionExpiration {
    #[serde(
        rename = "NoncurrentDays",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub noncurrent_days: Option<u32>,
    #[serde(
        rename = "NewerNoncurrentVersions",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub newer_noncurrent_versions: Option<u32>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Transition {
    #[serde(rename = "Date", skip_serializing_if = "Option::is_none", default)]
    pub date: Option<String>,
    #[serde(rename = "Days", skip_serializing_if = "Option::is_none", default)]
    pub days: Option<u32>,
    #[serde(
        rename = "StorageClass",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub storage_class: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct NoncurrentVersionTransition {
    #[serde(
        rename = "NoncurrentDays",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub noncurrent_days: Option<u32>,
    #[serde(
        rename = "StorageClass",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub storage_class: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct AbortIncompleteMultipartUpload {
    #[serde(
        rename = "DaysAfterInitiation",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub days_after_initiation: Option<u32>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct LifecycleRule {
    #[serde(
        rename = "Expiration",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub expiration: Option<Expiration>,
    #[serde(rename = "ID", skip_serializing_if = "Option::is_none", default)]
    pub id: Option<String>,
    /// The deprecated rule-level prefix, still accepted.
    #[serde(rename = "Prefix", skip_serializing_if = "Option::is_none", default)]
    pub prefix: Option<String>,
    #[serde(rename = "Filter", skip_serializing_if = "Option::is_none", default)]
    pub filter: Option<LifecycleFilter>,
    #[serde(rename = "Status")]
    pub status: String,
    #[serde(rename = "Transition", default, skip_serializing_if = "Vec::is_empty")]
    pub transitions: Vec<Transition>,
    #[serde(
        rename = "NoncurrentVersionTransition",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub noncurrent_transitions: Vec<NoncurrentVersionTransition>,
    #[serde(
        rename = "NoncurrentVersionExpiration",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub noncurrent_expiration: Option<NoncurrentVersionExpiration>,
    #[serde(
        rename = "AbortIncompleteMultipartUpload",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub abort_incomplete: Option<AbortIncompleteMultipartUpload>,
}

const DAY_MS: i64 = 86_400_000;

/// S3 counts lifecycle days from the object's creation rounded up to the next midnight UTC.
fn after_days(created_ms: i64, days: u32) -> i64 {
    let midnight = (created_ms.div_euclid(DAY_MS) + 1) * DAY_MS;
    midnight + i64::from(days) * DAY_MS
}

fn parse_date(s: &str) -> Option<i64> {
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()?;
    Some((t.unix_timestamp_nanos() / 1_000_000) as i64)
}

impl LifecycleRule {
    fn matches(&self, key: &str, v: &ObjectVersion) -> bool {
        if self.status != "Enabled" {
            return false;
        }
        if let Some(p) = &self.prefix
            && !key.starts_with(p.as_str())
        {
            return false;
        }
        let Some(f) = &self.filter else { return true };
        let tag_ok = |t: &Tag| {
            v.meta
                .tags
                .iter()
                .any(|(k, val)| *k == t.key && *val == t.value)
        };
        let size_ok = |gt: Option<u64>, lt: Option<u64>| {
            gt.is_none_or(|g| v.size > g) && lt.is_none_or(|l| v.size < l)
        };
        if let Some(and) = &f.and {
            return and.prefix.as_deref().is_none_or(|p| key.starts_with(p))
                && and.tags.iter().all(tag_ok)
                && size_ok(and.size_gt, and.size_lt);
        }
        f.prefix.as_deref().is_none_or(|p| key.starts_with(p))
            && f.tag.as_ref().is_none_or(tag_ok)
            && size_ok(f.size_gt, f.size_lt)
    }
}

/// What the sweeper should do to one key.
#[derive(Debug, PartialEq, Eq)]
pub enum Expire {
    /// Expire the current version (delete it, or add a delete marker when versioned).
    Current(String),
    /// Permanently remove a noncurrent version (`version_id` or `null`).
    Noncurrent(String, Option<String>),
    /// Remove a delete marker that is the only version left.
    LoneMarker(String),
    /// Abort an incomplete multipart upload.
    Upload(String),
}

/// The expirations due at `now` under the bucket's lifecycle rules.
pub fn due(bucket: &Bucket, now: i64) -> Vec<Expire> {
    let Some(cfg) = &bucket.info.config.lifecycle else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (key, versions) in &bucket.objects {
        let Some(cur) = versions.last() else { continue };
        for rule in &cfg.rules {
            if !rule.matches(key, cur) {
                continue;
            }
            if let Some(exp) = &rule.expiration {
                if !cur.delete_marker {
                    let at = exp
                        .days
                        .map(|d| after_days(cur.modified, d))
                        .or_else(|| exp.date.as_deref().and_then(parse_date));
                    if at.is_some_and(|at| now >= at) {
                        out.push(Expire::Current(key.clone()));
                        break;
                    }
                } else if exp.expired_object_delete_marker == Some(true) && versions.len() == 1 {
                    out.push(Expire::LoneMarker(key.clone()));
                    break;
                }
            }
            if let Some(nce) = &rule.noncurrent_expiration
                && let Some(days) = nce.noncurrent_days
            {
                let keep = nce.newer_noncurrent_versions.unwrap_or(0) as usize;
                // A version becomes noncurrent when its successor is written.
                let n = versions.len();
                for i in (0..n.saturating_sub(1)).rev() {
                    let newer_noncurrent = n - 2 - i;
                    if newer_noncurrent < keep {
                        continue;
                    }
                    let became_noncurrent = versions[i + 1].modified;
                    if now >= after_days(became_noncurrent, days) {
                        out.push(Expire::Noncurrent(
                            key.clone(),
                            versions[i].version_id.clone(),
                        ));
                    }
                }
            }
        }
    }
    for (id, up) in &bucket.uploads {
        let expired = cfg.rules.iter().any(|r| {
            r.status == "Enabled"
                && r.abort_incomplete
                    .as_ref()
                    .and_then(|a| a.days_after_initiation)
                    .is_some_and(|d| now >= after_days(up.initiated, d))
                && r.filter
                    .as_ref()
                    .and_then(|f| f.prefix.as_deref())
                    .or(r.prefix.as_deref())
                    .is_none_or(|p| up.key.starts_with(p))
        });
        if expired {
            out.push(Expire::Upload(id.clone()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bodies::Data;
    use crate::domain::model::{BucketInfo, ObjectMeta};

    fn version(modified: i64) -> ObjectVersion {
        ObjectVersion {
            version_id: None,
            delete_marker: false,
            modified,
            etag: String::new(),
            size: 1,
            data: Data::empty(),
            seq: 0,
            meta: ObjectMeta::default(),
            checksum: None,
            parts: None,
        }
    }

    #[test]
    fn expires_after_days_rounded_to_midnight() {
        let mut b = Bucket::new(BucketInfo {
            name: "b".into(),
            account: "1".into(),
            region: "us-east-1".into(),
            created: 0,
            versioning: Default::default(),
            config: Default::default(),
        });
        b.info.config.lifecycle = Some(LifecycleConfiguration {
            rules: vec![LifecycleRule {
                status: "Enabled".into(),
                filter: Some(LifecycleFilter {
                    prefix: Some("logs/".into()),
                    ..Default::default()
                }),
                expiration: Some(Expiration {
                    days: Some(1),
                    ..Default::default()
                }),
                ..Default::default()
            }],
        });
        let t0 = 10 * DAY_MS + 3_600_000;
        b.objects.insert("logs/a".into(), vec![version(t0)]);
        b.objects.insert("keep/a".into(), vec![version(t0)]);
        assert!(due(&b, t0 + DAY_MS).is_empty());
        assert_eq!(due(&b, 12 * DAY_MS), vec![Expire::Current("logs/a".into())]);
    }
}
