//! Metric alarms: PutMetricAlarm, DescribeAlarms(ForMetric), DeleteAlarms, SetAlarmState,
//! Enable/DisableAlarmActions, DescribeAlarmHistory and tags; evaluation and actions live in
//! `evaluate.rs`.

use std::collections::BTreeMap;

use aloft_core::clock;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::data::Query;
use crate::error::{Code, CwError};
use crate::metrics::valid_stat;
use crate::{CloudWatch, Out, parse};

pub const NS: &str = "cloudwatch/alarms";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Alarm {
    pub account: String,
    pub region: String,
    pub name: String,
    pub arn: String,
    /// PutMetricAlarm's input as given (model member names), echoed by DescribeAlarms.
    pub config: serde_json::Map<String, Value>,
    pub state: String,
    pub reason: String,
    pub reason_data: Option<String>,
    pub state_updated_s: f64,
    pub transitioned_s: f64,
    pub config_updated_s: f64,
    pub actions_enabled: bool,
    pub tags: Vec<(String, String)>,
    pub history: Vec<Value>,
}

pub(crate) fn key(a: &Alarm) -> String {
    format!("{}/{}/{}", a.account, a.region, a.name)
}

pub(crate) fn get_str<'a>(c: &'a serde_json::Map<String, Value>, k: &str) -> Option<&'a str> {
    c.get(k).and_then(Value::as_str)
}

pub(crate) fn list(c: &serde_json::Map<String, Value>, k: &str) -> Vec<String> {
    c.get(k)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) fn breaches(op: &str, v: f64, t: f64) -> bool {
    match op {
        "GreaterThanOrEqualToThreshold" => v >= t,
        "GreaterThanThreshold" => v > t,
        "LessThanThreshold" => v < t,
        _ => v <= t,
    }
}

pub(crate) fn op_words(op: &str) -> &'static str {
    match op {
        "GreaterThanOrEqualToThreshold" => "greater than or equal to",
        "GreaterThanThreshold" => "greater than",
        "LessThanThreshold" => "less than",
        _ => "less than or equal to",
    }
}

fn alarm_json(a: &Alarm) -> Value {
    let mut v = Value::Object(a.config.clone());
    v["AlarmArn"] = json!(a.arn);
    v["ActionsEnabled"] = json!(a.actions_enabled);
    v["StateValue"] = json!(a.state);
    v["StateReason"] = json!(a.reason);
    v["StateUpdatedTimestamp"] = json!(a.state_updated_s);
    v["StateTransitionedTimestamp"] = json!(a.transitioned_s);
    v["AlarmConfigurationUpdatedTimestamp"] = json!(a.config_updated_s);
    if let Some(d) = &a.reason_data {
        v["StateReasonData"] = json!(d);
    }
    for k in [
        "OKActions",
        "AlarmActions",
        "InsufficientDataActions",
        "Dimensions",
    ] {
        if v.get(k).is_none() {
            v[k] = json!([]);
        }
    }
    if let Some(o) = v.as_object_mut() {
        o.remove("Tags");
    }
    v
}

pub(crate) fn fmt_time(ms: i64) -> String {
    let t = clock::iso8601_millis(ms);
    // "2026-11-21T08:00:00.000Z" -> "21/11/26 08:00:00", as AWS writes datapoints in reasons.
    format!("{}/{}/{} {}", &t[8..10], &t[5..7], &t[2..4], &t[11..19])
}

/// A transition to deliver after the state lock is released.
pub struct Fired {
    pub alarm: Alarm,
    pub old: String,
}

impl CloudWatch {
    pub(crate) fn save(&self, a: &Alarm) -> aloft_store::Commit {
        if !self.store.is_durable() {
            return aloft_store::Commit::done();
        }
        let mut b = aloft_store::Batch::new();
        b.put(NS, key(a), serde_json::to_vec(a).unwrap_or_default());
        self.store.submit(b)
    }

    pub(crate) fn load_alarms(&self) {
        let mut m = self
            .alarms
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (_, v) in self.store.load(NS, b"").unwrap_or_default() {
            if let Ok(a) = serde_json::from_slice::<Alarm>(&v) {
                m.insert(key(&a), a);
            }
        }
    }

    pub(crate) fn lock_alarms(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Alarm>> {
        self.alarms
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) async fn put_metric_alarm(&self, account: &str, region: &str, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Tag {
            key: String,
            value: String,
        }
        let Value::Object(mut cfg) = input else {
            return Err(CwError::invalid("Invalid input"));
        };
        let name = get_str(&cfg, "AlarmName").unwrap_or_default().to_string();
        let has_metric = cfg.contains_key("MetricName");
        let has_metrics = cfg.contains_key("Metrics");
        if has_metric == has_metrics {
            return Err(CwError::invalid(
                "Exactly one element of the metrics list should return data.",
            ));
        }
        if has_metric {
            let stat = get_str(&cfg, "Statistic").or_else(|| get_str(&cfg, "ExtendedStatistic"));
            match stat {
                Some(s) if valid_stat(s) => {}
                _ => {
                    return Err(CwError::new(
                        Code::MissingRequiredParameterException,
                        "Either Statistic or ExtendedStatistic must be specified.",
                    ));
                }
            }
            let period = cfg.get("Period").and_then(Value::as_i64).unwrap_or(0);
            crate::metrics::check_period(period)?;
        } else {
            let qs: Vec<Query> = serde_json::from_value(cfg["Metrics"].clone())
                .map_err(|e| CwError::invalid(e.to_string()))?;
            if qs.iter().filter(|q| q.return_data.unwrap_or(true)).count() != 1 {
                return Err(CwError::invalid(
                    "Exactly one element of the metrics list should return data.",
                ));
            }
        }
        let op = get_str(&cfg, "ComparisonOperator").unwrap_or_default();
        if op.contains("Band") {
            return Err(CwError::invalid(
                "Aloft does not evaluate anomaly detection alarms yet.",
            ));
        }
        if !cfg.contains_key("Threshold") {
            return Err(CwError::new(
                Code::MissingRequiredParameterException,
                "The parameter Threshold is required.",
            ));
        }
        let n = cfg
            .get("EvaluationPeriods")
            .and_then(Value::as_i64)
            .unwrap_or(1);
        let m = cfg
            .get("DatapointsToAlarm")
            .and_then(Value::as_i64)
            .unwrap_or(n);
        if m > n || m < 1 {
            return Err(CwError::invalid(
                "DatapointsToAlarm must be less than or equal to EvaluationPeriods.",
            ));
        }
        let tags: Vec<Tag> = cfg
            .remove("Tags")
            .map(serde_json::from_value)
            .transpose()
            .map_err(|e| CwError::invalid(e.to_string()))?
            .unwrap_or_default();
        let actions_enabled = cfg
            .get("ActionsEnabled")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        let now = clock::now_secs_f64();
        let c = {
            let mut map = self.lock_alarms();
            let k = format!("{account}/{region}/{name}");
            let alarm = match map.remove(&k) {
                Some(mut old) => {
                    old.config = cfg;
                    old.config_updated_s = now;
                    old.actions_enabled = actions_enabled;
                    for t in tags {
                        old.tags.retain(|(x, _)| *x != t.key);
                        old.tags.push((t.key, t.value));
                    }
                    old
                }
                None => Alarm {
                    account: account.into(),
                    region: region.into(),
                    arn: aloft_core::arn::build(
                        "cloudwatch",
                        region,
                        account,
                        &format!("alarm:{name}"),
                    ),
                    name: name.clone(),
                    config: cfg,
                    state: "INSUFFICIENT_DATA".into(),
                    reason: "Unchecked: Initial alarm creation".into(),
                    reason_data: None,
                    state_updated_s: now,
                    transitioned_s: now,
                    config_updated_s: now,
                    actions_enabled,
                    tags: tags.into_iter().map(|t| (t.key, t.value)).collect(),
                    history: Vec::new(),
                },
            };
            let mut alarm = alarm;
            push_history(
                &mut alarm,
                "ConfigurationUpdate",
                format!("Alarm \"{name}\" updated"),
            );
            let c = self.save(&alarm);
            map.insert(k, alarm);
            c
        };
        crate::commit(c).await?;
        self.wake.notify_one();
        Ok(json!({}))
    }

    pub(crate) async fn describe_alarms(&self, account: &str, region: &str, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            alarm_names: Option<Vec<String>>,
            alarm_name_prefix: Option<String>,
            state_value: Option<String>,
            action_prefix: Option<String>,
            alarm_types: Option<Vec<String>>,
            max_records: Option<usize>,
            next_token: Option<String>,
        }
        let i: In = parse(input)?;
        if i.alarm_names.is_some() && i.alarm_name_prefix.is_some() {
            return Err(CwError::new(
                Code::InvalidParameterCombinationException,
                "AlarmNames and AlarmNamePrefix are mutually exclusive.",
            ));
        }
        // DescribeAlarms shows the state as of now, not as of the worker's last pass.
        self.evaluate_all().await;
        let wants_metric = i
            .alarm_types
            .as_ref()
            .is_none_or(|t| t.iter().any(|x| x == "MetricAlarm"));
        let map = self.lock_alarms();
        let list: Vec<Value> = map
            .values()
            .filter(|a| wants_metric && a.account == account && a.region == region)
            .filter(|a| i.alarm_names.as_ref().is_none_or(|n| n.contains(&a.name)))
            .filter(|a| {
                i.alarm_name_prefix
                    .as_ref()
                    .is_none_or(|p| a.name.starts_with(p.as_str()))
            })
            .filter(|a| i.state_value.as_ref().is_none_or(|s| &a.state == s))
            .filter(|a| {
                i.action_prefix.as_ref().is_none_or(|p| {
                    ["OKActions", "AlarmActions", "InsufficientDataActions"]
                        .iter()
                        .any(|k| list(&a.config, k).iter().any(|x| x.starts_with(p.as_str())))
                })
            })
            .map(alarm_json)
            .collect();
        let start = match &i.next_token {
            None => 0,
            Some(t) => t
                .parse::<usize>()
                .ok()
                .filter(|n| *n <= list.len())
                .ok_or_else(|| {
                    CwError::new(
                        Code::InvalidNextToken,
                        "The service couldn't process the NextToken.",
                    )
                })?,
        };
        let end = (start + i.max_records.unwrap_or(50).clamp(1, 100)).min(list.len());
        let mut out = json!({"MetricAlarms": list[start..end].to_vec(), "CompositeAlarms": []});
        if end < list.len() {
            out["NextToken"] = json!(end.to_string());
        }
        Ok(out)
    }

    pub(crate) fn describe_alarms_for_metric(
        &self,
        account: &str,
        region: &str,
        input: Value,
    ) -> Out {
        let Value::Object(i) = input else {
            return Err(CwError::invalid("Invalid input"));
        };
        let map = self.lock_alarms();
        let out: Vec<Value> = map
            .values()
            .filter(|a| a.account == account && a.region == region)
            .filter(|a| {
                [
                    "MetricName",
                    "Namespace",
                    "Statistic",
                    "ExtendedStatistic",
                    "Period",
                    "Unit",
                ]
                .iter()
                .all(|k| i.get(*k).is_none_or(|v| a.config.get(*k) == Some(v)))
                    && i.get("Dimensions").is_none_or(|d| {
                        let empty = json!([]);
                        a.config.get("Dimensions").unwrap_or(&empty) == d
                    })
            })
            .map(alarm_json)
            .collect();
        Ok(json!({ "MetricAlarms": out }))
    }

    pub(crate) async fn delete_alarms(&self, account: &str, region: &str, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            alarm_names: Vec<String>,
        }
        let i: In = parse(input)?;
        let c = {
            let mut map = self.lock_alarms();
            let keys: Vec<String> = i
                .alarm_names
                .iter()
                .map(|n| format!("{account}/{region}/{n}"))
                .collect();
            let missing: Vec<&String> = i
                .alarm_names
                .iter()
                .zip(&keys)
                .filter(|(_, k)| !map.contains_key(*k))
                .map(|(n, _)| n)
                .collect();
            if !missing.is_empty() {
                return Err(CwError::new(
                    Code::ResourceNotFound,
                    format!("The following alarms were not found: {missing:?}"),
                ));
            }
            let mut b = aloft_store::Batch::new();
            for k in &keys {
                map.remove(k);
                b.delete(NS, k.clone());
            }
            if self.store.is_durable() {
                self.store.submit(b)
            } else {
                aloft_store::Commit::done()
            }
        };
        crate::commit(c).await?;
        Ok(json!({}))
    }

    pub(crate) async fn set_alarm_state(&self, account: &str, region: &str, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            alarm_name: String,
            state_value: String,
            state_reason: String,
            state_reason_data: Option<String>,
        }
        let i: In = parse(input)?;
        if let Some(d) = &i.state_reason_data
            && serde_json::from_str::<Value>(d).is_err()
        {
            return Err(CwError::new(
                Code::InvalidFormatFault,
                "The StateReasonData is not valid JSON.",
            ));
        }
        let (fired, c) = {
            let mut map = self.lock_alarms();
            let a = map
                .get_mut(&format!("{account}/{region}/{}", i.alarm_name))
                .ok_or_else(|| {
                    CwError::new(
                        Code::ResourceNotFound,
                        format!("Alarm {} not found", i.alarm_name),
                    )
                })?;
            let fired = transition(a, &i.state_value, i.state_reason, i.state_reason_data);
            (fired, self.save(a))
        };
        crate::commit(c).await?;
        if let Some(f) = fired {
            self.fire(f);
        }
        Ok(json!({}))
    }

    pub(crate) async fn set_actions(
        &self,
        account: &str,
        region: &str,
        input: Value,
        on: bool,
    ) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            alarm_names: Vec<String>,
        }
        let i: In = parse(input)?;
        let commits: Vec<_> = {
            let mut map = self.lock_alarms();
            let mut out = Vec::new();
            for n in &i.alarm_names {
                if let Some(a) = map.get_mut(&format!("{account}/{region}/{n}")) {
                    a.actions_enabled = on;
                    out.push(self.save(a));
                }
            }
            out
        };
        for c in commits {
            crate::commit(c).await?;
        }
        Ok(json!({}))
    }

    pub(crate) fn describe_alarm_history(&self, account: &str, region: &str, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            alarm_name: Option<String>,
            history_item_type: Option<String>,
            start_date: Option<f64>,
            end_date: Option<f64>,
            max_records: Option<usize>,
            scan_by: Option<String>,
        }
        let i: In = parse(input)?;
        let map = self.lock_alarms();
        let mut items: Vec<Value> = map
            .values()
            .filter(|a| a.account == account && a.region == region)
            .filter(|a| i.alarm_name.as_ref().is_none_or(|n| &a.name == n))
            .flat_map(|a| a.history.iter().cloned())
            .filter(|h| {
                i.history_item_type
                    .as_ref()
                    .is_none_or(|t| h["HistoryItemType"] == json!(t))
            })
            .filter(|h| {
                let ts = h["Timestamp"].as_f64().unwrap_or(0.0);
                i.start_date.is_none_or(|s| ts >= s) && i.end_date.is_none_or(|e| ts <= e)
            })
            .collect();
        items.sort_by(|a, b| {
            let (x, y) = (
                a["Timestamp"].as_f64().unwrap_or(0.0),
                b["Timestamp"].as_f64().unwrap_or(0.0),
            );
            y.total_cmp(&x)
        });
        if i.scan_by.as_deref() == Some("TimestampAscending") {
            items.reverse();
        }
        items.truncate(i.max_records.unwrap_or(100).clamp(1, 100));
        Ok(json!({ "AlarmHistoryItems": items }))
    }

    pub(crate) async fn tags(&self, input: Value, op: &str) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Tag {
            key: String,
            value: String,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            #[serde(rename = "ResourceARN")]
            resource_arn: String,
            tags: Option<Vec<Tag>>,
            tag_keys: Option<Vec<String>>,
        }
        let i: In = parse(input)?;
        let (out, c) = {
            let mut map = self.lock_alarms();
            let a = map
                .values_mut()
                .find(|a| a.arn == i.resource_arn)
                .ok_or_else(|| {
                    CwError::new(
                        Code::ResourceNotFoundException,
                        format!("{} not found", i.resource_arn),
                    )
                })?;
            match op {
                "list" => {
                    let t: Vec<Value> = a
                        .tags
                        .iter()
                        .map(|(k, v)| json!({"Key": k, "Value": v}))
                        .collect();
                    return Ok(json!({ "Tags": t }));
                }
                "tag" => {
                    for t in i.tags.unwrap_or_default() {
                        a.tags.retain(|(k, _)| *k != t.key);
                        a.tags.push((t.key, t.value));
                    }
                }
                _ => {
                    let keys = i.tag_keys.unwrap_or_default();
                    a.tags.retain(|(k, _)| !keys.contains(k));
                }
            }
            (json!({}), self.save(a))
        };
        crate::commit(c).await?;
        Ok(out)
    }
}

fn push_history(a: &mut Alarm, kind: &str, summary: String) {
    a.history.push(json!({
        "AlarmName": a.name, "AlarmType": "MetricAlarm", "Timestamp": clock::now_secs_f64(),
        "HistoryItemType": kind, "HistorySummary": summary, "HistoryData": "{}",
    }));
    if a.history.len() > 100 {
        a.history.remove(0);
    }
}

/// Moves an alarm to `state`; returns the transition to fire when the state changed.
pub(crate) fn transition(
    a: &mut Alarm,
    state: &str,
    reason: String,
    data: Option<String>,
) -> Option<Fired> {
    let old = a.state.clone();
    let now = clock::now_secs_f64();
    a.reason = reason;
    a.reason_data = data;
    a.state_updated_s = now;
    if old == state {
        return None;
    }
    a.state = state.to_string();
    a.transitioned_s = now;
    push_history(
        a,
        "StateUpdate",
        format!("Alarm updated from {old} to {state}"),
    );
    Some(Fired {
        alarm: a.clone(),
        old,
    })
}
