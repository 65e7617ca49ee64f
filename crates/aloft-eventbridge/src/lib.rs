//! Amazon EventBridge over json 1.1 (`AWSEvents`): event buses, PutEvents, rules with the
//! event-pattern language (`aloft-eventpattern`) or schedules fired by the one clock,
//! targets reached through `ctx.targets` with Input/InputPath/InputTransformer, and a
//! `Target` for `events` ARNs so other services (and rules) can put events on a bus.

pub mod archives;
pub mod delivery;
pub mod error;
pub mod replays;
pub mod rules;
pub mod schedule;
pub mod state;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use aloft_core::{
    AwsError, AwsRequest, RequestContext, Response, Service, ServiceContext, ServiceSpec,
};
use aloft_events::{Delivered, Delivery, Target, Targets};
use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio::sync::Notify;

use crate::error::{Code, EbError, Result};
use crate::state::State;

pub static SPEC: ServiceSpec = ServiceSpec {
    name: "events",
    signing_names: &["events"],
    target_prefixes: &["AWSEvents"],
    host_labels: &[],
    path_prefixes: &[],
    unsigned_actions: &[],
};

pub type Out = Result<Value>;

pub struct EventBridge {
    pub(crate) state: State,
    pub(crate) targets: Arc<Targets>,
    /// Wakes the schedule worker when rules change.
    pub(crate) wake: Notify,
    pub(crate) stopped: AtomicBool,
}

pub struct EventBridgeService(pub Arc<EventBridge>);

pub async fn start(ctx: &ServiceContext) -> Arc<dyn Service> {
    let eb = Arc::new(EventBridge {
        state: State::new(ctx.store.clone()),
        targets: ctx.targets.clone(),
        wake: Notify::new(),
        stopped: AtomicBool::new(false),
    });
    eb.state.load();
    ctx.targets
        .register_target("events", Arc::new(BusTarget(eb.clone())));
    tokio::spawn(eb.clone().run_schedules());
    Arc::new(EventBridgeService(eb))
}

pub(crate) fn parse<T: DeserializeOwned>(input: Value) -> Result<T> {
    serde_json::from_value(input).map_err(|e| EbError::validation(e.to_string()))
}

pub(crate) async fn commit(c: aloft_store::Commit) -> Result<()> {
    c.await
        .map_err(|e| EbError::validation(format!("Storage failure: {e}")))
}

impl EventBridge {
    async fn call(self: &Arc<Self>, ctx: &RequestContext, op: &str, input: Value) -> Out {
        match op {
            "CreateEventBus" => self.create_event_bus(ctx, input).await,
            "DeleteEventBus" => self.delete_event_bus(ctx, input).await,
            "DescribeEventBus" => self.describe_event_bus(ctx, input).await,
            "ListEventBuses" => self.list_event_buses(ctx, input).await,
            "PutRule" => self.put_rule(ctx, input).await,
            "DescribeRule" => self.describe_rule(ctx, input).await,
            "ListRules" => self.list_rules(ctx, input).await,
            "DeleteRule" => self.delete_rule(ctx, input).await,
            "EnableRule" => self.set_rule_state(ctx, input, true).await,
            "DisableRule" => self.set_rule_state(ctx, input, false).await,
            "PutTargets" => self.put_targets(ctx, input).await,
            "RemoveTargets" => self.remove_targets(ctx, input).await,
            "ListTargetsByRule" => self.list_targets_by_rule(ctx, input).await,
            "PutEvents" => self.put_events(ctx, input).await,
            "TestEventPattern" => self.test_event_pattern(ctx, input).await,
            "CreateArchive" => self.create_archive(ctx, input).await,
            "DescribeArchive" => self.describe_archive(ctx, input).await,
            "ListArchives" => self.list_archives(ctx, input).await,
            "UpdateArchive" => self.update_archive(ctx, input).await,
            "DeleteArchive" => self.delete_archive(ctx, input).await,
            "StartReplay" => self.start_replay(ctx, input).await,
            "DescribeReplay" => self.describe_replay(ctx, input).await,
            "ListReplays" => self.list_replays(ctx, input).await,
            "CancelReplay" => self.cancel_replay(ctx, input).await,
            "TagResource" => self.tag_resource(input, false).await,
            "UntagResource" => self.tag_resource(input, true).await,
            "ListTagsForResource" => self.list_tags_for_resource(input).await,
            other => Err(EbError::new(
                Code::UnknownOperationException,
                format!("Operation {other} is not supported by Aloft yet."),
            )),
        }
    }
}

#[async_trait]
impl Service for EventBridgeService {
    fn spec(&self) -> &'static ServiceSpec {
        &SPEC
    }

    async fn handle(&self, req: AwsRequest) -> Response {
        aloft_core::wire::serve(
            "events",
            "ValidationException",
            req,
            |ctx, op, input| async move { self.0.call(&ctx, op, input).await },
        )
        .await
    }

    async fn reset(&self) {
        self.0.state.clear().await;
        self.0.wake.notify_one();
    }

    async fn shutdown(&self) {
        self.0
            .stopped
            .store(true, std::sync::atomic::Ordering::SeqCst);
        self.0.wake.notify_one();
    }
}

/// Puts events on a bus for other services and bus-to-bus targets. The payload is an event
/// (as a rule target receives it) or a PutEvents entry (`Source`, `DetailType`, `Detail`).
pub struct BusTarget(pub Arc<EventBridge>);

#[async_trait]
impl Target for BusTarget {
    async fn deliver(&self, arn: &str, d: Delivery) -> std::result::Result<Delivered, AwsError> {
        let a = aloft_core::arn::parse(arn)
            .ok_or_else(|| AwsError::validation(format!("Invalid ARN: {arn}")))?;
        let bus = rules::bus_name(Some(a.resource));
        self.0
            .bus(a.account, a.region, &bus)
            .map_err(AwsError::from)?;
        let v: Value = serde_json::from_slice(&d.payload)
            .map_err(|_| AwsError::validation("Event is not JSON"))?;
        let event = if v.get("detail-type").is_some() {
            let mut e = v;
            e["id"] = json!(aloft_core::ids::uuid());
            e
        } else {
            let detail: Value = match v.get("Detail") {
                Some(Value::String(s)) => serde_json::from_str(s).unwrap_or_else(|_| json!({})),
                Some(o @ Value::Object(_)) => o.clone(),
                _ => json!({}),
            };
            json!({
                "version": "0", "id": aloft_core::ids::uuid(),
                "detail-type": v.get("DetailType").cloned().unwrap_or(json!("")),
                "source": v.get("Source").cloned().unwrap_or(json!("")),
                "account": a.account, "time": aloft_core::clock::iso8601_millis(aloft_core::clock::now_millis())[..19].to_string() + "Z",
                "region": a.region, "resources": v.get("Resources").cloned().unwrap_or(json!([])),
                "detail": detail,
            })
        };
        let id = event["id"].clone();
        if let Some(c) = self.0.route(a.account, a.region, &bus, event) {
            c.await
                .map_err(|e| AwsError::internal(format!("Storage failure: {e}")))?;
        }
        let mut info = serde_json::Map::new();
        info.insert("EventId".into(), id);
        Ok(Delivered {
            payload: None,
            info,
        })
    }
}
