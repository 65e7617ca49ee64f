//! The service's shared state, its journal keys, and the helpers every handler uses to read
//! and change a pool under one lock.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use aloft_core::{AwsError, RequestContext, ServiceContext};
use aloft_events::Targets;
use aloft_store::{Batch, Commit, Store};
use serde_json::Value;
use tokio::sync::OnceCell;

use crate::auth::Session;
use crate::error::{Code, Result, pool_not_found};
use crate::model::{Pool, State, User};
use crate::tokens::PoolKey;

const POOLS: &str = "cognito-idp/pools";
const USERS: &str = "cognito-idp/users";

pub struct Inner {
    me: std::sync::Weak<Inner>,
    state: Mutex<State>,
    store: Arc<dyn Store>,
    pub targets: Arc<Targets>,
    keys: Mutex<HashMap<String, Arc<OnceCell<Arc<PoolKey>>>>>,
    /// The latest codes "sent" (newest last), for `/_aloft/cognito-idp/codes`.
    pub codes: Mutex<VecDeque<Value>>,
    pub sessions: Mutex<HashMap<String, Session>>,
    /// The domains' authorization codes and hosted-UI sign-ins.
    pub oauth: Mutex<crate::oauth::OAuthState>,
}

fn pool_key(p: &Pool) -> String {
    format!("{}/{}/{}", p.account, p.region, p.id)
}

fn user_key(p: &Pool, username: &str) -> String {
    format!("{}/{}/{}/{}", p.account, p.region, p.id, username)
}

/// Where a change to a pool goes: collected while the pool is locked, submitted before unlock.
pub struct Changes<'a> {
    pool: &'a Pool,
    batch: Batch,
}

impl Changes<'_> {
    pub fn pool(&mut self) {
        if let Ok(v) = serde_json::to_vec(self.pool) {
            self.batch.put(POOLS, pool_key(self.pool), v);
        }
    }
    pub fn user(&mut self, user: &User) {
        if let Ok(v) = serde_json::to_vec(user) {
            self.batch
                .put(USERS, user_key(self.pool, &user.username), v);
        }
    }
    pub fn delete_user(&mut self, username: &str) {
        self.batch.delete(USERS, user_key(self.pool, username));
    }
}

impl Inner {
    pub fn load(ctx: &ServiceContext) -> Arc<Self> {
        let mut state = State::default();
        for (_, v) in ctx.store.load(POOLS, b"").unwrap_or_default() {
            if let Ok(p) = serde_json::from_slice::<Pool>(&v) {
                state.pools.insert(p.id.clone(), p);
            }
        }
        for (k, v) in ctx.store.load(USERS, b"").unwrap_or_default() {
            let key = String::from_utf8_lossy(&k);
            let Some(pool_id) = key.split('/').nth(2) else {
                continue;
            };
            if let (Some(pool), Ok(u)) = (
                state.pools.get_mut(pool_id),
                serde_json::from_slice::<User>(&v),
            ) {
                pool.users.insert(u.username.clone(), u);
            }
        }
        Arc::new_cyclic(|me| Self {
            me: me.clone(),
            state: Mutex::new(state),
            store: ctx.store.clone(),
            targets: ctx.targets.clone(),
            keys: Mutex::default(),
            codes: Mutex::default(),
            sessions: Mutex::default(),
            oauth: Mutex::default(),
        })
    }

    pub async fn reset(&self) {
        let commits = {
            let mut st = self.lock();
            st.pools.clear();
            [self.store.clear(POOLS, b""), self.store.clear(USERS, b"")]
        };
        self.keys.lock().expect("keys lock").clear();
        self.codes.lock().expect("codes lock").clear();
        self.sessions.lock().expect("sessions lock").clear();
        *self.oauth.lock().expect("oauth lock") = Default::default();
        for c in commits {
            let _ = c.await;
        }
    }

    pub fn self_arc(&self) -> Option<Arc<Inner>> {
        self.me.upgrade()
    }

    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Reads a pool of the caller's account and region.
    pub fn read<T>(
        &self,
        ctx: &RequestContext,
        pool_id: &str,
        f: impl FnOnce(&Pool) -> Result<T>,
    ) -> Result<T> {
        let st = self.lock();
        let pool = st
            .pools
            .get(pool_id)
            .filter(|p| p.account == ctx.account_id && p.region == ctx.region)
            .ok_or_else(|| pool_not_found(pool_id))?;
        f(pool)
    }

    /// Reads a pool by id alone (token flows, which name the pool through the token or client).
    pub fn read_any<T>(&self, pool_id: &str, f: impl FnOnce(&Pool) -> Result<T>) -> Result<T> {
        let st = self.lock();
        let pool = st
            .pools
            .get(pool_id)
            .ok_or_else(|| pool_not_found(pool_id))?;
        f(pool)
    }

    /// Changes a pool of the caller's account and region, then waits until the change is durable.
    pub async fn mutate<T>(
        &self,
        ctx: &RequestContext,
        pool_id: &str,
        f: impl FnOnce(&mut Pool) -> Result<(T, Vec<Record>)>,
    ) -> Result<T> {
        self.mutate_where(pool_id, Some(ctx), f).await
    }

    /// Like [`Inner::mutate`] for a pool found by id alone.
    pub async fn mutate_any<T>(
        &self,
        pool_id: &str,
        f: impl FnOnce(&mut Pool) -> Result<(T, Vec<Record>)>,
    ) -> Result<T> {
        self.mutate_where(pool_id, None, f).await
    }

    async fn mutate_where<T>(
        &self,
        pool_id: &str,
        ctx: Option<&RequestContext>,
        f: impl FnOnce(&mut Pool) -> Result<(T, Vec<Record>)>,
    ) -> Result<T> {
        let (out, commit) = {
            let mut st = self.lock();
            let pool = st
                .pools
                .get_mut(pool_id)
                .filter(|p| ctx.is_none_or(|c| p.account == c.account_id && p.region == c.region))
                .ok_or_else(|| pool_not_found(pool_id))?;
            let (out, records) = f(pool)?;
            let commit = self.submit(pool, &records);
            (out, commit)
        };
        durable(commit).await?;
        Ok(out)
    }

    /// Journals `records` of `pool`; call with the state lock held.
    pub fn submit(&self, pool: &Pool, records: &[Record]) -> Commit {
        let mut ch = Changes {
            pool,
            batch: Batch::new(),
        };
        for r in records {
            match r {
                Record::Pool => ch.pool(),
                Record::User(name) => {
                    if let Some(u) = pool.users.get(name) {
                        ch.user(u);
                    } else {
                        ch.delete_user(name);
                    }
                }
            }
        }
        if ch.batch.is_empty() {
            Commit::done()
        } else {
            self.store.submit(ch.batch)
        }
    }

    pub fn insert_pool(&self, pool: Pool) -> Commit {
        let mut st = self.lock();
        let commit = self.submit(&pool, &[Record::Pool]);
        st.pools.insert(pool.id.clone(), pool);
        commit
    }

    pub fn remove_pool(&self, ctx: &RequestContext, pool_id: &str) -> Result<Vec<Commit>> {
        let mut st = self.lock();
        let pool = st
            .pools
            .get(pool_id)
            .filter(|p| p.account == ctx.account_id && p.region == ctx.region)
            .ok_or_else(|| pool_not_found(pool_id))?;
        if pool
            .setting(&["DeletionProtection"])
            .and_then(Value::as_str)
            == Some("ACTIVE")
        {
            return Err(Code::InvalidParameterException.msg(
                "The user pool cannot be deleted because deletion protection is activated. Deletion protection must be inactivated first.",
            ));
        }
        let mut batch = Batch::new();
        batch.delete(POOLS, pool_key(pool));
        let prefix = format!("{}/", pool_key(pool));
        let commits = vec![
            self.store.submit(batch),
            self.store.clear(USERS, prefix.as_bytes()),
        ];
        st.pools.remove(pool_id);
        self.keys.lock().expect("keys lock").remove(pool_id);
        Ok(commits)
    }

    /// The pool's signing key: loaded from the pool, or generated (on a blocking thread) once.
    pub async fn key(&self, pool_id: &str) -> Result<Arc<PoolKey>> {
        let cell = self
            .keys
            .lock()
            .expect("keys lock")
            .entry(pool_id.to_string())
            .or_default()
            .clone();
        cell.get_or_try_init(|| async {
            let stored = self.read_any(pool_id, |p| Ok(p.key.clone()))?;
            if let Some(k) = stored.and_then(|s| PoolKey::from_stored(&s)) {
                return Ok(Arc::new(k));
            }
            let key = tokio::task::spawn_blocking(PoolKey::generate)
                .await
                .map_err(|e| AwsError::internal(e.to_string()))?
                .map_err(AwsError::internal)?;
            let stored = key.to_stored();
            self.mutate_any(pool_id, |p| {
                p.key = Some(stored);
                Ok(((), vec![Record::Pool]))
            })
            .await?;
            Ok(Arc::new(key))
        })
        .await
        .cloned()
    }
}

/// What a change touched, to be journaled.
pub enum Record {
    Pool,
    /// A user by username: written if present, deleted if gone.
    User(String),
}

pub async fn durable(c: Commit) -> Result<()> {
    c.await
        .map_err(|e| Code::InternalErrorException.msg(format!("Storage failed: {e}")))
}
