//! Users: sign-up and confirmation, Admin* management, attributes and their verification,
//! password changes and resets, sign-out, and ListUsers with its filter language.

use std::collections::BTreeMap;

use aloft_core::{RequestContext, clock};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::access::{authenticate, check_secret_hash, find_username, pool_of_client};
use crate::codes;
use crate::error::{Code, Result, bad_credentials, invalid, user_not_found};
use crate::model::{Pool, User, UserStatus};
use crate::password;
use crate::state::{Inner, Record};
use crate::tokens;
use crate::triggers::{self, Call};

#[derive(Deserialize, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct AttributeType {
    name: String,
    value: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SignUpInput {
    client_id: String,
    secret_hash: Option<String>,
    username: String,
    password: Option<String>,
    #[serde(default)]
    user_attributes: Vec<AttributeType>,
    #[serde(default)]
    validation_data: Vec<AttributeType>,
    client_metadata: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ConfirmSignUpInput {
    client_id: String,
    secret_hash: Option<String>,
    username: String,
    confirmation_code: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ClientUserInput {
    client_id: String,
    secret_hash: Option<String>,
    username: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AdminCreateUserInput {
    user_pool_id: String,
    username: String,
    #[serde(default)]
    user_attributes: Vec<AttributeType>,
    temporary_password: Option<String>,
    message_action: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AdminUserInput {
    user_pool_id: String,
    username: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AdminSetUserPasswordInput {
    user_pool_id: String,
    username: String,
    password: String,
    #[serde(default)]
    permanent: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AdminAttributesInput {
    user_pool_id: String,
    username: String,
    #[serde(default)]
    user_attributes: Vec<AttributeType>,
    #[serde(default)]
    user_attribute_names: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListUsersInput {
    user_pool_id: String,
    attributes_to_get: Option<Vec<String>>,
    limit: Option<i64>,
    pagination_token: Option<String>,
    filter: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TokenInput {
    access_token: String,
    #[serde(default)]
    user_attributes: Vec<AttributeType>,
    #[serde(default)]
    user_attribute_names: Vec<String>,
    attribute_name: Option<String>,
    code: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ChangePasswordInput {
    access_token: String,
    previous_password: Option<String>,
    proposed_password: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ConfirmForgotPasswordInput {
    client_id: String,
    secret_hash: Option<String>,
    username: String,
    confirmation_code: String,
    password: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RevokeTokenInput {
    token: String,
    client_id: String,
    client_secret: Option<String>,
}

const CODE_TTL: i64 = 24 * 3600;
const FORGOT_TTL: i64 = 3600;

fn schema_names(pool: &Pool) -> Vec<(String, bool, bool)> {
    pool.settings
        .get("SchemaAttributes")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|s| {
                    (
                        s["Name"].as_str().unwrap_or("").to_string(),
                        s.get("Required").and_then(Value::as_bool).unwrap_or(false),
                        s.get("Mutable").and_then(Value::as_bool).unwrap_or(true),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn schema_error(name: &str, why: &str) -> aloft_core::AwsError {
    invalid(format!(
        "Attributes did not conform to the schema: {name}: {why}"
    ))
}

/// Checks attributes against the pool's schema; `creating` also checks required ones.
fn check_attributes(
    pool: &Pool,
    attrs: &[AttributeType],
    creating: bool,
    existing: Option<&User>,
) -> Result<BTreeMap<String, String>> {
    let schema = schema_names(pool);
    let mut out = BTreeMap::new();
    for a in attrs {
        let Some((_, _, mutable)) = schema.iter().find(|(n, _, _)| n == &a.name) else {
            return Err(schema_error(
                &a.name,
                "Attribute does not exist in the schema.",
            ));
        };
        if a.name == "sub"
            || (!mutable && existing.is_some_and(|u| u.attributes.contains_key(&a.name)))
        {
            return Err(schema_error(
                &a.name,
                "Attribute cannot be updated. (changing an immutable attribute)",
            ));
        }
        let v = a.value.clone().unwrap_or_default();
        if a.name == "email" && !(v.contains('@') && !v.starts_with('@') && !v.ends_with('@')) {
            return Err(invalid("Invalid email address format."));
        }
        if a.name == "phone_number"
            && !(v.starts_with('+') && v.len() > 4 && v[1..].bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(invalid("Invalid phone number format."));
        }
        if a.name.ends_with("_verified") && v != "true" && v != "false" {
            return Err(schema_error(&a.name, "Attribute value must be a boolean."));
        }
        out.insert(a.name.clone(), v);
    }
    if creating {
        for (name, required, _) in &schema {
            if *required && name != "sub" && !out.contains_key(name) {
                return Err(schema_error(name, "The attribute is required"));
            }
        }
    }
    Ok(out)
}

fn new_user(username: String, attributes: BTreeMap<String, String>, status: UserStatus) -> User {
    let now = clock::now_secs_f64();
    let mut user = User {
        username,
        attributes,
        status,
        enabled: true,
        created: now,
        modified: now,
        password: None,
        groups: Default::default(),
        mfa: Default::default(),
        codes: Default::default(),
        failed_attempts: 0,
        locked_until: 0,
        active: Default::default(),
        revoked: Default::default(),
    };
    // In pools that sign in by email or phone, the generated username is the sub itself.
    let sub = if uuid::Uuid::parse_str(&user.username).is_ok() {
        user.username.clone()
    } else {
        uuid::Uuid::new_v4().to_string()
    };
    user.attributes.insert("sub".into(), sub);
    user
}

/// Maps "no such user" per the client's PreventUserExistenceErrors.
fn hides_users(pool: &Pool, client_id: &str) -> bool {
    pool.clients
        .get(client_id)
        .and_then(|c| c.str("PreventUserExistenceErrors"))
        == Some("ENABLED")
}

/// Whether an alias value (email/phone) is already taken in a username-attributes pool.
fn alias_taken(pool: &Pool, attr: &str, value: &str, except: Option<&str>) -> bool {
    pool.users.values().any(|u| {
        Some(u.username.as_str()) != except
            && u.attributes
                .get(attr)
                .is_some_and(|v| v.eq_ignore_ascii_case(value))
    })
}

pub async fn sign_up(inner: &Inner, ctx: &RequestContext, input: SignUpInput) -> Result<Value> {
    let _ = ctx;
    let pool_id = pool_of_client(inner, &input.client_id)?;
    let Some(pw) = input.password.clone() else {
        return Err(invalid("Password is required for this sign-up flow."));
    };
    let (call, username, attrs) = inner.read_any(&pool_id, |pool| {
        check_secret_hash(pool, &input.client_id, input.secret_hash.as_deref(), &[&input.username])?;
        if pool.setting(&["AdminCreateUserConfig", "AllowAdminCreateUserOnly"]) == Some(&json!(true)) {
            return Err(Code::NotAuthorizedException.msg("SignUp is not permitted for this user pool"));
        }
        password::check_policy(pool, &pw)?;
        let mut attrs = check_attributes(pool, &input.user_attributes, false, None)?;
        let username_attrs = pool.setting_list("UsernameAttributes");
        let username = if username_attrs.is_empty() {
            if input.username.contains('@') && pool.setting_list("AliasAttributes").iter().any(|a| a == "email") {
                return Err(invalid("Username cannot be of email format, since user pool is configured for email alias."));
            }
            if find_username(pool, &input.username).is_some_and(|u| pool.users.contains_key(&u) && u.eq_ignore_ascii_case(&input.username)) {
                return Err(Code::UsernameExistsException.msg("User already exists"));
            }
            input.username.clone()
        } else {
            let attr = if input.username.contains('@') && username_attrs.iter().any(|a| a == "email") {
                "email"
            } else if input.username.starts_with('+') && username_attrs.iter().any(|a| a == "phone_number") {
                "phone_number"
            } else if username_attrs.len() == 1 && username_attrs[0] == "email" {
                return Err(invalid("Username should be an email."));
            } else if username_attrs.len() == 1 {
                return Err(invalid("Username should be a phone number."));
            } else {
                return Err(invalid("Username should be either an email or a phone number."));
            };
            if alias_taken(pool, attr, &input.username, None) {
                return Err(Code::UsernameExistsException.msg(format!("An account with the given {attr} already exists.")));
            }
            attrs.insert(attr.to_string(), input.username.clone());
            uuid::Uuid::new_v4().to_string()
        };
        let mut probe = attrs.clone();
        probe.insert("sub".into(), String::new());
        check_attributes(pool, &probe.iter().filter(|(k, _)| *k != "sub").map(|(k, v)| AttributeType { name: k.clone(), value: Some(v.clone()) }).collect::<Vec<_>>(), true, None)?;
        Ok((Call::of(pool, "PreSignUp", Some(&input.client_id)), username, attrs))
    })?;
    let (mut auto_confirm, mut verify_email, mut verify_phone) = (false, false, false);
    if let Some(call) = call {
        let request = json!({
            "userAttributes": attrs,
            "validationData": input.validation_data.iter().map(|a| (a.name.clone(), json!(a.value))).collect::<Map<_, _>>(),
            "clientMetadata": input.client_metadata.clone().unwrap_or(json!({})),
        });
        let r = triggers::invoke(
            inner,
            &call,
            "PreSignUp",
            "PreSignUp_SignUp",
            &username,
            request,
            json!({"autoConfirmUser": false, "autoVerifyEmail": false, "autoVerifyPhone": false}),
        )
        .await?;
        auto_confirm = r.get("autoConfirmUser") == Some(&json!(true));
        verify_email = r.get("autoVerifyEmail") == Some(&json!(true));
        verify_phone = r.get("autoVerifyPhone") == Some(&json!(true));
    }
    let (out, post) = inner
        .mutate_any(&pool_id, |pool| {
            if pool.users.contains_key(&username) {
                return Err(Code::UsernameExistsException.msg("User already exists"));
            }
            let status = if auto_confirm {
                UserStatus::CONFIRMED
            } else {
                UserStatus::UNCONFIRMED
            };
            let mut user = new_user(username.clone(), attrs, status);
            if verify_email && user.attributes.contains_key("email") {
                user.attributes
                    .insert("email_verified".into(), "true".into());
            }
            if verify_phone && user.attributes.contains_key("phone_number") {
                user.attributes
                    .insert("phone_number_verified".into(), "true".into());
            }
            user.password = Some(password::make(&pool.id, &username, &pw, None));
            let mut out = json!({"UserConfirmed": auto_confirm, "UserSub": user.sub()});
            if !auto_confirm {
                let to = codes::destination(&user, &pool.setting_list("AutoVerifiedAttributes"));
                codes::issue(inner, &pool.id, &mut user, "signup", CODE_TTL, to.as_ref());
                if let Some((a, v)) = &to {
                    out["CodeDeliveryDetails"] = codes::delivery(a, v);
                }
            }
            let post = if auto_confirm {
                Call::of(pool, "PostConfirmation", Some(&input.client_id))
                    .map(|c| (c, triggers::attributes(&user)))
            } else {
                None
            };
            pool.users.insert(username.clone(), user);
            Ok(((out, post), vec![Record::User(username.clone())]))
        })
        .await?;
    if let Some((call, attrs)) = post {
        triggers::invoke(
            inner,
            &call,
            "PostConfirmation",
            "PostConfirmation_ConfirmSignUp",
            &username,
            json!({"userAttributes": attrs}),
            json!({}),
        )
        .await?;
    }
    Ok(out)
}

/// Checks a pending code: wrong → CodeMismatch, expired or absent → ExpiredCode.
fn take_code(user: &mut User, purpose: &str, given: &str) -> Result<()> {
    let now = clock::now_millis();
    match user.codes.get(purpose) {
        Some(c) if c.expires <= now => {
            Err(Code::ExpiredCodeException
                .msg("Invalid code provided, please request a code again."))
        }
        Some(c) if c.code == given => {
            user.codes.remove(purpose);
            Ok(())
        }
        Some(_) => Err(Code::CodeMismatchException
            .msg("Invalid verification code provided, please try again.")),
        None => {
            Err(Code::ExpiredCodeException
                .msg("Invalid code provided, please request a code again."))
        }
    }
}

fn not_found_for_client(pool: &Pool, client_id: &str) -> aloft_core::AwsError {
    if hides_users(pool, client_id) {
        Code::CodeMismatchException.msg("Invalid verification code provided, please try again.")
    } else {
        Code::UserNotFoundException.msg("Username/client id combination not found.")
    }
}

pub async fn confirm_sign_up(
    inner: &Inner,
    _ctx: &RequestContext,
    input: ConfirmSignUpInput,
) -> Result<Value> {
    let pool_id = pool_of_client(inner, &input.client_id)?;
    let post = inner
        .mutate_any(&pool_id, |pool| {
            check_secret_hash(
                pool,
                &input.client_id,
                input.secret_hash.as_deref(),
                &[&input.username],
            )?;
            let name = find_username(pool, &input.username)
                .ok_or_else(|| not_found_for_client(pool, &input.client_id))?;
            let call = Call::of(pool, "PostConfirmation", Some(&input.client_id));
            let user = pool.users.get_mut(&name).ok_or_else(user_not_found)?;
            if user.status != UserStatus::UNCONFIRMED {
                return Err(Code::NotAuthorizedException.msg(format!(
                    "User cannot be confirmed. Current status is {}",
                    user.status.as_str()
                )));
            }
            take_code(user, "signup", &input.confirmation_code)?;
            user.status = UserStatus::CONFIRMED;
            let to = codes::destination(user, &[]);
            if let Some((attr, _)) = to {
                user.attributes
                    .insert(format!("{attr}_verified"), "true".into());
            }
            user.modified = clock::now_secs_f64();
            let post = call.map(|c| (c, triggers::attributes(user), name.clone()));
            Ok((post, vec![Record::User(name)]))
        })
        .await?;
    if let Some((call, attrs, name)) = post {
        triggers::invoke(
            inner,
            &call,
            "PostConfirmation",
            "PostConfirmation_ConfirmSignUp",
            &name,
            json!({"userAttributes": attrs}),
            json!({}),
        )
        .await?;
    }
    Ok(json!({}))
}

pub async fn resend_confirmation_code(
    inner: &Inner,
    _ctx: &RequestContext,
    input: ClientUserInput,
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
            let Some(name) = find_username(pool, &input.username) else {
                if hides_users(pool, &input.client_id) {
                    return Ok((
                        json!({"CodeDeliveryDetails": codes::delivery("email", "x@x")}),
                        vec![],
                    ));
                }
                return Err(
                    Code::UserNotFoundException.msg("Username/client id combination not found.")
                );
            };
            let auto = pool.setting_list("AutoVerifiedAttributes");
            let id = pool.id.clone();
            let user = pool.users.get_mut(&name).ok_or_else(user_not_found)?;
            if user.status != UserStatus::UNCONFIRMED {
                return Err(invalid("User is already confirmed."));
            }
            let to = codes::destination(user, &auto);
            codes::issue(inner, &id, user, "signup", CODE_TTL, to.as_ref());
            let out = match &to {
                Some((a, v)) => json!({"CodeDeliveryDetails": codes::delivery(a, v)}),
                None => json!({}),
            };
            Ok((out, vec![Record::User(name)]))
        })
        .await
}

pub async fn admin_create_user(
    inner: &Inner,
    ctx: &RequestContext,
    input: AdminCreateUserInput,
) -> Result<Value> {
    inner
        .mutate(ctx, &input.user_pool_id, |pool| {
            let mut attrs = check_attributes(pool, &input.user_attributes, false, None)?;
            let username_attrs = pool.setting_list("UsernameAttributes");
            let username = if username_attrs.is_empty() {
                input.username.clone()
            } else {
                let attr = if input.username.contains('@') {
                    "email"
                } else {
                    "phone_number"
                };
                if !username_attrs.iter().any(|a| a == attr) {
                    return Err(invalid(if username_attrs.iter().any(|a| a == "email") {
                        "Username should be an email."
                    } else {
                        "Username should be a phone number."
                    }));
                }
                attrs.insert(attr.into(), input.username.clone());
                if alias_taken(pool, attr, &input.username, None) {
                    return Err(Code::UsernameExistsException
                        .msg("An account with the given email already exists."));
                }
                uuid::Uuid::new_v4().to_string()
            };
            if input.message_action.as_deref() == Some("RESEND") {
                let name = find_username(pool, &input.username).ok_or_else(user_not_found)?;
                let id = pool.id.clone();
                let user = pool.users.get_mut(&name).ok_or_else(user_not_found)?;
                if user.status != UserStatus::FORCE_CHANGE_PASSWORD {
                    return Err(Code::UnsupportedOperationException
                        .msg("Resend not possible. User already confirmed."));
                }
                let temp = password::generate_temporary();
                user.password = Some(password::make(&id, &name, &temp, Some(7)));
                codes::record(
                    inner,
                    &id,
                    &name,
                    "temporary-password",
                    &temp,
                    codes::destination(user, &[]).as_ref(),
                );
                return Ok((
                    json!({"User": user.to_user_type(None)}),
                    vec![Record::User(name)],
                ));
            }
            if pool.users.contains_key(&username) || find_username(pool, &username).is_some() {
                return Err(Code::UsernameExistsException.msg("User account already exists"));
            }
            let temp = match &input.temporary_password {
                Some(t) => {
                    password::check_policy(pool, t)?;
                    t.clone()
                }
                None => password::generate_temporary(),
            };
            let days = pool
                .setting(&[
                    "Policies",
                    "PasswordPolicy",
                    "TemporaryPasswordValidityDays",
                ])
                .and_then(Value::as_i64)
                .unwrap_or(7);
            let mut user = new_user(username.clone(), attrs, UserStatus::FORCE_CHANGE_PASSWORD);
            user.password = Some(password::make(&pool.id, &username, &temp, Some(days)));
            if input.message_action.as_deref() != Some("SUPPRESS") {
                codes::record(
                    inner,
                    &pool.id,
                    &username,
                    "temporary-password",
                    &temp,
                    codes::destination(&user, &[]).as_ref(),
                );
            }
            let out = json!({"User": user.to_user_type(None)});
            pool.users.insert(username.clone(), user);
            Ok((out, vec![Record::User(username)]))
        })
        .await
}

/// The internal username an admin operation names (username or alias).
fn admin_find(pool: &Pool, name: &str) -> Result<String> {
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
async fn admin_change(
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
fn apply_attributes(
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

fn delete_attributes(u: &mut User, names: &[String], pool: Option<&Pool>) -> Result<()> {
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

/// ListUsers' filter: `attr = "v"` (exact) or `attr ^= "v"` (prefix); empty means all.
#[derive(Debug, PartialEq)]
pub struct Filter {
    attribute: String,
    prefix: bool,
    value: String,
}

pub fn parse_filter(s: &str) -> Result<Option<Filter>> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let bad = || invalid("Error while parsing filter.");
    let (attr, rest, prefix) = if let Some((a, r)) = s.split_once("^=") {
        (a, r, true)
    } else {
        let (a, r) = s.split_once('=').ok_or_else(bad)?;
        (a, r, false)
    };
    let attr = attr.trim().trim_matches('"').to_string();
    let rest = rest.trim();
    if rest.len() < 2 || !rest.starts_with('"') || !rest.ends_with('"') {
        return Err(bad());
    }
    const SEARCHABLE: &[&str] = &[
        "username",
        "email",
        "phone_number",
        "name",
        "given_name",
        "family_name",
        "preferred_username",
        "cognito:user_status",
        "status",
        "sub",
    ];
    if !SEARCHABLE.contains(&attr.as_str()) {
        return Err(invalid(format!("Invalid search attribute: {attr}")));
    }
    Ok(Some(Filter {
        attribute: attr,
        prefix,
        value: rest[1..rest.len() - 1].to_string(),
    }))
}

fn filter_matches(f: &Filter, u: &User) -> bool {
    let v = match f.attribute.as_str() {
        "username" => Some(u.username.clone()),
        "cognito:user_status" => Some(u.status.as_str().to_string()),
        "status" => Some(if u.enabled { "Enabled" } else { "Disabled" }.to_string()),
        a => u.attributes.get(a).cloned(),
    };
    v.is_some_and(|v| {
        if f.prefix {
            v.to_lowercase().starts_with(&f.value.to_lowercase())
        } else {
            v == f.value
        }
    })
}

pub fn list_users(inner: &Inner, ctx: &RequestContext, input: ListUsersInput) -> Result<Value> {
    let filter = parse_filter(input.filter.as_deref().unwrap_or(""))?;
    let limit = match input.limit {
        None | Some(0) => 60,
        Some(n) if !(0..=60).contains(&n) => {
            return Err(invalid(format!(
                "1 validation error detected: Value '{n}' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 60"
            )));
        }
        Some(n) => n as usize,
    };
    inner.read(ctx, &input.user_pool_id, |pool| {
        let items = pool
            .users
            .values()
            .filter(|u| filter.as_ref().is_none_or(|f| filter_matches(f, u)))
            .map(|u| {
                (
                    u.username.clone(),
                    u.to_user_type(input.attributes_to_get.as_deref()),
                )
            })
            .collect();
        let (users, next) = crate::pools::page(items, input.pagination_token.as_deref(), limit);
        let mut out = json!({"Users": users});
        if let Some(n) = next {
            out["PaginationToken"] = n.into();
        }
        Ok(out)
    })
}

/// Runs `f` on the user an access token names and journals it.
async fn token_change(
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
    inner
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
        .await
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse() {
        assert_eq!(
            parse_filter("email ^= \"ali\"").unwrap(),
            Some(Filter {
                attribute: "email".into(),
                prefix: true,
                value: "ali".into()
            })
        );
        assert_eq!(parse_filter("  ").unwrap(), None);
        assert!(parse_filter("email = ali").is_err());
        assert!(parse_filter("custom:x = \"a\"").is_err());
        let f = parse_filter("cognito:user_status = \"UNCONFIRMED\"")
            .unwrap()
            .unwrap();
        assert!(!f.prefix);
    }
}
