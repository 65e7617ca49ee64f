//! Template values: Java's view of them (toString, equals, truthiness), shared and mutable.
//!
//! Lists and maps are shared by reference as in Java: `#set($b = $a)` then `$b.add(1)` changes
//! `$a` too, which templates rely on when they build maps with `$m.put(...)`.

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

use indexmap::IndexMap;

pub type List = Rc<RefCell<Vec<Value>>>;
pub type Map = Rc<RefCell<IndexMap<String, Value>>>;

/// An object the host provides (`$input`, `$util`): properties and methods by name.
pub trait Host {
    /// `$obj.name`; `None` when there is no such property.
    fn property(&self, name: &str) -> Option<Value> {
        let _ = name;
        None
    }
    /// `$obj.name(args)`. `Err` carries the message of a failed call or an unknown method.
    fn call(&self, name: &str, args: &[Value]) -> Result<Value, String>;
    /// What `$obj` renders as (Java's `toString`).
    fn display(&self) -> String {
        String::new()
    }
}

#[derive(Clone, Default)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Rc<str>),
    List(List),
    Map(Map),
    Host(Rc<dyn Host>),
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Str(s) => write!(f, "{s:?}"),
            Value::Host(_) => f.write_str("<host>"),
            other => f.write_str(&other.to_java_string()),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Str(s.into())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Str(s.into())
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

impl Value {
    pub fn list(items: Vec<Value>) -> Self {
        Value::List(Rc::new(RefCell::new(items)))
    }

    pub fn map(entries: IndexMap<String, Value>) -> Self {
        Value::Map(Rc::new(RefCell::new(entries)))
    }

    pub fn host(h: impl Host + 'static) -> Self {
        Value::Host(Rc::new(h))
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Velocity 1.7 truthiness: only `null` and `false` are false (empty strings are true).
    pub fn truthy(&self) -> bool {
        !matches!(self, Value::Null | Value::Bool(false))
    }

    /// Java's `toString()` of the value: maps as `{k=v}`, lists as `[a, b]`, doubles as `1.0`.
    pub fn to_java_string(&self) -> String {
        let mut out = String::new();
        self.write_java(&mut out, 0);
        out
    }

    fn write_java(&self, out: &mut String, depth: usize) {
        // Self-containing collections print "(this Collection)" in Java; a depth cap is enough.
        if depth > 64 {
            out.push_str("...");
            return;
        }
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) => out.push_str(&i.to_string()),
            Value::Float(f) => out.push_str(&java_double(*f)),
            Value::Str(s) => out.push_str(s),
            Value::List(l) => {
                out.push('[');
                for (i, v) in l.borrow().iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    v.write_java(out, depth + 1);
                }
                out.push(']');
            }
            Value::Map(m) => {
                out.push('{');
                for (i, (k, v)) in m.borrow().iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(k);
                    out.push('=');
                    v.write_java(out, depth + 1);
                }
                out.push('}');
            }
            Value::Host(h) => out.push_str(&h.display()),
        }
    }

    /// A JSON document as Java objects (what Jackson gives API Gateway's `$input.path`).
    pub fn from_json(v: &serde_json::Value) -> Self {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => n
                .as_i64()
                .map(Value::Int)
                .unwrap_or_else(|| Value::Float(n.as_f64().unwrap_or(0.0))),
            serde_json::Value::String(s) => Value::Str(s.as_str().into()),
            serde_json::Value::Array(a) => Value::list(a.iter().map(Value::from_json).collect()),
            serde_json::Value::Object(o) => Value::map(
                o.iter()
                    .map(|(k, v)| (k.clone(), Value::from_json(v)))
                    .collect(),
            ),
        }
    }

    /// The value as JSON (host objects become their display string).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => (*b).into(),
            Value::Int(i) => (*i).into(),
            Value::Float(f) => serde_json::Number::from_f64(*f)
                .map_or(serde_json::Value::Null, serde_json::Value::Number),
            Value::Str(s) => serde_json::Value::String(s.to_string()),
            Value::List(l) => l.borrow().iter().map(Value::to_json).collect(),
            Value::Map(m) => serde_json::Value::Object(
                m.borrow()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect(),
            ),
            Value::Host(h) => serde_json::Value::String(h.display()),
        }
    }

    pub(crate) fn as_f64(&self) -> Option<f64> {
        match self {
            #[allow(clippy::cast_precision_loss)]
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    pub(crate) fn is_number(&self) -> bool {
        matches!(self, Value::Int(_) | Value::Float(_))
    }

    /// Java `equals` as Velocity 1.7's `==` applies it: numbers by value, same kinds by
    /// `equals`, different kinds by their `toString`.
    pub fn velocity_eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::Null, _) | (_, Value::Null) => false,
            (Value::Int(a), Value::Int(b)) => a == b,
            (a, b) if a.is_number() && b.is_number() => a.as_f64() == b.as_f64(),
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Str(a), Value::Str(b)) => a == b,
            (Value::List(a), Value::List(b)) => {
                Rc::ptr_eq(a, b) || {
                    let (a, b) = (a.borrow(), b.borrow());
                    a.len() == b.len() && a.iter().zip(b.iter()).all(|(x, y)| x.java_equals(y))
                }
            }
            (Value::Map(a), Value::Map(b)) => {
                Rc::ptr_eq(a, b) || {
                    let (a, b) = (a.borrow(), b.borrow());
                    a.len() == b.len()
                        && a.iter()
                            .all(|(k, v)| b.get(k).is_some_and(|w| v.java_equals(w)))
                }
            }
            (a, b) => a.to_java_string() == b.to_java_string(),
        }
    }

    /// Strict Java `equals` (used by `contains`, `indexOf`, `equals()`): kinds must match.
    pub fn java_equals(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Float(a), Value::Float(b)) => a == b,
            (Value::Int(_), Value::Float(_)) | (Value::Float(_), Value::Int(_)) => false,
            (Value::Str(_), Value::Str(_))
            | (Value::Bool(_), Value::Bool(_))
            | (Value::List(_), Value::List(_))
            | (Value::Map(_), Value::Map(_))
            | (Value::Null, Value::Null) => self.velocity_eq(other),
            _ => false,
        }
    }
}

/// Java's `Double.toString`: decimal between 10^-3 and 10^7, else `d.dddE±n`; always a `.`.
pub fn java_double(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0" } else { "0.0" }.into();
    }
    let abs = f.abs();
    if (1e-3..1e7).contains(&abs) {
        let s = format!("{f}");
        if s.contains('.') { s } else { format!("{s}.0") }
    } else {
        let s = format!("{f:e}");
        let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let mantissa = if mantissa.contains('.') {
            mantissa.to_string()
        } else {
            format!("{mantissa}.0")
        };
        format!("{mantissa}E{exp}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_doubles() {
        assert_eq!(java_double(1.0), "1.0");
        assert_eq!(java_double(1.5), "1.5");
        assert_eq!(java_double(0.001), "0.001");
        assert_eq!(java_double(0.0001), "1.0E-4");
        assert_eq!(java_double(12_345_678.0), "1.2345678E7");
        assert_eq!(java_double(-2.5e-7), "-2.5E-7");
        assert_eq!(java_double(f64::NAN), "NaN");
    }

    #[test]
    fn java_to_string_of_collections() {
        let v = Value::from_json(&serde_json::json!({"a": [1, 2.5, "x"], "b": null, "c": true}));
        assert_eq!(v.to_java_string(), "{a=[1, 2.5, x], b=null, c=true}");
    }

    #[test]
    fn equality_follows_velocity() {
        assert!(Value::Int(1).velocity_eq(&Value::Float(1.0)));
        assert!(Value::from("1").velocity_eq(&Value::Int(1)));
        assert!(!Value::from("1").java_equals(&Value::Int(1)));
        assert!(!Value::Null.velocity_eq(&Value::from("")));
        assert!(Value::from("").truthy());
        assert!(!Value::Null.truthy());
    }
}
