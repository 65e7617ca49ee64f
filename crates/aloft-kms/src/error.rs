//! KMS's error codes (json 1.1 `__type`), mapped to status in one place.

use aloft_core::AwsError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    AlreadyExistsException,
    DisabledException,
    DryRunOperationException,
    IncorrectKeyException,
    InvalidAliasNameException,
    InvalidArnException,
    InvalidCiphertextException,
    InvalidGrantIdException,
    InvalidGrantTokenException,
    InvalidKeyUsageException,
    InvalidMarkerException,
    KMSInvalidMacException,
    KMSInvalidSignatureException,
    KMSInvalidStateException,
    LimitExceededException,
    MalformedPolicyDocumentException,
    NotFoundException,
    TagException,
    UnsupportedOperationException,
    ValidationException,
    KMSInternalException,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KmsError {
    pub code: Code,
    pub message: String,
}

pub type Result<T> = std::result::Result<T, KmsError>;

impl KmsError {
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
        Self::new(Code::NotFoundException, message)
    }
    /// AWS answers a bad or foreign ciphertext with an empty message.
    pub fn ciphertext() -> Self {
        Self::new(Code::InvalidCiphertextException, "")
    }
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(Code::InvalidKeyUsageException, message)
    }
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AlreadyExistsException => "AlreadyExistsException",
            Self::DisabledException => "DisabledException",
            Self::DryRunOperationException => "DryRunOperationException",
            Self::IncorrectKeyException => "IncorrectKeyException",
            Self::InvalidAliasNameException => "InvalidAliasNameException",
            Self::InvalidArnException => "InvalidArnException",
            Self::InvalidCiphertextException => "InvalidCiphertextException",
            Self::InvalidGrantIdException => "InvalidGrantIdException",
            Self::InvalidGrantTokenException => "InvalidGrantTokenException",
            Self::InvalidKeyUsageException => "InvalidKeyUsageException",
            Self::InvalidMarkerException => "InvalidMarkerException",
            Self::KMSInvalidMacException => "KMSInvalidMacException",
            Self::KMSInvalidSignatureException => "KMSInvalidSignatureException",
            Self::KMSInvalidStateException => "KMSInvalidStateException",
            Self::LimitExceededException => "LimitExceededException",
            Self::MalformedPolicyDocumentException => "MalformedPolicyDocumentException",
            Self::NotFoundException => "NotFoundException",
            Self::TagException => "TagException",
            Self::UnsupportedOperationException => "UnsupportedOperationException",
            Self::ValidationException => "ValidationException",
            Self::KMSInternalException => "KMSInternalException",
        }
    }

    fn status(self) -> u16 {
        match self {
            Self::KMSInternalException => 500,
            _ => 400,
        }
    }
}

impl From<KmsError> for AwsError {
    fn from(e: KmsError) -> Self {
        AwsError::new(e.code.as_str(), e.code.status(), e.message)
    }
}

impl From<AwsError> for KmsError {
    fn from(e: AwsError) -> Self {
        Self::validation(e.message)
    }
}
