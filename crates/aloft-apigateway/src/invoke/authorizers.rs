//! Method authorization for REST APIs: Lambda TOKEN and REQUEST authorizers (the returned IAM
//! policy evaluated for the method ARN, results cached by identity source for their TTL),
//! Cognito user pool tokens, and AWS_IAM (the caller's SigV4 identity).

use std::collections::HashMap;
use std::sync::Mutex;

use aloft_core::AwsRequest;
use aloft_events::Delivery;
use bytes::Bytes;
use serde_json::{Map, Value, json};

use super::responses::GatewayError;
use super::{Call, Target, lambda};
use crate::ApiGateway;
use crate::jwt;
use crate::model::Authorizer;

/// Authorizer results by `api/authorizer/identity`, with their expiry (ms, the one clock).
#[derive(Default)]
pub struct Cache {
    entries: Mutex<HashMap<String, (i64, Value)>>,
}

impl Cache {
    pub fn reset(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (i64, Value)>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn get(&self, key: &str, now: i64) -> Option<Value> {
        let mut m = self.lock();
        match m.get(key) {
            Some((exp, v)) if *exp > now => Some(v.clone()),
            Some(_) => {
                m.remove(key);
                None
            }
            None => None,
        }
    }

    pub fn put(&self, key: String, ttl_secs: i64, now: i64, v: Value) {
        let mut m = self.lock();
        // Identity sources are client-chosen: keep the map from growing without bound.
        if m.len() > 10_000 {
            m.retain(|_, (exp, _)| *exp > now);
        }
        m.insert(key, (now + ttl_secs * 1000, v));
    }

    /// Drops the cached results of one API (ResetAuthorizersCache, a new deployment).
    pub fn forget_api(&self, api_id: &str) {
        let prefix = format!("{api_id}/");
        self.lock().retain(|k, _| !k.starts_with(&prefix));
    }
}

/// What an IAM policy says about one action on one resource.
#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    Allow,
    ExplicitDeny,
    ImplicitDeny,
}

/// `*` matches any run of characters, `?` one, as IAM matches actions and resources.
pub fn glob(pattern: &str, s: &str) -> bool {
    aloft_core::auth::wildcard(pattern, s, false)
}

fn strings(v: Option<&Value>) -> Vec<&str> {
    match v {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// Evaluates a policy document for `execute-api:Invoke` on `method_arn`: an explicit deny
/// wins over any allow. `None` when the document is not a policy at all.
pub fn evaluate(policy: &Value, method_arn: &str) -> Option<Decision> {
    let statements = match policy.get("Statement")? {
        Value::Array(a) => a.clone(),
        s @ Value::Object(_) => vec![s.clone()],
        _ => return None,
    };
    let mut allowed = false;
    for st in &statements {
        let effect = st.get("Effect").and_then(Value::as_str)?;
        let action = if let Some(na) = st.get("NotAction") {
            !strings(Some(na))
                .iter()
                .any(|a| glob(&a.to_ascii_lowercase(), "execute-api:invoke"))
        } else {
            strings(st.get("Action"))
                .iter()
                .any(|a| glob(&a.to_ascii_lowercase(), "execute-api:invoke"))
        };
        let resource = if let Some(nr) = st.get("NotResource") {
            !strings(Some(nr)).iter().any(|r| glob(r, method_arn))
        } else {
            strings(st.get("Resource"))
                .iter()
                .any(|r| glob(r, method_arn))
        };
        if !(action && resource) {
            continue;
        }
        match effect {
            "Deny" => return Some(Decision::ExplicitDeny),
            "Allow" => allowed = true,
            _ => return None,
        }
    }
    Some(if allowed {
        Decision::Allow
    } else {
        Decision::ImplicitDeny
    })
}

fn unauthorized() -> GatewayError {
    GatewayError::new("UNAUTHORIZED", "Unauthorized")
}

/// AWS answers `{"message": null}` when an authorizer is broken or returns nonsense.
fn misconfigured() -> GatewayError {
    GatewayError::new("AUTHORIZER_CONFIGURATION_ERROR", "")
}

/// `Thu Nov 21 08:00:00 UTC 2026`: how API Gateway shows time claims of a Cognito token.
fn java_date(secs: i64) -> String {
    let Ok(t) = time::OffsetDateTime::from_unix_timestamp(secs) else {
        return secs.to_string();
    };
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{} {} {:02} {:02}:{:02}:{:02} UTC {}",
        DAYS[usize::from(t.weekday().number_days_from_monday())],
        MONTHS[usize::from(u8::from(t.month())) - 1],
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.year()
    )
}

/// Claims as `$context.authorizer.claims` shows them: every value a string.
pub fn claims_as_strings(claims: &Map<String, Value>) -> Value {
    Value::Object(
        claims
            .iter()
            .map(|(k, v)| {
                let s = match (k.as_str(), v) {
                    ("exp" | "iat" | "auth_time", Value::Number(n)) => {
                        n.as_i64().map_or_else(|| n.to_string(), java_date)
                    }
                    (_, Value::String(s)) => s.clone(),
                    (_, Value::Array(a)) => a
                        .iter()
                        .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
                        .collect::<Vec<_>>()
                        .join(","),
                    (_, other) => other.to_string(),
                };
                (k.clone(), Value::String(s))
            })
            .collect(),
    )
}

impl ApiGateway {
    /// Runs the method's authorization; on success fills `$context.authorizer` / `identity`.
    pub(super) async fn authorize(
        &self,
        call: &mut Call<'_>,
        req: &AwsRequest,
        target: &Target,
    ) -> Result<(), GatewayError> {
        match call.method.authorization_type.as_str() {
            "NONE" => Ok(()),
            "AWS_IAM" => iam(call, req),
            "COGNITO_USER_POOLS" => self.cognito(call).await,
            "CUSTOM" => self.custom(call, target).await,
            _ => Err(misconfigured()),
        }
    }

    fn authorizer(call: &Call<'_>) -> Result<Authorizer, GatewayError> {
        call.method
            .authorizer_id
            .as_ref()
            .and_then(|id| call.snap.authorizers.get(id))
            .cloned()
            .ok_or_else(misconfigured)
    }

    async fn cognito(&self, call: &mut Call<'_>) -> Result<(), GatewayError> {
        let auth = Self::authorizer(call)?;
        let header = auth
            .identity_source
            .as_deref()
            .and_then(|s| s.strip_prefix("method.request.header."))
            .unwrap_or("Authorization");
        let raw = call
            .params
            .header(header)
            .filter(|t| !t.is_empty())
            .ok_or_else(unauthorized)?;
        // Many clients send `Bearer <token>`; API Gateway takes the header as the token.
        let raw = raw.strip_prefix("Bearer ").unwrap_or(raw);
        let token = jwt::parse(raw).map_err(|_| unauthorized())?;
        let iss = token.claim("iss").unwrap_or_default().to_string();
        let pool = auth
            .provider_arns
            .iter()
            .filter_map(|a| jwt::pool_id(a))
            .find(|p| jwt::pool_id(&iss) == Some(p))
            .ok_or_else(unauthorized)?;
        let url = format!(
            "{}/{pool}/.well-known/jwks.json",
            self.ctx.config.internal_url.trim_end_matches('/')
        );
        let keys = self
            .jwks
            .keys(&self.http, &url, token.kid())
            .await
            .map_err(|_| unauthorized())?;
        token.verify(&keys).map_err(|_| unauthorized())?;
        if token.check_time(aloft_core::clock::now_secs()) == Err(jwt::Invalid::Expired) {
            return Err(GatewayError::new(
                "UNAUTHORIZED",
                "The incoming token has expired",
            ));
        }
        // Without scopes on the method the ID token is what is checked; with scopes, an
        // access token carrying one of them.
        let scopes = &call.method.authorization_scopes;
        if scopes.is_empty() {
            if token.claim("token_use") != Some("id") {
                return Err(unauthorized());
            }
        } else if token.claim("token_use") != Some("access")
            || !token.scopes().iter().any(|s| scopes.iter().any(|w| w == s))
        {
            return Err(unauthorized());
        }
        call.context.json_mut()["authorizer"] =
            json!({ "claims": claims_as_strings(&token.claims) });
        Ok(())
    }

    async fn custom(&self, call: &mut Call<'_>, target: &Target) -> Result<(), GatewayError> {
        let auth = Self::authorizer(call)?;
        let ttl = auth.authorizer_result_ttl_in_seconds.unwrap_or(300);
        let method_arn = format!(
            "arn:aws:execute-api:{}:{}:{}/{}/{}{}",
            call.region,
            call.context.json()["accountId"]
                .as_str()
                .unwrap_or_default(),
            target.api_id,
            target.stage,
            call.http_method,
            target.path
        );
        let (event, identity) = if auth.kind == "REQUEST" {
            let sources: Vec<&str> = auth
                .identity_source
                .as_deref()
                .unwrap_or("")
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect();
            let mut values = Vec::new();
            for s in &sources {
                let v = super::mapping::source(
                    s,
                    &call.params,
                    &call.context,
                    &call.stage.variables,
                    None,
                )
                .filter(|v| !v.is_empty());
                match v {
                    Some(v) => values.push(v),
                    // With caching on, a missing identity source is refused unseen.
                    None if ttl > 0 => return Err(unauthorized()),
                    None => values.push(String::new()),
                }
            }
            let mut event = lambda::event(
                call.resource_path,
                &target.path,
                &call.http_method,
                &call.params,
                &call.stage.variables,
                Self::request_context(call),
                &Bytes::new(),
                false,
            );
            // The REQUEST event is the proxy event without the body, led by type and ARN.
            if let Value::Object(m) = event {
                let mut ordered = Map::new();
                ordered.insert("type".into(), json!("REQUEST"));
                ordered.insert("methodArn".into(), json!(method_arn));
                ordered.extend(
                    m.into_iter()
                        .filter(|(k, _)| k != "body" && k != "isBase64Encoded"),
                );
                event = Value::Object(ordered);
            }
            (event, values.join(","))
        } else {
            let header = auth
                .identity_source
                .as_deref()
                .and_then(|s| s.strip_prefix("method.request.header."))
                .unwrap_or("Authorization");
            let token = call
                .params
                .header(header)
                .filter(|t| !t.is_empty())
                .ok_or_else(unauthorized)?
                .to_string();
            if let Some(expr) = auth
                .identity_validation_expression
                .as_deref()
                .filter(|e| !e.is_empty())
                && !regex::Regex::new(&format!("^(?:{expr})$")).is_ok_and(|re| re.is_match(&token))
            {
                return Err(unauthorized());
            }
            (
                json!({"type": "TOKEN", "methodArn": method_arn, "authorizationToken": token}),
                token,
            )
        };
        let key = format!("{}/{}/{identity}", target.api_id, auth.id);
        let now = aloft_core::clock::now_millis();
        let result = match (ttl > 0)
            .then(|| self.authorizer_cache.get(&key, now))
            .flatten()
        {
            Some(r) => r,
            None => {
                let r = self.run_authorizer(call, &auth, event).await?;
                if ttl > 0 {
                    self.authorizer_cache.put(key, ttl, now, r.clone());
                }
                r
            }
        };
        // A cached policy is evaluated again for each method: a policy naming one method
        // ARN denies the others for the TTL, as on AWS.
        match result
            .get("policyDocument")
            .and_then(|p| evaluate(p, &method_arn))
        {
            Some(Decision::Allow) => {}
            Some(Decision::ExplicitDeny) => {
                return Err(GatewayError::new(
                    "ACCESS_DENIED",
                    "User is not authorized to access this resource with an explicit deny",
                ));
            }
            Some(Decision::ImplicitDeny) => {
                return Err(GatewayError::new(
                    "ACCESS_DENIED",
                    "User is not authorized to access this resource",
                ));
            }
            None => return Err(misconfigured()),
        }
        let mut authorizer = Map::new();
        authorizer.insert(
            "principalId".into(),
            result.get("principalId").cloned().unwrap_or(Value::Null),
        );
        if let Some(Value::Object(c)) = result.get("context") {
            for (k, v) in c {
                authorizer.insert(
                    k.clone(),
                    match v {
                        Value::String(_) => v.clone(),
                        other => Value::String(other.to_string()),
                    },
                );
            }
        }
        authorizer.insert("integrationLatency".into(), json!(0));
        call.context.json_mut()["authorizer"] = Value::Object(authorizer);
        if let Some(k) = result.get("usageIdentifierKey").and_then(Value::as_str)
            && call.snap.info.api_key_source == "AUTHORIZER"
        {
            call.authorizer_key = Some(k.to_string());
        }
        Ok(())
    }

    /// Invokes the authorizer function and checks its answer's shape.
    async fn run_authorizer(
        &self,
        call: &Call<'_>,
        auth: &Authorizer,
        event: Value,
    ) -> Result<Value, GatewayError> {
        let arn = auth
            .authorizer_uri
            .as_deref()
            .and_then(lambda::function_arn)
            .map(|a| super::substitute_stage_vars(a, &call.stage.variables))
            .ok_or_else(misconfigured)?;
        let account = call.context.json()["accountId"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let d = Delivery {
            payload: Bytes::from(event.to_string()),
            sync: true,
            source_arn: Some(format!(
                "arn:aws:execute-api:{}:{account}:{}/authorizers/{}",
                call.region,
                call.context.json()["apiId"].as_str().unwrap_or_default(),
                auth.id
            )),
            account,
            region: arn.split(':').nth(3).unwrap_or(&call.region).to_string(),
            ..Default::default()
        };
        let out = self.ctx.targets.deliver(&arn, d).await.map_err(|e| {
            tracing::warn!("apigateway: authorizer {arn} failed: {}", e.message);
            misconfigured()
        })?;
        let payload: Value = serde_json::from_slice(&out.payload.unwrap_or_default())
            .map_err(|_| misconfigured())?;
        if out.info.get("FunctionError").is_some() {
            // The documented way to refuse a token: fail with the message "Unauthorized".
            if payload.get("errorMessage").and_then(Value::as_str) == Some("Unauthorized") {
                return Err(unauthorized());
            }
            return Err(misconfigured());
        }
        let ok = payload.get("principalId").is_some_and(|p| !p.is_null())
            && payload
                .get("policyDocument")
                .is_some_and(|p| evaluate(p, "").is_some())
            && match payload.get("context") {
                None | Some(Value::Null) => true,
                Some(Value::Object(c)) => c.values().all(|v| !v.is_object() && !v.is_array()),
                Some(_) => false,
            };
        if !ok {
            tracing::warn!("apigateway: authorizer {arn} returned an invalid response: {payload}");
            return Err(misconfigured());
        }
        Ok(payload)
    }
}

/// AWS_IAM: the request must be SigV4-signed; the signer becomes `$context.identity`.
fn iam(call: &mut Call<'_>, req: &AwsRequest) -> Result<(), GatewayError> {
    let Some(sig) = req.ctx.signature.as_ref() else {
        return Err(GatewayError::forbidden());
    };
    let key = sig.credential.access_key.clone();
    let (account, arn) = caller_of(req);
    // AWS shows the principal id: the account for root, the user or role id otherwise; the
    // ARN's last part stands in for those ids here.
    let principal = if arn.ends_with(":root") {
        account.clone()
    } else {
        arn.rsplit([':', '/'])
            .next()
            .unwrap_or(&account)
            .to_string()
    };
    let id = &mut call.context.json_mut()["identity"];
    id["accessKey"] = json!(key);
    id["accountId"] = json!(account);
    id["caller"] = json!(principal);
    id["user"] = json!(principal);
    id["userArn"] = json!(arn);
    Ok(())
}

/// The signer: the caller the gateway resolved (IAM users, STS sessions) when it put one in
/// the request, else the root of the request's account.
pub(crate) fn caller_of(req: &AwsRequest) -> (String, String) {
    match req.parts.extensions.get::<aloft_core::auth::Caller>() {
        Some(c) => (c.account.clone(), c.arn.clone()),
        None => (
            req.ctx.account_id.clone(),
            format!("arn:aws:iam::{}:root", req.ctx.account_id),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob("*", "anything"));
        assert!(glob(
            "arn:aws:execute-api:*:*:abc/*/GET/*",
            "arn:aws:execute-api:us-east-1:1:abc/prod/GET/pets/1"
        ));
        assert!(!glob(
            "arn:aws:execute-api:*:*:abc/*/GET/*",
            "arn:aws:execute-api:us-east-1:1:abc/prod/POST/pets"
        ));
        assert!(glob("a?c", "abc"));
        assert!(!glob("a?c", "ac"));
        assert!(glob("a*b*c", "aXbYbZc"));
        assert!(!glob("abc", "abcd"));
    }

    #[test]
    fn policies() {
        let arn = "arn:aws:execute-api:us-east-1:000000000000:api/prod/GET/notes";
        let p = |effect: &str, res: Value| json!({"Version": "2012-10-17", "Statement": [{"Effect": effect, "Action": "execute-api:Invoke", "Resource": res}]});
        assert_eq!(
            evaluate(&p("Allow", json!(arn)), arn),
            Some(Decision::Allow)
        );
        assert_eq!(
            evaluate(
                &p("Allow", json!(["x", "arn:aws:execute-api:*:*:api/*/GET/*"])),
                arn
            ),
            Some(Decision::Allow)
        );
        assert_eq!(
            evaluate(
                &p("Allow", json!("arn:aws:execute-api:*:*:api/*/POST/*")),
                arn
            ),
            Some(Decision::ImplicitDeny)
        );
        assert_eq!(
            evaluate(&p("Deny", json!("*")), arn),
            Some(Decision::ExplicitDeny)
        );
        let both = json!({"Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": ["execute-api:*"], "Resource": arn}
        ]});
        assert_eq!(evaluate(&both, arn), Some(Decision::ExplicitDeny));
        assert_eq!(evaluate(&json!({"Statement": "x"}), arn), None);
        assert_eq!(evaluate(&json!({}), arn), None);
    }

    #[test]
    fn cache_expires_on_the_clock() {
        let c = Cache::default();
        c.put("api/a/tok".into(), 10, 1_000, json!(1));
        assert_eq!(c.get("api/a/tok", 10_999), Some(json!(1)));
        assert_eq!(c.get("api/a/tok", 11_000), None);
        c.put("api/a/tok".into(), 10, 1_000, json!(1));
        c.forget_api("api");
        assert_eq!(c.get("api/a/tok", 1_001), None);
    }

    #[test]
    fn claims_become_strings() {
        let m = json!({"sub": "u", "email_verified": true, "exp": 0, "cognito:groups": ["a", "b"]});
        let out = claims_as_strings(m.as_object().unwrap());
        assert_eq!(out["email_verified"], "true");
        assert_eq!(out["exp"], "Thu Jan 01 00:00:00 UTC 1970");
        assert_eq!(out["cognito:groups"], "a,b");
    }
}
