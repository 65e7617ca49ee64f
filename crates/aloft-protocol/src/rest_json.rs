//! The rest-json protocol (Lambda, API Gateway, Scheduler): HTTP bindings from `rest`,
//! JSON bodies, errors as `x-amzn-ErrorType` plus a JSON body.

use aloft_model::{Operation, ServiceModel};
use bytes::Bytes;
use http::request::Parts;
use serde_json::{Map, Value};

use crate::{AwsError, Protocol, response, rest};

pub(crate) fn decode(
    model: &'static ServiceModel,
    parts: &Parts,
    body: &[u8],
) -> Result<(&'static str, Value), AwsError> {
    rest::decode(model, parts, body, Protocol::RestJson)
}

pub(crate) fn encode_output(
    model: &ServiceModel,
    op: &Operation,
    output: &Value,
) -> Result<http::Response<Bytes>, AwsError> {
    let Some(shape) = model.output_shape(op) else {
        let status = op.http.response_code.unwrap_or(200);
        let mut resp = response(
            http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::OK),
            "application/json",
            b"{}".to_vec(),
        );
        if status == 204 {
            *resp.body_mut() = Bytes::new();
        }
        return Ok(resp);
    };
    Ok(rest::encode(
        model,
        op,
        shape,
        output,
        Protocol::RestJson,
        "",
        None,
    ))
}

/// `{"message": ...}` under the error shape's own message member (`Message` for Lambda,
/// which also sends `Type: User|Service`), with the code in `x-amzn-ErrorType`.
pub(crate) fn encode_error(model: &ServiceModel, error: &AwsError) -> http::Response<Bytes> {
    let mut body = Map::new();
    let shape = model.error_shape(error.code).map(|(_, s)| s);
    let key = shape
        .and_then(|s| {
            s.members
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case("message"))
        })
        .map_or("message", |(n, _)| n.as_str());
    if shape.is_some_and(|s| s.member_named("Type").is_some()) && !error.fields.contains_key("Type")
    {
        body.insert(
            "Type".into(),
            Value::String(
                if error.sender_fault {
                    "User"
                } else {
                    "Service"
                }
                .into(),
            ),
        );
    }
    body.insert(key.into(), Value::String(error.message.clone()));
    for (k, v) in &error.fields {
        body.insert(k.clone(), v.clone());
    }
    let bytes = serde_json::to_vec(&Value::Object(body)).unwrap_or_default();
    let mut resp = response(error.status, "application/json", bytes);
    if let Ok(v) = http::HeaderValue::from_str(error.code) {
        resp.headers_mut().insert("x-amzn-errortype", v);
    }
    resp
}
