//! Invoking HTTP APIs: stage resolution (`$default` serves paths without a stage), route
//! selection (`GET /items/{id}`, `ANY /{proxy+}`, `$default`), CORS, JWT / Lambda / IAM
//! authorization, and Lambda (payload 2.0 and 1.0) and HTTP proxy integrations.

use std::sync::Arc;
use std::time::Duration;

use aloft_core::{AwsRequest, Response};
use aloft_events::Delivery;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::Bytes;
use http_body_util::Full;
use indexmap::IndexMap;
use serde_json::{Map, Value, json};

use super::auth::Denied;
use super::params::{map_request, map_response, mapping_context, replace_url_path};
use super::payloads::{event_v1, event_v2, response_v2};
use super::{Route, Snapshot, Stage};
use crate::ApiGateway;
use crate::invoke::{self, Target, lambda};

/// HTTP APIs answer their own errors with a bare message.
pub(crate) fn error(status: u16, message: &str, rid: &str) -> Response {
    let mut headers = vec![
        ("Content-Type".to_string(), "application/json".to_string()),
        ("apigw-requestid".to_string(), rid.to_string()),
    ];
    if status == 401 {
        headers.push(("www-authenticate".into(), "Bearer".into()));
    }
    invoke::response(
        status,
        headers,
        Bytes::from(json!({ "message": message }).to_string()),
    )
}

fn not_found(rid: &str) -> Response {
    error(404, "Not Found", rid)
}

fn internal(rid: &str) -> Response {
    error(500, "Internal Server Error", rid)
}

/// The request as the integrations and authorizers see it.
#[derive(Clone)]
pub(crate) struct Incoming {
    pub method: String,
    /// The path as the client sent it (with a named stage in front).
    pub raw_path: String,
    /// The path routes match (without the stage).
    pub path: String,
    pub raw_query: String,
    pub query: IndexMap<String, Vec<String>>,
    /// Lowercase names, values in order.
    pub headers: IndexMap<String, Vec<String>>,
    pub body: Bytes,
    pub stage: String,
    pub api_id: String,
    pub account: String,
    pub region: String,
    pub request_id: String,
}

impl Incoming {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .and_then(|v| v.first())
            .map(String::as_str)
    }

    pub(crate) fn joined_headers(&self) -> Map<String, Value> {
        self.headers
            .iter()
            .filter(|(k, _)| k.as_str() != "cookie")
            .map(|(k, v)| (k.clone(), Value::String(v.join(","))))
            .collect()
    }

    pub(crate) fn cookies(&self) -> Vec<String> {
        self.headers
            .get("cookie")
            .into_iter()
            .flatten()
            .flat_map(|c| c.split(';').map(|p| p.trim().to_string()))
            .filter(|c| !c.is_empty())
            .collect()
    }

    /// HTTP APIs hand text bodies over as text and everything else base64-encoded, form
    /// posts included.
    pub(crate) fn body_value(&self) -> (Value, bool) {
        if self.body.is_empty() {
            return (Value::Null, false);
        }
        let ct = self
            .header("content-type")
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let text = ct.is_empty()
            || ct.starts_with("text/")
            || ct.ends_with("/json")
            || ct.ends_with("+json")
            || ct.ends_with("/xml")
            || ct.ends_with("+xml")
            || ct == "application/javascript";
        match std::str::from_utf8(&self.body) {
            Ok(s) if text => (Value::String(s.to_string()), false),
            _ => (Value::String(B64.encode(&self.body)), true),
        }
    }

    pub fn source_ip(&self) -> &str {
        self.header("x-forwarded-for")
            .and_then(|v| v.split(',').next())
            .map_or("127.0.0.1", str::trim)
    }

    pub(crate) fn route_arn(&self) -> String {
        format!(
            "arn:aws:execute-api:{}:{}:{}/{}/{}{}",
            self.region, self.account, self.api_id, self.stage, self.method, self.path
        )
    }
}

/// The route for a request: the most specific key wins (literal segments, then variables,
/// then a greedy variable; an exact method beats ANY); `$default` catches the rest.
pub(crate) fn match_route<'a>(
    routes: impl Iterator<Item = &'a Route>,
    method: &str,
    path: &str,
) -> Option<(&'a Route, IndexMap<String, String>)> {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    type Scored<'r> = ((u32, u32, u32, u32), &'r Route, IndexMap<String, String>);
    let mut best: Option<Scored<'a>> = None;
    let mut default = None;
    for r in routes {
        if r.route_key == "$default" {
            default = Some(r);
            continue;
        }
        let Some((m, p)) = r.route_key.split_once(' ') else {
            continue;
        };
        if m != method && m != "ANY" {
            continue;
        }
        let parts: Vec<&str> = p.split('/').filter(|s| !s.is_empty()).collect();
        let mut params = IndexMap::new();
        let (mut literal, mut vars, mut greedy) = (0u32, 0u32, 0u32);
        let mut i = 0;
        let mut ok = true;
        for (pi, part) in parts.iter().enumerate() {
            if let Some(name) = part.strip_prefix('{').and_then(|x| x.strip_suffix("+}")) {
                if i >= segs.len() || pi != parts.len() - 1 {
                    ok = false;
                    break;
                }
                params.insert(name.to_string(), invoke::decode(&segs[i..].join("/")));
                i = segs.len();
                greedy = 1;
                break;
            }
            let Some(seg) = segs.get(i) else {
                ok = false;
                break;
            };
            if let Some(name) = part.strip_prefix('{').and_then(|x| x.strip_suffix('}')) {
                params.insert(name.to_string(), invoke::decode(seg));
                vars += 1;
            } else if *part == invoke::decode(seg) {
                literal += 1;
            } else {
                ok = false;
                break;
            }
            i += 1;
        }
        if !ok || i != segs.len() {
            continue;
        }
        let score = (literal, vars, 1 - greedy, u32::from(m == method));
        if best.as_ref().is_none_or(|(s, _, _)| score > *s) {
            best = Some((score, r, params));
        }
    }
    best.map(|(_, r, p)| (r, p))
        .or_else(|| default.map(|r| (r, IndexMap::new())))
}

/// CORS headers for an allowed origin (HTTP APIs replace what the integration sent).
fn cors_headers(cors: &Value, origin: &str, preflight: bool) -> Option<Vec<(String, String)>> {
    let list = |k: &str| -> Vec<String> {
        cors.get(k)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let origins = list("AllowOrigins");
    let allowed = origins
        .iter()
        .any(|o| o == "*" || o.eq_ignore_ascii_case(origin));
    if !allowed {
        return None;
    }
    let credentials = cors.get("AllowCredentials").and_then(Value::as_bool) == Some(true);
    let mut h = vec![(
        "access-control-allow-origin".to_string(),
        if origins.iter().any(|o| o == "*") && !credentials {
            "*".to_string()
        } else {
            origin.to_string()
        },
    )];
    if credentials {
        h.push(("access-control-allow-credentials".into(), "true".into()));
    }
    if preflight {
        let methods = list("AllowMethods");
        if !methods.is_empty() {
            h.push(("access-control-allow-methods".into(), methods.join(",")));
        }
        let headers = list("AllowHeaders");
        if !headers.is_empty() {
            h.push(("access-control-allow-headers".into(), headers.join(",")));
        }
        if let Some(age) = cors.get("MaxAge").and_then(Value::as_i64) {
            h.push(("access-control-max-age".into(), age.to_string()));
        }
    } else {
        let expose = list("ExposeHeaders");
        if !expose.is_empty() {
            h.push(("access-control-expose-headers".into(), expose.join(",")));
        }
    }
    Some(h)
}

impl ApiGateway {
    /// Finds the HTTP API for `target`: `(snapshot, stage, path without the stage)`.
    fn resolve_v2(
        &self,
        target: &Target,
    ) -> Option<(Arc<Snapshot>, Stage, String, String, String)> {
        let st = self.lock();
        let key = st.v2_index.get(&target.api_id)?;
        let api = st.v2.get(key)?;
        let mut parts = key.split('/');
        let (account, region) = (parts.next()?.to_string(), parts.next()?.to_string());
        let (stage, path) = match api.stages.get(&target.stage) {
            Some(s) if target.stage != "$default" => (s, target.path.clone()),
            _ => {
                let s = api.stages.get("$default")?;
                let path = if target.stage.is_empty() {
                    "/".to_string()
                } else if target.path == "/" {
                    format!("/{}", target.stage)
                } else {
                    format!("/{}{}", target.stage, target.path)
                };
                (s, path)
            }
        };
        let dep = api.deployments.get(stage.deployment_id.as_deref()?)?;
        Some((dep.snapshot.clone(), stage.clone(), path, account, region))
    }

    pub(crate) async fn invoke_http_api(&self, mut req: AwsRequest, target: Target) -> Response {
        let rid = req.ctx.request_id.clone();
        let Some((snap, stage, path, account, region)) = self.resolve_v2(&target) else {
            return not_found(&rid);
        };
        let body = match req
            .bytes(10 * 1024 * 1024, || {
                aloft_core::AwsError::new("RequestTooLarge", 413, "Request Entity Too Large")
            })
            .await
        {
            Ok(b) => b,
            Err(_) => return error(413, "Request Entity Too Large", &rid),
        };
        let mut headers: IndexMap<String, Vec<String>> = IndexMap::new();
        for (k, v) in &req.parts.headers {
            if let Ok(v) = v.to_str() {
                headers
                    .entry(k.as_str().to_string())
                    .or_default()
                    .push(v.to_string());
            }
        }
        let raw_path = if stage.stage_name == "$default" {
            path.clone()
        } else if path == "/" {
            format!("/{}", stage.stage_name)
        } else {
            format!("/{}{path}", stage.stage_name)
        };
        let inc = Incoming {
            method: req.parts.method.as_str().to_string(),
            raw_path,
            path,
            raw_query: req.query().to_string(),
            query: invoke::parse_query(req.query()),
            headers,
            body,
            stage: stage.stage_name.clone(),
            api_id: target.api_id.clone(),
            account,
            region,
            request_id: rid.clone(),
        };
        let origin = inc.header("origin").map(str::to_string);
        let cors = snap.info.cors_configuration.as_ref();
        // Preflights are answered by the API's CORS configuration, before any route.
        if let (Some(cors), Some(origin)) = (cors, origin.as_deref())
            && inc.method == "OPTIONS"
            && inc.header("access-control-request-method").is_some()
        {
            let mut h = cors_headers(cors, origin, true).unwrap_or_default();
            h.push(("apigw-requestid".into(), rid.clone()));
            return invoke::response(204, h, Bytes::new());
        }
        let started = std::time::Instant::now();
        let request_time = invoke::request_time();
        let request_epoch = aloft_core::clock::now_millis();
        let (mut resp, extra) = self.route_http(&snap, &stage, &inc, &req).await;
        if let (Some(cors), Some(origin)) = (cors, origin.as_deref())
            && let Some(h) = cors_headers(cors, origin, false)
        {
            let hm = resp.headers_mut();
            for name in [
                "access-control-allow-origin",
                "access-control-allow-credentials",
                "access-control-expose-headers",
            ] {
                hm.remove(name);
            }
            for (k, v) in h {
                if let (Ok(n), Ok(v)) = (
                    ::http::HeaderName::from_bytes(k.as_bytes()),
                    ::http::HeaderValue::from_str(&v),
                ) {
                    hm.append(n, v);
                }
            }
        }
        if let Ok(v) = ::http::HeaderValue::from_str(&rid) {
            resp.headers_mut().insert("apigw-requestid", v);
        }
        if crate::access_log::settings(stage.access_log_settings.as_ref()).is_some() {
            use ::http_body::Body as _;
            let mut ctx = json!({
                "accountId": inc.account,
                "apiId": inc.api_id,
                "domainName": inc.header("host"),
                "domainPrefix": inc.api_id,
                "httpMethod": inc.method,
                "identity": {"sourceIp": inc.source_ip(), "userAgent": inc.header("user-agent")},
                "path": inc.raw_path,
                "protocol": "HTTP/1.1",
                "requestId": rid,
                "extendedRequestId": rid,
                "requestTime": request_time,
                "requestTimeEpoch": request_epoch,
                "responseLatency": u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                "responseLength": resp.body().size_hint().exact().unwrap_or(0),
                "stage": inc.stage,
                "status": resp.status().as_u16(),
            });
            if let (Value::Object(c), Value::Object(x)) = (&mut ctx, extra) {
                c.extend(x);
            }
            let stream = format!("{}_{}", inc.api_id, inc.stage);
            self.access_log(stage.access_log_settings.as_ref(), &ctx, stream);
        }
        resp
    }

    async fn route_http(
        &self,
        snap: &Snapshot,
        stage: &Stage,
        inc: &Incoming,
        req: &AwsRequest,
    ) -> (Response, Value) {
        let rid = &inc.request_id;
        let Some((route, params)) = match_route(snap.routes.values(), &inc.method, &inc.path)
        else {
            return (not_found(rid), failure("Not Found", None));
        };
        let key = Some(route.route_key.as_str());
        if self.throttled(stage, route, inc) {
            return (
                error(429, "Too Many Requests", rid),
                failure("Too Many Requests", key),
            );
        }
        let authorizer = match self.authorize_http(snap, route, stage, inc, req).await {
            Ok(a) => a,
            Err(Denied::Unauthorized(why)) => {
                let mut r = error(401, "Unauthorized", rid);
                if let Ok(v) = ::http::HeaderValue::from_str(&format!(
                    "Bearer scope=\"\" error=\"invalid_token\" error_description=\"{why}\""
                )) {
                    r.headers_mut().insert("www-authenticate", v);
                }
                let mut log = failure("Unauthorized", key);
                log["authorizer"] = json!({"error": why});
                return (r, log);
            }
            Err(Denied::Forbidden) => {
                return (error(403, "Forbidden", rid), failure("Forbidden", key));
            }
            Err(Denied::Broken) => {
                return (internal(rid), failure("Internal Server Error", key));
            }
        };
        let Some(integration) = route
            .target
            .as_deref()
            .and_then(|t| t.strip_prefix("integrations/"))
            .and_then(|id| snap.integrations.get(id))
        else {
            return (not_found(rid), failure("Not Found", key));
        };
        // The access log's variables, gathered only when the stage logs.
        let logging = stage.access_log_settings.is_some();
        let mut log = Value::Null;
        if logging {
            log = json!({"routeKey": route.route_key});
            if !authorizer.is_null() {
                log["authorizer"] = super::params::context_authorizer(&authorizer);
            }
        }
        let vars = stage.stage_variables.clone().unwrap_or_default();
        let uri = invoke::substitute_stage_vars(
            integration.integration_uri.as_deref().unwrap_or(""),
            &vars,
        );
        let has = |m: Option<&Value>| m.and_then(Value::as_object).is_some_and(|m| !m.is_empty());
        // Built only when the integration maps parameters: this is the hot path.
        let mapping_ctx = (has(integration.request_parameters.as_ref())
            || has(integration.response_parameters.as_ref()))
        .then(|| mapping_context(inc, route, &authorizer));
        // Parameter mapping: the integration sees the request as its RequestParameters
        // rewrite it.
        let mapped;
        let (inc, path_override) = if let Some(ctx) = mapping_ctx
            .as_ref()
            .filter(|_| has(integration.request_parameters.as_ref()))
        {
            let (m, p) = map_request(inc, integration, &params, ctx, &vars);
            mapped = m;
            (&mapped, p)
        } else {
            (inc, None)
        };
        let started = std::time::Instant::now();
        let mut integration_status: Option<u16> = None;
        let mut integration_error: Option<&str> = None;
        let resp = match integration.integration_type.as_str() {
            "AWS_PROXY" => {
                let arn = lambda::function_arn(&uri).unwrap_or(&uri).to_string();
                let v2 = integration.payload_format_version.as_deref() != Some("1.0");
                let event = if v2 {
                    event_v2(inc, route, &params, &vars, authorizer)
                } else {
                    event_v1(inc, route, &params, &vars, authorizer)
                };
                let source = format!(
                    "arn:aws:execute-api:{}:{}:{}/{}/{}{}",
                    inc.region,
                    inc.account,
                    inc.api_id,
                    inc.stage,
                    inc.method,
                    route.route_key.split_once(' ').map_or("", |(_, p)| p)
                );
                let called = self.call_function(&arn, event, inc, source).await;
                if let Some((_, failed)) = &called {
                    // The Invoke call's status: a function error is still a 200 invoke.
                    integration_status = Some(200);
                    if *failed {
                        integration_error = Some("The Lambda function returned an error");
                    }
                }
                match called {
                    Some((payload, false)) => {
                        let parsed = if v2 {
                            response_v2(&payload)
                        } else {
                            lambda::parse_response(&payload)
                                .map(|p| invoke::response(p.status, p.headers, p.body))
                        };
                        parsed.unwrap_or_else(|| internal(rid))
                    }
                    _ => internal(rid),
                }
            }
            "HTTP_PROXY" => {
                let r = self
                    .http_proxy_v2(&uri, integration, inc, &params, path_override.as_deref())
                    .await;
                // The gateway's own answers (timeout, unreachable) carry apigw-requestid
                // already; the backend's status is the integration status.
                if !r.headers().contains_key("apigw-requestid") {
                    integration_status = Some(r.status().as_u16());
                }
                r
            }
            _ => internal(rid),
        };
        if logging {
            let status = resp.status().as_u16();
            log_integration(
                &mut log,
                integration_status,
                integration_error,
                started,
                inc,
                status,
            );
        }
        // Response mappings apply to what the integration answered, not to the gateway's own
        // errors (a failed function, an unreachable backend).
        let resp = match &mapping_ctx {
            Some(ctx) if integration_status.is_some() && integration_error.is_none() => {
                map_response(resp, integration, inc, &params, ctx, &vars).await
            }
            _ => resp,
        };
        (resp, log)
    }

    /// Stage throttling: the route's settings, else the stage's default route settings.
    fn throttled(&self, stage: &Stage, route: &Route, inc: &Incoming) -> bool {
        let settings = stage
            .route_settings
            .as_ref()
            .and_then(|r| r.get(&route.route_key))
            .filter(|s| s.get("ThrottlingRateLimit").is_some())
            .or(stage.default_route_settings.as_ref());
        let Some(rate) = settings
            .and_then(|s| s.get("ThrottlingRateLimit"))
            .and_then(Value::as_f64)
        else {
            return false;
        };
        #[allow(clippy::cast_precision_loss)]
        let burst = settings
            .and_then(|s| s.get("ThrottlingBurstLimit"))
            .and_then(Value::as_i64)
            .unwrap_or(5000) as f64;
        let key = format!("v2/{}/{}/{}", inc.api_id, inc.stage, route.route_key);
        self.limits
            .take(&key, rate, burst, aloft_core::clock::now_millis())
            .is_err()
    }

    /// Invokes a function synchronously: `(payload, failed)`; `None` if it could not run.
    pub(crate) async fn call_function(
        &self,
        arn: &str,
        event: Value,
        inc: &Incoming,
        source_arn: String,
    ) -> Option<(Bytes, bool)> {
        let d = Delivery {
            payload: Bytes::from(event.to_string()),
            sync: true,
            source_arn: Some(source_arn),
            account: inc.account.clone(),
            region: arn.split(':').nth(3).unwrap_or(&inc.region).to_string(),
            ..Default::default()
        };
        match self.ctx.targets.deliver(arn, d).await {
            Ok(out) => Some((
                out.payload.unwrap_or_default(),
                out.info.get("FunctionError").is_some(),
            )),
            Err(e) => {
                tracing::warn!("apigateway: invoking {arn} failed: {}", e.message);
                None
            }
        }
    }

    async fn http_proxy_v2(
        &self,
        uri: &str,
        i: &super::Integration,
        inc: &Incoming,
        params: &IndexMap<String, String>,
        path_override: Option<&str>,
    ) -> Response {
        let rid = &inc.request_id;
        let mut url = uri.to_string();
        for (k, v) in params {
            let enc = |s: &str| {
                percent_encoding::utf8_percent_encode(s, invoke::PATH_SEGMENT).to_string()
            };
            url = url.replace(
                &format!("{{{k}+}}"),
                &v.split('/').map(enc).collect::<Vec<_>>().join("/"),
            );
            url = url.replace(&format!("{{{k}}}"), &enc(v));
        }
        if let Some(p) = path_override {
            url = replace_url_path(&url, p);
        }
        if !inc.raw_query.is_empty() {
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&inc.raw_query);
        }
        let method = match i.integration_method.as_deref() {
            None | Some("ANY") => inc.method.as_str(),
            Some(m) => m,
        };
        let mut b = ::http::Request::builder().method(method).uri(&url);
        for (k, vs) in &inc.headers {
            if matches!(k.as_str(), "host" | "content-length" | "connection") {
                continue;
            }
            for v in vs {
                b = b.header(k.as_str(), v.as_str());
            }
        }
        let Ok(req) = b.body(Full::new(inc.body.clone())) else {
            return internal(rid);
        };
        let timeout =
            Duration::from_millis(u64::try_from(i.timeout_in_millis).unwrap_or(30_000).max(50));
        match self.http.send(req, timeout).await {
            Ok(ans) => {
                let headers = ans
                    .headers
                    .iter()
                    .filter(|(k, _)| {
                        !matches!(
                            k.as_str(),
                            "transfer-encoding" | "connection" | "content-length"
                        )
                    })
                    .filter_map(|(k, v)| {
                        Some((k.as_str().to_string(), v.to_str().ok()?.to_string()))
                    })
                    .collect();
                invoke::response(ans.status, headers, ans.body)
            }
            Err(invoke::http::Failure::Timeout) => error(503, "Service Unavailable", rid),
            Err(invoke::http::Failure::Other(e)) => {
                tracing::warn!("apigateway: HTTP integration {url} failed: {e}");
                internal(rid)
            }
        }
    }
}

/// The integration's part of the access log variables.
fn log_integration(
    log: &mut Value,
    integration_status: Option<u16>,
    integration_error: Option<&str>,
    started: std::time::Instant,
    inc: &Incoming,
    status: u16,
) {
    let latency = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let st = integration_status.map(|s| s.to_string());
    log["integrationStatus"] = json!(st);
    log["integrationErrorMessage"] = json!(integration_error);
    log["integrationLatency"] = json!(latency);
    log["integration"] = json!({
        "status": st,
        "integrationStatus": st,
        "latency": latency,
        "requestId": inc.request_id,
        "error": integration_error,
    });
    if status >= 500 && st.is_none() {
        let msg = if status == 503 {
            "Service Unavailable"
        } else {
            "Internal Server Error"
        };
        log["error"] = json!({"message": msg, "messageString": format!("\"{msg}\"")});
    }
}

/// The access log variables of a request the gateway answered itself.
fn failure(message: &str, route_key: Option<&str>) -> Value {
    json!({
        "routeKey": route_key,
        "error": {"message": message, "messageString": format!("\"{message}\"")},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(key: &str) -> Route {
        Route {
            route_id: key.into(),
            route_key: key.into(),
            ..Default::default()
        }
    }

    #[test]
    fn route_selection() {
        let routes = [
            route("GET /items/{id}"),
            route("GET /items/special"),
            route("ANY /items/{id}"),
            route("ANY /{proxy+}"),
            route("$default"),
        ];
        let m = |method: &str, p: &str| {
            match_route(routes.iter(), method, p)
                .map(|(r, params)| (r.route_key.clone(), params))
                .unwrap()
        };
        assert_eq!(m("GET", "/items/special").0, "GET /items/special");
        let (k, p) = m("GET", "/items/42");
        assert_eq!((k.as_str(), p["id"].as_str()), ("GET /items/{id}", "42"));
        assert_eq!(m("DELETE", "/items/42").0, "ANY /items/{id}");
        let (k, p) = m("POST", "/a/b/c");
        assert_eq!(
            (k.as_str(), p["proxy"].as_str()),
            ("ANY /{proxy+}", "a/b/c")
        );
        assert_eq!(m("GET", "/").0, "$default");
    }

    #[test]
    fn cors() {
        let c = json!({"AllowOrigins": ["https://app.example"], "AllowMethods": ["GET", "POST"], "AllowHeaders": ["authorization"], "MaxAge": 300, "ExposeHeaders": ["x-id"]});
        let pre = cors_headers(&c, "https://app.example", true).unwrap();
        assert!(pre.contains(&("access-control-allow-methods".into(), "GET,POST".into())));
        assert!(pre.contains(&("access-control-max-age".into(), "300".into())));
        assert!(cors_headers(&c, "https://evil.example", true).is_none());
        let star = json!({"AllowOrigins": ["*"]});
        assert_eq!(cors_headers(&star, "http://x", false).unwrap()[0].1, "*");
    }
}
