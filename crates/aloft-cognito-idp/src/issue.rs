//! The end of every sign-in: ID, access and refresh tokens, with PreTokenGeneration's overrides.

use aloft_core::{RequestContext, clock, ids};
use serde_json::{Map, Value, json};

use crate::error::{Result, client_not_found, user_not_found};
use crate::state::{Inner, Record};
use crate::tokens::{self, RefreshClaims};
use crate::triggers::{self, Call};

/// What an OAuth authorization granted: its scopes and the client's nonce.
#[derive(Debug, Clone, Default)]
pub struct Grant {
    pub scopes: Vec<String>,
    pub nonce: Option<String>,
}

/// The access token's scope when none was asked for: the API sign-in's.
const SIGNIN_SCOPE: &str = "aws.cognito.signin.user.admin";

/// Issues ID, access and (on sign-in) refresh tokens, running PreTokenGeneration.
pub async fn issue_tokens(
    inner: &Inner,
    ctx: &RequestContext,
    pool_id: &str,
    client_id: &str,
    username: &str,
    refreshing: Option<&RefreshClaims>,
    source: &str,
) -> Result<Value> {
    issue_tokens_with(
        inner, ctx, pool_id, client_id, username, refreshing, source, None,
    )
    .await
}

/// [`issue_tokens`] for an OAuth grant: the access token carries the granted scopes (kept by
/// the refresh token), the ID token the nonce.
#[allow(clippy::too_many_arguments)]
pub async fn issue_tokens_with(
    inner: &Inner,
    ctx: &RequestContext,
    pool_id: &str,
    client_id: &str,
    username: &str,
    refreshing: Option<&RefreshClaims>,
    source: &str,
    grant: Option<&Grant>,
) -> Result<Value> {
    let key = inner.key(pool_id).await?;
    let now = clock::now_secs();
    let oauth_scope: Option<String> = grant
        .map(|g| g.scopes.join(" "))
        .or_else(|| refreshing.and_then(|r| r.scope.clone()));
    let scope = oauth_scope
        .clone()
        .unwrap_or_else(|| SIGNIN_SCOPE.to_string());
    let (mut id_claims, mut access_claims, validity, trigger, groups_roles) =
        inner.read_any(pool_id, |p| {
            let u = p.users.get(username).ok_or_else(user_not_found)?;
            let c = p
                .clients
                .get(client_id)
                .ok_or_else(|| client_not_found(client_id))?;
            let iss = format!("{}/{}", ctx.base_url.trim_end_matches('/'), p.id);
            let (origin, auth_time) = match refreshing {
                Some(r) => (r.origin_jti.clone(), r.auth_time),
                None => (ids::uuid(), now),
            };
            let event_id = ids::uuid();
            let mut groups: Vec<&crate::model::Group> =
                u.groups.iter().filter_map(|g| p.groups.get(g)).collect();
            groups.sort_by_key(|g| (g.precedence.unwrap_or(i64::MAX), g.name.clone()));
            let group_names: Vec<String> = groups.iter().map(|g| g.name.clone()).collect();
            let roles: Vec<String> = groups.iter().filter_map(|g| g.role_arn.clone()).collect();
            let preferred = groups.iter().find_map(|g| g.role_arn.clone());
            let mut id = Map::new();
            id.insert("sub".into(), u.sub().into());
            if !group_names.is_empty() {
                id.insert("cognito:groups".into(), json!(group_names));
            }
            for (k, v) in &u.attributes {
                if k == "sub" {
                    continue;
                }
                let val = if k.ends_with("_verified") {
                    json!(v == "true")
                } else {
                    json!(v)
                };
                id.insert(k.clone(), val);
            }
            id.insert("iss".into(), iss.clone().into());
            id.insert("cognito:username".into(), u.username.clone().into());
            if !roles.is_empty() {
                id.insert("cognito:roles".into(), json!(roles));
            }
            if let Some(r) = &preferred {
                id.insert("cognito:preferred_role".into(), r.clone().into());
            }
            id.insert("origin_jti".into(), origin.clone().into());
            id.insert("aud".into(), client_id.into());
            id.insert("event_id".into(), event_id.clone().into());
            id.insert("token_use".into(), "id".into());
            id.insert("auth_time".into(), auth_time.into());
            if let Some(n) = grant.and_then(|g| g.nonce.as_ref()) {
                id.insert("nonce".into(), n.clone().into());
            }
            let mut access = Map::new();
            access.insert("sub".into(), u.sub().into());
            if !group_names.is_empty() {
                access.insert("cognito:groups".into(), json!(group_names));
            }
            access.insert("iss".into(), iss.into());
            access.insert("client_id".into(), client_id.into());
            access.insert("origin_jti".into(), origin.clone().into());
            access.insert("event_id".into(), event_id.into());
            access.insert("token_use".into(), "access".into());
            access.insert("scope".into(), scope.clone().into());
            access.insert("auth_time".into(), auth_time.into());
            access.insert("username".into(), u.username.clone().into());
            access.insert("version".into(), 2.into());
            let validity = (
                c.validity_secs("AccessToken"),
                c.validity_secs("IdToken"),
                c.validity_secs("RefreshToken"),
            );
            let version = p
                .setting(&["LambdaConfig", "PreTokenGenerationConfig", "LambdaVersion"])
                .and_then(Value::as_str)
                .unwrap_or("V1_0")
                .to_string();
            let trigger = p
                .trigger("PreTokenGeneration")
                .or_else(|| {
                    p.setting(&["LambdaConfig", "PreTokenGenerationConfig", "LambdaArn"])
                        .and_then(Value::as_str)
                        .map(str::to_string)
                })
                .map(|arn| {
                    (
                        Call {
                            arn,
                            pool_id: p.id.clone(),
                            region: p.region.clone(),
                            account: p.account.clone(),
                            client_id: Some(client_id.to_string()),
                        },
                        version,
                        triggers::attributes(u),
                    )
                });
            Ok((
                id,
                access,
                validity,
                trigger,
                (group_names, roles, preferred),
            ))
        })?;
    if let Some((call, version, attrs)) = trigger {
        let request = json!({
            "userAttributes": attrs,
            "groupConfiguration": {"groupsToOverride": groups_roles.0, "iamRolesToOverride": groups_roles.1, "preferredRole": groups_roles.2},
            "scopes": scope.split(' ').collect::<Vec<_>>(),
        });
        let resp = triggers::invoke(
            inner,
            &call,
            "PreTokenGeneration",
            source,
            username,
            request,
            json!({"claimsOverrideDetails": null}),
        )
        .await?;
        apply_overrides(&resp, &version, &mut id_claims, &mut access_claims);
    }
    let (access_secs, id_secs, refresh_secs) = validity;
    let stamp = |m: &mut Map<String, Value>, secs: i64| {
        m.insert("exp".into(), (now + secs).into());
        m.insert("iat".into(), now.into());
        m.insert("jti".into(), ids::uuid().into());
    };
    stamp(&mut id_claims, id_secs);
    stamp(&mut access_claims, access_secs);
    let mut result = json!({
        "AccessToken": key.sign(&access_claims),
        "ExpiresIn": access_secs,
        "TokenType": "Bearer",
        "IdToken": key.sign(&id_claims),
    });
    if refreshing.is_none() {
        let origin = access_claims["origin_jti"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let claims = RefreshClaims {
            pool: pool_id.to_string(),
            username: username.to_string(),
            client: client_id.to_string(),
            origin_jti: origin.clone(),
            auth_time: now,
            iat: now,
            exp: now + refresh_secs,
            scope: oauth_scope.clone(),
        };
        let (secret, post) = inner
            .mutate_any(pool_id, |p| {
                let post = p.users.get(username).and_then(|u| {
                    Call::of(p, "PostAuthentication", Some(client_id))
                        .map(|c| (c, triggers::attributes(u)))
                });
                let u = p.users.get_mut(username).ok_or_else(user_not_found)?;
                u.start_family(&origin, (now + refresh_secs) * 1000, now * 1000);
                Ok((
                    (p.refresh_secret.clone(), post),
                    vec![Record::User(username.to_string())],
                ))
            })
            .await?;
        result["RefreshToken"] =
            tokens::refresh_token(&hex::decode(secret).unwrap_or_default(), &claims).into();
        if let Some((call, attrs)) = post {
            triggers::invoke(
                inner,
                &call,
                "PostAuthentication",
                "PostAuthentication_Authentication",
                username,
                json!({"userAttributes": attrs, "newDeviceUsed": false}),
                json!({}),
            )
            .await?;
        }
    }
    Ok(result)
}

/// PreTokenGeneration's answer: v1 `claimsOverrideDetails` (ID token only) or v2
/// `claimsAndScopeOverrideDetails` (both tokens and scopes). Reserved claims cannot change.
fn apply_overrides(
    resp: &Value,
    version: &str,
    id: &mut Map<String, Value>,
    access: &mut Map<String, Value>,
) {
    const RESERVED: &[&str] = &[
        "iss",
        "sub",
        "aud",
        "exp",
        "iat",
        "auth_time",
        "token_use",
        "jti",
        "origin_jti",
        "event_id",
        "cognito:username",
        "client_id",
        "username",
    ];
    let apply = |m: &mut Map<String, Value>, spec: Option<&Value>| {
        let Some(spec) = spec else { return };
        if let Some(add) = spec.get("claimsToAddOrOverride").and_then(Value::as_object) {
            for (k, v) in add {
                if !RESERVED.contains(&k.as_str()) {
                    m.insert(k.clone(), v.clone());
                }
            }
        }
        if let Some(sup) = spec.get("claimsToSuppress").and_then(Value::as_array) {
            for k in sup.iter().filter_map(Value::as_str) {
                if !RESERVED.contains(&k) {
                    m.remove(k);
                }
            }
        }
    };
    let groups = |m: &mut Map<String, Value>, g: Option<&Value>| {
        if let Some(g) = g
            && let Some(list) = g.get("groupsToOverride").filter(|v| v.is_array())
        {
            m.insert("cognito:groups".into(), list.clone());
        }
    };
    if version.starts_with("V1") {
        let d = resp.get("claimsOverrideDetails");
        apply(id, d);
        let g = d.and_then(|d| d.get("groupOverrideDetails"));
        groups(id, g);
        groups(access, g);
        if let Some(roles) = g
            .and_then(|g| g.get("iamRolesToOverride"))
            .filter(|v| v.is_array())
        {
            id.insert("cognito:roles".into(), roles.clone());
        }
    } else {
        let d = resp.get("claimsAndScopeOverrideDetails");
        apply(id, d.and_then(|d| d.get("idTokenGeneration")));
        let at = d.and_then(|d| d.get("accessTokenGeneration"));
        apply(access, at);
        groups(id, d.and_then(|d| d.get("groupOverrideDetails")));
        groups(access, d.and_then(|d| d.get("groupOverrideDetails")));
        if let Some(at) = at {
            let mut scopes: Vec<String> = access
                .get("scope")
                .and_then(Value::as_str)
                .unwrap_or("")
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
            for s in at
                .get("scopesToAdd")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                if !scopes.iter().any(|x| x == s) {
                    scopes.push(s.to_string());
                }
            }
            if let Some(sup) = at.get("scopesToSuppress").and_then(Value::as_array) {
                scopes.retain(|s| !sup.iter().any(|x| x == s.as_str()));
            }
            access.insert("scope".into(), scopes.join(" ").into());
        }
    }
}
