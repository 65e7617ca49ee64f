//! CloudWatch's error codes (the model's shape names; the codec adds the query-compatible
//! `x-amzn-query-error` codes such as `InvalidParameterValue`), mapped to status in one place.

use aloft_core::AwsError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    InvalidParameterValueException,
    InvalidParameterCombinationException,
    MissingRequiredParameterException,
    InvalidNextToken,
    InvalidFormatFault,
    ResourceNotFound,
    ResourceNotFoundException,
    LimitExceededFault,
    InternalServiceFault,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CwError {
    pub code: Code,
    pub message: String,
}

pub type Result<T> = std::result::Result<T, CwError>;

impl CwError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(Code::InvalidParameterValueException, message)
    }
}

impl From<CwError> for AwsError {
    fn from(e: CwError) -> Self {
        let (code, status) = match e.code {
            Code::InvalidParameterValueException => ("InvalidParameterValueException", 400),
            Code::InvalidParameterCombinationException => {
                ("InvalidParameterCombinationException", 400)
            }
            Code::MissingRequiredParameterException => ("MissingRequiredParameterException", 400),
            Code::InvalidNextToken => ("InvalidNextToken", 400),
            Code::InvalidFormatFault => ("InvalidFormatFault", 400),
            Code::ResourceNotFound => ("ResourceNotFound", 404),
            Code::ResourceNotFoundException => ("ResourceNotFoundException", 404),
            Code::LimitExceededFault => ("LimitExceededFault", 400),
            Code::InternalServiceFault => ("InternalServiceFault", 500),
        };
        AwsError::new(code, status, e.message)
    }
}
