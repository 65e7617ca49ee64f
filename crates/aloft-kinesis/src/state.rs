//! Streams of every account and region, their shards and records, and their journal: a stream's
//! metadata (shards, consumers, tags, settings) is one value, each record another, so a put
//! journals only its record.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use aloft_store::{Batch, Commit, Store};
use serde::{Deserialize, Serialize};

use crate::keys;

pub const NS_STREAMS: &str = "kinesis/streams";
pub const NS_RECORDS: &str = "kinesis/records";
pub const NS_ACCOUNTS: &str = "kinesis/accounts";
/// A stream's sequence counter, journaled with each put instead of the whole stream.
pub const NS_COUNTERS: &str = "kinesis/counters";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    pub seq: u128,
    /// Base64, as the wire carries it.
    pub data: String,
    pub size: usize,
    pub partition_key: String,
    pub arrival_ms: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Shard {
    pub index: u32,
    pub parent: Option<u32>,
    pub adjacent_parent: Option<u32>,
    pub start_hash: u128,
    pub end_hash: u128,
    pub start_seq: u128,
    pub end_seq: Option<u128>,
    pub created_ms: i64,
    pub closed_ms: Option<i64>,
    #[serde(skip)]
    pub records: VecDeque<Record>,
    /// Throttling's window: (epoch second, bytes, records) written in it.
    #[serde(skip)]
    pub window: (i64, u64, u64),
    /// The same for reads: (epoch second, bytes, GetRecords calls).
    #[serde(skip)]
    pub read_window: (i64, u64, u64),
}

impl Shard {
    pub fn id(&self) -> String {
        keys::shard_id(self.index)
    }
    pub fn is_open(&self) -> bool {
        self.end_seq.is_none()
    }
    pub fn contains(&self, hash: u128) -> bool {
        self.start_hash <= hash && hash <= self.end_hash
    }
    /// The index of the first record after sequence counter `after`.
    pub fn first_after(&self, after: u128) -> usize {
        self.records.partition_point(|r| r.seq <= after)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Consumer {
    pub name: String,
    pub arn: String,
    pub created_ms: i64,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Stream {
    pub account: String,
    pub region: String,
    pub name: String,
    pub arn: String,
    pub created_ms: i64,
    /// `PROVISIONED` or `ON_DEMAND`.
    pub mode: String,
    pub shards: Vec<Shard>,
    /// The last sequence counter handed out (records and shard starts share it).
    pub counter: u128,
    pub retention_hours: i64,
    pub tags: BTreeMap<String, String>,
    pub key_id: Option<String>,
    pub shard_metrics: Vec<String>,
    pub consumers: Vec<Consumer>,
    pub max_record_kib: i64,
    /// `USER_PARTITION_KEY` (the default) or `AUTO` (on-demand streams only).
    #[serde(default = "default_distribution")]
    pub distribution: String,
    /// On-demand warm throughput, MiB/s.
    #[serde(default)]
    pub warm_mibps: Option<i64>,
    /// Resource policies by ARN (the stream's and its consumers').
    #[serde(default)]
    pub policies: BTreeMap<String, String>,
}

impl Stream {
    pub fn next_seq(&mut self) -> u128 {
        self.counter += 1;
        self.counter
    }
    pub fn shard(&self, id: &str) -> Option<&Shard> {
        let i = keys::shard_index(id)?;
        self.shards.iter().find(|s| s.index == i)
    }
    pub fn shard_mut(&mut self, id: &str) -> Option<&mut Shard> {
        let i = keys::shard_index(id)?;
        self.shards.iter_mut().find(|s| s.index == i)
    }
    pub fn open_shards(&self) -> usize {
        self.shards.iter().filter(|s| s.is_open()).count()
    }
    pub fn add_shard(
        &mut self,
        range: (u128, u128),
        parents: (Option<u32>, Option<u32>),
        now: i64,
    ) -> u32 {
        let index = self.shards.last().map_or(0, |s| s.index + 1);
        let start_seq = self.next_seq();
        self.shards.push(Shard {
            index,
            parent: parents.0,
            adjacent_parent: parents.1,
            start_hash: range.0,
            end_hash: range.1,
            start_seq,
            end_seq: None,
            created_ms: now,
            closed_ms: None,
            records: VecDeque::new(),
            window: (0, 0, 0),
            read_window: (0, 0, 0),
        });
        index
    }
    pub fn close_shard(&mut self, index: u32, now: i64) {
        let end = self.next_seq();
        if let Some(s) = self.shards.iter_mut().find(|s| s.index == index) {
            s.end_seq = Some(end);
            s.closed_ms = Some(now);
        }
    }
    pub fn retention_ms(&self) -> i64 {
        self.retention_hours * 3_600_000
    }
    pub fn key(&self) -> String {
        scoped(&self.account, &self.region, &self.name)
    }
    /// The journal key of a record: ordered by stream incarnation, shard and sequence.
    pub fn record_key(&self, shard: u32, seq: u128) -> String {
        format!("{}/{}/{shard:010}/{seq:039}", self.key(), self.created_ms)
    }
    pub fn record_prefix(&self) -> String {
        format!("{}/{}/", self.key(), self.created_ms)
    }
    /// Drops records older than the retention period; returns their journal keys.
    pub fn trim(&mut self, now: i64) -> Vec<String> {
        let horizon = now - self.retention_ms();
        let mut gone = Vec::new();
        let prefix = self.record_prefix();
        for shard in &mut self.shards {
            while shard
                .records
                .front()
                .is_some_and(|r| r.arrival_ms < horizon)
            {
                let r = shard.records.pop_front().expect("a front record");
                gone.push(format!("{prefix}{:010}/{:039}", shard.index, r.seq));
            }
        }
        gone
    }
}

#[cfg(test)]
impl Stream {
    /// A provisioned stream of `shards` uniform shards, for unit tests.
    pub fn for_test(shards: u32) -> Self {
        let mut s = Stream {
            account: "000000000000".into(),
            region: "us-east-1".into(),
            name: "s".into(),
            arn: "arn:aws:kinesis:us-east-1:000000000000:stream/s".into(),
            created_ms: 0,
            mode: "PROVISIONED".into(),
            shards: Vec::new(),
            counter: 0,
            retention_hours: 24,
            tags: BTreeMap::new(),
            key_id: None,
            shard_metrics: Vec::new(),
            consumers: Vec::new(),
            max_record_kib: 1024,
            distribution: default_distribution(),
            warm_mibps: None,
            policies: BTreeMap::new(),
        };
        for r in keys::uniform_ranges(shards) {
            s.add_shard(r, (None, None), 0);
        }
        s
    }
}

fn default_distribution() -> String {
    "USER_PARTITION_KEY".to_string()
}

pub fn scoped(account: &str, region: &str, name: &str) -> String {
    format!("{account}/{region}/{name}")
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AccountSettings {
    pub commitment: Option<i64>,
}

#[derive(Default)]
pub struct Streams {
    pub by_key: HashMap<String, Stream>,
    pub accounts: HashMap<String, AccountSettings>,
}

pub struct State {
    inner: Mutex<Streams>,
    store: Arc<dyn Store>,
    pub durable: bool,
}

impl State {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            durable: store.is_durable(),
            inner: Mutex::new(Streams::default()),
            store,
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, Streams> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn load(&self) {
        let mut st = self.lock();
        for (_, v) in self.store.load(NS_STREAMS, b"").unwrap_or_default() {
            if let Ok(s) = serde_json::from_slice::<Stream>(&v) {
                st.by_key.insert(s.key(), s);
            }
        }
        for (k, v) in self.store.load(NS_ACCOUNTS, b"").unwrap_or_default() {
            if let Ok(a) = serde_json::from_slice::<AccountSettings>(&v) {
                st.accounts
                    .insert(String::from_utf8_lossy(&k).into_owned(), a);
            }
        }
        for (k, v) in self.store.load(NS_RECORDS, b"").unwrap_or_default() {
            let key = String::from_utf8_lossy(&k);
            // account/region/name/created/shard/seq
            let parts: Vec<&str> = key.rsplitn(4, '/').collect();
            let [_, shard, created, stream] = parts[..] else {
                continue;
            };
            let (Ok(shard), Ok(created)) = (shard.parse::<u32>(), created.parse::<i64>()) else {
                continue;
            };
            let Ok(r) = serde_json::from_slice::<Record>(&v) else {
                continue;
            };
            if let Some(s) = st.by_key.get_mut(stream)
                && s.created_ms == created
                && let Some(sh) = s.shards.iter_mut().find(|x| x.index == shard)
            {
                sh.records.push_back(r);
            }
        }
        for (k, v) in self.store.load(NS_COUNTERS, b"").unwrap_or_default() {
            let key = String::from_utf8_lossy(&k);
            let Some((stream, counter)) = key
                .rsplit_once('/')
                .and_then(|(stream, created)| Some((stream, created.parse::<i64>().ok()?)))
                .and_then(|(stream, created)| {
                    let n = std::str::from_utf8(&v).ok()?.parse::<u128>().ok()?;
                    Some((stream, (created, n)))
                })
            else {
                continue;
            };
            if let Some(s) = st.by_key.get_mut(stream)
                && s.created_ms == counter.0
            {
                s.counter = s.counter.max(counter.1);
            }
        }
        for s in st.by_key.values_mut() {
            for sh in &mut s.shards {
                sh.records.make_contiguous().sort_by_key(|r| r.seq);
            }
        }
    }

    pub fn save_stream(&self, s: &Stream) -> Commit {
        if !self.durable {
            return Commit::done();
        }
        let mut b = Batch::new();
        b.put(
            NS_STREAMS,
            s.key(),
            serde_json::to_vec(s).unwrap_or_default(),
        );
        self.store.submit(b)
    }

    /// Journals new records (and the stream, whose counter moved) and drops trimmed ones.
    pub fn save_records(&self, s: &Stream, added: &[(u32, &Record)], trimmed: &[String]) -> Commit {
        if !self.durable {
            return Commit::done();
        }
        let mut b = Batch::new();
        b.put(
            NS_STREAMS,
            s.key(),
            serde_json::to_vec(s).unwrap_or_default(),
        );
        for (shard, r) in added {
            b.put(
                NS_RECORDS,
                s.record_key(*shard, r.seq),
                serde_json::to_vec(r).unwrap_or_default(),
            );
        }
        for k in trimmed {
            b.delete(NS_RECORDS, k.clone());
        }
        if b.is_empty() {
            return Commit::done();
        }
        self.store.submit(b)
    }

    pub fn forget_records(&self, trimmed: &[String]) -> Commit {
        if !self.durable || trimmed.is_empty() {
            return Commit::done();
        }
        let mut b = Batch::new();
        for k in trimmed {
            b.delete(NS_RECORDS, k.clone());
        }
        self.store.submit(b)
    }

    pub fn save_account(&self, account: &str, a: &AccountSettings) -> Commit {
        if !self.durable {
            return Commit::done();
        }
        let mut b = Batch::new();
        b.put(
            NS_ACCOUNTS,
            account,
            serde_json::to_vec(a).unwrap_or_default(),
        );
        self.store.submit(b)
    }

    /// Deletes a stream's metadata now; its records are cleared by prefix.
    pub fn delete_stream(&self, s: &Stream) -> (Commit, Commit) {
        if !self.durable {
            return (Commit::done(), Commit::done());
        }
        let mut b = Batch::new();
        b.delete(NS_STREAMS, s.key());
        b.delete(NS_COUNTERS, format!("{}/{}", s.key(), s.created_ms));
        (
            self.store.submit(b),
            self.store.clear(NS_RECORDS, s.record_prefix().as_bytes()),
        )
    }

    pub async fn clear(&self) {
        {
            let mut st = self.lock();
            st.by_key.clear();
            st.accounts.clear();
        }
        for ns in [NS_STREAMS, NS_RECORDS, NS_ACCOUNTS, NS_COUNTERS] {
            if self.store.clear(ns, b"").await.is_err() {
                tracing::warn!("kinesis: reset could not clear {ns}");
            }
        }
    }
}
