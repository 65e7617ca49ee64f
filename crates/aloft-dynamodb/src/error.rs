//! DynamoDB's error codes, their HTTP status and the `__type` namespace AWS puts on the wire.

use aloft_core::AwsError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    ValidationException,
    SerializationException,
    UnknownOperationException,
    ResourceNotFoundException,
    ResourceInUseException,
    ConditionalCheckFailedException,
    TransactionCanceledException,
    TransactionConflictException,
    TransactionInProgressException,
    IdempotentParameterMismatchException,
    ProvisionedThroughputExceededException,
    ThrottlingException,
    ItemCollectionSizeLimitExceededException,
    LimitExceededException,
    ExpiredIteratorException,
    TrimmedDataAccessException,
    BackupNotFoundException,
    TableNotFoundException,
    TableAlreadyExistsException,
    ContinuousBackupsUnavailableException,
    PointInTimeRecoveryUnavailableException,
    DuplicateItemException,
    InternalServerError,
}

impl ErrorCode {
    pub fn code(self) -> &'static str {
        match self {
            ErrorCode::ValidationException => "ValidationException",
            ErrorCode::SerializationException => "SerializationException",
            ErrorCode::UnknownOperationException => "UnknownOperationException",
            ErrorCode::ResourceNotFoundException => "ResourceNotFoundException",
            ErrorCode::ResourceInUseException => "ResourceInUseException",
            ErrorCode::ConditionalCheckFailedException => "ConditionalCheckFailedException",
            ErrorCode::TransactionCanceledException => "TransactionCanceledException",
            ErrorCode::TransactionConflictException => "TransactionConflictException",
            ErrorCode::TransactionInProgressException => "TransactionInProgressException",
            ErrorCode::IdempotentParameterMismatchException => {
                "IdempotentParameterMismatchException"
            }
            ErrorCode::ProvisionedThroughputExceededException => {
                "ProvisionedThroughputExceededException"
            }
            ErrorCode::ThrottlingException => "ThrottlingException",
            ErrorCode::ItemCollectionSizeLimitExceededException => {
                "ItemCollectionSizeLimitExceededException"
            }
            ErrorCode::LimitExceededException => "LimitExceededException",
            ErrorCode::ExpiredIteratorException => "ExpiredIteratorException",
            ErrorCode::TrimmedDataAccessException => "TrimmedDataAccessException",
            ErrorCode::BackupNotFoundException => "BackupNotFoundException",
            ErrorCode::TableNotFoundException => "TableNotFoundException",
            ErrorCode::TableAlreadyExistsException => "TableAlreadyExistsException",
            ErrorCode::ContinuousBackupsUnavailableException => {
                "ContinuousBackupsUnavailableException"
            }
            ErrorCode::PointInTimeRecoveryUnavailableException => {
                "PointInTimeRecoveryUnavailableException"
            }
            ErrorCode::DuplicateItemException => "DuplicateItemException",
            ErrorCode::InternalServerError => "InternalServerError",
        }
    }

    pub fn status(self) -> u16 {
        match self {
            ErrorCode::InternalServerError => 500,
            _ => 400,
        }
    }

    pub fn err(self, message: impl Into<String>) -> AwsError {
        AwsError::new(self.code(), self.status(), message)
    }
}

/// The `__type` AWS sends: coral's namespaces for the framework errors, the service's for the rest.
pub fn wire_type(code: &str) -> String {
    match code {
        "ValidationException" => "com.amazon.coral.validate#ValidationException".to_string(),
        "SerializationException" | "UnknownOperationException" => {
            format!("com.amazon.coral.service#{code}")
        }
        "MissingAuthenticationTokenException"
        | "UnrecognizedClientException"
        | "AccessDeniedException"
        | "IncompleteSignatureException"
        | "InvalidSignatureException" => format!("com.amazon.coral.service#{code}"),
        _ => format!("com.amazonaws.dynamodb.v20120810#{code}"),
    }
}

pub fn validation(message: impl Into<String>) -> AwsError {
    ErrorCode::ValidationException.err(message)
}

pub fn serialization(message: impl Into<String>) -> AwsError {
    ErrorCode::SerializationException.err(message)
}

/// "One or more parameter values were invalid: …", AWS's prefix for bad item contents.
pub fn invalid_param(detail: impl std::fmt::Display) -> AwsError {
    validation(format!(
        "One or more parameter values were invalid: {detail}"
    ))
}

/// What AWS answers for data-plane calls on a table that does not exist.
pub fn table_not_found() -> AwsError {
    ErrorCode::ResourceNotFoundException.err("Requested resource not found")
}

pub fn conditional_failed() -> AwsError {
    ErrorCode::ConditionalCheckFailedException.err("The conditional request failed")
}
