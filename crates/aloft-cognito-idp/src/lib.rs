//! Amazon Cognito user pools.
pub mod srp;
pub mod tokens;
pub mod totp;
