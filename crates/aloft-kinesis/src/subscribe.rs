//! SubscribeToShard: an enhanced fan-out consumer's push of a shard's records over HTTP/1.1 as
//! an event stream. The answer starts with an `initial-response` event, then sends a
//! SubscribeToShardEvent at once and whenever records arrive (at least every five seconds).
//! A subscription ends after five minutes on the one clock, as AWS's do, or at the end of a
//! closed shard (with ChildShards).

use std::sync::Arc;
use std::time::Duration;

use aloft_core::{Response, clock};
use bytes::Bytes;
use serde_json::{Value, json};

use crate::error::{KinesisError, Result};
use crate::records::{child_shards, position, record_json, shard_not_found, timestamp_ms};
use crate::state::scoped;
use crate::streams::parse_stream_arn;
use crate::{Kinesis, eventstream, keys};

const SUBSCRIPTION_MS: i64 = 300_000;
const HEARTBEAT: Duration = Duration::from_secs(5);

struct Sub {
    kinesis: Arc<Kinesis>,
    key: String,
    shard: String,
    after: u128,
    started_ms: i64,
    sent_initial: bool,
    sent_first: bool,
    done: bool,
}

impl Sub {
    /// The next event if there is one to send now: `(bytes, last)`.
    fn poll_event(&mut self) -> Option<(Bytes, bool)> {
        let now = clock::now_millis();
        let st = self.kinesis.state.lock();
        let Some(s) = st.by_key.get(&self.key) else {
            // The stream was deleted: the subscription ends.
            return Some((Bytes::new(), true));
        };
        let shard = s.shard(&self.shard)?;
        let start = shard.first_after(self.after);
        let records: Vec<Value> = shard
            .records
            .iter()
            .skip(start)
            .take(10_000)
            .map(|r| record_json(r, s.key_id.is_some()))
            .collect();
        if records.is_empty() && self.sent_first {
            return None;
        }
        if let Some(last) = shard
            .records
            .iter()
            .skip(start)
            .nth(records.len().saturating_sub(1))
            && !records.is_empty()
        {
            self.after = last.seq;
        }
        let next = shard.records.get(start + records.len());
        let finished = !shard.is_open() && next.is_none();
        let mut ev = json!({
            "Records": records,
            "ContinuationSequenceNumber": keys::sequence_number(self.after),
            "MillisBehindLatest": next.map_or(0, |r| (now - r.arrival_ms).max(0)),
        });
        if finished {
            ev["ChildShards"] = json!(child_shards(s, shard.index));
        }
        self.sent_first = true;
        Some((
            eventstream::event("SubscribeToShardEvent", ev.to_string().as_bytes()),
            finished,
        ))
    }

    /// An empty event, sent when nothing arrived for a while.
    fn heartbeat(&self) -> Bytes {
        let ev = json!({
            "Records": [],
            "ContinuationSequenceNumber": keys::sequence_number(self.after),
            "MillisBehindLatest": 0,
        });
        eventstream::event("SubscribeToShardEvent", ev.to_string().as_bytes())
    }

    async fn next(
        mut self,
    ) -> Option<(std::result::Result<Bytes, aloft_core::body::BoxError>, Self)> {
        if self.done {
            return None;
        }
        if !self.sent_initial {
            self.sent_initial = true;
            return Some((Ok(eventstream::event("initial-response", b"{}")), self));
        }
        let waited = tokio::time::Instant::now();
        loop {
            if clock::now_millis() - self.started_ms >= SUBSCRIPTION_MS {
                return None;
            }
            if let Some((bytes, last)) = self.poll_event() {
                self.done = last;
                if bytes.is_empty() {
                    return None;
                }
                return Some((Ok(bytes), self));
            }
            if waited.elapsed() >= HEARTBEAT {
                let beat = self.heartbeat();
                return Some((Ok(beat), self));
            }
            let mut tick = clock::changed();
            tokio::select! {
                () = tokio::time::sleep(Duration::from_millis(100)) => {}
                _ = tick.changed() => {}
            }
        }
    }
}

impl Kinesis {
    pub(crate) fn subscribe_to_shard(
        self: &Arc<Self>,
        input: &Value,
        rid: &str,
    ) -> Result<Response> {
        let consumer = input
            .get("ConsumerARN")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let shard_id = input
            .get("ShardId")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let kind = input
            .pointer("/StartingPosition/Type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let seq = input
            .pointer("/StartingPosition/SequenceNumber")
            .and_then(Value::as_str);
        let ts = input
            .pointer("/StartingPosition/Timestamp")
            .and_then(timestamp_ms);
        let (acct, region, name) = parse_stream_arn(consumer).ok_or_else(|| {
            KinesisError::invalid(format!(
                "ConsumerARN {consumer} is not a valid consumer ARN."
            ))
        })?;
        let key = scoped(&acct, &region, &name);
        let after = {
            let st = self.state.lock();
            let s = st
                .by_key
                .get(&key)
                .ok_or_else(|| KinesisError::stream_not_found(&name, &acct))?;
            if !s.consumers.iter().any(|c| c.arn == consumer) {
                return Err(KinesisError::not_found(format!(
                    "Consumer {consumer} under account {acct} not found."
                )));
            }
            s.shard(&shard_id)
                .ok_or_else(|| shard_not_found(s, &shard_id))?;
            position(s, &shard_id, kind, seq, ts)?
        };
        let sub = Sub {
            kinesis: self.clone(),
            key,
            shard: shard_id,
            after,
            started_ms: clock::now_millis(),
            sent_initial: false,
            sent_first: false,
            done: false,
        };
        let body = aloft_core::body::stream(futures_util::stream::unfold(sub, Sub::next));
        Ok(http::Response::builder()
            .status(200)
            .header("content-type", "application/vnd.amazon.eventstream")
            .header("x-amzn-requestid", rid)
            .body(body)
            .unwrap_or_else(|_| http::Response::new(aloft_core::body::empty())))
    }
}
