//! Publishing object events to the configured targets, after the change is committed.
//!
//! SQS, SNS and Lambda targets get S3's `{"Records": [...]}` document; EventBridge gets the
//! `Object Created` / `Object Deleted` event on the account's default bus. Delivery runs in the
//! background: a slow or missing target never delays or fails the S3 request.

use std::sync::Arc;

use aloft_events::{Delivery, Targets};
use bytes::Bytes;
use serde_json::json;

use crate::S3;
use crate::domain::notifications::{NotificationConfiguration, ObjectEvent, targets};

/// Sends the event to every target of `cfg` it matches. The event is built only for a bucket
/// with a notification configuration: most writes have none, and an event is a dozen strings.
pub fn publish(
    s3: &S3,
    cfg: Option<NotificationConfiguration>,
    event: impl FnOnce() -> ObjectEvent,
) {
    let Some(cfg) = cfg else { return };
    let event = event();
    let all = &s3.targets;
    let mut deliveries = Vec::new();
    for (config_id, arn) in targets(&cfg, event.name, &event.key) {
        let payload = json!({"Records": [event.record(&config_id)]});
        deliveries.push((arn, payload));
    }
    if cfg.eventbridge.is_some() {
        let arn = format!(
            "arn:aws:events:{}:{}:event-bus/default",
            event.region, event.account
        );
        deliveries.push((arn, event.eventbridge()));
    }
    if deliveries.is_empty() {
        return;
    }
    s3.record_sent(&deliveries);
    let all = all.clone();
    let source = format!("arn:aws:s3:::{}", event.bucket);
    let (account, region) = (event.account.clone(), event.region.clone());
    tokio::spawn(async move {
        for (arn, payload) in deliveries {
            let d = Delivery {
                payload: Bytes::from(payload.to_string()),
                options: Default::default(),
                sync: false,
                source_arn: Some(source.clone()),
                account: account.clone(),
                region: region.clone(),
            };
            if let Err(e) = all.deliver(&arn, d).await {
                tracing::warn!("s3 notification to {arn} failed: {e}");
            }
        }
    });
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
