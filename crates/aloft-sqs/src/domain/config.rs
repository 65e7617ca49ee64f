//! Queue attributes a caller sets (CreateQueue, SetQueueAttributes): names, ranges, defaults.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Code, Result, SqsError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedrivePolicy {
    pub dead_letter_target_arn: String,
    pub max_receive_count: u32,
}

/// The settable attributes of a queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueConfig {
    pub fifo: bool,
    pub delay_seconds: u32,
    pub maximum_message_size: u32,
    pub message_retention_period: u32,
    pub receive_message_wait_time_seconds: u32,
    pub visibility_timeout: u32,
    pub policy: Option<String>,
    pub redrive_policy: Option<String>,
    pub redrive_allow_policy: Option<String>,
    pub kms_master_key_id: Option<String>,
    pub kms_data_key_reuse_period_seconds: u32,
    pub sqs_managed_sse_enabled: bool,
    pub content_based_deduplication: bool,
    pub deduplication_scope: String,
    pub fifo_throughput_limit: String,
}

impl QueueConfig {
    pub fn new(fifo: bool) -> Self {
        Self {
            fifo,
            delay_seconds: 0,
            maximum_message_size: 1_048_576,
            message_retention_period: 345_600,
            receive_message_wait_time_seconds: 0,
            visibility_timeout: 30,
            policy: None,
            redrive_policy: None,
            redrive_allow_policy: None,
            kms_master_key_id: None,
            kms_data_key_reuse_period_seconds: 300,
            // New queues get SSE-SQS unless told otherwise (AWS's default since 2022).
            sqs_managed_sse_enabled: true,
            content_based_deduplication: false,
            deduplication_scope: "queue".into(),
            fifo_throughput_limit: "perQueue".into(),
        }
    }

    pub fn redrive(&self) -> Option<RedrivePolicy> {
        let v: Value = serde_json::from_str(self.redrive_policy.as_deref()?).ok()?;
        Some(RedrivePolicy {
            dead_letter_target_arn: v.get("deadLetterTargetArn")?.as_str()?.to_string(),
            max_receive_count: num(v.get("maxReceiveCount")?)?,
        })
    }

    /// Applies `attrs` (CreateQueue or SetQueueAttributes). `creating` allows `FifoQueue`.
    pub fn apply(&mut self, attrs: &BTreeMap<String, String>, creating: bool) -> Result<()> {
        for (name, value) in attrs {
            self.apply_one(name, value, creating)?;
        }
        if self.kms_master_key_id.is_some() && attrs.contains_key("KmsMasterKeyId") {
            self.sqs_managed_sse_enabled = false;
        }
        Ok(())
    }

    fn apply_one(&mut self, name: &str, value: &str, creating: bool) -> Result<()> {
        let bad = || invalid_value(name);
        let range = |lo: u32, hi: u32| -> Result<u32> {
            value
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|n| (lo..=hi).contains(n))
                .ok_or_else(bad)
        };
        let flag = || -> Result<bool> {
            match value.to_ascii_lowercase().as_str() {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err(bad()),
            }
        };
        let fifo_only = || -> Result<()> {
            if self.fifo {
                Ok(())
            } else {
                Err(unknown(name))
            }
        };
        match name {
            "DelaySeconds" => self.delay_seconds = range(0, 900)?,
            "MaximumMessageSize" => self.maximum_message_size = range(1024, 1_048_576)?,
            "MessageRetentionPeriod" => self.message_retention_period = range(60, 1_209_600)?,
            "ReceiveMessageWaitTimeSeconds" => {
                self.receive_message_wait_time_seconds = range(0, 20)?;
            }
            "VisibilityTimeout" => self.visibility_timeout = range(0, 43_200)?,
            "Policy" => {
                self.policy = if value.is_empty() {
                    None
                } else {
                    serde_json::from_str::<Value>(value)
                        .ok()
                        .filter(Value::is_object)
                        .ok_or_else(bad)?;
                    Some(value.to_string())
                };
            }
            "RedrivePolicy" => {
                self.redrive_policy = if value.is_empty() {
                    None
                } else {
                    Some(parse_redrive(value)?)
                };
            }
            "RedriveAllowPolicy" => {
                self.redrive_allow_policy = if value.is_empty() {
                    None
                } else {
                    Some(parse_redrive_allow(value)?)
                };
            }
            "KmsMasterKeyId" => {
                self.kms_master_key_id = (!value.is_empty()).then(|| value.to_string());
            }
            "KmsDataKeyReusePeriodSeconds" => {
                self.kms_data_key_reuse_period_seconds = range(60, 86_400)?;
            }
            "SqsManagedSseEnabled" => {
                self.sqs_managed_sse_enabled = flag()?;
                if self.sqs_managed_sse_enabled {
                    self.kms_master_key_id = None;
                }
            }
            "FifoQueue" => {
                if !creating {
                    return Err(SqsError::new(
                        Code::InvalidAttributeName,
                        format!("Unknown Attribute {name}."),
                    ));
                }
                if flag()? != self.fifo {
                    return Err(bad());
                }
            }
            "ContentBasedDeduplication" => {
                fifo_only()?;
                self.content_based_deduplication = flag()?;
            }
            "DeduplicationScope" => {
                fifo_only()?;
                if !matches!(value, "queue" | "messageGroup") {
                    return Err(bad());
                }
                self.deduplication_scope = value.to_string();
            }
            "FifoThroughputLimit" => {
                fifo_only()?;
                if !matches!(value, "perQueue" | "perMessageGroupId") {
                    return Err(bad());
                }
                self.fifo_throughput_limit = value.to_string();
            }
            _ => return Err(unknown(name)),
        }
        Ok(())
    }

    /// The settable attributes as GetQueueAttributes shows them (string values).
    pub fn to_map(&self) -> BTreeMap<&'static str, String> {
        let mut m = BTreeMap::new();
        m.insert("DelaySeconds", self.delay_seconds.to_string());
        m.insert("MaximumMessageSize", self.maximum_message_size.to_string());
        m.insert(
            "MessageRetentionPeriod",
            self.message_retention_period.to_string(),
        );
        m.insert(
            "ReceiveMessageWaitTimeSeconds",
            self.receive_message_wait_time_seconds.to_string(),
        );
        m.insert("VisibilityTimeout", self.visibility_timeout.to_string());
        m.insert(
            "SqsManagedSseEnabled",
            self.sqs_managed_sse_enabled.to_string(),
        );
        for (k, v) in [
            ("Policy", &self.policy),
            ("RedrivePolicy", &self.redrive_policy),
            ("RedriveAllowPolicy", &self.redrive_allow_policy),
        ] {
            if let Some(v) = v {
                m.insert(k, v.clone());
            }
        }
        if let Some(k) = &self.kms_master_key_id {
            m.insert("KmsMasterKeyId", k.clone());
            m.insert(
                "KmsDataKeyReusePeriodSeconds",
                self.kms_data_key_reuse_period_seconds.to_string(),
            );
        }
        if self.fifo {
            m.insert("FifoQueue", "true".into());
            m.insert(
                "ContentBasedDeduplication",
                self.content_based_deduplication.to_string(),
            );
            m.insert("DeduplicationScope", self.deduplication_scope.clone());
            m.insert("FifoThroughputLimit", self.fifo_throughput_limit.clone());
        }
        m
    }
}

fn unknown(name: &str) -> SqsError {
    SqsError::new(
        Code::InvalidAttributeName,
        format!("Unknown Attribute {name}."),
    )
}

fn invalid_value(name: &str) -> SqsError {
    SqsError::new(
        Code::InvalidAttributeValue,
        format!("Invalid value for the parameter {name}."),
    )
}

fn num(v: &Value) -> Option<u32> {
    match v {
        Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// Normalises a RedrivePolicy: `maxReceiveCount` becomes a number, as AWS echoes it.
fn parse_redrive(value: &str) -> Result<String> {
    let v: Value = serde_json::from_str(value).map_err(|_| invalid_value("RedrivePolicy"))?;
    let arn = v
        .get("deadLetterTargetArn")
        .and_then(Value::as_str)
        .filter(|a| a.starts_with("arn:"))
        .ok_or_else(|| {
            SqsError::new(
                Code::InvalidParameterValue,
                "Value for parameter RedrivePolicy is invalid. Reason: Redrive policy is not a valid JSON map or deadLetterTargetArn is missing.",
            )
        })?;
    let count = v
        .get("maxReceiveCount")
        .and_then(num)
        .filter(|n| (1..=1000).contains(n))
        .ok_or_else(|| {
            SqsError::new(
                Code::InvalidParameterValue,
                format!(
                    "Value {value} for parameter RedrivePolicy is invalid. Reason: Invalid value for maxReceiveCount: {}, valid values are from 1 to 1000 both inclusive.",
                    v.get("maxReceiveCount").map(ToString::to_string).unwrap_or_default()
                ),
            )
        })?;
    Ok(serde_json::json!({"deadLetterTargetArn": arn, "maxReceiveCount": count}).to_string())
}

fn parse_redrive_allow(value: &str) -> Result<String> {
    let reason = |r: &str| {
        SqsError::invalid(format!(
            "Value {value} for parameter RedriveAllowPolicy is invalid. Reason: {r}"
        ))
    };
    let v: Value = serde_json::from_str(value).map_err(|_| reason("Invalid JSON."))?;
    let perm = v
        .get("redrivePermission")
        .and_then(Value::as_str)
        .ok_or_else(|| reason("Amazon SQS can't find a valid redrivePermission."))?;
    let arns = v.get("sourceQueueArns").and_then(Value::as_array);
    match perm {
        "allowAll" | "denyAll" if arns.is_some_and(|a| !a.is_empty()) => Err(reason(
            "Only when the redrivePermission is byQueue can you specify sourceQueueArns.",
        )),
        "allowAll" | "denyAll" => Ok(value.to_string()),
        "byQueue" => match arns {
            Some(a) if !a.is_empty() && a.len() <= 10 => Ok(value.to_string()),
            _ => Err(reason(
                "You must specify between 1 and 10 sourceQueueArns when redrivePermission is byQueue.",
            )),
        },
        _ => Err(reason("Invalid redrivePermission.")),
    }
}

/// Whether a queue's RedriveAllowPolicy lets `source_arn` use it as a DLQ.
pub fn redrive_allowed(policy: Option<&str>, source_arn: &str) -> bool {
    let Some(v) = policy.and_then(|p| serde_json::from_str::<Value>(p).ok()) else {
        return true;
    };
    match v.get("redrivePermission").and_then(Value::as_str) {
        Some("denyAll") => false,
        Some("byQueue") => v
            .get("sourceQueueArns")
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|x| x.as_str() == Some(source_arn))),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect()
    }

    #[test]
    fn ranges_and_names() {
        let mut c = QueueConfig::new(false);
        c.apply(&attrs(&[("VisibilityTimeout", "60")]), true)
            .unwrap();
        assert_eq!(c.visibility_timeout, 60);
        let e = c
            .apply(&attrs(&[("DelaySeconds", "901")]), true)
            .unwrap_err();
        assert_eq!(e.code, Code::InvalidAttributeValue);
        assert_eq!(e.message, "Invalid value for the parameter DelaySeconds.");
        let e = c.apply(&attrs(&[("Bogus", "1")]), true).unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            (Code::InvalidAttributeName, "Unknown Attribute Bogus.")
        );
        // FIFO-only attributes are unknown on standard queues.
        let e = c
            .apply(&attrs(&[("ContentBasedDeduplication", "true")]), true)
            .unwrap_err();
        assert_eq!(e.code, Code::InvalidAttributeName);
    }

    #[test]
    fn redrive_policy_is_normalised() {
        let mut c = QueueConfig::new(false);
        c.apply(
            &attrs(&[(
                "RedrivePolicy",
                r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":"3"}"#,
            )]),
            false,
        )
        .unwrap();
        assert_eq!(
            c.redrive().unwrap(),
            RedrivePolicy {
                dead_letter_target_arn: "arn:aws:sqs:us-east-1:000000000000:dlq".into(),
                max_receive_count: 3
            }
        );
        assert!(c.redrive_policy.unwrap().contains(r#""maxReceiveCount":3"#));
    }

    #[test]
    fn redrive_allow() {
        assert!(redrive_allowed(None, "a"));
        assert!(!redrive_allowed(
            Some(r#"{"redrivePermission":"denyAll"}"#),
            "a"
        ));
        let p = r#"{"redrivePermission":"byQueue","sourceQueueArns":["a"]}"#;
        assert!(redrive_allowed(Some(p), "a"));
        assert!(!redrive_allowed(Some(p), "b"));
        assert!(parse_redrive_allow(r#"{"redrivePermission":"byQueue"}"#).is_err());
    }
}
