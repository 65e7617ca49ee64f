//! Message operations: send, receive (long polling), delete, visibility — single and batch.

use std::collections::HashSet;
use std::sync::Arc;

use aloft_core::{RequestContext, clock};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{Out, commit, parse};
use crate::Sqs;
use crate::domain::attributes::{self, Attributes, selected};
use crate::domain::queue::{Message, NewMessage, Received, Sent};
use crate::error::{Code, Result, SqsError};
use crate::registry::Queue;

/// One message to send, as SendMessage and each SendMessageBatch entry carry it.
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct SendEntry {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub message_body: Option<String>,
    #[serde(default)]
    pub delay_seconds: Option<i64>,
    #[serde(default)]
    pub message_attributes: Attributes,
    #[serde(default)]
    pub message_system_attributes: Attributes,
    #[serde(default)]
    pub message_deduplication_id: Option<String>,
    #[serde(default)]
    pub message_group_id: Option<String>,
}

/// The characters SQS accepts in a body: #x9 | #xA | #xD | #x20–#xD7FF | #xE000–#xFFFD | #x10000–#x10FFFF.
fn valid_char(c: char) -> bool {
    matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

/// Group and deduplication ids: 1–128 alphanumeric or punctuation characters.
fn check_token(param: &str, v: &str) -> Result<()> {
    if v.is_empty() || v.len() > 128 || !v.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(SqsError::invalid_value(
            param,
            v,
            &format!(
                "{param} can only include alphanumeric and punctuation characters. 1 to 128 in length."
            ),
        ));
    }
    Ok(())
}

/// Validates an entry against its queue and turns it into a [`NewMessage`].
pub fn prepare(q: &Queue, e: SendEntry, sender_id: &str) -> Result<NewMessage> {
    let (fifo, max_size) = {
        let st = q.lock();
        (st.config.fifo, st.config.maximum_message_size as usize)
    };
    let body = e.message_body.unwrap_or_default();
    if body.is_empty() {
        return Err(SqsError::missing("MessageBody"));
    }
    if !body.chars().all(valid_char) {
        return Err(SqsError::new(
            Code::InvalidMessageContents,
            "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF",
        ));
    }
    let delay = match e.delay_seconds {
        None => None,
        Some(d @ 0..=900) => {
            if fifo && d != 0 {
                return Err(SqsError::invalid_value(
                    "DelaySeconds",
                    d,
                    "The request include parameter that is not valid for this queue type.",
                ));
            }
            Some(d as u32)
        }
        Some(d) => {
            return Err(SqsError::invalid_value(
                "DelaySeconds",
                d,
                "DelaySeconds must be >= 0 and <= 900.",
            ));
        }
    };
    if let Some(g) = &e.message_group_id {
        check_token("MessageGroupId", g)?;
    }
    if let Some(d) = &e.message_deduplication_id {
        if !fifo {
            return Err(SqsError::invalid_value(
                "MessageDeduplicationId",
                d,
                "The request include parameter that is not valid for this queue type.",
            ));
        }
        check_token("MessageDeduplicationId", d)?;
    }
    let (attr_size, md5_attributes) = attributes::validate_user(&e.message_attributes)?;
    let md5_system = attributes::validate_system(&e.message_system_attributes)?;
    if body.len() + attr_size > max_size {
        return Err(SqsError::invalid(format!(
            "One or more parameters are invalid. Reason: Message must be shorter than {max_size} bytes."
        )));
    }
    Ok(NewMessage {
        body,
        attributes: e.message_attributes,
        md5_attributes,
        system: e.message_system_attributes,
        md5_system,
        delay_seconds: delay,
        group_id: e.message_group_id,
        dedup_id: e.message_deduplication_id,
        sender_id: sender_id.to_string(),
        ..Default::default()
    })
}

fn sent_json(s: &Sent, id: Option<&str>) -> Value {
    let mut m = Map::new();
    if let Some(id) = id {
        m.insert("Id".into(), json!(id));
    }
    m.insert("MessageId".into(), json!(s.message_id));
    m.insert("MD5OfMessageBody".into(), json!(s.md5_body));
    if let Some(a) = &s.md5_attributes {
        m.insert("MD5OfMessageAttributes".into(), json!(a));
    }
    if let Some(a) = &s.md5_system {
        m.insert("MD5OfMessageSystemAttributes".into(), json!(a));
    }
    if let Some(n) = &s.sequence_number {
        m.insert("SequenceNumber".into(), json!(n));
    }
    Value::Object(m)
}

/// Batch entry ids: 1–80 of `[A-Za-z0-9_-]`, distinct, 1–10 entries.
fn check_batch(ids: &[Option<String>], entry_name: &str) -> Result<()> {
    if ids.is_empty() {
        return Err(SqsError::new(
            Code::EmptyBatchRequest,
            format!("There should be at least one {entry_name} in the request."),
        ));
    }
    if ids.len() > 10 {
        return Err(SqsError::new(
            Code::TooManyEntriesInBatchRequest,
            format!(
                "Maximum number of entries per request are 10. You have sent {}.",
                ids.len()
            ),
        ));
    }
    let mut seen = HashSet::new();
    for id in ids {
        let Some(id) = id else {
            return Err(SqsError::missing(&format!("{entry_name}.N.Id")));
        };
        if id.is_empty()
            || id.len() > 80
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(SqsError::new(
                Code::InvalidBatchEntryId,
                "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.",
            ));
        }
        if !seen.insert(id.as_str()) {
            return Err(SqsError::new(
                Code::BatchEntryIdsNotDistinct,
                format!("Id {id} repeated."),
            ));
        }
    }
    Ok(())
}

fn failed(id: &str, e: &SqsError) -> Value {
    json!({"Id": id, "SenderFault": e.code.status() < 500, "Code": e.code.query(), "Message": e.message})
}

fn sender(ctx: &RequestContext) -> String {
    ctx.access_key()
        .filter(|k| k.len() >= 16)
        .map_or_else(|| ctx.account_id.clone(), str::to_string)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Batch<T> {
    #[serde(default = "Vec::new")]
    entries: Vec<T>,
}

impl Sqs {
    pub(crate) async fn send_message(&self, ctx: &RequestContext, input: Value) -> Out {
        let q = self.queue(ctx, &input)?;
        let e: SendEntry = parse(input)?;
        let new = prepare(&q, e, &sender(ctx))?;
        let sent = self.reg.enqueue(&q, new).await?;
        Ok(sent_json(&sent, None))
    }

    pub(crate) async fn send_message_batch(&self, ctx: &RequestContext, input: Value) -> Out {
        let q = self.queue(ctx, &input)?;
        let b: Batch<SendEntry> = parse(input)?;
        let ids: Vec<Option<String>> = b.entries.iter().map(|e| e.id.clone()).collect();
        check_batch(&ids, "SendMessageBatchRequestEntry")?;
        let total: usize = b
            .entries
            .iter()
            .map(|e| {
                e.message_body.as_ref().map_or(0, String::len)
                    + e.message_attributes
                        .iter()
                        .map(|(k, v)| {
                            k.len()
                                + v.data_type.len()
                                + v.string_value.as_ref().map_or(0, String::len)
                                + v.binary_value.as_ref().map_or(0, |b| b.len() * 3 / 4)
                        })
                        .sum::<usize>()
            })
            .sum();
        let max = q.lock().config.maximum_message_size as usize;
        if total > max {
            return Err(SqsError::new(
                Code::BatchRequestTooLong,
                format!(
                    "Batch requests cannot be longer than {max} bytes. You have sent {total} bytes."
                ),
            ));
        }
        let sender = sender(ctx);
        let mut ok = Vec::new();
        let mut bad = Vec::new();
        for e in b.entries {
            let id = e.id.clone().unwrap_or_default();
            match prepare(&q, e, &sender) {
                Ok(new) => match self.reg.enqueue(&q, new).await {
                    Ok(s) => ok.push(sent_json(&s, Some(&id))),
                    Err(err) => bad.push(failed(&id, &err)),
                },
                Err(err) => bad.push(failed(&id, &err)),
            }
        }
        Ok(json!({"Successful": ok, "Failed": bad}))
    }

    pub(crate) async fn receive_message(&self, ctx: &RequestContext, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct I {
            #[serde(default)]
            attribute_names: Vec<String>,
            #[serde(default)]
            message_system_attribute_names: Vec<String>,
            #[serde(default)]
            message_attribute_names: Vec<String>,
            #[serde(default)]
            max_number_of_messages: Option<i64>,
            #[serde(default)]
            visibility_timeout: Option<i64>,
            #[serde(default)]
            wait_time_seconds: Option<i64>,
        }
        let q = self.queue(ctx, &input)?;
        let i: I = parse(input)?;
        let max = match i.max_number_of_messages {
            None => 1,
            Some(n @ 1..=10) => n as usize,
            Some(n) => {
                return Err(SqsError::invalid_value(
                    "MaxNumberOfMessages",
                    n,
                    "Must be between 1 and 10, if provided.",
                ));
            }
        };
        let visibility = match i.visibility_timeout {
            None => None,
            Some(n @ 0..=43_200) => Some(n as u32),
            Some(n) => {
                return Err(SqsError::invalid_value(
                    "VisibilityTimeout",
                    n,
                    "Must be >= 0 and <= 43200, if provided.",
                ));
            }
        };
        let wait = match i.wait_time_seconds {
            None => None,
            Some(n @ 0..=20) => Some(n as u32),
            Some(n) => {
                return Err(SqsError::invalid_value(
                    "WaitTimeSeconds",
                    n,
                    "Must be >= 0 and <= 20, if provided.",
                ));
            }
        };
        let got = self.receive(&q, max, visibility, wait).await;
        let mut system = i.attribute_names;
        system.extend(i.message_system_attribute_names);
        let msgs: Vec<Value> = got
            .iter()
            .map(|r| message_json(r, &system, &i.message_attribute_names))
            .collect();
        if msgs.is_empty() {
            return Ok(json!({}));
        }
        Ok(json!({"Messages": msgs}))
    }

    /// Receives with long polling: waits until a message is visible, the wait ends, or the
    /// queue is deleted. Sends wake waiters through the queue's `Notify`, so a waiting
    /// receiver answers as soon as a message lands rather than on a polling tick.
    pub(crate) async fn receive(
        &self,
        q: &Arc<Queue>,
        max: usize,
        visibility: Option<u32>,
        wait: Option<u32>,
    ) -> Vec<Received> {
        let start = clock::now_millis();
        let wait_s = wait.unwrap_or_else(|| q.lock().config.receive_message_wait_time_seconds);
        let deadline = start + i64::from(wait_s) * 1000;
        loop {
            let notified = q.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let now = clock::now_millis();
            let (got, dead, due, dlq, commit) = {
                let mut st = q.lock();
                let vis = visibility.unwrap_or(st.config.visibility_timeout);
                let redrive = st.config.redrive();
                let (got, dead) =
                    st.receive(max, vis, now, redrive.as_ref().map(|r| r.max_receive_count));
                let c = self
                    .reg
                    .save_messages(q, got.iter().map(|r| &r.message), []);
                (
                    got,
                    dead,
                    st.next_due(),
                    redrive.map(|r| r.dead_letter_target_arn),
                    c,
                )
            };
            let _ = commit.await;
            if let Some(dlq) = dlq {
                self.reg.dead_letter(q, &dlq, dead).await;
            }
            if !got.is_empty()
                || now >= deadline
                || q.deleted.load(std::sync::atomic::Ordering::SeqCst)
            {
                return got;
            }
            let wake = due.map_or(deadline, |d| d.min(deadline));
            tokio::select! {
                () = &mut notified => {}
                () = clock::sleep_until_millis(wake) => {}
            }
        }
    }

    pub(crate) async fn delete_message(&self, ctx: &RequestContext, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct I {
            receipt_handle: Option<String>,
        }
        let q = self.queue(ctx, &input)?;
        let i: I = parse(input)?;
        let h = i
            .receipt_handle
            .ok_or_else(|| SqsError::missing("ReceiptHandle"))?;
        self.delete(&q, &h).await?;
        Ok(json!({}))
    }

    pub(crate) async fn delete(&self, q: &Queue, handle: &str) -> Result<()> {
        let c = {
            let mut st = q.lock();
            let seq = st.delete(handle)?;
            self.reg.save_messages(q, [], seq)
        };
        commit(c).await
    }

    pub(crate) async fn delete_message_batch(&self, ctx: &RequestContext, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct E {
            id: Option<String>,
            receipt_handle: Option<String>,
        }
        let q = self.queue(ctx, &input)?;
        let b: Batch<E> = parse(input)?;
        let ids: Vec<Option<String>> = b.entries.iter().map(|e| e.id.clone()).collect();
        check_batch(&ids, "DeleteMessageBatchRequestEntry")?;
        let mut ok = Vec::new();
        let mut bad = Vec::new();
        for e in b.entries {
            let id = e.id.unwrap_or_default();
            let r = match e.receipt_handle {
                Some(h) => self.delete(&q, &h).await,
                None => Err(SqsError::missing("ReceiptHandle")),
            };
            match r {
                Ok(()) => ok.push(json!({"Id": id})),
                Err(err) => bad.push(failed(&id, &err)),
            }
        }
        Ok(json!({"Successful": ok, "Failed": bad}))
    }

    fn change(
        &self,
        q: &Queue,
        handle: Option<String>,
        timeout: Option<i64>,
    ) -> Result<aloft_store::Commit> {
        let h = handle.ok_or_else(|| SqsError::missing("ReceiptHandle"))?;
        let t = match timeout {
            None => return Err(SqsError::missing("VisibilityTimeout")),
            Some(t @ 0..=43_200) => t as u32,
            Some(t) => {
                return Err(SqsError::invalid_value(
                    "VisibilityTimeout",
                    t,
                    "VisibilityTimeout must be an integer between 0 and 43200",
                ));
            }
        };
        let mut st = q.lock();
        let m: Message = st.change_visibility(&h, t, clock::now_millis())?;
        let c = self.reg.save_messages(q, [&m], []);
        drop(st);
        if t == 0 {
            q.notify.notify_waiters();
        }
        Ok(c)
    }

    pub(crate) async fn change_message_visibility(
        &self,
        ctx: &RequestContext,
        input: Value,
    ) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct I {
            receipt_handle: Option<String>,
            visibility_timeout: Option<i64>,
        }
        let q = self.queue(ctx, &input)?;
        let i: I = parse(input)?;
        let c = self.change(&q, i.receipt_handle, i.visibility_timeout)?;
        commit(c).await?;
        Ok(json!({}))
    }

    pub(crate) async fn change_message_visibility_batch(
        &self,
        ctx: &RequestContext,
        input: Value,
    ) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct E {
            id: Option<String>,
            receipt_handle: Option<String>,
            visibility_timeout: Option<i64>,
        }
        let q = self.queue(ctx, &input)?;
        let b: Batch<E> = parse(input)?;
        let ids: Vec<Option<String>> = b.entries.iter().map(|e| e.id.clone()).collect();
        check_batch(&ids, "ChangeMessageVisibilityBatchRequestEntry")?;
        let mut ok = Vec::new();
        let mut bad = Vec::new();
        for e in b.entries {
            let id = e.id.unwrap_or_default();
            match self.change(&q, e.receipt_handle, e.visibility_timeout.or(Some(0))) {
                Ok(c) => {
                    commit(c).await?;
                    ok.push(json!({"Id": id}));
                }
                Err(err) => bad.push(failed(&id, &err)),
            }
        }
        Ok(json!({"Successful": ok, "Failed": bad}))
    }
}

/// Renders a received message, with the system and user attributes the caller asked for.
/// `MD5OfMessageAttributes` covers the returned attributes (what SDKs check it against).
fn message_json(r: &Received, system: &[String], user: &[String]) -> Value {
    let m = &r.message;
    let mut out = Map::new();
    out.insert("MessageId".into(), json!(m.message_id));
    out.insert("ReceiptHandle".into(), json!(r.receipt_handle));
    out.insert("MD5OfBody".into(), json!(m.md5_body));
    out.insert("Body".into(), json!(m.body));
    let attrs = system_attributes(m);
    let all = system.iter().any(|s| s == "All");
    let chosen: Map<String, Value> = attrs
        .into_iter()
        .filter(|(k, _)| all || system.iter().any(|s| s == k))
        .map(|(k, v)| (k.to_string(), Value::String(v)))
        .collect();
    if !chosen.is_empty() {
        out.insert("Attributes".into(), Value::Object(chosen));
    }
    let picked: Attributes = m
        .attributes
        .iter()
        .filter(|(k, _)| selected(k, user))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !picked.is_empty() {
        if let Ok((_, Some(md5))) = attributes::validate_user(&picked) {
            out.insert("MD5OfMessageAttributes".into(), json!(md5));
        }
        out.insert("MessageAttributes".into(), json!(picked));
    }
    Value::Object(out)
}

/// The system attributes of a message, as strings.
pub fn system_attributes(m: &Message) -> Vec<(&'static str, String)> {
    let mut v = vec![
        ("SenderId", m.sender_id.clone()),
        ("SentTimestamp", m.sent_ms.to_string()),
        ("ApproximateReceiveCount", m.receive_count.to_string()),
        (
            "ApproximateFirstReceiveTimestamp",
            m.first_receive_ms.unwrap_or(m.sent_ms).to_string(),
        ),
    ];
    if let Some(s) = &m.sequence_number {
        v.push(("SequenceNumber", s.clone()));
    }
    if let Some(s) = &m.dedup_id {
        v.push(("MessageDeduplicationId", s.clone()));
    }
    if let Some(s) = &m.group_id {
        v.push(("MessageGroupId", s.clone()));
    }
    if let Some(t) = m
        .system
        .get("AWSTraceHeader")
        .and_then(|a| a.string_value.clone())
    {
        v.push(("AWSTraceHeader", t));
    }
    if let Some(s) = &m.dlq_source_arn {
        v.push(("DeadLetterQueueSourceArn", s.clone()));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_rules() {
        let ok = |v: &[&str]| v.iter().map(|s| Some((*s).to_string())).collect::<Vec<_>>();
        assert!(check_batch(&ok(&["a", "b-1", "C_2"]), "E").is_ok());
        assert_eq!(
            check_batch(&[], "E").unwrap_err().code,
            Code::EmptyBatchRequest
        );
        assert_eq!(
            check_batch(&ok(&["a", "a"]), "E").unwrap_err().message,
            "Id a repeated."
        );
        assert_eq!(
            check_batch(&ok(&["a b"]), "E").unwrap_err().code,
            Code::InvalidBatchEntryId
        );
        let eleven: Vec<String> = (0..11).map(|i| i.to_string()).collect();
        let eleven: Vec<&str> = eleven.iter().map(String::as_str).collect();
        assert_eq!(
            check_batch(&ok(&eleven), "E").unwrap_err().code,
            Code::TooManyEntriesInBatchRequest
        );
    }

    #[test]
    fn body_characters() {
        assert!(valid_char('\n') && valid_char('é') && valid_char('😀'));
        assert!(!valid_char('\u{1}') && !valid_char('\u{FFFF}'));
    }
}
