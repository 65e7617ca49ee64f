//! Settings attached to a table outside its definition: resource policies (of the table and
//! of its stream), Contributor Insights (of the table and of each GSI) and replica auto
//! scaling. Each record names the table's id, so a record outlives neither its table nor a
//! table re-created under the same name (AWS: "a same-name re-create reads fresh policy and
//! Insights state"), even if a deletion's clean-up was missed. Records are journaled in their
//! own namespace, beside the tables.

use std::collections::HashMap;
use std::sync::RwLock;

use aloft_store::{Batch, Store};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::tables::TableMeta;

pub const NS_ATTACHED: &str = "dynamodb/attached";

/// The kinds of record, the first part of their keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Policy,
    Insights,
    Scaling,
    /// A global table of version 2017.11.29: the account's, over tables of several regions,
    /// so tied to no one table.
    GlobalTable,
}

impl Kind {
    fn tag(self) -> &'static str {
        match self {
            Kind::Policy => "policy",
            Kind::Insights => "insights",
            Kind::Scaling => "scaling",
            Kind::GlobalTable => "global-table",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Record {
    table_id: String,
    /// The table's ARN, to drop its records with it.
    table_arn: String,
    body: Json,
}

/// All attached records, by `kind|resource`.
#[derive(Default)]
pub struct Attached {
    records: RwLock<HashMap<String, Record>>,
}

/// A record's key: its kind and the resource it is attached to (a table ARN, a stream ARN,
/// `table ARN/index/name`).
pub fn key(kind: Kind, resource: &str) -> String {
    format!("{}|{resource}", kind.tag())
}

impl Attached {
    /// Loads the journaled records (at start).
    pub fn load(&self, store: &dyn Store) {
        match store.load(NS_ATTACHED, b"") {
            Ok(entries) => {
                let mut all = self.records.write().expect("attached lock");
                for (k, v) in entries {
                    if let (Ok(k), Ok(r)) =
                        (String::from_utf8(k), serde_json::from_slice::<Record>(&v))
                    {
                        all.insert(k, r);
                    }
                }
            }
            Err(e) => tracing::error!("dynamodb: loading attached settings failed: {e}"),
        }
    }

    /// The record of `kind` on `resource` of `table`, if it belongs to this incarnation of it.
    pub fn get(&self, kind: Kind, resource: &str, table: &TableMeta) -> Option<Json> {
        self.records
            .read()
            .expect("attached lock")
            .get(&key(kind, resource))
            .filter(|r| r.table_id == table.id)
            .map(|r| r.body.clone())
    }

    /// Sets (or with `None` removes) a record, journaling the change into `batch`.
    pub fn set(
        &self,
        kind: Kind,
        resource: &str,
        table: &TableMeta,
        body: Option<Json>,
        batch: &mut Batch,
    ) {
        let record = body.map(|body| Record {
            table_id: table.id.clone(),
            table_arn: table.arn(),
            body,
        });
        self.write(key(kind, resource), record, batch);
    }

    fn write(&self, k: String, record: Option<Record>, batch: &mut Batch) {
        let mut all = self.records.write().expect("attached lock");
        match record {
            Some(r) => {
                batch.put(
                    NS_ATTACHED,
                    k.clone().into_bytes(),
                    serde_json::to_vec(&r).unwrap_or_default(),
                );
                all.insert(k, r);
            }
            None => {
                if all.remove(&k).is_some() {
                    batch.delete(NS_ATTACHED, k.into_bytes());
                }
            }
        }
    }

    /// Records of `kind` whose table is `table` (this incarnation), with their resources.
    pub fn of_table(&self, kind: Kind, table: &TableMeta) -> Vec<(String, Json)> {
        let prefix = format!("{}|", kind.tag());
        let mut v: Vec<(String, Json)> = self
            .records
            .read()
            .expect("attached lock")
            .iter()
            .filter(|(k, r)| k.starts_with(&prefix) && r.table_id == table.id)
            .map(|(k, r)| (k[prefix.len()..].to_string(), r.body.clone()))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    /// Forgets everything attached to a deleted table.
    pub fn drop_table(&self, table: &TableMeta, batch: &mut Batch) {
        let arn = table.arn();
        let mut all = self.records.write().expect("attached lock");
        all.retain(|k, r| {
            let keep = r.table_arn != arn;
            if !keep {
                batch.delete(NS_ATTACHED, k.clone().into_bytes());
            }
            keep
        });
    }

    /// A record tied to no table (a 2017.11.29 global table), by its resource.
    pub fn get_untied(&self, kind: Kind, resource: &str) -> Option<Json> {
        self.records
            .read()
            .expect("attached lock")
            .get(&key(kind, resource))
            .filter(|r| r.table_id.is_empty())
            .map(|r| r.body.clone())
    }

    /// Sets or removes a record tied to no table.
    pub fn set_untied(&self, kind: Kind, resource: &str, body: Option<Json>, batch: &mut Batch) {
        let record = body.map(|body| Record {
            table_id: String::new(),
            table_arn: String::new(),
            body,
        });
        self.write(key(kind, resource), record, batch);
    }

    /// Every untied record of `kind` whose resource starts with `prefix`, in resource order.
    pub fn untied(&self, kind: Kind, prefix: &str) -> Vec<(String, Json)> {
        let full = key(kind, prefix);
        let tag = key(kind, "").len();
        let mut v: Vec<(String, Json)> = self
            .records
            .read()
            .expect("attached lock")
            .iter()
            .filter(|(k, r)| k.starts_with(&full) && r.table_id.is_empty())
            .map(|(k, r)| (k[tag..].to_string(), r.body.clone()))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    /// Forgets everything (`/_aloft/reset`); the caller clears the namespace.
    /// Forgets every record, in memory and in the store (a reset).
    pub async fn clear(&self, store: &dyn Store) {
        self.records.write().expect("attached lock").clear();
        if let Err(e) = store.clear(NS_ATTACHED, b"").await {
            tracing::error!("dynamodb reset: {e}");
        }
    }
}
