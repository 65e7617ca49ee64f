//! Admin* user management: get, delete, enable/disable, passwords, confirmation, attributes,
//! reset and global sign-out.

use std::collections::BTreeMap;

use aloft_core::{RequestContext, clock};
use serde_json::{Map, Value, json};

use crate::access::find_username;
use crate::codes;
use crate::error::{Code, Result, user_not_found};
use crate::model::{Pool, User, UserStatus};
use crate::password;
use crate::state::{Inner, Record};
use crate::users::*;

/// The internal username an admin operation names (username or alias).
pub(crate) fn admin_find(pool: &Pool, name: &str) -> Result<String> {
    find_username(pool, name).ok_or_else(user_not_found)
}

pub fn admin_get_user(inner: &Inner, ctx: &RequestContext, input: AdminUserInput) -> Result<Value> {
    inner.read(ctx, &input.user_pool_id, |pool| {
        let u = &pool.users[&admin_find(pool, &input.username)?];
        let mut out = Map::new();
        out.insert("Username".into(), u.username.clone().into());
        out.insert("UserAttributes".into(), u.attribute_list(None));
        out.insert("UserCreateDate".into(), u.created.into());
        out.insert("UserLastModifiedDate".into(), u.modified.into());
        out.insert("Enabled".into(), u.enabled.into());
        out.insert("UserStatus".into(), u.status.as_str().into());
        u.mfa_members(&mut out);
        Ok(Value::Object(out))
    })
}

pub async fn admin_delete_user(
    inner: &Inner,
    ctx: &RequestContext,
    input: AdminUserInput,
) -> Result<Value> {
    inner
        .mutate(ctx, &input.user_pool_id, |pool| {
            let name = admin_find(pool, &input.username)?;
            pool.users.remove(&name);
            Ok((json!({}), vec![Record::User(name)]))
        })
        .await
}

/// Runs `f` on the user an admin operation names and journals it.
pub(crate) async fn admin_change(
    inner: &Inner,
    ctx: &RequestContext,
    pool_id: &str,
    username: &str,
    f: impl FnOnce(&Inner, &str, &[String], &mut User) -> Result<Value>,
) -> Result<Value> {
    inner
        .mutate(ctx, pool_id, |pool| {
            let name = admin_find(pool, username)?;
            let auto = pool.setting_list("AutoVerifiedAttributes");
            let id = pool.id.clone();
            let user = pool.users.get_mut(&name).ok_or_else(user_not_found)?;
            let out = f(inner, &id, &auto, user)?;
            user.modified = clock::now_secs_f64();
            Ok((out, vec![Record::User(name)]))
        })
        .await
}

pub async fn admin_set_enabled(
    inner: &Inner,
    ctx: &RequestContext,
    input: AdminUserInput,
    enabled: bool,
) -> Result<Value> {
    admin_change(
        inner,
        ctx,
        &input.user_pool_id,
        &input.username,
        |_, _, _, u| {
            u.enabled = enabled;
            if !enabled {
                u.revoke(None);
            }
            Ok(json!({}))
        },
    )
    .await
}

pub async fn admin_set_user_password(
    inner: &Inner,
    ctx: &RequestContext,
    input: AdminSetUserPasswordInput,
) -> Result<Value> {
    inner.read(ctx, &input.user_pool_id, |pool| {
        password::check_policy(pool, &input.password)
    })?;
    admin_change(
        inner,
        ctx,
        &input.user_pool_id,
        &input.username,
        |_, pool_id, _, u| {
            let days = if input.permanent { None } else { Some(7) };
            u.password = Some(password::make(pool_id, &u.username, &input.password, days));
            u.status = if input.permanent {
                UserStatus::CONFIRMED
            } else {
                UserStatus::FORCE_CHANGE_PASSWORD
            };
            u.failed_attempts = 0;
            u.locked_until = 0;
            Ok(json!({}))
        },
    )
    .await
}

pub async fn admin_confirm_sign_up(
    inner: &Inner,
    ctx: &RequestContext,
    input: AdminUserInput,
) -> Result<Value> {
    admin_change(
        inner,
        ctx,
        &input.user_pool_id,
        &input.username,
        |_, _, _, u| {
            if u.status != UserStatus::UNCONFIRMED {
                return Err(Code::NotAuthorizedException.msg(format!(
                    "User cannot be confirmed. Current status is {}",
                    u.status.as_str()
                )));
            }
            u.status = UserStatus::CONFIRMED;
            u.codes.remove("signup");
            Ok(json!({}))
        },
    )
    .await
}

/// Applies attribute changes; a changed email/phone that the pool auto-verifies becomes
/// unverified and gets a code. Returns the `CodeDeliveryDetailsList`.
pub(crate) fn apply_attributes(
    inner: &Inner,
    pool_id: &str,
    auto: &[String],
    u: &mut User,
    attrs: BTreeMap<String, String>,
) -> Vec<Value> {
    let mut deliveries = Vec::new();
    for (k, v) in &attrs {
        let changed = u.attributes.get(k) != Some(v);
        u.attributes.insert(k.clone(), v.clone());
        if changed && (k == "email" || k == "phone_number") {
            let verified_given = attrs.contains_key(&format!("{k}_verified"));
            if !verified_given {
                u.attributes.insert(format!("{k}_verified"), "false".into());
                if auto.iter().any(|a| a == k) {
                    let to = (k.clone(), v.clone());
                    codes::issue(
                        inner,
                        pool_id,
                        u,
                        &format!("verify:{k}"),
                        CODE_TTL,
                        Some(&to),
                    );
                    deliveries.push(codes::delivery(k, v));
                }
            }
        }
    }
    deliveries
}

pub async fn admin_update_user_attributes(
    inner: &Inner,
    ctx: &RequestContext,
    input: AdminAttributesInput,
) -> Result<Value> {
    let attrs = inner.read(ctx, &input.user_pool_id, |pool| {
        let name = admin_find(pool, &input.username)?;
        let attrs = check_attributes(pool, &input.user_attributes, false, pool.users.get(&name))?;
        for attr in ["email", "phone_number"] {
            if let Some(v) = attrs.get(attr)
                && !pool.setting_list("UsernameAttributes").is_empty()
                && alias_taken(pool, attr, v, Some(&name))
            {
                return Err(Code::AliasExistsException
                    .msg(format!("An account with the given {attr} already exists.")));
            }
        }
        Ok(attrs)
    })?;
    admin_change(
        inner,
        ctx,
        &input.user_pool_id,
        &input.username,
        |inner, pool_id, auto, u| {
            apply_attributes(inner, pool_id, auto, u, attrs);
            Ok(json!({}))
        },
    )
    .await
}

pub(crate) fn delete_attributes(u: &mut User, names: &[String], pool: Option<&Pool>) -> Result<()> {
    for n in names {
        if n == "sub" {
            return Err(schema_error(
                n,
                "Attribute cannot be updated. (changing an immutable attribute)",
            ));
        }
        if let Some(p) = pool
            && schema_names(p)
                .iter()
                .any(|(name, required, _)| name == n && *required)
        {
            return Err(schema_error(n, "The attribute is required"));
        }
        u.attributes.remove(n);
    }
    Ok(())
}

pub async fn admin_delete_user_attributes(
    inner: &Inner,
    ctx: &RequestContext,
    input: AdminAttributesInput,
) -> Result<Value> {
    let pool = inner.read(ctx, &input.user_pool_id, |p| Ok(p.clone()))?;
    admin_change(
        inner,
        ctx,
        &input.user_pool_id,
        &input.username,
        |_, _, _, u| {
            delete_attributes(u, &input.user_attribute_names, Some(&pool))?;
            Ok(json!({}))
        },
    )
    .await
}

pub async fn admin_reset_user_password(
    inner: &Inner,
    ctx: &RequestContext,
    input: AdminUserInput,
) -> Result<Value> {
    admin_change(
        inner,
        ctx,
        &input.user_pool_id,
        &input.username,
        |inner, pool_id, _, u| {
            let to = codes::destination(u, &[]);
            u.status = UserStatus::RESET_REQUIRED;
            codes::issue(inner, pool_id, u, "forgot", FORGOT_TTL, to.as_ref());
            Ok(json!({}))
        },
    )
    .await
}

pub async fn admin_user_global_sign_out(
    inner: &Inner,
    ctx: &RequestContext,
    input: AdminUserInput,
) -> Result<Value> {
    admin_change(
        inner,
        ctx,
        &input.user_pool_id,
        &input.username,
        |_, _, _, u| {
            u.revoke(None);
            Ok(json!({}))
        },
    )
    .await
}
