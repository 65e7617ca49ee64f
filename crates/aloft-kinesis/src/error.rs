//! Kinesis's error codes (json 1.1 `__type`), mapped to status in one place.

use aloft_core::AwsError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    ExpiredIteratorException,
    ExpiredNextTokenException,
    InternalFailureException,
    InvalidArgumentException,
    KMSAccessDeniedException,
    KMSDisabledException,
    KMSInvalidStateException,
    KMSNotFoundException,
    LimitExceededException,
    ProvisionedThroughputExceededException,
    ResourceInUseException,
    ResourceNotFoundException,
    ValidationException,
    UnsupportedOperationException,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KinesisError {
    pub code: Code,
    pub message: String,
}

pub type Result<T> = std::result::Result<T, KinesisError>;

impl KinesisError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(Code::InvalidArgumentException, message)
    }
    pub fn in_use(message: impl Into<String>) -> Self {
        Self::new(Code::ResourceInUseException, message)
    }
    pub fn limit(message: impl Into<String>) -> Self {
        Self::new(Code::LimitExceededException, message)
    }
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(Code::ValidationException, message)
    }
    /// AWS names the stream and the account: "Stream s under account 123456789012 not found."
    pub fn stream_not_found(name: &str, account: &str) -> Self {
        Self::new(
            Code::ResourceNotFoundException,
            format!("Stream {name} under account {account} not found."),
        )
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(Code::ResourceNotFoundException, message)
    }
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ExpiredIteratorException => "ExpiredIteratorException",
            Self::ExpiredNextTokenException => "ExpiredNextTokenException",
            Self::InternalFailureException => "InternalFailureException",
            Self::InvalidArgumentException => "InvalidArgumentException",
            Self::KMSAccessDeniedException => "KMSAccessDeniedException",
            Self::KMSDisabledException => "KMSDisabledException",
            Self::KMSInvalidStateException => "KMSInvalidStateException",
            Self::KMSNotFoundException => "KMSNotFoundException",
            Self::LimitExceededException => "LimitExceededException",
            Self::ProvisionedThroughputExceededException => {
                "ProvisionedThroughputExceededException"
            }
            Self::ResourceInUseException => "ResourceInUseException",
            Self::ResourceNotFoundException => "ResourceNotFoundException",
            Self::ValidationException => "ValidationException",
            Self::UnsupportedOperationException => "UnsupportedOperationException",
        }
    }
}

impl From<KinesisError> for AwsError {
    fn from(e: KinesisError) -> Self {
        let status = if e.code == Code::InternalFailureException {
            500
        } else {
            400
        };
        AwsError::new(e.code.as_str(), status, e.message)
    }
}
