//! Log groups, streams and events: the operations on them.

use std::collections::BTreeMap;

use aloft_core::AwsError;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::filter;

pub const RETENTION_DAYS: &[i64] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Event {
    pub timestamp: i64,
    pub ingestion: i64,
    pub message: String,
    pub id: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Stream {
    pub name: String,
    pub created: i64,
    /// Journaled one record per event (`logs/events`), never inside the group record.
    #[serde(skip)]
    pub events: Vec<Event>,
    pub last_ingestion: Option<i64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Group {
    pub account: String,
    pub region: String,
    pub name: String,
    pub created: i64,
    pub retention: Option<i64>,
    pub kms_key_id: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub streams: BTreeMap<String, Stream>,
    pub next_id: u64,
}

pub fn err(code: &'static str, msg: impl Into<String>) -> AwsError {
    AwsError::new(code, 400, msg)
}

pub fn group_missing() -> AwsError {
    err(
        "ResourceNotFoundException",
        "The specified log group does not exist.",
    )
}

pub fn stream_missing() -> AwsError {
    err(
        "ResourceNotFoundException",
        "The specified log stream does not exist.",
    )
}

pub fn invalid(msg: impl Into<String>) -> AwsError {
    err("InvalidParameterException", msg)
}

pub fn check_group_name(name: &str) -> Result<(), AwsError> {
    let ok = !name.is_empty()
        && name.len() <= 512
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-/.#".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(invalid(format!(
            "1 validation error detected: Value '{name}' at 'logGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+"
        )))
    }
}

pub fn check_stream_name(name: &str) -> Result<(), AwsError> {
    if name.is_empty() || name.len() > 512 || name.contains(':') || name.contains('*') {
        return Err(invalid(format!(
            "1 validation error detected: Value '{name}' at 'logStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:*]*"
        )));
    }
    Ok(())
}

impl Group {
    pub fn arn(&self) -> String {
        aloft_core::arn::build(
            "logs",
            &self.region,
            &self.account,
            &format!("log-group:{}", self.name),
        )
    }

    pub fn describe(&self) -> Value {
        let stored: usize = self
            .streams
            .values()
            .flat_map(|s| s.events.iter())
            .map(|e| e.message.len())
            .sum();
        let mut v = json!({
            "logGroupName": self.name,
            "creationTime": self.created,
            "metricFilterCount": 0,
            "arn": format!("{}:*", self.arn()),
            "logGroupArn": self.arn(),
            "storedBytes": stored,
            "logGroupClass": "STANDARD",
        });
        if let Some(r) = self.retention {
            v["retentionInDays"] = json!(r);
        }
        if let Some(k) = &self.kms_key_id {
            v["kmsKeyId"] = json!(k);
        }
        v
    }

    pub fn describe_stream(&self, s: &Stream) -> Value {
        let mut v = json!({
            "logStreamName": s.name,
            "creationTime": s.created,
            "arn": format!("{}:log-stream:{}", self.arn(), s.name),
            "storedBytes": 0,
        });
        if let (Some(f), Some(l)) = (
            s.events.iter().map(|e| e.timestamp).min(),
            s.events.iter().map(|e| e.timestamp).max(),
        ) {
            v["firstEventTimestamp"] = json!(f);
            v["lastEventTimestamp"] = json!(l);
        }
        if let Some(t) = s.last_ingestion {
            v["lastIngestionTime"] = json!(t);
            v["uploadSequenceToken"] = json!(format!("{:056}", s.events.len()));
        }
        v
    }

    /// Events older than the retention period are gone.
    pub fn cutoff(&self, now: i64) -> i64 {
        self.retention.map_or(i64::MIN, |d| now - d * 86_400_000)
    }

    /// Appends events to a stream; returns the `rejectedLogEventsInfo` AWS would report.
    pub fn put_events(
        &mut self,
        stream: &str,
        events: &[(i64, String)],
        now: i64,
    ) -> Result<Option<Value>, AwsError> {
        if events.windows(2).any(|w| w[1].0 < w[0].0) {
            return Err(invalid(
                "Log events in a single PutLogEvents request must be in chronological order.",
            ));
        }
        let cutoff = self.cutoff(now);
        let mut too_old = None;
        let mut too_new = None;
        let mut expired = None;
        let mut id = self.next_id;
        let s = self.streams.get_mut(stream).ok_or_else(stream_missing)?;
        for (i, (ts, msg)) in events.iter().enumerate() {
            if *ts < now - 14 * 86_400_000 {
                too_old = Some(i);
                continue;
            }
            if *ts < cutoff {
                expired = Some(i);
                continue;
            }
            if *ts > now + 2 * 3_600_000 {
                too_new.get_or_insert(i);
                continue;
            }
            id += 1;
            s.events.push(Event {
                timestamp: *ts,
                ingestion: now,
                message: msg.clone(),
                id,
            });
        }
        // Keep each stream in time order (puts may arrive out of order between calls).
        if s.events.windows(2).any(|w| w[1].timestamp < w[0].timestamp) {
            s.events.sort_by_key(|e| (e.timestamp, e.id));
        }
        s.last_ingestion = Some(now);
        self.next_id = id;
        if too_old.is_none() && too_new.is_none() && expired.is_none() {
            return Ok(None);
        }
        let mut info = serde_json::Map::new();
        if let Some(i) = too_old {
            info.insert("tooOldLogEventEndIndex".into(), json!(i));
        }
        if let Some(i) = too_new {
            info.insert("tooNewLogEventStartIndex".into(), json!(i));
        }
        if let Some(i) = expired {
            info.insert("expiredLogEventEndIndex".into(), json!(i));
        }
        Ok(Some(Value::Object(info)))
    }
}

/// `f/…` and `b/…` tokens as AWS shapes them (56 digits), carrying an index.
pub fn token(dir: char, idx: usize) -> String {
    format!("{dir}/{idx:056}")
}

pub fn parse_token(t: &str) -> Option<(char, usize)> {
    let (d, n) = t.split_once('/')?;
    let d = d.chars().next()?;
    Some((d, n.parse().ok()?))
}

/// GetLogEvents over one stream.
pub fn get_events(g: &Group, s: &Stream, input: &Value, now: i64) -> Result<Value, AwsError> {
    let start = input
        .get("startTime")
        .and_then(Value::as_i64)
        .unwrap_or(i64::MIN);
    let end = input
        .get("endTime")
        .and_then(Value::as_i64)
        .unwrap_or(i64::MAX);
    let limit = input
        .get("limit")
        .and_then(Value::as_u64)
        .unwrap_or(10_000)
        .clamp(1, 10_000) as usize;
    let head = input
        .get("startFromHead")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let cutoff = g.cutoff(now);
    let evs: Vec<&Event> = s
        .events
        .iter()
        .filter(|e| e.timestamp >= start && e.timestamp < end && e.timestamp >= cutoff)
        .collect();
    let n = evs.len();
    let (from, to) = match input.get("nextToken").and_then(Value::as_str) {
        Some(t) => match parse_token(t) {
            Some(('f', i)) => (i.min(n), (i + limit).min(n)),
            Some(('b', i)) => (i.min(n).saturating_sub(limit), i.min(n)),
            _ => return Err(invalid("The specified nextToken is invalid.")),
        },
        None if head => (0, limit.min(n)),
        None => (n.saturating_sub(limit), n),
    };
    let events: Vec<Value> = evs[from..to]
        .iter()
        .map(|e| json!({"timestamp": e.timestamp, "message": e.message, "ingestionTime": e.ingestion}))
        .collect();
    Ok(json!({
        "events": events,
        "nextForwardToken": token('f', to),
        "nextBackwardToken": token('b', from),
    }))
}

/// FilterLogEvents across a group's streams, in time order.
pub fn filter_events(g: &Group, input: &Value, now: i64) -> Result<Value, AwsError> {
    let pattern = filter::parse(
        input
            .get("filterPattern")
            .and_then(Value::as_str)
            .unwrap_or(""),
    )
    .map_err(invalid)?;
    let names: Option<Vec<&str>> = input
        .get("logStreamNames")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect());
    let prefix = input.get("logStreamNamePrefix").and_then(Value::as_str);
    if names.is_some() && prefix.is_some() {
        return Err(invalid(
            "You cannot specify both logStreamNames and logStreamNamePrefix.",
        ));
    }
    let start = input
        .get("startTime")
        .and_then(Value::as_i64)
        .unwrap_or(i64::MIN);
    let end = input
        .get("endTime")
        .and_then(Value::as_i64)
        .unwrap_or(i64::MAX);
    let limit = input
        .get("limit")
        .and_then(Value::as_u64)
        .unwrap_or(10_000)
        .clamp(1, 10_000) as usize;
    let skip = input
        .get("nextToken")
        .and_then(Value::as_str)
        .and_then(parse_token)
        .map_or(0, |(_, i)| i);
    let cutoff = g.cutoff(now);
    let mut all: Vec<(&str, &Event)> = g
        .streams
        .values()
        .filter(|s| names.as_ref().is_none_or(|n| n.contains(&s.name.as_str())))
        .filter(|s| prefix.is_none_or(|p| s.name.starts_with(p)))
        .flat_map(|s| s.events.iter().map(move |e| (s.name.as_str(), e)))
        .filter(|(_, e)| e.timestamp >= start && e.timestamp <= end && e.timestamp >= cutoff)
        .filter(|(_, e)| pattern.matches(&e.message))
        .collect();
    all.sort_by_key(|(_, e)| (e.timestamp, e.id));
    let total = all.len();
    let events: Vec<Value> = all
        .into_iter()
        .skip(skip)
        .take(limit)
        .map(|(s, e)| {
            json!({
                "logStreamName": s,
                "timestamp": e.timestamp,
                "message": e.message,
                "ingestionTime": e.ingestion,
                "eventId": format!("{:056}", e.id),
            })
        })
        .collect();
    let mut out = json!({"events": events, "searchedLogStreams": []});
    if skip + limit < total {
        out["nextToken"] = json!(token('n', skip + limit));
    }
    Ok(out)
}
