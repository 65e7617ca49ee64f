//! Multi-account global tables: CreateTable with `GlobalTableSourceArn` makes, in the
//! caller's account and region, a replica of a table of another account of this Aloft. The
//! replica takes the source's key schema, indexes and settings (settings replication is
//! `ENABLED`, the only mode such a table has); the source must have settings replication
//! enabled and, like the new replica, a resource policy letting DynamoDB's replication
//! service principal (`replication.dynamodb.amazonaws.com`) read, write and replicate
//! settings for every account of the group. Writes then replicate both ways as between
//! same-account replicas (last writer wins); each account removes only its own replica.

use aloft_core::{AwsError, RequestContext};
use aloft_store::Batch;
use serde_json::{Value as Json, json};

use crate::DynamoDb;
use crate::error::{ErrorCode, table_named_not_found, validation};
use crate::handlers::items::{str_param, table_name};
use crate::policy_doc;

fn invalid(detail: impl std::fmt::Display) -> AwsError {
    validation(format!(
        "One or more parameter values were invalid: {detail}"
    ))
}

impl DynamoDb {
    /// CreateTable with `GlobalTableSourceArn`.
    pub async fn create_multi_account_replica(
        &self,
        rc: &RequestContext,
        input: &Json,
    ) -> Result<Json, AwsError> {
        let source_arn = str_param(input, "GlobalTableSourceArn").unwrap_or_default();
        let name = table_name(input)?;
        if str_param(input, "GlobalTableSettingsReplicationMode") != Some("ENABLED") {
            return Err(invalid(
                "GlobalTableSettingsReplicationMode must be ENABLED when GlobalTableSourceArn is specified",
            ));
        }
        let (account, region, source_name) = aloft_core::arn::parse(source_arn)
            .filter(|a| a.service == "dynamodb")
            .and_then(|a| {
                let n = a.resource.strip_prefix("table/")?;
                (!n.contains('/'))
                    .then(|| (a.account.to_string(), a.region.to_string(), n.to_string()))
            })
            .ok_or_else(|| invalid(format!("Invalid GlobalTableSourceArn: {source_arn}")))?;
        if source_name != name {
            return Err(invalid(format!(
                "The table name {name} must match the name of the source table {source_name}"
            )));
        }
        if account == rc.account_id {
            return Err(invalid(
                "GlobalTableSourceArn must name a table in another account; add a replica in the same account with UpdateTable ReplicaUpdates",
            ));
        }
        let source = self
            .db
            .get(&account, &region, &name)
            .ok_or_else(|| table_named_not_found(&name))?;
        let meta = source.data.read().expect("table lock").meta.clone();
        if meta.strong {
            return Err(invalid(
                "Multi-account global tables do not support MultiRegionConsistency set to STRONG",
            ));
        }
        if meta.replicas.len() < 2 && meta.settings_mode.as_deref() != Some("ENABLED") {
            return Err(invalid(format!(
                "The source table {source_arn} must have GlobalTableSettingsReplicationMode set to ENABLED"
            )));
        }
        if rc.region == meta.region || meta.replicas.contains(&rc.region) {
            return Err(invalid(format!(
                "The global table already has a replica in region {}",
                rc.region
            )));
        }
        if let Some(keys) = input.get("KeySchema").filter(|v| !v.is_null()) {
            let mine = meta.describe("ACTIVE", 0, 0, &[])["KeySchema"].clone();
            if *keys != mine {
                return Err(invalid(
                    "The KeySchema must match the key schema of the source table",
                ));
            }
        }
        // Every member must let the replication principal act for the new account, and the
        // new replica must let it act for the source's.
        let policy = Self::create_table_policy(input)?;
        let granted = self
            .policy_for_resource(&meta.arn())
            .is_some_and(|p| policy_doc::grants_replication(&p, &rc.account_id));
        if !granted {
            return Err(ErrorCode::AccessDeniedException.err(format!(
                "The resource policy of the source table {source_arn} does not allow replication.dynamodb.amazonaws.com to replicate for account {}",
                rc.account_id
            )));
        }
        if !policy
            .as_deref()
            .is_some_and(|p| policy_doc::grants_replication(p, &account))
        {
            return Err(ErrorCode::AccessDeniedException.err(format!(
                "The ResourcePolicy of the new replica must allow replication.dynamodb.amazonaws.com to replicate for account {account}"
            )));
        }
        self.create_replica_in(&source, &rc.account_id, &rc.region)
            .await?;
        let table = self.table(rc, &name)?;
        let tags: Vec<(String, String)> = input["Tags"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| {
                let s = |k: &str| t[k].as_str().unwrap_or_default().to_string();
                (s("Key"), s("Value"))
            })
            .collect();
        let protect = input["DeletionProtectionEnabled"]
            .as_bool()
            .unwrap_or(false);
        let replica = self
            .edit_meta(&table, |m| {
                m.tags = tags;
                m.deletion_protection = protect;
                m.settings_mode = None;
                Ok(())
            })
            .await?;
        if let Some(p) = policy {
            let mut batch = Batch::new();
            self.attach_table_policy(&replica, p, &mut batch);
            self.commit(batch).await?;
        }
        let data = table.data.read().expect("table lock");
        let desc = data.meta.describe(
            "CREATING",
            data.items.len() as u64,
            data.size_bytes,
            &data.index_stats(),
        );
        Ok(json!({"TableDescription": desc}))
    }
}
