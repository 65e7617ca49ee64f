//! Lambda's HTTP surface: rest-json paths to operations, Invoke's raw payload, function URLs,
//! and `/_aloft/lambda/` inspection endpoints.
//!
//! The path table mirrors the 2015-03-31 model's `requestUri`s. Invoke bypasses JSON entirely
//! (its payload is the body) so the warm path stays lean.

use aloft_core::{AwsError, AwsRequest, Response, body};
use bytes::Bytes;
use percent_encoding::percent_decode_str;
use serde_json::{Map, Value, json};

use crate::Lambda;
use crate::error::{Code, err};
use crate::invoke::{MAX_SYNC_PAYLOAD, Mode};

/// (method, path pattern, operation, success status).
const ROUTES: &[(&str, &str, &str, u16)] = &[
    ("POST", "/2015-03-31/functions", "CreateFunction", 201),
    ("GET", "/2015-03-31/functions", "ListFunctions", 200),
    (
        "GET",
        "/2015-03-31/functions/{FunctionName}",
        "GetFunction",
        200,
    ),
    (
        "DELETE",
        "/2015-03-31/functions/{FunctionName}",
        "DeleteFunction",
        204,
    ),
    (
        "GET",
        "/2015-03-31/functions/{FunctionName}/configuration",
        "GetFunctionConfiguration",
        200,
    ),
    (
        "PUT",
        "/2015-03-31/functions/{FunctionName}/configuration",
        "UpdateFunctionConfiguration",
        200,
    ),
    (
        "PUT",
        "/2015-03-31/functions/{FunctionName}/code",
        "UpdateFunctionCode",
        200,
    ),
    (
        "POST",
        "/2015-03-31/functions/{FunctionName}/invocations",
        "Invoke",
        200,
    ),
    (
        "POST",
        "/2014-11-13/functions/{FunctionName}/invoke-async",
        "InvokeAsync",
        202,
    ),
    (
        "POST",
        "/2015-03-31/functions/{FunctionName}/versions",
        "PublishVersion",
        201,
    ),
    (
        "GET",
        "/2015-03-31/functions/{FunctionName}/versions",
        "ListVersionsByFunction",
        200,
    ),
    (
        "POST",
        "/2015-03-31/functions/{FunctionName}/aliases",
        "CreateAlias",
        201,
    ),
    (
        "GET",
        "/2015-03-31/functions/{FunctionName}/aliases",
        "ListAliases",
        200,
    ),
    (
        "GET",
        "/2015-03-31/functions/{FunctionName}/aliases/{Name}",
        "GetAlias",
        200,
    ),
    (
        "PUT",
        "/2015-03-31/functions/{FunctionName}/aliases/{Name}",
        "UpdateAlias",
        200,
    ),
    (
        "DELETE",
        "/2015-03-31/functions/{FunctionName}/aliases/{Name}",
        "DeleteAlias",
        204,
    ),
    (
        "POST",
        "/2015-03-31/functions/{FunctionName}/policy",
        "AddPermission",
        201,
    ),
    (
        "GET",
        "/2015-03-31/functions/{FunctionName}/policy",
        "GetPolicy",
        200,
    ),
    (
        "DELETE",
        "/2015-03-31/functions/{FunctionName}/policy/{StatementId}",
        "RemovePermission",
        204,
    ),
    (
        "PUT",
        "/2017-10-31/functions/{FunctionName}/concurrency",
        "PutFunctionConcurrency",
        200,
    ),
    (
        "GET",
        "/2019-09-30/functions/{FunctionName}/concurrency",
        "GetFunctionConcurrency",
        200,
    ),
    (
        "DELETE",
        "/2017-10-31/functions/{FunctionName}/concurrency",
        "DeleteFunctionConcurrency",
        204,
    ),
    ("POST", "/2017-03-31/tags/{Resource}", "TagResource", 204),
    (
        "DELETE",
        "/2017-03-31/tags/{Resource}",
        "UntagResource",
        204,
    ),
    ("GET", "/2017-03-31/tags/{Resource}", "ListTags", 200),
    (
        "GET",
        "/2016-08-19/account-settings",
        "GetAccountSettings",
        200,
    ),
    (
        "POST",
        "/2021-10-31/functions/{FunctionName}/url",
        "CreateFunctionUrlConfig",
        201,
    ),
    (
        "GET",
        "/2021-10-31/functions/{FunctionName}/url",
        "GetFunctionUrlConfig",
        200,
    ),
    (
        "PUT",
        "/2021-10-31/functions/{FunctionName}/url",
        "UpdateFunctionUrlConfig",
        200,
    ),
    (
        "DELETE",
        "/2021-10-31/functions/{FunctionName}/url",
        "DeleteFunctionUrlConfig",
        204,
    ),
    (
        "GET",
        "/2021-10-31/functions/{FunctionName}/urls",
        "ListFunctionUrlConfigs",
        200,
    ),
    (
        "PUT",
        "/2019-09-25/functions/{FunctionName}/event-invoke-config",
        "PutFunctionEventInvokeConfig",
        200,
    ),
    (
        "POST",
        "/2019-09-25/functions/{FunctionName}/event-invoke-config",
        "UpdateFunctionEventInvokeConfig",
        200,
    ),
    (
        "GET",
        "/2019-09-25/functions/{FunctionName}/event-invoke-config",
        "GetFunctionEventInvokeConfig",
        200,
    ),
    (
        "DELETE",
        "/2019-09-25/functions/{FunctionName}/event-invoke-config",
        "DeleteFunctionEventInvokeConfig",
        204,
    ),
    (
        "GET",
        "/2019-09-25/functions/{FunctionName}/event-invoke-config/list",
        "ListFunctionEventInvokeConfigs",
        200,
    ),
    (
        "POST",
        "/2018-10-31/layers/{LayerName}/versions",
        "PublishLayerVersion",
        201,
    ),
    (
        "GET",
        "/2018-10-31/layers/{LayerName}/versions",
        "ListLayerVersions",
        200,
    ),
    (
        "GET",
        "/2018-10-31/layers/{LayerName}/versions/{VersionNumber}",
        "GetLayerVersion",
        200,
    ),
    (
        "DELETE",
        "/2018-10-31/layers/{LayerName}/versions/{VersionNumber}",
        "DeleteLayerVersion",
        204,
    ),
    ("GET", "/2018-10-31/layers", "ListLayers", 200),
    (
        "POST",
        "/2015-03-31/event-source-mappings",
        "CreateEventSourceMapping",
        202,
    ),
    (
        "GET",
        "/2015-03-31/event-source-mappings",
        "ListEventSourceMappings",
        200,
    ),
    (
        "GET",
        "/2015-03-31/event-source-mappings/{UUID}",
        "GetEventSourceMapping",
        200,
    ),
    (
        "PUT",
        "/2015-03-31/event-source-mappings/{UUID}",
        "UpdateEventSourceMapping",
        202,
    ),
    (
        "DELETE",
        "/2015-03-31/event-source-mappings/{UUID}",
        "DeleteEventSourceMapping",
        202,
    ),
];

/// Query parameters and the input members they carry (the model's `locationName`s).
const QUERY: &[(&str, &str)] = &[
    ("Qualifier", "Qualifier"),
    ("Marker", "Marker"),
    ("MaxItems", "MaxItems"),
    ("FunctionVersion", "FunctionVersion"),
    ("MasterRegion", "MasterRegion"),
    ("CompatibleRuntime", "CompatibleRuntime"),
    ("CompatibleArchitecture", "CompatibleArchitecture"),
    ("RevisionId", "RevisionId"),
    ("Arn", "Arn"),
    ("EventSourceArn", "EventSourceArn"),
    ("FunctionName", "FunctionName"),
];

/// Reads a bounded request body (mapped by hand: the core helper's error conversion trips
/// the `Send` check of `async_trait` futures on rustc 1.95).
pub(crate) async fn read_body(
    req: &mut AwsRequest,
    limit: usize,
    too_large: impl FnOnce() -> AwsError,
) -> Result<Bytes, AwsError> {
    use http_body_util::BodyExt;
    let b = std::mem::replace(&mut req.body, body::empty());
    let mut b = std::pin::pin!(b);
    let mut out = bytes::BytesMut::new();
    while let Some(frame) = b.frame().await {
        let Ok(frame) = frame else {
            return Err(AwsError::new(
                "IncompleteBody",
                400,
                "Could not read the request body",
            ));
        };
        if let Ok(data) = frame.into_data() {
            out.extend_from_slice(&data);
            if out.len() > limit {
                return Err(too_large());
            }
        }
    }
    Ok(out.freeze())
}

/// Matches a path against a pattern, returning the decoded labels.
fn matches(pattern: &str, path: &str) -> Option<Vec<(String, String)>> {
    let p: Vec<&str> = pattern.trim_matches('/').split('/').collect();
    let a: Vec<&str> = path
        .trim_end_matches('/')
        .trim_start_matches('/')
        .split('/')
        .collect();
    if p.len() != a.len() {
        return None;
    }
    let mut labels = Vec::new();
    for (pp, aa) in p.iter().zip(&a) {
        if let Some(name) = pp.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            if aa.is_empty() {
                return None;
            }
            labels.push((
                name.to_string(),
                percent_decode_str(aa).decode_utf8_lossy().into_owned(),
            ));
        } else if pp != aa {
            return None;
        }
    }
    Some(labels)
}

/// An operation, its success status, and the path labels (decoded).
pub type Route = (&'static str, u16, Vec<(String, String)>);

pub fn route(method: &str, path: &str, query: &str) -> Option<Route> {
    if path == "/2018-10-31/layers" && method == "GET" && query.contains("find=LayerVersion") {
        return Some(("GetLayerVersionByArn", 200, vec![]));
    }
    ROUTES
        .iter()
        .filter(|(m, ..)| *m == method)
        .find_map(|(_, p, op, status)| matches(p, path).map(|l| (*op, *status, l)))
}

fn query_pairs(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|s| !s.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            let dec = |s: &str| {
                percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (dec(k), dec(v))
        })
        .collect()
}

/// Renders an error as Lambda's rest-json does.
pub fn error_response(e: &AwsError, request_id: &str) -> Response {
    let mut body = Map::new();
    for (k, v) in &e.fields {
        body.insert(k.clone(), v.clone());
    }
    body.entry("Type").or_insert(json!("User"));
    body.insert("message".into(), json!(e.message));
    let mut r = http::Response::builder()
        .status(e.status)
        .header("content-type", "application/json")
        .header("x-amzn-errortype", e.code)
        .header("x-amzn-requestid", request_id);
    for (k, v) in &e.headers {
        r = r.header(k.as_str(), v.as_str());
    }
    r.body(body::full(Value::Object(body).to_string()))
        .unwrap_or_else(|_| http::Response::new(body::empty()))
}

fn json_response(status: u16, v: &Value, request_id: &str) -> Response {
    let b = if status == 204 {
        Bytes::new()
    } else {
        Bytes::from(v.to_string())
    };
    http::Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("x-amzn-requestid", request_id)
        .body(body::full(b))
        .unwrap_or_else(|_| http::Response::new(body::empty()))
}

pub async fn handle(svc: &Lambda, mut req: AwsRequest) -> Response {
    let rid = req.ctx.request_id.clone();
    if req.ctx.host_label == Some("lambda-url") {
        return crate::urls::serve(svc, req).await;
    }
    let method = req.parts.method.as_str().to_string();
    let path = req.path().to_string();
    let query = req.query().to_string();
    let Some((op, status, labels)) = route(&method, &path, &query) else {
        return error_response(
            &err(
                Code::ResourceNotFound,
                format!("Unknown Lambda path: {method} {path}"),
            ),
            &rid,
        );
    };
    // A function named by the ARN of another account is that account's (cross-account
    // invocation; under --enforce-iam the gateway has checked both accounts' policies).
    let owner = labels
        .iter()
        .find(|(k, _)| k == "FunctionName")
        .and_then(|(_, v)| aloft_core::arn::parse(v))
        .filter(|a| {
            a.service == "lambda" && a.account.len() == 12 && a.account != req.ctx.account_id
        })
        .map(|a| a.account.to_string());
    if let Some(account) = owner {
        req.ctx.account_id = account;
    }
    let limit = if op == "Invoke" {
        MAX_SYNC_PAYLOAD
    } else {
        70 * 1024 * 1024
    };
    let body = match read_body(&mut req, limit, || {
        err(
            Code::RequestTooLarge,
            format!("Request must be smaller than {limit} bytes for the {op} operation"),
        )
    })
    .await
    {
        Ok(b) => b,
        Err(e) => return error_response(&e, &rid),
    };
    if op == "Invoke" {
        return invoke(svc, &req, labels, &query, body).await;
    }
    let mut input = if body.is_empty() || method == "GET" || method == "DELETE" {
        Map::new()
    } else {
        match serde_json::from_slice::<Value>(&body) {
            Ok(Value::Object(m)) => m,
            _ => {
                return error_response(
                    &err(
                        Code::InvalidRequestContent,
                        "Could not parse request body into json",
                    ),
                    &rid,
                );
            }
        }
    };
    if op == "InvokeAsync" {
        input.insert(
            "InvokeArgs".into(),
            json!(base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                &body
            )),
        );
    }
    for (k, v) in labels {
        input.insert(k, json!(v));
    }
    let mut tag_keys = Vec::new();
    for (k, v) in query_pairs(&query) {
        if k == "tagKeys" {
            tag_keys.push(json!(v));
        } else if let Some((_, member)) = QUERY.iter().find(|(q, _)| *q == k) {
            input.insert((*member).to_string(), json!(v));
        }
    }
    if !tag_keys.is_empty() {
        input.insert("TagKeys".into(), Value::Array(tag_keys));
    }
    match svc.dispatch(&req.ctx, op, Value::Object(input)).await {
        Ok(v) => json_response(status, &v, &rid),
        Err(e) => error_response(&e, &rid),
    }
}

async fn invoke(
    svc: &Lambda,
    req: &AwsRequest,
    labels: Vec<(String, String)>,
    query: &str,
    body: Bytes,
) -> Response {
    let rid = &req.ctx.request_id;
    let raw = labels
        .into_iter()
        .next()
        .map(|(_, v)| v)
        .unwrap_or_default();
    let q = query_pairs(query)
        .into_iter()
        .find(|(k, _)| k == "Qualifier")
        .map(|(_, v)| v);
    let res = async {
        let (name, q2) = crate::functions::parse_name(&raw)?;
        let q = crate::functions::qualifier(q2, q.as_deref())?;
        let mode = Mode::parse(req.header("x-amz-invocation-type"))?;
        let tail = req.header("x-amz-log-type") == Some("Tail");
        let cc = req.header("x-amz-client-context").map(str::to_string);
        svc.invoke(
            &req.ctx.account_id,
            &req.ctx.region,
            &name,
            q.as_deref(),
            mode,
            tail,
            body,
            cc,
        )
        .await
    }
    .await;
    match res {
        Ok(out) => {
            let mut r = http::Response::builder()
                .status(out.status)
                .header("content-type", "application/json")
                .header("x-amzn-requestid", rid.as_str());
            if let Some(e) = out.function_error {
                r = r.header("x-amz-function-error", e);
            }
            if let Some(l) = &out.log_result {
                r = r.header("x-amz-log-result", l.as_str());
            }
            if let Some(v) = &out.executed_version {
                r = r.header("x-amz-executed-version", v.as_str());
            }
            r.body(body::full(out.payload))
                .unwrap_or_else(|_| http::Response::new(body::empty()))
        }
        Err(e) => error_response(&e, rid),
    }
}

/// `/_aloft/lambda/code/<sha>` serves packages (GetFunction's `Code.Location`);
/// `/_aloft/lambda/environments` shows the pools; `POST /_aloft/lambda/reap` reaps idle ones.
pub async fn internal(svc: &Lambda, _req: AwsRequest, path: &str) -> Option<Response> {
    let ok = |v: Value| {
        http::Response::builder()
            .header("content-type", "application/json")
            .body(body::full(v.to_string()))
            .unwrap_or_else(|_| http::Response::new(body::empty()))
    };
    if let Some(hex) = path.strip_prefix("code/") {
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let file = svc.code_root.join(format!("{hex}.zip"));
        let bytes = tokio::fs::read(file).await.ok()?;
        return Some(
            http::Response::builder()
                .header("content-type", "application/zip")
                .body(body::full(bytes))
                .unwrap_or_else(|_| http::Response::new(body::empty())),
        );
    }
    match path {
        "environments" => Some(ok(svc.engine.stats())),
        "reap" => Some(ok(json!({"reaped": svc.engine.reap()}))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_by_method_and_path() {
        let (op, status, labels) =
            route("GET", "/2015-03-31/functions/f/configuration", "").unwrap();
        assert_eq!((op, status), ("GetFunctionConfiguration", 200));
        assert_eq!(labels, vec![("FunctionName".to_string(), "f".to_string())]);
        let (op, _, labels) = route(
            "POST",
            "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Af/invocations",
            "",
        )
        .unwrap();
        assert_eq!(op, "Invoke");
        assert_eq!(
            labels[0].1,
            "arn:aws:lambda:us-east-1:000000000000:function:f"
        );
        assert_eq!(
            route("GET", "/2018-10-31/layers", "find=LayerVersion&Arn=x")
                .unwrap()
                .0,
            "GetLayerVersionByArn"
        );
        assert_eq!(
            route("GET", "/2018-10-31/layers", "").unwrap().0,
            "ListLayers"
        );
        assert_eq!(
            route("DELETE", "/2015-03-31/functions/f", "").unwrap().1,
            204
        );
        assert!(route("PATCH", "/2015-03-31/functions/f", "").is_none());
    }
}
