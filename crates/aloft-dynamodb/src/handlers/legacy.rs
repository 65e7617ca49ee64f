//! The legacy parameters (Expected, AttributeUpdates, AttributesToGet, KeyConditions,
//! QueryFilter, ScanFilter), translated into the same expression trees the expressions use.

use aloft_core::AwsError;
use serde_json::Value as Json;

use crate::domain::value::AttrValue;
use crate::error::validation;
use crate::expr::ast::{CmpOp, Cond, Operand, Path, Seg, SetValue, Update, UpdateAction};

const PAIRS: [(&str, &str); 6] = [
    ("Expected", "ConditionExpression"),
    ("AttributeUpdates", "UpdateExpression"),
    ("AttributesToGet", "ProjectionExpression"),
    ("KeyConditions", "KeyConditionExpression"),
    ("QueryFilter", "FilterExpression"),
    ("ScanFilter", "FilterExpression"),
];

fn present(input: &Json, name: &str) -> bool {
    input.get(name).is_some_and(|v| !v.is_null())
}

/// AWS refuses requests that mix both styles.
pub fn check_mixed(input: &Json, _kind: &str) -> Result<(), AwsError> {
    // Most requests use neither style's legacy half: one pass over the input's few keys.
    let any_legacy = input.as_object().is_some_and(|o| {
        o.iter()
            .any(|(k, v)| !v.is_null() && PAIRS.iter().any(|p| p.0 == k))
    });
    if !any_legacy {
        return Ok(());
    }
    let legacy: Vec<&str> = PAIRS
        .iter()
        .map(|p| p.0)
        .filter(|n| present(input, n))
        .collect();
    let mut exprs: Vec<&str> = PAIRS
        .iter()
        .map(|p| p.1)
        .filter(|n| present(input, n))
        .collect();
    exprs.dedup();
    if !legacy.is_empty() && !exprs.is_empty() {
        return Err(validation(format!(
            "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {{{}}} Expression parameters: {{{}}}",
            legacy.join(", "),
            exprs.join(", ")
        )));
    }
    Ok(())
}

fn path(name: &str) -> Path {
    Path(vec![Seg::Attr(name.to_string())])
}

fn values(spec: &Json) -> Result<Vec<AttrValue>, AwsError> {
    spec.get("AttributeValueList")
        .and_then(Json::as_array)
        .map(|a| a.iter().map(AttrValue::from_json).collect())
        .unwrap_or(Ok(Vec::new()))
}

fn condition_for(name: &str, spec: &Json) -> Result<Cond, AwsError> {
    let p = path(name);
    let Some(op) = spec.get("ComparisonOperator").and_then(Json::as_str) else {
        // Expected's short form: Value and/or Exists.
        let value = spec
            .get("Value")
            .filter(|v| !v.is_null())
            .map(AttrValue::from_json)
            .transpose()?;
        let exists = spec.get("Exists").and_then(Json::as_bool);
        return match (value, exists) {
            (Some(v), None | Some(true)) => Ok(Cond::Cmp(Operand::Path(p), CmpOp::Eq, Operand::Value(v))),
            (None, Some(false)) => Ok(Cond::AttributeNotExists(p)),
            (Some(_), Some(false)) => Err(validation(
                "One or more parameter values were invalid: Value cannot be used when Exists is false for Attribute: ".to_string() + name,
            )),
            (None, _) => Err(validation(
                "One or more parameter values were invalid: Value must be provided when Exists is true for Attribute: ".to_string() + name,
            )),
        };
    };
    let vals = values(spec)?;
    let need = |n: usize| -> Result<(), AwsError> {
        if vals.len() == n {
            Ok(())
        } else {
            Err(validation(format!(
                "One or more parameter values were invalid: Invalid number of argument(s) for the {op} ComparisonOperator"
            )))
        }
    };
    let v = |i: usize| Operand::Value(vals[i].clone());
    let cmp = |o: CmpOp| -> Result<Cond, AwsError> {
        need(1)?;
        Ok(Cond::Cmp(Operand::Path(p.clone()), o, v(0)))
    };
    Ok(match op {
        "EQ" => cmp(CmpOp::Eq)?,
        "NE" => cmp(CmpOp::Ne)?,
        "LT" => cmp(CmpOp::Lt)?,
        "LE" => cmp(CmpOp::Le)?,
        "GT" => cmp(CmpOp::Gt)?,
        "GE" => cmp(CmpOp::Ge)?,
        "NOT_NULL" => {
            need(0)?;
            Cond::AttributeExists(p)
        }
        "NULL" => {
            need(0)?;
            Cond::AttributeNotExists(p)
        }
        "CONTAINS" => {
            need(1)?;
            Cond::Contains(Operand::Path(p), v(0))
        }
        "NOT_CONTAINS" => {
            need(1)?;
            Cond::Not(Box::new(Cond::Contains(Operand::Path(p), v(0))))
        }
        "BEGINS_WITH" => {
            need(1)?;
            Cond::BeginsWith(Operand::Path(p), v(0))
        }
        "IN" => {
            if vals.is_empty() {
                need(1)?;
            }
            Cond::In(Operand::Path(p), (0..vals.len()).map(v).collect())
        }
        "BETWEEN" => {
            need(2)?;
            Cond::Between(Operand::Path(p), v(0), v(1))
        }
        other => {
            return Err(validation(format!(
                "1 validation error detected: Value '{other}' at 'comparisonOperator' failed to satisfy constraint: Member must satisfy enum value set: [IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]"
            )));
        }
    })
}

/// A map of legacy conditions joined with ConditionalOperator (AND by default).
pub fn conditions(input: &Json, member: &str) -> Result<Option<Cond>, AwsError> {
    let Some(map) = input.get(member).and_then(Json::as_object) else {
        return Ok(None);
    };
    let or = input.get("ConditionalOperator").and_then(Json::as_str) == Some("OR");
    let mut out: Option<Cond> = None;
    for (name, spec) in map {
        let c = condition_for(name, spec)?;
        out = Some(match out {
            None => c,
            Some(prev) if or => Cond::Or(Box::new(prev), Box::new(c)),
            Some(prev) => Cond::And(Box::new(prev), Box::new(c)),
        });
    }
    Ok(out)
}

pub fn expected(input: &Json) -> Result<Option<Cond>, AwsError> {
    conditions(input, "Expected")
}

pub fn attribute_updates(input: &Json) -> Result<Update, AwsError> {
    let mut u = Update::default();
    let Some(map) = input.get("AttributeUpdates").and_then(Json::as_object) else {
        return Ok(u);
    };
    for (name, spec) in map {
        let value = spec
            .get("Value")
            .filter(|v| !v.is_null())
            .map(AttrValue::from_json)
            .transpose()?;
        let action = spec.get("Action").and_then(Json::as_str).unwrap_or("PUT");
        u.actions.push(match (action, value) {
            ("PUT", Some(v)) => UpdateAction::Set(path(name), SetValue::Value(v)),
            ("DELETE", None) => UpdateAction::Remove(path(name)),
            ("DELETE", Some(v)) => UpdateAction::Delete(path(name), v),
            ("ADD", Some(v)) => UpdateAction::Add(path(name), v),
            _ => {
                return Err(validation(format!(
                    "One or more parameter values were invalid: Only DELETE action is allowed when no attribute value is specified: {name}"
                )));
            }
        });
    }
    Ok(u)
}

pub fn attributes_to_get(input: &Json) -> Result<Option<Vec<Path>>, AwsError> {
    let Some(arr) = input.get("AttributesToGet").and_then(Json::as_array) else {
        return Ok(None);
    };
    let names: Vec<&str> = arr.iter().filter_map(Json::as_str).collect();
    for (i, n) in names.iter().enumerate() {
        if names[..i].contains(n) {
            return Err(validation(format!(
                "One or more parameter values were invalid: Duplicate value in attribute name: {n}"
            )));
        }
    }
    Ok(Some(names.into_iter().map(path).collect()))
}
