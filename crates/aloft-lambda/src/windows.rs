//! Tumbling windows of stream mappings (`TumblingWindowInSeconds`): records are grouped per
//! shard into fixed windows by their arrival time (boundaries are multiples of the window
//! length since the epoch), each invoke gets the window, the `state` the previous invoke of the
//! window returned (an answer without `state` is a failed invoke), and when the window has passed Lambda invokes once more with no records and
//! `isFinalInvokeForWindow: true`. A returned state over 1 MB ends the window early
//! (`isWindowTerminatedEarly`).

use std::collections::BTreeMap;

use aloft_events::SourceRecord;
use serde_json::{Value, json};

/// Lambda's limit on the state carried between the invokes of a window.
const MAX_STATE_BYTES: usize = 1024 * 1024;

/// One shard's open window.
#[derive(Debug, Clone)]
pub struct Window {
    pub shard: String,
    pub start_ms: i64,
    pub end_ms: i64,
    pub state: Value,
    /// Set for the closing invoke.
    pub last: bool,
    /// The returned state outgrew the limit: the window closes now.
    pub early: bool,
}

impl Window {
    pub fn new(shard: &str, start_ms: i64, len_ms: i64) -> Self {
        Self {
            shard: shard.to_string(),
            start_ms,
            end_ms: start_ms + len_ms,
            state: json!({}),
            last: false,
            early: false,
        }
    }

    /// The event of one invoke in this window.
    pub fn event(&self, arn: &str, records: &[SourceRecord]) -> Value {
        json!({
            "Records": records.iter().map(|r| r.record.clone()).collect::<Vec<_>>(),
            "window": {
                "start": seconds(self.start_ms),
                "end": seconds(self.end_ms),
            },
            "state": self.state,
            "shardId": self.shard,
            "eventSourceARN": arn,
            "isFinalInvokeForWindow": self.last,
            "isWindowTerminatedEarly": self.early,
        })
    }

    /// Takes the `state` a successful invoke returned. AWS: "the function response must
    /// include a state property"; without one the invoke counts as failed (false).
    pub fn absorb(&mut self, response: Option<&Value>) -> bool {
        let Some(state) = response
            .and_then(|r| r.get("state"))
            .filter(|s| !s.is_null())
        else {
            return false;
        };
        if state.to_string().len() > MAX_STATE_BYTES {
            self.early = true;
        }
        self.state = state.clone();
        true
    }
}

/// Window bounds are whole seconds, shown as AWS does (`2020-07-30T17:00:00Z`).
fn seconds(ms: i64) -> String {
    aloft_core::clock::iso8601_millis(ms).replace(".000Z", "Z")
}

/// The open windows of a mapping's poller, by shard.
pub type Windows = BTreeMap<String, Window>;

/// The start of the window (of `len_ms`) holding `at_ms`.
pub fn start_of(at_ms: i64, len_ms: i64) -> i64 {
    at_ms - at_ms.rem_euclid(len_ms)
}

/// Splits records (in order) into runs that share a window.
pub fn runs(
    records: Vec<SourceRecord>,
    len_ms: i64,
    arrival: impl Fn(&Value) -> Option<i64>,
) -> Vec<(i64, Vec<SourceRecord>)> {
    let mut out: Vec<(i64, Vec<SourceRecord>)> = Vec::new();
    let now = aloft_core::clock::now_millis();
    for r in records {
        let start = start_of(arrival(&r.record).unwrap_or(now), len_ms);
        match out.last_mut() {
            // A late record (an earlier window than the open run) joins the open run.
            Some((s, run)) if *s >= start => run.push(r),
            _ => out.push((start, vec![r])),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(at: i64) -> SourceRecord {
        SourceRecord {
            record: json!({"at": at}),
            ack: String::new(),
        }
    }

    #[test]
    fn windows_are_aligned_and_runs_split_at_boundaries() {
        assert_eq!(start_of(125_000, 60_000), 120_000);
        assert_eq!(start_of(120_000, 60_000), 120_000);
        let got = runs(
            vec![rec(61_000), rec(119_999), rec(120_000), rec(100_000)],
            60_000,
            |v| v["at"].as_i64(),
        );
        let shape: Vec<(i64, usize)> = got.iter().map(|(s, r)| (*s, r.len())).collect();
        assert_eq!(shape, vec![(60_000, 2), (120_000, 2)]);
    }

    #[test]
    fn state_is_carried_and_oversized_state_ends_the_window() {
        let mut w = Window::new("shardId-000000000000", 0, 60_000);
        assert!(w.absorb(Some(&json!({"state": {"sum": 3}}))));
        assert_eq!(w.state, json!({"sum": 3}));
        let e = w.event("arn:aws:kinesis:us-east-1:000000000000:stream/s", &[]);
        assert_eq!(e["window"]["end"], "1970-01-01T00:01:00Z");
        assert_eq!(e["isFinalInvokeForWindow"], false);
        assert!(!w.absorb(None));
        assert!(!w.absorb(Some(&json!({"batchItemFailures": []}))));
        assert_eq!(w.state, json!({"sum": 3}));
        assert!(!w.early);
        let big = json!({"state": {"big": "x".repeat(MAX_STATE_BYTES)}});
        assert!(w.absorb(Some(&big)));
        assert!(w.early);
    }
}
