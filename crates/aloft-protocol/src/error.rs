//! The one error type every service returns; each codec renders it in its protocol's shape.

use http::StatusCode;
use serde_json::{Map, Value};

/// An error as AWS reports it: a code from the service model, a message, an HTTP status.
///
/// Services keep their own `enum` of error codes and convert into this at the edge,
/// so codes are never free-form strings inside domain logic.
#[derive(Debug, Clone, PartialEq)]
pub struct AwsError {
    /// The AWS error code, e.g. `ValidationException`, `NoSuchKey`.
    pub code: &'static str,
    pub message: String,
    pub status: StatusCode,
    /// `Sender` (client fault) or `Receiver` (server fault), used by the query protocol.
    pub sender_fault: bool,
    /// Extra members of the error shape (e.g. `CancellationReasons`, S3's `BucketName`).
    pub fields: Map<String, Value>,
    /// Extra response headers (e.g. S3's `x-amz-delete-marker` on a 404).
    pub headers: Vec<(String, String)>,
}

impl AwsError {
    pub fn new(code: &'static str, status: u16, message: impl Into<String>) -> Self {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
        Self {
            code,
            message: message.into(),
            sender_fault: status.is_client_error(),
            status,
            fields: Map::new(),
            headers: Vec::new(),
        }
    }

    /// 400 `ValidationException`, the json services' answer to malformed input.
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new("ValidationException", 400, message)
    }

    /// 500 `InternalFailure`: reserved for Aloft's own bugs, never for bad input.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new("InternalFailure", 500, message)
    }

    #[must_use]
    pub fn with_field(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.fields.insert(name.to_string(), value.into());
        self
    }

    #[must_use]
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }
}

impl std::fmt::Display for AwsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}): {}",
            self.code,
            self.status.as_u16(),
            self.message
        )
    }
}

impl std::error::Error for AwsError {}
