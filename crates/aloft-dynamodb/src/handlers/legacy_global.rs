//! Global tables version 2017.11.29: CreateGlobalTable, DescribeGlobalTable,
//! ListGlobalTables, UpdateGlobalTable, DescribeGlobalTableSettings,
//! UpdateGlobalTableSettings. The caller makes the table in every region first (same name and
//! key schema, empty, streams NEW_AND_OLD_IMAGES); the global table links them, and writes
//! then replicate through the same machinery as version 2019.11.21 (`global.rs`, last writer
//! wins). The global table itself is the account's (no region) and is journaled untied to
//! any one table.
//!
//! AWS no longer makes these (measured in 2026 from every endpoint): CreateGlobalTable, and an
//! UpdateGlobalTable that adds a region, answer that the version is not supported, and the
//! other operations find no global table. Aloft does the same unless
//! `dynamodb.legacy_global_tables` is set, for code written against an account that has them.

use aloft_core::{AwsError, RequestContext, clock};
use aloft_store::Batch;
use serde_json::{Value as Json, json};

use crate::DynamoDb;
use crate::attached::Kind;
use crate::error::{ErrorCode, invalid_param, validation};
use crate::handlers::items::str_param;
use crate::tables::TableMeta;

/// DescribeGlobalTable says "Global table not found: " before the reason; the settings
/// operations give the reason alone.
fn global_not_found(name: &str, describe: bool) -> AwsError {
    let reason = format!("Global table with name: '{name}' does not exist.");
    ErrorCode::GlobalTableNotFoundException.err(if describe {
        format!("Global table not found: {reason}")
    } else {
        reason
    })
}

/// The regions where version 2017.11.29 was ever offered, as AWS lists them.
const LEGACY_REGIONS: [&str; 11] = [
    "eu-west-2",
    "eu-west-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-northeast-2",
    "eu-central-1",
    "ap-northeast-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
];

/// AWS's refusal of a new legacy global table, in the caller's region's words.
fn legacy_unsupported(region: &str) -> AwsError {
    const V: &str = "DynamoDB global tables version 2017.11.29";
    if LEGACY_REGIONS.contains(&region) {
        validation(format!(
            "One or more parameter values were invalid: {V} is not supported. We recommend using DynamoDB global tables version 2019.11.21, instead of version 2017.11.29 (Legacy)."
        ))
    } else {
        validation(format!(
            "One or more parameter values were invalid: {V} is not supported in this region '{region}', supported regions are : [{}]",
            LEGACY_REGIONS.join(", ")
        ))
    }
}

fn index_missing(index: &str) -> AwsError {
    ErrorCode::IndexNotFoundException.err(format!("Index not found: {index}"))
}

/// The legacy operations check the name's length in their own words, not the model's.
fn checked_name(input: &Json) -> Result<&str, AwsError> {
    let name = str_param(input, "GlobalTableName").unwrap_or_default();
    if !(3..=255).contains(&name.len()) {
        return Err(validation(
            "TableName must be at least 3 characters long and at most 255 characters long",
        ));
    }
    Ok(name)
}

fn global_key(account: &str, name: &str) -> String {
    format!("{account}/{name}")
}

/// A global table as kept: its regions in the order they joined, its creation time.
struct GlobalTable {
    name: String,
    regions: Vec<String>,
    created_ms: i64,
}

impl GlobalTable {
    fn from_json(name: &str, v: &Json) -> Option<Self> {
        Some(GlobalTable {
            name: name.to_string(),
            regions: v["Regions"]
                .as_array()?
                .iter()
                .filter_map(|r| r.as_str().map(str::to_string))
                .collect(),
            created_ms: v["Created"].as_i64()?,
        })
    }

    fn to_json(&self) -> Json {
        json!({"Regions": self.regions, "Created": self.created_ms})
    }

    fn group(&self) -> Json {
        Json::Array(
            self.regions
                .iter()
                .map(|r| json!({"RegionName": r}))
                .collect(),
        )
    }

    fn describe(&self, account: &str, status: &str) -> Json {
        json!({
            "ReplicationGroup": self.group(),
            "GlobalTableArn": format!("arn:aws:dynamodb::{account}:global-table/{}", self.name),
            "CreationDateTime": self.created_ms as f64 / 1000.0,
            "GlobalTableStatus": status,
            "GlobalTableName": self.name,
        })
    }
}

fn regions_of(list: &Json) -> Vec<String> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["RegionName"].as_str().map(str::to_string))
        .collect()
}

impl DynamoDb {
    fn global_table(&self, account: &str, name: &str) -> Option<GlobalTable> {
        self.attached
            .get_untied(Kind::GlobalTable, &global_key(account, name))
            .and_then(|v| GlobalTable::from_json(name, &v))
    }

    /// The global table an input's `GlobalTableName` names.
    fn named_global(
        &self,
        rc: &RequestContext,
        input: &Json,
        describe: bool,
    ) -> Result<GlobalTable, AwsError> {
        let name = checked_name(input)?;
        self.global_table(&rc.account_id, name)
            .ok_or_else(|| global_not_found(name, describe))
    }

    /// A region's table may join a global table: it exists, is empty, streams new and old
    /// images, is in no other global table, and has the key schema of `like` (when given).
    fn check_joiner(
        &self,
        account: &str,
        region: &str,
        name: &str,
        like: Option<&TableMeta>,
    ) -> Result<TableMeta, AwsError> {
        let table = self.db.get(account, region, name).ok_or_else(|| {
            ErrorCode::TableNotFoundException.err(format!(
                "Table not found: Table: '{name}' not found in region: '{region}'."
            ))
        })?;
        let data = table.data.read().expect("table lock");
        let meta = (*data.meta).clone();
        if !data.items.is_empty() {
            return Err(invalid_param(format!(
                "Table {name} in region {region} is not empty"
            )));
        }
        if meta.stream_view.as_deref() != Some("NEW_AND_OLD_IMAGES") {
            return Err(invalid_param(format!(
                "Table {name} in region {region} does not have streams enabled with StreamViewType NEW_AND_OLD_IMAGES"
            )));
        }
        if !meta.replicas.is_empty() {
            return Err(invalid_param(format!(
                "Table {name} in region {region} is already part of a global table"
            )));
        }
        if let Some(like) = like
            && (like.schema != meta.schema
                || like.attribute_definitions.len() != meta.attribute_definitions.len())
        {
            return Err(invalid_param(format!(
                "Table {name} in region {region} does not have the key schema of the global table"
            )));
        }
        Ok(meta)
    }

    /// A deleted table's region is no longer a replica of its global table.
    pub(crate) fn leave_legacy_global(&self, meta: &TableMeta, batch: &mut Batch) {
        if let Some(mut g) = self.global_table(&meta.account, &meta.name)
            && g.regions.contains(&meta.region)
        {
            g.regions.retain(|r| *r != meta.region);
            self.save_global(&meta.account, &g, batch);
        }
    }

    fn save_global(&self, account: &str, g: &GlobalTable, batch: &mut Batch) {
        self.attached.set_untied(
            Kind::GlobalTable,
            &global_key(account, &g.name),
            Some(g.to_json()),
            batch,
        );
    }

    pub async fn create_global_table(
        &self,
        rc: &RequestContext,
        input: Json,
    ) -> Result<Json, AwsError> {
        let name = checked_name(&input)?;
        if !self.legacy_global {
            return Err(legacy_unsupported(&rc.region));
        }
        let mut regions = regions_of(&input["ReplicationGroup"]);
        regions.dedup();
        if self.global_table(&rc.account_id, name).is_some() {
            return Err(ErrorCode::GlobalTableAlreadyExistsException
                .err("Global table with this name already exists"));
        }
        let mut first: Option<TableMeta> = None;
        for r in &regions {
            let m = self.check_joiner(&rc.account_id, r, name, first.as_ref())?;
            first.get_or_insert(m);
        }
        let g = GlobalTable {
            name: name.to_string(),
            regions,
            created_ms: clock::now_millis(),
        };
        let mut batch = Batch::new();
        self.save_global(&rc.account_id, &g, &mut batch);
        self.set_group(&rc.account_id, name, &g.regions, &mut batch);
        self.commit(batch).await?;
        Ok(json!({"GlobalTableDescription": g.describe(&rc.account_id, "CREATING")}))
    }

    pub async fn describe_global_table(
        &self,
        rc: &RequestContext,
        input: Json,
    ) -> Result<Json, AwsError> {
        let g = self.named_global(rc, &input, true)?;
        Ok(json!({"GlobalTableDescription": g.describe(&rc.account_id, "ACTIVE")}))
    }

    pub async fn list_global_tables(
        &self,
        rc: &RequestContext,
        input: Json,
    ) -> Result<Json, AwsError> {
        let limit = input
            .get("Limit")
            .and_then(Json::as_u64)
            .unwrap_or(100)
            .min(100) as usize;
        let start = str_param(&input, "ExclusiveStartGlobalTableName").unwrap_or("");
        let region = str_param(&input, "RegionName");
        let prefix = format!("{}/", rc.account_id);
        let mut tables: Vec<GlobalTable> = self
            .attached
            .untied(Kind::GlobalTable, &prefix)
            .into_iter()
            .filter_map(|(k, v)| GlobalTable::from_json(&k[prefix.len()..], &v))
            .filter(|g| g.name.as_str() > start)
            .filter(|g| region.is_none_or(|r| g.regions.iter().any(|x| x == r)))
            .collect();
        let mut out = json!({});
        if tables.len() > limit {
            tables.truncate(limit);
            out["LastEvaluatedGlobalTableName"] = json!(tables.last().map(|g| g.name.clone()));
        }
        out["GlobalTables"] = Json::Array(
            tables
                .iter()
                .map(|g| json!({"GlobalTableName": g.name, "ReplicationGroup": g.group()}))
                .collect(),
        );
        Ok(out)
    }

    pub async fn update_global_table(
        &self,
        rc: &RequestContext,
        input: Json,
    ) -> Result<Json, AwsError> {
        let updates = input["ReplicaUpdates"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        // An empty list, or an update naming neither action, is refused before the global
        // table is looked up, and without detail.
        let bare = || validation("One or more parameter values were invalid");
        let acts = |u: &Json| {
            u["Create"]["RegionName"].is_string() || u["Delete"]["RegionName"].is_string()
        };
        if updates.is_empty() || !updates.iter().all(acts) {
            return Err(bare());
        }
        // Adding a region is a creation: refused even for a name that does not exist.
        if !self.legacy_global
            && updates
                .iter()
                .any(|u| u["Create"]["RegionName"].is_string())
        {
            return Err(legacy_unsupported(&rc.region));
        }
        let mut g = self.named_global(rc, &input, false)?;
        let name = &g.name.clone();
        let like = g
            .regions
            .iter()
            .find_map(|r| self.db.get(&rc.account_id, r, name))
            .map(|t| (*t.data.read().expect("table lock").meta).clone());
        let mut left = Vec::new();
        for u in &updates {
            if let Some(r) = u["Create"]["RegionName"].as_str() {
                if g.regions.iter().any(|x| x == r) {
                    return Err(ErrorCode::ReplicaAlreadyExistsException
                        .err(format!("Replica already exists in region {r}")));
                }
                self.check_joiner(&rc.account_id, r, name, like.as_ref())?;
                g.regions.push(r.to_string());
            } else if let Some(r) = u["Delete"]["RegionName"].as_str() {
                let Some(i) = g.regions.iter().position(|x| x == r) else {
                    return Err(ErrorCode::ReplicaNotFoundException
                        .err(format!("Replica not found in region {r}")));
                };
                left.push(g.regions.remove(i));
            } else {
                return Err(bare());
            }
        }
        let mut batch = Batch::new();
        self.save_global(&rc.account_id, &g, &mut batch);
        self.set_group(&rc.account_id, name, &g.regions, &mut batch);
        for r in &left {
            // A region that left keeps its table, no longer replicated.
            self.set_group(&rc.account_id, name, std::slice::from_ref(r), &mut batch);
        }
        self.commit(batch).await?;
        Ok(json!({"GlobalTableDescription": g.describe(&rc.account_id, "UPDATING")}))
    }

    fn global_settings(&self, account: &str, g: &GlobalTable) -> Json {
        let replicas: Vec<Json> = g
            .regions
            .iter()
            .filter_map(|r| self.db.get(account, r, &g.name).map(|t| (r, t)))
            .map(|(r, t)| {
                let m = t.data.read().expect("table lock").meta.clone();
                let mode = if m.pay_per_request {
                    "PAY_PER_REQUEST"
                } else {
                    "PROVISIONED"
                };
                let gsis: Vec<Json> = m
                    .indexes
                    .iter()
                    .filter(|i| i.global)
                    .map(|i| {
                        let mut j = json!({"IndexName": i.name, "IndexStatus": "ACTIVE"});
                        if i.rcu > 0 {
                            j["ProvisionedReadCapacityUnits"] = json!(i.rcu);
                        }
                        if i.wcu > 0 {
                            j["ProvisionedWriteCapacityUnits"] = json!(i.wcu);
                        }
                        j
                    })
                    .collect();
                json!({
                    "RegionName": r,
                    "ReplicaStatus": "ACTIVE",
                    "ReplicaBillingModeSummary": {"BillingMode": mode},
                    "ReplicaProvisionedReadCapacityUnits": m.rcu,
                    "ReplicaProvisionedWriteCapacityUnits": m.wcu,
                    "ReplicaGlobalSecondaryIndexSettings": gsis,
                })
            })
            .collect();
        json!({"GlobalTableName": g.name, "ReplicaSettings": replicas})
    }

    pub async fn describe_global_table_settings(
        &self,
        rc: &RequestContext,
        input: Json,
    ) -> Result<Json, AwsError> {
        let g = self.named_global(rc, &input, false)?;
        Ok(self.global_settings(&rc.account_id, &g))
    }

    pub async fn update_global_table_settings(
        &self,
        rc: &RequestContext,
        input: Json,
    ) -> Result<Json, AwsError> {
        let g = self.named_global(rc, &input, false)?;
        let name = &g.name.clone();
        let members: Vec<_> = g
            .regions
            .iter()
            .filter_map(|r| self.db.get(&rc.account_id, r, name).map(|t| (r.clone(), t)))
            .collect();
        let replica_updates = input["ReplicaSettingsUpdate"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for u in &replica_updates {
            let r = u["RegionName"].as_str().unwrap_or_default();
            if !g.regions.iter().any(|x| x == r) {
                return Err(ErrorCode::ReplicaNotFoundException
                    .err(format!("Replica not found in region {r}")));
            }
        }
        let index_updates = input["GlobalTableGlobalSecondaryIndexSettingsUpdate"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        // Every index named must exist before any replica changes.
        if let Some((_, t)) = members.first() {
            let m = t.data.read().expect("table lock").meta.clone();
            let named = index_updates
                .iter()
                .chain(replica_updates.iter().flat_map(|u| {
                    u["ReplicaGlobalSecondaryIndexSettingsUpdate"]
                        .as_array()
                        .into_iter()
                        .flatten()
                }));
            for u in named {
                let i = u["IndexName"].as_str().unwrap_or_default();
                if !m.indexes.iter().any(|x| x.global && x.name == i) {
                    return Err(index_missing(i));
                }
            }
        }
        let billing = match str_param(&input, "GlobalTableBillingMode") {
            Some(_) => Some(crate::tables::parse_billing(
                &json!({"BillingMode": input["GlobalTableBillingMode"]}),
            )?),
            None => None,
        };
        let wcu = input
            .get("GlobalTableProvisionedWriteCapacityUnits")
            .and_then(Json::as_u64);
        for (region, table) in &members {
            let mine: Vec<&Json> = replica_updates
                .iter()
                .filter(|u| u["RegionName"].as_str() == Some(region))
                .collect();
            self.edit_meta(table, |m| {
                if let Some(pay) = billing {
                    m.pay_per_request = pay;
                    if pay {
                        m.rcu = 0;
                        m.wcu = 0;
                    }
                }
                if let Some(w) = wcu {
                    m.wcu = w;
                }
                for u in &index_updates {
                    let i = u["IndexName"].as_str().unwrap_or_default();
                    let idx = m
                        .indexes
                        .iter_mut()
                        .find(|x| x.global && x.name == i)
                        .ok_or_else(|| index_missing(i))?;
                    if let Some(w) = u["ProvisionedWriteCapacityUnits"].as_u64() {
                        idx.wcu = w;
                    }
                }
                for u in &mine {
                    if let Some(r) = u["ReplicaProvisionedReadCapacityUnits"].as_u64() {
                        m.rcu = r;
                    }
                    for gu in u["ReplicaGlobalSecondaryIndexSettingsUpdate"]
                        .as_array()
                        .into_iter()
                        .flatten()
                    {
                        let i = gu["IndexName"].as_str().unwrap_or_default();
                        let idx = m
                            .indexes
                            .iter_mut()
                            .find(|x| x.global && x.name == i)
                            .ok_or_else(|| index_missing(i))?;
                        if let Some(r) = gu["ProvisionedReadCapacityUnits"].as_u64() {
                            idx.rcu = r;
                        }
                    }
                }
                Ok(())
            })
            .await?;
        }
        Ok(self.global_settings(&rc.account_id, &g))
    }
}
