//! Who may do what to a bucket under `--enforce-iam`: S3's operations as IAM actions, and the
//! bucket's resource policy as the engine sees it (the bucket policy plus statements standing
//! for its public ACL grants, each subject to the public access block).

use serde_json::{Value, json};

use crate::domain::config::{AccessControlPolicy, BucketConfig};

const ALL_USERS: &str = "http://acs.amazonaws.com/groups/global/AllUsers";
const AUTH_USERS: &str = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";

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
    acl.list.grants.iter().any(|g| {
        g.grantee
            .uri
            .as_deref()
            .is_some_and(|u| u == ALL_USERS || u == AUTH_USERS)
    })
}

/// Canned ACLs that are public (`BlockPublicAcls` refuses them).
pub fn canned_is_public(canned: &str) -> bool {
    matches!(
        canned,
        "public-read" | "public-read-write" | "authenticated-read"
    )
}

/// Statements standing for the public grants of an ACL. `AuthenticatedUsers` grants apply to
/// signed callers only.
fn acl_statements(
    acl: &AccessControlPolicy,
    bucket: &str,
    key: Option<&str>,
    anonymous: bool,
    out: &mut Vec<Value>,
) {
    for g in &acl.list.grants {
        let Some(uri) = g.grantee.uri.as_deref() else {
            continue;
        };
        let applies = uri == ALL_USERS || (uri == AUTH_USERS && !anonymous);
        if !applies {
            continue;
        }
        let (actions, resource): (Vec<&str>, String) = match (key, g.permission.as_str()) {
            (Some(k), "READ") => (
                vec!["s3:GetObject", "s3:GetObjectVersion"],
                resource_arn(bucket, Some(k)),
            ),
            (Some(k), "READ_ACP") => (vec!["s3:GetObjectAcl"], resource_arn(bucket, Some(k))),
            (Some(k), "FULL_CONTROL") => (
                vec!["s3:GetObject", "s3:GetObjectAcl"],
                resource_arn(bucket, Some(k)),
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
                vec!["s3:PutObject", "s3:DeleteObject"],
                format!("arn:aws:s3:::{bucket}/*"),
            ),
            (None, "READ_ACP") => (vec!["s3:GetBucketAcl"], resource_arn(bucket, None)),
            (None, "FULL_CONTROL") => (
                vec![
                    "s3:ListBucket",
                    "s3:PutObject",
                    "s3:DeleteObject",
                    "s3:GetBucketAcl",
                ],
                format!("arn:aws:s3:::{bucket}*"),
            ),
            _ => continue,
        };
        out.push(
            json!({"Effect": "Allow", "Principal": "*", "Action": actions, "Resource": resource}),
        );
    }
}

/// The resource policy the engine evaluates for a request on `bucket` (and `key`): the bucket
/// policy (its public statements dropped under `RestrictPublicBuckets` for callers outside the
/// owner's account) plus the bucket's and the object's public ACL grants (unless
/// `IgnorePublicAcls`). `None` when nothing applies.
pub fn effective_policy(
    config: &BucketConfig,
    bucket: &str,
    key: Option<&str>,
    object_acl: Option<&str>,
    outsider: bool,
    anonymous: bool,
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
    if !pab.ignore_public_acls {
        if let Some(acl) = &config.acl {
            // Bucket READ lists the bucket; WRITE lets objects be written and deleted.
            acl_statements(acl, bucket, None, anonymous, &mut out);
        }
        if let (Some(k), Some(canned)) = (key, object_acl)
            && let Some(acl) = AccessControlPolicy::canned("", canned)
        {
            acl_statements(&acl, bucket, Some(k), anonymous, &mut out);
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
        assert!(effective_policy(&c, "b", Some("k"), None, true, true).is_some());
        c.public_access_block = Some(PublicAccessBlockConfiguration {
            restrict_public_buckets: true,
            ..Default::default()
        });
        assert!(effective_policy(&c, "b", Some("k"), None, true, true).is_none());
        assert!(effective_policy(&c, "b", Some("k"), None, false, false).is_some());
    }

    #[test]
    fn public_acls_become_statements_unless_ignored() {
        let mut c = BucketConfig::default();
        let p = effective_policy(&c, "b", Some("k"), Some("public-read"), true, true).unwrap();
        assert!(p.contains("s3:GetObject") && p.contains("arn:aws:s3:::b/k"));
        assert!(
            effective_policy(&c, "b", Some("k"), Some("authenticated-read"), true, true).is_none()
        );
        assert!(
            effective_policy(&c, "b", Some("k"), Some("authenticated-read"), true, false).is_some()
        );
        c.acl = AccessControlPolicy::canned("1", "public-read-write");
        let p = effective_policy(&c, "b", None, None, true, true).unwrap();
        assert!(p.contains("s3:ListBucket") && p.contains("arn:aws:s3:::b/*"));
        c.public_access_block = Some(PublicAccessBlockConfiguration {
            ignore_public_acls: true,
            ..Default::default()
        });
        assert!(effective_policy(&c, "b", Some("k"), Some("public-read"), true, true).is_none());
    }
}
