//! Cross-service effects without cross-service imports.
//!
//! A service that causes an effect elsewhere (S3 notifying a queue, SNS fanning out to a
//! function, EventBridge invoking a target, API Gateway calling a Lambda) hands a [`Delivery`]
//! to [`Targets::deliver`] with the target's ARN. The service that owns that ARN's kind
//! registered a [`Target`] for it at start-up (in the binary's wiring), so service crates
//! never depend on each other.
//!
//! Pull sources (SQS queues, DynamoDB streams, Kinesis) read by Lambda's event source mappings
//! are reached the same way: the owning service registers a [`Source`].
//!
//! Services publish their standard CloudWatch metrics through a [`MetricBatcher`].

pub mod metrics;

pub use metrics::{Dimensions, MetricBatcher, Sample};

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use aloft_protocol::AwsError;
use async_trait::async_trait;
use bytes::Bytes;
use serde_json::Value;

/// What is handed to a target.
#[derive(Debug, Clone, Default)]
pub struct Delivery {
    /// The body: a Lambda payload, a queue message body, a topic message, an event's JSON.
    pub payload: Bytes,
    /// Target-specific options in the target API's own member names, e.g. SQS
    /// `MessageAttributes`/`MessageGroupId`, SNS `Subject`/`MessageAttributes`, Lambda `Qualifier`.
    pub options: serde_json::Map<String, Value>,
    /// True when the caller waits for the result (Lambda RequestResponse).
    pub sync: bool,
    /// The ARN of the resource that caused the delivery (for source-account checks and events).
    pub source_arn: Option<String>,
    /// Account and region of the caller, for targets named by a bare name.
    pub account: String,
    pub region: String,
}

/// What a target answered.
#[derive(Debug, Clone, Default)]
pub struct Delivered {
    /// The synchronous result (a Lambda response payload), if any.
    pub payload: Option<Bytes>,
    /// Target-specific result fields (e.g. Lambda `FunctionError`, `LogResult`, SQS `MessageId`).
    pub info: serde_json::Map<String, Value>,
}

#[async_trait]
pub trait Target: Send + Sync + 'static {
    async fn deliver(&self, arn: &str, delivery: Delivery) -> Result<Delivered, AwsError>;
}

/// A message or record read from a pull source.
#[derive(Debug, Clone)]
pub struct SourceRecord {
    /// The record as the Lambda event carries it (the SQS message, the stream record).
    pub record: Value,
    /// What to hand back to acknowledge it (SQS receipt handle, stream sequence number).
    pub ack: String,
}

/// A pull source read by event source mappings.
#[async_trait]
pub trait Source: Send + Sync + 'static {
    /// Reads up to `max` records after `position` (an opaque cursor the source returns).
    async fn read(
        &self,
        arn: &str,
        position: Option<&str>,
        max: usize,
        options: &serde_json::Map<String, Value>,
    ) -> Result<(Vec<SourceRecord>, Option<String>), AwsError>;
    /// Acknowledges processed records (deletes SQS messages); a no-op for streams.
    async fn ack(&self, arn: &str, acks: &[String]) -> Result<(), AwsError>;
}

/// The registry of targets and sources, keyed by the ARN's service field (`sqs`, `lambda`, ...).
#[derive(Default)]
pub struct Targets {
    targets: RwLock<HashMap<String, Arc<dyn Target>>>,
    sources: RwLock<HashMap<String, Arc<dyn Source>>>,
}

/// The service field of an ARN: `arn:aws:sqs:us-east-1:000000000000:q` → `sqs`.
pub fn arn_service(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(4, ':');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("arn"), Some(_), Some(service)) if !service.is_empty() => Some(service),
        _ => None,
    }
}

impl Targets {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    pub fn register_target(&self, service: &str, target: Arc<dyn Target>) {
        self.targets
            .write()
            .expect("targets lock")
            .insert(service.to_string(), target);
    }

    pub fn register_source(&self, service: &str, source: Arc<dyn Source>) {
        self.sources
            .write()
            .expect("sources lock")
            .insert(service.to_string(), source);
    }

    fn target_for(&self, arn: &str) -> Result<Arc<dyn Target>, AwsError> {
        let service =
            arn_service(arn).ok_or_else(|| AwsError::validation(format!("Invalid ARN: {arn}")))?;
        self.targets
            .read()
            .expect("targets lock")
            .get(service)
            .cloned()
            .ok_or_else(|| {
                AwsError::new(
                    "ResourceNotFoundException",
                    404,
                    format!("No Aloft service delivers to {service} ARNs ({arn})"),
                )
            })
    }

    /// Delivers to the target named by `arn`, through the service that owns it.
    pub async fn deliver(&self, arn: &str, delivery: Delivery) -> Result<Delivered, AwsError> {
        self.target_for(arn)?.deliver(arn, delivery).await
    }

    pub fn source_for(&self, arn: &str) -> Result<Arc<dyn Source>, AwsError> {
        let service =
            arn_service(arn).ok_or_else(|| AwsError::validation(format!("Invalid ARN: {arn}")))?;
        self.sources
            .read()
            .expect("sources lock")
            .get(service)
            .cloned()
            .ok_or_else(|| {
                AwsError::new(
                    "ResourceNotFoundException",
                    404,
                    format!("No Aloft service is a source for {service} ARNs ({arn})"),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Echo;
    #[async_trait]
    impl Target for Echo {
        async fn deliver(&self, arn: &str, d: Delivery) -> Result<Delivered, AwsError> {
            let mut info = serde_json::Map::new();
            info.insert("arn".into(), arn.into());
            Ok(Delivered {
                payload: Some(d.payload),
                info,
            })
        }
    }

    #[test]
    fn arn_service_reads_the_third_field() {
        assert_eq!(
            arn_service("arn:aws:sqs:us-east-1:000000000000:q"),
            Some("sqs")
        );
        assert_eq!(
            arn_service("arn:aws:lambda:us-east-1:1:function:f"),
            Some("lambda")
        );
        assert_eq!(arn_service("not-an-arn"), None);
        assert_eq!(arn_service("arn:aws::x"), None);
    }

    #[tokio::test]
    async fn delivers_through_the_registered_service() {
        let targets = Targets::new();
        targets.register_target("sqs", Arc::new(Echo));
        let out = targets
            .deliver(
                "arn:aws:sqs:us-east-1:1:q",
                Delivery {
                    payload: Bytes::from("hi"),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(out.payload.unwrap(), Bytes::from("hi"));
        let err = targets
            .deliver("arn:aws:sns:us-east-1:1:t", Delivery::default())
            .await
            .unwrap_err();
        assert_eq!(err.code, "ResourceNotFoundException");
    }
}
