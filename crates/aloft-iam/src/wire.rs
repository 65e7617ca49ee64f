//! The query wire for IAM and STS through the shared codec.

use aloft_core::{AwsError, AwsRequest, Response, body};
use aloft_model::ServiceModel;
use aloft_protocol::Protocol;
use serde_json::Value;

pub fn model(name: &str) -> &'static ServiceModel {
    aloft_model::get(name).expect("the iam and sts models are embedded")
}

pub async fn decode(
    model: &'static ServiceModel,
    req: &mut AwsRequest,
) -> Result<(&'static str, Value, Protocol), (Protocol, AwsError)> {
    let bytes = req
        .bytes(1 << 20, || {
            AwsError::new("ValidationError", 400, "Request body too large")
        })
        .await
        .map_err(|e| (Protocol::Query, e))?;
    let d = aloft_protocol::decode(model, &req.parts, &bytes).map_err(|r| (r.protocol, r.error))?;
    Ok((d.operation, d.input, d.protocol))
}

pub fn ok(model: &ServiceModel, op: &str, protocol: Protocol, rid: &str, v: &Value) -> Response {
    body::from_bytes(aloft_protocol::encode_output(model, op, protocol, v, rid))
}

pub fn error(model: &ServiceModel, protocol: Protocol, rid: &str, e: &AwsError) -> Response {
    body::from_bytes(aloft_protocol::encode_error(model, protocol, e, rid))
}
