//! Kinesis Data Streams destinations of a table: their states (kept in the table's
//! definition), the change records AWS writes to the stream, and the worker that delivers them
//! through the bus. A write only builds its record and queues it (journaled with the write
//! under `--data-dir`, so a crash delivers it after the restart, a duplicate being possible
//! then as on AWS); the delivery is not in the write's path.
//!
//! What AWS does, as probed against it (and pinned by `tests/test_dynamodb_kinesis.py`):
//! Enable answers ENABLING for any well-formed ARN and fails later (ENABLE_FAILED with a
//! description), a table has at most one destination that is not DISABLED or ENABLE_FAILED,
//! DISABLED and ENABLE_FAILED entries stay listed and a re-Enable of the same stream flips its
//! entry, the precision is absent until set (absent means MILLISECOND), and a destination
//! whose stream was deleted stays ACTIVE (its records are lost).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use aloft_core::clock;
use aloft_events::{Delivery, Targets};
use aloft_store::{Batch, Store};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json, json};
use tokio::sync::mpsc;

use crate::domain::value::{Item, item_size, item_to_json};
use crate::state::{Actor, Db};
use crate::tables::TableMeta;

/// Records not yet delivered (durable stores only), by table item prefix and sequence.
pub const NS_KINESIS: &str = "dynamodb/kinesis";

/// How long ENABLING, UPDATING and DISABLING last on Aloft's clock (AWS: 2-7 s, about two
/// minutes, 1-2 s): long enough to be seen, short enough not to slow anyone down.
pub const TRANSITION_MS: i64 = 1000;

/// What AWS describes a missing stream (or an ARN that is no stream) with.
pub const NO_PERMISSION: &str = "User does not have a permission to use kinesis stream";
const OTHER_REGION: &str = "The kinesis Arn used to enable kinesis replication belongs to a stream which is not in the current region";
/// AWS's description for a stream of another account, or a Firehose ARN.
const NOT_ACTIVE: &str = "The kinesis Arn used to enable kinesis replication belongs to a stream which is not in Active state";

/// Delivery attempts for one record before it is given up (a stream that does not exist is
/// given up at once).
const ATTEMPTS: u32 = 8;

/// The transition a destination last went through; where it ends depends on the clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Phase {
    Enabling,
    Updating,
    Disabling,
}

/// A destination's `DestinationStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Enabling,
    Active,
    Updating,
    Disabling,
    Disabled,
    EnableFailed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Enabling => "ENABLING",
            Status::Active => "ACTIVE",
            Status::Updating => "UPDATING",
            Status::Disabling => "DISABLING",
            Status::Disabled => "DISABLED",
            Status::EnableFailed => "ENABLE_FAILED",
        }
    }
}

/// One destination as the table's definition keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Destination {
    pub stream_arn: String,
    pub phase: Phase,
    /// When the phase began (epoch ms on the one clock).
    pub since_ms: i64,
    /// As given: absent until Enable or Update sets it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precision: Option<String>,
    /// Why enabling fails: ENABLING ends as ENABLE_FAILED with this description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
}

impl Destination {
    pub fn status(&self, now: i64) -> Status {
        let settling = now - self.since_ms < TRANSITION_MS;
        match (self.phase, settling) {
            (Phase::Enabling, true) => Status::Enabling,
            (Phase::Enabling, false) if self.failure.is_some() => Status::EnableFailed,
            (Phase::Enabling | Phase::Updating, false) => Status::Active,
            (Phase::Updating, true) => Status::Updating,
            (Phase::Disabling, true) => Status::Disabling,
            (Phase::Disabling, false) => Status::Disabled,
        }
    }

    /// Not DISABLED or ENABLE_FAILED: a table has at most one such destination.
    pub fn live(&self, now: i64) -> bool {
        !matches!(self.status(now), Status::Disabled | Status::EnableFailed)
    }

    /// Whether a change made now is written to the stream: from Enable (when it will
    /// succeed) until Disable.
    pub fn delivers(&self, now: i64) -> bool {
        match self.status(now) {
            Status::Active | Status::Updating => true,
            Status::Enabling => self.failure.is_none(),
            _ => false,
        }
    }

    /// The `KinesisDataStreamDestination` shape.
    pub fn describe(&self, now: i64) -> Json {
        let status = self.status(now);
        let mut out = json!({"StreamArn": self.stream_arn, "DestinationStatus": status.as_str()});
        if status == Status::EnableFailed
            && let Some(f) = &self.failure
        {
            out["DestinationStatusDescription"] = json!(f);
        }
        if let Some(p) = &self.precision {
            out["ApproximateCreationDateTimePrecision"] = json!(p);
        }
        out
    }
}

/// Why enabling `arn` on `meta` will fail, as AWS's `DestinationStatusDescription`; `None`
/// when the stream exists (or when no service can tell, as before Kinesis is wired).
pub async fn check_stream(
    targets: Option<&Arc<Targets>>,
    meta: &TableMeta,
    arn: &str,
) -> Option<String> {
    let fail = |s: &str| Some(s.to_string());
    let Some(a) = aloft_core::arn::parse(arn) else {
        return fail(NO_PERMISSION);
    };
    match a.service {
        "kinesis" => {}
        "firehose" => return fail(NOT_ACTIVE),
        _ => return fail(NO_PERMISSION),
    }
    // A consumer ARN (`stream/s/consumer/c:1`) names no stream.
    match a.resource.strip_prefix("stream/") {
        Some(name) if !name.is_empty() && !name.contains('/') => {}
        _ => return fail(NO_PERMISSION),
    }
    if a.region != meta.region {
        return fail(OTHER_REGION);
    }
    if a.account != meta.account {
        return fail(NOT_ACTIVE);
    }
    let source = targets?.source_for(arn).ok()?;
    // Reading from the tip returns nothing and changes nothing: it only asks whether the
    // stream is there.
    let mut options = Map::new();
    options.insert("StartingPosition".into(), json!("LATEST"));
    match source.read(arn, None, 1, &options).await {
        Err(e) if e.code == "ResourceNotFoundException" => fail(NO_PERMISSION),
        _ => None,
    }
}

/// One item-level change, as the write path sees it.
pub struct Change<'a> {
    pub meta: &'a TableMeta,
    pub old: Option<&'a Item>,
    pub new: Option<&'a Item>,
    pub actor: Actor,
    pub at_ms: i64,
}

/// The record's partition key: 32 upper-case hex digits, as AWS's records carry, derived
/// from the item's key so that one item's records share a shard and keep their order.
pub fn partition_key(key: &[u8]) -> String {
    use md5::Digest;
    md5::Md5::digest(key)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect()
}

/// The record AWS writes to the stream, in its member order. Unlike a DynamoDB Streams
/// record it has no sequence number or view type (both images are always there), the
/// timestamp is in milliseconds (microseconds with that precision) and it names the table.
pub fn render(c: &Change<'_>, precision: Option<&str>) -> Vec<u8> {
    let keys = c
        .meta
        .schema
        .extract(c.new.or(c.old).unwrap_or(&Item::new()));
    let event = match (c.old, c.new) {
        (None, Some(_)) => "INSERT",
        (Some(_), Some(_)) => "MODIFY",
        _ => "REMOVE",
    };
    let at = if precision == Some("MICROSECOND") {
        c.at_ms * 1000
    } else {
        c.at_ms
    };
    let mut ddb = Map::new();
    ddb.insert("ApproximateCreationDateTime".into(), json!(at));
    ddb.insert("Keys".into(), item_to_json(&keys));
    let mut size = item_size(&keys);
    if let Some(n) = c.new {
        ddb.insert("NewImage".into(), item_to_json(n));
        size += item_size(n);
    }
    if let Some(o) = c.old {
        ddb.insert("OldImage".into(), item_to_json(o));
        size += item_size(o);
    }
    ddb.insert("SizeBytes".into(), json!(size));
    if let Some(p) = precision {
        ddb.insert("ApproximateCreationDateTimePrecision".into(), json!(p));
    }
    // TTL deletions are the service's; users' changes carry a null identity.
    let identity = match c.actor {
        Actor::TtlService => json!({"type": "Service", "principalId": "dynamodb.amazonaws.com"}),
        _ => Json::Null,
    };
    let record = json!({
        "awsRegion": c.meta.region,
        "eventID": aloft_core::ids::uuid(),
        "eventName": event,
        "userIdentity": identity,
        "recordFormat": "application/json",
        "tableName": c.meta.name,
        "dynamodb": ddb,
        "eventSource": "aws:dynamodb",
    });
    serde_json::to_vec(&record).unwrap_or_default()
}

/// A record waiting for delivery to one destination; with a durable store it is journaled
/// with the write that made it, and forgotten once delivered (or given up).
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    /// Its key in [`NS_KINESIS`]: the table's item prefix and a sequence number.
    pub journal: Option<Vec<u8>>,
    pub stream_arn: String,
    pub partition_key: String,
    pub payload: Bytes,
    pub table_arn: String,
    pub account: String,
    pub region: String,
}

impl Pending {
    fn to_journal(&self) -> Vec<u8> {
        json!({"a": self.stream_arn, "k": self.partition_key, "t": self.table_arn,
            "c": self.account, "r": self.region,
            "d": String::from_utf8_lossy(&self.payload)})
        .to_string()
        .into_bytes()
    }

    fn from_journal(key: Vec<u8>, value: &[u8]) -> Option<Self> {
        let v: Json = serde_json::from_slice(value).ok()?;
        let s = |k: &str| v.get(k).and_then(Json::as_str).map(str::to_string);
        Some(Pending {
            journal: Some(key),
            stream_arn: s("a")?,
            partition_key: s("k")?,
            payload: Bytes::from(s("d")?),
            table_arn: s("t")?,
            account: s("c")?,
            region: s("r")?,
        })
    }
}

/// Counts for `/_aloft/dynamodb/stats`.
#[derive(Default)]
pub struct Counters {
    pub delivered: AtomicU64,
    pub dropped: AtomicU64,
}

/// The queue from the write path to the delivery worker, in write order.
pub struct Outbox {
    tx: mpsc::UnboundedSender<Pending>,
    rx: Mutex<Option<mpsc::UnboundedReceiver<Pending>>>,
    targets: OnceLock<Arc<Targets>>,
    pub counters: Arc<Counters>,
}

impl Default for Outbox {
    fn default() -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        Outbox {
            tx,
            rx: Mutex::new(Some(rx)),
            targets: OnceLock::new(),
            counters: Arc::default(),
        }
    }
}

impl Outbox {
    /// The bus, once the worker runs.
    pub fn targets(&self) -> Option<&Arc<Targets>> {
        self.targets.get()
    }

    /// Queues the change's record for every destination delivering now (none: nothing
    /// happens), journaling it in `batch` when the store is durable. Called under the table's
    /// lock, so one table's records are queued in the order its changes were made.
    #[allow(clippy::too_many_arguments)]
    pub fn capture(
        &self,
        db: &Db,
        meta: &TableMeta,
        key: &[u8],
        old: Option<&Item>,
        new: Option<&Item>,
        actor: Actor,
        batch: &mut Batch,
    ) {
        let at_ms = clock::now_millis();
        let mut to = meta.kinesis.iter().filter(|d| d.delivers(at_ms)).peekable();
        if to.peek().is_none() {
            return;
        }
        let change = Change {
            meta,
            old,
            new,
            actor,
            at_ms,
        };
        let partition_key = partition_key(key);
        for d in to {
            let journal = db.durable.then(|| {
                let mut k = crate::state::item_prefix(meta);
                k.extend_from_slice(&db.next_seq().to_be_bytes());
                k
            });
            let p = Pending {
                journal,
                stream_arn: d.stream_arn.clone(),
                partition_key: partition_key.clone(),
                payload: Bytes::from(render(&change, d.precision.as_deref())),
                table_arn: meta.arn(),
                account: meta.account.clone(),
                region: meta.region.clone(),
            };
            if let Some(k) = &p.journal {
                batch.put(NS_KINESIS, k.clone(), p.to_journal());
            }
            let _ = self.tx.send(p);
        }
    }

    /// Starts the worker that delivers queued records through `targets` (once): first those
    /// journaled before a restart, then new ones as they come.
    pub fn spawn_worker(&self, targets: Arc<Targets>, store: Arc<dyn Store>) {
        let _ = self.targets.set(targets.clone());
        let Some(mut rx) = self.rx.lock().expect("outbox lock").take() else {
            return;
        };
        let backlog: Vec<Pending> = match store.load(NS_KINESIS, b"") {
            Ok(entries) => entries
                .into_iter()
                .filter_map(|(k, v)| Pending::from_journal(k, &v))
                .collect(),
            Err(e) => {
                tracing::error!("dynamodb: loading undelivered kinesis records failed: {e}");
                Vec::new()
            }
        };
        let counters = self.counters.clone();
        tokio::spawn(async move {
            let mut backlog = backlog.into_iter();
            loop {
                let p = match backlog.next() {
                    Some(p) => p,
                    None => match rx.recv().await {
                        Some(p) => p,
                        None => return,
                    },
                };
                let n = if deliver(&targets, &p).await {
                    &counters.delivered
                } else {
                    &counters.dropped
                };
                n.fetch_add(1, Ordering::Relaxed);
                if let Some(k) = p.journal {
                    let mut b = Batch::new();
                    b.delete(NS_KINESIS, k);
                    drop(store.submit(b));
                }
            }
        });
    }
}

/// Puts one record, retrying what may pass later; the table write stands either way.
async fn deliver(targets: &Targets, p: &Pending) -> bool {
    let arn = &p.stream_arn;
    let mut options = Map::new();
    options.insert("PartitionKey".into(), json!(p.partition_key));
    let mut delay = Duration::from_millis(20);
    for _ in 0..ATTEMPTS {
        let d = Delivery {
            payload: p.payload.clone(),
            options: options.clone(),
            sync: true,
            source_arn: Some(p.table_arn.clone()),
            account: p.account.clone(),
            region: p.region.clone(),
        };
        match targets.deliver(arn, d).await {
            Ok(_) => return true,
            // A deleted stream: AWS keeps the destination ACTIVE and the records are lost.
            Err(e) if e.code == "ResourceNotFoundException" => {
                tracing::warn!("dynamodb: kinesis destination {arn}: {}", e.message);
                return false;
            }
            Err(e) => {
                tracing::debug!(
                    "dynamodb: kinesis destination {arn} (will retry): {}",
                    e.message
                );
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(2));
            }
        }
    }
    tracing::warn!("dynamodb: kinesis destination {arn}: a record was given up");
    false
}

#[cfg(test)]
#[path = "kinesis_tests.rs"]
pub(crate) mod tests;
