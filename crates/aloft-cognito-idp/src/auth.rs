//! Sign-in: InitiateAuth/AdminInitiateAuth — password and SRP flows, refresh, lockout — and
//! the sessions and next steps the challenges (`challenges`) and token issuance (`issue`) share.

use std::collections::BTreeMap;

use aloft_core::{RequestContext, clock, ids};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rsa::BigUint;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::access::{check_not_revoked, check_secret_hash, find_username, pool_of_client};
use crate::codes;
use crate::error::{Code, Result, bad_credentials, client_not_found, invalid, user_not_found};
use crate::model::{Pool, User, UserStatus};
use crate::password;
use crate::srp;
use crate::state::{Inner, Record};
use crate::tokens::{self};
use crate::triggers::{self, Call};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InitiateAuthInput {
    pub(crate) auth_flow: String,
    #[serde(default)]
    pub(crate) auth_parameters: BTreeMap<String, String>,
    pub client_id: String,
    pub(crate) user_pool_id: Option<String>,
    pub client_metadata: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RespondInput {
    pub client_id: String,
    pub(crate) challenge_name: String,
    pub session: Option<String>,
    #[serde(default)]
    pub challenge_responses: BTreeMap<String, String>,
    pub(crate) user_pool_id: Option<String>,
    pub client_metadata: Option<Value>,
}

/// An open challenge, kept in memory for the client's AuthSessionValidity (3 minutes).
#[derive(Debug, Clone)]
pub struct Session {
    pub pool_id: String,
    pub client_id: String,
    pub username: String,
    pub challenge: String,
    pub expires: i64,
    /// SRP: the server secret b, public B and the client's A, hex.
    pub srp: Option<(String, String, String)>,
    /// SMS_MFA and EMAIL_OTP: the code that was sent.
    pub sms_code: Option<String>,
    /// MFA_SETUP: the secret being associated, then whether it was verified.
    pub setup_secret: Option<String>,
    pub setup_verified: bool,
    /// CUSTOM_AUTH: the challenge loop so far.
    pub custom: Option<Box<crate::custom_auth::Progress>>,
}

pub(crate) const MAX_FAILURES_BEFORE_LOCK: u32 = 5;

pub(crate) fn missing(p: &str) -> aloft_core::AwsError {
    invalid(format!("Missing required parameter {p}"))
}

pub(crate) fn new_session(inner: &Inner, s: Session) -> String {
    let mut raw = [0u8; 96];
    rand::fill(&mut raw);
    let id = STANDARD.encode(raw);
    let mut sessions = inner.sessions.lock().expect("sessions lock");
    let now = clock::now_millis();
    sessions.retain(|_, v| v.expires > now);
    sessions.insert(id.clone(), s);
    id
}

pub(crate) fn take_session(inner: &Inner, id: Option<&str>, client_id: &str) -> Result<Session> {
    let expired =
        || Code::NotAuthorizedException.msg("Invalid session for the user, session is expired.");
    let id = id.ok_or_else(|| invalid("Missing required parameter Session"))?;
    let sessions = inner.sessions.lock().expect("sessions lock");
    let s = sessions.get(id).cloned().ok_or_else(expired)?;
    if s.expires <= clock::now_millis() {
        return Err(expired());
    }
    if s.client_id != client_id {
        return Err(Code::NotAuthorizedException.msg("Invalid session for the user."));
    }
    Ok(s)
}

pub(crate) fn session_ttl(pool: &Pool, client_id: &str) -> i64 {
    let minutes = pool
        .clients
        .get(client_id)
        .and_then(|c| c.settings.get("AuthSessionValidity"))
        .and_then(Value::as_i64)
        .unwrap_or(3);
    clock::now_millis() + minutes * 60_000
}

/// Resolves the pool and checks the client (and, for Admin*, the caller's pool).
pub(crate) fn resolve_pool(
    inner: &Inner,
    ctx: &RequestContext,
    client_id: &str,
    admin_pool: Option<&str>,
    admin: bool,
) -> Result<String> {
    if admin {
        let pool_id = admin_pool.ok_or_else(|| invalid("1 validation error detected: Value null at 'userPoolId' failed to satisfy constraint: Member must not be null"))?;
        inner.read(ctx, pool_id, |p| {
            if p.clients.contains_key(client_id) {
                Ok(())
            } else {
                Err(client_not_found(client_id))
            }
        })?;
        Ok(pool_id.to_string())
    } else {
        pool_of_client(inner, client_id)
    }
}

pub(crate) fn unknown_user(pool: &Pool, client_id: &str) -> aloft_core::AwsError {
    let hides = pool
        .clients
        .get(client_id)
        .and_then(|c| c.str("PreventUserExistenceErrors"))
        == Some("ENABLED");
    if hides {
        bad_credentials()
    } else {
        Code::UserNotFoundException.msg("User does not exist.")
    }
}

pub(crate) fn check_locked(u: &User) -> Result<()> {
    if u.locked_until > clock::now_millis() {
        return Err(Code::NotAuthorizedException.msg("Password attempts exceeded"));
    }
    Ok(())
}

/// Counts a failed password: from the fifth on, the user is locked for 1 s, doubling per
/// further failure up to about 15 minutes (Cognito's documented lockout).
pub(crate) fn record_failure(u: &mut User) {
    u.failed_attempts += 1;
    if u.failed_attempts >= MAX_FAILURES_BEFORE_LOCK {
        let n = (u.failed_attempts - MAX_FAILURES_BEFORE_LOCK).min(10);
        let secs = (1i64 << n).min(900);
        u.locked_until = clock::now_millis() + secs * 1000;
    }
}

/// What happens once the password is proven: state checks, then a challenge or tokens.
pub(crate) fn after_password(u: &mut User) -> Result<()> {
    u.failed_attempts = 0;
    u.locked_until = 0;
    if !u.enabled {
        return Err(Code::NotAuthorizedException.msg("User is disabled."));
    }
    match u.status {
        UserStatus::UNCONFIRMED => {
            Err(Code::UserNotConfirmedException.msg("User is not confirmed."))
        }
        UserStatus::RESET_REQUIRED => {
            Err(Code::PasswordResetRequiredException.msg("Password reset required for the user"))
        }
        _ => {
            if u.status == UserStatus::FORCE_CHANGE_PASSWORD
                && u.password
                    .as_ref()
                    .and_then(|p| p.expires)
                    .is_some_and(|e| e <= clock::now_millis())
            {
                return Err(Code::NotAuthorizedException
                    .msg("Temporary password has expired and must be reset by an administrator."));
            }
            Ok(())
        }
    }
}

pub async fn initiate_auth(
    inner: &Inner,
    ctx: &RequestContext,
    input: InitiateAuthInput,
    admin: bool,
) -> Result<Value> {
    let pool_id = resolve_pool(
        inner,
        ctx,
        &input.client_id,
        input.user_pool_id.as_deref(),
        admin,
    )?;
    let flow = input.auth_flow.as_str();
    let allowed_here = match flow {
        "USER_PASSWORD_AUTH" | "USER_SRP_AUTH" | "REFRESH_TOKEN_AUTH" | "REFRESH_TOKEN"
        | "CUSTOM_AUTH" => true,
        "ADMIN_USER_PASSWORD_AUTH" | "ADMIN_NO_SRP_AUTH" => admin,
        _ => false,
    };
    if !allowed_here {
        return Err(invalid("Initiate Auth method not supported.".to_string()));
    }
    let flow_name = match flow {
        "REFRESH_TOKEN" => "REFRESH_TOKEN_AUTH",
        "ADMIN_NO_SRP_AUTH" => "ADMIN_USER_PASSWORD_AUTH",
        f => f,
    };
    let enabled = inner.read_any(&pool_id, |p| {
        Ok(p.clients
            .get(&input.client_id)
            .is_some_and(|c| c.allows(flow_name)))
    })?;
    if !enabled {
        return Err(invalid(format!(
            "{flow_name} flow not enabled for this client"
        )));
    }
    let params = &input.auth_parameters;
    match flow_name {
        "USER_PASSWORD_AUTH" | "ADMIN_USER_PASSWORD_AUTH" => {
            password_auth(inner, ctx, &pool_id, &input, params).await
        }
        "USER_SRP_AUTH" => srp_start(inner, &pool_id, &input, params),
        "REFRESH_TOKEN_AUTH" => refresh(inner, ctx, &pool_id, &input.client_id, params).await,
        _ => crate::custom_auth::initiate(inner, ctx, &pool_id, &input, params).await,
    }
}

pub(crate) async fn pre_authentication(
    inner: &Inner,
    pool_id: &str,
    client_id: &str,
    username: &str,
    metadata: &Option<Value>,
) -> Result<()> {
    let call = inner.read_any(pool_id, |p| {
        Ok(p.users.get(username).and_then(|u| {
            Call::of(p, "PreAuthentication", Some(client_id)).map(|c| (c, triggers::attributes(u)))
        }))
    })?;
    if let Some((call, attrs)) = call {
        let request = json!({"userAttributes": attrs, "validationData": {}, "userNotFound": false, "clientMetadata": metadata.clone().unwrap_or(json!({}))});
        triggers::invoke(
            inner,
            &call,
            "PreAuthentication",
            "PreAuthentication_Authentication",
            username,
            request,
            json!({}),
        )
        .await?;
    }
    Ok(())
}

pub(crate) async fn password_auth(
    inner: &Inner,
    ctx: &RequestContext,
    pool_id: &str,
    input: &InitiateAuthInput,
    params: &BTreeMap<String, String>,
) -> Result<Value> {
    let given = params.get("USERNAME").ok_or_else(|| missing("USERNAME"))?;
    let pw = params.get("PASSWORD").ok_or_else(|| missing("PASSWORD"))?;
    let username = password_sign_in(
        inner,
        pool_id,
        &input.client_id,
        given,
        pw,
        Some(params.get("SECRET_HASH").map(String::as_str)),
        &input.client_metadata,
    )
    .await?;
    next_step(inner, ctx, pool_id, &input.client_id, &username).await
}

/// Proves a username and password: lockout, the UserMigration trigger for unknown users,
/// PreAuthentication, then the user's state. `secret_hash` is `None` when the caller has
/// authenticated the client otherwise (the hosted UI). Returns the internal username.
pub(crate) async fn password_sign_in(
    inner: &Inner,
    pool_id: &str,
    client_id: &str,
    given: &str,
    pw: &str,
    secret_hash: Option<Option<&str>>,
    metadata: &Option<Value>,
) -> Result<String> {
    let found = inner.read_any(pool_id, |p| {
        if let Some(hash) = secret_hash {
            check_secret_hash(p, client_id, hash, &[given])?;
        }
        match find_username(p, given) {
            Some(name) => {
                check_locked(&p.users[&name])?;
                Ok(Some(name))
            }
            None => Ok(None),
        }
    })?;
    let username = match found {
        Some(name) => name,
        None => {
            let hides = inner.read_any(pool_id, |p| Ok(crate::users::hides_users(p, client_id)))?;
            let reason = crate::migration::Reason::Authentication(pw);
            match crate::migration::migrate(
                inner,
                pool_id,
                client_id,
                given,
                reason,
                metadata.as_ref(),
            )
            .await
            {
                Ok(Some(name)) => name,
                Ok(None) => {
                    return Err(inner.read_any(pool_id, |p| Ok(unknown_user(p, client_id)))?);
                }
                Err(e) if hides && e.code == "UserNotFoundException" => {
                    return Err(bad_credentials());
                }
                Err(e) => return Err(e),
            }
        }
    };
    pre_authentication(inner, pool_id, client_id, &username, metadata).await?;
    let outcome = inner
        .mutate_any(pool_id, |p| {
            let id = p.id.clone();
            let u = p.users.get_mut(&username).ok_or_else(user_not_found)?;
            check_locked(u)?;
            let ok = u
                .password
                .as_ref()
                .is_some_and(|s| password::matches(&id, &username, s, pw));
            if !ok {
                record_failure(u);
                return Ok((Err(bad_credentials()), vec![Record::User(username.clone())]));
            }
            let r = after_password(u);
            Ok((r, vec![Record::User(username.clone())]))
        })
        .await?;
    outcome?;
    Ok(username)
}

pub(crate) fn srp_start(
    inner: &Inner,
    pool_id: &str,
    input: &InitiateAuthInput,
    params: &BTreeMap<String, String>,
) -> Result<Value> {
    let given = params.get("USERNAME").ok_or_else(|| missing("USERNAME"))?;
    let a_hex = params.get("SRP_A").ok_or_else(|| missing("SRP_A"))?;
    let a_pub = BigUint::parse_bytes(a_hex.as_bytes(), 16)
        .ok_or_else(|| invalid("SRP_A is not a valid hex number"))?;
    if (&a_pub % &srp::group().n) == BigUint::from(0u32) {
        return Err(Code::NotAuthorizedException.msg("Incorrect username or password."));
    }
    let (username, salt, verifier, ttl) = inner.read_any(pool_id, |p| {
        check_secret_hash(
            p,
            &input.client_id,
            params.get("SECRET_HASH").map(String::as_str),
            &[given],
        )?;
        let name = find_username(p, given).ok_or_else(|| unknown_user(p, &input.client_id))?;
        let u = &p.users[&name];
        check_locked(u)?;
        let pw = u.password.clone().ok_or_else(bad_credentials)?;
        Ok((name, pw.salt, pw.verifier, session_ttl(p, &input.client_id)))
    })?;
    let v = BigUint::parse_bytes(verifier.as_bytes(), 16)
        .ok_or_else(|| aloft_core::AwsError::internal("bad verifier"))?;
    let mut b_bytes = [0u8; 128];
    rand::fill(&mut b_bytes);
    let b = BigUint::from_bytes_be(&b_bytes);
    let b_pub = srp::server_public(&v, &b);
    let mut block = [0u8; 64];
    rand::fill(&mut block);
    let secret_block = STANDARD.encode(block);
    let session = Session {
        pool_id: pool_id.to_string(),
        client_id: input.client_id.clone(),
        username: username.clone(),
        challenge: "PASSWORD_VERIFIER".into(),
        expires: ttl,
        srp: Some((
            b.to_str_radix(16),
            b_pub.to_str_radix(16),
            a_pub.to_str_radix(16),
        )),
        sms_code: None,
        setup_secret: None,
        setup_verified: false,
        custom: None,
    };
    // Cognito names the challenge by its SECRET_BLOCK; clients send it back with the claim.
    inner
        .sessions
        .lock()
        .expect("sessions lock")
        .insert(format!("srp:{secret_block}"), session);
    Ok(json!({
        "ChallengeName": "PASSWORD_VERIFIER",
        "ChallengeParameters": {
            "SALT": salt,
            "SECRET_BLOCK": secret_block,
            "SRP_B": b_pub.to_str_radix(16),
            "USERNAME": username,
            "USER_ID_FOR_SRP": username,
        }
    }))
}

pub(crate) async fn refresh(
    inner: &Inner,
    ctx: &RequestContext,
    pool_id: &str,
    client_id: &str,
    params: &BTreeMap<String, String>,
) -> Result<Value> {
    let token = params
        .get("REFRESH_TOKEN")
        .ok_or_else(|| missing("REFRESH_TOKEN"))?;
    let invalid_token = || Code::NotAuthorizedException.msg("Invalid Refresh Token");
    let claims = inner.read_any(pool_id, |p| {
        let secret = hex::decode(&p.refresh_secret).unwrap_or_default();
        let c = tokens::check_refresh_token(&secret, token).ok_or_else(invalid_token)?;
        if c.pool != p.id || c.client != client_id {
            return Err(invalid_token());
        }
        let u = p
            .users
            .get(&c.username)
            .ok_or_else(|| Code::NotAuthorizedException.msg("User does not exist."))?;
        check_secret_hash(
            p,
            client_id,
            params.get("SECRET_HASH").map(String::as_str),
            &[
                &c.username,
                u.sub(),
                params.get("USERNAME").map_or("", String::as_str),
            ],
        )?;
        if c.exp * 1000 <= clock::now_millis() {
            return Err(Code::NotAuthorizedException.msg("Refresh Token has expired"));
        }
        if check_not_revoked(u, &c.origin_jti).is_err() {
            return Err(Code::NotAuthorizedException.msg("Refresh Token has been revoked"));
        }
        if !u.enabled {
            return Err(Code::NotAuthorizedException.msg("User is disabled."));
        }
        Ok(c)
    })?;
    let result = issue_tokens(
        inner,
        ctx,
        pool_id,
        client_id,
        &claims.username,
        Some(&claims),
        "TokenGeneration_RefreshTokens",
    )
    .await?;
    Ok(json!({"ChallengeParameters": {}, "AuthenticationResult": result}))
}

/// After a proven password: NEW_PASSWORD_REQUIRED, an MFA challenge, or tokens.
pub(crate) async fn next_step(
    inner: &Inner,
    ctx: &RequestContext,
    pool_id: &str,
    client_id: &str,
    username: &str,
) -> Result<Value> {
    enum Next {
        NewPassword(Value),
        Totp,
        Sms(String, String),
        Email(String, String),
        Setup,
        Tokens,
    }
    let (next, ttl) = inner.read_any(pool_id, |p| {
        let u = p.users.get(username).ok_or_else(user_not_found)?;
        let ttl = session_ttl(p, client_id);
        if u.status == UserStatus::FORCE_CHANGE_PASSWORD {
            let mut attrs = Map::new();
            for (k, v) in &u.attributes {
                if k != "sub" {
                    attrs.insert(k.clone(), v.clone().into());
                }
            }
            return Ok((Next::NewPassword(Value::Object(attrs)), ttl));
        }
        let mode = p.mfa_configuration();
        let has_sms = u.mfa.sms_enabled && u.attributes.contains_key("phone_number");
        let has_email = u.mfa.email_enabled && u.attributes.contains_key("email");
        let wants_mfa =
            mode == "ON" || (mode == "OPTIONAL" && (u.mfa.totp_enabled || has_sms || has_email));
        if !wants_mfa {
            return Ok((Next::Tokens, ttl));
        }
        let sms = || {
            let phone = u.attributes["phone_number"].clone();
            let masked = codes::mask("phone_number", &phone);
            Next::Sms(phone, masked)
        };
        let email = || {
            let to = u.attributes["email"].clone();
            let masked = codes::mask("email", &to);
            Next::Email(to, masked)
        };
        // The preferred factor first, then TOTP, SMS, email.
        let next = match u.mfa.preferred.as_deref() {
            Some("EMAIL_OTP") if has_email => email(),
            Some("SMS_MFA") if has_sms => sms(),
            _ if u.mfa.totp_enabled => Next::Totp,
            _ if has_sms => sms(),
            _ if has_email => email(),
            _ if mode == "ON" && u.mfa.totp_secret.is_some() => Next::Totp,
            _ if mode == "ON" => Next::Setup,
            _ => Next::Tokens,
        };
        Ok((next, ttl))
    })?;
    let session = |challenge: &str, sms_code: Option<String>| Session {
        pool_id: pool_id.to_string(),
        client_id: client_id.to_string(),
        username: username.to_string(),
        challenge: challenge.to_string(),
        expires: ttl,
        srp: None,
        sms_code,
        setup_secret: None,
        setup_verified: false,
        custom: None,
    };
    match next {
        Next::Tokens => {
            let result = issue_tokens(
                inner,
                ctx,
                pool_id,
                client_id,
                username,
                None,
                "TokenGeneration_Authentication",
            )
            .await?;
            Ok(json!({"ChallengeParameters": {}, "AuthenticationResult": result}))
        }
        Next::NewPassword(attrs) => {
            let id = new_session(inner, session("NEW_PASSWORD_REQUIRED", None));
            Ok(
                json!({"ChallengeName": "NEW_PASSWORD_REQUIRED", "Session": id, "ChallengeParameters": {
                    "USER_ID_FOR_SRP": username, "requiredAttributes": "[]", "userAttributes": attrs.to_string(),
                }}),
            )
        }
        Next::Totp => {
            let id = new_session(inner, session("SOFTWARE_TOKEN_MFA", None));
            Ok(
                json!({"ChallengeName": "SOFTWARE_TOKEN_MFA", "Session": id, "ChallengeParameters": {"USER_ID_FOR_SRP": username}}),
            )
        }
        Next::Sms(phone, masked) => {
            let code = ids::random_string(6, b"0123456789");
            codes::record(
                inner,
                pool_id,
                username,
                "mfa:sms",
                &code,
                Some(&("phone_number".to_string(), phone)),
            );
            codes::custom_message(
                inner,
                pool_id,
                username,
                "mfa:sms",
                "CustomMessage_Authentication",
                Some(client_id),
                None,
            )
            .await?;
            let id = new_session(inner, session("SMS_MFA", Some(code)));
            Ok(
                json!({"ChallengeName": "SMS_MFA", "Session": id, "ChallengeParameters": {
                    "CODE_DELIVERY_DELIVERY_MEDIUM": "SMS", "CODE_DELIVERY_DESTINATION": masked, "USER_ID_FOR_SRP": username,
                }}),
            )
        }
        Next::Email(to, masked) => {
            let code = ids::random_string(6, b"0123456789");
            codes::record(
                inner,
                pool_id,
                username,
                "mfa:email",
                &code,
                Some(&("email".to_string(), to)),
            );
            codes::custom_message(
                inner,
                pool_id,
                username,
                "mfa:email",
                "CustomMessage_Authentication",
                Some(client_id),
                None,
            )
            .await?;
            let id = new_session(inner, session("EMAIL_OTP", Some(code)));
            Ok(
                json!({"ChallengeName": "EMAIL_OTP", "Session": id, "ChallengeParameters": {
                    "CODE_DELIVERY_DELIVERY_MEDIUM": "EMAIL", "CODE_DELIVERY_DESTINATION": masked, "USER_ID_FOR_SRP": username,
                }}),
            )
        }
        Next::Setup => {
            let id = new_session(inner, session("MFA_SETUP", None));
            Ok(
                json!({"ChallengeName": "MFA_SETUP", "Session": id, "ChallengeParameters": {"MFAS_CAN_SETUP": "[\"SOFTWARE_TOKEN_MFA\"]"}}),
            )
        }
    }
}

pub use crate::challenges::respond_to_auth_challenge;
pub use crate::issue::{Grant, issue_tokens, issue_tokens_with};
