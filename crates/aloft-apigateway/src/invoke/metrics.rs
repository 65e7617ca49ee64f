//! API Gateway's standard REST metrics (namespace `AWS/ApiGateway`): Count, 4XXError,
//! 5XXError, Latency and IntegrationLatency, per API and per API and stage.
//!
//! Requests are tallied by the shared [`MetricBatcher`] and published in batches (see
//! `aloft_events::metrics`). Latencies are kept to the microsecond, rounded up, so a request
//! never measures 0. Data points carry their request's second (AWS's own resolution for these
//! metrics is a minute).

use std::sync::Arc;

use aloft_events::{Dimensions, MetricBatcher};

const NAMESPACE: &str = "AWS/ApiGateway";

/// Who a request's metrics belong to, resolved with its API.
#[derive(Clone)]
pub struct Stamp {
    pub account: Arc<str>,
    pub region: Arc<str>,
    pub api_name: Arc<str>,
    pub stage: Arc<str>,
}

/// Tallies one request under `ApiName` and `ApiName` + `Stage`.
pub fn record(
    batcher: &Arc<MetricBatcher>,
    api: &Stamp,
    status: u16,
    latency_ms: f64,
    integration_ms: f64,
) {
    let by_api: Dimensions = Arc::new([("ApiName", api.api_name.clone())]);
    let by_stage: Dimensions = Arc::new([
        ("ApiName", api.api_name.clone()),
        ("Stage", api.stage.clone()),
    ]);
    let second = aloft_core::clock::now_millis().div_euclid(1000);
    batcher.record(
        &api.account,
        &api.region,
        NAMESPACE,
        second,
        &[&by_api, &by_stage],
        &samples(status, latency_ms, integration_ms),
    );
}

fn samples(status: u16, latency_ms: f64, integration_ms: f64) -> [aloft_events::Sample; 5] {
    let flag = |b: bool| if b { 1.0 } else { 0.0 };
    [
        ("Count", "Count", 1.0),
        ("4XXError", "Count", flag((400..500).contains(&status))),
        ("5XXError", "Count", flag(status >= 500)),
        ("Latency", "Milliseconds", to_micros(latency_ms)),
        (
            "IntegrationLatency",
            "Milliseconds",
            to_micros(integration_ms),
        ),
    ]
}

/// Milliseconds rounded up to whole microseconds, at least one.
fn to_micros(ms: f64) -> f64 {
    (ms * 1000.0).ceil().max(1.0) / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latencies_round_up_to_the_microsecond() {
        assert_eq!(
            (to_micros(0.0), to_micros(0.0004), to_micros(1.2341)),
            (0.001, 0.001, 1.235)
        );
        let s = samples(404, 2.0, 0.5);
        assert_eq!(s[1], ("4XXError", "Count", 1.0));
        assert_eq!(s[2], ("5XXError", "Count", 0.0));
        assert_eq!(samples(502, 1.0, 1.0)[2].2, 1.0);
    }
}
