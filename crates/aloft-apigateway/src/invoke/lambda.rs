//! Lambda proxy integration: the payload format 1.0 event and the proxy response contract.

use base64::Engine;
use bytes::Bytes;
use serde_json::{Map, Value, json};

use super::mapping::Params;

/// The function ARN inside an integration URI
/// (`arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{arn}/invocations`).
pub fn function_arn(uri: &str) -> Option<&str> {
    let rest = uri.split_once("/functions/")?.1;
    Some(rest.strip_suffix("/invocations").unwrap_or(rest))
}

fn single(m: &indexmap::IndexMap<String, Vec<String>>) -> Value {
    if m.is_empty() {
        return Value::Null;
    }
    Value::Object(
        m.iter()
            .filter_map(|(k, v)| Some((k.clone(), Value::String(v.last()?.clone()))))
            .collect(),
    )
}

fn multi(m: &indexmap::IndexMap<String, Vec<String>>) -> Value {
    if m.is_empty() {
        return Value::Null;
    }
    Value::Object(m.iter().map(|(k, v)| (k.clone(), json!(v))).collect())
}

/// The event AWS sends a proxy-integrated function (payload format 1.0).
#[allow(clippy::too_many_arguments)]
pub fn event(
    resource: &str,
    path: &str,
    method: &str,
    params: &Params,
    stage_vars: &indexmap::IndexMap<String, String>,
    request_context: Value,
    body: &Bytes,
    binary: bool,
) -> Value {
    let (body, b64) = if body.is_empty() {
        (Value::Null, false)
    } else if binary || std::str::from_utf8(body).is_err() {
        (
            Value::String(base64::engine::general_purpose::STANDARD.encode(body)),
            true,
        )
    } else {
        (
            Value::String(String::from_utf8_lossy(body).into_owned()),
            false,
        )
    };
    json!({
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": single(&params.headers),
        "multiValueHeaders": multi(&params.headers),
        "queryStringParameters": single(&params.query),
        "multiValueQueryStringParameters": multi(&params.query),
        "pathParameters": if params.path.is_empty() { Value::Null } else {
            Value::Object(params.path.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect())
        },
        "stageVariables": if stage_vars.is_empty() { Value::Null } else {
            Value::Object(stage_vars.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect())
        },
        "requestContext": request_context,
        "body": body,
        "isBase64Encoded": b64,
    })
}

/// A function's proxy response, checked as AWS checks it.
pub struct ProxyResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

/// `None` when the payload breaks the contract (API Gateway answers 502).
pub fn parse_response(payload: &[u8]) -> Option<ProxyResponse> {
    let v: Value = serde_json::from_slice(payload).ok()?;
    let o: &Map<String, Value> = v.as_object()?;
    let allowed = [
        "statusCode",
        "headers",
        "multiValueHeaders",
        "body",
        "isBase64Encoded",
        "cookies",
    ];
    if o.keys().any(|k| !allowed.contains(&k.as_str())) {
        return None;
    }
    let status = match o.get("statusCode") {
        Some(Value::Number(n)) => u16::try_from(n.as_u64()?).ok()?,
        Some(Value::String(s)) => s.parse().ok()?,
        _ => return None,
    };
    if !(100..=599).contains(&status) {
        return None;
    }
    let mut headers = Vec::new();
    match o.get("headers") {
        None | Some(Value::Null) => {}
        Some(Value::Object(h)) => {
            for (k, v) in h {
                let v = match v {
                    Value::String(s) => s.clone(),
                    Value::Number(_) | Value::Bool(_) => v.to_string(),
                    _ => return None,
                };
                headers.push((k.clone(), v));
            }
        }
        _ => return None,
    }
    match o.get("multiValueHeaders") {
        None | Some(Value::Null) => {}
        Some(Value::Object(h)) => {
            for (k, vs) in h {
                headers.retain(|(n, _)| !n.eq_ignore_ascii_case(k));
                for v in vs.as_array()? {
                    headers.push((
                        k.clone(),
                        match v {
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        },
                    ));
                }
            }
        }
        _ => return None,
    }
    let b64 = match o.get("isBase64Encoded") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        _ => return None,
    };
    let body = match o.get("body") {
        None | Some(Value::Null) => Bytes::new(),
        Some(Value::String(s)) if b64 => {
            Bytes::from(base64::engine::general_purpose::STANDARD.decode(s).ok()?)
        }
        Some(Value::String(s)) => Bytes::from(s.clone()),
        _ => return None,
    };
    Some(ProxyResponse {
        status,
        headers,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_contract() {
        let r = parse_response(br#"{"statusCode": 201, "headers": {"X-A": "1"}, "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]}, "body": "hi"}"#).unwrap();
        assert_eq!(r.status, 201);
        assert_eq!(r.body, Bytes::from("hi"));
        assert_eq!(r.headers.len(), 3);
        let r = parse_response(br#"{"statusCode": 200, "body": "aGk=", "isBase64Encoded": true}"#)
            .unwrap();
        assert_eq!(r.body, Bytes::from("hi"));
        for bad in [
            &br#"{"body": "x"}"#[..],
            br#"{"statusCode": 200, "body": {"a": 1}}"#,
            br#"{"statusCode": 200, "extra": 1}"#,
            br#"not json"#,
            br#"[1]"#,
            br#"{"statusCode": 200, "headers": {"a": [1]}}"#,
        ] {
            assert!(
                parse_response(bad).is_none(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        assert_eq!(
            function_arn(
                "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:f/invocations"
            ),
            Some("arn:aws:lambda:us-east-1:000000000000:function:f")
        );
    }
}
