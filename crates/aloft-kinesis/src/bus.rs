//! Kinesis on the bus. As a target (EventBridge rules, DynamoDB's Kinesis streaming
//! destination): `Delivery.payload` is the record's data, `options` may name `PartitionKey`
//! (random when absent) and `ExplicitHashKey`; the answer's info holds `ShardId` and
//! `SequenceNumber`. As a source for Lambda's event source mappings: records in Lambda's
//! Kinesis event shape, one shard per read, parents read to their end before their children.

use std::collections::BTreeMap;
use std::sync::Arc;

use aloft_core::{AwsError, clock};
use aloft_events::{Delivered, Delivery, Source, SourceRecord, Target};
use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

use crate::Kinesis;
use crate::error::KinesisError;
use crate::keys;
use crate::records::{Put, position, timestamp_ms};
use crate::state::{Stream, scoped};
use crate::streams::parse_stream_arn;

pub struct Bus(pub Arc<Kinesis>);

/// A mapping's position: per shard index, the last sequence counter processed, or `None` once
/// the shard is closed and read to its end. Shards not named yet start at their beginning when
/// their parents are done.
pub type Checkpoints = BTreeMap<u32, Option<u128>>;

/// The position string: the stream's creation time (so a recreated stream starts afresh) and
/// the checkpoints, e.g. `{"stream":1700000000000,"0":"12","1":null}`.
pub fn encode_position(created_ms: i64, p: &Checkpoints) -> String {
    let mut m: Map<String, Value> = p
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                v.map_or(Value::Null, |x| json!(x.to_string())),
            )
        })
        .collect();
    m.insert("stream".into(), json!(created_ms));
    Value::Object(m).to_string()
}

pub fn decode_position(s: &str) -> Option<(i64, Checkpoints)> {
    let mut v: Map<String, Value> = serde_json::from_str(s).ok()?;
    let created = v.remove("stream")?.as_i64()?;
    let cp = v
        .into_iter()
        .map(|(k, v)| {
            let k = k.parse().ok()?;
            let v = match v {
                Value::Null => None,
                Value::String(x) => Some(x.parse().ok()?),
                _ => return None,
            };
            Some((k, v))
        })
        .collect::<Option<Checkpoints>>()?;
    Some((created, cp))
}

/// Where a new mapping starts on every shard.
fn initial(s: &Stream, options: &Map<String, Value>) -> Checkpoints {
    let kind = options
        .get("StartingPosition")
        .and_then(Value::as_str)
        .unwrap_or("LATEST");
    let ts = options
        .get("StartingPositionTimestamp")
        .and_then(timestamp_ms);
    s.shards
        .iter()
        .map(|sh| {
            let at = match kind {
                "TRIM_HORIZON" => Some(sh.start_seq),
                // A timestamp still in the future reads from the tip.
                "AT_TIMESTAMP" => position(s, &sh.id(), "AT_TIMESTAMP", None, ts)
                    .ok()
                    .or(sh.is_open().then_some(s.counter)),
                // LATEST: closed shards are behind the tip already.
                _ => sh.is_open().then_some(s.counter),
            };
            (sh.index, at)
        })
        .collect()
}

/// Reads up to `max` records of the first shard that has some and whose parents are done.
pub fn read_from(
    s: &Stream,
    cp: &mut Checkpoints,
    max: usize,
) -> Vec<(String, crate::state::Record)> {
    loop {
        let mut progressed = false;
        for sh in &s.shards {
            let done = |i: Option<u32>| {
                i.is_none_or(|i| {
                    matches!(cp.get(&i), Some(None)) || s.shards.iter().all(|x| x.index != i)
                })
            };
            let after = match cp.get(&sh.index) {
                Some(None) => continue,
                Some(Some(a)) => *a,
                None if done(sh.parent) && done(sh.adjacent_parent) => sh.start_seq,
                None => continue,
            };
            let start = sh.first_after(after);
            let batch: Vec<_> = sh
                .records
                .iter()
                .skip(start)
                .take(max.max(1))
                .map(|r| (sh.id(), r.clone()))
                .collect();
            if let Some((_, last)) = batch.last() {
                cp.insert(sh.index, Some(last.seq));
                return batch;
            }
            if !sh.is_open() {
                cp.insert(sh.index, None);
                progressed = true;
            } else {
                cp.insert(sh.index, Some(after));
            }
        }
        if !progressed {
            return Vec::new();
        }
    }
}

#[async_trait]
impl Target for Bus {
    async fn deliver(&self, arn: &str, d: Delivery) -> Result<Delivered, AwsError> {
        let (acct, region, name) = parse_stream_arn(arn).ok_or_else(|| {
            AwsError::from(KinesisError::invalid(format!(
                "{arn} is not a valid stream ARN."
            )))
        })?;
        let data = STANDARD.encode(&d.payload);
        let pk = d
            .options
            .get("PartitionKey")
            .and_then(Value::as_str)
            .map_or_else(aloft_core::ids::uuid, str::to_string);
        let put = Put {
            data: &data,
            partition_key: Some(&pk),
            explicit_hash_key: d.options.get("ExplicitHashKey").and_then(Value::as_str),
            field: String::new(),
        };
        let (mut results, _) = self
            .0
            .append_all(&acct, &region, &name, std::slice::from_ref(&put))
            .await?;
        let (shard, seq) = results.remove(0)?;
        let mut info = Map::new();
        info.insert("ShardId".into(), json!(shard));
        info.insert("SequenceNumber".into(), json!(seq));
        Ok(Delivered {
            payload: None,
            info,
        })
    }
}

#[async_trait]
impl Source for Bus {
    async fn read(
        &self,
        arn: &str,
        pos: Option<&str>,
        max: usize,
        options: &Map<String, Value>,
    ) -> Result<(Vec<SourceRecord>, Option<String>), AwsError> {
        let (acct, region, name) = parse_stream_arn(arn).ok_or_else(|| {
            AwsError::from(KinesisError::invalid(format!(
                "{arn} is not a valid stream ARN."
            )))
        })?;
        let now = clock::now_millis();
        let (records, next, c) = {
            let mut st = self.0.state.lock();
            let s = st
                .by_key
                .get_mut(&scoped(&acct, &region, &name))
                .ok_or_else(|| AwsError::from(KinesisError::stream_not_found(&name, &acct)))?;
            let trimmed = s.trim(now);
            let c = self.0.state.forget_records(&trimmed);
            let mut cp = match pos.and_then(decode_position) {
                Some((created, cp)) if created == s.created_ms => cp,
                _ => initial(s, options),
            };
            let records = read_from(s, &mut cp, max);
            (records, encode_position(s.created_ms, &cp), c)
        };
        crate::commit(c).await?;
        let role = options.get("Role").and_then(Value::as_str).map_or_else(
            || format!("arn:aws:iam::{acct}:role/service-role/aloft-lambda"),
            str::to_string,
        );
        let out = records
            .into_iter()
            .map(|(shard, r)| {
                let seq = keys::sequence_number(r.seq);
                SourceRecord {
                    record: json!({
                        "kinesis": {
                            "kinesisSchemaVersion": "1.0",
                            "partitionKey": r.partition_key,
                            "sequenceNumber": seq,
                            "data": r.data,
                            "approximateArrivalTimestamp": r.arrival_ms as f64 / 1000.0,
                        },
                        "eventSource": "aws:kinesis",
                        "eventVersion": "1.0",
                        "eventID": format!("{shard}:{seq}"),
                        "eventName": "aws:kinesis:record",
                        "invokeIdentityArn": role,
                        "awsRegion": region,
                        "eventSourceARN": arn,
                    }),
                    ack: seq,
                }
            })
            .collect();
        Ok((out, Some(next)))
    }

    async fn ack(&self, _arn: &str, _acks: &[String]) -> Result<(), AwsError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::append;
    use crate::resharding::split;

    fn stream() -> Stream {
        Stream::for_test(1)
    }

    fn put(s: &mut Stream, pk: &str) -> u128 {
        let p = Put {
            data: "AA==",
            partition_key: Some(pk),
            explicit_hash_key: None,
            field: String::new(),
        };
        append(s, 1, false, &p).unwrap().1.seq
    }

    #[test]
    fn positions_round_trip() {
        let cp: Checkpoints = [(0, Some(5)), (1, None)].into_iter().collect();
        assert_eq!(decode_position(&encode_position(7, &cp)), Some((7, cp)));
        assert_eq!(decode_position("nope"), None);
    }

    #[test]
    fn parents_are_read_to_their_end_before_children() {
        let mut s = stream();
        let before = put(&mut s, "a");
        split(
            &mut s,
            "shardId-000000000000",
            &(u128::MAX / 2).to_string(),
            2,
        )
        .unwrap();
        let after = put(&mut s, "a");
        let mut cp = initial(
            &s,
            &Map::from_iter([("StartingPosition".into(), json!("TRIM_HORIZON"))]),
        );
        let first = read_from(&s, &mut cp, 10);
        assert_eq!(
            first.iter().map(|r| r.1.seq).collect::<Vec<_>>(),
            vec![before]
        );
        assert_eq!(first[0].0, "shardId-000000000000");
        let second = read_from(&s, &mut cp, 10);
        assert_eq!(
            second.iter().map(|r| r.1.seq).collect::<Vec<_>>(),
            vec![after]
        );
        assert_eq!(cp.get(&0), Some(&None));
        assert!(read_from(&s, &mut cp, 10).is_empty());
    }

    #[test]
    fn latest_skips_what_is_already_there() {
        let mut s = stream();
        put(&mut s, "a");
        let mut cp = initial(&s, &Map::new());
        assert!(read_from(&s, &mut cp, 10).is_empty());
        let n = put(&mut s, "b");
        assert_eq!(read_from(&s, &mut cp, 10)[0].1.seq, n);
    }

    /// The bus contract DynamoDB's streaming destinations and EventBridge rely on.
    #[tokio::test]
    async fn target_contract() {
        let ctx = aloft_core::ServiceContext::ephemeral().expect("ephemeral context");
        let kinesis = crate::build(&ctx);
        let arn = "arn:aws:kinesis:us-east-1:000000000000:stream/ddb";
        let missing = ctx
            .targets
            .deliver(arn, Delivery::default())
            .await
            .unwrap_err();
        assert_eq!(missing.code, "ResourceNotFoundException");
        assert_eq!(
            missing.message,
            "Stream ddb under account 000000000000 not found."
        );
        kinesis
            .create_stream(
                "000000000000",
                "us-east-1",
                json!({"StreamName": "ddb", "ShardCount": 2}),
            )
            .await
            .unwrap();
        let mut options = Map::new();
        options.insert("PartitionKey".into(), json!("a"));
        let out = ctx
            .targets
            .deliver(
                arn,
                Delivery {
                    payload: bytes::Bytes::from_static(b"{\"eventName\":\"INSERT\"}"),
                    options,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        // MD5("a") is in the lower half of the key space.
        assert_eq!(out.info["ShardId"], "shardId-000000000000");
        let seq = out.info["SequenceNumber"].as_str().unwrap().to_string();
        assert_eq!(seq.len(), 56);
        let mut explicit = Map::new();
        explicit.insert("ExplicitHashKey".into(), json!(u128::MAX.to_string()));
        let out = ctx
            .targets
            .deliver(
                arn,
                Delivery {
                    payload: bytes::Bytes::from_static(b"x"),
                    options: explicit,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(out.info["ShardId"], "shardId-000000000001");
        // The source hands both back in Lambda's shape.
        let source = ctx.targets.source_for(arn).unwrap();
        let mut start = Map::new();
        start.insert("StartingPosition".into(), json!("TRIM_HORIZON"));
        let (records, _) = source.read(arn, None, 10, &start).await.unwrap();
        assert_eq!(records[0].record["kinesis"]["sequenceNumber"], json!(seq));
        assert_eq!(records[0].record["kinesis"]["partitionKey"], "a");
        assert_eq!(
            records[0].record["kinesis"]["data"],
            STANDARD.encode(b"{\"eventName\":\"INSERT\"}")
        );
    }
}
