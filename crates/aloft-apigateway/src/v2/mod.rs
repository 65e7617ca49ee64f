//! HTTP and WebSocket APIs (`apigatewayv2`, rest-json under `/v2/`): the resources as stored
//! and returned (member names are the model's), snapshots that deployments freeze, and the
//! state helpers the handlers share.
//!
//! - [`handlers`]: the control plane.
//! - [`http`]: invoking HTTP APIs (stages, routes, CORS, Lambda and HTTP proxy integrations);
//!   [`auth`]: their JWT, Lambda and IAM authorization; [`payloads`]: the 2.0/1.0 events.
//! - [`ws`]: WebSocket APIs (connections, route selection, the `@connections` API).

pub mod auth;
pub mod frames;
pub mod handlers;
pub mod http;
pub mod openapi;
pub mod params;
pub mod payloads;
pub mod responses;
pub mod ws;

use std::sync::Arc;

use aloft_core::RequestContext;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ApiGateway;
use crate::error::{Result, not_found};
use crate::model::StrMap;

pub(crate) const NS_V2: &str = "apigateway/v2apis";

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ApiInfo {
    pub api_id: String,
    pub name: String,
    pub protocol_type: String,
    pub api_endpoint: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_gateway_managed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key_selection_expression: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cors_configuration: Option<Value>,
    pub created_date: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub disable_execute_api_endpoint: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disable_schema_validation: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_address_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route_selection_expression: Option<String>,
    pub tags: StrMap,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Route {
    pub route_id: String,
    pub route_key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_gateway_managed: Option<bool>,
    pub api_key_required: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub authorization_scopes: Vec<String>,
    pub authorization_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorizer_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_selection_expression: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_models: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_parameters: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route_response_selection_expression: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Integration {
    pub integration_id: String,
    pub integration_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_gateway_managed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection_id: Option<String>,
    pub connection_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_handling_strategy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credentials_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub integration_method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub integration_response_selection_expression: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub integration_subtype: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub integration_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub passthrough_behavior: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload_format_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_parameters: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_templates: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_parameters: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template_selection_expression: Option<String>,
    pub timeout_in_millis: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_config: Option<Value>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Authorizer {
    pub authorizer_id: String,
    pub name: String,
    pub authorizer_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorizer_credentials_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorizer_payload_format_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorizer_result_ttl_in_seconds: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorizer_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_simple_responses: Option<bool>,
    pub identity_source: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_validation_expression: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwt_configuration: Option<Value>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Stage {
    pub stage_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_log_settings: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_gateway_managed: Option<bool>,
    pub auto_deploy: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_certificate_id: Option<String>,
    pub created_date: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_route_settings: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployment_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_deployment_status_message: Option<String>,
    pub last_updated_date: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route_settings: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage_variables: Option<StrMap>,
    pub tags: StrMap,
}

/// What a deployment froze: invocations see this, not the API's current state.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Snapshot {
    pub info: ApiInfo,
    pub routes: IndexMap<String, Route>,
    pub integrations: IndexMap<String, Integration>,
    pub authorizers: IndexMap<String, Authorizer>,
    /// WebSocket route responses by route id, and integration responses by integration id.
    #[serde(default)]
    pub route_responses: IndexMap<String, IndexMap<String, Value>>,
    #[serde(default)]
    pub integration_responses: IndexMap<String, IndexMap<String, Value>>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Deployment {
    pub deployment_id: String,
    pub auto_deployed: bool,
    pub created_date: f64,
    pub deployment_status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(rename = "_snapshot")]
    pub snapshot: Arc<Snapshot>,
}

/// One HTTP or WebSocket API with everything under it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct HttpApi {
    pub info: ApiInfo,
    pub routes: IndexMap<String, Route>,
    pub integrations: IndexMap<String, Integration>,
    pub authorizers: IndexMap<String, Authorizer>,
    pub stages: IndexMap<String, Stage>,
    pub deployments: IndexMap<String, Deployment>,
    /// Route responses (WebSocket two-way routes) by route id, then id; stored as given.
    pub route_responses: IndexMap<String, IndexMap<String, Value>>,
    pub integration_responses: IndexMap<String, IndexMap<String, Value>>,
}

impl HttpApi {
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            info: self.info.clone(),
            routes: self.routes.clone(),
            integrations: self.integrations.clone(),
            authorizers: self.authorizers.clone(),
            route_responses: self.route_responses.clone(),
            integration_responses: self.integration_responses.clone(),
        }
    }

    pub fn is_websocket(&self) -> bool {
        self.info.protocol_type == "WEBSOCKET"
    }

    /// Auto-deploy: every change to routes, integrations or authorizers is live at once on
    /// the stages that ask for it.
    pub fn auto_deploy(&mut self) {
        if !self.stages.values().any(|s| s.auto_deploy) {
            return;
        }
        let id = crate::handlers::new_id(6);
        let t = crate::handlers::now();
        self.deployments.insert(
            id.clone(),
            Deployment {
                deployment_id: id.clone(),
                auto_deployed: true,
                created_date: t,
                deployment_status: "DEPLOYED".into(),
                description: Some(
                    "Automatic deployment triggered by changes to the Api configuration".into(),
                ),
                snapshot: Arc::new(self.snapshot()),
            },
        );
        for s in self.stages.values_mut().filter(|s| s.auto_deploy) {
            s.deployment_id = Some(id.clone());
            s.last_updated_date = t;
            s.last_deployment_status_message = Some(format!(
                "Successfully deployed stage with deployment ID '{id}'"
            ));
        }
    }
}

pub(crate) fn invalid_api(ctx: &RequestContext, id: &str) -> aloft_core::AwsError {
    not_found(format!(
        "Invalid API identifier specified {}:{id}",
        ctx.account_id
    ))
}

/// Output form: the model's member names, private `_` members dropped.
pub fn output<T: Serialize>(v: &T) -> Value {
    crate::model::output(v)
}

impl ApiGateway {
    pub(crate) fn read_v2<T>(
        &self,
        ctx: &RequestContext,
        id: &str,
        f: impl FnOnce(&HttpApi) -> Result<T>,
    ) -> Result<T> {
        let st = self.lock();
        let key = format!("{}/{id}", crate::scope(ctx));
        let api = st.v2.get(&key).ok_or_else(|| invalid_api(ctx, id))?;
        f(api)
    }

    /// Changes an API and journals it; `redeploy` runs auto-deploy after the change.
    pub(crate) async fn edit_v2<T>(
        &self,
        ctx: &RequestContext,
        id: &str,
        redeploy: bool,
        f: impl FnOnce(&mut HttpApi) -> Result<T>,
    ) -> Result<T> {
        let (out, commit) = {
            let mut st = self.lock();
            let key = format!("{}/{id}", crate::scope(ctx));
            let api = st.v2.get_mut(&key).ok_or_else(|| invalid_api(ctx, id))?;
            let mut copy = api.clone();
            let out = f(&mut copy)?;
            if redeploy {
                copy.auto_deploy();
            }
            *api = copy;
            let commit = self.commit_v2(&key, Some(&*api));
            (out, commit)
        };
        commit
            .await
            .map_err(|e| aloft_core::AwsError::internal(e.to_string()))?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_form_round_trips() {
        let mut api = HttpApi::default();
        api.info.api_id = "a1".into();
        api.info.protocol_type = "HTTP".into();
        api.routes.insert(
            "r1".into(),
            Route {
                route_id: "r1".into(),
                route_key: "GET /x".into(),
                authorization_type: "NONE".into(),
                target: Some("integrations/i1".into()),
                ..Default::default()
            },
        );
        api.stages.insert(
            "$default".into(),
            Stage {
                stage_name: "$default".into(),
                auto_deploy: true,
                ..Default::default()
            },
        );
        api.auto_deploy();
        let bytes = serde_json::to_vec(&api).unwrap();
        let back: HttpApi = serde_json::from_slice(&bytes).unwrap();
        let dep = back.stages["$default"].deployment_id.clone().unwrap();
        assert_eq!(
            back.deployments[&dep].snapshot.routes["r1"].route_key,
            "GET /x"
        );
        assert!(back.deployments[&dep].auto_deployed);
        // The output form hides the snapshot.
        assert!(output(&back.deployments[&dep]).get("_snapshot").is_none());
    }
}
