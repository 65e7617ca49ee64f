//! Stream event sources (DynamoDB Streams, Kinesis): a batch is retried until it succeeds or
//! `MaximumRetryAttempts` runs out, split in halves first when `BisectBatchOnFunctionError`
//! (splits do not count as retries, as on AWS), and a batch given up on is reported to the
//! on-failure destination with `DDBStreamBatchInfo` / `KinesisBatchInfo`. Records older than
//! `MaximumRecordAgeInSeconds` are not sent (condition `RecordAgeExceeded`). With
//! `ReportBatchItemFailures` the function names the failed records and the retry starts at
//! the lowest one. `ParallelizationFactor` spreads a read over lanes by partition key (item
//! key for DynamoDB), so each key stays in order. The position after each finished read is
//! journaled, so a restart resumes where processing stopped.

use std::collections::VecDeque;
use std::sync::Arc;

use aloft_events::SourceRecord;
use bytes::Bytes;
use serde_json::{Value, json};

use crate::Lambda;
use crate::invoke::Mode;
use crate::mappings::Mapping;
use crate::windows::{Window, Windows};

pub const NS_POSITIONS: &str = "lambda/esm-positions";

/// How a stream batch ended.
pub enum Outcome {
    /// Every record was processed or handed to the on-failure destination.
    Done,
    /// The mapping changed or went away while retrying: stop without moving the position.
    Stopped,
}

fn batch_info(m: &Mapping, batch: &[SourceRecord]) -> (String, Value) {
    let kinesis = aloft_events::arn_service(&m.source_arn) == Some("kinesis");
    let seq = |r: &SourceRecord| {
        if kinesis {
            r.record["kinesis"]["sequenceNumber"].clone()
        } else {
            r.record["dynamodb"]["SequenceNumber"].clone()
        }
    };
    let arrival = |r: &SourceRecord| {
        let secs = if kinesis {
            r.record["kinesis"]["approximateArrivalTimestamp"].as_f64()
        } else {
            r.record["dynamodb"]["ApproximateCreationDateTime"].as_f64()
        };
        secs.map_or(Value::Null, |s| {
            json!(aloft_core::clock::iso8601_millis((s * 1000.0) as i64))
        })
    };
    let (first, last) = (&batch[0], &batch[batch.len() - 1]);
    let mut info = json!({
        "startSequenceNumber": seq(first), "endSequenceNumber": seq(last),
        "approximateArrivalOfFirstRecord": arrival(first),
        "approximateArrivalOfLastRecord": arrival(last),
        "batchSize": batch.len(), "streamArn": m.source_arn,
    });
    if let Some(shard) = first
        .record
        .get("eventID")
        .and_then(Value::as_str)
        .and_then(|id| id.split_once(':'))
        .map(|(s, _)| s)
    {
        // Kinesis event ids are `shardId-…:sequence`.
        info["shardId"] = json!(shard);
    }
    let key = if kinesis {
        "KinesisBatchInfo"
    } else {
        "DDBStreamBatchInfo"
    };
    (key.to_string(), info)
}

/// What a successful invoke's answer says under `ReportBatchItemFailures`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    Success,
    /// The indexes (in the batch) of the records the function reported as failed.
    Failed(Vec<usize>),
    /// A malformed answer or an unknown identifier: the whole batch failed.
    Invalid,
}

fn sequence_of(kinesis: bool, r: &SourceRecord) -> Option<&str> {
    if kinesis {
        r.record.pointer("/kinesis/sequenceNumber")
    } else {
        r.record.pointer("/dynamodb/SequenceNumber")
    }
    .and_then(Value::as_str)
}

/// AWS: an empty or null answer, or an empty or null `batchItemFailures`, is a success; an
/// empty, null or unknown `itemIdentifier` (or a badly named key) fails the whole batch.
/// `ids` are the batch's identifiers (sequence numbers, or SQS message ids), in order.
pub(crate) fn item_failures(payload: &[u8], ids: &[Option<&str>]) -> Verdict {
    if payload.iter().all(u8::is_ascii_whitespace) {
        return Verdict::Success;
    }
    let Ok(v) = serde_json::from_slice::<Value>(payload) else {
        return Verdict::Invalid;
    };
    let failures = match v.get("batchItemFailures") {
        None | Some(Value::Null) => return Verdict::Success,
        Some(Value::Array(list)) if list.is_empty() => return Verdict::Success,
        Some(Value::Array(list)) => list,
        Some(_) => return Verdict::Invalid,
    };
    let mut failed = Vec::new();
    for f in failures {
        let Some(id) = f
            .get("itemIdentifier")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
        else {
            return Verdict::Invalid;
        };
        let Some(i) = ids.iter().position(|x| *x == Some(id)) else {
            return Verdict::Invalid;
        };
        failed.push(i);
    }
    failed.sort_unstable();
    failed.dedup();
    Verdict::Failed(failed)
}

/// When the record reached the stream, in milliseconds.
pub(crate) fn arrival_ms(kinesis: bool, record: &Value) -> Option<i64> {
    let secs = if kinesis {
        record.pointer("/kinesis/approximateArrivalTimestamp")
    } else {
        record.pointer("/dynamodb/ApproximateCreationDateTime")
    }?
    .as_f64()?;
    Some((secs * 1000.0) as i64)
}

/// The shard a record came from: Kinesis event ids are `shardId-…:sequence`; a DynamoDB
/// record does not name its shard, and Aloft's tables have one stream shard.
pub(crate) fn shard_of(kinesis: bool, record: &Value) -> String {
    record
        .get("eventID")
        .and_then(Value::as_str)
        .filter(|_| kinesis)
        .and_then(|id| id.split_once(':'))
        .map_or_else(
            || "shardId-00000000000000000000-00000000".to_string(),
            |(s, _)| s.to_string(),
        )
}

/// The key whose records must stay in order: the partition key, or the item's key.
fn order_key(kinesis: bool, record: &Value) -> String {
    if kinesis {
        record
            .pointer("/kinesis/partitionKey")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    } else {
        record
            .pointer("/dynamodb/Keys")
            .map(Value::to_string)
            .unwrap_or_default()
    }
}

/// FNV-1a: a stable lane for a key.
fn lane_of(key: &str, lanes: usize) -> usize {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h % lanes as u64) as usize
}

/// Splits a read into `lanes` lanes by key, each keeping the records' order.
fn split_lanes(records: Vec<SourceRecord>, lanes: usize, kinesis: bool) -> Vec<Vec<SourceRecord>> {
    let mut out: Vec<Vec<SourceRecord>> = (0..lanes).map(|_| Vec::new()).collect();
    for r in records {
        let lane = lane_of(&order_key(kinesis, &r.record), lanes);
        out[lane].push(r);
    }
    out.retain(|l| !l.is_empty());
    out
}

fn setting(m: &Mapping, name: &str) -> Option<i64> {
    m.config.get(name).and_then(Value::as_i64)
}

impl Lambda {
    /// Processes one read of a stream: `keep` are the records that passed the filters.
    pub(crate) async fn process_stream_read(
        self: &Arc<Self>,
        m: &Mapping,
        keep: Vec<SourceRecord>,
        windows: &mut Windows,
    ) -> Outcome {
        let kinesis = aloft_events::arn_service(&m.source_arn) == Some("kinesis");
        let size = m.batch_size();
        let window_s = setting(m, "TumblingWindowInSeconds").unwrap_or(0);
        if window_s > 0 {
            let len = window_s * 1000;
            let shard = shard_of(kinesis, &keep[0].record);
            for (start, run) in crate::windows::runs(keep, len, |r| arrival_ms(kinesis, r)) {
                // Records later than the open window's start belong to a new window; a late
                // record (an earlier window) joins the open one.
                let start = windows.get(&shard).map_or(start, |w| start.max(w.start_ms));
                if windows.get(&shard).is_some_and(|w| w.start_ms != start)
                    && let Some(w) = windows.remove(&shard)
                    && let Outcome::Stopped = self.close_window(m, w).await
                {
                    return Outcome::Stopped;
                }
                for chunk in run.chunks(size) {
                    let w = windows
                        .entry(shard.clone())
                        .or_insert_with(|| Window::new(&shard, start, len));
                    if let Outcome::Stopped =
                        self.process_stream_batch(m, chunk.to_vec(), Some(w)).await
                    {
                        return Outcome::Stopped;
                    }
                    if w.early
                        && let Some(w) = windows.remove(&shard)
                        && let Outcome::Stopped = self.close_window(m, w).await
                    {
                        return Outcome::Stopped;
                    }
                }
            }
            return Outcome::Done;
        }
        let lanes = setting(m, "ParallelizationFactor").unwrap_or(1).max(1) as usize;
        if lanes <= 1 {
            for chunk in keep.chunks(size) {
                if let Outcome::Stopped = self.process_stream_batch(m, chunk.to_vec(), None).await {
                    return Outcome::Stopped;
                }
            }
            return Outcome::Done;
        }
        // Up to `lanes` batches of the shard in flight; one key's records share a lane.
        let mut set = tokio::task::JoinSet::new();
        for lane in split_lanes(keep, lanes, kinesis) {
            let (me, m) = (Arc::clone(self), m.clone());
            set.spawn(async move {
                for chunk in lane.chunks(size) {
                    if let Outcome::Stopped =
                        me.process_stream_batch(&m, chunk.to_vec(), None).await
                    {
                        return Outcome::Stopped;
                    }
                }
                Outcome::Done
            });
        }
        let mut outcome = Outcome::Done;
        while let Some(r) = set.join_next().await {
            if !matches!(r, Ok(Outcome::Done)) {
                outcome = Outcome::Stopped;
            }
        }
        outcome
    }

    /// Ends the windows whose time has passed with their final invoke.
    pub(crate) async fn close_due_windows(
        self: &Arc<Self>,
        m: &Mapping,
        windows: &mut Windows,
    ) -> Outcome {
        let now = aloft_core::clock::now_millis();
        let due: Vec<String> = windows
            .iter()
            .filter(|(_, w)| w.end_ms <= now)
            .map(|(k, _)| k.clone())
            .collect();
        for shard in due {
            if let Some(w) = windows.remove(&shard)
                && let Outcome::Stopped = self.close_window(m, w).await
            {
                return Outcome::Stopped;
            }
        }
        Outcome::Done
    }

    async fn close_window(self: &Arc<Self>, m: &Mapping, mut w: Window) -> Outcome {
        w.last = true;
        self.process_stream_batch(m, Vec::new(), Some(&mut w)).await
    }

    /// Invokes the function with one batch until it succeeds or is given up on.
    async fn process_stream_batch(
        self: &Arc<Self>,
        m: &Mapping,
        batch: Vec<SourceRecord>,
        mut window: Option<&mut Window>,
    ) -> Outcome {
        let kinesis = aloft_events::arn_service(&m.source_arn) == Some("kinesis");
        let closing = window.as_ref().is_some_and(|w| w.last);
        // A window's final invoke is retried until it succeeds: processing waits for it.
        let max_retries = if closing {
            -1
        } else {
            setting(m, "MaximumRetryAttempts").unwrap_or(-1)
        };
        let max_age_ms = setting(m, "MaximumRecordAgeInSeconds")
            .filter(|a| *a >= 0)
            .map(|a| a * 1000);
        let bisect = m
            .config
            .get("BisectBatchOnFunctionError")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let report = m
            .config
            .get("FunctionResponseTypes")
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|v| v == "ReportBatchItemFailures"));
        let mut work: VecDeque<Vec<SourceRecord>> = VecDeque::from([batch]);
        'batches: while let Some(mut batch) = work.pop_front() {
            let mut failures: i64 = 0;
            loop {
                if !self.mapping_current(m) {
                    return Outcome::Stopped;
                }
                if let Some(max_age) = max_age_ms
                    && !batch.is_empty()
                {
                    // Checked before every attempt: a record can age out while retried.
                    let now = aloft_core::clock::now_millis();
                    let (old, fresh): (Vec<_>, Vec<_>) = batch.into_iter().partition(|r| {
                        arrival_ms(kinesis, &r.record).is_some_and(|a| now - a > max_age)
                    });
                    batch = fresh;
                    if !old.is_empty() {
                        self.stream_failure(m, &old, failures, None, "RecordAgeExceeded")
                            .await;
                    }
                    if batch.is_empty() {
                        continue 'batches;
                    }
                }
                let event = match window.as_deref() {
                    Some(w) => w.event(&m.source_arn, &batch),
                    None => {
                        json!({"Records": batch.iter().map(|r| r.record.clone()).collect::<Vec<_>>()})
                    }
                };
                let out = self
                    .invoke(
                        &m.account,
                        &m.region,
                        &m.function,
                        m.qualifier.as_deref(),
                        Mode::RequestResponse,
                        false,
                        Bytes::from(event.to_string()),
                        None,
                    )
                    .await;
                let ok = matches!(&out, Ok(o) if o.function_error.is_none());
                self.set_result(
                    m,
                    if ok {
                        "OK"
                    } else {
                        "PROBLEM: Function call failed"
                    },
                );
                let (function_error, retry_from) = match &out {
                    // A windowed invoke must answer with its state.
                    Ok(o)
                        if o.function_error.is_none()
                            && window.as_deref_mut().is_some_and(|w| {
                                !w.absorb(serde_json::from_slice::<Value>(&o.payload).ok().as_ref())
                            }) =>
                    {
                        (None, None)
                    }
                    Ok(o) if o.function_error.is_none() => {
                        if !report || closing {
                            continue 'batches;
                        }
                        let ids: Vec<Option<&str>> =
                            batch.iter().map(|r| sequence_of(kinesis, r)).collect();
                        match item_failures(&o.payload, &ids) {
                            Verdict::Success => continue 'batches,
                            // Lambda checkpoints before the lowest failed sequence number.
                            Verdict::Failed(f) => (None, f.first().copied()),
                            Verdict::Invalid => (None, None),
                        }
                    }
                    Ok(o) => (o.function_error, None),
                    Err(_) => (None, None),
                };
                match retry_from {
                    // The records before the lowest failure are done; with bisection the
                    // batch is split there, which does not count as a retry.
                    Some(i) if i > 0 => {
                        batch.drain(..i);
                        if bisect {
                            continue;
                        }
                    }
                    _ if bisect && batch.len() > 1 => {
                        let mut first = batch;
                        let second = first.split_off(first.len() / 2);
                        work.push_front(second);
                        work.push_front(first);
                        continue 'batches;
                    }
                    _ => {}
                }
                if max_retries >= 0 && failures >= max_retries {
                    self.stream_failure(
                        m,
                        &batch,
                        failures + 1,
                        function_error,
                        "RetryAttemptsExhausted",
                    )
                    .await;
                    continue 'batches;
                }
                failures += 1;
                // A short pause between retries; the clock moving wakes it early.
                let mut tick = aloft_core::clock::changed();
                tokio::select! {
                    () = tokio::time::sleep(std::time::Duration::from_millis(200)) => {}
                    _ = tick.changed() => {}
                }
            }
        }
        Outcome::Done
    }

    /// The execution role of the mapping's function.
    pub(crate) fn execution_role(&self, m: &Mapping) -> Option<String> {
        let st = self.state.lock().expect("state lock");
        st.functions
            .get(&crate::key(&m.account, &m.region, &m.function))
            .map(|f| {
                m.qualifier
                    .as_deref()
                    .and_then(|q| f.version(q))
                    .unwrap_or(&f.latest)
                    .role
                    .clone()
            })
    }

    fn set_result(&self, m: &Mapping, result: &'static str) {
        let mut st = self.state.lock().expect("state lock");
        if st.mappings.contains_key(&m.uuid) {
            st.results.insert(m.uuid.clone(), result);
        }
    }

    fn mapping_current(&self, m: &Mapping) -> bool {
        let st = self.state.lock().expect("state lock");
        st.mappings
            .get(&m.uuid)
            .is_some_and(|cur| cur.generation == m.generation && cur.enabled)
    }

    async fn stream_failure(
        &self,
        m: &Mapping,
        batch: &[SourceRecord],
        invokes: i64,
        function_error: Option<&str>,
        condition: &str,
    ) {
        if batch.is_empty() {
            return;
        }
        let Some(dest) = m
            .config
            .get("DestinationConfig")
            .and_then(|d| d.pointer("/OnFailure/Destination"))
            .and_then(Value::as_str)
        else {
            return;
        };
        let (key, info) = batch_info(m, batch);
        let mut record = json!({
            "requestContext": {
                "requestId": aloft_core::ids::uuid(),
                "functionArn": m.describe()["FunctionArn"],
                "condition": condition,
                "approximateInvokeCount": invokes,
            },
            "responseContext": {
                "statusCode": 200,
                "executedVersion": m.qualifier.clone().unwrap_or_else(|| "$LATEST".into()),
                "functionError": function_error.unwrap_or("Unhandled"),
            },
            "version": "1.0",
            "timestamp": aloft_core::clock::iso8601_millis(aloft_core::clock::now_millis()),
        });
        record[key] = info;
        let d = aloft_events::Delivery {
            payload: Bytes::from(record.to_string()),
            account: m.account.clone(),
            region: m.region.clone(),
            ..Default::default()
        };
        if let Err(e) = self.ctx.targets.deliver(dest, d).await {
            tracing::warn!("lambda: on-failure destination {dest} failed: {e}");
        }
    }

    /// The journaled position of a mapping (where its last finished read ended).
    pub(crate) fn stream_position(&self, uuid: &str) -> Option<String> {
        self.state
            .lock()
            .expect("state lock")
            .positions
            .get(uuid)
            .cloned()
    }

    /// Records and journals a mapping's new position.
    pub(crate) async fn save_position(&self, uuid: &str, position: &str) {
        let commit = {
            let mut st = self.state.lock().expect("state lock");
            if !st.mappings.contains_key(uuid) {
                return;
            }
            st.positions.insert(uuid.to_string(), position.to_string());
            if !self.ctx.store.is_durable() {
                return;
            }
            let mut b = aloft_store::Batch::new();
            b.put(NS_POSITIONS, uuid.as_bytes(), position.as_bytes().to_vec());
            self.ctx.store.submit(b)
        };
        if let Err(e) = commit.await {
            tracing::warn!("lambda: could not journal the position of mapping {uuid}: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kin(seq: &str, pk: &str) -> SourceRecord {
        SourceRecord {
            record: json!({"kinesis": {"sequenceNumber": seq, "partitionKey": pk}}),
            ack: seq.to_string(),
        }
    }

    #[test]
    fn batch_item_failures_verdicts() {
        let ids = [Some("1"), Some("2"), Some("3")];
        let v = |p: &str| item_failures(p.as_bytes(), &ids);
        assert_eq!(v(""), Verdict::Success);
        assert_eq!(v("null"), Verdict::Success);
        assert_eq!(v("{}"), Verdict::Success);
        assert_eq!(v(r#"{"batchItemFailures": null}"#), Verdict::Success);
        assert_eq!(v(r#"{"batchItemFailures": []}"#), Verdict::Success);
        assert_eq!(
            v(r#"{"batchItemFailures": [{"itemIdentifier": "3"}, {"itemIdentifier": "2"}]}"#),
            Verdict::Failed(vec![1, 2])
        );
        assert_eq!(
            v(r#"{"batchItemFailures": [{"itemIdentifier": "9"}]}"#),
            Verdict::Invalid
        );
        assert_eq!(
            v(r#"{"batchItemFailures": [{"itemIdentifier": ""}]}"#),
            Verdict::Invalid
        );
        assert_eq!(
            v(r#"{"batchItemFailures": [{"itemId": "1"}]}"#),
            Verdict::Invalid
        );
        assert_eq!(
            v(r#"{"batchItemFailures": [{"itemIdentifier": null}]}"#),
            Verdict::Invalid
        );
        assert_eq!(v(r#"{"batchItemFailures": "1"}"#), Verdict::Invalid);
        assert_eq!(v("not json"), Verdict::Invalid);
    }

    #[test]
    fn lanes_keep_each_key_in_order() {
        let recs: Vec<SourceRecord> = (0..40)
            .map(|i| kin(&i.to_string(), &format!("k{}", i % 7)))
            .collect();
        let lanes = split_lanes(recs, 3, true);
        assert!(lanes.len() <= 3 && lanes.len() > 1);
        assert_eq!(lanes.iter().map(Vec::len).sum::<usize>(), 40);
        for lane in &lanes {
            let seqs: Vec<u32> = lane.iter().map(|r| r.ack.parse().unwrap()).collect();
            assert!(seqs.windows(2).all(|w| w[0] < w[1]));
        }
        for k in 0..7 {
            let key = format!("k{k}");
            let holding = lanes
                .iter()
                .filter(|l| l.iter().any(|r| r.record["kinesis"]["partitionKey"] == key))
                .count();
            assert_eq!(holding, 1, "{key} is in one lane");
        }
    }

    #[test]
    fn arrival_and_shard() {
        let k = json!({"eventID": "shardId-000000000001:42", "kinesis": {"approximateArrivalTimestamp": 1.5}});
        assert_eq!(arrival_ms(true, &k), Some(1500));
        assert_eq!(shard_of(true, &k), "shardId-000000000001");
        let d = json!({"eventID": "abc", "dynamodb": {"ApproximateCreationDateTime": 2.0}});
        assert_eq!(arrival_ms(false, &d), Some(2000));
        assert!(shard_of(false, &d).starts_with("shardId-"));
    }
}
