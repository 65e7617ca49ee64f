//! `$context` of a REST API request, built only as far as it is used: a mapping template
//! that reads `$context.requestId` gets that member alone, while a Lambda proxy event, an
//! access log line, an authorizer or a gateway response gets the whole document (built once).
//! Building every member as JSON on every request was a large share of a MOCK request's cost.

use std::sync::OnceLock;

use serde_json::{Map, Value, json};

/// The members, in the order the document lists them.
const MEMBERS: &[&str] = &[
    "accountId",
    "apiId",
    "stage",
    "requestId",
    "extendedRequestId",
    "httpMethod",
    "protocol",
    "domainName",
    "domainPrefix",
    "path",
    "requestTime",
    "requestTimeEpoch",
    "identity",
    "resourceId",
    "resourcePath",
];

/// What the request's context is made of, borrowed from the request and its deployment.
pub struct Base<'a> {
    pub account: &'a str,
    pub api_id: &'a str,
    pub stage: &'a str,
    pub request_id: &'a str,
    pub http_method: &'a str,
    pub domain_name: &'a str,
    /// The path after the stage (`/items/1`).
    pub path: &'a str,
    pub time_ms: i64,
    pub source_ip: &'a str,
    pub user_agent: Option<&'a str>,
    /// Resource id and path, once the request matched a resource.
    pub resource: Option<(&'a str, &'a str)>,
}

impl Base<'_> {
    /// One member as the whole document has it.
    fn member(&self, name: &str) -> Option<Value> {
        Some(match name {
            "accountId" => json!(self.account),
            "apiId" | "domainPrefix" => json!(self.api_id),
            "stage" => json!(self.stage),
            "requestId" | "extendedRequestId" => json!(self.request_id),
            "httpMethod" => json!(self.http_method),
            "protocol" => json!("HTTP/1.1"),
            "domainName" => json!(self.domain_name),
            "path" => json!(format!("/{}{}", self.stage, self.path)),
            "requestTime" => json!(super::request_time_at(self.time_ms)),
            "requestTimeEpoch" => json!(self.time_ms),
            "identity" => json!({
                "sourceIp": self.source_ip,
                "userAgent": self.user_agent,
                "accountId": null, "caller": null, "user": null, "userArn": null,
                "apiKey": null, "apiKeyId": null, "accessKey": null,
                "cognitoIdentityPoolId": null, "cognitoIdentityId": null,
                "cognitoAuthenticationType": null, "cognitoAuthenticationProvider": null,
                "principalOrgId": null
            }),
            "resourceId" => json!(self.resource?.0),
            "resourcePath" => json!(self.resource?.1),
            _ => return None,
        })
    }
}

/// The request's `$context`: members on demand until something needs (or changes) the whole.
pub struct LazyContext<'a> {
    base: Base<'a>,
    whole: OnceLock<Value>,
}

impl<'a> LazyContext<'a> {
    pub fn new(base: Base<'a>) -> Self {
        LazyContext {
            base,
            whole: OnceLock::new(),
        }
    }

    /// The whole document.
    pub fn json(&self) -> &Value {
        self.whole.get_or_init(|| {
            let mut m = Map::with_capacity(MEMBERS.len());
            for name in MEMBERS {
                if let Some(v) = self.base.member(name) {
                    m.insert((*name).to_string(), v);
                }
            }
            Value::Object(m)
        })
    }

    /// The whole document, to change it (an authorizer's result, the caller's API key).
    pub fn json_mut(&mut self) -> &mut Value {
        self.json();
        self.whole.get_mut().expect("initialized above")
    }

    pub fn into_json(mut self) -> Value {
        self.json();
        self.whole.take().unwrap_or(Value::Null)
    }
}

/// `$context` as mapping templates and parameter mappings read it.
pub trait TemplateContext {
    /// The whole document.
    fn whole(&self) -> &Value;
    /// One member, as `whole()` has it (`None`: absent).
    fn member(&self, name: &str) -> Option<Value>;
    /// Whether the whole is a map (members mean something).
    fn whole_is_object(&self) -> bool;
}

impl TemplateContext for Value {
    fn whole(&self) -> &Value {
        self
    }

    fn member(&self, name: &str) -> Option<Value> {
        self.get(name).cloned()
    }

    fn whole_is_object(&self) -> bool {
        self.is_object()
    }
}

impl TemplateContext for LazyContext<'_> {
    fn whole(&self) -> &Value {
        self.json()
    }

    fn member(&self, name: &str) -> Option<Value> {
        match self.whole.get() {
            Some(v) => v.get(name).cloned(),
            None => self.base.member(name),
        }
    }

    fn whole_is_object(&self) -> bool {
        self.whole.get().is_none_or(Value::is_object)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(resource: Option<(&'static str, &'static str)>) -> Base<'static> {
        Base {
            account: "000000000000",
            api_id: "abc123",
            stage: "prod",
            request_id: "r-1",
            http_method: "GET",
            domain_name: "localhost:4566",
            path: "/items/1",
            time_ms: 1_763_710_517_000,
            source_ip: "127.0.0.1",
            user_agent: Some("curl"),
            resource,
        }
    }

    #[test]
    fn members_are_those_of_the_whole_document() {
        let lazy = LazyContext::new(base(Some(("r1", "/items/{id}"))));
        for name in MEMBERS.iter().chain(&["nope"]) {
            let one = lazy.member(name);
            let fresh = LazyContext::new(base(Some(("r1", "/items/{id}"))));
            assert_eq!(one, fresh.json().get(*name).cloned(), "{name}");
        }
        let doc = lazy.json();
        assert_eq!(doc["path"], "/prod/items/1");
        assert_eq!(doc["requestTime"], "21/Nov/2025:07:35:17 +0000");
        assert_eq!(doc["identity"]["userAgent"], "curl");
        assert_eq!(doc["resourcePath"], "/items/{id}");
        let keys: Vec<&String> = doc.as_object().unwrap().keys().collect();
        assert_eq!(keys, MEMBERS.to_vec());
        assert!(
            LazyContext::new(base(None))
                .json()
                .get("resourceId")
                .is_none()
        );
    }

    #[test]
    fn changes_are_seen_by_members() {
        let mut lazy = LazyContext::new(base(None));
        lazy.json_mut()["authorizer"] = json!({"principalId": "me"});
        assert_eq!(
            lazy.member("authorizer"),
            Some(json!({"principalId": "me"}))
        );
        assert_eq!(lazy.into_json()["stage"], "prod");
    }
}
