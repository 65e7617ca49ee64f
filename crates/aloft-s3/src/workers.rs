//! The lifecycle sweeper: applies expiration rules by the one clock, every minute and at once
//! when tests move the clock (`/_aloft/s3/lifecycle/sweep` runs it on demand).

use std::sync::Weak;
use std::time::Duration;

use aloft_store::Batch;

use crate::S3;
use crate::domain::lifecycle::{Expire, due};
use crate::domain::notifications::ObjectEvent;
use crate::domain::versions;
use crate::{events, store};

pub fn spawn_sweeper(s3: Weak<S3>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut clock = aloft_core::clock::changed();
        loop {
            tokio::select! {
                () = tokio::time::sleep(Duration::from_secs(60)) => {}
                r = clock.changed() => if r.is_err() { tokio::time::sleep(Duration::from_secs(60)).await; },
            }
            let Some(s3) = s3.upgrade() else { return };
            sweep(&s3).await;
        }
    })
}

/// Applies every due expiration now; returns how many objects, versions and uploads went.
pub async fn sweep(s3: &S3) -> usize {
    let now = aloft_core::clock::now_millis();
    let mut count = 0;
    for cell in s3.bucket_names() {
        // Only buckets with lifecycle rules are locked for writing.
        if !cell.read().is_ok_and(|b| b.info.config.lifecycle.is_some()) {
            continue;
        }
        let (commit, freed, events, notif) = {
            let Ok(mut b) = cell.write() else { continue };
            let todo = due(&b, now);
            if todo.is_empty() {
                continue;
            }
            let name = b.info.name.clone();
            let (account, region) = (b.info.account.clone(), b.info.region.clone());
            let mut batch = Batch::new();
            let mut freed = Vec::new();
            let mut evs = Vec::new();
            for item in todo {
                count += 1;
                let (key, version) = match &item {
                    Expire::Current(k) => (k.clone(), None),
                    Expire::Noncurrent(k, v) => {
                        (k.clone(), Some(v.clone().unwrap_or_else(|| "null".into())))
                    }
                    Expire::LoneMarker(k) => {
                        let vid = b
                            .objects
                            .get(k)
                            .and_then(|v| v.last())
                            .map(|m| m.version_str().to_string());
                        (k.clone(), vid)
                    }
                    Expire::Upload(id) => {
                        if let Some(up) = b.uploads.remove(id) {
                            store::delete_upload(&mut batch, &name, &up);
                            for p in up.parts.values() {
                                p.data.blob_ids(&mut freed);
                            }
                        }
                        continue;
                    }
                };
                let d = versions::delete(&mut b, &key, version.as_deref(), s3.next_seq(), now);
                for r in &d.removed {
                    store::delete_version(&mut batch, &name, &key, r.version_id.as_deref());
                    r.data.blob_ids(&mut freed);
                }
                if let Some(m) = &d.marker {
                    store::put_version(&mut batch, &name, &key, m);
                }
                evs.push(ObjectEvent {
                    name: if d.marker.is_some() {
                        "LifecycleExpiration:DeleteMarkerCreated"
                    } else {
                        "LifecycleExpiration:Delete"
                    },
                    bucket: name.clone(),
                    key,
                    size: None,
                    etag: None,
                    version_id: d.version_id.clone(),
                    seq: s3.next_seq(),
                    time_ms: now,
                    region: region.clone(),
                    account: account.clone(),
                    request_id: aloft_core::ids::request_id(),
                    principal: "s3.amazonaws.com".into(),
                    source_ip: "s3.amazonaws.com".into(),
                });
            }
            (
                s3.store.submit(batch),
                freed,
                evs,
                b.info.config.notification.clone(),
            )
        };
        if let Err(e) = commit.await {
            tracing::error!("s3 lifecycle sweep could not commit: {e}");
            continue;
        }
        s3.bodies.remove(&freed);
        for ev in events {
            events::publish(s3, notif.clone(), || ev);
        }
    }
    count
}
