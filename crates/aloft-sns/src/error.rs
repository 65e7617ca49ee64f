//! SNS's error codes (the query protocol's `Code`), mapped to status in one place.

use aloft_core::AwsError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    InvalidParameter,
    ParameterValueInvalid,
    NotFound,
    ResourceNotFound,
    AuthorizationError,
    BatchEntryIdsNotDistinct,
    EmptyBatchRequest,
    InvalidBatchEntryId,
    TooManyEntriesInBatchRequest,
    BatchRequestTooLong,
    TagLimitExceeded,
    InvalidAction,
}

impl Code {
    fn wire(self) -> (&'static str, u16) {
        match self {
            Code::InvalidParameter => ("InvalidParameter", 400),
            Code::ParameterValueInvalid => ("ParameterValueInvalid", 400),
            Code::NotFound => ("NotFound", 404),
            Code::ResourceNotFound => ("ResourceNotFound", 404),
            Code::AuthorizationError => ("AuthorizationError", 403),
            Code::BatchEntryIdsNotDistinct => ("BatchEntryIdsNotDistinct", 400),
            Code::EmptyBatchRequest => ("EmptyBatchRequest", 400),
            Code::InvalidBatchEntryId => ("InvalidBatchEntryId", 400),
            Code::TooManyEntriesInBatchRequest => ("TooManyEntriesInBatchRequest", 400),
            Code::BatchRequestTooLong => ("BatchRequestTooLong", 400),
            Code::TagLimitExceeded => ("TagLimitExceeded", 400),
            Code::InvalidAction => ("InvalidAction", 400),
        }
    }

    pub fn name(self) -> &'static str {
        self.wire().0
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnsError {
    pub code: Code,
    pub message: String,
}

pub type Result<T> = std::result::Result<T, SnsError>;

impl SnsError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// `Invalid parameter: {what}`: SNS's wording for bad input.
    pub fn invalid(what: impl std::fmt::Display) -> Self {
        Self::new(Code::InvalidParameter, format!("Invalid parameter: {what}"))
    }

    pub fn topic_not_found() -> Self {
        Self::new(Code::NotFound, "Topic does not exist")
    }

    pub fn subscription_not_found() -> Self {
        Self::new(Code::NotFound, "Subscription does not exist")
    }
}

impl From<SnsError> for AwsError {
    fn from(e: SnsError) -> Self {
        let (code, status) = e.code.wire();
        AwsError::new(code, status, e.message)
    }
}
