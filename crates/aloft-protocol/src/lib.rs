//! Wire codecs for the AWS protocols, shared by every service that speaks them.
//!
//! A codec turns an HTTP request into `(operation, input)` where `input` is a
//! `serde_json::Value` shaped like the service model's input structure (member
//! names as in the model), and turns an output `Value` or an [`AwsError`] back
//! into the protocol's HTTP response. Services never see wire details.
//!
//! One internal form for every protocol, so a handler is written once:
//! - member names are the model's member names (never `locationName`s);
//! - timestamps are epoch seconds (numbers, possibly fractional);
//! - blobs are base64 strings (as on the json wire);
//! - absent members are absent (json `null`s are dropped on the way in and out).
//!
//! ```
//! let model = aloft_model::get("sqs").unwrap();
//! let req = http::Request::post("/")
//!     .header("x-amz-target", "AmazonSQS.CreateQueue")
//!     .header("content-type", "application/x-amz-json-1.0")
//!     .body(()).unwrap();
//! let (parts, ()) = req.into_parts();
//! let call = aloft_protocol::decode(model, &parts, br#"{"QueueName":"q"}"#).unwrap();
//! assert_eq!(call.operation, "CreateQueue");
//! let out = serde_json::json!({"QueueUrl": "http://localhost:4566/000000000000/q"});
//! let resp = aloft_protocol::encode_output(model, call.operation, call.protocol, &out, "req-1");
//! assert_eq!(resp.status(), 200);
//! ```
//!
//! # The API
//! - [`decode`] → [`Decoded`] `{operation, input, protocol}` or a [`Rejection`] (answer it with
//!   [`Rejection::response`]). The protocol is picked by [`detect`]: `smithy-protocol` header
//!   (CBOR), `X-Amz-Target` (json), form body / `Action=` (query; also for awsQueryCompatible
//!   json services such as SQS), else the model's rest protocol, routed by method + URI.
//! - [`encode_output`] / [`encode_error`] render in the request's protocol, with the request id
//!   header (`x-amzn-RequestId`; S3's `x-amz-request-id`). Error codes are the model's shape
//!   names; the codec maps them to query codes (`error.code`, e.g. SQS's
//!   `AWS.SimpleQueueService.NonExistentQueue`) for query XML and `x-amzn-query-error`.
//! - Validation (`required`, lengths, ranges, patterns, enums) runs inside [`decode`] with
//!   Coral's messages (`ValidationException`; `ValidationError` for query services) except
//!   for rest-xml (S3). Services that word some errors differently call
//!   [`decode_unvalidated`] and then [`validate::validate`] or [`validate::violations`].
//! - Rest services: [`Router`] (`Router::for_model(model).find(method, path, query, headers)`)
//!   is what `decode` uses; services with their own routing (S3 virtual hosts) can call it.
//!   A streaming payload (S3 `PutObject` `Body`) arrives base64 in `input` only if the body
//!   was passed to `decode`: pass `&[]` and stream the body yourself for large objects.
//!   [`rest_xml::root_element`] names S3's response roots (not in the model).
//! - [`xml`]: an element tree parser and the shape-driven XML reader/writer, for services
//!   that build documents outside an operation (S3 notifications, website errors).
//! - [`testing`]: the client half (read a response back into the internal form), for tests.
//!
//! Bodies compressed with `Content-Encoding: gzip` are inflated for json/query/cbor (SDKs
//! compress CloudWatch `PutMetricData`); rest protocols leave it alone (it is S3 object data).

#![allow(clippy::result_large_err)] // AwsError is the shared contract; boxing it would touch every service.

mod cbor;
mod error;
mod json;
mod query;
mod rest;
mod rest_json;
pub mod rest_xml;
mod router;
pub mod testing;
mod timestamp;
pub mod validate;
mod walk;
pub mod xml;

use aloft_model::ServiceModel;
use bytes::Bytes;
use http::request::Parts;
use serde_json::Value;

pub use error::AwsError;
pub use router::{Matched, Route, Router};
pub use timestamp::{format_http_date, format_iso8601, parse_timestamp};

/// The wire protocol a request arrived in; responses are rendered in the same one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `application/x-amz-json-1.0` with `X-Amz-Target` (DynamoDB, SQS, CloudWatch).
    Json10,
    /// `application/x-amz-json-1.1` with `X-Amz-Target` (Logs, Kinesis, KMS, Cognito, ...).
    Json11,
    /// Form-encoded `Action=...` requests, XML responses (SNS, STS, IAM; old SQS clients).
    Query,
    /// HTTP-bound members, JSON bodies (Lambda, API Gateway, Scheduler).
    RestJson,
    /// HTTP-bound members, XML bodies (S3).
    RestXml,
    /// Smithy RPC v2 with CBOR bodies (CloudWatch's current SDKs).
    RpcV2Cbor,
    /// json 1.1 with CBOR bodies, `application/x-amz-cbor-1.1` (Kinesis's Java SDKs and KCL).
    JsonCbor,
}

impl Protocol {
    /// Parses a model's protocol name (`json`, `query`, `rest-json`, ...).
    pub fn from_model_name(name: &str, json_version: Option<&str>) -> Option<Self> {
        Some(match name {
            "json" if json_version == Some("1.1") => Self::Json11,
            "json" => Self::Json10,
            "query" => Self::Query,
            "rest-json" => Self::RestJson,
            "rest-xml" => Self::RestXml,
            "smithy-rpc-v2-cbor" => Self::RpcV2Cbor,
            _ => return None,
        })
    }

    fn model_name(self) -> &'static str {
        match self {
            Self::Json10 | Self::Json11 | Self::JsonCbor => "json",
            Self::Query => "query",
            Self::RestJson => "rest-json",
            Self::RestXml => "rest-xml",
            Self::RpcV2Cbor => "smithy-rpc-v2-cbor",
        }
    }

    /// Whether Coral-style model validation applies (S3 reports bad input its own way).
    pub fn validates(self) -> bool {
        !matches!(self, Self::RestXml)
    }
}

/// A decoded request: which operation, with which input, in which protocol.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// The operation's name as in the model (`CreateQueue`); `'static` since models live forever.
    pub operation: &'static str,
    pub input: Value,
    pub protocol: Protocol,
}

/// A request the codec refused, with the protocol to answer it in.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    pub protocol: Protocol,
    pub error: AwsError,
}

impl Rejection {
    /// Renders the refusal as the protocol's error response.
    pub fn response(&self, model: &ServiceModel, request_id: &str) -> http::Response<Bytes> {
        encode_error(model, self.protocol, &self.error, request_id)
    }
}

/// Picks the protocol of a request among those the service accepts, without reading the body.
///
/// Order, as the gateway does it: `smithy-protocol` header (CBOR), `X-Amz-Target` (json),
/// a form body or `Action=` query (query), then the service's HTTP-bound protocol.
pub fn detect(model: &ServiceModel, parts: &Parts) -> Protocol {
    let header = |n: &str| parts.headers.get(n).and_then(|v| v.to_str().ok());
    let accepts = |p: Protocol| model.accepts(p.model_name());
    let json = Protocol::from_model_name("json", model.metadata.json_version.as_deref())
        .unwrap_or(Protocol::Json10);
    if header("smithy-protocol").is_some_and(|v| v.eq_ignore_ascii_case("rpc-v2-cbor"))
        && accepts(Protocol::RpcV2Cbor)
    {
        return Protocol::RpcV2Cbor;
    }
    if header("x-amz-target").is_some() && accepts(json) {
        if json == Protocol::Json11
            && header("content-type").is_some_and(|c| c.starts_with("application/x-amz-cbor"))
        {
            return Protocol::JsonCbor;
        }
        return json;
    }
    // awsQueryCompatible services (SQS) still serve their old query protocol to old clients.
    if accepts(Protocol::Query) || model.metadata.query_compatible() {
        let form = header("content-type")
            .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
        let action = parts
            .uri
            .query()
            .is_some_and(|q| q.split('&').any(|p| p.starts_with("Action=")));
        if form || action || !accepts(json) {
            return Protocol::Query;
        }
    }
    Protocol::from_model_name(
        &model.metadata.protocol,
        model.metadata.json_version.as_deref(),
    )
    .unwrap_or(json)
}

/// Decodes and validates a request against the service model.
///
/// # Errors
/// The protocol's error for an unknown operation, a malformed body, or invalid input.
pub fn decode(
    model: &'static ServiceModel,
    parts: &Parts,
    body: &[u8],
) -> Result<Decoded, Rejection> {
    let decoded = decode_unvalidated(model, parts, body)?;
    if decoded.protocol.validates() {
        validate::validate(model, decoded.operation, decoded.protocol, &decoded.input).map_err(
            |error| Rejection {
                protocol: decoded.protocol,
                error,
            },
        )?;
    }
    Ok(decoded)
}

/// Decodes a request without constraint validation (types are still checked).
///
/// # Errors
/// The protocol's error for an unknown operation or a malformed body.
pub fn decode_unvalidated(
    model: &'static ServiceModel,
    parts: &Parts,
    body: &[u8],
) -> Result<Decoded, Rejection> {
    let protocol = detect(model, parts);
    let inflated;
    let body = if gzipped(parts) && !matches!(protocol, Protocol::RestJson | Protocol::RestXml) {
        inflated = gunzip(body).map_err(|error| Rejection { protocol, error })?;
        &inflated[..]
    } else {
        body
    };
    let result = match protocol {
        Protocol::Json10 | Protocol::Json11 => json::decode(model, parts, body),
        Protocol::Query => query::decode(model, parts, body),
        Protocol::RestJson => rest_json::decode(model, parts, body),
        Protocol::RestXml => rest_xml::decode(model, parts, body),
        Protocol::RpcV2Cbor => cbor::decode(model, parts, body),
        Protocol::JsonCbor => cbor::decode_json_cbor(model, parts, body),
    };
    result
        .map(|(operation, input)| Decoded {
            operation,
            input,
            protocol,
        })
        .map_err(|error| Rejection { protocol, error })
}

/// SDKs gzip large bodies of operations with the `requestcompression` trait (CloudWatch's
/// `PutMetricData`). Rest protocols are left alone: there `Content-Encoding` describes the
/// payload itself (an S3 object stored gzipped).
fn gzipped(parts: &Parts) -> bool {
    parts
        .headers
        .get_all(http::header::CONTENT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split(',').any(|e| e.trim().eq_ignore_ascii_case("gzip")))
}

/// The most a compressed request may inflate to (AWS caps these bodies at 1 MB).
const MAX_INFLATED: u64 = 16 * 1024 * 1024;

fn gunzip(body: &[u8]) -> Result<Vec<u8>, AwsError> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(body)
        .take(MAX_INFLATED + 1)
        .read_to_end(&mut out)
        .map_err(|_| {
            AwsError::new(
                "SerializationException",
                400,
                "Unable to decompress the gzip request body",
            )
        })?;
    if out.len() as u64 > MAX_INFLATED {
        return Err(AwsError::new(
            "RequestEntityTooLarge",
            413,
            "Request body is too large after decompression",
        ));
    }
    Ok(out)
}

/// Renders an operation's output `Value` (internal form) as the protocol's success response.
///
/// An operation name the model does not know renders an `InternalFailure` (a service bug).
pub fn encode_output(
    model: &ServiceModel,
    operation: &str,
    protocol: Protocol,
    output: &Value,
    request_id: &str,
) -> http::Response<Bytes> {
    let Some(op) = model.operation(operation) else {
        let err = AwsError::internal(format!("operation {operation} is not in the model"));
        return encode_error(model, protocol, &err, request_id);
    };
    let result = match protocol {
        Protocol::Json10 | Protocol::Json11 => Ok(json::encode_output(model, op, protocol, output)),
        Protocol::Query => Ok(query::encode_output(model, op, output, request_id)),
        Protocol::RestJson => rest_json::encode_output(model, op, output),
        Protocol::RestXml => rest_xml::encode_output(model, op, output),
        Protocol::RpcV2Cbor => Ok(cbor::encode_output(model, op, output)),
        Protocol::JsonCbor => Ok(cbor::encode_json_cbor_output(model, op, output)),
    };
    match result {
        Ok(resp) => with_request_id(resp, protocol, request_id),
        Err(err) => encode_error(model, protocol, &err, request_id),
    }
}

/// Renders an error in the protocol's error shape, with the request id header.
pub fn encode_error(
    model: &ServiceModel,
    protocol: Protocol,
    error: &AwsError,
    request_id: &str,
) -> http::Response<Bytes> {
    let resp = match protocol {
        Protocol::Json10 | Protocol::Json11 => json::encode_error(model, protocol, error),
        Protocol::Query => query::encode_error(model, error, request_id),
        Protocol::RestJson => rest_json::encode_error(model, error),
        Protocol::RestXml => rest_xml::encode_error(error, request_id),
        Protocol::RpcV2Cbor => cbor::encode_error(model, error),
        Protocol::JsonCbor => cbor::encode_json_cbor_error(model, error),
    };
    let mut resp = with_request_id(resp, protocol, request_id);
    for (name, value) in &error.headers {
        if let (Ok(n), Ok(v)) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            http::HeaderValue::from_str(value),
        ) {
            resp.headers_mut().append(n, v);
        }
    }
    resp
}

fn with_request_id(
    mut resp: http::Response<Bytes>,
    protocol: Protocol,
    request_id: &str,
) -> http::Response<Bytes> {
    let name = if protocol == Protocol::RestXml {
        "x-amz-request-id"
    } else {
        "x-amzn-requestid"
    };
    if let Ok(v) = http::HeaderValue::from_str(request_id) {
        resp.headers_mut().insert(name, v);
    }
    resp
}

/// Builds a response with a body and content type (codecs' common tail).
fn response(status: http::StatusCode, content_type: &str, body: Vec<u8>) -> http::Response<Bytes> {
    let mut resp = http::Response::new(Bytes::from(body));
    *resp.status_mut() = status;
    if let Ok(v) = http::HeaderValue::from_str(content_type) {
        resp.headers_mut().insert(http::header::CONTENT_TYPE, v);
    }
    resp
}
