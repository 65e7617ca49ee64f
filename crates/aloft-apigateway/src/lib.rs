//! API Gateway: the REST API control plane (rest-json, `apigateway` 2015-07-09) and invocation
//! of deployed stages, with VTL mapping templates, models, request validators, API keys and
//! usage plans, gateway responses, authorizers, response caching, access logs, and MOCK, HTTP,
//! HTTP_PROXY, AWS and AWS_PROXY integrations; HTTP and WebSocket APIs (`apigatewayv2` under
//! `/v2/`, and the `@connections` management API) in [`v2`].
//!
//! - [`handlers`]: one module per resource family of the REST control plane.
//! - [`invoke`]: requests to `{id}.execute-api.localhost/{stage}/...`,
//!   `/restapis/{id}/{stage}/_user_request_/...` and `/_aws/execute-api/{id}/{stage}/...`;
//!   the API id decides whether a REST, HTTP or WebSocket API answers.
//! - [`model`]: the REST resources as stored and as the API returns them.
//! - [`openapi`]: OpenAPI import and export for REST APIs; [`jwt`]: token checks shared by
//!   Cognito and JWT authorizers; [`access_log`]: stage access logs to CloudWatch Logs.

pub mod access_log;
pub mod error;
pub mod handlers;
pub mod invoke;
pub mod jwt;
pub mod model;
pub mod openapi;
pub mod patch;
pub mod schema;
pub mod v2;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use aloft_core::{AwsRequest, RequestContext, Response, Service, ServiceContext, ServiceSpec};
use aloft_protocol::{AwsError, Protocol};
use aloft_store::{Batch, Commit};
use async_trait::async_trait;
use serde_json::Value;

use crate::error::{Result, not_found};
use crate::model::{Api, ApiKey, UsagePlan};

pub static SPEC: ServiceSpec = ServiceSpec {
    name: "apigateway",
    signing_names: &["apigateway", "execute-api"],
    target_prefixes: &[],
    host_labels: &["execute-api"],
    path_prefixes: &["/_aws/execute-api/", "/restapis/"],
    unsigned_actions: &[],
};

const NS_APIS: &str = "apigateway/apis";
const NS_KEYS: &str = "apigateway/keys";
const NS_PLANS: &str = "apigateway/plans";
/// Control-plane bodies (OpenAPI imports aside) are small; AWS caps payloads at 10 MB.
const BODY_LIMIT: usize = 10 * 1024 * 1024;

/// `account/region`: every key starts with the scope.
pub(crate) fn scope(ctx: &RequestContext) -> String {
    format!("{}/{}", ctx.account_id, ctx.region)
}

#[derive(Default)]
pub struct State {
    /// `account/region/id` → API.
    pub apis: HashMap<String, Api>,
    /// API id → its `account/region/id` key (ids are global, as execute-api hosts need).
    pub api_index: HashMap<String, String>,
    /// `account/region/id` → key; `value_index`: key value → that key.
    pub api_keys: HashMap<String, ApiKey>,
    pub value_index: HashMap<String, String>,
    pub plans: HashMap<String, UsagePlan>,
    /// `account/region/id` → HTTP or WebSocket API; `v2_index`: id → key.
    pub v2: HashMap<String, v2::HttpApi>,
    pub v2_index: HashMap<String, String>,
}

pub struct ApiGateway {
    pub(crate) state: Mutex<State>,
    pub(crate) ctx: ServiceContext,
    pub(crate) limits: invoke::limits::Limiter,
    pub(crate) http: invoke::http::Client,
    pub(crate) authorizer_cache: invoke::authorizers::Cache,
    pub(crate) jwks: jwt::KeyCache,
    pub(crate) response_cache: invoke::cache::Cache,
    pub(crate) metrics: Arc<aloft_events::MetricBatcher>,
    pub(crate) connections: v2::ws::Connections,
    /// WebSocket connections outlive the request that opened them and need the service.
    pub(crate) me: Weak<ApiGateway>,
}

fn load<T: serde::de::DeserializeOwned>(ctx: &ServiceContext, ns: &str) -> Vec<(String, T)> {
    match ctx.store.load(ns, b"") {
        Ok(rows) => rows
            .into_iter()
            .filter_map(|(k, v)| {
                Some((String::from_utf8(k).ok()?, serde_json::from_slice(&v).ok()?))
            })
            .collect(),
        Err(e) => {
            tracing::error!("apigateway: loading {ns} failed: {e}");
            Vec::new()
        }
    }
}

/// Builds the service from its stored state.
pub async fn start(ctx: &ServiceContext) -> Arc<dyn Service> {
    let mut state = State::default();
    for (k, api) in load::<Api>(ctx, NS_APIS) {
        state.api_index.insert(api.info.id.clone(), k.clone());
        state.apis.insert(k, api);
    }
    for (k, key) in load::<ApiKey>(ctx, NS_KEYS) {
        state.value_index.insert(key.value.clone(), k.clone());
        state.api_keys.insert(k, key);
    }
    for (k, plan) in load::<UsagePlan>(ctx, NS_PLANS) {
        state.plans.insert(k, plan);
    }
    for (k, api) in load::<v2::HttpApi>(ctx, v2::NS_V2) {
        state.v2_index.insert(api.info.api_id.clone(), k.clone());
        state.v2.insert(k, api);
    }
    Arc::new_cyclic(|me| ApiGateway {
        me: me.clone(),
        connections: v2::ws::Connections::default(),
        state: Mutex::new(state),
        ctx: ctx.clone(),
        limits: invoke::limits::Limiter::default(),
        http: invoke::http::Client::new(),
        authorizer_cache: invoke::authorizers::Cache::default(),
        jwks: jwt::KeyCache::default(),
        response_cache: invoke::cache::Cache::default(),
        metrics: aloft_events::MetricBatcher::new(ctx.targets.clone()),
    })
}

impl ApiGateway {
    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn put<T: serde::Serialize>(&self, ns: &str, key: &str, v: Option<&T>) -> Commit {
        let mut b = Batch::new();
        match v.and_then(|v| serde_json::to_vec(v).ok()) {
            Some(bytes) => b.put(ns, key.as_bytes().to_vec(), bytes),
            None => b.delete(ns, key.as_bytes().to_vec()),
        }
        self.ctx.store.submit(b)
    }

    /// Reads an API of the caller's scope.
    pub(crate) fn read_api<T>(
        &self,
        ctx: &RequestContext,
        id: &str,
        f: impl FnOnce(&Api) -> Result<T>,
    ) -> Result<T> {
        let st = self.lock();
        let key = format!("{}/{id}", scope(ctx));
        let api = st.apis.get(&key).ok_or_else(|| invalid_api(ctx, id))?;
        f(api)
    }

    /// Changes an API of the caller's scope and journals it.
    pub(crate) async fn edit_api<T>(
        &self,
        ctx: &RequestContext,
        id: &str,
        f: impl FnOnce(&mut Api) -> Result<T>,
    ) -> Result<T> {
        let (out, commit) = {
            let mut st = self.lock();
            let key = format!("{}/{id}", scope(ctx));
            let api = st.apis.get_mut(&key).ok_or_else(|| invalid_api(ctx, id))?;
            let mut copy = api.clone();
            let out = f(&mut copy)?;
            *api = copy;
            let commit = self.put(NS_APIS, &key, Some(&*api));
            (out, commit)
        };
        commit
            .await
            .map_err(|e| AwsError::internal(e.to_string()))?;
        Ok(out)
    }

    pub(crate) fn commit_key(&self, key: &str, v: Option<&ApiKey>) -> Commit {
        self.put(NS_KEYS, key, v)
    }

    pub(crate) fn commit_plan(&self, key: &str, v: Option<&UsagePlan>) -> Commit {
        self.put(NS_PLANS, key, v)
    }

    pub(crate) fn commit_api(&self, key: &str, v: Option<&Api>) -> Commit {
        self.put(NS_APIS, key, v)
    }

    async fn control(&self, mut req: AwsRequest) -> Response {
        // HTTP and WebSocket APIs share the signing name; their API lives under `/v2/`.
        let v2 = req.path().starts_with("/v2/");
        let model = aloft_model::get(if v2 { "apigatewayv2" } else { "apigateway" })
            .expect("apigateway models");
        let rid = req.ctx.request_id.clone();
        let body = match req
            .bytes(BODY_LIMIT, || {
                error::bad_request("Request body is larger than 10 MB")
            })
            .await
        {
            Ok(b) => b,
            Err(e) => {
                return aloft_core::body::from_bytes(aloft_protocol::encode_error(
                    model,
                    Protocol::RestJson,
                    &e,
                    &rid,
                ));
            }
        };
        let call = match aloft_protocol::decode(model, &req.parts, &body) {
            Ok(c) => c,
            Err(rej) => return aloft_core::body::from_bytes(rej.response(model, &rid)),
        };
        let result = if v2 {
            v2::handlers::dispatch(self, &req.ctx, call.operation, call.input).await
        } else {
            handlers::dispatch(self, &req.ctx, call.operation, call.input).await
        };
        let resp = match result {
            Ok(out) => {
                aloft_protocol::encode_output(model, call.operation, call.protocol, &out, &rid)
            }
            Err(e) => aloft_protocol::encode_error(model, call.protocol, &e, &rid),
        };
        aloft_core::body::from_bytes(resp)
    }
}

pub(crate) fn invalid_api(ctx: &RequestContext, id: &str) -> AwsError {
    not_found(format!(
        "Invalid API identifier specified {}:{id}",
        ctx.account_id
    ))
}

#[async_trait]
impl Service for ApiGateway {
    fn spec(&self) -> &'static ServiceSpec {
        &SPEC
    }

    async fn handle(&self, req: AwsRequest) -> Response {
        match invoke::target(&req) {
            Some(target) => {
                let websocket = {
                    let st = self.lock();
                    st.v2_index
                        .get(&target.api_id)
                        .and_then(|k| st.v2.get(k))
                        .map(v2::HttpApi::is_websocket)
                };
                match websocket {
                    Some(true) => self.invoke_websocket(req, target).await,
                    Some(false) => self.invoke_http_api(req, target).await,
                    None => self.invoke(req, target).await,
                }
            }
            None => self.control(req).await,
        }
    }

    async fn reset(&self) {
        let commits = {
            let mut st = self.lock();
            *st = State::default();
            [NS_APIS, NS_KEYS, NS_PLANS, v2::NS_V2].map(|ns| self.ctx.store.clear(ns, b""))
        };
        for c in commits {
            let _ = c.await;
        }
        self.limits.reset();
        self.authorizer_cache.reset();
        self.jwks.reset();
        self.response_cache.reset();
        self.metrics.reset();
        self.connections.reset();
    }

    /// Tallied metrics go out; open WebSocket connections are told the endpoint is going
    /// away (1001).
    async fn shutdown(&self) {
        self.metrics.flush().await;
        self.connections.reset();
    }

    fn status(&self) -> Value {
        let st = self.lock();
        let websockets = st.v2.values().filter(|a| a.is_websocket()).count();
        serde_json::json!({
            "state": "running",
            "restApis": st.apis.len(),
            "httpApis": st.v2.len() - websockets,
            "webSocketApis": websockets,
            "connections": self.connections.count(),
        })
    }
}
