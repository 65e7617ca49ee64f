//! Continuous backups: UpdateContinuousBackups / DescribeContinuousBackups (the restorable
//! window) and RestoreTableToPointInTime, which rebuilds the table as it was at a chosen
//! second from the change log (see [`crate::pitr`]) into a new table.

use aloft_core::{AwsError, RequestContext, clock};
use aloft_store::Batch;
use serde_json::{Value as Json, json};

use crate::DynamoDb;
use crate::error::{ErrorCode, validation};
use crate::handlers::items::{str_param, table_name};
use crate::pitr::{NS_PITR, NS_PITR_BASE, Pitr};
use crate::state::{TableData, item_prefix};
use crate::tables::check_table_name;

fn table_not_found(name: &str) -> AwsError {
    ErrorCode::TableNotFoundException.err(format!("Table not found: {name}"))
}

fn description(data: &TableData) -> Json {
    let mut pitr = json!({"PointInTimeRecoveryStatus": "DISABLED"});
    if let (true, Some(p)) = (data.meta.pitr, &data.pitr) {
        let (earliest, latest) = p.window(clock::now_millis());
        pitr = json!({
            "PointInTimeRecoveryStatus": "ENABLED",
            "EarliestRestorableDateTime": earliest as f64 / 1000.0,
            "LatestRestorableDateTime": latest as f64 / 1000.0,
            "RecoveryPeriodInDays": p.days,
        });
    }
    json!({"ContinuousBackupsStatus": "ENABLED", "PointInTimeRecoveryDescription": pitr})
}

impl DynamoDb {
    pub async fn describe_continuous_backups(
        &self,
        rc: &RequestContext,
        input: Json,
    ) -> Result<Json, AwsError> {
        let name = table_name(&input)?;
        let table = self
            .db
            .get(&rc.account_id, &rc.region, &name)
            .ok_or_else(|| table_not_found(&name))?;
        let data = table.data.read().expect("table lock");
        Ok(json!({"ContinuousBackupsDescription": description(&data)}))
    }

    pub async fn update_continuous_backups(
        &self,
        rc: &RequestContext,
        input: Json,
    ) -> Result<Json, AwsError> {
        let name = table_name(&input)?;
        let spec = input
            .get("PointInTimeRecoverySpecification")
            .filter(|v| v.is_object())
            .ok_or_else(|| {
                validation("1 validation error detected: Value null at 'pointInTimeRecoverySpecification' failed to satisfy constraint: Member must not be null")
            })?;
        let enabled = spec["PointInTimeRecoveryEnabled"]
            .as_bool()
            .ok_or_else(|| {
                validation("1 validation error detected: Value null at 'pointInTimeRecoverySpecification.pointInTimeRecoveryEnabled' failed to satisfy constraint: Member must not be null")
            })?;
        let days = match spec.get("RecoveryPeriodInDays").and_then(Json::as_i64) {
            None => 35,
            Some(d @ 1..=35) => d,
            Some(d) => {
                return Err(validation(format!(
                    "1 validation error detected: Value '{d}' at 'pointInTimeRecoverySpecification.recoveryPeriodInDays' failed to satisfy constraint: Member must have value {}",
                    if d < 1 {
                        "greater than or equal to 1"
                    } else {
                        "less than or equal to 35"
                    }
                )));
            }
        };
        let table = self
            .db
            .get(&rc.account_id, &rc.region, &name)
            .ok_or_else(|| table_not_found(&name))?;
        let mut batch = Batch::new();
        let (out, clear) = {
            let mut data = table.data.write().expect("table lock");
            let prefix = item_prefix(&data.meta);
            let mut meta = (*data.meta).clone();
            let mut clear = None;
            match (enabled, data.pitr.as_mut()) {
                (true, Some(p)) => {
                    p.days = days;
                    if self.db.durable {
                        p.journal_header(&prefix, &mut batch);
                    }
                }
                (true, None) => {
                    let p = Pitr::new(&data.items, clock::now_millis(), days);
                    if self.db.durable {
                        p.journal_base(&prefix, &mut batch);
                    }
                    data.pitr = Some(p);
                }
                (false, _) => {
                    if data.pitr.take().is_some() {
                        clear = Some(prefix);
                    }
                }
            }
            meta.pitr = enabled;
            data.meta = std::sync::Arc::new(meta);
            self.db.save_meta(&data.meta, &mut batch);
            (description(&data), clear)
        };
        self.commit(batch).await?;
        if let Some(prefix) = clear {
            for ns in [NS_PITR, NS_PITR_BASE] {
                self.db
                    .store
                    .clear(ns, &prefix)
                    .await
                    .map_err(|e| AwsError::internal(e.to_string()))?;
            }
        }
        Ok(json!({"ContinuousBackupsDescription": out}))
    }

    pub async fn restore_table_to_point_in_time(
        &self,
        rc: &RequestContext,
        input: Json,
    ) -> Result<Json, AwsError> {
        let target = str_param(&input, "TargetTableName").ok_or_else(|| {
            validation("1 validation error detected: Value null at 'targetTableName' failed to satisfy constraint: Member must not be null")
        })?;
        check_table_name(target, "targetTableName")?;
        let source = match (
            str_param(&input, "SourceTableName"),
            str_param(&input, "SourceTableArn"),
        ) {
            (Some(n), None) => n.to_string(),
            (None, Some(arn)) => aloft_core::arn::parse(arn)
                .and_then(|a| a.resource.strip_prefix("table/").map(str::to_string))
                .ok_or_else(|| validation(format!("Invalid TableArn: {arn}")))?,
            (Some(_), Some(_)) => {
                return Err(validation(
                    "Only one of SourceTableArn or SourceTableName should be specified",
                ));
            }
            (None, None) => {
                return Err(validation(
                    "Either SourceTableArn or SourceTableName must be specified",
                ));
            }
        };
        let latest = input
            .get("UseLatestRestorableTime")
            .and_then(Json::as_bool)
            .unwrap_or(false);
        let at = input.get("RestoreDateTime").and_then(Json::as_f64);
        if latest && at.is_some() {
            return Err(validation(
                "Only one of RestoreDateTime or UseLatestRestorableTime should be specified",
            ));
        }
        if !latest && at.is_none() {
            return Err(validation(
                "Either RestoreDateTime or UseLatestRestorableTime must be specified",
            ));
        }
        let table = self
            .db
            .get(&rc.account_id, &rc.region, &source)
            .ok_or_else(|| table_not_found(&source))?;
        let (meta, items, at_ms) = {
            let data = table.data.read().expect("table lock");
            let Some(p) = data.pitr.as_ref().filter(|_| data.meta.pitr) else {
                return Err(
                    ErrorCode::PointInTimeRecoveryUnavailableException.err(format!(
                        "Point in time recovery is not enabled for table '{source}'"
                    )),
                );
            };
            let (earliest, last) = p.window(clock::now_millis());
            // Restores are to the second (fractions within the window's ends are clamped).
            let at_ms = match at {
                Some(t) => (t * 1000.0).round() as i64,
                None => last,
            };
            if at_ms < earliest - 999 || at_ms > last + 999 {
                return Err(ErrorCode::InvalidRestoreTimeException.err(format!(
                    "Restore time must be between EarliestRestorableDateTime ({}) and LatestRestorableDateTime ({})",
                    aloft_core::clock::iso8601_millis(earliest),
                    aloft_core::clock::iso8601_millis(last)
                )));
            }
            let at_ms = at_ms.clamp(earliest, last);
            ((*data.meta).clone(), p.items_at(at_ms), at_ms)
        };
        let summary = json!({"SourceTableArn": meta.arn(), "RestoreDateTime": at_ms as f64 / 1000.0,
            "RestoreInProgress": false});
        let desc = self
            .restore_into(rc, &meta, items, target, &input, summary)
            .await?;
        Ok(json!({"TableDescription": desc}))
    }
}
