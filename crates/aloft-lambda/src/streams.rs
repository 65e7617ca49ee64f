//! Stream event sources (DynamoDB Streams, Kinesis): a batch is retried until it succeeds or
//! `MaximumRetryAttempts` runs out, split in halves first when `BisectBatchOnFunctionError`
//! (splits do not count as retries, as on AWS), and a batch given up on is reported to the
//! on-failure destination with `DDBStreamBatchInfo` / `KinesisBatchInfo`. The position after
//! each finished read is journaled, so a restart resumes where processing stopped.

use std::collections::VecDeque;
use std::sync::Arc;

use aloft_events::SourceRecord;
use bytes::Bytes;
use serde_json::{Value, json};

use crate::Lambda;
use crate::invoke::Mode;
use crate::mappings::Mapping;

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

impl Lambda {
    /// Processes one read of a stream: `keep` are the records that passed the filters.
    pub(crate) async fn process_stream_batch(
        self: &Arc<Self>,
        m: &Mapping,
        keep: Vec<SourceRecord>,
    ) -> Outcome {
        let max_retries = m
            .config
            .get("MaximumRetryAttempts")
            .and_then(Value::as_i64)
            .unwrap_or(-1);
        let bisect = m
            .config
            .get("BisectBatchOnFunctionError")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let mut work: VecDeque<Vec<SourceRecord>> = VecDeque::from([keep]);
        'batches: while let Some(batch) = work.pop_front() {
            let mut failures: i64 = 0;
            loop {
                if !self.mapping_current(m) {
                    return Outcome::Stopped;
                }
                let event =
                    json!({"Records": batch.iter().map(|r| r.record.clone()).collect::<Vec<_>>()});
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
                let function_error = match &out {
                    Ok(o) if o.function_error.is_none() => continue 'batches,
                    Ok(o) => o.function_error,
                    Err(_) => None,
                };
                if bisect && batch.len() > 1 {
                    let mut first = batch;
                    let second = first.split_off(first.len() / 2);
                    work.push_front(second);
                    work.push_front(first);
                    continue 'batches;
                }
                if max_retries >= 0 && failures >= max_retries {
                    self.stream_failure(m, &batch, failures + 1, function_error)
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
    ) {
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
                "condition": "RetryAttemptsExhausted",
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
