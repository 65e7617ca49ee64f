//! `/oauth2/token` (authorization_code with PKCE, refresh_token, client_credentials),
//! `/oauth2/userInfo` and `/oauth2/revoke`, with the OAuth error documents Cognito sends.

use std::collections::HashMap;

use aloft_core::{AwsRequest, Response, clock, ids};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::{Site, json_response, oauth_error};
use crate::access::authenticate;
use crate::auth::{Grant, issue_tokens_with};
use crate::model::Client;
use crate::state::Record;
use crate::tokens;

/// The client a token request authenticates as: Basic header, else form members.
fn client_auth(
    site: &Site<'_>,
    req: &AwsRequest,
    form: &HashMap<String, String>,
) -> Result<Client, Response> {
    let basic = req
        .header("authorization")
        .and_then(|h| {
            h.strip_prefix("Basic ")
                .or_else(|| h.strip_prefix("basic "))
        })
        .map(|b| {
            STANDARD
                .decode(b.trim())
                .ok()
                .and_then(|d| String::from_utf8(d).ok())
                .and_then(|s| {
                    s.split_once(':')
                        .map(|(a, b)| (a.to_string(), b.to_string()))
                })
        });
    let (id, secret) = match basic {
        Some(Some((id, secret))) => (id, Some(secret)),
        Some(None) => return Err(oauth_error(400, "invalid_client")),
        None => match form.get("client_id") {
            Some(id) => (id.clone(), form.get("client_secret").cloned()),
            None => return Err(oauth_error(400, "invalid_client")),
        },
    };
    if form.get("client_id").is_some_and(|f| *f != id) {
        return Err(oauth_error(400, "invalid_client"));
    }
    let client = site
        .inner
        .read_any(&site.pool_id, |p| Ok(p.clients.get(&id).cloned()))
        .ok()
        .flatten()
        .ok_or_else(|| oauth_error(400, "invalid_client"))?;
    match (client.secret(), secret.as_deref()) {
        (Some(want), Some(got)) if want == got => Ok(client),
        (None, None | Some("")) => Ok(client),
        _ => Err(oauth_error(400, "invalid_client")),
    }
}

fn oauth_enabled(c: &Client, flow: &str) -> bool {
    c.settings.get("AllowedOAuthFlowsUserPoolClient") == Some(&Value::Bool(true))
        && c.list("AllowedOAuthFlows").iter().any(|f| f == flow)
}

pub async fn token(site: &Site<'_>, req: &AwsRequest, form: &HashMap<String, String>) -> Response {
    let form_type = req.header("content-type").is_some_and(|c| {
        c.to_ascii_lowercase()
            .starts_with("application/x-www-form-urlencoded")
    });
    if !form_type {
        return oauth_error(400, "invalid_request");
    }
    let client = match client_auth(site, req, form) {
        Ok(c) => c,
        Err(r) => return r,
    };
    match form.get("grant_type").map(String::as_str) {
        Some("authorization_code") => authorization_code(site, &client, form).await,
        Some("refresh_token") => refresh(site, &client, form).await,
        Some("client_credentials") => client_credentials(site, &client, form).await,
        Some(_) => oauth_error(400, "unsupported_grant_type"),
        None => oauth_error(400, "invalid_request"),
    }
}

/// The token response: `id_token` only when `openid` was granted.
fn token_document(tokens: &Value, scopes: &[String], with_refresh: bool) -> Value {
    let mut out = Map::new();
    if scopes.is_empty() || scopes.iter().any(|s| s == "openid") {
        out.insert("id_token".into(), tokens["IdToken"].clone());
    }
    out.insert("access_token".into(), tokens["AccessToken"].clone());
    if with_refresh && let Some(r) = tokens.get("RefreshToken") {
        out.insert("refresh_token".into(), r.clone());
    }
    out.insert("expires_in".into(), tokens["ExpiresIn"].clone());
    out.insert("token_type".into(), "Bearer".into());
    Value::Object(out)
}

async fn authorization_code(
    site: &Site<'_>,
    client: &Client,
    form: &HashMap<String, String>,
) -> Response {
    let Some(code) = form.get("code") else {
        return oauth_error(400, "invalid_request");
    };
    if !oauth_enabled(client, "code") {
        return oauth_error(400, "unauthorized_client");
    }
    // A code is good once, even when the exchange then fails.
    let grant = site
        .inner
        .oauth
        .lock()
        .expect("oauth lock")
        .codes
        .remove(code);
    let Some(grant) = grant else {
        return oauth_error(400, "invalid_grant");
    };
    if grant.pool_id != site.pool_id
        || grant.client_id != client.id()
        || grant.expires <= clock::now_millis()
        || form.get("redirect_uri") != Some(&grant.redirect_uri)
    {
        return oauth_error(400, "invalid_grant");
    }
    if let Some(challenge) = &grant.challenge {
        let ok = form
            .get("code_verifier")
            .is_some_and(|v| URL_SAFE_NO_PAD.encode(Sha256::digest(v.as_bytes())) == *challenge);
        if !ok {
            return oauth_error(400, "invalid_grant");
        }
    }
    let g = Grant {
        scopes: grant.scopes.clone(),
        nonce: grant.nonce.clone(),
    };
    match issue_tokens_with(
        site.inner,
        &site.ctx,
        &site.pool_id,
        client.id(),
        &grant.username,
        None,
        "TokenGeneration_HostedAuth",
        Some(&g),
    )
    .await
    {
        Ok(t) => json_response(200, &token_document(&t, &grant.scopes, true)),
        Err(_) => oauth_error(400, "invalid_grant"),
    }
}

async fn refresh(site: &Site<'_>, client: &Client, form: &HashMap<String, String>) -> Response {
    let Some(token) = form.get("refresh_token") else {
        return oauth_error(400, "invalid_request");
    };
    let claims = site.inner.read_any(&site.pool_id, |p| {
        let secret = hex::decode(&p.refresh_secret).unwrap_or_default();
        Ok(tokens::check_refresh_token(&secret, token).filter(|c| {
            c.pool == p.id
                && c.client == client.id()
                && c.exp * 1000 > clock::now_millis()
                && p.users.get(&c.username).is_some_and(|u| {
                    u.enabled && crate::access::check_not_revoked(u, &c.origin_jti).is_ok()
                })
        }))
    });
    let Ok(Some(claims)) = claims else {
        return oauth_error(400, "invalid_grant");
    };
    let scopes: Vec<String> = claims
        .scope
        .as_deref()
        .map(|s| s.split(' ').map(str::to_string).collect())
        .unwrap_or_default();
    match issue_tokens_with(
        site.inner,
        &site.ctx,
        &site.pool_id,
        client.id(),
        &claims.username,
        Some(&claims),
        "TokenGeneration_RefreshTokens",
        None,
    )
    .await
    {
        Ok(t) => json_response(200, &token_document(&t, &scopes, false)),
        Err(_) => oauth_error(400, "invalid_grant"),
    }
}

/// Machine-to-machine: an access token for the client itself, with resource-server scopes.
async fn client_credentials(
    site: &Site<'_>,
    client: &Client,
    form: &HashMap<String, String>,
) -> Response {
    if client.secret().is_none() || !oauth_enabled(client, "client_credentials") {
        return oauth_error(400, "unauthorized_client");
    }
    let allowed = client.list("AllowedOAuthScopes");
    let scopes: Vec<String> = match form.get("scope").filter(|s| !s.trim().is_empty()) {
        Some(s) => s.split_whitespace().map(str::to_string).collect(),
        None => allowed.clone(),
    };
    if scopes.is_empty() || scopes.iter().any(|s| !allowed.contains(s)) {
        return oauth_error(400, "invalid_scope");
    }
    let key = match site.inner.key(&site.pool_id).await {
        Ok(k) => k,
        Err(_) => return oauth_error(500, "server_error"),
    };
    let now = clock::now_secs();
    let secs = client.validity_secs("AccessToken");
    let mut claims = Map::new();
    claims.insert("sub".into(), client.id().into());
    claims.insert("token_use".into(), "access".into());
    claims.insert("scope".into(), scopes.join(" ").into());
    claims.insert("auth_time".into(), now.into());
    claims.insert(
        "iss".into(),
        format!(
            "{}/{}",
            site.ctx.base_url.trim_end_matches('/'),
            site.pool_id
        )
        .into(),
    );
    claims.insert("exp".into(), (now + secs).into());
    claims.insert("iat".into(), now.into());
    claims.insert("version".into(), 2.into());
    claims.insert("jti".into(), ids::uuid().into());
    claims.insert("client_id".into(), client.id().into());
    json_response(
        200,
        &json!({"access_token": key.sign(&claims), "expires_in": secs, "token_type": "Bearer"}),
    )
}

fn invalid_token(why: &str) -> Response {
    let mut r = json_response(
        401,
        &json!({"error": "invalid_token", "error_description": why}),
    );
    if let Ok(v) = http::HeaderValue::from_str(&format!(
        "Bearer error=\"invalid_token\", error_description=\"{why}\""
    )) {
        r.headers_mut().insert("www-authenticate", v);
    }
    r
}

/// The signed-in user's attributes, for an access token of this pool.
pub async fn user_info(site: &Site<'_>, req: &AwsRequest) -> Response {
    let Some(token) = req.header("authorization").and_then(|h| {
        h.strip_prefix("Bearer ")
            .or_else(|| h.strip_prefix("bearer "))
    }) else {
        return invalid_token("Access token is missing");
    };
    let caller = match authenticate(site.inner, token.trim()).await {
        Ok(c) if c.pool_id == site.pool_id => c,
        Ok(_) => return invalid_token("Access token does not belong to this user pool"),
        Err(e) if e.message.contains("expired") => return invalid_token("Access token is expired"),
        Err(e) if e.message.contains("revoked") => {
            return invalid_token("Access token has been revoked");
        }
        Err(_) => return invalid_token("Invalid access token"),
    };
    let out = site.inner.read_any(&site.pool_id, |p| {
        let Some(u) = p.users.get(&caller.username) else {
            return Ok(None);
        };
        // userInfo answers every attribute as a string, `*_verified` included.
        let mut m = Map::new();
        for (k, v) in &u.attributes {
            m.insert(k.clone(), v.clone().into());
        }
        m.insert("username".into(), u.username.clone().into());
        Ok(Some(Value::Object(m)))
    });
    match out {
        Ok(Some(v)) => json_response(200, &v),
        _ => invalid_token("Invalid access token"),
    }
}

/// Revokes a refresh token (and the tokens issued from it).
pub async fn revoke(site: &Site<'_>, req: &AwsRequest, form: &HashMap<String, String>) -> Response {
    let Some(token) = form.get("token") else {
        return oauth_error(400, "invalid_request");
    };
    let client = match client_auth(site, req, form) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let secret = site
        .inner
        .read_any(&site.pool_id, |p| {
            Ok(hex::decode(&p.refresh_secret).unwrap_or_default())
        })
        .unwrap_or_default();
    let Some(claims) = tokens::check_refresh_token(&secret, token) else {
        return oauth_error(400, "unsupported_token_type");
    };
    if claims.client != client.id() {
        return oauth_error(400, "invalid_request");
    }
    let done = site
        .inner
        .mutate_any(&site.pool_id, |p| {
            let Some(u) = p.users.get_mut(&claims.username) else {
                return Ok(((), vec![]));
            };
            u.revoke(Some(&claims.origin_jti));
            Ok(((), vec![Record::User(claims.username.clone())]))
        })
        .await;
    match done {
        Ok(()) => json_response(200, &json!({})),
        Err(_) => oauth_error(500, "server_error"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s256_is_base64url_of_sha256() {
        // RFC 7636 appendix B.
        let v = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert_eq!(
            URL_SAFE_NO_PAD.encode(Sha256::digest(v.as_bytes())),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn id_token_only_with_openid() {
        let t = json!({"IdToken": "i", "AccessToken": "a", "RefreshToken": "r", "ExpiresIn": 3600});
        let d = token_document(&t, &["email".into()], true);
        assert!(d.get("id_token").is_none());
        assert_eq!(d["refresh_token"], "r");
        let d = token_document(&t, &["openid".into()], false);
        assert_eq!(d["id_token"], "i");
        assert!(d.get("refresh_token").is_none());
    }
}
