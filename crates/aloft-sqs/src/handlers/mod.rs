//! Typed handlers, one module per resource; each turns an input `Value` into an output `Value`.

pub mod messages;
pub mod queues;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{Code, Result, SqsError};

pub type Out = Result<Value>;

/// Deserializes an operation's input; a missing member is `MissingParameter`, a wrong
/// type `InvalidParameterValue`, as SQS reports them.
pub fn parse<T: DeserializeOwned>(input: Value) -> Result<T> {
    serde_json::from_value(input).map_err(|e| {
        let msg = e.to_string();
        if let Some(rest) = msg.strip_prefix("missing field `") {
            let field = rest.split('`').next().unwrap_or(rest);
            SqsError::missing(field)
        } else {
            SqsError::new(
                Code::InvalidParameterValue,
                format!("One or more parameters are invalid. Reason: {msg}"),
            )
        }
    })
}

/// Awaits a journal commit; a storage failure is reported, never hidden.
pub async fn commit(c: aloft_store::Commit) -> Result<()> {
    c.await
        .map_err(|e| SqsError::new(Code::OverLimit, format!("Storage failure: {e}")))
}
