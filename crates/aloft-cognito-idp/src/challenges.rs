//! RespondToAuthChallenge: PASSWORD_VERIFIER (SRP), NEW_PASSWORD_REQUIRED, the MFA challenges,
//! MFA_SETUP and CUSTOM_CHALLENGE.

use std::collections::BTreeMap;

use aloft_core::{RequestContext, clock};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rsa::BigUint;
use serde_json::{Value, json};

use crate::access::check_secret_hash;
use crate::auth::*;
use crate::error::{Code, Result, bad_credentials, invalid, user_not_found};
use crate::model::UserStatus;
use crate::password;
use crate::srp;
use crate::state::{Inner, Record};
use crate::totp;

pub async fn respond_to_auth_challenge(
    inner: &Inner,
    ctx: &RequestContext,
    input: RespondInput,
    admin: bool,
) -> Result<Value> {
    let pool_id = resolve_pool(
        inner,
        ctx,
        &input.client_id,
        input.user_pool_id.as_deref(),
        admin,
    )?;
    let r = &input.challenge_responses;
    match input.challenge_name.as_str() {
        "PASSWORD_VERIFIER" => password_verifier(inner, ctx, &pool_id, &input).await,
        "NEW_PASSWORD_REQUIRED" => {
            let s = take_session(inner, input.session.as_deref(), &input.client_id)?;
            let new_pw = r
                .get("NEW_PASSWORD")
                .ok_or_else(|| missing("NEW_PASSWORD"))?;
            check_challenge(&s, "NEW_PASSWORD_REQUIRED")?;
            let mut attrs = BTreeMap::new();
            for (k, v) in r {
                if let Some(name) = k.strip_prefix("userAttributes.") {
                    attrs.insert(name.to_string(), v.clone());
                }
            }
            inner
                .mutate_any(&pool_id, |p| {
                    check_secret_hash(
                        p,
                        &input.client_id,
                        r.get("SECRET_HASH").map(String::as_str),
                        &[&s.username, r.get("USERNAME").map_or("", String::as_str)],
                    )?;
                    password::check_policy(p, new_pw)?;
                    let id = p.id.clone();
                    let u = p.users.get_mut(&s.username).ok_or_else(user_not_found)?;
                    u.password = Some(password::make(&id, &s.username, new_pw, None));
                    u.status = UserStatus::CONFIRMED;
                    u.attributes.extend(attrs);
                    u.modified = clock::now_secs_f64();
                    Ok(((), vec![Record::User(s.username.clone())]))
                })
                .await?;
            end_session(inner, input.session.as_deref());
            next_step(inner, ctx, &pool_id, &input.client_id, &s.username).await
        }
        "SOFTWARE_TOKEN_MFA" => {
            let s = take_session(inner, input.session.as_deref(), &input.client_id)?;
            check_challenge(&s, "SOFTWARE_TOKEN_MFA")?;
            let code = r
                .get("SOFTWARE_TOKEN_MFA_CODE")
                .ok_or_else(|| missing("SOFTWARE_TOKEN_MFA_CODE"))?;
            let secret = inner.read_any(&pool_id, |p| {
                Ok(p.users
                    .get(&s.username)
                    .and_then(|u| u.mfa.totp_secret.clone()))
            })?;
            if !secret.is_some_and(|sec| totp::verify(&sec, code, clock::now_secs())) {
                return Err(Code::CodeMismatchException.msg("Invalid code received for user"));
            }
            finish_mfa(inner, ctx, &pool_id, &input, &s).await
        }
        "SMS_MFA" => {
            let s = take_session(inner, input.session.as_deref(), &input.client_id)?;
            check_challenge(&s, "SMS_MFA")?;
            let code = r
                .get("SMS_MFA_CODE")
                .ok_or_else(|| missing("SMS_MFA_CODE"))?;
            if s.sms_code.as_deref() != Some(code.as_str()) {
                return Err(Code::CodeMismatchException.msg("Invalid code received for user"));
            }
            finish_mfa(inner, ctx, &pool_id, &input, &s).await
        }
        "EMAIL_OTP" => {
            let s = take_session(inner, input.session.as_deref(), &input.client_id)?;
            check_challenge(&s, "EMAIL_OTP")?;
            let code = r
                .get("EMAIL_OTP_CODE")
                .ok_or_else(|| missing("EMAIL_OTP_CODE"))?;
            if s.sms_code.as_deref() != Some(code.as_str()) {
                return Err(Code::CodeMismatchException.msg("Invalid code received for user"));
            }
            finish_mfa(inner, ctx, &pool_id, &input, &s).await
        }
        "MFA_SETUP" => {
            let s = take_session(inner, input.session.as_deref(), &input.client_id)?;
            check_challenge(&s, "MFA_SETUP")?;
            if !s.setup_verified {
                return Err(Code::NotAuthorizedException.msg("Invalid session for the user."));
            }
            finish_mfa(inner, ctx, &pool_id, &input, &s).await
        }
        "CUSTOM_CHALLENGE" => crate::custom_auth::respond(inner, ctx, &pool_id, &input).await,
        other => Err(invalid(format!("Unsupported challenge name: {other}"))),
    }
}

pub(crate) fn check_challenge(s: &Session, name: &str) -> Result<()> {
    if s.challenge == name {
        Ok(())
    } else {
        Err(Code::NotAuthorizedException.msg("Invalid session for the user."))
    }
}

pub(crate) fn end_session(inner: &Inner, id: Option<&str>) {
    if let Some(id) = id {
        inner.sessions.lock().expect("sessions lock").remove(id);
    }
}

pub(crate) async fn finish_mfa(
    inner: &Inner,
    ctx: &RequestContext,
    pool_id: &str,
    input: &RespondInput,
    s: &Session,
) -> Result<Value> {
    end_session(inner, input.session.as_deref());
    let result = issue_tokens(
        inner,
        ctx,
        pool_id,
        &input.client_id,
        &s.username,
        None,
        "TokenGeneration_Authentication",
    )
    .await?;
    Ok(json!({"ChallengeParameters": {}, "AuthenticationResult": result}))
}

pub(crate) async fn password_verifier(
    inner: &Inner,
    ctx: &RequestContext,
    pool_id: &str,
    input: &RespondInput,
) -> Result<Value> {
    let r = &input.challenge_responses;
    let block = r
        .get("PASSWORD_CLAIM_SECRET_BLOCK")
        .ok_or_else(|| missing("PASSWORD_CLAIM_SECRET_BLOCK"))?;
    let signature = r
        .get("PASSWORD_CLAIM_SIGNATURE")
        .ok_or_else(|| missing("PASSWORD_CLAIM_SIGNATURE"))?;
    let timestamp = r.get("TIMESTAMP").ok_or_else(|| missing("TIMESTAMP"))?;
    let key = format!("srp:{block}");
    let s = take_session(inner, Some(&key), &input.client_id)?;
    inner.sessions.lock().expect("sessions lock").remove(&key);
    // The client's own clock writes TIMESTAMP; only its format is checked, so tests that move
    // Aloft's clock still sign in.
    if srp::parse_timestamp(timestamp).is_none() {
        return Err(invalid("TIMESTAMP format is invalid"));
    }
    let (b, b_pub, a_pub) = s
        .srp
        .clone()
        .ok_or_else(|| Code::NotAuthorizedException.msg("Invalid session for the user."))?;
    pre_authentication(inner, pool_id, &input.client_id, &s.username, &None).await?;
    let outcome = inner
        .mutate_any(pool_id, |p| {
            check_secret_hash(
                p,
                &input.client_id,
                r.get("SECRET_HASH").map(String::as_str),
                &[r.get("USERNAME").map_or("", String::as_str), &s.username],
            )?;
            let id = p.id.clone();
            let u = p.users.get_mut(&s.username).ok_or_else(bad_credentials)?;
            check_locked(u)?;
            let num = |h: &str| BigUint::parse_bytes(h.as_bytes(), 16).unwrap_or_default();
            let pw = u.password.clone().ok_or_else(bad_credentials)?;
            let ok = match (STANDARD.decode(block), STANDARD.decode(signature)) {
                (Ok(blk), Ok(sig)) => srp::verify_claim(
                    srp::pool_name(&id),
                    &s.username,
                    &num(&pw.verifier),
                    &num(&b),
                    &num(&b_pub),
                    &num(&a_pub),
                    &blk,
                    timestamp,
                    &sig,
                ),
                _ => false,
            };
            if !ok {
                record_failure(u);
                return Ok((
                    Err(bad_credentials()),
                    vec![Record::User(s.username.clone())],
                ));
            }
            Ok((after_password(u), vec![Record::User(s.username.clone())]))
        })
        .await?;
    outcome?;
    next_step(inner, ctx, pool_id, &input.client_id, &s.username).await
}
