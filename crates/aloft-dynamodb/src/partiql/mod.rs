//! PartiQL for DynamoDB: ExecuteStatement, BatchExecuteStatement and ExecuteTransaction run
//! statements by planning them onto the native operations (see [`plan`]).

pub mod keys;
pub mod lexer;
pub mod parser;
pub mod plan;

use aloft_core::AwsError;

use crate::error::validation;

/// AWS's envelope for statements that do not parse.
pub fn malformed(detail: &str) -> AwsError {
    validation(format!(
        "Statement wasn't well formed, can't be processed: {detail}"
    ))
}
