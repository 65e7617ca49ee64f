//! DynamoDB's error codes, their HTTP status and the `__type` namespace AWS puts on the wire.

use aloft_core::AwsError;

/// The variants are AWS's error codes verbatim, hence the shared suffix.
#[allow(clippy::enum_variant_names)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    ValidationException,
    SerializationException,
    UnknownOperationException,
    ResourceNotFoundException,
    ResourceInUseException,
    ConditionalCheckFailedException,
    TransactionCanceledException,
    IdempotentParameterMismatchException,
    ProvisionedThroughputExceededException,
    ThrottlingException,
    LimitExceededException,
    ExpiredIteratorException,
    BackupNotFoundException,
    TableNotFoundException,
    TableAlreadyExistsException,
    DuplicateItemException,
    TransactionConflictException,
    ItemCollectionSizeLimitExceededException,
    InvalidRestoreTimeException,
    PointInTimeRecoveryUnavailableException,
    ExportNotFoundException,
    InvalidExportTimeException,
    ExportConflictException,
    PolicyNotFoundException,
    AccessDeniedException,
    GlobalTableNotFoundException,
    GlobalTableAlreadyExistsException,
    ReplicaAlreadyExistsException,
    ReplicaNotFoundException,
    IndexNotFoundException,
    ImportNotFoundException,
    ReplicatedWriteConflictException,
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
            ErrorCode::IdempotentParameterMismatchException => {
                "IdempotentParameterMismatchException"
            }
            ErrorCode::ProvisionedThroughputExceededException => {
                "ProvisionedThroughputExceededException"
            }
            ErrorCode::ThrottlingException => "ThrottlingException",
            ErrorCode::LimitExceededException => "LimitExceededException",
            ErrorCode::ExpiredIteratorException => "ExpiredIteratorException",
            ErrorCode::BackupNotFoundException => "BackupNotFoundException",
            ErrorCode::TableNotFoundException => "TableNotFoundException",
            ErrorCode::TableAlreadyExistsException => "TableAlreadyExistsException",
            ErrorCode::DuplicateItemException => "DuplicateItemException",
            ErrorCode::TransactionConflictException => "TransactionConflictException",
            ErrorCode::ItemCollectionSizeLimitExceededException => {
                "ItemCollectionSizeLimitExceededException"
            }
            ErrorCode::InvalidRestoreTimeException => "InvalidRestoreTimeException",
            ErrorCode::PointInTimeRecoveryUnavailableException => {
                "PointInTimeRecoveryUnavailableException"
            }
            ErrorCode::ExportNotFoundException => "ExportNotFoundException",
            ErrorCode::InvalidExportTimeException => "InvalidExportTimeException",
            ErrorCode::ExportConflictException => "ExportConflictException",
            ErrorCode::PolicyNotFoundException => "PolicyNotFoundException",
            ErrorCode::AccessDeniedException => "AccessDeniedException",
            ErrorCode::GlobalTableNotFoundException => "GlobalTableNotFoundException",
            ErrorCode::GlobalTableAlreadyExistsException => "GlobalTableAlreadyExistsException",
            ErrorCode::ReplicaAlreadyExistsException => "ReplicaAlreadyExistsException",
            ErrorCode::ReplicaNotFoundException => "ReplicaNotFoundException",
            ErrorCode::IndexNotFoundException => "IndexNotFoundException",
            ErrorCode::ImportNotFoundException => "ImportNotFoundException",
            ErrorCode::ReplicatedWriteConflictException => "ReplicatedWriteConflictException",
        }
    }

    pub fn err(self, message: impl Into<String>) -> AwsError {
        // Every DynamoDB error Aloft raises is the client's: Aloft's own bugs become 500s in
        // the gateway.
        AwsError::new(self.code(), 400, message)
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

/// What AWS answers for control-plane calls (DescribeTable, UpdateTable, ...) on a table
/// that does not exist.
pub fn table_named_not_found(name: &str) -> AwsError {
    ErrorCode::ResourceNotFoundException.err(format!(
        "Requested resource not found: Table: {name} not found"
    ))
}

pub fn conditional_failed() -> AwsError {
    ErrorCode::ConditionalCheckFailedException.err("The conditional request failed")
}
