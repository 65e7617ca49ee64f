//! One queue's messages: sending (delay, FIFO deduplication), receiving (visibility,
//! FIFO group ordering, redrive), deleting and visibility changes. Pure: time is passed in.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};

use super::attributes::{Attributes, md5_hex};
use super::config::QueueConfig;
use crate::error::{Code, Result, SqsError};

/// FIFO deduplication interval: five minutes.
pub const DEDUP_WINDOW_MS: i64 = 300_000;
/// A message's total visibility timeout, from its receipt, cannot pass 12 hours.
pub const MAX_VISIBILITY_S: u32 = 43_200;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Message {
    pub seq: u64,
    pub message_id: String,
    pub body: String,
    pub md5_body: String,
    pub attributes: Attributes,
    pub md5_attributes: Option<String>,
    pub system: Attributes,
    pub md5_system: Option<String>,
    pub sender_id: String,
    pub sent_ms: i64,
    pub first_receive_ms: Option<i64>,
    pub receive_count: u32,
    pub visible_at: i64,
    pub inflight: bool,
    pub received_ms: i64,
    pub nonce: u64,
    pub group_id: Option<String>,
    pub dedup_id: Option<String>,
    pub sequence_number: Option<String>,
    pub dlq_source_arn: Option<String>,
}

/// What a sender supplies (already validated for size and attributes).
#[derive(Debug, Clone, Default)]
pub struct NewMessage {
    pub body: String,
    pub attributes: Attributes,
    pub md5_attributes: Option<String>,
    pub system: Attributes,
    pub md5_system: Option<String>,
    pub delay_seconds: Option<u32>,
    pub group_id: Option<String>,
    pub dedup_id: Option<String>,
    pub sender_id: String,
    /// Kept when a message is moved (DLQ, move task): id and original send time.
    pub message_id: Option<String>,
    pub sent_ms: Option<i64>,
    pub receive_count: u32,
    pub first_receive_ms: Option<i64>,
    pub dlq_source_arn: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Sent {
    pub message_id: String,
    pub md5_body: String,
    pub md5_attributes: Option<String>,
    pub md5_system: Option<String>,
    pub sequence_number: Option<String>,
    /// True when FIFO deduplication swallowed the send: nothing was stored.
    pub duplicate: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Dedup {
    expires: i64,
    message_id: String,
    sequence_number: Option<String>,
}

/// The mutable part of a queue, behind the queue's lock.
#[derive(Debug)]
pub struct QueueState {
    pub arn: String,
    pub config: QueueConfig,
    pub tags: BTreeMap<String, String>,
    pub created_s: i64,
    pub modified_s: i64,
    pub last_purge_ms: Option<i64>,
    messages: BTreeMap<u64, Message>,
    ready: BTreeSet<u64>,
    timed: BTreeSet<(i64, u64)>,
    inflight: usize,
    inflight_groups: HashMap<String, u32>,
    dedup: HashMap<String, Dedup>,
    dedup_order: VecDeque<(i64, String)>,
    next_seq: u64,
    next_sequence_number: u128,
}

/// A message handed out by a receive, with the receipt handle for this receipt.
#[derive(Debug, Clone)]
pub struct Received {
    pub message: Message,
    pub receipt_handle: String,
}

impl QueueState {
    pub fn new(arn: String, config: QueueConfig, now_ms: i64) -> Self {
        Self {
            arn,
            config,
            tags: BTreeMap::new(),
            created_s: now_ms / 1000,
            modified_s: now_ms / 1000,
            last_purge_ms: None,
            messages: BTreeMap::new(),
            ready: BTreeSet::new(),
            timed: BTreeSet::new(),
            inflight: 0,
            inflight_groups: HashMap::new(),
            dedup: HashMap::new(),
            dedup_order: VecDeque::new(),
            next_seq: 1,
            next_sequence_number: 18_000_000_000_000_000_000,
        }
    }

    /// Restores a message loaded from the store.
    pub fn restore(&mut self, m: Message, now: i64) {
        self.next_seq = self.next_seq.max(m.seq + 1);
        if m.inflight {
            self.inflight += 1;
            if let Some(g) = &m.group_id {
                *self.inflight_groups.entry(g.clone()).or_default() += 1;
            }
        }
        if m.inflight || m.visible_at > now {
            self.timed.insert((m.visible_at, m.seq));
        } else {
            self.ready.insert(m.seq);
        }
        if let Some(sn) = m
            .sequence_number
            .as_deref()
            .and_then(|s| s.parse::<u128>().ok())
        {
            self.next_sequence_number = self.next_sequence_number.max(sn);
        }
        self.messages.insert(m.seq, m);
    }

    fn unindex(&mut self, m: &Message) {
        if !self.ready.remove(&m.seq) {
            self.timed.remove(&(m.visible_at, m.seq));
        }
        if m.inflight {
            self.inflight -= 1;
            self.release_group(m.group_id.as_deref());
        }
    }

    fn release_group(&mut self, group: Option<&str>) {
        if let Some(g) = group
            && let Some(n) = self.inflight_groups.get_mut(g)
        {
            *n -= 1;
            if *n == 0 {
                self.inflight_groups.remove(g);
            }
        }
    }

    /// Makes due messages visible and drops those past the retention period.
    pub fn tick(&mut self, now: i64) {
        while let Some(&(at, seq)) = self.timed.first() {
            if at > now {
                break;
            }
            self.timed.pop_first();
            if let Some(m) = self.messages.get_mut(&seq) {
                let was_inflight = std::mem::replace(&mut m.inflight, false);
                let group = m.group_id.clone();
                if was_inflight {
                    self.inflight -= 1;
                    self.release_group(group.as_deref());
                }
                self.ready.insert(seq);
            }
        }
        let retention = i64::from(self.config.message_retention_period) * 1000;
        while let Some((_, m)) = self.messages.first_key_value() {
            if m.sent_ms + retention > now {
                break;
            }
            let seq = m.seq;
            self.remove(seq);
        }
        while let Some((exp, _)) = self.dedup_order.front() {
            if *exp > now {
                break;
            }
            if let Some((_, key)) = self.dedup_order.pop_front()
                && self.dedup.get(&key).is_some_and(|d| d.expires <= now)
            {
                self.dedup.remove(&key);
            }
        }
    }

    /// The earliest time a delayed or in-flight message becomes visible (for waiters).
    pub fn next_due(&self) -> Option<i64> {
        self.timed.first().map(|(at, _)| *at)
    }

    fn remove(&mut self, seq: u64) -> Option<Message> {
        let m = self.messages.remove(&seq)?;
        self.unindex(&m);
        Some(m)
    }

    pub fn counts(&self) -> (usize, usize, usize) {
        let delayed = self.timed.len() - self.inflight;
        (self.ready.len(), self.inflight, delayed)
    }

    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    /// Enqueues a message. FIFO queues deduplicate within five minutes.
    pub fn send(&mut self, new: NewMessage, now: i64) -> Result<(Sent, Option<Message>)> {
        self.tick(now);
        let md5_body = md5_hex(new.body.as_bytes());
        let mut sequence_number = None;
        if self.config.fifo {
            let Some(group) = new.group_id.as_deref() else {
                return Err(SqsError::missing("MessageGroupId"));
            };
            let dedup_id = match (&new.dedup_id, self.config.content_based_deduplication) {
                (Some(id), _) => id.clone(),
                (None, true) => hex_sha256(new.body.as_bytes()),
                (None, false) => {
                    return Err(SqsError::invalid(
                        "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly",
                    ));
                }
            };
            let key = if self.config.deduplication_scope == "messageGroup" {
                format!("{group}\u{0}{dedup_id}")
            } else {
                dedup_id.clone()
            };
            if let Some(d) = self.dedup.get(&key).filter(|d| d.expires > now) {
                return Ok((
                    Sent {
                        message_id: d.message_id.clone(),
                        md5_body,
                        md5_attributes: new.md5_attributes,
                        md5_system: new.md5_system,
                        sequence_number: d.sequence_number.clone(),
                        duplicate: true,
                    },
                    None,
                ));
            }
            self.next_sequence_number += 1;
            let sn = format!("{:020}", self.next_sequence_number);
            sequence_number = Some(sn.clone());
            let message_id = new.message_id.clone().unwrap_or_else(aloft_core::ids::uuid);
            self.dedup.insert(
                key.clone(),
                Dedup {
                    expires: now + DEDUP_WINDOW_MS,
                    message_id: message_id.clone(),
                    sequence_number: Some(sn),
                },
            );
            self.dedup_order.push_back((now + DEDUP_WINDOW_MS, key));
            return Ok(self.store_message(
                new,
                dedup_id.into(),
                message_id,
                md5_body,
                sequence_number,
                now,
            ));
        }
        let message_id = new.message_id.clone().unwrap_or_else(aloft_core::ids::uuid);
        Ok(self.store_message(new, None, message_id, md5_body, sequence_number, now))
    }

    fn store_message(
        &mut self,
        new: NewMessage,
        dedup_id: Option<String>,
        message_id: String,
        md5_body: String,
        sequence_number: Option<String>,
        now: i64,
    ) -> (Sent, Option<Message>) {
        let delay = new.delay_seconds.unwrap_or(self.config.delay_seconds);
        let seq = self.next_seq;
        self.next_seq += 1;
        let m = Message {
            seq,
            message_id: message_id.clone(),
            body: new.body,
            md5_body: md5_body.clone(),
            attributes: new.attributes,
            md5_attributes: new.md5_attributes.clone(),
            system: new.system,
            md5_system: new.md5_system.clone(),
            sender_id: new.sender_id,
            sent_ms: new.sent_ms.unwrap_or(now),
            first_receive_ms: new.first_receive_ms,
            receive_count: new.receive_count,
            visible_at: now + i64::from(delay) * 1000,
            inflight: false,
            received_ms: 0,
            nonce: 0,
            group_id: new.group_id,
            dedup_id,
            sequence_number: sequence_number.clone(),
            dlq_source_arn: new.dlq_source_arn,
        };
        if delay > 0 {
            self.timed.insert((m.visible_at, seq));
        } else {
            self.ready.insert(seq);
        }
        self.messages.insert(seq, m.clone());
        (
            Sent {
                message_id,
                md5_body,
                md5_attributes: new.md5_attributes,
                md5_system: new.md5_system,
                sequence_number,
                duplicate: false,
            },
            Some(m),
        )
    }

    /// Receives up to `max` messages, hiding them for `visibility` seconds.
    ///
    /// Returns the messages and those that exceeded the redrive policy's `maxReceiveCount`
    /// (removed here; the caller moves them to the dead-letter queue). FIFO queues hand out
    /// a group's messages in order and none of a group while one of its messages is in flight.
    pub fn receive(
        &mut self,
        max: usize,
        visibility: u32,
        now: i64,
        max_receive_count: Option<u32>,
    ) -> (Vec<Received>, Vec<Message>) {
        self.tick(now);
        let mut chosen = Vec::new();
        let mut dead = Vec::new();
        let mut taken_groups: HashMap<&str, ()> = HashMap::new();
        let mut skipped_groups: HashMap<&str, ()> = HashMap::new();
        for &seq in &self.ready {
            if chosen.len() >= max {
                break;
            }
            let Some(m) = self.messages.get(&seq) else {
                continue;
            };
            if let Some(g) = m.group_id.as_deref()
                && self.config.fifo
            {
                if skipped_groups.contains_key(g) {
                    continue;
                }
                if self.inflight_groups.contains_key(g) && !taken_groups.contains_key(g) {
                    skipped_groups.insert(g, ());
                    continue;
                }
                if max_receive_count.is_some_and(|n| m.receive_count >= n) {
                    dead.push(seq);
                    continue;
                }
                taken_groups.insert(g, ());
            } else if max_receive_count.is_some_and(|n| m.receive_count >= n) {
                dead.push(seq);
                continue;
            }
            chosen.push(seq);
        }
        let dead: Vec<Message> = dead.into_iter().filter_map(|s| self.remove(s)).collect();
        let mut out = Vec::with_capacity(chosen.len());
        for seq in chosen {
            self.ready.remove(&seq);
            let nonce: u64 = rand_u64();
            let Some(m) = self.messages.get_mut(&seq) else {
                continue;
            };
            m.receive_count += 1;
            m.first_receive_ms.get_or_insert(now);
            m.inflight = true;
            m.received_ms = now;
            m.nonce = nonce;
            m.visible_at = now + i64::from(visibility) * 1000;
            let group = m.group_id.clone();
            let handle = receipt_handle(&self.arn, m);
            let msg = m.clone();
            self.timed.insert((msg.visible_at, seq));
            self.inflight += 1;
            if let Some(g) = group {
                *self.inflight_groups.entry(g).or_default() += 1;
            }
            out.push(Received {
                message: msg,
                receipt_handle: handle,
            });
        }
        (out, dead)
    }

    /// Deletes the message a receipt handle names. Deleting an already deleted message
    /// succeeds, as in AWS; a handle that is not one of this queue's fails.
    pub fn delete(&mut self, handle: &str) -> Result<Option<u64>> {
        let r = parse_handle(handle, &self.arn)?;
        match self.messages.get(&r.seq) {
            Some(m) if m.message_id == r.message_id => {
                self.remove(r.seq);
                Ok(Some(r.seq))
            }
            _ => Ok(None),
        }
    }

    /// Changes the visibility timeout of an in-flight message.
    pub fn change_visibility(&mut self, handle: &str, timeout: u32, now: i64) -> Result<Message> {
        self.tick(now);
        let r = parse_handle(handle, &self.arn)?;
        let m = match self.messages.get(&r.seq) {
            Some(m) if m.message_id == r.message_id => m,
            _ => {
                return Err(SqsError::invalid_value(
                    "ReceiptHandle",
                    handle,
                    "Message does not exist or is not available for visibility timeout change.",
                ));
            }
        };
        if !m.inflight {
            return Err(SqsError::new(
                Code::MessageNotInflight,
                "The message referred to isn't in flight.",
            ));
        }
        if m.nonce != r.nonce && self.config.fifo {
            return Err(SqsError::invalid_value(
                "ReceiptHandle",
                handle,
                "The receipt handle has expired.",
            ));
        }
        let elapsed_s = (now - m.received_ms) / 1000;
        if elapsed_s + i64::from(timeout) > i64::from(MAX_VISIBILITY_S) {
            return Err(SqsError::invalid_value(
                "VisibilityTimeout",
                timeout,
                "Total VisibilityTimeout for the message is beyond the limit [43200 seconds]",
            ));
        }
        let (old, seq) = (m.visible_at, m.seq);
        let new_at = now + i64::from(timeout) * 1000;
        self.timed.remove(&(old, seq));
        self.timed.insert((new_at, seq));
        let m = self.messages.get_mut(&seq).expect("message present");
        m.visible_at = new_at;
        let copy = m.clone();
        if timeout == 0 {
            self.tick(now);
        }
        Ok(copy)
    }

    /// Removes every message (PurgeQueue, move tasks); returns them.
    pub fn drain(&mut self) -> Vec<Message> {
        let all: Vec<u64> = self.messages.keys().copied().collect();
        all.into_iter().filter_map(|s| self.remove(s)).collect()
    }

    /// Removes and returns the visible messages (message move tasks move only those).
    pub fn take_visible(&mut self, now: i64) -> Vec<Message> {
        self.tick(now);
        let ready: Vec<u64> = self.ready.iter().copied().collect();
        ready.into_iter().filter_map(|s| self.remove(s)).collect()
    }

    pub fn get(&self, seq: u64) -> Option<&Message> {
        self.messages.get(&seq)
    }

    pub fn messages(&self) -> impl Iterator<Item = &Message> {
        self.messages.values()
    }
}

struct Handle {
    message_id: String,
    seq: u64,
    nonce: u64,
}

fn receipt_handle(arn: &str, m: &Message) -> String {
    B64.encode(format!(
        "aloft1 {arn} {} {} {:016x}",
        m.message_id, m.seq, m.nonce
    ))
}

fn parse_handle(handle: &str, arn: &str) -> Result<Handle> {
    let invalid = || {
        SqsError::new(
            Code::ReceiptHandleIsInvalid,
            format!("The input receipt handle \"{handle}\" is not a valid receipt handle."),
        )
    };
    let raw = B64.decode(handle.trim()).map_err(|_| invalid())?;
    let text = String::from_utf8(raw).map_err(|_| invalid())?;
    let mut it = text.split(' ');
    if it.next() != Some("aloft1") {
        return Err(invalid());
    }
    let (Some(h_arn), Some(id), Some(seq), Some(nonce), None) =
        (it.next(), it.next(), it.next(), it.next(), it.next())
    else {
        return Err(invalid());
    };
    if h_arn != arn {
        return Err(invalid());
    }
    Ok(Handle {
        message_id: id.to_string(),
        seq: seq.parse().map_err(|_| invalid())?,
        nonce: u64::from_str_radix(nonce, 16).map_err(|_| invalid())?,
    })
}

fn rand_u64() -> u64 {
    let b = uuid::Uuid::new_v4();
    let bytes = b.as_bytes();
    u64::from_le_bytes(bytes[..8].try_into().unwrap_or([0; 8]))
}

fn hex_sha256(data: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(fifo: bool) -> QueueState {
        QueueState::new(
            "arn:aws:sqs:us-east-1:0:q".into(),
            QueueConfig::new(fifo),
            0,
        )
    }
    fn msg(body: &str) -> NewMessage {
        NewMessage {
            body: body.into(),
            ..Default::default()
        }
    }
    fn fifo_msg(body: &str, group: &str) -> NewMessage {
        NewMessage {
            body: body.into(),
            group_id: Some(group.into()),
            dedup_id: Some(body.into()),
            ..Default::default()
        }
    }
    fn bodies(r: &[Received]) -> Vec<&str> {
        r.iter().map(|r| r.message.body.as_str()).collect()
    }

    #[test]
    fn visibility_hides_then_returns() {
        let mut q = q(false);
        q.send(msg("a"), 1000).unwrap();
        let (r, _) = q.receive(10, 30, 1000, None);
        assert_eq!(bodies(&r), ["a"]);
        assert!(q.receive(10, 30, 2000, None).0.is_empty());
        assert_eq!(q.counts(), (0, 1, 0));
        let (r, _) = q.receive(10, 30, 31_000, None);
        assert_eq!(r[0].message.receive_count, 2);
        assert_eq!(r[0].message.first_receive_ms, Some(1000));
        assert_eq!(q.delete(&r[0].receipt_handle).unwrap(), Some(1));
        assert!(q.is_empty());
        // Deleting twice is fine; a made-up handle is not.
        assert_eq!(q.delete(&r[0].receipt_handle).unwrap(), None);
        assert_eq!(
            q.delete("garbage").unwrap_err().code,
            Code::ReceiptHandleIsInvalid
        );
    }

    #[test]
    fn delay_and_retention() {
        let mut q = q(false);
        q.send(
            NewMessage {
                delay_seconds: Some(5),
                ..msg("late")
            },
            0,
        )
        .unwrap();
        assert_eq!(q.counts(), (0, 0, 1));
        assert!(q.receive(1, 30, 4_999, None).0.is_empty());
        assert_eq!(q.next_due(), Some(5_000));
        assert_eq!(q.receive(1, 0, 5_000, None).0.len(), 1);
        q.tick(345_600_000);
        assert!(q.is_empty());
    }

    #[test]
    fn fifo_dedups_and_orders_groups() {
        let mut q = q(true);
        let (a, _) = q.send(fifo_msg("a1", "A"), 0).unwrap();
        let (dup, stored) = q.send(fifo_msg("a1", "A"), 10).unwrap();
        assert!(dup.duplicate && stored.is_none());
        assert_eq!(dup.message_id, a.message_id);
        q.send(fifo_msg("b1", "B"), 20).unwrap();
        q.send(fifo_msg("a2", "A"), 30).unwrap();
        let (r, _) = q.receive(1, 30, 40, None);
        assert_eq!(bodies(&r), ["a1"]);
        // Group A is locked while a1 is in flight: only B is available.
        let (r2, _) = q.receive(10, 30, 50, None);
        assert_eq!(bodies(&r2), ["b1"]);
        q.delete(&r[0].receipt_handle).unwrap();
        let (r3, _) = q.receive(10, 30, 60, None);
        assert_eq!(bodies(&r3), ["a2"]);
        // After the window a duplicate id is a new message.
        let (again, _) = q.send(fifo_msg("a1", "A"), DEDUP_WINDOW_MS + 1).unwrap();
        assert!(!again.duplicate);
        assert!(a.sequence_number < again.sequence_number);
    }

    #[test]
    fn fifo_requires_group_and_dedup() {
        let mut q = q(true);
        assert_eq!(
            q.send(msg("x"), 0).unwrap_err().code,
            Code::MissingParameter
        );
        let e = q
            .send(
                NewMessage {
                    group_id: Some("g".into()),
                    ..msg("x")
                },
                0,
            )
            .unwrap_err();
        assert!(e.message.contains("ContentBasedDeduplication"));
        q.config.content_based_deduplication = true;
        let (s1, _) = q
            .send(
                NewMessage {
                    group_id: Some("g".into()),
                    ..msg("x")
                },
                0,
            )
            .unwrap();
        let (s2, _) = q
            .send(
                NewMessage {
                    group_id: Some("g".into()),
                    ..msg("x")
                },
                0,
            )
            .unwrap();
        assert!(s2.duplicate);
        assert_eq!(s1.message_id, s2.message_id);
    }

    #[test]
    fn redrive_after_max_receives() {
        let mut q = q(false);
        q.send(msg("poison"), 0).unwrap();
        for i in 0..2 {
            let (r, dead) = q.receive(1, 0, i, Some(2));
            assert_eq!(r.len(), 1);
            assert!(dead.is_empty());
        }
        let (r, dead) = q.receive(1, 0, 5, Some(2));
        assert!(r.is_empty());
        assert_eq!(dead[0].body, "poison");
        assert!(q.is_empty());
    }

    #[test]
    fn change_visibility_rules() {
        let mut q = q(false);
        q.send(msg("a"), 0).unwrap();
        let (r, _) = q.receive(1, 30, 0, None);
        let h = &r[0].receipt_handle;
        q.change_visibility(h, 0, 1).unwrap();
        assert_eq!(q.counts(), (1, 0, 0));
        assert_eq!(
            q.change_visibility(h, 10, 2).unwrap_err().code,
            Code::MessageNotInflight
        );
        let (r, _) = q.receive(1, 30, 3, None);
        let e = q
            .change_visibility(&r[0].receipt_handle, 43_200, 10_000)
            .unwrap_err();
        assert!(e.message.contains("beyond the limit"));
    }
}
