//! The queues of every account and region, how URLs and ARNs name them, and their journal.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use aloft_core::clock;
use aloft_store::{Batch, Commit, Store};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use crate::domain::config::QueueConfig;
use crate::domain::queue::{Message, NewMessage, QueueState, Sent};
use crate::error::{Result, SqsError};
use crate::moves::MoveTask;

pub const NS_QUEUES: &str = "sqs/queues";
pub const NS_MESSAGES: &str = "sqs/messages";

/// `(account, region, name)`.
pub type QueueKey = (String, String, String);

pub struct Queue {
    pub account: String,
    pub region: String,
    pub name: String,
    pub arn: String,
    state: Mutex<QueueState>,
    /// Wakes long-polling receivers when a message arrives or becomes visible.
    pub notify: Notify,
    pub deleted: AtomicBool,
}

impl Queue {
    pub fn lock(&self) -> MutexGuard<'_, QueueState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn key_prefix(&self) -> String {
        format!("{}/{}/{}/", self.account, self.region, self.name)
    }

    pub fn is_fifo(&self) -> bool {
        self.name.ends_with(".fifo")
    }
}

/// The journal form of a queue's settings.
#[derive(Serialize, Deserialize)]
struct QueueRecord {
    config: QueueConfig,
    tags: BTreeMap<String, String>,
    created_s: i64,
    modified_s: i64,
}

pub struct Registry {
    queues: RwLock<HashMap<QueueKey, Arc<Queue>>>,
    deleted: Mutex<HashMap<QueueKey, i64>>,
    pub tasks: Mutex<Vec<MoveTask>>,
    store: Arc<dyn Store>,
    durable: bool,
}

impl Registry {
    pub fn new(store: Arc<dyn Store>) -> Self {
        let durable = store.is_durable();
        Self {
            queues: RwLock::new(HashMap::new()),
            deleted: Mutex::new(HashMap::new()),
            tasks: Mutex::new(Vec::new()),
            store,
            durable,
        }
    }

    /// Loads queues and their messages from the journal (start-up).
    pub fn load(&self) {
        let now = clock::now_millis();
        let Ok(rows) = self.store.load(NS_QUEUES, b"") else {
            tracing::warn!("sqs: could not load queues");
            return;
        };
        for (k, v) in rows {
            let key = String::from_utf8_lossy(&k).into_owned();
            let mut parts = key.splitn(3, '/');
            let (Some(a), Some(r), Some(n)) = (parts.next(), parts.next(), parts.next()) else {
                continue;
            };
            let Ok(rec) = serde_json::from_slice::<QueueRecord>(&v) else {
                continue;
            };
            let q = self.make(a, r, n, rec.config, now);
            {
                let mut st = q.lock();
                st.tags = rec.tags;
                st.created_s = rec.created_s;
                st.modified_s = rec.modified_s;
                if let Ok(msgs) = self.store.load(NS_MESSAGES, q.key_prefix().as_bytes()) {
                    for (_, mv) in msgs {
                        if let Ok(m) = serde_json::from_slice::<Message>(&mv) {
                            st.restore(m, now);
                        }
                    }
                }
            }
            self.write().insert((a.into(), r.into(), n.into()), q);
        }
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<QueueKey, Arc<Queue>>> {
        self.queues
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<QueueKey, Arc<Queue>>> {
        self.queues
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn make(
        &self,
        account: &str,
        region: &str,
        name: &str,
        config: QueueConfig,
        now: i64,
    ) -> Arc<Queue> {
        let arn = aloft_core::arn::build("sqs", region, account, name);
        Arc::new(Queue {
            account: account.into(),
            region: region.into(),
            name: name.into(),
            state: Mutex::new(QueueState::new(arn.clone(), config, now)),
            arn,
            notify: Notify::new(),
            deleted: AtomicBool::new(false),
        })
    }

    pub fn get(&self, account: &str, region: &str, name: &str) -> Option<Arc<Queue>> {
        self.read()
            .get(&(account.to_string(), region.to_string(), name.to_string()))
            .cloned()
    }

    pub fn by_arn(&self, arn: &str) -> Option<Arc<Queue>> {
        let a = aloft_core::arn::parse(arn)?;
        (a.service == "sqs").then_some(())?;
        self.get(a.account, a.region, a.resource)
    }

    /// Finds the queue a QueueUrl names: the last two path segments are account and name;
    /// the region comes from an `sqs.{region}.` host, else the request's region.
    pub fn by_url(&self, url: &str, region: &str) -> Result<Arc<Queue>> {
        let (host, path) = split_url(url);
        let mut segs = path.split('/').filter(|s| !s.is_empty()).rev();
        let (Some(name), Some(account)) = (segs.next(), segs.next()) else {
            return Err(SqsError::no_queue());
        };
        let region = host
            .split('.')
            .collect::<Vec<_>>()
            .windows(2)
            .find(|w| w[0] == "sqs" && w[1].contains('-'))
            .map_or(region, |w| w[1]);
        self.get(account, region, name)
            .ok_or_else(SqsError::no_queue)
    }

    /// Inserts a new queue; `Err(existing)` if the name is taken.
    pub fn insert(
        &self,
        account: &str,
        region: &str,
        name: &str,
        config: QueueConfig,
        tags: BTreeMap<String, String>,
    ) -> std::result::Result<(Arc<Queue>, Commit), Arc<Queue>> {
        let now = clock::now_millis();
        let mut map = self.write();
        let key = (account.to_string(), region.to_string(), name.to_string());
        if let Some(q) = map.get(&key) {
            return Err(q.clone());
        }
        let q = self.make(account, region, name, config, now);
        let commit = {
            let mut st = q.lock();
            st.tags = tags;
            self.save_queue(&q, &st)
        };
        map.insert(key, q.clone());
        Ok((q, commit))
    }

    pub fn recently_deleted(&self, account: &str, region: &str, name: &str) -> bool {
        let now = clock::now_millis();
        let mut d = self
            .deleted
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        d.retain(|_, at| now - *at < 60_000);
        d.contains_key(&(account.to_string(), region.to_string(), name.to_string()))
    }

    pub fn remove(&self, q: &Queue) -> Commit {
        let key = (q.account.clone(), q.region.clone(), q.name.clone());
        self.write().remove(&key);
        q.deleted.store(true, Ordering::SeqCst);
        q.notify.notify_waiters();
        self.deleted
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(key, clock::now_millis());
        if !self.durable {
            return Commit::done();
        }
        let mut b = Batch::new();
        b.delete(NS_QUEUES, q.key_prefix().trim_end_matches('/'));
        let c = self.store.submit(b);
        drop(c);
        self.store.clear(NS_MESSAGES, q.key_prefix().as_bytes())
    }

    /// Every queue of an account and region, by name.
    pub fn list(&self, account: &str, region: &str) -> Vec<Arc<Queue>> {
        let mut v: Vec<_> = self
            .read()
            .values()
            .filter(|q| q.account == account && q.region == region)
            .cloned()
            .collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v
    }

    pub fn all(&self) -> Vec<Arc<Queue>> {
        self.read().values().cloned().collect()
    }

    pub async fn clear(&self) {
        for q in self.write().drain().map(|(_, q)| q) {
            q.deleted.store(true, Ordering::SeqCst);
            q.notify.notify_waiters();
        }
        self.deleted
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
        self.tasks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
        let a = self.store.clear(NS_QUEUES, b"");
        let b = self.store.clear(NS_MESSAGES, b"");
        if a.await.is_err() || b.await.is_err() {
            tracing::warn!("sqs: reset could not clear the journal");
        }
    }

    /// Journals a queue's settings (call with its lock held).
    pub fn save_queue(&self, q: &Queue, st: &QueueState) -> Commit {
        if !self.durable {
            return Commit::done();
        }
        let rec = QueueRecord {
            config: st.config.clone(),
            tags: st.tags.clone(),
            created_s: st.created_s,
            modified_s: st.modified_s,
        };
        let mut b = Batch::new();
        b.put(
            NS_QUEUES,
            q.key_prefix().trim_end_matches('/'),
            serde_json::to_vec(&rec).unwrap_or_default(),
        );
        self.store.submit(b)
    }

    pub fn durable(&self) -> bool {
        self.durable
    }

    /// Journals message puts and deletes of one queue (call with its lock held).
    pub fn save_messages<'a>(
        &self,
        q: &Queue,
        puts: impl IntoIterator<Item = &'a Message>,
        deletes: impl IntoIterator<Item = u64>,
    ) -> Commit {
        if !self.durable {
            return Commit::done();
        }
        let prefix = q.key_prefix();
        let mut b = Batch::new();
        for m in puts {
            b.put(
                NS_MESSAGES,
                format!("{prefix}{:020}", m.seq),
                serde_json::to_vec(m).unwrap_or_default(),
            );
        }
        for seq in deletes {
            b.delete(NS_MESSAGES, format!("{prefix}{seq:020}"));
        }
        if b.is_empty() {
            Commit::done()
        } else {
            self.store.submit(b)
        }
    }

    /// Enqueues a message into `q` and wakes its receivers.
    pub async fn enqueue(&self, q: &Queue, new: NewMessage) -> Result<Sent> {
        let now = clock::now_millis();
        let (sent, commit) = {
            let mut st = q.lock();
            let (sent, stored) = st.send(new, now)?;
            let c = self.save_messages(q, stored.as_ref(), []);
            (sent, c)
        };
        if !sent.duplicate {
            q.notify.notify_waiters();
        }
        commit
            .await
            .map_err(|e| SqsError::new(crate::error::Code::OverLimit, e.to_string()))?;
        Ok(sent)
    }

    /// Moves messages that exceeded `maxReceiveCount` into the source's dead-letter queue.
    pub async fn dead_letter(&self, source: &Queue, dlq_arn: &str, dead: Vec<Message>) {
        if dead.is_empty() {
            return;
        }
        let Some(dlq) = self.by_arn(dlq_arn) else {
            tracing::warn!(
                "sqs: dead-letter queue {dlq_arn} is gone; dropping {} messages",
                dead.len()
            );
            return;
        };
        let gone: Vec<u64> = dead.iter().map(|m| m.seq).collect();
        let c1 = self.save_messages(source, [], gone);
        for m in dead {
            let new = moved(m, Some(source.arn.clone()));
            if let Err(e) = self.enqueue(&dlq, new).await {
                tracing::warn!("sqs: could not dead-letter a message into {dlq_arn}: {e}");
            }
        }
        let _ = c1.await;
    }
}

/// A message as it re-enters another queue (DLQ or redrive): same id, body, attributes and
/// original send time.
pub fn moved(m: Message, dlq_source: Option<String>) -> NewMessage {
    NewMessage {
        body: m.body,
        attributes: m.attributes,
        md5_attributes: m.md5_attributes,
        system: m.system,
        md5_system: m.md5_system,
        delay_seconds: Some(0),
        dedup_id: m.dedup_id,
        group_id: m.group_id,
        sender_id: m.sender_id,
        message_id: Some(m.message_id),
        sent_ms: Some(m.sent_ms),
        receive_count: m.receive_count,
        first_receive_ms: m.first_receive_ms,
        dlq_source_arn: dlq_source.or(m.dlq_source_arn),
    }
}

fn split_url(url: &str) -> (&str, &str) {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => ("", rest),
    }
}

/// `http://sqs.{region}.localhost:{port}/{account}/{name}`, the port taken from the URL the
/// client used to reach Aloft.
pub fn queue_url(base_url: &str, region: &str, account: &str, name: &str) -> String {
    let (scheme, authority) = base_url.split_once("://").unwrap_or(("http", base_url));
    let port = authority
        .rsplit_once(':')
        .filter(|(_, p)| p.bytes().all(|b| b.is_ascii_digit()) && !p.is_empty())
        .map(|(_, p)| format!(":{p}"))
        .unwrap_or_default();
    format!("{scheme}://sqs.{region}.localhost{port}/{account}/{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            queue_url("http://localhost:4566", "eu-west-1", "000000000000", "q"),
            "http://sqs.eu-west-1.localhost:4566/000000000000/q"
        );
        assert_eq!(
            split_url("http://sqs.eu-west-1.localhost:4566/1/q"),
            ("sqs.eu-west-1.localhost:4566", "/1/q")
        );
    }
}
