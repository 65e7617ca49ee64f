//! What every Aloft service shares, and knows no service.
//!
//! - [`gateway`]: the single HTTP port: request id → detect service → dispatch → render errors.
//! - [`detect`]: which service a request is for (SigV4 scope, `X-Amz-Target`, host, path).
//! - [`service`]: the [`Service`] trait each service crate implements, and [`ServiceSpec`].
//! - [`context`]: [`RequestContext`] (request id, account, region) and [`AwsRequest`].
//! - [`auth`]: the identity hook ([`auth::Authority`]) behind opt-in SigV4 verification and
//!   IAM enforcement (the gateway's `guard`).
//! - [`clock`]: the one clock, with a virtual offset tests can move forward.
//! - [`body`]: the streaming response body type.
//! - [`arn`], [`ids`]: ARNs and AWS-looking identifiers.

pub mod arn;
pub mod auth;
pub mod body;
pub mod clock;
pub mod context;
pub mod detect;
pub mod gateway;
mod guard;
pub mod ids;
mod internal;
pub use internal::json_response;
pub mod service;

pub use aloft_protocol::AwsError;
pub use body::{Body, Response};
pub use context::{AwsRequest, RequestContext};
pub use service::{Service, ServiceContext, ServiceSpec};
