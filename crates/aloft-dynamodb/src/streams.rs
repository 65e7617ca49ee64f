//! DynamoDB Streams: ListStreams, DescribeStream, GetShardIterator, GetRecords over the
//! records each table appends with its writes (one shard per stream), and the pull source
//! Lambda event source mappings read.

use std::sync::Arc;

use aloft_core::{AwsError, RequestContext, clock};
use aloft_events::{Source, SourceRecord};
use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde_json::{Value as Json, json};

use crate::DynamoDb;
use crate::error::{ErrorCode, validation};
use crate::state::{Db, Table};
use crate::tables::TableMeta;

/// Shard iterators are valid for 15 minutes.
const ITERATOR_TTL_MS: i64 = 15 * 60 * 1000;

fn not_found(arn: &str) -> AwsError {
    ErrorCode::ResourceNotFoundException.err(format!(
        "Requested resource not found: Stream: {arn} not found"
    ))
}

fn shard_id(meta: &TableMeta) -> String {
    format!(
        "shardId-{:020}-{}",
        meta.created_ms,
        &meta.id[..8.min(meta.id.len())]
    )
}

/// The table whose (current) stream `arn` names.
fn table_for_stream(db: &Db, arn: &str) -> Result<Arc<Table>, AwsError> {
    let a = aloft_core::arn::parse(arn)
        .ok_or_else(|| validation(format!("Invalid StreamArn: {arn}")))?;
    let mut parts = a.resource.splitn(4, '/');
    let (Some("table"), Some(name), Some("stream"), Some(label)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(validation(format!("Invalid StreamArn: {arn}")));
    };
    let table = db
        .get(a.account, a.region, name)
        .ok_or_else(|| not_found(arn))?;
    if table
        .data
        .read()
        .expect("table lock")
        .meta
        .stream_label
        .as_deref()
        != Some(label)
    {
        return Err(not_found(arn));
    }
    Ok(table)
}

fn encode_iterator(arn: &str, shard: &str, after: u64) -> String {
    B64.encode(json!({"a": arn, "s": shard, "p": after, "t": clock::now_millis()}).to_string())
}

/// Records after sequence `after`, at most `max`, with the last sequence returned.
fn records_after(table: &Table, after: u64, max: usize) -> (Vec<Json>, u64) {
    let data = table.data.read().expect("table lock");
    let now = clock::now_millis();
    let mut last = after;
    let out: Vec<Json> = data
        .stream
        .records
        .iter()
        .filter(|r| r.seq > after && r.created_ms >= now - crate::state::STREAM_RETENTION_MS)
        .take(max)
        .map(|r| {
            last = r.seq;
            r.record.clone()
        })
        .collect();
    (out, last)
}

impl DynamoDb {
    pub fn list_streams(&self, rc: &RequestContext, input: Json) -> Result<Json, AwsError> {
        let only = input.get("TableName").and_then(Json::as_str);
        let prefix = format!("{}/{}/", rc.account_id, rc.region);
        let tables: Vec<Arc<Table>> = self
            .db
            .tables
            .read()
            .expect("tables lock")
            .iter()
            .filter(|(k, _)| k.starts_with(&prefix))
            .map(|(_, t)| t.clone())
            .collect();
        let mut streams: Vec<Json> = tables
            .iter()
            .filter_map(|t| {
                let d = t.data.read().expect("table lock");
                if only.is_some_and(|n| n != d.meta.name) {
                    return None;
                }
                let arn = d.meta.stream_arn()?;
                Some(json!({"StreamArn": arn, "TableName": d.meta.name, "StreamLabel": d.meta.stream_label}))
            })
            .collect();
        streams.sort_by(|a, b| a["StreamArn"].as_str().cmp(&b["StreamArn"].as_str()));
        Ok(json!({"Streams": streams}))
    }

    pub fn describe_stream(&self, _rc: &RequestContext, input: Json) -> Result<Json, AwsError> {
        let arn = input
            .get("StreamArn")
            .and_then(Json::as_str)
            .unwrap_or_default();
        let table = table_for_stream(&self.db, arn)?;
        let d = table.data.read().expect("table lock");
        let meta = &d.meta;
        let mut key_schema =
            vec![json!({"AttributeName": meta.schema.hash.name, "KeyType": "HASH"})];
        if let Some(r) = &meta.schema.range {
            key_schema.push(json!({"AttributeName": r.name, "KeyType": "RANGE"}));
        }
        let start = d
            .stream
            .records
            .front()
            .map_or(self.db_seq_floor(), |r| r.seq);
        Ok(json!({"StreamDescription": {
            "StreamArn": arn,
            "StreamLabel": meta.stream_label,
            "StreamStatus": if meta.stream_view.is_some() { "ENABLED" } else { "DISABLED" },
            "StreamViewType": meta.stream_view.clone().unwrap_or_else(|| "NEW_AND_OLD_IMAGES".into()),
            "CreationRequestDateTime": meta.created_ms as f64 / 1000.0,
            "TableName": meta.name,
            "KeySchema": key_schema,
            "Shards": [{"ShardId": shard_id(meta), "SequenceNumberRange": {"StartingSequenceNumber": format!("{start:021}")}}],
        }}))
    }

    fn db_seq_floor(&self) -> u64 {
        self.db.current_seq() + 1
    }

    pub fn get_shard_iterator(&self, _rc: &RequestContext, input: Json) -> Result<Json, AwsError> {
        let arn = input
            .get("StreamArn")
            .and_then(Json::as_str)
            .unwrap_or_default();
        let shard = input
            .get("ShardId")
            .and_then(Json::as_str)
            .unwrap_or_default();
        let table = table_for_stream(&self.db, arn)?;
        let (expected, last) = {
            let d = table.data.read().expect("table lock");
            (
                shard_id(&d.meta),
                d.stream.records.back().map_or(0, |r| r.seq),
            )
        };
        if shard != expected {
            return Err(ErrorCode::ResourceNotFoundException.err(format!(
                "Requested resource not found: Shard does not exist: {shard}"
            )));
        }
        let seq = || -> Result<u64, AwsError> {
            input
                .get("SequenceNumber")
                .and_then(Json::as_str)
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| validation("SequenceNumber must be provided when ShardIteratorType is AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER"))
        };
        let after = match input.get("ShardIteratorType").and_then(Json::as_str) {
            Some("TRIM_HORIZON") => 0,
            Some("LATEST") => last,
            Some("AT_SEQUENCE_NUMBER") => seq()?.saturating_sub(1),
            Some("AFTER_SEQUENCE_NUMBER") => seq()?,
            other => {
                return Err(validation(format!(
                    "1 validation error detected: Value '{}' at 'shardIteratorType' failed to satisfy constraint: Member must satisfy enum value set: [AFTER_SEQUENCE_NUMBER, LATEST, AT_SEQUENCE_NUMBER, TRIM_HORIZON]",
                    other.unwrap_or("null")
                )));
            }
        };
        Ok(json!({"ShardIterator": encode_iterator(arn, shard, after)}))
    }

    pub fn get_records(&self, _rc: &RequestContext, input: Json) -> Result<Json, AwsError> {
        let it = input
            .get("ShardIterator")
            .and_then(Json::as_str)
            .unwrap_or_default();
        let bad = || validation("Invalid ShardIterator");
        let decoded: Json = B64
            .decode(it)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(bad)?;
        let (Some(arn), Some(shard), Some(after), Some(issued)) = (
            decoded["a"].as_str(),
            decoded["s"].as_str(),
            decoded["p"].as_u64(),
            decoded["t"].as_i64(),
        ) else {
            return Err(bad());
        };
        let now = clock::now_millis();
        if now - issued > ITERATOR_TTL_MS {
            return Err(ErrorCode::ExpiredIteratorException.err(format!(
                "Iterator expired. The iterator was created at time {} while right now it's {}. The iterator is valid for 15 minutes.",
                clock::iso8601_millis(issued),
                clock::iso8601_millis(now)
            )));
        }
        let limit = input
            .get("Limit")
            .and_then(Json::as_u64)
            .unwrap_or(1000)
            .clamp(1, 1000) as usize;
        let table = table_for_stream(&self.db, arn)?;
        let (records, last) = records_after(&table, after, limit);
        Ok(json!({"Records": records, "NextShardIterator": encode_iterator(arn, shard, last)}))
    }
}

/// Streams as a pull source for Lambda event source mappings; the cursor is the last
/// sequence number delivered.
pub struct StreamSource {
    pub db: Arc<Db>,
}

#[async_trait]
impl Source for StreamSource {
    async fn read(
        &self,
        arn: &str,
        position: Option<&str>,
        max: usize,
        options: &serde_json::Map<String, Json>,
    ) -> Result<(Vec<SourceRecord>, Option<String>), AwsError> {
        let table = table_for_stream(&self.db, arn)?;
        let after = match position.and_then(|p| p.parse::<u64>().ok()) {
            Some(p) => p,
            None => match options.get("StartingPosition").and_then(Json::as_str) {
                Some("TRIM_HORIZON") => 0,
                _ => {
                    let last = table
                        .data
                        .read()
                        .expect("table lock")
                        .stream
                        .records
                        .back()
                        .map_or(0, |r| r.seq);
                    return Ok((Vec::new(), Some(last.to_string())));
                }
            },
        };
        let (records, last) = records_after(&table, after, max.max(1));
        let out = records
            .into_iter()
            .map(|mut r| {
                let ack = r["dynamodb"]["SequenceNumber"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                r["eventSourceARN"] = json!(arn);
                if let Some(id) = r.get("userIdentity").cloned() {
                    r["userIdentity"] =
                        json!({"type": id["Type"], "principalId": id["PrincipalId"]});
                }
                SourceRecord { record: r, ack }
            })
            .collect();
        Ok((out, Some(last.to_string())))
    }

    async fn ack(&self, _arn: &str, _acks: &[String]) -> Result<(), AwsError> {
        Ok(())
    }
}
