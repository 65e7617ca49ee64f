//! Time to live: a sweeper on the one clock deletes items whose TTL attribute (a Number of
//! epoch seconds) has passed. Like AWS, expired items stay readable until swept, items whose
//! expiry is more than five years in the past are ignored, and each deletion writes a stream
//! record whose `userIdentity` is the DynamoDB service.

use std::sync::Arc;

use aloft_core::clock;
use aloft_store::Batch;

use crate::domain::value::AttrValue;
use crate::state::{Actor, Db, Table};

/// How often (on the one clock) the sweeper looks for expired items.
const SWEEP_EVERY_MS: i64 = 30_000;
const FIVE_YEARS_SECS: f64 = 5.0 * 365.0 * 86400.0;

pub fn spawn_sweeper(db: Arc<Db>, wake: Arc<tokio::sync::Notify>) {
    tokio::spawn(async move {
        loop {
            let deadline = clock::now_millis() + SWEEP_EVERY_MS;
            tokio::select! {
                () = clock::sleep_until_millis(deadline) => {}
                () = wake.notified() => {}
            }
            sweep(&db).await;
            crate::pitr::compact_all(&db).await;
        }
    });
}

fn expired(v: Option<&AttrValue>, now: f64) -> bool {
    match v {
        Some(AttrValue::N(n)) => {
            let at = n.to_f64();
            at <= now && at > now - FIVE_YEARS_SECS
        }
        _ => false,
    }
}

/// Deletes every expired item now; returns how many were deleted.
pub async fn sweep(db: &Db) -> usize {
    let tables: Vec<Arc<Table>> = db
        .tables
        .read()
        .expect("tables lock")
        .values()
        .cloned()
        .collect();
    let now = clock::now_millis() as f64 / 1000.0;
    let mut deleted = 0;
    for t in tables {
        let commit = {
            let mut data = t.data.write().expect("table lock");
            let Some(attr) = data.meta.ttl_attribute.clone() else {
                continue;
            };
            if data.deleted {
                continue;
            }
            let keys: Vec<Vec<u8>> = data
                .items
                .iter()
                .filter(|(_, item)| expired(item.get(&attr), now))
                .map(|(k, _)| k.to_vec())
                .collect();
            if keys.is_empty() {
                continue;
            }
            let mut batch = Batch::new();
            for k in keys {
                data.write(db, k, None, Actor::TtlService, &mut batch);
                deleted += 1;
            }
            db.store.submit(batch)
        };
        if let Err(e) = commit.await {
            tracing::error!("dynamodb ttl sweep: {e}");
        }
    }
    deleted
}
