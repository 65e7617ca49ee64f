//! The in-memory tables: items in a `BTreeMap` ordered by encoded key (partition hash, then
//! partition, then sort key: the order Scan returns), one ordered map per secondary index,
//! sizes and counts kept incrementally, stream records appended with the change, and every
//! change journaled to the store.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use aloft_core::AwsError;
use aloft_store::{Batch, Store};
use serde_json::{Value as Json, json};

use crate::domain::rowkey::{RowKey, Rows};
use crate::domain::value::{Item, item_from_json, item_size, item_to_json};
use crate::tables::TableMeta;

pub const NS_TABLES: &str = "dynamodb/tables";
pub const NS_ITEMS: &str = "dynamodb/items";
pub const NS_STREAMS: &str = "dynamodb/streams";

/// An item collection (a partition key's items and their LSI entries) holds at most 10 GB.
pub const COLLECTION_LIMIT: u64 = 10 * 1024 * 1024 * 1024;

/// Stream records are kept 24 hours.
pub const STREAM_RETENTION_MS: i64 = 24 * 3600 * 1000;

/// One stream record as GetRecords returns it (its `dynamodb` member and envelope).
#[derive(Debug, Clone)]
pub struct StreamRecord {
    pub seq: u64,
    pub created_ms: i64,
    pub record: Json,
}

#[derive(Debug, Default)]
pub struct StreamLog {
    pub records: VecDeque<StreamRecord>,
}

pub struct TableData {
    /// Shared so requests can hold the definition without holding the lock.
    pub meta: Arc<TableMeta>,
    pub items: Rows,
    /// Parallel to `meta.indexes`: index key ++ table key → item.
    pub indexes: Vec<Rows>,
    pub size_bytes: u64,
    pub index_sizes: Vec<u64>,
    /// Parallel to `meta.vector_indexes`.
    pub vectors: Vec<crate::vectors::VectorData>,
    pub stream: StreamLog,
    /// The change log while point-in-time recovery is enabled.
    pub pitr: Option<crate::pitr::Pitr>,
    /// For global tables: the sequence number of the last write to each key (last writer wins).
    pub lww: HashMap<Vec<u8>, u64>,
    /// For tables with local secondary indexes: bytes per item collection (partition key).
    pub collections: HashMap<Vec<u8>, u64>,
    pub deleted: bool,
}

pub struct Table {
    pub data: RwLock<TableData>,
}

/// Who made a change, for the stream record's `userIdentity` (TTL deletions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    User,
    TtlService,
    /// A write replicated from another region's replica of a global table.
    Replication,
}

/// The capacity a write used on each index (by position), for ReturnConsumedCapacity.
#[derive(Debug, Default, Clone)]
pub struct IndexWrites(pub Vec<(usize, f64)>);

pub struct Db {
    /// By `account/region/name`, with a fast hasher: every request looks its table up.
    pub tables: RwLock<HashMap<String, Arc<Table>, crate::hash::FastBuild>>,
    pub store: Arc<dyn Store>,
    pub durable: bool,
    seq: AtomicU64,
    /// ClientRequestToken → (time, request fingerprint, response) for 10 minutes.
    pub tx_tokens: Mutex<HashMap<String, (i64, String, Json)>>,
    pub replication: crate::global::Replication,
    /// Bytes an item collection may hold (10 GB on AWS; lowered in tests by a setting).
    pub collection_limit: AtomicU64,
    /// Items in transactions not yet committed: (table, key) → writers see a conflict.
    pub in_flight: Mutex<std::collections::HashSet<(usize, Vec<u8>)>>,
    pub in_flight_count: std::sync::atomic::AtomicUsize,
    /// Changes bound for Kinesis Data Streams destinations.
    pub kinesis: crate::kinesis::Outbox,
}

pub fn table_key(account: &str, region: &str, name: &str) -> String {
    format!("{account}/{region}/{name}")
}

pub fn item_prefix(meta: &TableMeta) -> Vec<u8> {
    format!("{}/{}/{}/", meta.account, meta.region, meta.id).into_bytes()
}

fn journal_key(meta: &TableMeta, key: &[u8]) -> Vec<u8> {
    let mut k = item_prefix(meta);
    k.extend_from_slice(key);
    k
}

/// An item as the journal stores it: the bytes of `item_to_json(item).to_string()`, written
/// without building the JSON tree first (a durable write's largest cost on the service side).
fn journal_value(item: &Item) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 * item_size(item) + 16);
    crate::fast::write_item(&mut out, item);
    out
}

/// An item as the table keeps it: shared, in one exact-size allocation (stored items are
/// never changed in place; see [`AttrMap::shared`](crate::domain::item::AttrMap::shared)).
pub fn stored(item: Item) -> Item {
    item.shared()
}

impl TableData {
    pub fn new(meta: TableMeta) -> Self {
        let n = meta.indexes.len();
        let nv = meta.vector_indexes.len();
        TableData {
            meta: Arc::new(meta),
            items: BTreeMap::new(),
            indexes: vec![BTreeMap::new(); n],
            size_bytes: 0,
            index_sizes: vec![0; n],
            vectors: vec![Default::default(); nv],
            stream: StreamLog::default(),
            pitr: None,
            lww: HashMap::new(),
            collections: HashMap::new(),
            deleted: false,
        }
    }

    pub fn has_lsi(&self) -> bool {
        self.meta.indexes.iter().any(|i| !i.global)
    }

    /// The item collection (encoded partition key) an item belongs to.
    pub fn collection_of(&self, item: &Item) -> Option<Vec<u8>> {
        item.get(&self.meta.schema.hash.name)
            .map(|v| self.meta.schema.partition_prefix(v))
    }

    /// An item's share of its collection, as AWS counts it: the item plus its entries in
    /// every local secondary index.
    pub fn collection_share(&self, item: &Item) -> u64 {
        let mut n = item_size(item) as u64;
        for idx in self.meta.indexes.iter().filter(|i| !i.global) {
            if idx.schema.index_key(item).is_some() {
                n += item_size(&self.meta.project_for_index(idx, item)) as u64;
            }
        }
        n
    }

    pub fn collection_size(&self, part: &[u8]) -> u64 {
        self.collections.get(part).copied().unwrap_or(0)
    }

    fn account_collection(&mut self, old: Option<&Item>, new: Option<&Item>) {
        let Some(part) = new.or(old).and_then(|i| self.collection_of(i)) else {
            return;
        };
        let minus = old.map_or(0, |o| self.collection_share(o));
        let plus = new.map_or(0, |n| self.collection_share(n));
        let size = self.collections.entry(part.clone()).or_insert(0);
        *size = (*size + plus).saturating_sub(minus);
        if *size == 0 {
            self.collections.remove(&part);
        }
    }

    pub fn index_stats(&self) -> Vec<(u64, u64)> {
        self.indexes
            .iter()
            .zip(&self.index_sizes)
            .map(|(m, s)| (m.len() as u64, *s))
            .collect()
    }

    /// Puts or removes `key`'s entries in the secondary indexes; returns write units per index.
    fn reindex(&mut self, key: &[u8], old: Option<&Item>, new: Option<&Item>) -> IndexWrites {
        let mut writes = IndexWrites::default();
        for (i, idx) in self.meta.indexes.iter().enumerate() {
            let old_k = old.and_then(|o| idx.schema.index_key(o)).map(|mut k| {
                k.extend_from_slice(key);
                RowKey::from(k)
            });
            let new_k = new.and_then(|n| idx.schema.index_key(n)).map(|mut k| {
                k.extend_from_slice(key);
                RowKey::from(k)
            });
            let old_p = old_k
                .as_ref()
                .and(old)
                .map(|o| self.meta.project_for_index(idx, o));
            let new_p = new_k
                .as_ref()
                .and(new)
                .map(|n| self.meta.project_for_index(idx, n));
            if old_k == new_k && old_p == new_p {
                if let (Some(k), Some(n)) = (&new_k, new) {
                    self.indexes[i].insert(k.clone(), n.clone());
                }
                continue;
            }
            let mut units = 0.0;
            if let (Some(k), Some(p)) = (&old_k, &old_p) {
                self.indexes[i].remove(k);
                self.index_sizes[i] = self.index_sizes[i].saturating_sub(item_size(p) as u64);
                if old_k != new_k {
                    units += crate::capacity::write_units(item_size(p));
                }
            }
            if let (Some(k), Some(p), Some(n)) = (&new_k, &new_p, new) {
                self.indexes[i].insert(k.clone(), n.clone());
                self.index_sizes[i] += item_size(p) as u64;
                units += crate::capacity::write_units(item_size(p));
            }
            writes.0.push((i, units));
        }
        writes
    }

    /// Replaces or removes the item at `key`, keeping indexes, sizes and the stream in step,
    /// and adds the change to `batch`. Returns the old item and the index write units.
    pub fn write(
        &mut self,
        db: &Db,
        key: Vec<u8>,
        new: Option<Item>,
        actor: Actor,
        batch: &mut Batch,
    ) -> (Option<Item>, IndexWrites) {
        self.write_shared(db, key, new.map(stored), actor, batch)
    }

    /// [`TableData::write`] of an item already shared (see [`stored`]), so the caller keeps
    /// the stored copy for its answer instead of cloning the item.
    pub fn write_shared(
        &mut self,
        db: &Db,
        key: Vec<u8>,
        new: Option<Item>,
        actor: Actor,
        batch: &mut Batch,
    ) -> (Option<Item>, IndexWrites) {
        let old = match &new {
            Some(n) => self.items.insert(RowKey::new(&key), n.clone()),
            None => self.items.remove(&key[..]),
        };
        if let Some(o) = &old {
            self.size_bytes = self.size_bytes.saturating_sub(item_size(o) as u64);
        }
        if let Some(n) = &new {
            self.size_bytes += item_size(n) as u64;
        }
        let writes = self.reindex(&key, old.as_ref(), new.as_ref());
        if !self.meta.vector_indexes.is_empty() {
            crate::vectors::maintain(&self.meta, &mut self.vectors, &key, new.as_ref());
        }
        if self.has_lsi() {
            self.account_collection(old.as_ref(), new.as_ref());
        }
        // The ephemeral store discards batches: skip encoding what nobody keeps.
        if db.durable {
            let jk = journal_key(&self.meta, &key);
            match &new {
                Some(n) => batch.put(NS_ITEMS, jk, journal_value(n)),
                None => batch.delete(NS_ITEMS, jk),
            }
        }
        if self.meta.replicas.len() > 1 && actor != Actor::Replication {
            let seq = db.next_seq();
            self.lww.insert(key.clone(), seq);
            db.replication.send(crate::global::Replicated {
                account: self.meta.account.clone(),
                name: self.meta.name.clone(),
                key: key.clone(),
                item: new.clone(),
                seq,
                origin: self.meta.region.clone(),
                strong: self.meta.strong,
                ticket: 0,
                targets: self
                    .meta
                    .replicas
                    .iter()
                    .filter(|r| **r != self.meta.region)
                    .map(|r| (self.meta.member_account(r).to_string(), r.clone()))
                    .collect(),
            });
        }
        if let Some(p) = &mut self.pitr {
            let prefix = db.durable.then(|| item_prefix(&self.meta));
            p.record(
                aloft_core::clock::now_millis(),
                &key,
                new.clone(),
                prefix.as_deref(),
                batch,
            );
        }
        if self.meta.stream_view.is_some() && old.as_ref() != new.as_ref() {
            self.append_stream(db, old.as_ref(), new.as_ref(), actor, batch);
        }
        // Kinesis destinations see every change, whether or not Streams is on.
        if !self.meta.kinesis.is_empty() && old.as_ref() != new.as_ref() {
            db.kinesis.capture(
                db,
                &self.meta,
                &key,
                old.as_ref(),
                new.as_ref(),
                actor,
                batch,
            );
        }
        (old, writes)
    }

    fn append_stream(
        &mut self,
        db: &Db,
        old: Option<&Item>,
        new: Option<&Item>,
        actor: Actor,
        batch: &mut Batch,
    ) {
        let view = self.meta.stream_view.clone().unwrap_or_default();
        let now = aloft_core::clock::now_millis();
        let seq = db.next_seq();
        let keys = self
            .meta
            .schema
            .extract(new.or(old).unwrap_or(&Item::new()));
        let event = match (old, new) {
            (None, Some(_)) => "INSERT",
            (Some(_), Some(_)) => "MODIFY",
            _ => "REMOVE",
        };
        let mut ddb = json!({
            "ApproximateCreationDateTime": (now / 1000) as f64,
            "Keys": item_to_json(&keys),
            "SequenceNumber": format!("{seq:021}"),
            "StreamViewType": view,
        });
        let mut size = item_size(&keys);
        if matches!(view.as_str(), "NEW_IMAGE" | "NEW_AND_OLD_IMAGES")
            && let Some(n) = new
        {
            ddb["NewImage"] = item_to_json(n);
            size += item_size(n);
        }
        if matches!(view.as_str(), "OLD_IMAGE" | "NEW_AND_OLD_IMAGES")
            && let Some(o) = old
        {
            ddb["OldImage"] = item_to_json(o);
            size += item_size(o);
        }
        ddb["SizeBytes"] = json!(size);
        let mut record = json!({
            "eventID": aloft_core::ids::hex(16),
            "eventName": event,
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": self.meta.region,
            "dynamodb": ddb,
        });
        if actor == Actor::TtlService {
            // GetRecords spells these members in PascalCase; Lambda events in camelCase.
            record["userIdentity"] =
                json!({"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"});
        }
        let mut jk = item_prefix(&self.meta);
        jk.extend_from_slice(&seq.to_be_bytes());
        if db.durable {
            batch.put(NS_STREAMS, jk, json!({"t": now, "r": record}).to_string());
        }
        self.stream.records.push_back(StreamRecord {
            seq,
            created_ms: now,
            record,
        });
        // Trim what is past retention.
        while self
            .stream
            .records
            .front()
            .is_some_and(|r| r.created_ms < now - STREAM_RETENTION_MS)
        {
            if let Some(r) = self.stream.records.pop_front() {
                let mut k = item_prefix(&self.meta);
                k.extend_from_slice(&r.seq.to_be_bytes());
                batch.delete(NS_STREAMS, k);
            }
        }
    }

    /// Rebuilds every index from the items (after load or when a GSI is added).
    pub fn rebuild_indexes(&mut self) {
        let n = self.meta.indexes.len();
        self.indexes = vec![BTreeMap::new(); n];
        self.index_sizes = vec![0; n];
        let items: Vec<(RowKey, Item)> = self
            .items
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        self.collections.clear();
        let lsi = self.has_lsi();
        self.vectors = crate::vectors::rebuild(&self.meta, &self.items);
        for (k, v) in items {
            self.reindex(k.as_bytes(), None, Some(&v));
            if lsi {
                self.account_collection(None, Some(&v));
            }
        }
    }
}

impl Db {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Db {
            tables: RwLock::new(HashMap::default()),
            durable: store.is_durable(),
            store,
            // Sequence numbers grow across restarts: start from the clock.
            seq: AtomicU64::new(aloft_core::clock::now_millis() as u64 * 1000),
            tx_tokens: Mutex::new(HashMap::new()),
            replication: crate::global::Replication::default(),
            collection_limit: AtomicU64::new(COLLECTION_LIMIT),
            in_flight: Mutex::new(std::collections::HashSet::new()),
            in_flight_count: std::sync::atomic::AtomicUsize::new(0),
            kinesis: crate::kinesis::Outbox::default(),
        }
    }

    pub fn current_seq(&self) -> u64 {
        self.seq.load(Ordering::Relaxed)
    }

    pub fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub fn get(&self, account: &str, region: &str, name: &str) -> Option<Arc<Table>> {
        // The key is built in a reused buffer: this runs on every item request.
        thread_local! {
            static KEY: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
        }
        KEY.with_borrow_mut(|k| {
            k.clear();
            k.push_str(account);
            k.push('/');
            k.push_str(region);
            k.push('/');
            k.push_str(name);
            self.tables
                .read()
                .expect("tables lock")
                .get(k.as_str())
                .cloned()
        })
    }

    /// Journals a table definition.
    pub fn save_meta(&self, meta: &TableMeta, batch: &mut Batch) {
        let k = table_key(&meta.account, &meta.region, &meta.name);
        batch.put(NS_TABLES, k, serde_json::to_vec(meta).unwrap_or_default());
    }

    /// Forgets a table's definition, items and stream records.
    pub async fn drop_table(&self, meta: &TableMeta) -> Result<(), AwsError> {
        let mut b = Batch::new();
        b.delete(
            NS_TABLES,
            table_key(&meta.account, &meta.region, &meta.name),
        );
        let c1 = self.store.submit(b);
        let c2 = self.store.clear(NS_ITEMS, &item_prefix(meta));
        let c3 = self.store.clear(NS_STREAMS, &item_prefix(meta));
        let c4 = self.store.clear(crate::pitr::NS_PITR, &item_prefix(meta));
        let c5 = self
            .store
            .clear(crate::pitr::NS_PITR_BASE, &item_prefix(meta));
        for c in [c1, c2, c3, c4, c5] {
            c.await.map_err(|e| AwsError::internal(e.to_string()))?;
        }
        Ok(())
    }

    /// Loads every table, item and stream record from the journal.
    pub fn load(&self) -> Result<usize, String> {
        let metas = self.store.load(NS_TABLES, b"").map_err(|e| e.to_string())?;
        let mut max_seq = 0u64;
        let mut count = 0;
        for (_, v) in metas {
            let Ok(meta) = serde_json::from_slice::<TableMeta>(&v) else {
                tracing::warn!("skipping an unreadable DynamoDB table definition");
                continue;
            };
            let prefix = item_prefix(&meta);
            let mut data = TableData::new(meta.clone());
            let mut migrate = Batch::new();
            for (k, v) in self
                .store
                .load(NS_ITEMS, &prefix)
                .map_err(|e| e.to_string())?
            {
                let parsed = serde_json::from_slice::<Json>(&v)
                    .ok()
                    .and_then(|j| item_from_json(&j).ok());
                if let Some(item) = parsed {
                    // Keys journaled before keys began with the partition hash are re-keyed.
                    let stored = &k[prefix.len()..];
                    let key = match meta.schema.item_key(&item) {
                        Ok(key) if key != stored => {
                            migrate.delete(NS_ITEMS, k.clone());
                            migrate.put(NS_ITEMS, journal_key(&meta, &key), v.clone());
                            key
                        }
                        _ => stored.to_vec(),
                    };
                    data.size_bytes += item_size(&item) as u64;
                    data.items
                        .insert(RowKey::from(key), crate::state::stored(item));
                    count += 1;
                }
            }
            if !migrate.is_empty() {
                // Applied in order before any later batch; nothing waits on it at start.
                drop(self.store.submit(std::mem::take(&mut migrate)));
            }
            data.rebuild_indexes();
            if meta.pitr {
                let base = self
                    .store
                    .load(crate::pitr::NS_PITR_BASE, &prefix)
                    .map_err(|e| e.to_string())?;
                let changes = self
                    .store
                    .load(crate::pitr::NS_PITR, &prefix)
                    .map_err(|e| e.to_string())?;
                data.pitr = crate::pitr::Pitr::from_journal(&prefix, base, changes, |i| {
                    meta.schema.item_key(i).ok()
                });
            }
            for (k, v) in self
                .store
                .load(NS_STREAMS, &prefix)
                .map_err(|e| e.to_string())?
            {
                let Ok(seq_bytes) = <[u8; 8]>::try_from(&k[prefix.len()..]) else {
                    continue;
                };
                let seq = u64::from_be_bytes(seq_bytes);
                let Ok(j) = serde_json::from_slice::<Json>(&v) else {
                    continue;
                };
                max_seq = max_seq.max(seq);
                data.stream.records.push_back(StreamRecord {
                    seq,
                    created_ms: j["t"].as_i64().unwrap_or(0),
                    record: j["r"].clone(),
                });
            }
            self.tables.write().expect("tables lock").insert(
                table_key(&meta.account, &meta.region, &meta.name),
                Arc::new(Table {
                    data: RwLock::new(data),
                }),
            );
        }
        self.seq.fetch_max(max_seq, Ordering::Relaxed);
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use aloft_store::{Commit, Entries, StoreError};

    use super::*;

    /// A journal kept in memory, to check what DynamoDB writes reloads as it was.
    type Journal = BTreeMap<(String, Vec<u8>), Vec<u8>>;

    #[derive(Default)]
    struct MemStore(Mutex<Journal>);

    impl Store for MemStore {
        fn is_durable(&self) -> bool {
            true
        }
        fn load(&self, ns: &str, prefix: &[u8]) -> Result<Entries, StoreError> {
            let m = self.0.lock().unwrap();
            Ok(m.iter()
                .filter(|((n, k), _)| n == ns && k.starts_with(prefix))
                .map(|((_, k), v)| (k.clone(), v.clone()))
                .collect())
        }
        fn submit(&self, batch: Batch) -> Commit {
            let mut m = self.0.lock().unwrap();
            for (ns, k, v) in batch.ops {
                match v {
                    Some(v) => m.insert((ns, k), v),
                    None => m.remove(&(ns, k)),
                };
            }
            Commit::done()
        }
        fn clear(&self, ns: &str, prefix: &[u8]) -> Commit {
            self.0
                .lock()
                .unwrap()
                .retain(|(n, k), _| !(n == ns && k.starts_with(prefix)));
            Commit::done()
        }
        fn flush(&self) -> Commit {
            Commit::done()
        }
    }

    #[tokio::test]
    async fn journal_reloads_tables_items_indexes_and_streams() {
        let store: Arc<dyn Store> = Arc::new(MemStore::default());
        let db = Db::new(store.clone());
        let input = serde_json::json!({
            "TableName": "Tab", "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"},
                                     {"AttributeName": "g", "AttributeType": "N"}],
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "GlobalSecondaryIndexes": [{"IndexName": "byG", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                        "Projection": {"ProjectionType": "ALL"}}],
            "StreamSpecification": {"StreamEnabled": true, "StreamViewType": "NEW_IMAGE"}
        });
        let meta = crate::tables::from_create(&input, "1", "r", 0).unwrap();
        let mut batch = Batch::new();
        db.save_meta(&meta, &mut batch);
        let mut data = TableData::new(meta);
        for i in 0..10 {
            let item = item_from_json(
                &serde_json::json!({"id": {"S": format!("k{i}")}, "g": {"N": (i % 3).to_string()}}),
            )
            .unwrap();
            let key = data.meta.schema.item_key(&item).unwrap();
            data.write(&db, key, Some(item), Actor::User, &mut batch);
        }
        let gone = data
            .meta
            .schema
            .item_key(&item_from_json(&serde_json::json!({"id": {"S": "k3"}})).unwrap())
            .unwrap();
        data.write(&db, gone, None, Actor::User, &mut batch);
        store.submit(batch).await.unwrap();

        let again = Db::new(store);
        assert_eq!(again.load().unwrap(), 9);
        let t = again.get("1", "r", "Tab").unwrap();
        let d = t.data.read().unwrap();
        assert_eq!(d.items.len(), 9);
        assert_eq!(d.size_bytes, data.size_bytes);
        assert_eq!(d.indexes[0].len(), 9);
        assert_eq!(d.stream.records.len(), 11);
        assert!(again.current_seq() >= d.stream.records.back().unwrap().seq);
    }

    #[test]
    fn journal_values_are_the_json_the_journal_always_held() {
        let item = item_from_json(&serde_json::json!({
            "s": {"S": "x\"\u{e9}\n"}, "n": {"N": "-1.50"}, "b": {"B": "AQI="},
            "t": {"BOOL": true}, "z": {"NULL": true}, "m": {"M": {"a": {"N": "1e3"}}},
            "l": {"L": [{"S": "a"}, {"BOOL": false}]}, "ss": {"SS": ["a", "b"]},
            "ns": {"NS": ["1", "2"]}, "bs": {"BS": ["AQ=="]}
        }))
        .unwrap();
        assert_eq!(
            journal_value(&item),
            item_to_json(&item).to_string().into_bytes()
        );
        // Stored (shared) items, strings either side of the inline limit, escapes in
        // inline and heap strings: the bytes the journal held before.
        let (short, long) = ("x".repeat(23), "y".repeat(24));
        let item = stored(
            item_from_json(&serde_json::json!({
                "b": {"S": long}, "a": {"S": short}, "e": {"S": "\u{e9}\"\t"},
                "f": {"S": format!("{long}\n")}, "m": {"M": {"k": {"S": ""}}}
            }))
            .unwrap(),
        );
        let want = format!(
            r#"{{"a":{{"S":"{short}"}},"b":{{"S":"{long}"}},"e":{{"S":"é\"\t"}},"f":{{"S":"{long}\n"}},"m":{{"M":{{"k":{{"S":""}}}}}}}}"#
        );
        assert_eq!(String::from_utf8(journal_value(&item)).unwrap(), want);
        assert_eq!(item_to_json(&item).to_string(), want);
    }

    #[tokio::test]
    async fn items_journaled_under_old_keys_are_rekeyed_on_load() {
        let store: Arc<dyn Store> = Arc::new(MemStore::default());
        let db = Db::new(store.clone());
        let input = serde_json::json!({
            "TableName": "Tab", "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}]
        });
        let meta = crate::tables::from_create(&input, "1", "r", 0).unwrap();
        let mut batch = Batch::new();
        db.save_meta(&meta, &mut batch);
        // The encoding without the hash prefix: the value's escaped bytes only.
        let item = serde_json::json!({"id": {"S": "k1"}, "v": {"N": "1"}});
        let mut old = item_prefix(&meta);
        old.extend_from_slice(b"k1\x00\x01");
        batch.put(NS_ITEMS, old.clone(), item.to_string());
        store.submit(batch).await.unwrap();

        let again = Db::new(store.clone());
        assert_eq!(again.load().unwrap(), 1);
        let t = again.get("1", "r", "Tab").unwrap();
        let d = t.data.read().unwrap();
        let key = d
            .meta
            .schema
            .item_key(&item_from_json(&item).unwrap())
            .unwrap();
        assert!(d.items.contains_key(&key[..]));
        let journal = store.load(NS_ITEMS, b"").unwrap();
        assert_eq!(journal.len(), 1);
        assert_eq!(journal[0].0, journal_key(&d.meta, &key));
    }
}
