//! The request cycle every model-driven service shares: read the bounded body, decode and
//! validate it by the service model, run the operation, render the output or error in the
//! protocol the request came in.

use std::future::Future;

use serde_json::Value;

use crate::AwsError;
use crate::body::{self, Response};
use crate::context::{AwsRequest, RequestContext};

/// The largest json/query/cbor request body a service accepts; AWS's own limits are lower.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// Serves one request of the service whose model is `model_name`.
///
/// `too_large` is the error code the service answers an oversized body with (services differ:
/// `ValidationException`, `InvalidParameterException`, `RequestEntityTooLarge`, ...).
pub async fn serve<F, Fut, E>(
    model_name: &str,
    too_large: &'static str,
    req: AwsRequest,
    call: F,
) -> Response
where
    F: FnOnce(RequestContext, &'static str, Value) -> Fut,
    Fut: Future<Output = Result<Value, E>>,
    E: Into<AwsError>,
{
    let Some(model) = aloft_model::get(model_name) else {
        return crate::gateway::error_response(&AwsError::internal(format!(
            "no built-in model {model_name}"
        )));
    };
    let AwsRequest { ctx, parts, body } = req;
    let rid = ctx.request_id.clone();
    let bytes = match body::collect_limited(body, BODY_LIMIT).await {
        Ok(b) => b,
        Err(e) => {
            let err = e.into_aws(|| AwsError::new(too_large, 413, "Request body too large"));
            let protocol = aloft_protocol::detect(model, &parts);
            return body::from_bytes(aloft_protocol::encode_error(model, protocol, &err, &rid));
        }
    };
    let decoded = match aloft_protocol::decode(model, &parts, &bytes) {
        Ok(d) => d,
        Err(rejection) => return body::from_bytes(rejection.response(model, &rid)),
    };
    let resp = match call(ctx, decoded.operation, decoded.input).await {
        Ok(out) => {
            aloft_protocol::encode_output(model, decoded.operation, decoded.protocol, &out, &rid)
        }
        Err(e) => aloft_protocol::encode_error(model, decoded.protocol, &e.into(), &rid),
    };
    body::from_bytes(resp)
}
