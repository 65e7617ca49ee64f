//! DynamoDB's json 1.0 wire, on the shared codec: requests are decoded and validated against
//! the service model (`dynamodb` or `dynamodbstreams` by target prefix) with Coral's messages;
//! errors are rendered by the codec (`__type` with AWS's namespaces). Outputs are built by
//! the handlers already in wire form (json 1.0 has no timestamp or blob conversions the
//! handlers don't do), so they are serialized directly: walking the output shape of a 1 MB
//! Query page per request would cost more than it checks.

use aloft_core::{AwsError, Response};
use aloft_model::ServiceModel;
use bytes::Bytes;
use http::{HeaderValue, header};
use serde_json::Value as Json;

/// DynamoDB requests are small JSON documents; 16 MB covers the largest batch.
pub const BODY_LIMIT: usize = 16 * 1024 * 1024;

pub const STREAMS_PREFIX: &str = "DynamoDBStreams_20120810";

/// The model a request's target belongs to (Streams or the main API).
pub fn model_for(target: Option<&str>) -> &'static ServiceModel {
    let name = if target.is_some_and(|t| t.starts_with(STREAMS_PREFIX)) {
        "dynamodbstreams"
    } else {
        "dynamodb"
    };
    aloft_model::get(name).expect("embedded DynamoDB models")
}

/// The operation named by the target header and its decoded, validated input.
pub fn decode(
    model: &'static ServiceModel,
    parts: &http::request::Parts,
    body: &[u8],
) -> Result<(&'static str, Json), AwsError> {
    let d = aloft_protocol::decode(model, parts, body).map_err(|r| r.error)?;
    Ok((d.operation, d.input))
}

pub fn ok(v: &Json) -> Response {
    ok_bytes(serde_json::to_vec(v).unwrap_or_else(|_| b"{}".to_vec()))
}

/// A 200 answer whose JSON body is already written.
pub fn ok_bytes(body: Vec<u8>) -> Response {
    let body = answer_bytes(body);
    let crc = crc32(&body);
    let mut resp = http::Response::new(aloft_core::body::full(body));
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-amz-json-1.0"),
    );
    headers.insert(CRC32, crc);
    resp
}

/// DynamoDB signs every answer, errors included, with the CRC32 of its body in `x-amz-crc32`:
/// botocore, the Go and Java SDKs and the JavaScript SDK v2 check it when it is present and
/// retry (then fail) on a mismatch, so it must be the exact bytes sent.
const CRC32: header::HeaderName = header::HeaderName::from_static("x-amz-crc32");

fn crc32(body: &[u8]) -> HeaderValue {
    let crc = crc_fast::checksum(crc_fast::CrcAlgorithm::Crc32IsoHdlc, body);
    HeaderValue::from(u32::try_from(crc).unwrap_or_default())
}

/// `Bytes` of an answer, without the extra allocation `Bytes::from(Vec)` makes for a vector
/// with spare capacity (its shared header): the empty answer of most writes is static, and a
/// vector at least half full is shrunk, which the allocator does in place.
fn answer_bytes(body: Vec<u8>) -> Bytes {
    if body == b"{}" {
        Bytes::from_static(b"{}")
    } else if body.len() >= body.capacity() / 2 {
        Bytes::from(body.into_boxed_slice())
    } else {
        Bytes::from(body)
    }
}

pub fn error(model: &ServiceModel, e: &AwsError, request_id: &str) -> Response {
    let mut resp =
        aloft_protocol::encode_error(model, aloft_protocol::Protocol::Json10, e, request_id);
    let crc = crc32(resp.body());
    resp.headers_mut().insert(CRC32, crc);
    aloft_core::body::from_bytes(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_carry_the_crc32_of_their_exact_body() {
        // The CRC-32 (ISO-HDLC) check value, as decimal: what botocore compares the header to.
        assert_eq!(crc32(b"123456789"), "3421780262");
        let resp = ok_bytes(b"{\"TableNames\":[]}".to_vec());
        let want = crc32(b"{\"TableNames\":[]}");
        assert_eq!(resp.headers()["x-amz-crc32"], want);
        let model = model_for(None);
        let e = AwsError::new("ValidationException", 400, "bad");
        let resp = aloft_protocol::encode_error(model, aloft_protocol::Protocol::Json10, &e, "r");
        let sent = error(model, &e, "r");
        assert_eq!(sent.headers()["x-amz-crc32"], crc32(resp.body()));
    }
}
