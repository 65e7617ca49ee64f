//! `patchOperations` (Update* operations): JSON-Pointer-like paths over a resource's output form.
//!
//! AWS sends every value as a string; where the member is a boolean or a number (or a map of
//! booleans, like `requestParameters` of a method) the string is converted back.

use serde::{Serialize, de::DeserializeOwned};
use serde_json::Value;

use crate::error::{Result, bad_request};

#[derive(Debug, Clone)]
pub struct PatchOp {
    pub op: String,
    pub path: String,
    pub value: Option<String>,
}

/// Reads `patchOperations` from an Update* input.
pub fn ops(input: &Value) -> Vec<PatchOp> {
    input
        .get("patchOperations")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|o| PatchOp {
                    op: o
                        .get("op")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                    path: o
                        .get("path")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                    value: o.get("value").and_then(Value::as_str).map(str::to_string),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `/a/b~1c` → `["a", "b/c"]`.
pub fn segments(path: &str) -> Vec<String> {
    path.trim_start_matches('/')
        .split('/')
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect()
}

fn coerce(existing: Option<&Value>, siblings_bool: bool, v: &str) -> Value {
    match existing {
        Some(Value::Bool(_)) => match v {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => Value::String(v.into()),
        },
        Some(Value::Number(_)) => v
            .parse::<i64>()
            .map(Value::from)
            .or_else(|_| v.parse::<f64>().map(Value::from))
            .unwrap_or_else(|_| Value::String(v.into())),
        _ if siblings_bool && matches!(v, "true" | "false") => Value::Bool(v == "true"),
        _ => Value::String(v.into()),
    }
}

/// Applies the operations to `target` (through its serialized form), refusing unknown paths
/// with AWS's message.
pub fn apply<T: Serialize + DeserializeOwned>(
    target: &mut T,
    ops: &[PatchOp],
    bool_maps: &[&str],
) -> Result<()> {
    let mut doc = serde_json::to_value(&*target).map_err(|e| bad_request(e.to_string()))?;
    for op in ops {
        apply_one(&mut doc, op, bool_maps)?;
    }
    *target = serde_json::from_value(doc).map_err(|_| {
        bad_request("Invalid patch value: the value does not fit the member it patches")
    })?;
    Ok(())
}

fn apply_one(doc: &mut Value, op: &PatchOp, bool_maps: &[&str]) -> Result<()> {
    let segs = segments(&op.path);
    let invalid = || {
        bad_request(format!(
            "Invalid patch path  '{}' specified for op '{}'. Must be one of: [add, remove, replace, move, copy, test]",
            op.path, op.op
        ))
    };
    if segs.is_empty() || segs[0].is_empty() || segs.iter().any(|s| s.starts_with('_')) {
        return Err(invalid());
    }
    let (last, init) = segs.split_last().ok_or_else(invalid)?;
    let mut cur = doc;
    for s in init {
        let obj = cur.as_object_mut().ok_or_else(invalid)?;
        cur = obj
            .entry(s.clone())
            .or_insert_with(|| Value::Object(serde_json::Map::new()));
        if cur.is_null() {
            *cur = Value::Object(serde_json::Map::new());
        }
    }
    let obj = cur.as_object_mut().ok_or_else(invalid)?;
    match op.op.as_str() {
        "replace" | "add" => {
            let Some(v) = &op.value else {
                return Err(bad_request(format!(
                    "Invalid null or empty value in {}",
                    op.path
                )));
            };
            let siblings_bool = init.len() == 1 && bool_maps.contains(&init[0].as_str());
            let v = coerce(obj.get(last.as_str()), siblings_bool, v);
            obj.insert(last.clone(), v);
        }
        "remove" => {
            obj.shift_remove(last.as_str());
        }
        _ => {
            return Err(bad_request(format!(
                "Invalid patch operation specified. Must be 'add'|'remove'|'replace'|'copy' for path {}",
                op.path
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Method;

    #[test]
    fn patches_strings_bools_and_maps() {
        let mut m = Method {
            http_method: "GET".into(),
            authorization_type: "NONE".into(),
            ..Default::default()
        };
        let ops = vec![
            PatchOp {
                op: "replace".into(),
                path: "/apiKeyRequired".into(),
                value: Some("true".into()),
            },
            PatchOp {
                op: "add".into(),
                path: "/requestParameters/method.request.querystring.q".into(),
                value: Some("true".into()),
            },
            PatchOp {
                op: "replace".into(),
                path: "/operationName".into(),
                value: Some("ListThings".into()),
            },
        ];
        apply(&mut m, &ops, &["requestParameters"]).unwrap();
        assert!(m.api_key_required);
        assert!(m.request_parameters["method.request.querystring.q"]);
        assert_eq!(m.operation_name.as_deref(), Some("ListThings"));
        let bad = PatchOp {
            op: "replace".into(),
            path: "/apiKeyRequired".into(),
            value: Some("maybe".into()),
        };
        assert!(apply(&mut m, &[bad], &[]).is_err());
        assert_eq!(segments("/a~1b/c"), vec!["a/b", "c"]);
    }
}
