//! Who is asking: app clients and their SECRET_HASH, user lookup by username or alias, and
//! access-token checks for the token-authorized operations (GetUser, ChangePassword, ...).

use aloft_core::clock;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use crate::error::{Code, Result, client_not_found, invalid_token, user_not_found};
use crate::model::{Pool, User};
use crate::state::Inner;
use crate::tokens;

/// The pool that owns app client `client_id` (client ids are unique everywhere).
pub fn pool_of_client(inner: &Inner, client_id: &str) -> Result<String> {
    inner
        .lock()
        .pools
        .values()
        .find(|p| p.clients.contains_key(client_id))
        .map(|p| p.id.clone())
        .ok_or_else(|| client_not_found(client_id))
}

/// Base64(HMAC-SHA256(client secret, username + client id)).
pub fn secret_hash(secret: &str, username: &str, client_id: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(username.as_bytes());
    mac.update(client_id.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

/// Checks SECRET_HASH for a client with a secret; `usernames` are the names it may be computed
/// over (the name the caller typed, and for refreshes the internal username or sub).
pub fn check_secret_hash(
    pool: &Pool,
    client_id: &str,
    given: Option<&str>,
    usernames: &[&str],
) -> Result<()> {
    let client = pool
        .clients
        .get(client_id)
        .ok_or_else(|| client_not_found(client_id))?;
    let Some(secret) = client.secret() else {
        return Ok(());
    };
    let Some(given) = given else {
        return Err(Code::NotAuthorizedException.msg(format!(
            "Client {client_id} is configured with secret but SECRET_HASH was not received"
        )));
    };
    if usernames
        .iter()
        .any(|u| secret_hash(secret, u, client_id) == given)
    {
        Ok(())
    } else {
        Err(Code::NotAuthorizedException.msg(format!(
            "Unable to verify secret hash for client {client_id}"
        )))
    }
}

fn case_sensitive(pool: &Pool) -> bool {
    pool.setting(&["UsernameConfiguration", "CaseSensitive"])
        .and_then(Value::as_bool)
        .unwrap_or(true)
}

/// The internal username that `name` signs in as: the username itself, or an email/phone
/// that the pool accepts as a username or (verified) alias.
pub fn find_username(pool: &Pool, name: &str) -> Option<String> {
    let cs = case_sensitive(pool);
    let eq = |a: &str, b: &str| {
        if cs {
            a == b
        } else {
            a.eq_ignore_ascii_case(b)
        }
    };
    if let Some(u) = pool.users.get(name) {
        return Some(u.username.clone());
    }
    if !cs && let Some(u) = pool.users.values().find(|u| eq(&u.username, name)) {
        return Some(u.username.clone());
    }
    let username_attrs = pool.setting_list("UsernameAttributes");
    let aliases = pool.setting_list("AliasAttributes");
    for attr in ["email", "phone_number", "preferred_username"] {
        let as_username = username_attrs.iter().any(|a| a == attr);
        let as_alias = aliases.iter().any(|a| a == attr);
        if !as_username && !as_alias {
            continue;
        }
        let found = pool.users.values().find(|u| {
            u.attributes.get(attr).is_some_and(|v| eq(v, name))
                && (as_username
                    || attr == "preferred_username"
                    || u.attributes
                        .get(&format!("{attr}_verified"))
                        .is_some_and(|v| v == "true"))
        });
        if let Some(u) = found {
            return Some(u.username.clone());
        }
    }
    None
}

/// The user named by a (valid, unrevoked) access token.
pub struct Caller {
    pub pool_id: String,
    pub username: String,
}

/// Checks an access token: signature, expiry, `token_use`, revocation, the user's state.
pub async fn authenticate(inner: &Inner, token: &str) -> Result<Caller> {
    let claims = tokens::peek_claims(token).ok_or_else(invalid_token)?;
    let pool_id = claims
        .get("iss")
        .and_then(Value::as_str)
        .and_then(|i| i.rsplit('/').next())
        .map(str::to_string)
        .ok_or_else(invalid_token)?;
    if !inner.lock().pools.contains_key(&pool_id) {
        return Err(invalid_token());
    }
    let key = inner.key(&pool_id).await?;
    let claims = key.verify(token).ok_or_else(invalid_token)?;
    if claims.get("token_use").and_then(Value::as_str) != Some("access") {
        return Err(invalid_token());
    }
    let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
    if exp <= clock::now_secs() {
        return Err(Code::NotAuthorizedException.msg("Access Token has expired"));
    }
    let username = claims
        .get("username")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let origin = claims
        .get("origin_jti")
        .and_then(Value::as_str)
        .unwrap_or("");
    inner.read_any(&pool_id, |p| {
        let u = p.users.get(&username).ok_or_else(user_not_found)?;
        check_not_revoked(u, origin)?;
        if !u.enabled {
            return Err(Code::NotAuthorizedException.msg("User is disabled."));
        }
        Ok(())
    })?;
    Ok(Caller { pool_id, username })
}

pub fn check_not_revoked(u: &User, origin_jti: &str) -> Result<()> {
    if u.revoked.contains_key(origin_jti) {
        return Err(Code::NotAuthorizedException.msg("Access Token has been revoked"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn secret_hash_matches_the_documented_recipe() {
        // HMAC-SHA256 keyed by the secret over username+clientId, base64.
        let h = super::secret_hash("secret", "alice", "client");
        assert_eq!(h.len(), 44);
        assert_ne!(h, super::secret_hash("secret", "alice", "other"));
    }
}
