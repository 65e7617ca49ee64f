//! The UserMigration trigger: a sign-in (USER_PASSWORD_AUTH, ADMIN_USER_PASSWORD_AUTH, the
//! hosted UI) or ForgotPassword for a user the pool does not know asks the function, which
//! answers with the user's attributes; Cognito then creates the user (with the password just
//! typed, for a sign-in) and carries on as if it had always existed. SRP sign-in cannot migrate:
//! the function needs the password in clear.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::codes;
use crate::error::{Code, Result};
use crate::model::UserStatus;
use crate::password;
use crate::state::{Inner, Record};
use crate::triggers::{self, Call};
use crate::users::{alias_taken, new_user};

/// Why the pool asks: a sign-in with `password`, or a forgotten password.
pub enum Reason<'a> {
    Authentication(&'a str),
    ForgotPassword,
}

/// Migrates `given` if the pool has a UserMigration trigger; `Ok(None)` when it has none.
/// Returns the new user's internal username.
pub async fn migrate(
    inner: &Inner,
    pool_id: &str,
    client_id: &str,
    given: &str,
    reason: Reason<'_>,
    metadata: Option<&Value>,
) -> Result<Option<String>> {
    let call = inner.read_any(pool_id, |p| {
        Ok(Call::of(p, "UserMigration", Some(client_id)))
    })?;
    let Some(call) = call else {
        return Ok(None);
    };
    let (source, mut request) = match &reason {
        Reason::Authentication(pw) => (
            "UserMigration_Authentication",
            json!({"password": pw, "validationData": {}}),
        ),
        Reason::ForgotPassword => ("UserMigration_ForgotPassword", json!({})),
    };
    request["clientMetadata"] = metadata.cloned().unwrap_or(json!({}));
    let failed = || {
        Code::UserNotFoundException.msg(format!(
            "Exception migrating user in app client {client_id}"
        ))
    };
    let resp = triggers::invoke(
        inner,
        &call,
        "UserMigration",
        source,
        given,
        request,
        json!({"userAttributes": null, "finalUserStatus": null, "messageAction": null,
               "desiredDeliveryMediums": null, "forceAliasCreation": null, "enableSMSMFA": null}),
    )
    .await
    .map_err(|e| {
        // The function said no (threw): the user does not exist, as far as the caller knows.
        if e.code == "UserLambdaValidationException" {
            failed()
        } else {
            e
        }
    })?;
    let attrs: BTreeMap<String, String> = match resp.get("userAttributes") {
        Some(Value::Object(m)) => m
            .iter()
            .filter(|(k, _)| k.as_str() != "sub" && k.as_str() != "cognito:user_status")
            .map(|(k, v)| {
                let s = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), s)
            })
            .collect(),
        _ => return Err(failed()),
    };
    let status = match (resp.get("finalUserStatus").and_then(Value::as_str), &reason) {
        (Some("RESET_REQUIRED"), _) | (_, Reason::ForgotPassword) => UserStatus::RESET_REQUIRED,
        (Some("CONFIRMED") | None, _) => UserStatus::CONFIRMED,
        (Some(other), _) => {
            return Err(Code::InvalidLambdaResponseException.msg(format!(
                "Invalid finalUserStatus {other} in UserMigration response"
            )));
        }
    };
    let force_alias = resp.get("forceAliasCreation") == Some(&json!(true));
    let suppress = resp.get("messageAction").and_then(Value::as_str) == Some("SUPPRESS");
    let username = inner
        .mutate_any(pool_id, |p| {
            let username_attrs = p.setting_list("UsernameAttributes");
            let mut attrs = attrs.clone();
            let username = if username_attrs.is_empty() {
                given.to_string()
            } else {
                // In a pool that signs in by email or phone the typed name is that attribute.
                let attr = if given.contains('@') {
                    "email"
                } else {
                    "phone_number"
                };
                attrs
                    .entry(attr.to_string())
                    .or_insert_with(|| given.to_string());
                uuid::Uuid::new_v4().to_string()
            };
            if p.users.contains_key(&username) {
                return Err(Code::UsernameExistsException.msg("User account already exists"));
            }
            for attr in ["email", "phone_number"] {
                if let Some(v) = attrs.get(attr)
                    && alias_taken(p, attr, v, None)
                    && !force_alias
                {
                    return Err(Code::AliasExistsException
                        .msg("An account with the given email already exists."));
                }
            }
            let mut user = new_user(username.clone(), attrs, status);
            if let Reason::Authentication(pw) = &reason {
                user.password = Some(password::make(&p.id, &username, pw, None));
            }
            if status == UserStatus::RESET_REQUIRED
                && !suppress
                && let Reason::Authentication(_) = reason
            {
                let to = codes::destination(&user, &[]);
                codes::issue(inner, &p.id, &mut user, "forgot", 3600, to.as_ref());
            }
            p.users.insert(username.clone(), user);
            Ok((username.clone(), vec![Record::User(username)]))
        })
        .await?;
    Ok(Some(username))
}
