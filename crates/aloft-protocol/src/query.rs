//! stub
use crate::AwsError;
use aloft_model::{Operation, ServiceModel};
use bytes::Bytes;
use http::request::Parts;
use serde_json::Value;
pub(crate) fn decode(
    _m: &'static ServiceModel,
    _p: &Parts,
    _b: &[u8],
) -> Result<(&'static str, Value), AwsError> {
    Err(AwsError::internal("todo"))
}
pub(crate) fn encode_output(
    _m: &ServiceModel,
    _o: &Operation,
    _v: &Value,
    _r: &str,
) -> http::Response<Bytes> {
    http::Response::new(Bytes::new())
}
pub(crate) fn encode_error(_m: &ServiceModel, _e: &AwsError, _r: &str) -> http::Response<Bytes> {
    http::Response::new(Bytes::new())
}
/// The query-protocol code of an error: the model's `error.code` override if it has one
/// (`QueueDoesNotExist` is `AWS.SimpleQueueService.NonExistentQueue` on the query wire).
pub(crate) fn wire_code<'a>(model: &'a ServiceModel, e: &'a AwsError) -> &'a str {
    model
        .error_shape(e.code)
        .and_then(|(_, s)| s.error.as_ref())
        .and_then(|i| i.code.as_deref())
        .unwrap_or(e.code)
}
