//! CreateTable, DescribeTable, UpdateTable, DeleteTable, ListTables, tags, TTL settings,
//! DescribeLimits, DescribeEndpoints, continuous backups settings.

use std::sync::{Arc, RwLock};

use aloft_core::{AwsError, RequestContext, clock};
use aloft_store::Batch;
use serde_json::{Value as Json, json};

use crate::DynamoDb;
use crate::error::{ErrorCode, invalid_param, table_named_not_found, validation};
use crate::handlers::items::{str_param, table_name};
use crate::state::{Table, TableData, table_key};
use crate::tables::{self, TableMeta};
use crate::throughput;

fn describe(data: &TableData, status: &str) -> Json {
    let mut d = data.meta.describe(
        status,
        data.items.len() as u64,
        data.size_bytes,
        &data.index_stats(),
    );
    if let Some(v) = crate::vectors::describe(&data.meta, &data.vectors) {
        d["VectorIndexes"] = v;
    }
    d
}

/// The table named by an ARN or a name (tag operations take ARNs).
fn name_from_arn(arn: &str) -> Option<(String, String, String)> {
    let a = aloft_core::arn::parse(arn)?;
    let name = a.resource.strip_prefix("table/")?;
    let name = name.split('/').next()?;
    Some((
        a.account.to_string(),
        a.region.to_string(),
        name.to_string(),
    ))
}

impl DynamoDb {
    pub(crate) async fn commit(&self, batch: Batch) -> Result<(), AwsError> {
        self.db
            .store
            .submit(batch)
            .await
            .map_err(|e| AwsError::internal(e.to_string()))
    }

    pub async fn create_table(&self, rc: &RequestContext, input: Json) -> Result<Json, AwsError> {
        if str_param(&input, "GlobalTableSourceArn").is_some() {
            return self.create_multi_account_replica(rc, &input).await;
        }
        let meta = tables::from_create(&input, &rc.account_id, &rc.region, clock::now_millis())?;
        let policy = Self::create_table_policy(&input)?;
        let key = table_key(&rc.account_id, &rc.region, &meta.name);
        let mut batch = Batch::new();
        let desc = {
            let mut all = self.db.tables.write().expect("tables lock");
            if all.contains_key(&key) || self.imports.is_pending(&key) {
                return Err(ErrorCode::ResourceInUseException
                    .err(format!("Table already exists: {}", meta.name)));
            }
            let count = all
                .keys()
                .filter(|k| k.starts_with(&format!("{}/{}/", rc.account_id, rc.region)))
                .count();
            if count >= 2500 {
                return Err(ErrorCode::LimitExceededException.err("Subscriber limit exceeded: There is a limit of 2500 tables per account per region"));
            }
            self.db.save_meta(&meta, &mut batch);
            if let Some(p) = policy {
                self.attach_table_policy(&meta, p, &mut batch);
            }
            let data = TableData::new(meta);
            // Creation is instant here, but AWS answers CREATING; DescribeTable says ACTIVE.
            let d = describe(&data, "CREATING");
            all.insert(
                key,
                Arc::new(Table {
                    data: RwLock::new(data),
                }),
            );
            d
        };
        self.commit(batch).await?;
        Ok(json!({"TableDescription": desc}))
    }

    pub async fn describe_table(&self, rc: &RequestContext, input: Json) -> Result<Json, AwsError> {
        let name = table_name(&input)?;
        let Some(table) = self.db.get(&rc.account_id, &rc.region, &name) else {
            return match self.imports.creating(&rc.account_id, &rc.region, &name) {
                Some(d) => Ok(json!({"Table": d})),
                None => Err(table_named_not_found(&name)),
            };
        };
        let data = table.data.read().expect("table lock");
        Ok(json!({"Table": describe(&data, "ACTIVE")}))
    }

    pub async fn delete_table(&self, rc: &RequestContext, input: Json) -> Result<Json, AwsError> {
        let name = table_name(&input)?;
        let key = table_key(&rc.account_id, &rc.region, &name);
        let (desc, meta) = {
            let mut all = self.db.tables.write().expect("tables lock");
            let table = all
                .get(&key)
                .cloned()
                .ok_or_else(|| table_named_not_found(&name))?;
            let mut data = table.data.write().expect("table lock");
            if data.meta.deletion_protection {
                // Measured against AWS (ack-api-quirks DDB-TABLE-442): a ValidationException.
                return Err(validation(
                    "Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.",
                ));
            }
            // One replica of an MRSC table cannot leave alone: UpdateTable removes two.
            if data.meta.strong && data.meta.replicas.len() > 1 {
                return Err(crate::mrsc::refuse_delete());
            }
            data.deleted = true;
            all.remove(&key);
            (describe(&data, "DELETING"), (*data.meta).clone())
        };
        self.db.drop_table(&meta).await?;
        self.drop_attached(&meta).await?;
        self.leave_group(&meta).await?;
        Ok(json!({"TableDescription": desc}))
    }

    pub async fn list_tables(&self, rc: &RequestContext, input: Json) -> Result<Json, AwsError> {
        let limit = input.get("Limit").and_then(Json::as_i64).unwrap_or(100);
        if !(1..=100).contains(&limit) {
            let rule = if limit < 1 {
                "Member must have value greater than or equal to 1"
            } else {
                "Member must have value less than or equal to 100"
            };
            return Err(validation(format!(
                "1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: {rule}"
            )));
        }
        let start = str_param(&input, "ExclusiveStartTableName").unwrap_or("");
        let prefix = format!("{}/{}/", rc.account_id, rc.region);
        let mut names: Vec<String> = self
            .db
            .tables
            .read()
            .expect("tables lock")
            .keys()
            .filter_map(|k| k.strip_prefix(&prefix).map(str::to_string))
            .filter(|n| n.as_str() > start)
            .collect();
        names.sort();
        let mut out = json!({});
        if names.len() > limit as usize {
            names.truncate(limit as usize);
            out["LastEvaluatedTableName"] = json!(names.last());
        }
        out["TableNames"] = json!(names);
        Ok(out)
    }

    pub async fn update_table(&self, rc: &RequestContext, input: Json) -> Result<Json, AwsError> {
        let name = table_name(&input)?;
        let table = self
            .db
            .get(&rc.account_id, &rc.region, &name)
            .ok_or_else(|| table_named_not_found(&name))?;
        if let Some(desc) = self.update_replica_settings(rc, &name, &input).await? {
            return Ok(json!({"TableDescription": desc}));
        }
        let replica_updates = input
            .get("ReplicaUpdates")
            .and_then(Json::as_array)
            .is_some_and(|u| !u.is_empty());
        let witness_updates = input
            .get("GlobalTableWitnessUpdates")
            .is_some_and(Json::is_array);
        if replica_updates {
            crate::handlers::global::check_replica_updates_alone(&input)?;
            let desc = self.update_replicas(rc, &name, &input).await?;
            return Ok(json!({"TableDescription": desc}));
        }
        if witness_updates && !updates_anything(&input) {
            // Measured: witness updates without replica updates do not count as a change.
            return Err(nothing_to_update(&input));
        }
        let mut batch = Batch::new();
        let desc = {
            let mut data = table.data.write().expect("table lock");
            let mut meta = (*data.meta).clone();
            let mut changed = false;
            for d in input["AttributeDefinitions"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let n = d["AttributeName"].as_str().unwrap_or_default().to_string();
                if let Some(t) = d["AttributeType"]
                    .as_str()
                    .and_then(crate::domain::value::KeyType::parse)
                    && !meta.attribute_definitions.iter().any(|(x, _)| *x == n)
                {
                    meta.attribute_definitions.push((n, t));
                }
            }
            if input.get("BillingMode").is_some() {
                meta.pay_per_request = tables::parse_billing(&input)?;
                changed = true;
            }
            if let Some(pt) = input.get("ProvisionedThroughput").filter(|v| !v.is_null()) {
                if meta.pay_per_request {
                    return Err(invalid_param(
                        "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
                    ));
                }
                meta.rcu = pt["ReadCapacityUnits"].as_u64().unwrap_or(meta.rcu);
                meta.wcu = pt["WriteCapacityUnits"].as_u64().unwrap_or(meta.wcu);
                changed = true;
            } else if input.get("BillingMode").and_then(Json::as_str) == Some("PAY_PER_REQUEST") {
                meta.rcu = 0;
                meta.wcu = 0;
            }
            let capacity = (meta.rcu, meta.wcu);
            changed |= meta.throughput.set(
                &input,
                meta.pay_per_request,
                capacity,
                throughput::Op::Update,
                None,
            )?;
            if !meta.pay_per_request {
                for idx in &mut meta.indexes {
                    idx.throughput.on_demand = Default::default();
                }
            }
            let mut rebuild = false;
            for u in input["GlobalSecondaryIndexUpdates"]
                .as_array()
                .into_iter()
                .flatten()
            {
                if let Some(c) = u.get("Create") {
                    let idx =
                        tables::parse_gsi(c, &meta.attribute_definitions, meta.pay_per_request)?;
                    if meta.index(&idx.name).is_some() {
                        return Err(validation(format!(
                            "One or more parameter values were invalid: Index with name: {} already exists",
                            idx.name
                        )));
                    }
                    meta.indexes.push(idx);
                    rebuild = true;
                } else if let Some(d) = u.get("Delete") {
                    let n = d["IndexName"].as_str().unwrap_or_default();
                    let Some((i, _)) = meta.index(n) else {
                        return Err(ErrorCode::ResourceNotFoundException.err(format!(
                            "Requested resource not found: Requested resource not found: Index: {n} not found for table {name}"
                        )));
                    };
                    meta.indexes.remove(i);
                    rebuild = true;
                } else if let Some(up) = u.get("Update") {
                    let n = up["IndexName"].as_str().unwrap_or_default().to_string();
                    let pos = meta.index(&n).map(|(i, _)| i);
                    let Some(i) = pos else {
                        return Err(ErrorCode::ResourceNotFoundException.err(format!(
                            "Requested resource not found: Index: {n} not found"
                        )));
                    };
                    let pt = &up["ProvisionedThroughput"];
                    meta.indexes[i].rcu = pt["ReadCapacityUnits"]
                        .as_u64()
                        .unwrap_or(meta.indexes[i].rcu);
                    meta.indexes[i].wcu = pt["WriteCapacityUnits"]
                        .as_u64()
                        .unwrap_or(meta.indexes[i].wcu);
                    let (pay, index) = (meta.pay_per_request, &mut meta.indexes[i]);
                    let capacity = (index.rcu, index.wcu);
                    index
                        .throughput
                        .set(up, pay, capacity, throughput::Op::Update, Some(&n))?;
                }
                changed = true;
            }
            let vector_change = crate::vectors::apply_updates(&mut meta, &data.vectors, &input)?;
            changed |= vector_change.is_some();
            if let Some(spec) = input.get("StreamSpecification").filter(|v| !v.is_null()) {
                let view = tables::parse_stream_spec(spec)?;
                match (&meta.stream_view, &view) {
                    (Some(_), Some(_)) => {
                        return Err(validation(format!(
                            "Table already has an enabled stream: {}",
                            meta.stream_arn().unwrap_or_default()
                        )));
                    }
                    (None, None) => {
                        return Err(validation("Table already has stream disabled"));
                    }
                    (None, Some(_)) => {
                        meta.stream_label = Some(tables::stream_label(clock::now_millis()));
                        data.stream.records.clear();
                    }
                    // Replication rides on the stream.
                    (Some(_), None) if meta.replicas.len() > 1 => {
                        return Err(invalid_param(
                            "Disabling Stream is not allowed for a Global Table replica.",
                        ));
                    }
                    (Some(_), None) => {}
                }
                meta.stream_view = view;
                changed = true;
            }
            if let Some(dp) = input
                .get("DeletionProtectionEnabled")
                .and_then(Json::as_bool)
            {
                meta.deletion_protection = dp;
                changed = true;
            }
            if let Some(tc) = str_param(&input, "TableClass") {
                meta.table_class = tc.to_string();
                changed = true;
            }
            if let Some(sse) = input.get("SSESpecification").filter(|v| !v.is_null()) {
                meta.sse = sse["Enabled"].as_bool().unwrap_or(true);
                changed = true;
            }
            if !changed {
                return Err(nothing_to_update(&input));
            }
            crate::vectors::check_table(meta.pay_per_request, &meta.indexes, &meta.vector_indexes)?;
            throughput::record_update(&data.meta, &mut meta, &input, clock::now_millis())?;
            data.meta = Arc::new(meta);
            if vector_change.is_some() && !rebuild {
                // Vector index backfill, done at once like a GSI's.
                data.vectors = crate::vectors::rebuild(&data.meta, &data.items);
            }
            if rebuild {
                // GSI backfill: done at once here, so the index is ACTIVE when described.
                data.rebuild_indexes();
            }
            self.db.save_meta(&data.meta, &mut batch);
            let mut d = describe(&data, "UPDATING");
            if let Some(c) = &vector_change {
                crate::vectors::mark_change(&mut d, c);
            }
            (d, data.meta.clone())
        };
        let (desc, meta) = desc;
        self.commit(batch).await?;
        self.sync_group(&meta).await?;
        Ok(json!({"TableDescription": desc}))
    }

    fn table_by_arn(&self, arn: &str) -> Result<Arc<Table>, AwsError> {
        let (acct, region, name) = name_from_arn(arn).ok_or_else(|| {
            validation(format!(
                "Invalid TableArn: Invalid ResourceArn provided as input {arn}"
            ))
        })?;
        self.db.get(&acct, &region, &name).ok_or_else(|| {
            ErrorCode::ResourceNotFoundException.err(format!(
                "Requested resource not found: ResourcArn: {arn} not found"
            ))
        })
    }

    pub(crate) async fn edit_meta(
        &self,
        table: &Arc<Table>,
        f: impl FnOnce(&mut TableMeta) -> Result<(), AwsError>,
    ) -> Result<TableMeta, AwsError> {
        let mut batch = Batch::new();
        let meta = {
            let mut data = table.data.write().expect("table lock");
            let mut meta = (*data.meta).clone();
            f(&mut meta)?;
            data.meta = Arc::new(meta.clone());
            self.db.save_meta(&meta, &mut batch);
            meta
        };
        self.commit(batch).await?;
        Ok(meta)
    }

    pub async fn tag_resource(&self, _rc: &RequestContext, input: Json) -> Result<Json, AwsError> {
        let table = self.table_by_arn(str_param(&input, "ResourceArn").unwrap_or_default())?;
        let tags: Vec<(String, String)> = input["Tags"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| {
                (
                    t["Key"].as_str().unwrap_or_default().to_string(),
                    t["Value"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        self.edit_meta(&table, |m| {
            for (k, v) in tags {
                m.tags.retain(|(x, _)| *x != k);
                m.tags.push((k, v));
            }
            if m.tags.len() > 50 {
                return Err(ErrorCode::LimitExceededException.err("One or more parameter values were invalid: The number of tags exceeds the limit of 50"));
            }
            Ok(())
        })
        .await?;
        Ok(json!({}))
    }

    pub async fn untag_resource(
        &self,
        _rc: &RequestContext,
        input: Json,
    ) -> Result<Json, AwsError> {
        let table = self.table_by_arn(str_param(&input, "ResourceArn").unwrap_or_default())?;
        let keys: Vec<String> = input["TagKeys"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|k| k.as_str().map(str::to_string))
            .collect();
        self.edit_meta(&table, |m| {
            m.tags.retain(|(k, _)| !keys.contains(k));
            Ok(())
        })
        .await?;
        Ok(json!({}))
    }

    pub async fn list_tags_of_resource(
        &self,
        _rc: &RequestContext,
        input: Json,
    ) -> Result<Json, AwsError> {
        let table = self.table_by_arn(str_param(&input, "ResourceArn").unwrap_or_default())?;
        let data = table.data.read().expect("table lock");
        let tags: Vec<Json> = data
            .meta
            .tags
            .iter()
            .map(|(k, v)| json!({"Key": k, "Value": v}))
            .collect();
        Ok(json!({"Tags": tags}))
    }

    pub async fn update_time_to_live(
        &self,
        rc: &RequestContext,
        input: Json,
    ) -> Result<Json, AwsError> {
        let name = table_name(&input)?;
        let table = self.table(rc, &name)?;
        let spec = input
            .get("TimeToLiveSpecification")
            .cloned()
            .unwrap_or(Json::Null);
        let enabled = spec["Enabled"].as_bool().unwrap_or(false);
        let attr = spec["AttributeName"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if attr.is_empty() {
            return Err(validation(
                "1 validation error detected: Value null at 'timeToLiveSpecification.attributeName' failed to satisfy constraint: Member must not be null",
            ));
        }
        if enabled && table.data.read().expect("table lock").meta.strong {
            return Err(crate::mrsc::refuse_ttl());
        }
        self.edit_meta(&table, |m| match (&m.ttl_attribute, enabled) {
            (Some(_), true) => Err(validation("TimeToLive is already enabled")),
            (None, false) => Err(validation("TimeToLive is already disabled")),
            (Some(a), false) if *a != attr => Err(validation(format!(
                "TimeToLive is active on a different AttributeName: current AttributeName is {a}"
            ))),
            _ => {
                m.ttl_attribute = enabled.then(|| attr.clone());
                Ok(())
            }
        })
        .await?;
        let meta = table.data.read().expect("table lock").meta.clone();
        self.sync_group(&meta).await?;
        self.ttl_wake.notify_one();
        Ok(json!({"TimeToLiveSpecification": {"Enabled": enabled, "AttributeName": attr}}))
    }

    pub async fn describe_time_to_live(
        &self,
        rc: &RequestContext,
        input: Json,
    ) -> Result<Json, AwsError> {
        let name = table_name(&input)?;
        let table = self.table(rc, &name)?;
        let data = table.data.read().expect("table lock");
        Ok(match &data.meta.ttl_attribute {
            Some(a) => {
                json!({"TimeToLiveDescription": {"TimeToLiveStatus": "ENABLED", "AttributeName": a}})
            }
            None => json!({"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}}),
        })
    }

    pub async fn describe_limits(
        &self,
        _rc: &RequestContext,
        _input: Json,
    ) -> Result<Json, AwsError> {
        Ok(
            json!({"AccountMaxReadCapacityUnits": 80000, "AccountMaxWriteCapacityUnits": 80000,
            "TableMaxReadCapacityUnits": 40000, "TableMaxWriteCapacityUnits": 40000}),
        )
    }

    pub async fn describe_endpoints(
        &self,
        rc: &RequestContext,
        _input: Json,
    ) -> Result<Json, AwsError> {
        let host = rc
            .base_url
            .trim_start_matches("http://")
            .trim_start_matches("https://");
        Ok(json!({"Endpoints": [{"Address": host, "CachePeriodInMinutes": 1440}]}))
    }
}

/// The members of UpdateTable that change something besides the replicas.
const TABLE_CHANGES: &[&str] = &[
    "ProvisionedThroughput",
    "BillingMode",
    "StreamSpecification",
    "GlobalSecondaryIndexUpdates",
    "SSESpecification",
    "DeletionProtectionEnabled",
    "OnDemandThroughput",
    "WarmThroughput",
    "TableClass",
];

pub(crate) fn updates_anything(input: &Json) -> bool {
    TABLE_CHANGES
        .iter()
        .any(|k| input.get(*k).is_some_and(|v| !v.is_null()))
}

/// AWS's (measured, ack-api-quirks DDB-TABLE-442) answer to an UpdateTable that changes
/// nothing; it leaves out MultiRegionConsistency when the request has it.
fn nothing_to_update(input: &Json) -> AwsError {
    let mrc = if input
        .get("MultiRegionConsistency")
        .is_some_and(|v| !v.is_null())
    {
        ""
    } else {
        "MultiRegionConsistency, "
    };
    validation(format!(
        "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates, SSESpecification, ReplicaUpdates, MultiAccountReplicaReady, ReplicaTransitRoleArn, {mrc}DeletionProtectionEnabled, OnDemandThroughput, WarmThroughput or TableClass is required"
    ))
}
