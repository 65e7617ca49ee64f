//! Invoking a deployed stage: route → resource → method → API key and limits → validation →
//! integration → integration response → method response.

pub mod authorizers;
pub mod cache;
pub mod context;
pub mod http;
pub mod lambda;
pub mod limits;
pub mod mapping;
pub mod metrics;
pub mod nonproxy;
pub mod proxy;
pub mod responses;

use aloft_core::{AwsRequest, Response};
use bytes::Bytes;
use indexmap::IndexMap;
use serde_json::{Value, json};

use crate::ApiGateway;
use crate::model::{Method, Snapshot, Stage};
use context::LazyContext;
use mapping::Params;
use responses::GatewayError;

/// Where an invocation goes: API, stage and the path after the stage (still encoded).
pub struct Target {
    pub api_id: String,
    pub stage: String,
    pub path: String,
}

/// Recognizes the three invocation URL forms.
pub fn target(req: &AwsRequest) -> Option<Target> {
    let path = req.path();
    let split = |rest: &str| -> (String, String) {
        let rest = rest.trim_start_matches('/');
        match rest.split_once('/') {
            Some((stage, p)) => (stage.to_string(), format!("/{p}")),
            None => (rest.to_string(), "/".to_string()),
        }
    };
    if req.ctx.host_label == Some("execute-api") {
        let id = req
            .ctx
            .host_prefix
            .as_deref()?
            .split('.')
            .next_back()?
            .to_string();
        let (stage, path) = split(path);
        return Some(Target {
            api_id: id,
            stage,
            path,
        });
    }
    if let Some(rest) = path.strip_prefix("/_aws/execute-api/") {
        let (id, rest) = rest.split_once('/').unwrap_or((rest, ""));
        let (stage, path) = split(rest);
        return Some(Target {
            api_id: id.to_string(),
            stage,
            path,
        });
    }
    let rest = path.strip_prefix("/restapis/")?;
    let (id, rest) = rest.split_once('/')?;
    let (stage, rest) = rest.split_once('/')?;
    let rest = rest.strip_prefix("_user_request_")?;
    Some(Target {
        api_id: id.to_string(),
        stage: stage.to_string(),
        path: if rest.is_empty() {
            "/".into()
        } else {
            rest.to_string()
        },
    })
}

pub(crate) fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// Finds the resource for a path: literal parts beat `{var}`, which beats `{proxy+}`.
fn match_resource<'a>(
    snap: &'a Snapshot,
    path: &str,
) -> Option<(&'a crate::model::Resource, IndexMap<String, String>)> {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let mut best: Option<(u32, &crate::model::Resource, IndexMap<String, String>)> = None;
    for r in snap.resources.values() {
        let parts: Vec<&str> = r.path.split('/').filter(|s| !s.is_empty()).collect();
        let mut params = IndexMap::new();
        let mut score = 0u32;
        let mut ok = true;
        let mut i = 0;
        for (pi, p) in parts.iter().enumerate() {
            if let Some(name) = p.strip_prefix('{').and_then(|p| p.strip_suffix("+}")) {
                if i >= segs.len() || pi != parts.len() - 1 {
                    ok = false;
                    break;
                }
                params.insert(name.to_string(), decode(&segs[i..].join("/")));
                i = segs.len();
                break;
            }
            let Some(seg) = segs.get(i) else {
                ok = false;
                break;
            };
            if let Some(name) = p.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                params.insert(name.to_string(), decode(seg));
                score = score * 4 + 2;
            } else if *p == decode(seg) {
                score = score * 4 + 3;
            } else {
                ok = false;
                break;
            }
            i += 1;
        }
        if !ok || i != segs.len() {
            continue;
        }
        // Deeper literal matches win; a greedy match counts least.
        let score = score
            .saturating_mul(4)
            .saturating_add(u32::try_from(parts.len()).unwrap_or(0));
        if best.as_ref().is_none_or(|(s, _, _)| score > *s) {
            best = Some((score, r, params));
        }
    }
    best.map(|(_, r, p)| (r, p))
}

pub(crate) fn parse_query(q: &str) -> IndexMap<String, Vec<String>> {
    let mut m: IndexMap<String, Vec<String>> = IndexMap::new();
    for pair in q.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let d = |s: &str| decode(&s.replace('+', " "));
        m.entry(d(k)).or_default().push(d(v));
    }
    m
}

/// What a stage invocation resolved to. The deployment's definitions are borrowed from
/// the snapshot and stage the request holds (nothing of them is copied per request).
struct Call<'a> {
    snap: &'a Snapshot,
    stage: &'a Stage,
    resource_path: &'a str,
    method: &'a Method,
    params: Params,
    body: Bytes,
    context: LazyContext<'a>,
    http_method: String,
    region: String,
    /// `usageIdentifierKey` from a Lambda authorizer (API key source AUTHORIZER).
    authorizer_key: Option<String>,
}

pub(crate) fn response(status: u16, headers: Vec<(String, String)>, body: Bytes) -> Response {
    let mut resp = ::http::Response::new(aloft_core::body::full(body));
    *resp.status_mut() = ::http::StatusCode::from_u16(status).unwrap_or(::http::StatusCode::OK);
    for (k, v) in headers {
        if let (Ok(n), Ok(v)) = (
            ::http::HeaderName::from_bytes(k.as_bytes()),
            ::http::HeaderValue::from_str(&v),
        ) {
            resp.headers_mut().append(n, v);
        }
    }
    resp
}

impl ApiGateway {
    /// Serves one API request and tallies API Gateway's standard metrics for it.
    pub(crate) async fn invoke(&self, req: AwsRequest, target: Target) -> Response {
        let started = std::time::Instant::now();
        let mut meter = Meter::default();
        let resp = self.invoke_unmetered(req, target, &mut meter).await;
        if let Some(stamp) = &meter.api {
            let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
            let integration_ms = meter.integration.map_or(0.0, |d| d.as_secs_f64() * 1000.0);
            metrics::record(
                &self.metrics,
                stamp,
                resp.status().as_u16(),
                latency_ms,
                integration_ms,
            );
        }
        resp
    }

    async fn invoke_unmetered(
        &self,
        mut req: AwsRequest,
        target: Target,
        meter: &mut Meter,
    ) -> Response {
        let rid = req.ctx.request_id.clone();
        let resolved = {
            let st = self.lock();
            st.api_index.get(&target.api_id).and_then(|k| {
                let api = st.apis.get(k)?;
                let stage = api.stages.get(&target.stage)?;
                let dep = api.deployments.get(&stage.deployment_id)?;
                let mut scope = k.split('/');
                let account = scope.next().unwrap_or("000000000000");
                let region = scope.next().unwrap_or("us-east-1");
                Some((
                    dep.snapshot.clone(),
                    stage.clone(),
                    metrics::Stamp {
                        account: account.into(),
                        region: region.into(),
                        api_name: api.info.name.as_str().into(),
                        stage: target.stage.as_str().into(),
                    },
                ))
            })
        };
        let Some((snap, stage, stamp)) = resolved else {
            let err = GatewayError::new("MISSING_AUTHENTICATION_TOKEN", "Forbidden");
            return aloft_core::body::from_bytes(responses::render(&err, None, &json!({}), &rid));
        };
        let (account, region) = (stamp.account.to_string(), stamp.region.to_string());
        meter.api = Some(stamp);
        let stage_log = stage
            .access_log_settings
            .as_ref()
            .filter(|s| crate::access_log::settings(Some(s)).is_some());
        let body = match req
            .bytes(10 * 1024 * 1024, || {
                aloft_core::AwsError::new("RequestTooLarge", 413, "Request Too Long")
            })
            .await
        {
            Ok(b) => b,
            Err(_) => {
                let err = GatewayError::new("REQUEST_TOO_LARGE", "Request Too Long");
                return aloft_core::body::from_bytes(responses::render(
                    &err,
                    Some(&snap),
                    &json!({}),
                    &rid,
                ));
            }
        };
        let mut headers: IndexMap<String, Vec<String>> = IndexMap::new();
        for (k, v) in &req.parts.headers {
            if let Ok(v) = v.to_str() {
                headers
                    .entry(canonical(k.as_str()))
                    .or_default()
                    .push(v.to_string());
            }
        }
        let method_name = req.parts.method.as_str();
        let mut base = context::Base {
            account: &account,
            api_id: &target.api_id,
            stage: &target.stage,
            request_id: &rid,
            http_method: method_name,
            domain_name: req.header("host").unwrap_or("localhost"),
            path: &target.path,
            time_ms: aloft_core::clock::now_millis(),
            source_ip: req
                .header("x-forwarded-for")
                .and_then(|v| v.split(',').next())
                .unwrap_or("127.0.0.1")
                .trim(),
            user_agent: req.header("user-agent"),
            resource: None,
        };
        let matched = match_resource(&snap, &target.path).and_then(|(resource, path_params)| {
            let method = resource
                .resource_methods
                .get(method_name)
                .or_else(|| resource.resource_methods.get("ANY"))?;
            Some((resource, path_params, method))
        });
        let Some((resource, path_params, method)) = matched else {
            let err = GatewayError::forbidden();
            let context = LazyContext::new(base).into_json();
            let resp = self.fail(&err, &snap, &context, &rid);
            if stage_log.is_some() {
                self.log_request(stage_log, context, &resp, Some(&err), &target);
            }
            return resp;
        };
        base.resource = Some((&resource.id, &resource.path));
        let call = Call {
            resource_path: &resource.path,
            method,
            params: Params {
                path: path_params,
                query: parse_query(req.query()),
                headers,
            },
            body,
            context: LazyContext::new(base),
            http_method: method_name.to_string(),
            region,
            authorizer_key: None,
            stage: &stage,
            snap: &snap,
        };
        let log = stage_log.is_some();
        let integration_started = std::time::Instant::now();
        let ran = self.run(call, &target, &req, log).await;
        // Measured around the method's run (authorizer, templates and the integration call).
        meter.integration = Some(integration_started.elapsed());
        let (resp, context, error) = match ran {
            Ok((resp, context)) => (resp, context, None),
            Err((err, context)) => (self.fail(&err, &snap, &context, &rid), context, Some(err)),
        };
        if log {
            self.log_request(stage_log, context, &resp, error.as_ref(), &target);
        }
        resp
    }

    /// Access log line for a REST API request (when the stage has access logging).
    fn log_request(
        &self,
        settings: Option<&Value>,
        mut context: Value,
        resp: &Response,
        error: Option<&GatewayError>,
        target: &Target,
    ) {
        use ::http_body::Body as _;
        context["status"] = json!(resp.status().as_u16());
        context["responseLength"] = json!(resp.body().size_hint().exact().unwrap_or(0));
        context["responseLatency"] = json!(0);
        context["integrationLatency"] = json!(0);
        if let Some(e) = error {
            context["error"] = json!({"message": e.message, "responseType": e.kind});
        }
        let stream = format!("{}_{}", target.api_id, target.stage);
        self.access_log(settings, &context, stream);
    }

    fn fail(&self, err: &GatewayError, snap: &Snapshot, context: &Value, rid: &str) -> Response {
        aloft_core::body::from_bytes(responses::render(err, Some(snap), context, rid))
    }

    /// Runs the method; the context comes back for the access log when `log` is set.
    async fn run(
        &self,
        mut call: Call<'_>,
        target: &Target,
        req: &AwsRequest,
        log: bool,
    ) -> Result<(Response, Value), (GatewayError, Value)> {
        let ctx_err = |c: &LazyContext<'_>, e: GatewayError| (e, c.json().clone());
        if let Err(e) = self.authorize(&mut call, req, target).await {
            return Err((e, call.context.into_json()));
        }
        // API keys and usage plans.
        if call.method.api_key_required {
            let key = if call.snap.info.api_key_source == "AUTHORIZER" {
                call.authorizer_key.clone()
            } else {
                call.params.header("x-api-key").map(str::to_string)
            };
            let (key_id, plan) = self
                .check_key(key.as_deref(), &target.api_id, &target.stage)
                .map_err(|e| ctx_err(&call.context, e))?;
            let context = call.context.json_mut();
            context["identity"]["apiKey"] = json!(key);
            context["identity"]["apiKeyId"] = json!(key_id);
            let now = aloft_core::clock::now_millis();
            if let Some(t) = &plan.throttle
                && let (Some(rate), burst) = (t.rate_limit, t.burst_limit)
            {
                #[allow(clippy::cast_precision_loss)]
                let burst = burst.unwrap_or(rate.ceil() as i64) as f64;
                if self
                    .limits
                    .take(&format!("{}/{key_id}", plan.id), rate, burst, now)
                    .is_err()
                {
                    return Err(ctx_err(
                        &call.context,
                        GatewayError::new("THROTTLED", "Too Many Requests"),
                    ));
                }
            }
            if let Some(q) = &plan.quota
                && self
                    .limits
                    .count(&format!("{}/{key_id}/quota", plan.id), q, now)
                    .is_err()
            {
                return Err(ctx_err(
                    &call.context,
                    GatewayError::new("QUOTA_EXCEEDED", "Limit Exceeded"),
                ));
            }
        }
        // Stage and method throttling (`*/*` or `{path}/{METHOD}` method settings).
        let setting_key = format!(
            "{}/{}",
            call.resource_path.trim_start_matches('/'),
            call.method.http_method
        );
        if let Some(s) = call
            .stage
            .method_settings
            .get(&setting_key)
            .or_else(|| call.stage.method_settings.get("*/*"))
            && let Some(rate) = s.get("throttlingRateLimit").and_then(Value::as_f64)
        {
            #[allow(clippy::cast_precision_loss)]
            let burst = s
                .get("throttlingBurstLimit")
                .and_then(Value::as_i64)
                .unwrap_or(5000) as f64;
            let key = format!("stage/{}/{}/{setting_key}", target.api_id, target.stage);
            if self
                .limits
                .take(&key, rate, burst, aloft_core::clock::now_millis())
                .is_err()
            {
                return Err(ctx_err(
                    &call.context,
                    GatewayError::new("THROTTLED", "Too Many Requests"),
                ));
            }
        }
        self.validate(&call)
            .map_err(|e| ctx_err(&call.context, e))?;
        let Some(integration) = call.method.method_integration.as_ref() else {
            return Err(ctx_err(
                &call.context,
                GatewayError::new("API_CONFIGURATION_ERROR", "Internal server error"),
            ));
        };
        // The cache sits behind authorization, keys and validation, in front of the
        // integration.
        let caching = cache::policy(call.stage, call.resource_path, &call.http_method);
        let mut cache_key = None;
        let mut refused_invalidation = false;
        if let Some(p) = &caching {
            let key = cache::key(
                &target.api_id,
                &target.stage,
                &call.http_method,
                call.resource_path,
                integration,
                &call.params,
            );
            let now = aloft_core::clock::now_millis();
            let invalidate = call
                .params
                .header("cache-control")
                .is_some_and(|v| v.replace(' ', "").contains("max-age=0"));
            let allowed = !p.require_auth || req.ctx.signature.is_some();
            if invalidate && !allowed {
                if p.strategy == "FAIL_WITH_403" {
                    return Err(ctx_err(
                        &call.context,
                        GatewayError::new(
                            "ACCESS_DENIED",
                            "User is not authorized to access this resource",
                        ),
                    ));
                }
                refused_invalidation = p.strategy == "SUCCEED_WITH_RESPONSE_HEADER";
            }
            if !(invalidate && allowed)
                && let Some(hit) = self.response_cache.get(&key, now)
            {
                let mut resp = ::http::Response::new(aloft_core::body::full(hit.body));
                *resp.status_mut() = hit.status;
                *resp.headers_mut() = hit.headers;
                if refused_invalidation {
                    resp.headers_mut().insert(
                        "warning",
                        ::http::HeaderValue::from_static(
                            "199 \"Cache-control headers were ignored because the caller was unauthorized.\"",
                        ),
                    );
                }
                return Ok((
                    resp,
                    if log {
                        call.context.into_json()
                    } else {
                        Value::Null
                    },
                ));
            }
            cache_key = Some(key);
        }
        let out = match integration.kind.as_str() {
            "AWS_PROXY" => self.lambda_proxy(&call, integration).await,
            "HTTP_PROXY" => self.http_proxy(&call, integration).await,
            _ => self.non_proxy(&call, integration).await,
        };
        let out = match (out, cache_key, &caching) {
            (Ok(resp), Some(key), Some(p)) if resp.status().is_success() => {
                use http_body_util::BodyExt as _;
                let (parts, body) = resp.into_parts();
                let bytes = body
                    .collect()
                    .await
                    .map(|c| c.to_bytes())
                    .unwrap_or_default();
                self.response_cache.put(
                    key,
                    cache::Entry {
                        expires: aloft_core::clock::now_millis() + p.ttl_secs * 1000,
                        status: parts.status,
                        headers: parts.headers.clone(),
                        body: bytes.clone(),
                    },
                    aloft_core::clock::now_millis(),
                );
                Ok(::http::Response::from_parts(
                    parts,
                    aloft_core::body::full(bytes),
                ))
            }
            (out, _, _) => out,
        };
        match out {
            Ok(resp) if log => Ok((resp, call.context.into_json())),
            Ok(resp) => Ok((resp, Value::Null)),
            Err(e) => Err((e, call.context.into_json())),
        }
    }

    /// The key's id and the usage plan that lets it call this stage.
    pub(crate) fn check_key(
        &self,
        value: Option<&str>,
        api_id: &str,
        stage: &str,
    ) -> Result<(String, crate::model::UsagePlan), GatewayError> {
        let forbidden = || GatewayError::new("INVALID_API_KEY", "Forbidden");
        let value = value.ok_or_else(forbidden)?;
        let st = self.lock();
        let key = st
            .value_index
            .get(value)
            .and_then(|k| st.api_keys.get(k))
            .filter(|k| k.enabled)
            .ok_or_else(forbidden)?;
        let plan = st
            .plans
            .values()
            .find(|p| {
                p.keys.contains(&key.id)
                    && p.api_stages
                        .iter()
                        .any(|s| s.api_id == api_id && s.stage == stage)
            })
            .ok_or_else(forbidden)?;
        Ok((key.id.clone(), plan.clone()))
    }

    fn validate(&self, call: &Call<'_>) -> Result<(), GatewayError> {
        let Some(v) = call
            .method
            .request_validator_id
            .as_ref()
            .and_then(|id| call.snap.validators.get(id))
        else {
            return Ok(());
        };
        if v.validate_request_parameters {
            let missing: Vec<&str> = call
                .method
                .request_parameters
                .iter()
                .filter(|(_, required)| **required)
                .filter_map(|(name, _)| {
                    let present = if let Some(h) = name.strip_prefix("method.request.header.") {
                        call.params.header(h).is_some()
                    } else if let Some(q) = name.strip_prefix("method.request.querystring.") {
                        call.params.query.contains_key(q)
                    } else if let Some(p) = name.strip_prefix("method.request.path.") {
                        call.params.path.contains_key(p)
                    } else {
                        true
                    };
                    (!present).then(|| name.rsplit('.').next().unwrap_or(name))
                })
                .collect();
            if !missing.is_empty() {
                return Err(GatewayError::new(
                    "BAD_REQUEST_PARAMETERS",
                    format!(
                        "Missing required request parameters: [{}]",
                        missing.join(", ")
                    ),
                ));
            }
        }
        if v.validate_request_body {
            let ct = call
                .params
                .header("content-type")
                .unwrap_or("application/json");
            let ct = ct
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            let model = call
                .method
                .request_models
                .get(&ct)
                .or_else(|| call.method.request_models.get("$default"))
                .and_then(|name| call.snap.models.get(name));
            if let Some(schema) = model
                .and_then(|m| m.schema.as_deref())
                .and_then(|s| serde_json::from_str::<Value>(s).ok())
            {
                let invalid = || GatewayError::new("BAD_REQUEST_BODY", "Invalid request body");
                let doc: Value = serde_json::from_slice(&call.body).map_err(|_| invalid())?;
                let models = |name: &str| {
                    call.snap
                        .models
                        .get(name)
                        .and_then(|m| m.schema.as_deref())
                        .and_then(|s| serde_json::from_str(s).ok())
                };
                if !crate::schema::validate(&schema, &doc, &models).is_empty() {
                    return Err(invalid());
                }
            }
        }
        Ok(())
    }

    fn request_context(call: &Call<'_>) -> Value {
        let mut c = call.context.json().clone();
        c["resourcePath"] = json!(call.resource_path);
        c
    }
}

impl GatewayError {
    fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }
}

pub(crate) fn substitute_stage_vars(s: &str, vars: &IndexMap<String, String>) -> String {
    let mut out = s.to_string();
    for (k, v) in vars {
        out = out.replace(&format!("${{stageVariables.{k}}}"), v);
    }
    out
}

fn is_binary(snap: &Snapshot, content_type: Option<&str>) -> bool {
    let Some(ct) = content_type else {
        return false;
    };
    let ct = ct.split(';').next().unwrap_or("").trim();
    snap.info.binary_media_types.iter().any(|t| {
        t == "*/*"
            || t.eq_ignore_ascii_case(ct)
            || t.strip_suffix("/*").is_some_and(|p| {
                ct.split('/')
                    .next()
                    .is_some_and(|c| c.eq_ignore_ascii_case(p))
            })
    })
}

pub(crate) const PATH_SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

pub(crate) fn query_string(q: &IndexMap<String, Vec<String>>) -> String {
    let enc = |s: &str| percent_encoding::utf8_percent_encode(s, PATH_SEGMENT).to_string();
    q.iter()
        .flat_map(|(k, vs)| vs.iter().map(move |v| format!("{}={}", enc(k), enc(v))))
        .collect::<Vec<_>>()
        .join("&")
}

/// `content-type` → `Content-Type`: hyper lowercases names, the event shows them as sent by
/// most clients.
pub(crate) fn canonical(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut word_start = true;
    for c in name.chars() {
        out.push(if word_start {
            c.to_ascii_uppercase()
        } else {
            c
        });
        word_start = c == '-';
    }
    out
}

/// `$context.requestTime`: `21/Nov/2026:07:35:17 +0000`.
pub(crate) fn request_time() -> String {
    request_time_at(aloft_core::clock::now_millis())
}

/// `$context.requestTime` of a moment in epoch milliseconds.
pub(crate) fn request_time_at(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{:02}/{}/{}:{:02}:{:02}:{:02} +0000",
        t.day(),
        MONTHS[usize::from(u8::from(t.month())) - 1],
        t.year(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Resource;

    fn snap(paths: &[&str]) -> Snapshot {
        let mut s = Snapshot::default();
        for (i, p) in paths.iter().enumerate() {
            s.resources.insert(
                i.to_string(),
                Resource {
                    id: i.to_string(),
                    path: (*p).to_string(),
                    ..Default::default()
                },
            );
        }
        s
    }

    #[test]
    fn resource_matching_prefers_literals() {
        let s = snap(&["/", "/notes", "/notes/{id}", "/notes/mine", "/{proxy+}"]);
        let m = |p: &str| match_resource(&s, p).map(|(r, params)| (r.path.clone(), params));
        assert_eq!(m("/").unwrap().0, "/");
        assert_eq!(m("/notes").unwrap().0, "/notes");
        assert_eq!(m("/notes/mine").unwrap().0, "/notes/mine");
        let (p, params) = m("/notes/a%20b").unwrap();
        assert_eq!((p.as_str(), params["id"].as_str()), ("/notes/{id}", "a b"));
        let (p, params) = m("/other/deep/path").unwrap();
        assert_eq!(
            (p.as_str(), params["proxy"].as_str()),
            ("/{proxy+}", "other/deep/path")
        );
        let s = snap(&["/", "/notes"]);
        assert!(match_resource(&s, "/nope").is_none());
    }

    #[test]
    fn helpers() {
        assert_eq!(canonical("content-type"), "Content-Type");
        assert_eq!(canonical("x-api-key"), "X-Api-Key");
        assert_eq!(canonical("a--b-"), "A--B-");
        assert_eq!(canonical("X-aMZ"), "X-AMZ");
        let q = parse_query("a=1&a=2&b=x+y&c");
        assert_eq!(q["a"], vec!["1", "2"]);
        assert_eq!(q["b"], vec!["x y"]);
        assert_eq!(q["c"], vec![""]);
    }
}

/// What the metrics of one request need: whose API it was once resolved, and the time spent
/// running the method.
#[derive(Default)]
struct Meter {
    api: Option<metrics::Stamp>,
    integration: Option<std::time::Duration>,
}
