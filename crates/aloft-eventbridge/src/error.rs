//! EventBridge's error codes (json 1.1 `__type`), mapped to status in one place.

use aloft_core::AwsError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    ResourceNotFoundException,
    ResourceAlreadyExistsException,
    InvalidEventPatternException,
    ValidationException,
    LimitExceededException,
    UnknownOperationException,
    IllegalStatusException,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EbError {
    pub code: Code,
    pub message: String,
}

pub type Result<T> = std::result::Result<T, EbError>;

impl EbError {
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
}

impl From<EbError> for AwsError {
    fn from(e: EbError) -> Self {
        let code = match e.code {
            Code::ResourceNotFoundException => "ResourceNotFoundException",
            Code::ResourceAlreadyExistsException => "ResourceAlreadyExistsException",
            Code::InvalidEventPatternException => "InvalidEventPatternException",
            Code::ValidationException => "ValidationException",
            Code::LimitExceededException => "LimitExceededException",
            Code::UnknownOperationException => "UnknownOperationException",
            Code::IllegalStatusException => "IllegalStatusException",
        };
        AwsError::new(code, 400, e.message)
    }
}
