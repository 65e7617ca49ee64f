//! Amazon EventBridge Scheduler (rest-json 2021-06-30): schedule groups, and schedules with
//! `at()`, `rate()` and `cron()` expressions in any IANA time zone, start and end dates,
//! flexible time windows and ActionAfterCompletion, fired on the one clock into Lambda, SQS,
//! SNS and EventBridge targets (templated, or universal `aws-sdk` ARNs) through `ctx.targets`,
//! with retries and a dead-letter queue.
//!
//! - [`groups`], [`schedules`]: the API; [`expression`]: parsing and next occurrences;
//! - [`worker`]: the firing loop and delivery; [`state`]: maps and journal.
//! - `GET /_aloft/scheduler/invocations`: the recent invocations, for tests.

pub mod error;
pub mod expression;
pub mod groups;
pub mod schedules;
pub mod state;
pub mod worker;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use aloft_core::{AwsRequest, RequestContext, Response, Service, ServiceContext, ServiceSpec};
use aloft_events::Targets;
use async_trait::async_trait;
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::Notify;

use crate::error::{Result, SchedError};
use crate::state::State;

pub static SPEC: ServiceSpec = ServiceSpec {
    name: "scheduler",
    signing_names: &["scheduler"],
    target_prefixes: &[],
    host_labels: &[],
    path_prefixes: &[],
    unsigned_actions: &[],
};

pub type Out = Result<Value>;

pub struct Scheduler {
    pub(crate) state: State,
    pub(crate) targets: Arc<Targets>,
    /// Wakes the worker when schedules change.
    pub(crate) wake: Notify,
    pub(crate) stopped: AtomicBool,
    /// The last invocations (newest last), for `/_aloft/scheduler/invocations`.
    pub(crate) log: Mutex<VecDeque<Value>>,
}

pub struct SchedulerService(pub Arc<Scheduler>);

pub async fn start(ctx: &ServiceContext) -> Arc<dyn Service> {
    let s = Arc::new(Scheduler {
        state: State::new(ctx.store.clone()),
        targets: ctx.targets.clone(),
        wake: Notify::new(),
        stopped: AtomicBool::new(false),
        log: Mutex::new(VecDeque::new()),
    });
    s.state.load();
    tokio::spawn(s.clone().run());
    Arc::new(SchedulerService(s))
}

pub(crate) fn parse<T: DeserializeOwned>(input: Value) -> Result<T> {
    serde_json::from_value(input).map_err(|e| SchedError::validation(e.to_string()))
}

pub(crate) async fn commit(c: aloft_store::Commit) -> Result<()> {
    c.await.map_err(|e| {
        SchedError::new(
            error::Code::InternalServerException,
            format!("Storage failure: {e}"),
        )
    })
}

impl Scheduler {
    async fn call(self: &Arc<Self>, ctx: &RequestContext, op: &str, input: Value) -> Out {
        match op {
            "CreateScheduleGroup" => self.create_schedule_group(ctx, input).await,
            "GetScheduleGroup" => self.get_schedule_group(ctx, input),
            "DeleteScheduleGroup" => self.delete_schedule_group(ctx, input).await,
            "ListScheduleGroups" => self.list_schedule_groups(ctx, input),
            "TagResource" => self.tag_resource(ctx, input, false).await,
            "UntagResource" => self.tag_resource(ctx, input, true).await,
            "ListTagsForResource" => self.list_tags_for_resource(ctx, input),
            "CreateSchedule" => self.create_schedule(ctx, input).await,
            "UpdateSchedule" => self.update_schedule(ctx, input).await,
            "GetSchedule" => self.get_schedule(ctx, input),
            "DeleteSchedule" => self.delete_schedule(ctx, input).await,
            "ListSchedules" => self.list_schedules(ctx, input),
            other => Err(SchedError::validation(format!(
                "Operation {other} is not supported by Aloft yet."
            ))),
        }
    }
}

#[async_trait]
impl Service for SchedulerService {
    fn spec(&self) -> &'static ServiceSpec {
        &SPEC
    }

    async fn handle(&self, req: AwsRequest) -> Response {
        aloft_core::wire::serve(
            "scheduler",
            "ValidationException",
            req,
            |ctx, op, input| async move { self.0.call(&ctx, op, input).await },
        )
        .await
    }

    async fn internal(&self, _req: AwsRequest, path: &str) -> Option<Response> {
        if path.trim_matches('/') != "invocations" {
            return None;
        }
        let log: Vec<Value> = self
            .0
            .log
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .cloned()
            .collect();
        let body = serde_json::json!({ "invocations": log }).to_string();
        let resp = http::Response::builder()
            .header("content-type", "application/json")
            .body(Bytes::from(body))
            .expect("static response parts");
        Some(aloft_core::body::from_bytes(resp))
    }

    async fn reset(&self) {
        self.0.state.clear().await;
        self.0
            .log
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
        self.0.wake.notify_one();
    }

    async fn shutdown(&self) {
        self.0.stopped.store(true, Ordering::SeqCst);
        self.0.wake.notify_one();
    }
}
