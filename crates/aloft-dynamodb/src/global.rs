//! Global tables (version 2019.11.21) inside one Aloft: every write to a table that has
//! replicas is queued, with the change and under the table's lock, for the same table in the other regions, and applied
//! there by one background worker. Conflicts resolve as on AWS, last writer wins: each write
//! carries a sequence number from the one counter, and a replica skips a replicated write
//! older than the last write it holds for that key.
//!
//! Tables with multi-Region strong consistency (MRSC) use the same queue, but the request
//! that wrote does not answer until its writes are applied everywhere ([`Replication::settle`],
//! awaited by the service's `serve`): a strongly consistent read in any replica then sees it.
//! While such a write is on its way, a write to the same item in another region is refused
//! with ReplicatedWriteConflictException, as AWS refuses it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use aloft_store::Batch;
use tokio::sync::{Notify, mpsc, watch};

use crate::domain::value::Item;
use crate::state::{Actor, Db};

/// One write to pass on to the other replicas.
pub struct Replicated {
    pub account: String,
    pub name: String,
    pub key: Vec<u8>,
    pub item: Option<Item>,
    pub seq: u64,
    /// The region written; the others follow, each in its account.
    pub origin: String,
    pub targets: Vec<(String, String)>,
    /// From an MRSC table: the writer waits for it (its ticket, given by `send`).
    pub strong: bool,
    pub ticket: u64,
}

/// The queue between writers and the replication worker.
pub struct Replication {
    tx: mpsc::UnboundedSender<Replicated>,
    rx: std::sync::Mutex<Option<mpsc::UnboundedReceiver<Replicated>>>,
    pending: AtomicU64,
    idle: Notify,
    /// MRSC writes queued and applied, counted in queue order (tickets).
    strong_sent: AtomicU64,
    strong_applied: AtomicU64,
    /// Orders ticket and queue position; taken by MRSC writes only.
    order: Mutex<()>,
    progress: Notify,
    /// MRSC items on their way: (`account/name`, key) → (region written, writes queued).
    in_transit: Mutex<HashMap<TransitKey, (String, u32)>>,
    /// Holds the worker (`/_aloft/dynamodb/replication/pause`): tests observe a write in transit.
    paused: watch::Sender<bool>,
}

impl Default for Replication {
    fn default() -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        Replication {
            tx,
            rx: std::sync::Mutex::new(Some(rx)),
            pending: AtomicU64::new(0),
            idle: Notify::new(),
            strong_sent: AtomicU64::new(0),
            strong_applied: AtomicU64::new(0),
            order: Mutex::new(()),
            progress: Notify::new(),
            in_transit: Mutex::new(HashMap::new()),
            paused: watch::Sender::new(false),
        }
    }
}

/// (`account/name`, item key).
type TransitKey = (String, Vec<u8>);

fn transit_key(account: &str, name: &str, key: &[u8]) -> TransitKey {
    (format!("{account}/{name}"), key.to_vec())
}

impl Replication {
    pub fn send(&self, mut r: Replicated) {
        self.pending.fetch_add(1, Ordering::SeqCst);
        if r.strong {
            let _order = self.order.lock().expect("replication order");
            {
                let mut t = self.in_transit.lock().expect("in transit");
                let e = t
                    .entry(transit_key(&r.account, &r.name, &r.key))
                    .or_insert_with(|| (r.origin.clone(), 0));
                e.0.clone_from(&r.origin);
                e.1 += 1;
            }
            r.ticket = self.strong_sent.load(Ordering::SeqCst) + 1;
            self.strong_sent.store(r.ticket, Ordering::SeqCst);
            if let Err(e) = self.tx.send(r) {
                self.strong_done(&e.0);
                self.done();
            }
            return;
        }
        if self.tx.send(r).is_err() {
            self.done();
        }
    }

    fn strong_done(&self, r: &Replicated) {
        {
            let mut t = self.in_transit.lock().expect("in transit");
            let k = transit_key(&r.account, &r.name, &r.key);
            if let Some(e) = t.get_mut(&k) {
                e.1 -= 1;
                if e.1 == 0 {
                    t.remove(&k);
                }
            }
        }
        self.strong_applied.fetch_max(r.ticket, Ordering::SeqCst);
        self.progress.notify_waiters();
    }

    /// Where MRSC writes stand, read before a request runs (one atomic load).
    pub fn mark(&self) -> u64 {
        self.strong_sent.load(Ordering::Acquire)
    }

    /// Whether MRSC writes were queued since `mark` (by this request or a concurrent one).
    pub fn moved(&self, mark: u64) -> bool {
        self.strong_sent.load(Ordering::Acquire) != mark
    }

    /// Waits until every MRSC write queued so far is applied in every replica.
    pub async fn settle(&self) {
        let target = self.strong_sent.load(Ordering::SeqCst);
        loop {
            let progress = self.progress.notified();
            if self.strong_applied.load(Ordering::SeqCst) >= target {
                return;
            }
            progress.await;
        }
    }

    /// Whether an MRSC write to this item, made in another region, is still on its way.
    pub fn conflicts(&self, account: &str, region: &str, name: &str, key: &[u8]) -> bool {
        if self.strong_applied.load(Ordering::Acquire) >= self.strong_sent.load(Ordering::Acquire) {
            return false;
        }
        self.in_transit
            .lock()
            .expect("in transit")
            .get(&transit_key(account, name, key))
            .is_some_and(|(origin, _)| origin != region)
    }

    /// Whether any MRSC write is on its way (the fast path leaves those to the generic one).
    pub fn strong_busy(&self) -> bool {
        self.strong_applied.load(Ordering::Acquire) < self.strong_sent.load(Ordering::Acquire)
    }

    pub fn pause(&self, paused: bool) {
        self.paused.send_replace(paused);
    }

    /// MRSC writes queued and not yet applied.
    pub fn in_transit(&self) -> u64 {
        self.strong_sent.load(Ordering::SeqCst) - self.strong_applied.load(Ordering::SeqCst)
    }

    fn done(&self) {
        if self.pending.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.idle.notify_waiters();
        }
    }

    /// Waits until every queued write has been applied (tests, `/_aloft/dynamodb/replication/flush`).
    pub async fn flush(&self) {
        loop {
            let idle = self.idle.notified();
            if self.pending.load(Ordering::SeqCst) == 0 {
                return;
            }
            idle.await;
        }
    }
}

/// Starts the worker that applies replicated writes (once per service).
pub fn spawn_worker(db: Arc<Db>) {
    let Some(mut rx) = db.replication.rx.lock().expect("replication lock").take() else {
        return;
    };
    let mut paused = db.replication.paused.subscribe();
    tokio::spawn(async move {
        while let Some(r) = rx.recv().await {
            let _ = paused.wait_for(|p| !*p).await;
            for (account, region) in &r.targets {
                apply(&db, &r, account, region).await;
            }
            if r.strong {
                db.replication.strong_done(&r);
            }
            db.replication.done();
        }
    });
}

async fn apply(db: &Db, r: &Replicated, account: &str, region: &str) {
    let Some(table) = db.get(account, region, &r.name) else {
        return;
    };
    let mut batch = Batch::new();
    {
        let mut data = table.data.write().expect("table lock");
        if data.deleted || data.lww.get(&r.key).is_some_and(|s| *s > r.seq) {
            return;
        }
        let new = r.item.as_ref().cloned();
        if new.is_none() && !data.items.contains_key(&r.key[..]) {
            data.lww.insert(r.key.clone(), r.seq);
            return;
        }
        data.write(db, r.key.clone(), new, Actor::Replication, &mut batch);
        data.lww.insert(r.key.clone(), r.seq);
    }
    if !batch.is_empty()
        && let Err(e) = db.store.submit(batch).await
    {
        tracing::error!("dynamodb replication to {region}: {e}");
    }
}
