//! Roles assumed by AWS services on a caller's behalf: a Lambda function runs with temporary
//! credentials of its execution role, so under `--enforce-iam` the calls its code makes are
//! limited by that role, as on AWS.
//!
//! Reached through the `iam` delivery target (no crate imports another): Lambda delivers to the
//! role's ARN with `options` `{"Service": "lambda.amazonaws.com", "RoleSessionName": ...,
//! "DurationSeconds": ...}` and reads the credentials from the answer's payload.

use std::sync::{Arc, Weak};

use aloft_core::{AwsError, clock};
use aloft_events::{Delivered, Delivery, Target};
use async_trait::async_trait;
use bytes::Bytes;
use serde_json::{Value, json};

use crate::policy::{Decision, Request};
use crate::state::{Credential, Identity, access_key_id, durable, secret_key};
use crate::sts::session_token;

pub struct RoleTarget(pub Weak<Identity>);

/// Whether `trust` (a role's trust policy) lets `service` assume the role.
pub fn trusts_service(trust: &str, service: &str, role_arn: &str) -> bool {
    let Ok(mut doc) = serde_json::from_str::<Value>(trust) else {
        return false;
    };
    // Trust policies name no Resource: the role itself is it.
    if let Some(sts) = doc.get_mut("Statement") {
        let list: Vec<&mut Value> = match sts {
            Value::Array(a) => a.iter_mut().collect(),
            one => vec![one],
        };
        for st in list {
            if let Some(m) = st.as_object_mut() {
                m.entry("Resource").or_insert(json!("*"));
            }
        }
    }
    let context = std::collections::HashMap::new();
    let req = Request {
        action: "sts:AssumeRole",
        resource: role_arn,
        context: &context,
    };
    crate::authority::resource_decision(&doc, &[service.to_string()], &req) == Decision::Allowed
}

fn denied(message: String) -> AwsError {
    AwsError::new("AccessDenied", 403, message)
}

/// Issues credentials of `role_arn` for `service`.
pub async fn assume_for_service(
    id: &Identity,
    role_arn: &str,
    service: &str,
    session: &str,
    duration_secs: i64,
) -> Result<Credential, AwsError> {
    let arn = aloft_core::arn::parse(role_arn)
        .filter(|a| a.service == "iam" && a.resource.starts_with("role/"))
        .ok_or_else(|| AwsError::validation(format!("{role_arn} is not a role ARN")))?;
    let account = arn.account.to_string();
    let role_name = arn.resource.rsplit('/').next().unwrap_or("").to_string();
    let role = id
        .read_account(&account, |a| Ok(a.roles.get(&role_name).cloned()))
        .map_err(|e| AwsError::internal(e.message))?
        .ok_or_else(|| denied(format!("The role defined for the function cannot be assumed by Lambda: {role_arn} does not exist.")))?;
    let trusted = role
        .trust_policy
        .as_deref()
        .is_some_and(|t| trusts_service(t, service, role_arn));
    if !trusted {
        return Err(denied(format!(
            "The role defined for the function cannot be assumed by Lambda: the trust policy of {role_arn} does not allow {service}."
        )));
    }
    let session: String = session
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(*c))
        .take(64)
        .collect();
    let c = Credential {
        access_key: access_key_id("ASIA"),
        secret: secret_key(),
        session_token: Some(session_token()),
        account: account.clone(),
        arn: format!("arn:aws:sts::{account}:assumed-role/{role_name}/{session}"),
        user_id: format!("{}:{session}", role.id),
        user: None,
        status: "Active".into(),
        created: clock::now_secs_f64(),
        expires: Some(clock::now_millis() + duration_secs * 1000),
        role_arn: Some(role_arn.to_string()),
        session_policy: None,
    };
    let commit = {
        let mut st = id.lock();
        id.put_key(&mut st, c.clone())
    };
    durable(commit)
        .await
        .map_err(|e| AwsError::internal(e.message))?;
    Ok(c)
}

#[async_trait]
impl Target for RoleTarget {
    async fn deliver(&self, arn: &str, delivery: Delivery) -> Result<Delivered, AwsError> {
        let id: Arc<Identity> = self
            .0
            .upgrade()
            .ok_or_else(|| AwsError::internal("IAM is shutting down"))?;
        let opt = |k: &str| delivery.options.get(k).and_then(Value::as_str);
        let service = opt("Service").unwrap_or("lambda.amazonaws.com");
        let session = opt("RoleSessionName").unwrap_or("aloft");
        let duration = delivery
            .options
            .get("DurationSeconds")
            .and_then(Value::as_i64)
            .unwrap_or(43_200);
        let c = assume_for_service(&id, arn, service, session, duration).await?;
        let body = json!({
            "AccessKeyId": c.access_key,
            "SecretAccessKey": c.secret,
            "SessionToken": c.session_token,
            "Expiration": c.expires.unwrap_or(0) / 1000,
            "Arn": c.arn,
        });
        Ok(Delivered {
            payload: Some(Bytes::from(body.to_string())),
            info: Default::default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trust_policies_name_the_service() {
        let role = "arn:aws:iam::000000000000:role/r";
        let lambda = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        assert!(trusts_service(lambda, "lambda.amazonaws.com", role));
        assert!(!trusts_service(lambda, "ec2.amazonaws.com", role));
        let both = r#"{"Statement":{"Effect":"Allow","Principal":{"Service":["ec2.amazonaws.com","lambda.amazonaws.com"]},"Action":["sts:AssumeRole","sts:TagSession"]}}"#;
        assert!(trusts_service(both, "lambda.amazonaws.com", role));
        let deny = r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"},{"Effect":"Deny","Principal":"*","Action":"sts:AssumeRole"}]}"#;
        assert!(!trusts_service(deny, "lambda.amazonaws.com", role));
        assert!(!trusts_service("not json", "lambda.amazonaws.com", role));
    }
}
