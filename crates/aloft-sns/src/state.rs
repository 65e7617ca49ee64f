//! Topics and subscriptions of every account and region, and their journal.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use aloft_store::{Batch, Commit, Store};
use serde::{Deserialize, Serialize};

pub const NS_TOPICS: &str = "sns/topics";
pub const NS_SUBS: &str = "sns/subscriptions";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Topic {
    pub arn: String,
    pub name: String,
    pub account: String,
    pub region: String,
    pub fifo: bool,
    /// Settable attributes (DisplayName, Policy, DeliveryPolicy, ContentBasedDeduplication, ...).
    pub attributes: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
    pub deleted_subscriptions: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Subscription {
    pub arn: String,
    pub topic_arn: String,
    pub owner: String,
    pub protocol: String,
    pub endpoint: String,
    pub confirmed: bool,
    pub token: String,
    /// FilterPolicy, FilterPolicyScope, RawMessageDelivery, RedrivePolicy, DeliveryPolicy, ...
    pub attributes: BTreeMap<String, String>,
}

impl Subscription {
    pub fn raw(&self) -> bool {
        self.attributes
            .get("RawMessageDelivery")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }
}

#[derive(Default)]
pub struct Maps {
    pub topics: HashMap<String, Topic>,
    pub subs: HashMap<String, Subscription>,
}

pub struct State {
    maps: RwLock<Maps>,
    store: Arc<dyn Store>,
    durable: bool,
}

impl State {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            durable: store.is_durable(),
            maps: RwLock::new(Maps::default()),
            store,
        }
    }

    pub fn load(&self) {
        let mut m = self.write();
        if let Ok(rows) = self.store.load(NS_TOPICS, b"") {
            for (_, v) in rows {
                if let Ok(t) = serde_json::from_slice::<Topic>(&v) {
                    m.topics.insert(t.arn.clone(), t);
                }
            }
        }
        if let Ok(rows) = self.store.load(NS_SUBS, b"") {
            for (_, v) in rows {
                if let Ok(s) = serde_json::from_slice::<Subscription>(&v) {
                    m.subs.insert(s.arn.clone(), s);
                }
            }
        }
    }

    pub fn read(&self) -> RwLockReadGuard<'_, Maps> {
        self.maps
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn write(&self) -> RwLockWriteGuard<'_, Maps> {
        self.maps
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Keys start with account and region so a reset or an account view is a range.
    fn key(arn: &str) -> String {
        match aloft_core::arn::parse(arn) {
            Some(a) => format!("{}/{}/{}", a.account, a.region, a.resource),
            None => arn.to_string(),
        }
    }

    pub fn save_topic(&self, t: &Topic) -> Commit {
        if !self.durable {
            return Commit::done();
        }
        let mut b = Batch::new();
        b.put(
            NS_TOPICS,
            Self::key(&t.arn),
            serde_json::to_vec(t).unwrap_or_default(),
        );
        self.store.submit(b)
    }

    pub fn save_sub(&self, s: &Subscription) -> Commit {
        if !self.durable {
            return Commit::done();
        }
        let mut b = Batch::new();
        b.put(
            NS_SUBS,
            Self::key(&s.arn),
            serde_json::to_vec(s).unwrap_or_default(),
        );
        self.store.submit(b)
    }

    pub fn delete(&self, topics: &[String], subs: &[String]) -> Commit {
        if !self.durable {
            return Commit::done();
        }
        let mut b = Batch::new();
        for t in topics {
            b.delete(NS_TOPICS, Self::key(t));
        }
        for s in subs {
            b.delete(NS_SUBS, Self::key(s));
        }
        self.store.submit(b)
    }

    pub async fn clear(&self) {
        {
            let mut m = self.write();
            m.topics.clear();
            m.subs.clear();
        }
        let a = self.store.clear(NS_TOPICS, b"");
        let b = self.store.clear(NS_SUBS, b"");
        if a.await.is_err() || b.await.is_err() {
            tracing::warn!("sns: reset could not clear the journal");
        }
    }
}
