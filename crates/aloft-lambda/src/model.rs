//! Lambda's resources as stored: functions with their versions, aliases, policy, URLs, settings.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// One version's configuration and code (`$LATEST` or a published number).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Version {
    pub version: String,
    pub runtime: Option<String>,
    pub role: String,
    pub handler: Option<String>,
    pub description: String,
    pub timeout: u32,
    pub memory_size: u32,
    pub variables: Option<BTreeMap<String, String>>,
    pub layers: Vec<LayerRef>,
    pub architectures: Vec<String>,
    pub ephemeral_storage: u32,
    pub dead_letter_target: Option<String>,
    pub tracing_mode: String,
    pub package_type: String,
    pub log_group: Option<String>,
    pub log_format: String,
    pub code_sha256: String,
    pub code_hex: String,
    pub code_size: u64,
    pub last_modified_ms: i64,
    pub revision_id: String,
    pub kms_key_arn: Option<String>,
    pub vpc: Option<Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LayerRef {
    pub arn: String,
    pub code_size: u64,
    pub code_hex: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Alias {
    pub name: String,
    pub function_version: String,
    pub description: String,
    /// Additional version → weight (0.0–1.0).
    pub routing: BTreeMap<String, f64>,
    pub revision_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UrlConfig {
    pub url_id: String,
    pub auth_type: String,
    pub cors: Option<Value>,
    pub invoke_mode: String,
    pub created_ms: i64,
    pub modified_ms: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Function {
    pub account: String,
    pub region: String,
    pub name: String,
    pub latest: Version,
    pub versions: BTreeMap<u64, Version>,
    pub next_version: u64,
    pub aliases: BTreeMap<String, Alias>,
    /// Resource policy statements, by qualifier ("" for the unqualified function).
    pub policies: BTreeMap<String, Vec<Value>>,
    pub reserved_concurrency: Option<u32>,
    pub urls: BTreeMap<String, UrlConfig>,
    pub event_invoke: BTreeMap<String, Value>,
    pub tags: BTreeMap<String, String>,
}

pub fn iso(ms: i64) -> String {
    // Lambda's LastModified is ISO 8601 with milliseconds and a +0000 offset.
    let s = aloft_core::clock::iso8601_millis(ms);
    format!("{}+0000", s.trim_end_matches('Z'))
}

impl Function {
    pub fn arn(&self) -> String {
        aloft_core::arn::build(
            "lambda",
            &self.region,
            &self.account,
            &format!("function:{}", self.name),
        )
    }

    pub fn version(&self, v: &str) -> Option<&Version> {
        if v == "$LATEST" {
            Some(&self.latest)
        } else {
            v.parse::<u64>().ok().and_then(|n| self.versions.get(&n))
        }
    }

    pub fn log_group(&self, v: &Version) -> String {
        v.log_group
            .clone()
            .unwrap_or_else(|| format!("/aws/lambda/{}", self.name))
    }

    /// `FunctionConfiguration` as the API returns it.
    pub fn config(&self, v: &Version) -> Value {
        let mut arn = self.arn();
        if v.version != "$LATEST" {
            arn = format!("{arn}:{}", v.version);
        }
        let mut c = json!({
            "FunctionName": self.name,
            "FunctionArn": arn,
            "Role": v.role,
            "CodeSize": v.code_size,
            "Description": v.description,
            "Timeout": v.timeout,
            "MemorySize": v.memory_size,
            "LastModified": iso(v.last_modified_ms),
            "CodeSha256": v.code_sha256,
            "Version": v.version,
            "TracingConfig": {"Mode": v.tracing_mode},
            "RevisionId": v.revision_id,
            "State": "Active",
            "LastUpdateStatus": "Successful",
            "PackageType": v.package_type,
            "Architectures": v.architectures,
            "EphemeralStorage": {"Size": v.ephemeral_storage},
            "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
            "LoggingConfig": {"LogFormat": v.log_format, "LogGroup": self.log_group(v)},
        });
        let m = c.as_object_mut().expect("object");
        if let Some(r) = &v.runtime {
            m.insert("Runtime".into(), json!(r));
            m.insert(
                "RuntimeVersionConfig".into(),
                json!({"RuntimeVersionArn": format!("arn:aws:lambda:{}::runtime:aloft-{}", self.region, r)}),
            );
        }
        if let Some(h) = &v.handler {
            m.insert("Handler".into(), json!(h));
        }
        if let Some(vars) = &v.variables {
            m.insert("Environment".into(), json!({"Variables": vars}));
        }
        if !v.layers.is_empty() {
            m.insert(
                "Layers".into(),
                Value::Array(
                    v.layers
                        .iter()
                        .map(|l| json!({"Arn": l.arn, "CodeSize": l.code_size}))
                        .collect(),
                ),
            );
        }
        if let Some(t) = &v.dead_letter_target {
            m.insert("DeadLetterConfig".into(), json!({"TargetArn": t}));
        }
        if let Some(k) = &v.kms_key_arn {
            m.insert("KMSKeyArn".into(), json!(k));
        }
        if let Some(vpc) = &v.vpc {
            m.insert("VpcConfig".into(), vpc.clone());
        }
        c
    }

    pub fn alias_json(&self, a: &Alias) -> Value {
        let mut v = json!({
            "AliasArn": format!("{}:{}", self.arn(), a.name),
            "Name": a.name,
            "FunctionVersion": a.function_version,
            "Description": a.description,
            "RevisionId": a.revision_id,
        });
        if !a.routing.is_empty() {
            v["RoutingConfig"] = json!({"AdditionalVersionWeights": a.routing});
        }
        v
    }
}

/// A layer with its published versions.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Layer {
    pub account: String,
    pub region: String,
    pub name: String,
    pub next_version: u64,
    pub versions: BTreeMap<u64, LayerVersion>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LayerVersion {
    pub version: u64,
    pub description: String,
    pub created_ms: i64,
    pub compatible_runtimes: Vec<String>,
    pub compatible_architectures: Vec<String>,
    pub license_info: Option<String>,
    pub code_sha256: String,
    pub code_hex: String,
    pub code_size: u64,
    pub policy: Vec<Value>,
}

impl Layer {
    pub fn arn(&self) -> String {
        aloft_core::arn::build(
            "lambda",
            &self.region,
            &self.account,
            &format!("layer:{}", self.name),
        )
    }

    pub fn version_json(&self, v: &LayerVersion, base_url: &str, with_content: bool) -> Value {
        let mut out = json!({
            "LayerArn": self.arn(),
            "LayerVersionArn": format!("{}:{}", self.arn(), v.version),
            "Description": v.description,
            "CreatedDate": iso(v.created_ms),
            "Version": v.version,
        });
        let m = out.as_object_mut().expect("object");
        if !v.compatible_runtimes.is_empty() {
            m.insert("CompatibleRuntimes".into(), json!(v.compatible_runtimes));
        }
        if !v.compatible_architectures.is_empty() {
            m.insert(
                "CompatibleArchitectures".into(),
                json!(v.compatible_architectures),
            );
        }
        if let Some(l) = &v.license_info {
            m.insert("LicenseInfo".into(), json!(l));
        }
        if with_content {
            m.insert(
                "Content".into(),
                json!({
                    "Location": format!("{base_url}/_aloft/lambda/code/{}", v.code_hex),
                    "CodeSha256": v.code_sha256,
                    "CodeSize": v.code_size,
                }),
            );
        }
        out
    }
}
