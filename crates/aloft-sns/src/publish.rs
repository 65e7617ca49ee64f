//! Publishing and fan-out: validation, MessageStructure json, filter policies, the
//! notification envelope, delivery to each protocol, retries and subscription DLQs.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use aloft_core::{RequestContext, clock};
use aloft_events::Delivery;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::error::{Code, Result, SnsError};
use crate::state::{Subscription, Topic};
use crate::{Out, Sns, parse};

/// 256 KiB: the largest SNS message (body plus attributes).
const MAX_MESSAGE: usize = 262_144;

#[derive(Deserialize, Clone, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub struct AttributeValue {
    pub data_type: String,
    #[serde(default)]
    pub string_value: Option<String>,
    #[serde(default)]
    pub binary_value: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct PublishEntry {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub message_structure: Option<String>,
    #[serde(default)]
    pub message_attributes: BTreeMap<String, AttributeValue>,
    #[serde(default)]
    pub message_deduplication_id: Option<String>,
    #[serde(default)]
    pub message_group_id: Option<String>,
}

/// A validated message, ready to fan out.
#[derive(Clone, Debug)]
pub struct Outgoing {
    pub message_id: String,
    pub topic: Topic,
    pub message: String,
    /// Per-protocol bodies from MessageStructure json (`default` is required).
    pub per_protocol: Option<Map<String, Value>>,
    pub subject: Option<String>,
    pub attributes: BTreeMap<String, AttributeValue>,
    pub group_id: Option<String>,
    pub dedup_id: Option<String>,
    pub sequence_number: Option<String>,
    pub timestamp_ms: i64,
    pub base_url: String,
    /// Signatures made for this message, by body: subscribers that get the same body share
    /// one RSA signature instead of one each.
    pub signatures: Arc<std::sync::Mutex<Vec<(String, String)>>>,
}

impl Outgoing {
    fn body_for(&self, protocol: &str) -> String {
        self.per_protocol
            .as_ref()
            .and_then(|m| m.get(protocol).or_else(|| m.get("default")))
            .and_then(Value::as_str)
            .map_or_else(|| self.message.clone(), str::to_string)
    }
}

fn check_attributes(attrs: &BTreeMap<String, AttributeValue>) -> Result<usize> {
    if attrs.len() > 10 {
        return Err(SnsError::invalid(
            "MessageAttributes: Number of message attributes exceeds the allowed maximum of 10",
        ));
    }
    let mut size = 0;
    for (k, v) in attrs {
        let base = v.data_type.split('.').next().unwrap_or("");
        match (base, &v.string_value, &v.binary_value) {
            ("String" | "Number", Some(s), _) => {
                if base == "Number" && s.parse::<f64>().is_err() {
                    return Err(SnsError::new(
                        Code::ParameterValueInvalid,
                        format!("Could not cast message attribute '{k}' value to number."),
                    ));
                }
                if v.data_type == "String.Array" && serde_json::from_str::<Vec<Value>>(s).is_err() {
                    return Err(SnsError::new(
                        Code::ParameterValueInvalid,
                        format!("Message attribute '{k}' value is not a JSON array."),
                    ));
                }
                size += s.len();
            }
            ("Binary", _, Some(b)) => size += b.len() * 3 / 4,
            ("String" | "Number" | "Binary", _, _) => {
                return Err(SnsError::new(
                    Code::ParameterValueInvalid,
                    format!(
                        "The message attribute '{k}' must contain non-empty message attribute value for message attribute type '{}'.",
                        v.data_type
                    ),
                ));
            }
            _ => {
                return Err(SnsError::new(
                    Code::ParameterValueInvalid,
                    format!(
                        "The message attribute '{k}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String."
                    ),
                ));
            }
        }
        size += k.len() + v.data_type.len();
    }
    Ok(size)
}

fn hex_sha256(data: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Sns {
    /// Validates one message for `topic` and assigns it an id (and FIFO sequence number).
    fn prepare(&self, base_url: &str, topic: &Topic, e: PublishEntry) -> Result<Outgoing> {
        let message = e.message.unwrap_or_default();
        if message.is_empty() {
            return Err(SnsError::invalid("Empty message"));
        }
        if let Some(s) = &e.subject
            && (s.is_empty() || s.chars().count() > 100 || s.chars().any(char::is_control))
        {
            return Err(SnsError::invalid("Subject"));
        }
        let attr_size = check_attributes(&e.message_attributes)?;
        if message.len() + attr_size > MAX_MESSAGE {
            return Err(SnsError::invalid("Message too long"));
        }
        let per_protocol = match e.message_structure.as_deref() {
            None => None,
            Some("json") => {
                let v: Value = serde_json::from_str(&message).map_err(|_| {
                    SnsError::invalid("Message Structure - JSON message body failed to parse")
                })?;
                let Value::Object(m) = v else {
                    return Err(SnsError::invalid(
                        "Message Structure - JSON message body failed to parse",
                    ));
                };
                if !m.contains_key("default") {
                    return Err(SnsError::invalid(
                        "Message Structure - No default entry in JSON message body",
                    ));
                }
                Some(m)
            }
            Some(_) => return Err(SnsError::invalid("MessageStructure")),
        };
        let mut sequence_number = None;
        if topic.fifo {
            if e.message_group_id.is_none() {
                return Err(SnsError::invalid(
                    "The MessageGroupId parameter is required for FIFO topics",
                ));
            }
            let cbd = topic
                .attributes
                .get("ContentBasedDeduplication")
                .is_some_and(|v| v == "true");
            if e.message_deduplication_id.is_none() && !cbd {
                return Err(SnsError::invalid(
                    "The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly",
                ));
            }
            sequence_number = Some(self.next_sequence());
        } else if let Some(d) = &e.message_deduplication_id {
            return Err(SnsError::invalid(format!(
                "MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter that is not valid for this topic type: {d}"
            )));
        }
        let dedup_id = match (&e.message_deduplication_id, topic.fifo) {
            (Some(d), _) => Some(d.clone()),
            (None, true) => Some(hex_sha256(message.as_bytes())),
            (None, false) => None,
        };
        Ok(Outgoing {
            message_id: aloft_core::ids::uuid(),
            topic: topic.clone(),
            message,
            per_protocol,
            subject: e.subject,
            attributes: e.message_attributes,
            group_id: e.message_group_id,
            dedup_id,
            sequence_number,
            timestamp_ms: clock::now_millis(),
            base_url: base_url.to_string(),
            signatures: Arc::default(),
        })
    }

    /// Publishes for another service (EventBridge targets, CloudWatch alarms, S3 events):
    /// `options` may carry `Subject`, `MessageAttributes`, `MessageStructure`,
    /// `MessageGroupId`, `MessageDeduplicationId`.
    pub async fn publish_from(self: &Arc<Self>, arn: &str, d: &Delivery) -> Result<Outgoing> {
        let topic = self.topic(arn)?;
        let mut input = d.options.clone();
        input.insert("Message".into(), json!(String::from_utf8_lossy(&d.payload)));
        let e: PublishEntry = parse(Value::Object(input))?;
        let out = self.prepare(&self.base_url, &topic, e)?;
        self.fan_out(out.clone());
        Ok(out)
    }

    fn next_sequence(&self) -> String {
        let mut n = self
            .sequence
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *n += 1;
        format!("{:020}", *n)
    }

    fn target_topic(&self, input: &Value) -> Result<Topic> {
        let arn = input
            .get("TopicArn")
            .or_else(|| input.get("TargetArn"))
            .and_then(Value::as_str);
        match arn {
            Some(a) => self.topic(a),
            None if input.get("PhoneNumber").is_some() => Err(SnsError::invalid(
                "PhoneNumber Reason: direct SMS publishing is recorded only through subscriptions in Aloft",
            )),
            None => Err(SnsError::invalid(
                "TopicArn or TargetArn Reason: no value for required parameter",
            )),
        }
    }

    pub(crate) async fn publish(self: &Arc<Self>, ctx: &RequestContext, input: Value) -> Out {
        let topic = self.target_topic(&input)?;
        let e: PublishEntry = parse(input)?;
        let out = self.prepare(&ctx.base_url, &topic, e)?;
        let mut res = json!({"MessageId": out.message_id});
        if let Some(s) = &out.sequence_number {
            res["SequenceNumber"] = json!(s);
        }
        self.fan_out(out);
        Ok(res)
    }

    pub(crate) async fn publish_batch(self: &Arc<Self>, ctx: &RequestContext, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct I {
            topic_arn: String,
            #[serde(default)]
            publish_batch_request_entries: Vec<PublishEntry>,
        }
        let i: I = parse(input)?;
        let topic = self.topic(&i.topic_arn)?;
        let entries = i.publish_batch_request_entries;
        if entries.is_empty() {
            return Err(SnsError::new(
                Code::EmptyBatchRequest,
                "The batch request doesn't contain any entries",
            ));
        }
        if entries.len() > 10 {
            return Err(SnsError::new(
                Code::TooManyEntriesInBatchRequest,
                "The batch request contains more entries than permissible",
            ));
        }
        let mut seen = HashSet::new();
        for e in &entries {
            let id = e.id.as_deref().unwrap_or("");
            if id.is_empty()
                || id.len() > 80
                || !id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err(SnsError::new(
                    Code::InvalidBatchEntryId,
                    "The Id of a batch entry in a batch request doesn't abide by the specification",
                ));
            }
            if !seen.insert(id.to_string()) {
                return Err(SnsError::new(
                    Code::BatchEntryIdsNotDistinct,
                    "Two or more batch entries in the request have the same Id",
                ));
            }
        }
        let total: usize = entries
            .iter()
            .map(|e| e.message.as_ref().map_or(0, String::len))
            .sum();
        if total > MAX_MESSAGE {
            return Err(SnsError::new(
                Code::BatchRequestTooLong,
                "The length of all the messages put together is more than the limit",
            ));
        }
        let mut ok = Vec::new();
        let mut failed = Vec::new();
        for e in entries {
            let id = e.id.clone().unwrap_or_default();
            match self.prepare(&ctx.base_url, &topic, e) {
                Ok(out) => {
                    let mut r = json!({"Id": id, "MessageId": out.message_id});
                    if let Some(s) = &out.sequence_number {
                        r["SequenceNumber"] = json!(s);
                    }
                    ok.push(r);
                    self.fan_out(out);
                }
                Err(err) => failed.push(json!({"Id": id, "Code": err.code.name(), "Message": err.message, "SenderFault": true})),
            }
        }
        Ok(json!({"Successful": ok, "Failed": failed}))
    }

    /// Delivers to every confirmed, matching subscription, after the answer is sent.
    fn fan_out(self: &Arc<Self>, out: Outgoing) {
        let subs: Vec<Subscription> = self
            .state
            .read()
            .subs
            .values()
            .filter(|s| s.topic_arn == out.topic.arn && s.confirmed)
            .cloned()
            .collect();
        for s in subs {
            if !filter_matches(&s, &out) {
                continue;
            }
            let me = self.clone();
            let out = out.clone();
            tokio::spawn(async move { me.deliver(&s, &out).await });
        }
    }

    async fn deliver(&self, s: &Subscription, out: &Outgoing) {
        let body = out.body_for(&s.protocol);
        let result = match s.protocol.as_str() {
            "sqs" => self.deliver_sqs(s, out, &body).await,
            "lambda" => self.deliver_lambda(s, out, &body).await,
            "http" | "https" => self.deliver_http(s, out, &body).await,
            "email" | "email-json" | "sms" => {
                self.record(json!({
                    "type": "Notification", "protocol": s.protocol, "endpoint": s.endpoint,
                    "topic_arn": out.topic.arn, "subscription_arn": s.arn, "message_id": out.message_id,
                    "subject": out.subject, "message": if s.protocol == "email-json" { envelope(&self.signer, s, out, &body).to_string() } else { body.clone() },
                    "timestamp": clock::iso8601_millis(out.timestamp_ms),
                }));
                Ok(())
            }
            other => Err(format!("protocol {other} is not delivered by Aloft")),
        };
        if let Err(e) = result {
            tracing::warn!(
                "sns: delivery of {} to {} failed: {e}",
                out.message_id,
                s.endpoint
            );
            self.dead_letter(s, out, &body).await;
        }
    }

    async fn deliver_sqs(
        &self,
        s: &Subscription,
        out: &Outgoing,
        body: &str,
    ) -> std::result::Result<(), String> {
        let mut options = Map::new();
        let payload = if s.raw() {
            let attrs: Map<String, Value> = out
                .attributes
                .iter()
                .map(|(k, v)| {
                    let mut a = Map::new();
                    a.insert("DataType".into(), json!(v.data_type));
                    if let Some(sv) = &v.string_value {
                        a.insert("StringValue".into(), json!(sv));
                    }
                    if let Some(b) = &v.binary_value {
                        a.insert("BinaryValue".into(), json!(b));
                    }
                    (k.clone(), Value::Object(a))
                })
                .collect();
            if !attrs.is_empty() {
                options.insert("MessageAttributes".into(), Value::Object(attrs));
            }
            body.to_string()
        } else {
            envelope(&self.signer, s, out, body).to_string()
        };
        if let Some(g) = &out.group_id {
            options.insert("MessageGroupId".into(), json!(g));
        }
        if let Some(d) = &out.dedup_id {
            options.insert("MessageDeduplicationId".into(), json!(d));
        }
        self.targets
            .deliver(&s.endpoint, self.delivery(out, payload.into(), options))
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    async fn deliver_lambda(
        &self,
        s: &Subscription,
        out: &Outgoing,
        body: &str,
    ) -> std::result::Result<(), String> {
        let mut sns = envelope(&self.signer, s, out, body);
        // Lambda's SNS record spells the certificate URL `SigningCertUrl` and always has Subject.
        if let Value::Object(m) = &mut sns {
            if let Some(v) = m.remove("SigningCertURL") {
                m.insert("SigningCertUrl".into(), v);
            }
            if let Some(v) = m.remove("UnsubscribeURL") {
                m.insert("UnsubscribeUrl".into(), v);
            }
            m.entry("Subject").or_insert(Value::Null);
            m.entry("MessageAttributes").or_insert(json!({}));
        }
        let event = json!({"Records": [{
            "EventSource": "aws:sns",
            "EventVersion": "1.0",
            "EventSubscriptionArn": s.arn,
            "Sns": sns,
        }]});
        self.targets
            .deliver(
                &s.endpoint,
                self.delivery(out, event.to_string().into(), Map::new()),
            )
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// HTTP(S) endpoints get the envelope (or the raw body) with SNS's headers; 2xx is
    /// success; three attempts, as the default delivery policy's immediate retries.
    async fn deliver_http(
        &self,
        s: &Subscription,
        out: &Outgoing,
        body: &str,
    ) -> std::result::Result<(), String> {
        let payload = if s.raw() {
            body.to_string()
        } else {
            envelope(&self.signer, s, out, body).to_string()
        };
        let mut headers = vec![
            ("x-amz-sns-message-type", "Notification".to_string()),
            ("x-amz-sns-message-id", out.message_id.clone()),
            ("x-amz-sns-topic-arn", out.topic.arn.clone()),
            ("x-amz-sns-subscription-arn", s.arn.clone()),
            ("Content-Type", "text/plain; charset=UTF-8".to_string()),
        ];
        if s.raw() {
            headers.push(("x-amz-sns-rawdelivery", "true".to_string()));
        }
        let mut last = String::new();
        for attempt in 0..3 {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(200 * attempt)).await;
            }
            match crate::webhook::post(&s.endpoint, &headers, payload.as_bytes()).await {
                Ok(code) if (200..300).contains(&code) => return Ok(()),
                Ok(code) => last = format!("HTTP {code}"),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// Sends an undeliverable message to the subscription's dead-letter queue, if it has one.
    async fn dead_letter(&self, s: &Subscription, out: &Outgoing, body: &str) {
        let Some(dlq) = s
            .attributes
            .get("RedrivePolicy")
            .and_then(|p| serde_json::from_str::<Value>(p).ok())
            .and_then(|v| v.get("deadLetterTargetArn")?.as_str().map(str::to_string))
        else {
            return;
        };
        let payload = envelope(&self.signer, s, out, body).to_string();
        if let Err(e) = self
            .targets
            .deliver(&dlq, self.delivery(out, payload.into(), Map::new()))
            .await
        {
            tracing::warn!(
                "sns: dead-letter queue {dlq} refused {}: {e}",
                out.message_id
            );
        }
    }

    fn delivery(&self, out: &Outgoing, payload: Bytes, options: Map<String, Value>) -> Delivery {
        Delivery {
            payload,
            options,
            sync: false,
            source_arn: Some(out.topic.arn.clone()),
            account: out.topic.account.clone(),
            region: out.topic.region.clone(),
        }
    }

    /// Sends the SubscriptionConfirmation (HTTP) or records it (email), with the token and
    /// the SubscribeURL that confirms it.
    pub(crate) fn request_confirmation(&self, s: &Subscription, base_url: &str) {
        let subscribe_url = format!(
            "{base_url}/_aloft/sns/confirm?TopicArn={}&Token={}",
            s.topic_arn, s.token
        );
        let message_id = aloft_core::ids::uuid();
        let message = format!(
            "You have chosen to subscribe to the topic {}.\nTo confirm the subscription, visit the SubscribeURL included in this message.",
            s.topic_arn
        );
        let timestamp = clock::iso8601_millis(clock::now_millis());
        let version = self
            .state
            .read()
            .topics
            .get(&s.topic_arn)
            .and_then(|t| t.attributes.get("SignatureVersion").cloned())
            .unwrap_or_else(|| "1".into());
        let signature = self.signer.sign(
            &[
                ("Message", Some(&message)),
                ("MessageId", Some(&message_id)),
                ("SubscribeURL", Some(&subscribe_url)),
                ("Timestamp", Some(&timestamp)),
                ("Token", Some(&s.token)),
                ("TopicArn", Some(&s.topic_arn)),
                ("Type", Some("SubscriptionConfirmation")),
            ],
            &version,
        );
        let msg = json!({
            "Type": "SubscriptionConfirmation",
            "MessageId": message_id,
            "Token": s.token,
            "TopicArn": s.topic_arn,
            "Message": message,
            "SubscribeURL": subscribe_url,
            "Timestamp": timestamp,
            "SignatureVersion": version,
            "Signature": signature,
            "SigningCertURL": format!("{base_url}/_aloft/sns/SimpleNotificationService.pem"),
        });
        if s.protocol.starts_with("email") {
            self.record(json!({
                "type": "SubscriptionConfirmation", "protocol": s.protocol, "endpoint": s.endpoint,
                "topic_arn": s.topic_arn, "subscription_arn": s.arn, "token": s.token,
                "subscribe_url": subscribe_url, "message": msg["Message"],
                "timestamp": msg["Timestamp"],
            }));
            return;
        }
        let endpoint = s.endpoint.clone();
        let arn = s.arn.clone();
        let topic = s.topic_arn.clone();
        tokio::spawn(async move {
            let headers = [
                (
                    "x-amz-sns-message-type",
                    "SubscriptionConfirmation".to_string(),
                ),
                (
                    "x-amz-sns-message-id",
                    msg["MessageId"].as_str().unwrap_or("").to_string(),
                ),
                ("x-amz-sns-topic-arn", topic),
                ("x-amz-sns-subscription-arn", arn),
                ("Content-Type", "text/plain; charset=UTF-8".to_string()),
            ];
            if let Err(e) =
                crate::webhook::post(&endpoint, &headers, msg.to_string().as_bytes()).await
            {
                tracing::warn!("sns: confirmation request to {endpoint} failed: {e}");
            }
        });
    }
}

/// The JSON envelope SQS, HTTP and email-json subscribers receive.
pub fn envelope(
    signer: &crate::signing::Signer,
    s: &Subscription,
    out: &Outgoing,
    body: &str,
) -> Value {
    let mut m = Map::new();
    m.insert("Type".into(), json!("Notification"));
    m.insert("MessageId".into(), json!(out.message_id));
    if let Some(n) = &out.sequence_number {
        m.insert("SequenceNumber".into(), json!(n));
    }
    m.insert("TopicArn".into(), json!(out.topic.arn));
    if let Some(subj) = &out.subject {
        m.insert("Subject".into(), json!(subj));
    }
    m.insert("Message".into(), json!(body));
    m.insert(
        "Timestamp".into(),
        json!(clock::iso8601_millis(out.timestamp_ms)),
    );
    if !out.topic.fifo {
        let version = out
            .topic
            .attributes
            .get("SignatureVersion")
            .map_or("1", String::as_str);
        let timestamp = clock::iso8601_millis(out.timestamp_ms);
        let cached = out
            .signatures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .find(|(b, _)| b == body)
            .map(|(_, sig)| sig.clone());
        let signature = cached.unwrap_or_else(|| {
            let sig = signer.sign(
                &[
                    ("Message", Some(body)),
                    ("MessageId", Some(&out.message_id)),
                    ("Subject", out.subject.as_deref()),
                    ("Timestamp", Some(&timestamp)),
                    ("TopicArn", Some(&out.topic.arn)),
                    ("Type", Some("Notification")),
                ],
                version,
            );
            out.signatures
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push((body.to_string(), sig.clone()));
            sig
        });
        m.insert("SignatureVersion".into(), json!(version));
        m.insert("Signature".into(), json!(signature));
        m.insert(
            "SigningCertURL".into(),
            json!(format!(
                "{}/_aloft/sns/SimpleNotificationService.pem",
                out.base_url
            )),
        );
    }
    m.insert(
        "UnsubscribeURL".into(),
        json!(format!(
            "{}/?Action=Unsubscribe&SubscriptionArn={}",
            out.base_url, s.arn
        )),
    );
    if !out.attributes.is_empty() {
        let attrs: Map<String, Value> = out
            .attributes
            .iter()
            .map(|(k, v)| {
                let value = v
                    .string_value
                    .clone()
                    .or_else(|| v.binary_value.clone())
                    .unwrap_or_default();
                (k.clone(), json!({"Type": v.data_type, "Value": value}))
            })
            .collect();
        m.insert("MessageAttributes".into(), Value::Object(attrs));
    }
    Value::Object(m)
}

/// Whether a message passes a subscription's filter policy (attributes or body scope).
pub fn filter_matches(s: &Subscription, out: &Outgoing) -> bool {
    let Some(policy) = s
        .attributes
        .get("FilterPolicy")
        .filter(|p| !p.is_empty())
        .and_then(|p| serde_json::from_str::<Value>(p).ok())
    else {
        return true;
    };
    let body_scope = s
        .attributes
        .get("FilterPolicyScope")
        .is_some_and(|v| v == "MessageBody");
    if body_scope {
        let body = out.body_for(&s.protocol);
        return serde_json::from_str::<Value>(&body)
            .ok()
            .is_some_and(|v| aloft_eventpattern::matches(&policy, &v));
    }
    let event: Map<String, Value> = out
        .attributes
        .iter()
        .filter_map(|(k, v)| {
            let s = v.string_value.as_ref()?;
            let value = match v.data_type.as_str() {
                "String.Array" => serde_json::from_str(s).ok()?,
                t if t.starts_with("Number") => serde_json::from_str::<serde_json::Number>(s)
                    .map(Value::Number)
                    .or_else(|_| s.parse::<f64>().map(|f| json!(f)))
                    .ok()?,
                _ => Value::String(s.clone()),
            };
            Some((k.clone(), value))
        })
        .collect();
    aloft_eventpattern::matches(&policy, &Value::Object(event))
}
