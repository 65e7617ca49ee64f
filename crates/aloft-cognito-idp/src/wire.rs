//! The json 1.1 wire through the shared codec: decode, Coral validation reported as Cognito
//! does (`InvalidParameterException`), encode outputs and errors.

use aloft_core::{AwsError, AwsRequest, Response, body};
use aloft_protocol::{Protocol, validate};
use serde_json::Value;

use crate::error::Code;

pub const TARGET_PREFIX: &str = "AWSCognitoIdentityProviderService";

pub fn model() -> &'static aloft_model::ServiceModel {
    aloft_model::get("cognito-idp").expect("the cognito-idp model is embedded")
}

/// Reads `(operation, input)` from a json 1.1 request.
pub async fn decode(req: &mut AwsRequest) -> Result<(&'static str, Value), AwsError> {
    let bytes = req
        .bytes(1 << 20, || {
            Code::InvalidParameterException.msg("Request body too large")
        })
        .await?;
    let decoded =
        aloft_protocol::decode_unvalidated(model(), &req.parts, &bytes).map_err(|r| r.error)?;
    let violations = validate::violations(model(), decoded.operation, &decoded.input);
    if !violations.is_empty() {
        // Cognito reports Coral's constraint messages under its own parameter error.
        return Err(Code::InvalidParameterException.msg(validate::message(&violations)));
    }
    Ok((decoded.operation, decoded.input))
}

pub fn ok(op: &str, request_id: &str, value: &Value) -> Response {
    body::from_bytes(aloft_protocol::encode_output(
        model(),
        op,
        Protocol::Json11,
        value,
        request_id,
    ))
}

pub fn error(request_id: &str, e: &AwsError) -> Response {
    body::from_bytes(aloft_protocol::encode_error(
        model(),
        Protocol::Json11,
        e,
        request_id,
    ))
}

/// A plain JSON document (JWKS, OpenID configuration, `/_aloft/` views).
pub fn json(status: u16, value: &Value) -> Response {
    http::Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(body::full(value.to_string()))
        .unwrap_or_else(|_| http::Response::new(body::empty()))
}
