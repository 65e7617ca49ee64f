//! Amazon CloudWatch metrics and alarms over rpcv2-cbor (current SDKs), json 1.0 and query:
//! PutMetricData, GetMetricStatistics, GetMetricData with metric math basics, ListMetrics,
//! and metric alarms evaluated on the one clock with SNS/Lambda actions through
//! `ctx.targets` and "CloudWatch Alarm State Change" events on the default bus.
//!
//! # Publishing metrics from another service
//!
//! CloudWatch registers a [`Target`] for `cloudwatch` ARNs. Lambda, API Gateway and others
//! publish their standard metrics (namespaces `AWS/...`, which the API refuses) with
//! `ctx.targets.deliver("arn:aws:cloudwatch:{region}:{account}:metric-data", Delivery {
//! payload: <PutMetricData input as JSON: {"Namespace", "MetricData": [...]}, timestamps in
//! epoch seconds>, .. })`.

pub mod alarms;
pub mod data;
pub mod error;
pub mod evaluate;
pub mod math;
pub mod metrics;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use aloft_core::{AwsError, AwsRequest, Response, Service, ServiceContext, ServiceSpec, clock};
use aloft_events::{Delivered, Delivery, Target, Targets};
use aloft_store::Store;
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::Notify;

use crate::error::{Code, CwError, Result};

pub static SPEC: ServiceSpec = ServiceSpec {
    name: "cloudwatch",
    signing_names: &["monitoring"],
    target_prefixes: &["GraniteServiceVersion20100801"],
    host_labels: &[],
    path_prefixes: &[],
    unsigned_actions: &[],
};

pub type Out = Result<Value>;

pub struct CloudWatch {
    pub(crate) metrics: metrics::Store,
    pub(crate) alarms: Mutex<BTreeMap<String, alarms::Alarm>>,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) targets: Arc<Targets>,
    pub(crate) wake: Notify,
    pub(crate) seq: std::sync::atomic::AtomicU64,
    stopped: AtomicBool,
}

pub struct CloudWatchService(pub Arc<CloudWatch>);

pub async fn start(ctx: &ServiceContext) -> Arc<dyn Service> {
    let cw = Arc::new(CloudWatch {
        metrics: metrics::Store::default(),
        alarms: Mutex::new(BTreeMap::new()),
        store: ctx.store.clone(),
        targets: ctx.targets.clone(),
        wake: Notify::new(),
        seq: std::sync::atomic::AtomicU64::new(0),
        stopped: AtomicBool::new(false),
    });
    cw.load_alarms();
    cw.load_metrics();
    ctx.targets
        .register_target("cloudwatch", Arc::new(MetricsTarget(cw.clone())));
    tokio::spawn(cw.clone().run_alarms());
    Arc::new(CloudWatchService(cw))
}

pub(crate) fn parse<T: DeserializeOwned>(input: Value) -> Result<T> {
    serde_json::from_value(input).map_err(|e| CwError::invalid(e.to_string()))
}

pub(crate) async fn commit(c: aloft_store::Commit) -> Result<()> {
    c.await
        .map_err(|e| CwError::new(Code::InternalServiceFault, format!("Storage failure: {e}")))
}

async fn read_body(mut body: aloft_core::Body, limit: usize) -> Option<Bytes> {
    use http_body_util::BodyExt;
    let mut out = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.ok()?;
        if let Ok(data) = frame.into_data() {
            if out.len() + data.len() > limit {
                return None;
            }
            out.extend_from_slice(&data);
        }
    }
    Some(out.into())
}

impl CloudWatch {
    async fn call(&self, a: &str, r: &str, op: &str, input: Value) -> Out {
        match op {
            "PutMetricData" => {
                if let Some(c) = self.put_metric_data(a, r, input, false)? {
                    commit(c).await?;
                }
                Ok(serde_json::json!({}))
            }
            "GetMetricStatistics" => self.get_metric_statistics(a, r, input),
            "GetMetricData" => self.get_metric_data(a, r, input),
            "ListMetrics" => self.list_metrics(a, r, input),
            "PutMetricAlarm" => self.put_metric_alarm(a, r, input).await,
            "DescribeAlarms" => self.describe_alarms(a, r, input).await,
            "DescribeAlarmsForMetric" => self.describe_alarms_for_metric(a, r, input),
            "DeleteAlarms" => self.delete_alarms(a, r, input).await,
            "SetAlarmState" => self.set_alarm_state(a, r, input).await,
            "EnableAlarmActions" => self.set_actions(a, r, input, true).await,
            "DisableAlarmActions" => self.set_actions(a, r, input, false).await,
            "DescribeAlarmHistory" => self.describe_alarm_history(a, r, input),
            "TagResource" => self.tags(input, "tag").await,
            "UntagResource" => self.tags(input, "untag").await,
            "ListTagsForResource" => self.tags(input, "list").await,
            other => Err(CwError::invalid(format!(
                "Operation {other} is not supported by Aloft yet."
            ))),
        }
    }

    /// Evaluates alarms every 10 seconds of the one clock (and when woken).
    async fn run_alarms(self: Arc<Self>) {
        loop {
            let next = clock::now_millis() + 10_000;
            tokio::select! {
                () = clock::sleep_until_millis(next) => {}
                () = self.wake.notified() => {}
            }
            if self.stopped.load(Ordering::SeqCst) {
                return;
            }
            self.evaluate_all().await;
        }
    }
}

#[async_trait::async_trait]
impl Service for CloudWatchService {
    fn spec(&self) -> &'static ServiceSpec {
        &SPEC
    }

    async fn handle(&self, req: AwsRequest) -> Response {
        let model = aloft_model::get("monitoring").expect("the monitoring model is built in");
        let AwsRequest { ctx, parts, body } = req;
        let rid = ctx.request_id.clone();
        let protocol = aloft_protocol::detect(model, &parts);
        let Some(body) = read_body(body, 1024 * 1024).await else {
            let err = AwsError::new(
                "InvalidParameterValueException",
                413,
                "Request body too large",
            );
            return aloft_core::body::from_bytes(aloft_protocol::encode_error(
                model, protocol, &err, &rid,
            ));
        };
        let call = match aloft_protocol::decode(model, &parts, &body) {
            Ok(c) => c,
            Err(rej) => return aloft_core::body::from_bytes(rej.response(model, &rid)),
        };
        let resp = match self
            .0
            .call(&ctx.account_id, &ctx.region, call.operation, call.input)
            .await
        {
            Ok(out) => {
                aloft_protocol::encode_output(model, call.operation, call.protocol, &out, &rid)
            }
            Err(e) => aloft_protocol::encode_error(model, call.protocol, &e.into(), &rid),
        };
        aloft_core::body::from_bytes(resp)
    }

    async fn reset(&self) {
        self.0.metrics.lock().clear();
        self.0
            .alarms
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
        let metrics = self.0.store.clear(metrics::NS, b"");
        if self.0.store.clear(alarms::NS, b"").await.is_err() || metrics.await.is_err() {
            tracing::warn!("cloudwatch: reset could not clear the journal");
        }
    }

    async fn shutdown(&self) {
        self.0.stopped.store(true, Ordering::SeqCst);
        self.0.wake.notify_one();
    }
}

/// PutMetricData for other services (see the crate docs).
pub struct MetricsTarget(pub Arc<CloudWatch>);

#[async_trait::async_trait]
impl Target for MetricsTarget {
    async fn deliver(&self, arn: &str, d: Delivery) -> std::result::Result<Delivered, AwsError> {
        let a = aloft_core::arn::parse(arn)
            .ok_or_else(|| AwsError::validation(format!("Invalid ARN: {arn}")))?;
        let input: Value = serde_json::from_slice(&d.payload)
            .map_err(|_| AwsError::validation("Metric data is not JSON"))?;
        if let Some(c) = self
            .0
            .put_metric_data(a.account, a.region, input, true)
            .map_err(AwsError::from)?
        {
            commit(c).await.map_err(AwsError::from)?;
        }
        Ok(Delivered::default())
    }
}
