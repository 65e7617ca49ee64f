//! The control plane: operation name → handler, and what handlers share.

pub mod deployments;
pub mod keys;
pub mod methods;
pub mod models;
pub mod openapi;
pub mod restapis;

use aloft_core::RequestContext;
use serde_json::{Value, json};

use crate::ApiGateway;
use crate::error::{Result, bad_request};

pub(crate) async fn dispatch(
    gw: &ApiGateway,
    ctx: &RequestContext,
    op: &str,
    input: Value,
) -> Result<Value> {
    match op {
        "CreateRestApi" => restapis::create_rest_api(gw, ctx, &input).await,
        "ImportRestApi" => openapi::import_rest_api(gw, ctx, &input).await,
        "PutRestApi" => openapi::put_rest_api(gw, ctx, &input).await,
        "GetExport" => openapi::get_export(gw, ctx, &input),
        "GetRestApi" => restapis::get_rest_api(gw, ctx, &input),
        "GetRestApis" => restapis::get_rest_apis(gw, ctx),
        "UpdateRestApi" => restapis::update_rest_api(gw, ctx, &input).await,
        "DeleteRestApi" => restapis::delete_rest_api(gw, ctx, &input).await,
        "CreateResource" => restapis::create_resource(gw, ctx, &input).await,
        "GetResource" => restapis::get_resource(gw, ctx, &input),
        "GetResources" => restapis::get_resources(gw, ctx, &input),
        "UpdateResource" => restapis::update_resource(gw, ctx, &input).await,
        "DeleteResource" => restapis::delete_resource(gw, ctx, &input).await,
        "PutMethod" => methods::put_method(gw, ctx, input).await,
        "GetMethod" => methods::get_method(gw, ctx, &input),
        "UpdateMethod" => methods::update_method(gw, ctx, &input).await,
        "DeleteMethod" => methods::delete_method(gw, ctx, &input).await,
        "PutMethodResponse" => methods::put_method_response(gw, ctx, input).await,
        "GetMethodResponse" => methods::get_method_response(gw, ctx, &input),
        "UpdateMethodResponse" => methods::update_method_response(gw, ctx, &input).await,
        "DeleteMethodResponse" => methods::delete_method_response(gw, ctx, &input).await,
        "PutIntegration" => methods::put_integration(gw, ctx, input).await,
        "GetIntegration" => methods::get_integration(gw, ctx, &input),
        "UpdateIntegration" => methods::update_integration(gw, ctx, &input).await,
        "DeleteIntegration" => methods::delete_integration(gw, ctx, &input).await,
        "PutIntegrationResponse" => methods::put_integration_response(gw, ctx, input).await,
        "GetIntegrationResponse" => methods::get_integration_response(gw, ctx, &input),
        "UpdateIntegrationResponse" => methods::update_integration_response(gw, ctx, &input).await,
        "DeleteIntegrationResponse" => methods::delete_integration_response(gw, ctx, &input).await,
        "CreateDeployment" => deployments::create_deployment(gw, ctx, &input).await,
        "GetDeployment" => deployments::get_deployment(gw, ctx, &input),
        "GetDeployments" => deployments::get_deployments(gw, ctx, &input),
        "DeleteDeployment" => deployments::delete_deployment(gw, ctx, &input).await,
        "CreateStage" => deployments::create_stage(gw, ctx, &input).await,
        "GetStage" => deployments::get_stage(gw, ctx, &input),
        "GetStages" => deployments::get_stages(gw, ctx, &input),
        "UpdateStage" => deployments::update_stage(gw, ctx, &input).await,
        "DeleteStage" => deployments::delete_stage(gw, ctx, &input).await,
        "FlushStageCache" => {
            let (api, stage) = (s(&input, "restApiId")?, s(&input, "stageName")?);
            gw.read_api(ctx, api, |a| {
                a.stages
                    .get(stage)
                    .map(|_| ())
                    .ok_or_else(|| crate::error::not_found("Invalid Stage identifier specified"))
            })?;
            gw.response_cache.flush(api, stage);
            Ok(json!({}))
        }
        "FlushStageAuthorizersCache" => {
            let api = s(&input, "restApiId")?;
            gw.read_api(ctx, api, |_| Ok(()))?;
            gw.authorizer_cache.forget_api(api);
            Ok(json!({}))
        }
        "CreateModel" => models::create_model(gw, ctx, &input).await,
        "GetModel" => models::get_model(gw, ctx, &input),
        "GetModels" => models::get_models(gw, ctx, &input),
        "UpdateModel" => models::update_model(gw, ctx, &input).await,
        "DeleteModel" => models::delete_model(gw, ctx, &input).await,
        "CreateRequestValidator" => models::create_request_validator(gw, ctx, &input).await,
        "GetRequestValidator" => models::get_request_validator(gw, ctx, &input),
        "GetRequestValidators" => models::get_request_validators(gw, ctx, &input),
        "UpdateRequestValidator" => models::update_request_validator(gw, ctx, &input).await,
        "DeleteRequestValidator" => models::delete_request_validator(gw, ctx, &input).await,
        "CreateAuthorizer" => models::create_authorizer(gw, ctx, input).await,
        "GetAuthorizer" => models::get_authorizer(gw, ctx, &input),
        "GetAuthorizers" => models::get_authorizers(gw, ctx, &input),
        "UpdateAuthorizer" => models::update_authorizer(gw, ctx, &input).await,
        "DeleteAuthorizer" => models::delete_authorizer(gw, ctx, &input).await,
        "PutGatewayResponse" => models::put_gateway_response(gw, ctx, &input).await,
        "GetGatewayResponse" => models::get_gateway_response(gw, ctx, &input),
        "GetGatewayResponses" => models::get_gateway_responses(gw, ctx, &input),
        "DeleteGatewayResponse" => models::delete_gateway_response(gw, ctx, &input).await,
        "CreateApiKey" => keys::create_api_key(gw, ctx, &input).await,
        "GetApiKey" => keys::get_api_key(gw, ctx, &input),
        "GetApiKeys" => keys::get_api_keys(gw, ctx, &input),
        "UpdateApiKey" => keys::update_api_key(gw, ctx, &input).await,
        "DeleteApiKey" => keys::delete_api_key(gw, ctx, &input).await,
        "CreateUsagePlan" => keys::create_usage_plan(gw, ctx, input).await,
        "GetUsagePlan" => keys::get_usage_plan(gw, ctx, &input),
        "GetUsagePlans" => keys::get_usage_plans(gw, ctx, &input),
        "UpdateUsagePlan" => keys::update_usage_plan(gw, ctx, &input).await,
        "DeleteUsagePlan" => keys::delete_usage_plan(gw, ctx, &input).await,
        "CreateUsagePlanKey" => keys::create_usage_plan_key(gw, ctx, &input).await,
        "GetUsagePlanKey" => keys::get_usage_plan_key(gw, ctx, &input),
        "GetUsagePlanKeys" => keys::get_usage_plan_keys(gw, ctx, &input),
        "DeleteUsagePlanKey" => keys::delete_usage_plan_key(gw, ctx, &input).await,
        _ => Err(bad_request(format!(
            "The operation {op} is not supported by Aloft's API Gateway yet"
        ))),
    }
}

/// A required string member (the codec already refused absent required members).
pub(crate) fn s<'a>(input: &'a Value, name: &str) -> Result<&'a str> {
    input
        .get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| bad_request(format!("{name} must not be null")))
}

pub(crate) fn opt(input: &Value, name: &str) -> Option<String> {
    input.get(name).and_then(Value::as_str).map(str::to_string)
}

pub(crate) fn flag(input: &Value, name: &str) -> Option<bool> {
    input.get(name).and_then(Value::as_bool)
}

pub(crate) fn str_map(input: &Value, name: &str) -> crate::model::StrMap {
    input
        .get(name)
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// `{"items": [...]}`, the shape of every Get*s output.
pub(crate) fn items(items: Vec<Value>) -> Value {
    json!({ "items": items })
}

/// API Gateway's identifiers: lowercase letters and digits.
pub(crate) fn new_id(len: usize) -> String {
    aloft_core::ids::random_string(len, b"abcdefghijklmnopqrstuvwxyz0123456789")
}

pub(crate) fn now() -> f64 {
    // Timestamps are whole seconds in API Gateway's responses.
    aloft_core::clock::now_secs() as f64
}
