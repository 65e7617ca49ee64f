//! JSON Schema draft 4, the subset API Gateway models use, for request body validation.
//!
//! `$ref`s to `#/definitions/...` and to other models of the API
//! (`https://apigateway.amazonaws.com/restapis/{id}/models/{name}`) are resolved.

use serde_json::Value;

/// Depth limit for `$ref` cycles and deep documents.
const MAX_DEPTH: usize = 64;

/// Validates `doc`; returns the first few problems (empty: valid).
pub fn validate(
    schema: &Value,
    doc: &Value,
    models: &dyn Fn(&str) -> Option<Value>,
) -> Vec<String> {
    let mut errors = Vec::new();
    check(schema, schema, doc, "", models, &mut errors, 0);
    errors
}

fn type_matches(t: &str, v: &Value) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        "number" => v.is_number(),
        "integer" => {
            v.is_i64()
                || v.is_u64()
                || v.as_f64()
                    .is_some_and(|f| f.fract() == 0.0 && f.is_finite())
        }
        _ => true,
    }
}

fn resolve<'a>(
    root: &'a Value,
    r: &str,
    models: &dyn Fn(&str) -> Option<Value>,
) -> Option<std::borrow::Cow<'a, Value>> {
    if let Some(ptr) = r.strip_prefix('#') {
        return root.pointer(ptr).map(std::borrow::Cow::Borrowed);
    }
    let name = r.rsplit('/').next()?;
    models(name).map(std::borrow::Cow::Owned)
}

#[allow(clippy::too_many_lines)]
fn check(
    root: &Value,
    schema: &Value,
    v: &Value,
    at: &str,
    models: &dyn Fn(&str) -> Option<Value>,
    errors: &mut Vec<String>,
    depth: usize,
) {
    if depth > MAX_DEPTH || errors.len() >= 10 {
        return;
    }
    let Some(s) = schema.as_object() else {
        return;
    };
    let at_name = if at.is_empty() { "/" } else { at };
    if let Some(r) = s.get("$ref").and_then(Value::as_str) {
        match resolve(root, r, models) {
            Some(target) => {
                // A referenced model is its own root for its `#/definitions`.
                let owned = target.into_owned();
                let new_root = if r.starts_with('#') { root } else { &owned };
                check(new_root, &owned, v, at, models, errors, depth + 1);
            }
            None => errors.push(format!("unresolvable $ref {r}")),
        }
        return;
    }
    if let Some(t) = s.get("type") {
        let ok = match t {
            Value::String(t) => type_matches(t, v),
            Value::Array(ts) => ts
                .iter()
                .filter_map(Value::as_str)
                .any(|t| type_matches(t, v)),
            _ => true,
        };
        if !ok {
            errors.push(format!("instance type does not match {t} at {at_name}"));
            return;
        }
    }
    if let Some(e) = s.get("enum").and_then(Value::as_array)
        && !e.contains(v)
    {
        errors.push(format!("instance value not found in enum at {at_name}"));
    }
    for (key, sub) in [("allOf", true), ("anyOf", false), ("oneOf", false)] {
        let Some(list) = s.get(key).and_then(Value::as_array) else {
            continue;
        };
        let results: Vec<bool> = list
            .iter()
            .map(|sch| {
                let mut e = Vec::new();
                check(root, sch, v, at, models, &mut e, depth + 1);
                e.is_empty()
            })
            .collect();
        let passed = results.iter().filter(|r| **r).count();
        let ok = match key {
            "allOf" => passed == results.len(),
            "anyOf" => passed > 0,
            _ => passed == 1,
        };
        let _ = sub;
        if !ok {
            errors.push(format!("instance failed {key} at {at_name}"));
        }
    }
    if let Some(not) = s.get("not") {
        let mut e = Vec::new();
        check(root, not, v, at, models, &mut e, depth + 1);
        if e.is_empty() {
            errors.push(format!("instance matched a schema in \"not\" at {at_name}"));
        }
    }
    match v {
        Value::String(st) => {
            let len = st.chars().count() as u64;
            if s.get("minLength")
                .and_then(Value::as_u64)
                .is_some_and(|m| len < m)
            {
                errors.push(format!("string too short at {at_name}"));
            }
            if s.get("maxLength")
                .and_then(Value::as_u64)
                .is_some_and(|m| len > m)
            {
                errors.push(format!("string too long at {at_name}"));
            }
            if let Some(p) = s.get("pattern").and_then(Value::as_str)
                && regex::Regex::new(p).is_ok_and(|re| !re.is_match(st))
            {
                errors.push(format!("string does not match pattern {p} at {at_name}"));
            }
        }
        Value::Number(n) => {
            let x = n.as_f64().unwrap_or(0.0);
            let excl = |k: &str| s.get(k).and_then(Value::as_bool).unwrap_or(false);
            if let Some(m) = s.get("minimum").and_then(Value::as_f64)
                && (x < m || (excl("exclusiveMinimum") && x == m))
            {
                errors.push(format!(
                    "numeric instance is lower than the required minimum at {at_name}"
                ));
            }
            if let Some(m) = s.get("maximum").and_then(Value::as_f64)
                && (x > m || (excl("exclusiveMaximum") && x == m))
            {
                errors.push(format!(
                    "numeric instance is greater than the required maximum at {at_name}"
                ));
            }
            if let Some(m) = s.get("multipleOf").and_then(Value::as_f64)
                && m > 0.0
                && (x / m).fract().abs() > 1e-9
            {
                errors.push(format!(
                    "numeric instance is not a multiple of {m} at {at_name}"
                ));
            }
        }
        Value::Array(items) => {
            let n = items.len() as u64;
            if s.get("minItems")
                .and_then(Value::as_u64)
                .is_some_and(|m| n < m)
            {
                errors.push(format!("array is too short at {at_name}"));
            }
            if s.get("maxItems")
                .and_then(Value::as_u64)
                .is_some_and(|m| n > m)
            {
                errors.push(format!("array is too long at {at_name}"));
            }
            if s.get("uniqueItems").and_then(Value::as_bool) == Some(true) {
                for (i, a) in items.iter().enumerate() {
                    if items[..i].contains(a) {
                        errors.push(format!(
                            "array must not contain duplicate elements at {at_name}"
                        ));
                        break;
                    }
                }
            }
            match s.get("items") {
                Some(Value::Array(schemas)) => {
                    for (i, (item, sch)) in items.iter().zip(schemas).enumerate() {
                        check(
                            root,
                            sch,
                            item,
                            &format!("{at}/{i}"),
                            models,
                            errors,
                            depth + 1,
                        );
                    }
                    if let Some(Value::Bool(false)) = s.get("additionalItems")
                        && items.len() > schemas.len()
                    {
                        errors.push(format!("array has too many items at {at_name}"));
                    }
                }
                Some(sch) => {
                    for (i, item) in items.iter().enumerate() {
                        check(
                            root,
                            sch,
                            item,
                            &format!("{at}/{i}"),
                            models,
                            errors,
                            depth + 1,
                        );
                    }
                }
                None => {}
            }
        }
        Value::Object(o) => {
            if let Some(req) = s.get("required").and_then(Value::as_array) {
                let missing: Vec<&str> = req
                    .iter()
                    .filter_map(Value::as_str)
                    .filter(|k| !o.contains_key(*k))
                    .collect();
                if !missing.is_empty() {
                    errors.push(format!(
                        "object has missing required properties ({missing:?}) at {at_name}"
                    ));
                }
            }
            let n = o.len() as u64;
            if s.get("minProperties")
                .and_then(Value::as_u64)
                .is_some_and(|m| n < m)
            {
                errors.push(format!("object has too few properties at {at_name}"));
            }
            if s.get("maxProperties")
                .and_then(Value::as_u64)
                .is_some_and(|m| n > m)
            {
                errors.push(format!("object has too many properties at {at_name}"));
            }
            let props = s.get("properties").and_then(Value::as_object);
            let patterns: Vec<(regex::Regex, &Value)> = s
                .get("patternProperties")
                .and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .filter_map(|(p, sch)| Some((regex::Regex::new(p).ok()?, sch)))
                        .collect()
                })
                .unwrap_or_default();
            for (k, val) in o {
                let path = format!("{at}/{k}");
                let mut matched = false;
                if let Some(sch) = props.and_then(|p| p.get(k)) {
                    matched = true;
                    check(root, sch, val, &path, models, errors, depth + 1);
                }
                for (re, sch) in &patterns {
                    if re.is_match(k) {
                        matched = true;
                        check(root, sch, val, &path, models, errors, depth + 1);
                    }
                }
                if !matched {
                    match s.get("additionalProperties") {
                        Some(Value::Bool(false)) => errors.push(format!(
                            "object instance has properties which are not allowed by the schema: [\"{k}\"] at {at_name}"
                        )),
                        Some(sch @ Value::Object(_)) => {
                            check(root, sch, val, &path, models, errors, depth + 1);
                        }
                        _ => {}
                    }
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn none(_: &str) -> Option<Value> {
        None
    }

    #[test]
    fn seed_004_note_model() {
        let schema = json!({
            "title": "Note", "type": "object",
            "properties": {"UserId": {"type": "string"}, "NoteId": {"type": "integer"}, "Note": {"type": "string"}},
            "required": ["UserId", "NoteId", "Note"]
        });
        assert!(
            validate(
                &schema,
                &json!({"UserId": "u", "NoteId": 1, "Note": "n"}),
                &none
            )
            .is_empty()
        );
        assert!(
            !validate(
                &schema,
                &json!({"UserId": "u", "NoteId": "1", "Note": "n"}),
                &none
            )
            .is_empty()
        );
        assert!(!validate(&schema, &json!({"UserId": "u", "Note": "n"}), &none).is_empty());
        assert!(!validate(&schema, &json!([1]), &none).is_empty());
        assert!(
            validate(
                &schema,
                &json!({"UserId": "u", "NoteId": 2.0, "Note": "n", "x": 1}),
                &none
            )
            .is_empty()
        );
    }

    #[test]
    fn keywords_and_refs() {
        let schema = json!({
            "definitions": {"pos": {"type": "number", "minimum": 0, "exclusiveMinimum": true}},
            "type": "object", "additionalProperties": false,
            "properties": {
                "n": {"$ref": "#/definitions/pos"},
                "s": {"type": "string", "pattern": "^a", "maxLength": 3, "enum": ["ab", "abc"]},
                "l": {"type": "array", "items": {"type": "integer"}, "minItems": 1, "uniqueItems": true},
                "m": {"$ref": "https://apigateway.amazonaws.com/restapis/x/models/Other"},
                "o": {"anyOf": [{"type": "string"}, {"type": "null"}]}
            }
        });
        let models = |n: &str| (n == "Other").then(|| json!({"type": "boolean"}));
        let ok = json!({"n": 1, "s": "ab", "l": [1, 2], "m": true, "o": null});
        assert!(validate(&schema, &ok, &models).is_empty());
        for bad in [
            json!({"n": 0}),
            json!({"s": "ba"}),
            json!({"s": "abcd"}),
            json!({"l": []}),
            json!({"l": [1, 1]}),
            json!({"l": [1.5]}),
            json!({"m": 1}),
            json!({"o": 1}),
            json!({"z": 1}),
        ] {
            assert!(!validate(&schema, &bad, &models).is_empty(), "{bad}");
        }
    }
}
