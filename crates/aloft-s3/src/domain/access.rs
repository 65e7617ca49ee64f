//! Who may do what to a bucket under `--enforce-iam`: S3's operations as IAM actions, and the
//! bucket's resource policy as the engine sees it (the bucket policy plus statements standing
//! for its public ACL grants, each subject to the public access block).

use serde_json::{Value, json};

use crate::domain::acl::{ALL_USERS, AUTH_USERS};
use crate::domain::config::{AccessControlPolicy, BucketConfig, canonical_id};

/// The IAM action of an S3 operation (by AWS's operation name).
pub fn iam_action(op: &str) -> String {
    let action = match op {
        "HeadObject" | "GetObjectAttributes" => "GetObject",
        "ListObjects" | "ListObjectsV2" | "HeadBucket" => "ListBucket",
        "ListObjectVersions" => "ListBucketVersions",
        "ListBuckets" => "ListAllMyBuckets",
        "DeleteObjects" => "DeleteObject",
        "CopyObject"
        | "CreateMultipartUpload"
        | "UploadPart"
        | "UploadPartCopy"
        | "CompleteMultipartUpload"
        | "PostObject" => "PutObject",
        "ListParts" => "ListMultipartUploadParts",
        "ListMultipartUploads" => "ListBucketMultipartUploads",
        "GetBucketCors" => "GetBucketCORS",
        "PutBucketCors" | "DeleteBucketCors" => "PutBucketCORS",
        "GetBucketLifecycleConfiguration" => "GetLifecycleConfiguration",
        "PutBucketLifecycleConfiguration" | "DeleteBucketLifecycle" => "PutLifecycleConfiguration",
        "GetBucketNotificationConfiguration" => "GetBucketNotification",
        "PutBucketNotificationConfiguration" => "PutBucketNotification",
        "GetBucketEncryption" => "GetEncryptionConfiguration",
        "PutBucketEncryption" | "DeleteBucketEncryption" => "PutEncryptionConfiguration",
        "GetPublicAccessBlock" => "GetBucketPublicAccessBlock",
        "PutPublicAccessBlock" | "DeletePublicAccessBlock" => "PutBucketPublicAccessBlock",
        "DeleteBucketTagging" => "PutBucketTagging",
        "DeleteBucketOwnershipControls" => "PutBucketOwnershipControls",
        "GetBucketAccelerateConfiguration" => "GetAccelerateConfiguration",
        "GetObjectLockConfiguration" => "GetBucketObjectLockConfiguration",
        "GetBucketReplication" => "GetReplicationConfiguration",
        "Options" => "GetObject",
        other => other,
    };
    format!("s3:{action}")
}

/// `arn:aws:s3:::bucket` or `arn:aws:s3:::bucket/key`.
pub fn resource_arn(bucket: &str, key: Option<&str>) -> String {
    match key {
        Some(k) if !k.is_empty() => format!("arn:aws:s3:::{bucket}/{k}"),
        _ => format!("arn:aws:s3:::{bucket}"),
    }
}

/// The object a copy reads (`x-amz-copy-source`: `/bucket/key[?versionId=...]`, URL-encoded).
pub fn copy_source(raw: &str) -> Option<(String, String)> {
    let raw = raw.strip_prefix('/').unwrap_or(raw);
    let path = raw.split_once("?versionId=").map_or(raw, |(p, _)| p);
    let path = percent_encoding::percent_decode_str(path).decode_utf8_lossy();
    let (b, k) = path.split_once('/')?;
    (!b.is_empty() && !k.is_empty()).then(|| (b.to_string(), k.to_string()))
}

/// The bucket and key an S3 ARN names.
pub fn parse_arn(arn: &str) -> Option<(&str, Option<&str>)> {
    let rest = arn.strip_prefix("arn:aws:s3:::")?;
    Some(match rest.split_once('/') {
        Some((b, k)) => (b, Some(k)),
        None => (rest, None),
    })
}

fn statements(doc: &Value) -> Vec<Value> {
    match doc.get("Statement") {
        Some(Value::Array(a)) => a.clone(),
        Some(s @ Value::Object(_)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

fn names_everyone(st: &Value) -> bool {
    let p = &st["Principal"];
    p == "*"
        || match &p["AWS"] {
            Value::String(s) => s == "*",
            Value::Array(a) => a.iter().any(|v| v == "*"),
            _ => false,
        }
}

/// S3's notion of a public policy: an `Allow` to everyone not narrowed by a condition.
pub fn policy_is_public(policy: &str) -> bool {
    serde_json::from_str::<Value>(policy).is_ok_and(|doc| {
        statements(&doc)
            .iter()
            .any(|s| s["Effect"] == "Allow" && names_everyone(s) && s.get("Condition").is_none())
    })
}

/// Whether an ACL grants anything to everyone or to every AWS account.
pub fn acl_is_public(acl: &AccessControlPolicy) -> bool {
    crate::domain::acl::is_public(acl)
}

/// Canned ACLs that are public (`BlockPublicAcls` refuses them).
pub fn canned_is_public(canned: &str) -> bool {
    matches!(
        canned,
        "public-read" | "public-read-write" | "authenticated-read"
    )
}

/// The actions a grant's permission allows, on an object (`Some(key)`) or a bucket, and the
/// resource they apply to.
fn granted(
    bucket: &str,
    key: Option<&str>,
    permission: &str,
) -> Option<(Vec<&'static str>, String)> {
    let object = |k: &str| resource_arn(bucket, Some(k));
    Some(match (key, permission) {
        (Some(k), "READ") => (vec!["s3:GetObject", "s3:GetObjectVersion"], object(k)),
        (Some(k), "READ_ACP") => (vec!["s3:GetObjectAcl", "s3:GetObjectVersionAcl"], object(k)),
        (Some(k), "WRITE_ACP") => (vec!["s3:PutObjectAcl", "s3:PutObjectVersionAcl"], object(k)),
        (Some(k), "FULL_CONTROL") => (
            vec![
                "s3:GetObject",
                "s3:GetObjectVersion",
                "s3:GetObjectAcl",
                "s3:GetObjectVersionAcl",
                "s3:PutObjectAcl",
                "s3:PutObjectVersionAcl",
            ],
            object(k),
        ),
        (None, "READ") => (
            vec![
                "s3:ListBucket",
                "s3:ListBucketVersions",
                "s3:ListBucketMultipartUploads",
            ],
            resource_arn(bucket, None),
        ),
        (None, "WRITE") => (
            vec!["s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"],
            format!("arn:aws:s3:::{bucket}/*"),
        ),
        (None, "READ_ACP") => (vec!["s3:GetBucketAcl"], resource_arn(bucket, None)),
        (None, "WRITE_ACP") => (vec!["s3:PutBucketAcl"], resource_arn(bucket, None)),
        (None, "FULL_CONTROL") => (
            vec![
                "s3:ListBucket",
                "s3:ListBucketVersions",
                "s3:ListBucketMultipartUploads",
                "s3:PutObject",
                "s3:DeleteObject",
                "s3:DeleteObjectVersion",
                "s3:GetBucketAcl",
                "s3:PutBucketAcl",
            ],
            format!("arn:aws:s3:::{bucket}*"),
        ),
        _ => return None,
    })
}

/// Statements standing for the grants of an ACL that reach the caller: the public groups
/// (`AuthenticatedUsers` for signed callers only) and, for a caller from another account,
/// grants to that account's canonical user. Grants to the owner's own account add nothing:
/// within the account, IAM policies decide.
fn acl_statements(
    acl: &AccessControlPolicy,
    bucket: &str,
    key: Option<&str>,
    caller_account: Option<&str>,
    outsider: bool,
    public: bool,
    out: &mut Vec<Value>,
) {
    let caller_id = caller_account.filter(|_| outsider).map(canonical_id);
    for g in &acl.list.grants {
        let principal = match (g.grantee.uri.as_deref(), g.grantee.id.as_deref()) {
            (Some(ALL_USERS), _) if public => json!("*"),
            (Some(AUTH_USERS), _) if public && caller_account.is_some() => json!("*"),
            (None, Some(id)) if caller_id.as_deref() == Some(id) => {
                json!({"AWS": format!("arn:aws:iam::{}:root", caller_account.unwrap_or_default())})
            }
            _ => continue,
        };
        let Some((actions, resource)) = granted(bucket, key, g.permission.as_str()) else {
            continue;
        };
        out.push(
            json!({"Effect": "Allow", "Principal": principal, "Action": actions, "Resource": resource}),
        );
    }
}

/// The resource policy the engine evaluates for a request on `bucket` (and `key`): the bucket
/// policy (its public statements dropped under `RestrictPublicBuckets` for callers outside the
/// owner's account) plus the bucket's and the object's ACL grants (the public ones unless
/// `IgnorePublicAcls`; none when Object Ownership is `BucketOwnerEnforced`, which disables
/// ACLs). `None` when nothing applies.
pub fn effective_policy(
    config: &BucketConfig,
    bucket: &str,
    key: Option<&str>,
    object_acl: Option<&AccessControlPolicy>,
    outsider: bool,
    caller_account: Option<&str>,
) -> Option<String> {
    let pab = config.public_access_block.clone().unwrap_or_default();
    let mut out = Vec::new();
    if let Some(doc) = config
        .policy
        .as_deref()
        .and_then(|p| serde_json::from_str::<Value>(p).ok())
    {
        let restrict = pab.restrict_public_buckets && outsider;
        for st in statements(&doc) {
            if restrict && st["Effect"] == "Allow" && names_everyone(&st) {
                continue;
            }
            out.push(st);
        }
    }
    let acls_disabled = config.ownership.as_ref().is_some_and(|o| {
        o.rules
            .iter()
            .any(|r| r.object_ownership == "BucketOwnerEnforced")
    });
    if !acls_disabled {
        let public = !pab.ignore_public_acls;
        if let Some(acl) = &config.acl {
            // Bucket READ lists the bucket; WRITE lets objects be written and deleted.
            acl_statements(
                acl,
                bucket,
                None,
                caller_account,
                outsider,
                public,
                &mut out,
            );
        }
        if let (Some(k), Some(acl)) = (key, object_acl) {
            acl_statements(
                acl,
                bucket,
                Some(k),
                caller_account,
                outsider,
                public,
                &mut out,
            );
        }
    }
    (!out.is_empty()).then(|| json!({"Version": "2012-10-17", "Statement": out}).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::config::PublicAccessBlockConfiguration;

    const PUBLIC_READ: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"PublicRead","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#;

    #[test]
    fn actions_follow_iam_names() {
        assert_eq!(iam_action("HeadObject"), "s3:GetObject");
        assert_eq!(iam_action("PutBucketCors"), "s3:PutBucketCORS");
        assert_eq!(
            iam_action("PutPublicAccessBlock"),
            "s3:PutBucketPublicAccessBlock"
        );
        assert_eq!(iam_action("GetBucketPolicy"), "s3:GetBucketPolicy");
        assert_eq!(parse_arn("arn:aws:s3:::b/a/c"), Some(("b", Some("a/c"))));
        assert_eq!(parse_arn("arn:aws:s3:::b"), Some(("b", None)));
        assert_eq!(parse_arn("arn:aws:sqs:::b"), None);
        assert_eq!(
            copy_source("/src/a%20b.txt?versionId=3"),
            Some(("src".into(), "a b.txt".into()))
        );
        assert_eq!(copy_source("src"), None);
    }

    #[test]
    fn public_policies_are_recognised() {
        assert!(policy_is_public(PUBLIC_READ));
        assert!(policy_is_public(
            r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":["*"]},"Action":"s3:*","Resource":"*"}}"#
        ));
        assert!(!policy_is_public(
            r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:root"},"Action":"s3:*","Resource":"*"}]}"#
        ));
        assert!(canned_is_public("public-read") && !canned_is_public("private"));
    }

    #[test]
    fn restrict_public_buckets_drops_public_statements_for_outsiders() {
        let mut c = BucketConfig {
            policy: Some(PUBLIC_READ.into()),
            ..Default::default()
        };
        assert!(effective_policy(&c, "b", Some("k"), None, true, None).is_some());
        c.public_access_block = Some(PublicAccessBlockConfiguration {
            restrict_public_buckets: true,
            ..Default::default()
        });
        assert!(effective_policy(&c, "b", Some("k"), None, true, None).is_none());
        assert!(effective_policy(&c, "b", Some("k"), None, false, Some("1")).is_some());
    }

    #[test]
    fn public_acls_become_statements_unless_ignored() {
        let mut c = BucketConfig::default();
        let canned = |n: &str| AccessControlPolicy::canned("1", n).unwrap();
        let public_read = canned("public-read");
        let p = effective_policy(&c, "b", Some("k"), Some(&public_read), true, None).unwrap();
        assert!(p.contains("s3:GetObject") && p.contains("arn:aws:s3:::b/k"));
        let auth = canned("authenticated-read");
        assert!(effective_policy(&c, "b", Some("k"), Some(&auth), true, None).is_none());
        assert!(effective_policy(&c, "b", Some("k"), Some(&auth), true, Some("2")).is_some());
        c.acl = AccessControlPolicy::canned("1", "public-read-write");
        let p = effective_policy(&c, "b", None, None, true, None).unwrap();
        assert!(p.contains("s3:ListBucket") && p.contains("arn:aws:s3:::b/*"));
        c.public_access_block = Some(PublicAccessBlockConfiguration {
            ignore_public_acls: true,
            ..Default::default()
        });
        assert!(effective_policy(&c, "b", Some("k"), Some(&public_read), true, None).is_none());
    }

    #[test]
    fn grants_to_another_accounts_canonical_user_reach_that_account_only() {
        let c = BucketConfig::default();
        let mut acl = AccessControlPolicy::canned("1", "private").unwrap();
        let mut g = acl.list.grants[0].clone();
        g.grantee.id = Some(canonical_id("2"));
        g.permission = "READ".into();
        acl.list.grants.push(g);
        let p = effective_policy(&c, "b", Some("k"), Some(&acl), true, Some("2")).unwrap();
        assert!(p.contains("arn:aws:iam::2:root") && p.contains("s3:GetObject"));
        assert!(effective_policy(&c, "b", Some("k"), Some(&acl), true, Some("3")).is_none());
        // The owner's own grant adds nothing for its IAM users.
        assert!(effective_policy(&c, "b", Some("k"), Some(&acl), false, Some("1")).is_none());
        // BucketOwnerEnforced disables ACLs altogether.
        let enforced = BucketConfig {
            ownership: Some(crate::domain::config::OwnershipControls {
                rules: vec![crate::domain::config::OwnershipRule {
                    object_ownership: "BucketOwnerEnforced".into(),
                }],
            }),
            ..Default::default()
        };
        assert!(effective_policy(&enforced, "b", Some("k"), Some(&acl), true, Some("2")).is_none());
    }
}
