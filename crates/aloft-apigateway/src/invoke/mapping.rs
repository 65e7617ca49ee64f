//! Mapping templates and parameter mappings: `$input`, `$util`, `$context`, `$stageVariables`,
//! JSONPath, and `method.request.*` / `integration.response.*` expressions.
//!
//! VTL values are not `Send`, so everything here is synchronous and takes plain JSON.

use aloft_vtl::{Context, Host, Usage, Value as V};

use super::context::TemplateContext;
use base64::Engine;
use indexmap::IndexMap;
use serde_json::Value;

/// The parts of a request templates and mappings read.
#[derive(Debug, Clone, Default)]
pub struct Params {
    pub path: IndexMap<String, String>,
    pub query: IndexMap<String, Vec<String>>,
    /// Header names as sent (case kept), values in order.
    pub headers: IndexMap<String, Vec<String>>,
}

impl Params {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| v.first())
            .map(String::as_str)
    }

    pub fn query_first(&self, name: &str) -> Option<&str> {
        self.query
            .get(name)
            .and_then(|v| v.first())
            .map(String::as_str)
    }
}

/// One JSONPath step.
enum Step {
    Key(String),
    Index(usize),
    Wildcard,
}

fn parse_path(path: &str) -> Option<Vec<Step>> {
    let p = path.trim();
    let mut rest = p.strip_prefix('$')?;
    let mut steps = Vec::new();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("..") {
            // Deep scan is rare in mapping templates; treat `..x` as `.x`.
            rest = r;
            continue;
        }
        if let Some(r) = rest.strip_prefix('.') {
            if let Some(r2) = r.strip_prefix('*') {
                steps.push(Step::Wildcard);
                rest = r2;
                continue;
            }
            let end = r.find(['.', '[']).unwrap_or(r.len());
            if end == 0 {
                return None;
            }
            steps.push(Step::Key(r[..end].to_string()));
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']')?;
            let inner = r[..end].trim();
            rest = &r[end + 1..];
            if inner == "*" {
                steps.push(Step::Wildcard);
            } else if let Some(q) = inner
                .strip_prefix('\'')
                .and_then(|s| s.strip_suffix('\''))
                .or_else(|| inner.strip_prefix('"').and_then(|s| s.strip_suffix('"')))
            {
                steps.push(Step::Key(q.to_string()));
            } else {
                steps.push(Step::Index(inner.parse().ok()?));
            }
        } else {
            return None;
        }
    }
    Some(steps)
}

/// Evaluates a JSONPath; a wildcard makes the result a list. `None`: nothing there.
pub fn json_path(doc: &Value, path: &str) -> Option<Value> {
    let steps = parse_path(path)?;
    // Walks by reference: only what the path selects is copied.
    let mut cur = vec![doc];
    let mut multi = false;
    for s in steps {
        let mut next = Vec::new();
        for v in cur {
            match (&s, v) {
                (Step::Key(k), Value::Object(o)) => next.extend(o.get(k)),
                (Step::Index(i), Value::Array(a)) => next.extend(a.get(*i)),
                (Step::Wildcard, Value::Array(a)) => {
                    multi = true;
                    next.extend(a);
                }
                (Step::Wildcard, Value::Object(o)) => {
                    multi = true;
                    next.extend(o.values());
                }
                _ => {}
            }
        }
        cur = next;
    }
    if multi {
        Some(Value::Array(cur.into_iter().cloned().collect()))
    } else {
        cur.into_iter().next().cloned()
    }
}

/// The body as JSON; a body that is not JSON is a JSON string (as `$input.path` sees it).
pub fn body_json(body: &str) -> Value {
    if body.trim().is_empty() {
        return Value::Object(serde_json::Map::new());
    }
    serde_json::from_str(body).unwrap_or_else(|_| Value::String(body.to_string()))
}

struct Input {
    body: String,
    /// The body as JSON, parsed on the first `path` or `json` call.
    json: std::cell::OnceCell<Value>,
    params: Params,
}

impl Input {
    fn json(&self) -> &Value {
        self.json.get_or_init(|| body_json(&self.body))
    }
}

impl Host for Input {
    fn property(&self, name: &str) -> Option<V> {
        (name == "body").then(|| V::from(self.body.as_str()))
    }

    fn call(&self, name: &str, args: &[V]) -> Result<V, String> {
        let arg = |i: usize| args.get(i).and_then(V::as_str).unwrap_or("$");
        match (name, args.len()) {
            ("path", 1) => Ok(json_path(self.json(), arg(0))
                .map(|v| V::from_json(&v))
                .unwrap_or_default()),
            ("json", 1) => Ok(json_path(self.json(), arg(0))
                .map_or_else(|| V::from("null"), |v| V::from(v.to_string()))),
            ("params", 0) => {
                let map = |m: IndexMap<String, String>| {
                    V::map(m.into_iter().map(|(k, v)| (k, V::from(v))).collect())
                };
                let first = |m: &IndexMap<String, Vec<String>>| {
                    m.iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.first()?.clone())))
                        .collect::<IndexMap<_, _>>()
                };
                let mut all = IndexMap::new();
                all.insert("path".to_string(), map(self.params.path.clone()));
                all.insert("querystring".to_string(), map(first(&self.params.query)));
                all.insert("header".to_string(), map(first(&self.params.headers)));
                Ok(V::map(all))
            }
            ("params", 1) => {
                // Path, then query string, then header, as AWS documents it.
                let n = arg(0);
                let v = self
                    .params
                    .path
                    .get(n)
                    .map(String::as_str)
                    .or_else(|| self.params.query_first(n))
                    .or_else(|| self.params.header(n))
                    .unwrap_or("");
                Ok(V::from(v))
            }
            ("body", 0) => Ok(V::from(self.body.as_str())),
            _ => Err(format!("Unknown method $input.{name}")),
        }
    }
}

/// `$util.escapeJavaScript` as commons-lang 2 does it: quotes (both), backslash, slash,
/// control characters and non-ASCII as `\uXXXX`.
pub fn escape_javascript(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            '/' => out.push_str("\\/"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut buf = [0u16; 2];
                for u in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{u:04X}"));
                }
            }
            c => out.push(c),
        }
    }
    out
}

const FORM: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'*');

struct Util;

impl Host for Util {
    fn call(&self, name: &str, args: &[V]) -> Result<V, String> {
        let Some(a) = args.first() else {
            return Err(format!("$util.{name} needs an argument"));
        };
        let s = a.to_java_string();
        Ok(match name {
            "escapeJavaScript" => V::from(escape_javascript(&s)),
            "parseJson" => {
                let v: Value = serde_json::from_str(&s)
                    .map_err(|e| format!("$util.parseJson: invalid JSON: {e}"))?;
                V::from_json(&v)
            }
            "urlEncode" => V::from(
                percent_encoding::utf8_percent_encode(&s, FORM)
                    .to_string()
                    .replace("%20", "+"),
            ),
            "urlDecode" => V::from(
                percent_encoding::percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned(),
            ),
            "base64Encode" => V::from(base64::engine::general_purpose::STANDARD.encode(s)),
            "base64Decode" => V::from(
                String::from_utf8_lossy(
                    &base64::engine::general_purpose::STANDARD
                        .decode(s.trim())
                        .map_err(|e| format!("$util.base64Decode: {e}"))?,
                )
                .into_owned(),
            ),
            _ => return Err(format!("Unknown method $util.{name}")),
        })
    }
}

/// Renders a mapping template. `Err` is the engine's message (API Gateway answers 500).
///
/// Only what the template refers to is built: of `$context`, just the members it reads when
/// it reads members only (see [`aloft_vtl::Usage`]).
pub fn render(
    template: &str,
    body: &str,
    params: &Params,
    context: &(impl TemplateContext + ?Sized),
    stage_vars: &IndexMap<String, String>,
) -> Result<String, String> {
    let t = parsed(template)?;
    let mut ctx = Context::new();
    if t.input {
        ctx.insert(
            "input",
            V::host(Input {
                body: body.to_string(),
                json: std::cell::OnceCell::new(),
                params: params.clone(),
            }),
        );
    }
    if t.util {
        ctx.insert("util", V::host(Util));
    }
    match &t.context {
        Usage::Unused => {}
        Usage::Properties(props) if context.whole_is_object() => ctx.insert(
            "context",
            V::map(
                props
                    .iter()
                    .filter_map(|p| Some((p.clone(), V::from_json(&context.member(p)?))))
                    .collect(),
            ),
        ),
        _ => ctx.insert("context", V::from_json(context.whole())),
    }
    if t.stage_vars {
        ctx.insert(
            "stageVariables",
            V::map(
                stage_vars
                    .iter()
                    .map(|(k, v)| (k.clone(), V::from(v.as_str())))
                    .collect(),
            ),
        );
    }
    t.template.render(&ctx).map_err(|e| e.message)
}

/// A parsed template and which of the variables API Gateway supplies it uses.
struct Parsed {
    template: aloft_vtl::Template,
    input: bool,
    util: bool,
    stage_vars: bool,
    context: Usage,
}

/// Parsed templates, per worker thread (VTL values are not `Send`): a stage renders the same
/// few templates on every request, and parsing is most of a small template's cost.
fn parsed(src: &str) -> Result<std::rc::Rc<Parsed>, String> {
    use std::cell::RefCell;
    use std::collections::HashMap;
    use std::rc::Rc;
    const MAX_TEMPLATES: usize = 512;
    thread_local! {
        static TEMPLATES: RefCell<HashMap<String, Rc<Parsed>>> = RefCell::new(HashMap::new());
    }
    TEMPLATES.with(|cache| {
        if let Some(t) = cache.borrow().get(src) {
            return Ok(t.clone());
        }
        let template = aloft_vtl::Template::parse(src).map_err(|e| e.message)?;
        let used = |name: &str| template.usage(name) != Usage::Unused;
        let t = Rc::new(Parsed {
            input: used("input"),
            util: used("util"),
            stage_vars: used("stageVariables"),
            context: template.usage("context"),
            template,
        });
        let mut c = cache.borrow_mut();
        if c.len() >= MAX_TEMPLATES {
            c.clear();
        }
        c.insert(src.to_string(), t.clone());
        Ok(t)
    })
}

/// Picks the template for a content type: exact, then `application/json`, then the only one.
pub fn pick<'a>(templates: &'a IndexMap<String, String>, content_type: &str) -> Option<&'a str> {
    let ct = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    templates
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(&ct))
        .map(|(_, v)| v.as_str())
}

/// Evaluates a mapping expression's source: `'literal'`, `method.request.{path,querystring,
/// header}.x`, `stageVariables.x`, `context.x.y`, `integration.response.header.x`,
/// `integration.response.body[.jsonpath]`.
pub fn source(
    expr: &str,
    req: &Params,
    context: &(impl TemplateContext + ?Sized),
    stage_vars: &IndexMap<String, String>,
    integration: Option<(&http::HeaderMap, &str)>,
) -> Option<String> {
    if let Some(lit) = expr.strip_prefix('\'').and_then(|e| e.strip_suffix('\'')) {
        return Some(lit.to_string());
    }
    if let Some(p) = expr.strip_prefix("method.request.path.") {
        return req.path.get(p).cloned();
    }
    if let Some(q) = expr.strip_prefix("method.request.querystring.") {
        return req.query_first(q).map(str::to_string);
    }
    if let Some(q) = expr.strip_prefix("method.request.multivaluequerystring.") {
        return req.query.get(q).map(|v| v.join(","));
    }
    if let Some(h) = expr.strip_prefix("method.request.header.") {
        return req.header(h).map(str::to_string);
    }
    if let Some(h) = expr.strip_prefix("method.request.multivalueheader.") {
        return req
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(h))
            .map(|(_, v)| v.join(","));
    }
    if let Some(v) = expr.strip_prefix("stageVariables.") {
        return stage_vars.get(v).cloned();
    }
    if let Some(c) = expr.strip_prefix("context.") {
        let v = json_path(context.whole(), &format!("$.{c}"))?;
        return Some(match v {
            Value::String(s) => s,
            other => other.to_string(),
        });
    }
    let (headers, body) = integration?;
    if let Some(h) = expr.strip_prefix("integration.response.header.") {
        return headers
            .get(h)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
    }
    if expr == "integration.response.body" {
        return Some(body.to_string());
    }
    if let Some(p) = expr.strip_prefix("integration.response.body.") {
        let v = json_path(&body_json(body), &format!("$.{p}"))?;
        return Some(match v {
            Value::String(s) => s,
            other => other.to_string(),
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_paths() {
        let d = json!({"a": {"b": [1, {"c": "x"}]}, "k e": 2});
        assert_eq!(json_path(&d, "$"), Some(d.clone()));
        assert_eq!(json_path(&d, "$.a.b[1].c"), Some(json!("x")));
        assert_eq!(json_path(&d, "$['k e']"), Some(json!(2)));
        assert_eq!(json_path(&d, "$.a.b[*]"), Some(json!([1, {"c": "x"}])));
        assert_eq!(json_path(&d, "$.missing"), None);
        assert_eq!(json_path(&d, "nope"), None);
    }

    #[test]
    fn input_and_util_in_templates() {
        let mut p = Params::default();
        p.path.insert("id".into(), "42".into());
        p.query.insert("q".into(), vec!["a b".into()]);
        p.headers.insert("X-Name".into(), vec!["Zoë".into()]);
        let body = r#"{"name": "O'Neil", "tags": ["a", "b"], "n": 1.50}"#;
        let t = "$input.params('id') $input.params('q') $input.params('x-name') [$input.params('none')] \
                 $input.json('$.tags') $input.path('$.tags').size() $input.path('$.n') \
                 $util.escapeJavaScript($input.path('$.name')) $util.urlEncode('a b&c') \
                 $util.base64Encode('hi') $util.base64Decode('aGk=') $util.parseJson('{\"x\":[1]}').x[0] \
                 $context.stage $stageVariables.env $input.params().path.id";
        let mut vars = IndexMap::new();
        vars.insert("env".to_string(), "dev".to_string());
        let out = render(t, body, &p, &json!({"stage": "prod"}), &vars).unwrap();
        assert_eq!(
            out,
            "42 a b Zoë [] [\"a\",\"b\"] 2 1.5 O\\'Neil a+b%26c aGk= hi 1 prod dev 42"
        );
        assert_eq!(escape_javascript("é\n/"), "\\u00E9\\n\\/");
    }

    #[test]
    fn mapping_sources() {
        let mut p = Params::default();
        p.path.insert("id".into(), "7".into());
        p.headers.insert("Accept".into(), vec!["text/plain".into()]);
        let ctx = json!({"requestId": "r-1", "identity": {"sourceIp": "1.2.3.4"}});
        let vars = IndexMap::new();
        let mut h = http::HeaderMap::new();
        h.insert("x-up", http::HeaderValue::from_static("u"));
        let body = r#"{"a": {"b": 3}}"#;
        let src = |e: &str| source(e, &p, &ctx, &vars, Some((&h, body)));
        assert_eq!(src("'*'").as_deref(), Some("*"));
        assert_eq!(src("method.request.path.id").as_deref(), Some("7"));
        assert_eq!(
            src("method.request.header.accept").as_deref(),
            Some("text/plain")
        );
        assert_eq!(src("context.identity.sourceIp").as_deref(), Some("1.2.3.4"));
        assert_eq!(
            src("integration.response.header.x-up").as_deref(),
            Some("u")
        );
        assert_eq!(src("integration.response.body.a.b").as_deref(), Some("3"));
        assert_eq!(src("method.request.querystring.none"), None);
    }
}
