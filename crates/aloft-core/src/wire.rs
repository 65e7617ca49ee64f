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
    let read = match read(model_name, too_large, BODY_LIMIT, req).await {
        Ok(r) => r,
        Err(refused) => return refused,
    };
    let Read {
        ctx,
        decoded,
        model,
    } = read;
    let rid = ctx.request_id.clone();
    let result = call(ctx, decoded.operation, decoded.input).await;
    render(model, decoded.operation, decoded.protocol, result, &rid)
}

/// A request read and decoded by [`read`].
pub struct Read {
    pub ctx: RequestContext,
    pub decoded: aloft_protocol::Decoded,
    pub model: &'static aloft_model::ServiceModel,
}

/// The first half of [`serve`], for a service that answers some operation its own way (a
/// streaming answer) or takes larger bodies: reads at most `limit` bytes and decodes them, or
/// answers the refusal in the request's protocol.
pub async fn read(
    model_name: &str,
    too_large: &'static str,
    limit: usize,
    req: AwsRequest,
) -> Result<Read, Response> {
    let Some(model) = aloft_model::get(model_name) else {
        return Err(crate::gateway::error_response(&AwsError::internal(
            format!("no built-in model {model_name}"),
        )));
    };
    let AwsRequest { ctx, parts, body } = req;
    let bytes = match body::collect_limited(body, limit).await {
        Ok(b) => b,
        Err(e) => {
            let err = e.into_aws(|| AwsError::new(too_large, 413, "Request body too large"));
            let protocol = aloft_protocol::detect(model, &parts);
            let resp = aloft_protocol::encode_error(model, protocol, &err, &ctx.request_id);
            return Err(body::from_bytes(resp));
        }
    };
    match aloft_protocol::decode(model, &parts, &bytes) {
        Ok(decoded) => Ok(Read {
            ctx,
            decoded,
            model,
        }),
        Err(rejection) => Err(body::from_bytes(rejection.response(model, &ctx.request_id))),
    }
}

/// The second half of [`serve`]: the operation's output or error in `protocol`.
pub fn render<E: Into<AwsError>>(
    model: &aloft_model::ServiceModel,
    operation: &str,
    protocol: aloft_protocol::Protocol,
    result: Result<Value, E>,
    request_id: &str,
) -> Response {
    body::from_bytes(match result {
        Ok(out) => aloft_protocol::encode_output(model, operation, protocol, &out, request_id),
        Err(e) => aloft_protocol::encode_error(model, protocol, &e.into(), request_id),
    })
}
