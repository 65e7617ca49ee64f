//! Secrets Manager's error codes (json 1.1 `__type`), mapped to status in one place.

use aloft_core::AwsError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    DecryptionFailure,
    EncryptionFailure,
    InternalServiceError,
    InvalidNextTokenException,
    InvalidParameterException,
    InvalidRequestException,
    LimitExceededException,
    MalformedPolicyDocumentException,
    ResourceExistsException,
    ResourceNotFoundException,
    ValidationException,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmError {
    pub code: Code,
    pub message: String,
}

pub type Result<T> = std::result::Result<T, SmError>;

impl SmError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
    pub fn param(message: impl Into<String>) -> Self {
        Self::new(Code::InvalidParameterException, message)
    }
    pub fn request(message: impl Into<String>) -> Self {
        Self::new(Code::InvalidRequestException, message)
    }
    pub fn not_found() -> Self {
        Self::new(
            Code::ResourceNotFoundException,
            "Secrets Manager can't find the specified secret.",
        )
    }
    pub fn deleted() -> Self {
        Self::request(
            "You can't perform this operation on the secret because it was marked for deletion.",
        )
    }
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DecryptionFailure => "DecryptionFailure",
            Self::EncryptionFailure => "EncryptionFailure",
            Self::InternalServiceError => "InternalServiceError",
            Self::InvalidNextTokenException => "InvalidNextTokenException",
            Self::InvalidParameterException => "InvalidParameterException",
            Self::InvalidRequestException => "InvalidRequestException",
            Self::LimitExceededException => "LimitExceededException",
            Self::MalformedPolicyDocumentException => "MalformedPolicyDocumentException",
            Self::ResourceExistsException => "ResourceExistsException",
            Self::ResourceNotFoundException => "ResourceNotFoundException",
            Self::ValidationException => "ValidationException",
        }
    }
}

impl From<SmError> for AwsError {
    fn from(e: SmError) -> Self {
        let status = if e.code == Code::InternalServiceError {
            500
        } else {
            400
        };
        AwsError::new(e.code.as_str(), status, e.message)
    }
}
