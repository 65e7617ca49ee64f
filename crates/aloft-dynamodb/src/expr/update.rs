//! Applying an UpdateExpression: every operand is read from the item as it was before the
//! update (so `SET a = b, b = a` swaps), then the actions are applied in order.

use aloft_core::AwsError;

use super::ast::{Path, Seg, SetValue, Update, UpdateAction};
use super::eval::resolve;
use super::parser::ExprKind;
use crate::domain::value::{AttrValue, Item};

fn bad_type() -> AwsError {
    ExprKind::Update.error("An operand in the update expression has an incorrect data type")
}

fn invalid_path() -> AwsError {
    crate::error::validation(
        "The document path provided in the update expression is invalid for update",
    )
}

fn eval_set(old: &Item, v: &SetValue) -> Result<AttrValue, AwsError> {
    Ok(match v {
        SetValue::Value(v) => v.clone(),
        SetValue::Path(p) => resolve(old, p).cloned().ok_or_else(|| {
            crate::error::validation(
                "The provided expression refers to an attribute that does not exist in the item",
            )
        })?,
        SetValue::IfNotExists(p, d) => match resolve(old, p) {
            Some(v) => v.clone(),
            None => eval_set(old, d)?,
        },
        SetValue::ListAppend(a, b) => {
            let (a, b) = (eval_set(old, a)?, eval_set(old, b)?);
            match (a, b) {
                (AttrValue::L(mut a), AttrValue::L(b)) => {
                    a.extend(b);
                    AttrValue::L(a)
                }
                _ => return Err(bad_type()),
            }
        }
        SetValue::Plus(a, b) | SetValue::Minus(a, b) => {
            let (a, b) = (eval_set(old, a)?, eval_set(old, b)?);
            let (AttrValue::N(a), AttrValue::N(b)) = (a, b) else {
                return Err(bad_type());
            };
            let r = if matches!(v, SetValue::Plus(..)) {
                a.add(&b)
            } else {
                a.sub(&b)
            };
            AttrValue::N(r.map_err(|e| crate::error::validation(e.message()))?)
        }
    })
}

/// A mutable reference to the container holding the last segment of `path`.
fn parent_mut<'a>(item: &'a mut Item, path: &Path) -> Option<&'a mut AttrValue> {
    let segs = &path.0;
    let Seg::Attr(first) = &segs[0] else {
        return None;
    };
    let mut cur = item.get_mut(first)?;
    for seg in &segs[1..segs.len() - 1] {
        cur = match (seg, cur) {
            (Seg::Attr(k), AttrValue::M(m)) => m.get_mut(k)?,
            (Seg::Index(i), AttrValue::L(l)) => l.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn set_path(item: &mut Item, path: &Path, value: AttrValue) -> Result<(), AwsError> {
    if path.0.len() == 1 {
        item.insert(path.top().to_string(), value);
        return Ok(());
    }
    let parent = parent_mut(item, path).ok_or_else(invalid_path)?;
    match (path.0.last(), parent) {
        (Some(Seg::Attr(k)), AttrValue::M(m)) => {
            m.insert(k.clone(), value);
        }
        // Past the end of a list appends, as AWS does.
        (Some(Seg::Index(i)), AttrValue::L(l)) => {
            if *i < l.len() {
                l[*i] = value;
            } else {
                l.push(value);
            }
        }
        _ => return Err(invalid_path()),
    }
    Ok(())
}

fn remove_path(item: &mut Item, path: &Path) -> Result<(), AwsError> {
    if path.0.len() == 1 {
        item.remove(path.top());
        return Ok(());
    }
    let Some(parent) = parent_mut(item, path) else {
        return Ok(());
    };
    match (path.0.last(), parent) {
        (Some(Seg::Attr(k)), AttrValue::M(m)) => {
            m.remove(k);
        }
        (Some(Seg::Index(i)), AttrValue::L(l)) => {
            if *i < l.len() {
                l.remove(*i);
            }
        }
        _ => return Err(invalid_path()),
    }
    Ok(())
}

fn add_to(existing: Option<&AttrValue>, v: &AttrValue) -> Result<AttrValue, AwsError> {
    Ok(match (existing, v) {
        (None, v) => v.clone(),
        (Some(AttrValue::N(a)), AttrValue::N(b)) => AttrValue::N(
            a.add(b)
                .map_err(|e| crate::error::validation(e.message()))?,
        ),
        (Some(AttrValue::Ss(a)), AttrValue::Ss(b)) => AttrValue::Ss(union(a, b)),
        (Some(AttrValue::Ns(a)), AttrValue::Ns(b)) => AttrValue::Ns(union(a, b)),
        (Some(AttrValue::Bs(a)), AttrValue::Bs(b)) => AttrValue::Bs(union(a, b)),
        _ => return Err(bad_type()),
    })
}

fn union<T: Clone + PartialEq>(a: &[T], b: &[T]) -> Vec<T> {
    let mut out = a.to_vec();
    for x in b {
        if !out.contains(x) {
            out.push(x.clone());
        }
    }
    out
}

fn difference<T: Clone + PartialEq>(a: &[T], b: &[T]) -> Vec<T> {
    a.iter().filter(|x| !b.contains(x)).cloned().collect()
}

/// `None` when the set becomes empty (the attribute is removed).
fn delete_from(existing: &AttrValue, v: &AttrValue) -> Result<Option<AttrValue>, AwsError> {
    let out = match (existing, v) {
        (AttrValue::Ss(a), AttrValue::Ss(b)) => AttrValue::Ss(difference(a, b)),
        (AttrValue::Ns(a), AttrValue::Ns(b)) => AttrValue::Ns(difference(a, b)),
        (AttrValue::Bs(a), AttrValue::Bs(b)) => AttrValue::Bs(difference(a, b)),
        _ => return Err(bad_type()),
    };
    let empty = match &out {
        AttrValue::Ss(s) => s.is_empty(),
        AttrValue::Ns(s) => s.is_empty(),
        AttrValue::Bs(s) => s.is_empty(),
        _ => false,
    };
    Ok((!empty).then_some(out))
}

/// Applies `update` to `old` (an empty item when none exists), returning the new item.
pub fn apply(update: &Update, old: &Item) -> Result<Item, AwsError> {
    // Evaluate every right-hand side against the old item first.
    let mut computed = Vec::with_capacity(update.actions.len());
    for a in &update.actions {
        computed.push(match a {
            UpdateAction::Set(_, v) => Some(eval_set(old, v)?),
            UpdateAction::Add(p, v) => Some(add_to(resolve(old, p), v)?),
            _ => None,
        });
    }
    let mut item = old.clone();
    // Removals of list elements address the old positions: remove from the back.
    let mut removes: Vec<&Path> = update
        .actions
        .iter()
        .filter_map(|a| match a {
            UpdateAction::Remove(p) => Some(p),
            _ => None,
        })
        .collect();
    removes.sort_by(|a, b| b.cmp(a));
    for (a, c) in update.actions.iter().zip(computed) {
        match a {
            UpdateAction::Set(p, _) | UpdateAction::Add(p, _) => {
                set_path(&mut item, p, c.unwrap_or(AttrValue::Null))?;
            }
            UpdateAction::Delete(p, v) => {
                if let Some(existing) = resolve(old, p) {
                    match delete_from(existing, v)? {
                        Some(nv) => set_path(&mut item, p, nv)?,
                        None => remove_path(&mut item, p)?,
                    }
                }
            }
            UpdateAction::Remove(_) => {}
        }
    }
    for p in removes {
        remove_path(&mut item, p)?;
    }
    Ok(item)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::value::{item_from_json, item_to_json};
    use crate::expr::parser::{ExprContext, parse_update};
    use serde_json::json;

    fn run(
        src: &str,
        values: serde_json::Value,
        item: serde_json::Value,
    ) -> Result<serde_json::Value, String> {
        let mut c = ExprContext::new(None, Some(&values)).unwrap();
        let u = parse_update(src, &mut c).map_err(|e| e.message)?;
        let old = item_from_json(&item).unwrap();
        apply(&u, &old)
            .map(|i| item_to_json(&i))
            .map_err(|e| e.message)
    }

    #[test]
    fn set_arithmetic_and_functions() {
        let out = run(
            "SET c = if_not_exists(c, :zero) + :one, l = list_append(l, :l), a = b, b = a",
            json!({":zero": {"N": "0"}, ":one": {"N": "1"}, ":l": {"L": [{"S": "z"}]}}),
            json!({"l": {"L": [{"S": "y"}]}, "a": {"S": "A"}, "b": {"S": "B"}}),
        )
        .unwrap();
        assert_eq!(out["c"], json!({"N": "1"}));
        assert_eq!(out["l"], json!({"L": [{"S": "y"}, {"S": "z"}]}));
        assert_eq!(
            (out["a"].clone(), out["b"].clone()),
            (json!({"S": "B"}), json!({"S": "A"}))
        );
    }

    #[test]
    fn remove_add_delete() {
        let out = run(
            "REMOVE l[0], l[2], m.x ADD n :five, s :s DELETE t :t",
            json!({":five": {"N": "5"}, ":s": {"SS": ["b"]}, ":t": {"SS": ["x"]}}),
            json!({"l": {"L": [{"N": "0"}, {"N": "1"}, {"N": "2"}, {"N": "3"}]}, "m": {"M": {"x": {"N": "1"}, "y": {"N": "2"}}},
                   "n": {"N": "1"}, "s": {"SS": ["a"]}, "t": {"SS": ["x"]}}),
        )
        .unwrap();
        assert_eq!(out["l"], json!({"L": [{"N": "1"}, {"N": "3"}]}));
        assert_eq!(out["m"], json!({"M": {"y": {"N": "2"}}}));
        assert_eq!(out["n"], json!({"N": "6"}));
        assert_eq!(out["s"], json!({"SS": ["a", "b"]}));
        assert!(out.get("t").is_none(), "an emptied set is removed");
    }

    #[test]
    fn type_and_path_errors() {
        let e = run(
            "SET a = b + :one",
            json!({":one": {"N": "1"}}),
            json!({"b": {"S": "x"}}),
        )
        .unwrap_err();
        assert_eq!(
            e,
            "Invalid UpdateExpression: An operand in the update expression has an incorrect data type"
        );
        let e = run("SET a = nope", json!({":x": {"S": "1"}}), json!({}));
        assert!(e.is_err());
        let e = run("SET a.b = :one", json!({":one": {"N": "1"}}), json!({})).unwrap_err();
        assert_eq!(
            e,
            "The document path provided in the update expression is invalid for update"
        );
    }
}
