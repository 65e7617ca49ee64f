//! On-demand backups: CreateBackup, DescribeBackup, ListBackups, DeleteBackup,
//! RestoreTableFromBackup. A backup shares the table's items (they are immutable `Arc`s),
//! so taking one costs a pointer per item; it is journaled whole so `--data-dir` keeps it.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use aloft_core::{AwsError, RequestContext, clock};
use aloft_store::Batch;
use serde_json::{Value as Json, json};

use crate::DynamoDb;
use crate::domain::rowkey::{RowKey, Rows};
use crate::domain::value::{Item, item_from_json, item_size, item_to_json};
use crate::error::{ErrorCode, validation};
use crate::handlers::items::str_param;
use crate::state::{Db, NS_ITEMS, Table, TableData, table_key};
use crate::tables::{TableMeta, check_table_name};

pub const NS_BACKUPS: &str = "dynamodb/backups";

#[derive(Clone)]
pub struct Backup {
    pub arn: String,
    pub name: String,
    pub created_ms: i64,
    pub meta: TableMeta,
    pub items: Vec<(RowKey, Item)>,
    pub size_bytes: u64,
}

impl Backup {
    fn details(&self) -> Json {
        json!({
            "BackupArn": self.arn,
            "BackupName": self.name,
            "BackupSizeBytes": self.size_bytes,
            "BackupStatus": "AVAILABLE",
            "BackupType": "USER",
            "BackupCreationDateTime": self.created_ms as f64 / 1000.0,
        })
    }

    fn summary(&self) -> Json {
        let mut s = self.details();
        s["TableName"] = json!(self.meta.name);
        s["TableId"] = json!(self.meta.id);
        s["TableArn"] = json!(self.meta.arn());
        s
    }

    fn description(&self) -> Json {
        let mut key_schema =
            vec![json!({"AttributeName": self.meta.schema.hash.name, "KeyType": "HASH"})];
        if let Some(r) = &self.meta.schema.range {
            key_schema.push(json!({"AttributeName": r.name, "KeyType": "RANGE"}));
        }
        let mut source = json!({
            "TableName": self.meta.name,
            "TableId": self.meta.id,
            "TableArn": self.meta.arn(),
            "TableSizeBytes": self.size_bytes,
            "KeySchema": key_schema,
            "TableCreationDateTime": self.meta.created_ms as f64 / 1000.0,
            "ProvisionedThroughput": {"ReadCapacityUnits": self.meta.rcu, "WriteCapacityUnits": self.meta.wcu},
            "ItemCount": self.items.len(),
            "BillingMode": if self.meta.pay_per_request { "PAY_PER_REQUEST" } else { "PROVISIONED" },
        });
        // The on-demand ceilings a restore re-applies, when the table had any.
        if let Some(od) = self.meta.throughput.on_demand.describe() {
            source["OnDemandThroughput"] = od;
        }
        json!({
            "BackupDetails": self.details(),
            "SourceTableDetails": source,
            "SourceTableFeatureDetails": self.features(),
        })
    }

    /// `SourceTableFeatureDetails`: what a restore can bring back (indexes as their `*Info`
    /// shapes, the stream, TTL and encryption), members present only when the table had them.
    fn features(&self) -> Json {
        let m = &self.meta;
        let mut desc = m.describe("ACTIVE", 0, 0, &[]);
        let mut f = json!({});
        for (member, keep) in [
            (
                "GlobalSecondaryIndexes",
                &[
                    "IndexName",
                    "KeySchema",
                    "Projection",
                    "ProvisionedThroughput",
                ][..],
            ),
            (
                "LocalSecondaryIndexes",
                &["IndexName", "KeySchema", "Projection"][..],
            ),
        ] {
            if let Some(list) = desc.get_mut(member).and_then(Json::as_array_mut) {
                for i in list.iter_mut() {
                    if let Some(o) = i.as_object_mut() {
                        o.retain(|k, _| keep.contains(&k.as_str()));
                    }
                    if let Some(pt) = i
                        .get_mut("ProvisionedThroughput")
                        .and_then(Json::as_object_mut)
                    {
                        pt.retain(|k, _| k.ends_with("CapacityUnits"));
                    }
                }
                f[member] = Json::Array(std::mem::take(list));
            }
        }
        if let Some(view) = &m.stream_view {
            f["StreamDescription"] = json!({"StreamEnabled": true, "StreamViewType": view});
        }
        if let Some(attr) = &m.ttl_attribute {
            f["TimeToLiveDescription"] =
                json!({"TimeToLiveStatus": "ENABLED", "AttributeName": attr});
        }
        if let Some(sse) = desc.get("SSEDescription") {
            f["SSEDescription"] = sse.clone();
        }
        if let Some(v) = crate::vectors::backup_info(m) {
            f["VectorIndexes"] = v;
        }
        f
    }

    fn to_journal(&self) -> Vec<u8> {
        let items: Vec<Json> = self.items.iter().map(|(_, i)| item_to_json(i)).collect();
        json!({"arn": self.arn, "name": self.name, "created": self.created_ms,
            "meta": serde_json::to_value(&self.meta).unwrap_or(Json::Null), "items": items})
        .to_string()
        .into_bytes()
    }

    pub fn from_journal(v: &[u8]) -> Option<Backup> {
        let j: Json = serde_json::from_slice(v).ok()?;
        let meta: TableMeta = serde_json::from_value(j["meta"].clone()).ok()?;
        let mut items = Vec::new();
        let mut size = 0u64;
        for i in j["items"].as_array()? {
            let item = item_from_json(i).ok()?;
            let key = meta.schema.item_key(&item).ok()?;
            size += item_size(&item) as u64;
            items.push((RowKey::from(key), crate::state::stored(item)));
        }
        Some(Backup {
            arn: j["arn"].as_str()?.to_string(),
            name: j["name"].as_str()?.to_string(),
            created_ms: j["created"].as_i64()?,
            meta,
            items,
            size_bytes: size,
        })
    }
}

fn backup_key(arn: &str) -> Vec<u8> {
    // arn:aws:dynamodb:REGION:ACCOUNT:table/T/backup/ID → ACCOUNT/REGION/ARN, scope first.
    let a = aloft_core::arn::parse(arn);
    match a {
        Some(a) => format!("{}/{}/{arn}", a.account, a.region).into_bytes(),
        None => arn.as_bytes().to_vec(),
    }
}

/// A ListBackups cursor is a position, not a lookup: a deleted backup's ARN resumes after
/// where it was. Its place is the creation time its id starts with.
fn cursor(arn: &str) -> (i64, &str) {
    let created = arn
        .rsplit_once("/backup/")
        .and_then(|(_, id)| id.split('-').next())
        .and_then(|ms| ms.parse().ok())
        .unwrap_or(i64::MIN);
    (created, arn)
}

fn backup_not_found(arn: &str) -> AwsError {
    ErrorCode::BackupNotFoundException.err(format!("Backup not found: {arn}"))
}

impl DynamoDb {
    pub async fn create_backup(&self, rc: &RequestContext, input: Json) -> Result<Json, AwsError> {
        let name = str_param(&input, "TableName")
            .unwrap_or_default()
            .to_string();
        let backup_name = str_param(&input, "BackupName")
            .unwrap_or_default()
            .to_string();
        check_table_name(&backup_name, "backupName")?;
        let table = self
            .db
            .get(&rc.account_id, &rc.region, &name)
            .ok_or_else(|| {
                ErrorCode::TableNotFoundException.err(format!("Table not found: {name}"))
            })?;
        let now = clock::now_millis();
        let backup = {
            let d = table.data.read().expect("table lock");
            let id = format!("{:014}-{}", now, &aloft_core::ids::hex(4));
            Backup {
                arn: format!("{}/backup/{id}", d.meta.arn()),
                name: backup_name,
                created_ms: now,
                meta: (*d.meta).clone(),
                items: d
                    .items
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
                size_bytes: d.size_bytes,
            }
        };
        let mut batch = Batch::new();
        batch.put(NS_BACKUPS, backup_key(&backup.arn), backup.to_journal());
        let details = backup.details();
        self.backups
            .write()
            .expect("backups lock")
            .insert(backup.arn.clone(), backup);
        self.db
            .store
            .submit(batch)
            .await
            .map_err(|e| AwsError::internal(e.to_string()))?;
        Ok(json!({"BackupDetails": details}))
    }

    fn backup(&self, input: &Json) -> Result<Backup, AwsError> {
        let arn = str_param(input, "BackupArn").unwrap_or_default();
        self.backups
            .read()
            .expect("backups lock")
            .get(arn)
            .cloned()
            .ok_or_else(|| backup_not_found(arn))
    }

    pub async fn describe_backup(
        &self,
        _rc: &RequestContext,
        input: Json,
    ) -> Result<Json, AwsError> {
        Ok(json!({"BackupDescription": self.backup(&input)?.description()}))
    }

    pub async fn delete_backup(&self, _rc: &RequestContext, input: Json) -> Result<Json, AwsError> {
        let b = self.backup(&input)?;
        self.backups.write().expect("backups lock").remove(&b.arn);
        let mut batch = Batch::new();
        batch.delete(NS_BACKUPS, backup_key(&b.arn));
        self.db
            .store
            .submit(batch)
            .await
            .map_err(|e| AwsError::internal(e.to_string()))?;
        let mut d = b.description();
        d["BackupDetails"]["BackupStatus"] = json!("DELETED");
        Ok(json!({"BackupDescription": d}))
    }

    pub async fn list_backups(&self, rc: &RequestContext, input: Json) -> Result<Json, AwsError> {
        let table = str_param(&input, "TableName");
        let start = str_param(&input, "ExclusiveStartBackupArn").map(cursor);
        let limit = input
            .get("Limit")
            .and_then(Json::as_u64)
            .unwrap_or(100)
            .clamp(1, 100) as usize;
        // Lower bound inclusive, upper exclusive, to the millisecond.
        let bound = |m: &str| {
            input
                .get(m)
                .and_then(Json::as_f64)
                .map(|s| (s * 1000.0).round() as i64)
        };
        let (lower, upper) = (bound("TimeRangeLowerBound"), bound("TimeRangeUpperBound"));
        if let (Some(l), Some(u)) = (lower, upper)
            && l > u
        {
            return Err(validation(
                "Time range lower bound must be less than or equal to upper bound",
            ));
        }
        // Every backup Aloft takes is a USER backup; the default filter is USER.
        if matches!(
            str_param(&input, "BackupType"),
            Some("SYSTEM" | "AWS_BACKUP")
        ) {
            return Ok(json!({"BackupSummaries": []}));
        }
        let all = self.backups.read().expect("backups lock");
        // Listed oldest first, the order the creation-time prefix of their ids gives.
        let mut mine: BTreeMap<(i64, &str), &Backup> = BTreeMap::new();
        for b in all.values() {
            if b.meta.account == rc.account_id
                && b.meta.region == rc.region
                && table.is_none_or(|t| t == b.meta.name || t == b.meta.arn())
                && lower.is_none_or(|l| b.created_ms >= l)
                && upper.is_none_or(|u| b.created_ms < u)
                && start
                    .as_ref()
                    .is_none_or(|s| (b.created_ms, b.arn.as_str()) > (s.0, s.1))
            {
                mine.insert((b.created_ms, &b.arn), b);
            }
        }
        let page: Vec<&Backup> = mine.values().take(limit).copied().collect();
        let mut out =
            json!({"BackupSummaries": page.iter().map(|b| b.summary()).collect::<Vec<_>>()});
        if mine.len() > limit
            && let Some(last) = page.last()
        {
            out["LastEvaluatedBackupArn"] = json!(last.arn);
        }
        Ok(out)
    }

    pub async fn restore_table_from_backup(
        &self,
        rc: &RequestContext,
        input: Json,
    ) -> Result<Json, AwsError> {
        let target = str_param(&input, "TargetTableName")
            .unwrap_or_default()
            .to_string();
        check_table_name(&target, "targetTableName")?;
        let b = self.backup(&input)?;
        let summary = json!({"SourceBackupArn": b.arn, "SourceTableArn": b.meta.arn(),
            "RestoreDateTime": clock::now_secs_f64(), "RestoreInProgress": false});
        let items: Rows = b.items.iter().cloned().collect();
        let desc = self
            .restore_into(rc, &b.meta, items, &target, &input, summary)
            .await?;
        Ok(json!({"TableDescription": desc}))
    }
}

impl DynamoDb {
    /// Creates `target` from a table definition and items (backup or point-in-time restore),
    /// with the overrides a restore accepts; answers the new table's description.
    pub(crate) async fn restore_into(
        &self,
        rc: &RequestContext,
        source: &TableMeta,
        items: Rows,
        target: &str,
        input: &Json,
        summary: Json,
    ) -> Result<Json, AwsError> {
        let now = clock::now_millis();
        let mut meta = source.clone();
        meta.name = target.to_string();
        meta.id = aloft_core::ids::uuid();
        meta.account = rc.account_id.clone();
        meta.region = rc.region.clone();
        meta.created_ms = now;
        meta.stream_view = None;
        meta.stream_label = None;
        meta.ttl_attribute = None;
        meta.pitr = false;
        // A backup does not record these (ack-api-quirks DDB-TABLE-215).
        meta.deletion_protection = false;
        meta.table_class = "STANDARD".to_string();
        meta.replicas.clear();
        meta.tags.clear();
        meta.kinesis.clear();
        crate::restore::apply_overrides(&mut meta, input)?;
        crate::vectors::apply_restore_override(&mut meta, input)?;
        let (mut desc, batch) = insert_with_items(&self.db, meta, items).ok_or_else(|| {
            ErrorCode::TableAlreadyExistsException.err(format!("Table already exists: {target}"))
        })?;
        desc["RestoreSummary"] = summary;
        self.db
            .store
            .submit(batch)
            .await
            .map_err(|e| AwsError::internal(e.to_string()))?;
        Ok(desc)
    }
}

/// Creates a table that arrives with its items (restores, imports): the definition and every
/// item in one batch for the caller to submit, and the new table's CREATING description.
/// `None` when the name is taken.
pub(crate) fn insert_with_items(db: &Db, meta: TableMeta, items: Rows) -> Option<(Json, Batch)> {
    let key = table_key(&meta.account, &meta.region, &meta.name);
    let mut batch = Batch::new();
    let mut all = db.tables.write().expect("tables lock");
    if all.contains_key(&key) {
        return None;
    }
    db.save_meta(&meta, &mut batch);
    let mut data = TableData::new(meta);
    let prefix = crate::state::item_prefix(&data.meta);
    let mut size = 0u64;
    for (k, v) in items {
        size += item_size(&v) as u64;
        if db.durable {
            let mut jk = prefix.clone();
            jk.extend_from_slice(&k);
            batch.put(NS_ITEMS, jk, item_to_json(&v).to_string());
        }
        data.items.insert(k, v);
    }
    data.size_bytes = size;
    data.rebuild_indexes();
    let mut d = data.meta.describe(
        "CREATING",
        data.items.len() as u64,
        data.size_bytes,
        &data.index_stats(),
    );
    if let Some(v) = crate::vectors::describe(&data.meta, &data.vectors) {
        d["VectorIndexes"] = v;
    }
    all.insert(
        key,
        Arc::new(Table {
            data: RwLock::new(data),
        }),
    );
    Some((d, batch))
}
