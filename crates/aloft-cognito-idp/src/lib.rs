//! Amazon Cognito user pools (`cognito-idp`, json 1.1): pools, app clients, users, groups,
//! sign-up and sign-in (password and SRP), MFA, RS256 tokens with a JWKS, Lambda triggers.
//!
//! Routing: the json API arrives by `X-Amz-Target`; the unsigned issuer documents
//! (`/{poolId}/.well-known/jwks.json`, `/{poolId}/.well-known/openid-configuration`) are claimed
//! by the path prefixes `/{region}_` (pool ids are `{region}_{id}`), one per AWS region; the
//! OAuth endpoints of pool domains by the `auth` host label and the `/_aws/cognito/` prefix
//! (see [`oauth`]).

mod access;
mod admin_users;
mod auth;
mod challenges;
mod codes;
mod custom_auth;
pub mod error;
mod groups;
mod handlers;
mod issue;
mod mfa;
mod migration;
pub mod model;
pub mod oauth;
mod own_account;
mod password;
mod pools;
mod resource_servers;
mod routes;
pub mod srp;
mod state;
pub mod tokens;
pub mod totp;
mod triggers;
mod user_filter;
mod users;
mod wire;

use std::sync::Arc;

use aloft_core::{AwsRequest, Response, Service, ServiceContext, ServiceSpec};
use async_trait::async_trait;

pub use state::Inner;

/// Every AWS region's pool-id prefix, so the gateway hands unsigned issuer paths to us, and
/// the path form of the pool domains' OAuth endpoints.
pub const PATH_PREFIXES: &[&str] = &[
    oauth::PATH_PREFIX,
    "/us-east-1_",
    "/us-east-2_",
    "/us-west-1_",
    "/us-west-2_",
    "/af-south-1_",
    "/ap-east-1_",
    "/ap-east-2_",
    "/ap-south-1_",
    "/ap-south-2_",
    "/ap-southeast-1_",
    "/ap-southeast-2_",
    "/ap-southeast-3_",
    "/ap-southeast-4_",
    "/ap-southeast-5_",
    "/ap-southeast-7_",
    "/ap-northeast-1_",
    "/ap-northeast-2_",
    "/ap-northeast-3_",
    "/ca-central-1_",
    "/ca-west-1_",
    "/eu-central-1_",
    "/eu-central-2_",
    "/eu-west-1_",
    "/eu-west-2_",
    "/eu-west-3_",
    "/eu-south-1_",
    "/eu-south-2_",
    "/eu-north-1_",
    "/il-central-1_",
    "/me-south-1_",
    "/me-central-1_",
    "/mx-central-1_",
    "/sa-east-1_",
    "/us-gov-east-1_",
    "/us-gov-west-1_",
    "/cn-north-1_",
    "/cn-northwest-1_",
];

/// Operations the model marks `authtype: none` (a user's own calls, made with tokens, not keys):
/// the gateway lets them through unsigned under `--verify-signatures`/`--enforce-iam`.
pub const UNSIGNED_OPERATIONS: &[&str] = &[
    "AssociateSoftwareToken",
    "ChangePassword",
    "CompleteWebAuthnRegistration",
    "ConfirmDevice",
    "ConfirmForgotPassword",
    "ConfirmSignUp",
    "DeleteUser",
    "DeleteUserAttributes",
    "DeleteWebAuthnCredential",
    "ForgetDevice",
    "ForgotPassword",
    "GetDevice",
    "GetTokensFromRefreshToken",
    "GetUser",
    "GetUserAttributeVerificationCode",
    "GetUserAuthFactors",
    "GlobalSignOut",
    "InitiateAuth",
    "ListDevices",
    "ListWebAuthnCredentials",
    "ResendConfirmationCode",
    "RespondToAuthChallenge",
    "RevokeToken",
    "SetUserMFAPreference",
    "SetUserSettings",
    "SignUp",
    "StartWebAuthnRegistration",
    "UpdateAuthEventFeedback",
    "UpdateDeviceStatus",
    "UpdateUserAttributes",
    "VerifySoftwareToken",
    "VerifyUserAttribute",
];

pub static SPEC: ServiceSpec = ServiceSpec {
    name: "cognito-idp",
    signing_names: &["cognito-idp"],
    target_prefixes: &[wire::TARGET_PREFIX],
    host_labels: &[oauth::HOST_LABEL],
    path_prefixes: PATH_PREFIXES,
    unsigned_actions: UNSIGNED_OPERATIONS,
};

pub struct CognitoIdp {
    inner: Arc<Inner>,
}

/// Loads the pools from the store and returns the service.
pub async fn start(ctx: &ServiceContext) -> Arc<dyn Service> {
    let inner = Inner::load(ctx);
    Arc::new(CognitoIdp { inner })
}

#[async_trait]
impl Service for CognitoIdp {
    fn spec(&self) -> &'static ServiceSpec {
        &SPEC
    }

    async fn handle(&self, req: AwsRequest) -> Response {
        let req = match oauth::route(&self.inner, req).await {
            Ok(resp) => return resp,
            Err(req) => req,
        };
        if let Some(resp) = routes::issuer_document(&self.inner, &req).await {
            return resp;
        }
        handlers::handle(&self.inner, req).await
    }

    async fn internal(&self, req: AwsRequest, path: &str) -> Option<Response> {
        codes::internal(&self.inner, &req, path)
    }

    async fn reset(&self) {
        self.inner.reset().await;
    }

    fn status(&self) -> serde_json::Value {
        serde_json::json!("running")
    }
}
