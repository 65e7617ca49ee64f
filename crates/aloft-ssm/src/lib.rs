//! AWS Systems Manager Parameter Store over json 1.1 (`AmazonSSM`): String, StringList and
//! SecureString parameters (encrypted through the `kms` target, `alias/aws/ssm` by default),
//! versions, labels and selectors, tiers and overwrite rules, paths with filters and
//! pagination, history and tags. Other SSM features answer UnsupportedOperation-style errors.

pub mod error;
pub mod labels;
pub mod names;
pub mod parameters;
pub mod query;
pub mod state;

use std::sync::Arc;

use aloft_core::{AwsError, AwsRequest, Response, Service, ServiceContext, ServiceSpec};
use aloft_events::Targets;
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{Code, Result, SsmError};
use crate::state::State;

pub static SPEC: ServiceSpec = ServiceSpec {
    name: "ssm",
    signing_names: &["ssm"],
    target_prefixes: &["AmazonSSM"],
    host_labels: &[],
    path_prefixes: &[],
    unsigned_actions: &[],
};

pub type Out = Result<Value>;

pub struct Ssm {
    pub(crate) state: State,
    pub(crate) targets: Arc<Targets>,
}

pub struct SsmService(pub Arc<Ssm>);

pub async fn start(ctx: &ServiceContext) -> Arc<dyn Service> {
    let ssm = Arc::new(Ssm {
        state: State::new(ctx.store.clone()),
        targets: ctx.targets.clone(),
    });
    ssm.state.load();
    Arc::new(SsmService(ssm))
}

pub(crate) fn parse<T: DeserializeOwned>(input: Value) -> Result<T> {
    serde_json::from_value(input).map_err(|e| SsmError::validation(e.to_string()))
}

pub(crate) async fn commit(c: aloft_store::Commit) -> Result<()> {
    c.await
        .map_err(|e| SsmError::new(Code::InternalServerError, format!("Storage failure: {e}")))
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

impl Ssm {
    async fn call(&self, a: &str, r: &str, op: &str, input: Value) -> Out {
        match op {
            "PutParameter" => self.put_parameter(a, r, input).await,
            "GetParameter" => self.get_parameter(a, r, input).await,
            "GetParameters" => self.get_parameters(a, r, input).await,
            "GetParametersByPath" => self.get_parameters_by_path(a, r, input).await,
            "DeleteParameter" => self.delete_parameter(a, r, input).await,
            "DeleteParameters" => self.delete_parameters(a, r, input).await,
            "DescribeParameters" => self.describe_parameters(a, r, input),
            "GetParameterHistory" => self.get_parameter_history(a, r, input).await,
            "LabelParameterVersion" => self.label_parameter_version(a, r, input).await,
            "UnlabelParameterVersion" => self.unlabel_parameter_version(a, r, input).await,
            "AddTagsToResource" => self.add_tags_to_resource(a, r, input).await,
            "RemoveTagsFromResource" => self.remove_tags_from_resource(a, r, input).await,
            "ListTagsForResource" => self.list_tags_for_resource(a, r, input),
            other => Err(SsmError::new(
                Code::InvalidOperation,
                format!("Operation {other} is not supported by Aloft yet."),
            )),
        }
    }
}

#[async_trait::async_trait]
impl Service for SsmService {
    fn spec(&self) -> &'static ServiceSpec {
        &SPEC
    }

    async fn handle(&self, req: AwsRequest) -> Response {
        let model = aloft_model::get("ssm").expect("the ssm model is built in");
        let AwsRequest { ctx, parts, body } = req;
        let rid = ctx.request_id.clone();
        let Some(body) = read_body(body, 1024 * 1024).await else {
            let err = AwsError::new("ValidationException", 413, "Request body too large");
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
}
