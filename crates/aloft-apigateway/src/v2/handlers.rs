//! The `apigatewayv2` control plane: APIs (with quick create), routes, integrations,
//! authorizers, stages (auto-deploy), deployments, route and integration responses, tags.

use std::sync::Arc;

use aloft_core::RequestContext;
use indexmap::IndexMap;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::{
    ApiInfo, Authorizer, Deployment, HttpApi, Integration, NS_V2, Route, Stage, invalid_api, output,
};
use crate::ApiGateway;
use crate::error::{Code, Result, bad_request, err, not_found};
use crate::handlers::{new_id, now, s};

pub(crate) async fn dispatch(
    gw: &ApiGateway,
    ctx: &RequestContext,
    op: &str,
    input: Value,
) -> Result<Value> {
    let api = || s(&input, "ApiId");
    if let Some(out) = super::responses::dispatch(gw, ctx, op, &input).await {
        return out;
    }
    match op {
        "CreateApi" => create_api(gw, ctx, &input).await,
        "GetApi" => gw.read_v2(ctx, api()?, |a| Ok(output(&a.info))),
        "GetApis" => Ok(get_apis(gw, ctx)),
        "UpdateApi" => update_api(gw, ctx, &input).await,
        "DeleteApi" => delete_api(gw, ctx, api()?).await,
        "DeleteCorsConfiguration" => {
            gw.edit_v2(ctx, api()?, true, |a| {
                a.info.cors_configuration = None;
                Ok(Value::Null)
            })
            .await
        }
        "CreateRoute" => create_route(gw, ctx, &input).await,
        "GetRoute" => gw.read_v2(ctx, api()?, |a| {
            Ok(output(find(&a.routes, s(&input, "RouteId")?, "Route")?))
        }),
        "GetRoutes" => gw.read_v2(ctx, api()?, |a| Ok(items(a.routes.values()))),
        "UpdateRoute" => update_route(gw, ctx, &input).await,
        "DeleteRoute" => {
            let id = s(&input, "RouteId")?;
            gw.edit_v2(ctx, api()?, true, |a| {
                a.routes
                    .shift_remove(id)
                    .ok_or_else(|| missing("Route", id))?;
                a.route_responses.shift_remove(id);
                Ok(Value::Null)
            })
            .await
        }
        "CreateIntegration" => create_integration(gw, ctx, &input).await,
        "GetIntegration" => gw.read_v2(ctx, api()?, |a| {
            Ok(output(find(
                &a.integrations,
                s(&input, "IntegrationId")?,
                "Integration",
            )?))
        }),
        "GetIntegrations" => gw.read_v2(ctx, api()?, |a| Ok(items(a.integrations.values()))),
        "UpdateIntegration" => {
            let id = s(&input, "IntegrationId")?;
            gw.edit_v2(ctx, api()?, true, |a| {
                let cur = find(&a.integrations, id, "Integration")?;
                let next: Integration = merge(cur, &input, &["ApiId", "IntegrationId"])?;
                // With an IntegrationSubtype (SQS-SendMessage, ...) RequestParameters name the
                // service action's parameters instead of mappings.
                if !a.is_websocket() && next.integration_subtype.is_none() {
                    super::params::validate(
                        next.request_parameters.as_ref(),
                        next.response_parameters.as_ref(),
                    )?;
                }
                let out = output(&next);
                a.integrations.insert(id.to_string(), next);
                Ok(out)
            })
            .await
        }
        "DeleteIntegration" => {
            let id = s(&input, "IntegrationId")?;
            gw.edit_v2(ctx, api()?, true, |a| {
                let target = format!("integrations/{id}");
                if a.routes
                    .values()
                    .any(|r| r.target.as_deref() == Some(&target))
                {
                    return Err(err(
                        Code::ConflictException,
                        format!("Integration {id} is referenced by one or more routes"),
                    ));
                }
                a.integrations
                    .shift_remove(id)
                    .ok_or_else(|| missing("Integration", id))?;
                a.integration_responses.shift_remove(id);
                a.integration_responses.shift_remove(id);
                Ok(Value::Null)
            })
            .await
        }
        "CreateAuthorizer" => create_authorizer(gw, ctx, &input).await,
        "GetAuthorizer" => gw.read_v2(ctx, api()?, |a| {
            Ok(output(find(
                &a.authorizers,
                s(&input, "AuthorizerId")?,
                "Authorizer",
            )?))
        }),
        "GetAuthorizers" => gw.read_v2(ctx, api()?, |a| Ok(items(a.authorizers.values()))),
        "UpdateAuthorizer" => {
            let id = s(&input, "AuthorizerId")?;
            gw.edit_v2(ctx, api()?, true, |a| {
                let cur = find(&a.authorizers, id, "Authorizer")?;
                let next: Authorizer = merge(cur, &input, &["ApiId", "AuthorizerId"])?;
                let out = output(&next);
                a.authorizers.insert(id.to_string(), next);
                Ok(out)
            })
            .await
        }
        "DeleteAuthorizer" => {
            let id = s(&input, "AuthorizerId")?;
            gw.edit_v2(ctx, api()?, true, |a| {
                if a.routes
                    .values()
                    .any(|r| r.authorizer_id.as_deref() == Some(id))
                {
                    return Err(err(
                        Code::ConflictException,
                        format!("Authorizer {id} is referenced by one or more routes"),
                    ));
                }
                a.authorizers
                    .shift_remove(id)
                    .ok_or_else(|| missing("Authorizer", id))?;
                Ok(Value::Null)
            })
            .await
        }
        "ResetAuthorizersCache" => {
            let id = api()?;
            gw.read_v2(ctx, id, |a| {
                find(&a.stages, s(&input, "StageName")?, "Stage").map(|_| ())
            })?;
            gw.authorizer_cache.forget_api(id);
            Ok(Value::Null)
        }
        "CreateStage" => create_stage(gw, ctx, &input).await,
        "GetStage" => gw.read_v2(ctx, api()?, |a| {
            Ok(output(find(&a.stages, s(&input, "StageName")?, "Stage")?))
        }),
        "GetStages" => gw.read_v2(ctx, api()?, |a| Ok(items(a.stages.values()))),
        "UpdateStage" => {
            let name = s(&input, "StageName")?;
            gw.edit_v2(ctx, api()?, false, |a| {
                let cur = find(&a.stages, name, "Stage")?;
                let mut next: Stage = merge(cur, &input, &["ApiId", "StageName"])?;
                if let Some(d) = &next.deployment_id
                    && !a.deployments.contains_key(d)
                {
                    return Err(missing("Deployment", d));
                }
                next.last_updated_date = now();
                let deploy = next.auto_deploy && !cur.auto_deploy;
                let out = output(&next);
                a.stages.insert(name.to_string(), next);
                if deploy {
                    a.auto_deploy();
                }
                Ok(out)
            })
            .await
        }
        "DeleteStage" => {
            let name = s(&input, "StageName")?;
            gw.edit_v2(ctx, api()?, false, |a| {
                a.stages
                    .shift_remove(name)
                    .ok_or_else(|| missing("Stage", name))?;
                Ok(Value::Null)
            })
            .await
        }
        "CreateDeployment" => create_deployment(gw, ctx, &input).await,
        "GetDeployment" => gw.read_v2(ctx, api()?, |a| {
            Ok(output(find(
                &a.deployments,
                s(&input, "DeploymentId")?,
                "Deployment",
            )?))
        }),
        "GetDeployments" => gw.read_v2(ctx, api()?, |a| Ok(items(a.deployments.values()))),
        "DeleteDeployment" => {
            let id = s(&input, "DeploymentId")?;
            gw.edit_v2(ctx, api()?, false, |a| {
                if a.stages
                    .values()
                    .any(|st| st.deployment_id.as_deref() == Some(id))
                {
                    return Err(bad_request(
                        "Active stages pointing to this deployment must be moved or deleted",
                    ));
                }
                a.deployments
                    .shift_remove(id)
                    .ok_or_else(|| missing("Deployment", id))?;
                Ok(Value::Null)
            })
            .await
        }
        "GetTags" | "TagResource" | "UntagResource" => tags(gw, ctx, op, &input).await,
        "ImportApi" => super::openapi::import_api(gw, ctx, &input).await,
        "ReimportApi" => super::openapi::reimport_api(gw, ctx, &input).await,
        "ExportApi" => super::openapi::export_api(gw, ctx, &input),
        _ => Err(bad_request(format!(
            "The operation {op} is not supported by Aloft's API Gateway yet"
        ))),
    }
}

fn missing(kind: &str, id: &str) -> aloft_core::AwsError {
    not_found(format!("Invalid {kind} identifier specified {id}"))
}

fn find<'a, T>(m: &'a IndexMap<String, T>, id: &str, kind: &str) -> Result<&'a T> {
    m.get(id).ok_or_else(|| missing(kind, id))
}

fn items<'a, T: Serialize + 'a>(it: impl Iterator<Item = &'a T>) -> Value {
    json!({ "Items": it.map(output).collect::<Vec<_>>() })
}

fn strip(v: &mut Value, keys: &[&str]) {
    if let Value::Object(m) = v {
        for k in keys {
            m.remove(*k);
        }
    }
}

/// An update: the members present in the input replace the resource's.
fn merge<T: Serialize + DeserializeOwned>(cur: &T, input: &Value, skip: &[&str]) -> Result<T> {
    let mut v = serde_json::to_value(cur).map_err(|e| bad_request(e.to_string()))?;
    if let (Value::Object(m), Value::Object(i)) = (&mut v, input) {
        for (k, x) in i {
            if !skip.contains(&k.as_str()) {
                m.insert(k.clone(), x.clone());
            }
        }
    }
    serde_json::from_value(v).map_err(|e| bad_request(e.to_string()))
}

fn from_input<T: DeserializeOwned>(input: &Value, skip: &[&str]) -> Result<T> {
    let mut v = input.clone();
    strip(&mut v, skip);
    serde_json::from_value(v).map_err(|e| bad_request(e.to_string()))
}

const METHODS: &[&str] = &[
    "ANY", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS",
];

/// HTTP route keys: `$default` or `METHOD /path`, a greedy `{name+}` only last.
fn check_route_key(key: &str, websocket: bool) -> Result<()> {
    if websocket || key == "$default" {
        return if key.is_empty() {
            Err(bad_request("RouteKey must not be empty"))
        } else {
            Ok(())
        };
    }
    let bad = || {
        bad_request(format!(
            "Unable to create route {key}: the route key must be '$default' or an HTTP method and a path starting with '/', such as 'GET /pets'"
        ))
    };
    let (method, path) = key.split_once(' ').ok_or_else(bad)?;
    if !METHODS.contains(&method) || !path.starts_with('/') || path.contains(' ') {
        return Err(bad());
    }
    let segs: Vec<&str> = path.split('/').skip(1).collect();
    for (i, seg) in segs.iter().enumerate() {
        if seg.ends_with("+}") && i != segs.len() - 1 {
            return Err(bad());
        }
        if seg.is_empty() && segs.len() > 1 {
            return Err(bad());
        }
    }
    Ok(())
}

pub(crate) fn endpoint(ctx: &RequestContext, id: &str, websocket: bool) -> String {
    let port = ctx
        .base_url
        .rsplit_once(':')
        .map(|(_, p)| p)
        .filter(|p| p.chars().all(|c| c.is_ascii_digit()))
        .map(|p| format!(":{p}"))
        .unwrap_or_default();
    let scheme = if websocket { "ws" } else { "http" };
    format!("{scheme}://{id}.execute-api.localhost{port}")
}

/// API keys come from the `x-api-key` header or a Lambda authorizer's usageIdentifierKey:
/// AWS accepts only those two expressions.
fn check_api_key_selection(e: Option<&str>) -> Result<()> {
    match e {
        None | Some("$request.header.x-api-key" | "$context.authorizer.usageIdentifierKey") => {
            Ok(())
        }
        Some(other) => Err(bad_request(format!(
            "Invalid API key selection expression {other}. Supported expressions are $request.header.x-api-key and $context.authorizer.usageIdentifierKey"
        ))),
    }
}

async fn create_api(gw: &ApiGateway, ctx: &RequestContext, input: &Value) -> Result<Value> {
    let mut info: ApiInfo = from_input(input, &["Target", "RouteKey", "CredentialsArn"])?;
    let websocket = match info.protocol_type.as_str() {
        "HTTP" => false,
        "WEBSOCKET" => true,
        other => {
            return Err(bad_request(format!(
                "Invalid protocol type {other}: must be HTTP or WEBSOCKET"
            )));
        }
    };
    if websocket && info.route_selection_expression.is_none() {
        return Err(bad_request(
            "RouteSelectionExpression is required for a WEBSOCKET API",
        ));
    }
    let id = new_id(10);
    info.api_id = id.clone();
    info.api_endpoint = endpoint(ctx, &id, websocket);
    info.created_date = now();
    check_api_key_selection(info.api_key_selection_expression.as_deref())?;
    info.api_key_selection_expression
        .get_or_insert_with(|| "$request.header.x-api-key".into());
    if !websocket {
        info.route_selection_expression
            .get_or_insert_with(|| "${request.method} ${request.path}".into());
        info.disable_schema_validation = None;
    }
    let mut api = HttpApi {
        info,
        ..Default::default()
    };
    // Quick create: one integration, one route, the auto-deployed `$default` stage.
    if let Some(target) = input.get("Target").and_then(Value::as_str) {
        if websocket {
            return Err(bad_request(
                "Quick create is not supported for WEBSOCKET APIs",
            ));
        }
        let lambda = target.starts_with("arn:aws:lambda:");
        let iid = new_id(7);
        api.integrations.insert(
            iid.clone(),
            Integration {
                integration_id: iid.clone(),
                integration_type: if lambda { "AWS_PROXY" } else { "HTTP_PROXY" }.into(),
                api_gateway_managed: Some(true),
                connection_type: "INTERNET".into(),
                credentials_arn: input
                    .get("CredentialsArn")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                integration_method: Some(if lambda { "POST" } else { "ANY" }.into()),
                integration_uri: Some(target.to_string()),
                payload_format_version: Some(if lambda { "2.0" } else { "1.0" }.into()),
                timeout_in_millis: 30_000,
                ..Default::default()
            },
        );
        let key = input
            .get("RouteKey")
            .and_then(Value::as_str)
            .unwrap_or("$default")
            .to_string();
        check_route_key(&key, false)?;
        let rid = new_id(7);
        api.routes.insert(
            rid.clone(),
            Route {
                route_id: rid,
                route_key: key,
                api_gateway_managed: Some(true),
                authorization_type: "NONE".into(),
                target: Some(format!("integrations/{iid}")),
                ..Default::default()
            },
        );
        let t = now();
        api.stages.insert(
            "$default".into(),
            Stage {
                stage_name: "$default".into(),
                api_gateway_managed: Some(true),
                auto_deploy: true,
                created_date: t,
                last_updated_date: t,
                default_route_settings: Some(json!({"DetailedMetricsEnabled": false})),
                route_settings: Some(json!({})),
                stage_variables: Some(IndexMap::new()),
                ..Default::default()
            },
        );
        api.auto_deploy();
    }
    let out = output(&api.info);
    let commit = {
        let mut st = gw.lock();
        let key = format!("{}/{id}", crate::scope(ctx));
        st.v2_index.insert(id, key.clone());
        let c = gw.commit_v2(&key, Some(&api));
        st.v2.insert(key, api);
        c
    };
    commit
        .await
        .map_err(|e| aloft_core::AwsError::internal(e.to_string()))?;
    Ok(out)
}

fn get_apis(gw: &ApiGateway, ctx: &RequestContext) -> Value {
    let st = gw.lock();
    let prefix = format!("{}/", crate::scope(ctx));
    let mut apis: Vec<&HttpApi> = st
        .v2
        .iter()
        .filter(|(k, _)| k.starts_with(&prefix))
        .map(|(_, a)| a)
        .collect();
    apis.sort_by(|a, b| a.info.created_date.total_cmp(&b.info.created_date));
    json!({ "Items": apis.iter().map(|a| output(&a.info)).collect::<Vec<_>>() })
}

async fn update_api(gw: &ApiGateway, ctx: &RequestContext, input: &Value) -> Result<Value> {
    gw.edit_v2(ctx, s(input, "ApiId")?, true, |a| {
        let next: ApiInfo = merge(
            &a.info,
            input,
            &[
                "ApiId",
                "Target",
                "RouteKey",
                "CredentialsArn",
                "ProtocolType",
            ],
        )?;
        check_api_key_selection(next.api_key_selection_expression.as_deref())?;
        a.info = next;
        Ok(output(&a.info))
    })
    .await
}

async fn delete_api(gw: &ApiGateway, ctx: &RequestContext, id: &str) -> Result<Value> {
    let commit = {
        let mut st = gw.lock();
        let key = format!("{}/{id}", crate::scope(ctx));
        st.v2.remove(&key).ok_or_else(|| invalid_api(ctx, id))?;
        st.v2_index.remove(id);
        gw.commit_v2(&key, None)
    };
    commit
        .await
        .map_err(|e| aloft_core::AwsError::internal(e.to_string()))?;
    gw.authorizer_cache.forget_api(id);
    Ok(Value::Null)
}

fn check_target(a: &HttpApi, r: &Route) -> Result<()> {
    if let Some(t) = &r.target {
        let iid = t.strip_prefix("integrations/").ok_or_else(|| {
            bad_request(format!(
                "Invalid target {t}: a route target must be 'integrations/<integration id>'"
            ))
        })?;
        find(&a.integrations, iid, "Integration")?;
    }
    if let Some(id) = &r.authorizer_id {
        find(&a.authorizers, id, "Authorizer")?;
    }
    Ok(())
}

async fn create_route(gw: &ApiGateway, ctx: &RequestContext, input: &Value) -> Result<Value> {
    gw.edit_v2(ctx, s(input, "ApiId")?, true, |a| {
        let mut r: Route = from_input(input, &["ApiId"])?;
        check_route_key(&r.route_key, a.is_websocket())?;
        if a.routes.values().any(|x| x.route_key == r.route_key) {
            return Err(err(
                Code::ConflictException,
                format!(
                    "Unable to create route {}. The route already exists.",
                    r.route_key
                ),
            ));
        }
        if r.authorization_type.is_empty() {
            r.authorization_type = "NONE".into();
        }
        check_target(a, &r)?;
        r.route_id = new_id(7);
        let out = output(&r);
        a.routes.insert(r.route_id.clone(), r);
        Ok(out)
    })
    .await
}

async fn update_route(gw: &ApiGateway, ctx: &RequestContext, input: &Value) -> Result<Value> {
    let id = s(input, "RouteId")?;
    gw.edit_v2(ctx, s(input, "ApiId")?, true, |a| {
        let cur = find(&a.routes, id, "Route")?;
        let next: Route = merge(cur, input, &["ApiId", "RouteId"])?;
        check_route_key(&next.route_key, a.is_websocket())?;
        if a.routes
            .values()
            .any(|x| x.route_id != id && x.route_key == next.route_key)
        {
            return Err(err(
                Code::ConflictException,
                format!(
                    "Unable to update route. Route key {} already exists.",
                    next.route_key
                ),
            ));
        }
        check_target(a, &next)?;
        let out = output(&next);
        a.routes.insert(id.to_string(), next);
        Ok(out)
    })
    .await
}

async fn create_integration(gw: &ApiGateway, ctx: &RequestContext, input: &Value) -> Result<Value> {
    gw.edit_v2(ctx, s(input, "ApiId")?, true, |a| {
        let mut i: Integration = from_input(input, &["ApiId"])?;
        let ws = a.is_websocket();
        match i.integration_type.as_str() {
            "AWS_PROXY" | "HTTP_PROXY" | "HTTP" | "AWS" | "MOCK" => {}
            t => return Err(bad_request(format!("Invalid integration type {t}"))),
        }
        if !ws && matches!(i.integration_type.as_str(), "HTTP" | "AWS" | "MOCK") {
            return Err(bad_request(format!(
                "Integration type {} is not supported for HTTP APIs",
                i.integration_type
            )));
        }
        if i.integration_type != "MOCK" && i.integration_uri.is_none() {
            return Err(bad_request(
                "IntegrationUri is required for this integration type",
            ));
        }
        if i.integration_type == "AWS_PROXY" {
            let v = i
                .payload_format_version
                .get_or_insert_with(|| if ws { "1.0" } else { "2.0" }.into());
            if !(v == "1.0" || v == "2.0" && !ws) {
                return Err(bad_request(format!(
                    "Unsupported payload format version {v}"
                )));
            }
        } else if !ws {
            i.payload_format_version.get_or_insert_with(|| "1.0".into());
        }
        if i.integration_type == "HTTP_PROXY" && i.integration_method.is_none() && !ws {
            i.integration_method = Some("ANY".into());
        }
        if !ws && i.integration_subtype.is_none() {
            super::params::validate(
                i.request_parameters.as_ref(),
                i.response_parameters.as_ref(),
            )?;
        }
        if i.connection_type.is_empty() {
            i.connection_type = "INTERNET".into();
        }
        if i.timeout_in_millis == 0 {
            i.timeout_in_millis = if ws { 29_000 } else { 30_000 };
        }
        if ws && i.passthrough_behavior.is_none() && i.integration_type != "AWS_PROXY" {
            i.passthrough_behavior = Some("WHEN_NO_MATCH".into());
        }
        i.integration_id = new_id(7);
        let out = output(&i);
        a.integrations.insert(i.integration_id.clone(), i);
        Ok(out)
    })
    .await
}

async fn create_authorizer(gw: &ApiGateway, ctx: &RequestContext, input: &Value) -> Result<Value> {
    gw.edit_v2(ctx, s(input, "ApiId")?, true, |a| {
        let mut au: Authorizer = from_input(input, &["ApiId"])?;
        match au.authorizer_type.as_str() {
            "JWT" => {
                if a.is_websocket() {
                    return Err(bad_request("JWT authorizers are not supported for WEBSOCKET APIs"));
                }
                let issuer = au
                    .jwt_configuration
                    .as_ref()
                    .and_then(|j| j.get("Issuer"))
                    .and_then(Value::as_str);
                if issuer.is_none() {
                    return Err(bad_request("JwtConfiguration.Issuer is required for JWT authorizers"));
                }
            }
            "REQUEST" => {
                if au.authorizer_uri.is_none() {
                    return Err(bad_request("AuthorizerUri is required for REQUEST authorizers"));
                }
                if !a.is_websocket() {
                    let v = au
                        .authorizer_payload_format_version
                        .as_deref()
                        .ok_or_else(|| {
                            bad_request("AuthorizerPayloadFormatVersion is required for REQUEST authorizers")
                        })?;
                    if v != "1.0" && v != "2.0" {
                        return Err(bad_request(format!("Unsupported payload format version {v}")));
                    }
                    if au.enable_simple_responses == Some(true) && v != "2.0" {
                        return Err(bad_request(
                            "Simple responses are only supported with payload format version 2.0",
                        ));
                    }
                }
                au.authorizer_result_ttl_in_seconds.get_or_insert(0);
            }
            t => return Err(bad_request(format!("Invalid authorizer type {t}"))),
        }
        au.authorizer_id = new_id(6);
        let out = output(&au);
        a.authorizers.insert(au.authorizer_id.clone(), au);
        Ok(out)
    })
    .await
}

async fn create_stage(gw: &ApiGateway, ctx: &RequestContext, input: &Value) -> Result<Value> {
    gw.edit_v2(ctx, s(input, "ApiId")?, false, |a| {
        let mut st: Stage = from_input(input, &["ApiId"])?;
        if a.stages.contains_key(&st.stage_name) {
            return Err(err(
                Code::ConflictException,
                format!("Stage {} already exists", st.stage_name),
            ));
        }
        if let Some(d) = &st.deployment_id
            && !a.deployments.contains_key(d)
        {
            return Err(missing("Deployment", d));
        }
        let t = now();
        st.created_date = t;
        st.last_updated_date = t;
        st.default_route_settings
            .get_or_insert_with(|| json!({"DetailedMetricsEnabled": false}));
        st.route_settings.get_or_insert_with(|| json!({}));
        st.stage_variables.get_or_insert_with(IndexMap::new);
        let auto = st.auto_deploy;
        let name = st.stage_name.clone();
        a.stages.insert(name.clone(), st);
        if auto {
            a.auto_deploy();
        }
        Ok(output(&a.stages[&name]))
    })
    .await
}

async fn create_deployment(gw: &ApiGateway, ctx: &RequestContext, input: &Value) -> Result<Value> {
    gw.edit_v2(ctx, s(input, "ApiId")?, false, |a| {
        let stage = input.get("StageName").and_then(Value::as_str);
        if let Some(name) = stage {
            let st = find(&a.stages, name, "Stage")?;
            if st.auto_deploy {
                return Err(bad_request(format!(
                    "Unable to create deployment for stage {name}: the stage has AutoDeploy enabled"
                )));
            }
        }
        let id = new_id(6);
        let d = Deployment {
            deployment_id: id.clone(),
            auto_deployed: false,
            created_date: now(),
            deployment_status: "DEPLOYED".into(),
            description: input
                .get("Description")
                .and_then(Value::as_str)
                .map(str::to_string),
            snapshot: Arc::new(a.snapshot()),
        };
        let out = output(&d);
        a.deployments.insert(id.clone(), d);
        if let Some(name) = stage
            && let Some(st) = a.stages.get_mut(name)
        {
            st.deployment_id = Some(id);
            st.last_updated_date = now();
        }
        Ok(out)
    })
    .await
}

/// Tags of APIs, by `arn:aws:apigateway:{region}::/apis/{id}`.
async fn tags(gw: &ApiGateway, ctx: &RequestContext, op: &str, input: &Value) -> Result<Value> {
    let arn = s(input, "ResourceArn")?;
    let id = arn
        .split_once("::/apis/")
        .map(|(_, r)| r.split('/').next().unwrap_or(r))
        .filter(|r| !r.is_empty())
        .ok_or_else(|| not_found(format!("Invalid resource ARN {arn}")))?;
    match op {
        "GetTags" => gw.read_v2(ctx, id, |a| Ok(json!({"Tags": a.info.tags}))),
        "TagResource" => {
            gw.edit_v2(ctx, id, false, |a| {
                if let Some(m) = input.get("Tags").and_then(Value::as_object) {
                    for (k, v) in m {
                        a.info
                            .tags
                            .insert(k.clone(), v.as_str().unwrap_or_default().to_string());
                    }
                }
                Ok(Value::Null)
            })
            .await
        }
        _ => {
            gw.edit_v2(ctx, id, false, |a| {
                for k in input
                    .get("TagKeys")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                {
                    a.info.tags.shift_remove(k);
                }
                Ok(Value::Null)
            })
            .await
        }
    }
}

impl ApiGateway {
    pub(crate) fn commit_v2(&self, key: &str, v: Option<&HttpApi>) -> aloft_store::Commit {
        self.put(NS_V2, key, v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_keys() {
        for ok in [
            "$default",
            "GET /",
            "GET /items/{id}",
            "ANY /{proxy+}",
            "POST /a/b",
        ] {
            assert!(check_route_key(ok, false).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "GET",
            "FETCH /x",
            "GET items",
            "GET /{proxy+}/x",
            "GET /a//b",
        ] {
            assert!(check_route_key(bad, false).is_err(), "{bad}");
        }
        assert!(check_route_key("sendMessage", true).is_ok());
    }

    #[test]
    fn merges_present_members() {
        let r = Route {
            route_id: "r".into(),
            route_key: "GET /a".into(),
            authorization_type: "NONE".into(),
            ..Default::default()
        };
        let next: Route =
            merge(&r, &json!({"ApiId": "x", "RouteKey": "GET /b"}), &["ApiId"]).unwrap();
        assert_eq!(
            (next.route_id.as_str(), next.route_key.as_str()),
            ("r", "GET /b")
        );
    }
}
