//! STS: who the caller is, and temporary credentials (AssumeRole, web identity, session and
//! federation tokens) that expire on Aloft's one clock.

use aloft_core::{RequestContext, clock, ids};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{Code, Result};
use crate::state::{Credential, Identity, access_key_id, durable, secret_key};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AssumeRoleInput {
    pub(crate) role_arn: String,
    pub(crate) role_session_name: String,
    pub(crate) duration_seconds: Option<i64>,
    pub(crate) policy: Option<String>,
    pub(crate) web_identity_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TokenInput {
    duration_seconds: Option<i64>,
    name: Option<String>,
    policy: Option<String>,
    access_key_id: Option<String>,
}

/// The caller behind a request: a known access key, or the account's root for any other.
pub fn caller(id: &Identity, ctx: &RequestContext) -> Credential {
    if let Some(c) = ctx.access_key().and_then(|k| id.credential(k)) {
        return c;
    }
    Credential {
        access_key: ctx.access_key().unwrap_or("").to_string(),
        secret: String::new(),
        session_token: None,
        account: ctx.account_id.clone(),
        arn: format!("arn:aws:iam::{}:root", ctx.account_id),
        user_id: ctx.account_id.clone(),
        user: None,
        status: "Active".into(),
        created: 0.0,
        expires: None,
        role_arn: None,
        session_policy: None,
    }
}

pub fn get_caller_identity(id: &Identity, ctx: &RequestContext) -> Result<Value> {
    let c = caller(id, ctx);
    Ok(json!({"UserId": c.user_id, "Account": c.account, "Arn": c.arn}))
}

pub fn session_token() -> String {
    let mut raw = vec![0u8; 180];
    for b in &mut raw {
        *b = ids::random_string(1, ids::ALNUM).as_bytes()[0];
    }
    format!("FwoGZXIvYXdzE{}", STANDARD.encode(raw))
}

fn check_duration(d: Option<i64>, default: i64, max: i64) -> Result<i64> {
    let d = d.unwrap_or(default);
    if d < 900 {
        return Err(Code::ValidationError.msg(format!(
            "1 validation error detected: Value '{d}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900"
        )));
    }
    if d > max {
        return Err(Code::ValidationError.msg(
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
                .to_string(),
        ));
    }
    Ok(d)
}

fn check_session_name(name: &str) -> Result<()> {
    let ok = (2..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(Code::ValidationError.msg(format!(
            "1 validation error detected: Value '{name}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*"
        )))
    }
}

pub(crate) fn credentials_value(c: &Credential) -> Value {
    json!({
        "AccessKeyId": c.access_key,
        "SecretAccessKey": c.secret,
        "SessionToken": c.session_token,
        "Expiration": c.expires.unwrap_or(0) as f64 / 1000.0,
    })
}

fn policy_check(p: Option<&String>) -> Result<Option<String>> {
    match p {
        None => Ok(None),
        Some(s) if serde_json::from_str::<Value>(s).is_ok_and(|v| v.is_object()) => {
            Ok(Some(s.clone()))
        }
        Some(_) => Err(Code::MalformedPolicyDocumentException.msg("Syntax errors in policy.")),
    }
}

/// Issues credentials for `role_arn` as session `name`.
pub(crate) async fn assume(
    id: &Identity,
    ctx: &RequestContext,
    input: &AssumeRoleInput,
) -> Result<(Credential, Value)> {
    check_session_name(&input.role_session_name)?;
    let policy = policy_check(input.policy.as_ref())?;
    let parsed = aloft_core::arn::parse(&input.role_arn)
        .filter(|a| a.service == "iam" && a.resource.starts_with("role/"));
    let Some(arn) = parsed else {
        return Err(Code::ValidationError.msg(format!("{} is invalid", input.role_arn)));
    };
    let account = if arn.account.is_empty() {
        ctx.account_id.clone()
    } else {
        arn.account.to_string()
    };
    let role_name = arn.resource.rsplit('/').next().unwrap_or("").to_string();
    let role = id.read_account(&account, |a| Ok(a.roles.get(&role_name).cloned()))?;
    let (role_id, max) = match &role {
        Some(r) => (r.id.clone(), r.max_session_duration.unwrap_or(3600)),
        // Without --enforce-iam a role that was never created may still be assumed (deployment
        // tools assume roles they expect to exist); with it, AWS's AccessDenied.
        None if !id.enforce => (format!("AROA{}", &account_hash(&input.role_arn)), 43200),
        None => {
            let who = caller(id, ctx).arn;
            return Err(Code::AccessDenied.msg(format!(
                "User: {who} is not authorized to perform: sts:AssumeRole on resource: {}",
                input.role_arn
            )));
        }
    };
    let duration = check_duration(input.duration_seconds, 3600, max.max(3600))?;
    let assumed_arn = format!(
        "arn:aws:sts::{account}:assumed-role/{role_name}/{}",
        input.role_session_name
    );
    let user_id = format!("{role_id}:{}", input.role_session_name);
    let c = Credential {
        access_key: access_key_id("ASIA"),
        secret: secret_key(),
        session_token: Some(session_token()),
        account,
        arn: assumed_arn.clone(),
        user_id: user_id.clone(),
        user: None,
        status: "Active".into(),
        created: clock::now_secs_f64(),
        expires: Some(clock::now_millis() + duration * 1000),
        role_arn: Some(input.role_arn.clone()),
        session_policy: policy,
    };
    Ok((c, json!({"AssumedRoleId": user_id, "Arn": assumed_arn})))
}

fn account_hash(s: &str) -> String {
    // A stable id for roles Aloft has no record of, so repeated sessions agree.
    let mut h: u64 = 1469598103934665603;
    for b in s.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(1099511628211);
    }
    format!("{h:017X}").chars().take(17).collect()
}

pub(crate) async fn store(id: &Identity, c: &Credential) -> Result<()> {
    let commit = {
        let mut st = id.lock();
        id.put_key(&mut st, c.clone())
    };
    durable(commit).await
}

pub async fn assume_role(
    id: &Identity,
    ctx: &RequestContext,
    input: AssumeRoleInput,
) -> Result<Value> {
    let (c, user) = assume(id, ctx, &input).await?;
    store(id, &c).await?;
    Ok(
        json!({"Credentials": credentials_value(&c), "AssumedRoleUser": user, "PackedPolicySize": if c.session_policy.is_some() { 6 } else { 0 }}),
    )
}

pub async fn assume_role_with_web_identity(
    id: &Identity,
    ctx: &RequestContext,
    input: AssumeRoleInput,
) -> Result<Value> {
    let token = input.web_identity_token.clone().unwrap_or_default();
    let claims = token
        .split('.')
        .nth(1)
        .and_then(|p| URL_SAFE_NO_PAD.decode(p.trim_end_matches('=')).ok())
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .filter(|v| v.is_object() && token.split('.').count() == 3)
        .ok_or_else(|| Code::InvalidIdentityTokenException.msg("The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)"))?;
    let exp = claims
        .get("exp")
        .and_then(Value::as_i64)
        .unwrap_or(i64::MAX);
    if exp <= clock::now_secs() {
        return Err(Code::ExpiredTokenException.msg("Token expired: current date/time must be before the expiration date/time in the token."));
    }
    let (c, user) = assume(id, ctx, &input).await?;
    store(id, &c).await?;
    let iss = claims.get("iss").and_then(Value::as_str).unwrap_or("");
    let aud = match claims.get("aud") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(a)) => a.first().and_then(Value::as_str).unwrap_or("").to_string(),
        _ => claims
            .get("client_id")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
    };
    Ok(json!({
        "Credentials": credentials_value(&c),
        "SubjectFromWebIdentityToken": claims.get("sub").and_then(Value::as_str).unwrap_or(""),
        "AssumedRoleUser": user,
        "Provider": iss.trim_start_matches("https://").trim_start_matches("http://"),
        "Audience": aud,
    }))
}

pub async fn get_session_token(
    id: &Identity,
    ctx: &RequestContext,
    input: TokenInput,
) -> Result<Value> {
    let duration = check_duration(input.duration_seconds, 43200, 129_600)?;
    let who = caller(id, ctx);
    let c = Credential {
        access_key: access_key_id("ASIA"),
        secret: secret_key(),
        session_token: Some(session_token()),
        expires: Some(clock::now_millis() + duration * 1000),
        created: clock::now_secs_f64(),
        user: None,
        ..who
    };
    store(id, &c).await?;
    Ok(json!({"Credentials": credentials_value(&c)}))
}

pub async fn get_federation_token(
    id: &Identity,
    ctx: &RequestContext,
    input: TokenInput,
) -> Result<Value> {
    let name = input.name.clone().unwrap_or_default();
    if !(2..=32).contains(&name.len())
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
    {
        return Err(Code::ValidationError.msg(format!(
            "1 validation error detected: Value '{name}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*"
        )));
    }
    let duration = check_duration(input.duration_seconds, 43200, 129_600)?;
    let policy = policy_check(input.policy.as_ref())?;
    let account = caller(id, ctx).account;
    let arn = format!("arn:aws:sts::{account}:federated-user/{name}");
    let user_id = format!("{account}:{name}");
    let c = Credential {
        access_key: access_key_id("ASIA"),
        secret: secret_key(),
        session_token: Some(session_token()),
        account,
        arn: arn.clone(),
        user_id: user_id.clone(),
        user: None,
        status: "Active".into(),
        created: clock::now_secs_f64(),
        expires: Some(clock::now_millis() + duration * 1000),
        role_arn: None,
        session_policy: policy,
    };
    store(id, &c).await?;
    Ok(
        json!({"Credentials": credentials_value(&c), "FederatedUser": {"FederatedUserId": user_id, "Arn": arn}, "PackedPolicySize": 0}),
    )
}

pub fn get_access_key_info(
    id: &Identity,
    ctx: &RequestContext,
    input: TokenInput,
) -> Result<Value> {
    let key = input.access_key_id.unwrap_or_default();
    let account = id
        .credential(&key)
        .map_or_else(|| ctx.account_id.clone(), |c| c.account);
    Ok(json!({"Account": account}))
}

/// The document Aloft would encode into an AccessDenied message (AWS's decoded shape:
/// `allowed`, `explicitDeny`, `matchedStatements`, `failures`, `context`), base64url without
/// padding. Aloft's denials do not carry one yet; this is the format DecodeAuthorizationMessage
/// accepts.
pub fn encode_authorization_message(doc: &Value) -> String {
    URL_SAFE_NO_PAD.encode(doc.to_string())
}

pub fn decode_authorization_message(input: &Value) -> Result<Value> {
    let msg = input
        .get("EncodedMessage")
        .and_then(Value::as_str)
        .unwrap_or("");
    let invalid = || {
        Code::InvalidAuthorizationMessageException
            .msg("The specified message is not a valid encoded authorization message.")
    };
    // Padding is tolerated (some tools add it); line breaks are not, as in AWS.
    let bytes = URL_SAFE_NO_PAD
        .decode(msg.trim_end_matches('='))
        .map_err(|_| invalid())?;
    let doc: Value = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    if !doc.is_object() || doc.get("allowed").is_none() || doc.get("context").is_none() {
        return Err(invalid());
    }
    Ok(json!({"DecodedMessage": doc.to_string()}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorization_messages_round_trip_and_garbage_is_rejected() {
        let doc =
            json!({"allowed": false, "explicitDeny": false, "context": {"action": "s3:GetObject"}});
        let enc = encode_authorization_message(&doc);
        let out = decode_authorization_message(&json!({"EncodedMessage": enc})).unwrap();
        let back: Value = serde_json::from_str(out["DecodedMessage"].as_str().unwrap()).unwrap();
        assert_eq!(back, doc);
        for bad in ["", "not base64!", "e30", "bm90IGpzb24"] {
            let e = decode_authorization_message(&json!({"EncodedMessage": bad})).unwrap_err();
            assert_eq!(e.code, "InvalidAuthorizationMessageException", "{bad}");
        }
    }
}
