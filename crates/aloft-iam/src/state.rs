//! IAM's entities per account and the registry of access keys (IAM users' and STS's
//! temporary ones), journaled to the store.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use aloft_core::{ServiceContext, clock, ids};
use aloft_store::{Batch, Commit, Store};
use serde::{Deserialize, Serialize};

use crate::error::{Code, Result};

const ACCOUNTS: &str = "iam/accounts";
const KEYS: &str = "iam/keys";

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Account {
    pub users: BTreeMap<String, Principal>,
    pub roles: BTreeMap<String, Principal>,
    pub groups: BTreeMap<String, Principal>,
    /// Customer managed policies by ARN.
    pub policies: BTreeMap<String, ManagedPolicy>,
    #[serde(default)]
    pub instance_profiles: BTreeMap<String, InstanceProfile>,
}

/// An instance profile: a container for (at most) one role that EC2 hands to an instance.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InstanceProfile {
    pub name: String,
    pub id: String,
    pub arn: String,
    pub path: String,
    pub created: f64,
    pub roles: Vec<String>,
    pub tags: Vec<(String, String)>,
}

/// A user, role or group: what they share (inline and attached policies, tags).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Principal {
    pub name: String,
    pub id: String,
    pub arn: String,
    pub path: String,
    pub created: f64,
    pub description: Option<String>,
    /// Roles: the trust policy; JSON text.
    pub trust_policy: Option<String>,
    pub max_session_duration: Option<i64>,
    pub permissions_boundary: Option<String>,
    pub inline: BTreeMap<String, String>,
    pub attached: Vec<String>,
    pub tags: Vec<(String, String)>,
    /// Users: the groups they belong to.
    #[serde(default)]
    pub groups: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PolicyVersion {
    pub id: String,
    pub document: String,
    pub created: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ManagedPolicy {
    pub name: String,
    pub id: String,
    pub arn: String,
    pub path: String,
    pub description: Option<String>,
    pub created: f64,
    pub updated: f64,
    pub default_version: String,
    pub versions: Vec<PolicyVersion>,
    pub next_version: u32,
}

/// What an access key stands for.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Credential {
    pub access_key: String,
    pub secret: String,
    pub session_token: Option<String>,
    pub account: String,
    /// The principal's ARN (`...:user/u`, `...:assumed-role/r/s`, `...:federated-user/n`).
    pub arn: String,
    /// `UserId` as GetCallerIdentity reports it.
    pub user_id: String,
    /// IAM users' keys: the user; `Active`/`Inactive`.
    pub user: Option<String>,
    pub status: String,
    pub created: f64,
    /// Temporary credentials expire (epoch millis).
    pub expires: Option<i64>,
    /// Assumed roles: the role ARN (for policy evaluation).
    pub role_arn: Option<String>,
    /// Session policies passed to AssumeRole/GetFederationToken.
    pub session_policy: Option<String>,
}

#[derive(Default)]
pub struct State {
    pub accounts: BTreeMap<String, Account>,
    pub keys: HashMap<String, Credential>,
}

pub struct Identity {
    state: Mutex<State>,
    store: Arc<dyn Store>,
    pub enforce: bool,
}

impl Identity {
    pub fn load(ctx: &ServiceContext) -> Arc<Self> {
        let mut st = State::default();
        for (k, v) in ctx.store.load(ACCOUNTS, b"").unwrap_or_default() {
            if let Ok(a) = serde_json::from_slice(&v) {
                st.accounts
                    .insert(String::from_utf8_lossy(&k).into_owned(), a);
            }
        }
        for (_, v) in ctx.store.load(KEYS, b"").unwrap_or_default() {
            if let Ok(c) = serde_json::from_slice::<Credential>(&v) {
                st.keys.insert(c.access_key.clone(), c);
            }
        }
        Arc::new(Self {
            state: Mutex::new(st),
            store: ctx.store.clone(),
            enforce: ctx.config.flag("iam.enforce"),
        })
    }

    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub async fn reset(&self) {
        let commits = {
            let mut st = self.lock();
            *st = State::default();
            [self.store.clear(ACCOUNTS, b""), self.store.clear(KEYS, b"")]
        };
        for c in commits {
            let _ = c.await;
        }
    }

    /// Changes an account's entities, journals the account, waits until durable.
    pub async fn with_account<T>(
        &self,
        account: &str,
        f: impl FnOnce(&mut Account) -> Result<T>,
    ) -> Result<T> {
        let (out, commit) = {
            let mut st = self.lock();
            let acct = st.accounts.entry(account.to_string()).or_default();
            let out = f(acct)?;
            let mut b = Batch::new();
            b.put(
                ACCOUNTS,
                account.as_bytes().to_vec(),
                serde_json::to_vec(acct).unwrap_or_default(),
            );
            (out, self.store.submit(b))
        };
        durable(commit).await?;
        Ok(out)
    }

    pub fn read_account<T>(
        &self,
        account: &str,
        f: impl FnOnce(&Account) -> Result<T>,
    ) -> Result<T> {
        let st = self.lock();
        let empty = Account::default();
        f(st.accounts.get(account).unwrap_or(&empty))
    }

    /// Records (or replaces) a credential, forgetting expired temporary ones.
    pub fn put_key(&self, st: &mut State, c: Credential) -> Commit {
        let now = clock::now_millis();
        let mut b = Batch::new();
        let expired: Vec<String> = st
            .keys
            .values()
            .filter(|k| k.expires.is_some_and(|e| e <= now))
            .map(|k| k.access_key.clone())
            .collect();
        for k in expired {
            st.keys.remove(&k);
            b.delete(KEYS, k.into_bytes());
        }
        b.put(
            KEYS,
            c.access_key.clone().into_bytes(),
            serde_json::to_vec(&c).unwrap_or_default(),
        );
        st.keys.insert(c.access_key.clone(), c);
        self.store.submit(b)
    }

    pub fn delete_key(&self, st: &mut State, key: &str) -> Commit {
        st.keys.remove(key);
        let mut b = Batch::new();
        b.delete(KEYS, key.as_bytes().to_vec());
        self.store.submit(b)
    }

    /// The credential for an access key, if it is known and unexpired.
    pub fn credential(&self, access_key: &str) -> Option<Credential> {
        let st = self.lock();
        st.keys
            .get(access_key)
            .filter(|c| c.expires.is_none_or(|e| e > clock::now_millis()))
            .cloned()
    }
}

pub async fn durable(c: Commit) -> Result<()> {
    c.await.map_err(|e| {
        aloft_core::AwsError::new("ServiceFailure", 500, format!("Storage failed: {e}"))
    })
}

/// A unique id with an IAM prefix: `AIDA`, `AROA`, `ANPA`, `AGPA` (21 characters).
pub fn entity_id(prefix: &str) -> String {
    format!("{prefix}{}", ids::random_string(17, ids::UPPER_ALNUM))
}

/// An access key id: `AKIA` (long-term) or `ASIA` (temporary), 20 characters.
pub fn access_key_id(prefix: &str) -> String {
    format!("{prefix}{}", ids::random_string(16, ids::UPPER_ALNUM))
}

pub fn secret_key() -> String {
    ids::random_string(
        40,
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
    )
}

pub fn check_name(kind: &str, name: &str, max: usize) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= max
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(Code::ValidationError.msg(format!(
            "1 validation error detected: Value '{name}' at '{kind}' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+"
        )))
    }
}
