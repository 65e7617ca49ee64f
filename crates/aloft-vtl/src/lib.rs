//! A Velocity Template Language engine for API Gateway mapping templates. Pure: no I/O.
//!
//! It covers what mapping templates use, with Velocity 1.7's semantics (the version API
//! Gateway runs): references (`$x`, `${x}`, `$!x`, properties, Java methods, indexes),
//! literals (strings with interpolation in double quotes, numbers, booleans, lists, ranges,
//! maps), `#set`, `#if/#elseif/#else/#end`, `#foreach` with `$foreach.hasNext/index/count`,
//! `#break`, `#stop`, `#macro`, comments, operators, and the whitespace rules of directive
//! lines. API Gateway's `$input`, `$util`, `$context` and `$stageVariables` are supplied by
//! the caller as [`Value`]s (maps or [`Host`] objects).
//!
//! ```
//! use aloft_vtl::{Context, Value};
//! let mut ctx = Context::new();
//! ctx.insert("name", Value::from("world"));
//! assert_eq!(aloft_vtl::render("Hello $name!", &ctx).unwrap(), "Hello world!");
//! ```

mod ast;
mod eval;
mod methods;
mod parse;
mod usage;
mod value;

use std::collections::HashMap;
use std::fmt;

pub use usage::Usage;
pub use value::{Host, List, Map, Value, java_double};

/// Why a template could not be parsed or rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub message: String,
}

impl Error {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Error {
            message: message.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// The variables a template sees, and how null references render.
#[derive(Clone)]
pub struct Context {
    vars: HashMap<String, Value>,
    /// API Gateway renders a null `$ref` as nothing; plain Velocity prints its source text.
    pub null_as_empty: bool,
}

impl Default for Context {
    fn default() -> Self {
        Self::new()
    }
}

impl Context {
    /// An empty context with API Gateway's rendering of null references (as nothing).
    pub fn new() -> Self {
        Context {
            vars: HashMap::new(),
            null_as_empty: true,
        }
    }

    pub fn insert(&mut self, name: &str, value: Value) {
        self.vars.insert(name.to_string(), value);
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.vars.get(name)
    }
}

/// A parsed template, reusable across renderings.
#[derive(Debug, Clone)]
pub struct Template {
    nodes: Vec<ast::Node>,
}

impl Template {
    /// # Errors
    /// A syntax error, with its line and column.
    pub fn parse(src: &str) -> Result<Self, Error> {
        Ok(Template {
            nodes: parse::parse(src)?,
        })
    }

    /// How the template uses the variable `name` (what a caller may leave out of it).
    pub fn usage(&self, name: &str) -> Usage {
        usage::of(&self.nodes, name)
    }

    /// Renders with `ctx`'s variables (`#set` changes a copy; shared lists and maps may change).
    ///
    /// # Errors
    /// A failed method call (index out of range, bad regex, a host error) or a limit exceeded.
    pub fn render(&self, ctx: &Context) -> Result<String, Error> {
        let mut eval = eval::Eval::new(&self.nodes, ctx);
        let mut out = String::new();
        eval.nodes(&self.nodes, &mut out)?;
        Ok(out)
    }
}

/// Parses and renders in one step (also the fuzzing entry point).
///
/// # Errors
/// As [`Template::parse`] and [`Template::render`].
pub fn render(src: &str, ctx: &Context) -> Result<String, Error> {
    Template::parse(src)?.render(ctx)
}

#[cfg(test)]
mod tests;
