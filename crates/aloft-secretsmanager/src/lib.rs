//! AWS Secrets Manager over json 1.1 (`secretsmanager`): secrets with versions and staging
//! labels (AWSCURRENT/AWSPREVIOUS/AWSPENDING), values encrypted through KMS (the `kms`
//! target, `alias/aws/secretsmanager` by default), listing with filters, deletion with a
//! recovery window on the one clock, resource policies, tags, random passwords, and
//! RotateSecret driving a rotation Lambda through its four steps (the `lambda` target).

pub mod error;
pub mod password;
pub mod rotation;
pub mod secrets;
pub mod state;
pub mod values;

use std::sync::Arc;

use aloft_core::{AwsError, AwsRequest, Response, Service, ServiceContext, ServiceSpec};
use aloft_events::Targets;
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{Code, Result, SmError};
use crate::state::State;

pub static SPEC: ServiceSpec = ServiceSpec {
    name: "secretsmanager",
    signing_names: &["secretsmanager"],
    target_prefixes: &["secretsmanager"],
    host_labels: &[],
    path_prefixes: &[],
    unsigned_actions: &[],
};

pub type Out = Result<Value>;

pub struct SecretsManager {
    pub(crate) state: State,
    pub(crate) targets: Arc<Targets>,
    stopped: std::sync::atomic::AtomicBool,
}

pub struct SecretsManagerService(pub Arc<SecretsManager>);

pub async fn start(ctx: &ServiceContext) -> Arc<dyn Service> {
    let sm = Arc::new(SecretsManager {
        state: State::new(ctx.store.clone()),
        targets: ctx.targets.clone(),
        stopped: std::sync::atomic::AtomicBool::new(false),
    });
    sm.state.load();
    tokio::spawn(sm.clone().run_schedules());
    Arc::new(SecretsManagerService(sm))
}

pub(crate) fn parse<T: DeserializeOwned>(input: Value) -> Result<T> {
    serde_json::from_value(input).map_err(|e| SmError::param(e.to_string()))
}

pub(crate) async fn commit(c: aloft_store::Commit) -> Result<()> {
    c.await
        .map_err(|e| SmError::new(Code::InternalServiceError, format!("Storage failure: {e}")))
}

async fn read_body(mut body: aloft_core::Body, limit: usize) -> Option<Bytes> {
    use http_body_util::BodyExt;
    let mut out = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.ok()?;
        if let Ok(data) = frame.into_data() {
            if out.len() + data.len() > limit {
                return None;
            }
            out.extend_from_slice(&data);
        }
    }
    Some(out.into())
}

impl SecretsManager {
    /// Checks rotation schedules and recovery windows every minute of the one clock.
    async fn run_schedules(self: Arc<Self>) {
        loop {
            aloft_core::clock::sleep_until_millis(aloft_core::clock::now_millis() + 60_000).await;
            if self.stopped.load(std::sync::atomic::Ordering::SeqCst) {
                return;
            }
            let _ = self.sweep().await;
            self.rotate_due().await;
        }
    }

    async fn call(&self, a: &str, r: &str, op: &str, input: Value) -> Out {
        self.sweep().await?;
        match op {
            "CreateSecret" => self.create_secret(a, r, input).await,
            "DescribeSecret" => self.describe_secret(a, r, input),
            "ListSecrets" => self.list_secrets(a, r, input),
            "UpdateSecret" => self.update_secret(a, r, input).await,
            "DeleteSecret" => self.delete_secret(a, r, input).await,
            "RestoreSecret" => self.restore_secret(a, r, input).await,
            "TagResource" => self.tag_resource(a, r, input).await,
            "UntagResource" => self.untag_resource(a, r, input).await,
            "PutResourcePolicy" => self.put_resource_policy(a, r, input).await,
            "GetResourcePolicy" => self.get_resource_policy(a, r, input),
            "DeleteResourcePolicy" => self.delete_resource_policy(a, r, input).await,
            "ValidateResourcePolicy" => secrets::validate_resource_policy(input),
            "GetSecretValue" => self.get_secret_value(a, r, input).await,
            "BatchGetSecretValue" => self.batch_get_secret_value(a, r, input).await,
            "PutSecretValue" => self.put_secret_value(a, r, input).await,
            "UpdateSecretVersionStage" => self.update_secret_version_stage(a, r, input).await,
            "ListSecretVersionIds" => self.list_secret_version_ids(a, r, input),
            "GetRandomPassword" => password::get_random_password(input),
            "RotateSecret" => self.rotate_secret(a, r, input).await,
            "CancelRotateSecret" => self.cancel_rotate_secret(a, r, input).await,
            other => Err(SmError::request(format!(
                "Operation {other} is not supported by Aloft yet."
            ))),
        }
    }
}

#[async_trait::async_trait]
impl Service for SecretsManagerService {
    fn spec(&self) -> &'static ServiceSpec {
        &SPEC
    }

    async fn handle(&self, req: AwsRequest) -> Response {
        let model =
            aloft_model::get("secretsmanager").expect("the secretsmanager model is built in");
        let AwsRequest { ctx, parts, body } = req;
        let rid = ctx.request_id.clone();
        let Some(body) = read_body(body, 1024 * 1024).await else {
            let err = AwsError::new("InvalidParameterException", 413, "Request body too large");
            return aloft_core::body::from_bytes(aloft_protocol::encode_error(
                model,
                aloft_protocol::Protocol::Json11,
                &err,
                &rid,
            ));
        };
        let call = match aloft_protocol::decode(model, &parts, &body) {
            Ok(c) => c,
            Err(rej) => return aloft_core::body::from_bytes(rej.response(model, &rid)),
        };
        let resp = match self
            .0
            .call(&ctx.account_id, &ctx.region, call.operation, call.input)
            .await
        {
            Ok(out) => {
                aloft_protocol::encode_output(model, call.operation, call.protocol, &out, &rid)
            }
            Err(e) => aloft_protocol::encode_error(model, call.protocol, &e.into(), &rid),
        };
        aloft_core::body::from_bytes(resp)
    }

    async fn reset(&self) {
        self.0.state.clear().await;
    }

    async fn shutdown(&self) {
        self.0
            .stopped
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }
}
