//! API Gateway's standard REST metrics (namespace `AWS/ApiGateway`): Count, 4XXError,
//! 5XXError, Latency and IntegrationLatency, per API and per API and stage.
//!
//! Requests are tallied in memory and published to CloudWatch in one `PutMetricData`-shaped
//! delivery per account and region a short while after the first request of a batch: one JSON
//! document and one CloudWatch write per request was most of a MOCK request's cost. Each
//! metric goes out as `Values`/`Counts` (every latency kept), so Sum, SampleCount, Minimum,
//! Maximum, Average and percentiles are those of the individual requests (latencies to the
//! microsecond, rounded up). Data points carry their request's second (AWS's own resolution
//! for these metrics is a minute).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use aloft_events::Targets;
use serde_json::{Value, json};

/// How long a batch collects requests before it is published (real time).
const FLUSH_AFTER: Duration = Duration::from_millis(500);

#[derive(Clone, PartialEq, Eq, Hash)]
struct Key {
    account: Arc<str>,
    region: Arc<str>,
    api: Arc<str>,
    stage: Arc<str>,
    second: i64,
}

#[derive(Default)]
struct Tally {
    count: u64,
    e4xx: u64,
    e5xx: u64,
    /// In microseconds.
    latency: Vec<u32>,
    integration: Vec<u32>,
}

#[derive(Default)]
pub struct Metrics {
    pending: Mutex<HashMap<Key, Tally>>,
}

impl Metrics {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Tally>> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Tallies one request; the first of a batch schedules its publication.
    pub fn record(
        self: &Arc<Self>,
        targets: &Arc<Targets>,
        api: &Stamp,
        status: u16,
        latency_ms: f64,
        integration_ms: f64,
    ) {
        let key = Key {
            account: api.account.clone(),
            region: api.region.clone(),
            api: api.api_name.clone(),
            stage: api.stage.clone(),
            second: aloft_core::clock::now_millis().div_euclid(1000),
        };
        let first = {
            let mut m = self.lock();
            let first = m.is_empty();
            let t = m.entry(key).or_default();
            t.count += 1;
            t.e4xx += u64::from((400..500).contains(&status));
            t.e5xx += u64::from(status >= 500);
            t.latency.push(micros(latency_ms));
            t.integration.push(micros(integration_ms));
            first
        };
        if first {
            let (me, targets) = (self.clone(), targets.clone());
            tokio::spawn(async move {
                tokio::time::sleep(FLUSH_AFTER).await;
                me.flush(&targets);
            });
        }
    }

    /// Publishes everything tallied so far.
    pub fn flush(&self, targets: &Arc<Targets>) {
        let pending = std::mem::take(&mut *self.lock());
        let mut by_scope: HashMap<(Arc<str>, Arc<str>), Vec<Value>> = HashMap::new();
        for (k, t) in pending {
            let data = by_scope
                .entry((k.account.clone(), k.region.clone()))
                .or_default();
            data.extend(metric_data(&k, &t));
        }
        for ((account, region), data) in by_scope {
            aloft_events::publish_metrics(targets, &account, &region, "AWS/ApiGateway", data);
        }
    }

    pub fn reset(&self) {
        self.lock().clear();
    }
}

/// Who a request's metrics belong to, resolved with its API.
#[derive(Clone)]
pub struct Stamp {
    pub account: Arc<str>,
    pub region: Arc<str>,
    pub api_name: Arc<str>,
    pub stage: Arc<str>,
}

/// Milliseconds to whole microseconds, rounded up: a request never measures 0.
fn micros(ms: f64) -> u32 {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let us = (ms * 1000.0).ceil().clamp(1.0, f64::from(u32::MAX)) as u32;
    us
}

/// `Values`/`Counts` of milliseconds measured in microseconds, equal values counted once.
fn latencies(us: &[u32]) -> (Vec<f64>, Vec<f64>) {
    let mut sorted = us.to_vec();
    sorted.sort_unstable();
    let (mut values, mut counts): (Vec<f64>, Vec<f64>) = (Vec::new(), Vec::new());
    for v in sorted {
        let ms = f64::from(v) / 1000.0;
        if values.last() == Some(&ms)
            && let Some(c) = counts.last_mut()
        {
            *c += 1.0;
        } else {
            values.push(ms);
            counts.push(1.0);
        }
    }
    (values, counts)
}

/// `Values`/`Counts` of a 0-or-1 metric.
fn flags(total: u64, ones: u64) -> (Vec<f64>, Vec<f64>) {
    #[allow(clippy::cast_precision_loss)]
    let (zeros, ones) = ((total - ones) as f64, ones as f64);
    [(0.0, zeros), (1.0, ones)]
        .into_iter()
        .filter(|(_, n)| *n > 0.0)
        .unzip()
}

fn metric_data(k: &Key, t: &Tally) -> Vec<Value> {
    #[allow(clippy::cast_precision_loss)]
    let at = k.second as f64;
    let dimensions = [
        json!([{"Name": "ApiName", "Value": &*k.api}]),
        json!([{"Name": "ApiName", "Value": &*k.api}, {"Name": "Stage", "Value": &*k.stage}]),
    ];
    #[allow(clippy::cast_precision_loss)]
    let values = [
        ("Count", (vec![1.0], vec![t.count as f64]), "Count"),
        ("4XXError", flags(t.count, t.e4xx), "Count"),
        ("5XXError", flags(t.count, t.e5xx), "Count"),
        ("Latency", latencies(&t.latency), "Milliseconds"),
        (
            "IntegrationLatency",
            latencies(&t.integration),
            "Milliseconds",
        ),
    ];
    dimensions
        .iter()
        .flat_map(|d| {
            values.iter().map(move |(name, (vals, counts), unit)| {
                let mut datum = json!({"MetricName": name, "Dimensions": d, "Values": vals,
                                       "Unit": unit, "Timestamp": at});
                // Without Counts every value counts once.
                if counts.iter().any(|c| *c != 1.0) {
                    datum["Counts"] = json!(counts);
                }
                datum
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_keeps_every_request() {
        let k = Key {
            account: "000000000000".into(),
            region: "us-east-1".into(),
            api: "a".into(),
            stage: "prod".into(),
            second: 1_700_000_000,
        };
        let t = Tally {
            count: 4,
            e4xx: 1,
            e5xx: 0,
            latency: vec![1500, 2000, 500, 2000],
            integration: vec![1, 100, 200, 300],
        };
        let data = metric_data(&k, &t);
        assert_eq!(data.len(), 10);
        assert_eq!((micros(0.0), micros(0.0004), micros(1.2341)), (1, 1, 1235));
        let get = |name: &str, dims: usize| {
            data.iter()
                .find(|d| {
                    d["MetricName"] == name && d["Dimensions"].as_array().unwrap().len() == dims
                })
                .unwrap()
                .clone()
        };
        assert_eq!(get("Count", 1)["Values"], json!([1.0]));
        assert_eq!(get("Count", 1)["Counts"], json!([4.0]));
        assert_eq!(get("4XXError", 2)["Values"], json!([0.0, 1.0]));
        assert_eq!(get("4XXError", 2)["Counts"], json!([3.0, 1.0]));
        assert_eq!(get("5XXError", 2)["Values"], json!([0.0]));
        assert_eq!(get("5XXError", 2)["Counts"], json!([4.0]));
        assert_eq!(get("Latency", 2)["Values"], json!([0.5, 1.5, 2.0]));
        assert_eq!(get("Latency", 2)["Counts"], json!([1.0, 1.0, 2.0]));
        assert_eq!(
            get("IntegrationLatency", 1)["Values"],
            json!([0.001, 0.1, 0.2, 0.3])
        );
        assert!(get("IntegrationLatency", 1).get("Counts").is_none());
        assert_eq!(get("Latency", 2)["Unit"], "Milliseconds");
        assert_eq!(get("Count", 2)["Timestamp"], json!(1_700_000_000.0));
        assert_eq!(
            get("Count", 2)["Dimensions"][1],
            json!({"Name": "Stage", "Value": "prod"})
        );
    }
}
