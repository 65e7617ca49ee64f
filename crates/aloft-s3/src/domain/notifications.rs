//! Event notification configuration, which targets an event goes to, and the event JSON
//! (S3's `eventVersion` 2.1/2.3 records; the EventBridge shapes are in `eventbridge`).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct FilterRule {
    #[serde(rename = "Name")]
    pub name: String,
    #[serde(rename = "Value")]
    pub value: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct S3KeyFilter {
    #[serde(rename = "FilterRule", default)]
    pub rules: Vec<FilterRule>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct NotificationFilter {
    #[serde(rename = "S3Key", default)]
    pub key: S3KeyFilter,
}

/// Serialised with the right element name per kind (`Topic`, `Queue`, `CloudFunction`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TopicConfiguration {
    #[serde(rename = "Id", skip_serializing_if = "Option::is_none", default)]
    pub id: Option<String>,
    #[serde(rename = "Topic")]
    pub topic: String,
    #[serde(rename = "Event", default)]
    pub events: Vec<String>,
    #[serde(rename = "Filter", skip_serializing_if = "Option::is_none", default)]
    pub filter: Option<NotificationFilter>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct QueueConfiguration {
    #[serde(rename = "Id", skip_serializing_if = "Option::is_none", default)]
    pub id: Option<String>,
    #[serde(rename = "Queue")]
    pub queue: String,
    #[serde(rename = "Event", default)]
    pub events: Vec<String>,
    #[serde(rename = "Filter", skip_serializing_if = "Option::is_none", default)]
    pub filter: Option<NotificationFilter>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct LambdaConfiguration {
    #[serde(rename = "Id", skip_serializing_if = "Option::is_none", default)]
    pub id: Option<String>,
    #[serde(rename = "CloudFunction")]
    pub function: String,
    #[serde(rename = "Event", default)]
    pub events: Vec<String>,
    #[serde(rename = "Filter", skip_serializing_if = "Option::is_none", default)]
    pub filter: Option<NotificationFilter>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct EventBridgeConfiguration {}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct NotificationConfiguration {
    #[serde(
        rename = "TopicConfiguration",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub topics: Vec<TopicConfiguration>,
    #[serde(
        rename = "QueueConfiguration",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub queues: Vec<QueueConfiguration>,
    #[serde(
        rename = "CloudFunctionConfiguration",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub lambdas: Vec<LambdaConfiguration>,
    #[serde(
        rename = "EventBridgeConfiguration",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub eventbridge: Option<EventBridgeConfiguration>,
}

/// The event names S3 accepts in a configuration.
pub fn valid_event(name: &str) -> bool {
    const EVENTS: &[&str] = &[
        "s3:ReducedRedundancyLostObject",
        "s3:ObjectCreated:*",
        "s3:ObjectCreated:Put",
        "s3:ObjectCreated:Post",
        "s3:ObjectCreated:Copy",
        "s3:ObjectCreated:CompleteMultipartUpload",
        "s3:ObjectRemoved:*",
        "s3:ObjectRemoved:Delete",
        "s3:ObjectRemoved:DeleteMarkerCreated",
        "s3:ObjectRestore:*",
        "s3:ObjectRestore:Post",
        "s3:ObjectRestore:Completed",
        "s3:ObjectRestore:Delete",
        "s3:Replication:*",
        "s3:LifecycleExpiration:*",
        "s3:LifecycleExpiration:Delete",
        "s3:LifecycleExpiration:DeleteMarkerCreated",
        "s3:LifecycleTransition",
        "s3:IntelligentTiering",
        "s3:ObjectTagging:*",
        "s3:ObjectTagging:Put",
        "s3:ObjectTagging:Delete",
        "s3:ObjectAcl:Put",
    ];
    EVENTS.contains(&name)
}

/// `s3:ObjectCreated:*` matches `ObjectCreated:Put`.
fn event_matches(pattern: &str, event: &str) -> bool {
    let p = pattern.strip_prefix("s3:").unwrap_or(pattern);
    match p.strip_suffix('*') {
        Some(prefix) => event.starts_with(prefix),
        None => p == event,
    }
}

fn filter_matches(filter: Option<&NotificationFilter>, key: &str) -> bool {
    filter.is_none_or(|f| {
        f.key
            .rules
            .iter()
            .all(|r| match r.name.to_ascii_lowercase().as_str() {
                "prefix" => key.starts_with(&r.value),
                "suffix" => key.ends_with(&r.value),
                _ => true,
            })
    })
}

/// Which configured targets (`(configuration id, target ARN)`) receive `event` for `key`.
pub fn targets(cfg: &NotificationConfiguration, event: &str, key: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut add =
        |id: &Option<String>, arn: &str, events: &[String], f: Option<&NotificationFilter>| {
            if events.iter().any(|e| event_matches(e, event)) && filter_matches(f, key) {
                out.push((id.clone().unwrap_or_default(), arn.to_string()));
            }
        };
    for c in &cfg.queues {
        add(&c.id, &c.queue, &c.events, c.filter.as_ref());
    }
    for c in &cfg.topics {
        add(&c.id, &c.topic, &c.events, c.filter.as_ref());
    }
    for c in &cfg.lambdas {
        add(&c.id, &c.function, &c.events, c.filter.as_ref());
    }
    out
}

/// What happened to an object, for its event record.
#[derive(Debug, Clone)]
pub struct ObjectEvent {
    /// `ObjectCreated:Put`, `ObjectRemoved:DeleteMarkerCreated`, ...
    pub name: &'static str,
    pub bucket: String,
    pub key: String,
    pub size: Option<u64>,
    pub etag: Option<String>,
    pub version_id: Option<String>,
    pub seq: u64,
    pub time_ms: i64,
    pub region: String,
    pub account: String,
    pub request_id: String,
    pub principal: String,
    pub source_ip: String,
    pub extra: EventExtra,
}

/// The principal (and source address) of what S3 does on its own: lifecycle, restores.
pub const SERVICE_PRINCIPAL: &str = "s3.amazonaws.com";

/// What some event kinds carry beyond the object.
#[derive(Debug, Clone, Default)]
pub struct EventExtra {
    /// Restores: the archive class the object is restored from.
    pub source_class: Option<String>,
    /// Transitions: the class the object moved to.
    pub destination_class: Option<String>,
    /// A completed restore: when the restored copy expires.
    pub restore_expiry_ms: Option<i64>,
}

/// S3 notifications carry keys form-encoded (a space is `+`, a `+` is `%2B`), slashes kept.
pub fn encode_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' | b'/' => {
                out.push(b as char);
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// S3 writes `eventVersion` 2.3 for lifecycle, ACL, tagging and restore-expiry events (they
/// carry extra data) and 2.1 for the rest.
fn record_version(name: &str) -> &'static str {
    let v23 = name.starts_with("Lifecycle")
        || name.starts_with("ObjectTagging:")
        || name.starts_with("IntelligentTiering")
        || name == "ObjectAcl:Put"
        || name == "ObjectRestore:Delete";
    if v23 { "2.3" } else { "2.1" }
}

impl ObjectEvent {
    /// The record inside `{"Records": [...]}` for SQS, SNS and Lambda targets.
    pub fn record(&self, configuration_id: &str) -> Value {
        let mut object = json!({
            "key": encode_key(&self.key),
            "sequencer": format!("{:016X}", self.seq),
        });
        if let Some(size) = self.size {
            object["size"] = json!(size);
        }
        if let Some(etag) = &self.etag {
            object["eTag"] = json!(etag);
        }
        if let Some(v) = &self.version_id {
            object["versionId"] = json!(v);
        }
        let mut record = json!({
            "eventVersion": record_version(self.name),
            "eventSource": "aws:s3",
            "awsRegion": self.region,
            "eventTime": aloft_core::clock::iso8601_millis(self.time_ms),
            "eventName": self.name,
            "userIdentity": {"principalId": self.principal},
            "requestParameters": {"sourceIPAddress": self.source_ip},
            "responseElements": {
                "x-amz-request-id": self.request_id,
                "x-amz-id-2": host_id(&self.request_id),
            },
            "s3": {
                "s3SchemaVersion": "1.0",
                "configurationId": configuration_id,
                "bucket": {
                    "name": self.bucket,
                    "ownerIdentity": {"principalId": self.principal},
                    "arn": format!("arn:aws:s3:::{}", self.bucket),
                },
                "object": object,
            }
        });
        if self.name == "ObjectRestore:Completed" {
            let mut data = json!({});
            if let Some(at) = self.extra.restore_expiry_ms {
                data["lifecycleRestorationExpiryTime"] =
                    json!(aloft_core::clock::iso8601_millis(at));
            }
            if let Some(c) = &self.extra.source_class {
                data["lifecycleRestoreStorageClass"] = json!(c);
            }
            record["glacierEventData"] = json!({"restoreEventData": data});
        }
        if let Some(c) = self.extra.destination_class.as_ref() {
            record["lifecycleEventData"] =
                json!({"transitionEventData": {"destinationStorageClass": c}});
        }
        record
    }
}

/// An `x-amz-id-2`-looking value derived from the request id.
pub fn host_id(request_id: &str) -> String {
    // On every response: encoded in whole 3-byte groups into one buffer sized exactly (a
    // `HeaderValue` made from it takes it over), without `format!`.
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let n = 6 + request_id.len();
    let mut stack = [0u8; 128];
    let heap;
    let raw: &[u8] = if n <= stack.len() {
        stack[..6].copy_from_slice(b"aloft/");
        stack[6..n].copy_from_slice(request_id.as_bytes());
        &stack[..n]
    } else {
        heap = [b"aloft/".as_slice(), request_id.as_bytes()].concat();
        &heap
    };
    let mut out = Vec::with_capacity(raw.len().div_ceil(3) * 4);
    let groups = raw.chunks_exact(3);
    let rest = groups.remainder();
    let digit = |g: u32, shift: u32| ALPHABET[(g >> shift & 63) as usize];
    for g in groups {
        let g = u32::from(g[0]) << 16 | u32::from(g[1]) << 8 | u32::from(g[2]);
        out.extend_from_slice(&[digit(g, 18), digit(g, 12), digit(g, 6), digit(g, 0)]);
    }
    match *rest {
        [a] => {
            let g = u32::from(a) << 16;
            out.extend_from_slice(&[digit(g, 18), digit(g, 12), b'=', b'=']);
        }
        [a, b] => {
            let g = u32::from(a) << 16 | u32::from(b) << 8;
            out.extend_from_slice(&[digit(g, 18), digit(g, 12), digit(g, 6), b'=']);
        }
        _ => {}
    }
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_id_is_base64_of_the_request_id() {
        use base64::Engine;
        let id = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".repeat(3);
        for len in 0..id.len() {
            let rid = &id[..len];
            assert_eq!(
                host_id(rid),
                base64::engine::general_purpose::STANDARD.encode(format!("aloft/{rid}")),
                "{rid}"
            );
        }
    }

    #[test]
    fn matching_and_encoding() {
        let cfg = NotificationConfiguration {
            queues: vec![QueueConfiguration {
                id: Some("q".into()),
                queue: "arn:aws:sqs:us-east-1:000000000000:q".into(),
                events: vec!["s3:ObjectCreated:*".into()],
                filter: Some(NotificationFilter {
                    key: S3KeyFilter {
                        rules: vec![FilterRule {
                            name: "suffix".into(),
                            value: ".jpg".into(),
                        }],
                    },
                }),
            }],
            ..Default::default()
        };
        assert_eq!(targets(&cfg, "ObjectCreated:Put", "a.jpg").len(), 1);
        assert!(targets(&cfg, "ObjectCreated:Put", "a.png").is_empty());
        assert!(targets(&cfg, "ObjectRemoved:Delete", "a.jpg").is_empty());
        assert_eq!(
            encode_key("my photo/ü=1+2.jpg"),
            "my+photo/%C3%BC%3D1%2B2.jpg"
        );
    }
}
