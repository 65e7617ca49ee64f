//! Event buses and rules of every account and region, and their journal.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use aloft_store::{Batch, Commit, Store};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const NS_BUSES: &str = "events/buses";
pub const NS_RULES: &str = "events/rules";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Bus {
    pub name: String,
    pub arn: String,
    pub account: String,
    pub region: String,
    pub created_s: i64,
    pub description: Option<String>,
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Rule {
    pub name: String,
    pub arn: String,
    pub bus_name: String,
    pub account: String,
    pub region: String,
    pub event_pattern: Option<String>,
    pub schedule: Option<String>,
    pub enabled: bool,
    pub description: Option<String>,
    pub role_arn: Option<String>,
    /// Targets as PutTargets carried them (model member names), keyed by Id.
    pub targets: BTreeMap<String, Value>,
    pub tags: BTreeMap<String, String>,
    /// When the schedule started counting (rates fire every period after it).
    pub schedule_start_ms: i64,
    pub last_fired_ms: i64,
}

#[derive(Default)]
pub struct Maps {
    pub buses: HashMap<String, Bus>,
    pub rules: HashMap<String, Rule>,
    pub archives: HashMap<String, crate::archives::Archive>,
    pub replays: HashMap<String, crate::replays::Replay>,
}

pub struct State {
    maps: Mutex<Maps>,
    store: Arc<dyn Store>,
    durable: bool,
}

fn key(arn: &str) -> String {
    match aloft_core::arn::parse(arn) {
        Some(a) => format!("{}/{}/{}", a.account, a.region, a.resource),
        None => arn.to_string(),
    }
}

impl State {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            durable: store.is_durable(),
            maps: Mutex::new(Maps::default()),
            store,
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, Maps> {
        self.maps
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn load(&self) {
        let mut m = self.lock();
        for (_, v) in self.store.load(NS_BUSES, b"").unwrap_or_default() {
            if let Ok(b) = serde_json::from_slice::<Bus>(&v) {
                m.buses.insert(b.arn.clone(), b);
            }
        }
        for (_, v) in self.store.load(NS_RULES, b"").unwrap_or_default() {
            if let Ok(r) = serde_json::from_slice::<Rule>(&v) {
                m.rules.insert(r.arn.clone(), r);
            }
        }
        crate::archives::load(&mut m, self.store.as_ref());
    }

    pub fn save_bus(&self, b: &Bus) -> Commit {
        self.put(NS_BUSES, &b.arn, b)
    }

    pub fn save_rule(&self, r: &Rule) -> Commit {
        self.put(NS_RULES, &r.arn, r)
    }

    pub(crate) fn store(&self) -> Option<&dyn Store> {
        self.durable.then_some(self.store.as_ref())
    }

    pub(crate) fn put<T: Serialize>(&self, ns: &str, arn: &str, v: &T) -> Commit {
        if !self.durable {
            return Commit::done();
        }
        let mut b = Batch::new();
        b.put(ns, key(arn), serde_json::to_vec(v).unwrap_or_default());
        self.store.submit(b)
    }

    pub fn delete(&self, ns: &str, arn: &str) -> Commit {
        if !self.durable {
            return Commit::done();
        }
        let mut b = Batch::new();
        b.delete(ns, key(arn));
        self.store.submit(b)
    }

    pub async fn clear(&self) {
        {
            let mut m = self.lock();
            m.buses.clear();
            m.rules.clear();
            m.archives.clear();
            m.replays.clear();
        }
        for ns in crate::archives::NAMESPACES {
            if self.store.clear(ns, b"").await.is_err() {
                tracing::warn!("events: reset could not clear {ns}");
            }
        }
        let a = self.store.clear(NS_BUSES, b"");
        let b = self.store.clear(NS_RULES, b"");
        if a.await.is_err() || b.await.is_err() {
            tracing::warn!("events: reset could not clear the journal");
        }
    }
}
