//! The descriptions of background jobs (imports, bulk operations) by ARN, journaled in a
//! namespace of their own so that Describe and List answer for them after a restart.

use std::collections::HashMap;
use std::sync::{RwLock, RwLockReadGuard};

use aloft_store::{Batch, Store};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A job's description as its Describe operation answers it.
pub trait Job: Serialize + DeserializeOwned + Clone {
    fn arn(&self) -> &str;
    fn account(&self) -> &str;
    fn region(&self) -> &str;
    /// The job was running when Aloft stopped: its worker is gone, so it never finishes.
    fn interrupted(&mut self);
}

pub struct Journal<J> {
    ns: &'static str,
    jobs: RwLock<HashMap<String, J>>,
}

impl<J: Job> Journal<J> {
    /// Loads the journaled jobs; the running ones are [`Job::interrupted`].
    pub fn load(store: &dyn Store, ns: &'static str) -> Self {
        let mut jobs = HashMap::new();
        match store.load(ns, b"") {
            Ok(entries) => {
                for (_, v) in entries {
                    if let Ok(mut j) = serde_json::from_slice::<J>(&v) {
                        j.interrupted();
                        jobs.insert(j.arn().to_string(), j);
                    }
                }
            }
            Err(e) => tracing::error!("dynamodb: loading {ns} failed: {e}"),
        }
        Journal {
            ns,
            jobs: RwLock::new(jobs),
        }
    }

    pub fn get(&self, arn: &str) -> Option<J> {
        self.read().get(arn).cloned()
    }

    /// Every job, for listings.
    pub fn read(&self) -> RwLockReadGuard<'_, HashMap<String, J>> {
        self.jobs.read().expect("jobs lock")
    }

    /// Keeps a job's new description, in memory and in the store.
    pub async fn save(&self, store: &dyn Store, job: J) {
        let mut batch = Batch::new();
        let key = format!("{}/{}/{}", job.account(), job.region(), job.arn());
        batch.put(
            self.ns,
            key.into_bytes(),
            serde_json::to_vec(&job).unwrap_or_default(),
        );
        self.jobs
            .write()
            .expect("jobs lock")
            .insert(job.arn().to_string(), job);
        if let Err(e) = store.submit(batch).await {
            tracing::error!("dynamodb: journaling {} failed: {e}", self.ns);
        }
    }

    /// Forgets every job, in memory and in the store (a reset).
    pub async fn clear(&self, store: &dyn Store) {
        self.jobs.write().expect("jobs lock").clear();
        if let Err(e) = store.clear(self.ns, b"").await {
            tracing::error!("dynamodb reset: {e}");
        }
    }
}
