//! Point-in-time recovery: while it is enabled a table keeps a base image (its items when
//! the window starts; items are shared `Arc`s, so this costs a pointer per item) and a log of
//! every change with its time on the one clock. The table as it was at any time in the window
//! is the base with the changes up to that time replayed. Changes older than the recovery
//! period are folded into the base, so memory stays bounded by the window.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use aloft_store::Batch;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value as Json, json};

use crate::domain::value::{Item, item_from_json, item_to_json};

pub const NS_PITR: &str = "dynamodb/pitr";
pub const NS_PITR_BASE: &str = "dynamodb/pitr-base";

const DAY_MS: i64 = 86_400_000;
/// AWS's restorable window trails the present by about five minutes.
pub const LATEST_LAG_MS: i64 = 5 * 60 * 1000;

pub struct Change {
    pub at_ms: i64,
    pub key: Vec<u8>,
    /// The item after the change; None when it was deleted.
    pub item: Option<Arc<Item>>,
}

pub struct Pitr {
    pub enabled_ms: i64,
    pub days: i64,
    base: BTreeMap<Vec<u8>, Arc<Item>>,
    log: VecDeque<Change>,
    /// Orders changes made in the same millisecond in the journal.
    counter: u64,
}

impl Pitr {
    pub fn new(items: &BTreeMap<Vec<u8>, Arc<Item>>, now_ms: i64, days: i64) -> Pitr {
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
        item: Option<Arc<Item>>,
        prefix: Option<&[u8]>,
        batch: &mut Batch,
    ) {
        self.counter += 1;
        if let Some(prefix) = prefix {
            let mut jk = prefix.to_vec();
            jk.extend_from_slice(&now_ms.to_be_bytes());
            jk.extend_from_slice(&self.counter.to_be_bytes());
            let v = json!({"t": now_ms, "k": B64.encode(key),
                "i": item.as_deref().map(item_to_json)});
            batch.put(NS_PITR, jk, v.to_string());
        }
        self.log.push_back(Change {
            at_ms: now_ms,
            key: key.to_vec(),
            item,
        });
        self.fold(now_ms);
    }

    /// Applies changes that left the window to the base.
    fn fold(&mut self, now_ms: i64) {
        let horizon = now_ms - self.days * DAY_MS;
        while self.log.front().is_some_and(|c| c.at_ms < horizon) {
            if let Some(c) = self.log.pop_front() {
                apply(&mut self.base, c.key, c.item);
            }
        }
    }

    /// The items as they were at `at_ms`.
    pub fn items_at(&self, at_ms: i64) -> BTreeMap<Vec<u8>, Arc<Item>> {
        let mut items = self.base.clone();
        for c in self.log.iter().take_while(|c| c.at_ms <= at_ms) {
            apply(&mut items, c.key.clone(), c.item.clone());
        }
        items
    }

    /// The base image as journaled when PITR is enabled.
    pub fn base_journal(&self) -> Vec<u8> {
        let items: Vec<Json> = self.base.values().map(|i| item_to_json(i)).collect();
        json!({"enabled": self.enabled_ms, "days": self.days, "items": items})
            .to_string()
            .into_bytes()
    }

    /// Rebuilds from the journal: the base entry and the change entries in order.
    pub fn from_journal(
        base: &[u8],
        changes: impl Iterator<Item = Vec<u8>>,
        key_of: impl Fn(&Item) -> Option<Vec<u8>>,
    ) -> Option<Pitr> {
        let j: Json = serde_json::from_slice(base).ok()?;
        let mut items = BTreeMap::new();
        for i in j["items"].as_array()? {
            let item = item_from_json(i).ok()?;
            items.insert(key_of(&item)?, Arc::new(item));
        }
        let mut p = Pitr {
            enabled_ms: j["enabled"].as_i64()?,
            days: j["days"].as_i64().unwrap_or(35),
            base: items,
            log: VecDeque::new(),
            counter: 0,
        };
        for raw in changes {
            let Ok(c) = serde_json::from_slice::<Json>(&raw) else {
                continue;
            };
            let (Some(t), Some(k)) = (
                c["t"].as_i64(),
                c["k"].as_str().and_then(|k| B64.decode(k).ok()),
            ) else {
                continue;
            };
            let item = match &c["i"] {
                Json::Null => None,
                i => item_from_json(i).ok().map(Arc::new),
            };
            p.log.push_back(Change {
                at_ms: t,
                key: k,
                item,
            });
        }
        Some(p)
    }
}

fn apply(items: &mut BTreeMap<Vec<u8>, Arc<Item>>, key: Vec<u8>, item: Option<Arc<Item>>) {
    match item {
        Some(i) => {
            items.insert(key, i);
        }
        None => {
            items.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::value::AttrValue;

    fn item(v: &str) -> Arc<Item> {
        let mut i = Item::new();
        i.insert("v", AttrValue::S(v.into()));
        Arc::new(i)
    }

    #[test]
    fn replays_changes_up_to_the_restore_time_and_folds_old_ones() {
        let mut items = BTreeMap::new();
        items.insert(b"a".to_vec(), item("a0"));
        let mut p = Pitr::new(&items, 1_000, 35);
        let mut b = Batch::new();
        p.record(2_000, b"a", Some(item("a1")), None, &mut b);
        p.record(3_000, b"b", Some(item("b1")), None, &mut b);
        p.record(4_000, b"a", None, None, &mut b);
        assert_eq!(p.items_at(1_500)[&b"a".to_vec()], item("a0"));
        let at3 = p.items_at(3_000);
        assert_eq!((at3.len(), &at3[&b"a".to_vec()]), (2, &item("a1")));
        assert!(!p.items_at(4_000).contains_key(b"a".as_slice()));
        // 36 days later the old changes are folded: the window starts 35 days back.
        let later = 4_000 + 36 * DAY_MS;
        p.record(later, b"c", Some(item("c")), None, &mut b);
        assert_eq!(p.log.len(), 1);
        assert_eq!(p.window(later).0, later - 35 * DAY_MS);
        assert_eq!(p.items_at(later - 35 * DAY_MS).len(), 1);
    }
}
