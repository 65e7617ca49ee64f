//! Lambda's error codes, with their HTTP statuses in one place.
//!
//! Lambda's rest-json errors carry `"Type": "User"` (or `"Service"`) beside the message.

use aloft_core::AwsError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    ResourceNotFound,
    ResourceConflict,
    InvalidParameterValue,
    Validation,
    TooManyRequests,
    RequestTooLarge,
    InvalidRequestContent,
    PreconditionFailed,
    PolicyLengthExceeded,
    CodeStorageExceeded,
    UnsupportedMediaType,
    Service,
}

impl Code {
    fn parts(self) -> (&'static str, u16) {
        match self {
            Self::ResourceNotFound => ("ResourceNotFoundException", 404),
            Self::ResourceConflict => ("ResourceConflictException", 409),
            Self::InvalidParameterValue => ("InvalidParameterValueException", 400),
            Self::Validation => ("ValidationException", 400),
            Self::TooManyRequests => ("TooManyRequestsException", 429),
            Self::RequestTooLarge => ("RequestTooLargeException", 413),
            Self::InvalidRequestContent => ("InvalidRequestContentException", 400),
            Self::PreconditionFailed => ("PreconditionFailedException", 412),
            Self::PolicyLengthExceeded => ("PolicyLengthExceededException", 400),
            Self::CodeStorageExceeded => ("CodeStorageExceededException", 400),
            Self::UnsupportedMediaType => ("UnsupportedMediaTypeException", 415),
            Self::Service => ("ServiceException", 500),
        }
    }
}

pub fn err(code: Code, message: impl Into<String>) -> AwsError {
    let (name, status) = code.parts();
    let kind = if code == Code::Service {
        "Service"
    } else {
        "User"
    };
    AwsError::new(name, status, message).with_field("Type", kind)
}

pub fn not_found(what: &str, arn: &str) -> AwsError {
    err(Code::ResourceNotFound, format!("{what} not found: {arn}"))
}

/// `1 validation error detected: Value 'x' at 'member' failed to satisfy constraint: ...`.
pub fn constraint(value: &str, member: &str, constraint: &str) -> AwsError {
    err(
        Code::Validation,
        format!(
            "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}"
        ),
    )
}

pub fn throttled(reserved: bool) -> AwsError {
    err(Code::TooManyRequests, "Rate Exceeded.").with_field(
        "Reason",
        if reserved {
            "ReservedFunctionConcurrentInvocationLimitExceeded"
        } else {
            "ConcurrentInvocationLimitExceeded"
        },
    )
}

pub type Result<T> = std::result::Result<T, AwsError>;
