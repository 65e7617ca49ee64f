//! Secrets of every account and region and their journal. Values are kept as KMS
//! ciphertext blobs (base64), never in the clear.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use aloft_store::{Batch, Commit, Store};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const NS: &str = "secretsmanager/secrets";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Version {
    /// The KMS ciphertext blob of the value, base64.
    pub blob: String,
    /// True when the value is a SecretBinary, false for a SecretString.
    pub binary: bool,
    pub stages: Vec<String>,
    pub created_s: f64,
    pub last_accessed_s: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Secret {
    pub account: String,
    pub region: String,
    pub name: String,
    pub arn: String,
    pub description: Option<String>,
    pub kms_key_id: Option<String>,
    pub tags: Vec<(String, String)>,
    pub created_s: f64,
    pub changed_s: f64,
    pub accessed_s: Option<f64>,
    pub deleted_ms: Option<i64>,
    pub rotation_lambda: Option<String>,
    pub rotation_rules: Option<Value>,
    pub rotation_enabled: bool,
    pub rotated_s: Option<f64>,
    pub policy: Option<String>,
    /// Versions by id, with the order they were created in.
    pub versions: BTreeMap<String, Version>,
    pub order: Vec<String>,
}

impl Secret {
    /// The version holding a stage label.
    pub fn staged(&self, stage: &str) -> Option<&str> {
        self.versions
            .iter()
            .find(|(_, v)| v.stages.iter().any(|s| s == stage))
            .map(|(id, _)| id.as_str())
    }
}

pub struct State {
    secrets: Mutex<HashMap<String, Secret>>,
    store: Arc<dyn Store>,
    durable: bool,
}

pub fn key(s: &Secret) -> String {
    format!("{}/{}/{}", s.account, s.region, s.arn)
}

impl State {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            durable: store.is_durable(),
            secrets: Mutex::new(HashMap::new()),
            store,
        }
    }

    /// Secrets by ARN.
    pub fn lock(&self) -> MutexGuard<'_, HashMap<String, Secret>> {
        self.secrets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn load(&self) {
        let mut m = self.lock();
        for (_, v) in self.store.load(NS, b"").unwrap_or_default() {
            if let Ok(s) = serde_json::from_slice::<Secret>(&v) {
                m.insert(s.arn.clone(), s);
            }
        }
    }

    pub fn save(&self, s: &Secret) -> Commit {
        if !self.durable {
            return Commit::done();
        }
        let mut b = Batch::new();
        b.put(NS, key(s), serde_json::to_vec(s).unwrap_or_default());
        self.store.submit(b)
    }

    pub fn delete(&self, gone: &[Secret]) -> Commit {
        if !self.durable || gone.is_empty() {
            return Commit::done();
        }
        let mut b = Batch::new();
        for s in gone {
            b.delete(NS, key(s));
        }
        self.store.submit(b)
    }

    pub async fn clear(&self) {
        self.lock().clear();
        if self.store.clear(NS, b"").await.is_err() {
            tracing::warn!("secretsmanager: reset could not clear the journal");
        }
    }
}
