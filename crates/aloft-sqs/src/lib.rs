//! Amazon SQS: standard and FIFO queues, over json 1.0 (current SDKs) and query (older ones).
//!
//! - [`wire`]: the two wire forms → `(operation, Value)` and back.
//! - [`handlers`]: typed operations; [`domain`]: queue behaviour without HTTP.
//! - [`registry`]: every queue by account/region/name, URLs, ARNs, the journal.
//! - [`target`]: delivery into queues for other services; the Lambda pull source.

pub mod domain;
pub mod error;
pub mod handlers;
pub mod moves;
pub mod registry;
pub mod target;
pub mod wire;

use std::sync::Arc;

use aloft_core::{AwsRequest, Response, Service, ServiceContext, ServiceSpec};
use async_trait::async_trait;
use serde_json::Value;

use crate::error::{Code, SqsError};
use crate::registry::Registry;
use crate::wire::Protocol;

pub static SPEC: ServiceSpec = ServiceSpec {
    name: "sqs",
    signing_names: &["sqs"],
    target_prefixes: &["AmazonSQS"],
    host_labels: &["sqs"],
    path_prefixes: &[],
    unsigned_actions: &[],
};

/// Requests are bounded: 1 MiB of messages per call, plus JSON escaping and attributes.
const MAX_REQUEST: usize = 8 * 1024 * 1024;

pub struct Sqs {
    pub(crate) reg: Registry,
}

/// Builds the service, loads its queues and registers it as the `sqs` target and source.
pub async fn start(ctx: &ServiceContext) -> Arc<dyn Service> {
    let sqs = Arc::new(Sqs::new(ctx.store.clone()));
    sqs.reg.load();
    let t = Arc::new(target::SqsTarget(sqs.clone()));
    ctx.targets.register_target("sqs", t.clone());
    ctx.targets.register_source("sqs", t);
    sqs
}

impl Sqs {
    pub fn new(store: Arc<dyn aloft_store::Store>) -> Self {
        Self {
            reg: Registry::new(store),
        }
    }

    /// Runs one operation on a decoded input.
    pub async fn call(
        &self,
        ctx: &aloft_core::RequestContext,
        op: &str,
        input: Value,
    ) -> Result<Value, SqsError> {
        match op {
            "CreateQueue" => self.create_queue(ctx, input).await,
            "GetQueueUrl" => self.get_queue_url(ctx, input).await,
            "ListQueues" => self.list_queues(ctx, input).await,
            "DeleteQueue" => self.delete_queue(ctx, input).await,
            "PurgeQueue" => self.purge_queue(ctx, input).await,
            "GetQueueAttributes" => self.get_queue_attributes(ctx, input).await,
            "SetQueueAttributes" => self.set_queue_attributes(ctx, input).await,
            "TagQueue" => self.tag_queue(ctx, input).await,
            "UntagQueue" => self.untag_queue(ctx, input).await,
            "ListQueueTags" => self.list_queue_tags(ctx, input).await,
            "ListDeadLetterSourceQueues" => self.list_dead_letter_source_queues(ctx, input).await,
            "AddPermission" => self.add_permission(ctx, input).await,
            "RemovePermission" => self.remove_permission(ctx, input).await,
            "SendMessage" => self.send_message(ctx, input).await,
            "SendMessageBatch" => self.send_message_batch(ctx, input).await,
            "ReceiveMessage" => self.receive_message(ctx, input).await,
            "DeleteMessage" => self.delete_message(ctx, input).await,
            "DeleteMessageBatch" => self.delete_message_batch(ctx, input).await,
            "ChangeMessageVisibility" => self.change_message_visibility(ctx, input).await,
            "ChangeMessageVisibilityBatch" => {
                self.change_message_visibility_batch(ctx, input).await
            }
            "StartMessageMoveTask" => self.start_message_move_task(ctx, input).await,
            "ListMessageMoveTasks" => self.list_message_move_tasks(ctx, input).await,
            "CancelMessageMoveTask" => self.cancel_message_move_task(ctx, input).await,
            other => Err(SqsError::new(
                Code::InvalidAction,
                format!("The action {other} is not valid for this endpoint."),
            )),
        }
    }
}

#[async_trait]
impl Service for Sqs {
    fn spec(&self) -> &'static ServiceSpec {
        &SPEC
    }

    async fn handle(&self, req: AwsRequest) -> Response {
        let rid = req.ctx.request_id.clone();
        let target = req.header("x-amz-target").map(str::to_string);
        let protocol = if target.is_some() {
            Protocol::Json
        } else {
            Protocol::Query
        };
        let fail = |e: SqsError| match protocol {
            Protocol::Json => wire::encode_error(protocol, &e.to_json_error(), &rid),
            Protocol::Query => wire::encode_error(protocol, &e.to_query_error(), &rid),
        };
        let AwsRequest { ctx, parts, body } = req;
        let Some(body) = wire::read_body(body, MAX_REQUEST).await else {
            return fail(SqsError::invalid(format!(
                "The request body is larger than {MAX_REQUEST} bytes or could not be read."
            )));
        };
        let path = parts.uri.path();
        let decoded = match &target {
            Some(t) => wire::decode_json(t, &body),
            None => wire::decode_query(&body, parts.uri.query().unwrap_or("")),
        };
        let (op, mut input) = match decoded {
            Ok(d) => d,
            Err(e) => return wire::encode_error(protocol, &e, &rid),
        };
        // Query clients post to the queue URL itself and leave QueueUrl out.
        if protocol == Protocol::Query
            && input.get("QueueUrl").is_none()
            && let Value::Object(m) = &mut input
        {
            let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
            if segs.len() >= 2 {
                m.insert(
                    "QueueUrl".into(),
                    Value::String(format!("{}{path}", ctx.base_url)),
                );
            }
        }
        match self.call(&ctx, &op, input).await {
            Ok(out) => wire::encode(protocol, &op, &out, &rid),
            Err(e) => fail(e),
        }
    }

    async fn internal(&self, _req: AwsRequest, path: &str) -> Option<Response> {
        // `/_aloft/sqs/queues`: every queue with its message counts, for tests and debugging.
        if path.trim_matches('/') != "queues" {
            return None;
        }
        let list: Vec<Value> = self
            .reg
            .all()
            .iter()
            .map(|q| {
                let a = self.queue_attributes(q);
                serde_json::json!({
                    "arn": q.arn, "account": q.account, "region": q.region, "name": q.name,
                    "visible": a.get("ApproximateNumberOfMessages"),
                    "inflight": a.get("ApproximateNumberOfMessagesNotVisible"),
                    "delayed": a.get("ApproximateNumberOfMessagesDelayed"),
                })
            })
            .collect();
        let body = serde_json::to_vec(&list).unwrap_or_default();
        Some(wire::respond(
            http::StatusCode::OK,
            &[("content-type", "application/json")],
            body,
        ))
    }

    async fn reset(&self) {
        self.reg.clear().await;
    }

    fn status(&self) -> Value {
        serde_json::json!("running")
    }
}
