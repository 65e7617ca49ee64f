//! AWS KMS over json 1.1 (`TrentService`) with real cryptography: symmetric AES-256-GCM keys
//! whose ciphertext blobs name their key and bind the encryption context, RSA and ECC keys
//! for Sign/Verify and RSA OAEP, HMAC keys, data keys and data key pairs, aliases, grants,
//! key policies, rotation and scheduled deletion on the one clock.
//!
//! # Calling KMS from another service
//!
//! KMS registers a [`Target`] for `kms` ARNs, so SSM (SecureString), Secrets Manager and
//! others encrypt without depending on this crate:
//!
//! ```text
//! ctx.targets.deliver("arn:aws:kms:us-east-1:000000000000:alias/aws/ssm", Delivery {
//!     payload: plaintext,                      // Decrypt: the ciphertext blob
//!     options: {"Operation": "Encrypt",        // or "Decrypt" / "GenerateDataKey"
//!               "EncryptionContext": {"k": "v"}},   // optional, string values
//!     ..
//! })
//! ```
//!
//! The ARN's resource is `key/<id>` or `alias/<name>` (an `alias/aws/<service>` key is
//! created on first use, as AWS does). `Delivered.payload` is the ciphertext blob (Encrypt),
//! the plaintext (Decrypt) or the plaintext data key (GenerateDataKey, with the blob base64
//! in `info["CiphertextBlob"]`); `info["KeyId"]` is the key ARN. For Decrypt the key comes
//! from the blob; the ARN only gives the account and region. Errors are KMS's own
//! (`DisabledException`, `InvalidCiphertextException`, `NotFoundException`, ...).

pub mod aliases;
pub mod crypto;
pub mod error;
pub mod grants;
pub mod keys;
pub mod material;
pub mod policies;
pub mod state;

use std::sync::Arc;

use aloft_core::{
    AwsError, AwsRequest, RequestContext, Response, Service, ServiceContext, ServiceSpec,
};
use aloft_events::{Delivered, Delivery, Target};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{Code, KmsError, Result};
use crate::state::State;

pub static SPEC: ServiceSpec = ServiceSpec {
    name: "kms",
    signing_names: &["kms"],
    target_prefixes: &["TrentService"],
    host_labels: &[],
    path_prefixes: &[],
    unsigned_actions: &[],
};

pub type Out = Result<Value>;

pub struct Kms {
    pub(crate) state: State,
}

pub struct KmsService(pub Arc<Kms>);

pub async fn start(ctx: &ServiceContext) -> Arc<dyn Service> {
    let kms = Arc::new(Kms {
        state: State::new(ctx.store.clone()),
    });
    kms.state.load();
    ctx.targets
        .register_target("kms", Arc::new(KmsTarget(kms.clone())));
    Arc::new(KmsService(kms))
}

pub(crate) fn parse<T: DeserializeOwned>(input: Value) -> Result<T> {
    serde_json::from_value(input).map_err(|e| KmsError::validation(e.to_string()))
}

pub(crate) async fn commit(c: aloft_store::Commit) -> Result<()> {
    c.await
        .map_err(|e| KmsError::new(Code::KMSInternalException, format!("Storage failure: {e}")))
}

/// Decodes a blob member (base64 on the internal form).
pub(crate) fn unb64(s: &str) -> Result<Vec<u8>> {
    B64.decode(s)
        .map_err(|_| KmsError::validation("Invalid base64 blob"))
}

pub(crate) fn b64(bytes: &[u8]) -> Value {
    Value::String(B64.encode(bytes))
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

impl Kms {
    async fn call(&self, ctx: &RequestContext, op: &str, input: Value) -> Out {
        self.sweep(&ctx.account_id, &ctx.region).await?;
        let (a, r) = (ctx.account_id.as_str(), ctx.region.as_str());
        match op {
            "CreateKey" => self.create_key(a, r, input).await,
            "DescribeKey" => self.describe_key(a, r, input).await,
            "ListKeys" => self.list_keys(a, r, input),
            "EnableKey" => self.set_enabled(a, r, input, true).await,
            "DisableKey" => self.set_enabled(a, r, input, false).await,
            "UpdateKeyDescription" => self.update_key_description(a, r, input).await,
            "ScheduleKeyDeletion" => self.schedule_key_deletion(a, r, input).await,
            "CancelKeyDeletion" => self.cancel_key_deletion(a, r, input).await,
            "EnableKeyRotation" => self.enable_key_rotation(a, r, input).await,
            "DisableKeyRotation" => self.disable_key_rotation(a, r, input).await,
            "GetKeyRotationStatus" => self.get_key_rotation_status(a, r, input).await,
            "RotateKeyOnDemand" => self.rotate_key_on_demand(a, r, input).await,
            "ListKeyRotations" => self.list_key_rotations(a, r, input).await,
            "GetKeyPolicy" => self.get_key_policy(a, r, input).await,
            "PutKeyPolicy" => self.put_key_policy(a, r, input).await,
            "ListKeyPolicies" => self.list_key_policies(a, r, input).await,
            "TagResource" => self.tag_resource(a, r, input).await,
            "UntagResource" => self.untag_resource(a, r, input).await,
            "ListResourceTags" => self.list_resource_tags(a, r, input).await,
            "CreateAlias" => self.create_alias(a, r, input).await,
            "UpdateAlias" => self.update_alias(a, r, input).await,
            "DeleteAlias" => self.delete_alias(a, r, input).await,
            "ListAliases" => self.list_aliases(a, r, input).await,
            "CreateGrant" => self.create_grant(a, r, input).await,
            "ListGrants" => self.list_grants(a, r, input).await,
            "ListRetirableGrants" => self.list_retirable_grants(a, r, input),
            "RevokeGrant" => self.revoke_grant(a, r, input).await,
            "RetireGrant" => self.retire_grant(a, r, input).await,
            "Encrypt" => self.encrypt(a, r, input).await,
            "Decrypt" => self.decrypt(a, r, input).await,
            "ReEncrypt" => self.re_encrypt(a, r, input).await,
            "GenerateDataKey" => self.generate_data_key(a, r, input, true).await,
            "GenerateDataKeyWithoutPlaintext" => self.generate_data_key(a, r, input, false).await,
            "GenerateDataKeyPair" => self.generate_data_key_pair(a, r, input, true).await,
            "GenerateDataKeyPairWithoutPlaintext" => {
                self.generate_data_key_pair(a, r, input, false).await
            }
            "GetPublicKey" => self.get_public_key(a, r, input).await,
            "Sign" => self.sign(a, r, input).await,
            "Verify" => self.verify(a, r, input).await,
            "GenerateMac" => self.generate_mac(a, r, input).await,
            "VerifyMac" => self.verify_mac(a, r, input).await,
            "GenerateRandom" => crypto::generate_random(input),
            other => Err(KmsError::new(
                Code::UnsupportedOperationException,
                format!("Operation {other} is not supported by Aloft yet."),
            )),
        }
    }
}

#[async_trait::async_trait]
impl Service for KmsService {
    fn spec(&self) -> &'static ServiceSpec {
        &SPEC
    }

    async fn handle(&self, req: AwsRequest) -> Response {
        let model = aloft_model::get("kms").expect("the kms model is built in");
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
        let resp = match self.0.call(&ctx, call.operation, call.input).await {
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

/// The `kms` target: Encrypt/Decrypt/GenerateDataKey for other services (see the crate docs).
pub struct KmsTarget(pub Arc<Kms>);

#[async_trait::async_trait]
impl Target for KmsTarget {
    async fn deliver(&self, arn: &str, d: Delivery) -> std::result::Result<Delivered, AwsError> {
        let a = aloft_core::arn::parse(arn)
            .ok_or_else(|| AwsError::validation(format!("Invalid ARN: {arn}")))?;
        let (account, region) = (a.account.to_string(), a.region.to_string());
        self.0.sweep(&account, &region).await?;
        let context = d
            .options
            .get("EncryptionContext")
            .cloned()
            .unwrap_or(Value::Null);
        let op = d.options.get("Operation").and_then(Value::as_str);
        let mut input = serde_json::json!({"KeyId": arn, "EncryptionContext": context});
        if context.is_null() {
            input.as_object_mut().map(|o| o.remove("EncryptionContext"));
        }
        let (payload, info) = match op {
            Some("Encrypt") => {
                input["Plaintext"] = b64(&d.payload);
                let out = self.0.encrypt(&account, &region, input).await?;
                (field(&out, "CiphertextBlob")?, out)
            }
            Some("Decrypt") => {
                input["CiphertextBlob"] = b64(&d.payload);
                input.as_object_mut().map(|o| o.remove("KeyId"));
                let out = self.0.decrypt(&account, &region, input).await?;
                (field(&out, "Plaintext")?, out)
            }
            Some("GenerateDataKey") => {
                input["KeySpec"] = "AES_256".into();
                let out = self
                    .0
                    .generate_data_key(&account, &region, input, true)
                    .await?;
                (field(&out, "Plaintext")?, out)
            }
            other => {
                return Err(AwsError::validation(format!(
                    "Unsupported KMS delivery operation {other:?}"
                )));
            }
        };
        let mut info = match info {
            Value::Object(m) => m,
            _ => serde_json::Map::new(),
        };
        info.remove("Plaintext");
        Ok(Delivered {
            payload: Some(payload.into()),
            info,
        })
    }
}

fn field(v: &Value, name: &str) -> std::result::Result<Vec<u8>, AwsError> {
    v.get(name)
        .and_then(Value::as_str)
        .and_then(|s| B64.decode(s).ok())
        .ok_or_else(|| AwsError::internal(format!("KMS produced no {name}")))
}
