//! Schedule groups and schedules of every account and region, and their journal.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use aloft_store::{Batch, Commit, Store};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const NS_GROUPS: &str = "scheduler/groups";
pub const NS_SCHEDULES: &str = "scheduler/schedules";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Group {
    pub name: String,
    pub arn: String,
    pub account: String,
    pub region: String,
    pub created_s: f64,
    pub modified_s: f64,
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Schedule {
    pub name: String,
    pub group: String,
    pub arn: String,
    pub account: String,
    pub region: String,
    pub expression: String,
    pub timezone: Option<String>,
    pub start_date: Option<f64>,
    pub end_date: Option<f64>,
    pub description: Option<String>,
    pub enabled: bool,
    pub kms_key_arn: Option<String>,
    /// `Target` as the API carries it (model member names), with defaults filled in.
    pub target: Value,
    pub flexible_window_minutes: Option<i64>,
    pub delete_after_completion: bool,
    pub created_s: f64,
    pub modified_s: f64,
    /// Rates count their periods from here (StartDate, or when the schedule was last set).
    pub anchor_ms: i64,
    /// The scheduled time of the last invocation (or where counting resumes).
    pub last_ms: i64,
    /// The next occurrence and when, inside its flexible window, it will be invoked.
    #[serde(default)]
    pub pending: Option<(i64, i64)>,
}

/// `account/region/group/name` for schedules, `account/region/name` for groups.
pub fn schedule_key(account: &str, region: &str, group: &str, name: &str) -> String {
    format!("{account}/{region}/{group}/{name}")
}

pub fn group_key(account: &str, region: &str, name: &str) -> String {
    format!("{account}/{region}/{name}")
}

#[derive(Default)]
pub struct Maps {
    pub groups: HashMap<String, Group>,
    pub schedules: BTreeMap<String, Schedule>,
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
        for (_, v) in self.store.load(NS_GROUPS, b"").unwrap_or_default() {
            if let Ok(g) = serde_json::from_slice::<Group>(&v) {
                m.groups
                    .insert(group_key(&g.account, &g.region, &g.name), g);
            }
        }
        for (_, v) in self.store.load(NS_SCHEDULES, b"").unwrap_or_default() {
            if let Ok(s) = serde_json::from_slice::<Schedule>(&v) {
                m.schedules
                    .insert(schedule_key(&s.account, &s.region, &s.group, &s.name), s);
            }
        }
    }

    /// Journals puts and deletes in one batch; call while holding the lock.
    pub fn write(
        &self,
        groups: &[&Group],
        schedules: &[&Schedule],
        deletes: &[(&str, String)],
    ) -> Commit {
        if !self.durable {
            return Commit::done();
        }
        let mut b = Batch::new();
        for g in groups {
            b.put(
                NS_GROUPS,
                group_key(&g.account, &g.region, &g.name),
                serde_json::to_vec(g).unwrap_or_default(),
            );
        }
        for s in schedules {
            b.put(
                NS_SCHEDULES,
                schedule_key(&s.account, &s.region, &s.group, &s.name),
                serde_json::to_vec(s).unwrap_or_default(),
            );
        }
        for (ns, k) in deletes {
            b.delete(ns, k.clone());
        }
        self.store.submit(b)
    }

    pub async fn clear(&self) {
        {
            let mut m = self.lock();
            m.groups.clear();
            m.schedules.clear();
        }
        let a = self.store.clear(NS_GROUPS, b"");
        let b = self.store.clear(NS_SCHEDULES, b"");
        if a.await.is_err() || b.await.is_err() {
            tracing::warn!("scheduler: reset could not clear the journal");
        }
    }
}
