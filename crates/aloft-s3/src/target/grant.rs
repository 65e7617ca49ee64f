//! The bucket owner's side of another service's delivery: `ExpectedBucketOwner`, and
//! whether the bucket's policy (and ACLs) grant the delivering account the action.

use std::collections::HashMap;
use std::sync::Arc;

use aloft_core::AwsError;
use aloft_core::auth::{Authority, Authorization, Caller, Decision};
use aloft_events::Delivery;
use serde_json::Value;

use super::opt;
use crate::S3;
use crate::error::{S3Error, internal};

/// NoSuchBucket, `ExpectedBucketOwner`, and the cross-account grant: the bucket's owner
/// must allow the delivering account. With an authority (IAM) the bucket's policy and ACLs
/// are judged as for a request of that account's root from another account (Deny wins,
/// conditions evaluated); without one, by [`policy_allows`].
pub(super) fn check_owner(
    s3: &S3,
    authority: Option<&Arc<dyn Authority>>,
    bucket: &str,
    d: &Delivery,
    action: &str,
) -> Result<(), AwsError> {
    let cell = s3.bucket(bucket)?;
    let b = cell.read().map_err(internal)?;
    let owner = b.info.account.as_str();
    if opt(d, "ExpectedBucketOwner").is_some_and(|e| e != owner) {
        return Err(S3Error::AccessDenied.err());
    }
    if d.account.is_empty() || d.account == owner {
        return Ok(());
    }
    let key = opt(d, "Key").filter(|_| action != "s3:ListBucket");
    let on = crate::domain::access::resource_arn(bucket, key);
    let granted = match authority {
        Some(a) => {
            let object_acl = key
                .and_then(|k| b.current(k))
                .map(|v| v.meta.acl_policy(owner));
            let policy = crate::domain::access::effective_policy(
                &b.info.config,
                bucket,
                key,
                object_acl.as_ref(),
                true,
                Some(&d.account),
            );
            let caller = Caller::root("", &d.account);
            let mut context: HashMap<String, Vec<String>> = HashMap::new();
            // Services call S3 over TLS in AWS: a bucket requiring it does not refuse them.
            context.insert("aws:SecureTransport".into(), vec!["true".into()]);
            context.insert("aws:PrincipalArn".into(), vec![caller.arn.clone()]);
            context.insert("aws:PrincipalAccount".into(), vec![d.account.clone()]);
            if let Some(p) = opt(d, "Prefix") {
                context.insert("s3:prefix".into(), vec![p.to_string()]);
            }
            if let Some(src) = &d.source_arn {
                context.insert("aws:SourceArn".into(), vec![src.clone()]);
            }
            a.authorize(&Authorization {
                caller: &caller,
                action,
                resource: &on,
                resource_policy: policy.as_deref(),
                context: &context,
                resource_only: true,
            }) == Decision::Allowed
        }
        None => b
            .info
            .config
            .policy
            .as_deref()
            .is_some_and(|p| policy_allows(p, &d.account, action, &on)),
    };
    if granted {
        Ok(())
    } else {
        Err(S3Error::AccessDenied.err())
    }
}

/// Whether a bucket policy lets `account` (its root or any of its principals, or everyone)
/// perform `action` on `resource`: an Allow statement matches and no Deny does. `Not*`
/// elements (`NotPrincipal`, `NotAction`, `NotResource`) match what they do not list.
/// Conditions are not evaluated (the IAM evaluator is not reachable from here): an Allow
/// with conditions does not grant, and a Deny with conditions is taken to apply, so that
/// this reading never allows more than the bucket's policy does.
pub fn policy_allows(policy: &str, account: &str, action: &str, resource: &str) -> bool {
    let Ok(doc) = serde_json::from_str::<Value>(policy) else {
        return false;
    };
    let statements = match doc.get("Statement") {
        Some(Value::Array(a)) => a.clone(),
        Some(s @ Value::Object(_)) => vec![s.clone()],
        _ => return false,
    };
    let mut allowed = false;
    for s in &statements {
        let principal = match (s.get("Principal"), s.get("NotPrincipal")) {
            (Some(p), None) => names_principal(Some(p), account),
            (None, Some(np)) => !exempts(np, account),
            _ => false,
        };
        if !principal
            || !element_matches(s, "Action", "NotAction", action)
            || !element_matches(s, "Resource", "NotResource", resource)
        {
            continue;
        }
        match s.get("Effect").and_then(Value::as_str) {
            Some("Deny") => return false,
            Some("Allow") if s.get("Condition").is_none() => allowed = true,
            _ => {}
        }
    }
    allowed
}

/// `Action`/`Resource` lists what a statement covers, `NotAction`/`NotResource` what it
/// does not; a statement with neither (or both) covers nothing.
fn element_matches(s: &Value, key: &str, not_key: &str, what: &str) -> bool {
    match (s.get(key), s.get(not_key)) {
        (Some(v), None) => any_matches(Some(v), what),
        (None, Some(v)) => !any_matches(Some(v), what),
        _ => false,
    }
}

/// Whether a `NotPrincipal` leaves out the root of `account` (everyone, the account, or
/// its root ARN; naming one of its users leaves the root in).
fn exempts(np: &Value, account: &str) -> bool {
    let root = format!("arn:aws:iam::{account}:root");
    match np {
        Value::String(s) => s == "*",
        Value::Object(m) => strings(m.get("AWS"))
            .into_iter()
            .any(|s| s == "*" || s == account || s == root),
        _ => false,
    }
}

fn strings(v: Option<&Value>) -> Vec<&str> {
    match v {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn names_principal(p: Option<&Value>, account: &str) -> bool {
    let of_account = |s: &str| {
        s == "*"
            || s == account
            || s.split(':').nth(4).is_some_and(|a| a == account) && s.starts_with("arn:")
    };
    match p {
        Some(Value::String(s)) => s == "*",
        Some(Value::Object(m)) => strings(m.get("AWS")).into_iter().any(of_account),
        _ => false,
    }
}

fn any_matches(v: Option<&Value>, what: &str) -> bool {
    strings(v)
        .into_iter()
        .any(|pat| aloft_core::auth::wildcard(pat, what, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_policies_grant_other_accounts() {
        let p = r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},
             "Action":["s3:PutObject","s3:Get*"],"Resource":"arn:aws:s3:::b/*"},
            {"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::b/secret/*"}]}"#;
        assert!(policy_allows(
            p,
            "111122223333",
            "s3:PutObject",
            "arn:aws:s3:::b/x"
        ));
        assert!(policy_allows(
            p,
            "111122223333",
            "s3:GetObject",
            "arn:aws:s3:::b/x"
        ));
        assert!(!policy_allows(
            p,
            "444455556666",
            "s3:PutObject",
            "arn:aws:s3:::b/x"
        ));
        assert!(!policy_allows(
            p,
            "111122223333",
            "s3:PutObject",
            "arn:aws:s3:::b/secret/x"
        ));
        assert!(!policy_allows(
            p,
            "111122223333",
            "s3:ListBucket",
            "arn:aws:s3:::b"
        ));
        assert!(!policy_allows(
            "not json",
            "1",
            "s3:PutObject",
            "arn:aws:s3:::b/x"
        ));
    }

    #[test]
    fn deny_wins_whatever_its_form() {
        let allow = r#"{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"s3:*","Resource":"arn:aws:s3:::b/*"}"#;
        let with = |deny: &str| format!(r#"{{"Statement":[{allow},{deny}]}}"#);
        let can = |p: &str| policy_allows(p, "111122223333", "s3:PutObject", "arn:aws:s3:::b/x");
        assert!(can(&format!(r#"{{"Statement":{allow}}}"#)));
        // Deny before or after the Allow.
        let deny = r#"{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::b/*"}"#;
        assert!(!can(&with(deny)));
        assert!(!can(&format!(r#"{{"Statement":[{deny},{allow}]}}"#)));
        // "Everyone but the owner": NotPrincipal.
        assert!(!can(&with(
            r#"{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"s3:*","Resource":"arn:aws:s3:::b/*"}"#
        )));
        assert!(can(&with(
            r#"{"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::111122223333:root","444455556666"]},"Action":"s3:*","Resource":"arn:aws:s3:::b/*"}"#
        )));
        // Naming one of the account's users does not leave its root out.
        assert!(!can(&with(
            r#"{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:user/u"},"Action":"s3:*","Resource":"arn:aws:s3:::b/*"}"#
        )));
        // NotAction and NotResource.
        assert!(!can(&with(
            r#"{"Effect":"Deny","Principal":"*","NotAction":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}"#
        )));
        assert!(can(&with(
            r#"{"Effect":"Deny","Principal":"*","NotAction":"s3:Put*","Resource":"arn:aws:s3:::b/*"}"#
        )));
        assert!(!can(&with(
            r#"{"Effect":"Deny","Principal":"*","Action":"s3:*","NotResource":"arn:aws:s3:::b/public/*"}"#
        )));
        // A Deny's conditions are not evaluated here: it is taken to apply.
        assert!(!can(&with(
            r#"{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}"#
        )));
        // An Allow through NotAction grants what it does not list.
        let p = r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"111122223333"},"NotAction":"s3:Delete*","Resource":"arn:aws:s3:::b/*"}}"#;
        assert!(can(p));
        assert!(!policy_allows(
            p,
            "111122223333",
            "s3:DeleteObject",
            "arn:aws:s3:::b/x"
        ));
    }
}
