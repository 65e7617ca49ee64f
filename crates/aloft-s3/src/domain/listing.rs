//! Listing keys and versions: prefix, delimiter roll-up into common prefixes, markers and
//! truncation, as ListObjects (v1, v2) and ListObjectVersions page through a bucket.

use std::collections::BTreeMap;
use std::ops::Bound;

use crate::domain::model::ObjectVersion;

pub enum Entry<'a> {
    Object(&'a str, &'a ObjectVersion),
    Prefix(String),
}

pub struct Listing<'a> {
    pub entries: Vec<Entry<'a>>,
    pub truncated: bool,
    /// The last key or common prefix returned (S3's NextMarker / continuation point).
    pub last: Option<String>,
}

/// The common prefix `key` rolls up into, if the delimiter occurs after the prefix.
fn common_prefix(key: &str, prefix: &str, delimiter: Option<&str>) -> Option<String> {
    let d = delimiter.filter(|d| !d.is_empty())?;
    let rest = &key[prefix.len()..];
    rest.find(d)
        .map(|i| key[..prefix.len() + i + d.len()].to_string())
}

fn start_bound<'a>(prefix: &'a str, marker: Option<&'a str>) -> Bound<&'a str> {
    match marker {
        Some(m) if m >= prefix => Bound::Excluded(m),
        _ => Bound::Included(prefix),
    }
}

/// Current objects (not delete markers) after `marker`, up to `max` entries.
pub fn list_current<'a>(
    objects: &'a BTreeMap<String, Vec<ObjectVersion>>,
    prefix: &str,
    delimiter: Option<&str>,
    marker: Option<&str>,
    max: usize,
) -> Listing<'a> {
    let mut out = Listing {
        entries: Vec::new(),
        truncated: false,
        last: None,
    };
    let range = objects.range::<str, _>((start_bound(prefix, marker), Bound::Unbounded));
    for (key, versions) in range {
        if !key.starts_with(prefix) {
            break;
        }
        let Some(cur) = versions.last().filter(|v| !v.delete_marker) else {
            continue;
        };
        let entry = match common_prefix(key, prefix, delimiter) {
            Some(cp) => {
                if out.last.as_deref() == Some(cp.as_str())
                    || marker.is_some_and(|m| cp.as_str() <= m)
                {
                    continue;
                }
                Entry::Prefix(cp)
            }
            None => Entry::Object(key, cur),
        };
        if out.entries.len() >= max {
            out.truncated = true;
            break;
        }
        out.last = Some(match &entry {
            Entry::Object(k, _) => (*k).to_string(),
            Entry::Prefix(p) => p.clone(),
        });
        out.entries.push(entry);
    }
    out
}

pub enum VersionEntry<'a> {
    /// Key, version, is-latest.
    Version(&'a str, &'a ObjectVersion, bool),
    Prefix(String),
}

pub struct VersionListing<'a> {
    pub entries: Vec<VersionEntry<'a>>,
    pub truncated: bool,
    pub next_key_marker: Option<String>,
    pub next_version_marker: Option<String>,
}

/// All versions, newest first within a key, after (`key_marker`, `version_marker`).
pub fn list_versions<'a>(
    objects: &'a BTreeMap<String, Vec<ObjectVersion>>,
    prefix: &str,
    delimiter: Option<&str>,
    key_marker: Option<&str>,
    version_marker: Option<&str>,
    max: usize,
) -> VersionListing<'a> {
    let mut out = VersionListing {
        entries: Vec::new(),
        truncated: false,
        next_key_marker: None,
        next_version_marker: None,
    };
    // With a version marker the marker key itself is resumed after that version.
    let start = match (key_marker, version_marker) {
        (Some(k), Some(v)) if !v.is_empty() && k >= prefix => Bound::Included(k),
        _ => start_bound(prefix, key_marker),
    };
    let mut last_prefix: Option<String> = None;
    'keys: for (key, versions) in objects.range::<str, _>((start, Bound::Unbounded)) {
        if !key.starts_with(prefix) {
            break;
        }
        if versions.is_empty() {
            continue;
        }
        if let Some(cp) = common_prefix(key, prefix, delimiter) {
            if last_prefix.as_deref() == Some(cp.as_str())
                || key_marker.is_some_and(|m| cp.as_str() <= m)
            {
                continue;
            }
            if out.entries.len() >= max {
                out.truncated = true;
                break;
            }
            out.next_key_marker = Some(cp.clone());
            out.next_version_marker = None;
            last_prefix = Some(cp.clone());
            out.entries.push(VersionEntry::Prefix(cp));
            continue;
        }
        let mut skipping =
            matches!((key_marker, version_marker), (Some(k), Some(v)) if k == key && !v.is_empty());
        let n = versions.len();
        for (i, v) in versions.iter().enumerate().rev() {
            if skipping {
                if Some(v.version_str()) == version_marker {
                    skipping = false;
                }
                continue;
            }
            if out.entries.len() >= max {
                out.truncated = true;
                break 'keys;
            }
            out.next_key_marker = Some(key.clone());
            out.next_version_marker = Some(v.version_str().to_string());
            out.entries.push(VersionEntry::Version(key, v, i == n - 1));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bodies::Data;
    use crate::domain::model::ObjectMeta;

    fn v(id: &str, dm: bool) -> ObjectVersion {
        ObjectVersion {
            version_id: Some(id.into()),
            delete_marker: dm,
            modified: 0,
            etag: String::new(),
            size: 0,
            data: Data::empty(),
            seq: 0,
            meta: ObjectMeta::default(),
            checksum: None,
            parts: None,
        }
    }

    fn keys(l: &Listing) -> Vec<String> {
        l.entries
            .iter()
            .map(|e| match e {
                Entry::Object(k, _) => (*k).to_string(),
                Entry::Prefix(p) => format!("P:{p}"),
            })
            .collect()
    }

    #[test]
    fn delimiter_and_paging() {
        let mut m = BTreeMap::new();
        for k in ["a/1", "a/2", "b", "c/x/y", "d", "gone"] {
            m.insert(k.to_string(), vec![v("1", false)]);
        }
        m.get_mut("gone").unwrap().push(v("2", true));
        let l = list_current(&m, "", Some("/"), None, 1000);
        assert_eq!(keys(&l), ["P:a/", "b", "P:c/", "d"]);
        let l = list_current(&m, "", Some("/"), None, 2);
        assert_eq!(keys(&l), ["P:a/", "b"]);
        assert!(l.truncated);
        let l2 = list_current(&m, "", Some("/"), l.last.as_deref(), 2);
        assert_eq!(keys(&l2), ["P:c/", "d"]);
        assert!(!l2.truncated);
        let l = list_current(&m, "a/", None, None, 1000);
        assert_eq!(keys(&l), ["a/1", "a/2"]);
        let l = list_current(&m, "c/", Some("/"), None, 1000);
        assert_eq!(keys(&l), ["P:c/x/"]);
    }

    #[test]
    fn versions_newest_first_with_markers() {
        let mut m = BTreeMap::new();
        m.insert(
            "k".to_string(),
            vec![v("1", false), v("2", false), v("3", true)],
        );
        m.insert("z".to_string(), vec![v("9", false)]);
        let l = list_versions(&m, "", None, None, None, 2);
        assert!(l.truncated);
        assert_eq!(l.next_version_marker.as_deref(), Some("2"));
        let l2 = list_versions(&m, "", None, Some("k"), Some("2"), 10);
        let ids: Vec<_> = l2
            .entries
            .iter()
            .map(|e| match e {
                VersionEntry::Version(k, v, latest) => format!("{k}:{}:{latest}", v.version_str()),
                VersionEntry::Prefix(p) => p.clone(),
            })
            .collect();
        assert_eq!(ids, ["k:1:false", "z:9:true"]);
    }
}
