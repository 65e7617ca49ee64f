//! Lifecycle configuration and which objects its expiration rules expire at a given time.

use serde::{Deserialize, Serialize};

use crate::domain::config::Tag;
use crate::domain::model::{Bucket, ObjectVersion};
use crate::domain::storage::rank;

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
    #[serde(
        rename = "NewerNoncurrentVersions",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub newer_noncurrent_versions: Option<u32>,
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
    /// Move a version (`None` = the `null` version) to another storage class.
    Transition {
        key: String,
        version: Option<String>,
        class: String,
    },
}

/// Objects under 128 KiB stay where they are unless a rule filters on size itself
/// (`x-amz-transition-default-minimum-object-size`, `all_storage_classes_128K` by default;
/// `varies_by_storage_class` lets small objects go to the Glacier classes).
const SMALL: u64 = 128 * 1024;

fn too_small(rule: &LifecycleRule, v: &ObjectVersion, class: &str, min_size: Option<&str>) -> bool {
    let custom = rule.filter.as_ref().is_some_and(|f| {
        f.size_gt.is_some()
            || f.size_lt.is_some()
            || f.and
                .as_ref()
                .is_some_and(|a| a.size_gt.is_some() || a.size_lt.is_some())
    });
    if custom || v.size >= SMALL {
        return false;
    }
    !(min_size == Some("varies_by_storage_class") && matches!(class, "GLACIER" | "DEEP_ARCHIVE"))
}

/// The class furthest down the waterfall that is due for `v` (`since` is when the days start
/// counting), if it is further than where `v` is now.
fn transition_target<'a>(
    due_classes: impl Iterator<Item = &'a str>,
    v: &ObjectVersion,
) -> Option<String> {
    let now_rank = rank(v.meta.storage_class.as_deref().unwrap_or("STANDARD")).unwrap_or(u8::MAX);
    due_classes
        .filter_map(|c| rank(c).map(|r| (r, c)))
        .max()
        .filter(|(r, _)| *r > now_rank)
        .map(|(_, c)| c.to_string())
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
    let min_size = bucket.info.config.transition_min_size.as_deref();
    for (key, versions) in &bucket.objects {
        let n = versions.len();
        if out
            .iter()
            .any(|e| matches!(e, Expire::Current(k) if k == key))
        {
            continue;
        }
        for (i, v) in versions.iter().enumerate() {
            if v.delete_marker {
                continue;
            }
            let current = i + 1 == n;
            let mut classes: Vec<&str> = Vec::new();
            for rule in &cfg.rules {
                if !rule.matches(key, v) {
                    continue;
                }
                if current {
                    for t in &rule.transitions {
                        let class = t.storage_class.as_deref().unwrap_or("");
                        let at = t
                            .days
                            .map(|d| after_days(v.modified, d))
                            .or_else(|| t.date.as_deref().and_then(parse_date));
                        if at.is_some_and(|at| now >= at) && !too_small(rule, v, class, min_size) {
                            classes.push(class);
                        }
                    }
                } else {
                    let became_noncurrent = versions[i + 1].modified;
                    let newer_noncurrent = n - 2 - i;
                    for t in &rule.noncurrent_transitions {
                        let class = t.storage_class.as_deref().unwrap_or("");
                        let keep = t.newer_noncurrent_versions.unwrap_or(0) as usize;
                        let at = t.noncurrent_days.map(|d| after_days(became_noncurrent, d));
                        if newer_noncurrent >= keep
                            && at.is_some_and(|at| now >= at)
                            && !too_small(rule, v, class, min_size)
                        {
                            classes.push(class);
                        }
                    }
                }
            }
            if let Some(class) = transition_target(classes.into_iter(), v) {
                let noncurrent_expired = out.iter().any(
                    |e| matches!(e, Expire::Noncurrent(k, vid) if k == key && *vid == v.version_id),
                );
                if !noncurrent_expired {
                    out.push(Expire::Transition {
                        key: key.clone(),
                        version: v.version_id.clone(),
                        class,
                    });
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

    #[test]
    fn transitions_follow_the_waterfall_and_skip_small_objects() {
        let mut b = Bucket::new(BucketInfo {
            name: "b".into(),
            account: "1".into(),
            region: "us-east-1".into(),
            created: 0,
            versioning: Default::default(),
            config: Default::default(),
        });
        let t = |days, class: &str| Transition {
            days: Some(days),
            storage_class: Some(class.into()),
            date: None,
        };
        b.info.config.lifecycle = Some(LifecycleConfiguration {
            rules: vec![LifecycleRule {
                status: "Enabled".into(),
                filter: Some(LifecycleFilter::default()),
                transitions: vec![t(30, "STANDARD_IA"), t(90, "GLACIER")],
                ..Default::default()
            }],
        });
        let mut big = version(0);
        big.size = 200 * 1024;
        b.objects.insert("big".into(), vec![big.clone()]);
        b.objects.insert("small".into(), vec![version(0)]);
        assert!(due(&b, 30 * DAY_MS).is_empty());
        let at = |b: &Bucket, d: i64| due(b, (d + 1) * DAY_MS);
        let moved = |class: &str| Expire::Transition {
            key: "big".into(),
            version: None,
            class: class.into(),
        };
        assert_eq!(at(&b, 30), vec![moved("STANDARD_IA")]);
        assert_eq!(at(&b, 90), vec![moved("GLACIER")]);
        big.meta.storage_class = Some("GLACIER".into());
        b.objects.insert("big".into(), vec![big]);
        assert!(at(&b, 100).is_empty());
        b.info.config.transition_min_size = Some("varies_by_storage_class".into());
        assert_eq!(
            at(&b, 90),
            vec![Expire::Transition {
                key: "small".into(),
                version: None,
                class: "GLACIER".into()
            }]
        );
    }
}
