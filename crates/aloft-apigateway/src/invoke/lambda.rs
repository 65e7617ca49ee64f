//! Lambda proxy integration: the payload format 1.0 event and the proxy response contract.

use base64::Engine;
use bytes::Bytes;
use serde::{Serialize, Serializer, ser::SerializeMap};
use serde_json::{Map, Value};

use super::mapping::Params;

/// The function ARN inside an integration URI
/// (`arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{arn}/invocations`).
pub fn function_arn(uri: &str) -> Option<&str> {
    let rest = uri.split_once("/functions/")?.1;
    Some(rest.strip_suffix("/invocations").unwrap_or(rest))
}

type Multi = indexmap::IndexMap<String, Vec<String>>;

/// `headers` / `queryStringParameters`: the last value of each name; null when there are none.
struct SingleValues<'a>(&'a Multi);

impl Serialize for SingleValues<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0.is_empty() {
            return s.serialize_none();
        }
        s.collect_map(self.0.iter().filter_map(|(k, v)| Some((k, v.last()?))))
    }
}

/// `multiValueHeaders` / `multiValueQueryStringParameters`; null when there are none.
fn multi(m: &Multi) -> Option<&Multi> {
    (!m.is_empty()).then_some(m)
}

/// The event AWS sends a proxy-integrated function (payload format 1.0), serialized straight
/// from the request (no JSON tree is built on the Lambda proxy path).
pub struct Event<'a> {
    pub resource: &'a str,
    pub path: &'a str,
    pub method: &'a str,
    pub params: &'a Params,
    pub stage_vars: &'a indexmap::IndexMap<String, String>,
    pub request_context: &'a Value,
    pub body: &'a Bytes,
    pub binary: bool,
}

impl Serialize for Event<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let body = self.body;
        let (body, b64): (Option<std::borrow::Cow<'_, str>>, bool) = if body.is_empty() {
            (None, false)
        } else {
            match std::str::from_utf8(body) {
                Ok(text) if !self.binary => (Some(text.into()), false),
                _ => (
                    Some(
                        base64::engine::general_purpose::STANDARD
                            .encode(body)
                            .into(),
                    ),
                    true,
                ),
            }
        };
        let p = self.params;
        let mut m = s.serialize_map(Some(13))?;
        m.serialize_entry("resource", self.resource)?;
        m.serialize_entry("path", self.path)?;
        m.serialize_entry("httpMethod", self.method)?;
        m.serialize_entry("headers", &SingleValues(&p.headers))?;
        m.serialize_entry("multiValueHeaders", &multi(&p.headers))?;
        m.serialize_entry("queryStringParameters", &SingleValues(&p.query))?;
        m.serialize_entry("multiValueQueryStringParameters", &multi(&p.query))?;
        m.serialize_entry("pathParameters", &(!p.path.is_empty()).then_some(&p.path))?;
        m.serialize_entry(
            "stageVariables",
            &(!self.stage_vars.is_empty()).then_some(self.stage_vars),
        )?;
        m.serialize_entry("requestContext", self.request_context)?;
        m.serialize_entry("body", &body)?;
        m.serialize_entry("isBase64Encoded", &b64)?;
        m.end()
    }
}

/// The event as a JSON document (for callers that reshape it: REQUEST authorizers, HTTP APIs'
/// payload format 1.0).
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
    let mut event = serde_json::to_value(Event {
        resource,
        path,
        method,
        params,
        stage_vars,
        request_context: &Value::Null,
        body,
        binary,
    })
    .unwrap_or(Value::Null);
    event["requestContext"] = request_context;
    event
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
    use serde_json::json;

    #[test]
    fn the_event_as_aws_builds_it() {
        let mut p = Params::default();
        p.headers
            .insert("Accept".into(), vec!["a".into(), "b".into()]);
        p.headers.insert("X-Empty".into(), vec![]);
        p.query.insert("q".into(), vec!["1".into()]);
        p.path.insert("id".into(), "7".into());
        let mut vars = indexmap::IndexMap::new();
        vars.insert("env".to_string(), "dev".to_string());
        let ctx = json!({"requestId": "r"});
        let e = event(
            "/x/{id}",
            "/x/7",
            "POST",
            &p,
            &vars,
            ctx.clone(),
            &Bytes::from("hi"),
            false,
        );
        assert_eq!(
            e,
            json!({
                "resource": "/x/{id}", "path": "/x/7", "httpMethod": "POST",
                "headers": {"Accept": "b"},
                "multiValueHeaders": {"Accept": ["a", "b"], "X-Empty": []},
                "queryStringParameters": {"q": "1"},
                "multiValueQueryStringParameters": {"q": ["1"]},
                "pathParameters": {"id": "7"}, "stageVariables": {"env": "dev"},
                "requestContext": {"requestId": "r"}, "body": "hi", "isBase64Encoded": false
            })
        );
        let keys: Vec<&String> = e.as_object().unwrap().keys().collect();
        assert_eq!(keys[0], "resource");
        assert_eq!(keys[11], "isBase64Encoded");
        let bytes = serde_json::to_vec(&Event {
            resource: "/x/{id}",
            path: "/x/7",
            method: "POST",
            params: &p,
            stage_vars: &vars,
            request_context: &ctx,
            body: &Bytes::from("hi"),
            binary: false,
        })
        .unwrap();
        assert_eq!(bytes, serde_json::to_vec(&e).unwrap());
        let empty = Params::default();
        let none = indexmap::IndexMap::new();
        let e = event(
            "/",
            "/",
            "GET",
            &empty,
            &none,
            Value::Null,
            &Bytes::new(),
            false,
        );
        for k in [
            "headers",
            "multiValueHeaders",
            "queryStringParameters",
            "pathParameters",
            "stageVariables",
            "body",
        ] {
            assert_eq!(e[k], Value::Null, "{k}");
        }
        let e = event(
            "/",
            "/",
            "GET",
            &empty,
            &none,
            Value::Null,
            &Bytes::from("hi"),
            true,
        );
        assert_eq!(
            (e["body"].as_str(), &e["isBase64Encoded"]),
            (Some("aGk="), &json!(true))
        );
        let e = event(
            "/",
            "/",
            "GET",
            &empty,
            &none,
            Value::Null,
            &Bytes::from(vec![0xff]),
            false,
        );
        assert_eq!(
            (e["body"].as_str(), &e["isBase64Encoded"]),
            (Some("/w=="), &json!(true))
        );
    }

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
