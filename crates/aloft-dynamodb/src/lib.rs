//! DynamoDB and DynamoDB Streams for Aloft.

pub mod domain;
mod error;
pub mod expr;
