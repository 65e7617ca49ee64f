//! Deployments (frozen snapshots of an API) and the stages that serve them.

use std::sync::Arc;

use aloft_core::RequestContext;
use indexmap::IndexMap;
use serde_json::{Value, json};

use super::{items, new_id, now, opt, s, str_map};
use crate::ApiGateway;
use crate::error::{Code, Result, bad_request, err, not_found};
use crate::model::{Api, Deployment, Stage, output};
use crate::patch;

fn invalid_stage() -> aloft_core::AwsError {
    not_found("Invalid Stage identifier specified")
}

fn invalid_deployment() -> aloft_core::AwsError {
    not_found("Invalid Deployment identifier specified")
}

fn check_deployable(api: &Api) -> Result<()> {
    let mut any = false;
    for r in api.resources.values() {
        for m in r.resource_methods.values() {
            any = true;
            if m.method_integration.is_none() {
                return Err(bad_request("No integration defined for method"));
            }
        }
    }
    if !any {
        return Err(bad_request("The REST API doesn't contain any methods"));
    }
    Ok(())
}

fn new_stage(name: &str, deployment: &str, input: &Value) -> Stage {
    let t = now();
    Stage {
        deployment_id: deployment.to_string(),
        stage_name: name.to_string(),
        description: opt(input, "stageDescription").or_else(|| opt(input, "description")),
        cache_cluster_enabled: input
            .get("cacheClusterEnabled")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        cache_cluster_size: opt(input, "cacheClusterSize"),
        cache_cluster_status: "NOT_AVAILABLE".into(),
        method_settings: IndexMap::new(),
        variables: str_map(input, "variables"),
        documentation_version: opt(input, "documentationVersion"),
        access_log_settings: None,
        canary_settings: input.get("canarySettings").cloned(),
        tracing_enabled: input
            .get("tracingEnabled")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        tags: str_map(input, "tags"),
        created_date: t,
        last_updated_date: t,
    }
}

pub(crate) async fn create_deployment(
    gw: &ApiGateway,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    gw.edit_api(ctx, s(input, "restApiId")?, |api| {
        check_deployable(api)?;
        let id = new_id(6);
        let d = Deployment {
            id: id.clone(),
            description: opt(input, "description"),
            created_date: now(),
            snapshot: Arc::new(api.snapshot()),
        };
        if let Some(stage) = opt(input, "stageName") {
            match api.stages.get_mut(&stage) {
                Some(st) => {
                    let st = Arc::make_mut(st);
                    st.deployment_id = id.clone();
                    st.last_updated_date = now();
                    st.variables.extend(str_map(input, "variables"));
                }
                None => {
                    let st = new_stage(&stage, &id, input);
                    api.stages.insert(stage, Arc::new(st));
                }
            }
        }
        let out = crate::model::output(&d);
        api.deployments.insert(id, d);
        Ok(out)
    })
    .await
}

pub(crate) fn get_deployment(
    gw: &ApiGateway,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    gw.read_api(ctx, s(input, "restApiId")?, |api| {
        Ok(output(
            api.deployments
                .get(s(input, "deploymentId")?)
                .ok_or_else(invalid_deployment)?,
        ))
    })
}

pub(crate) fn get_deployments(
    gw: &ApiGateway,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    gw.read_api(ctx, s(input, "restApiId")?, |api| {
        Ok(items(api.deployments.values().map(output).collect()))
    })
}

pub(crate) async fn delete_deployment(
    gw: &ApiGateway,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    let id = s(input, "deploymentId")?.to_string();
    gw.edit_api(ctx, s(input, "restApiId")?, |api| {
        if !api.deployments.contains_key(&id) {
            return Err(invalid_deployment());
        }
        if api.stages.values().any(|st| st.deployment_id == id) {
            return Err(bad_request(
                "Active stages pointing to this deployment must be moved or deleted",
            ));
        }
        api.deployments.shift_remove(&id);
        Ok(json!({}))
    })
    .await
}

pub(crate) async fn create_stage(
    gw: &ApiGateway,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    let name = s(input, "stageName")?.to_string();
    let dep = s(input, "deploymentId")?.to_string();
    gw.edit_api(ctx, s(input, "restApiId")?, |api| {
        if !api.deployments.contains_key(&dep) {
            return Err(invalid_deployment());
        }
        if api.stages.contains_key(&name) {
            return Err(err(Code::ConflictException, "Stage already exists"));
        }
        let st = new_stage(&name, &dep, input);
        let out = output(&st);
        api.stages.insert(name, Arc::new(st));
        Ok(out)
    })
    .await
}

pub(crate) fn get_stage(gw: &ApiGateway, ctx: &RequestContext, input: &Value) -> Result<Value> {
    gw.read_api(ctx, s(input, "restApiId")?, |api| {
        Ok(output(
            api.stages
                .get(s(input, "stageName")?)
                .ok_or_else(invalid_stage)?,
        ))
    })
}

pub(crate) fn get_stages(gw: &ApiGateway, ctx: &RequestContext, input: &Value) -> Result<Value> {
    let dep = opt(input, "deploymentId");
    gw.read_api(ctx, s(input, "restApiId")?, |api| {
        let list: Vec<Value> = api
            .stages
            .values()
            .filter(|st| dep.as_ref().is_none_or(|d| &st.deployment_id == d))
            .map(output)
            .collect();
        Ok(json!({ "item": list }))
    })
}

/// The member of a method setting a patch path's last two segments name
/// (`/*/*/throttling/rateLimit` → `throttlingRateLimit`).
fn method_setting(group: &str, name: &str) -> Option<&'static str> {
    Some(match (group, name) {
        ("throttling", "rateLimit") => "throttlingRateLimit",
        ("throttling", "burstLimit") => "throttlingBurstLimit",
        ("metrics", "enabled") => "metricsEnabled",
        ("logging", "loglevel") => "loggingLevel",
        ("logging", "dataTrace") => "dataTraceEnabled",
        ("caching", "enabled") => "cachingEnabled",
        ("caching", "ttlInSeconds") => "cacheTtlInSeconds",
        ("caching", "dataEncrypted") => "cacheDataEncrypted",
        ("caching", "requireAuthorizationForCacheControl") => "requireAuthorizationForCacheControl",
        ("caching", "unauthorizedCacheControlHeaderStrategy") => {
            "unauthorizedCacheControlHeaderStrategy"
        }
        _ => return None,
    })
}

fn setting_value(member: &str, v: &str) -> Value {
    match member {
        "throttlingRateLimit" => v.parse::<f64>().map_or(Value::Null, Value::from),
        "throttlingBurstLimit" | "cacheTtlInSeconds" => {
            v.parse::<i64>().map_or(Value::Null, Value::from)
        }
        "loggingLevel" | "unauthorizedCacheControlHeaderStrategy" => Value::from(v),
        _ => Value::Bool(v == "true"),
    }
}

fn default_settings() -> Value {
    json!({
        "metricsEnabled": false, "dataTraceEnabled": false, "throttlingBurstLimit": 5000,
        "throttlingRateLimit": 10000.0, "cachingEnabled": false, "cacheTtlInSeconds": 300,
        "cacheDataEncrypted": false, "requireAuthorizationForCacheControl": true,
        "unauthorizedCacheControlHeaderStrategy": "SUCCEED_WITH_RESPONSE_HEADER"
    })
}

pub(crate) async fn update_stage(
    gw: &ApiGateway,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    let ops = patch::ops(input);
    let name = s(input, "stageName")?.to_string();
    gw.edit_api(ctx, s(input, "restApiId")?, |api| {
        let mut st = Stage::clone(api.stages.get(&name).ok_or_else(invalid_stage)?);
        let mut generic = Vec::new();
        for op in &ops {
            let segs = patch::segments(&op.path);
            if segs.len() >= 4 {
                let (g, n) = (&segs[segs.len() - 2], &segs[segs.len() - 1]);
                if let Some(member) = method_setting(g, n) {
                    let key = segs[..segs.len() - 2].join("/");
                    let entry = st
                        .method_settings
                        .entry(key)
                        .or_insert_with(default_settings);
                    if let (Some(obj), Some(v)) = (entry.as_object_mut(), &op.value) {
                        obj.insert(member.to_string(), setting_value(member, v));
                    }
                    continue;
                }
            }
            if segs.len() == 2 && segs[0] == "*" && segs[1] == "*" && op.op == "remove" {
                st.method_settings.shift_remove("*/*");
                continue;
            }
            if segs[0] == "deploymentId" {
                let dep = op.value.clone().unwrap_or_default();
                if !api.deployments.contains_key(&dep) {
                    return Err(invalid_deployment());
                }
            }
            generic.push(op.clone());
        }
        patch::apply(&mut st, &generic, &[])?;
        st.stage_name = name.clone();
        st.last_updated_date = now();
        let out = output(&st);
        api.stages.insert(name.clone(), Arc::new(st));
        Ok(out)
    })
    .await
}

pub(crate) async fn delete_stage(
    gw: &ApiGateway,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    let name = s(input, "stageName")?.to_string();
    gw.edit_api(ctx, s(input, "restApiId")?, |api| {
        api.stages.shift_remove(&name).ok_or_else(invalid_stage)?;
        Ok(json!({}))
    })
    .await
}
