//! Scheduler's error codes (rest-json `x-amzn-ErrorType`), mapped to status in one place.

use aloft_core::AwsError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    ValidationException,
    ResourceNotFoundException,
    ConflictException,
    ServiceQuotaExceededException,
    InternalServerException,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchedError {
    pub code: Code,
    pub message: String,
}

pub type Result<T> = std::result::Result<T, SchedError>;

impl SchedError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(Code::ValidationException, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(Code::ResourceNotFoundException, message)
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(Code::ConflictException, message)
    }
}

impl From<SchedError> for AwsError {
    fn from(e: SchedError) -> Self {
        let (code, status) = match e.code {
            Code::ValidationException => ("ValidationException", 400),
            Code::ResourceNotFoundException => ("ResourceNotFoundException", 404),
            Code::ConflictException => ("ConflictException", 409),
            Code::ServiceQuotaExceededException => ("ServiceQuotaExceededException", 402),
            Code::InternalServerException => ("InternalServerException", 500),
        };
        AwsError::new(code, status, e.message)
    }
}
