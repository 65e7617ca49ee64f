//! SQS's error codes, with the two names each one has on the wire.
//!
//! SQS moved from the query protocol to json 1.0 with `awsQueryCompatible`: a json error
//! carries the model's shape name in `__type` and the old query code in the
//! `x-amzn-query-error: {code};{Sender|Receiver}` header, which botocore turns back into
//! `Error.Code` (so `e.response["Error"]["Code"]` is `AWS.SimpleQueueService.NonExistentQueue`
//! while the exception class is `QueueDoesNotExist`). The query protocol shows the query code.

use aloft_core::AwsError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    QueueDoesNotExist,
    QueueNameExists,
    QueueDeletedRecently,
    InvalidAttributeName,
    InvalidAttributeValue,
    InvalidParameterValue,
    MissingParameter,
    InvalidMessageContents,
    ReceiptHandleIsInvalid,
    MessageNotInflight,
    BatchEntryIdsNotDistinct,
    BatchRequestTooLong,
    EmptyBatchRequest,
    InvalidBatchEntryId,
    TooManyEntriesInBatchRequest,
    PurgeQueueInProgress,
    OverLimit,
    ResourceNotFoundException,
    UnsupportedOperation,
    InvalidAddress,
    InvalidAction,
    /// Not an SQS code: malformed json bodies, as every json 1.0 service answers them.
    SerializationException,
}

impl Code {
    /// The json `__type` name (the model's shape name, or the common error's name).
    pub fn shape(self) -> &'static str {
        match self {
            Code::QueueDoesNotExist => "QueueDoesNotExist",
            Code::QueueNameExists => "QueueNameExists",
            Code::QueueDeletedRecently => "QueueDeletedRecently",
            Code::InvalidAttributeName => "InvalidAttributeName",
            Code::InvalidAttributeValue => "InvalidAttributeValue",
            Code::InvalidParameterValue => "InvalidParameterValueException",
            Code::MissingParameter => "MissingRequiredParameterException",
            Code::InvalidMessageContents => "InvalidMessageContents",
            Code::ReceiptHandleIsInvalid => "ReceiptHandleIsInvalid",
            Code::MessageNotInflight => "MessageNotInflight",
            Code::BatchEntryIdsNotDistinct => "BatchEntryIdsNotDistinct",
            Code::BatchRequestTooLong => "BatchRequestTooLong",
            Code::EmptyBatchRequest => "EmptyBatchRequest",
            Code::InvalidBatchEntryId => "InvalidBatchEntryId",
            Code::TooManyEntriesInBatchRequest => "TooManyEntriesInBatchRequest",
            Code::PurgeQueueInProgress => "PurgeQueueInProgress",
            Code::OverLimit => "OverLimit",
            Code::ResourceNotFoundException => "ResourceNotFoundException",
            Code::UnsupportedOperation => "UnsupportedOperation",
            Code::InvalidAddress => "InvalidAddress",
            Code::InvalidAction => "InvalidAction",
            Code::SerializationException => "SerializationException",
        }
    }

    /// The query protocol's code (also the `x-amzn-query-error` header's first half).
    pub fn query(self) -> &'static str {
        match self {
            Code::QueueDoesNotExist => "AWS.SimpleQueueService.NonExistentQueue",
            Code::QueueNameExists => "QueueAlreadyExists",
            Code::QueueDeletedRecently => "AWS.SimpleQueueService.QueueDeletedRecently",
            Code::InvalidParameterValue => "InvalidParameterValue",
            Code::MissingParameter => "MissingParameter",
            Code::MessageNotInflight => "AWS.SimpleQueueService.MessageNotInflight",
            Code::BatchEntryIdsNotDistinct => "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
            Code::BatchRequestTooLong => "AWS.SimpleQueueService.BatchRequestTooLong",
            Code::EmptyBatchRequest => "AWS.SimpleQueueService.EmptyBatchRequest",
            Code::InvalidBatchEntryId => "AWS.SimpleQueueService.InvalidBatchEntryId",
            Code::TooManyEntriesInBatchRequest => {
                "AWS.SimpleQueueService.TooManyEntriesInBatchRequest"
            }
            Code::PurgeQueueInProgress => "AWS.SimpleQueueService.PurgeQueueInProgress",
            Code::UnsupportedOperation => "AWS.SimpleQueueService.UnsupportedOperation",
            Code::SerializationException => "MalformedQueryString",
            other => other.shape(),
        }
    }

    pub fn status(self) -> u16 {
        match self {
            Code::OverLimit => 403,
            Code::ResourceNotFoundException | Code::InvalidAddress => 404,
            _ => 400,
        }
    }
}

/// An SQS error: a code and AWS's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqsError {
    pub code: Code,
    pub message: String,
}

pub type Result<T> = std::result::Result<T, SqsError>;

impl SqsError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    pub fn no_queue() -> Self {
        Self::new(
            Code::QueueDoesNotExist,
            "The specified queue does not exist.",
        )
    }

    /// `Value {v} for parameter {p} is invalid. Reason: {r}`: SQS's wording for range errors.
    pub fn invalid_value(param: &str, value: impl std::fmt::Display, reason: &str) -> Self {
        Self::new(
            Code::InvalidParameterValue,
            format!("Value {value} for parameter {param} is invalid. Reason: {reason}"),
        )
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(Code::InvalidParameterValue, message)
    }

    pub fn missing(param: &str) -> Self {
        Self::new(
            Code::MissingParameter,
            format!("The request must contain the parameter {param}."),
        )
    }

    /// Renders for json 1.0 (`__type` + `x-amzn-query-error`).
    pub fn to_json_error(&self) -> AwsError {
        AwsError::new(self.code.shape(), self.code.status(), self.message.clone()).with_header(
            "x-amzn-query-error",
            format!("{};{}", self.code.query(), self.fault()),
        )
    }

    /// Renders for the query protocol.
    pub fn to_query_error(&self) -> AwsError {
        AwsError::new(self.code.query(), self.code.status(), self.message.clone())
    }

    fn fault(&self) -> &'static str {
        if self.code.status() >= 500 {
            "Receiver"
        } else {
            "Sender"
        }
    }
}

impl std::fmt::Display for SqsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.shape(), self.message)
    }
}

impl From<SqsError> for AwsError {
    fn from(e: SqsError) -> Self {
        e.to_json_error()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_errors_carry_the_query_code_in_a_header() {
        let e = SqsError::no_queue().to_json_error();
        assert_eq!(e.code, "QueueDoesNotExist");
        assert_eq!(
            e.headers,
            vec![(
                "x-amzn-query-error".to_string(),
                "AWS.SimpleQueueService.NonExistentQueue;Sender".to_string()
            )]
        );
        assert_eq!(
            SqsError::no_queue().to_query_error().code,
            "AWS.SimpleQueueService.NonExistentQueue"
        );
        assert_eq!(Code::OverLimit.status(), 403);
    }
}
