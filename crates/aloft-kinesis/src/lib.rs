//! Amazon Kinesis Data Streams over json 1.1 (`Kinesis_20131202`) and the Java SDKs' CBOR:
//! streams (provisioned and on-demand), shards and MD5 hash-key routing, records with
//! AWS-shaped sequence numbers, shard iterators of every type, retention, resharding (split,
//! merge, UpdateShardCount), enhanced fan-out consumers with SubscribeToShard (an event stream
//! over HTTP/1.1), tags, resource policies, encryption and monitoring settings, opt-in
//! throttling. Streams are a bus target (EventBridge, DynamoDB streaming destinations, API
//! Gateway integrations reach it through the gateway) and a pull source for Lambda's event
//! source mappings. The newer Queue/Channel/dead-letter operations are not served.
//!
//! Modules: `streams` (lifecycle, description, settings), `capacity` (on-demand settings), `shards` (ListShards), `records` (put, iterators, get),
//! `resharding`, `consumers` and `subscribe`, `settings` (account, tags, policies), `bus`
//! (target and source), `state` (memory and journal), `keys` (hash keys, sequence numbers,
//! iterators), `metrics`, `eventstream` (SubscribeToShard's wire format), `error`.

pub mod bus;
pub mod capacity;
pub mod consumers;
pub mod error;
pub mod eventstream;
pub mod keys;
pub mod metrics;
pub mod records;
pub mod resharding;
pub mod settings;
pub mod shards;
pub mod state;
pub mod streams;
pub mod subscribe;

use std::sync::Arc;

use aloft_core::{AwsRequest, Response, Service, ServiceContext, ServiceSpec};
use aloft_events::MetricBatcher;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{Code, KinesisError, Result};
use crate::state::State;

pub static SPEC: ServiceSpec = ServiceSpec {
    name: "kinesis",
    signing_names: &["kinesis"],
    target_prefixes: &["Kinesis_20131202"],
    host_labels: &[],
    path_prefixes: &[],
    unsigned_actions: &[],
};

/// PutRecords carries up to 5 MiB of data and a record up to 10 MiB (UpdateMaxRecordSize),
/// base64-encoded in JSON: more than the shared 1 MiB json limit.
const BODY_LIMIT: usize = 16 * 1024 * 1024;

pub type Out = Result<Value>;

pub struct Kinesis {
    pub(crate) state: State,
    /// For KMS: StartStreamEncryption checks its key by encrypting with it.
    pub(crate) targets: Arc<aloft_events::Targets>,
    pub(crate) metrics: Arc<MetricBatcher>,
    /// Per-shard write limits (1 MiB/s, 1,000 records/s), off by default.
    pub(crate) throttle: bool,
}

pub struct KinesisService(pub Arc<Kinesis>);

pub async fn start(ctx: &ServiceContext) -> Arc<dyn Service> {
    Arc::new(KinesisService(build(ctx)))
}

/// Loads the state and registers the bus target and source.
pub(crate) fn build(ctx: &ServiceContext) -> Arc<Kinesis> {
    let k = Arc::new(Kinesis {
        state: State::new(ctx.store.clone()),
        targets: ctx.targets.clone(),
        metrics: MetricBatcher::new(ctx.targets.clone()),
        throttle: ctx.config.flag("kinesis.throttle"),
    });
    k.state.load();
    let bus = Arc::new(bus::Bus(k.clone()));
    ctx.targets.register_target("kinesis", bus.clone());
    ctx.targets.register_source("kinesis", bus);
    k
}

pub(crate) fn parse<T: DeserializeOwned>(input: Value) -> Result<T> {
    serde_json::from_value(input).map_err(|e| KinesisError::validation(e.to_string()))
}

pub(crate) async fn commit(c: aloft_store::Commit) -> Result<()> {
    c.await.map_err(|e| {
        KinesisError::new(
            Code::InternalFailureException,
            format!("Storage failure: {e}"),
        )
    })
}

impl Kinesis {
    fn consumer_arn(&self, stream: &str, name: &str) -> Option<String> {
        let (acct, region, stream) = streams::parse_stream_arn(stream)?;
        let st = self.state.lock();
        st.by_key
            .get(&state::scoped(&acct, &region, &stream))?
            .consumers
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.arn.clone())
    }

    async fn call(&self, a: &str, r: &str, op: &str, input: Value) -> Out {
        match op {
            "CreateStream" => self.create_stream(a, r, input).await,
            "DeleteStream" => self.delete_stream(a, r, input).await,
            "DescribeStream" => self.describe_stream(a, r, input),
            "DescribeStreamSummary" => self.describe_stream_summary(a, r, input),
            "ListStreams" => self.list_streams(a, r, input),
            "ListShards" => self.list_shards(a, r, input),
            "UpdateStreamMode" => self.update_stream_mode(a, r, input).await,
            "IncreaseStreamRetentionPeriod" => self.change_retention(a, r, input, true).await,
            "DecreaseStreamRetentionPeriod" => self.change_retention(a, r, input, false).await,
            "StartStreamEncryption" => self.stream_encryption(a, r, input, true).await,
            "StopStreamEncryption" => self.stream_encryption(a, r, input, false).await,
            "EnableEnhancedMonitoring" => self.enhanced_monitoring(a, r, input, true).await,
            "DisableEnhancedMonitoring" => self.enhanced_monitoring(a, r, input, false).await,
            "UpdateMaxRecordSize" => self.update_max_record_size(a, r, input).await,
            "UpdateStreamWarmThroughput" => self.update_stream_warm_throughput(a, r, input).await,
            "UpdateStreamRecordDistributionStrategy" => {
                self.update_stream_record_distribution_strategy(a, r, input)
                    .await
            }
            "DescribeLimits" => Ok(self.describe_limits(a, r)),
            "DescribeAccountSettings" => Ok(self.describe_account_settings(a)),
            "UpdateAccountSettings" => self.update_account_settings(a, input).await,
            "AddTagsToStream" => self.add_tags_to_stream(a, r, input).await,
            "RemoveTagsFromStream" => self.remove_tags_from_stream(a, r, input).await,
            "ListTagsForStream" => self.list_tags_for_stream(a, r, input),
            "TagResource" => self.tag_resource(a, r, input).await,
            "UntagResource" => self.untag_resource(a, r, input).await,
            "ListTagsForResource" => self.list_tags_for_resource(a, r, input),
            "PutResourcePolicy" => self.put_resource_policy(a, r, input).await,
            "GetResourcePolicy" => self.get_resource_policy(a, r, input),
            "DeleteResourcePolicy" => self.delete_resource_policy(a, r, input).await,
            "PutRecord" => self.put_record(a, r, input).await,
            "PutRecords" => self.put_records(a, r, input).await,
            "GetShardIterator" => self.get_shard_iterator(a, r, input),
            "GetRecords" => self.get_records(input).await,
            "SplitShard" => self.split_shard(a, r, input).await,
            "MergeShards" => self.merge_shards(a, r, input).await,
            "UpdateShardCount" => self.update_shard_count(a, r, input).await,
            "RegisterStreamConsumer" => self.register_stream_consumer(a, r, input).await,
            "DeregisterStreamConsumer" => self.deregister_stream_consumer(a, r, input).await,
            "DescribeStreamConsumer" => self.describe_stream_consumer(a, r, input),
            "ListStreamConsumers" => self.list_stream_consumers(a, r, input),
            other => Err(KinesisError::new(
                Code::UnsupportedOperationException,
                format!("Operation {other} is not supported by Aloft yet."),
            )),
        }
    }
}

#[async_trait::async_trait]
impl Service for KinesisService {
    fn spec(&self) -> &'static ServiceSpec {
        &SPEC
    }

    async fn handle(&self, req: AwsRequest) -> Response {
        // The shared request cycle, with Kinesis's larger bodies and its streaming answer.
        let aloft_core::wire::Read {
            ctx,
            decoded,
            model,
        } = match aloft_core::wire::read("kinesis", "ValidationException", BODY_LIMIT, req).await {
            Ok(r) => r,
            Err(refused) => return refused,
        };
        let rid = ctx.request_id.clone();
        let result = if decoded.operation == "SubscribeToShard" {
            match self.0.subscribe_to_shard(&decoded.input, &rid) {
                Ok(resp) => return resp,
                Err(e) => Err(e),
            }
        } else {
            self.0
                .call(
                    &ctx.account_id,
                    &ctx.region,
                    decoded.operation,
                    decoded.input,
                )
                .await
        };
        aloft_core::wire::render(model, decoded.operation, decoded.protocol, result, &rid)
    }

    /// Under `--enforce-iam`: `kinesis:<Operation>` on the stream (by name or ARN, or the
    /// stream a shard iterator belongs to), the consumer, or the tagged/policied resource.
    fn authorization(
        &self,
        ctx: &aloft_core::RequestContext,
        operation: &str,
        input: &Value,
    ) -> Option<Vec<(String, String)>> {
        let s = |k: &str| input.get(k).and_then(Value::as_str);
        let resource = if let Some(arn) = s("ConsumerARN").or(s("ResourceARN")) {
            arn.to_string()
        } else if let (Some(stream), Some(c)) = (s("StreamARN"), s("ConsumerName"))
            && operation != "RegisterStreamConsumer"
        {
            // A consumer named by stream and name acts on the consumer's own ARN.
            self.0
                .consumer_arn(stream, c)
                .unwrap_or_else(|| stream.to_string())
        } else if let Some(arn) = s("StreamARN") {
            arn.to_string()
        } else if let Some(name) = s("StreamName") {
            streams::stream_arn(&ctx.account_id, &ctx.region, name)
        } else if let Some(it) = s("ShardIterator").and_then(keys::Iterator::decode) {
            streams::stream_arn(&it.account, &it.region, &it.stream)
        } else {
            "*".to_string()
        };
        Some(vec![(format!("kinesis:{operation}"), resource)])
    }

    async fn resource_policy(
        &self,
        _ctx: &aloft_core::RequestContext,
        resource: &str,
    ) -> Option<String> {
        let (acct, region, name) = streams::parse_stream_arn(resource)?;
        let st = self.0.state.lock();
        st.by_key
            .get(&state::scoped(&acct, &region, &name))?
            .policies
            .get(resource)
            .cloned()
    }

    /// `GET /_aloft/kinesis/streams`: every stream with its shards and record counts.
    async fn internal(&self, _req: AwsRequest, path: &str) -> Option<Response> {
        if path.trim_matches('/') != "streams" {
            return None;
        }
        let st = self.0.state.lock();
        let mut list: Vec<Value> = st
            .by_key
            .values()
            .map(|s| {
                serde_json::json!({
                    "arn": s.arn, "account": s.account, "region": s.region, "name": s.name,
                    "mode": s.mode, "retention_hours": s.retention_hours,
                    "consumers": s.consumers.len(),
                    "shards": s.shards.iter().map(|sh| serde_json::json!({
                        "id": sh.id(), "open": sh.is_open(), "records": sh.records.len(),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        list.sort_by(|a, b| a["arn"].as_str().cmp(&b["arn"].as_str()));
        Some(aloft_core::json_response(
            http::StatusCode::OK,
            &Value::Array(list),
        ))
    }

    async fn reset(&self) {
        self.0.state.clear().await;
        self.0.metrics.reset();
    }

    async fn shutdown(&self) {
        self.0.metrics.flush().await;
    }
}
