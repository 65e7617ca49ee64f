//! Lambda's standard metrics (namespace `AWS/Lambda`): Invocations, Errors, Duration, Throttles
//! and ConcurrentExecutions, published to CloudWatch through the `cloudwatch` target after each
//! invocation, on a spawned task so that the invoke path never waits for CloudWatch.

use std::collections::HashMap;
use std::sync::Mutex;

use aloft_events::Targets;
use serde_json::{Value, json};
use std::sync::Arc;

use crate::runtime::{EnvSpec, Invocation, RunError, RunResult};

/// Invocations in flight per function, for `ConcurrentExecutions`.
#[derive(Default)]
pub struct Meter {
    inflight: Mutex<HashMap<String, u64>>,
}

/// What one invocation came to, for its metrics.
pub enum Outcome {
    Ran { error: bool, duration_ms: f64 },
    Throttled,
}

impl Meter {
    fn enter(&self, key: &str) -> u64 {
        let mut m = self.inflight.lock().unwrap_or_else(|e| e.into_inner());
        let n = m.entry(key.to_string()).or_default();
        *n += 1;
        *n
    }

    fn leave(&self, key: &str) {
        let mut m = self.inflight.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = m.get_mut(key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                m.remove(key);
            }
        }
    }
}

/// The metric data of one invocation, as `PutMetricData` takes it.
///
/// AWS publishes each metric under `FunctionName`, and for an invocation through an alias or
/// version also under `FunctionName` + `Resource` (`name:qualifier`); ConcurrentExecutions is
/// also published account-wide (no dimension).
pub fn metric_data(
    name: &str,
    qualifier: Option<&str>,
    outcome: &Outcome,
    concurrent: u64,
    at_secs: f64,
) -> Vec<Value> {
    let mut dims = vec![json!([{"Name": "FunctionName", "Value": name}])];
    if let Some(q) = qualifier.filter(|q| *q != "$LATEST") {
        dims.push(json!([
            {"Name": "FunctionName", "Value": name},
            {"Name": "Resource", "Value": format!("{name}:{q}")}
        ]));
    }
    let mut values: Vec<(&str, f64, &str)> = Vec::new();
    match outcome {
        Outcome::Ran { error, duration_ms } => {
            values.push(("Invocations", 1.0, "Count"));
            values.push(("Errors", if *error { 1.0 } else { 0.0 }, "Count"));
            values.push(("Duration", *duration_ms, "Milliseconds"));
            values.push(("Throttles", 0.0, "Count"));
            values.push(("ConcurrentExecutions", concurrent as f64, "Count"));
        }
        Outcome::Throttled => values.push(("Throttles", 1.0, "Count")),
    }
    let mut out = Vec::new();
    for d in &dims {
        for (metric, value, unit) in &values {
            out.push(json!({
                "MetricName": metric, "Dimensions": d, "Value": value, "Unit": unit,
                "Timestamp": at_secs,
            }));
        }
    }
    if matches!(outcome, Outcome::Ran { .. }) {
        out.push(json!({
            "MetricName": "ConcurrentExecutions", "Dimensions": [], "Value": concurrent as f64,
            "Unit": "Count", "Timestamp": at_secs,
        }));
    }
    out
}

/// Hands the metrics to CloudWatch on a spawned task (a missing CloudWatch is no error).
pub fn publish(targets: &Arc<Targets>, account: &str, region: &str, data: Vec<Value>) {
    aloft_events::publish_metrics(targets, account, region, "AWS/Lambda", data);
}

impl crate::Lambda {
    /// Runs an invocation and publishes its metrics afterwards.
    pub(crate) async fn run_metered(
        &self,
        spec: &EnvSpec,
        qualifier: Option<&str>,
        inv: Invocation,
    ) -> Result<RunResult, RunError> {
        let key = format!("{}/{}/{}", spec.account, spec.region, spec.function_name);
        let concurrent = self.meter.enter(&key);
        let started = std::time::Instant::now();
        let result = self.engine.run(spec, inv).await;
        self.meter.leave(&key);
        let outcome = match &result {
            Ok(r) => Outcome::Ran {
                error: r.function_error.is_some(),
                duration_ms: r.duration_ms,
            },
            Err(RunError::Throttled { .. }) => Outcome::Throttled,
            Err(_) => Outcome::Ran {
                error: true,
                duration_ms: started.elapsed().as_secs_f64() * 1000.0,
            },
        };
        let at = aloft_core::clock::now_millis() as f64 / 1000.0;
        let data = metric_data(&spec.function_name, qualifier, &outcome, concurrent, at);
        publish(&self.ctx.targets, &spec.account, &spec.region, data);
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qualified_invocations_also_carry_the_resource_dimension() {
        let ok = Outcome::Ran {
            error: false,
            duration_ms: 12.5,
        };
        let plain = metric_data("f", None, &ok, 1, 100.0);
        assert_eq!(plain.len(), 6);
        assert!(plain.iter().all(|m| m["Timestamp"] == 100.0));
        let aliased = metric_data("f", Some("live"), &ok, 2, 100.0);
        assert_eq!(aliased.len(), 11);
        assert!(
            aliased
                .iter()
                .any(|m| m["Dimensions"][1]["Value"] == "f:live")
        );
        assert_eq!(metric_data("f", Some("$LATEST"), &ok, 1, 1.0).len(), 6);
        let throttled = metric_data("f", None, &Outcome::Throttled, 0, 1.0);
        assert_eq!(throttled.len(), 1);
        assert_eq!(throttled[0]["MetricName"], "Throttles");
    }

    #[test]
    fn concurrency_counts_overlapping_invocations() {
        let m = Meter::default();
        assert_eq!(m.enter("a"), 1);
        assert_eq!(m.enter("a"), 2);
        m.leave("a");
        assert_eq!(m.enter("a"), 2);
        m.leave("a");
        m.leave("a");
        assert!(m.inflight.lock().unwrap().is_empty());
    }
}
