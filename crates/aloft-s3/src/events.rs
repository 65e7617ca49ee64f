//! Publishing object events to the configured targets, crash-safely.
//!
//! SQS, SNS and Lambda targets get S3's `{"Records": [...]}` document; EventBridge gets the
//! event of the matching `detail-type` on the account's default bus. [`stage`] journals
//! each (event, target) pair in the object change's own batch (the [`crate::outbox`]); once
//! that batch is committed, [`send`] hands them to the outbox worker. A slow or missing target
//! never delays or fails the S3 request, and an acknowledged write's events survive `kill -9`.

use std::sync::Arc;

use aloft_events::{Delivery, Targets};
use aloft_store::Batch;
use bytes::Bytes;
use serde_json::json;

use crate::S3;
use crate::domain::notifications::{NotificationConfiguration, ObjectEvent, targets};
use crate::outbox::Pending;

/// Events journaled in a batch, to [`send`] once it is committed.
#[derive(Default)]
#[must_use = "staged events are only delivered once sent"]
pub struct Staged(Vec<crate::outbox::Entry>);

/// Journals `event` in `batch` for every target of `cfg` it matches. Call under the bucket
/// lock that orders the change, so that one key's events keep their order.
pub fn stage(
    s3: &S3,
    cfg: Option<&NotificationConfiguration>,
    event: &ObjectEvent,
    batch: &mut Batch,
) -> Staged {
    let mut staged = Staged::default();
    stage_into(s3, cfg, event, batch, &mut staged);
    staged
}

/// As [`stage`], adding to events already staged in the same batch.
pub fn stage_into(
    s3: &S3,
    cfg: Option<&NotificationConfiguration>,
    event: &ObjectEvent,
    batch: &mut Batch,
    staged: &mut Staged,
) {
    let Some(cfg) = cfg else { return };
    let mut deliveries = Vec::new();
    for (config_id, arn) in targets(cfg, event.name, &event.key) {
        let payload = json!({"Records": [event.record(&config_id)]});
        deliveries.push((arn, payload));
    }
    if let (Some(_), Some(ev)) = (&cfg.eventbridge, event.eventbridge()) {
        let arn = format!(
            "arn:aws:events:{}:{}:event-bus/default",
            event.region, event.account
        );
        deliveries.push((arn, ev));
    }
    let source = format!("arn:aws:s3:::{}", event.bucket);
    for (arn, payload) in deliveries {
        let p = Pending {
            target: arn,
            payload: payload.to_string(),
            source: source.clone(),
            account: event.account.clone(),
            region: event.region.clone(),
            created: event.time_ms,
        };
        staged.0.push(s3.outbox.stage(batch, p));
    }
}

/// Hands committed events to the outbox worker.
pub fn send(s3: &S3, staged: Staged) {
    if staged.0.is_empty() {
        return;
    }
    s3.record_sent(&staged.0);
    s3.outbox.add(staged.0);
}

/// The `s3:TestEvent` S3 sends to queues and topics when a configuration is put.
pub fn test_event(
    all: &Arc<Targets>,
    cfg: &NotificationConfiguration,
    bucket: &str,
    account: &str,
    region: &str,
    request_id: &str,
) {
    let arns: Vec<String> = cfg
        .queues
        .iter()
        .map(|q| q.queue.clone())
        .chain(cfg.topics.iter().map(|t| t.topic.clone()))
        .collect();
    if arns.is_empty() {
        return;
    }
    let payload = json!({
        "Service": "Amazon S3",
        "Event": "s3:TestEvent",
        "Time": aloft_core::clock::iso8601_millis(aloft_core::clock::now_millis()),
        "Bucket": bucket,
        "RequestId": request_id,
        "HostId": crate::domain::notifications::host_id(request_id),
    })
    .to_string();
    let all = all.clone();
    let (account, region, source) = (
        account.to_string(),
        region.to_string(),
        format!("arn:aws:s3:::{bucket}"),
    );
    tokio::spawn(async move {
        for arn in arns {
            let d = Delivery {
                payload: Bytes::from(payload.clone()),
                options: Default::default(),
                sync: false,
                source_arn: Some(source.clone()),
                account: account.clone(),
                region: region.clone(),
            };
            if let Err(e) = all.deliver(&arn, d).await {
                tracing::debug!("s3 test event to {arn} not delivered: {e}");
            }
        }
    });
}
