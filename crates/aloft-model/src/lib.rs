//! AWS's service models, trimmed from botocore (pinned in `tools/models.py`) and embedded.
//!
//! Each model is parsed on first use and kept for the life of the process, so start-up
//! costs nothing for services that are never called. Operations, shapes, constraints and
//! HTTP/XML bindings are AWS's facts, never retyped by hand.
//!
//! ```
//! let sqs = aloft_model::get("sqs").unwrap();
//! let op = sqs.operation("CreateQueue").unwrap();
//! assert_eq!(sqs.shape(&op.input.as_ref().unwrap().shape).unwrap().required, ["QueueName"]);
//! ```

mod shape;

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;

pub use shape::{Location, Member, Shape, ShapeType};

/// A service's model: metadata, operations by name, shapes by name.
#[derive(Debug)]
pub struct ServiceModel {
    pub metadata: Metadata,
    pub operations: HashMap<String, Operation>,
    pub shapes: HashMap<String, Shape>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Metadata {
    pub api_version: String,
    pub endpoint_prefix: String,
    /// The protocol current SDKs send: `json`, `query`, `rest-json`, `rest-xml`,
    /// `smithy-rpc-v2-cbor`, `ec2`.
    pub protocol: String,
    /// All protocols the service accepts, preferred first.
    pub protocols: Vec<String>,
    pub json_version: Option<String>,
    pub target_prefix: Option<String>,
    pub signing_name: Option<String>,
    pub service_id: String,
    pub xml_namespace: Option<String>,
    /// Present (as `{}`) when a json service keeps its old query error codes (SQS).
    pub aws_query_compatible: Option<serde_json::Value>,
    pub uid: Option<String>,
}

impl Metadata {
    pub fn query_compatible(&self) -> bool {
        self.aws_query_compatible.is_some()
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Operation {
    pub name: String,
    #[serde(default)]
    pub http: Http,
    pub input: Option<Member>,
    pub output: Option<Member>,
    #[serde(default)]
    pub errors: Vec<Member>,
    /// `{"hostPrefix": "{AccountId}."}` for operations addressed by host (S3 Control).
    pub endpoint: Option<serde_json::Value>,
    #[serde(default)]
    pub deprecated: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Http {
    #[serde(default = "post")]
    pub method: String,
    #[serde(default = "root")]
    pub request_uri: String,
    pub response_code: Option<u16>,
}

impl Default for Http {
    fn default() -> Self {
        Self {
            method: post(),
            request_uri: root(),
            response_code: None,
        }
    }
}

fn post() -> String {
    "POST".into()
}
fn root() -> String {
    "/".into()
}

#[derive(Deserialize)]
struct RawModel {
    #[serde(default)]
    metadata: Metadata,
    #[serde(default)]
    operations: HashMap<String, Operation>,
    shapes: HashMap<String, Shape>,
}

impl ServiceModel {
    /// Parses a botocore-format model (the embedded ones, or a protocol test suite's).
    ///
    /// # Errors
    /// When the JSON is not a service model.
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        let raw: RawModel = serde_json::from_str(text)?;
        Ok(Self::from_raw(raw))
    }

    /// Like [`ServiceModel::from_json`], from an already parsed value.
    ///
    /// # Errors
    /// When the value is not a service model.
    pub fn from_value(value: serde_json::Value) -> Result<Self, serde_json::Error> {
        let raw: RawModel = serde_json::from_value(value)?;
        Ok(Self::from_raw(raw))
    }

    fn from_raw(raw: RawModel) -> Self {
        let mut metadata = raw.metadata;
        if metadata.protocols.is_empty() && !metadata.protocol.is_empty() {
            metadata.protocols = vec![metadata.protocol.clone()];
        }
        Self {
            metadata,
            operations: raw.operations,
            shapes: raw.shapes,
        }
    }

    pub fn operation(&self, name: &str) -> Option<&Operation> {
        self.operations.get(name)
    }

    pub fn shape(&self, name: &str) -> Option<&Shape> {
        self.shapes.get(name)
    }

    /// The structure shape of an operation's input, if it has one.
    pub fn input_shape(&self, op: &Operation) -> Option<&Shape> {
        op.input.as_ref().and_then(|m| self.shape(&m.shape))
    }

    pub fn output_shape(&self, op: &Operation) -> Option<&Shape> {
        op.output.as_ref().and_then(|m| self.shape(&m.shape))
    }

    /// Finds an error shape by its wire code: the shape name, or its `error.code` override
    /// (query services such as SNS name `NotFoundException` `NotFound` on the wire).
    pub fn error_shape(&self, code: &str) -> Option<(&str, &Shape)> {
        if let Some((name, shape)) = self.shapes.get_key_value(code)
            && shape.exception
        {
            return Some((name.as_str(), shape));
        }
        self.shapes
            .iter()
            .find(|(_, s)| {
                s.exception && s.error.as_ref().and_then(|e| e.code.as_deref()) == Some(code)
            })
            .map(|(n, s)| (n.as_str(), s))
    }

    pub fn accepts(&self, protocol: &str) -> bool {
        self.metadata.protocols.iter().any(|p| p == protocol)
    }
}

macro_rules! models {
    ($($name:literal),* $(,)?) => {
        /// Names of the embedded models (the SDK's endpoint prefix; CloudWatch is `monitoring`).
        pub const NAMES: &[&str] = &[$($name),*];

        fn text(name: &str) -> Option<&'static str> {
            match name {
                $($name => Some(include_str!(concat!("../models/", $name, ".json"))),)*
                _ => None,
            }
        }
    };
}

models!(
    "s3",
    "dynamodb",
    "dynamodbstreams",
    "lambda",
    "logs",
    "sqs",
    "sns",
    "events",
    "scheduler",
    "secretsmanager",
    "ssm",
    "kms",
    "monitoring",
    "cognito-idp",
    "cognito-identity",
    "sts",
    "iam",
    "apigateway",
    "apigatewayv2",
    "apigatewaymanagementapi",
    "kinesis",
    "s3control",
);

/// The embedded model named `name` (see [`NAMES`]), parsed on first use.
pub fn get(name: &str) -> Option<&'static ServiceModel> {
    static CELLS: [OnceLock<ServiceModel>; NAMES.len()] = [const { OnceLock::new() }; NAMES.len()];
    let index = NAMES.iter().position(|n| *n == name)?;
    let text = text(name)?;
    Some(CELLS[index].get_or_init(|| {
        ServiceModel::from_json(text)
            .unwrap_or_else(|e| panic!("embedded model {name} is invalid: {e}"))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_model_parses_and_resolves_its_shapes() {
        for name in NAMES {
            let model = get(name).unwrap();
            assert!(!model.operations.is_empty(), "{name}");
            for op in model.operations.values() {
                for m in op.input.iter().chain(&op.output).chain(&op.errors) {
                    assert!(model.shape(&m.shape).is_some(), "{name}: {}", m.shape);
                }
            }
            for shape in model.shapes.values() {
                for (_, m) in &shape.members {
                    assert!(model.shape(&m.shape).is_some(), "{name}: {}", m.shape);
                }
            }
        }
    }

    #[test]
    fn metadata_and_bindings_survive_trimming() {
        let sqs = get("sqs").unwrap();
        assert!(sqs.metadata.query_compatible());
        assert_eq!(sqs.metadata.target_prefix.as_deref(), Some("AmazonSQS"));
        let s3 = get("s3").unwrap();
        let put = s3.operation("PutObject").unwrap();
        assert_eq!(put.http.method, "PUT");
        assert_eq!(put.http.request_uri, "/{Bucket}/{Key+}");
        let input = s3.input_shape(put).unwrap();
        let (_, body) = input.members.iter().find(|(n, _)| n == "Body").unwrap();
        assert_eq!(input.payload.as_deref(), Some("Body"));
        assert!(body.streaming || s3.shape(&body.shape).unwrap().streaming);
        let sns = get("sns").unwrap();
        let (name, _) = sns.error_shape("NotFound").unwrap();
        assert_eq!(name, "NotFoundException");
        assert_eq!(
            get("monitoring").unwrap().metadata.protocols[0],
            "smithy-rpc-v2-cbor"
        );
    }
}
