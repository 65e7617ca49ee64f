//! Wire codecs for the AWS protocols, shared by every service that speaks them.
//!
//! A codec turns an HTTP request into `(operation, input)` where `input` is a
//! `serde_json::Value` shaped like the service model's input structure (member
//! names as in the model), and turns an output `Value` or an [`AwsError`] back
//! into the protocol's HTTP response. Services never see wire details.

mod error;

pub use error::AwsError;
