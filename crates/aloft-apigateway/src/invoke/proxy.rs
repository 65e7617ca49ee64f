//! Proxy integrations (AWS_PROXY to Lambda, HTTP_PROXY) and the calls every integration
//! makes: invoking a function, sending an HTTP request, building the endpoint URL.

use std::time::Duration;

use aloft_core::Response;
use aloft_events::Delivery;
use bytes::Bytes;
use http_body_util::Full;

use super::responses::GatewayError;
use super::{
    Call, PATH_SEGMENT, http, is_binary, lambda, mapping, query_string, response,
    substitute_stage_vars,
};
use crate::ApiGateway;
use crate::model::Integration;

impl ApiGateway {
    pub(super) async fn lambda_proxy(
        &self,
        call: &Call<'_>,
        i: &Integration,
    ) -> Result<Response, GatewayError> {
        let fn_arn = i
            .uri
            .as_deref()
            .and_then(lambda::function_arn)
            .map(|a| substitute_stage_vars(a, &call.stage.variables))
            .ok_or_else(|| GatewayError::new("API_CONFIGURATION_ERROR", "Internal server error"))?;
        let binary = is_binary(call.snap, call.params.header("content-type"));
        let path = call.context.json()["path"]
            .as_str()
            .and_then(|p| p.split_once('/').map(|(_, r)| r))
            .and_then(|r| r.split_once('/').map(|(_, r)| format!("/{r}")));
        // The request context already carries this resource's path.
        let event = serde_json::to_vec(&lambda::Event {
            resource: call.resource_path,
            path: path.as_deref().unwrap_or("/"),
            method: &call.http_method,
            params: &call.params,
            stage_vars: &call.stage.variables,
            request_context: call.context.json(),
            body: &call.body,
            binary,
        })
        .map_err(|_| GatewayError::new("DEFAULT_5XX", "Internal server error"))?;
        let out = self.call_lambda(&fn_arn, event.into(), call).await?;
        if out.1 {
            return Err(GatewayError::new("DEFAULT_5XX", "Internal server error").with_status(502));
        }
        let p = lambda::parse_response(&out.0).ok_or_else(|| {
            GatewayError::new("DEFAULT_5XX", "Internal server error").with_status(502)
        })?;
        Ok(response(p.status, p.headers, p.body))
    }

    /// Invokes a function synchronously: (payload, failed).
    pub(super) async fn call_lambda(
        &self,
        arn: &str,
        payload: Bytes,
        call: &Call<'_>,
    ) -> Result<(Bytes, bool), GatewayError> {
        let (account, region) = (
            call.context.json()["accountId"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            arn.split(':').nth(3).unwrap_or("us-east-1").to_string(),
        );
        let d = Delivery {
            payload,
            sync: true,
            source_arn: Some(format!(
                "arn:aws:execute-api:{region}:{account}:{}/{}/{}{}",
                call.context.json()["apiId"].as_str().unwrap_or_default(),
                call.context.json()["stage"].as_str().unwrap_or_default(),
                call.http_method,
                call.resource_path
            )),
            account,
            region,
            ..Default::default()
        };
        match self.ctx.targets.deliver(arn, d).await {
            Ok(out) => Ok((
                out.payload.unwrap_or_default(),
                out.info.get("FunctionError").is_some(),
            )),
            Err(e) => {
                tracing::warn!("apigateway: invoking {arn} failed: {}", e.message);
                Err(GatewayError::new("DEFAULT_5XX", "Internal server error"))
            }
        }
    }

    pub(super) async fn http_proxy(
        &self,
        call: &Call<'_>,
        i: &Integration,
    ) -> Result<Response, GatewayError> {
        let url = self.integration_url(call, i)?;
        let mut url = url;
        let q = query_string(&call.params.query);
        if !q.is_empty() {
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&q);
        }
        let method = if i.http_method.as_deref() == Some("ANY") {
            call.http_method.clone()
        } else {
            i.http_method
                .clone()
                .unwrap_or_else(|| call.http_method.clone())
        };
        let mut b = ::http::Request::builder().method(method.as_str()).uri(&url);
        for (k, vs) in &call.params.headers {
            if k.eq_ignore_ascii_case("host") || k.eq_ignore_ascii_case("content-length") {
                continue;
            }
            for v in vs {
                b = b.header(k.as_str(), v.as_str());
            }
        }
        let ans = self.send(b, call.body.clone(), i).await?;
        let headers = ans
            .headers
            .iter()
            .filter(|(k, _)| {
                !matches!(
                    k.as_str(),
                    "transfer-encoding" | "connection" | "content-length"
                )
            })
            .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect();
        Ok(response(ans.status, headers, ans.body))
    }

    pub(super) async fn send(
        &self,
        b: ::http::request::Builder,
        body: Bytes,
        i: &Integration,
    ) -> Result<http::Answer, GatewayError> {
        let req = b
            .body(Full::new(body))
            .map_err(|_| GatewayError::new("API_CONFIGURATION_ERROR", "Internal server error"))?;
        let timeout = Duration::from_millis(u64::try_from(i.timeout_in_millis).unwrap_or(29_000));
        self.http.send(req, timeout).await.map_err(|f| match f {
            http::Failure::Timeout => {
                GatewayError::new("INTEGRATION_TIMEOUT", "Endpoint request timed out")
            }
            http::Failure::Other(e) => {
                tracing::warn!("apigateway: integration request failed: {e}");
                GatewayError::new("INTEGRATION_FAILURE", "Internal server error").with_status(500)
            }
        })
    }

    /// The integration URI with `{name}` filled from `integration.request.path.*` mappings
    /// (or the method's path parameters of the same name) and stage variables.
    pub(super) fn integration_url(
        &self,
        call: &Call<'_>,
        i: &Integration,
    ) -> Result<String, GatewayError> {
        let mut url = substitute_stage_vars(i.uri.as_deref().unwrap_or(""), &call.stage.variables);
        let mut values = call.params.path.clone();
        for (to, from) in &i.request_parameters {
            if let Some(name) = to.strip_prefix("integration.request.path.")
                && let Some(v) = mapping::source(
                    from,
                    &call.params,
                    &call.context,
                    &call.stage.variables,
                    None,
                )
            {
                values.insert(name.to_string(), v);
            }
        }
        for (k, v) in &values {
            let enc = percent_encoding::utf8_percent_encode(v, PATH_SEGMENT).to_string();
            url = url.replace(
                &format!("{{{k}+}}"),
                &v.split('/')
                    .map(|s| percent_encoding::utf8_percent_encode(s, PATH_SEGMENT).to_string())
                    .collect::<Vec<_>>()
                    .join("/"),
            );
            url = url.replace(&format!("{{{k}}}"), &enc);
        }
        Ok(url)
    }
}
