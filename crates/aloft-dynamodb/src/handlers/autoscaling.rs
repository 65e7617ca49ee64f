//! DescribeTableReplicaAutoScaling and UpdateTableReplicaAutoScaling: the auto scaling
//! settings of a table's replicas (its own region first, then the global table's others) and
//! their GSIs. Write capacity is one setting for every replica; read capacity is per replica.
//! Aloft has no Application Auto Scaling: the settings are kept and described back, never
//! acted on (capacity stays what UpdateTable sets).

use aloft_core::{AwsError, RequestContext};
use aloft_store::Batch;
use serde_json::{Map, Value as Json, json};

use crate::DynamoDb;
use crate::attached::Kind;
use crate::error::validation;
use crate::handlers::insights::index_not_found;
use crate::tables::TableMeta;

/// A dimension never configured (or deregistered) reads as disabled with no policies.
fn unconfigured() -> Json {
    json!({"AutoScalingDisabled": true, "ScalingPolicies": []})
}

/// The role AWS uses when the update names none.
fn service_role(account: &str) -> String {
    format!(
        "arn:aws:iam::{account}:role/aws-service-role/dynamodb.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_DynamoDBTable"
    )
}

/// The regions of a table's group, its own first.
fn regions(meta: &TableMeta) -> Vec<String> {
    let mut v = vec![meta.region.clone()];
    v.extend(meta.other_regions());
    v
}

/// What one `AutoScalingSettingsUpdate` does to a dimension: `None` to deregister it.
/// `resource` names the dimension's scalable resource for the default policy name
/// (`table/t` or `table/t/index/i`), `read` its dimension.
fn apply_update(
    u: &Json,
    table: &str,
    resource: &str,
    read: bool,
    account: &str,
) -> Result<Option<Json>, AwsError> {
    let prefix = |sep: &str| {
        format!(
            "Failed to update settings for global table with name{sep} \u{2018}{table}\u{2019}: "
        )
    };
    let min = u.get("MinimumUnits").and_then(Json::as_i64);
    let max = u.get("MaximumUnits").and_then(Json::as_i64);
    let policy = u.get("ScalingPolicyUpdate").filter(|v| !v.is_null());
    if u.get("AutoScalingDisabled").and_then(Json::as_bool) == Some(true) {
        let mut blank = Vec::new();
        if max.is_some() {
            blank.push("'MaximumUnits'");
        }
        if min.is_some() {
            blank.push("'MinimumUnits'");
        }
        if blank.is_empty() && policy.is_some() {
            blank.push("'ScalingPolicyUpdate'");
        }
        if !blank.is_empty() {
            return Err(validation(format!(
                "{}Parameters {} must be left blank when disabling auto scaling.",
                prefix(""),
                blank.join(", ")
            )));
        }
        return Ok(None);
    }
    // Every other update is a full replacement: Min, Max and a policy together.
    let mut missing = Vec::new();
    if max.is_none() {
        missing.push("'MaximumUnits'");
    }
    if policy.is_none() {
        missing.push("'ScalingPolicyUpdate'");
    }
    if min.is_none() {
        missing.push("'MinimumUnits'");
    }
    let (Some(min), Some(max), Some(policy)) = (min, max, policy) else {
        return Err(validation(format!(
            "{}Parameters {} are required unless auto scaling is being disabled.",
            prefix(":"),
            missing.join(", ")
        )));
    };
    if min > max {
        return Err(validation(format!(
            "{}MinimumUnits must be less than or equal to MaximumUnits.",
            prefix(":")
        )));
    }
    let tt = &policy["TargetTrackingScalingPolicyConfiguration"];
    let mut config = Map::new();
    for key in ["DisableScaleIn", "ScaleInCooldown", "ScaleOutCooldown"] {
        if let Some(v) = tt.get(key).filter(|v| !v.is_null()) {
            config.insert(key.into(), v.clone());
        }
    }
    config.insert(
        "TargetValue".into(),
        tt.get("TargetValue").cloned().unwrap_or(json!(70.0)),
    );
    let name = policy["PolicyName"].as_str().map_or_else(
        || {
            format!(
                "DynamoDB{}CapacityUtilization:{resource}",
                if read { "Read" } else { "Write" }
            )
        },
        str::to_string,
    );
    Ok(Some(json!({
        "MinimumUnits": min,
        "MaximumUnits": max,
        "AutoScalingDisabled": false,
        "AutoScalingRoleArn": u["AutoScalingRoleArn"].as_str().map_or_else(|| service_role(account), str::to_string),
        "ScalingPolicies": [{"PolicyName": name, "TargetTrackingScalingPolicyConfiguration": config}],
    })))
}

/// Sets or clears `settings[path...]`.
fn put(settings: &mut Json, path: &[&str], value: Option<Json>) {
    let mut at = settings;
    for p in &path[..path.len() - 1] {
        if !at.get(*p).is_some_and(Json::is_object) {
            at[*p] = json!({});
        }
        at = &mut at[*p];
    }
    let last = path[path.len() - 1];
    match value {
        Some(v) => at[last] = v,
        None => {
            if let Some(m) = at.as_object_mut() {
                m.remove(last);
            }
        }
    }
}

/// A dimension as described: kept settings, shown disabled while the table is on demand.
fn describe_dim(settings: &Json, path: &[&str], on_demand: bool) -> Json {
    let mut at = settings;
    for p in path {
        at = &at[*p];
    }
    match at {
        Json::Object(_) => {
            let mut d = at.clone();
            if on_demand {
                d["AutoScalingDisabled"] = json!(true);
            }
            d
        }
        _ => unconfigured(),
    }
}

impl DynamoDb {
    fn describe_auto_scaling(&self, meta: &TableMeta, status: &str) -> Json {
        let settings = self
            .attached
            .get(Kind::Scaling, &meta.arn(), meta)
            .unwrap_or_else(|| json!({}));
        let on_demand = meta.pay_per_request;
        let gsis: Vec<&str> = meta
            .indexes
            .iter()
            .filter(|i| i.global)
            .map(|i| i.name.as_str())
            .collect();
        let replicas: Vec<Json> = regions(meta)
            .iter()
            .map(|region| {
                let mut r = json!({"RegionName": region});
                if !gsis.is_empty() {
                    r["GlobalSecondaryIndexes"] = Json::Array(
                        gsis.iter()
                            .map(|i| {
                                json!({
                                    "IndexName": i,
                                    "IndexStatus": "ACTIVE",
                                    "ProvisionedReadCapacityAutoScalingSettings":
                                        describe_dim(&settings, &["gsi_read", region, i], on_demand),
                                    "ProvisionedWriteCapacityAutoScalingSettings":
                                        describe_dim(&settings, &["gsi_write", i], on_demand),
                                })
                            })
                            .collect(),
                    );
                }
                r["ReplicaProvisionedReadCapacityAutoScalingSettings"] =
                    describe_dim(&settings, &["read", region], on_demand);
                r["ReplicaProvisionedWriteCapacityAutoScalingSettings"] =
                    describe_dim(&settings, &["write"], on_demand);
                r["ReplicaStatus"] = json!("ACTIVE");
                r
            })
            .collect();
        json!({"TableName": meta.name, "TableStatus": status, "Replicas": replicas})
    }

    pub async fn describe_table_replica_auto_scaling(
        &self,
        rc: &RequestContext,
        input: Json,
    ) -> Result<Json, AwsError> {
        let (_, meta) = self.table_by_name_or_arn(rc, &input)?;
        Ok(json!({"TableAutoScalingDescription": self.describe_auto_scaling(&meta, "ACTIVE")}))
    }

    pub async fn update_table_replica_auto_scaling(
        &self,
        rc: &RequestContext,
        input: Json,
    ) -> Result<Json, AwsError> {
        let (table, meta) = self.table_by_name_or_arn(rc, &input)?;
        let name = meta.name.clone();
        let base = format!("table/{name}");
        let gsi = |i: &str| -> Result<(), AwsError> {
            match meta.index(i) {
                Some((_, idx)) if idx.global => Ok(()),
                _ => Err(index_not_found(i, &name)),
            }
        };
        let group = regions(&meta);
        // The members are looked up before the table's lock is taken: the tables' map is
        // locked before any table's elsewhere (replica creation).
        let members: Vec<std::sync::Arc<TableMeta>> = group
            .iter()
            .filter_map(|region| {
                if *region == meta.region {
                    return Some(meta.clone());
                }
                self.db
                    .get(&meta.account, region, &name)
                    .map(|t| t.data.read().expect("table lock").meta.clone())
            })
            .collect();
        let mut batch = Batch::new();
        {
            let _order = table.data.write().expect("table lock");
            let mut settings = self
                .attached
                .get(Kind::Scaling, &meta.arn(), &meta)
                .unwrap_or_else(|| json!({}));
            // Every update is checked before any is applied: a bad one changes nothing.
            if let Some(u) = input.get("ProvisionedWriteCapacityAutoScalingUpdate") {
                let v = apply_update(u, &name, &base, false, &meta.account)?;
                put(&mut settings, &["write"], v);
            }
            for g in input["GlobalSecondaryIndexUpdates"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let i = g["IndexName"].as_str().unwrap_or_default();
                gsi(i)?;
                if let Some(u) = g.get("ProvisionedWriteCapacityAutoScalingUpdate") {
                    let v =
                        apply_update(u, &name, &format!("{base}/index/{i}"), false, &meta.account)?;
                    put(&mut settings, &["gsi_write", i], v);
                }
            }
            for r in input["ReplicaUpdates"].as_array().into_iter().flatten() {
                let region = r["RegionName"].as_str().unwrap_or_default();
                if !group.iter().any(|g| g == region) {
                    return Err(validation(format!(
                        "One or more parameter values were invalid: Table {name} has no replica in region {region}"
                    )));
                }
                if let Some(u) = r.get("ReplicaProvisionedReadCapacityAutoScalingUpdate") {
                    let v = apply_update(u, &name, &base, true, &meta.account)?;
                    put(&mut settings, &["read", region], v);
                }
                for g in r["ReplicaGlobalSecondaryIndexUpdates"]
                    .as_array()
                    .into_iter()
                    .flatten()
                {
                    let i = g["IndexName"].as_str().unwrap_or_default();
                    gsi(i)?;
                    if let Some(u) = g.get("ProvisionedReadCapacityAutoScalingUpdate") {
                        let v = apply_update(
                            u,
                            &name,
                            &format!("{base}/index/{i}"),
                            true,
                            &meta.account,
                        )?;
                        put(&mut settings, &["gsi_read", region, i], v);
                    }
                }
            }
            // The settings are the global table's: every replica describes the same ones.
            for m in &members {
                self.attached.set(
                    Kind::Scaling,
                    &m.arn(),
                    m,
                    Some(settings.clone()),
                    &mut batch,
                );
            }
        }
        self.commit(batch).await?;
        Ok(json!({"TableAutoScalingDescription": self.describe_auto_scaling(&meta, "ACTIVE")}))
    }
}
