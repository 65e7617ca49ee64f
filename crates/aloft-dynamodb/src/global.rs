//! Global tables (version 2019.11.21) inside one Aloft: every write to a table that has
//! replicas is queued, with the change and under the table's lock, for the same table in the other regions, and applied
//! there by one background worker. Conflicts resolve as on AWS, last writer wins: each write
//! carries a sequence number from the one counter, and a replica skips a replicated write
//! older than the last write it holds for that key.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use aloft_store::Batch;
use tokio::sync::{Notify, mpsc};

use crate::domain::value::Item;
use crate::state::{Actor, Db};

/// One write to pass on to the other replicas.
pub struct Replicated {
    pub account: String,
    pub name: String,
    pub key: Vec<u8>,
    pub item: Option<Item>,
    pub seq: u64,
    pub regions: Vec<String>,
}

/// The queue between writers and the replication worker.
pub struct Replication {
    tx: mpsc::UnboundedSender<Replicated>,
    rx: std::sync::Mutex<Option<mpsc::UnboundedReceiver<Replicated>>>,
    pending: AtomicU64,
    idle: Notify,
}

impl Default for Replication {
    fn default() -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        Replication {
            tx,
            rx: std::sync::Mutex::new(Some(rx)),
            pending: AtomicU64::new(0),
            idle: Notify::new(),
        }
    }
}

impl Replication {
    pub fn send(&self, r: Replicated) {
        self.pending.fetch_add(1, Ordering::SeqCst);
        if self.tx.send(r).is_err() {
            self.done();
        }
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
    tokio::spawn(async move {
        while let Some(r) = rx.recv().await {
            for region in &r.regions {
                apply(&db, &r, region).await;
            }
            db.replication.done();
        }
    });
}

async fn apply(db: &Db, r: &Replicated, region: &str) {
    let Some(table) = db.get(&r.account, region, &r.name) else {
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
