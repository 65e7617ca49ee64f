//! API keys, usage plans and the keys of a plan.

use aloft_core::{AwsError, RequestContext};
use serde_json::{Value, json};

use super::{flag, items, new_id, now, opt, s, str_map};
use crate::error::{Code, Result, bad_request, err, not_found};
use crate::model::{ApiKey, ApiStage, QuotaSettings, ThrottleSettings, UsagePlan, output};
use crate::{ApiGateway, patch, scope};

fn invalid_key() -> AwsError {
    not_found("Invalid API Key identifier specified")
}

fn invalid_plan() -> AwsError {
    not_found("Invalid Usage Plan ID specified")
}

fn key_output(k: &ApiKey, include_value: bool) -> Value {
    let mut v = output(k);
    if !include_value && let Some(o) = v.as_object_mut() {
        o.remove("value");
    }
    v
}

fn internal(e: impl std::fmt::Display) -> AwsError {
    AwsError::internal(e.to_string())
}

pub(crate) async fn create_api_key(
    gw: &ApiGateway,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    let value = match opt(input, "value") {
        Some(v) if v.len() < 20 => {
            return Err(bad_request(
                "API Key value should be at least 20 characters long",
            ));
        }
        Some(v) => v,
        None => aloft_core::ids::random_string(
            40,
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
        ),
    };
    let t = now();
    let k = ApiKey {
        id: new_id(10),
        value: value.clone(),
        name: opt(input, "name").unwrap_or_default(),
        customer_id: opt(input, "customerId"),
        description: opt(input, "description"),
        enabled: flag(input, "enabled").unwrap_or(false),
        created_date: t,
        last_updated_date: t,
        stage_keys: input
            .get("stageKeys")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|sk| {
                        Some(format!(
                            "{}/{}",
                            sk.get("restApiId")?.as_str()?,
                            sk.get("stageName")?.as_str()?
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default(),
        tags: str_map(input, "tags"),
    };
    let key = format!("{}/{}", scope(ctx), k.id);
    let commit = {
        let mut st = gw.lock();
        if st.value_index.contains_key(&value) {
            return Err(err(Code::ConflictException, "API Key value already exists"));
        }
        st.value_index.insert(value, key.clone());
        st.api_keys.insert(key.clone(), k.clone());
        gw.commit_key(&key, Some(&k))
    };
    commit.await.map_err(internal)?;
    Ok(key_output(&k, true))
}

pub(crate) fn get_api_key(gw: &ApiGateway, ctx: &RequestContext, input: &Value) -> Result<Value> {
    let st = gw.lock();
    let k = st
        .api_keys
        .get(&format!("{}/{}", scope(ctx), s(input, "apiKey")?))
        .ok_or_else(invalid_key)?;
    Ok(key_output(k, flag(input, "includeValue").unwrap_or(false)))
}

pub(crate) fn get_api_keys(gw: &ApiGateway, ctx: &RequestContext, input: &Value) -> Result<Value> {
    let st = gw.lock();
    let prefix = format!("{}/", scope(ctx));
    let name = opt(input, "nameQuery");
    let include = flag(input, "includeValues").unwrap_or(false);
    let mut keys: Vec<&ApiKey> = st
        .api_keys
        .iter()
        .filter(|(k, v)| {
            k.starts_with(&prefix) && name.as_ref().is_none_or(|n| v.name.starts_with(n))
        })
        .map(|(_, v)| v)
        .collect();
    keys.sort_by(|a, b| a.created_date.total_cmp(&b.created_date));
    Ok(items(keys.iter().map(|k| key_output(k, include)).collect()))
}

pub(crate) async fn update_api_key(
    gw: &ApiGateway,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    let key = format!("{}/{}", scope(ctx), s(input, "apiKey")?);
    let ops = patch::ops(input);
    let (out, commit) = {
        let mut st = gw.lock();
        let k = st.api_keys.get_mut(&key).ok_or_else(invalid_key)?;
        let mut copy = k.clone();
        patch::apply(&mut copy, &ops, &[])?;
        copy.id = k.id.clone();
        copy.value = k.value.clone();
        copy.last_updated_date = now();
        *k = copy.clone();
        (key_output(&copy, false), gw.commit_key(&key, Some(&copy)))
    };
    commit.await.map_err(internal)?;
    Ok(out)
}

pub(crate) async fn delete_api_key(
    gw: &ApiGateway,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    let id = s(input, "apiKey")?;
    let key = format!("{}/{id}", scope(ctx));
    let commits = {
        let mut st = gw.lock();
        let k = st.api_keys.remove(&key).ok_or_else(invalid_key)?;
        st.value_index.remove(&k.value);
        let mut commits = vec![gw.commit_key(&key, None)];
        let prefix = format!("{}/", scope(ctx));
        for (pk, plan) in st.plans.iter_mut().filter(|(k, _)| k.starts_with(&prefix)) {
            if plan.keys.iter().any(|k| k == id) {
                plan.keys.retain(|k| k != id);
                commits.push(gw.commit_plan(pk, Some(plan)));
            }
        }
        commits
    };
    for c in commits {
        c.await.map_err(internal)?;
    }
    Ok(json!({}))
}

fn parse<T: serde::de::DeserializeOwned>(v: Option<&Value>) -> Result<Option<T>> {
    v.map(|v| serde_json::from_value(v.clone()).map_err(|e| bad_request(e.to_string())))
        .transpose()
}

fn check_plan(gw: &ApiGateway, ctx: &RequestContext, plan: &UsagePlan) -> Result<()> {
    if let Some(q) = &plan.quota {
        if !matches!(q.period.as_str(), "DAY" | "WEEK" | "MONTH") {
            return Err(bad_request(
                "Invalid quota period specified. Valid options are DAY,WEEK,MONTH",
            ));
        }
        if q.limit < 0 {
            return Err(bad_request("Quota limit should be a non-negative integer"));
        }
    }
    for s in &plan.api_stages {
        // Usage plans meter REST APIs and WebSocket APIs (their keys are checked at $connect).
        let ok = gw
            .read_api(ctx, &s.api_id, |api| Ok(api.stages.contains_key(&s.stage)))
            .or_else(|_| {
                gw.read_v2(ctx, &s.api_id, |api| {
                    if api.is_websocket() {
                        Ok(api.stages.contains_key(&s.stage))
                    } else {
                        Err(bad_request("API keys are not supported for HTTP APIs"))
                    }
                })
            });
        match ok {
            Ok(true) => {}
            Ok(false) => {
                return Err(bad_request(format!(
                    "Invalid stage identifier specified: {}",
                    s.stage
                )));
            }
            Err(_) => {
                return Err(not_found(format!(
                    "Invalid API identifier specified {}:{}",
                    ctx.account_id, s.api_id
                )));
            }
        }
    }
    Ok(())
}

pub(crate) async fn create_usage_plan(
    gw: &ApiGateway,
    ctx: &RequestContext,
    input: Value,
) -> Result<Value> {
    let plan = UsagePlan {
        id: new_id(6),
        name: s(&input, "name")?.to_string(),
        description: opt(&input, "description"),
        api_stages: parse::<Vec<ApiStage>>(input.get("apiStages"))?.unwrap_or_default(),
        throttle: parse::<ThrottleSettings>(input.get("throttle"))?,
        quota: parse::<QuotaSettings>(input.get("quota"))?,
        product_code: None,
        tags: str_map(&input, "tags"),
        keys: Vec::new(),
    };
    check_plan(gw, ctx, &plan)?;
    let key = format!("{}/{}", scope(ctx), plan.id);
    let commit = {
        let mut st = gw.lock();
        st.plans.insert(key.clone(), plan.clone());
        gw.commit_plan(&key, Some(&plan))
    };
    commit.await.map_err(internal)?;
    Ok(output(&plan))
}

pub(crate) fn get_usage_plan(
    gw: &ApiGateway,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    let st = gw.lock();
    Ok(output(
        st.plans
            .get(&format!("{}/{}", scope(ctx), s(input, "usagePlanId")?))
            .ok_or_else(invalid_plan)?,
    ))
}

pub(crate) fn get_usage_plans(
    gw: &ApiGateway,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    let st = gw.lock();
    let prefix = format!("{}/", scope(ctx));
    let key_id = opt(input, "keyId");
    Ok(items(
        st.plans
            .iter()
            .filter(|(k, p)| {
                k.starts_with(&prefix) && key_id.as_ref().is_none_or(|id| p.keys.contains(id))
            })
            .map(|(_, p)| output(p))
            .collect(),
    ))
}

pub(crate) async fn update_usage_plan(
    gw: &ApiGateway,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    let key = format!("{}/{}", scope(ctx), s(input, "usagePlanId")?);
    let ops = patch::ops(input);
    let mut plan = gw
        .lock()
        .plans
        .get(&key)
        .cloned()
        .ok_or_else(invalid_plan)?;
    let mut generic = Vec::new();
    for op in &ops {
        let segs = patch::segments(&op.path);
        // `/apiStages` takes `apiId:stage` values.
        if segs[0] == "apiStages" && segs.len() == 1 {
            let v = op.value.clone().unwrap_or_default();
            let Some((api_id, stage)) = v.split_once(':') else {
                return Err(bad_request(format!("Invalid API Stage specified: {v}")));
            };
            match op.op.as_str() {
                "add" => plan.api_stages.push(ApiStage {
                    api_id: api_id.into(),
                    stage: stage.into(),
                    throttle: Default::default(),
                }),
                "remove" => plan
                    .api_stages
                    .retain(|s| !(s.api_id == api_id && s.stage == stage)),
                _ => return Err(bad_request("Invalid patch operation for /apiStages")),
            }
            continue;
        }
        if matches!(segs[0].as_str(), "throttle" | "quota") && op.op != "remove" {
            // Numbers arrive as strings; `throttle`/`quota` may not exist yet.
            let v = op.value.clone().unwrap_or_default();
            match (segs[0].as_str(), segs.get(1).map(String::as_str)) {
                ("throttle", Some("rateLimit")) => {
                    plan.throttle
                        .get_or_insert_with(Default::default)
                        .rate_limit = v.parse().ok();
                }
                ("throttle", Some("burstLimit")) => {
                    plan.throttle
                        .get_or_insert_with(Default::default)
                        .burst_limit = v.parse().ok();
                }
                ("quota", Some("limit")) => {
                    plan.quota.get_or_insert_with(default_quota).limit = v.parse().unwrap_or(0);
                }
                ("quota", Some("offset")) => {
                    plan.quota.get_or_insert_with(default_quota).offset = v.parse().unwrap_or(0);
                }
                ("quota", Some("period")) => {
                    plan.quota.get_or_insert_with(default_quota).period = v;
                }
                _ => return Err(bad_request(format!("Invalid patch path {}", op.path))),
            }
            continue;
        }
        generic.push(op.clone());
    }
    let id = plan.id.clone();
    let keys = plan.keys.clone();
    patch::apply(&mut plan, &generic, &[])?;
    plan.id = id;
    plan.keys = keys;
    check_plan(gw, ctx, &plan)?;
    let commit = {
        let mut st = gw.lock();
        st.plans.insert(key.clone(), plan.clone());
        gw.commit_plan(&key, Some(&plan))
    };
    commit.await.map_err(internal)?;
    gw.limits.forget_plan(&plan.id);
    Ok(output(&plan))
}

fn default_quota() -> QuotaSettings {
    QuotaSettings {
        limit: 0,
        offset: 0,
        period: "DAY".into(),
    }
}

pub(crate) async fn delete_usage_plan(
    gw: &ApiGateway,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    let key = format!("{}/{}", scope(ctx), s(input, "usagePlanId")?);
    let commit = {
        let mut st = gw.lock();
        st.plans.remove(&key).ok_or_else(invalid_plan)?;
        gw.commit_plan(&key, None)
    };
    commit.await.map_err(internal)?;
    Ok(json!({}))
}

fn plan_key_output(k: &ApiKey) -> Value {
    json!({"id": k.id, "type": "API_KEY", "value": k.value, "name": k.name})
}

pub(crate) async fn create_usage_plan_key(
    gw: &ApiGateway,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    let plan_key = format!("{}/{}", scope(ctx), s(input, "usagePlanId")?);
    let key_id = s(input, "keyId")?.to_string();
    if s(input, "keyType")? != "API_KEY" {
        return Err(bad_request(
            "Invalid key type specified: only API_KEY is supported",
        ));
    }
    let (out, commit) = {
        let mut st = gw.lock();
        let k = st
            .api_keys
            .get(&format!("{}/{key_id}", scope(ctx)))
            .cloned()
            .ok_or_else(|| not_found("Invalid API Key identifier specified"))?;
        let plan = st.plans.get_mut(&plan_key).ok_or_else(invalid_plan)?;
        if plan.keys.contains(&key_id) {
            return Err(err(
                Code::ConflictException,
                "Usage Plan Key already exists",
            ));
        }
        plan.keys.push(key_id);
        (plan_key_output(&k), gw.commit_plan(&plan_key, Some(plan)))
    };
    commit.await.map_err(internal)?;
    Ok(out)
}

pub(crate) fn get_usage_plan_key(
    gw: &ApiGateway,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    let st = gw.lock();
    let plan = st
        .plans
        .get(&format!("{}/{}", scope(ctx), s(input, "usagePlanId")?))
        .ok_or_else(invalid_plan)?;
    let id = s(input, "keyId")?;
    if !plan.keys.iter().any(|k| k == id) {
        return Err(not_found("Invalid Usage Plan Key identifier specified"));
    }
    let k = st
        .api_keys
        .get(&format!("{}/{id}", scope(ctx)))
        .ok_or_else(invalid_key)?;
    Ok(plan_key_output(k))
}

pub(crate) fn get_usage_plan_keys(
    gw: &ApiGateway,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    let st = gw.lock();
    let plan = st
        .plans
        .get(&format!("{}/{}", scope(ctx), s(input, "usagePlanId")?))
        .ok_or_else(invalid_plan)?;
    Ok(items(
        plan.keys
            .iter()
            .filter_map(|id| st.api_keys.get(&format!("{}/{id}", scope(ctx))))
            .map(plan_key_output)
            .collect(),
    ))
}

pub(crate) async fn delete_usage_plan_key(
    gw: &ApiGateway,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    let plan_key = format!("{}/{}", scope(ctx), s(input, "usagePlanId")?);
    let id = s(input, "keyId")?;
    let commit = {
        let mut st = gw.lock();
        let plan = st.plans.get_mut(&plan_key).ok_or_else(invalid_plan)?;
        if !plan.keys.iter().any(|k| k == id) {
            return Err(not_found("Invalid Usage Plan Key identifier specified"));
        }
        plan.keys.retain(|k| k != id);
        gw.commit_plan(&plan_key, Some(plan))
    };
    commit.await.map_err(internal)?;
    Ok(json!({}))
}
