//! DynamoDB and DynamoDB Streams for Aloft (json 1.0: `DynamoDB_20120810.*` and
//! `DynamoDBStreams_20120810.*`, one service answering both target prefixes).
//!
//! - [`domain`]: numbers, attribute values, keys and their order.
//! - [`expr`]: the expression language (parser with AWS's messages, evaluation, updates).
//! - [`state`]: in-memory ordered tables and indexes, journaled to the store.
//! - `handlers/`: one module per resource (tables, items, query, batch, transactions).
//! - [`streams`]: stream records, the Streams API and the event source for Lambda.
//! - [`ttl`]: the expiry sweeper on the one clock.
//! - [`partiql`]: PartiQL statements, planned onto the native operations.
//! - [`pitr`]: point-in-time recovery (the change log and restores to a second).
//! - [`global`]: global tables' replication between regions (last writer wins; MRSC
//!   writes answer once applied everywhere, rules in `mrsc`).
//! - [`vectors`]: vector indexes (kept on every write) and SearchVectors' exact search.
//! - [`kinesis`]: Kinesis Data Streams destinations and the worker delivering their records.

mod attached;
pub mod capacity;
pub mod domain;
mod error;
mod export;
pub mod expr;
mod fast;
mod fast_query;
mod fast_vectors;
pub mod global;
mod handlers;
mod hash;
mod import;
mod jobs;
pub mod kinesis;
mod mrsc;
pub mod partiql;
pub mod pitr;
mod policy_doc;
mod restore;
pub mod state;
pub mod streams;
mod tables;
mod throttle;
mod throughput;
pub mod ttl;
pub mod vectors;
mod wire;

use std::sync::Arc;

use aloft_core::{
    AwsError, AwsRequest, RequestContext, Response, Service, ServiceContext, ServiceSpec,
};
use async_trait::async_trait;
use serde_json::{Value as Json, json};

use crate::error::ErrorCode;
use crate::state::Db;

pub static SPEC: ServiceSpec = ServiceSpec {
    name: "dynamodb",
    signing_names: &["dynamodb"],
    target_prefixes: &["DynamoDB_20120810", "DynamoDBStreams_20120810"],
    host_labels: &[],
    path_prefixes: &[],
    unsigned_actions: &[],
};

pub struct DynamoDb {
    pub db: Arc<Db>,
    /// Wakes the TTL sweeper when TTL settings change.
    pub ttl_wake: Arc<tokio::sync::Notify>,
    throttle: throttle::Throttle,
    /// Whether CreateGlobalTable (version 2017.11.29) still makes global tables, as for
    /// accounts that had them; AWS refuses it everywhere now (`dynamodb.legacy_global_tables`).
    legacy_global: bool,
    /// On-demand backups by ARN.
    backups: std::sync::RwLock<std::collections::HashMap<String, handlers::backups::Backup>>,
    /// Exports to S3.
    exports: Arc<handlers::exports::Exports>,
    /// Resource policies, Contributor Insights and replica auto scaling settings.
    attached: attached::Attached,
    /// Imports from S3 (ImportTable), and the targets that reach S3 and Logs.
    imports: Arc<handlers::imports::Imports>,
    /// Bulk operations (StartBulkPutItems).
    bulk: Arc<handlers::bulk::BulkOps>,
}

/// Builds the service: loads tables from the store, starts the TTL sweeper, registers the
/// stream source for Lambda event source mappings.
pub async fn start(ctx: &ServiceContext) -> Arc<dyn Service> {
    Arc::new(DynamoDb::start(ctx).await)
}

impl DynamoDb {
    pub async fn start(ctx: &ServiceContext) -> Self {
        let db = Arc::new(Db::new(ctx.store.clone()));
        match db.load() {
            Ok(n) if n > 0 => tracing::info!("dynamodb: loaded {n} items"),
            Ok(_) => {}
            Err(e) => tracing::error!("dynamodb: loading state failed: {e}"),
        }
        if let Some(limit) = ctx
            .config
            .setting("dynamodb.item_collection_limit_bytes")
            .and_then(|s| s.parse().ok())
        {
            db.collection_limit
                .store(limit, std::sync::atomic::Ordering::Relaxed);
        }
        let ttl_wake = Arc::new(tokio::sync::Notify::new());
        ttl::spawn_sweeper(db.clone(), ttl_wake.clone());
        global::spawn_worker(db.clone());
        db.kinesis
            .spawn_worker(ctx.targets.clone(), ctx.store.clone());
        ctx.targets.register_source(
            "dynamodb",
            Arc::new(streams::StreamSource { db: db.clone() }),
        );
        let mut backups = std::collections::HashMap::new();
        match ctx.store.load(handlers::backups::NS_BACKUPS, b"") {
            Ok(entries) => {
                for (_, v) in entries {
                    if let Some(b) = handlers::backups::Backup::from_journal(&v) {
                        backups.insert(b.arn.clone(), b);
                    }
                }
            }
            Err(e) => tracing::error!("dynamodb: loading backups failed: {e}"),
        }
        let exports = handlers::exports::Exports::load(ctx.store.clone(), ctx.targets.clone());
        export::runs::resume(&exports, &db);
        let attached = attached::Attached::default();
        attached.load(ctx.store.as_ref());
        let imports = Arc::new(handlers::imports::Imports::load(&db, ctx.targets.clone()));
        let bulk = Arc::new(handlers::bulk::BulkOps::load(&db));
        DynamoDb {
            exports,
            db,
            imports,
            bulk,
            ttl_wake,
            throttle: throttle::Throttle::new(ctx.config.flag("dynamodb.throttle")),
            legacy_global: ctx.config.flag("dynamodb.legacy_global_tables"),
            backups: std::sync::RwLock::new(backups),
            attached,
        }
    }

    /// One request: the fast path when it takes it, else the generic path.
    ///
    /// An `async` block, not an `async fn`: an `async fn` moves each argument into a local
    /// of its own, and the future keeps room for both copies.
    #[allow(clippy::manual_async_fn)]
    fn serve(
        &self,
        fast_op: Option<fast::Op>,
        ctx: RequestContext,
        parts: http::request::Parts,
        body: aloft_core::body::Body,
    ) -> impl std::future::Future<Output = Response> + Send + '_ {
        async move {
            let body = match aloft_core::body::collect_limited(body, wire::BODY_LIMIT).await {
                Ok(b) => b,
                Err(e) => {
                    let e = e.into_aws(|| {
                        ErrorCode::ValidationException
                            .err("Request size exceeded the maximum allowed")
                    });
                    let model = wire::model_for(aloft_core::context::header(
                        &parts.headers,
                        "x-amz-target",
                    ));
                    return wire::error(model, &e, &ctx.request_id);
                }
            };
            let mark = self.db.replication.mark();
            let resp = if let Some(op) = fast_op
                && let Some(resp) = fast::serve(self, op, &ctx, &body).await
            {
                resp
            } else {
                // Only the generic path and errors need the model. Its future (the largest
                // handler's) is boxed apart: inline, it made every request's future, fast ones
                // included, too big for the allocator's small-block path, and it was copied
                // twice per request.
                let model =
                    wire::model_for(aloft_core::context::header(&parts.headers, "x-amz-target"));
                Box::pin(self.generic(&ctx, &parts, model, &body)).await
            };
            // An MRSC write answers once every replica holds it.
            if self.db.replication.moved(mark) {
                Box::pin(self.db.replication.settle()).await;
            }
            resp
        }
    }

    /// The generic path: decode and validate against the model, then the handler (the fast
    /// path in [`fast`] falls back to this for anything it does not fully handle).
    async fn generic(
        &self,
        rc: &RequestContext,
        parts: &http::request::Parts,
        model: &'static aloft_model::ServiceModel,
        body: &[u8],
    ) -> Response {
        let (op, mut input) = match wire::decode(model, parts, body) {
            Ok(x) => x,
            Err(e) => return wire::error(model, &e, &rc.request_id),
        };
        let owner = handlers::policies::by_table_arn(rc, op, &mut input);
        let rc = owner.as_ref().unwrap_or(rc);
        let streams = parts
            .headers
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with(wire::STREAMS_PREFIX));
        // Its results carry whole vectors: written straight to bytes, not through a JSON tree.
        if op == "SearchVectors" && !streams {
            return match self.search_vectors_bytes(rc, &input) {
                Ok(b) => wire::ok_bytes(b),
                Err(e) => wire::error(model, &e, &rc.request_id),
            };
        }
        match self.dispatch(rc, streams, op, input).await {
            Ok(v) => wire::ok(&v),
            Err(e) => wire::error(model, &e, &rc.request_id),
        }
    }

    async fn dispatch(
        &self,
        rc: &RequestContext,
        streams: bool,
        op: &str,
        input: Json,
    ) -> Result<Json, AwsError> {
        if streams {
            return match op {
                "ListStreams" => self.list_streams(rc, input),
                "DescribeStream" => self.describe_stream(rc, input),
                "GetShardIterator" => self.get_shard_iterator(rc, input),
                "GetRecords" => self.get_records(rc, input),
                _ => Err(ErrorCode::UnknownOperationException.err("")),
            };
        }
        match op {
            "CreateTable" => self.create_table(rc, input).await,
            "DescribeTable" => self.describe_table(rc, input).await,
            "UpdateTable" => self.update_table(rc, input).await,
            "DeleteTable" => self.delete_table(rc, input).await,
            "ListTables" => self.list_tables(rc, input).await,
            "TagResource" => self.tag_resource(rc, input).await,
            "UntagResource" => self.untag_resource(rc, input).await,
            "ListTagsOfResource" => self.list_tags_of_resource(rc, input).await,
            "UpdateTimeToLive" => self.update_time_to_live(rc, input).await,
            "DescribeTimeToLive" => self.describe_time_to_live(rc, input).await,
            "DescribeContinuousBackups" => self.describe_continuous_backups(rc, input).await,
            "UpdateContinuousBackups" => self.update_continuous_backups(rc, input).await,
            "DescribeLimits" => self.describe_limits(rc, input).await,
            "DescribeEndpoints" => self.describe_endpoints(rc, input).await,
            "PutItem" => self.put_item(rc, input).await,
            "GetItem" => self.get_item(rc, input).await,
            "UpdateItem" => self.update_item(rc, input).await,
            "DeleteItem" => self.delete_item(rc, input).await,
            "Query" => self.query(rc, input).await,
            "Scan" => self.scan(rc, input).await,
            "BatchGetItem" => self.batch_get_item(rc, input).await,
            "BatchWriteItem" => self.batch_write_item(rc, input).await,
            "TransactWriteItems" => self.transact_write_items(rc, input).await,
            "TransactGetItems" => self.transact_get_items(rc, input).await,
            "CreateBackup" => self.create_backup(rc, input).await,
            "DescribeBackup" => self.describe_backup(rc, input).await,
            "ListBackups" => self.list_backups(rc, input).await,
            "DeleteBackup" => self.delete_backup(rc, input).await,
            "RestoreTableFromBackup" => self.restore_table_from_backup(rc, input).await,
            "RestoreTableToPointInTime" => self.restore_table_to_point_in_time(rc, input).await,
            "ExecuteStatement" => self.execute_statement(rc, input).await,
            "BatchExecuteStatement" => self.batch_execute_statement(rc, input).await,
            "ExecuteTransaction" => self.execute_transaction(rc, input).await,
            "SearchVectors" => self.search_vectors(rc, input).await,
            "ExportTableToPointInTime" => self.export_table_to_point_in_time(rc, input).await,
            "DescribeExport" => self.describe_export(rc, input).await,
            "ListExports" => self.list_exports(rc, input).await,
            "PutResourcePolicy" => self.put_resource_policy(rc, input).await,
            "GetResourcePolicy" => self.get_resource_policy(rc, input).await,
            "DeleteResourcePolicy" => self.delete_resource_policy(rc, input).await,
            "UpdateContributorInsights" => self.update_contributor_insights(rc, input).await,
            "DescribeContributorInsights" => self.describe_contributor_insights(rc, input).await,
            "ListContributorInsights" => self.list_contributor_insights(rc, input).await,
            "DescribeTableReplicaAutoScaling" => {
                self.describe_table_replica_auto_scaling(rc, input).await
            }
            "UpdateTableReplicaAutoScaling" => {
                self.update_table_replica_auto_scaling(rc, input).await
            }
            "CreateGlobalTable" => self.create_global_table(rc, input).await,
            "DescribeGlobalTable" => self.describe_global_table(rc, input).await,
            "ListGlobalTables" => self.list_global_tables(rc, input).await,
            "UpdateGlobalTable" => self.update_global_table(rc, input).await,
            "DescribeGlobalTableSettings" => self.describe_global_table_settings(rc, input).await,
            "UpdateGlobalTableSettings" => self.update_global_table_settings(rc, input).await,
            "ImportTable" => self.import_table(rc, input).await,
            "DescribeImport" => self.describe_import(rc, input).await,
            "ListImports" => self.list_imports(rc, input).await,
            "StartBulkPutItems" => self.start_bulk_put_items(rc, input).await,
            "DescribeBulkOperation" => self.describe_bulk_operation(rc, input).await,
            "ListBulkOperations" => self.list_bulk_operations(rc, input).await,
            "CancelBulkOperation" => self.cancel_bulk_operation(rc, input).await,
            "EnableKinesisStreamingDestination" => {
                self.enable_kinesis_streaming_destination(rc, input).await
            }
            "DisableKinesisStreamingDestination" => {
                self.disable_kinesis_streaming_destination(rc, input).await
            }
            "DescribeKinesisStreamingDestination" => {
                self.describe_kinesis_streaming_destination(rc, input).await
            }
            "UpdateKinesisStreamingDestination" => {
                self.update_kinesis_streaming_destination(rc, input).await
            }
            _ => Err(ErrorCode::UnknownOperationException.err("")),
        }
    }
}

#[async_trait]
impl Service for DynamoDb {
    fn spec(&self) -> &'static ServiceSpec {
        &SPEC
    }

    // Written out rather than by `async_trait`: its future keeps the request twice (the
    // argument and the local it is moved into), 1.6 KB per request, past the allocator's
    // small-block path. Here the request is split before the future is built and held once.
    fn handle<'a, 'b>(
        &'a self,
        req: AwsRequest,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Response> + Send + 'b>>
    where
        'a: 'b,
        Self: 'b,
    {
        let fast_op = fast::route(&req.parts);
        let AwsRequest { ctx, parts, body } = req;
        Box::pin(self.serve(fast_op, ctx, parts, body))
    }

    async fn internal(&self, req: AwsRequest, path: &str) -> Option<Response> {
        match (req.parts.method.as_str(), path.trim_end_matches('/')) {
            ("POST", "ttl/sweep") => {
                let deleted = ttl::sweep(&self.db).await;
                Some(wire::ok(&json!({"deleted": deleted})))
            }
            ("GET", "stats") => Some(wire::ok(&self.stats())),
            ("POST", "pitr/compact") => {
                let folded = pitr::compact_all(&self.db).await;
                Some(wire::ok(&json!({"folded": folded})))
            }
            ("POST", "replication/pause") => {
                self.db.replication.pause(true);
                Some(wire::ok(&json!({})))
            }
            ("POST", "replication/resume") => {
                self.db.replication.pause(false);
                Some(wire::ok(&json!({})))
            }
            ("GET", "replication") => Some(wire::ok(
                &json!({"strongInTransit": self.db.replication.in_transit()}),
            )),
            ("POST", "replication/flush") => {
                self.db.replication.flush().await;
                Some(wire::ok(&json!({})))
            }
            _ => None,
        }
    }

    async fn reset(&self) {
        // A paused replication worker (tests) would hold MRSC writers forever.
        self.db.replication.pause(false);
        let metas: Vec<_> = {
            let mut all = self.db.tables.write().expect("tables lock");
            all.drain()
                .map(|(_, t)| {
                    let mut d = t.data.write().expect("table lock");
                    d.deleted = true;
                    (*d.meta).clone()
                })
                .collect()
        };
        for m in metas {
            if let Err(e) = self.db.drop_table(&m).await {
                tracing::error!("dynamodb reset: {e}");
            }
        }
        self.db.tx_tokens.lock().expect("tokens lock").clear();
        self.backups.write().expect("backups lock").clear();
        self.exports.clear().await;
        self.attached.clear(self.db.store.as_ref()).await;
        self.imports.clear(&self.db).await;
        self.bulk.clear(&self.db).await;
        if let Err(e) = self.db.store.clear(kinesis::NS_KINESIS, b"").await {
            tracing::error!("dynamodb reset: {e}");
        }
        if let Err(e) = self
            .db
            .store
            .clear(handlers::backups::NS_BACKUPS, b"")
            .await
        {
            tracing::error!("dynamodb reset: {e}");
        }
    }

    fn status(&self) -> Json {
        json!("running")
    }

    async fn resource_policy(&self, _ctx: &RequestContext, resource: &str) -> Option<String> {
        self.policy_for_resource(resource)
    }

    /// A Query or Scan of an index acts on the index's ARN (`table/t/index/i`), as on AWS:
    /// policies grant indexes apart from their table.
    fn authorization(
        &self,
        ctx: &RequestContext,
        operation: &str,
        input: &Json,
    ) -> Option<Vec<(String, String)>> {
        if !matches!(operation, "Query" | "Scan") {
            return None;
        }
        let index = input.get("IndexName")?.as_str()?;
        let table =
            aloft_core::auth::default_resource("dynamodb", &ctx.region, &ctx.account_id, input);
        Some(vec![(
            aloft_core::auth::default_action("dynamodb", operation),
            format!("{table}/index/{index}"),
        )])
    }
}

impl DynamoDb {
    /// Counts for `/_aloft/dynamodb/stats`: tables, items, bytes as AWS sizes them.
    fn stats(&self) -> Json {
        let all = self.db.tables.read().expect("tables lock");
        let tables: Vec<Json> = all
            .values()
            .map(|t| {
                let d = t.data.read().expect("table lock");
                json!({"table": d.meta.name, "account": d.meta.account, "region": d.meta.region,
                    "items": d.items.len(), "bytes": d.size_bytes, "stream_records": d.stream.records.len(),
                    "pitr_changes": d.pitr.as_ref().map(|p| p.log_len())})
            })
            .collect();
        let k = &self.db.kinesis.counters;
        json!({"tables": tables, "kinesis": {
            "delivered": k.delivered.load(std::sync::atomic::Ordering::Relaxed),
            "dropped": k.dropped.load(std::sync::atomic::Ordering::Relaxed)}})
    }
}
