//! Keys and aliases of every account and region, and their journal (key material included,
//! so `--data-dir` keeps every key able to decrypt what it encrypted).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use aloft_store::{Batch, Commit, Store};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};

use crate::material::Spec;

pub const NS_KEYS: &str = "kms/keys";
pub const NS_ALIASES: &str = "kms/aliases";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyState {
    Enabled,
    Disabled,
    PendingDeletion,
}

impl KeyState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enabled => "Enabled",
            Self::Disabled => "Disabled",
            Self::PendingDeletion => "PendingDeletion",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Grant {
    pub grant_id: String,
    pub token: String,
    pub name: Option<String>,
    pub grantee: String,
    pub retiring: Option<String>,
    pub operations: Vec<String>,
    pub constraints: Option<serde_json::Value>,
    pub issuing_account: String,
    pub created_s: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Rotation {
    pub version: u16,
    pub date_s: f64,
    pub kind: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Key {
    pub account: String,
    pub region: String,
    pub id: String,
    pub arn: String,
    pub created_s: f64,
    pub description: String,
    pub usage: String,
    pub spec: String,
    pub origin: String,
    /// `CUSTOMER`, or `AWS` for the `alias/aws/<service>` keys made on first use.
    pub manager: String,
    pub state: KeyState,
    pub deletion_ms: Option<i64>,
    pub pending_days: Option<u32>,
    pub policy: String,
    pub tags: BTreeMap<String, String>,
    /// Rotation period in days while automatic rotation is on.
    pub rotation_days: Option<u32>,
    pub next_rotation_ms: Option<i64>,
    pub rotations: Vec<Rotation>,
    /// Material versions, base64: index = version in the ciphertext blob; the last is current.
    pub materials: Vec<String>,
    pub grants: Vec<Grant>,
}

impl Key {
    pub fn spec(&self) -> Spec {
        Spec::parse(&self.spec).unwrap_or(Spec::Symmetric)
    }

    pub fn material(&self, version: usize) -> Option<Vec<u8>> {
        self.materials.get(version).and_then(|m| B64.decode(m).ok())
    }

    pub fn current(&self) -> (u16, Vec<u8>) {
        let v = self.materials.len().saturating_sub(1);
        (
            u16::try_from(v).unwrap_or(u16::MAX),
            self.material(v).unwrap_or_default(),
        )
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Alias {
    pub account: String,
    pub region: String,
    pub name: String,
    pub arn: String,
    pub target: String,
    pub created_s: f64,
    pub updated_s: f64,
}

#[derive(Default)]
pub struct Maps {
    /// By `account/region/key-id`.
    pub keys: HashMap<String, Key>,
    /// By `account/region/alias/name`.
    pub aliases: HashMap<String, Alias>,
}

pub fn scoped(account: &str, region: &str, id: &str) -> String {
    format!("{account}/{region}/{id}")
}

pub struct State {
    maps: Mutex<Maps>,
    store: Arc<dyn Store>,
    durable: bool,
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
        for (_, v) in self.store.load(NS_KEYS, b"").unwrap_or_default() {
            if let Ok(k) = serde_json::from_slice::<Key>(&v) {
                m.keys.insert(scoped(&k.account, &k.region, &k.id), k);
            }
        }
        for (_, v) in self.store.load(NS_ALIASES, b"").unwrap_or_default() {
            if let Ok(a) = serde_json::from_slice::<Alias>(&v) {
                m.aliases.insert(scoped(&a.account, &a.region, &a.name), a);
            }
        }
    }

    pub fn save_key(&self, k: &Key) -> Commit {
        self.put(NS_KEYS, scoped(&k.account, &k.region, &k.id), k)
    }

    pub fn save_alias(&self, a: &Alias) -> Commit {
        self.put(NS_ALIASES, scoped(&a.account, &a.region, &a.name), a)
    }

    fn put<T: Serialize>(&self, ns: &str, key: String, v: &T) -> Commit {
        if !self.durable {
            return Commit::done();
        }
        let mut b = Batch::new();
        b.put(ns, key, serde_json::to_vec(v).unwrap_or_default());
        self.store.submit(b)
    }

    /// Deletes keys and aliases (by scoped name) in one batch.
    pub fn delete(&self, keys: &[String], aliases: &[String]) -> Commit {
        if !self.durable || (keys.is_empty() && aliases.is_empty()) {
            return Commit::done();
        }
        let mut b = Batch::new();
        for k in keys {
            b.delete(NS_KEYS, k.clone());
        }
        for a in aliases {
            b.delete(NS_ALIASES, a.clone());
        }
        self.store.submit(b)
    }

    pub async fn clear(&self) {
        {
            let mut m = self.lock();
            m.keys.clear();
            m.aliases.clear();
        }
        let a = self.store.clear(NS_KEYS, b"");
        let b = self.store.clear(NS_ALIASES, b"");
        if a.await.is_err() || b.await.is_err() {
            tracing::warn!("kms: reset could not clear the journal");
        }
    }
}
