//! Identities: GetId (one identity per login subject), GetCredentialsForIdentity (the role by
//! mapping or the pool's default, credentials minted by STS's state), OpenID tokens (also the
//! developer-authenticated flow), DescribeIdentity, ListIdentities, DeleteIdentities.

use std::collections::BTreeMap;

use aloft_core::{RequestContext, clock};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::logins::{self, check_expiry, decode, mapped_role, openid_key, user_pool_of};
use super::{Code, IdentityPools, IdentityRecord, Pool, Result, not_found_pool};
use crate::state::{Credential, access_key_id, durable, secret_key};

/// The issuer (and `Logins` key) of identity pools' own OpenID tokens.
const OPENID_ISSUER: &str = "cognito-identity.amazonaws.com";
const SESSION_NAME: &str = "CognitoIdentityCredentials";

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetIdInput {
    account_id: Option<String>,
    identity_pool_id: String,
    #[serde(default)]
    logins: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IdentityInput {
    identity_id: String,
    #[serde(default)]
    logins: BTreeMap<String, String>,
    custom_role_arn: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeveloperInput {
    identity_pool_id: String,
    identity_id: Option<String>,
    logins: BTreeMap<String, String>,
    token_duration: Option<i64>,
}

/// A login checked against the pool: provider, subject, and the token's claims.
struct Login {
    provider: String,
    subject: String,
    claims: Map<String, Value>,
    /// `{provider}:{client id}`, the key of role mappings for Cognito user pools.
    mapping_key: String,
}

/// The account holding pool `id` (pool ids are unique; unsigned calls name no account).
fn find_pool(p: &IdentityPools, account: Option<&str>, id: &str) -> Result<(String, Pool)> {
    let st = p.lock();
    st.pools
        .iter()
        .find(|(k, _)| {
            k.split_once('/')
                .is_some_and(|(a, pid)| pid == id && account.is_none_or(|want| want == a))
        })
        .map(|(k, pool)| (k.split('/').next().unwrap_or("").to_string(), pool.clone()))
        .ok_or_else(|| not_found_pool(id))
}

/// The pool and account an identity belongs to.
fn find_identity(p: &IdentityPools, identity_id: &str) -> Result<(String, String, Pool)> {
    let st = p.lock();
    st.pools
        .iter()
        .find(|(_, pool)| pool.identities.contains_key(identity_id))
        .map(|(k, pool)| {
            let (acct, pid) = k.split_once('/').unwrap_or(("", ""));
            (acct.to_string(), pid.to_string(), pool.clone())
        })
        .ok_or_else(|| {
            Code::ResourceNotFoundException.msg(format!("Identity '{identity_id}' not found."))
        })
}

fn config_str<'a>(pool: &'a Pool, name: &str) -> Option<&'a str> {
    pool.config.get(name).and_then(Value::as_str)
}

/// Verifies every login against the pool's configured providers.
async fn check_logins(
    p: &IdentityPools,
    pool_id: &str,
    pool: &Pool,
    logins: &BTreeMap<String, String>,
) -> Result<Vec<Login>> {
    let unsupported = || {
        Code::NotAuthorizedException.msg(
            "Invalid login token. Token is not from a supported provider of this identity pool.",
        )
    };
    let mut out = Vec::new();
    for (provider, token) in logins {
        let cognito_clients: Vec<String> = pool
            .config
            .get("CognitoIdentityProviders")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|c| c.get("ProviderName").and_then(Value::as_str) == Some(provider))
            .filter_map(|c| {
                c.get("ClientId")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .collect();
        let login = if user_pool_of(provider).is_some() {
            if cognito_clients.is_empty() {
                return Err(unsupported());
            }
            let jwt = logins::verify_user_pool_token(
                &p.keys,
                &p.internal_url,
                provider,
                token,
                &cognito_clients,
            )
            .await?;
            let aud = jwt
                .claim("aud")
                .or_else(|| jwt.claim("client_id"))
                .unwrap_or("");
            Login {
                provider: provider.clone(),
                subject: jwt.claim("sub").unwrap_or("").to_string(),
                mapping_key: format!("{provider}:{aud}"),
                claims: jwt.claims,
            }
        } else if provider == OPENID_ISSUER {
            // The developer flow: a token from GetOpenIdTokenForDeveloperIdentity.
            let jwt = decode(token).ok_or_else(unsupported)?;
            let key = openid_key().await?;
            if !jwt.verifies(&key.jwk()) || jwt.claim("aud") != Some(pool_id) {
                return Err(Code::NotAuthorizedException.msg("Invalid login token."));
            }
            check_expiry(&jwt)?;
            Login {
                provider: provider.clone(),
                subject: jwt.claim("sub").unwrap_or("").to_string(),
                mapping_key: provider.clone(),
                claims: jwt.claims,
            }
        } else {
            let supported = pool
                .config
                .get("SupportedLoginProviders")
                .and_then(Value::as_object)
                .is_some_and(|m| m.contains_key(provider));
            let oidc = pool
                .config
                .get("OpenIdConnectProviderARNs")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .any(|arn| arn.ends_with(&format!("oidc-provider/{provider}")));
            if !supported && !oidc {
                return Err(unsupported());
            }
            // External identity providers are not reachable from a laptop: their tokens are
            // read (subject, expiry) but their signatures are not checked.
            let jwt = decode(token);
            let subject = match &jwt {
                Some(j) => {
                    check_expiry(j)?;
                    j.claim("sub").unwrap_or(token).to_string()
                }
                None => token.clone(),
            };
            Login {
                provider: provider.clone(),
                subject,
                mapping_key: provider.clone(),
                claims: jwt.map(|j| j.claims).unwrap_or_default(),
            }
        };
        out.push(login);
    }
    Ok(out)
}

fn allows_unauthenticated(pool: &Pool) -> bool {
    pool.config
        .get("AllowUnauthenticatedIdentities")
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

fn new_identity_id(pool_id: &str) -> String {
    let region = pool_id.split(':').next().unwrap_or("us-east-1");
    format!("{region}:{}", uuid::Uuid::new_v4())
}

/// The identity linked to any of `logins`, or a new one linked to all of them.
async fn identity_for(
    p: &IdentityPools,
    account: &str,
    pool_id: &str,
    logins: &[Login],
    link_to: Option<String>,
) -> Result<String> {
    let now = clock::now_secs_f64();
    let pairs: Vec<(String, String)> = logins
        .iter()
        .map(|l| (l.provider.clone(), l.subject.clone()))
        .collect();
    p.write(account, pool_id, None, |pool| {
        let existing = link_to.clone().or_else(|| {
            pool.identities
                .iter()
                .find(|(_, rec)| {
                    !pairs.is_empty()
                        && pairs
                            .iter()
                            .any(|(prov, sub)| rec.logins.get(prov) == Some(sub))
                })
                .map(|(id, _)| id.clone())
        });
        let id = existing.unwrap_or_else(|| new_identity_id(pool_id));
        let rec = pool
            .identities
            .entry(id.clone())
            .or_insert_with(|| IdentityRecord {
                logins: BTreeMap::new(),
                created: now,
                modified: now,
            });
        for (prov, sub) in &pairs {
            if rec.logins.get(prov) != Some(sub) {
                rec.logins.insert(prov.clone(), sub.clone());
                rec.modified = now;
            }
        }
        Ok((id, true))
    })
    .await
}

pub async fn get_id(p: &IdentityPools, ctx: &RequestContext, input: GetIdInput) -> Result<Value> {
    let _ = ctx;
    let (account, pool) = find_pool(p, input.account_id.as_deref(), &input.identity_pool_id)?;
    let logins = check_logins(p, &input.identity_pool_id, &pool, &input.logins).await?;
    if logins.is_empty() && !allows_unauthenticated(&pool) {
        return Err(Code::NotAuthorizedException
            .msg("Unauthenticated access is not supported for this identity pool."));
    }
    let id = identity_for(p, &account, &input.identity_pool_id, &logins, None).await?;
    Ok(json!({ "IdentityId": id }))
}

/// The logins of a call for an existing identity: they must name the identity (a login it is
/// linked to), or be absent for an unauthenticated identity of a pool that allows them.
async fn authenticate(
    p: &IdentityPools,
    input: &IdentityInput,
) -> Result<(String, String, Pool, Vec<Login>)> {
    let (account, pool_id, pool) = find_identity(p, &input.identity_id)?;
    let rec = pool.identities.get(&input.identity_id).cloned();
    let logins = check_logins(p, &pool_id, &pool, &input.logins).await?;
    let linked = rec.as_ref().map(|r| r.logins.clone()).unwrap_or_default();
    let mismatch = || {
        Code::NotAuthorizedException
            .msg("Logins don't match. Please include at least one valid login for this identity or identity pool.")
    };
    if logins.is_empty() {
        if !linked.is_empty() {
            return Err(mismatch());
        }
        if !allows_unauthenticated(&pool) {
            return Err(Code::NotAuthorizedException
                .msg("Unauthenticated access is not supported for this identity pool."));
        }
    } else if !logins.iter().any(|l| {
        linked.get(&l.provider) == Some(&l.subject)
            || (l.provider == OPENID_ISSUER && l.subject == input.identity_id)
    }) {
        return Err(mismatch());
    }
    Ok((account, pool_id, pool, logins))
}

pub async fn get_credentials_for_identity(
    p: &IdentityPools,
    _ctx: &RequestContext,
    input: IdentityInput,
) -> Result<Value> {
    let (account, _pool_id, pool, logins) = authenticate(p, &input).await?;
    let role = if logins.is_empty() {
        pool.roles.get("unauthenticated").cloned()
    } else {
        let mut mapped = None;
        for l in &logins {
            if let Some(m) = pool.role_mappings.get(&l.mapping_key) {
                mapped = mapped_role(m, &l.claims, input.custom_role_arn.as_deref())?;
                break;
            }
        }
        mapped.or_else(|| pool.roles.get("authenticated").cloned())
    };
    let Some(role_arn) = role else {
        return Err(Code::InvalidIdentityPoolConfigurationException
            .msg("Invalid identity pool configuration. Check assigned IAM roles for this pool."));
    };
    let c = mint(p, &account, &role_arn).await?;
    Ok(json!({
        "IdentityId": input.identity_id,
        "Credentials": {
            "AccessKeyId": c.access_key,
            "SecretKey": c.secret,
            "SessionToken": c.session_token,
            "Expiration": c.expires.unwrap_or(0) as f64 / 1000.0,
        },
    }))
}

/// Temporary credentials for `role_arn`, as AssumeRoleWithWebIdentity would give Cognito.
async fn mint(p: &IdentityPools, pool_account: &str, role_arn: &str) -> Result<Credential> {
    let parsed = aloft_core::arn::parse(role_arn);
    let account = parsed
        .as_ref()
        .map(|a| a.account)
        .filter(|a| !a.is_empty())
        .unwrap_or(pool_account)
        .to_string();
    let role_name = role_arn.rsplit('/').next().unwrap_or("").to_string();
    let role_id = p
        .identity
        .read_account(&account, |a| {
            Ok(a.roles.get(&role_name).map(|r| r.id.clone()))
        })?
        .unwrap_or_else(|| crate::state::entity_id("AROA"));
    let now = clock::now_millis();
    let c = Credential {
        access_key: access_key_id("ASIA"),
        secret: secret_key(),
        session_token: Some(crate::sts::session_token()),
        account: account.clone(),
        arn: format!("arn:aws:sts::{account}:assumed-role/{role_name}/{SESSION_NAME}"),
        user_id: format!("{role_id}:{SESSION_NAME}"),
        user: None,
        status: "Active".into(),
        created: clock::now_secs_f64(),
        expires: Some(now + 3600 * 1000),
        role_arn: Some(role_arn.to_string()),
        session_policy: None,
    };
    let commit = {
        let mut st = p.identity.lock();
        p.identity.put_key(&mut st, c.clone())
    };
    durable(commit).await?;
    Ok(c)
}

async fn open_id_token(
    pool_id: &str,
    identity_id: &str,
    amr: Vec<String>,
    ttl: i64,
) -> Result<String> {
    let key = openid_key().await?;
    let now = clock::now_secs();
    Ok(key.sign(&json!({
        "sub": identity_id,
        "aud": pool_id,
        "amr": amr,
        "iss": format!("https://{OPENID_ISSUER}"),
        "exp": now + ttl,
        "iat": now,
    })))
}

fn amr_of(logins: &[Login]) -> Vec<String> {
    if logins.is_empty() {
        return vec!["unauthenticated".into()];
    }
    let mut amr = vec!["authenticated".to_string()];
    amr.extend(logins.iter().map(|l| l.provider.clone()));
    amr
}

pub async fn get_open_id_token(
    p: &IdentityPools,
    _ctx: &RequestContext,
    input: IdentityInput,
) -> Result<Value> {
    let (_, pool_id, _, logins) = authenticate(p, &input).await?;
    let token = open_id_token(&pool_id, &input.identity_id, amr_of(&logins), 600).await?;
    Ok(json!({"IdentityId": input.identity_id, "Token": token}))
}

pub async fn get_open_id_token_for_developer_identity(
    p: &IdentityPools,
    ctx: &RequestContext,
    input: DeveloperInput,
) -> Result<Value> {
    let (account, pool) = find_pool(p, Some(&ctx.account_id), &input.identity_pool_id)?;
    let dev = config_str(&pool, "DeveloperProviderName")
        .unwrap_or("")
        .to_string();
    let ttl = input.token_duration.unwrap_or(900);
    if !(1..=86_400).contains(&ttl) {
        return Err(Code::InvalidParameterException.msg(format!(
            "1 validation error detected: Value '{ttl}' at 'tokenDuration' failed to satisfy constraint: Member must have value less than or equal to 86400"
        )));
    }
    let mut logins = Vec::new();
    let mut others = BTreeMap::new();
    for (provider, value) in &input.logins {
        if !dev.is_empty() && *provider == dev {
            logins.push(Login {
                provider: provider.clone(),
                subject: value.clone(),
                claims: Map::new(),
                mapping_key: provider.clone(),
            });
        } else {
            others.insert(provider.clone(), value.clone());
        }
    }
    if logins.is_empty() {
        return Err(Code::NotAuthorizedException.msg(format!(
            "The developer provider name in Logins does not match the pool's developer provider name ({dev})."
        )));
    }
    logins.extend(check_logins(p, &input.identity_pool_id, &pool, &others).await?);
    if let Some(id) = &input.identity_id
        && !pool.identities.contains_key(id)
    {
        return Err(Code::ResourceNotFoundException.msg(format!("Identity '{id}' not found.")));
    }
    let id = identity_for(
        p,
        &account,
        &input.identity_pool_id,
        &logins,
        input.identity_id,
    )
    .await?;
    let token = open_id_token(&input.identity_pool_id, &id, amr_of(&logins), ttl).await?;
    Ok(json!({"IdentityId": id, "Token": token}))
}

fn description(id: &str, rec: &IdentityRecord) -> Value {
    let mut v = json!({
        "IdentityId": id,
        "CreationDate": rec.created,
        "LastModifiedDate": rec.modified,
    });
    if !rec.logins.is_empty() {
        v["Logins"] = json!(rec.logins.keys().collect::<Vec<_>>());
    }
    v
}

pub fn describe_identity(p: &IdentityPools, _ctx: &RequestContext, input: &Value) -> Result<Value> {
    let id = input
        .get("IdentityId")
        .and_then(Value::as_str)
        .unwrap_or("");
    let (_, _, pool) = find_identity(p, id)?;
    Ok(pool
        .identities
        .get(id)
        .map_or(Value::Null, |r| description(id, r)))
}

pub fn list_identities(p: &IdentityPools, ctx: &RequestContext, input: &Value) -> Result<Value> {
    let pool_id = input
        .get("IdentityPoolId")
        .and_then(Value::as_str)
        .unwrap_or("");
    let max = input
        .get("MaxResults")
        .and_then(Value::as_u64)
        .unwrap_or(60) as usize;
    let after = input.get("NextToken").and_then(Value::as_str).unwrap_or("");
    p.read(ctx, pool_id, |pool| {
        let all: Vec<Value> = pool
            .identities
            .iter()
            .filter(|(id, _)| after.is_empty() || id.as_str() > after)
            .map(|(id, r)| description(id, r))
            .collect();
        let mut out = json!({"IdentityPoolId": pool_id, "Identities": all.iter().take(max).collect::<Vec<_>>()});
        if all.len() > max {
            out["NextToken"] = all[max - 1]["IdentityId"].clone();
        }
        Ok(out)
    })
}

pub async fn delete_identities(
    p: &IdentityPools,
    _ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    let ids: Vec<String> = input
        .get("IdentityIdsToDelete")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let mut unprocessed = Vec::new();
    for id in ids {
        match find_identity(p, &id) {
            Ok((account, pool_id, _)) => {
                p.write(&account, &pool_id, None, |pool| {
                    pool.identities.remove(&id);
                    Ok(((), true))
                })
                .await?;
            }
            Err(_) => {
                unprocessed.push(json!({"IdentityId": id, "ErrorCode": "InternalServerError"}))
            }
        }
    }
    Ok(json!({"UnprocessedIdentityIds": unprocessed}))
}
