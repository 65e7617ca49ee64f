//! HTTP API parameter mapping: an integration's `RequestParameters` (append, overwrite or
//! remove a header or query string, overwrite the path) and `ResponseParameters` per status
//! code (append, overwrite or remove a header, overwrite the status code), with values built
//! from `$request.*`, `$response.*`, `$context.*`, `$stageVariables.*` and static text.

use indexmap::IndexMap;
use serde_json::{Value, json};

use super::http::Incoming;
use super::{Integration, Route};
use crate::error::{Result, bad_request};
use crate::invoke;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Append,
    Overwrite,
    Remove,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    Header(String),
    Query(String),
    Path,
    StatusCode,
}

/// Headers nobody may map: hop-by-hop and the gateway's own (AWS's reserved list).
fn reserved(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.starts_with("access-control-")
        || n.starts_with("apigw-")
        || n.starts_with("x-amz-")
        || n.starts_with("x-amzn-")
        || matches!(
            n.as_str(),
            "authorization"
                | "connection"
                | "content-encoding"
                | "content-length"
                | "content-location"
                | "forwarded"
                | "host"
                | "keep-alive"
                | "origin"
                | "proxy-authenticate"
                | "proxy-authorization"
                | "te"
                | "trailers"
                | "transfer-encoding"
                | "upgrade"
                | "x-forwarded-for"
                | "x-forwarded-host"
                | "x-forwarded-proto"
                | "via"
        )
}

fn invalid(why: &str) -> aloft_core::AwsError {
    bad_request(format!(
        "Invalid mapping expression specified: Validation Result: warnings : [], errors : [{why}]"
    ))
}

/// Parses a mapping key such as `append:header.x-id`; `response` selects the keys allowed
/// in `ResponseParameters`.
pub fn parse_key(key: &str, response: bool) -> std::result::Result<(Op, Place), String> {
    let bad = || format!("Invalid mapping expression specified: {key}");
    let (op, target) = key.split_once(':').ok_or_else(bad)?;
    let op = match op {
        "append" => Op::Append,
        "overwrite" => Op::Overwrite,
        "remove" => Op::Remove,
        _ => return Err(bad()),
    };
    let place = if let Some(h) = target.strip_prefix("header.") {
        if h.is_empty() || !h.bytes().all(|b| b.is_ascii_graphic() && b != b':') {
            return Err(bad());
        }
        if reserved(h) {
            return Err(format!("Operations on header {h} are restricted"));
        }
        Place::Header(h.to_ascii_lowercase())
    } else if let Some(q) = target.strip_prefix("querystring.").filter(|_| !response) {
        if q.is_empty() {
            return Err(bad());
        }
        Place::Query(q.to_string())
    } else if target == "path" && !response && op == Op::Overwrite {
        Place::Path
    } else if target == "statuscode" && response && op == Op::Overwrite {
        Place::StatusCode
    } else {
        return Err(bad());
    };
    Ok((op, place))
}

fn check_value(v: &str, response: bool) -> std::result::Result<(), String> {
    for var in variables(v) {
        let ok = if response {
            ["response.header.", "response.body"]
                .iter()
                .any(|p| var.starts_with(p))
        } else {
            [
                "request.header.",
                "request.querystring.",
                "request.body",
                "request.path",
            ]
            .iter()
            .any(|p| var.starts_with(p))
        } || var.starts_with("context.")
            || var.starts_with("stageVariables.");
        if !ok {
            return Err(format!("Invalid mapping expression specified: ${var}"));
        }
    }
    Ok(())
}

/// CreateIntegration/UpdateIntegration: the keys and values of both maps.
pub fn validate(request: Option<&Value>, response: Option<&Value>) -> Result<()> {
    for (k, v) in request.and_then(Value::as_object).into_iter().flatten() {
        parse_key(k, false).map_err(|e| invalid(&e))?;
        check_value(v.as_str().unwrap_or_default(), false).map_err(|e| invalid(&e))?;
    }
    for (code, m) in response.and_then(Value::as_object).into_iter().flatten() {
        if !code.parse::<u16>().is_ok_and(|c| (200..=599).contains(&c)) {
            return Err(bad_request(format!(
                "Invalid status code {code}: response parameters are keyed by a status code between 200 and 599"
            )));
        }
        for (k, v) in m.as_object().into_iter().flatten() {
            let (_, place) = parse_key(k, true).map_err(|e| invalid(&e))?;
            let v = v.as_str().unwrap_or_default();
            check_value(v, true).map_err(|e| invalid(&e))?;
            if place == Place::StatusCode
                && variables(v).is_empty()
                && !v.parse::<u16>().is_ok_and(|c| (100..=599).contains(&c))
            {
                return Err(invalid(&format!("Invalid status code {v}")));
            }
        }
    }
    Ok(())
}

/// The variable names a value refers to (`$request.header.x` or `${request.header.x}`).
fn variables(v: &str) -> Vec<String> {
    let mut out = Vec::new();
    walk(v, |part| {
        if let Part::Var(name) = part {
            out.push(name.to_string());
        }
    });
    out
}

enum Part<'a> {
    Text(&'a str),
    Var(&'a str),
}

fn walk<'a>(v: &'a str, mut f: impl FnMut(Part<'a>)) {
    let mut rest = v;
    while let Some(i) = rest.find('$') {
        let after = &rest[i + 1..];
        let (name, tail) = if let Some(inner) = after.strip_prefix('{') {
            match inner.find('}') {
                Some(end) => (&inner[..end], &inner[end + 1..]),
                None => break,
            }
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || "._-[]".contains(c)))
                .unwrap_or(after.len());
            (&after[..end], &after[end..])
        };
        let known = ["request.", "response.", "context.", "stageVariables."]
            .iter()
            .any(|p| name.starts_with(p))
            || name == "request.body"
            || name == "response.body";
        if !known {
            f(Part::Text(&rest[..=i]));
            rest = after;
            continue;
        }
        if i > 0 {
            f(Part::Text(&rest[..i]));
        }
        f(Part::Var(name));
        rest = tail;
    }
    if !rest.is_empty() {
        f(Part::Text(rest));
    }
}

/// `a.b[0].c` into a JSON value; `None` when it is not there.
fn json_path<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = v;
    for seg in path.split('.').filter(|s| !s.is_empty()) {
        let (name, mut idx) = match seg.find('[') {
            Some(i) => (&seg[..i], &seg[i..]),
            None => (seg, ""),
        };
        if !name.is_empty() {
            cur = cur.get(name)?;
        }
        while let Some(close) = idx.find(']') {
            let n: usize = idx.get(1..close)?.parse().ok()?;
            cur = cur.get(n)?;
            idx = &idx[close + 1..];
        }
    }
    Some(cur)
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// What a mapping value may read.
pub struct Sources<'a> {
    pub headers: &'a IndexMap<String, Vec<String>>,
    pub query: &'a IndexMap<String, Vec<String>>,
    pub path: &'a str,
    pub path_params: &'a IndexMap<String, String>,
    pub body: &'a [u8],
    pub context: &'a Value,
    pub stage_vars: &'a IndexMap<String, String>,
    /// The integration's answer, for response parameters.
    pub response: Option<(&'a ::http::HeaderMap, &'a [u8])>,
}

impl Sources<'_> {
    fn lookup(&self, var: &str) -> Option<String> {
        if let Some(h) = var.strip_prefix("request.header.") {
            return self
                .headers
                .get(&h.to_ascii_lowercase())
                .map(|v| v.join(","));
        }
        if let Some(q) = var.strip_prefix("request.querystring.") {
            return self.query.get(q).map(|v| v.join(","));
        }
        if let Some(p) = var.strip_prefix("request.path.") {
            return self.path_params.get(p).cloned();
        }
        if var == "request.path" {
            return Some(self.path.to_string());
        }
        if let Some(rest) = var.strip_prefix("request.body") {
            return body_value(self.body, rest);
        }
        if let Some(h) = var.strip_prefix("response.header.") {
            let (headers, _) = self.response?;
            let all: Vec<&str> = headers
                .get_all(h)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect();
            return (!all.is_empty()).then(|| all.join(","));
        }
        if let Some(rest) = var.strip_prefix("response.body") {
            return body_value(self.response?.1, rest);
        }
        if let Some(c) = var.strip_prefix("context.") {
            return json_path(self.context, c)
                .filter(|v| !v.is_null())
                .map(text_of);
        }
        if let Some(s) = var.strip_prefix("stageVariables.") {
            return self.stage_vars.get(s).cloned();
        }
        None
    }

    /// The value with its variables replaced; `None` when every variable it names is
    /// missing (nothing is mapped then).
    pub fn render(&self, value: &str) -> Option<String> {
        let mut out = String::new();
        let (mut vars, mut found) = (0, 0);
        walk(value, |p| match p {
            Part::Text(t) => out.push_str(t),
            Part::Var(v) => {
                vars += 1;
                if let Some(x) = self.lookup(v) {
                    found += 1;
                    out.push_str(&x);
                }
            }
        });
        (vars == 0 || found > 0).then_some(out)
    }
}

/// `$request.body` (the whole body) or `$request.body.a.b` (a JSON path into it; AWS reads
/// the first 100 KB).
fn body_value(body: &[u8], rest: &str) -> Option<String> {
    if rest.is_empty() {
        return Some(String::from_utf8_lossy(body).into_owned());
    }
    let v: Value = serde_json::from_slice(&body[..body.len().min(100 * 1024)]).ok()?;
    json_path(&v, rest.strip_prefix('.')?).map(text_of)
}

/// The parsed mappings of a map, in AWS's order of application: removals, then overwrites,
/// then appends, each computed from the original request.
pub fn mappings(map: Option<&Value>, response: bool) -> Vec<(Op, Place, String)> {
    let mut out: Vec<_> = map
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| {
            let (op, place) = parse_key(k, response).ok()?;
            Some((op, place, v.as_str().unwrap_or_default().to_string()))
        })
        .collect();
    out.sort_by_key(|(op, _, _)| match op {
        Op::Remove => 0,
        Op::Overwrite => 1,
        Op::Append => 2,
    });
    out
}

/// Appends to, overwrites or removes from a multi-value map (headers, query strings).
pub fn apply_to(
    map: &mut IndexMap<String, Vec<String>>,
    op: Op,
    name: &str,
    value: Option<String>,
) {
    match (op, value) {
        (Op::Remove, _) => {
            map.shift_remove(name);
        }
        (Op::Overwrite, Some(v)) => {
            map.insert(name.to_string(), vec![v]);
        }
        (Op::Append, Some(v)) => map.entry(name.to_string()).or_default().push(v),
        (_, None) => {}
    }
}

/// The query string of a map, encoded as a URL carries it.
pub fn encode_query(q: &IndexMap<String, Vec<String>>) -> String {
    let enc = |s: &str| {
        percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    q.iter()
        .flat_map(|(k, vs)| vs.iter().map(move |v| format!("{}={}", enc(k), enc(v))))
        .collect::<Vec<_>>()
        .join("&")
}

/// `$context.authorizer` as HTTP APIs spell it in mappings and access logs: the JWT's
/// `claims` and `scopes`, or a Lambda authorizer's context members and `principalId`, at the
/// top (the Lambda event nests them under `jwt` / `lambda`).
pub(crate) fn context_authorizer(authorizer: &Value) -> Value {
    let mut out = serde_json::Map::new();
    if let Some(Value::Object(j)) = authorizer.get("jwt") {
        out.extend(j.clone());
    }
    if let Some(Value::Object(l)) = authorizer.get("lambda") {
        out.extend(l.clone());
    }
    if let Some(p) = authorizer.get("principalId") {
        out.insert("principalId".into(), p.clone());
    }
    Value::Object(out)
}

/// The `$context` variables parameter mappings may read.
pub(crate) fn mapping_context(inc: &Incoming, route: &Route, authorizer: &Value) -> Value {
    let mut c = json!({
        "accountId": inc.account,
        "apiId": inc.api_id,
        "domainName": inc.header("host").unwrap_or("localhost"),
        "domainPrefix": inc.api_id,
        "httpMethod": inc.method,
        "identity": {"sourceIp": inc.source_ip(), "userAgent": inc.header("user-agent").unwrap_or("")},
        "path": inc.raw_path,
        "protocol": "HTTP/1.1",
        "requestId": inc.request_id,
        "extendedRequestId": inc.request_id,
        "requestTime": invoke::request_time(),
        "requestTimeEpoch": aloft_core::clock::now_millis(),
        "routeKey": route.route_key,
        "stage": inc.stage,
    });
    if !authorizer.is_null() {
        c["authorizer"] = context_authorizer(authorizer);
        if let Some(iam) = authorizer.get("iam").and_then(Value::as_object) {
            for (k, v) in iam {
                c["identity"][k.as_str()] = v.clone();
            }
        }
    }
    c
}

/// The request after the integration's `RequestParameters`, and the path `overwrite:path`
/// sets. Every value reads the request as the client sent it.
pub(crate) fn map_request(
    inc: &Incoming,
    integration: &Integration,
    params: &IndexMap<String, String>,
    context: &Value,
    vars: &IndexMap<String, String>,
) -> (Incoming, Option<String>) {
    let src = Sources {
        headers: &inc.headers,
        query: &inc.query,
        path: &inc.path,
        path_params: params,
        body: &inc.body,
        context,
        stage_vars: vars,
        response: None,
    };
    let mut out = inc.clone();
    let mut path = None;
    let mut query_changed = false;
    for (op, place, value) in mappings(integration.request_parameters.as_ref(), false) {
        let v = src.render(&value);
        match place {
            Place::Header(h) => apply_to(&mut out.headers, op, &h, v),
            Place::Query(q) => {
                apply_to(&mut out.query, op, &q, v);
                query_changed = true;
            }
            Place::Path => {
                if let Some(p) = v {
                    path = Some(if p.starts_with('/') {
                        p
                    } else {
                        format!("/{p}")
                    });
                }
            }
            Place::StatusCode => {}
        }
    }
    if query_changed {
        out.raw_query = encode_query(&out.query);
    }
    if let Some(p) = &path {
        out.raw_path.clone_from(p);
    }
    (out, path)
}

/// The integration's `ResponseParameters` for the status it answered.
pub(crate) async fn map_response(
    resp: aloft_core::Response,
    integration: &Integration,
    inc: &Incoming,
    params: &IndexMap<String, String>,
    context: &Value,
    vars: &IndexMap<String, String>,
) -> aloft_core::Response {
    let status = resp.status().as_u16().to_string();
    let Some(map) = integration
        .response_parameters
        .as_ref()
        .and_then(|r| r.get(&status))
        .filter(|m| m.as_object().is_some_and(|m| !m.is_empty()))
    else {
        return resp;
    };
    use http_body_util::BodyExt as _;
    let (mut parts, body) = resp.into_parts();
    let body = body
        .collect()
        .await
        .map(http_body_util::Collected::to_bytes)
        .unwrap_or_default();
    let original = parts.headers.clone();
    let src = Sources {
        headers: &inc.headers,
        query: &inc.query,
        path: &inc.path,
        path_params: params,
        body: &inc.body,
        context,
        stage_vars: vars,
        response: Some((&original, &body)),
    };
    for (op, place, value) in mappings(Some(map), true) {
        let v = src.render(&value);
        match place {
            Place::Header(h) => {
                let Ok(name) = ::http::HeaderName::from_bytes(h.as_bytes()) else {
                    continue;
                };
                let v = v.and_then(|v| ::http::HeaderValue::from_str(&v).ok());
                match (op, v) {
                    (Op::Remove, _) => {
                        parts.headers.remove(&name);
                    }
                    (Op::Overwrite, Some(v)) => {
                        parts.headers.insert(name, v);
                    }
                    (Op::Append, Some(v)) => {
                        parts.headers.append(name, v);
                    }
                    (_, None) => {}
                }
            }
            Place::StatusCode => {
                if let Some(code) = v
                    .and_then(|v| v.trim().parse::<u16>().ok())
                    .and_then(|c| ::http::StatusCode::from_u16(c).ok())
                {
                    parts.status = code;
                }
            }
            Place::Query(_) | Place::Path => {}
        }
    }
    aloft_core::Response::from_parts(parts, aloft_core::body::full(body))
}

/// `http://host:port/a/b?x` with its path replaced by `path` (the query stays).
pub(crate) fn replace_url_path(url: &str, path: &str) -> String {
    let start = url.find("://").map_or(0, |i| i + 3);
    let path_at = url[start..]
        .find(['/', '?'])
        .map_or(url.len(), |i| start + i);
    let query = url[path_at..]
        .find('?')
        .map(|i| &url[path_at + i..])
        .unwrap_or("");
    format!("{}{path}{query}", &url[..path_at])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn url_path_replacement() {
        assert_eq!(
            replace_url_path("http://h:1/a/b?x=1", "/c"),
            "http://h:1/c?x=1"
        );
        assert_eq!(replace_url_path("http://h:1", "/c"), "http://h:1/c");
        assert_eq!(replace_url_path("https://h/a", "/v2/a"), "https://h/v2/a");
    }

    #[test]
    fn authorizer_context() {
        let jwt = json!({"jwt": {"claims": {"sub": "u1"}, "scopes": null}});
        assert_eq!(context_authorizer(&jwt)["claims"]["sub"], "u1");
        let lambda = json!({"lambda": {"tenant": "t"}, "principalId": "p"});
        let c = context_authorizer(&lambda);
        assert_eq!(
            (c["tenant"].as_str(), c["principalId"].as_str()),
            (Some("t"), Some("p"))
        );
    }

    #[test]
    fn keys() {
        assert_eq!(
            parse_key("append:header.X-Id", false).unwrap(),
            (Op::Append, Place::Header("x-id".into()))
        );
        assert_eq!(
            parse_key("overwrite:path", false).unwrap(),
            (Op::Overwrite, Place::Path)
        );
        assert!(parse_key("append:path", false).is_err());
        assert!(parse_key("overwrite:querystring.a", true).is_err());
        assert_eq!(
            parse_key("overwrite:statuscode", true).unwrap(),
            (Op::Overwrite, Place::StatusCode)
        );
        assert_eq!(
            parse_key("overwrite:header.X-Amz-Date", false).unwrap_err(),
            "Operations on header X-Amz-Date are restricted"
        );
        assert!(parse_key("append:header.Connection", true).is_err());
        assert!(parse_key("prepend:header.a", false).is_err());
    }

    #[test]
    fn validation() {
        assert!(validate(Some(&json!({"append:header.a": "$request.header.b"})), None).is_ok());
        assert!(
            validate(
                Some(&json!({"append:header.a": "$response.header.b"})),
                None
            )
            .is_err()
        );
        assert!(validate(None, Some(&json!({"200": {"overwrite:statuscode": "204"}}))).is_ok());
        assert!(validate(None, Some(&json!({"200": {"overwrite:statuscode": "abc"}}))).is_err());
        assert!(validate(None, Some(&json!({"99": {"append:header.a": "x"}}))).is_err());
    }

    #[test]
    fn render_values() {
        let mut headers = IndexMap::new();
        headers.insert(
            "x-user".to_string(),
            vec!["ann".to_string(), "bo".to_string()],
        );
        let mut query = IndexMap::new();
        query.insert("q".to_string(), vec!["1".to_string()]);
        let mut pp = IndexMap::new();
        pp.insert("id".to_string(), "42".to_string());
        let mut vars = IndexMap::new();
        vars.insert("env".to_string(), "dev".to_string());
        let ctx = json!({"requestId": "r1", "identity": {"sourceIp": "1.2.3.4"}});
        let s = Sources {
            headers: &headers,
            query: &query,
            path: "/items/42",
            path_params: &pp,
            body: br#"{"a": {"b": [10, {"c": "deep"}]}}"#,
            context: &ctx,
            stage_vars: &vars,
            response: None,
        };
        assert_eq!(s.render("$request.header.X-User").unwrap(), "ann,bo");
        assert_eq!(
            s.render("/v2/${request.path.id}/$stageVariables.env")
                .unwrap(),
            "/v2/42/dev"
        );
        assert_eq!(s.render("$request.body.a.b[1].c").unwrap(), "deep");
        assert_eq!(s.render("$context.identity.sourceIp").unwrap(), "1.2.3.4");
        assert_eq!(s.render("static $5 value").unwrap(), "static $5 value");
        assert_eq!(s.render("$request.path").unwrap(), "/items/42");
        assert!(s.render("$request.header.missing").is_none());
        assert_eq!(s.render("q=${request.querystring.q}").unwrap(), "q=1");
    }
}
