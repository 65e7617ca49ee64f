//! Function configuration: the members CreateFunction and UpdateFunctionConfiguration take,
//! and AWS's rules for each (runtimes, role ARN, limits, reserved environment keys).

use std::collections::BTreeMap;

use aloft_core::RequestContext;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::Lambda;
use crate::error::{Code, Result, constraint, err};
use crate::model::Version;

pub const RUNTIMES: &[&str] = &[
    "python3.9",
    "python3.10",
    "python3.11",
    "python3.12",
    "python3.13",
    "python3.14",
    "nodejs18.x",
    "nodejs20.x",
    "nodejs22.x",
    "nodejs24.x",
    "provided",
    "provided.al2",
    "provided.al2023",
];

/// Runtimes AWS has blocked for new functions.
pub(crate) const DEPRECATED: &[(&str, &str)] = &[
    ("python2.7", "python3.13"),
    ("python3.6", "python3.13"),
    ("python3.7", "python3.13"),
    ("python3.8", "python3.13"),
    ("nodejs12.x", "nodejs22.x"),
    ("nodejs14.x", "nodejs22.x"),
    ("nodejs16.x", "nodejs22.x"),
    ("go1.x", "provided.al2023"),
];

/// Keys AWS reserves in a function's environment.
pub(crate) const RESERVED_VARS: &[&str] = &[
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
];

/// Splits `name`, `name:qualifier`, a partial ARN or a full ARN into name and qualifier.

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct FunctionCode {
    pub zip_file: Option<String>,
    #[serde(rename = "S3Bucket")]
    pub s3_bucket: Option<String>,
    #[serde(rename = "S3Key")]
    pub s3_key: Option<String>,
    #[serde(rename = "S3ObjectVersion")]
    pub s3_object_version: Option<String>,
    pub image_uri: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct ConfigInput {
    pub(crate) function_name: String,
    pub(crate) runtime: Option<String>,
    pub(crate) role: Option<String>,
    pub(crate) handler: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) timeout: Option<i64>,
    pub(crate) memory_size: Option<i64>,
    pub(crate) environment: Option<EnvironmentInput>,
    pub(crate) layers: Option<Vec<String>>,
    pub(crate) architectures: Option<Vec<String>>,
    pub(crate) ephemeral_storage: Option<EphemeralInput>,
    pub(crate) dead_letter_config: Option<DeadLetterInput>,
    pub(crate) tracing_config: Option<TracingInput>,
    pub(crate) package_type: Option<String>,
    pub(crate) logging_config: Option<LoggingInput>,
    #[serde(rename = "KMSKeyArn")]
    pub(crate) kms_key_arn: Option<String>,
    pub(crate) vpc_config: Option<Value>,
    pub(crate) code: Option<FunctionCode>,
    pub(crate) publish: Option<bool>,
    pub(crate) tags: Option<BTreeMap<String, String>>,
    pub(crate) revision_id: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct EnvironmentInput {
    variables: Option<BTreeMap<String, String>>,
}
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct EphemeralInput {
    size: i64,
}
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct DeadLetterInput {
    target_arn: Option<String>,
}
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct TracingInput {
    mode: Option<String>,
}
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct LoggingInput {
    log_format: Option<String>,
    log_group: Option<String>,
}

pub(crate) fn parse<T: for<'de> Deserialize<'de>>(input: Value) -> Result<T> {
    serde_json::from_value(input).map_err(|e| {
        err(
            Code::InvalidRequestContent,
            format!("Could not parse request body into json: {e}"),
        )
    })
}

pub(crate) fn check_runtime(r: &str) -> Result<()> {
    if let Some((_, new)) = DEPRECATED.iter().find(|(old, _)| *old == r) {
        return Err(err(
            Code::InvalidParameterValue,
            format!(
                "The runtime parameter of {r} is no longer supported for creating or updating AWS Lambda functions. We recommend you use the new runtime ({new}) while creating or updating functions."
            ),
        ));
    }
    if !RUNTIMES.contains(&r) {
        return Err(constraint(
            r,
            "runtime",
            &format!(
                "Member must satisfy enum value set: [{}]",
                RUNTIMES.join(", ")
            ),
        ));
    }
    Ok(())
}

pub(crate) fn check_role(role: &str) -> Result<()> {
    let ok = role.starts_with("arn:aws")
        && role.contains(":iam::")
        && role
            .split(':')
            .nth(4)
            .is_some_and(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
        && role
            .split(':')
            .nth(5)
            .is_some_and(|r| r.starts_with("role/") && r.len() > 5);
    if ok {
        Ok(())
    } else {
        Err(constraint(
            role,
            "role",
            "Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+",
        ))
    }
}

pub(crate) fn check_variables(vars: &BTreeMap<String, String>) -> Result<()> {
    let reserved: Vec<&str> = vars
        .keys()
        .filter(|k| RESERVED_VARS.contains(&k.as_str()))
        .map(String::as_str)
        .collect();
    if !reserved.is_empty() {
        return Err(err(
            Code::InvalidParameterValue,
            format!(
                "Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: {}",
                reserved.join(", ")
            ),
        ));
    }
    let measured = serde_json::to_string(vars).unwrap_or_default();
    if measured.len() > 4096 {
        return Err(err(
            Code::InvalidParameterValue,
            format!(
                "Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: {measured}"
            ),
        ));
    }
    Ok(())
}

impl Lambda {
    /// Applies configuration members to a version, validating each as AWS does.
    pub(crate) fn apply_config(
        &self,
        ctx: &RequestContext,
        v: &mut Version,
        c: &ConfigInput,
    ) -> Result<()> {
        if let Some(r) = &c.runtime {
            check_runtime(r)?;
            v.runtime = Some(r.clone());
        }
        if let Some(r) = &c.role {
            check_role(r)?;
            v.role = r.clone();
        }
        if let Some(h) = &c.handler {
            if h.len() > 128 || h.is_empty() {
                return Err(constraint(
                    h,
                    "handler",
                    "Member must have length less than or equal to 128",
                ));
            }
            v.handler = Some(h.clone());
        }
        if let Some(d) = &c.description {
            if d.chars().count() > 256 {
                return Err(constraint(
                    d,
                    "description",
                    "Member must have length less than or equal to 256",
                ));
            }
            v.description = d.clone();
        }
        if let Some(t) = c.timeout {
            if t < 1 {
                return Err(constraint(
                    &t.to_string(),
                    "timeout",
                    "Member must have value greater than or equal to 1",
                ));
            }
            if t > 900 {
                return Err(constraint(
                    &t.to_string(),
                    "timeout",
                    "Member must have value less than or equal to 900",
                ));
            }
            v.timeout = t as u32;
        }
        if let Some(m) = c.memory_size {
            if m < 128 {
                return Err(constraint(
                    &m.to_string(),
                    "memorySize",
                    "Member must have value greater than or equal to 128",
                ));
            }
            if m > 10240 {
                return Err(constraint(
                    &m.to_string(),
                    "memorySize",
                    "Member must have value less than or equal to 10240",
                ));
            }
            v.memory_size = m as u32;
        }
        if let Some(e) = &c.environment {
            let vars = e.variables.clone().unwrap_or_default();
            check_variables(&vars)?;
            v.variables = Some(vars);
        }
        if let Some(s) = &c.ephemeral_storage {
            if !(512..=10240).contains(&s.size) {
                return Err(constraint(
                    &s.size.to_string(),
                    "ephemeralStorage.size",
                    if s.size < 512 {
                        "Member must have value greater than or equal to 512"
                    } else {
                        "Member must have value less than or equal to 10240"
                    },
                ));
            }
            v.ephemeral_storage = s.size as u32;
        }
        if let Some(a) = &c.architectures {
            if a.len() != 1 || !matches!(a[0].as_str(), "x86_64" | "arm64") {
                return Err(constraint(
                    &format!("[{}]", a.join(", ")),
                    "architectures",
                    "Member must have length less than or equal to 1, Member must satisfy enum value set: [x86_64, arm64]",
                ));
            }
            v.architectures = a.clone();
        }
        if let Some(d) = &c.dead_letter_config {
            v.dead_letter_target = d.target_arn.clone().filter(|s| !s.is_empty());
            if let Some(t) = &v.dead_letter_target
                && !matches!(aloft_events::arn_service(t), Some("sqs" | "sns"))
            {
                return Err(err(
                    Code::InvalidParameterValue,
                    format!(
                        "The provided target ARN {t} is invalid. The target ARN must be an SQS queue or SNS topic."
                    ),
                ));
            }
        }
        if let Some(t) = &c.tracing_config
            && let Some(m) = &t.mode
        {
            if !matches!(m.as_str(), "Active" | "PassThrough") {
                return Err(constraint(
                    m,
                    "tracingConfig.mode",
                    "Member must satisfy enum value set: [Active, PassThrough]",
                ));
            }
            v.tracing_mode = m.clone();
        }
        if let Some(l) = &c.logging_config {
            if let Some(f) = &l.log_format {
                v.log_format = f.clone();
            }
            if let Some(g) = &l.log_group {
                v.log_group = Some(g.clone());
            }
        }
        if let Some(k) = &c.kms_key_arn {
            v.kms_key_arn = Some(k.clone()).filter(|s| !s.is_empty());
        }
        if let Some(vpc) = &c.vpc_config {
            v.vpc = Some(json!({
                "SubnetIds": vpc.get("SubnetIds").cloned().unwrap_or(json!([])),
                "SecurityGroupIds": vpc.get("SecurityGroupIds").cloned().unwrap_or(json!([])),
                "VpcId": if vpc.get("SubnetIds").and_then(Value::as_array).is_some_and(|a| !a.is_empty()) { "vpc-aloft" } else { "" },
            }));
        }
        if let Some(layers) = &c.layers {
            v.layers = self.resolve_layers(ctx, layers)?;
        }
        Ok(())
    }
}
