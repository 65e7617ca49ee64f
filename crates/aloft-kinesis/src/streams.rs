//! Stream lifecycle and description: create (provisioned or on-demand), delete, describe,
//! list streams and shards, stream mode, retention, encryption, monitoring, record size.
//! Every operation that names a stream takes StreamName or StreamARN (or both, agreeing).

use std::collections::BTreeMap;

use aloft_core::clock;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{Code, KinesisError, Result};
use crate::keys;
use crate::state::{Shard, Stream, scoped};
use crate::{Kinesis, Out, commit, parse};

/// AWS's default shard quota per account and region (us-east-1, us-west-2, eu-west-1).
pub const SHARD_LIMIT: usize = 500;
pub const ON_DEMAND_STREAM_LIMIT: usize = 50;
/// An on-demand stream starts with 4 shards (4 MiB/s of writes).
const ON_DEMAND_SHARDS: u32 = 4;
pub const METRICS: [&str; 7] = [
    "IncomingBytes",
    "IncomingRecords",
    "OutgoingBytes",
    "OutgoingRecords",
    "WriteProvisionedThroughputExceeded",
    "ReadProvisionedThroughputExceeded",
    "IteratorAgeMilliseconds",
];

/// A stream's ARN: `arn:aws:kinesis:us-east-1:123456789012:stream/name`.
pub fn stream_arn(account: &str, region: &str, name: &str) -> String {
    format!("arn:aws:kinesis:{region}:{account}:stream/{name}")
}

/// `(account, region, name)` of a stream ARN (or of the stream a consumer ARN belongs to).
pub fn parse_stream_arn(arn: &str) -> Option<(String, String, String)> {
    let mut p = arn.splitn(6, ':');
    let (Some("arn"), Some(_), Some("kinesis"), Some(region), Some(account), Some(res)) =
        (p.next(), p.next(), p.next(), p.next(), p.next(), p.next())
    else {
        return None;
    };
    let name = res.strip_prefix("stream/")?.split('/').next()?;
    (!name.is_empty()).then(|| (account.to_string(), region.to_string(), name.to_string()))
}

/// The stream an input names: `(account, region, name)`.
pub fn locate(a: &str, r: &str, input: &Value) -> Result<(String, String, String)> {
    let name = input.get("StreamName").and_then(Value::as_str);
    let arn = input.get("StreamARN").and_then(Value::as_str);
    match (name, arn) {
        (Some(n), None) => Ok((a.to_string(), r.to_string(), n.to_string())),
        (n, Some(arn)) => {
            let (acct, region, name) = parse_stream_arn(arn).ok_or_else(|| {
                KinesisError::invalid(format!("StreamARN {arn} is not a valid stream ARN."))
            })?;
            if n.is_some_and(|n| n != name) {
                return Err(KinesisError::invalid(format!(
                    "StreamName {} does not match the stream of StreamARN {arn}.",
                    n.unwrap_or_default()
                )));
            }
            Ok((acct, region, name))
        }
        (None, None) => Err(KinesisError::invalid(
            "Either StreamName or StreamARN should be provided.",
        )),
    }
}

fn secs(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

pub fn shard_json(s: &Shard) -> Value {
    let mut j = json!({
        "ShardId": s.id(),
        "HashKeyRange": {
            "StartingHashKey": s.start_hash.to_string(),
            "EndingHashKey": s.end_hash.to_string(),
        },
        "SequenceNumberRange": {"StartingSequenceNumber": keys::sequence_number(s.start_seq)},
    });
    if let Some(p) = s.parent {
        j["ParentShardId"] = json!(keys::shard_id(p));
    }
    if let Some(p) = s.adjacent_parent {
        j["AdjacentParentShardId"] = json!(keys::shard_id(p));
    }
    if let Some(e) = s.end_seq {
        j["SequenceNumberRange"]["EndingSequenceNumber"] = json!(keys::sequence_number(e));
    }
    j
}

fn mode_json(s: &Stream) -> Value {
    json!({"StreamMode": s.mode})
}

fn monitoring_json(s: &Stream) -> Value {
    json!([{"ShardLevelMetrics": s.shard_metrics}])
}

fn encryption(s: &Stream) -> &'static str {
    if s.key_id.is_some() { "KMS" } else { "NONE" }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateStreamInput {
    stream_name: String,
    shard_count: Option<i64>,
    stream_mode_details: Option<ModeDetails>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
    #[serde(rename = "MaxRecordSizeInKiB")]
    max_record_size_in_kib: Option<i64>,
    #[serde(rename = "WarmThroughputMiBps")]
    warm_throughput_mibps: Option<i64>,
    record_distribution_strategy: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ModeDetails {
    stream_mode: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PageInput {
    limit: Option<usize>,
    exclusive_start_shard_id: Option<String>,
}

impl Kinesis {
    /// Runs `f` on the stream the input names.
    pub(crate) fn read<T>(
        &self,
        a: &str,
        r: &str,
        input: &Value,
        f: impl FnOnce(&Stream) -> Result<T>,
    ) -> Result<T> {
        let (acct, region, name) = locate(a, r, input)?;
        let st = self.state.lock();
        let s = st
            .by_key
            .get(&scoped(&acct, &region, &name))
            .ok_or_else(|| KinesisError::stream_not_found(&name, &acct))?;
        f(s)
    }

    /// Changes the stream the input names with `f(stream, now)` and journals it.
    pub(crate) async fn mutate<T>(
        &self,
        a: &str,
        r: &str,
        input: &Value,
        f: impl FnOnce(&mut Stream, i64) -> Result<T>,
    ) -> Result<T> {
        let (acct, region, name) = locate(a, r, input)?;
        self.mutate_at(&acct, &region, &name, f).await
    }

    /// [`Self::mutate`] for a stream already located.
    pub(crate) async fn mutate_at<T>(
        &self,
        acct: &str,
        region: &str,
        name: &str,
        f: impl FnOnce(&mut Stream, i64) -> Result<T>,
    ) -> Result<T> {
        let (out, c) = {
            let mut st = self.state.lock();
            let s = st
                .by_key
                .get_mut(&scoped(acct, region, name))
                .ok_or_else(|| KinesisError::stream_not_found(name, acct))?;
            let out = f(s, clock::now_millis())?;
            (out, self.state.save_stream(s))
        };
        commit(c).await?;
        Ok(out)
    }

    pub(crate) fn open_shards_in(&self, a: &str, r: &str) -> usize {
        let prefix = format!("{a}/{r}/");
        let st = self.state.lock();
        st.by_key
            .iter()
            .filter(|(k, _)| k.starts_with(&prefix))
            .map(|(_, s)| s.open_shards())
            .sum()
    }

    pub(crate) async fn create_stream(&self, a: &str, r: &str, input: Value) -> Out {
        let i: CreateStreamInput = parse(input)?;
        let mode = match (&i.stream_mode_details, i.shard_count) {
            (Some(m), _) => m.stream_mode.clone(),
            (None, Some(_)) => "PROVISIONED".to_string(),
            (None, None) => "ON_DEMAND".to_string(),
        };
        let shards = match (mode.as_str(), i.shard_count) {
            ("PROVISIONED", Some(n)) => u32::try_from(n).unwrap_or(u32::MAX),
            ("PROVISIONED", None) => {
                return Err(KinesisError::invalid(
                    "ShardCount is required for a PROVISIONED stream.",
                ));
            }
            (_, Some(_)) => {
                return Err(KinesisError::validation(
                    "ShardCount is not supported for streams in ON_DEMAND mode.",
                ));
            }
            (_, None) => ON_DEMAND_SHARDS,
        };
        if mode != "ON_DEMAND" {
            if i.record_distribution_strategy.as_deref() == Some("AUTO") {
                return Err(crate::capacity::auto_needs_on_demand());
            }
            if i.warm_throughput_mibps.is_some() {
                return Err(crate::capacity::warm_needs_on_demand());
            }
        }
        if i.tags.len() > 50 {
            return Err(KinesisError::invalid(
                "Failed to create stream because of too many tags. A stream can have at most 50 tags.",
            ));
        }
        let current = self.open_shards_in(a, r);
        if current + shards as usize > SHARD_LIMIT {
            return Err(KinesisError::limit(format!(
                "This request would exceed the shard limit for the account {a} in {r}. Current shard count for the account: {current}. Limit: {SHARD_LIMIT}. Number of additional shards that would have resulted from this request: {shards}. Refer to the AWS Service Limits page (https://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) for current limits and how to request higher limits."
            )));
        }
        let now = clock::now_millis();
        let c = {
            let mut st = self.state.lock();
            let key = scoped(a, r, &i.stream_name);
            if st.by_key.contains_key(&key) {
                return Err(KinesisError::in_use(format!(
                    "Stream {} under account {a} already exists.",
                    i.stream_name
                )));
            }
            if mode == "ON_DEMAND" {
                let prefix = format!("{a}/{r}/");
                let on_demand = st
                    .by_key
                    .iter()
                    .filter(|(k, s)| k.starts_with(&prefix) && s.mode == "ON_DEMAND")
                    .count();
                if on_demand >= ON_DEMAND_STREAM_LIMIT {
                    return Err(KinesisError::limit(format!(
                        "This request would exceed the on-demand stream limit for the account {a} in {r}. Limit: {ON_DEMAND_STREAM_LIMIT}."
                    )));
                }
            }
            let mut s = Stream {
                account: a.to_string(),
                region: r.to_string(),
                name: i.stream_name.clone(),
                arn: stream_arn(a, r, &i.stream_name),
                created_ms: now,
                mode,
                shards: Vec::new(),
                counter: 0,
                retention_hours: 24,
                tags: i.tags,
                key_id: None,
                shard_metrics: Vec::new(),
                consumers: Vec::new(),
                max_record_kib: i.max_record_size_in_kib.unwrap_or(1024),
                distribution: i
                    .record_distribution_strategy
                    .unwrap_or_else(|| "USER_PARTITION_KEY".into()),
                warm_mibps: i.warm_throughput_mibps,
                policies: BTreeMap::new(),
            };
            for range in keys::uniform_ranges(shards) {
                s.add_shard(range, (None, None), now);
            }
            let c = self.state.save_stream(&s);
            st.by_key.insert(key, s);
            c
        };
        commit(c).await?;
        Ok(json!({}))
    }

    pub(crate) async fn delete_stream(&self, a: &str, r: &str, input: Value) -> Out {
        let (acct, region, name) = locate(a, r, &input)?;
        let enforce = input
            .get("EnforceConsumerDeletion")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let (c1, c2) = {
            let mut st = self.state.lock();
            let key = scoped(&acct, &region, &name);
            let s = st
                .by_key
                .get(&key)
                .ok_or_else(|| KinesisError::stream_not_found(&name, &acct))?;
            if !s.consumers.is_empty() && !enforce {
                return Err(KinesisError::in_use(format!(
                    "Stream {name} under account {acct} has registered consumers. Deregister them first or set EnforceConsumerDeletion."
                )));
            }
            let s = st.by_key.remove(&key).expect("the stream was just found");
            self.state.delete_stream(&s)
        };
        commit(c1).await?;
        commit(c2).await?;
        Ok(json!({}))
    }

    pub(crate) fn describe_stream(&self, a: &str, r: &str, input: Value) -> Out {
        let page: PageInput = parse(input.clone())?;
        // At most 100 shards per call whatever the Limit, as AWS documents.
        let limit = page.limit.unwrap_or(100).min(100);
        self.read(a, r, &input, |s| {
            let after = match &page.exclusive_start_shard_id {
                Some(id) => keys::shard_index(id).map(i64::from).unwrap_or(-1),
                None => -1,
            };
            let rest: Vec<&Shard> = s
                .shards
                .iter()
                .filter(|sh| i64::from(sh.index) > after)
                .collect();
            let shards: Vec<Value> = rest.iter().take(limit).map(|sh| shard_json(sh)).collect();
            let mut d = json!({
                "StreamName": s.name,
                "StreamARN": s.arn,
                "StreamStatus": "ACTIVE",
                "StreamModeDetails": mode_json(s),
                "Shards": shards,
                "HasMoreShards": rest.len() > limit,
                "RetentionPeriodHours": s.retention_hours,
                "StreamCreationTimestamp": secs(s.created_ms),
                "EnhancedMonitoring": monitoring_json(s),
                "EncryptionType": encryption(s),
            });
            if let Some(k) = &s.key_id {
                d["KeyId"] = json!(k);
            }
            Ok(json!({"StreamDescription": d}))
        })
    }

    pub(crate) fn describe_stream_summary(&self, a: &str, r: &str, input: Value) -> Out {
        self.read(a, r, &input, |s| {
            let mut d = json!({
                "StreamName": s.name,
                "StreamARN": s.arn,
                "StreamStatus": "ACTIVE",
                "StreamModeDetails": mode_json(s),
                "RetentionPeriodHours": s.retention_hours,
                "StreamCreationTimestamp": secs(s.created_ms),
                "EnhancedMonitoring": monitoring_json(s),
                "EncryptionType": encryption(s),
                "OpenShardCount": s.open_shards(),
                "ConsumerCount": s.consumers.len(),
                "MaxRecordSizeInKiB": s.max_record_kib,
            });
            if s.mode == "ON_DEMAND" {
                d["RecordDistributionStrategy"] = json!(s.distribution);
            }
            if let Some(w) = s.warm_mibps {
                d["WarmThroughput"] = json!({"TargetMiBps": w, "CurrentMiBps": w});
            }
            if let Some(k) = &s.key_id {
                d["KeyId"] = json!(k);
            }
            Ok(json!({"StreamDescriptionSummary": d}))
        })
    }

    pub(crate) fn list_streams(&self, a: &str, r: &str, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            limit: Option<usize>,
            exclusive_start_stream_name: Option<String>,
            next_token: Option<String>,
        }
        let i: In = parse(input)?;
        // At most 100 streams per call whatever the Limit, as AWS documents.
        let limit = i.limit.unwrap_or(100).min(100);
        let start = match &i.next_token {
            Some(t) => {
                let (parts, issued) = keys::decode_token(t)
                    .ok_or_else(|| KinesisError::invalid("Invalid NextToken."))?;
                if clock::now_millis() - issued > 300_000 {
                    return Err(KinesisError::new(
                        Code::ExpiredNextTokenException,
                        "The NextToken has expired.",
                    ));
                }
                parts.into_iter().next()
            }
            None => i.exclusive_start_stream_name,
        };
        let prefix = format!("{a}/{r}/");
        let st = self.state.lock();
        let mut streams: Vec<&Stream> = st
            .by_key
            .iter()
            .filter(|(k, _)| k.starts_with(&prefix))
            .map(|(_, s)| s)
            .filter(|s| start.as_ref().is_none_or(|x| s.name.as_str() > x.as_str()))
            .collect();
        streams.sort_by(|x, y| x.name.cmp(&y.name));
        let more = streams.len() > limit;
        streams.truncate(limit);
        let mut out = json!({
            "StreamNames": streams.iter().map(|s| s.name.clone()).collect::<Vec<_>>(),
            "HasMoreStreams": more,
            "StreamSummaries": streams.iter().map(|s| json!({
                "StreamName": s.name, "StreamARN": s.arn, "StreamStatus": "ACTIVE",
                "StreamModeDetails": mode_json(s),
                "StreamCreationTimestamp": secs(s.created_ms),
            })).collect::<Vec<_>>(),
        });
        if more && let Some(last) = streams.last() {
            out["NextToken"] = json!(keys::encode_token(&[&last.name], clock::now_millis()));
        }
        Ok(out)
    }

    pub(crate) async fn update_stream_mode(&self, a: &str, r: &str, input: Value) -> Out {
        let mode = input
            .pointer("/StreamModeDetails/StreamMode")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let warm = input.get("WarmThroughputMiBps").and_then(Value::as_i64);
        self.mutate(a, r, &input, |s, _| {
            if s.mode == mode {
                return Err(KinesisError::in_use(format!(
                    "Stream {} under account {} is already in {mode} mode.",
                    s.name, s.account
                )));
            }
            if mode == "ON_DEMAND" {
                s.warm_mibps = warm;
            } else if warm.is_some() {
                return Err(crate::capacity::warm_needs_on_demand());
            } else {
                // Provisioned streams place records by partition key and keep no warm throughput.
                s.warm_mibps = None;
                s.distribution = "USER_PARTITION_KEY".into();
            }
            s.mode = mode;
            Ok(json!({}))
        })
        .await
    }

    pub(crate) async fn change_retention(
        &self,
        a: &str,
        r: &str,
        input: Value,
        increase: bool,
    ) -> Out {
        let hours = input
            .get("RetentionPeriodHours")
            .and_then(Value::as_i64)
            .ok_or_else(|| {
                KinesisError::validation(
                    "1 validation error detected: Value null at 'retentionPeriodHours' failed to satisfy constraint: Member must not be null",
                )
            })?;
        self.mutate(a, r, &input, |s, _| {
            if hours < 24 {
                return Err(KinesisError::invalid(format!(
                    "Minimum allowed retention period is 24 hours. Requested retention period ({hours} hours) is too short."
                )));
            }
            if hours > 8760 {
                return Err(KinesisError::invalid(format!(
                    "Maximum allowed retention period is 8760 hours. Requested retention period ({hours} hours) is too long."
                )));
            }
            if increase && hours < s.retention_hours {
                return Err(KinesisError::invalid(format!(
                    "Requested retention period ({hours} hours) for stream {} can not be shorter than existing retention period ({} hours). Use DecreaseRetentionPeriod API.",
                    s.name, s.retention_hours
                )));
            }
            if !increase && hours > s.retention_hours {
                return Err(KinesisError::invalid(format!(
                    "Requested retention period ({hours} hours) for stream {} can not be longer than existing retention period ({} hours). Use IncreaseRetentionPeriod API.",
                    s.name, s.retention_hours
                )));
            }
            s.retention_hours = hours;
            Ok(json!({}))
        })
        .await
    }

    pub(crate) async fn stream_encryption(
        &self,
        a: &str,
        r: &str,
        input: Value,
        start: bool,
    ) -> Out {
        let kind = input
            .get("EncryptionType")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let key = input
            .get("KeyId")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        if start && kind == "KMS" {
            let (acct, region, _) = locate(a, r, &input)?;
            self.check_kms_key(&acct, &region, &key).await?;
        }
        self.mutate(a, r, &input, |s, _| {
            if kind != "KMS" {
                return Err(KinesisError::invalid(format!(
                    "Encryption type {kind} is not valid. Valid encryption types: KMS."
                )));
            }
            if start {
                s.key_id = Some(key);
            } else if s.key_id.as_deref() == Some(key.as_str()) {
                s.key_id = None;
            } else {
                return Err(KinesisError::invalid(format!(
                    "Stream {} under account {} is not encrypted with key {key}.",
                    s.name, s.account
                )));
            }
            Ok(json!({}))
        })
        .await
    }

    /// Encrypts a few bytes with the key through the `kms` target, so that a missing or disabled
    /// key fails StartStreamEncryption with Kinesis's KMS error codes, as on AWS.
    async fn check_kms_key(&self, account: &str, region: &str, key: &str) -> Result<()> {
        let arn = if key.starts_with("arn:") {
            key.to_string()
        } else if key.starts_with("alias/") {
            aloft_core::arn::build("kms", region, account, key)
        } else {
            aloft_core::arn::build("kms", region, account, &format!("key/{key}"))
        };
        let mut options = serde_json::Map::new();
        options.insert("Operation".into(), json!("Encrypt"));
        let d = aloft_events::Delivery {
            payload: bytes::Bytes::from_static(b"kinesis"),
            options,
            sync: true,
            source_arn: None,
            account: account.to_string(),
            region: region.to_string(),
        };
        let Err(e) = self.targets.deliver(&arn, d).await else {
            return Ok(());
        };
        let code = match e.code {
            "NotFoundException" => Code::KMSNotFoundException,
            "DisabledException" => Code::KMSDisabledException,
            "KMSInvalidStateException" => Code::KMSInvalidStateException,
            "AccessDeniedException" => Code::KMSAccessDeniedException,
            // No KMS in this build: the key is only recorded.
            "ResourceNotFoundException" => return Ok(()),
            _ => Code::KMSInvalidStateException,
        };
        Err(KinesisError::new(code, e.message))
    }

    pub(crate) async fn enhanced_monitoring(
        &self,
        a: &str,
        r: &str,
        input: Value,
        enable: bool,
    ) -> Out {
        let asked: Vec<String> = input
            .get("ShardLevelMetrics")
            .and_then(Value::as_array)
            .map(|v| {
                v.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        let expanded: Vec<String> = if asked.iter().any(|m| m == "ALL") {
            METRICS.iter().map(|m| (*m).to_string()).collect()
        } else {
            asked
        };
        self.mutate(a, r, &input, |s, _| {
            let current = s.shard_metrics.clone();
            let desired: Vec<String> = METRICS
                .iter()
                .map(|m| (*m).to_string())
                .filter(|m| {
                    let had = current.contains(m);
                    let named = expanded.contains(m);
                    if enable { had || named } else { had && !named }
                })
                .collect();
            s.shard_metrics = desired.clone();
            Ok(json!({
                "StreamName": s.name, "StreamARN": s.arn,
                "CurrentShardLevelMetrics": current,
                "DesiredShardLevelMetrics": desired,
            }))
        })
        .await
    }

    pub(crate) async fn update_max_record_size(&self, a: &str, r: &str, input: Value) -> Out {
        let kib = input
            .get("MaxRecordSizeInKiB")
            .and_then(Value::as_i64)
            .unwrap_or(1024);
        self.mutate(a, r, &input, |s, _| {
            s.max_record_kib = kib;
            Ok(json!({}))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_arns_parse_for_streams_and_consumers() {
        let arn = stream_arn("123456789012", "eu-west-1", "orders");
        assert_eq!(
            parse_stream_arn(&arn),
            Some(("123456789012".into(), "eu-west-1".into(), "orders".into()))
        );
        assert_eq!(
            parse_stream_arn(&format!("{arn}/consumer/c:1700000000")).map(|x| x.2),
            Some("orders".into())
        );
        assert_eq!(
            parse_stream_arn("arn:aws:sqs:us-east-1:123456789012:q"),
            None
        );
    }

    #[test]
    fn locate_takes_name_arn_or_both_agreeing() {
        let arn = stream_arn("111111111111", "us-west-2", "s");
        assert_eq!(
            locate("1", "r", &json!({"StreamName": "s"})).unwrap(),
            ("1".into(), "r".into(), "s".into())
        );
        assert_eq!(
            locate("1", "r", &json!({"StreamARN": arn})).unwrap().0,
            "111111111111"
        );
        assert!(locate("1", "r", &json!({"StreamARN": arn, "StreamName": "s"})).is_ok());
        assert!(locate("1", "r", &json!({"StreamARN": arn, "StreamName": "t"})).is_err());
        assert_eq!(
            locate("1", "r", &json!({})).unwrap_err().code,
            Code::InvalidArgumentException
        );
    }
}
