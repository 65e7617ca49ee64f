//! User pools, their app clients and domains.

use aloft_core::{RequestContext, clock, ids};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::error::{Code, Result, client_not_found, invalid};
use crate::model::{Client, Pool};
use crate::state::{Inner, Record, durable};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateUserPoolInput {
    pool_name: String,
    #[serde(flatten)]
    settings: Map<String, Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PoolIdInput {
    user_pool_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListInput {
    max_results: Option<i64>,
    next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ClientInput {
    user_pool_id: String,
    client_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListClientsInput {
    user_pool_id: String,
    max_results: Option<i64>,
    next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DomainInput {
    domain: String,
    user_pool_id: Option<String>,
}

const STANDARD_ATTRIBUTES: &[(&str, &str)] = &[
    ("sub", "String"),
    ("name", "String"),
    ("given_name", "String"),
    ("family_name", "String"),
    ("middle_name", "String"),
    ("nickname", "String"),
    ("preferred_username", "String"),
    ("profile", "String"),
    ("picture", "String"),
    ("website", "String"),
    ("email", "String"),
    ("email_verified", "Boolean"),
    ("gender", "String"),
    ("birthdate", "String"),
    ("zoneinfo", "String"),
    ("locale", "String"),
    ("phone_number", "String"),
    ("phone_number_verified", "Boolean"),
    ("address", "String"),
    ("updated_at", "Number"),
];

fn standard_schema(name: &str, kind: &str) -> Value {
    let mut a = json!({
        "Name": name, "AttributeDataType": kind, "DeveloperOnlyAttribute": false,
        "Mutable": name != "sub", "Required": name == "sub",
    });
    match kind {
        "String" => {
            let (min, max) = match name {
                "sub" => ("1", "2048"),
                "birthdate" => ("10", "10"),
                _ => ("0", "2048"),
            };
            a["StringAttributeConstraints"] = json!({"MinLength": min, "MaxLength": max});
        }
        "Number" => a["NumberAttributeConstraints"] = json!({"MinValue": "0"}),
        _ => {}
    }
    a
}

/// `SchemaAttributes`: the standard attributes with the pool's overrides, then custom ones.
fn schema(given: Option<&Value>) -> Result<Value> {
    let mut out: Vec<Value> = STANDARD_ATTRIBUTES
        .iter()
        .map(|(n, k)| standard_schema(n, k))
        .collect();
    for a in given.and_then(Value::as_array).into_iter().flatten() {
        let name = a
            .get("Name")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("Schema attribute name is required"))?;
        if let Some(std) = out.iter_mut().find(|s| s["Name"] == name) {
            for key in [
                "Required",
                "Mutable",
                "StringAttributeConstraints",
                "NumberAttributeConstraints",
            ] {
                if let Some(v) = a.get(key) {
                    std[key] = v.clone();
                }
            }
            continue;
        }
        let mut c = a.clone();
        c["Name"] = format!("custom:{name}").into();
        if c.get("AttributeDataType").is_none() {
            c["AttributeDataType"] = "String".into();
        }
        if c["AttributeDataType"] == "String" && c.get("StringAttributeConstraints").is_none() {
            c["StringAttributeConstraints"] = json!({});
        }
        c["DeveloperOnlyAttribute"] = c
            .get("DeveloperOnlyAttribute")
            .cloned()
            .unwrap_or(json!(false));
        c["Mutable"] = c.get("Mutable").cloned().unwrap_or(json!(true));
        if c.get("Required") == Some(&json!(true)) {
            return Err(invalid(
                "Required custom attributes are not supported currently.",
            ));
        }
        c["Required"] = json!(false);
        out.push(c);
    }
    Ok(Value::Array(out))
}

/// The settings of a pool as Cognito fills them in when they are not given.
fn with_defaults(mut s: Map<String, Value>) -> Result<Map<String, Value>> {
    let mut pp = json!({
        "MinimumLength": 8, "RequireUppercase": true, "RequireLowercase": true,
        "RequireNumbers": true, "RequireSymbols": true, "TemporaryPasswordValidityDays": 7,
    });
    if let Some(given) = s
        .get("Policies")
        .and_then(|p| p.get("PasswordPolicy"))
        .and_then(Value::as_object)
    {
        pp = json!({"MinimumLength": 8, "RequireUppercase": false, "RequireLowercase": false,
            "RequireNumbers": false, "RequireSymbols": false, "TemporaryPasswordValidityDays": 7});
        for (k, v) in given {
            pp[k] = v.clone();
        }
        let min = pp["MinimumLength"].as_i64().unwrap_or(8);
        if !(6..=99).contains(&min) {
            return Err(invalid(format!(
                "1 validation error detected: Value '{min}' at 'policies.passwordPolicy.minimumLength' failed to satisfy constraint: Member must have value {}",
                if min < 6 {
                    "greater than or equal to 6"
                } else {
                    "less than or equal to 99"
                }
            )));
        }
    }
    let mut policies = s.get("Policies").cloned().unwrap_or_else(|| json!({}));
    policies["PasswordPolicy"] = pp;
    if policies.get("SignInPolicy").is_none() {
        policies["SignInPolicy"] = json!({"AllowedFirstAuthFactors": ["PASSWORD"]});
    }
    s.insert("Policies".into(), policies);
    let defaults = [
        ("DeletionProtection", json!("INACTIVE")),
        ("LambdaConfig", json!({})),
        ("MfaConfiguration", json!("OFF")),
        (
            "AdminCreateUserConfig",
            json!({"AllowAdminCreateUserOnly": false, "UnusedAccountValidityDays": 7}),
        ),
        (
            "VerificationMessageTemplate",
            json!({"DefaultEmailOption": "CONFIRM_WITH_CODE"}),
        ),
        (
            "EmailConfiguration",
            json!({"EmailSendingAccount": "COGNITO_DEFAULT"}),
        ),
        ("UserPoolTier", json!("ESSENTIALS")),
    ];
    for (k, v) in defaults {
        s.entry(k).or_insert(v);
    }
    if let Some(m) = s.get("MfaConfiguration").and_then(Value::as_str)
        && !matches!(m, "OFF" | "ON" | "OPTIONAL")
    {
        return Err(invalid(format!(
            "1 validation error detected: Value '{m}' at 'mfaConfiguration' failed to satisfy constraint: Member must satisfy enum value set: [OFF, ON, OPTIONAL]"
        )));
    }
    Ok(s)
}

fn validate_pool_name(name: &str) -> Result<()> {
    let ok = (1..=128).contains(&name.chars().count())
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c.is_whitespace() || "+=,.@-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(invalid(format!(
            "1 validation error detected: Value '{name}' at 'poolName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w\\s+=,.@-]+"
        )))
    }
}

pub async fn create_user_pool(
    inner: &Inner,
    ctx: &RequestContext,
    input: CreateUserPoolInput,
) -> Result<Value> {
    validate_pool_name(&input.pool_name)?;
    let mut settings = input.settings;
    if settings.contains_key("UsernameAttributes") && settings.contains_key("AliasAttributes") {
        return Err(invalid(
            "Only one of the aliasAttributes or usernameAttributes can be set in a User Pool.",
        ));
    }
    let schema = schema(settings.remove("Schema").as_ref())?;
    settings.insert("SchemaAttributes".into(), schema);
    let settings = with_defaults(settings)?;
    let now = clock::now_secs_f64();
    let pool = Pool {
        id: format!("{}_{}", ctx.region, ids::random_string(9, ids::ALNUM)),
        name: input.pool_name,
        account: ctx.account_id.clone(),
        region: ctx.region.clone(),
        settings,
        created: now,
        modified: now,
        clients: Default::default(),
        groups: Default::default(),
        domain: None,
        resource_servers: Default::default(),
        key: None,
        refresh_secret: ids::hex(32),
        users: Default::default(),
    };
    let out = json!({"UserPool": pool.describe()});
    let id = pool.id.clone();
    durable(inner.insert_pool(pool)).await?;
    warm_key(inner, id);
    Ok(out)
}

/// Starts generating the pool's signing key now, so the first sign-in does not wait for it.
fn warm_key(inner: &Inner, pool_id: String) {
    // The key cell is shared: whoever comes first generates it.
    let fut = inner.key_owned(pool_id);
    tokio::spawn(fut);
}

pub fn describe_user_pool(
    inner: &Inner,
    ctx: &RequestContext,
    input: PoolIdInput,
) -> Result<Value> {
    inner.read(ctx, &input.user_pool_id, |p| {
        Ok(json!({"UserPool": p.describe()}))
    })
}

pub async fn update_user_pool(inner: &Inner, ctx: &RequestContext, input: Value) -> Result<Value> {
    let Value::Object(mut m) = input else {
        return Err(invalid("Invalid input"));
    };
    let pool_id = m
        .remove("UserPoolId")
        .and_then(|v| v.as_str().map(str::to_string))
        .ok_or_else(|| invalid("1 validation error detected: Value null at 'userPoolId' failed to satisfy constraint: Member must not be null"))?;
    inner
        .mutate(ctx, &pool_id, |p| {
            // UpdateUserPool resets every setting it is not given to its default, except those
            // that cannot change after creation.
            let mut settings = m;
            for keep in [
                "SchemaAttributes",
                "UsernameAttributes",
                "AliasAttributes",
                "UsernameConfiguration",
                "UserPoolTier",
            ] {
                if let Some(v) = p.settings.get(keep) {
                    settings.insert(keep.into(), v.clone());
                }
            }
            p.settings = with_defaults(settings)?;
            p.modified = clock::now_secs_f64();
            Ok((json!({}), vec![Record::Pool]))
        })
        .await
}

pub async fn delete_user_pool(
    inner: &Inner,
    ctx: &RequestContext,
    input: PoolIdInput,
) -> Result<Value> {
    for c in inner.remove_pool(ctx, &input.user_pool_id)? {
        durable(c).await?;
    }
    Ok(json!({}))
}

/// Returns up to `limit` items after `token` and the token of the next page.
pub(crate) fn page(
    items: Vec<(String, Value)>,
    token: Option<&str>,
    limit: usize,
) -> (Vec<Value>, Option<String>) {
    let start = token.map_or(0, |t| {
        items
            .iter()
            .position(|(k, _)| k.as_str() > t)
            .unwrap_or(items.len())
    });
    let rest = &items[start..];
    let next = (rest.len() > limit).then(|| rest[limit - 1].0.clone());
    (
        rest.iter().take(limit).map(|(_, v)| v.clone()).collect(),
        next,
    )
}

pub(crate) fn check_max(max: Option<i64>, hi: i64, required: bool) -> Result<usize> {
    match max {
        None if required => Err(invalid(
            "1 validation error detected: Value null at 'maxResults' failed to satisfy constraint: Member must not be null",
        )),
        None => Ok(hi as usize),
        Some(n) if n < 1 || n > hi => Err(invalid(format!(
            "1 validation error detected: Value '{n}' at 'maxResults' failed to satisfy constraint: Member must have value {}",
            if n < 1 {
                "greater than or equal to 1".to_string()
            } else {
                format!("less than or equal to {hi}")
            }
        ))),
        Some(n) => Ok(n as usize),
    }
}

pub fn list_user_pools(inner: &Inner, ctx: &RequestContext, input: ListInput) -> Result<Value> {
    let limit = check_max(input.max_results, 60, true)?;
    let st = inner.lock();
    let items = st
        .pools
        .values()
        .filter(|p| p.account == ctx.account_id && p.region == ctx.region)
        .map(|p| {
            (p.id.clone(), json!({"Id": p.id, "Name": p.name, "LambdaConfig": p.settings.get("LambdaConfig").cloned().unwrap_or(json!({})),
                "CreationDate": p.created, "LastModifiedDate": p.modified}))
        })
        .collect();
    let (pools, next) = page(items, input.next_token.as_deref(), limit);
    let mut out = json!({"UserPools": pools});
    if let Some(n) = next {
        out["NextToken"] = n.into();
    }
    Ok(out)
}

fn client_settings(mut m: Map<String, Value>) -> Result<Map<String, Value>> {
    for (name, lo, hi) in [
        ("AccessTokenValidity", 5 * 60, 86400),
        ("IdTokenValidity", 5 * 60, 86400),
        ("RefreshTokenValidity", 3600, 3650 * 86400),
    ] {
        if m.contains_key(name) {
            let tmp = Client {
                settings: m.clone(),
            };
            let secs = tmp.validity_secs(name.trim_end_matches("Validity"));
            if secs < lo || secs > hi {
                return Err(invalid(format!(
                    "Invalid range for token validity: {name} must be between {} and {}.",
                    lo, hi
                )));
            }
        }
    }
    if let Some(flows) = m.get("ExplicitAuthFlows").and_then(Value::as_array) {
        const KNOWN: &[&str] = &[
            "ADMIN_NO_SRP_AUTH",
            "CUSTOM_AUTH_FLOW_ONLY",
            "USER_PASSWORD_AUTH",
            "ALLOW_ADMIN_USER_PASSWORD_AUTH",
            "ALLOW_CUSTOM_AUTH",
            "ALLOW_USER_PASSWORD_AUTH",
            "ALLOW_USER_SRP_AUTH",
            "ALLOW_REFRESH_TOKEN_AUTH",
            "ALLOW_USER_AUTH",
        ];
        for f in flows {
            let f = f.as_str().unwrap_or("");
            if !KNOWN.contains(&f) {
                return Err(invalid(format!(
                    "1 validation error detected: Value '[{f}]' at 'explicitAuthFlows' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [{}]]",
                    KNOWN.join(", ")
                )));
            }
        }
    }
    m.entry("RefreshTokenValidity").or_insert(json!(30));
    m.entry("TokenValidityUnits").or_insert(json!({}));
    m.entry("AllowedOAuthFlowsUserPoolClient")
        .or_insert(json!(false));
    m.entry("EnableTokenRevocation").or_insert(json!(true));
    m.entry("EnablePropagateAdditionalUserContextData")
        .or_insert(json!(false));
    m.entry("AuthSessionValidity").or_insert(json!(3));
    m.entry("PreventUserExistenceErrors")
        .or_insert(json!("LEGACY"));
    Ok(m)
}

pub async fn create_user_pool_client(
    inner: &Inner,
    ctx: &RequestContext,
    input: Value,
) -> Result<Value> {
    let Value::Object(mut m) = input else {
        return Err(invalid("Invalid input"));
    };
    let pool_id = take_str(&mut m, "UserPoolId", "userPoolId")?;
    let name = m
        .get("ClientName")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| null_error("clientName"))?;
    let generate = m
        .remove("GenerateSecret")
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    let mut settings = client_settings(m)?;
    let now = clock::now_secs_f64();
    let client_id = ids::random_string(26, ids::LOWER_ALNUM);
    settings.insert("UserPoolId".into(), pool_id.clone().into());
    settings.insert("ClientName".into(), name.into());
    settings.insert("ClientId".into(), client_id.clone().into());
    if generate && !settings.contains_key("ClientSecret") {
        settings.insert(
            "ClientSecret".into(),
            ids::random_string(51, ids::LOWER_ALNUM).into(),
        );
    }
    settings.insert("CreationDate".into(), now.into());
    settings.insert("LastModifiedDate".into(), now.into());
    inner
        .mutate(ctx, &pool_id, |p| {
            crate::resource_servers::check_client_oauth(p, &settings)?;
            let out = json!({"UserPoolClient": Value::Object(settings.clone())});
            p.clients.insert(client_id, Client { settings });
            Ok((out, vec![Record::Pool]))
        })
        .await
}

fn null_error(member: &str) -> aloft_core::AwsError {
    invalid(format!(
        "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
    ))
}

fn take_str(m: &mut Map<String, Value>, name: &str, camel: &str) -> Result<String> {
    m.remove(name)
        .and_then(|v| v.as_str().map(str::to_string))
        .ok_or_else(|| null_error(camel))
}

pub fn describe_user_pool_client(
    inner: &Inner,
    ctx: &RequestContext,
    input: ClientInput,
) -> Result<Value> {
    inner.read(ctx, &input.user_pool_id, |p| {
        let c = p
            .clients
            .get(&input.client_id)
            .ok_or_else(|| client_not_found(&input.client_id))?;
        Ok(json!({"UserPoolClient": Value::Object(c.settings.clone())}))
    })
}

pub async fn update_user_pool_client(
    inner: &Inner,
    ctx: &RequestContext,
    input: Value,
) -> Result<Value> {
    let Value::Object(mut m) = input else {
        return Err(invalid("Invalid input"));
    };
    let pool_id = take_str(&mut m, "UserPoolId", "userPoolId")?;
    let client_id = take_str(&mut m, "ClientId", "clientId")?;
    inner
        .mutate(ctx, &pool_id, |p| {
            let c = p
                .clients
                .get(&client_id)
                .ok_or_else(|| client_not_found(&client_id))?;
            // Like UpdateUserPool: members not given go back to their defaults.
            let mut settings = client_settings(m)?;
            for keep in ["UserPoolId", "ClientId", "ClientSecret", "CreationDate"] {
                if let Some(v) = c.settings.get(keep) {
                    settings.insert(keep.into(), v.clone());
                }
            }
            if !settings.contains_key("ClientName") {
                settings.insert(
                    "ClientName".into(),
                    c.settings.get("ClientName").cloned().unwrap_or_default(),
                );
            }
            settings.insert("LastModifiedDate".into(), clock::now_secs_f64().into());
            crate::resource_servers::check_client_oauth(p, &settings)?;
            let c = p
                .clients
                .get_mut(&client_id)
                .ok_or_else(|| client_not_found(&client_id))?;
            c.settings = settings;
            Ok((
                json!({"UserPoolClient": Value::Object(c.settings.clone())}),
                vec![Record::Pool],
            ))
        })
        .await
}

pub async fn delete_user_pool_client(
    inner: &Inner,
    ctx: &RequestContext,
    input: ClientInput,
) -> Result<Value> {
    inner
        .mutate(ctx, &input.user_pool_id, |p| {
            p.clients
                .remove(&input.client_id)
                .ok_or_else(|| client_not_found(&input.client_id))?;
            Ok((json!({}), vec![Record::Pool]))
        })
        .await
}

pub fn list_user_pool_clients(
    inner: &Inner,
    ctx: &RequestContext,
    input: ListClientsInput,
) -> Result<Value> {
    let limit = check_max(input.max_results, 60, false)?;
    inner.read(ctx, &input.user_pool_id, |p| {
        let items = p
            .clients
            .values()
            .map(|c| (c.id().to_string(), json!({"ClientId": c.id(), "UserPoolId": p.id, "ClientName": c.str("ClientName")})))
            .collect();
        let (clients, next) = page(items, input.next_token.as_deref(), limit);
        let mut out = json!({"UserPoolClients": clients});
        if let Some(n) = next {
            out["NextToken"] = n.into();
        }
        Ok(out)
    })
}

pub async fn create_user_pool_domain(
    inner: &Inner,
    ctx: &RequestContext,
    input: DomainInput,
) -> Result<Value> {
    let pool_id = input.user_pool_id.ok_or_else(|| null_error("userPoolId"))?;
    let valid = (1..=63).contains(&input.domain.len())
        && input
            .domain
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && !input.domain.starts_with('-');
    if !valid {
        return Err(invalid(format!(
            "1 validation error detected: Value '{}' at 'domain' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-z0-9](?:[a-z0-9\\-]{{0,61}}[a-z0-9])?$",
            input.domain
        )));
    }
    if inner
        .lock()
        .pools
        .values()
        .any(|p| p.domain.as_deref() == Some(input.domain.as_str()))
    {
        return Err(invalid("Domain already associated with another user pool."));
    }
    inner
        .mutate(ctx, &pool_id, |p| {
            if p.domain.is_some() {
                return Err(invalid(format!(
                    "User pool {} already has a domain configured.",
                    p.id
                )));
            }
            p.domain = Some(input.domain.clone());
            Ok((json!({"ManagedLoginVersion": 1}), vec![Record::Pool]))
        })
        .await
}

pub fn describe_user_pool_domain(
    inner: &Inner,
    ctx: &RequestContext,
    input: DomainInput,
) -> Result<Value> {
    let st = inner.lock();
    let found = st.pools.values().find(|p| {
        p.domain.as_deref() == Some(input.domain.as_str()) && p.account == ctx.account_id
    });
    Ok(match found {
        None => json!({"DomainDescription": {}}),
        Some(p) => json!({"DomainDescription": {
            "UserPoolId": p.id, "AWSAccountId": p.account, "Domain": input.domain,
            "S3Bucket": "aws-cognito-prod-aloft-assets", "CloudFrontDistribution": format!("{}.auth.{}.amazoncognito.com", input.domain, p.region),
            "Version": "1", "Status": "ACTIVE", "ManagedLoginVersion": 1,
        }}),
    })
}

pub async fn delete_user_pool_domain(
    inner: &Inner,
    ctx: &RequestContext,
    input: DomainInput,
) -> Result<Value> {
    let pool_id = input.user_pool_id.ok_or_else(|| null_error("userPoolId"))?;
    inner
        .mutate(ctx, &pool_id, |p| {
            if p.domain.as_deref() != Some(input.domain.as_str()) {
                return Err(
                    Code::InvalidParameterException.msg("No such domain or user pool exists.")
                );
            }
            p.domain = None;
            Ok((json!({}), vec![Record::Pool]))
        })
        .await
}

impl Inner {
    /// An owned future that resolves the pool's key (for background warming).
    pub fn key_owned(
        &self,
        pool_id: String,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        let me = self.self_arc();
        async move {
            if let Some(me) = me {
                let _ = me.key(&pool_id).await;
            }
        }
    }
}
