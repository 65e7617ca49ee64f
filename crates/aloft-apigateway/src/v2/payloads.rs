//! The Lambda payloads of HTTP APIs: the format 2.0 and 1.0 events, and the 2.0 response
//! contract (a value without `statusCode` is a 200 JSON body).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::Bytes;
use indexmap::IndexMap;
use serde_json::{Map, Value, json};

use aloft_core::Response;

use super::Route;
use super::http::Incoming;
use crate::invoke::{self, lambda};

fn time_fields() -> (String, i64) {
    (invoke::request_time(), aloft_core::clock::now_millis())
}

/// The payload format 2.0 event.
pub(crate) fn event_v2(
    inc: &Incoming,
    route: &Route,
    params: &IndexMap<String, String>,
    vars: &IndexMap<String, String>,
    authorizer: Value,
) -> Value {
    let (time, epoch) = time_fields();
    let mut ctx = json!({
        "accountId": inc.account,
        "apiId": inc.api_id,
        "domainName": inc.header("host").unwrap_or("localhost"),
        "domainPrefix": inc.api_id,
        "http": {
            "method": inc.method,
            "path": inc.raw_path,
            "protocol": "HTTP/1.1",
            "sourceIp": inc.source_ip(),
            "userAgent": inc.header("user-agent").unwrap_or(""),
        },
        "requestId": inc.request_id,
        "routeKey": route.route_key,
        "stage": inc.stage,
        "time": time,
        "timeEpoch": epoch,
    });
    if !authorizer.is_null() {
        ctx["authorizer"] = authorizer;
    }
    let mut e = Map::new();
    e.insert("version".into(), json!("2.0"));
    e.insert("routeKey".into(), json!(route.route_key));
    e.insert("rawPath".into(), json!(inc.raw_path));
    e.insert("rawQueryString".into(), json!(inc.raw_query));
    let cookies = inc.cookies();
    if !cookies.is_empty() {
        e.insert("cookies".into(), json!(cookies));
    }
    e.insert("headers".into(), Value::Object(inc.joined_headers()));
    if !inc.query.is_empty() {
        e.insert(
            "queryStringParameters".into(),
            Value::Object(
                inc.query
                    .iter()
                    .map(|(k, v)| (k.clone(), json!(v.join(","))))
                    .collect(),
            ),
        );
    }
    e.insert("requestContext".into(), ctx);
    let (body, b64) = inc.body_value();
    if !body.is_null() {
        e.insert("body".into(), body);
    }
    if !params.is_empty() {
        e.insert("pathParameters".into(), json!(params));
    }
    e.insert("isBase64Encoded".into(), json!(b64));
    if !vars.is_empty() {
        e.insert("stageVariables".into(), json!(vars));
    }
    Value::Object(e)
}

/// The payload format 1.0 event, as HTTP APIs build it (REST's shape plus `version`).
pub(crate) fn event_v1(
    inc: &Incoming,
    route: &Route,
    params: &IndexMap<String, String>,
    vars: &IndexMap<String, String>,
    authorizer: Value,
) -> Value {
    let (time, epoch) = time_fields();
    let resource = route
        .route_key
        .split_once(' ')
        .map_or(route.route_key.as_str(), |(_, p)| p);
    let mut ctx = json!({
        "accountId": inc.account,
        "apiId": inc.api_id,
        "domainName": inc.header("host").unwrap_or("localhost"),
        "domainPrefix": inc.api_id,
        "extendedRequestId": inc.request_id,
        "httpMethod": inc.method,
        "identity": {
            "accessKey": null, "accountId": null, "caller": null, "cognitoAmr": null,
            "cognitoAuthenticationProvider": null, "cognitoAuthenticationType": null,
            "cognitoIdentityId": null, "cognitoIdentityPoolId": null, "principalOrgId": null,
            "sourceIp": inc.source_ip(), "user": null,
            "userAgent": inc.header("user-agent").unwrap_or(""), "userArn": null,
        },
        "path": inc.raw_path,
        "protocol": "HTTP/1.1",
        "requestId": inc.request_id,
        "requestTime": time,
        "requestTimeEpoch": epoch,
        "resourceId": route.route_key,
        "resourcePath": resource,
        "stage": inc.stage,
    });
    if !authorizer.is_null() {
        ctx["authorizer"] = authorizer;
    }
    let params = invoke::mapping::Params {
        path: params.clone(),
        query: inc.query.clone(),
        headers: inc
            .headers
            .iter()
            .map(|(k, v)| (invoke::canonical(k), v.clone()))
            .collect(),
    };
    let (_, b64) = inc.body_value();
    let mut e = lambda::event(
        resource,
        &inc.path,
        &inc.method,
        &params,
        vars,
        ctx,
        &inc.body,
        b64,
    );
    let mut out = Map::new();
    out.insert("version".into(), json!("1.0"));
    if let Value::Object(m) = &mut e {
        out.extend(std::mem::take(m));
    }
    Value::Object(out)
}

/// A payload 2.0 response: the proxy shape when it has `statusCode`, else the value itself
/// as a 200 JSON body.
pub(crate) fn response_v2(payload: &[u8]) -> Option<Response> {
    let v: Value = serde_json::from_slice(payload).ok()?;
    let Some(o) = v.as_object().filter(|o| o.contains_key("statusCode")) else {
        return Some(invoke::response(
            200,
            vec![("Content-Type".into(), "application/json".into())],
            Bytes::copy_from_slice(payload),
        ));
    };
    let status = match o.get("statusCode")? {
        Value::Number(n) => u16::try_from(n.as_u64()?).ok()?,
        Value::String(s) => s.parse().ok()?,
        _ => return None,
    };
    let mut headers: Vec<(String, String)> = Vec::new();
    if let Some(h) = o.get("headers").and_then(Value::as_object) {
        for (k, v) in h {
            headers.push((
                k.clone(),
                v.as_str().map_or_else(|| v.to_string(), str::to_string),
            ));
        }
    }
    if let Some(c) = o.get("cookies").and_then(Value::as_array) {
        for c in c.iter().filter_map(Value::as_str) {
            headers.push(("Set-Cookie".into(), c.to_string()));
        }
    }
    let b64 = o.get("isBase64Encoded").and_then(Value::as_bool) == Some(true);
    let body = match o.get("body") {
        None | Some(Value::Null) => Bytes::new(),
        Some(Value::String(s)) if b64 => Bytes::from(B64.decode(s).ok()?),
        Some(Value::String(s)) => Bytes::from(s.clone()),
        Some(other) => Bytes::from(other.to_string()),
    };
    if !headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
    {
        headers.push(("Content-Type".into(), "application/json".into()));
    }
    Some(invoke::response(status, headers, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v2_responses() {
        let r = response_v2(br#"{"hello": "world"}"#).unwrap();
        assert_eq!(r.status(), 200);
        let r = response_v2(br#"{"statusCode": 201, "cookies": ["a=1"], "body": "x"}"#).unwrap();
        assert_eq!(r.status(), 201);
        assert_eq!(r.headers()["set-cookie"], "a=1");
        assert!(response_v2(b"not json").is_none());
        assert!(response_v2(br#"{"statusCode": "abc"}"#).is_none());
    }
}
