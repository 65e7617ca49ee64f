//! The identity hook the gateway consults: who an access key is ([`Authority::caller`]) and,
//! with `--enforce-iam`, whether that caller may perform an action on a resource
//! ([`Authority::authorize`]). The IAM service provides the one implementation (through
//! [`crate::Service::authority`]); the core only knows this small contract.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use crate::context::DEFAULT_ACCOUNT;

/// The secret of the default credentials (`test`/`test`, and 12-digit account keys).
pub const DEFAULT_SECRET: &str = "test";

/// What an access key stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub access_key: String,
    pub secret: String,
    /// Temporary credentials: the session token the request must carry.
    pub session_token: Option<String>,
    pub account: String,
    /// `arn:aws:iam::{account}:root`, `...:user/u`, `arn:aws:sts::{account}:assumed-role/r/s`.
    pub arn: String,
    /// Temporary credentials expire (epoch millis on Aloft's clock).
    pub expires_millis: Option<i64>,
    /// Root and default credentials are allowed everything.
    pub root: bool,
}

impl Caller {
    /// The account's root, as the default credentials (`test`, or a 12-digit key) are.
    pub fn root(access_key: &str, account: &str) -> Self {
        Self {
            access_key: access_key.to_string(),
            secret: DEFAULT_SECRET.to_string(),
            session_token: None,
            account: account.to_string(),
            arn: format!("arn:aws:iam::{account}:root"),
            expires_millis: None,
            root: true,
        }
    }

    /// An unsigned request: only statements with `"Principal": "*"` (or `{"AWS": "*"}`) apply.
    pub fn anonymous() -> Self {
        Self {
            access_key: String::new(),
            secret: String::new(),
            session_token: None,
            account: String::new(),
            arn: "anonymous".to_string(),
            expires_millis: None,
            root: false,
        }
    }
}

/// The outcome of a policy evaluation, with what AWS's message needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    /// A `Deny` matched; `resource_based` when it was in the resource's own policy.
    ExplicitDeny {
        resource_based: bool,
    },
    ImplicitDeny,
}

/// One question to the authority.
#[derive(Debug)]
pub struct Authorization<'a> {
    pub caller: &'a Caller,
    /// `s3:GetObject`, `dynamodb:PutItem`.
    pub action: &'a str,
    pub resource: &'a str,
    /// The resource's own policy (S3 bucket policy, Lambda function policy, KMS key policy).
    pub resource_policy: Option<&'a str>,
    /// Condition keys (`aws:PrincipalArn`, `aws:RequestedRegion`, ...).
    pub context: &'a HashMap<String, Vec<String>>,
    /// Only the resource's own policy decides (the caller's side is already settled): another
    /// account's root, anonymous callers, and the bucket owner's side of a cross-account S3 call.
    pub resource_only: bool,
}

/// What the gateway hands services in the request's extensions when `--verify-signatures` or
/// `--enforce-iam` is on, for the checks only they can make: S3 (SigV2 query signatures, POST
/// form signatures, anonymous access by bucket policy and ACL, the bucket owner's account),
/// KMS (key policies that do not delegate to IAM).
#[derive(Clone)]
pub struct Enforcement {
    pub verify: bool,
    pub enforce: bool,
    pub authority: Option<Arc<dyn Authority>>,
}

impl Enforcement {
    /// The caller an access key stands for (as the gateway resolves it).
    pub fn caller(&self, key: &str) -> Option<Caller> {
        self.authority
            .as_ref()
            .and_then(|a| a.caller(key))
            .or_else(|| is_default_key(key).then(|| Caller::root(key, &account_for_key(key))))
    }

    /// The decision for `caller` (or an anonymous caller) under `--enforce-iam`; `Allowed`
    /// when enforcement is off.
    pub fn decide(
        &self,
        caller: Option<&Caller>,
        action: &str,
        resource: &str,
        resource_policy: Option<&str>,
        context: &HashMap<String, Vec<String>>,
        resource_only: bool,
    ) -> Decision {
        let Some(authority) = self.authority.as_ref().filter(|_| self.enforce) else {
            return Decision::Allowed;
        };
        let anonymous = Caller::anonymous();
        let (caller, resource_only) = match caller {
            Some(c) => (c, resource_only),
            None => (&anonymous, true),
        };
        authority.authorize(&Authorization {
            caller,
            action,
            resource,
            resource_policy,
            context,
            resource_only,
        })
    }
}

pub trait Authority: Send + Sync + 'static {
    /// The caller an access key stands for, expired temporary ones included (so the gateway can
    /// answer `ExpiredToken` rather than `InvalidClientTokenId`). `None`: never issued.
    fn caller(&self, access_key: &str) -> Option<Caller>;

    /// Whether `auth.caller` may perform `auth.action` on `auth.resource`.
    fn authorize(&self, auth: &Authorization<'_>) -> Decision;
}

/// Any access key works without verification; a 12-digit key names its account (as LocalStack
/// does), others map to the default account.
pub fn account_for_key(key: &str) -> String {
    if is_account_key(key) {
        key.to_string()
    } else {
        DEFAULT_ACCOUNT.to_string()
    }
}

/// The default credentials: `test` and 12-digit account keys (root of that account).
pub fn is_default_key(key: &str) -> bool {
    key == "test" || is_account_key(key)
}

fn is_account_key(key: &str) -> bool {
    key.len() == 12 && key.bytes().all(|b| b.is_ascii_digit())
}

/// The IAM action prefix of a signing name, where they differ.
pub fn action_prefix(signing_name: &str) -> &str {
    match signing_name {
        "monitoring" => "cloudwatch",
        "email" => "ses",
        other => other,
    }
}

/// The IAM action of an operation. Most are `<prefix>:<Operation>`; S3's and Lambda's differ
/// for a few well-known operations (the S3 crate may refine this through
/// [`crate::Service::authorization`]).
pub fn default_action(prefix: &str, operation: &str) -> String {
    let renamed = match (prefix, operation) {
        ("s3", "HeadObject" | "GetObjectAttributes") => Some("GetObject"),
        ("s3", "ListObjects" | "ListObjectsV2" | "HeadBucket") => Some("ListBucket"),
        ("s3", "ListObjectVersions") => Some("ListBucketVersions"),
        ("s3", "ListBuckets") => Some("ListAllMyBuckets"),
        ("s3", "DeleteObjects") => Some("DeleteObject"),
        (
            "s3",
            "CopyObject"
            | "CreateMultipartUpload"
            | "UploadPart"
            | "UploadPartCopy"
            | "CompleteMultipartUpload",
        ) => Some("PutObject"),
        ("s3", "AbortMultipartUpload") => Some("AbortMultipartUpload"),
        ("s3", "ListParts") => Some("ListMultipartUploadParts"),
        ("s3", "ListMultipartUploads") => Some("ListBucketMultipartUploads"),
        ("lambda", "Invoke" | "InvokeAsync" | "InvokeWithResponseStream") => Some("InvokeFunction"),
        _ => None,
    };
    format!("{prefix}:{}", renamed.unwrap_or(operation))
}

fn member<'a>(input: &'a Value, name: &str) -> Option<&'a str> {
    input
        .get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// The resource a decoded request acts on, from the members most services name it by;
/// `*` when the operation names none (List*, Create* without a name).
pub fn default_resource(prefix: &str, region: &str, account: &str, input: &Value) -> String {
    let arn = |svc: &str, res: &str| crate::arn::build(svc, region, account, res);
    match prefix {
        "s3" => {
            if let Some(b) = member(input, "Bucket") {
                return match member(input, "Key") {
                    Some(k) => format!("arn:aws:s3:::{b}/{k}"),
                    None => format!("arn:aws:s3:::{b}"),
                };
            }
        }
        "dynamodb" => {
            if let Some(t) = member(input, "TableName") {
                return if t.starts_with("arn:") {
                    t.to_string()
                } else {
                    arn("dynamodb", &format!("table/{t}"))
                };
            }
        }
        "sqs" => {
            if let Some(url) = member(input, "QueueUrl") {
                // http://host/{account}/{name}
                let mut parts = url.rsplit('/');
                if let (Some(name), Some(acct)) = (parts.next(), parts.next()) {
                    return crate::arn::build("sqs", region, acct, name);
                }
            }
            if let Some(q) = member(input, "QueueName") {
                return arn("sqs", q);
            }
        }
        "lambda" => {
            if let Some(f) = member(input, "FunctionName") {
                return if f.starts_with("arn:") {
                    f.to_string()
                } else {
                    arn("lambda", &format!("function:{f}"))
                };
            }
        }
        "logs" => {
            if let Some(g) = member(input, "logGroupName") {
                return arn("logs", &format!("log-group:{g}:*"));
            }
        }
        _ => {}
    }
    // Most other operations name their resource by an `...Arn` member.
    if let Some(obj) = input.as_object() {
        for (k, v) in obj {
            if (k.ends_with("Arn") || k.ends_with("ARN") || k == "ResourceArn")
                && let Some(s) = v.as_str()
                && s.starts_with("arn:")
            {
                return s.to_string();
            }
        }
    }
    "*".to_string()
}

/// AWS's AccessDenied message.
pub fn denied_message(
    caller_arn: &str,
    action: &str,
    resource: &str,
    decision: Decision,
    quote_resource: bool,
) -> String {
    let resource = if quote_resource {
        format!("\"{resource}\"")
    } else {
        resource.to_string()
    };
    let why = match decision {
        Decision::ExplicitDeny {
            resource_based: true,
        } => "with an explicit deny in a resource-based policy".to_string(),
        Decision::ExplicitDeny {
            resource_based: false,
        } => "with an explicit deny in an identity-based policy".to_string(),
        _ => format!("because no identity-based policy allows the {action} action"),
    };
    format!(
        "User: {caller_arn} is not authorized to perform: {action} on resource: {resource} {why}"
    )
}

/// IAM's wildcards, as policies match actions and resources: `*` matches any run, `?` any
/// one character.
pub fn wildcard(pattern: &str, text: &str, case_insensitive: bool) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = if case_insensitive {
        (
            pattern.to_lowercase().chars().collect(),
            text.to_lowercase().chars().collect(),
        )
    } else {
        (pattern.chars().collect(), text.chars().collect())
    };
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn default_keys_and_accounts() {
        assert_eq!(account_for_key("111122223333"), "111122223333");
        assert_eq!(account_for_key("test"), "000000000000");
        assert_eq!(account_for_key("AKIAIOSFODNN7EXAMPLE"), "000000000000");
        assert!(is_default_key("test") && is_default_key("111122223333"));
        assert!(!is_default_key("ASIAXXXXXXXXXXXXXXXX"));
    }

    #[test]
    fn actions_follow_iam_names() {
        assert_eq!(default_action("dynamodb", "PutItem"), "dynamodb:PutItem");
        assert_eq!(default_action("s3", "HeadObject"), "s3:GetObject");
        assert_eq!(default_action("s3", "ListObjectsV2"), "s3:ListBucket");
        assert_eq!(default_action("lambda", "Invoke"), "lambda:InvokeFunction");
        assert_eq!(action_prefix("monitoring"), "cloudwatch");
    }

    #[test]
    fn resources_from_common_members() {
        let r = |p, v| default_resource(p, "us-east-1", "000000000000", &v);
        assert_eq!(
            r("dynamodb", json!({"TableName": "t"})),
            "arn:aws:dynamodb:us-east-1:000000000000:table/t"
        );
        assert_eq!(
            r("s3", json!({"Bucket": "b", "Key": "a/b.txt"})),
            "arn:aws:s3:::b/a/b.txt"
        );
        assert_eq!(r("s3", json!({"Bucket": "b"})), "arn:aws:s3:::b");
        assert_eq!(
            r(
                "sqs",
                json!({"QueueUrl": "http://localhost:4566/111122223333/q"})
            ),
            "arn:aws:sqs:us-east-1:111122223333:q"
        );
        assert_eq!(
            r("lambda", json!({"FunctionName": "f"})),
            "arn:aws:lambda:us-east-1:000000000000:function:f"
        );
        assert_eq!(
            r(
                "sns",
                json!({"TopicArn": "arn:aws:sns:us-east-1:000000000000:t"})
            ),
            "arn:aws:sns:us-east-1:000000000000:t"
        );
        assert_eq!(r("sqs", json!({})), "*");
    }

    #[test]
    fn messages_say_why() {
        let m = denied_message(
            "arn:aws:iam::1:user/u",
            "s3:GetObject",
            "arn:aws:s3:::b/k",
            Decision::ImplicitDeny,
            true,
        );
        assert_eq!(
            m,
            "User: arn:aws:iam::1:user/u is not authorized to perform: s3:GetObject on resource: \"arn:aws:s3:::b/k\" because no identity-based policy allows the s3:GetObject action"
        );
        let m = denied_message(
            "u",
            "a:B",
            "r",
            Decision::ExplicitDeny {
                resource_based: false,
            },
            false,
        );
        assert!(m.ends_with("on resource: r with an explicit deny in an identity-based policy"));
    }
}
