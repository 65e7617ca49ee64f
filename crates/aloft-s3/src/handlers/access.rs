//! The checks S3 makes itself under `--verify-signatures` / `--enforce-iam` (the gateway leaves
//! S3 an [`Enforcement`]): anonymous callers (public bucket policies
//! and ACLs), callers the gateway could not judge (POST forms), the bucket owner's
//! side of cross-account calls, and the public access block's refusals.

use std::collections::HashMap;

use aloft_core::AwsError;
use aloft_core::auth::{Caller, Decision, Enforcement, denied_message};

use super::Call;
use crate::S3;
use crate::domain::access::{canned_is_public, effective_policy, iam_action, resource_arn};
use crate::error::S3Error;
use crate::routes::Op;

/// The enforcement the gateway left, when any is on.
pub fn enforcement(call: &Call) -> Option<&Enforcement> {
    call.parts.extensions.get::<Enforcement>()
}

/// Whether `--enforce-iam` is on for this request.
pub fn enforcing(call: &Call) -> bool {
    enforcement(call).is_some_and(|e| e.enforce)
}

/// Who the request is from, and whether the gateway already judged it (signed with SigV4 or,
/// header or query, SigV2: the gateway verifies both and leaves the [`Caller`]).
pub fn caller_of(call: &Call) -> Result<(Option<Caller>, bool), AwsError> {
    Ok(match call.parts.extensions.get::<Caller>() {
        Some(c) => (Some(c.clone()), true),
        None => (None, false),
    })
}

/// SigV2's base64 HMAC-SHA1 (POST form policies; requests are verified by the gateway).
pub fn hmac_sha1_b64(secret: &str, data: &str) -> String {
    aloft_sigv4::sigv2::sign_v2(secret, data)
}

/// Condition keys S3 knows of a request.
fn context(call: &Call, caller: Option<&Caller>) -> HashMap<String, Vec<String>> {
    let mut c: HashMap<String, Vec<String>> = HashMap::new();
    c.insert("aws:SecureTransport".into(), vec!["false".into()]);
    if let Some(r) = call.header("referer") {
        c.insert("aws:Referer".into(), vec![r.to_string()]);
    }
    if let Some(ua) = call.header("user-agent") {
        c.insert("aws:UserAgent".into(), vec![ua.to_string()]);
    }
    if let Some(p) = call.q.get("prefix") {
        c.insert("s3:prefix".into(), vec![p.to_string()]);
    }
    if let Some(a) = call.header("x-amz-acl") {
        c.insert("s3:x-amz-acl".into(), vec![a.to_string()]);
    }
    if let Some(c0) = caller {
        c.insert("aws:PrincipalArn".into(), vec![c0.arn.clone()]);
        c.insert("aws:PrincipalAccount".into(), vec![c0.account.clone()]);
    }
    c
}

/// What the bucket-side judgement needs of the bucket.
struct Owned {
    owner: String,
    config: crate::domain::config::BucketConfig,
    object_acl: Option<crate::domain::config::AccessControlPolicy>,
}

fn owned(s3: &S3, bucket: &str, key: Option<&str>) -> Option<Owned> {
    let cell = s3.bucket(bucket).ok()?;
    let b = cell.read().ok()?;
    Some(Owned {
        owner: b.info.account.clone(),
        config: b.info.config.clone(),
        object_acl: key
            .and_then(|k| b.current(k))
            .map(|v| v.meta.acl_policy(&b.info.account)),
    })
}

/// Judges `action` on `bucket`/`key` for the caller; `Err(AccessDenied)` as S3 words it.
#[allow(clippy::too_many_arguments)]
pub fn judge(
    s3: &S3,
    call: &Call,
    ent: &Enforcement,
    caller: Option<&Caller>,
    judged: bool,
    action: &str,
    bucket: &str,
    key: Option<&str>,
) -> Result<(), AwsError> {
    if !ent.enforce {
        return Ok(());
    }
    let resource = resource_arn(bucket, key);
    let Some(b) = owned(s3, bucket, key) else {
        // No such bucket: anonymous callers are refused, others learn it does not exist.
        return match caller {
            None => Err(S3Error::AccessDenied.err()),
            Some(_) => Ok(()),
        };
    };
    let ctx = context(call, caller);
    let outsider = caller.is_none_or(|c| c.account != b.owner);
    let policy = effective_policy(
        &b.config,
        bucket,
        key,
        b.object_acl.as_ref(),
        outsider,
        caller.map(|c| c.account.as_str()),
    );
    let Some(c) = caller else {
        return match ent.decide(None, action, &resource, policy.as_deref(), &ctx, true) {
            Decision::Allowed => Ok(()),
            _ => Err(S3Error::AccessDenied.err()),
        };
    };
    let deny = |d: Decision, resource_side: bool| {
        let mut m = denied_message(&c.arn, action, &resource, d, true);
        if resource_side && d == Decision::ImplicitDeny {
            m = m.replace("no identity-based policy", "no resource-based policy");
        }
        Err(S3Error::AccessDenied.msg(m))
    };
    if outsider {
        let d = ent.decide(Some(c), action, &resource, policy.as_deref(), &ctx, true);
        if d != Decision::Allowed {
            return deny(d, true);
        }
        // Across accounts both sides must allow: the gateway's judgement (identity or bucket
        // policy, as within one account) is not enough.
        if !c.root {
            let d = ent.decide(Some(c), action, &resource, None, &ctx, false);
            if d != Decision::Allowed {
                return deny(d, false);
            }
        }
        return Ok(());
    }
    if c.root || judged {
        return Ok(());
    }
    match ent.decide(Some(c), action, &resource, policy.as_deref(), &ctx, false) {
        Decision::Allowed => Ok(()),
        d => deny(d, false),
    }
}

/// The checks before an operation runs (POST forms are judged once their fields are read).
pub fn check(s3: &S3, call: &Call, op: Op) -> Result<(), AwsError> {
    let Some(ent) = enforcement(call) else {
        return Ok(());
    };
    let (caller, judged) = caller_of(call)?;
    if !ent.enforce || op == Op::PostObject {
        return Ok(());
    }
    if call.bucket.is_empty() || op == Op::CreateBucket {
        return match caller {
            None => Err(S3Error::AccessDenied.err()),
            Some(_) => Ok(()),
        };
    }
    // BlockPublicAcls refuses requests that would set a public ACL (canned or granted).
    let public_grant = crate::domain::acl::GRANT_HEADERS.iter().any(|(h, _)| {
        call.header(h).is_some_and(|v| {
            v.contains("/global/AllUsers") || v.contains("/global/AuthenticatedUsers")
        })
    });
    if (call.header("x-amz-acl").is_some_and(canned_is_public) || public_grant)
        && matches!(
            op,
            Op::PutBucketAcl
                | Op::PutObjectAcl
                | Op::PutObject
                | Op::CopyObject
                | Op::CreateMultipartUpload
        )
        && block_public_acls(s3, &call.bucket)
    {
        return Err(S3Error::AccessDenied.err());
    }
    let key = (!call.key.is_empty()).then_some(call.key.as_str());
    let action = iam_action(&format!("{op:?}"));
    judge(
        s3,
        call,
        ent,
        caller.as_ref(),
        judged,
        &action,
        &call.bucket,
        key,
    )?;
    // A copy also reads its source.
    if matches!(op, Op::CopyObject | Op::UploadPartCopy)
        && let Some((b, k)) = call
            .header("x-amz-copy-source")
            .and_then(crate::domain::access::copy_source)
    {
        judge(
            s3,
            call,
            ent,
            caller.as_ref(),
            judged,
            "s3:GetObject",
            &b,
            Some(&k),
        )?;
    }
    Ok(())
}

fn block_public_acls(s3: &S3, bucket: &str) -> bool {
    s3.bucket(bucket).ok().is_some_and(|cell| {
        cell.read().ok().is_some_and(|b| {
            b.info
                .config
                .public_access_block
                .as_ref()
                .is_some_and(|p| p.block_public_acls)
        })
    })
}

/// `BlockPublicPolicy`: a public bucket policy is refused, whoever puts it.
pub fn check_policy_put(s3: &S3, call: &Call, policy: &str) -> Result<(), AwsError> {
    if !enforcing(call) || !crate::domain::access::policy_is_public(policy) {
        return Ok(());
    }
    let blocked = s3.bucket(&call.bucket).ok().is_some_and(|cell| {
        cell.read().ok().is_some_and(|b| {
            b.info
                .config
                .public_access_block
                .as_ref()
                .is_some_and(|p| p.block_public_policy)
        })
    });
    if !blocked {
        return Ok(());
    }
    let arn = call
        .parts
        .extensions
        .get::<Caller>()
        .map_or_else(|| "anonymous".to_string(), |c| c.arn.clone());
    Err(S3Error::AccessDenied.msg(format!(
        "User: {arn} is not authorized to perform: s3:PutBucketPolicy on resource: \"arn:aws:s3:::{}\" because public policies are blocked by the BlockPublicPolicy block public access setting.",
        call.bucket
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigv2_hmac_matches_the_documented_example() {
        // AWS's S3 SigV2 documentation example (GET /awsexamplebucket1/photos/puppy.jpg).
        let sts = "GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/awsexamplebucket1/photos/puppy.jpg";
        assert_eq!(
            hmac_sha1_b64("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", sts),
            "qgk2+6Sv9/oM7G3qLEjTH1a1l1g="
        );
    }
}
