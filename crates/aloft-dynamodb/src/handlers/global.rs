//! UpdateTable's ReplicaUpdates (global tables version 2019.11.21): Create makes the table,
//! with its items, in another region of this Aloft; Delete removes that region's replica.
//! Every member's definition lists the group's regions, so DescribeTable in any region shows
//! the others as `Replicas`. Table-wide settings changed on any member (UpdateTable's GSIs,
//! stream, billing mode and throughput, table class, SSE; UpdateTimeToLive) are applied to
//! every other member, as AWS propagates them; deletion protection, tags and PITR stay per
//! replica.

use std::sync::{Arc, RwLock};

use aloft_core::{AwsError, RequestContext, clock};
use aloft_store::Batch;
use serde_json::{Value as Json, json};

use crate::DynamoDb;
use crate::error::validation;
use crate::state::{NS_ITEMS, Table, TableData, item_prefix, table_key};
use crate::tables::{TableMeta, stream_label};

fn region_of(update: &Json) -> Result<String, AwsError> {
    update["RegionName"]
        .as_str()
        .filter(|r| !r.is_empty())
        .map(str::to_string)
        .ok_or_else(|| {
            validation("1 validation error detected: Value null at 'replicaUpdates.member.regionName' failed to satisfy constraint: Member must not be null")
        })
}

impl DynamoDb {
    /// Applies ReplicaUpdates to `name` (in the caller's region); answers its description.
    pub async fn update_replicas(
        &self,
        rc: &RequestContext,
        name: &str,
        updates: &[Json],
    ) -> Result<Json, AwsError> {
        for u in updates {
            let table = self.table(rc, name)?;
            if let Some(c) = u.get("Create").filter(|v| !v.is_null()) {
                let region = region_of(c)?;
                self.create_replica(&table, &region).await?;
            } else if let Some(d) = u.get("Delete").filter(|v| !v.is_null()) {
                let region = region_of(d)?;
                self.delete_replica(rc, name, &region).await?;
            } else if u.get("Update").is_some_and(|v| !v.is_null()) {
                // Replica-specific throughput or table class: nothing to model locally.
            } else {
                return Err(validation(
                    "One or more parameter values were invalid: ReplicaUpdate must specify one of Create, Update or Delete",
                ));
            }
        }
        let table = self.table(rc, name)?;
        let data = table.data.read().expect("table lock");
        Ok(data.meta.describe(
            "UPDATING",
            data.items.len() as u64,
            data.size_bytes,
            &data.index_stats(),
        ))
    }

    /// Writes a new definition of every member of `meta`'s group with the regions given.
    pub(crate) fn set_group(
        &self,
        account: &str,
        name: &str,
        regions: &[String],
        batch: &mut Batch,
    ) {
        for r in regions {
            if let Some(t) = self.db.get(account, r, name) {
                let mut d = t.data.write().expect("table lock");
                let mut m = (*d.meta).clone();
                m.replicas = if regions.len() > 1 {
                    regions.to_vec()
                } else {
                    Vec::new()
                };
                d.meta = Arc::new(m);
                self.db.save_meta(&d.meta, batch);
            }
        }
    }

    async fn create_replica(&self, table: &Arc<Table>, region: &str) -> Result<(), AwsError> {
        let mut batch = Batch::new();
        {
            let mut all = self.db.tables.write().expect("tables lock");
            let mut data = table.data.write().expect("table lock");
            let meta: TableMeta = (*data.meta).clone();
            if region == meta.region || meta.replicas.iter().any(|r| r == region) {
                return Err(validation(format!(
                    "Failed to create a the new replica of table with name: '{}' because one or more replicas already existed as tables.",
                    meta.name
                )));
            }
            if !meta.pay_per_request {
                return Err(validation(
                    "Table write capacity should either be Pay-Per-Request or AutoScaled.",
                ));
            }
            let key = table_key(&meta.account, region, &meta.name);
            if all.contains_key(&key) {
                return Err(validation(format!(
                    "Failed to create a the new replica of table with name: '{}' because one or more replicas already existed as tables.",
                    meta.name
                )));
            }
            let now = clock::now_millis();
            let mut group = if meta.replicas.is_empty() {
                vec![meta.region.clone()]
            } else {
                meta.replicas.clone()
            };
            group.push(region.to_string());
            // Replication rides on the table's stream, which a replica turns on.
            let mut own = meta.clone();
            if own.stream_view.is_none() {
                own.stream_view = Some("NEW_AND_OLD_IMAGES".into());
                own.stream_label = Some(stream_label(now));
            }
            own.replicas = group.clone();
            data.meta = Arc::new(own.clone());
            self.db.save_meta(&data.meta, &mut batch);

            let mut replica = own;
            replica.region = region.to_string();
            replica.id = aloft_core::ids::uuid();
            replica.created_ms = now;
            replica.stream_label = Some(stream_label(now));
            replica.pitr = false;
            // Destinations belong to one replica.
            replica.kinesis.clear();
            self.db.save_meta(&replica, &mut batch);
            let mut rdata = TableData::new(replica);
            let prefix = item_prefix(&rdata.meta);
            for (k, v) in &data.items {
                if self.db.durable {
                    let mut jk = prefix.clone();
                    jk.extend_from_slice(k);
                    batch.put(
                        NS_ITEMS,
                        jk,
                        crate::domain::value::item_to_json(v).to_string(),
                    );
                }
                rdata.items.insert(k.clone(), v.clone());
            }
            rdata.size_bytes = data.size_bytes;
            rdata.rebuild_indexes();
            drop(data);
            all.insert(
                key,
                Arc::new(Table {
                    data: RwLock::new(rdata),
                }),
            );
            drop(all);
            // The other existing members learn of the new region.
            let others: Vec<String> = group
                .iter()
                .filter(|r| **r != meta.region && *r != region)
                .cloned()
                .collect();
            for r in others {
                if let Some(t) = self.db.get(&meta.account, &r, &meta.name) {
                    let mut d = t.data.write().expect("table lock");
                    let mut m = (*d.meta).clone();
                    m.replicas = group.clone();
                    d.meta = Arc::new(m);
                    self.db.save_meta(&d.meta, &mut batch);
                }
            }
        }
        self.commit(batch).await
    }

    async fn delete_replica(
        &self,
        rc: &RequestContext,
        name: &str,
        region: &str,
    ) -> Result<(), AwsError> {
        let table = self.table(rc, name)?;
        let meta = table.data.read().expect("table lock").meta.clone();
        if !meta.replicas.iter().any(|r| r == region) || region == meta.region {
            return Err(validation(format!(
                "Failed to remove replica in region: '{region}' of table with name: '{name}' because it is not a replica of this global table."
            )));
        }
        let removed = {
            let mut all = self.db.tables.write().expect("tables lock");
            all.remove(&table_key(&meta.account, region, name))
        };
        if let Some(t) = removed {
            let m = {
                let mut d = t.data.write().expect("table lock");
                d.deleted = true;
                (*d.meta).clone()
            };
            self.db.drop_table(&m).await?;
        }
        let regions: Vec<String> = meta
            .replicas
            .iter()
            .filter(|r| *r != region)
            .cloned()
            .collect();
        let mut batch = Batch::new();
        self.set_group(&meta.account, name, &regions, &mut batch);
        self.commit(batch).await
    }

    /// After a table-wide change to `from` (one member of a group): every other member takes
    /// the same settings, backfilling GSIs that appeared.
    pub async fn sync_group(&self, from: &TableMeta) -> Result<(), AwsError> {
        if from.replicas.len() < 2 {
            return Ok(());
        }
        let mut batch = Batch::new();
        for region in from.replicas.iter().filter(|r| **r != from.region) {
            let Some(t) = self.db.get(&from.account, region, &from.name) else {
                continue;
            };
            let mut d = t.data.write().expect("table lock");
            if d.deleted {
                continue;
            }
            let mut m = (*d.meta).clone();
            let index_names = |m: &TableMeta| -> Vec<String> {
                m.indexes.iter().map(|i| i.name.clone()).collect()
            };
            let rebuild = index_names(&m) != index_names(from);
            m.attribute_definitions = from.attribute_definitions.clone();
            m.indexes = from.indexes.clone();
            m.pay_per_request = from.pay_per_request;
            m.rcu = from.rcu;
            m.wcu = from.wcu;
            m.table_class = from.table_class.clone();
            m.sse = from.sse;
            m.ttl_attribute = from.ttl_attribute.clone();
            if m.stream_view != from.stream_view {
                if m.stream_view.is_none() {
                    // A stream turned on is a new stream, with its own label, in each region.
                    m.stream_label = Some(stream_label(clock::now_millis()));
                    d.stream.records.clear();
                }
                m.stream_view = from.stream_view.clone();
            }
            d.meta = Arc::new(m);
            if rebuild {
                d.rebuild_indexes();
            }
            self.db.save_meta(&d.meta, &mut batch);
        }
        self.commit(batch).await
    }

    /// After DeleteTable of one member: the others forget its region.
    pub async fn leave_group(&self, meta: &TableMeta) -> Result<(), AwsError> {
        if meta.replicas.is_empty() {
            return Ok(());
        }
        let regions: Vec<String> = meta
            .replicas
            .iter()
            .filter(|r| **r != meta.region)
            .cloned()
            .collect();
        let mut batch = Batch::new();
        self.set_group(&meta.account, &meta.name, &regions, &mut batch);
        self.commit(batch).await
    }
}

/// The `Replicas` DescribeTable shows: the group's other regions.
pub fn replicas_json(meta: &TableMeta) -> Option<Json> {
    if meta.replicas.len() < 2 {
        return None;
    }
    let gsis: Vec<Json> = meta
        .indexes
        .iter()
        .filter(|i| i.global)
        .map(|i| json!({"IndexName": i.name}))
        .collect();
    Some(Json::Array(
        meta.replicas
            .iter()
            .filter(|r| **r != meta.region)
            .map(|r| {
                let mut j = json!({"RegionName": r, "ReplicaStatus": "ACTIVE"});
                if !gsis.is_empty() {
                    j["GlobalSecondaryIndexes"] = Json::Array(gsis.clone());
                }
                j
            })
            .collect(),
    ))
}
