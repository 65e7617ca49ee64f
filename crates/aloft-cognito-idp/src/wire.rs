//! The json 1.1 wire format, until the shared codec in `aloft-protocol` takes over: the
//! operation from `X-Amz-Target`, the input from the body, errors as `__type` + `message`.

use aloft_core::{AwsError, AwsRequest, Response, body};
use bytes::Bytes;
use serde_json::Value;

use crate::error::Code;

pub const TARGET_PREFIX: &str = "AWSCognitoIdentityProviderService";

/// Reads `(operation, input)` from a json 1.1 request.
pub async fn decode(req: &mut AwsRequest) -> Result<(String, Value), AwsError> {
    let op = req
        .header("x-amz-target")
        .and_then(|t| t.strip_prefix(TARGET_PREFIX))
        .and_then(|t| t.strip_prefix('.'))
        .map(str::to_string)
        .ok_or_else(|| Code::UnknownOperationException.msg(""))?;
    let bytes = req
        .bytes(1 << 20, || {
            Code::SerializationException.msg("Request body exceeds the maximum size")
        })
        .await?;
    let input = if bytes.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Default::default())
    } else {
        serde_json::from_slice(&bytes)
            .map_err(|_| Code::SerializationException.msg("Start of structure or map found where not expected."))?
    };
    if !input.is_object() {
        return Err(Code::SerializationException.msg("Start of structure or map found where not expected."));
    }
    Ok((op, input))
}

pub fn ok(request_id: &str, value: &Value) -> Response {
    respond(request_id, 200, Bytes::from(value.to_string()), None)
}

pub fn error(request_id: &str, e: &AwsError) -> Response {
    let mut body = serde_json::Map::new();
    body.insert("__type".into(), e.code.into());
    body.insert("message".into(), e.message.clone().into());
    for (k, v) in &e.fields {
        body.insert(k.clone(), v.clone());
    }
    respond(
        request_id,
        e.status.as_u16(),
        Bytes::from(Value::Object(body).to_string()),
        Some(e.code),
    )
}

fn respond(request_id: &str, status: u16, bytes: Bytes, code: Option<&str>) -> Response {
    let mut b = http::Response::builder()
        .status(status)
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amzn-requestid", request_id);
    if let Some(code) = code {
        b = b.header("x-amzn-errortype", code);
    }
    b.body(body::full(bytes))
        .unwrap_or_else(|_| http::Response::new(body::empty()))
}

/// A plain JSON document (JWKS, OpenID configuration, `/_aloft/` views).
pub fn json(status: u16, value: &Value) -> Response {
    http::Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(body::full(value.to_string()))
        .unwrap_or_else(|_| http::Response::new(body::empty()))
}
