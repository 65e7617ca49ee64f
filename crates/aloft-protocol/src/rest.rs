//! stub
pub struct Route;
pub struct Router;
use crate::{AwsError, Protocol};
use aloft_model::{Operation, ServiceModel};
use bytes::Bytes;
use serde_json::Value;
pub(crate) fn read_output(
    _m: &ServiceModel,
    _o: &Operation,
    _p: Protocol,
    _r: &http::Response<Bytes>,
) -> Result<Value, AwsError> {
    Err(AwsError::internal("todo"))
}
