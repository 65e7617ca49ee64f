//! OpenAPI documents as text: JSON or YAML in (the console, SAM and CDK export YAML), and
//! YAML out for GetExport with `Accept: application/yaml` and ExportApi with OutputType YAML.

use serde_json::{Map, Number, Value};
use yaml_rust2::parser::{Event, EventReceiver, Parser};
use yaml_rust2::yaml::Hash;
use yaml_rust2::{Yaml, YamlEmitter, YamlLoader};

/// Parses a document: JSON when it looks like JSON, YAML otherwise. `Err` carries the
/// parser's complaint, for AWS's "Errors found during import" message.
pub fn parse(text: &str) -> Result<Value, String> {
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.is_empty() {
        return Err("Unable to parse API definition because of an empty body".into());
    }
    if trimmed.starts_with('{') {
        return serde_json::from_str(trimmed).map_err(|e| format!("Invalid JSON: {e}"));
    }
    let (nodes, depth) = expanded_size(trimmed);
    if nodes > MAX_NODES {
        return Err("The YAML document expands to too many nodes (aliases)".into());
    }
    if depth > MAX_DEPTH {
        return Err("The YAML document nests too deeply".into());
    }
    let docs = YamlLoader::load_from_str(trimmed).map_err(|e| {
        format!("Unable to parse API definition because of a malformed YAML document: {e}")
    })?;
    match docs.into_iter().next() {
        Some(y @ Yaml::Hash(_)) => Ok(to_json(y)),
        _ => {
            Err("Unable to parse API definition: the document is not a JSON or YAML object".into())
        }
    }
}

/// The loader copies an anchored node at every alias: a few hundred bytes of nested aliases
/// ("billion laughs") would expand to gigabytes. Documents past this many nodes are refused.
const MAX_NODES: u64 = 2_000_000;
/// As deep as serde_json reads JSON: the conversion and the importer recurse.
const MAX_DEPTH: usize = 128;

/// Counts the nodes the document has once its aliases are expanded, from the parser's events
/// (linear in the text, whatever the aliases do).
#[derive(Default)]
struct Size {
    anchors: std::collections::HashMap<usize, u64>,
    open: Vec<(usize, u64)>,
    total: u64,
    depth: usize,
}

impl Size {
    fn node(&mut self, anchor: usize, size: u64) {
        if anchor > 0 {
            self.anchors.insert(anchor, size);
        }
        match self.open.last_mut() {
            Some((_, n)) => *n = n.saturating_add(size),
            None => self.total = self.total.saturating_add(size),
        }
    }
}

impl EventReceiver for Size {
    fn on_event(&mut self, ev: Event) {
        match ev {
            Event::Scalar(_, _, anchor, _) => self.node(anchor, 1),
            Event::Alias(id) => {
                let n = self.anchors.get(&id).copied().unwrap_or(1);
                self.node(0, n);
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                self.open.push((anchor, 1));
                self.depth = self.depth.max(self.open.len());
            }
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some((anchor, n)) = self.open.pop() {
                    self.node(anchor, n);
                }
            }
            _ => {}
        }
    }
}

/// `(nodes, deepest nesting)`.
fn expanded_size(text: &str) -> (u64, usize) {
    let mut size = Size::default();
    // A document the parser refuses is reported by the loader that follows.
    let _ = Parser::new_from_str(text).load(&mut size, true);
    (size.total, size.depth)
}

/// YAML keys may be numbers (`200:` under `responses`) or booleans: OpenAPI reads them as
/// strings.
fn key(y: Yaml) -> String {
    match y {
        Yaml::String(s) | Yaml::Real(s) => s,
        Yaml::Integer(i) => i.to_string(),
        Yaml::Boolean(b) => b.to_string(),
        Yaml::Null => "null".into(),
        other => format!("{other:?}"),
    }
}

fn to_json(y: Yaml) -> Value {
    match y {
        Yaml::String(s) => Value::String(s),
        Yaml::Integer(i) => Value::Number(i.into()),
        Yaml::Real(s) => s
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map_or(Value::String(s), Value::Number),
        Yaml::Boolean(b) => Value::Bool(b),
        Yaml::Array(a) => Value::Array(a.into_iter().map(to_json).collect()),
        Yaml::Hash(h) => Value::Object(
            h.into_iter()
                .map(|(k, v)| (key(k), to_json(v)))
                .collect::<Map<_, _>>(),
        ),
        Yaml::Null | Yaml::Alias(_) | Yaml::BadValue => Value::Null,
    }
}

fn to_yaml(v: &Value) -> Yaml {
    match v {
        Value::Null => Yaml::Null,
        Value::Bool(b) => Yaml::Boolean(*b),
        Value::Number(n) => n
            .as_i64()
            .map_or_else(|| Yaml::Real(n.to_string()), Yaml::Integer),
        Value::String(s) => Yaml::String(s.clone()),
        Value::Array(a) => Yaml::Array(a.iter().map(to_yaml).collect()),
        Value::Object(m) => {
            let mut h = Hash::new();
            for (k, x) in m {
                h.insert(Yaml::String(k.clone()), to_yaml(x));
            }
            Yaml::Hash(h)
        }
    }
}

/// The document as YAML text (the emitter quotes strings that would read back as numbers,
/// so `"200"` response keys stay strings).
pub fn dump(v: &Value) -> String {
    let mut out = String::new();
    let mut e = YamlEmitter::new(&mut out);
    e.multiline_strings(true);
    if e.dump(&to_yaml(v)).is_err() {
        return String::new();
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn yaml_documents_read_as_json() {
        let doc = parse(
            "openapi: \"3.0.1\"\ninfo:\n  title: notes\n  version: 1.0\npaths:\n  /notes/{id}:\n    get:\n      responses:\n        200:\n          description: ok\n      x-amazon-apigateway-integration:\n        type: mock\n        timeoutInMillis: 29000\n        requestTemplates:\n          application/json: |\n            {\"statusCode\": 200}\nx-anchors:\n  a: &x {b: true}\n  c: *x\n",
        )
        .unwrap();
        assert_eq!(doc["info"]["version"], json!(1.0));
        let get = &doc["paths"]["/notes/{id}"]["get"];
        assert_eq!(get["responses"]["200"]["description"], "ok");
        assert_eq!(
            get["x-amazon-apigateway-integration"]["timeoutInMillis"],
            29000
        );
        assert_eq!(
            get["x-amazon-apigateway-integration"]["requestTemplates"]["application/json"],
            "{\"statusCode\": 200}\n"
        );
        assert_eq!(doc["x-anchors"]["c"]["b"], true);
    }

    #[test]
    fn json_and_bad_documents() {
        assert_eq!(parse(" {\"a\": 1}").unwrap()["a"], 1);
        assert!(parse("{\"a\": ").unwrap_err().starts_with("Invalid JSON"));
        assert!(parse("a: [1, 2").is_err());
        assert!(parse("just text").is_err());
        assert!(parse("").is_err());
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut doc = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..9 {
            let p = i - 1;
            doc.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        assert!(expanded_size(&doc).0 > MAX_NODES);
        assert!(parse(&doc).unwrap_err().contains("too many nodes"));
        // Ordinary anchors (shared responses, CORS blocks) are fine.
        assert_eq!(expanded_size("a: &r {b: 1}\nc: *r\n"), (9, 2));
        let deep = format!("a: {}{}", "[".repeat(200), "]".repeat(200));
        assert!(parse(&deep).unwrap_err().contains("too deeply"));
        // Deeper still: the parser's own limit refuses it.
        let deeper = format!("a: {}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(parse(&deeper).is_err());
    }

    #[test]
    fn dump_round_trips() {
        let v = json!({"openapi": "3.0.1", "paths": {"/x": {"get": {"responses": {"200": {"description": "multi\nline"}}}}}, "n": 1, "f": 1.5, "t": true, "z": null, "l": ["a", "true"]});
        let text = dump(&v);
        assert_eq!(parse(&text).unwrap(), v);
    }
}
