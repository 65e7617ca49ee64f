//! Amazon SNS over the query protocol: topics (standard and FIFO), subscriptions for SQS,
//! Lambda, HTTP(S), email and SMS, Publish/PublishBatch with filter policies, fan-out through
//! `ctx.targets`. Email and SMS deliveries are recorded at `GET /_aloft/sns/messages`.

pub mod error;
pub mod publish;
pub mod signing;
pub mod state;
pub mod subscriptions;
pub mod topics;
mod webhook;

use std::sync::{Arc, Mutex};

use aloft_core::{
    AwsError, AwsRequest, RequestContext, Response, Service, ServiceContext, ServiceSpec,
};
use aloft_events::Targets;
use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::error::{Code, Result, SnsError};
use crate::state::State;

pub static SPEC: ServiceSpec = ServiceSpec {
    name: "sns",
    signing_names: &["sns"],
    target_prefixes: &[],
    host_labels: &["sns"],
    path_prefixes: &[],
    // SNS's UnsubscribeURL and SubscribeURL are opened unsigned (e.g. from an email).
    unsigned_actions: &["ConfirmSubscription", "Unsubscribe"],
};

pub type Out = Result<Value>;

pub struct Sns {
    pub(crate) state: State,
    pub(crate) targets: Arc<Targets>,
    /// Email, email-json and SMS deliveries and confirmation requests, oldest first.
    outbox: Mutex<Vec<Value>>,
    pub(crate) sequence: Mutex<u128>,
    /// Where Aloft is reached, for URLs in notifications published by other services.
    pub(crate) base_url: String,
    /// Signs notifications; its certificate is served at the SigningCertURL.
    pub(crate) signer: Arc<signing::Signer>,
}

pub struct SnsService(pub Arc<Sns>);

pub async fn start(ctx: &ServiceContext) -> Arc<dyn Service> {
    let sns = Arc::new(Sns {
        state: State::new(ctx.store.clone()),
        targets: ctx.targets.clone(),
        outbox: Mutex::new(Vec::new()),
        sequence: Mutex::new(10_000_000_000_000_000_000),
        base_url: ctx.config.internal_url.trim_end_matches('/').to_string(),
        signer: signing::Signer::start(ctx.store.clone()),
    });
    sns.state.load();
    ctx.targets
        .register_target("sns", Arc::new(TopicTarget(sns.clone())));
    Arc::new(SnsService(sns))
}

/// Deserializes an operation's input (already validated against the model by the codec).
pub(crate) fn parse<T: DeserializeOwned>(input: Value) -> Result<T> {
    serde_json::from_value(input).map_err(|e| {
        let msg = e.to_string();
        match msg.strip_prefix("missing field `") {
            Some(rest) => SnsError::invalid(format!(
                "{} Reason: no value for required parameter",
                rest.split('`').next().unwrap_or(rest)
            )),
            None => SnsError::invalid(msg),
        }
    })
}

pub(crate) async fn commit(c: aloft_store::Commit) -> Result<()> {
    c.await
        .map_err(|e| SnsError::new(Code::InvalidParameter, format!("Storage failure: {e}")))
}

fn json_response(v: &Value) -> Response {
    let mut r = http::Response::new(aloft_core::body::full(v.to_string()));
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    r
}

impl Sns {
    pub(crate) fn record(&self, v: Value) {
        self.outbox
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(v);
    }

    async fn call(self: &Arc<Self>, ctx: &RequestContext, op: &str, input: Value) -> Out {
        match op {
            "CreateTopic" => self.create_topic(ctx, input).await,
            "DeleteTopic" => self.delete_topic(ctx, input).await,
            "ListTopics" => self.list_topics(ctx, input).await,
            "GetTopicAttributes" => self.get_topic_attributes(ctx, input).await,
            "SetTopicAttributes" => self.set_topic_attributes(ctx, input).await,
            "TagResource" => self.tag_resource(ctx, input).await,
            "UntagResource" => self.untag_resource(ctx, input).await,
            "ListTagsForResource" => self.list_tags_for_resource(ctx, input).await,
            "Subscribe" => self.subscribe(ctx, input).await,
            "ConfirmSubscription" => self.confirm_subscription(ctx, input).await,
            "Unsubscribe" => self.unsubscribe(ctx, input).await,
            "ListSubscriptions" => self.list_subscriptions(ctx, input).await,
            "ListSubscriptionsByTopic" => self.list_subscriptions_by_topic(ctx, input).await,
            "GetSubscriptionAttributes" => self.get_subscription_attributes(ctx, input).await,
            "SetSubscriptionAttributes" => self.set_subscription_attributes(ctx, input).await,
            "Publish" => self.publish(ctx, input).await,
            "PublishBatch" => self.publish_batch(ctx, input).await,
            other => Err(SnsError::new(
                Code::InvalidAction,
                format!("The action {other} is not valid for this endpoint."),
            )),
        }
    }
}

#[async_trait]
impl Service for SnsService {
    fn spec(&self) -> &'static ServiceSpec {
        &SPEC
    }

    async fn handle(&self, req: AwsRequest) -> Response {
        aloft_core::wire::serve(
            "sns",
            "RequestEntityTooLarge",
            req,
            |ctx, op, input| async move { self.0.call(&ctx, op, input).await },
        )
        .await
    }

    /// `GET /_aloft/sns/messages`: recorded email/SMS deliveries and confirmations;
    /// `DELETE` clears them. `GET /_aloft/sns/confirm?TopicArn=..&Token=..`: the SubscribeURL.
    async fn internal(&self, req: AwsRequest, path: &str) -> Option<Response> {
        match path.trim_matches('/') {
            "messages" => {
                let mut out = self
                    .0
                    .outbox
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                if req.parts.method == http::Method::DELETE {
                    out.clear();
                    return Some(json_response(&json!({"deleted": true})));
                }
                Some(json_response(&Value::Array(out.clone())))
            }
            "SimpleNotificationService.pem" => {
                let pem = self.0.signer.pair().cert_pem.clone();
                let resp = http::Response::builder()
                    .header("content-type", "application/x-pem-file")
                    .body(bytes::Bytes::from(pem))
                    .expect("static response parts");
                Some(aloft_core::body::from_bytes(resp))
            }
            "confirm" => {
                let q = req.query();
                let get = |k: &str| {
                    q.split('&').find_map(|p| {
                        let (a, b) = p.split_once('=')?;
                        (a == k).then(|| percent_decode(b))
                    })
                };
                let (Some(topic), Some(token)) = (get("TopicArn"), get("Token")) else {
                    return Some(json_response(
                        &json!({"error": "TopicArn and Token are required"}),
                    ));
                };
                Some(match self.0.confirm(&topic, &token).await {
                    Ok(arn) => json_response(&json!({"SubscriptionArn": arn})),
                    Err(e) => {
                        let mut r = json_response(&json!({"error": e.message}));
                        *r.status_mut() = http::StatusCode::BAD_REQUEST;
                        r
                    }
                })
            }
            _ => None,
        }
    }

    async fn reset(&self) {
        self.0.state.clear().await;
        self.0
            .outbox
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }
}

/// Publishes to topics for other services (`sns` ARNs).
pub struct TopicTarget(pub Arc<Sns>);

#[async_trait]
impl aloft_events::Target for TopicTarget {
    async fn deliver(
        &self,
        arn: &str,
        d: aloft_events::Delivery,
    ) -> std::result::Result<aloft_events::Delivered, AwsError> {
        let out = self.0.publish_from(arn, &d).await.map_err(AwsError::from)?;
        let mut info = serde_json::Map::new();
        info.insert("MessageId".into(), json!(out.message_id));
        Ok(aloft_events::Delivered {
            payload: None,
            info,
        })
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let h = std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match h {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
