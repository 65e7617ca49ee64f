//! Identity pools themselves: Create/Describe/Update/Delete/List, roles and role mappings, tags.

use std::collections::BTreeMap;

use aloft_core::RequestContext;
use serde_json::{Map, Value, json};

use super::{Code, IdentityPools, Pool, Result};

/// The `IdentityPool` members a pool keeps (everything but the id).
const CONFIG_MEMBERS: &[&str] = &[
    "IdentityPoolName",
    "AllowUnauthenticatedIdentities",
    "AllowClassicFlow",
    "SupportedLoginProviders",
    "DeveloperProviderName",
    "OpenIdConnectProviderARNs",
    "CognitoIdentityProviders",
    "SamlProviderARNs",
    "IdentityPoolTags",
];

fn str_of<'a>(input: &'a Value, name: &str) -> &'a str {
    input.get(name).and_then(Value::as_str).unwrap_or("")
}

fn config_of(input: &Value) -> Result<Map<String, Value>> {
    let mut config = Map::new();
    for m in CONFIG_MEMBERS {
        if let Some(v) = input.get(*m) {
            config.insert((*m).to_string(), v.clone());
        }
    }
    let name = str_of(input, "IdentityPoolName");
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_alphanumeric() || c == ' ' || c == '_' || c == '-')
    {
        return Err(Code::InvalidParameterException.msg(format!(
            "1 validation error detected: Value '{name}' at 'identityPoolName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w\\s+=,.@-]+"
        )));
    }
    Ok(config)
}

fn described(id: &str, p: &Pool) -> Value {
    let mut v = p.config.clone();
    v.insert("IdentityPoolId".into(), json!(id));
    for (k, default) in [
        ("AllowUnauthenticatedIdentities", json!(false)),
        ("AllowClassicFlow", json!(false)),
        ("SupportedLoginProviders", json!({})),
        ("OpenIdConnectProviderARNs", json!([])),
        ("CognitoIdentityProviders", json!([])),
        ("SamlProviderARNs", json!([])),
        ("IdentityPoolTags", json!({})),
    ] {
        v.entry(k).or_insert(default);
    }
    Value::Object(v)
}

fn pool_id_of(input: &Value) -> Result<String> {
    let id = str_of(input, "IdentityPoolId");
    // `{region}:{uuid}`
    let ok = id
        .split_once(':')
        .is_some_and(|(r, u)| !r.is_empty() && !u.is_empty() && u.len() <= 128);
    if ok {
        Ok(id.to_string())
    } else {
        Err(Code::InvalidParameterException.msg(format!(
            "1 validation error detected: Value '{id}' at 'identityPoolId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w-]+:[0-9a-f-]+"
        )))
    }
}

pub async fn create_identity_pool(
    p: &IdentityPools,
    ctx: &RequestContext,
    input: Value,
) -> Result<Value> {
    let config = config_of(&input)?;
    let id = format!("{}:{}", ctx.region, uuid::Uuid::new_v4());
    let pool = Pool {
        config,
        roles: BTreeMap::new(),
        role_mappings: Map::new(),
        identities: BTreeMap::new(),
    };
    p.write(&ctx.account_id, &id, Some(pool), |pool| {
        Ok((described(&id, pool), true))
    })
    .await
}

pub fn describe_identity_pool(
    p: &IdentityPools,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    let id = pool_id_of(input)?;
    p.read(ctx, &id, |pool| Ok(described(&id, pool)))
}

pub async fn update_identity_pool(
    p: &IdentityPools,
    ctx: &RequestContext,
    input: Value,
) -> Result<Value> {
    let id = pool_id_of(&input)?;
    let config = config_of(&input)?;
    p.write(&ctx.account_id, &id, None, |pool| {
        // An update replaces the configuration; tags stay unless given.
        let tags = pool.config.get("IdentityPoolTags").cloned();
        pool.config = config;
        if let Some(t) = tags {
            pool.config.entry("IdentityPoolTags").or_insert(t);
        }
        Ok((described(&id, pool), true))
    })
    .await
}

pub async fn delete_identity_pool(
    p: &IdentityPools,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    let id = pool_id_of(input)?;
    p.write(&ctx.account_id, &id, None, |_| Ok((json!({}), false)))
        .await
}

pub fn list_identity_pools(
    p: &IdentityPools,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    let max = input
        .get("MaxResults")
        .and_then(Value::as_u64)
        .unwrap_or(60);
    if !(1..=60).contains(&max) {
        return Err(Code::InvalidParameterException.msg(format!(
            "1 validation error detected: Value '{max}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 60"
        )));
    }
    let after = str_of(input, "NextToken");
    let prefix = format!("{}/{}:", ctx.account_id, ctx.region);
    let st = p.lock();
    let mut page: Vec<Value> = Vec::new();
    let mut next = None;
    for (k, pool) in st.pools.range(prefix.clone()..) {
        if !k.starts_with(&prefix) {
            break;
        }
        let id = &k[ctx.account_id.len() + 1..];
        if !after.is_empty() && id <= after {
            continue;
        }
        if page.len() as u64 == max {
            next = page.last().and_then(|v| v.get("IdentityPoolId")).cloned();
            break;
        }
        page.push(json!({
            "IdentityPoolId": id,
            "IdentityPoolName": pool.config.get("IdentityPoolName"),
        }));
    }
    let mut out = json!({ "IdentityPools": page });
    if let Some(n) = next {
        out["NextToken"] = n;
    }
    Ok(out)
}

pub async fn set_identity_pool_roles(
    p: &IdentityPools,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    let id = pool_id_of(input)?;
    let mut roles = BTreeMap::new();
    for (k, v) in input
        .get("Roles")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        if k != "authenticated" && k != "unauthenticated" {
            return Err(Code::InvalidParameterException.msg(format!(
                "Invalid role type {k}. Valid values are authenticated and unauthenticated"
            )));
        }
        let arn = v.as_str().unwrap_or("");
        if !arn.starts_with("arn:") || !arn.contains(":role/") {
            return Err(Code::InvalidParameterException.msg(format!("Invalid RoleArn {arn}")));
        }
        roles.insert(k.clone(), arn.to_string());
    }
    let mappings = input
        .get("RoleMappings")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for (provider, m) in &mappings {
        let kind = m.get("Type").and_then(Value::as_str).unwrap_or("");
        let rules = m
            .pointer("/RulesConfiguration/Rules")
            .and_then(Value::as_array);
        if kind == "Rules" && rules.is_none_or(Vec::is_empty) {
            return Err(Code::InvalidParameterException.msg(format!(
                "RulesConfiguration is required for the Rules role mapping type of {provider}"
            )));
        }
        if m.get("AmbiguousRoleResolution").is_none() {
            return Err(Code::InvalidParameterException.msg(
                "AmbiguousRoleResolution must be specified for Token and Rules role mappings",
            ));
        }
    }
    p.write(&ctx.account_id, &id, None, |pool| {
        pool.roles = roles;
        pool.role_mappings = mappings;
        Ok((json!({}), true))
    })
    .await
}

pub fn get_identity_pool_roles(
    p: &IdentityPools,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    let id = pool_id_of(input)?;
    p.read(ctx, &id, |pool| {
        let mut out = json!({"IdentityPoolId": id, "Roles": pool.roles});
        if !pool.role_mappings.is_empty() {
            out["RoleMappings"] = Value::Object(pool.role_mappings.clone());
        }
        Ok(out)
    })
}

/// Tags live in the pool's `IdentityPoolTags`; resources are named by pool ARN.
pub async fn tags(
    p: &IdentityPools,
    ctx: &RequestContext,
    op: &str,
    input: &Value,
) -> Result<Value> {
    let arn = str_of(input, "ResourceArn");
    let id = arn
        .split(":identitypool/")
        .nth(1)
        .ok_or_else(|| Code::InvalidParameterException.msg(format!("Invalid ARN {arn}")))?
        .to_string();
    if op == "ListTagsForResource" {
        return p.read(ctx, &id, |pool| {
            Ok(json!({"Tags": pool.config.get("IdentityPoolTags").cloned().unwrap_or(json!({}))}))
        });
    }
    let add = input.get("Tags").and_then(Value::as_object).cloned();
    let remove: Vec<String> = input
        .get("TagKeys")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    p.write(&ctx.account_id, &id, None, |pool| {
        let tags = pool
            .config
            .entry("IdentityPoolTags")
            .or_insert_with(|| json!({}));
        if let Some(t) = tags.as_object_mut() {
            for (k, v) in add.into_iter().flatten() {
                t.insert(k, v);
            }
            for k in &remove {
                t.remove(k);
            }
        }
        Ok((json!({}), true))
    })
    .await
}
