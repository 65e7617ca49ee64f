//! UpdateTable's ReplicaUpdates (global tables version 2019.11.21): Create makes the table,
//! with its items, in another region of this Aloft; Delete removes that region's replica.
//! Every member's definition lists the group's regions, so DescribeTable in any region shows
//! the others as `Replicas`. Table-wide settings changed on any member (UpdateTable's GSIs,
//! stream, billing mode and throughput, table class, SSE; UpdateTimeToLive) are applied to
//! every other member, as AWS propagates them; deletion protection, tags and PITR stay per
//! replica. With `MultiRegionConsistency: STRONG` the group is an MRSC global table (three
//! replicas, or two and a witness; rules in [`crate::mrsc`]). A replica's Disassociate
//! leaves the group keeping its items, unless its DisassociationProtectionEnabled (on by
//! default) holds it. Members of a multi-account group (see `global_accounts`) are found
//! by region in their own accounts.

use std::sync::{Arc, RwLock};

use aloft_core::{AwsError, RequestContext, clock};
use aloft_store::Batch;
use serde_json::{Value as Json, json};

use crate::DynamoDb;
use crate::error::{ErrorCode, validation};
use crate::handlers::items::Prepared;
use crate::mrsc;
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
    /// Applies UpdateTable's ReplicaUpdates and GlobalTableWitnessUpdates to `name` (in the
    /// caller's region); answers its description.
    pub async fn update_replicas(
        &self,
        rc: &RequestContext,
        name: &str,
        input: &Json,
    ) -> Result<Json, AwsError> {
        let empty = Vec::new();
        let updates = input["ReplicaUpdates"].as_array().unwrap_or(&empty);
        if let Some(d) = updates
            .iter()
            .find_map(|u| u.get("Disassociate").filter(|v| !v.is_null()))
        {
            let alone = updates.len() == 1 && input["GlobalTableWitnessUpdates"].is_null();
            return self.disassociate(rc, name, d, alone).await;
        }
        let changes = changes_of(input, updates)?;
        let table = self.table(rc, name)?;
        let group = {
            let data = table.data.read().expect("table lock");
            let m = &data.meta;
            let mut replicas = vec![m.region.clone()];
            replicas.extend(m.other_regions());
            mrsc::Group {
                replicas,
                witness: m.witness.clone(),
                strong: m.strong,
            }
        };
        if mrsc::applies(&group, &changes) {
            return self.update_strong(rc, name, &group, &changes).await;
        }
        if changes.consistency.is_some() && changes.create.is_empty() {
            return Err(validation(
                "One or more parameter values were invalid: MultiRegionConsistency can only be specified when creating a global table",
            ));
        }
        for u in updates {
            let table = self.table(rc, name)?;
            if let Some(c) = u.get("Create").filter(|v| !v.is_null()) {
                let region = region_of(c)?;
                self.create_replica(&table, &region).await?;
                // Without an override the replica keeps the class it was copied with.
                let class = c["TableClassOverride"].as_str().map_or_else(
                    || {
                        let t = table.data.read().expect("table lock");
                        t.meta.table_class.clone()
                    },
                    str::to_string,
                );
                self.set_replica_class(rc, name, &region, &class).await?;
            } else if let Some(d) = u.get("Delete").filter(|v| !v.is_null()) {
                let region = region_of(d)?;
                self.delete_replica(rc, name, &region).await?;
            } else if let Some(x) = u.get("Update").filter(|v| !v.is_null()) {
                // Replica-specific throughput is not modelled; the table class is.
                let region = region_of(x)?;
                if let Some(class) = x["TableClassOverride"].as_str() {
                    self.set_replica_class(rc, name, &region, class).await?;
                }
            }
        }
        self.describe_updating(rc, name)
    }

    /// UpdateTable's DisassociationProtectionEnabled (alone in its request, as AWS requires)
    /// and GlobalTableSettingsReplicationMode (on a regional table); `None` when the request
    /// has neither.
    pub async fn update_replica_settings(
        &self,
        rc: &RequestContext,
        name: &str,
        input: &Json,
    ) -> Result<Option<Json>, AwsError> {
        let protection = input["DisassociationProtectionEnabled"].as_bool();
        let mode = input["GlobalTableSettingsReplicationMode"].as_str();
        if protection.is_none() && mode.is_none() {
            return Ok(None);
        }
        let others = input.as_object().map_or(0, |o| {
            o.iter()
                .filter(|(k, v)| *k != "TableName" && !v.is_null())
                .count()
        });
        if others > 1 {
            let what = if protection.is_some() {
                "DisassociationProtectionEnabled"
            } else {
                "GlobalTableSettingsReplicationMode"
            };
            return Err(validation(format!(
                "One or more parameter values were invalid: {what} cannot be combined with other updates in the same UpdateTable request"
            )));
        }
        let table = self.table(rc, name)?;
        self.edit_meta(&table, |m| {
            if let Some(p) = protection {
                if m.replicas.len() < 2 {
                    return Err(validation(
                        "One or more parameter values were invalid: DisassociationProtectionEnabled can only be set on a global table replica",
                    ));
                }
                m.disassociation_protection = Some(p);
            }
            if let Some(mode) = mode {
                if m.replicas.len() > 1 {
                    return Err(validation(
                        "One or more parameter values were invalid: GlobalTableSettingsReplicationMode can only be updated on a regional table",
                    ));
                }
                if mode == "ENABLED_WITH_OVERRIDES" {
                    // AWS's measured text (ack-api-quirks DDB-TABLE-048).
                    return Err(validation(
                        "Value 'ENABLED_WITH_OVERRIDES' at 'GlobalTableSettingsReplicationMode' failed to satisfy constraint: Only ENABLED and DISABLED settings replication are supported for a Regional Table.",
                    ));
                }
                m.settings_mode = Some(mode.to_string());
            }
            Ok(())
        })
        .await?;
        self.describe_updating(rc, name).map(Some)
    }

    /// ReplicaUpdates' Disassociate: the caller's replica leaves the group once what it
    /// queued has replicated (WAIT_FOR_REPLICATION), keeping its items and settings.
    async fn disassociate(
        &self,
        rc: &RequestContext,
        name: &str,
        action: &Json,
        alone: bool,
    ) -> Result<Json, AwsError> {
        if !alone {
            return Err(validation(
                "One or more parameter values were invalid: Disassociate must be the only update in an UpdateTable request",
            ));
        }
        let region = action["RegionName"].as_str().unwrap_or_default();
        if region != rc.region {
            return Err(validation(format!(
                "One or more parameter values were invalid: Disassociate must name the region of the request ({}), not {region}",
                rc.region
            )));
        }
        let table = self.table(rc, name)?;
        let meta = table.data.read().expect("table lock").meta.clone();
        if meta.replicas.len() < 2 {
            return Err(validation(format!(
                "One or more parameter values were invalid: Table {name} is not a replica of a global table"
            )));
        }
        if meta.strong {
            return Err(validation(
                "One or more parameter values were invalid: Disassociate is not supported for global tables with MultiRegionConsistency set to STRONG",
            ));
        }
        if meta.disassociation_protection.unwrap_or(true) {
            return Err(validation(
                "One or more parameter values were invalid: Disassociation protection is enabled for this replica. Disable disassociation protection first.",
            ));
        }
        self.db.replication.flush().await;
        let others = meta.other_regions();
        let mut batch = Batch::new();
        self.set_members(&meta, &others, &mut batch);
        self.set_members(&meta, std::slice::from_ref(&meta.region), &mut batch);
        self.commit(batch).await?;
        self.edit_meta(&table, |m| {
            m.disassociation_protection = None;
            Ok(())
        })
        .await?;
        self.describe_updating(rc, name)
    }

    fn describe_updating(&self, rc: &RequestContext, name: &str) -> Result<Json, AwsError> {
        let table = self.table(rc, name)?;
        let data = table.data.read().expect("table lock");
        Ok(data.meta.describe(
            "UPDATING",
            data.items.len() as u64,
            data.size_bytes,
            &data.index_stats(),
        ))
    }

    /// The MRSC path: the whole change is checked first, then replicas are made or removed
    /// and every member learns the group's consistency and witness.
    async fn update_strong(
        &self,
        rc: &RequestContext,
        name: &str,
        group: &mrsc::Group,
        changes: &mrsc::Changes,
    ) -> Result<Json, AwsError> {
        let table = self.table(rc, name)?;
        let (content, pay_per_request) = {
            let data = table.data.read().expect("table lock");
            let content = mrsc::Content {
                items: data.items.len(),
                has_lsi: data.has_lsi(),
                has_ttl: data.meta.ttl_attribute.is_some(),
            };
            (content, data.meta.pay_per_request)
        };
        let next = mrsc::plan(group, changes, &content)?;
        if !changes.create.is_empty() && !pay_per_request {
            return Err(validation(
                "Table write capacity should either be Pay-Per-Request or AutoScaled.",
            ));
        }
        for r in &changes.create {
            if self.db.get(&rc.account_id, r, name).is_some() {
                return Err(validation(format!(
                    "Failed to create a the new replica of table with name: '{name}' because one or more replicas already existed as tables."
                )));
            }
        }
        // Every member learns the mode first: new replicas copy the caller's definition.
        let mut batch = Batch::new();
        self.mark_group(
            &rc.account_id,
            name,
            &group.replicas,
            next.strong,
            next.witness.as_deref(),
            &mut batch,
        );
        self.commit(batch).await?;
        for r in &changes.delete {
            self.delete_replica(rc, name, r).await?;
        }
        for r in &changes.create {
            let table = self.table(rc, name)?;
            self.create_replica(&table, r).await?;
        }
        let mut batch = Batch::new();
        self.mark_group(
            &rc.account_id,
            name,
            &next.replicas,
            next.strong,
            next.witness.as_deref(),
            &mut batch,
        );
        self.commit(batch).await?;
        self.describe_updating(rc, name)
    }

    /// Sets the consistency mode and witness of every member of a group.
    fn mark_group(
        &self,
        account: &str,
        name: &str,
        regions: &[String],
        strong: bool,
        witness: Option<&str>,
        batch: &mut Batch,
    ) {
        for r in regions {
            if let Some(t) = self.db.get(account, r, name) {
                let mut d = t.data.write().expect("table lock");
                let mut m = (*d.meta).clone();
                m.strong = strong;
                m.witness = witness.map(str::to_string);
                d.meta = Arc::new(m);
                self.db.save_meta(&d.meta, batch);
            }
        }
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

    /// Writes a new definition of every member of `group`'s group (each in its account)
    /// with the regions given.
    pub(crate) fn set_members(&self, group: &TableMeta, regions: &[String], batch: &mut Batch) {
        let mut accounts: Vec<(String, String)> = group
            .member_accounts
            .iter()
            .filter(|(r, _)| regions.contains(r))
            .cloned()
            .collect();
        if regions.len() < 2 || accounts.iter().all(|(_, a)| *a == accounts[0].1) {
            accounts.clear();
        }
        for r in regions {
            if let Some(t) = self.db.get(group.member_account(r), r, &group.name) {
                let mut d = t.data.write().expect("table lock");
                let mut m = (*d.meta).clone();
                m.replicas = if regions.len() > 1 {
                    regions.to_vec()
                } else {
                    Vec::new()
                };
                m.member_accounts.clone_from(&accounts);
                d.meta = Arc::new(m);
                self.db.save_meta(&d.meta, batch);
            }
        }
    }

    /// A replica's own table class (`TableClassOverride`, or the source's at creation): table
    /// class is one of the settings a global table never synchronizes, so the replica keeps
    /// what it was given and every member records it for `ReplicaTableClassSummary`.
    async fn set_replica_class(
        &self,
        rc: &RequestContext,
        name: &str,
        region: &str,
        class: &str,
    ) -> Result<(), AwsError> {
        let meta = self
            .table(rc, name)?
            .data
            .read()
            .expect("table lock")
            .meta
            .clone();
        if self
            .db
            .get(meta.member_account(region), region, name)
            .is_none()
        {
            return Err(validation(format!(
                "One or more parameter values were invalid: Replica in region {region} does not exist"
            )));
        }
        let mut batch = Batch::new();
        for r in &meta.replicas {
            let Some(t) = self.db.get(meta.member_account(r), r, name) else {
                continue;
            };
            let mut d = t.data.write().expect("table lock");
            let mut m = (*d.meta).clone();
            if r == region {
                m.table_class = class.to_string();
            } else {
                note_class(&mut m, region, class);
            }
            d.meta = Arc::new(m);
            self.db.save_meta(&d.meta, &mut batch);
        }
        self.commit(batch).await
    }

    async fn create_replica(&self, table: &Arc<Table>, region: &str) -> Result<(), AwsError> {
        let account = table.data.read().expect("table lock").meta.account.clone();
        self.create_replica_in(table, &account, region).await
    }

    /// Makes the replica of `table`'s group in `account` and `region`, with its items.
    pub(crate) async fn create_replica_in(
        &self,
        table: &Arc<Table>,
        account: &str,
        region: &str,
    ) -> Result<(), AwsError> {
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
            let key = table_key(account, region, &meta.name);
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
            let mut accounts: Vec<(String, String)> = group
                .iter()
                .map(|r| {
                    let a = if r == region {
                        account
                    } else {
                        meta.member_account(r)
                    };
                    (r.clone(), a.to_string())
                })
                .collect();
            if accounts.iter().all(|(_, a)| *a == meta.account) {
                accounts.clear();
            }
            // Replication rides on the table's stream, which a replica turns on.
            let mut own = meta.clone();
            own.member_accounts.clone_from(&accounts);
            if own.stream_view.is_none() {
                own.stream_view = Some("NEW_AND_OLD_IMAGES".into());
                own.stream_label = Some(stream_label(now));
            }
            own.replicas = group.clone();
            data.meta = Arc::new(own.clone());
            self.db.save_meta(&data.meta, &mut batch);

            let mut replica = own;
            replica.region = region.to_string();
            replica.account = account.to_string();
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
                if let Some(t) = self.db.get(meta.member_account(&r), &r, &meta.name) {
                    let mut d = t.data.write().expect("table lock");
                    let mut m = (*d.meta).clone();
                    m.replicas = group.clone();
                    m.member_accounts.clone_from(&accounts);
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
        if meta.member_account(region) != meta.account {
            return Err(validation(format!(
                "Failed to remove replica in region: '{region}' of table with name: '{name}' because it belongs to account {}: only its own account can remove it.",
                meta.member_account(region)
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
        self.set_members(&meta, &regions, &mut batch);
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
            let Some(t) = self.db.get(from.member_account(region), region, &from.name) else {
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
            // Table class and encryption are never synchronized: each replica keeps its own,
            // and the others note the class for their descriptions.
            note_class(&mut m, &from.region, &from.table_class);
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
        let regions = meta.other_regions();
        let mut batch = Batch::new();
        self.set_members(meta, &regions, &mut batch);
        self.commit(batch).await
    }
}

/// Records on `m` the table class of its fellow member in `region`.
fn note_class(m: &mut TableMeta, region: &str, class: &str) {
    m.replica_classes.retain(|(r, _)| r != region);
    m.replica_classes
        .push((region.to_string(), class.to_string()));
}

/// The members DescribeTable shows for a global table: `Replicas` (the group's other
/// regions), the consistency mode, the witness of an MRSC table.
pub fn describe_into(meta: &TableMeta, d: &mut Json) {
    if meta.replicas.len() < 2 {
        if let Some(mode) = &meta.settings_mode {
            d["GlobalTableSettingsReplicationMode"] = json!(mode);
        }
        return;
    }
    let gsis: Vec<Json> = meta
        .indexes
        .iter()
        .filter(|i| i.global)
        .map(|i| json!({"IndexName": i.name}))
        .collect();
    // ENABLED_WITH_OVERRIDES: the default of a global table whose replicas are all in one
    // account; a multi-account one is created with ENABLED, its only mode.
    let settings_mode = if meta.member_accounts.is_empty() {
        "ENABLED_WITH_OVERRIDES"
    } else {
        "ENABLED"
    };
    let warm = d.get("WarmThroughput").cloned();
    // As measured against AWS (ack-api-quirks DDB-TABLE-229/201): a same-account replica's
    // entry has RegionName, ReplicaStatus, WarmThroughput and the settings mode; what it
    // inherits is absent (no ReplicaArn, no ReplicaTableClassSummary for STANDARD).
    let replicas: Vec<Json> = meta
        .replicas
        .iter()
        .filter(|r| **r != meta.region)
        .map(|r| {
            let account = meta.member_account(r);
            let class = meta
                .replica_classes
                .iter()
                .find(|(region, _)| region == r)
                .map_or(&meta.table_class, |(_, c)| c);
            let mut j = json!({"RegionName": r, "ReplicaStatus": "ACTIVE"});
            if account != meta.account {
                j["ReplicaArn"] = json!(aloft_core::arn::build(
                    "dynamodb",
                    r,
                    account,
                    &format!("table/{}", meta.name),
                ));
                j["ReplicaTableClassSummary"] = json!({"TableClass": class});
            } else {
                if class != "STANDARD" {
                    j["ReplicaTableClassSummary"] = json!({"TableClass": class});
                }
                if let Some(w) = &warm {
                    j["WarmThroughput"] = w.clone();
                    j["WarmThroughput"]["Status"] = json!("ACTIVE");
                }
                j["GlobalTableSettingsReplicationMode"] = json!(settings_mode);
            }
            if !gsis.is_empty() {
                j["GlobalSecondaryIndexes"] = Json::Array(gsis.clone());
            }
            j
        })
        .collect();
    d["GlobalTableVersion"] = json!("2019.11.21");
    d["Replicas"] = Json::Array(replicas);
    // An eventual group does not echo its (default) mode; only MRSC shows STRONG.
    if meta.strong {
        d["MultiRegionConsistency"] = json!("STRONG");
    }
    d["GlobalTableSettingsReplicationMode"] = json!(settings_mode);
    if !meta.strong {
        d["DisassociationProtectionEnabled"] =
            json!(meta.disassociation_protection.unwrap_or(true));
    }
    if let Some(w) = &meta.witness {
        d["GlobalTableWitnesses"] = json!([{"RegionName": w, "WitnessStatus": "ACTIVE"}]);
    }
}

/// UpdateTable's replica and witness actions, each naming its region.
fn changes_of(input: &Json, updates: &[Json]) -> Result<mrsc::Changes, AwsError> {
    let mut c = mrsc::Changes {
        consistency: input["MultiRegionConsistency"].as_str().map(str::to_string),
        ..mrsc::Changes::default()
    };
    for u in updates {
        if let Some(x) = u.get("Create").filter(|v| !v.is_null()) {
            c.create.push(region_of(x)?);
        } else if let Some(x) = u.get("Delete").filter(|v| !v.is_null()) {
            c.delete.push(region_of(x)?);
        } else if u.get("Update").is_some_and(|v| !v.is_null()) {
        } else {
            return Err(validation(
                "One or more parameter values were invalid: ReplicaUpdate must specify one of Create, Update or Delete",
            ));
        }
    }
    let witness = input["GlobalTableWitnessUpdates"]
        .as_array()
        .map_or(&[][..], Vec::as_slice);
    if witness.len() > 1 {
        return Err(validation(
            "One or more parameter values were invalid: Only one witness can be created or deleted per UpdateTable request",
        ));
    }
    for w in witness {
        let region = |x: &Json| {
            x["RegionName"]
                .as_str()
                .filter(|r| !r.is_empty())
                .map(str::to_string)
                .ok_or_else(|| validation("1 validation error detected: Value null at 'globalTableWitnessUpdates.member.regionName' failed to satisfy constraint: Member must not be null"))
        };
        if let Some(x) = w.get("Create").filter(|v| !v.is_null()) {
            c.witness_create = Some(region(x)?);
        } else if let Some(x) = w.get("Delete").filter(|v| !v.is_null()) {
            c.witness_delete = Some(region(x)?);
        } else {
            return Err(validation(
                "One or more parameter values were invalid: GlobalTableWitnessUpdate must specify one of Create or Delete",
            ));
        }
    }
    Ok(c)
}

/// Replica (and witness) updates must be alone in their UpdateTable; AWS's measured texts
/// differ between an MRSC request and an eventual one.
pub fn check_replica_updates_alone(input: &Json) -> Result<(), AwsError> {
    if !super::tables::updates_anything(input) {
        return Ok(());
    }
    let strong =
        !input["GlobalTableWitnessUpdates"].is_null() || !input["MultiRegionConsistency"].is_null();
    Err(validation(if strong {
        "One or more parameter values were invalid: Requests that modify replicas or witnesses must not also modify other fields"
    } else {
        "One or more parameter values were invalid: Replica modification must be the only operation in the request"
    }))
}

/// A write to an MRSC table's item that a write in another region is still replicating.
pub fn check_no_replicated_conflict(
    db: &DynamoDb,
    rc: &RequestContext,
    p: &Prepared,
) -> Result<(), AwsError> {
    if !db.db.replication.strong_busy() {
        return Ok(());
    }
    let strong = p.table.data.read().expect("table lock").meta.strong;
    if strong
        && db
            .db
            .replication
            .conflicts(&rc.account_id, &rc.region, &p.table_name, &p.key)
    {
        return Err(ErrorCode::ReplicatedWriteConflictException.err(
            "The request was rejected because one or more items in the request are being modified by a request in another Region.",
        ));
    }
    Ok(())
}

/// MRSC tables take no transactions.
pub fn refuse_transaction(table: &Table) -> Result<(), AwsError> {
    if table.data.read().expect("table lock").meta.strong {
        return Err(mrsc::refuse_transaction());
    }
    Ok(())
}
