//! Services' standard CloudWatch metrics, tallied in memory and published in batches.
//!
//! Building a `PutMetricData` JSON document and making a CloudWatch write per request was most
//! of a cheap request's cost. A [`MetricBatcher`] keeps every recorded value per series and
//! second, and publishes one `PutMetricData`-shaped delivery per account, region and namespace
//! a short while after the first record of a batch. Each series goes out as `Values`/`Counts`
//! (equal values counted together), so Sum, SampleCount, Minimum, Maximum, Average and
//! percentiles are exactly those of the individual records.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde_json::{Value, json};

use crate::{Delivery, Targets};

/// How long a batch collects records before it is published (real time).
const FLUSH_AFTER: Duration = Duration::from_millis(500);

/// A series' dimensions, `(Name, Value)`, shared by every record of the series.
pub type Dimensions = Arc<[(&'static str, Arc<str>)]>;

/// One value of a record: `(metric name, unit, value)`.
pub type Sample = (&'static str, &'static str, f64);

#[derive(Clone, PartialEq, Eq, Hash)]
struct Scope {
    account: Arc<str>,
    region: Arc<str>,
    namespace: &'static str,
}

#[derive(Clone, PartialEq, Eq, Hash)]
struct Series {
    name: &'static str,
    unit: &'static str,
    dimensions: Dimensions,
    second: i64,
}

type Pending = HashMap<Scope, HashMap<Series, Vec<f64>>>;

/// Tallies metric values and publishes them through the `cloudwatch` target in batches.
pub struct MetricBatcher {
    targets: Arc<Targets>,
    pending: Mutex<Pending>,
}

impl MetricBatcher {
    pub fn new(targets: Arc<Targets>) -> Arc<Self> {
        Arc::new(Self {
            targets,
            pending: Mutex::default(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records `samples` under each of `dimensions` (an empty set is the namespace-wide series)
    /// at epoch second `second`; the first record of a batch schedules its publication.
    pub fn record(
        self: &Arc<Self>,
        account: &Arc<str>,
        region: &Arc<str>,
        namespace: &'static str,
        second: i64,
        dimensions: &[&Dimensions],
        samples: &[Sample],
    ) {
        let first = self.tally(account, region, namespace, second, dimensions, samples);
        if first && tokio::runtime::Handle::try_current().is_ok() {
            let me = self.clone();
            tokio::spawn(async move {
                tokio::time::sleep(FLUSH_AFTER).await;
                me.flush().await;
            });
        }
    }

    /// Adds the values; true when they start a new batch.
    fn tally(
        &self,
        account: &Arc<str>,
        region: &Arc<str>,
        namespace: &'static str,
        second: i64,
        dimensions: &[&Dimensions],
        samples: &[Sample],
    ) -> bool {
        let scope = Scope {
            account: account.clone(),
            region: region.clone(),
            namespace,
        };
        let mut pending = self.lock();
        let first = pending.is_empty();
        let series = pending.entry(scope).or_default();
        for dims in dimensions {
            for &(name, unit, value) in samples {
                let key = Series {
                    name,
                    unit,
                    dimensions: Arc::clone(dims),
                    second,
                };
                series.entry(key).or_default().push(value);
            }
        }
        first
    }

    /// Publishes everything tallied so far, one delivery per account, region and namespace
    /// (a missing CloudWatch service only loses them).
    pub async fn flush(&self) {
        for (arn, delivery) in self.take() {
            let _ = self.targets.deliver(&arn, delivery).await;
        }
    }

    /// Empties the batch into its deliveries.
    fn take(&self) -> Vec<(String, Delivery)> {
        let pending = std::mem::take(&mut *self.lock());
        pending
            .into_iter()
            .map(|(scope, series)| {
                let data: Vec<Value> = series.iter().map(|(s, v)| datum(s, v)).collect();
                let arn = format!(
                    "arn:aws:cloudwatch:{}:{}:metric-data",
                    scope.region, scope.account
                );
                let payload = json!({"Namespace": scope.namespace, "MetricData": data});
                let delivery = Delivery {
                    payload: payload.to_string().into(),
                    account: scope.account.to_string(),
                    region: scope.region.to_string(),
                    ..Default::default()
                };
                (arn, delivery)
            })
            .collect()
    }

    /// Drops everything not yet published.
    pub fn reset(&self) {
        self.lock().clear();
    }
}

/// `Values`/`Counts` of the recorded values, sorted, equal values counted once.
fn values_counts(recorded: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let mut sorted = recorded.to_vec();
    sorted.sort_unstable_by(f64::total_cmp);
    let (mut values, mut counts): (Vec<f64>, Vec<f64>) = (Vec::new(), Vec::new());
    for v in sorted {
        if values.last() == Some(&v)
            && let Some(c) = counts.last_mut()
        {
            *c += 1.0;
        } else {
            values.push(v);
            counts.push(1.0);
        }
    }
    (values, counts)
}

fn datum(s: &Series, recorded: &[f64]) -> Value {
    let (values, counts) = values_counts(recorded);
    let dimensions: Vec<Value> = s
        .dimensions
        .iter()
        .map(|(n, v)| json!({"Name": n, "Value": &**v}))
        .collect();
    #[allow(clippy::cast_precision_loss)]
    let at = s.second as f64;
    let mut d = json!({"MetricName": s.name, "Dimensions": dimensions, "Values": values,
                       "Unit": s.unit, "Timestamp": at});
    // Without Counts every value counts once.
    if counts.iter().any(|c| *c != 1.0) {
        d["Counts"] = json!(counts);
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payloads(b: &MetricBatcher) -> Vec<(String, Value)> {
        let mut out: Vec<(String, Value)> = b
            .take()
            .into_iter()
            .map(|(arn, d)| (arn, serde_json::from_slice(&d.payload).unwrap()))
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    fn find<'a>(data: &'a Value, name: &str, dims: usize) -> &'a Value {
        data["MetricData"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["MetricName"] == name && d["Dimensions"].as_array().unwrap().len() == dims)
            .unwrap()
    }

    #[test]
    fn values_are_kept_exactly_per_series_and_second() {
        let b = MetricBatcher::new(Targets::new());
        let (acct, region): (Arc<str>, Arc<str>) = ("000000000000".into(), "us-east-1".into());
        let f: Dimensions = Arc::new([("FunctionName", "f".into())]);
        let fr: Dimensions = Arc::new([("FunctionName", "f".into()), ("Resource", "f:1".into())]);
        let all: Dimensions = Arc::new([]);
        for (ms, err) in [(2.0, 0.0), (0.5, 1.0), (2.0, 0.0)] {
            let s = [("Duration", "Milliseconds", ms), ("Errors", "Count", err)];
            b.record(&acct, &region, "AWS/Lambda", 100, &[&f, &fr], &s);
        }
        b.record(
            &acct,
            &region,
            "AWS/Lambda",
            101,
            &[&f],
            &[("Errors", "Count", 1.0)],
        );
        b.record(
            &acct,
            &region,
            "AWS/Lambda",
            100,
            &[&all],
            &[("ConcurrentExecutions", "Count", 3.0)],
        );
        b.record(
            &acct,
            &"eu-west-1".into(),
            "AWS/Lambda",
            100,
            &[&f],
            &[("Errors", "Count", 0.0)],
        );
        let out = payloads(&b);
        assert_eq!(out.len(), 2, "one delivery per account and region");
        assert_eq!(
            out[0].0,
            "arn:aws:cloudwatch:eu-west-1:000000000000:metric-data"
        );
        let (arn, p) = &out[1];
        assert_eq!(arn, "arn:aws:cloudwatch:us-east-1:000000000000:metric-data");
        assert_eq!(p["Namespace"], "AWS/Lambda");
        // 2 metrics × 2 dimension sets at second 100, Errors at 101, the account-wide series.
        assert_eq!(p["MetricData"].as_array().unwrap().len(), 6);
        let d = find(p, "Duration", 2);
        assert_eq!(d["Values"], json!([0.5, 2.0]));
        assert_eq!(d["Counts"], json!([1.0, 2.0]));
        assert_eq!(d["Unit"], "Milliseconds");
        assert_eq!(d["Timestamp"], json!(100.0));
        assert_eq!(
            d["Dimensions"][1],
            json!({"Name": "Resource", "Value": "f:1"})
        );
        let c = find(p, "ConcurrentExecutions", 0);
        assert_eq!(c["Values"], json!([3.0]));
        assert!(c.get("Counts").is_none(), "single counts are implied");
        let errors: Vec<&Value> = p["MetricData"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| {
                d["MetricName"] == "Errors" && d["Dimensions"].as_array().unwrap().len() == 1
            })
            .collect();
        assert_eq!(errors.len(), 2, "each second is its own data point");
        assert!(payloads(&b).is_empty(), "a flush empties the batch");
    }

    #[test]
    fn reset_drops_the_batch() {
        let b = MetricBatcher::new(Targets::new());
        let dims: Dimensions = Arc::new([("ApiName", "a".into())]);
        b.record(
            &"1".into(),
            &"r".into(),
            "AWS/ApiGateway",
            1,
            &[&dims],
            &[("Count", "Count", 1.0)],
        );
        b.reset();
        assert!(payloads(&b).is_empty());
    }

    #[tokio::test]
    async fn a_batch_is_delivered_to_cloudwatch() {
        struct Sink(Mutex<Vec<(String, Delivery)>>);
        #[async_trait::async_trait]
        impl crate::Target for Sink {
            async fn deliver(
                &self,
                arn: &str,
                d: Delivery,
            ) -> Result<crate::Delivered, aloft_protocol::AwsError> {
                self.0.lock().unwrap().push((arn.to_string(), d));
                Ok(crate::Delivered::default())
            }
        }
        let targets = Targets::new();
        let sink = Arc::new(Sink(Mutex::default()));
        targets.register_target("cloudwatch", sink.clone());
        let b = MetricBatcher::new(targets);
        let dims: Dimensions = Arc::new([]);
        for _ in 0..3 {
            b.record(
                &"1".into(),
                &"r".into(),
                "N",
                5,
                &[&dims],
                &[("Count", "Count", 1.0)],
            );
        }
        b.flush().await;
        let got = sink.0.lock().unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].1.account, "1");
        let p: Value = serde_json::from_slice(&got[0].1.payload).unwrap();
        assert_eq!(p["MetricData"][0]["Counts"], json!([3.0]));
    }
}
