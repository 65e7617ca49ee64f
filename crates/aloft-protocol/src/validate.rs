//! Constraint validation from the model, with the messages AWS's Coral framework sends:
//! `1 validation error detected: Value null at 'tableName' failed to satisfy constraint:
//! Member must not be null` (paths in lowerCamelCase, list elements as `.N.member`,
//! several violations joined with `; ` under `N validation errors detected: `).

use std::collections::HashMap;
use std::sync::{OnceLock, RwLock};

use aloft_model::{Member, ServiceModel, Shape, ShapeType};
use regex::Regex;
use serde_json::{Map, Value};

use crate::{AwsError, Protocol};

/// One violated constraint, as Coral words it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// `tableName`, `keySchema.1.member.attributeName`.
    pub path: String,
    /// The offending value as Coral prints it (`'abc'`, `null`), or `None` for sensitive members.
    pub value: Option<String>,
    /// `Member must not be null`, `Member must have length greater than or equal to 3`.
    pub constraint: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.value {
            Some(v) => write!(
                f,
                "Value {v} at '{}' failed to satisfy constraint: {}",
                self.path, self.constraint
            ),
            None => write!(
                f,
                "Value at '{}' failed to satisfy constraint: {}",
                self.path, self.constraint
            ),
        }
    }
}

/// Joins violations into Coral's message.
pub fn message(violations: &[Violation]) -> String {
    let list: Vec<String> = violations.iter().map(ToString::to_string).collect();
    let n = violations.len();
    let noun = if n == 1 { "error" } else { "errors" };
    format!("{n} validation {noun} detected: {}", list.join("; "))
}

/// Validates an operation's internal-form input; `Err` is the protocol's validation error
/// (`ValidationException`, or `ValidationError` for query services).
///
/// # Errors
/// When any constraint is violated.
pub fn validate(
    model: &ServiceModel,
    operation: &str,
    protocol: Protocol,
    input: &Value,
) -> Result<(), AwsError> {
    let violations = violations(model, operation, input);
    if violations.is_empty() {
        return Ok(());
    }
    let code = if protocol == Protocol::Query && !model.metadata.query_compatible() {
        "ValidationError"
    } else {
        "ValidationException"
    };
    Err(AwsError::new(code, 400, message(&violations)))
}

/// All violations of an operation's input, in member order (for services that reword some).
pub fn violations(model: &ServiceModel, operation: &str, input: &Value) -> Vec<Violation> {
    let mut out = Vec::new();
    if let Some(op) = model.operation(operation)
        && let Some(m) = &op.input
    {
        let mut walker = Walker {
            model,
            out: &mut out,
        };
        walker.structure_members(m, input, &At::Root);
    }
    out
}

struct Walker<'a> {
    model: &'a ServiceModel,
    out: &'a mut Vec<Violation>,
}

/// Where a value sits in the input, rendered only when a violation names it: a valid
/// request (every hot request) never builds a path string.
#[derive(Clone, Copy)]
enum At<'p> {
    Root,
    /// A structure member (model name; shown in lowerCamelCase).
    Member(&'p At<'p>, &'p str),
    /// The n-th (1-based) list element: `.n.member`.
    Element(&'p At<'p>, usize),
    /// A map entry: `.key.member`.
    Entry(&'p At<'p>, &'p str),
}

impl At<'_> {
    fn render(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            At::Root => {}
            At::Member(parent, name) => {
                parent.write(out);
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(&lower_camel(name));
            }
            At::Element(parent, n) => {
                parent.write(out);
                out.push_str(&format!(".{n}.member"));
            }
            At::Entry(parent, key) => {
                parent.write(out);
                out.push('.');
                out.push_str(key);
                out.push_str(".member");
            }
        }
    }
}

fn lower_camel(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Coral prints values with Java's `toString`: strings bare, lists `[a, b]`, maps `{k=v}`.
fn java_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(java_string).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{k}={}", java_string(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Null => "null".into(),
        other => other.to_string(),
    }
}

fn bound(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e18 {
        #[allow(clippy::cast_possible_truncation)]
        let i = n as i64;
        i.to_string()
    } else {
        n.to_string()
    }
}

impl Walker<'_> {
    fn structure_members(&mut self, member: &Member, value: &Value, path: &At<'_>) {
        let Some(shape) = self.model.shape(&member.shape) else {
            return;
        };
        if shape.kind != ShapeType::Structure || shape.document {
            return;
        }
        let map = value.as_object();
        // Members not yet seen among the input's keys: once none are left, only missing
        // required members remain to report.
        let mut left = map.map_or(0, Map::len);
        for (name, m) in &shape.members {
            if left == 0 && shape.required.is_empty() {
                break;
            }
            let child = At::Member(path, name);
            let found = match map {
                Some(o) if left > 0 => lookup(o, name),
                _ => None,
            };
            if found.is_some() {
                left -= 1;
            }
            match found.filter(|v| !v.is_null()) {
                None if shape.is_required(name) => self.out.push(Violation {
                    path: child.render(),
                    value: Some("null".into()),
                    constraint: "Member must not be null".into(),
                }),
                None => {}
                Some(v) => self.member(m, v, &child),
            }
        }
    }

    fn member(&mut self, member: &Member, value: &Value, path: &At<'_>) {
        let Some(shape) = self.model.shape(&member.shape) else {
            return;
        };
        let sensitive = shape.sensitive;
        let shown = |v: &Value| (!sensitive).then(|| format!("'{}'", java_string(v)));
        for constraint in own_constraints(shape, value) {
            self.out.push(Violation {
                path: path.render(),
                value: shown(value),
                constraint,
            });
        }
        match shape.kind {
            ShapeType::Structure => self.structure_members(member, value, path),
            ShapeType::List => {
                let (Some(element), Some(items)) = (shape.member.as_deref(), value.as_array())
                else {
                    return;
                };
                let Some(element_shape) = self.model.shape(&element.shape) else {
                    return;
                };
                if is_scalar(element_shape) {
                    // Coral reports element constraints once, on the list.
                    let failed =
                        collect(items.iter().flat_map(|v| own_constraints(element_shape, v)));
                    if !failed.is_empty() {
                        self.out.push(Violation {
                            path: path.render(),
                            value: shown(value),
                            constraint: format!(
                                "Member must satisfy constraint: [{}]",
                                failed.join(", ")
                            ),
                        });
                    }
                } else {
                    for (i, item) in items.iter().enumerate() {
                        self.member(element, item, &At::Element(path, i + 1));
                    }
                }
            }
            ShapeType::Map => {
                let Some(entries) = value.as_object() else {
                    return;
                };
                if let Some(key_shape) = shape
                    .key
                    .as_deref()
                    .and_then(|k| self.model.shape(&k.shape))
                    .filter(|k| has_constraints(k))
                {
                    let failed = collect(
                        entries
                            .keys()
                            .flat_map(|k| own_constraints(key_shape, &Value::String(k.clone()))),
                    );
                    if !failed.is_empty() {
                        self.out.push(Violation {
                            path: path.render(),
                            value: shown(value),
                            constraint: format!(
                                "Map keys must satisfy constraint: [{}]",
                                failed.join(", ")
                            ),
                        });
                    }
                }
                let Some(value_ref) = shape.value.as_deref() else {
                    return;
                };
                let Some(value_shape) = self.model.shape(&value_ref.shape) else {
                    return;
                };
                if is_scalar(value_shape) {
                    let failed = collect(
                        entries
                            .values()
                            .flat_map(|v| own_constraints(value_shape, v)),
                    );
                    if !failed.is_empty() {
                        self.out.push(Violation {
                            path: path.render(),
                            value: shown(value),
                            constraint: format!(
                                "Map value must satisfy constraint: [{}]",
                                failed.join(", ")
                            ),
                        });
                    }
                } else {
                    for (k, v) in entries {
                        self.member(value_ref, v, &At::Entry(path, k));
                    }
                }
            }
            _ => {}
        }
    }
}

/// Whether a shape has any constraint [`own_constraints`] checks (map keys are checked only
/// then: cloning every key of a large map into a `Value` costs more than the check).
fn has_constraints(shape: &Shape) -> bool {
    shape.min.is_some()
        || shape.max.is_some()
        || shape.pattern.is_some()
        || shape.enum_values.is_some()
}

/// A member of a small object found by a scan (cheaper than hashing the name), else hashed.
fn lookup<'v>(map: &'v Map<String, Value>, name: &str) -> Option<&'v Value> {
    if map.len() <= 16 {
        map.iter().find(|(k, _)| *k == name).map(|(_, v)| v)
    } else {
        map.get(name)
    }
}

fn is_scalar(shape: &Shape) -> bool {
    !matches!(
        shape.kind,
        ShapeType::Structure | ShapeType::List | ShapeType::Map
    )
}

/// Distinct messages in first-seen order.
fn collect(messages: impl Iterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for m in messages {
        if !out.contains(&m) {
            out.push(m);
        }
    }
    out
}

/// The constraints a value breaks on its own shape (not its children).
fn own_constraints(shape: &Shape, value: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let length = match (shape.kind, value) {
        (ShapeType::String, Value::String(s)) => Some(s.chars().count()),
        (ShapeType::Blob, Value::String(s)) => {
            Some(crate::walk::blob_bytes(&Value::String(s.clone())).len())
        }
        (ShapeType::List, Value::Array(a)) => Some(a.len()),
        (ShapeType::Map, Value::Object(m)) => Some(m.len()),
        _ => None,
    };
    #[allow(clippy::cast_precision_loss)]
    if let Some(len) = length.map(|l| l as f64) {
        if let Some(min) = shape.min
            && len < min
        {
            out.push(format!(
                "Member must have length greater than or equal to {}",
                bound(min)
            ));
        }
        if let Some(max) = shape.max
            && len > max
        {
            out.push(format!(
                "Member must have length less than or equal to {}",
                bound(max)
            ));
        }
    }
    if let Value::Number(n) = value
        && !matches!(shape.kind, ShapeType::Timestamp)
        && let Some(x) = n.as_f64()
    {
        if let Some(min) = shape.min
            && x < min
        {
            out.push(format!(
                "Member must have value greater than or equal to {}",
                bound(min)
            ));
        }
        if let Some(max) = shape.max
            && x > max
        {
            out.push(format!(
                "Member must have value less than or equal to {}",
                bound(max)
            ));
        }
    }
    if let (ShapeType::String, Value::String(s)) = (shape.kind, value) {
        if let Some(pattern) = &shape.pattern
            && let Some(re) = compiled(pattern)
            && !re.is_match(s)
        {
            out.push(format!(
                "Member must satisfy regular expression pattern: {pattern}"
            ));
        }
        if let Some(values) = &shape.enum_values
            && !values.iter().any(|v| v == s)
        {
            out.push(format!(
                "Member must satisfy enum value set: [{}]",
                values.join(", ")
            ));
        }
    }
    out
}

/// Model patterns are Java regexes matched against the whole value. Each is compiled once
/// and kept for the life of the process (models are static, so the set is bounded); one this
/// engine cannot compile is skipped rather than failing requests. A shared `&Regex` keeps its
/// match cache pool: a cloned `Regex` starts a new pool, which allocated a cache per check.
fn compiled(pattern: &str) -> Option<&'static Regex> {
    type Cache = RwLock<HashMap<String, Option<&'static Regex>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(re) = cache
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get(pattern)
    {
        return *re;
    }
    let mut cache = cache
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    *cache.entry(pattern.to_string()).or_insert_with(|| {
        Regex::new(&format!("^(?:{})$", java_to_rust(pattern)))
            .ok()
            .map(|re| &*Box::leak(Box::new(re)))
    })
}

/// Rewrites the Java-only spellings that appear in AWS models: UTF-16 surrogate pairs
/// (`\uD800\uDC00-\uDBFF\uDFFF`, meaning all supplementary planes) and `\p{Alpha}`-style classes.
fn java_to_rust(pattern: &str) -> String {
    pattern
        .replace(r"\uD800\uDC00-\uDBFF\uDFFF", r"\x{10000}-\x{10FFFF}")
        .replace(r"\uD800-\uDBFF\uDC00-\uDFFF", r"\x{10000}-\x{10FFFF}")
        .replace(r"\p{Alpha}", r"\p{Alphabetic}")
        .replace(r"\p{Alnum}", r"[\p{Alphabetic}\p{Nd}]")
        .replace(r"\p{Punct}", r"[!-/:-@\[-`{-~]")
        .replace(r"\p{Print}", r"[\x20-\x7E]")
        .replace(r"\p{Graph}", r"[\x21-\x7E]")
        .replace(r"\p{IsLetter}", r"\p{L}")
        .replace(r"\p{IsDigit}", r"\p{Nd}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn msg(service: &str, op: &str, input: Value) -> String {
        let model = aloft_model::get(service).unwrap();
        validate(model, op, Protocol::Json10, &input)
            .unwrap_err()
            .message
    }

    #[test]
    fn missing_required_member() {
        assert_eq!(
            msg("dynamodb", "DescribeTable", json!({})),
            "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null"
        );
    }

    #[test]
    fn length_pattern_and_several_errors() {
        let m = msg("kinesis", "CreateStream", json!({"StreamName": ""}));
        assert_eq!(
            m,
            "2 validation errors detected: Value '' at 'streamName' failed to satisfy constraint: \
             Member must have length greater than or equal to 1; Value '' at 'streamName' failed to \
             satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
        );
    }

    #[test]
    fn nested_list_paths_and_enums() {
        let m = msg(
            "dynamodb",
            "CreateTable",
            json!({"TableName": "tbl", "KeySchema": [{"AttributeName": "id", "KeyType": "HASHY"}],
                   "AttributeDefinitions": [{"AttributeName": "id"}]}),
        );
        assert!(m.contains("Value 'HASHY' at 'keySchema.1.member.keyType' failed to satisfy constraint: Member must satisfy enum value set: [HASH, RANGE]"), "{m}");
        assert!(m.contains("Value null at 'attributeDefinitions.1.member.attributeType' failed to satisfy constraint: Member must not be null"), "{m}");
    }

    #[test]
    fn ranges_and_map_values() {
        let m = msg(
            "kinesis",
            "GetRecords",
            json!({"ShardIterator": "it", "Limit": 0}),
        );
        assert_eq!(
            m,
            "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: \
             Member must have value greater than or equal to 1"
        );
        let long = "v".repeat(300);
        let m = msg("kinesis", "AddTagsToStream", json!({"Tags": {"k": long}}));
        assert!(m.contains("at 'tags' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 256]"), "{m}");
    }

    #[test]
    fn valid_input_passes_and_java_patterns_compile() {
        let model = aloft_model::get("dynamodb").unwrap();
        assert!(
            validate(
                model,
                "DescribeTable",
                Protocol::Json10,
                &json!({"TableName": "good_name"})
            )
            .is_ok()
        );
        assert!(
            compiled(r"[\u0009\u000A\u000D\u0020-\uD7FF\uE000-\uFFFD\uD800\uDC00-\uDBFF\uDFFF]*")
                .is_some()
        );
        assert!(compiled(r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$").is_some());
    }
}
