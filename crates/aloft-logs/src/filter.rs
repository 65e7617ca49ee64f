//! CloudWatch Logs filter patterns: terms, quoted phrases, `?` alternatives, `-` exclusions,
//! JSON patterns (`{ $.level = "ERROR" && $.ms > 100 }`) and space-delimited patterns
//! (`[ip, user, ..., status = 4*, bytes > 1000]`).

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub enum Pattern {
    /// Matches everything (an empty pattern).
    All,
    /// Every `all` term present, no `none` term present, and (if any) one `any` term present.
    Terms {
        all: Vec<String>,
        any: Vec<String>,
        none: Vec<String>,
    },
    Json(JsonExpr),
    /// `[a, b, ..., c = 4*]`: fields of a space-delimited message, each `...` standing for
    /// any number of fields, and a condition per field slot that has one.
    Space {
        fields: Vec<Option<String>>,
        conditions: Vec<JsonExpr>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum JsonExpr {
    Cmp(String, Op, Literal),
    And(Box<JsonExpr>, Box<JsonExpr>),
    Or(Box<JsonExpr>, Box<JsonExpr>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Str(String),
    Num(f64),
    Null,
    Bool(bool),
}

/// Parses a pattern; `Err` carries AWS's message for an invalid one.
pub fn parse(p: &str) -> Result<Pattern, String> {
    let t = p.trim();
    if t.is_empty() || t == "\"\"" {
        return Ok(Pattern::All);
    }
    if t.starts_with('{') {
        let inner = t
            .strip_prefix('{')
            .and_then(|s| s.strip_suffix('}'))
            .ok_or_else(|| "Invalid filter pattern".to_string())?;
        return parse_or(inner.trim()).map(Pattern::Json);
    }
    if t.starts_with('[') {
        let inner = t
            .strip_prefix('[')
            .and_then(|s| s.strip_suffix(']'))
            .ok_or_else(|| "Invalid filter pattern".to_string())?;
        return parse_space(inner);
    }
    let (mut all, mut any, mut none) = (vec![], vec![], vec![]);
    for tok in tokens(t) {
        if let Some(r) = tok.strip_prefix('?') {
            any.push(unquote(r));
        } else if let Some(r) = tok.strip_prefix('-') {
            none.push(unquote(r));
        } else {
            all.push(unquote(&tok));
        }
    }
    Ok(Pattern::Terms { all, any, none })
}

/// The slots of a space-delimited pattern: `name`, `...`, or `name op value [&& ...]`.
fn parse_space(inner: &str) -> Result<Pattern, String> {
    let invalid = || "Invalid filter pattern".to_string();
    let mut fields = Vec::new();
    let mut conditions = Vec::new();
    for slot in split_top(inner, ",") {
        let slot = slot.trim();
        if slot == "..." {
            fields.push(None);
            continue;
        }
        let name_len = slot
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(slot.len());
        let name = &slot[..name_len];
        if name.is_empty() {
            return Err(invalid());
        }
        fields.push(Some(name.to_string()));
        if name_len < slot.len() {
            // Field names become `$.name` selectors so the JSON comparison grammar applies.
            let rewritten = split_top(slot, "||")
                .into_iter()
                .map(|o| {
                    split_top(o, "&&")
                        .into_iter()
                        .map(|a| format!("$.{}", a.trim()))
                        .collect::<Vec<_>>()
                        .join(" && ")
                })
                .collect::<Vec<_>>()
                .join(" || ");
            conditions.push(parse_or(&rewritten)?);
        }
    }
    if fields.is_empty() {
        return Err(invalid());
    }
    Ok(Pattern::Space { fields, conditions })
}

/// A message's space-delimited fields; `"..."` and `[...]` are single fields (unwrapped).
fn message_fields(m: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let b = m.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let close = match b[i] {
            b'"' => Some(b'"'),
            b'[' => Some(b']'),
            _ => None,
        };
        if let Some(c) = close
            && let Some(end) = b[i + 1..].iter().position(|x| *x == c)
        {
            out.push(&m[i + 1..i + 1 + end]);
            i += end + 2;
            continue;
        }
        let end = b[i..]
            .iter()
            .position(u8::is_ascii_whitespace)
            .map_or(b.len(), |e| i + e);
        out.push(&m[i..end]);
        i = end;
    }
    out
}

/// Field names bound to the message's values.
type Bound<'a> = [(String, &'a str)];

/// Binds `fields` to `values` (each `None` taking any number of values), trying every
/// alignment until `accept` holds.
fn bind<'a>(
    fields: &[Option<String>],
    values: &[&'a str],
    bound: &mut Vec<(String, &'a str)>,
    accept: &dyn Fn(&Bound<'a>) -> bool,
) -> bool {
    match fields.split_first() {
        None => values.is_empty() && accept(bound),
        Some((None, rest)) => (0..=values.len()).any(|k| bind(rest, &values[k..], bound, accept)),
        Some((Some(name), rest)) => {
            let Some((v, more)) = values.split_first() else {
                return false;
            };
            bound.push((name.clone(), v));
            let ok = bind(rest, more, bound, accept);
            bound.pop();
            ok
        }
    }
}

/// Evaluates a space-pattern condition: numbers compare numerically, text by wildcard.
fn eval_fields(e: &JsonExpr, bound: &[(String, &str)]) -> bool {
    match e {
        JsonExpr::And(a, b) => eval_fields(a, bound) && eval_fields(b, bound),
        JsonExpr::Or(a, b) => eval_fields(a, bound) || eval_fields(b, bound),
        JsonExpr::Cmp(path, op, lit) => {
            let name = path.trim_start_matches("$.");
            let Some((_, v)) = bound.iter().find(|(n, _)| n == name) else {
                return false;
            };
            match lit {
                Literal::Num(n) => v.parse::<f64>().is_ok_and(|m| match op {
                    Op::Eq => (m - n).abs() < f64::EPSILON,
                    Op::Ne => (m - n).abs() >= f64::EPSILON,
                    Op::Lt => m < *n,
                    Op::Le => m <= *n,
                    Op::Gt => m > *n,
                    Op::Ge => m >= *n,
                }),
                Literal::Str(p) => match op {
                    Op::Eq => glob(p, v),
                    Op::Ne => !glob(p, v),
                    _ => false,
                },
                Literal::Bool(b) => (*op == Op::Eq) == (*v == b.to_string()),
                Literal::Null => *op == Op::Ne,
            }
        }
    }
}

fn unquote(s: &str) -> String {
    s.strip_prefix('"')
        .and_then(|x| x.strip_suffix('"'))
        .unwrap_or(s)
        .to_string()
}

fn tokens(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in s.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            c if c.is_whitespace() && !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn split_top<'a>(s: &'a str, sep: &str) -> Vec<&'a str> {
    let mut parts = Vec::new();
    let (mut depth, mut quoted, mut start) = (0i32, false, 0usize);
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => quoted = !quoted,
            b'(' if !quoted => depth += 1,
            b')' if !quoted => depth -= 1,
            _ if !quoted && depth == 0 && s[i..].starts_with(sep) => {
                parts.push(&s[start..i]);
                i += sep.len();
                start = i;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    parts.push(&s[start..]);
    parts
}

fn parse_or(s: &str) -> Result<JsonExpr, String> {
    let parts = split_top(s, "||");
    let mut it = parts.into_iter();
    let mut e = parse_and(it.next().unwrap_or_default().trim())?;
    for p in it {
        e = JsonExpr::Or(Box::new(e), Box::new(parse_and(p.trim())?));
    }
    Ok(e)
}

fn parse_and(s: &str) -> Result<JsonExpr, String> {
    let parts = split_top(s, "&&");
    let mut it = parts.into_iter();
    let mut e = parse_cmp(it.next().unwrap_or_default().trim())?;
    for p in it {
        e = JsonExpr::And(Box::new(e), Box::new(parse_cmp(p.trim())?));
    }
    Ok(e)
}

fn parse_cmp(s: &str) -> Result<JsonExpr, String> {
    if let Some(inner) = s.strip_prefix('(').and_then(|x| x.strip_suffix(')')) {
        return parse_or(inner.trim());
    }
    let invalid = || "Invalid filter pattern".to_string();
    for (tok, op) in [
        ("!=", Op::Ne),
        ("<=", Op::Le),
        (">=", Op::Ge),
        ("=", Op::Eq),
        ("<", Op::Lt),
        (">", Op::Gt),
    ] {
        if let Some((l, r)) = s.split_once(tok) {
            let path = l.trim();
            if !path.starts_with("$.") && path != "$" {
                return Err(invalid());
            }
            let r = r.trim();
            let lit = if r.starts_with('"') {
                Literal::Str(unquote(r))
            } else if r == "NULL" || r == "null" {
                Literal::Null
            } else if r == "TRUE" || r == "true" {
                Literal::Bool(true)
            } else if r == "FALSE" || r == "false" {
                Literal::Bool(false)
            } else if let Ok(n) = r.parse::<f64>() {
                Literal::Num(n)
            } else {
                Literal::Str(r.to_string())
            };
            return Ok(JsonExpr::Cmp(path.to_string(), op, lit));
        }
    }
    Err(invalid())
}

fn lookup<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = v;
    for seg in path
        .trim_start_matches('$')
        .split('.')
        .filter(|s| !s.is_empty())
    {
        let (name, idx) = match seg.split_once('[') {
            Some((n, rest)) => (n, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (seg, None),
        };
        if !name.is_empty() {
            cur = cur.get(name)?;
        }
        if let Some(i) = idx {
            cur = cur.get(i)?;
        }
    }
    Some(cur)
}

fn glob(pat: &str, s: &str) -> bool {
    match pat.split_once('*') {
        None => pat == s,
        Some((pre, rest)) => {
            if !s.starts_with(pre) {
                return false;
            }
            let tail = &s[pre.len()..];
            (0..=tail.len()).any(|i| tail.is_char_boundary(i) && glob(rest, &tail[i..]))
        }
    }
}

fn eval(e: &JsonExpr, v: &Value) -> bool {
    match e {
        JsonExpr::And(a, b) => eval(a, v) && eval(b, v),
        JsonExpr::Or(a, b) => eval(a, v) || eval(b, v),
        JsonExpr::Cmp(path, op, lit) => {
            let Some(x) = lookup(v, path) else {
                return false;
            };
            match (lit, x) {
                (Literal::Str(p), Value::String(s)) => match op {
                    Op::Eq => glob(p, s),
                    Op::Ne => !glob(p, s),
                    _ => false,
                },
                (Literal::Num(n), Value::Number(m)) => {
                    let m = m.as_f64().unwrap_or(f64::NAN);
                    match op {
                        Op::Eq => (m - n).abs() < f64::EPSILON,
                        Op::Ne => (m - n).abs() >= f64::EPSILON,
                        Op::Lt => m < *n,
                        Op::Le => m <= *n,
                        Op::Gt => m > *n,
                        Op::Ge => m >= *n,
                    }
                }
                (Literal::Null, Value::Null) => *op == Op::Eq,
                (Literal::Null, _) => *op == Op::Ne,
                (Literal::Bool(b), Value::Bool(c)) => (*op == Op::Eq) == (b == c),
                _ => *op == Op::Ne,
            }
        }
    }
}

impl Pattern {
    pub fn matches(&self, message: &str) -> bool {
        match self {
            Self::All => true,
            Self::Terms { all, any, none } => {
                all.iter().all(|t| message.contains(t.as_str()))
                    && (any.is_empty() || any.iter().any(|t| message.contains(t.as_str())))
                    && !none.iter().any(|t| message.contains(t.as_str()))
            }
            Self::Space { fields, conditions } => {
                let values = message_fields(message);
                let accept = |b: &[(String, &str)]| conditions.iter().all(|c| eval_fields(c, b));
                bind(fields, &values, &mut Vec::new(), &accept)
            }
            Self::Json(e) => {
                // JSON patterns look at the JSON part of the message (after any prefix).
                let start = message.find('{');
                start
                    .and_then(|i| serde_json::from_str::<Value>(&message[i..]).ok())
                    .is_some_and(|v| eval(e, &v))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms() {
        let p = parse("ERROR timeout").unwrap();
        assert!(p.matches("ERROR: request timeout"));
        assert!(!p.matches("ERROR: refused"));
        let p = parse("?ERROR ?WARN").unwrap();
        assert!(p.matches("WARN x") && p.matches("ERROR y") && !p.matches("INFO"));
        let p = parse("ERROR -retry").unwrap();
        assert!(p.matches("ERROR now") && !p.matches("ERROR retry"));
        let p = parse("\"Task timed out\"").unwrap();
        assert!(p.matches("x Task timed out after 1.00 seconds"));
        assert!(parse("").unwrap().matches("anything"));
    }

    #[test]
    fn space_delimited() {
        let line = r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 404 1534"#;
        let m = |p: &str| parse(p).unwrap().matches(line);
        assert!(m(
            "[ip, user, username, timestamp, request, status_code, bytes]"
        ));
        assert!(
            !m("[ip, user, username, timestamp, request, status_code]"),
            "field count must match"
        );
        assert!(m(
            "[ip, user, username, timestamp, request = \"*gif*\", status_code = 4*, bytes]"
        ));
        assert!(!m(
            "[ip, user, username, timestamp, request = *html*, status_code, bytes]"
        ));
        assert!(m("[..., status_code = 404, bytes > 1000]"));
        assert!(!m("[..., status_code = 404, bytes > 2000]"));
        assert!(m("[ip = 127.0.0.*, ...]"));
        assert!(m("[..., status_code = 5* || status_code = 4*, bytes]"));
        assert!(m(
            "[ip, ..., status_code >= 400 && status_code < 500, bytes]"
        ));
        assert!(!m("[ip, user != -, ...]"));
        assert_eq!(message_fields(line)[3], "10/Oct/2000:13:25:15 -0700");
        assert!(parse("[, x]").is_err());
    }

    #[test]
    fn json() {
        let p = parse("{ $.level = \"ERROR\" && $.ms > 100 }").unwrap();
        assert!(p.matches("{\"level\":\"ERROR\",\"ms\":150}"));
        assert!(!p.matches("{\"level\":\"ERROR\",\"ms\":50}"));
        assert!(!p.matches("not json"));
        let p = parse("{ $.user.name = \"a*\" || $.code != 200 }").unwrap();
        assert!(p.matches("{\"user\":{\"name\":\"alice\"},\"code\":200}"));
        assert!(p.matches("{\"user\":{\"name\":\"bob\"},\"code\":500}"));
        assert!(!p.matches("{\"user\":{\"name\":\"bob\"},\"code\":200}"));
        assert!(parse("{ level = 1 }").is_err());
    }
}
