//! Parameters of every account and region and their journal. SecureString values are
//! kept as KMS ciphertext (base64), as AWS returns them without decryption.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use aloft_store::{Batch, Commit, Store};
use serde::{Deserialize, Serialize};

pub const NS: &str = "ssm/parameters";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ParamVersion {
    pub version: u64,
    pub value: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub description: Option<String>,
    pub key_id: Option<String>,
    pub allowed_pattern: Option<String>,
    pub tier: String,
    pub data_type: String,
    pub policies: Option<String>,
    pub modified_s: f64,
    pub user: String,
    pub labels: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Param {
    pub account: String,
    pub region: String,
    pub name: String,
    pub arn: String,
    pub tags: Vec<(String, String)>,
    /// Oldest first; the last is the current version.
    pub versions: Vec<ParamVersion>,
}

impl Param {
    pub fn current(&self) -> &ParamVersion {
        self.versions.last().expect("a parameter has a version")
    }
}

pub fn scoped(account: &str, region: &str, name: &str) -> String {
    format!("{account}/{region}/{name}")
}

pub struct State {
    /// By `account/region/name`, ordered so paths and listings are range walks.
    params: Mutex<BTreeMap<String, Param>>,
    store: Arc<dyn Store>,
    durable: bool,
}

impl State {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            durable: store.is_durable(),
            params: Mutex::new(BTreeMap::new()),
            store,
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, BTreeMap<String, Param>> {
        self.params
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn load(&self) {
        let mut m = self.lock();
        for (_, v) in self.store.load(NS, b"").unwrap_or_default() {
            if let Ok(p) = serde_json::from_slice::<Param>(&v) {
                m.insert(scoped(&p.account, &p.region, &p.name), p);
            }
        }
    }

    pub fn save(&self, p: &Param) -> Commit {
        if !self.durable {
            return Commit::done();
        }
        let mut b = Batch::new();
        b.put(
            NS,
            scoped(&p.account, &p.region, &p.name),
            serde_json::to_vec(p).unwrap_or_default(),
        );
        self.store.submit(b)
    }

    pub fn delete(&self, keys: &[String]) -> Commit {
        if !self.durable || keys.is_empty() {
            return Commit::done();
        }
        let mut b = Batch::new();
        for k in keys {
            b.delete(NS, k.clone());
        }
        self.store.submit(b)
    }

    pub async fn clear(&self) {
        self.lock().clear();
        if self.store.clear(NS, b"").await.is_err() {
            tracing::warn!("ssm: reset could not clear the journal");
        }
    }
}
