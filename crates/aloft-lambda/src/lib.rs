//! Lambda: the API (rest-json 2015-03-31), and functions run as local processes speaking the
//! Lambda Runtime API, with warm reuse, concurrency limits, timeouts and async retries.
//!
//! - [`runtime`]: execution environments and their pools.
//! - [`functions`], [`aliases`], [`policy`], [`settings`], [`layers`]: the control plane.
//! - [`invoke`]: Invoke in every mode, the async queue, and the `lambda` delivery target.
//! - [`routes`]: rest-json paths to operations (until the shared codec routes them).

pub mod aliases;
pub mod code;
pub mod config;
pub mod error;
pub mod filters;
pub mod functions;
pub mod invoke;
pub mod layers;
pub mod mapping_rules;
pub mod mappings;
pub mod metrics;
pub mod model;
pub mod policy;
pub mod routes;
pub mod runtime;
pub mod settings;
pub mod streams;
pub mod urls;
pub mod windows;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use aloft_core::{AwsRequest, RequestContext, Response, Service, ServiceContext, ServiceSpec};
use async_trait::async_trait;
use serde_json::Value;

use crate::error::{Code, Result, err};
use crate::model::{Function, Layer};

pub static SPEC: ServiceSpec = ServiceSpec {
    name: "lambda",
    signing_names: &["lambda"],
    target_prefixes: &[],
    host_labels: &["lambda-url"],
    path_prefixes: &[],
    unsigned_actions: &[],
};

const NS_FUNCTIONS: &str = "lambda/functions";
const NS_LAYERS: &str = "lambda/layers";

/// `account/region/name`: every key starts with the scope.
pub(crate) fn key(account: &str, region: &str, name: &str) -> String {
    format!("{account}/{region}/{name}")
}

#[derive(Default)]
pub struct State {
    pub functions: HashMap<String, Function>,
    pub layers: HashMap<String, Layer>,
    pub mappings: HashMap<String, mappings::Mapping>,
    /// Stream event source positions by mapping UUID.
    pub positions: HashMap<String, String>,
    /// A stream mapping's `LastProcessingResult` by UUID (in memory, as it is informational).
    pub results: HashMap<String, &'static str>,
}

pub struct Lambda {
    pub(crate) state: Mutex<State>,
    pub(crate) engine: Arc<runtime::Engine>,
    pub(crate) ctx: ServiceContext,
    pub(crate) code_root: PathBuf,
    pub(crate) queue: tokio::sync::mpsc::UnboundedSender<invoke::AsyncEvent>,
    /// Itself, for the pollers it spawns.
    pub(crate) me: std::sync::OnceLock<std::sync::Weak<Lambda>>,
    /// Invocations in flight, for the ConcurrentExecutions metric.
    pub(crate) meter: metrics::Meter,
}

/// Builds the service, loads its state, starts its workers and registers the `lambda` target.
pub async fn start(ctx: &ServiceContext) -> Arc<dyn Service> {
    start_lambda(ctx).await
}

pub async fn start_lambda(ctx: &ServiceContext) -> Arc<Lambda> {
    let work = match &ctx.config.data_dir {
        Some(d) => d.join("lambda"),
        None => std::env::temp_dir().join(format!("aloft-lambda-{}", std::process::id())),
    };
    if ctx.config.data_dir.is_none() {
        // Work directories of earlier in-memory runs whose process is gone (killed without
        // shutdown): swept off the start-up path, with the blob spill directories.
        aloft_store::TempDir::sweep_stale_soon("lambda");
    }
    let code_root = work.join("code");
    let _ = std::fs::create_dir_all(&code_root);
    let interpreters = runtime::Interpreters::detect(
        ctx.config.setting("lambda.python"),
        ctx.config.setting("lambda.node"),
    );
    let mut host = runtime::Host::new(&work, interpreters, ctx.config.internal_url.clone());
    if ctx.config.flag("iam.enforce") {
        host.role_credentials = Some(ctx.targets.clone());
    }
    let sink = Arc::new(invoke::LogsSink {
        targets: ctx.targets.clone(),
    });
    let mut engine = runtime::Engine::new(host, work.join("envs"), sink);
    if let Some(s) = ctx
        .config
        .setting("lambda.idle_seconds")
        .and_then(|s| s.parse::<i64>().ok())
    {
        engine.idle_ms = s * 1000;
    }
    if let Some(n) = ctx
        .config
        .setting("lambda.concurrency")
        .and_then(|s| s.parse::<usize>().ok())
    {
        engine.account_limit = n;
    }
    let engine = Arc::new(engine);
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let mut state = State::default();
    if let Ok(rows) = ctx.store.load(NS_FUNCTIONS, b"") {
        for (k, v) in rows {
            if let Ok(f) = serde_json::from_slice::<Function>(&v) {
                state
                    .functions
                    .insert(String::from_utf8_lossy(&k).into_owned(), f);
            }
        }
    }
    if let Ok(rows) = ctx.store.load(NS_LAYERS, b"") {
        for (k, v) in rows {
            if let Ok(l) = serde_json::from_slice::<Layer>(&v) {
                state
                    .layers
                    .insert(String::from_utf8_lossy(&k).into_owned(), l);
            }
        }
    }
    if let Ok(rows) = ctx.store.load(mappings::NS_MAPPINGS, b"") {
        for (_, v) in rows {
            if let Ok(m) = serde_json::from_slice::<mappings::Mapping>(&v) {
                state.mappings.insert(m.uuid.clone(), m);
            }
        }
    }
    if let Ok(rows) = ctx.store.load(streams::NS_POSITIONS, b"") {
        for (k, v) in rows {
            state.positions.insert(
                String::from_utf8_lossy(&k).into_owned(),
                String::from_utf8_lossy(&v).into_owned(),
            );
        }
    }
    let svc = Arc::new(Lambda {
        state: Mutex::new(state),
        engine: engine.clone(),
        ctx: ctx.clone(),
        code_root,
        queue: tx,
        me: std::sync::OnceLock::new(),
        meter: metrics::Meter::new(ctx.targets.clone()),
    });
    let _ = svc.me.set(Arc::downgrade(&svc));
    let existing: Vec<mappings::Mapping> = svc
        .state
        .lock()
        .expect("state lock")
        .mappings
        .values()
        .cloned()
        .collect();
    for m in &existing {
        svc.start_poller(m);
    }
    ctx.targets.register_target(
        "lambda",
        Arc::new(invoke::LambdaTarget(Arc::downgrade(&svc))),
    );
    tokio::spawn(invoke::async_worker(Arc::downgrade(&svc), rx));
    let reaper = Arc::downgrade(&engine);
    tokio::spawn(async move {
        let mut tick = aloft_core::clock::changed();
        loop {
            tokio::select! {
                () = tokio::time::sleep(std::time::Duration::from_secs(5)) => {}
                r = tick.changed() => { if r.is_err() { break; } }
            }
            let Some(e) = reaper.upgrade() else { break };
            e.reap();
        }
    });
    svc
}

impl Lambda {
    /// Journals a function's record (or its deletion) while the state lock is held.
    pub(crate) fn persist_function(&self, key: &str, f: Option<&Function>) -> aloft_store::Commit {
        let mut b = aloft_store::Batch::new();
        match f {
            Some(f) => b.put(
                NS_FUNCTIONS,
                key.as_bytes(),
                serde_json::to_vec(f).unwrap_or_default(),
            ),
            None => b.delete(NS_FUNCTIONS, key.as_bytes()),
        }
        self.ctx.store.submit(b)
    }

    pub(crate) fn persist_layer(&self, key: &str, l: Option<&Layer>) -> aloft_store::Commit {
        let mut b = aloft_store::Batch::new();
        match l {
            Some(l) => b.put(
                NS_LAYERS,
                key.as_bytes(),
                serde_json::to_vec(l).unwrap_or_default(),
            ),
            None => b.delete(NS_LAYERS, key.as_bytes()),
        }
        self.ctx.store.submit(b)
    }

    /// Runs one API operation on its model-shaped input.
    pub async fn dispatch(&self, ctx: &RequestContext, op: &str, input: Value) -> Result<Value> {
        match op {
            "CreateFunction" => self.create_function(ctx, input).await,
            "GetFunction" => self.get_function(ctx, input),
            "GetFunctionConfiguration" => self.get_function_configuration(ctx, input),
            "UpdateFunctionCode" => self.update_function_code(ctx, input).await,
            "UpdateFunctionConfiguration" => self.update_function_configuration(ctx, input).await,
            "DeleteFunction" => self.delete_function(ctx, input).await,
            "ListFunctions" => self.list_functions(ctx, input),
            "PublishVersion" => self.publish_version(ctx, input).await,
            "ListVersionsByFunction" => self.list_versions_by_function(ctx, input),
            "CreateAlias" => self.create_alias(ctx, input).await,
            "GetAlias" => self.get_alias(ctx, input),
            "UpdateAlias" => self.update_alias(ctx, input).await,
            "DeleteAlias" => self.delete_alias(ctx, input).await,
            "ListAliases" => self.list_aliases(ctx, input),
            "AddPermission" => self.add_permission(ctx, input).await,
            "RemovePermission" => self.remove_permission(ctx, input).await,
            "GetPolicy" => self.get_policy(ctx, input),
            "PutFunctionConcurrency" => self.put_function_concurrency(ctx, input).await,
            "GetFunctionConcurrency" => self.get_function_concurrency(ctx, input),
            "DeleteFunctionConcurrency" => self.delete_function_concurrency(ctx, input).await,
            "TagResource" => self.tag_resource(ctx, input).await,
            "UntagResource" => self.untag_resource(ctx, input).await,
            "ListTags" => self.list_tags(ctx, input),
            "GetAccountSettings" => Ok(self.get_account_settings(ctx)),
            "CreateFunctionUrlConfig" => self.create_function_url_config(ctx, input).await,
            "GetFunctionUrlConfig" => self.get_function_url_config(ctx, input),
            "UpdateFunctionUrlConfig" => self.update_function_url_config(ctx, input).await,
            "DeleteFunctionUrlConfig" => self.delete_function_url_config(ctx, input).await,
            "ListFunctionUrlConfigs" => self.list_function_url_configs(ctx, input),
            "PutFunctionEventInvokeConfig" => self.put_event_invoke_config(ctx, input, true).await,
            "UpdateFunctionEventInvokeConfig" => {
                self.put_event_invoke_config(ctx, input, false).await
            }
            "GetFunctionEventInvokeConfig" => self.get_event_invoke_config(ctx, input),
            "DeleteFunctionEventInvokeConfig" => self.delete_event_invoke_config(ctx, input).await,
            "ListFunctionEventInvokeConfigs" => self.list_event_invoke_configs(ctx, input),
            "PublishLayerVersion" => self.publish_layer_version(ctx, input).await,
            "GetLayerVersion" => self.get_layer_version(ctx, input),
            "GetLayerVersionByArn" => self.get_layer_version_by_arn(ctx, input),
            "ListLayers" => self.list_layers(ctx, input),
            "ListLayerVersions" => self.list_layer_versions(ctx, input),
            "DeleteLayerVersion" => self.delete_layer_version(ctx, input).await,
            "Invoke" => self.invoke_api(ctx, input).await,
            "CreateEventSourceMapping" => self.create_event_source_mapping(ctx, input).await,
            "GetEventSourceMapping" => self.get_event_source_mapping(ctx, input),
            "UpdateEventSourceMapping" => self.update_event_source_mapping(ctx, input).await,
            "DeleteEventSourceMapping" => self.delete_event_source_mapping(ctx, input).await,
            "ListEventSourceMappings" => self.list_event_source_mappings(ctx, input),
            "InvokeAsync" => self.invoke_async_api(ctx, input).await,
            _ => Err(err(
                Code::InvalidRequestContent,
                format!("Aloft does not implement the Lambda operation {op} yet"),
            )
            .with_field("Type", "User")),
        }
    }
}

#[async_trait]
impl Service for Lambda {
    fn spec(&self) -> &'static ServiceSpec {
        &SPEC
    }

    async fn handle(&self, req: AwsRequest) -> Response {
        routes::handle(self, req).await
    }

    async fn internal(&self, req: AwsRequest, path: &str) -> Option<Response> {
        routes::internal(self, req, path).await
    }

    async fn resource_policy(&self, _ctx: &RequestContext, resource: &str) -> Option<String> {
        self.policy_document(resource)
    }

    /// Invoke names its version or alias by `Qualifier` too: the policy checked is that one's.
    fn authorization(
        &self,
        ctx: &RequestContext,
        operation: &str,
        input: &Value,
    ) -> Option<Vec<(String, String)>> {
        let q = input.get("Qualifier").and_then(Value::as_str)?;
        let resource =
            aloft_core::auth::default_resource("lambda", &ctx.region, &ctx.account_id, input);
        if resource == "*" || resource.matches(':').count() > 6 {
            return None;
        }
        Some(vec![(
            aloft_core::auth::default_action("lambda", operation),
            format!("{resource}:{q}"),
        )])
    }

    async fn reset(&self) {
        self.engine.kill_all();
        self.meter.reset();
        {
            let mut s = self.state.lock().expect("state lock");
            *s = State::default();
        }
        let _ = self.ctx.store.clear(NS_FUNCTIONS, b"").await;
        let _ = self.ctx.store.clear(NS_LAYERS, b"").await;
        let _ = self.ctx.store.clear(mappings::NS_MAPPINGS, b"").await;
        let _ = self.ctx.store.clear(streams::NS_POSITIONS, b"").await;
    }

    async fn shutdown(&self) {
        self.meter.flush().await;
        self.engine.kill_all();
        // In-memory mode keeps packages in a per-process temp dir: leave nothing behind.
        if self.ctx.config.data_dir.is_none()
            && let Some(work) = self.code_root.parent()
        {
            let _ = tokio::fs::remove_dir_all(work).await;
        }
    }

    fn status(&self) -> Value {
        serde_json::json!({"status": "running", "environments": self.engine.stats()})
    }
}
