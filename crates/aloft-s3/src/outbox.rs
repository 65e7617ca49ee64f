//! The notification outbox: object events waiting for their targets, journaled in the same
//! batch as the object change (`s3/outbox`), delivered by one worker, deleted once the target
//! accepted them, and delivered again after a crash or restart.
//!
//! AWS delivers S3 events at least once and retries targets that are unavailable (a missing
//! queue, a throttled function) with backoff for up to six hours, as it does for asynchronous
//! Lambda invocations; past that the event is dropped. Entries are keyed by a counter taken
//! under the bucket lock, so each target receives one key's events in the order they happened
//! (the `sequencer` field stays monotonic per key): a target that fails holds back its later
//! entries until it accepts the first.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use aloft_events::{Delivery, Targets};
use aloft_store::{Batch, Store, StoreError};
use bytes::Bytes;
use serde::{Deserialize, Serialize};

pub const OUTBOX: &str = "s3/outbox";
const FORMAT: u8 = 1;
/// How long an undeliverable event is retried before it is dropped.
pub const MAX_AGE_MS: i64 = 6 * 3600 * 1000;
const FIRST_BACKOFF_MS: i64 = 1000;
const MAX_BACKOFF_MS: i64 = 300_000;
/// A target that does not answer in this long counts as failed (and is retried).
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(30);

/// One event for one target, as journaled.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Pending {
    pub target: String,
    /// The event document exactly as the target receives it.
    pub payload: String,
    /// `arn:aws:s3:::bucket`.
    pub source: String,
    pub account: String,
    pub region: String,
    /// When the event happened (epoch ms on Aloft's clock): the age limit counts from here.
    pub created: i64,
}

/// An entry's journal key and content.
pub type Entry = (Vec<u8>, Pending);

#[derive(Debug, Clone)]
struct Slot {
    pending: Pending,
    attempts: u32,
    due: i64,
}

/// The in-memory view of `s3/outbox`, in key (= staging) order.
pub struct Outbox {
    slots: Mutex<BTreeMap<Vec<u8>, Slot>>,
    next: AtomicU64,
    wake: tokio::sync::Notify,
}

/// The delay before retry number `attempts` (1-based): 1 s, 2 s, 4 s, ... at most 5 minutes.
pub fn backoff_ms(attempts: u32) -> i64 {
    let shift = attempts.saturating_sub(1).min(20);
    (FIRST_BACKOFF_MS << shift).min(MAX_BACKOFF_MS)
}

fn encode(p: &Pending) -> Vec<u8> {
    let mut out = vec![FORMAT];
    serde_json::to_writer(&mut out, p).expect("an outbox entry serialises");
    out
}

fn decode(raw: &[u8]) -> Option<Pending> {
    match raw.split_first() {
        Some((&FORMAT, rest)) => serde_json::from_slice(rest).ok(),
        _ => None,
    }
}

fn key_of(n: u64) -> Vec<u8> {
    format!("{n:020}").into_bytes()
}

fn number_of(key: &[u8]) -> Option<u64> {
    std::str::from_utf8(key).ok()?.parse().ok()
}

/// What the worker should do with an entry after a failed attempt.
#[derive(Debug, PartialEq, Eq)]
pub enum AfterFailure {
    RetryAt(i64),
    Drop,
}

/// Retries while the event is younger than [`MAX_AGE_MS`], with [`backoff_ms`] between tries.
pub fn after_failure(created: i64, attempts: u32, now: i64) -> AfterFailure {
    let at = now + backoff_ms(attempts);
    if at - created > MAX_AGE_MS {
        AfterFailure::Drop
    } else {
        AfterFailure::RetryAt(at)
    }
}

impl Outbox {
    /// Loads the entries a previous run left undelivered; they are due at once.
    pub fn load(store: &dyn Store) -> Result<Self, StoreError> {
        let now = aloft_core::clock::now_millis();
        let mut slots = BTreeMap::new();
        let mut next = 1;
        for (k, v) in store.load(OUTBOX, b"")? {
            if let Some(n) = number_of(&k) {
                next = next.max(n + 1);
            }
            match decode(&v) {
                Some(pending) => {
                    slots.insert(
                        k,
                        Slot {
                            pending,
                            attempts: 0,
                            due: now,
                        },
                    );
                }
                None => tracing::warn!("s3: skipping an unreadable notification outbox entry"),
            }
        }
        if !slots.is_empty() {
            tracing::info!(
                "s3: {} notifications pending from the last run",
                slots.len()
            );
        }
        Ok(Self::with(slots, next))
    }

    pub fn empty() -> Self {
        Self::with(BTreeMap::new(), 1)
    }

    fn with(slots: BTreeMap<Vec<u8>, Slot>, next: u64) -> Self {
        Self {
            slots: Mutex::new(slots),
            next: AtomicU64::new(next),
            wake: tokio::sync::Notify::new(),
        }
    }

    /// Journals `pending` in `batch` (the object change's own batch); hand the result to
    /// [`Outbox::add`] once the batch is committed. Call under the bucket lock: the key orders
    /// the event after every earlier event of that bucket.
    pub fn stage(&self, batch: &mut Batch, pending: Pending) -> Entry {
        let key = key_of(self.next.fetch_add(1, Ordering::Relaxed));
        batch.put(OUTBOX, key.clone(), encode(&pending));
        (key, pending)
    }

    /// Makes committed entries deliverable now.
    pub fn add(&self, staged: Vec<Entry>) {
        if staged.is_empty() {
            return;
        }
        let now = aloft_core::clock::now_millis();
        if let Ok(mut s) = self.slots.lock() {
            for (key, pending) in staged {
                s.insert(
                    key,
                    Slot {
                        pending,
                        attempts: 0,
                        due: now,
                    },
                );
            }
        }
        self.wake.notify_one();
    }

    /// Forgets every entry (reset; the caller clears the namespace).
    pub fn clear(&self) {
        if let Ok(mut s) = self.slots.lock() {
            s.clear();
        }
    }

    /// The entries still waiting, for `/_aloft/s3/outbox`.
    pub fn view(&self) -> serde_json::Value {
        let s = self.slots.lock().map(|s| s.clone()).unwrap_or_default();
        let list: Vec<serde_json::Value> = s
            .values()
            .map(|slot| {
                serde_json::json!({
                    "target": slot.pending.target,
                    "attempts": slot.attempts,
                    "nextAttempt": slot.due,
                    "created": slot.pending.created,
                })
            })
            .collect();
        serde_json::json!({"pending": list})
    }

    /// Due entries grouped by target, each group in key order, and the earliest later due time.
    fn due(&self, now: i64) -> (Vec<Vec<Entry>>, Option<i64>) {
        let Ok(s) = self.slots.lock() else {
            return (Vec::new(), None);
        };
        let mut groups: HashMap<&str, Vec<Entry>> = HashMap::new();
        let mut order = Vec::new();
        let mut blocked: Vec<&str> = Vec::new();
        let mut later: Option<i64> = None;
        for (k, slot) in s.iter() {
            let t = slot.pending.target.as_str();
            if slot.due > now {
                // A later entry for this target must not overtake this one.
                blocked.push(t);
                later = Some(later.map_or(slot.due, |l| l.min(slot.due)));
                continue;
            }
            if blocked.contains(&t) {
                continue;
            }
            let g = groups.entry(t).or_insert_with(|| {
                order.push(t);
                Vec::new()
            });
            g.push((k.clone(), slot.pending.clone()));
        }
        let out = order.into_iter().filter_map(|t| groups.remove(t)).collect();
        (out, later)
    }

    /// Records a failed attempt at `key`; the target's later entries wait until the same time.
    fn failed(&self, key: &[u8], rest: &[Vec<u8>], now: i64) -> Option<Pending> {
        let mut s = self.slots.lock().ok()?;
        let slot = s.get_mut(key)?;
        slot.attempts += 1;
        match after_failure(slot.pending.created, slot.attempts, now) {
            AfterFailure::RetryAt(at) => {
                slot.due = at;
                for k in rest {
                    if let Some(r) = s.get_mut(k) {
                        r.due = r.due.max(at);
                    }
                }
                None
            }
            AfterFailure::Drop => s.remove(key).map(|slot| slot.pending),
        }
    }

    fn delivered(&self, key: &[u8]) -> bool {
        self.slots
            .lock()
            .map(|mut s| s.remove(key).is_some())
            .unwrap_or(false)
    }
}

/// Delivers due entries (S3 aborts it at shutdown).
pub fn spawn_worker(
    ob: std::sync::Arc<Outbox>,
    store: std::sync::Arc<dyn Store>,
    targets: std::sync::Arc<Targets>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut clock = aloft_core::clock::changed();
        loop {
            let now = aloft_core::clock::now_millis();
            let (groups, later) = ob.due(now);
            if groups.is_empty() {
                let wait = later.map_or(Duration::from_secs(3600), |at| {
                    Duration::from_millis(u64::try_from(at - now).unwrap_or(0).max(1))
                });
                tokio::select! {
                    () = ob.wake.notified() => {}
                    () = tokio::time::sleep(wait) => {}
                    r = clock.changed() => if r.is_err() { tokio::time::sleep(wait).await; },
                }
                continue;
            }
            let mut runs = tokio::task::JoinSet::new();
            for group in groups {
                runs.spawn(deliver_group(
                    ob.clone(),
                    store.clone(),
                    targets.clone(),
                    group,
                ));
            }
            while runs.join_next().await.is_some() {}
        }
    })
}

/// Delivers one target's due entries in order, stopping at the first refusal.
async fn deliver_group(
    ob: std::sync::Arc<Outbox>,
    store: std::sync::Arc<dyn Store>,
    targets: std::sync::Arc<Targets>,
    group: Vec<Entry>,
) {
    let keys: Vec<Vec<u8>> = group.iter().map(|(k, _)| k.clone()).collect();
    for (i, (key, p)) in group.into_iter().enumerate() {
        let d = Delivery {
            payload: Bytes::from(p.payload.clone()),
            options: Default::default(),
            sync: false,
            source_arn: Some(p.source.clone()),
            account: p.account.clone(),
            region: p.region.clone(),
        };
        let outcome = tokio::time::timeout(DELIVERY_TIMEOUT, targets.deliver(&p.target, d)).await;
        let error = match outcome {
            Ok(Ok(_)) => None,
            Ok(Err(e)) => Some(format!("{}: {}", e.code, e.message)),
            Err(_) => Some("the target did not answer in time".to_string()),
        };
        let Some(error) = error else {
            // Journal first: once `/_aloft/s3/outbox` no longer lists it, a restart won't resend it.
            forget(store.as_ref(), &key).await;
            ob.delivered(&key);
            continue;
        };
        let now = aloft_core::clock::now_millis();
        if let Some(dropped) = ob.failed(&key, &keys[i + 1..], now) {
            tracing::warn!(
                "s3 notification to {} dropped after retrying for six hours: {error}",
                dropped.target
            );
            forget(store.as_ref(), &key).await;
        } else {
            tracing::debug!(
                "s3 notification to {} failed, will retry: {error}",
                p.target
            );
        }
        return;
    }
}

async fn forget(store: &dyn Store, key: &[u8]) {
    let mut b = Batch::new();
    b.delete(OUTBOX, key.to_vec());
    if let Err(e) = store.submit(b).await {
        tracing::error!("s3: cannot remove a delivered notification from the outbox: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(target: &str) -> Pending {
        Pending {
            target: target.into(),
            payload: "{}".into(),
            source: "arn:aws:s3:::b".into(),
            account: "000000000000".into(),
            region: "us-east-1".into(),
            created: aloft_core::clock::now_millis(),
        }
    }

    #[test]
    fn backoff_doubles_up_to_five_minutes() {
        assert_eq!(backoff_ms(1), 1000);
        assert_eq!(backoff_ms(2), 2000);
        assert_eq!(backoff_ms(5), 16_000);
        assert_eq!(backoff_ms(10), 300_000);
        assert_eq!(backoff_ms(u32::MAX), 300_000);
    }

    #[test]
    fn events_older_than_six_hours_are_dropped() {
        assert_eq!(after_failure(0, 1, 0), AfterFailure::RetryAt(1000));
        assert_eq!(after_failure(0, 30, MAX_AGE_MS - 1000), AfterFailure::Drop);
        assert_eq!(
            after_failure(0, 30, MAX_AGE_MS - 300_000),
            AfterFailure::RetryAt(MAX_AGE_MS)
        );
    }

    #[test]
    fn entries_round_trip_through_the_journal_and_reload_in_order() {
        let store = aloft_store::Memory::new();
        let ob = Outbox::empty();
        let mut batch = Batch::new();
        let a = ob.stage(&mut batch, pending("arn:aws:sqs:us-east-1:000000000000:q"));
        let b = ob.stage(&mut batch, pending("arn:aws:sqs:us-east-1:000000000000:q"));
        assert!(a.0 < b.0);
        drop(store.submit(batch));
        let back = Outbox::load(&store).unwrap();
        let (groups, later) = back.due(aloft_core::clock::now_millis());
        assert_eq!(later, None);
        assert_eq!(groups.len(), 1);
        assert_eq!(
            groups[0].iter().map(|(k, _)| k.clone()).collect::<Vec<_>>(),
            vec![a.0, b.0]
        );
        // New keys continue after the loaded ones.
        let mut batch = Batch::new();
        let c = back.stage(&mut batch, pending("x"));
        assert_eq!(number_of(&c.0), Some(3));
    }

    #[test]
    fn a_failing_target_holds_back_its_later_events_only() {
        let ob = Outbox::empty();
        let mut batch = Batch::new();
        let q = "arn:aws:sqs:us-east-1:000000000000:q";
        let t = "arn:aws:sns:us-east-1:000000000000:t";
        let staged = vec![
            ob.stage(&mut batch, pending(q)),
            ob.stage(&mut batch, pending(t)),
            ob.stage(&mut batch, pending(q)),
        ];
        let keys: Vec<Vec<u8>> = staged.iter().map(|(k, _)| k.clone()).collect();
        ob.add(staged);
        let now = aloft_core::clock::now_millis();
        let (groups, _) = ob.due(now);
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].len(), 2);
        assert!(ob.failed(&keys[0], &keys[2..], now).is_none());
        let (groups, later) = ob.due(now);
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0][0].1.target, t);
        assert_eq!(later, Some(now + 1000));
        assert!(ob.delivered(&keys[1]));
        let (groups, _) = ob.due(now + 1000);
        assert_eq!(groups[0].len(), 2);
    }
}
