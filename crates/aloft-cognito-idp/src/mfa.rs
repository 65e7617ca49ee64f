//! MFA: TOTP software tokens (Associate/VerifySoftwareToken), user preferences, and the pool's
//! MFA configuration.

use aloft_core::{RequestContext, clock};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::access::{authenticate, find_username};
use crate::error::{Code, Result, invalid, user_not_found};
use crate::model::User;
use crate::state::{Inner, Record};
use crate::totp;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SoftwareTokenInput {
    access_token: Option<String>,
    session: Option<String>,
    user_code: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PreferenceInput {
    access_token: Option<String>,
    user_pool_id: Option<String>,
    username: Option<String>,
    #[serde(rename = "SMSMfaSettings")]
    sms_mfa_settings: Option<Setting>,
    software_token_mfa_settings: Option<Setting>,
    email_mfa_settings: Option<Setting>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "PascalCase")]
pub struct Setting {
    enabled: Option<bool>,
    preferred_mfa: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PoolIdInput {
    user_pool_id: String,
}

fn new_secret() -> String {
    let mut raw = [0u8; 32];
    rand::fill(&mut raw);
    totp::base32(&raw)
}

pub async fn associate_software_token(inner: &Inner, input: SoftwareTokenInput) -> Result<Value> {
    let secret = new_secret();
    if let Some(token) = &input.access_token {
        let caller = authenticate(inner, token).await?;
        inner
            .mutate_any(&caller.pool_id, |p| {
                let u = p
                    .users
                    .get_mut(&caller.username)
                    .ok_or_else(user_not_found)?;
                u.mfa.pending_secret = Some(secret.clone());
                Ok(((), vec![Record::User(caller.username.clone())]))
            })
            .await?;
        return Ok(json!({"SecretCode": secret}));
    }
    let id = input
        .session
        .ok_or_else(|| invalid("Either AccessToken or Session must be provided"))?;
    let mut sessions = inner.sessions.lock().expect("sessions lock");
    let s = sessions
        .get_mut(&id)
        .filter(|s| s.challenge == "MFA_SETUP" && s.expires > clock::now_millis())
        .ok_or_else(|| {
            Code::NotAuthorizedException.msg("Invalid session for the user, session is expired.")
        })?;
    s.setup_secret = Some(secret.clone());
    Ok(json!({"SecretCode": secret, "Session": id}))
}

fn enable_totp(u: &mut User, secret: String) {
    u.mfa.totp_secret = Some(secret);
    u.mfa.pending_secret = None;
}

pub async fn verify_software_token(inner: &Inner, input: SoftwareTokenInput) -> Result<Value> {
    let code = input.user_code.clone().unwrap_or_default();
    let mismatch = || {
        Code::EnableSoftwareTokenMFAException
            .msg("Code mismatch and fail enable Software Token MFA mode")
    };
    if let Some(token) = &input.access_token {
        let caller = authenticate(inner, token).await?;
        return inner
            .mutate_any(&caller.pool_id, |p| {
                let u = p
                    .users
                    .get_mut(&caller.username)
                    .ok_or_else(user_not_found)?;
                let secret = u.mfa.pending_secret.clone().ok_or_else(|| {
                    Code::SoftwareTokenMFANotFoundException
                        .msg("Software Token MFA has not been associated with the user.")
                })?;
                if !totp::verify(&secret, &code, clock::now_secs()) {
                    return Err(mismatch());
                }
                enable_totp(u, secret);
                Ok((
                    json!({"Status": "SUCCESS"}),
                    vec![Record::User(caller.username.clone())],
                ))
            })
            .await;
    }
    let id = input
        .session
        .ok_or_else(|| invalid("Either AccessToken or Session must be provided"))?;
    let s = {
        let sessions = inner.sessions.lock().expect("sessions lock");
        sessions
            .get(&id)
            .filter(|s| s.challenge == "MFA_SETUP" && s.expires > clock::now_millis())
            .cloned()
            .ok_or_else(|| {
                Code::NotAuthorizedException
                    .msg("Invalid session for the user, session is expired.")
            })?
    };
    let secret = s.setup_secret.clone().ok_or_else(|| {
        Code::SoftwareTokenMFANotFoundException
            .msg("Software Token MFA has not been associated with the user.")
    })?;
    if !totp::verify(&secret, &code, clock::now_secs()) {
        return Err(mismatch());
    }
    inner
        .mutate_any(&s.pool_id, |p| {
            let u = p.users.get_mut(&s.username).ok_or_else(user_not_found)?;
            enable_totp(u, secret);
            // Set up during sign-in because the pool requires MFA: it is on from now.
            u.mfa.totp_enabled = true;
            u.mfa.preferred = Some("SOFTWARE_TOKEN_MFA".into());
            Ok(((), vec![Record::User(s.username.clone())]))
        })
        .await?;
    if let Some(s) = inner.sessions.lock().expect("sessions lock").get_mut(&id) {
        s.setup_verified = true;
    }
    Ok(json!({"Status": "SUCCESS", "Session": id}))
}

pub async fn set_user_mfa_preference(
    inner: &Inner,
    ctx: &RequestContext,
    input: PreferenceInput,
    admin: bool,
) -> Result<Value> {
    let (pool_id, username) = if admin {
        let pool_id = input.user_pool_id.clone().unwrap_or_default();
        let name = inner.read(ctx, &pool_id, |p| {
            find_username(p, input.username.as_deref().unwrap_or("")).ok_or_else(user_not_found)
        })?;
        (pool_id, name)
    } else {
        let caller = authenticate(inner, input.access_token.as_deref().unwrap_or("")).await?;
        (caller.pool_id, caller.username)
    };
    inner
        .mutate_any(&pool_id, |p| {
            let u = p.users.get_mut(&username).ok_or_else(user_not_found)?;
            let apply = |s: Option<Setting>,
                         enabled: &mut bool,
                         preferred: &mut Option<String>,
                         name: &str| {
                if let Some(s) = s {
                    if let Some(e) = s.enabled {
                        *enabled = e;
                        if !e && preferred.as_deref() == Some(name) {
                            *preferred = None;
                        }
                    }
                    if s.preferred_mfa == Some(true) {
                        *preferred = Some(name.to_string());
                    } else if s.preferred_mfa == Some(false) && preferred.as_deref() == Some(name) {
                        *preferred = None;
                    }
                }
            };
            if input.software_token_mfa_settings.and_then(|s| s.enabled) == Some(true)
                && u.mfa.totp_secret.is_none()
            {
                return Err(invalid("User has not verified software token mfa"));
            }
            if input.sms_mfa_settings.and_then(|s| s.enabled) == Some(true)
                && !u.attributes.contains_key("phone_number")
            {
                return Err(invalid(
                    "User does not have delivery config set to turn on SMS_MFA",
                ));
            }
            let mut preferred = u.mfa.preferred.clone();
            apply(
                input.software_token_mfa_settings,
                &mut u.mfa.totp_enabled,
                &mut preferred,
                "SOFTWARE_TOKEN_MFA",
            );
            apply(
                input.sms_mfa_settings,
                &mut u.mfa.sms_enabled,
                &mut preferred,
                "SMS_MFA",
            );
            apply(
                input.email_mfa_settings,
                &mut u.mfa.email_enabled,
                &mut preferred,
                "EMAIL_OTP",
            );
            u.mfa.preferred = preferred;
            Ok((json!({}), vec![Record::User(username.clone())]))
        })
        .await
}

pub async fn set_user_pool_mfa_config(
    inner: &Inner,
    ctx: &RequestContext,
    input: Value,
) -> Result<Value> {
    let pool_id = input
        .get("UserPoolId")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    inner
        .mutate(ctx, &pool_id, |p| {
            let mut out = json!({});
            for k in ["SmsMfaConfiguration", "SoftwareTokenMfaConfiguration", "EmailMfaConfiguration", "WebAuthnConfiguration"] {
                if let Some(v) = input.get(k) {
                    p.settings.insert(k.into(), v.clone());
                    out[k] = v.clone();
                }
            }
            if let Some(m) = input.get("MfaConfiguration").and_then(Value::as_str) {
                if !matches!(m, "OFF" | "ON" | "OPTIONAL") {
                    return Err(invalid(format!("1 validation error detected: Value '{m}' at 'mfaConfiguration' failed to satisfy constraint: Member must satisfy enum value set: [OFF, ON, OPTIONAL]")));
                }
                p.settings.insert("MfaConfiguration".into(), m.into());
            }
            out["MfaConfiguration"] = p.mfa_configuration().into();
            Ok((out, vec![Record::Pool]))
        })
        .await
}

pub fn get_user_pool_mfa_config(
    inner: &Inner,
    ctx: &RequestContext,
    input: PoolIdInput,
) -> Result<Value> {
    inner.read(ctx, &input.user_pool_id, |p| {
        let mut out = json!({"MfaConfiguration": p.mfa_configuration()});
        for k in [
            "SmsMfaConfiguration",
            "SoftwareTokenMfaConfiguration",
            "EmailMfaConfiguration",
            "WebAuthnConfiguration",
        ] {
            if let Some(v) = p.settings.get(k) {
                out[k] = v.clone();
            }
        }
        Ok(out)
    })
}
