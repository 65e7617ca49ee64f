//! The event-pattern language of EventBridge rules and SNS filter policies.
//!
//! A pattern is a JSON object mirroring the event: nested objects descend into the event, and
//! leaves are arrays of matchers, any of which may match the event's value (or any element of
//! an event array). Matchers: literals (strings, numbers compared numerically, booleans,
//! `null`), `prefix`, `suffix`, `equals-ignore-case`, `wildcard`, `anything-but` (a value, a
//! list, or a `prefix`/`suffix`/`equals-ignore-case`/`wildcard`), `numeric` ranges, `exists`,
//! `cidr`; and `$or` at any level. A field absent from the event matches only
//! `{"exists": false}`.

use std::net::IpAddr;

use serde_json::{Map, Value};

/// Why a pattern is not valid, phrased as EventBridge's `InvalidEventPatternException`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError(pub String);

impl std::fmt::Display for PatternError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which dialect: SNS filter policies lack `wildcard`, `cidr` and `equals-ignore-case` under
/// `anything-but`... but accept the rest; validation only differs in the operator set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    EventBridge,
    Sns,
}

/// Parses and validates a pattern given as JSON text.
pub fn parse(text: &str, dialect: Dialect) -> Result<Value, PatternError> {
    let v: Value = serde_json::from_str(text)
        .map_err(|e| PatternError(format!("Filter is not valid JSON: {e}")))?;
    validate(&v, dialect)?;
    Ok(v)
}

/// Validates a pattern value.
pub fn validate(p: &Value, dialect: Dialect) -> Result<(), PatternError> {
    let Value::Object(m) = p else {
        return Err(PatternError("Filter is not an object".into()));
    };
    validate_object(m, dialect)
}

fn validate_object(m: &Map<String, Value>, dialect: Dialect) -> Result<(), PatternError> {
    for (k, v) in m {
        if k == "$or" {
            let Value::Array(alts) = v else {
                return Err(PatternError("$or must be an array of objects".into()));
            };
            if alts.len() < 2 {
                return Err(PatternError(
                    "$or must contain at least two patterns".into(),
                ));
            }
            for a in alts {
                validate(a, dialect)?;
            }
            continue;
        }
        match v {
            Value::Object(inner) => validate_object(inner, dialect)?,
            Value::Array(ms) => {
                for matcher in ms {
                    validate_matcher(k, matcher, dialect)?;
                }
            }
            _ => {
                return Err(PatternError(format!(
                    "Match value must be String, number, true, false, or null; \"{k}\" must be an array or an object"
                )));
            }
        }
    }
    Ok(())
}

fn validate_matcher(key: &str, m: &Value, dialect: Dialect) -> Result<(), PatternError> {
    let Value::Object(o) = m else {
        return match m {
            Value::Array(_) => Err(PatternError(format!(
                "Match value must be String, number, true, false, or null (at \"{key}\")"
            ))),
            _ => Ok(()),
        };
    };
    if o.len() != 1 {
        return Err(PatternError(format!(
            "Only one operator is allowed per match object (at \"{key}\")"
        )));
    }
    let (op, arg) = o.iter().next().expect("one entry");
    let bad = |why: &str| Err(PatternError(format!("{why} (at \"{key}\")")));
    match op.as_str() {
        "prefix" | "suffix" => match arg {
            Value::String(_) => Ok(()),
            Value::Object(x)
                if x.len() == 1 && x.get("equals-ignore-case").is_some_and(Value::is_string) =>
            {
                Ok(())
            }
            _ => bad(&format!("{op} match pattern must be a string")),
        },
        "equals-ignore-case" if arg.is_string() => Ok(()),
        "wildcard" if dialect == Dialect::EventBridge && arg.is_string() => {
            if arg.as_str().is_some_and(|s| s.contains("**")) {
                bad("Consecutive wildcard characters are not allowed")
            } else {
                Ok(())
            }
        }
        "exists" if arg.is_boolean() => Ok(()),
        "cidr" if arg.as_str().is_some_and(|s| parse_cidr(s).is_some()) => Ok(()),
        "numeric" => validate_numeric(arg).or_else(|e| bad(&e)),
        "anything-but" => match arg {
            Value::String(_) | Value::Number(_) => Ok(()),
            Value::Array(xs) if xs.iter().all(|x| x.is_string() || x.is_number()) => Ok(()),
            Value::Object(x) if x.len() == 1 => {
                let (iop, iarg) = x.iter().next().expect("one entry");
                let ok = match iop.as_str() {
                    "prefix" | "suffix" | "wildcard" => iarg.is_string(),
                    "equals-ignore-case" => {
                        iarg.is_string()
                            || iarg
                                .as_array()
                                .is_some_and(|a| a.iter().all(Value::is_string))
                    }
                    _ => false,
                };
                if ok {
                    Ok(())
                } else {
                    bad("Unsupported anything-but pattern")
                }
            }
            _ => bad("Value of anything-but must be an array or single string/number value"),
        },
        other => bad(&format!("Unrecognized match type {other}")),
    }
}

fn validate_numeric(arg: &Value) -> Result<(), String> {
    let Value::Array(xs) = arg else {
        return Err("Value of numeric must be an array.".into());
    };
    if xs.is_empty() || xs.len() % 2 != 0 || xs.len() > 4 {
        return Err("Bad numeric range operator".into());
    }
    for pair in xs.chunks(2) {
        let op = pair[0].as_str().unwrap_or("");
        if !matches!(op, "<" | "<=" | "=" | ">" | ">=") {
            return Err(format!("Unrecognized numeric range operator: {}", pair[0]));
        }
        if !pair[1].is_number() {
            return Err("Value of numeric operator must be a number".into());
        }
    }
    Ok(())
}

/// Whether `event` matches `pattern` (both JSON objects).
pub fn matches(pattern: &Value, event: &Value) -> bool {
    match (pattern, event) {
        (Value::Object(p), Value::Object(e)) => match_object(p, Some(e)),
        (Value::Object(p), _) => match_object(p, None),
        _ => false,
    }
}

fn match_object(p: &Map<String, Value>, e: Option<&Map<String, Value>>) -> bool {
    p.iter().all(|(k, v)| {
        if k == "$or" {
            return v.as_array().is_some_and(|alts| {
                alts.iter()
                    .any(|a| a.as_object().is_some_and(|a| match_object(a, e)))
            });
        }
        let field = e.and_then(|e| e.get(k));
        match v {
            Value::Object(inner) => match field {
                Some(Value::Object(fe)) => match_object(inner, Some(fe)),
                // An absent branch still lets `exists: false` leaves below it match.
                None => match_object(inner, None),
                Some(Value::Array(items)) => items.iter().any(|i| {
                    i.as_object()
                        .is_some_and(|fe| match_object(inner, Some(fe)))
                }),
                Some(_) => false,
            },
            Value::Array(ms) => match_leaf(ms, field),
            _ => false,
        }
    })
}

fn match_leaf(matchers: &[Value], field: Option<&Value>) -> bool {
    matchers.iter().any(|m| match field {
        None => m.get("exists") == Some(&Value::Bool(false)),
        Some(Value::Array(items)) => {
            if m.get("exists").is_some() {
                return m.get("exists") == Some(&Value::Bool(!items.is_empty()));
            }
            if let Some(ab) = m.get("anything-but") {
                // Every element must avoid the excluded values.
                return !items.is_empty() && items.iter().all(|i| anything_but(ab, i));
            }
            items.iter().any(|i| match_one(m, i))
        }
        Some(Value::Object(_)) => false,
        Some(v) => match_one(m, v),
    })
}

fn match_one(m: &Value, v: &Value) -> bool {
    match m {
        Value::Object(o) => {
            let Some((op, arg)) = o.iter().next() else {
                return false;
            };
            match op.as_str() {
                "exists" => arg == &Value::Bool(true),
                "prefix" => str_op(arg, v, |s, p| s.starts_with(p)),
                "suffix" => str_op(arg, v, |s, p| s.ends_with(p)),
                "equals-ignore-case" => match (arg.as_str(), v.as_str()) {
                    (Some(a), Some(s)) => a.to_lowercase() == s.to_lowercase(),
                    _ => false,
                },
                "wildcard" => match (arg.as_str(), v.as_str()) {
                    (Some(p), Some(s)) => wildcard(p, s),
                    _ => false,
                },
                "anything-but" => anything_but(arg, v),
                "numeric" => v.as_f64().is_some_and(|n| numeric(arg, n)),
                "cidr" => match (arg.as_str().and_then(parse_cidr), v.as_str()) {
                    (Some(net), Some(ip)) => ip.parse::<IpAddr>().is_ok_and(|ip| in_cidr(&net, ip)),
                    _ => false,
                },
                _ => false,
            }
        }
        literal => equal(literal, v),
    }
}

fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// `prefix`/`suffix` with a plain string or `{"equals-ignore-case": s}`.
fn str_op(arg: &Value, v: &Value, f: impl Fn(&str, &str) -> bool) -> bool {
    let Some(s) = v.as_str() else { return false };
    match arg {
        Value::String(p) => f(s, p),
        Value::Object(o) => o
            .get("equals-ignore-case")
            .and_then(Value::as_str)
            .is_some_and(|p| f(&s.to_lowercase(), &p.to_lowercase())),
        _ => false,
    }
}

fn anything_but(arg: &Value, v: &Value) -> bool {
    match arg {
        Value::Array(xs) => !xs.iter().any(|x| equal(x, v)),
        Value::Object(o) => {
            let Some((op, a)) = o.iter().next() else {
                return true;
            };
            let Some(s) = v.as_str() else {
                return true;
            };
            match op.as_str() {
                "prefix" => !a.as_str().is_some_and(|p| s.starts_with(p)),
                "suffix" => !a.as_str().is_some_and(|p| s.ends_with(p)),
                "wildcard" => !a.as_str().is_some_and(|p| wildcard(p, s)),
                "equals-ignore-case" => match a {
                    Value::String(x) => x.to_lowercase() != s.to_lowercase(),
                    Value::Array(xs) => !xs
                        .iter()
                        .filter_map(Value::as_str)
                        .any(|x| x.to_lowercase() == s.to_lowercase()),
                    _ => true,
                },
                _ => true,
            }
        }
        single => !equal(single, v),
    }
}

fn numeric(arg: &Value, n: f64) -> bool {
    let Some(xs) = arg.as_array() else {
        return false;
    };
    xs.chunks(2).all(|pair| {
        let Some(b) = pair.get(1).and_then(Value::as_f64) else {
            return false;
        };
        match pair[0].as_str() {
            Some("<") => n < b,
            Some("<=") => n <= b,
            Some("=") => n == b,
            Some(">") => n > b,
            Some(">=") => n >= b,
            _ => false,
        }
    })
}

/// `*` matches any run of characters (EventBridge's wildcard; `\*` is a literal star).
fn wildcard(pattern: &str, s: &str) -> bool {
    let mut parts: Vec<String> = vec![String::new()];
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek().is_some_and(|n| *n == '*' || *n == '\\') => {
                parts
                    .last_mut()
                    .expect("non-empty")
                    .push(chars.next().expect("peeked"));
            }
            '*' => parts.push(String::new()),
            c => parts.last_mut().expect("non-empty").push(c),
        }
    }
    if parts.len() == 1 {
        return parts[0] == s;
    }
    let (first, last) = (&parts[0], &parts[parts.len() - 1]);
    if !s.starts_with(first.as_str())
        || s.len() < first.len() + last.len()
        || !s.ends_with(last.as_str())
    {
        return false;
    }
    let mut rest = &s[first.len()..s.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid.as_str()) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

fn parse_cidr(s: &str) -> Option<(IpAddr, u8)> {
    let (ip, bits) = s.split_once('/')?;
    let ip: IpAddr = ip.parse().ok()?;
    let bits: u8 = bits.parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    (bits <= max).then_some((ip, bits))
}

fn in_cidr(net: &(IpAddr, u8), ip: IpAddr) -> bool {
    match (net.0, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) => {
            let mask = if net.1 == 0 {
                0
            } else {
                u32::MAX << (32 - net.1)
            };
            u32::from(n) & mask == u32::from(i) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(i)) => {
            let mask = if net.1 == 0 {
                0
            } else {
                u128::MAX << (128 - net.1)
            };
            u128::from(n) & mask == u128::from(i) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn m(p: Value, e: Value) -> bool {
        validate(&p, Dialect::EventBridge).unwrap();
        matches(&p, &e)
    }

    #[test]
    fn literals_and_nesting() {
        let p =
            json!({"source": ["aws.s3"], "detail": {"state": ["running", "pending"], "n": [5]}});
        assert!(m(
            p.clone(),
            json!({"source": "aws.s3", "detail": {"state": "running", "n": 5.0}})
        ));
        assert!(!m(
            p.clone(),
            json!({"source": "aws.s3", "detail": {"state": "stopped", "n": 5}})
        ));
        assert!(!m(p, json!({"source": "aws.s3"})));
        // Event arrays match if any element matches.
        assert!(m(json!({"tags": ["a"]}), json!({"tags": ["b", "a"]})));
        assert!(m(json!({"v": [null]}), json!({"v": null})));
    }

    #[test]
    fn string_operators() {
        assert!(m(json!({"k": [{"prefix": "ab"}]}), json!({"k": "abc"})));
        assert!(m(json!({"k": [{"suffix": ".png"}]}), json!({"k": "a.png"})));
        assert!(m(
            json!({"k": [{"prefix": {"equals-ignore-case": "AB"}}]}),
            json!({"k": "abc"})
        ));
        assert!(m(
            json!({"k": [{"equals-ignore-case": "HeLLo"}]}),
            json!({"k": "hello"})
        ));
        assert!(m(
            json!({"k": [{"wildcard": "a*c*e"}]}),
            json!({"k": "abcde"})
        ));
        assert!(!m(
            json!({"k": [{"wildcard": "a*c*e"}]}),
            json!({"k": "abcdf"})
        ));
        assert!(m(json!({"k": [{"wildcard": "a\\*"}]}), json!({"k": "a*"})));
    }

    #[test]
    fn anything_but_variants() {
        assert!(m(json!({"k": [{"anything-but": "x"}]}), json!({"k": "y"})));
        assert!(!m(
            json!({"k": [{"anything-but": ["x", "y"]}]}),
            json!({"k": "y"})
        ));
        assert!(!m(json!({"k": [{"anything-but": "x"}]}), json!({})));
        assert!(m(
            json!({"k": [{"anything-but": {"prefix": "in"}}]}),
            json!({"k": "out"})
        ));
        assert!(!m(
            json!({"k": [{"anything-but": {"suffix": "x"}}]}),
            json!({"k": "ax"})
        ));
        assert!(!m(
            json!({"k": [{"anything-but": {"equals-ignore-case": ["A"]}}]}),
            json!({"k": "a"})
        ));
        assert!(m(json!({"k": [{"anything-but": 5}]}), json!({"k": 6})));
    }

    #[test]
    fn numeric_exists_cidr_or() {
        let p = json!({"n": [{"numeric": [">", 0, "<=", 5]}]});
        assert!(m(p.clone(), json!({"n": 5})));
        assert!(!m(p.clone(), json!({"n": 0})));
        assert!(!m(p, json!({"n": "3"})));
        assert!(m(json!({"a": [{"exists": false}]}), json!({"b": 1})));
        assert!(!m(json!({"a": [{"exists": true}]}), json!({"b": 1})));
        assert!(m(json!({"a": [{"exists": true}]}), json!({"a": "x"})));
        assert!(m(json!({"d": {"x": [{"exists": false}]}}), json!({})));
        assert!(m(
            json!({"ip": [{"cidr": "10.0.0.0/24"}]}),
            json!({"ip": "10.0.0.7"})
        ));
        assert!(!m(
            json!({"ip": [{"cidr": "10.0.0.0/24"}]}),
            json!({"ip": "10.0.1.7"})
        ));
        let or = json!({"src": ["a"], "$or": [{"x": [1]}, {"y": [2]}]});
        assert!(m(or.clone(), json!({"src": "a", "y": 2})));
        assert!(!m(or, json!({"src": "a", "y": 3})));
    }

    #[test]
    fn invalid_patterns() {
        for bad in [
            json!([1]),
            json!({"a": "x"}),
            json!({"a": [{"bogus": 1}]}),
            json!({"a": [{"numeric": [">", "x"]}]}),
            json!({"a": [{"prefix": 1}]}),
            json!({"$or": [{"a": [1]}]}),
        ] {
            assert!(validate(&bad, Dialect::EventBridge).is_err(), "{bad}");
        }
        assert!(validate(&json!({"a": [{"wildcard": "x*"}]}), Dialect::Sns).is_err());
    }
}
