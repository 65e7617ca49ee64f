//! DynamoDB's json 1.0 wire: `X-Amz-Target: DynamoDB_20120810.<Op>` in, JSON out, errors as
//! `{"__type": "<namespace>#<Code>", "message": …}` (botocore reads the part after `#`).

use aloft_core::{AwsError, Response};
use bytes::Bytes;
use http::{HeaderValue, header};
use serde_json::Value as Json;

use crate::error::{ErrorCode, serialization, wire_type};

/// DynamoDB requests are small JSON documents; 16 MB covers the largest batch.
pub const BODY_LIMIT: usize = 16 * 1024 * 1024;

/// The operation named by the target header and the decoded input object.
pub fn decode(target: Option<&str>, body: &[u8]) -> Result<(String, String, Json), AwsError> {
    let (prefix, op) = target
        .and_then(|t| t.split_once('.'))
        .ok_or_else(|| ErrorCode::UnknownOperationException.err(""))?;
    let input: Json = if body.iter().all(u8::is_ascii_whitespace) {
        Json::Object(Default::default())
    } else {
        serde_json::from_slice(body)
            .map_err(|e| serialization(format!("Could not parse request body into json: {e}")))?
    };
    if !input.is_object() {
        return Err(serialization(
            "Start of structure or map found where not expected.",
        ));
    }
    Ok((prefix.to_string(), op.to_string(), input))
}

fn response(status: u16, body: Vec<u8>) -> Response {
    let mut resp = http::Response::new(aloft_core::body::full(Bytes::from(body)));
    *resp.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::OK);
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-amz-json-1.0"),
    );
    resp
}

pub fn ok(v: &Json) -> Response {
    response(
        200,
        serde_json::to_vec(v).unwrap_or_else(|_| b"{}".to_vec()),
    )
}

pub fn error(e: &AwsError) -> Response {
    let mut body = serde_json::Map::new();
    body.insert("__type".into(), Json::String(wire_type(e.code)));
    if !e.message.is_empty() || e.code != "UnknownOperationException" {
        body.insert("message".into(), Json::String(e.message.clone()));
    }
    for (k, v) in &e.fields {
        body.insert(k.clone(), v.clone());
    }
    let mut resp = response(
        e.status.as_u16(),
        serde_json::to_vec(&Json::Object(body)).unwrap_or_default(),
    );
    for (k, v) in &e.headers {
        if let (Ok(k), Ok(v)) = (
            http::HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(v),
        ) {
            resp.headers_mut().insert(k, v);
        }
    }
    resp
}
