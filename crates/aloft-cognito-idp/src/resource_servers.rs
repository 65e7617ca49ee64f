//! Resource servers (Create/Describe/Update/Delete/ListResourceServers): the custom scopes
//! `{identifier}/{scope}` that app clients may be allowed and client_credentials tokens carry;
//! and the checks of an app client's OAuth settings against them.

use aloft_core::RequestContext;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::error::{Code, Result, invalid};
use crate::model::Pool;
use crate::pools::{check_max, page};
use crate::state::{Inner, Record};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResourceServerInput {
    user_pool_id: String,
    identifier: String,
    name: Option<String>,
    scopes: Option<Vec<ScopeInput>>,
}

#[derive(Deserialize, Clone)]
#[serde(rename_all = "PascalCase")]
struct ScopeInput {
    scope_name: String,
    scope_description: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListInput {
    user_pool_id: String,
    max_results: Option<i64>,
    next_token: Option<String>,
}

/// The scopes every pool knows without a resource server.
pub const STANDARD_SCOPES: &[&str] = &[
    "openid",
    "email",
    "phone",
    "profile",
    "aws.cognito.signin.user.admin",
];

fn not_found(identifier: &str) -> aloft_core::AwsError {
    Code::ResourceNotFoundException.msg(format!("Resource server {identifier} does not exist."))
}

fn shape(pool: &Pool, input: &ResourceServerInput) -> Result<Value> {
    let name = input.name.clone().ok_or_else(|| {
        invalid("1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null")
    })?;
    let scopes = input.scopes.clone().unwrap_or_default();
    let mut seen = std::collections::BTreeSet::new();
    for s in &scopes {
        if !seen.insert(s.scope_name.clone()) {
            return Err(invalid(format!(
                "Duplicate scope names are not allowed: {}",
                s.scope_name
            )));
        }
    }
    let mut out = Map::new();
    out.insert("UserPoolId".into(), pool.id.clone().into());
    out.insert("Identifier".into(), input.identifier.clone().into());
    out.insert("Name".into(), name.into());
    if input.scopes.is_some() {
        out.insert(
            "Scopes".into(),
            scopes
                .iter()
                .map(
                    |s| json!({"ScopeName": s.scope_name, "ScopeDescription": s.scope_description}),
                )
                .collect(),
        );
    }
    Ok(Value::Object(out))
}

pub async fn create_resource_server(
    inner: &Inner,
    ctx: &RequestContext,
    input: ResourceServerInput,
) -> Result<Value> {
    inner
        .mutate(ctx, &input.user_pool_id, |p| {
            if p.resource_servers.contains_key(&input.identifier) {
                return Err(invalid(format!(
                    "{} already exists in {}",
                    input.identifier, p.id
                )));
            }
            if p.resource_servers.len() >= 25 {
                return Err(Code::LimitExceededException.msg(
                    "The maximum number of resource servers for the user pool has been reached.",
                ));
            }
            let rs = shape(p, &input)?;
            p.resource_servers
                .insert(input.identifier.clone(), rs.clone());
            Ok((json!({"ResourceServer": rs}), vec![Record::Pool]))
        })
        .await
}

pub fn describe_resource_server(
    inner: &Inner,
    ctx: &RequestContext,
    input: ResourceServerInput,
) -> Result<Value> {
    inner.read(ctx, &input.user_pool_id, |p| {
        let rs = p
            .resource_servers
            .get(&input.identifier)
            .ok_or_else(|| not_found(&input.identifier))?;
        Ok(json!({"ResourceServer": rs}))
    })
}

pub async fn update_resource_server(
    inner: &Inner,
    ctx: &RequestContext,
    input: ResourceServerInput,
) -> Result<Value> {
    inner
        .mutate(ctx, &input.user_pool_id, |p| {
            if !p.resource_servers.contains_key(&input.identifier) {
                return Err(not_found(&input.identifier));
            }
            // Like the other Update* calls, the scopes not given are gone afterwards.
            let rs = shape(p, &input)?;
            p.resource_servers
                .insert(input.identifier.clone(), rs.clone());
            Ok((json!({"ResourceServer": rs}), vec![Record::Pool]))
        })
        .await
}

pub async fn delete_resource_server(
    inner: &Inner,
    ctx: &RequestContext,
    input: ResourceServerInput,
) -> Result<Value> {
    inner
        .mutate(ctx, &input.user_pool_id, |p| {
            p.resource_servers
                .remove(&input.identifier)
                .ok_or_else(|| not_found(&input.identifier))?;
            Ok((json!({}), vec![Record::Pool]))
        })
        .await
}

pub fn list_resource_servers(
    inner: &Inner,
    ctx: &RequestContext,
    input: ListInput,
) -> Result<Value> {
    let limit = check_max(input.max_results, 50, false)?;
    inner.read(ctx, &input.user_pool_id, |p| {
        let items = p
            .resource_servers
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let (servers, next) = page(items, input.next_token.as_deref(), limit);
        let mut out = json!({"ResourceServers": servers});
        if let Some(n) = next {
            out["NextToken"] = n.into();
        }
        Ok(out)
    })
}

/// Whether `scope` is a standard scope or `{identifier}/{name}` of one of the pool's servers.
pub fn scope_exists(pool: &Pool, scope: &str) -> bool {
    if STANDARD_SCOPES.contains(&scope) {
        return true;
    }
    pool.resource_servers.iter().any(|(id, rs)| {
        scope
            .strip_prefix(id.as_str())
            .and_then(|r| r.strip_prefix('/'))
            .is_some_and(|name| {
                rs.get("Scopes")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .any(|s| s["ScopeName"] == name)
            })
    })
}

/// Checks an app client's OAuth members as CreateUserPoolClient/UpdateUserPoolClient do.
pub fn check_client_oauth(pool: &Pool, settings: &Map<String, Value>) -> Result<()> {
    let list = |k: &str| -> Vec<String> {
        settings
            .get(k)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let flows = list("AllowedOAuthFlows");
    for scope in list("AllowedOAuthScopes") {
        if !scope_exists(pool, &scope) {
            return Err(
                Code::ScopeDoesNotExistException.msg(format!("Invalid scope requested: {scope}"))
            );
        }
    }
    if flows.iter().any(|f| f == "client_credentials") {
        if flows.len() > 1 {
            return Err(Code::InvalidOAuthFlowException.msg(
                "client_credentials flow can not be selected along with code flow or implicit flow.",
            ));
        }
        if !settings.contains_key("ClientSecret") {
            return Err(Code::InvalidOAuthFlowException.msg(
                "client_credentials flow can not be selected if client does not have a client secret.",
            ));
        }
        if list("AllowedOAuthScopes")
            .iter()
            .any(|s| STANDARD_SCOPES.contains(&s.as_str()))
        {
            return Err(Code::InvalidOAuthFlowException.msg(
                "Only custom scopes (resource-server scopes) can be requested in client_credentials flow.",
            ));
        }
    }
    let user_flows = flows.iter().any(|f| f == "code" || f == "implicit");
    if user_flows && list("CallbackURLs").is_empty() {
        return Err(invalid(
            "CallbackURLs can not be empty when an OAuth flow is selected.",
        ));
    }
    if let Some(d) = settings.get("DefaultRedirectURI").and_then(Value::as_str)
        && !list("CallbackURLs").iter().any(|c| c == d)
    {
        return Err(invalid(
            "Default redirect URI must be one of the callback URLs.",
        ));
    }
    for url in list("CallbackURLs").iter().chain(list("LogoutURLs").iter()) {
        let local = url.starts_with("http://localhost") || url.starts_with("http://127.0.0.1");
        if url.starts_with("http://") && !local {
            return Err(invalid(format!(
                "{url} is not a valid redirect URL: http is allowed only for localhost."
            )));
        }
        if url.contains('#') {
            return Err(invalid(format!(
                "{url} is not a valid redirect URL: it must not contain a fragment."
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool() -> Pool {
        let mut p: Pool = serde_json::from_value(json!({
            "id": "us-east-1_x", "name": "p", "account": "0", "region": "us-east-1",
            "settings": {}, "created": 0.0, "modified": 0.0, "clients": {}, "groups": {},
            "domain": null, "key": null, "refresh_secret": "00"
        }))
        .unwrap();
        p.resource_servers.insert(
            "api".into(),
            json!({"Identifier": "api", "Scopes": [{"ScopeName": "read", "ScopeDescription": "r"}]}),
        );
        p
    }

    #[test]
    fn custom_scopes_are_identifier_slash_name() {
        let p = pool();
        assert!(scope_exists(&p, "api/read"));
        assert!(scope_exists(&p, "openid"));
        assert!(!scope_exists(&p, "api/write"));
        assert!(!scope_exists(&p, "apiread"));
    }

    #[test]
    fn client_credentials_needs_a_secret_and_custom_scopes() {
        let p = pool();
        let s = |v: Value| v.as_object().unwrap().clone();
        let e = check_client_oauth(
            &p,
            &s(json!({"AllowedOAuthFlows": ["client_credentials"], "AllowedOAuthScopes": ["api/read"]})),
        )
        .unwrap_err();
        assert_eq!(e.code, "InvalidOAuthFlowException");
        assert!(check_client_oauth(
            &p,
            &s(json!({"AllowedOAuthFlows": ["client_credentials"], "AllowedOAuthScopes": ["api/read"], "ClientSecret": "x"}))
        )
        .is_ok());
        let e =
            check_client_oauth(&p, &s(json!({"AllowedOAuthScopes": ["api/nope"]}))).unwrap_err();
        assert_eq!(e.code, "ScopeDoesNotExistException");
        let e = check_client_oauth(
            &p,
            &s(json!({"AllowedOAuthFlows": ["code"], "CallbackURLs": ["http://example.com/cb"]})),
        )
        .unwrap_err();
        assert_eq!(e.code, "InvalidParameterException");
        assert!(check_client_oauth(
            &p,
            &s(json!({"AllowedOAuthFlows": ["code"], "CallbackURLs": ["http://localhost:3000/cb"]}))
        )
        .is_ok());
    }
}
