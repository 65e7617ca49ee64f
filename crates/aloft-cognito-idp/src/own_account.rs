//! A signed-in user's own calls, made with an access token: GetUser, attributes and their
//! verification, DeleteUser, ChangePassword, ForgotPassword, GlobalSignOut, RevokeToken.

use aloft_core::clock;
use serde_json::{Map, Value, json};

use crate::access::{authenticate, check_secret_hash, find_username, pool_of_client};
use crate::admin_users::{apply_attributes, delete_attributes};
use crate::codes;
use crate::error::{Code, Result, bad_credentials, invalid, user_not_found};
use crate::model::{Pool, User, UserStatus};
use crate::password;
use crate::state::{Inner, Record};
use crate::tokens;
use crate::users::*;

pub(crate) async fn token_change(
    inner: &Inner,
    token: &str,
    f: impl FnOnce(&Inner, &Pool, &mut User) -> Result<Value>,
) -> Result<Value> {
    let caller = authenticate(inner, token).await?;
    inner
        .mutate_any(&caller.pool_id, |pool| {
            let mut user = pool
                .users
                .get(&caller.username)
                .cloned()
                .ok_or_else(user_not_found)?;
            let out = f(inner, pool, &mut user)?;
            user.modified = clock::now_secs_f64();
            pool.users.insert(caller.username.clone(), user);
            Ok((out, vec![Record::User(caller.username.clone())]))
        })
        .await
}

pub async fn get_user(inner: &Inner, input: TokenInput) -> Result<Value> {
    let caller = authenticate(inner, &input.access_token).await?;
    inner.read_any(&caller.pool_id, |pool| {
        let u = pool
            .users
            .get(&caller.username)
            .ok_or_else(user_not_found)?;
        let mut out = Map::new();
        out.insert("Username".into(), u.username.clone().into());
        out.insert("UserAttributes".into(), u.attribute_list(None));
        u.mfa_members(&mut out);
        Ok(Value::Object(out))
    })
}

pub async fn update_user_attributes(inner: &Inner, input: TokenInput) -> Result<Value> {
    token_change(inner, &input.access_token, |inner, pool, u| {
        let attrs = check_attributes(pool, &input.user_attributes, false, Some(u))?;
        let deliveries = apply_attributes(
            inner,
            &pool.id,
            &pool.setting_list("AutoVerifiedAttributes"),
            u,
            attrs,
        );
        Ok(if deliveries.is_empty() {
            json!({})
        } else {
            json!({"CodeDeliveryDetailsList": deliveries})
        })
    })
    .await
}

pub async fn delete_user_attributes(inner: &Inner, input: TokenInput) -> Result<Value> {
    token_change(inner, &input.access_token, |_, pool, u| {
        delete_attributes(u, &input.user_attribute_names, Some(pool))?;
        Ok(json!({}))
    })
    .await
}

pub async fn get_user_attribute_verification_code(
    inner: &Inner,
    input: TokenInput,
) -> Result<Value> {
    let attr = input.attribute_name.clone().ok_or_else(|| invalid("1 validation error detected: Value null at 'attributeName' failed to satisfy constraint: Member must not be null"))?;
    token_change(inner, &input.access_token, |inner, pool, u| {
        let v = u
            .attributes
            .get(&attr)
            .cloned()
            .ok_or_else(|| invalid(format!("No {attr} attribute is set for the user.")))?;
        if attr != "email" && attr != "phone_number" {
            return Err(invalid(format!("Verification of {attr} is not supported.")));
        }
        let to = (attr.clone(), v.clone());
        codes::issue(
            inner,
            &pool.id,
            u,
            &format!("verify:{attr}"),
            CODE_TTL,
            Some(&to),
        );
        Ok(json!({"CodeDeliveryDetails": codes::delivery(&attr, &v)}))
    })
    .await
}

pub async fn verify_user_attribute(inner: &Inner, input: TokenInput) -> Result<Value> {
    let attr = input.attribute_name.clone().unwrap_or_default();
    let code = input.code.clone().unwrap_or_default();
    token_change(inner, &input.access_token, |_, _, u| {
        take_code(u, &format!("verify:{attr}"), &code)?;
        u.attributes
            .insert(format!("{attr}_verified"), "true".into());
        Ok(json!({}))
    })
    .await
}

pub async fn delete_user(inner: &Inner, input: TokenInput) -> Result<Value> {
    let caller = authenticate(inner, &input.access_token).await?;
    inner
        .mutate_any(&caller.pool_id, |pool| {
            pool.users.remove(&caller.username);
            Ok((json!({}), vec![Record::User(caller.username.clone())]))
        })
        .await
}

pub async fn change_password(inner: &Inner, input: ChangePasswordInput) -> Result<Value> {
    token_change(inner, &input.access_token, |_, pool, u| {
        let ok = match (&u.password, &input.previous_password) {
            (Some(p), Some(prev)) => password::matches(&pool.id, &u.username, p, prev),
            _ => false,
        };
        if !ok {
            return Err(bad_credentials());
        }
        password::check_policy(pool, &input.proposed_password)?;
        u.password = Some(password::make(
            &pool.id,
            &u.username,
            &input.proposed_password,
            None,
        ));
        Ok(json!({}))
    })
    .await
}

pub async fn forgot_password(inner: &Inner, input: ClientUserInput) -> Result<Value> {
    let pool_id = pool_of_client(inner, &input.client_id)?;
    let (known, hides) = inner.read_any(&pool_id, |p| {
        check_secret_hash(
            p,
            &input.client_id,
            input.secret_hash.as_deref(),
            &[&input.username],
        )?;
        Ok((
            find_username(p, &input.username).is_some(),
            hides_users(p, &input.client_id),
        ))
    })?;
    if !known {
        let reason = crate::migration::Reason::ForgotPassword;
        match crate::migration::migrate(
            inner,
            &pool_id,
            &input.client_id,
            &input.username,
            reason,
            None,
        )
        .await
        {
            Ok(_) => {}
            // A hiding client answers as if a code went out; others say the user is unknown.
            Err(e) if hides && e.code == "UserNotFoundException" => {}
            Err(e) => return Err(e),
        }
    }
    let out = inner
        .mutate_any(&pool_id, |pool| {
            check_secret_hash(pool, &input.client_id, input.secret_hash.as_deref(), &[&input.username])?;
            let Some(name) = find_username(pool, &input.username) else {
                if hides_users(pool, &input.client_id) {
                    return Ok((json!({"CodeDeliveryDetails": codes::delivery("email", &input.username)}), vec![]));
                }
                return Err(Code::UserNotFoundException.msg("Username/client id combination not found."));
            };
            let id = pool.id.clone();
            let user = pool.users.get_mut(&name).ok_or_else(user_not_found)?;
            if !user.enabled {
                return Err(Code::NotAuthorizedException.msg("User is disabled."));
            }
            let verified = ["email", "phone_number"]
                .into_iter()
                .find(|a| user.attributes.contains_key(*a) && user.attributes.get(&format!("{a}_verified")).is_some_and(|v| v == "true"));
            let Some(attr) = verified else {
                return Err(invalid("Cannot reset password for the user as there is no registered/verified email or phone_number"));
            };
            let to = (attr.to_string(), user.attributes[attr].clone());
            codes::issue(inner, &id, user, "forgot", FORGOT_TTL, Some(&to));
            Ok((json!({"CodeDeliveryDetails": codes::delivery(&to.0, &to.1)}), vec![Record::User(name)]))
        })
        .await?;
    codes::custom_message(
        inner,
        &pool_id,
        &input.username,
        "forgot",
        "CustomMessage_ForgotPassword",
        Some(&input.client_id),
        None,
    )
    .await?;
    Ok(out)
}

pub async fn confirm_forgot_password(
    inner: &Inner,
    input: ConfirmForgotPasswordInput,
) -> Result<Value> {
    let pool_id = pool_of_client(inner, &input.client_id)?;
    inner
        .mutate_any(&pool_id, |pool| {
            check_secret_hash(
                pool,
                &input.client_id,
                input.secret_hash.as_deref(),
                &[&input.username],
            )?;
            let name = find_username(pool, &input.username)
                .ok_or_else(|| not_found_for_client(pool, &input.client_id))?;
            password::check_policy(pool, &input.password)?;
            let id = pool.id.clone();
            let user = pool.users.get_mut(&name).ok_or_else(user_not_found)?;
            take_code(user, "forgot", &input.confirmation_code)?;
            user.password = Some(password::make(&id, &name, &input.password, None));
            if matches!(
                user.status,
                UserStatus::RESET_REQUIRED | UserStatus::FORCE_CHANGE_PASSWORD
            ) {
                user.status = UserStatus::CONFIRMED;
            }
            user.failed_attempts = 0;
            user.locked_until = 0;
            user.modified = clock::now_secs_f64();
            Ok((json!({}), vec![Record::User(name)]))
        })
        .await
}

pub async fn global_sign_out(inner: &Inner, input: TokenInput) -> Result<Value> {
    token_change(inner, &input.access_token, |_, _, u| {
        u.revoke(None);
        Ok(json!({}))
    })
    .await
}

pub async fn revoke_token(inner: &Inner, input: RevokeTokenInput) -> Result<Value> {
    let bad = || Code::UnsupportedTokenTypeException.msg("Unsupported token type");
    let pool_id = tokens::refresh_pool(&input.token).ok_or_else(bad)?;
    inner
        .mutate_any(&pool_id, |pool| {
            let client = pool
                .clients
                .get(&input.client_id)
                .ok_or_else(|| crate::error::client_not_found(&input.client_id))?;
            if let Some(secret) = client.secret()
                && input.client_secret.as_deref() != Some(secret)
            {
                return Err(Code::NotAuthorizedException.msg(format!(
                    "Client {} is configured with secret but SECRET_HASH was not received",
                    input.client_id
                )));
            }
            let secret = hex::decode(&pool.refresh_secret).unwrap_or_default();
            let claims = tokens::check_refresh_token(&secret, &input.token).ok_or_else(bad)?;
            if claims.client != input.client_id {
                return Err(Code::NotAuthorizedException.msg("Token is not issued to this client"));
            }
            let Some(user) = pool.users.get_mut(&claims.username) else {
                return Ok((json!({}), vec![]));
            };
            user.revoke(Some(&claims.origin_jti));
            Ok((json!({}), vec![Record::User(claims.username.clone())]))
        })
        .await
}
