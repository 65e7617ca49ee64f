//! A WebSocket message's route (RouteSelectionExpression) and a route's integration: Lambda and HTTP proxy, and the non-proxy kinds (AWS
//! Lambda, MOCK, HTTP) with their request template (TemplateSelectionExpression), integration response
//! (IntegrationResponseSelectionExpression, ResponseTemplates) and the route response that
//! makes a route two-way; API keys checked at `$connect`.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use serde_json::Value;

use super::Session;
use crate::ApiGateway;
use crate::invoke::mapping::{self, Params};
use crate::invoke::{self, lambda};
use crate::v2::{Integration, Route};

/// What a message or `$connect` carries into an integration.
pub(super) struct Input<'a> {
    pub event: Value,
    pub body: &'a str,
    pub params: &'a Params,
}

/// Evaluates a selection expression against a JSON body: `\$default` and other literals,
/// `$request.body.x` / `${request.body.x}`.
fn select(expr: &str, body: &Value, status: Option<u16>) -> String {
    let e = expr.trim();
    if let Some(lit) = e.strip_prefix('\\') {
        return lit.to_string();
    }
    let inner = e
        .strip_prefix("${")
        .and_then(|x| x.strip_suffix('}'))
        .or_else(|| e.strip_prefix('$'))
        .unwrap_or(e);
    if let Some(p) = inner
        .strip_prefix("request.body.")
        .or_else(|| inner.strip_prefix("integration.response.body."))
    {
        return mapping::json_path(body, &format!("$.{p}"))
            .map(|v| match v {
                Value::String(s) => s,
                other => other.to_string(),
            })
            .unwrap_or_default();
    }
    if inner == "integration.response.statuscode" {
        return status.unwrap_or(200).to_string();
    }
    e.to_string()
}

/// The template for a selection key: that key's, else `$default`'s.
fn template<'a>(templates: Option<&'a Value>, key: &str) -> Option<&'a str> {
    let t = templates?;
    t.get(key)
        .or_else(|| t.get("$default"))
        .and_then(Value::as_str)
}

/// The integration response for a selector: an exact key, a `/regex/` matching the whole
/// selector, else `$default`.
fn integration_response<'a>(
    responses: Option<&'a indexmap::IndexMap<String, Value>>,
    selector: &str,
) -> Option<&'a Value> {
    let all = responses?;
    let key = |r: &&Value| {
        r.get("IntegrationResponseKey")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    all.values()
        .find(|r| key(r) == selector)
        .or_else(|| {
            all.values().find(|r| {
                let k = key(r);
                k.len() > 2
                    && k.starts_with('/')
                    && k.ends_with('/')
                    && regex::Regex::new(&format!("^(?:{})$", &k[1..k.len() - 1]))
                        .is_ok_and(|re| re.is_match(selector))
            })
        })
        .or_else(|| all.values().find(|r| key(r) == "$default"))
}

impl ApiGateway {
    /// Runs a route's integration. `Ok(Some(status))`: the status it answered, if any. The
    /// result goes back to the client when the route is two-way (a `$default` route response).
    pub(super) async fn ws_integration(
        &self,
        s: &Session,
        route: &Route,
        input: Input<'_>,
        rid: &str,
    ) -> Result<Option<u16>, ()> {
        let Some((iid, i)) = route
            .target
            .as_deref()
            .and_then(|t| t.strip_prefix("integrations/"))
            .and_then(|id| s.snap.integrations.get_key_value(id))
        else {
            return Ok(None);
        };
        let (status, body) = if i.integration_type == "AWS_PROXY" {
            let uri = invoke::substitute_stage_vars(
                i.integration_uri.as_deref().unwrap_or(""),
                &s.stage_vars,
            );
            let arn = lambda::function_arn(&uri).unwrap_or(&uri).to_string();
            let (payload, failed) = self
                .call_ws_function(s, &arn, input.event, self.ws_source(s, route))
                .await
                .ok_or(())?;
            if failed {
                return Err(());
            }
            let v: Value = serde_json::from_slice(&payload).unwrap_or(Value::Null);
            let status = v
                .get("statusCode")
                .and_then(|c| c.as_u64().or_else(|| c.as_str()?.parse().ok()))
                .and_then(|c| u16::try_from(c).ok());
            (
                status,
                v.get("body").and_then(Value::as_str).map(str::to_string),
            )
        } else {
            let (status, body) = self.ws_non_proxy(s, route, i, iid, &input, rid).await?;
            (Some(status), body)
        };
        // Two-way: the route asks for route responses and has the `$default` one.
        let two_way = route.route_response_selection_expression.is_some()
            && s.snap
                .route_responses
                .get(&route.route_id)
                .is_some_and(|rs| {
                    rs.values().any(|r| {
                        r.get("RouteResponseKey").and_then(Value::as_str) == Some("$default")
                    })
                });
        if two_way
            && route.route_key != "$connect"
            && let Some(b) = body
        {
            self.send_to(&s.id, b.as_bytes());
        }
        Ok(status)
    }

    fn ws_source(&self, s: &Session, route: &Route) -> String {
        format!(
            "arn:aws:execute-api:{}:{}:{}/{}/{}",
            s.region, s.account, s.api_id, s.stage, route.route_key
        )
    }

    /// MOCK, AWS (Lambda) and HTTP: request template → integration → integration response
    /// template. `(status, body for the client)`.
    async fn ws_non_proxy(
        &self,
        s: &Session,
        route: &Route,
        i: &Integration,
        iid: &str,
        input: &Input<'_>,
        rid: &str,
    ) -> Result<(u16, Option<String>), ()> {
        let context = input
            .event
            .get("requestContext")
            .cloned()
            .unwrap_or_default();
        let body_json = mapping::body_json(input.body);
        let expr = i
            .template_selection_expression
            .as_deref()
            .unwrap_or("\\$default");
        let key = select(expr, &body_json, None);
        let proxy = i.integration_type == "HTTP_PROXY";
        let request = match template(i.request_templates.as_ref(), &key).filter(|_| !proxy) {
            Some(t) => mapping::render(t, input.body, input.params, &context, &s.stage_vars)
                .map_err(|e| tracing::warn!("apigateway: request template failed: {e}"))?,
            None => {
                let has_templates = i
                    .request_templates
                    .as_ref()
                    .and_then(Value::as_object)
                    .is_some_and(|m| !m.is_empty());
                match i.passthrough_behavior.as_deref() {
                    Some("NEVER") => return Err(()),
                    Some("WHEN_NO_TEMPLATES") if has_templates => return Err(()),
                    _ => input.body.to_string(),
                }
            }
        };
        let (status, out, failed_message) = match i.integration_type.as_str() {
            "MOCK" => {
                let status = serde_json::from_str::<Value>(&request)
                    .ok()
                    .and_then(|v| {
                        v.get("statusCode")
                            .and_then(|c| c.as_u64().or_else(|| c.as_str()?.parse().ok()))
                    })
                    .and_then(|c| u16::try_from(c).ok())
                    .unwrap_or(200);
                (status, String::new(), None)
            }
            "AWS" => {
                let uri = invoke::substitute_stage_vars(
                    i.integration_uri.as_deref().unwrap_or(""),
                    &s.stage_vars,
                );
                let Some(arn) = lambda::function_arn(&uri) else {
                    tracing::warn!(
                        "apigateway: WebSocket AWS integrations reach Lambda functions only ({uri})"
                    );
                    return Err(());
                };
                let payload: Value =
                    serde_json::from_str(&request).unwrap_or(Value::String(request.clone()));
                let (out, failed) = self
                    .call_ws_function(s, arn, payload, self.ws_source(s, route))
                    .await
                    .ok_or(())?;
                let text = String::from_utf8_lossy(&out).into_owned();
                let message = failed.then(|| {
                    serde_json::from_str::<Value>(&text)
                        .ok()
                        .and_then(|v| v.get("errorMessage")?.as_str().map(str::to_string))
                        .unwrap_or_default()
                });
                (if failed { 500 } else { 200 }, text, message)
            }
            "HTTP" | "HTTP_PROXY" => {
                let uri = invoke::substitute_stage_vars(
                    i.integration_uri.as_deref().unwrap_or(""),
                    &s.stage_vars,
                );
                let req = ::http::Request::builder()
                    .method(i.integration_method.as_deref().unwrap_or("POST"))
                    .uri(&uri)
                    .header("content-type", "application/json")
                    .body(Full::new(Bytes::from(request)))
                    .map_err(|_| ())?;
                let timeout = Duration::from_millis(
                    u64::try_from(i.timeout_in_millis).unwrap_or(29_000).max(50),
                );
                let ans = self.http.send(req, timeout).await.map_err(|_| ())?;
                (
                    ans.status,
                    String::from_utf8_lossy(&ans.body).into_owned(),
                    None,
                )
            }
            other => {
                tracing::warn!(
                    "apigateway: {other} integrations are not supported for WebSocket routes"
                );
                return Err(());
            }
        };
        if proxy {
            // HTTP_PROXY: the backend's answer as it is, no integration responses.
            return Ok((status, (!out.is_empty()).then_some(out)));
        }
        let out_json = mapping::body_json(&out);
        let selector = match (
            &failed_message,
            &i.integration_response_selection_expression,
        ) {
            (Some(m), _) => m.clone(),
            (None, Some(e)) => select(e, &out_json, Some(status)),
            (None, None) => status.to_string(),
        };
        let Some(ir) = integration_response(s.snap.integration_responses.get(iid), &selector)
        else {
            // No integration response: the integration's body as it came.
            if failed_message.is_some() {
                return Err(());
            }
            return Ok((status, (!out.is_empty()).then_some(out)));
        };
        let key = ir
            .get("TemplateSelectionExpression")
            .and_then(Value::as_str)
            .map_or_else(
                || "$default".to_string(),
                |e| select(e, &out_json, Some(status)),
            );
        let body = match template(ir.get("ResponseTemplates"), &key) {
            Some(t) => mapping::render(t, &out, input.params, &context, &s.stage_vars)
                .map_err(|e| tracing::warn!("apigateway: response template failed: {e} ({rid})"))?,
            None => out,
        };
        Ok((status, Some(body)))
    }

    /// `$connect` with an API key required: the key (from the header or the authorizer's
    /// `usageIdentifierKey`, as the API's ApiKeySelectionExpression says) must be enabled
    /// and in a usage plan of this stage.
    pub(super) fn ws_api_key(
        &self,
        s: &Session,
        params: &Params,
        usage_key: Option<&str>,
    ) -> Result<String, ()> {
        let expr = s
            .snap
            .info
            .api_key_selection_expression
            .as_deref()
            .unwrap_or("$request.header.x-api-key");
        let value = if expr == "$context.authorizer.usageIdentifierKey" {
            usage_key
        } else {
            expr.strip_prefix("$request.header.")
                .and_then(|h| params.header(h))
        };
        let (key_id, plan) = self.check_key(value, &s.api_id, &s.stage).map_err(|_| ())?;
        if let Some(t) = &plan.throttle
            && let Some(rate) = t.rate_limit
        {
            #[allow(clippy::cast_precision_loss)]
            let burst = t.burst_limit.unwrap_or(rate.ceil() as i64) as f64;
            let now = aloft_core::clock::now_millis();
            if self
                .limits
                .take(&format!("{}/{key_id}", plan.id), rate, burst, now)
                .is_err()
            {
                return Err(());
            }
        }
        Ok(value.unwrap_or_default().to_string())
    }
}

/// Evaluates `$request.body.a.b` against a JSON message; other expressions (a constant
/// key, `${request.body.action}`) as AWS documents them.
pub fn select_route_key(expr: &str, data: &[u8], binary: bool) -> Option<String> {
    let expr = expr.trim();
    let path = expr
        .strip_prefix("${")
        .and_then(|e| e.strip_suffix('}'))
        .map_or_else(
            || expr.strip_prefix('$').map(str::to_string),
            |e| Some(e.to_string()),
        );
    let Some(path) = path else {
        return Some(expr.to_string());
    };
    let path = path.strip_prefix("request.body")?;
    if binary {
        return None;
    }
    let doc: Value = serde_json::from_slice(data).ok()?;
    let mut cur = &doc;
    for k in path.split('.').filter(|k| !k.is_empty()) {
        cur = cur.get(k)?;
    }
    match cur {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn route_selection_expressions() {
        let e = "$request.body.action";
        assert_eq!(
            select_route_key(e, br#"{"action": "send"}"#, false).as_deref(),
            Some("send")
        );
        assert_eq!(select_route_key(e, br#"{"other": 1}"#, false), None);
        assert_eq!(select_route_key(e, b"not json", false), None);
        assert_eq!(select_route_key(e, br#"{"action": "send"}"#, true), None);
        assert_eq!(
            select_route_key("$request.body.msg.type", br#"{"msg": {"type": 3}}"#, false)
                .as_deref(),
            Some("3")
        );
        assert_eq!(
            select_route_key("${request.body.action}", br#"{"action": "x"}"#, false).as_deref(),
            Some("x")
        );
    }

    #[test]
    fn selection_expressions() {
        let body = json!({"action": "join", "n": 3});
        assert_eq!(select("\\$default", &body, None), "$default");
        assert_eq!(select("$request.body.action", &body, None), "join");
        assert_eq!(select("${request.body.n}", &body, None), "3");
        assert_eq!(
            select("${integration.response.statuscode}", &body, Some(404)),
            "404"
        );
    }

    #[test]
    fn integration_response_keys() {
        let mut all = indexmap::IndexMap::new();
        for k in ["$default", "/4\\d\\d/", "200"] {
            all.insert(k.to_string(), json!({"IntegrationResponseKey": k}));
        }
        let pick = |s: &str| {
            integration_response(Some(&all), s).unwrap()["IntegrationResponseKey"].clone()
        };
        assert_eq!(pick("200"), "200");
        assert_eq!(pick("404"), "/4\\d\\d/");
        assert_eq!(pick("500"), "$default");
    }
}
