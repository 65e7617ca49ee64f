//! Rendering: directives, references, operators, with Velocity 1.7's semantics.
//!
//! Quirks kept on purpose: `#set` with a null right side leaves the target unchanged; `#if`
//! treats everything but null and false as true; `#foreach` over a map walks its values;
//! int division truncates and division by zero yields null.

use std::collections::HashMap;

use indexmap::IndexMap;

use crate::ast::{Accessor, BinOp, Expr, Node, Reference};
use crate::methods;
use crate::value::Value;
use crate::{Context, Error};

/// Output bigger than API Gateway's 10 MB payload limit is refused.
const MAX_OUTPUT: usize = 10 * 1024 * 1024;
/// Iterations over all loops of one rendering, and the size of one range literal.
const MAX_ITERATIONS: usize = 1_000_000;
const MAX_RANGE: i64 = 100_000;
const MAX_CALL_DEPTH: usize = 64;

pub(crate) enum Flow {
    Normal,
    Break,
    Stop,
}

pub(crate) struct Eval<'t> {
    pub(crate) vars: HashMap<String, Value>,
    macros: HashMap<String, (&'t [String], &'t [Node])>,
    null_as_empty: bool,
    iterations: usize,
    depth: usize,
}

fn collect_macros<'t>(nodes: &'t [Node], into: &mut HashMap<String, (&'t [String], &'t [Node])>) {
    for n in nodes {
        match n {
            Node::Macro(name, params, body) => {
                into.insert(name.clone(), (params, body));
            }
            Node::If(branches, other) => {
                for (_, b) in branches {
                    collect_macros(b, into);
                }
                if let Some(b) = other {
                    collect_macros(b, into);
                }
            }
            Node::Foreach(_, _, b) => collect_macros(b, into),
            _ => {}
        }
    }
}

impl<'t> Eval<'t> {
    pub(crate) fn new(nodes: &'t [Node], ctx: &Context) -> Self {
        let mut macros = HashMap::new();
        collect_macros(nodes, &mut macros);
        Eval {
            vars: ctx.vars.clone(),
            macros,
            null_as_empty: ctx.null_as_empty,
            iterations: 0,
            depth: 0,
        }
    }

    pub(crate) fn nodes(&mut self, nodes: &[Node], out: &mut String) -> Result<Flow, Error> {
        for n in nodes {
            match self.node(n, out)? {
                Flow::Normal => {}
                flow => return Ok(flow),
            }
            if out.len() > MAX_OUTPUT {
                return Err(Error::new("template output is larger than 10 MB"));
            }
        }
        Ok(Flow::Normal)
    }

    fn node(&mut self, node: &Node, out: &mut String) -> Result<Flow, Error> {
        match node {
            Node::Text(t) => out.push_str(t),
            Node::Ref(r) => {
                let v = self.reference(r)?;
                if v.is_null() {
                    if !r.quiet && !self.null_as_empty {
                        out.push_str(&r.raw);
                    }
                } else {
                    out.push_str(&v.to_java_string());
                }
            }
            Node::Set(target, value) => {
                let v = self.expr(value)?;
                self.set(target, v)?;
            }
            Node::If(branches, otherwise) => {
                for (cond, body) in branches {
                    if self.expr(cond)?.truthy() {
                        return self.nodes(body, out);
                    }
                }
                if let Some(body) = otherwise {
                    return self.nodes(body, out);
                }
            }
            Node::Foreach(var, list, body) => return self.foreach(var, list, body, out),
            Node::Macro(..) => {}
            Node::MacroCall(name, args) => return self.call_macro(name, args, out),
            Node::Break => return Ok(Flow::Break),
            Node::Stop => return Ok(Flow::Stop),
        }
        Ok(Flow::Normal)
    }

    fn foreach(
        &mut self,
        var: &str,
        list: &Expr,
        body: &[Node],
        out: &mut String,
    ) -> Result<Flow, Error> {
        let items: Vec<Value> = match self.expr(list)? {
            Value::List(l) => l.borrow().clone(),
            Value::Map(m) => m.borrow().values().cloned().collect(),
            _ => Vec::new(),
        };
        let saved_var = self.vars.get(var).cloned();
        let saved_foreach = self.vars.get("foreach").cloned();
        let saved_count = self.vars.get("velocityCount").cloned();
        let n = items.len();
        let mut flow = Flow::Normal;
        for (i, item) in items.into_iter().enumerate() {
            self.iterations += 1;
            if self.iterations > MAX_ITERATIONS {
                return Err(Error::new("too many #foreach iterations"));
            }
            let mut state = IndexMap::new();
            let index = i64::try_from(i).unwrap_or(i64::MAX);
            state.insert("index".to_string(), Value::Int(index));
            state.insert("count".to_string(), Value::Int(index + 1));
            state.insert("hasNext".to_string(), Value::Bool(i + 1 < n));
            state.insert("first".to_string(), Value::Bool(i == 0));
            state.insert("last".to_string(), Value::Bool(i + 1 == n));
            if let Some(parent) = &saved_foreach {
                state.insert("parent".to_string(), parent.clone());
            }
            self.vars.insert("foreach".into(), Value::map(state));
            self.vars
                .insert("velocityCount".into(), Value::Int(index + 1));
            self.vars.insert(var.to_string(), item);
            match self.nodes(body, out)? {
                Flow::Normal => {}
                Flow::Break => break,
                Flow::Stop => {
                    flow = Flow::Stop;
                    break;
                }
            }
        }
        for (name, saved) in [
            (var, saved_var),
            ("foreach", saved_foreach),
            ("velocityCount", saved_count),
        ] {
            match saved {
                Some(v) => self.vars.insert(name.to_string(), v),
                None => self.vars.remove(name),
            };
        }
        Ok(flow)
    }

    fn call_macro(&mut self, name: &str, args: &[Expr], out: &mut String) -> Result<Flow, Error> {
        let Some(&(params, body)) = self.macros.get(name) else {
            return Ok(Flow::Normal);
        };
        self.depth += 1;
        if self.depth > MAX_CALL_DEPTH {
            return Err(Error::new("macro calls nested too deeply"));
        }
        let mut saved = Vec::new();
        for (i, p) in params.iter().enumerate() {
            let v = match args.get(i) {
                Some(a) => self.expr(a)?,
                None => Value::Null,
            };
            saved.push((p.clone(), self.vars.insert(p.clone(), v)));
        }
        let flow = self.nodes(body, out);
        for (p, v) in saved {
            match v {
                Some(v) => self.vars.insert(p, v),
                None => self.vars.remove(&p),
            };
        }
        self.depth -= 1;
        match flow? {
            Flow::Stop => Ok(Flow::Stop),
            _ => Ok(Flow::Normal),
        }
    }

    fn set(&mut self, target: &Reference, value: Value) -> Result<(), Error> {
        // Velocity 1.7: a null right side leaves the left side as it was.
        if value.is_null() {
            return Ok(());
        }
        let Some((last, init)) = target.path.split_last() else {
            self.vars.insert(target.name.clone(), value);
            return Ok(());
        };
        let base = self.walk(&target.name, init)?;
        match (base, last) {
            (Value::Map(m), Accessor::Property(k)) => {
                m.borrow_mut().insert(k.clone(), value);
            }
            (Value::Map(m), Accessor::Index(k)) => {
                let k = self.expr(k)?.to_java_string();
                m.borrow_mut().insert(k, value);
            }
            (Value::List(l), Accessor::Index(i)) => {
                let i = self.expr(i)?;
                let mut l = l.borrow_mut();
                match methods::list_index(&i, l.len()) {
                    Some(i) => l[i] = value,
                    None => return Err(Error::new("list index out of range in #set")),
                }
            }
            _ => {}
        }
        Ok(())
    }

    pub(crate) fn reference(&mut self, r: &Reference) -> Result<Value, Error> {
        self.walk(&r.name, &r.path)
    }

    fn walk(&mut self, name: &str, path: &[Accessor]) -> Result<Value, Error> {
        let mut v = self.vars.get(name).cloned().unwrap_or_default();
        for acc in path {
            if v.is_null() {
                return Ok(Value::Null);
            }
            v = match acc {
                Accessor::Property(p) => methods::property(&v, p)?,
                Accessor::Method(m, args) => {
                    let args = args
                        .iter()
                        .map(|a| self.expr(a))
                        .collect::<Result<Vec<_>, _>>()?;
                    methods::call(&v, m, &args)?
                }
                Accessor::Index(i) => {
                    let i = self.expr(i)?;
                    methods::index(&v, &i)?
                }
            };
        }
        Ok(v)
    }

    pub(crate) fn expr(&mut self, e: &Expr) -> Result<Value, Error> {
        Ok(match e {
            Expr::Null => Value::Null,
            Expr::Bool(b) => Value::Bool(*b),
            Expr::Int(i) => Value::Int(*i),
            Expr::Float(f) => Value::Float(*f),
            Expr::Str(s) => Value::Str(s.as_str().into()),
            Expr::Interpolated(nodes) => {
                let mut s = String::new();
                self.depth += 1;
                if self.depth > MAX_CALL_DEPTH {
                    return Err(Error::new("strings nested too deeply"));
                }
                let flow = self.nodes(nodes, &mut s);
                self.depth -= 1;
                flow?;
                Value::Str(s.into())
            }
            Expr::Ref(r) => self.reference(r)?,
            Expr::List(items) => Value::list(
                items
                    .iter()
                    .map(|i| self.expr(i))
                    .collect::<Result<_, _>>()?,
            ),
            Expr::Range(a, b) => {
                let (a, b) = (self.expr(a)?, self.expr(b)?);
                let (Some(a), Some(b)) = (range_bound(&a), range_bound(&b)) else {
                    return Ok(Value::Null);
                };
                if (a - b).abs() >= MAX_RANGE {
                    return Err(Error::new("range too large"));
                }
                let items: Vec<Value> = if a <= b {
                    (a..=b).map(Value::Int).collect()
                } else {
                    (b..=a).rev().map(Value::Int).collect()
                };
                Value::list(items)
            }
            Expr::Map(entries) => {
                let mut m = IndexMap::new();
                for (k, v) in entries {
                    let k = self.expr(k)?.to_java_string();
                    let v = self.expr(v)?;
                    m.insert(k, v);
                }
                Value::map(m)
            }
            Expr::Not(e) => Value::Bool(!self.expr(e)?.truthy()),
            Expr::Neg(e) => match self.expr(e)? {
                Value::Int(i) => i.checked_neg().map_or(Value::Null, Value::Int),
                Value::Float(f) => Value::Float(-f),
                _ => Value::Null,
            },
            Expr::Binary(op, a, b) => self.binary(*op, a, b)?,
        })
    }

    fn binary(&mut self, op: BinOp, a: &Expr, b: &Expr) -> Result<Value, Error> {
        match op {
            BinOp::Or => {
                return Ok(Value::Bool(
                    self.expr(a)?.truthy() || self.expr(b)?.truthy(),
                ));
            }
            BinOp::And => {
                return Ok(Value::Bool(
                    self.expr(a)?.truthy() && self.expr(b)?.truthy(),
                ));
            }
            _ => {}
        }
        let (x, y) = (self.expr(a)?, self.expr(b)?);
        Ok(match op {
            BinOp::Eq => Value::Bool(x.velocity_eq(&y)),
            BinOp::Ne => Value::Bool(!x.velocity_eq(&y)),
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                let ord = match (&x, &y) {
                    (Value::Int(a), Value::Int(b)) => Some(a.cmp(b)),
                    _ => match (x.as_f64(), y.as_f64()) {
                        (Some(a), Some(b)) => a.partial_cmp(&b),
                        _ => None,
                    },
                };
                let Some(ord) = ord else {
                    return Ok(Value::Bool(false));
                };
                Value::Bool(match op {
                    BinOp::Lt => ord.is_lt(),
                    BinOp::Le => ord.is_le(),
                    BinOp::Gt => ord.is_gt(),
                    _ => ord.is_ge(),
                })
            }
            BinOp::Add
                if matches!(x, Value::Str(_)) && !y.is_null()
                    || matches!(y, Value::Str(_)) && !x.is_null() =>
            {
                Value::from(x.to_java_string() + &y.to_java_string())
            }
            _ => arithmetic(op, &x, &y),
        })
    }
}

fn range_bound(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(*i),
        #[allow(clippy::cast_possible_truncation)]
        Value::Float(f) => Some(*f as i64),
        Value::Str(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn arithmetic(op: BinOp, x: &Value, y: &Value) -> Value {
    if let (Value::Int(a), Value::Int(b)) = (x, y) {
        let r = match op {
            BinOp::Add => a.checked_add(*b),
            BinOp::Sub => a.checked_sub(*b),
            BinOp::Mul => a.checked_mul(*b),
            BinOp::Div if *b == 0 => return Value::Null,
            BinOp::Div => a.checked_div(*b),
            BinOp::Mod if *b == 0 => return Value::Null,
            BinOp::Mod => a.checked_rem(*b),
            _ => None,
        };
        if let Some(r) = r {
            return Value::Int(r);
        }
    }
    let (Some(a), Some(b)) = (x.as_f64(), y.as_f64()) else {
        return Value::Null;
    };
    match op {
        BinOp::Add => Value::Float(a + b),
        BinOp::Sub => Value::Float(a - b),
        BinOp::Mul => Value::Float(a * b),
        BinOp::Div if b == 0.0 => Value::Null,
        BinOp::Div => Value::Float(a / b),
        BinOp::Mod if b == 0.0 => Value::Null,
        BinOp::Mod => Value::Float(a % b),
        _ => Value::Null,
    }
}
