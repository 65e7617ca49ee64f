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
            let mut extra = EventExtra {
                source_class: v.meta.storage_class.clone(),
                ..EventExtra::default()
            };
            let name = match (r.state(now), r.announced) {
                (RestoreState::Restored { expires_at }, 0) => {
                    r.announced = 1;
                    extra.restore_expiry_ms = Some(expires_at);
                    "ObjectRestore:Completed"
                }
                (RestoreState::Expired, _) => {
                    v.meta.restore = None;
                    s3.untrack_restore(&bucket, &key, &vid);
                    "ObjectRestore:Delete"
                }
                _ => continue,
            };
            let mut batch = Batch::new();
            store::put_version(&mut batch, &bucket, &key, v);
            let event = ObjectEvent {
                name,
                bucket: bucket.clone(),
                key: key.clone(),
                size: Some(v.size),
                etag: Some(v.etag.clone()),
                version_id: v.version_id.clone(),
                seq: s3.next_seq(),
                time_ms: now,
                region,
                account,
                request_id: aloft_core::ids::request_id(),
                principal: SERVICE_PRINCIPAL.into(),
                source_ip: SERVICE_PRINCIPAL.into(),
                extra,
            };
            let staged = events::stage(s3, notif.as_ref(), &event, &mut batch);
            (s3.store.submit(batch), staged)
        };
        if let Err(e) = commit.await {
            tracing::error!("s3 restore sweep could not commit: {e}");
            continue;
        }
        events::send(s3, staged);
    }
}
