//! Evaluating conditions against an item, and projecting items onto document paths.

use std::borrow::Cow;
use std::cmp::Ordering;

use super::ast::{CmpOp, Cond, Operand, Path, Seg};
use crate::domain::number::Number;
use crate::domain::value::{AttrType, AttrValue, Item};

/// The value at `path` in `item`, if there is one.
pub fn resolve<'a>(item: &'a Item, path: &Path) -> Option<&'a AttrValue> {
    let mut it = path.0.iter();
    let Some(Seg::Attr(first)) = it.next() else {
        return None;
    };
    let mut cur = item.get(first)?;
    for seg in it {
        cur = match (seg, cur) {
            (Seg::Attr(k), AttrValue::M(m)) => m.get(k)?,
            (Seg::Index(i), AttrValue::L(l)) => l.get(*i)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn operand<'a>(item: &'a Item, op: &'a Operand) -> Option<Cow<'a, AttrValue>> {
    match op {
        Operand::Value(v) => Some(Cow::Borrowed(v)),
        Operand::Path(p) => resolve(item, p).map(Cow::Borrowed),
        Operand::Size(p) => {
            let n = match resolve(item, p)? {
                AttrValue::S(s) => s.chars().count(),
                AttrValue::B(b) => b.len(),
                AttrValue::Ss(s) => s.len(),
                AttrValue::Ns(s) => s.len(),
                AttrValue::Bs(s) => s.len(),
                AttrValue::L(l) => l.len(),
                AttrValue::M(m) => m.len(),
                _ => return None,
            };
            Some(Cow::Owned(AttrValue::N(Number::from_i64(n as i64))))
        }
    }
}

/// Evaluates a condition; a missing item is an item with no attributes.
pub fn eval(cond: &Cond, item: &Item) -> bool {
    match cond {
        Cond::And(a, b) => eval(a, item) && eval(b, item),
        Cond::Or(a, b) => eval(a, item) || eval(b, item),
        Cond::Not(a) => !eval(a, item),
        Cond::Cmp(a, op, b) => {
            let (x, y) = (operand(item, a), operand(item, b));
            match op {
                CmpOp::Eq => matches!((&x, &y), (Some(x), Some(y)) if x.same(y)),
                // A missing attribute is "not equal" to anything, as on AWS.
                CmpOp::Ne => !matches!((&x, &y), (Some(x), Some(y)) if x.same(y)),
                _ => {
                    let (Some(x), Some(y)) = (x, y) else {
                        return false;
                    };
                    match x.compare(&y) {
                        Some(ord) => match op {
                            CmpOp::Lt => ord == Ordering::Less,
                            CmpOp::Le => ord != Ordering::Greater,
                            CmpOp::Gt => ord == Ordering::Greater,
                            _ => ord != Ordering::Less,
                        },
                        None => false,
                    }
                }
            }
        }
        Cond::Between(a, lo, hi) => {
            let (Some(x), Some(l), Some(h)) =
                (operand(item, a), operand(item, lo), operand(item, hi))
            else {
                return false;
            };
            matches!(x.compare(&l), Some(Ordering::Greater | Ordering::Equal))
                && matches!(x.compare(&h), Some(Ordering::Less | Ordering::Equal))
        }
        Cond::In(a, list) => {
            let Some(x) = operand(item, a) else {
                return false;
            };
            list.iter()
                .any(|o| operand(item, o).is_some_and(|v| v.same(&x)))
        }
        Cond::AttributeExists(p) => resolve(item, p).is_some(),
        Cond::AttributeNotExists(p) => resolve(item, p).is_none(),
        Cond::AttributeType(p, t) => {
            let (Some(v), Some(t)) = (resolve(item, p), operand(item, t)) else {
                return false;
            };
            match &*t {
                AttrValue::S(tag) => AttrType::from_tag(tag) == Some(v.attr_type()),
                _ => false,
            }
        }
        Cond::BeginsWith(a, b) => {
            let (Some(x), Some(y)) = (operand(item, a), operand(item, b)) else {
                return false;
            };
            match (&*x, &*y) {
                (AttrValue::S(x), AttrValue::S(y)) => x.as_bytes().starts_with(y.as_bytes()),
                (AttrValue::B(x), AttrValue::B(y)) => x.starts_with(y),
                _ => false,
            }
        }
        Cond::Contains(a, b) => {
            let (Some(x), Some(y)) = (operand(item, a), operand(item, b)) else {
                return false;
            };
            match (&*x, &*y) {
                (AttrValue::S(x), AttrValue::S(y)) => x.contains(y.as_str()),
                (AttrValue::B(x), AttrValue::B(y)) => {
                    y.is_empty() || x.windows(y.len()).any(|w| w == y.as_slice())
                }
                (AttrValue::Ss(s), AttrValue::S(y)) => s.iter().any(|x| x == y.as_str()),
                (AttrValue::Ns(s), AttrValue::N(y)) => s.contains(y),
                (AttrValue::Bs(s), AttrValue::B(y)) => s.contains(y),
                (AttrValue::L(l), y) => l.iter().any(|e| e.same(y)),
                _ => false,
            }
        }
    }
}

/// Keeps only the projected document paths of an item (list elements keep their order).
pub fn project(item: &Item, paths: &[Path]) -> Item {
    let mut out = Item::new();
    for p in paths {
        let Some(v) = resolve(item, p) else { continue };
        insert_projected(&mut out, &p.0, v);
    }
    out
}

fn insert_projected(out: &mut Item, segs: &[Seg], v: &AttrValue) {
    let Seg::Attr(first) = &segs[0] else { return };
    if segs.len() == 1 {
        out.insert(first.clone(), v.clone());
        return;
    }
    let child = out.get_or_insert_with(first, || match segs[1] {
        Seg::Attr(_) => AttrValue::M(Item::new()),
        Seg::Index(_) => AttrValue::L(Vec::new()),
    });
    insert_nested(child, &segs[1..], v);
}

fn insert_nested(into: &mut AttrValue, segs: &[Seg], v: &AttrValue) {
    let fresh = |next: Option<&Seg>| match next {
        Some(Seg::Index(_)) => AttrValue::L(Vec::new()),
        _ => AttrValue::M(Item::new()),
    };
    match (&segs[0], into) {
        (Seg::Attr(k), AttrValue::M(m)) => {
            if segs.len() == 1 {
                m.insert(k.clone(), v.clone());
            } else {
                let child = m.get_or_insert_with(k, || fresh(segs.get(1)));
                insert_nested(child, &segs[1..], v);
            }
        }
        // Projected list elements are compacted in index order (`a[3], a[1]` → two elements).
        (Seg::Index(_), AttrValue::L(l)) => {
            if segs.len() == 1 {
                l.push(v.clone());
            } else {
                l.push(fresh(segs.get(1)));
                if let Some(last) = l.last_mut() {
                    insert_nested(last, &segs[1..], v);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::value::item_from_json;
    use crate::expr::parser::{ExprContext, ExprKind, parse_condition, parse_projection};
    use serde_json::json;

    fn item() -> Item {
        item_from_json(
            &json!({"id": {"S": "a1"}, "n": {"N": "5"}, "tags": {"SS": ["x", "y"]},
            "m": {"M": {"k": {"L": [{"S": "p"}, {"N": "2"}]}}}, "bin": {"B": "AQID"}}),
        )
        .unwrap()
    }

    fn check(src: &str, values: serde_json::Value) -> bool {
        let mut c = ExprContext::new(None, Some(&values)).unwrap();
        let cond = parse_condition(src, ExprKind::Condition, &mut c).unwrap();
        eval(&cond, &item())
    }

    #[test]
    fn comparisons_and_functions() {
        let v = json!({":five": {"N": "5.0"}, ":s": {"S": "a"}, ":x": {"S": "x"}, ":p": {"S": "p"},
            ":t": {"S": "SS"}, ":two": {"N": "2"}, ":ten": {"N": "10"}});
        assert!(check(
            "n = :five AND begins_with(id, :s) AND contains(tags, :x)",
            v.clone()
        ));
        assert!(check(
            "m.k[0] = :p AND size(tags) = :two AND attribute_type(tags, :t)",
            v.clone()
        ));
        assert!(check(
            "n BETWEEN :two AND :ten AND n IN (:two, :five)",
            v.clone()
        ));
        assert!(check(
            "nope <> :s AND attribute_not_exists(nope)",
            v.clone()
        ));
        assert!(!check("nope = :s OR n < :two OR id < :two", v.clone()));
        assert!(check("NOT (n > :ten)", v));
    }

    #[test]
    fn projection_keeps_nested_paths() {
        let mut c = ExprContext::default();
        let paths = parse_projection("id, m.k[1], nope", &mut c).unwrap();
        let out = project(&item(), &paths);
        assert_eq!(
            crate::domain::value::item_to_json(&out),
            json!({"id": {"S": "a1"}, "m": {"M": {"k": {"L": [{"N": "2"}]}}}})
        );
    }
}
