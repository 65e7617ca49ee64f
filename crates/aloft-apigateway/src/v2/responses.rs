//! WebSocket route responses and integration responses: Create, Get(s), Update, Delete. Stored
//! as given (the model's member names) under their route or integration.

use aloft_core::RequestContext;
use indexmap::IndexMap;
use serde_json::{Value, json};

use super::HttpApi;
use crate::ApiGateway;
use crate::error::{Code, Result, bad_request, err, not_found};
use crate::handlers::{new_id, s};

/// Which kind of response an operation is about.
#[derive(Clone, Copy)]
enum Kind {
    Route,
    Integration,
}

impl Kind {
    fn parent(self) -> &'static str {
        match self {
            Kind::Route => "RouteId",
            Kind::Integration => "IntegrationId",
        }
    }
    fn id(self) -> &'static str {
        match self {
            Kind::Route => "RouteResponseId",
            Kind::Integration => "IntegrationResponseId",
        }
    }
    fn key(self) -> &'static str {
        match self {
            Kind::Route => "RouteResponseKey",
            Kind::Integration => "IntegrationResponseKey",
        }
    }
    fn name(self) -> &'static str {
        match self {
            Kind::Route => "RouteResponse",
            Kind::Integration => "IntegrationResponse",
        }
    }
    fn parent_exists(self, a: &HttpApi, id: &str) -> Result<()> {
        let found = match self {
            Kind::Route => a.routes.contains_key(id),
            Kind::Integration => a.integrations.contains_key(id),
        };
        if found {
            Ok(())
        } else {
            let kind = match self {
                Kind::Route => "Route",
                Kind::Integration => "Integration",
            };
            Err(not_found(format!(
                "Invalid {kind} identifier specified {id}"
            )))
        }
    }
    fn store(self, a: &mut HttpApi) -> &mut IndexMap<String, IndexMap<String, Value>> {
        match self {
            Kind::Route => &mut a.route_responses,
            Kind::Integration => &mut a.integration_responses,
        }
    }
    fn read(self, a: &HttpApi) -> &IndexMap<String, IndexMap<String, Value>> {
        match self {
            Kind::Route => &a.route_responses,
            Kind::Integration => &a.integration_responses,
        }
    }
}

/// Route responses answer with `$default` only; integration response keys are `$default`,
/// a status code or a `/regex/` matched against the integration's status or error message.
fn check_key(kind: Kind, key: &str) -> Result<()> {
    match kind {
        Kind::Route if key != "$default" => Err(bad_request(format!(
            "Invalid route response key {key}: only $default is supported"
        ))),
        Kind::Integration if key.len() > 2 && key.starts_with('/') && key.ends_with('/') => {
            regex::Regex::new(&key[1..key.len() - 1])
                .map(|_| ())
                .map_err(|_| bad_request(format!("Invalid integration response key {key}")))
        }
        Kind::Integration if key.is_empty() => {
            Err(bad_request("IntegrationResponseKey must not be empty"))
        }
        _ => Ok(()),
    }
}

fn missing(kind: Kind, id: &str) -> aloft_core::AwsError {
    not_found(format!("Invalid {} identifier specified {id}", kind.name()))
}

fn conflict(kind: Kind, key: &str) -> aloft_core::AwsError {
    err(
        Code::ConflictException,
        format!(
            "Unable to create {}. Key {key} already exists.",
            kind.name()
        ),
    )
}

/// The route and integration response operations; `None` for any other operation.
pub(crate) async fn dispatch(
    gw: &ApiGateway,
    ctx: &RequestContext,
    op: &str,
    input: &Value,
) -> Option<Result<Value>> {
    let (kind, verb) = match op {
        "CreateRouteResponse" => (Kind::Route, "Create"),
        "GetRouteResponse" => (Kind::Route, "Get"),
        "GetRouteResponses" => (Kind::Route, "List"),
        "UpdateRouteResponse" => (Kind::Route, "Update"),
        "DeleteRouteResponse" => (Kind::Route, "Delete"),
        "CreateIntegrationResponse" => (Kind::Integration, "Create"),
        "GetIntegrationResponse" => (Kind::Integration, "Get"),
        "GetIntegrationResponses" => (Kind::Integration, "List"),
        "UpdateIntegrationResponse" => (Kind::Integration, "Update"),
        "DeleteIntegrationResponse" => (Kind::Integration, "Delete"),
        _ => return None,
    };
    Some(run(gw, ctx, kind, verb, input).await)
}

async fn run(
    gw: &ApiGateway,
    ctx: &RequestContext,
    kind: Kind,
    verb: &str,
    input: &Value,
) -> Result<Value> {
    let api = s(input, "ApiId")?;
    let parent = s(input, kind.parent())?;
    let strip = |v: &mut Value| {
        if let Value::Object(m) = v {
            for k in ["ApiId", kind.parent(), kind.id()] {
                m.remove(k);
            }
        }
    };
    match verb {
        "Get" | "List" => gw.read_v2(ctx, api, |a| {
            kind.parent_exists(a, parent)?;
            let all = kind.read(a).get(parent);
            if verb == "List" {
                let items: Vec<Value> = all
                    .map(|m| m.values().cloned().collect())
                    .unwrap_or_default();
                return Ok(json!({ "Items": items }));
            }
            let id = s(input, kind.id())?;
            all.and_then(|m| m.get(id))
                .cloned()
                .ok_or_else(|| missing(kind, id))
        }),
        "Create" => {
            gw.edit_v2(ctx, api, true, |a| {
                kind.parent_exists(a, parent)?;
                let key = s(input, kind.key())?;
                check_key(kind, key)?;
                let list = kind.store(a).entry(parent.to_string()).or_default();
                if list
                    .values()
                    .any(|r| r.get(kind.key()).and_then(Value::as_str) == Some(key))
                {
                    return Err(conflict(kind, key));
                }
                let mut v = input.clone();
                strip(&mut v);
                let id = new_id(6);
                v[kind.id()] = json!(id);
                list.insert(id, v.clone());
                Ok(v)
            })
            .await
        }
        "Update" => {
            let id = s(input, kind.id())?;
            gw.edit_v2(ctx, api, true, |a| {
                kind.parent_exists(a, parent)?;
                let list = kind.store(a).entry(parent.to_string()).or_default();
                let mut next = list.get(id).cloned().ok_or_else(|| missing(kind, id))?;
                let mut changes = input.clone();
                strip(&mut changes);
                if let (Value::Object(m), Value::Object(c)) = (&mut next, changes) {
                    m.extend(c);
                }
                let key = next
                    .get(kind.key())
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                check_key(kind, &key)?;
                if list.iter().any(|(other, r)| {
                    other != id && r.get(kind.key()).and_then(Value::as_str) == Some(&key)
                }) {
                    return Err(conflict(kind, &key));
                }
                list.insert(id.to_string(), next.clone());
                Ok(next)
            })
            .await
        }
        _ => {
            let id = s(input, kind.id())?;
            gw.edit_v2(ctx, api, true, |a| {
                kind.parent_exists(a, parent)?;
                kind.store(a)
                    .get_mut(parent)
                    .and_then(|m| m.shift_remove(id))
                    .ok_or_else(|| missing(kind, id))?;
                Ok(Value::Null)
            })
            .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        assert!(check_key(Kind::Route, "$default").is_ok());
        assert!(check_key(Kind::Route, "200").is_err());
        assert!(check_key(Kind::Integration, "/4\\d\\d/").is_ok());
        assert!(check_key(Kind::Integration, "/(/").is_err());
        assert!(check_key(Kind::Integration, "$default").is_ok());
        assert!(check_key(Kind::Integration, "").is_err());
    }
}
