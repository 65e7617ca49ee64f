//! HTTP API authorization: JWT authorizers (issuer, audience, scopes; keys from the issuer's
//! JWKS), Lambda REQUEST authorizers (simple or IAM policy responses, cached by identity
//! source), and AWS_IAM.

use indexmap::IndexMap;
use serde_json::{Map, Value, json};

use super::http::Incoming;
use super::payloads::{event_v1, event_v2};
use super::{Authorizer, Route, Snapshot, Stage};
use crate::ApiGateway;
use crate::invoke::authorizers::{Decision, evaluate};
use crate::invoke::lambda;
use crate::jwt;
use aloft_core::AwsRequest;

/// Claims as HTTP APIs pass them on: strings, lists as `[a b]`.
fn string_claims(claims: &Map<String, Value>) -> Value {
    Value::Object(
        claims
            .iter()
            .map(|(k, v)| {
                let s = match v {
                    Value::String(s) => s.clone(),
                    Value::Array(a) => format!(
                        "[{}]",
                        a.iter()
                            .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
                            .collect::<Vec<_>>()
                            .join(" ")
                    ),
                    other => other.to_string(),
                };
                (k.clone(), Value::String(s))
            })
            .collect(),
    )
}

pub(crate) enum Denied {
    Unauthorized(&'static str),
    Forbidden,
    Broken,
}

impl ApiGateway {
    /// Runs the route's authorization; `Ok` carries `requestContext.authorizer` (or null).
    pub(crate) async fn authorize_http(
        &self,
        snap: &Snapshot,
        route: &Route,
        stage: &Stage,
        inc: &Incoming,
        req: &AwsRequest,
    ) -> Result<Value, Denied> {
        let auth = || {
            route
                .authorizer_id
                .as_ref()
                .and_then(|id| snap.authorizers.get(id))
                .ok_or(Denied::Broken)
        };
        match route.authorization_type.as_str() {
            "JWT" => self.jwt_authorize(auth()?, route, inc).await,
            "CUSTOM" => self.lambda_authorize(auth()?, route, stage, inc).await,
            "AWS_IAM" => {
                let sig = req.ctx.signature.as_ref().ok_or(Denied::Forbidden)?;
                let (acct, arn) = crate::invoke::authorizers::caller_of(req);
                let id = if arn.ends_with(":root") {
                    acct.clone()
                } else {
                    arn.rsplit([':', '/']).next().unwrap_or(&acct).to_string()
                };
                Ok(json!({"iam": {
                    "accessKey": sig.credential.access_key,
                    "accountId": acct,
                    "callerId": id,
                    "principalOrgId": null,
                    "userArn": arn,
                    "userId": id,
                }}))
            }
            _ => Ok(Value::Null),
        }
    }

    async fn jwt_authorize(
        &self,
        auth: &Authorizer,
        route: &Route,
        inc: &Incoming,
    ) -> Result<Value, Denied> {
        let source = auth
            .identity_source
            .first()
            .map_or("$request.header.Authorization", String::as_str);
        let raw = identity_value(source, inc, &IndexMap::new())
            .ok_or(Denied::Unauthorized("missing token"))?;
        let raw = raw
            .strip_prefix("Bearer ")
            .or_else(|| raw.strip_prefix("bearer "))
            .unwrap_or(&raw)
            .to_string();
        let cfg = auth.jwt_configuration.clone().unwrap_or_default();
        let issuer = cfg.get("Issuer").and_then(Value::as_str).unwrap_or("");
        let token = jwt::parse(&raw).map_err(|_| Denied::Unauthorized("invalid token"))?;
        if !jwt::issuer_matches(issuer, token.claim("iss").unwrap_or("")) {
            return Err(Denied::Unauthorized("the token issuer is not trusted"));
        }
        let url = jwt::jwks_url(issuer, &self.ctx.config.internal_url);
        let keys = self
            .jwks
            .keys(&self.http, &url, token.kid())
            .await
            .map_err(|_| Denied::Unauthorized("signing keys could not be fetched"))?;
        token
            .verify(&keys)
            .map_err(|_| Denied::Unauthorized("the token signature is invalid"))?;
        token
            .check_time(aloft_core::clock::now_secs())
            .map_err(|_| Denied::Unauthorized("the token has expired"))?;
        let audiences: Vec<&str> = cfg
            .get("Audience")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let aud: Vec<&str> = match token.claims.get("aud") {
            Some(Value::String(s)) => vec![s.as_str()],
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
            _ => token.claim("client_id").into_iter().collect(),
        };
        if !aud.iter().any(|a| audiences.contains(a)) {
            return Err(Denied::Unauthorized("the token audience is not allowed"));
        }
        let scopes = token.scopes();
        if !route.authorization_scopes.is_empty()
            && !scopes
                .iter()
                .any(|s| route.authorization_scopes.iter().any(|w| w == s))
        {
            return Err(Denied::Forbidden);
        }
        Ok(json!({"jwt": {
            "claims": string_claims(&token.claims),
            "scopes": if scopes.is_empty() { Value::Null } else { json!(scopes) },
        }}))
    }

    async fn lambda_authorize(
        &self,
        auth: &Authorizer,
        route: &Route,
        stage: &Stage,
        inc: &Incoming,
    ) -> Result<Value, Denied> {
        let vars = stage.stage_variables.clone().unwrap_or_default();
        let mut identity = Vec::new();
        for s in &auth.identity_source {
            identity.push(
                identity_value(s, inc, &vars).ok_or(Denied::Unauthorized("missing identity"))?,
            );
        }
        let v2 = auth.authorizer_payload_format_version.as_deref() != Some("1.0");
        let ttl = auth.authorizer_result_ttl_in_seconds.unwrap_or(0);
        let key = format!(
            "{}/{}/{}",
            inc.api_id,
            auth.authorizer_id,
            identity.join(",")
        );
        let now = aloft_core::clock::now_millis();
        let cached = (ttl > 0 && !identity.is_empty())
            .then(|| self.authorizer_cache.get(&key, now))
            .flatten();
        let result = match cached {
            Some(r) => r,
            None => {
                let arn = auth
                    .authorizer_uri
                    .as_deref()
                    .map(|u| lambda::function_arn(u).unwrap_or(u).to_string())
                    .ok_or(Denied::Broken)?;
                let event = if v2 {
                    let mut e = event_v2(inc, route, &IndexMap::new(), &vars, Value::Null);
                    if let Value::Object(m) = &mut e {
                        m.shift_remove("body");
                        m.shift_remove("isBase64Encoded");
                        m.insert("type".into(), json!("REQUEST"));
                        m.insert("routeArn".into(), json!(inc.route_arn()));
                        m.insert("identitySource".into(), json!(identity));
                    }
                    e
                } else {
                    let mut e = event_v1(inc, route, &IndexMap::new(), &vars, Value::Null);
                    if let Value::Object(m) = &mut e {
                        m.shift_remove("body");
                        m.shift_remove("isBase64Encoded");
                        m.insert("type".into(), json!("REQUEST"));
                        m.insert("methodArn".into(), json!(inc.route_arn()));
                        m.insert("identitySource".into(), json!(identity.join(",")));
                    }
                    e
                };
                let source = format!(
                    "arn:aws:execute-api:{}:{}:{}/authorizers/{}",
                    inc.region, inc.account, inc.api_id, auth.authorizer_id
                );
                let (payload, failed) = self
                    .call_function(&arn, event, inc, source)
                    .await
                    .ok_or(Denied::Broken)?;
                let v: Value = serde_json::from_slice(&payload).map_err(|_| Denied::Broken)?;
                if failed {
                    if v.get("errorMessage").and_then(Value::as_str) == Some("Unauthorized") {
                        return Err(Denied::Unauthorized("unauthorized"));
                    }
                    return Err(Denied::Broken);
                }
                if ttl > 0 {
                    self.authorizer_cache.put(key, ttl, now, v.clone());
                }
                v
            }
        };
        let context = result.get("context").cloned().unwrap_or(Value::Null);
        let allowed = if auth.enable_simple_responses == Some(true) {
            result
                .get("isAuthorized")
                .and_then(Value::as_bool)
                .ok_or(Denied::Broken)?
        } else {
            match result
                .get("policyDocument")
                .and_then(|p| evaluate(p, &inc.route_arn()))
            {
                Some(d) => d == Decision::Allow,
                None => return Err(Denied::Broken),
            }
        };
        if !allowed {
            return Err(Denied::Forbidden);
        }
        let mut out = json!({"lambda": context});
        if let Some(p) = result.get("principalId") {
            out["principalId"] = p.clone();
        }
        Ok(out)
    }
}

/// `$request.header.X`, `$request.querystring.x`, `$stageVariables.x`, `$context.x`.
fn identity_value(source: &str, inc: &Incoming, vars: &IndexMap<String, String>) -> Option<String> {
    let v = if let Some(h) = source.strip_prefix("$request.header.") {
        inc.header(h).map(str::to_string)
    } else if let Some(q) = source.strip_prefix("$request.querystring.") {
        inc.query.get(q).map(|v| v.join(","))
    } else if let Some(s) = source.strip_prefix("$stageVariables.") {
        vars.get(s).cloned()
    } else if let Some(c) = source.strip_prefix("$context.") {
        match c {
            "requestId" => Some(inc.request_id.clone()),
            "stage" => Some(inc.stage.clone()),
            "apiId" => Some(inc.api_id.clone()),
            "identity.sourceIp" => Some(inc.source_ip().to_string()),
            _ => None,
        }
    } else {
        None
    };
    v.filter(|v| !v.is_empty())
}
