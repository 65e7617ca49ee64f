//! The contract between the gateway and a service crate.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use aloft_events::Targets;
use aloft_store::{Blobs, Store};
use async_trait::async_trait;

use crate::body::Response;
use crate::context::AwsRequest;

/// How the gateway recognises a service's requests. Everything here is AWS's naming.
#[derive(Debug)]
pub struct ServiceSpec {
    /// The SDK's service id and the name in `/_aloft/health`: `s3`, `dynamodb`, `cognito-idp`.
    pub name: &'static str,
    /// SigV4 signing names that select this service (`s3`; `execute-api` for API invocations).
    pub signing_names: &'static [&'static str],
    /// `X-Amz-Target` prefixes before the `.` (`DynamoDB_20120810`), also rpcv2-cbor service names.
    pub target_prefixes: &'static [&'static str],
    /// Host labels that select this service: `s3` in `bucket.s3.localhost`, `execute-api`.
    pub host_labels: &'static [&'static str],
    /// Path prefixes that select this service even when unsigned (`/_aws/execute-api/`).
    pub path_prefixes: &'static [&'static str],
    /// Query-protocol actions accepted unsigned (`AssumeRoleWithWebIdentity`).
    pub unsigned_actions: &'static [&'static str],
}

/// Start-up configuration every service may read.
#[derive(Debug, Clone)]
pub struct Config {
    pub host: String,
    pub port: u16,
    pub data_dir: Option<PathBuf>,
    /// The URL code running beside Aloft (Lambda functions) uses to reach it.
    pub internal_url: String,
    /// Service-specific settings from `--set key=value` / `ALOFT_SET`, e.g. `dynamodb.throttle=true`.
    pub settings: HashMap<String, String>,
}

impl Config {
    pub fn setting(&self, key: &str) -> Option<&str> {
        self.settings.get(key).map(String::as_str)
    }
    pub fn flag(&self, key: &str) -> bool {
        matches!(self.setting(key), Some("1" | "true" | "yes" | "on"))
    }
}

/// What a service is built with.
#[derive(Clone)]
pub struct ServiceContext {
    pub store: Arc<dyn Store>,
    pub blobs: Arc<Blobs>,
    pub targets: Arc<Targets>,
    pub config: Arc<Config>,
    /// The identity authority (the IAM service's), set once the services are built: for the
    /// checks a service makes outside a request (S3 judging another service's delivery into
    /// a bucket by the bucket's policy). Empty in crate tests.
    pub authority: AuthorityCell,
}

/// Where the binary leaves the [`crate::auth::Authority`] after building the services.
pub type AuthorityCell = Arc<std::sync::OnceLock<Arc<dyn crate::auth::Authority>>>;

impl ServiceContext {
    /// Everything in memory, no other service registered, default settings: for a service
    /// started without the binary (crate tests, in-process benches).
    pub fn ephemeral() -> std::io::Result<Self> {
        Ok(ServiceContext {
            store: Arc::new(aloft_store::Ephemeral),
            blobs: Arc::new(Blobs::ephemeral()?),
            targets: Targets::new(),
            config: Arc::new(Config {
                host: "127.0.0.1".into(),
                port: 0,
                data_dir: None,
                internal_url: String::new(),
                settings: HashMap::new(),
            }),
            authority: AuthorityCell::default(),
        })
    }
}

#[async_trait]
pub trait Service: Send + Sync + 'static {
    fn spec(&self) -> &'static ServiceSpec;

    /// Serves one request. Errors are rendered by the service's protocol codec, so this
    /// always returns a response.
    async fn handle(&self, req: AwsRequest) -> Response;

    /// `/_aloft/{name}/{path}`: inspection and test controls (confirmation codes, sweeps).
    async fn internal(&self, _req: AwsRequest, _path: &str) -> Option<Response> {
        None
    }

    /// Forgets all state (`POST /_aloft/reset`).
    async fn reset(&self);

    /// Called once on shutdown after in-flight requests finished: stop workers, flush.
    async fn shutdown(&self) {}

    /// The identity authority, if this service is it (IAM): the gateway maps access keys to
    /// accounts with it, and consults it under `--verify-signatures` / `--enforce-iam`.
    fn authority(&self) -> Option<Arc<dyn crate::auth::Authority>> {
        None
    }

    /// Under `--enforce-iam`: the IAM actions and resources a decoded request needs, when they
    /// are not `<prefix>:<Operation>` on the resource [`crate::auth::default_resource`] finds.
    fn authorization(
        &self,
        _ctx: &crate::RequestContext,
        _operation: &str,
        _input: &serde_json::Value,
    ) -> Option<Vec<(String, String)>> {
        None
    }

    /// Under `--enforce-iam`: the resource's own policy (S3 bucket policy, Lambda function
    /// policy, KMS key policy), JSON text.
    async fn resource_policy(
        &self,
        _ctx: &crate::RequestContext,
        _resource: &str,
    ) -> Option<String> {
        None
    }

    /// Shown in `/_aloft/health`.
    fn status(&self) -> serde_json::Value {
        serde_json::json!("running")
    }
}
