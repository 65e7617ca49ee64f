//! UpdateContributorInsights, DescribeContributorInsights, ListContributorInsights: per table
//! and per GSI, ENABLE/DISABLE with a mode. Aloft keeps the settings and the CloudWatch rule
//! names AWS creates; it does not compute the contributor reports. A change passes through
//! ENABLING or DISABLING for a second of Aloft's clock, as AWS's does (~1 s).

use std::sync::Arc;

use aloft_core::{AwsError, RequestContext, clock};
use aloft_store::Batch;
use base64::Engine;
use serde_json::{Value as Json, json};

use crate::DynamoDb;
use crate::attached::Kind;
use crate::error::{ErrorCode, table_named_not_found, validation};
use crate::handlers::items::str_param;
use crate::state::Table;
use crate::tables::TableMeta;

/// How long a change stays ENABLING/DISABLING.
const TRANSITION_MS: i64 = 1000;
const DEFAULT_MODE: &str = "ACCESSED_AND_THROTTLED_KEYS";

pub(crate) fn index_not_found(index: &str, table: &str) -> AwsError {
    ErrorCode::ResourceNotFoundException.err(format!(
        "Requested resource not found: Index: {index} not found for table: {table}"
    ))
}

/// One Insights setting as kept.
struct Setting {
    enabled: bool,
    mode: String,
    /// When it last changed (epoch ms), for the transition and `LastUpdateDateTime`.
    changed_ms: i64,
    /// When it was first enabled: the timestamp in the rule names, kept across mode changes.
    rules_ms: i64,
}

impl Setting {
    fn from_json(v: &Json) -> Option<Self> {
        Some(Setting {
            enabled: v["Enabled"].as_bool()?,
            mode: v["Mode"].as_str()?.to_string(),
            changed_ms: v["Changed"].as_i64()?,
            rules_ms: v["RulesCreated"].as_i64()?,
        })
    }

    fn to_json(&self) -> Json {
        json!({"Enabled": self.enabled, "Mode": self.mode, "Changed": self.changed_ms,
            "RulesCreated": self.rules_ms})
    }

    fn status(&self, now: i64) -> &'static str {
        let settling = now - self.changed_ms < TRANSITION_MS;
        match (self.enabled, settling) {
            (true, true) => "ENABLING",
            (true, false) => "ENABLED",
            (false, true) => "DISABLING",
            (false, false) => "DISABLED",
        }
    }
}

/// The Insights slot of a table or one of its GSIs.
fn slot(meta: &TableMeta, index: Option<&str>) -> String {
    match index {
        Some(i) => format!("{}/index/{i}", meta.arn()),
        None => meta.arn(),
    }
}

/// AWS's rule names: partition-key rules always, sort-key rules when the table or index has
/// a sort key; THROTTLED_KEYS keeps only the throttled-key (`*KT`) rules.
fn rule_names(meta: &TableMeta, index: Option<&str>, s: &Setting) -> Vec<String> {
    let (resource, range) = match index.and_then(|i| meta.index(i)) {
        Some((_, idx)) => (
            format!("{}-{}", meta.name, idx.name),
            idx.schema.range.is_some(),
        ),
        None => (meta.name.clone(), meta.schema.range.is_some()),
    };
    let accessed = s.mode == DEFAULT_MODE;
    let mut kinds = Vec::new();
    for (key, present) in [("PK", true), ("SK", range)] {
        if !present {
            continue;
        }
        if accessed {
            kinds.push(format!("{key}C"));
        }
        kinds.push(format!("{key}T"));
    }
    kinds
        .iter()
        .map(|k| format!("DynamoDBContributorInsights-{k}-{resource}-{}", s.rules_ms))
        .collect()
}

impl DynamoDb {
    /// The table a `TableName` member names, by name or by ARN (the newer operations take
    /// either).
    pub(crate) fn table_by_name_or_arn(
        &self,
        rc: &RequestContext,
        input: &Json,
    ) -> Result<(Arc<Table>, Arc<TableMeta>), AwsError> {
        let given = str_param(input, "TableName").unwrap_or_default();
        let (account, region, name) = if given.starts_with("arn:") {
            let a = aloft_core::arn::parse(given).ok_or_else(|| {
                validation(format!(
                    "Invalid TableArn: Invalid ResourceArn provided as input {given}"
                ))
            })?;
            let name = a.resource.strip_prefix("table/").ok_or_else(|| {
                validation(format!(
                    "Invalid TableArn: Invalid ResourceArn provided as input {given}"
                ))
            })?;
            (
                a.account.to_string(),
                a.region.to_string(),
                name.to_string(),
            )
        } else {
            crate::tables::check_table_name(given, "tableName")?;
            (rc.account_id.clone(), rc.region.clone(), given.to_string())
        };
        if account != rc.account_id || region != rc.region {
            return Err(table_named_not_found(&name));
        }
        let table = self
            .db
            .get(&account, &region, &name)
            .ok_or_else(|| table_named_not_found(&name))?;
        let meta = table.data.read().expect("table lock").meta.clone();
        Ok((table, meta))
    }

    /// The GSI an `IndexName` names: Insights (and auto scaling) exist for GSIs only, an LSI
    /// is "not found" as an unknown index is.
    fn insights_index<'a>(meta: &TableMeta, input: &'a Json) -> Result<Option<&'a str>, AwsError> {
        let Some(index) = str_param(input, "IndexName") else {
            return Ok(None);
        };
        match meta.index(index) {
            Some((_, idx)) if idx.global => Ok(Some(index)),
            _ => Err(index_not_found(index, &meta.name)),
        }
    }

    pub async fn update_contributor_insights(
        &self,
        rc: &RequestContext,
        input: Json,
    ) -> Result<Json, AwsError> {
        let (table, meta) = self.table_by_name_or_arn(rc, &input)?;
        let index = Self::insights_index(&meta, &input)?;
        let enable = str_param(&input, "ContributorInsightsAction") == Some("ENABLE");
        let key = slot(&meta, index);
        let now = clock::now_millis();
        let mut batch = Batch::new();
        let setting = {
            let _order = table.data.write().expect("table lock");
            let current = self
                .attached
                .get(Kind::Insights, &key, &meta)
                .and_then(|v| Setting::from_json(&v));
            // ENABLE without a mode means the default mode, not "keep the current one".
            let mode = if enable {
                str_param(&input, "ContributorInsightsMode")
                    .unwrap_or(DEFAULT_MODE)
                    .to_string()
            } else {
                current
                    .as_ref()
                    .map_or_else(|| DEFAULT_MODE.to_string(), |c| c.mode.clone())
            };
            match current {
                // Asking for what is already in force changes nothing.
                Some(c) if c.enabled == enable && (!enable || c.mode == mode) => c,
                None if !enable => Setting {
                    enabled: false,
                    mode,
                    changed_ms: 0,
                    rules_ms: 0,
                },
                c => {
                    let rules_ms = c.filter(|c| c.enabled).map_or(now, |c| c.rules_ms);
                    let s = Setting {
                        enabled: enable,
                        mode,
                        changed_ms: now,
                        rules_ms,
                    };
                    self.attached
                        .set(Kind::Insights, &key, &meta, Some(s.to_json()), &mut batch);
                    s
                }
            }
        };
        if !batch.is_empty() {
            self.commit(batch).await?;
        }
        let mut out = json!({"TableName": meta.name});
        if let Some(i) = index {
            out["IndexName"] = json!(i);
        }
        out["ContributorInsightsStatus"] = json!(setting.status(now));
        if setting.changed_ms > 0 {
            out["ContributorInsightsMode"] = json!(setting.mode);
        }
        Ok(out)
    }

    pub async fn describe_contributor_insights(
        &self,
        rc: &RequestContext,
        input: Json,
    ) -> Result<Json, AwsError> {
        let (_, meta) = self.table_by_name_or_arn(rc, &input)?;
        let index = Self::insights_index(&meta, &input)?;
        let now = clock::now_millis();
        let mut out = json!({"TableName": meta.name});
        if let Some(i) = index {
            out["IndexName"] = json!(i);
        }
        let current = self
            .attached
            .get(Kind::Insights, &slot(&meta, index), &meta)
            .and_then(|v| Setting::from_json(&v));
        let Some(s) = current else {
            out["ContributorInsightsStatus"] = json!("DISABLED");
            return Ok(out);
        };
        let status = s.status(now);
        if s.enabled {
            out["ContributorInsightsRuleList"] = json!(rule_names(&meta, index, &s));
        }
        out["ContributorInsightsStatus"] = json!(status);
        out["LastUpdateDateTime"] = json!(s.changed_ms as f64 / 1000.0);
        if status != "DISABLED" {
            out["ContributorInsightsMode"] = json!(s.mode);
        }
        Ok(out)
    }

    pub async fn list_contributor_insights(
        &self,
        rc: &RequestContext,
        input: Json,
    ) -> Result<Json, AwsError> {
        let only = match str_param(&input, "TableName") {
            Some(_) => Some(self.table_by_name_or_arn(rc, &input)?.1),
            None => None,
        };
        let max = input
            .get("MaxResults")
            .and_then(Json::as_i64)
            .filter(|n| *n > 0)
            .unwrap_or(100) as usize;
        let after = match str_param(&input, "NextToken") {
            Some(t) => Some(
                base64::engine::general_purpose::STANDARD
                    .decode(t)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .ok_or_else(|| validation("Invalid NextToken"))?,
            ),
            None => None,
        };
        let metas: Vec<Arc<TableMeta>> = match only {
            Some(m) => vec![m],
            None => {
                let prefix = format!("{}/{}/", rc.account_id, rc.region);
                let all = self.db.tables.read().expect("tables lock");
                all.iter()
                    .filter(|(k, _)| k.starts_with(&prefix))
                    .map(|(_, t)| t.data.read().expect("table lock").meta.clone())
                    .collect()
            }
        };
        let now = clock::now_millis();
        // Ordered by table, the table's own entry before its GSIs'; DISABLED ones are not
        // listed (AWS lists what is enabled or on its way in or out).
        let mut rows: Vec<(String, Json)> = Vec::new();
        for meta in &metas {
            for (resource, v) in self.attached.of_table(Kind::Insights, meta) {
                let Some(s) = Setting::from_json(&v) else {
                    continue;
                };
                let status = s.status(now);
                if status == "DISABLED" {
                    continue;
                }
                let index = resource
                    .strip_prefix(&meta.arn())
                    .and_then(|r| r.strip_prefix("/index/"));
                if index.is_some_and(|i| meta.index(i).is_none()) {
                    continue;
                }
                let mut j = json!({"TableName": meta.name});
                if let Some(i) = index {
                    j["IndexName"] = json!(i);
                }
                j["ContributorInsightsStatus"] = json!(status);
                j["ContributorInsightsMode"] = json!(s.mode);
                let sort = format!("{}\u{0}{}", meta.name, index.unwrap_or(""));
                rows.push((sort, j));
            }
        }
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        let rows: Vec<(String, Json)> = rows
            .into_iter()
            .filter(|(k, _)| after.as_ref().is_none_or(|a| k > a))
            .collect();
        let mut out = json!({});
        let more = rows.len() > max;
        let page: Vec<&(String, Json)> = rows.iter().take(max).collect();
        if more && let Some((k, _)) = page.last() {
            out["NextToken"] = json!(base64::engine::general_purpose::STANDARD.encode(k));
        }
        out["ContributorInsightsSummaries"] =
            Json::Array(page.into_iter().map(|(_, j)| j.clone()).collect());
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_settle_after_a_second() {
        let s = |enabled, changed_ms| Setting {
            enabled,
            mode: DEFAULT_MODE.into(),
            changed_ms,
            rules_ms: 0,
        };
        assert_eq!(s(true, 10_000).status(10_500), "ENABLING");
        assert_eq!(s(true, 10_000).status(11_000), "ENABLED");
        assert_eq!(s(false, 10_000).status(10_999), "DISABLING");
        assert_eq!(s(false, 10_000).status(12_000), "DISABLED");
        let round = Setting::from_json(&s(true, 5).to_json()).unwrap();
        assert!(round.enabled && round.changed_ms == 5 && round.mode == DEFAULT_MODE);
    }
}
