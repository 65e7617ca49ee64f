//! Announcing restores on the clock: `s3:ObjectRestore:Completed` when a restored copy is
//! ready and `s3:ObjectRestore:Delete` when it expires. Whether an object is readable never
//! waits for this: it is derived from the clock at every read.

use aloft_store::Batch;

use crate::domain::notifications::{EventExtra, ObjectEvent, SERVICE_PRINCIPAL};
use crate::domain::storage::RestoreState;
use crate::{S3, events, store};

/// Announces every restore that completed or expired by now.
pub async fn sweep(s3: &S3) {
    let now = aloft_core::clock::now_millis();
    let pending: Vec<(String, String, Option<String>)> = s3
        .restores
        .lock()
        .map(|s| s.iter().cloned().collect())
        .unwrap_or_default();
    for (bucket, key, vid) in pending {
        let Ok(cell) = s3.bucket(&bucket) else {
            s3.untrack_restore(&bucket, &key, &vid);
            continue;
        };
        let (commit, staged) = {
            let Ok(mut b) = cell.write() else { continue };
            let (account, region) = (b.info.account.clone(), b.info.region.clone());
            let notif = b.info.config.notification.clone();
            let want = vid.as_deref();
            let Some(v) = b
                .objects
                .get_mut(&key)
                .and_then(|vs| vs.iter_mut().find(|v| v.version_id.as_deref() == want))
            else {
                s3.untrack_restore(&bucket, &key, &vid);
                continue;
            };
            let Some(r) = v.meta.restore.as_deref_mut() else {
                s3.untrack_restore(&bucket, &key, &vid);
                continue;
            };
            let class = v.meta.storage_class.clone();
            let mut announce = Vec::new();
            let state = r.state(now);
            // A clock moved past both the completion and the expiry still announces both.
            if r.announced == 0 && state != RestoreState::Ongoing {
                r.announced = 1;
                announce.push(("ObjectRestore:Completed", Some(r.expires_at)));
            }
            if state == RestoreState::Expired {
                v.meta.restore = None;
                s3.untrack_restore(&bucket, &key, &vid);
                announce.push(("ObjectRestore:Delete", None));
            }
            if announce.is_empty() {
                continue;
            }
            let mut batch = Batch::new();
            store::put_version(&mut batch, &bucket, &key, v);
            let mut staged = events::Staged::default();
            for (name, expiry) in announce {
                let event = ObjectEvent {
                    name,
                    bucket: bucket.clone(),
                    key: key.clone(),
                    size: Some(v.size),
                    etag: Some(v.etag.clone()),
                    version_id: v.version_id.clone(),
                    seq: s3.next_seq(),
                    time_ms: now,
                    region: region.clone(),
                    account: account.clone(),
                    request_id: aloft_core::ids::request_id(),
                    principal: SERVICE_PRINCIPAL.into(),
                    source_ip: SERVICE_PRINCIPAL.into(),
                    extra: EventExtra {
                        source_class: class.clone(),
                        destination_class: None,
                        restore_expiry_ms: expiry,
                    },
                };
                events::stage_into(s3, notif.as_ref(), &event, &mut batch, &mut staged);
            }
            (s3.store.submit(batch), staged)
        };
        if let Err(e) = commit.await {
            tracing::error!("s3 restore sweep could not commit: {e}");
            continue;
        }
        events::send(s3, staged);
    }
}
