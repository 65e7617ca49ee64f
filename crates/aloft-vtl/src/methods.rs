//! The Java methods templates call on strings, lists, maps and numbers.
//!
//! Unknown methods yield null (Velocity logs and renders the reference literally); calls Java
//! would throw on (an index out of range, a bad regex) fail the rendering, which API Gateway
//! answers with a 500.

use indexmap::IndexMap;

use crate::Error;
use crate::value::Value;

fn int_arg(args: &[Value], i: usize) -> Option<i64> {
    match args.get(i)? {
        Value::Int(n) => Some(*n),
        #[allow(clippy::cast_possible_truncation)]
        Value::Float(f) => Some(*f as i64),
        Value::Str(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn str_arg(args: &[Value], i: usize) -> Option<String> {
    match args.get(i)? {
        Value::Null => None,
        v => Some(v.to_java_string()),
    }
}

/// A Java list index: negative or past the end is `None`.
pub(crate) fn list_index(i: &Value, len: usize) -> Option<usize> {
    let i = match i {
        Value::Int(n) => *n,
        Value::Str(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    usize::try_from(i).ok().filter(|&i| i < len)
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or_else(String::new, |f| {
        f.to_uppercase().collect::<String>() + c.as_str()
    })
}

/// `$v.name`: a map key, a host property, or Java's `getName()`/`isName()`.
pub(crate) fn property(v: &Value, name: &str) -> Result<Value, Error> {
    match v {
        Value::Map(m) => Ok(m.borrow().get(name).cloned().unwrap_or_default()),
        Value::Host(h) => Ok(h.property(name).unwrap_or_default()),
        _ => {
            let cap = capitalize(name);
            let got = call(v, &format!("get{cap}"), &[])?;
            if got.is_null() {
                call(v, &format!("is{cap}"), &[])
            } else {
                Ok(got)
            }
        }
    }
}

/// `$v[i]`: list element or map value.
pub(crate) fn index(v: &Value, i: &Value) -> Result<Value, Error> {
    match v {
        Value::List(l) => {
            let l = l.borrow();
            match list_index(i, l.len()) {
                Some(i) => Ok(l[i].clone()),
                None => Err(Error::new(format!(
                    "Index: {}, Size: {}",
                    i.to_java_string(),
                    l.len()
                ))),
            }
        }
        Value::Map(m) => Ok(m
            .borrow()
            .get(&i.to_java_string())
            .cloned()
            .unwrap_or_default()),
        _ => Ok(Value::Null),
    }
}

pub(crate) fn call(v: &Value, name: &str, args: &[Value]) -> Result<Value, Error> {
    match v {
        Value::Str(s) => string_method(s, name, args),
        Value::List(_) => list_method(v, name, args),
        Value::Map(_) => map_method(v, name, args),
        Value::Host(h) => h.call(name, args).map_err(Error::new),
        Value::Int(_) | Value::Float(_) | Value::Bool(_) => Ok(match (name, args.len()) {
            ("toString", 0) => Value::from(v.to_java_string()),
            ("intValue" | "longValue", 0) => match v {
                #[allow(clippy::cast_possible_truncation)]
                Value::Float(f) => Value::Int(*f as i64),
                other => other.clone(),
            },
            ("doubleValue", 0) => v.as_f64().map_or(Value::Null, Value::Float),
            ("equals", 1) => Value::Bool(v.java_equals(&args[0])),
            ("booleanValue", 0) => v.clone(),
            _ => Value::Null,
        }),
        Value::Null => Ok(Value::Null),
    }
}

fn char_len(s: &str) -> i64 {
    i64::try_from(s.chars().count()).unwrap_or(i64::MAX)
}

/// Byte offset of the `i`th char, `None` past the end.
fn char_offset(s: &str, i: i64) -> Option<usize> {
    let i = usize::try_from(i).ok()?;
    if i == s.chars().count() {
        return Some(s.len());
    }
    s.char_indices().nth(i).map(|(o, _)| o)
}

fn char_index_of(s: &str, byte: usize) -> i64 {
    i64::try_from(s[..byte].chars().count()).unwrap_or(i64::MAX)
}

fn regex(pattern: &str) -> Result<regex::Regex, Error> {
    regex::Regex::new(pattern).map_err(|e| Error::new(format!("bad regular expression: {e}")))
}

/// Java's `$1` group references → the regex crate's `${1}`; `\x` is a literal `x`.
fn java_replacement(r: &str) -> String {
    let mut out = String::new();
    let mut chars = r.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('$') => out.push_str("$$"),
                Some(x) => out.push(x),
                None => {}
            },
            '$' => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
                    digits.push(d);
                    chars.next();
                }
                if digits.is_empty() {
                    out.push_str("$$");
                } else {
                    out.push_str(&format!("${{{digits}}}"));
                }
            }
            c => out.push(c),
        }
    }
    out
}

fn string_method(s: &str, name: &str, args: &[Value]) -> Result<Value, Error> {
    let out_of_range = |i: i64| Error::new(format!("String index out of range: {i}"));
    Ok(match (name, args.len()) {
        ("length", 0) => Value::Int(char_len(s)),
        ("isEmpty", 0) => Value::Bool(s.is_empty()),
        ("toString" | "trim" | "toLowerCase" | "toUpperCase", 0) => Value::from(match name {
            "trim" => s.trim_matches(|c: char| c <= ' ').to_string(),
            "toLowerCase" => s.to_lowercase(),
            "toUpperCase" => s.to_uppercase(),
            _ => s.to_string(),
        }),
        ("substring", 1 | 2) => {
            let begin = int_arg(args, 0).unwrap_or(0);
            let end = if args.len() == 2 {
                int_arg(args, 1).unwrap_or(-1)
            } else {
                char_len(s)
            };
            if begin > end {
                return Err(out_of_range(end - begin));
            }
            let b = char_offset(s, begin).ok_or_else(|| out_of_range(begin))?;
            let e = char_offset(s, end).ok_or_else(|| out_of_range(end))?;
            Value::from(&s[b..e])
        }
        ("charAt", 1) => {
            let i = int_arg(args, 0).unwrap_or(-1);
            let c = usize::try_from(i)
                .ok()
                .and_then(|i| s.chars().nth(i))
                .ok_or_else(|| out_of_range(i))?;
            Value::from(c.to_string())
        }
        ("indexOf" | "lastIndexOf", 1 | 2) => {
            let Some(needle) = str_arg(args, 0) else {
                return Ok(Value::Null);
            };
            let found = if name == "indexOf" {
                let from = int_arg(args, 1).unwrap_or(0).max(0);
                let start = char_offset(s, from.min(char_len(s))).unwrap_or(s.len());
                s[start..].find(&needle).map(|i| i + start)
            } else {
                s.rfind(&needle)
            };
            Value::Int(found.map_or(-1, |b| char_index_of(s, b)))
        }
        ("contains", 1) => Value::Bool(str_arg(args, 0).is_some_and(|n| s.contains(&n))),
        ("startsWith", 1) => Value::Bool(str_arg(args, 0).is_some_and(|n| s.starts_with(&n))),
        ("endsWith", 1) => Value::Bool(str_arg(args, 0).is_some_and(|n| s.ends_with(&n))),
        ("equals", 1) => Value::Bool(matches!(&args[0], Value::Str(o) if &**o == s)),
        ("equalsIgnoreCase", 1) => {
            Value::Bool(matches!(&args[0], Value::Str(o) if o.to_lowercase() == s.to_lowercase()))
        }
        ("concat", 1) => Value::from(s.to_string() + &str_arg(args, 0).unwrap_or_default()),
        ("replace", 2) => match (str_arg(args, 0), str_arg(args, 1)) {
            (Some(a), Some(b)) => Value::from(s.replace(&a, &b)),
            _ => Value::Null,
        },
        ("replaceAll" | "replaceFirst", 2) => match (str_arg(args, 0), str_arg(args, 1)) {
            (Some(a), Some(b)) => {
                let re = regex(&a)?;
                let rep = java_replacement(&b);
                Value::from(if name == "replaceAll" {
                    re.replace_all(s, rep.as_str()).into_owned()
                } else {
                    re.replacen(s, 1, rep.as_str()).into_owned()
                })
            }
            _ => Value::Null,
        },
        ("matches", 1) => match str_arg(args, 0) {
            Some(p) => Value::Bool(regex(&format!("^(?:{p})$"))?.is_match(s)),
            None => Value::Null,
        },
        ("split", 1 | 2) => {
            let Some(p) = str_arg(args, 0) else {
                return Ok(Value::Null);
            };
            let limit = int_arg(args, 1).unwrap_or(0);
            let re = regex(&p)?;
            let mut parts: Vec<&str> = if limit > 0 {
                re.splitn(s, usize::try_from(limit).unwrap_or(usize::MAX))
                    .collect()
            } else {
                re.split(s).collect()
            };
            // Java drops a leading empty piece from a zero-width match at 0, and (limit 0)
            // all trailing empty pieces.
            if parts.len() > 1 && parts[0].is_empty() && re.find(s).is_some_and(|m| m.is_empty()) {
                parts.remove(0);
            }
            if limit == 0 {
                while parts.len() > 1 && parts.last().is_some_and(|p| p.is_empty()) {
                    parts.pop();
                }
                if s.is_empty() {
                    parts = vec![""];
                }
            }
            Value::list(parts.into_iter().map(Value::from).collect())
        }
        ("hashCode", 0) => {
            // Java's String.hashCode over UTF-16 units.
            let h = s.encode_utf16().fold(0i32, |h, u| {
                h.wrapping_mul(31).wrapping_add(i32::from(u.cast_signed()))
            });
            Value::Int(i64::from(h))
        }
        _ => Value::Null,
    })
}

fn list_method(v: &Value, name: &str, args: &[Value]) -> Result<Value, Error> {
    let Value::List(l) = v else {
        return Ok(Value::Null);
    };
    let len = l.borrow().len();
    let bad_index = |i: &Value| Error::new(format!("Index: {}, Size: {len}", i.to_java_string()));
    Ok(match (name, args.len()) {
        ("size", 0) => Value::Int(i64::try_from(len).unwrap_or(i64::MAX)),
        ("isEmpty", 0) => Value::Bool(len == 0),
        ("get", 1) => {
            let i = list_index(&args[0], len).ok_or_else(|| bad_index(&args[0]))?;
            l.borrow()[i].clone()
        }
        ("add", 1) => {
            l.borrow_mut().push(args[0].clone());
            Value::Bool(true)
        }
        ("add", 2) => {
            let i = match &args[0] {
                Value::Int(i) => usize::try_from(*i).ok().filter(|&i| i <= len),
                _ => None,
            }
            .ok_or_else(|| bad_index(&args[0]))?;
            l.borrow_mut().insert(i, args[1].clone());
            Value::Null
        }
        ("addAll", 1) => {
            let Value::List(other) = &args[0] else {
                return Ok(Value::Bool(false));
            };
            let items = other.borrow().clone();
            let changed = !items.is_empty();
            l.borrow_mut().extend(items);
            Value::Bool(changed)
        }
        ("set", 2) => {
            let i = list_index(&args[0], len).ok_or_else(|| bad_index(&args[0]))?;
            std::mem::replace(&mut l.borrow_mut()[i], args[1].clone())
        }
        ("remove", 1) => match &args[0] {
            Value::Int(_) => {
                let i = list_index(&args[0], len).ok_or_else(|| bad_index(&args[0]))?;
                l.borrow_mut().remove(i)
            }
            x => {
                let pos = l.borrow().iter().position(|e| e.java_equals(x));
                Value::Bool(pos.is_some_and(|p| {
                    l.borrow_mut().remove(p);
                    true
                }))
            }
        },
        ("contains", 1) => Value::Bool(l.borrow().iter().any(|e| e.java_equals(&args[0]))),
        ("indexOf", 1) => Value::Int(
            l.borrow()
                .iter()
                .position(|e| e.java_equals(&args[0]))
                .and_then(|p| i64::try_from(p).ok())
                .unwrap_or(-1),
        ),
        ("clear", 0) => {
            l.borrow_mut().clear();
            Value::Null
        }
        ("subList", 2) => {
            let (a, b) = (int_arg(args, 0), int_arg(args, 1));
            match (
                a.and_then(|a| usize::try_from(a).ok()),
                b.and_then(|b| usize::try_from(b).ok()),
            ) {
                (Some(a), Some(b)) if a <= b && b <= len => Value::list(l.borrow()[a..b].to_vec()),
                _ => return Err(bad_index(&args[1])),
            }
        }
        ("toString", 0) => Value::from(v.to_java_string()),
        ("equals", 1) => Value::Bool(v.java_equals(&args[0])),
        _ => Value::Null,
    })
}

fn map_method(v: &Value, name: &str, args: &[Value]) -> Result<Value, Error> {
    let Value::Map(m) = v else {
        return Ok(Value::Null);
    };
    let key = |i: usize| args.get(i).map(Value::to_java_string).unwrap_or_default();
    Ok(match (name, args.len()) {
        ("get", 1) => m.borrow().get(&key(0)).cloned().unwrap_or_default(),
        ("getOrDefault", 2) => m
            .borrow()
            .get(&key(0))
            .cloned()
            .unwrap_or_else(|| args[1].clone()),
        ("put", 2) => m
            .borrow_mut()
            .insert(key(0), args[1].clone())
            .unwrap_or_default(),
        ("putAll", 1) => {
            if let Value::Map(other) = &args[0] {
                let entries: Vec<_> = other
                    .borrow()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                m.borrow_mut().extend(entries);
            }
            Value::Null
        }
        ("containsKey", 1) => Value::Bool(m.borrow().contains_key(&key(0))),
        ("containsValue", 1) => Value::Bool(m.borrow().values().any(|x| x.java_equals(&args[0]))),
        ("remove", 1) => m.borrow_mut().shift_remove(&key(0)).unwrap_or_default(),
        ("keySet", 0) => Value::list(m.borrow().keys().map(|k| Value::from(k.as_str())).collect()),
        ("values", 0) => Value::list(m.borrow().values().cloned().collect()),
        ("entrySet", 0) => Value::list(
            m.borrow()
                .iter()
                .map(|(k, v)| {
                    let mut e = IndexMap::new();
                    e.insert("key".to_string(), Value::from(k.as_str()));
                    e.insert("value".to_string(), v.clone());
                    Value::map(e)
                })
                .collect(),
        ),
        ("size", 0) => Value::Int(i64::try_from(m.borrow().len()).unwrap_or(i64::MAX)),
        ("isEmpty", 0) => Value::Bool(m.borrow().is_empty()),
        ("clear", 0) => {
            m.borrow_mut().clear();
            Value::Null
        }
        ("toString", 0) => Value::from(v.to_java_string()),
        ("equals", 1) => Value::Bool(v.java_equals(&args[0])),
        _ => Value::Null,
    })
}
