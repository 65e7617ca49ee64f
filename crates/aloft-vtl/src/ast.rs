//! The parsed form of a template.

#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Text(String),
    /// A reference written into the output.
    Ref(Reference),
    Set(Reference, Expr),
    /// `#if`/`#elseif` branches in order, then the `#else` body.
    If(Vec<(Expr, Vec<Node>)>, Option<Vec<Node>>),
    Foreach(String, Expr, Vec<Node>),
    Macro(String, Vec<String>, Vec<Node>),
    MacroCall(String, Vec<Expr>),
    Break,
    Stop,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    /// `$!x`: renders nothing when null.
    pub quiet: bool,
    pub name: String,
    pub path: Vec<Accessor>,
    /// The source text, rendered as-is for a null non-quiet reference in strict mode.
    pub raw: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Accessor {
    Property(String),
    Method(String, Vec<Expr>),
    Index(Expr),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// A single-quoted string: no interpolation.
    Str(String),
    /// A double-quoted string: a small template of its own.
    Interpolated(Vec<Node>),
    Ref(Reference),
    List(Vec<Expr>),
    Range(Box<Expr>, Box<Expr>),
    Map(Vec<(Expr, Expr)>),
    Not(Box<Expr>),
    Neg(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}
