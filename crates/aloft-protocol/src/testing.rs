//! Reading responses back as a client would: the other half of each codec, used by the
//! golden tests and by Rust tests that check what a service rendered.

use aloft_model::{Operation, ServiceModel};
use bytes::Bytes;
use serde_json::{Map, Value};

use crate::{AwsError, Protocol, json, xml};

fn header<'a>(resp: &'a http::Response<Bytes>, name: &str) -> Option<&'a str> {
    resp.headers().get(name).and_then(|v| v.to_str().ok())
}

/// Parses a success response of `op` into the internal form.
///
/// # Errors
/// When the body does not parse as the protocol's output.
pub fn read_output(
    model: &ServiceModel,
    op: &Operation,
    protocol: Protocol,
    resp: &http::Response<Bytes>,
) -> Result<Value, AwsError> {
    let bad = |m: String| AwsError::internal(m);
    match protocol {
        Protocol::Json10 | Protocol::Json11 => {
            let body = json::parse_body(resp.body())?;
            match &op.output {
                Some(m) => {
                    Ok(json::from_wire(model, m, body)?
                        .unwrap_or_else(|| Value::Object(Map::new())))
                }
                None => Ok(Value::Object(Map::new())),
            }
        }
        Protocol::Query => {
            let Some(out) = &op.output else {
                return Ok(Value::Object(Map::new()));
            };
            if resp.body().is_empty() {
                return Ok(Value::Object(Map::new()));
            }
            let root = xml::parse(resp.body()).map_err(bad)?;
            let wrapper = out
                .result_wrapper
                .clone()
                .unwrap_or_else(|| format!("{}Result", op.name));
            let shape = model
                .shape(&out.shape)
                .ok_or_else(|| bad("no output shape".into()))?;
            match root.child(&wrapper) {
                Some(result) => xml::structure_from_xml(model, shape, result),
                None => Ok(Value::Object(Map::new())),
            }
        }
        Protocol::RestJson | Protocol::RestXml => {
            crate::rest::read_output(model, op, protocol, resp)
        }
        Protocol::RpcV2Cbor => crate::cbor::read_output(model, op, resp, false),
        Protocol::JsonCbor => crate::cbor::read_output(model, op, resp, true),
    }
}

/// Reads an error response's code and message, as botocore does (namespaces and URIs
/// stripped from `__type`; `x-amzn-query-error` preferred for query-compatible services).
///
/// # Errors
/// When the body is not the protocol's error shape.
pub fn read_error(
    model: &ServiceModel,
    protocol: Protocol,
    resp: &http::Response<Bytes>,
) -> Result<(String, String), AwsError> {
    let clean = |s: &str| {
        let s = s.rsplit('#').next().unwrap_or(s);
        s.split(':').next().unwrap_or(s).to_string()
    };
    if model.metadata.query_compatible()
        && protocol != Protocol::Query
        && let Some(q) = header(resp, "x-amzn-query-error")
    {
        let code = q.split(';').next().unwrap_or(q).to_string();
        let message = read_error(model, protocol, &strip_query_header(resp))?.1;
        return Ok((code, message));
    }
    match protocol {
        Protocol::Query | Protocol::RestXml => {
            let root = xml::parse(resp.body()).map_err(AwsError::internal)?;
            let error = root.child("Error").unwrap_or(&root);
            let text = |n: &str| error.child(n).map(|e| e.text.clone()).unwrap_or_default();
            Ok((text("Code"), text("Message")))
        }
        Protocol::RpcV2Cbor | Protocol::JsonCbor => crate::cbor::read_error(resp),
        _ => {
            if let Some(t) = header(resp, "x-amzn-errortype") {
                let body = json::parse_body(resp.body()).unwrap_or_default();
                return Ok((clean(t), message_of(&body)));
            }
            let body = json::parse_body(resp.body())?;
            let code = body
                .get("__type")
                .or_else(|| body.get("code"))
                .and_then(Value::as_str)
                .map(clean)
                .unwrap_or_default();
            Ok((code, message_of(&body)))
        }
    }
}

fn message_of(body: &Value) -> String {
    ["message", "Message", "errorMessage"]
        .iter()
        .find_map(|k| body.get(*k).and_then(Value::as_str))
        .unwrap_or_default()
        .to_string()
}

fn strip_query_header(resp: &http::Response<Bytes>) -> http::Response<Bytes> {
    let mut copy = http::Response::new(resp.body().clone());
    *copy.status_mut() = resp.status();
    for (k, v) in resp.headers() {
        if k != "x-amzn-query-error" {
            copy.headers_mut().insert(k, v.clone());
        }
    }
    copy
}
