//! Point-in-time recovery: while it is enabled a table keeps a base image (its items when
//! the window starts; items are shared `Arc`s, so this costs a pointer per item) and a log of
//! every change with its time on the one clock. The table as it was at any time in the window
//! is the base with the changes up to that time replayed. Changes older than the recovery
//! period are folded into the base (on each write and by the background sweeper), in memory
//! and in the journal: the folded change entries are deleted and the base's entries for their
//! keys rewritten, so the earliest restorable time moves forward and both stay bounded by the
//! window.
//!
//! Journal layout (durable stores): `NS_PITR_BASE` holds a header at the table prefix and one
//! entry per base item at prefix ++ `BASE_ITEM` ++ key; `NS_PITR` one entry per change at
//! prefix ++ time ++ counter.

use std::collections::VecDeque;
use std::sync::Arc;

use aloft_store::Batch;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value as Json, json};

use crate::domain::rowkey::{RowKey, Rows};
use crate::domain::value::{Item, item_from_json, item_to_json};

pub const NS_PITR: &str = "dynamodb/pitr";
pub const NS_PITR_BASE: &str = "dynamodb/pitr-base";

const DAY_MS: i64 = 86_400_000;
/// AWS's restorable window trails the present by about five minutes.
pub const LATEST_LAG_MS: i64 = 5 * 60 * 1000;

/// Marks a base item entry after the table prefix (the header has nothing after it).
const BASE_ITEM: u8 = b'i';

pub struct Change {
    pub at_ms: i64,
    /// Orders changes of one millisecond; with `at_ms` it names the journal entry.
    pub seq: u64,
    pub key: Vec<u8>,
    /// The item after the change; None when it was deleted.
    pub item: Option<Item>,
}

pub struct Pitr {
    pub enabled_ms: i64,
    pub days: i64,
    base: Rows,
    log: VecDeque<Change>,
    /// Orders changes made in the same millisecond in the journal.
    counter: u64,
}

impl Pitr {
    pub fn new(items: &Rows, now_ms: i64, days: i64) -> Pitr {
        Pitr {
            enabled_ms: now_ms,
            days,
            base: items.clone(),
            log: VecDeque::new(),
            counter: 0,
        }
    }

    /// The first and last restorable instants (ms) at `now_ms`.
    pub fn window(&self, now_ms: i64) -> (i64, i64) {
        let earliest = self.enabled_ms.max(now_ms - self.days * DAY_MS);
        (earliest, earliest.max(now_ms - LATEST_LAG_MS))
    }

    /// Records a change (and journals it when `prefix` is given: the store is durable).
    pub fn record(
        &mut self,
        now_ms: i64,
        key: &[u8],
        item: Option<Item>,
        prefix: Option<&[u8]>,
        batch: &mut Batch,
    ) {
        self.counter += 1;
        if let Some(prefix) = prefix {
            let v = json!({"t": now_ms, "k": B64.encode(key),
                "i": item.as_ref().map(item_to_json)});
            batch.put(
                NS_PITR,
                change_key(prefix, now_ms, self.counter),
                v.to_string(),
            );
        }
        self.log.push_back(Change {
            at_ms: now_ms,
            seq: self.counter,
            key: key.to_vec(),
            item,
        });
        self.fold(now_ms, prefix, batch);
    }

    /// Applies changes that left the window to the base, and (journaling under `prefix`)
    /// deletes their entries and rewrites the base's entries for their keys. Returns how
    /// many changes were folded.
    pub fn fold(&mut self, now_ms: i64, prefix: Option<&[u8]>, batch: &mut Batch) -> usize {
        let horizon = now_ms - self.days * DAY_MS;
        let mut folded = 0;
        while self.log.front().is_some_and(|c| c.at_ms < horizon) {
            let Some(c) = self.log.pop_front() else { break };
            if let Some(prefix) = prefix {
                batch.delete(NS_PITR, change_key(prefix, c.at_ms, c.seq));
                let bk = base_item_key(prefix, &c.key);
                match &c.item {
                    Some(i) => batch.put(NS_PITR_BASE, bk, item_to_json(i).to_string()),
                    None => batch.delete(NS_PITR_BASE, bk),
                }
            }
            apply(&mut self.base, c.key, c.item);
            folded += 1;
        }
        folded
    }

    /// The changes kept in the log, oldest first (incremental exports read them).
    pub fn changes(&self) -> impl Iterator<Item = &Change> {
        self.log.iter()
    }

    /// Changes kept in the log (the window's).
    pub fn log_len(&self) -> usize {
        self.log.len()
    }

    /// The items as they were at `at_ms`.
    pub fn items_at(&self, at_ms: i64) -> Rows {
        let mut items = self.base.clone();
        for c in self.log.iter().take_while(|c| c.at_ms <= at_ms) {
            apply(&mut items, c.key.clone(), c.item.clone());
        }
        items
    }

    /// Journals the header and the base image (when PITR is enabled).
    pub fn journal_base(&self, prefix: &[u8], batch: &mut Batch) {
        self.journal_header(prefix, batch);
        for (k, i) in &self.base {
            batch.put(
                NS_PITR_BASE,
                base_item_key(prefix, k),
                item_to_json(i).to_string(),
            );
        }
    }

    /// Journals the header (when enabled, or when the recovery period changes).
    pub fn journal_header(&self, prefix: &[u8], batch: &mut Batch) {
        let header = json!({"enabled": self.enabled_ms, "days": self.days});
        batch.put(NS_PITR_BASE, prefix.to_vec(), header.to_string());
    }

    /// Rebuilds from the journal: the base entries (header and items) and the change
    /// entries in order, all with their keys.
    pub fn from_journal(
        prefix: &[u8],
        base: Vec<(Vec<u8>, Vec<u8>)>,
        changes: Vec<(Vec<u8>, Vec<u8>)>,
        key_of: impl Fn(&Item) -> Option<Vec<u8>>,
    ) -> Option<Pitr> {
        let mut header = None;
        let mut items = Rows::new();
        for (k, v) in base {
            if k.len() == prefix.len() {
                header = serde_json::from_slice::<Json>(&v).ok();
                continue;
            }
            let Some(item) = serde_json::from_slice::<Json>(&v)
                .ok()
                .and_then(|j| item_from_json(&j).ok())
            else {
                continue;
            };
            if let Some(key) = key_of(&item) {
                items.insert(RowKey::from(key), crate::state::stored(item));
            }
        }
        let j = header?;
        // Bases written before items had entries of their own carry them in the header.
        for i in j["items"].as_array().into_iter().flatten() {
            let item = item_from_json(i).ok()?;
            items.insert(RowKey::from(key_of(&item)?), crate::state::stored(item));
        }
        let mut p = Pitr {
            enabled_ms: j["enabled"].as_i64()?,
            days: j["days"].as_i64().unwrap_or(35),
            base: items,
            log: VecDeque::new(),
            counter: 0,
        };
        for (jk, raw) in changes {
            let Ok(c) = serde_json::from_slice::<Json>(&raw) else {
                continue;
            };
            let (Some(t), Some(k)) = (
                c["t"].as_i64(),
                c["k"].as_str().and_then(|k| B64.decode(k).ok()),
            ) else {
                continue;
            };
            let seq = jk
                .get(prefix.len() + 8..prefix.len() + 16)
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
                .map_or(0, u64::from_be_bytes);
            p.counter = p.counter.max(seq);
            let item = match &c["i"] {
                Json::Null => None,
                i => item_from_json(i).ok().map(crate::state::stored),
            };
            p.log.push_back(Change {
                at_ms: t,
                seq,
                key: k,
                item,
            });
        }
        Some(p)
    }
}

/// Folds every table's changes that left its window (the background sweeper calls this, so
/// the window moves on even when nothing is written). Returns how many changes were folded.
pub async fn compact_all(db: &crate::state::Db) -> usize {
    let tables: Vec<Arc<crate::state::Table>> = db
        .tables
        .read()
        .expect("tables lock")
        .values()
        .cloned()
        .collect();
    let now = aloft_core::clock::now_millis();
    let mut folded = 0;
    for t in tables {
        let commit = {
            let mut data = t.data.write().expect("table lock");
            let prefix = db.durable.then(|| crate::state::item_prefix(&data.meta));
            let Some(p) = data.pitr.as_mut() else {
                continue;
            };
            let mut batch = Batch::new();
            let n = p.fold(now, prefix.as_deref(), &mut batch);
            if n == 0 {
                continue;
            }
            folded += n;
            db.store.submit(batch)
        };
        if let Err(e) = commit.await {
            tracing::error!("dynamodb pitr compaction: {e}");
        }
    }
    folded
}

fn change_key(prefix: &[u8], at_ms: i64, seq: u64) -> Vec<u8> {
    let mut jk = prefix.to_vec();
    jk.extend_from_slice(&at_ms.to_be_bytes());
    jk.extend_from_slice(&seq.to_be_bytes());
    jk
}

fn base_item_key(prefix: &[u8], key: &[u8]) -> Vec<u8> {
    let mut k = prefix.to_vec();
    k.push(BASE_ITEM);
    k.extend_from_slice(key);
    k
}

fn apply(items: &mut Rows, key: Vec<u8>, item: Option<Item>) {
    match item {
        Some(i) => {
            items.insert(RowKey::from(key), i);
        }
        None => {
            items.remove(&key[..]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::value::AttrValue;

    fn item(v: &str) -> Item {
        let mut i = Item::new();
        i.insert("v", AttrValue::S(v.into()));
        crate::state::stored(i)
    }

    #[test]
    fn replays_changes_up_to_the_restore_time_and_folds_old_ones() {
        let mut items = Rows::new();
        items.insert(RowKey::new(b"a"), item("a0"));
        let mut p = Pitr::new(&items, 1_000, 35);
        let mut b = Batch::new();
        p.record(2_000, b"a", Some(item("a1")), None, &mut b);
        p.record(3_000, b"b", Some(item("b1")), None, &mut b);
        p.record(4_000, b"a", None, None, &mut b);
        assert_eq!(p.items_at(1_500)[&b"a"[..]], item("a0"));
        let at3 = p.items_at(3_000);
        assert_eq!((at3.len(), &at3[&b"a"[..]]), (2, &item("a1")));
        assert!(!p.items_at(4_000).contains_key(b"a".as_slice()));
        // 36 days later the old changes are folded: the window starts 35 days back.
        let later = 4_000 + 36 * DAY_MS;
        p.record(later, b"c", Some(item("c")), None, &mut b);
        assert_eq!(p.log.len(), 1);
        assert_eq!(p.window(later).0, later - 35 * DAY_MS);
        assert_eq!(p.items_at(later - 35 * DAY_MS).len(), 1);
    }

    #[test]
    fn folding_rewrites_the_journal_and_reloads_exactly() {
        let prefix = b"1/r/t/".to_vec();
        let mut items = Rows::new();
        items.insert(RowKey::new(b"a"), item("a0"));
        let mut p = Pitr::new(&items, 1_000, 35);
        let mut journal: std::collections::BTreeMap<(String, Vec<u8>), Vec<u8>> =
            std::collections::BTreeMap::new();
        let mut run = |b: Batch| {
            for (ns, k, v) in b.ops {
                match v {
                    Some(v) => journal.insert((ns, k), v),
                    None => journal.remove(&(ns, k)),
                };
            }
        };
        let mut b = Batch::new();
        p.journal_base(&prefix, &mut b);
        p.record(2_000, b"a", Some(item("a1")), Some(&prefix), &mut b);
        p.record(2_000, b"b", Some(item("b1")), Some(&prefix), &mut b);
        p.record(3_000, b"a", None, Some(&prefix), &mut b);
        p.record(20 * DAY_MS, b"c", Some(item("c1")), Some(&prefix), &mut b);
        run(b);
        // 36 days on, the first three changes leave the window.
        let now = 36 * DAY_MS + 5_000;
        let mut b = Batch::new();
        assert_eq!(p.fold(now, Some(&prefix), &mut b), 3);
        run(b);
        let base: Vec<_> = journal
            .iter()
            .filter(|((ns, _), _)| ns == NS_PITR_BASE)
            .map(|((_, k), v)| (k.clone(), v.clone()))
            .collect();
        let changes: Vec<_> = journal
            .iter()
            .filter(|((ns, _), _)| ns == NS_PITR)
            .map(|((_, k), v)| (k.clone(), v.clone()))
            .collect();
        assert_eq!(changes.len(), 1);
        let key_of = |i: &Item| match i.get("v") {
            Some(AttrValue::S(s)) => Some(s.as_bytes()[..1].to_vec()),
            _ => None,
        };
        let again = Pitr::from_journal(&prefix, base, changes, key_of).unwrap();
        let earliest = again.window(now).0;
        assert_eq!(earliest, now - 35 * DAY_MS);
        for at in [earliest, 20 * DAY_MS, now] {
            assert_eq!(again.items_at(at), p.items_at(at));
        }
        assert_eq!(again.items_at(earliest).len(), 1);
        assert_eq!(again.items_at(now).len(), 2);
        assert_eq!(again.counter, 4);
    }
}
