//! Users: sign-up and confirmation, AdminCreateUser, and what the user modules share (input
//! shapes, attribute checks). Admin* management is in `admin_users`, ListUsers in `user_filter`,
//! a signed-in user's own calls in `own_account`.

use std::collections::BTreeMap;

use aloft_core::{RequestContext, clock};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::access::{check_secret_hash, find_username, pool_of_client};
use crate::codes;
use crate::error::{Code, Result, invalid, user_not_found};
use crate::model::{Pool, User, UserStatus};
use crate::password;
use crate::state::{Inner, Record};
use crate::triggers::{self, Call};

#[derive(Deserialize, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct AttributeType {
    pub(crate) name: String,
    pub(crate) value: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SignUpInput {
    pub(crate) client_id: String,
    pub(crate) secret_hash: Option<String>,
    pub(crate) username: String,
    pub(crate) password: Option<String>,
    #[serde(default)]
    pub(crate) user_attributes: Vec<AttributeType>,
    #[serde(default)]
    pub(crate) validation_data: Vec<AttributeType>,
    pub(crate) client_metadata: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ConfirmSignUpInput {
    pub(crate) client_id: String,
    pub(crate) secret_hash: Option<String>,
    pub(crate) username: String,
    pub(crate) confirmation_code: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ClientUserInput {
    pub(crate) client_id: String,
    pub(crate) secret_hash: Option<String>,
    pub(crate) username: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AdminCreateUserInput {
    pub(crate) user_pool_id: String,
    pub(crate) username: String,
    #[serde(default)]
    pub(crate) user_attributes: Vec<AttributeType>,
    pub(crate) temporary_password: Option<String>,
    pub(crate) message_action: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AdminUserInput {
    pub(crate) user_pool_id: String,
    pub(crate) username: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AdminSetUserPasswordInput {
    pub(crate) user_pool_id: String,
    pub(crate) username: String,
    pub(crate) password: String,
    #[serde(default)]
    pub(crate) permanent: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AdminAttributesInput {
    pub(crate) user_pool_id: String,
    pub(crate) username: String,
    #[serde(default)]
    pub(crate) user_attributes: Vec<AttributeType>,
    #[serde(default)]
    pub(crate) user_attribute_names: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListUsersInput {
    pub(crate) user_pool_id: String,
    pub(crate) attributes_to_get: Option<Vec<String>>,
    pub(crate) limit: Option<i64>,
    pub(crate) pagination_token: Option<String>,
    pub(crate) filter: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TokenInput {
    pub(crate) access_token: String,
    #[serde(default)]
    pub(crate) user_attributes: Vec<AttributeType>,
    #[serde(default)]
    pub(crate) user_attribute_names: Vec<String>,
    pub(crate) attribute_name: Option<String>,
    pub(crate) code: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ChangePasswordInput {
    pub(crate) access_token: String,
    pub(crate) previous_password: Option<String>,
    pub(crate) proposed_password: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ConfirmForgotPasswordInput {
    pub(crate) client_id: String,
    pub(crate) secret_hash: Option<String>,
    pub(crate) username: String,
    pub(crate) confirmation_code: String,
    pub(crate) password: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RevokeTokenInput {
    pub(crate) token: String,
    pub(crate) client_id: String,
    pub(crate) client_secret: Option<String>,
}

pub(crate) const CODE_TTL: i64 = 24 * 3600;
pub(crate) const FORGOT_TTL: i64 = 3600;

pub(crate) fn schema_names(pool: &Pool) -> Vec<(String, bool, bool)> {
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

pub(crate) fn schema_error(name: &str, why: &str) -> aloft_core::AwsError {
    invalid(format!(
        "Attributes did not conform to the schema: {name}: {why}"
    ))
}

/// Checks attributes against the pool's schema; `creating` also checks required ones.
pub(crate) fn check_attributes(
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

pub(crate) fn new_user(
    username: String,
    attributes: BTreeMap<String, String>,
    status: UserStatus,
) -> User {
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
pub(crate) fn hides_users(pool: &Pool, client_id: &str) -> bool {
    pool.clients
        .get(client_id)
        .and_then(|c| c.str("PreventUserExistenceErrors"))
        == Some("ENABLED")
}

/// Whether an alias value (email/phone) is already taken in a username-attributes pool.
pub(crate) fn alias_taken(pool: &Pool, attr: &str, value: &str, except: Option<&str>) -> bool {
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
    if out["UserConfirmed"] == json!(false) {
        codes::custom_message(
            inner,
            &pool_id,
            &username,
            "signup",
            "CustomMessage_SignUp",
            Some(&input.client_id),
            input.client_metadata.as_ref(),
        )
        .await?;
    }
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
pub(crate) fn take_code(user: &mut User, purpose: &str, given: &str) -> Result<()> {
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

pub(crate) fn not_found_for_client(pool: &Pool, client_id: &str) -> aloft_core::AwsError {
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
    let out = inner
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
        .await?;
    codes::custom_message(
        inner,
        &pool_id,
        &input.username,
        "signup",
        "CustomMessage_ResendCode",
        Some(&input.client_id),
        None,
    )
    .await?;
    Ok(out)
}

pub async fn admin_create_user(
    inner: &Inner,
    ctx: &RequestContext,
    input: AdminCreateUserInput,
) -> Result<Value> {
    let out = inner
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
        .await?;
    if input.message_action.as_deref() != Some("SUPPRESS") {
        codes::custom_message(
            inner,
            &input.user_pool_id,
            &input.username,
            "temporary-password",
            "CustomMessage_AdminCreateUser",
            None,
            None,
        )
        .await?;
    }
    Ok(out)
}
