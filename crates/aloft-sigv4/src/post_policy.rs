//! S3 browser-based uploads (POST Object): the base64 policy document (expiration and
//! conditions), the check of a form's fields against it with S3's messages, and the SigV4
//! signature over the policy.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::Value;

use crate::dates::parse_iso8601;
use crate::error::{ErrorDoc, S3_SIGNATURE_MISMATCH};
use crate::parse::Credential;
use crate::sign::{ALGORITHM, SigningKey};

/// One policy condition; field names are stored lower-case without the `$`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// `{"field": "value"}` or `["eq", "$field", "value"]`.
    Eq {
        field: String,
        value: String,
        shown: String,
    },
    /// `["starts-with", "$field", "prefix"]`.
    StartsWith {
        field: String,
        prefix: String,
        shown: String,
    },
    /// `["content-length-range", min, max]`: checked against the file's size.
    ContentLengthRange { min: u64, max: u64 },
    /// A condition S3 cannot interpret (unknown operator, wrong arity or types): it always
    /// fails, as on S3, with its JSON text.
    Invalid { shown: String },
}

/// Why a POST upload was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyError {
    /// The policy is not base64 JSON of the expected shape (S3 `InvalidPolicyDocument`).
    InvalidPolicy(&'static str),
    Expired,
    /// A condition failed; its JSON text as S3 quotes it.
    ConditionFailed(String),
    /// A form field no condition covers (lower-cased).
    ExtraField(String),
    TooSmall {
        size: u64,
        min: u64,
    },
    TooLarge {
        size: u64,
        max: u64,
    },
    /// A form without the SigV4 fields S3 needs (`x-amz-algorithm`, `x-amz-credential`,
    /// `x-amz-date`, `x-amz-signature`, `policy`).
    MissingField(&'static str),
    SignatureDoesNotMatch {
        access_key: String,
        policy: String,
    },
}

impl PolicyError {
    /// S3's answer.
    pub fn s3(&self) -> ErrorDoc {
        let (code, status, message, fields): (_, _, String, Vec<(&'static str, String)>) =
            match self {
                Self::InvalidPolicy(m) => ("InvalidPolicyDocument", 400, (*m).into(), vec![]),
                Self::Expired => (
                    "AccessDenied",
                    403,
                    "Invalid according to Policy: Policy expired.".into(),
                    vec![],
                ),
                Self::ConditionFailed(c) => (
                    "AccessDenied",
                    403,
                    format!("Invalid according to Policy: Policy Condition failed: {c}"),
                    vec![],
                ),
                Self::ExtraField(f) => (
                    "AccessDenied",
                    403,
                    format!("Invalid according to Policy: Extra input fields: {f}"),
                    vec![],
                ),
                Self::TooSmall { size, min } => (
                    "EntityTooSmall",
                    400,
                    "Your proposed upload is smaller than the minimum allowed size".into(),
                    vec![
                        ("ProposedSize", size.to_string()),
                        ("MinSizeAllowed", min.to_string()),
                    ],
                ),
                Self::TooLarge { size, max } => (
                    "EntityTooLarge",
                    400,
                    "Your proposed upload exceeds the maximum allowed size".into(),
                    vec![
                        ("ProposedSize", size.to_string()),
                        ("MaxSizeAllowed", max.to_string()),
                    ],
                ),
                Self::MissingField(f) => (
                    "InvalidArgument",
                    400,
                    format!(
                        "Bucket POST must contain a field named '{f}'.  If it is specified, please check the order of the fields."
                    ),
                    vec![("ArgumentName", (*f).to_string())],
                ),
                Self::SignatureDoesNotMatch { access_key, policy } => (
                    "SignatureDoesNotMatch",
                    403,
                    S3_SIGNATURE_MISMATCH.into(),
                    vec![
                        ("AWSAccessKeyId", access_key.clone()),
                        ("StringToSign", policy.clone()),
                    ],
                ),
            };
        ErrorDoc {
            code,
            status,
            message,
            fields,
        }
    }
}

/// A parsed POST policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostPolicy {
    pub expiration_millis: i64,
    pub conditions: Vec<Condition>,
}

fn show(parts: &[&str]) -> String {
    let quoted: Vec<String> = parts.iter().map(|p| Value::from(*p).to_string()).collect();
    format!("[{}]", quoted.join(", "))
}

fn parse_condition(c: &Value) -> Vec<Condition> {
    match c {
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| match v.as_str() {
                Some(v) => Condition::Eq {
                    field: k.trim_start_matches('$').to_ascii_lowercase(),
                    value: v.to_string(),
                    shown: show(&["eq", &format!("${k}"), v]),
                },
                None => Condition::Invalid {
                    shown: c.to_string(),
                },
            })
            .collect(),
        Value::Array(a) => {
            let op = a
                .first()
                .and_then(Value::as_str)
                .map(str::to_ascii_lowercase);
            let cond = match (op.as_deref(), a.len()) {
                (Some("content-length-range"), 3) => match (a[1].as_u64(), a[2].as_u64()) {
                    (Some(min), Some(max)) => Some(Condition::ContentLengthRange { min, max }),
                    _ => None,
                },
                (Some(op @ ("eq" | "starts-with")), 3) => {
                    match (
                        a[1].as_str().and_then(|f| f.strip_prefix('$')),
                        a[2].as_str(),
                    ) {
                        (Some(field), Some(v)) => {
                            let shown = show(&[op, a[1].as_str().unwrap_or_default(), v]);
                            let field = field.to_ascii_lowercase();
                            Some(if op == "eq" {
                                Condition::Eq {
                                    field,
                                    value: v.to_string(),
                                    shown,
                                }
                            } else {
                                Condition::StartsWith {
                                    field,
                                    prefix: v.to_string(),
                                    shown,
                                }
                            })
                        }
                        _ => None,
                    }
                }
                _ => None,
            };
            vec![cond.unwrap_or_else(|| Condition::Invalid {
                shown: c.to_string(),
            })]
        }
        _ => vec![Condition::Invalid {
            shown: c.to_string(),
        }],
    }
}

/// Fields a form may carry without a condition.
fn exempt(field: &str) -> bool {
    matches!(field, "x-amz-signature" | "file" | "policy") || field.starts_with("x-ignore-")
}

impl PostPolicy {
    /// Parses the `policy` form field (base64 JSON). Fuzz entry point.
    pub fn parse(policy_b64: &str) -> Result<Self, PolicyError> {
        let raw = B64.decode(policy_b64.trim()).map_err(|_| {
            PolicyError::InvalidPolicy("Invalid Policy: Invalid 'Base64' encoded string.")
        })?;
        let doc: Value = serde_json::from_slice(&raw)
            .map_err(|_| PolicyError::InvalidPolicy("Invalid Policy: Invalid JSON."))?;
        let expiration = doc.get("expiration").ok_or(PolicyError::InvalidPolicy(
            "Invalid Policy: Policy missing expiration.",
        ))?;
        let expiration_millis =
            expiration
                .as_str()
                .and_then(parse_iso8601)
                .ok_or(PolicyError::InvalidPolicy(
                    "Invalid Policy: Invalid 'expiration' value.",
                ))?;
        let conditions = doc
            .get("conditions")
            .ok_or(PolicyError::InvalidPolicy(
                "Invalid Policy: Policy missing conditions.",
            ))?
            .as_array()
            .ok_or(PolicyError::InvalidPolicy(
                "Invalid Policy: Invalid 'conditions' value.",
            ))?
            .iter()
            .flat_map(parse_condition)
            .collect();
        Ok(Self {
            expiration_millis,
            conditions,
        })
    }

    /// Checks the form's fields (name, value) at `now_millis`. The caller passes every field but
    /// the file, with `bucket` set to the request's bucket and `key` after `${filename}`
    /// substitution. Order as on S3: expiry, each condition in policy order, then extra fields.
    pub fn check(&self, fields: &[(&str, &str)], now_millis: i64) -> Result<(), PolicyError> {
        if now_millis > self.expiration_millis {
            return Err(PolicyError::Expired);
        }
        let get = |name: &str| {
            fields
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| *v)
        };
        for c in &self.conditions {
            let ok = match c {
                Condition::Eq { field, value, .. } => get(field) == Some(value.as_str()),
                Condition::StartsWith { field, prefix, .. } => match get(field) {
                    // A Content-Type list must match member by member.
                    Some(v) if field == "content-type" => {
                        v.split(',').all(|m| m.trim().starts_with(prefix.as_str()))
                    }
                    Some(v) => v.starts_with(prefix.as_str()),
                    None => false,
                },
                Condition::ContentLengthRange { .. } => true,
                Condition::Invalid { .. } => false,
            };
            if !ok {
                let shown = match c {
                    Condition::Eq { shown, .. }
                    | Condition::StartsWith { shown, .. }
                    | Condition::Invalid { shown } => shown.clone(),
                    Condition::ContentLengthRange { .. } => String::new(),
                };
                return Err(PolicyError::ConditionFailed(shown));
            }
        }
        for (name, _) in fields {
            let name = name.to_ascii_lowercase();
            if exempt(&name) {
                continue;
            }
            let covered = self.conditions.iter().any(|c| match c {
                Condition::Eq { field, .. } | Condition::StartsWith { field, .. } => *field == name,
                _ => false,
            });
            if !covered {
                return Err(PolicyError::ExtraField(name));
            }
        }
        Ok(())
    }

    /// The `content-length-range` condition, if any (the last one wins).
    pub fn content_length_range(&self) -> Option<(u64, u64)> {
        self.conditions.iter().rev().find_map(|c| match c {
            Condition::ContentLengthRange { min, max } => Some((*min, *max)),
            _ => None,
        })
    }

    /// Checks the uploaded file's size against `content-length-range`.
    pub fn check_length(&self, size: u64) -> Result<(), PolicyError> {
        match self.content_length_range() {
            Some((min, _)) if size < min => Err(PolicyError::TooSmall { size, min }),
            Some((_, max)) if size > max => Err(PolicyError::TooLarge { size, max }),
            _ => Ok(()),
        }
    }
}

/// The SigV4 fields of a POST form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostCredentials {
    pub credential: Credential,
    pub amz_date: String,
    pub signature: String,
    pub policy: String,
}

impl PostCredentials {
    /// Reads `policy`, `x-amz-algorithm`, `x-amz-credential`, `x-amz-date`, `x-amz-signature`
    /// from the form (names case-insensitive). `Ok(None)` for a form with neither signature nor
    /// policy (an anonymous upload to a public-write bucket).
    pub fn from_fields(fields: &[(&str, &str)]) -> Result<Option<Self>, PolicyError> {
        let get = |name: &str| {
            fields
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| *v)
        };
        if get("x-amz-signature").is_none() && get("policy").is_none() {
            return Ok(None);
        }
        let need = |name: &'static str| get(name).ok_or(PolicyError::MissingField(name));
        let policy = need("policy")?;
        if need("x-amz-algorithm")? != ALGORITHM {
            return Err(PolicyError::InvalidPolicy(
                "Invalid Policy: X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"",
            ));
        }
        let credential =
            Credential::parse(need("x-amz-credential")?).ok_or(PolicyError::InvalidPolicy(
                "Invalid Policy: Error parsing the X-Amz-Credential parameter.",
            ))?;
        Ok(Some(Self {
            credential,
            amz_date: need("x-amz-date")?.to_string(),
            signature: need("x-amz-signature")?.to_string(),
            policy: policy.to_string(),
        }))
    }

    /// Verifies `x-amz-signature` = HMAC(signing key, policy) with the access key's secret.
    pub fn verify(&self, secret: &str) -> Result<(), PolicyError> {
        let c = &self.credential;
        let key = SigningKey::derive(secret, &c.date, &c.region, &c.service);
        if key.sign(&self.policy) == self.signature {
            Ok(())
        } else {
            Err(PolicyError::SignatureDoesNotMatch {
                access_key: c.access_key.clone(),
                policy: self.policy.clone(),
            })
        }
    }
}

#[cfg(test)]
#[path = "post_policy_tests.rs"]
mod tests;
