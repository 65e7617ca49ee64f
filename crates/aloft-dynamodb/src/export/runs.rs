//! An export's run in the background: `_started`, the gzip data files, `manifest-files.json`,
//! `manifest-summary.json` and their `.md5` files, written through S3's target; then the
//! export is COMPLETED with its counts, or FAILED as AWS reports an S3 refusal
//! (`S3NoSuchBucket`, `S3AccessDenied`, ...).

use std::collections::BTreeMap;
use std::sync::Arc;

use aloft_core::{AwsError, clock};
use aloft_events::Delivery;
use bytes::Bytes;
use serde_json::{Value as Json, json};

use crate::domain::key::KeySchema;
use crate::domain::value::{Item, item_size};
use crate::export::files::{self, Change, DataFile, Format};
use crate::handlers::exports::{Export, Exports};
use crate::pitr::Pitr;

/// A data file is closed past this many uncompressed bytes (AWS writes files of bounded size).
const FILE_BYTES: usize = 64 * 1024 * 1024;

/// What an export writes, read when the request is accepted.
pub enum Snapshot {
    /// The items at the export time.
    Full(Vec<Item>),
    /// The changed items over the export period: keys, image before, image after, the time
    /// of the last change (ms).
    Incremental(Vec<(Item, Option<Item>, Option<Item>, i64)>),
}

impl Snapshot {
    /// The items at `at` (cheap: stored items are shared).
    pub fn full(p: &Pitr, at: i64) -> Snapshot {
        Snapshot::Full(p.items_at(at).into_values().collect())
    }

    fn len(&self) -> usize {
        match self {
            Snapshot::Full(v) => v.len(),
            Snapshot::Incremental(v) => v.len(),
        }
    }
}

/// The items that changed in `[from, to)` with their images before and after the period.
pub fn incremental(schema: &KeySchema, p: &Pitr, from: i64, to: i64) -> Snapshot {
    let mut last: BTreeMap<Vec<u8>, i64> = BTreeMap::new();
    for c in p.changes().filter(|c| c.at_ms >= from && c.at_ms < to) {
        last.insert(c.key.clone(), c.at_ms);
    }
    if last.is_empty() {
        return Snapshot::Incremental(Vec::new());
    }
    let before = p.items_at(from - 1);
    let after = p.items_at(to - 1);
    let mut out = Vec::with_capacity(last.len());
    for (k, at) in last {
        let old = before.get(&k[..]).cloned();
        let new = after.get(&k[..]).cloned();
        let Some(any) = new.as_ref().or(old.as_ref()) else {
            // Created and deleted within the period: nothing before, nothing after.
            continue;
        };
        let mut keys = Item::new();
        for a in std::iter::once(&schema.hash).chain(schema.range.as_ref()) {
            if let Some(v) = any.get(a.name.as_str()) {
                keys.insert(a.name.as_str(), v.clone());
            }
        }
        out.push((keys, old, new, at));
    }
    Snapshot::Incremental(out)
}

/// Starts the run.
pub fn spawn(exports: Arc<Exports>, export: Export, snapshot: Snapshot) {
    tokio::spawn(async move {
        let arn = export.arn.clone();
        match run(&exports, &export, snapshot).await {
            Ok((items, billed)) => {
                let manifest = export.key("manifest-summary.json");
                exports
                    .update(&arn, |e| {
                        e.status = "COMPLETED".into();
                        e.end_ms = Some(clock::now_millis());
                        e.item_count = Some(items);
                        e.billed_bytes = Some(billed);
                        e.manifest = Some(manifest);
                    })
                    .await;
            }
            Err(err) => {
                let (code, message) = failure(&err);
                exports
                    .update(&arn, |e| {
                        e.status = "FAILED".into();
                        e.end_ms = Some(clock::now_millis());
                        e.failure_code = Some(code);
                        e.failure_message = Some(message);
                    })
                    .await;
            }
        }
    });
}

/// Runs exports a restart interrupted again, from the recovery log (or fails them when the
/// table or its point-in-time recovery is gone).
pub fn resume(exports: &Arc<Exports>, db: &crate::state::Db) {
    for e in exports.in_progress() {
        let snapshot = db.get(&e.account, &e.region, &e.table_name).and_then(|t| {
            let data = t.data.read().expect("table lock");
            let p = data.pitr.as_ref()?;
            Some(match &e.incremental {
                None => Snapshot::full(p, e.export_time_ms),
                Some(i) => incremental(&data.meta.schema, p, i.from_ms, i.to_ms),
            })
        });
        match snapshot {
            Some(s) => spawn(exports.clone(), e, s),
            None => {
                let exports = exports.clone();
                tokio::spawn(async move {
                    exports
                        .update(&e.arn, |e| {
                            e.status = "FAILED".into();
                            e.end_ms = Some(clock::now_millis());
                            e.failure_code = Some("InternalError".into());
                            e.failure_message = Some(
                                "The table's point in time recovery data is no longer available"
                                    .into(),
                            );
                        })
                        .await;
                });
            }
        }
    }
}

/// AWS reports an S3 refusal as `S3<code>` with S3's message and details, as the AWS SDK for
/// Java (v1) renders an S3 exception (request IDs included; measured: ack-api-quirks
/// DDB-EXPORT-010/011).
fn failure(e: &AwsError) -> (String, String) {
    const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    (
        format!("S3{}", e.code),
        format!(
            "{} (Service: Amazon S3; Status Code: {}; Error Code: {}; Request ID: {}; S3 Extended Request ID: {}=; Proxy: null)",
            e.message,
            e.status.as_u16(),
            e.code,
            aloft_core::ids::random_string(16, aloft_core::ids::UPPER_ALNUM),
            aloft_core::ids::random_string(75, B64),
        ),
    )
}

async fn put(
    exports: &Exports,
    e: &Export,
    name: &str,
    body: Vec<u8>,
    content_type: &str,
) -> Result<String, AwsError> {
    let mut options = serde_json::Map::new();
    options.insert("Operation".into(), "PutObject".into());
    options.insert("Key".into(), e.key(name).into());
    options.insert("ContentType".into(), content_type.into());
    if let Some(o) = &e.bucket_owner {
        options.insert("ExpectedBucketOwner".into(), o.clone().into());
    }
    let out = exports
        .targets
        .deliver(
            &format!("arn:aws:s3:::{}", e.bucket),
            Delivery {
                payload: Bytes::from(body),
                options,
                sync: true,
                source_arn: Some(e.table_arn.clone()),
                account: e.account.clone(),
                region: e.region.clone(),
            },
        )
        .await?;
    Ok(out
        .info
        .get("ETag")
        .and_then(Json::as_str)
        .unwrap_or_default()
        .to_string())
}

/// Builds the data file that starts at entry `start`: entries are added until the file
/// reaches `limit` uncompressed bytes. Returns the file, its billed bytes and the next entry.
fn build_file(
    format: Format,
    snapshot: &Snapshot,
    start: usize,
    with_old: bool,
    limit: usize,
) -> (DataFile, u64, usize) {
    let mut f = DataFile::new(format);
    let mut billed = 0u64;
    let mut i = start;
    while i < snapshot.len() && (i == start || f.text.len() < limit) {
        match snapshot {
            Snapshot::Full(items) => {
                billed += item_size(&items[i]) as u64;
                f.push_item(&items[i]);
            }
            Snapshot::Incremental(changes) => {
                let (keys, old, new, at) = &changes[i];
                billed += old.as_ref().map_or(0, item_size) as u64
                    + new.as_ref().map_or(0, item_size) as u64;
                let c = Change {
                    keys: keys.clone(),
                    old: old.as_ref(),
                    new: new.as_ref(),
                    write_micros: at * 1000,
                };
                f.push_change(&c, with_old);
            }
        }
        i += 1;
    }
    (f, billed, i)
}

async fn run(exports: &Exports, e: &Export, snapshot: Snapshot) -> Result<(u64, u64), AwsError> {
    // An export resumed at start-up may run before S3 (started after DynamoDB) registered
    // its target: wait for it briefly rather than fail the export.
    let mut tries = 0;
    loop {
        match put(exports, e, "_started", Vec::new(), "binary/octet-stream").await {
            Err(err) if err.code == "ResourceNotFoundException" && tries < 100 => {
                tries += 1;
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            other => {
                other?;
                break;
            }
        }
    }
    let format = e.format();
    let with_old = e
        .incremental
        .as_ref()
        .is_none_or(|i| i.view == "NEW_AND_OLD_IMAGES");
    // One file at a time, built off the request threads: only one file's bytes are held.
    let snapshot = Arc::new(snapshot);
    let (mut lines, mut items, mut billed, mut next) = (String::new(), 0, 0, 0);
    loop {
        let s = snapshot.clone();
        let (gz, n, b, after) = tokio::task::spawn_blocking(move || {
            let (f, b, after) = build_file(format, &s, next, with_old, FILE_BYTES);
            (files::gzip(&f.text), f.items, b, after)
        })
        .await
        .map_err(|err| AwsError::internal(err.to_string()))?;
        let name = format!("data/{}", files::data_file_name(format));
        let etag = put(exports, e, &name, gz.clone(), "application/x-gzip").await?;
        lines.push_str(&files::manifest_files_line(n, &gz, &etag, &e.key(&name)));
        lines.push('\n');
        items += n;
        billed += b;
        next = after;
        if next >= snapshot.len() {
            break;
        }
    }
    let files_md5 = files::md5_b64(lines.as_bytes());
    put(
        exports,
        e,
        "manifest-files.json",
        lines.into_bytes(),
        "application/json",
    )
    .await?;
    put(
        exports,
        e,
        "manifest-files.md5",
        files_md5.into_bytes(),
        "text/plain",
    )
    .await?;
    let summary = summary(e, items, billed).to_string();
    let summary_md5 = files::md5_b64(summary.as_bytes());
    put(
        exports,
        e,
        "manifest-summary.json",
        summary.into_bytes(),
        "application/json",
    )
    .await?;
    put(
        exports,
        e,
        "manifest-summary.md5",
        summary_md5.into_bytes(),
        "text/plain",
    )
    .await?;
    Ok((items, billed))
}

/// `manifest-summary.json`, AWS's fields in AWS's order.
fn summary(e: &Export, items: u64, billed: u64) -> Json {
    let iso = clock::iso8601_millis;
    let mut s = json!({
        "version": "2020-06-30",
        "exportArn": e.arn,
        "startTime": iso(e.start_ms),
        "endTime": iso(clock::now_millis()),
        "tableArn": e.table_arn,
        "tableId": e.table_id,
        "exportTime": iso(e.export_time_ms),
        "s3Bucket": e.bucket,
        "s3Prefix": e.prefix,
        "s3SseAlgorithm": e.sse_algorithm,
        "s3SseKmsKeyId": e.kms_key_id,
        "manifestFilesS3Key": e.key("manifest-files.json"),
        "billedSizeBytes": billed,
        "itemCount": items,
        "outputFormat": e.format,
        "exportType": e.export_type,
    });
    if let Some(i) = &e.incremental {
        s["exportFromTime"] = iso(i.from_ms).into();
        s["exportToTime"] = iso(i.to_ms).into();
        s["outputView"] = i.view.clone().into();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::key::KeyAttr;
    use crate::domain::rowkey::{RowKey, Rows};
    use crate::domain::value::{AttrValue, KeyType};

    fn item(k: &str, v: &str) -> Item {
        let mut i = Item::new();
        i.insert("pk", AttrValue::S(k.into()));
        i.insert("v", AttrValue::S(v.into()));
        crate::state::stored(i)
    }

    fn schema() -> KeySchema {
        KeySchema {
            hash: KeyAttr {
                name: "pk".into(),
                ty: KeyType::S,
            },
            range: None,
        }
    }

    #[test]
    fn incremental_takes_the_net_change_of_each_key_in_the_period() {
        let mut rows = Rows::new();
        rows.insert(RowKey::new(b"a"), item("a", "0"));
        rows.insert(RowKey::new(b"d"), item("d", "0"));
        let mut p = Pitr::new(&rows, 1_000, 35);
        let mut b = aloft_store::Batch::new();
        p.record(2_000, b"a", Some(item("a", "1")), None, &mut b);
        p.record(3_000, b"a", Some(item("a", "2")), None, &mut b);
        p.record(3_500, b"d", None, None, &mut b);
        p.record(4_000, b"t", Some(item("t", "1")), None, &mut b);
        p.record(4_500, b"t", None, None, &mut b);
        // At the period's end (exclusive): not in it.
        p.record(5_000, b"a", Some(item("a", "late")), None, &mut b);
        let Snapshot::Incremental(c) = incremental(&schema(), &p, 2_000, 5_000) else {
            panic!("an incremental snapshot");
        };
        assert_eq!(c.len(), 2, "t came and went within the period");
        let (keys, old, new, at) = &c[0];
        assert_eq!(keys.get("pk"), Some(&AttrValue::S("a".into())));
        assert!(keys.get("v").is_none());
        assert_eq!(old.as_ref(), Some(&item("a", "0")));
        assert_eq!(new.as_ref(), Some(&item("a", "2")));
        assert_eq!(*at, 3_000);
        let (keys, old, new, _) = &c[1];
        assert_eq!(keys.get("pk"), Some(&AttrValue::S("d".into())));
        assert!(old.is_some() && new.is_none());
    }

    #[test]
    fn data_files_close_at_their_size_limit() {
        let items: Vec<Item> = (0..10).map(|i| item(&format!("k{i}"), "v")).collect();
        let snap = Snapshot::Full(items);
        let (f, billed, next) = build_file(Format::DynamoDbJson, &snap, 0, true, 100);
        // Each line is ~40 bytes: the file closes once it passes 100.
        assert_eq!((f.items, next), (3, 3));
        assert_eq!(billed, 3 * (2 + 2 + 1 + 1));
        let (f, _, next) = build_file(Format::DynamoDbJson, &snap, 9, true, 100);
        assert_eq!((f.items, next), (1, 10));
        // An empty table still gets one (empty) data file.
        let (f, _, next) = build_file(Format::Ion, &Snapshot::Full(Vec::new()), 0, true, 100);
        assert_eq!((f.items, next), (0, 0));
    }
}
