//! Alarm evaluation over the last EvaluationPeriods whole periods on the one clock, and the
//! actions of a transition (SNS, Lambda, ...) plus an EventBridge "CloudWatch Alarm State
//! Change" event on the default bus.

use std::collections::BTreeMap;

use aloft_core::clock;
use aloft_events::Delivery;
use serde_json::{Value, json};

use crate::CloudWatch;
use crate::alarms::{Alarm, Fired, breaches, fmt_time, get_str, key, list, op_words, transition};
use crate::data::Query;
use crate::metrics::{Dimension, metric_id};

impl CloudWatch {
    /// Evaluates every alarm at the current time and fires the transitions.
    pub(crate) async fn evaluate_all(&self) {
        let now = clock::now_millis();
        let snapshot: Vec<Alarm> = self.lock_alarms().values().cloned().collect();
        let mut decided = Vec::new();
        for a in snapshot {
            if let Some((state, reason, data)) = self.evaluate(&a, now) {
                decided.push((key(&a), a.config_updated_s, state, reason, data));
            }
        }
        let mut fired = Vec::new();
        let mut commits = Vec::new();
        {
            let mut map = self.lock_alarms();
            for (k, cfg_s, state, reason, data) in decided {
                let Some(a) = map.get_mut(&k) else { continue };
                // The alarm changed while we were evaluating: the next pass decides.
                if (a.config_updated_s - cfg_s).abs() > f64::EPSILON || a.state == state {
                    continue;
                }
                if let Some(f) = transition(a, &state, reason, Some(data)) {
                    fired.push(f);
                    commits.push(self.save(a));
                }
            }
        }
        for c in commits {
            if crate::commit(c).await.is_err() {
                tracing::warn!("cloudwatch: could not journal an alarm state");
            }
        }
        for f in fired {
            self.fire(f);
        }
    }

    /// The state the alarm should be in now: (state, reason, reason data).
    fn evaluate(&self, a: &Alarm, now: i64) -> Option<(String, String, String)> {
        let c = &a.config;
        let n = usize::try_from(
            c.get("EvaluationPeriods")
                .and_then(Value::as_i64)
                .unwrap_or(1),
        )
        .unwrap_or(1);
        let m = usize::try_from(
            c.get("DatapointsToAlarm")
                .and_then(Value::as_i64)
                .unwrap_or(n as i64),
        )
        .unwrap_or(n);
        let threshold = c.get("Threshold").and_then(Value::as_f64)?;
        let op = get_str(c, "ComparisonOperator").unwrap_or("GreaterThanThreshold");
        let treat = get_str(c, "TreatMissingData").unwrap_or("missing");
        let period = if c.contains_key("Metrics") {
            let qs: Vec<Query> = serde_json::from_value(c["Metrics"].clone()).ok()?;
            qs.iter()
                .filter_map(|q| q.metric_stat.as_ref().map(|s| s.period).or(q.period))
                .next()
                .unwrap_or(60)
        } else {
            c.get("Period").and_then(Value::as_i64).unwrap_or(60)
        };
        let p = period.max(1) * 1000;
        // Only whole periods count: the one in progress is not evaluated yet.
        let end = now.div_euclid(p) * p;
        #[allow(clippy::cast_possible_wrap)]
        let start = end - (n as i64) * p;
        let series: BTreeMap<i64, f64> = if c.contains_key("Metrics") {
            let qs: Vec<Query> = serde_json::from_value(c["Metrics"].clone()).ok()?;
            let r = self
                .run_queries(&a.account, &a.region, &qs, start, end)
                .ok()?;
            r.into_iter().find(|x| x.returned)?.series
        } else {
            let dims: Vec<Dimension> = c
                .get("Dimensions")
                .cloned()
                .and_then(|d| serde_json::from_value(d).ok())
                .unwrap_or_default();
            let id = metric_id(
                &a.account,
                &a.region,
                get_str(c, "Namespace")?,
                get_str(c, "MetricName")?,
                &dims,
            );
            let stat = get_str(c, "Statistic").or_else(|| get_str(c, "ExtendedStatistic"))?;
            self.metrics
                .buckets(&id, start, end, period, get_str(c, "Unit"))
                .into_iter()
                .filter_map(|(t, agg)| agg.stat(stat).map(|v| (t, v)))
                .collect()
        };
        let mut points = Vec::new();
        let mut breaching = 0;
        let mut present = 0;
        for k in 0..n {
            #[allow(clippy::cast_possible_wrap)]
            let t = start + (k as i64) * p;
            match series.get(&t) {
                Some(v) => {
                    present += 1;
                    if breaches(op, *v, threshold) {
                        breaching += 1;
                    }
                    points.push((t, *v));
                }
                None if treat == "breaching" => {
                    present += 1;
                    breaching += 1;
                }
                None if treat == "notBreaching" => present += 1,
                None => {}
            }
        }
        if present == 0 {
            if treat == "ignore" {
                return None;
            }
            let reason = format!(
                "Insufficient Data: {n} datapoint{} were unknown.",
                if n == 1 { "" } else { "s" }
            );
            return Some((
                "INSUFFICIENT_DATA".into(),
                reason,
                json!({"version": "1.0"}).to_string(),
            ));
        }
        let state = if breaching >= m { "ALARM" } else { "OK" };
        let shown: Vec<String> = points
            .iter()
            .rev()
            .map(|(t, v)| format!("{v:?} ({})", fmt_time(*t)))
            .collect();
        let verb = if state == "ALARM" { "was" } else { "was not" };
        let reason = format!(
            "Threshold Crossed: {} out of the last {n} datapoints [{}] {verb} {} the threshold ({threshold:?}) (minimum {m} datapoint{} for {} transition).",
            if state == "ALARM" {
                breaching
            } else {
                present - breaching
            },
            shown.join(", "),
            op_words(op),
            if m == 1 { "" } else { "s" },
            if state == "ALARM" {
                "OK -> ALARM"
            } else {
                "ALARM -> OK"
            },
        );
        let data = json!({
            "version": "1.0", "queryDate": clock::iso8601_millis(now),
            "startDate": clock::iso8601_millis(start), "period": period,
            "recentDatapoints": points.iter().map(|(_, v)| *v).collect::<Vec<_>>(),
            "threshold": threshold, "evaluatedDatapoints": points.iter().rev().map(|(t, v)| json!({"timestamp": clock::iso8601_millis(*t), "value": v})).collect::<Vec<_>>(),
        });
        Some((state.into(), reason, data.to_string()))
    }

    /// Sends an alarm's actions and its EventBridge event, without waiting for them.
    pub(crate) fn fire(&self, f: Fired) {
        let a = f.alarm;
        let targets = self.targets.clone();
        let actions = if a.actions_enabled {
            list(
                &a.config,
                match a.state.as_str() {
                    "ALARM" => "AlarmActions",
                    "OK" => "OKActions",
                    _ => "InsufficientDataActions",
                },
            )
        } else {
            Vec::new()
        };
        let now = clock::iso8601_millis(clock::now_millis());
        let message = json!({
            "AlarmName": a.name, "AlarmDescription": a.config.get("AlarmDescription"),
            "AWSAccountId": a.account, "AlarmConfigurationUpdatedTimestamp": clock::iso8601_millis((a.config_updated_s * 1000.0) as i64),
            "NewStateValue": a.state, "NewStateReason": a.reason, "StateChangeTime": now,
            "Region": a.region, "AlarmArn": a.arn, "OldStateValue": f.old,
            "Trigger": {
                "MetricName": a.config.get("MetricName"), "Namespace": a.config.get("Namespace"),
                "StatisticType": "Statistic", "Statistic": a.config.get("Statistic").map(|s| s.as_str().unwrap_or("").to_uppercase()),
                "Dimensions": a.config.get("Dimensions").cloned().unwrap_or(json!([])).as_array().map(|d| d.iter().map(|x| json!({"name": x["Name"], "value": x["Value"]})).collect::<Vec<_>>()),
                "Period": a.config.get("Period"), "EvaluationPeriods": a.config.get("EvaluationPeriods"),
                "ComparisonOperator": a.config.get("ComparisonOperator"), "Threshold": a.config.get("Threshold"),
                "TreatMissingData": a.config.get("TreatMissingData").cloned().unwrap_or(json!("missing")),
            },
        });
        let detail = json!({
            "alarmName": a.name,
            "state": {"value": a.state, "reason": a.reason, "timestamp": now},
            "previousState": {"value": f.old},
            "configuration": {"description": a.config.get("AlarmDescription")},
        });
        let subject = format!("{}: \"{}\" in {}", a.state, a.name, a.region);
        tokio::spawn(async move {
            for arn in actions {
                let mut options = serde_json::Map::new();
                let payload = if arn.starts_with("arn:aws:sns:") {
                    options.insert("Subject".into(), json!(subject));
                    message.to_string()
                } else {
                    json!({"source": "aws.cloudwatch", "alarmArn": a.arn, "accountId": a.account,
                           "time": now, "region": a.region, "alarmData": detail})
                    .to_string()
                };
                let d = Delivery {
                    payload: payload.into(),
                    options,
                    sync: false,
                    source_arn: Some(a.arn.clone()),
                    account: a.account.clone(),
                    region: a.region.clone(),
                };
                if let Err(e) = targets.deliver(&arn, d).await {
                    tracing::warn!(alarm = a.name, action = arn, error = %e.message, "alarm action failed");
                }
            }
            let bus = aloft_core::arn::build("events", &a.region, &a.account, "event-bus/default");
            let entry = json!({"Source": "aws.cloudwatch", "DetailType": "CloudWatch Alarm State Change",
                               "Resources": [a.arn], "Detail": detail.to_string()});
            let d = Delivery {
                payload: entry.to_string().into(),
                account: a.account.clone(),
                region: a.region.clone(),
                ..Delivery::default()
            };
            let _ = targets.deliver(&bus, d).await;
        });
    }
}
