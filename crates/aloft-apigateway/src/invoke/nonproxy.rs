//! Non-proxy integrations (MOCK, HTTP, AWS): request template → integration → the
//! integration response its selection pattern picks → method response.

use std::time::Duration;

use aloft_core::Response;
use bytes::Bytes;
use http_body_util::Full;
use serde_json::Value;

use super::responses::GatewayError;
use super::{Call, http, lambda, mapping, response, substitute_stage_vars};
use crate::ApiGateway;
use crate::model::{Integration, IntegrationResponse};

impl ApiGateway {
    /// MOCK, HTTP, AWS: request template → integration → selected integration response.
    pub(super) async fn non_proxy(
        &self,
        call: &Call<'_>,
        i: &Integration,
    ) -> Result<Response, GatewayError> {
        let ct = call
            .params
            .header("content-type")
            .unwrap_or("application/json")
            .to_string();
        let body_str = String::from_utf8_lossy(&call.body).into_owned();
        let template = mapping::pick(&i.request_templates, &ct);
        let passthrough = i.passthrough_behavior.as_deref().unwrap_or("WHEN_NO_MATCH");
        let request_body = match template {
            Some(t) => mapping::render(
                t,
                &body_str,
                &call.params,
                &call.context,
                &call.stage.variables,
            )
            .map_err(|e| {
                tracing::warn!("apigateway: request template failed: {e}");
                GatewayError::new("DEFAULT_5XX", "Internal server error")
            })?,
            None if passthrough == "NEVER"
                || passthrough == "WHEN_NO_TEMPLATES" && !i.request_templates.is_empty() =>
            {
                return Err(GatewayError::new(
                    "UNSUPPORTED_MEDIA_TYPE",
                    "Unsupported Media Type",
                ));
            }
            None => body_str,
        };
        // What the integration answered: (selector, headers, body).
        let (selector, headers, body, is_error): (String, ::http::HeaderMap, String, bool) =
            match i.kind.as_str() {
                "MOCK" => {
                    let status = serde_json::from_str::<Value>(&request_body)
                        .ok()
                        .and_then(|v| {
                            v.get("statusCode")
                                .and_then(|s| s.as_i64().or_else(|| s.as_str()?.parse().ok()))
                        })
                        .unwrap_or(200);
                    (
                        status.to_string(),
                        ::http::HeaderMap::new(),
                        String::new(),
                        false,
                    )
                }
                "AWS" => {
                    let uri = i.uri.clone().unwrap_or_default();
                    if let Some(arn) = lambda::function_arn(&uri) {
                        let arn = substitute_stage_vars(arn, &call.stage.variables);
                        let (payload, failed) = self
                            .call_lambda(&arn, Bytes::from(request_body), call)
                            .await?;
                        let text = String::from_utf8_lossy(&payload).into_owned();
                        let selector = if failed {
                            serde_json::from_str::<Value>(&text)
                                .ok()
                                .and_then(|v| {
                                    v.get("errorMessage")
                                        .and_then(Value::as_str)
                                        .map(str::to_string)
                                })
                                .unwrap_or_default()
                        } else {
                            String::new()
                        };
                        (selector, ::http::HeaderMap::new(), text, failed)
                    } else {
                        let ans = self.aws_service(call, i, &uri, request_body).await?;
                        (
                            ans.status.to_string(),
                            ans.headers,
                            String::from_utf8_lossy(&ans.body).into_owned(),
                            false,
                        )
                    }
                }
                _ => {
                    let url = self.integration_url(call, i)?;
                    let mut b = ::http::Request::builder()
                        .method(i.http_method.as_deref().unwrap_or("GET"))
                        .uri(&url);
                    for (to, from) in &i.request_parameters {
                        if let Some(h) = to.strip_prefix("integration.request.header.")
                            && let Some(v) = mapping::source(
                                from,
                                &call.params,
                                &call.context,
                                &call.stage.variables,
                                None,
                            )
                        {
                            b = b.header(h, v);
                        }
                    }
                    b = b.header("content-type", "application/json");
                    let ans = self.send(b, Bytes::from(request_body), i).await?;
                    (
                        ans.status.to_string(),
                        ans.headers,
                        String::from_utf8_lossy(&ans.body).into_owned(),
                        false,
                    )
                }
            };
        let Some(ir) = select_response(i, &selector, is_error) else {
            return Err(GatewayError::new(
                "API_CONFIGURATION_ERROR",
                "Internal server error",
            ));
        };
        self.method_response(call, ir, &headers, &body)
    }

    fn method_response(
        &self,
        call: &Call<'_>,
        ir: &IntegrationResponse,
        int_headers: &::http::HeaderMap,
        body: &str,
    ) -> Result<Response, GatewayError> {
        let accept = call.params.header("accept").unwrap_or("application/json");
        let template = mapping::pick(&ir.response_templates, accept)
            .or_else(|| mapping::pick(&ir.response_templates, "application/json"))
            .or_else(|| ir.response_templates.values().next().map(String::as_str));
        let (out, content_type) = match template {
            Some(t) => {
                let ct = ir
                    .response_templates
                    .iter()
                    .find(|(_, v)| v.as_str() == t)
                    .map_or("application/json", |(k, _)| k.as_str())
                    .to_string();
                let rendered =
                    mapping::render(t, body, &call.params, &call.context, &call.stage.variables)
                        .map_err(|e| {
                            tracing::warn!("apigateway: response template failed: {e}");
                            GatewayError::new("DEFAULT_5XX", "Internal server error")
                        })?;
                (rendered, ct)
            }
            None => (body.to_string(), "application/json".to_string()),
        };
        let mut headers = vec![("Content-Type".to_string(), content_type)];
        for (to, from) in &ir.response_parameters {
            if let Some(h) = to.strip_prefix("method.response.header.")
                && let Some(v) = mapping::source(
                    from,
                    &call.params,
                    &call.context,
                    &call.stage.variables,
                    Some((int_headers, body)),
                )
            {
                headers.retain(|(k, _)| !k.eq_ignore_ascii_case(h));
                headers.push((h.to_string(), v));
            }
        }
        let status = ir.status_code.parse().unwrap_or(200);
        Ok(response(status, headers, Bytes::from(out)))
    }

    /// AWS service integrations call Aloft itself, as a client would, over HTTP.
    async fn aws_service(
        &self,
        call: &Call<'_>,
        i: &Integration,
        uri: &str,
        body: String,
    ) -> Result<http::Answer, GatewayError> {
        let misconfigured =
            || GatewayError::new("API_CONFIGURATION_ERROR", "Internal server error");
        // arn:aws:apigateway:{region}:{service}:action/{Action} | path/{path}
        let mut parts = uri.splitn(6, ':');
        let (_, _, _, region, service, rest) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next().ok_or_else(misconfigured)?,
            parts.next().ok_or_else(misconfigured)?,
            parts.next().ok_or_else(misconfigured)?,
        );
        let service = service.split('.').next().unwrap_or(service);
        let base = self
            .ctx
            .config
            .internal_url
            .trim_end_matches('/')
            .to_string();
        let account = call.context.json()["accountId"]
            .as_str()
            .unwrap_or("000000000000");
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential={account}/{}/{region}/{service}/aws4_request, SignedHeaders=host;x-amz-date, Signature=0",
            aloft_core::clock::now().date().to_string().replace('-', "")
        );
        let mut b = ::http::Request::builder().header("authorization", auth);
        if let Some(action) = rest.strip_prefix("action/") {
            let target_prefix = match service {
                "dynamodb" => Some(("DynamoDB_20120810", "application/x-amz-json-1.0")),
                "sqs" => Some(("AmazonSQS", "application/x-amz-json-1.0")),
                "kinesis" => Some(("Kinesis_20131202", "application/x-amz-json-1.1")),
                "events" => Some(("AWSEvents", "application/x-amz-json-1.1")),
                "states" => Some(("AWSStepFunctions", "application/x-amz-json-1.0")),
                "logs" => Some(("Logs_20140328", "application/x-amz-json-1.1")),
                _ => None,
            };
            b = b.method("POST").uri(format!("{base}/"));
            match target_prefix {
                Some((prefix, ct)) => {
                    b = b
                        .header("x-amz-target", format!("{prefix}.{action}"))
                        .header("content-type", ct);
                }
                None => {
                    // Query-protocol services (SNS, SQS's old form) take the action in the form.
                    let form = if body.trim().is_empty() {
                        format!("Action={action}")
                    } else {
                        format!("Action={action}&{body}")
                    };
                    let req = b
                        .header("content-type", "application/x-www-form-urlencoded")
                        .body(Full::new(Bytes::from(form)))
                        .map_err(|_| misconfigured())?;
                    let timeout =
                        Duration::from_millis(u64::try_from(i.timeout_in_millis).unwrap_or(29_000));
                    return self
                        .http
                        .send(req, timeout)
                        .await
                        .map_err(|_| GatewayError::new("DEFAULT_5XX", "Internal server error"));
                }
            }
        } else if let Some(path) = rest.strip_prefix("path/") {
            let path = substitute_stage_vars(path, &call.stage.variables);
            b = b
                .method(i.http_method.as_deref().unwrap_or("POST"))
                .uri(format!("{base}/{}", path.trim_start_matches('/')))
                .header("content-type", "application/json");
        } else {
            return Err(misconfigured());
        }
        self.send(b, Bytes::from(body), i).await
    }
}

/// Picks the integration response: a selection pattern matching the selector (the whole of
/// it, as Java's `matches`), else the default (no pattern). A Lambda error never falls to
/// the default unless the default's pattern matches it.
fn select_response<'a>(
    i: &'a Integration,
    selector: &str,
    is_error: bool,
) -> Option<&'a IntegrationResponse> {
    let matched = i.integration_responses.values().find(|r| {
        r.selection_pattern
            .as_deref()
            .filter(|p| !p.is_empty())
            .is_some_and(|p| matches_whole(p, selector))
    });
    let _ = is_error;
    matched.or_else(|| {
        i.integration_responses
            .values()
            .find(|r| r.selection_pattern.as_deref().is_none_or(str::is_empty))
    })
}

/// `selector` matches all of `pattern`; patterns are compiled once per worker thread (an
/// invalid one matches nothing).
fn matches_whole(pattern: &str, selector: &str) -> bool {
    use std::cell::RefCell;
    use std::collections::HashMap;
    const MAX_PATTERNS: usize = 512;
    thread_local! {
        static PATTERNS: RefCell<HashMap<String, Option<regex::Regex>>> =
            RefCell::new(HashMap::new());
    }
    PATTERNS.with(|cache| {
        if let Some(re) = cache.borrow().get(pattern) {
            return re.as_ref().is_some_and(|re| re.is_match(selector));
        }
        let re = regex::Regex::new(&format!("^(?s:{pattern})$")).ok();
        let matched = re.as_ref().is_some_and(|re| re.is_match(selector));
        let mut c = cache.borrow_mut();
        if c.len() >= MAX_PATTERNS {
            c.clear();
        }
        c.insert(pattern.to_string(), re);
        matched
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selection_patterns_match_whole_strings() {
        let mut i = Integration::default();
        for (code, pat) in [
            ("200", None),
            ("400", Some("4\\d{2}")),
            ("404", Some(".*Not Found.*")),
        ] {
            i.integration_responses.insert(
                code.into(),
                IntegrationResponse {
                    status_code: code.into(),
                    selection_pattern: pat.map(str::to_string),
                    ..Default::default()
                },
            );
        }
        assert_eq!(
            select_response(&i, "200", false).unwrap().status_code,
            "200"
        );
        assert_eq!(
            select_response(&i, "403", false).unwrap().status_code,
            "400"
        );
        assert_eq!(
            select_response(&i, "Item Not Found here", true)
                .unwrap()
                .status_code,
            "404"
        );
        assert_eq!(
            select_response(&i, "1403", false).unwrap().status_code,
            "200"
        );
    }
}
