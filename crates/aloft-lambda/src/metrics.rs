//! Lambda's standard metrics (namespace `AWS/Lambda`): Invocations, Errors, Duration, Throttles
//! and ConcurrentExecutions, tallied after each invocation by the shared [`MetricBatcher`],
//! which publishes them to CloudWatch in batches: the invoke path never waits for CloudWatch.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aloft_events::{Dimensions, MetricBatcher, Sample, Targets};

use crate::runtime::{EnvSpec, Invocation, RunError, RunResult};

const NAMESPACE: &str = "AWS/Lambda";

/// Invocations in flight per function (for `ConcurrentExecutions`), and the metrics batch.
pub struct Meter {
    inflight: Mutex<HashMap<String, u64>>,
    batch: Arc<MetricBatcher>,
}

/// What one invocation came to, for its metrics.
pub enum Outcome {
    Ran { error: bool, duration_ms: f64 },
    Throttled,
}

impl Meter {
    pub fn new(targets: Arc<Targets>) -> Self {
        Self {
            inflight: Mutex::default(),
            batch: MetricBatcher::new(targets),
        }
    }

    fn enter(&self, key: &str) -> u64 {
        let mut m = self.inflight.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = m.get_mut(key) {
            *n += 1;
            return *n;
        }
        m.insert(key.to_string(), 1);
        1
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

    /// Publishes what is tallied (at shutdown).
    pub async fn flush(&self) {
        self.batch.flush().await;
    }

    pub fn reset(&self) {
        self.batch.reset();
    }

    /// Tallies one invocation.
    ///
    /// AWS publishes each metric under `FunctionName`, and for an invocation through an alias
    /// or version also under `FunctionName` + `Resource` (`name:qualifier`);
    /// ConcurrentExecutions is also published account-wide (no dimension).
    fn record(&self, spec: &EnvSpec, qualifier: Option<&str>, outcome: &Outcome, concurrent: u64) {
        let name: Arc<str> = spec.function_name.as_str().into();
        let by_name: Dimensions = Arc::new([("FunctionName", name.clone())]);
        let by_resource: Option<Dimensions> = qualifier.filter(|q| *q != "$LATEST").map(|q| {
            let resource: Arc<str> = format!("{name}:{q}").into();
            Arc::new([("FunctionName", name.clone()), ("Resource", resource)]) as Dimensions
        });
        let mut dims = vec![&by_name];
        dims.extend(by_resource.as_ref());
        let (account, region): (Arc<str>, Arc<str>) =
            (spec.account.as_str().into(), spec.region.as_str().into());
        let second = aloft_core::clock::now_millis().div_euclid(1000);
        let samples = samples(outcome, concurrent);
        self.batch
            .record(&account, &region, NAMESPACE, second, &dims, &samples);
        if matches!(outcome, Outcome::Ran { .. }) {
            let account_wide: Dimensions = Arc::new([]);
            #[allow(clippy::cast_precision_loss)]
            let c = [("ConcurrentExecutions", "Count", concurrent as f64)];
            self.batch
                .record(&account, &region, NAMESPACE, second, &[&account_wide], &c);
        }
    }
}

/// The values one invocation adds under each of its dimension sets.
fn samples(outcome: &Outcome, concurrent: u64) -> Vec<Sample> {
    match outcome {
        Outcome::Ran { error, duration_ms } => {
            #[allow(clippy::cast_precision_loss)]
            let concurrent = concurrent as f64;
            vec![
                ("Invocations", "Count", 1.0),
                ("Errors", "Count", if *error { 1.0 } else { 0.0 }),
                ("Duration", "Milliseconds", *duration_ms),
                ("Throttles", "Count", 0.0),
                ("ConcurrentExecutions", "Count", concurrent),
            ]
        }
        Outcome::Throttled => vec![("Throttles", "Count", 1.0)],
    }
}

impl crate::Lambda {
    /// Runs an invocation and tallies its metrics afterwards.
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
        self.meter.record(spec, qualifier, &outcome, concurrent);
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invocation_adds_five_metrics_and_a_throttle_one() {
        let ok = Outcome::Ran {
            error: true,
            duration_ms: 12.5,
        };
        let s = samples(&ok, 2);
        assert_eq!(s.len(), 5);
        assert!(s.contains(&("Errors", "Count", 1.0)));
        assert!(s.contains(&("Duration", "Milliseconds", 12.5)));
        assert!(s.contains(&("ConcurrentExecutions", "Count", 2.0)));
        assert_eq!(
            samples(&Outcome::Throttled, 0),
            vec![("Throttles", "Count", 1.0)]
        );
    }

    #[test]
    fn concurrency_counts_overlapping_invocations() {
        let m = Meter::new(Targets::new());
        assert_eq!(m.enter("a"), 1);
        assert_eq!(m.enter("a"), 2);
        m.leave("a");
        assert_eq!(m.enter("a"), 2);
        m.leave("a");
        m.leave("a");
        assert!(m.inflight.lock().unwrap().is_empty());
    }
}
