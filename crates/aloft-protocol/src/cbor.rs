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
) -> http::Response<Bytes> {
    http::Response::new(Bytes::new())
}
pub(crate) fn encode_error(_m: &ServiceModel, _e: &AwsError) -> http::Response<Bytes> {
    http::Response::new(Bytes::new())
}
pub(crate) fn read_output(
    _m: &ServiceModel,
    _o: &Operation,
    _r: &http::Response<Bytes>,
) -> Result<Value, AwsError> {
    Err(AwsError::internal("todo"))
}
pub(crate) fn read_error(_r: &http::Response<Bytes>) -> Result<(String, String), AwsError> {
    Err(AwsError::internal("todo"))
}
