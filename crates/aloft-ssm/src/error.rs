//! Parameter Store's error codes (json 1.1 `__type`), mapped to status in one place.

use aloft_core::AwsError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    HierarchyLevelLimitExceededException,
    InternalServerError,
    InvalidAllowedPatternException,
    InvalidFilterKey,
    InvalidFilterOption,
    InvalidFilterValue,
    InvalidKeyId,
    InvalidNextToken,
    InvalidResourceId,
    InvalidResourceType,
    ParameterAlreadyExists,
    ParameterMaxVersionLimitExceeded,
    ParameterNotFound,
    ParameterPatternMismatchException,
    ParameterVersionLabelLimitExceeded,
    ParameterVersionNotFound,
    TooManyTagsError,
    UnsupportedParameterType,
    ValidationException,
    InvalidOperation,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsmError {
    pub code: Code,
    pub message: String,
}

pub type Result<T> = std::result::Result<T, SsmError>;

impl SsmError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(Code::ValidationException, message)
    }
    /// AWS answers a missing parameter with an empty message.
    pub fn not_found() -> Self {
        Self::new(Code::ParameterNotFound, "")
    }
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::HierarchyLevelLimitExceededException => "HierarchyLevelLimitExceededException",
            Self::InternalServerError => "InternalServerError",
            Self::InvalidAllowedPatternException => "InvalidAllowedPatternException",
            Self::InvalidFilterKey => "InvalidFilterKey",
            Self::InvalidFilterOption => "InvalidFilterOption",
            Self::InvalidFilterValue => "InvalidFilterValue",
            Self::InvalidKeyId => "InvalidKeyId",
            Self::InvalidNextToken => "InvalidNextToken",
            Self::InvalidResourceId => "InvalidResourceId",
            Self::InvalidResourceType => "InvalidResourceType",
            Self::ParameterAlreadyExists => "ParameterAlreadyExists",
            Self::ParameterMaxVersionLimitExceeded => "ParameterMaxVersionLimitExceeded",
            Self::ParameterNotFound => "ParameterNotFound",
            Self::ParameterPatternMismatchException => "ParameterPatternMismatchException",
            Self::ParameterVersionLabelLimitExceeded => "ParameterVersionLabelLimitExceeded",
            Self::ParameterVersionNotFound => "ParameterVersionNotFound",
            Self::TooManyTagsError => "TooManyTagsError",
            Self::UnsupportedParameterType => "UnsupportedParameterType",
            Self::ValidationException => "ValidationException",
            Self::InvalidOperation => "InvalidOperation",
        }
    }
}

impl From<SsmError> for AwsError {
    fn from(e: SsmError) -> Self {
        let status = if e.code == Code::InternalServerError {
            500
        } else {
            400
        };
        AwsError::new(e.code.as_str(), status, e.message)
    }
}
