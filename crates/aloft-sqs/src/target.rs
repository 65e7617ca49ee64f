//! SQS as a delivery target (S3 notifications, SNS, EventBridge, Lambda destinations) and as a
//! pull source for Lambda event source mappings.

use std::sync::Arc;

use aloft_core::AwsError;
use aloft_events::{Delivered, Delivery, Source, SourceRecord, Target};
use async_trait::async_trait;
use serde_json::{Map, Value, json};

use crate::Sqs;
use crate::domain::attributes::Attributes;
use crate::error::SqsError;
use crate::handlers::messages::{SendEntry, prepare, system_attributes};

pub struct SqsTarget(pub Arc<Sqs>);

#[async_trait]
impl Target for SqsTarget {
    /// Sends `payload` as a message. `options` may carry `MessageAttributes` (SQS json form),
    /// `MessageGroupId`, `MessageDeduplicationId`, `DelaySeconds`, `MessageSystemAttributes`.
    async fn deliver(&self, arn: &str, d: Delivery) -> Result<Delivered, AwsError> {
        let q = self
            .0
            .reg
            .by_arn(arn)
            .ok_or_else(|| SqsError::no_queue().to_json_error())?;
        let opt = |k: &str| d.options.get(k).and_then(Value::as_str).map(str::to_string);
        let attrs = |k: &str| -> Attributes {
            d.options
                .get(k)
                .and_then(|v| serde_json::from_value(v.clone()).ok())
                .unwrap_or_default()
        };
        let entry = SendEntry {
            message_body: Some(String::from_utf8_lossy(&d.payload).into_owned()),
            delay_seconds: d.options.get("DelaySeconds").and_then(Value::as_i64),
            message_attributes: attrs("MessageAttributes"),
            message_system_attributes: attrs("MessageSystemAttributes"),
            message_deduplication_id: opt("MessageDeduplicationId"),
            message_group_id: opt("MessageGroupId"),
            id: None,
        };
        let new = prepare(&q, entry, &d.account).map_err(|e| e.to_json_error())?;
        let sent = self
            .0
            .reg
            .enqueue(&q, new)
            .await
            .map_err(|e| e.to_json_error())?;
        let mut info = Map::new();
        info.insert("MessageId".into(), json!(sent.message_id));
        if let Some(s) = sent.sequence_number {
            info.insert("SequenceNumber".into(), json!(s));
        }
        Ok(Delivered {
            payload: None,
            info,
        })
    }
}

#[async_trait]
impl Source for SqsTarget {
    /// Receives up to `max` (≤ 10) messages shaped as Lambda's SQS event records. Options:
    /// `VisibilityTimeout` (default: the queue's) and `WaitTimeSeconds` (default 20, as
    /// Lambda's pollers long-poll; a send wakes the read at once).
    async fn read(
        &self,
        arn: &str,
        _position: Option<&str>,
        max: usize,
        options: &Map<String, Value>,
    ) -> Result<(Vec<SourceRecord>, Option<String>), AwsError> {
        let q = self
            .0
            .reg
            .by_arn(arn)
            .ok_or_else(|| SqsError::no_queue().to_json_error())?;
        let vis = options
            .get("VisibilityTimeout")
            .and_then(Value::as_u64)
            .map(|v| v.min(43_200) as u32);
        let wait = options
            .get("WaitTimeSeconds")
            .and_then(Value::as_u64)
            .map_or(20, |v| v.min(20) as u32);
        let got = self.0.receive(&q, max.clamp(1, 10), vis, Some(wait)).await;
        let records = got
            .into_iter()
            .map(|r| {
                let m = &r.message;
                let attributes: Map<String, Value> = system_attributes(m)
                    .into_iter()
                    .filter(|(k, _)| *k != "DeadLetterQueueSourceArn")
                    .map(|(k, v)| (k.to_string(), Value::String(v)))
                    .collect();
                let message_attributes: Map<String, Value> = m
                    .attributes
                    .iter()
                    .map(|(k, v)| {
                        let mut a = Map::new();
                        if let Some(s) = &v.string_value {
                            a.insert("stringValue".into(), json!(s));
                        }
                        if let Some(b) = &v.binary_value {
                            a.insert("binaryValue".into(), json!(b));
                        }
                        a.insert("stringListValues".into(), json!(v.string_list_values));
                        a.insert("binaryListValues".into(), json!(v.binary_list_values));
                        a.insert("dataType".into(), json!(v.data_type));
                        (k.clone(), Value::Object(a))
                    })
                    .collect();
                let mut rec = json!({
                    "messageId": m.message_id,
                    "receiptHandle": r.receipt_handle,
                    "body": m.body,
                    "attributes": attributes,
                    "messageAttributes": message_attributes,
                    "md5OfBody": m.md5_body,
                    "eventSource": "aws:sqs",
                    "eventSourceARN": q.arn,
                    "awsRegion": q.region,
                });
                if let Some(md5) = &m.md5_attributes {
                    rec["md5OfMessageAttributes"] = json!(md5);
                }
                SourceRecord {
                    record: rec,
                    ack: r.receipt_handle,
                }
            })
            .collect();
        Ok((records, None))
    }

    /// Deletes processed messages by receipt handle.
    async fn ack(&self, arn: &str, acks: &[String]) -> Result<(), AwsError> {
        let q = self
            .0
            .reg
            .by_arn(arn)
            .ok_or_else(|| SqsError::no_queue().to_json_error())?;
        for h in acks {
            self.0.delete(&q, h).await.map_err(|e| e.to_json_error())?;
        }
        Ok(())
    }
}
