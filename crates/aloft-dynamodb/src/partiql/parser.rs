//! The statements DynamoDB accepts (SELECT, INSERT, UPDATE, DELETE, and EXISTS in
//! transactions) parsed into a small AST; `?` parameters are numbered in order of appearance.

use aloft_core::AwsError;

use super::lexer::{Tok, tokenize};
use super::malformed;
use crate::expr::ast::CmpOp;

#[derive(Debug, Clone, PartialEq)]
pub enum PSeg {
    Attr(String),
    Index(usize),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Path(Vec<PSeg>),
    Str(String),
    Num(String),
    Bool(bool),
    Null,
    Missing,
    Param(usize),
    Map(Vec<(String, Expr)>),
    List(Vec<Expr>),
    Set(Vec<Expr>),
    Cmp(Box<Expr>, CmpOp, Box<Expr>),
    Between(Box<Expr>, Box<Expr>, Box<Expr>),
    In(Box<Expr>, Vec<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    /// `e IS [NOT] MISSING | NULL | <type name>`
    Is(Box<Expr>, String, bool),
    Call(String, Vec<Expr>),
    Plus(Box<Expr>, Box<Expr>),
    Minus(Box<Expr>, Box<Expr>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum UpdateOp {
    Set(Vec<PSeg>, Expr),
    Remove(Vec<PSeg>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    Select {
        table: String,
        index: Option<String>,
        /// None for `*`.
        projection: Option<Vec<Vec<PSeg>>>,
        filter: Option<Expr>,
        /// `ORDER BY … DESC` reads the sort key backwards.
        descending: bool,
    },
    Insert {
        table: String,
        value: Expr,
    },
    Update {
        table: String,
        ops: Vec<UpdateOp>,
        filter: Option<Expr>,
        returning: Option<&'static str>,
    },
    Delete {
        table: String,
        filter: Option<Expr>,
        returning: Option<&'static str>,
    },
    /// `EXISTS(SELECT …)`: a condition check, in ExecuteTransaction only.
    Exists(Box<Statement>),
}

impl Statement {
    pub fn table(&self) -> &str {
        match self {
            Statement::Select { table, .. }
            | Statement::Insert { table, .. }
            | Statement::Update { table, .. }
            | Statement::Delete { table, .. } => table,
            Statement::Exists(s) => s.table(),
        }
    }

    pub fn is_read(&self) -> bool {
        matches!(self, Statement::Select { .. })
    }
}

/// Joins conditions with AND (or OR) as a balanced tree, so that a long chain of conditions
/// costs a logarithmic, not linear, depth of recursion wherever the tree is walked.
pub fn balanced(mut parts: Vec<Expr>, and: bool) -> Expr {
    if parts.len() == 1 {
        return parts.pop().unwrap_or(Expr::Bool(true));
    }
    let right = parts.split_off(parts.len() / 2);
    let (l, r) = (
        Box::new(balanced(parts, and)),
        Box::new(balanced(right, and)),
    );
    if and { Expr::And(l, r) } else { Expr::Or(l, r) }
}

/// Parses one statement; returns it with the number of `?` parameters it uses.
pub fn parse(src: &str) -> Result<(Statement, usize), AwsError> {
    let toks = tokenize(src)?;
    let mut p = Parser {
        toks,
        pos: 0,
        params: 0,
        depth: 0,
    };
    let stmt = p.statement()?;
    if p.peek().is_some_and(|t| *t == Tok::Punct(";")) {
        p.pos += 1;
    }
    if p.pos != p.toks.len() {
        return Err(p.unexpected());
    }
    Ok((stmt, p.params))
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    params: usize,
    /// Nesting of expressions, bounded so a hostile statement cannot exhaust the stack.
    depth: usize,
}

/// Deeper nesting than any real statement needs (8 KB of `(` would otherwise recurse 8192 deep).
const MAX_DEPTH: usize = 64;

const KEYWORDS: &[&str] = &[
    "select",
    "from",
    "where",
    "and",
    "or",
    "not",
    "insert",
    "into",
    "value",
    "values",
    "update",
    "set",
    "remove",
    "delete",
    "returning",
    "order",
    "by",
    "asc",
    "desc",
    "between",
    "in",
    "is",
    "exists",
];

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn unexpected(&self) -> AwsError {
        match self.peek() {
            None => malformed("Unexpected end of statement"),
            Some(Tok::Word(w)) if KEYWORDS.iter().any(|k| w.eq_ignore_ascii_case(k)) => {
                malformed("Unexpected keyword")
            }
            Some(_) => malformed("Unexpected token"),
        }
    }

    fn at_kw(&self, kw: &str) -> bool {
        self.peek().is_some_and(|t| t.is_kw(kw))
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        if self.at_kw(kw) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect_kw(&mut self, kw: &str) -> Result<(), AwsError> {
        if self.eat_kw(kw) {
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn at(&self, p: &str) -> bool {
        matches!(self.peek(), Some(Tok::Punct(x)) if *x == p)
    }

    fn eat(&mut self, p: &str) -> bool {
        if self.at(p) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, p: &str) -> Result<(), AwsError> {
        if self.eat(p) {
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn statement(&mut self) -> Result<Statement, AwsError> {
        match self.peek() {
            Some(t) if t.is_kw("select") => self.select(),
            Some(t) if t.is_kw("insert") => self.insert(),
            Some(t) if t.is_kw("update") => self.update(),
            Some(t) if t.is_kw("delete") => self.delete(),
            Some(t) if t.is_kw("exists") => {
                self.pos += 1;
                self.expect("(")?;
                if !self.at_kw("select") {
                    return Err(self.unexpected());
                }
                let s = self.select()?;
                self.expect(")")?;
                Ok(Statement::Exists(Box::new(s)))
            }
            _ => Err(malformed("Expected data manipulation")),
        }
    }

    /// A name: bare (not a keyword) or double-quoted.
    fn name(&mut self) -> Result<String, AwsError> {
        match self.peek() {
            Some(Tok::Quoted(s)) => {
                let s = s.clone();
                self.pos += 1;
                Ok(s)
            }
            Some(Tok::Word(w)) if !KEYWORDS.iter().any(|k| w.eq_ignore_ascii_case(k)) => {
                let s = w.clone();
                self.pos += 1;
                Ok(s)
            }
            _ => Err(self.unexpected()),
        }
    }

    fn table(&mut self) -> Result<(String, Option<String>), AwsError> {
        let t = self.name()?;
        let idx = if self.eat(".") {
            Some(self.name()?)
        } else {
            None
        };
        Ok((t, idx))
    }

    fn path(&mut self) -> Result<Vec<PSeg>, AwsError> {
        let mut segs = vec![PSeg::Attr(self.name()?)];
        loop {
            if self.eat(".") {
                segs.push(PSeg::Attr(self.name()?));
            } else if self.eat("[") {
                match self.next() {
                    Some(Tok::Num(n)) => segs.push(PSeg::Index(
                        n.parse().map_err(|_| malformed("Unexpected token"))?,
                    )),
                    Some(Tok::Str(s)) => segs.push(PSeg::Attr(s)),
                    _ => {
                        self.pos -= 1;
                        return Err(self.unexpected());
                    }
                }
                self.expect("]")?;
            } else {
                return Ok(segs);
            }
        }
    }

    fn select(&mut self) -> Result<Statement, AwsError> {
        self.expect_kw("select")?;
        let projection = if self.eat("*") {
            None
        } else {
            let mut paths = vec![self.path()?];
            while self.eat(",") {
                paths.push(self.path()?);
            }
            Some(paths)
        };
        self.expect_kw("from")?;
        let (table, index) = self.table()?;
        let filter = self.where_clause()?;
        let mut descending = false;
        if self.eat_kw("order") {
            self.expect_kw("by")?;
            self.path()?;
            if self.eat_kw("desc") {
                descending = true;
            } else {
                self.eat_kw("asc");
            }
        }
        Ok(Statement::Select {
            table,
            index,
            projection,
            filter,
            descending,
        })
    }

    fn where_clause(&mut self) -> Result<Option<Expr>, AwsError> {
        if self.eat_kw("where") {
            Ok(Some(self.expr()?))
        } else {
            Ok(None)
        }
    }

    fn insert(&mut self) -> Result<Statement, AwsError> {
        self.expect_kw("insert")?;
        self.expect_kw("into")?;
        let (table, idx) = self.table()?;
        if idx.is_some() {
            return Err(malformed("Unexpected token"));
        }
        self.expect_kw("value")?;
        let value = self.primary()?;
        Ok(Statement::Insert { table, value })
    }

    fn returning(&mut self) -> Result<Option<&'static str>, AwsError> {
        if !self.eat_kw("returning") {
            return Ok(None);
        }
        let all = if self.eat_kw("all") {
            true
        } else if self.eat_kw("modified") {
            false
        } else {
            return Err(self.unexpected());
        };
        let new = if self.eat_kw("new") {
            true
        } else if self.eat_kw("old") {
            false
        } else {
            return Err(self.unexpected());
        };
        self.expect("*")?;
        Ok(Some(match (all, new) {
            (true, false) => "ALL_OLD",
            (true, true) => "ALL_NEW",
            (false, false) => "UPDATED_OLD",
            (false, true) => "UPDATED_NEW",
        }))
    }

    fn update(&mut self) -> Result<Statement, AwsError> {
        self.expect_kw("update")?;
        let (table, idx) = self.table()?;
        if idx.is_some() {
            return Err(malformed("Unexpected token"));
        }
        let mut ops = Vec::new();
        loop {
            if self.eat_kw("set") {
                loop {
                    let p = self.path()?;
                    self.expect("=")?;
                    ops.push(UpdateOp::Set(p, self.additive()?));
                    if !self.eat(",") {
                        break;
                    }
                }
            } else if self.eat_kw("remove") {
                loop {
                    ops.push(UpdateOp::Remove(self.path()?));
                    if !self.eat(",") {
                        break;
                    }
                }
            } else {
                break;
            }
        }
        if ops.is_empty() {
            return Err(self.unexpected());
        }
        let filter = self.where_clause()?;
        let returning = self.returning()?;
        Ok(Statement::Update {
            table,
            ops,
            filter,
            returning,
        })
    }

    fn delete(&mut self) -> Result<Statement, AwsError> {
        self.expect_kw("delete")?;
        self.expect_kw("from")?;
        let (table, idx) = self.table()?;
        if idx.is_some() {
            return Err(malformed("Unexpected token"));
        }
        let filter = self.where_clause()?;
        let returning = self.returning()?;
        if returning.is_some_and(|r| r != "ALL_OLD") {
            return Err(malformed("Unexpected keyword"));
        }
        Ok(Statement::Delete {
            table,
            filter,
            returning,
        })
    }

    fn expr(&mut self) -> Result<Expr, AwsError> {
        self.nest()?;
        let mut parts = vec![self.and()?];
        while self.eat_kw("or") {
            parts.push(self.and()?);
        }
        self.depth -= 1;
        Ok(balanced(parts, false))
    }

    fn nest(&mut self) -> Result<(), AwsError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(malformed("Unexpected token"));
        }
        Ok(())
    }

    fn and(&mut self) -> Result<Expr, AwsError> {
        let mut parts = vec![self.not()?];
        while self.eat_kw("and") {
            parts.push(self.not()?);
        }
        Ok(balanced(parts, true))
    }

    fn not(&mut self) -> Result<Expr, AwsError> {
        if self.eat_kw("not") {
            self.nest()?;
            let inner = self.not()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner)));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Expr, AwsError> {
        let left = self.additive()?;
        let op = match self.peek() {
            Some(Tok::Punct("=")) => Some(CmpOp::Eq),
            Some(Tok::Punct("<>" | "!=")) => Some(CmpOp::Ne),
            Some(Tok::Punct("<")) => Some(CmpOp::Lt),
            Some(Tok::Punct("<=")) => Some(CmpOp::Le),
            Some(Tok::Punct(">")) => Some(CmpOp::Gt),
            Some(Tok::Punct(">=")) => Some(CmpOp::Ge),
            _ => None,
        };
        if let Some(op) = op {
            self.pos += 1;
            let right = self.additive()?;
            return Ok(Expr::Cmp(Box::new(left), op, Box::new(right)));
        }
        let negated = self.at_kw("not")
            && self
                .toks
                .get(self.pos + 1)
                .is_some_and(|t| t.is_kw("between") || t.is_kw("in"));
        if negated {
            self.pos += 1;
        }
        let wrap = |e: Expr| if negated { Expr::Not(Box::new(e)) } else { e };
        if self.eat_kw("between") {
            let lo = self.additive()?;
            self.expect_kw("and")?;
            let hi = self.additive()?;
            return Ok(wrap(Expr::Between(
                Box::new(left),
                Box::new(lo),
                Box::new(hi),
            )));
        }
        if self.eat_kw("in") {
            let close = if self.eat("[") {
                "]"
            } else {
                self.expect("(")?;
                ")"
            };
            let mut items = vec![self.additive()?];
            while self.eat(",") {
                items.push(self.additive()?);
            }
            self.expect(close)?;
            return Ok(wrap(Expr::In(Box::new(left), items)));
        }
        if self.eat_kw("is") {
            let neg = self.eat_kw("not");
            let what = match self.next() {
                Some(Tok::Word(w)) => w.to_ascii_uppercase(),
                _ => {
                    self.pos -= 1;
                    return Err(self.unexpected());
                }
            };
            return Ok(Expr::Is(Box::new(left), what, neg));
        }
        Ok(left)
    }

    fn additive(&mut self) -> Result<Expr, AwsError> {
        let mut left = self.primary()?;
        loop {
            if self.eat("+") {
                left = Expr::Plus(Box::new(left), Box::new(self.primary()?));
            } else if self.eat("-") {
                left = Expr::Minus(Box::new(left), Box::new(self.primary()?));
            } else {
                return Ok(left);
            }
        }
    }

    fn list_until(&mut self, close: &str) -> Result<Vec<Expr>, AwsError> {
        self.nest()?;
        let items = self.list_items(close);
        self.depth -= 1;
        items
    }

    fn list_items(&mut self, close: &str) -> Result<Vec<Expr>, AwsError> {
        let mut items = Vec::new();
        if self.eat(close) {
            return Ok(items);
        }
        loop {
            items.push(self.additive()?);
            if self.eat(close) {
                return Ok(items);
            }
            self.expect(",")?;
        }
    }

    fn primary(&mut self) -> Result<Expr, AwsError> {
        let Some(t) = self.peek().cloned() else {
            return Err(self.unexpected());
        };
        match t {
            Tok::Str(s) => {
                self.pos += 1;
                Ok(Expr::Str(s))
            }
            Tok::Num(n) => {
                self.pos += 1;
                Ok(Expr::Num(n))
            }
            Tok::Param => {
                self.pos += 1;
                self.params += 1;
                Ok(Expr::Param(self.params - 1))
            }
            Tok::Punct("-") => {
                self.pos += 1;
                match self.next() {
                    Some(Tok::Num(n)) => Ok(Expr::Num(format!("-{n}"))),
                    _ => {
                        self.pos -= 1;
                        Err(self.unexpected())
                    }
                }
            }
            Tok::Punct("(") => {
                self.pos += 1;
                let e = self.expr()?;
                self.expect(")")?;
                Ok(e)
            }
            Tok::Punct("[") => {
                self.pos += 1;
                Ok(Expr::List(self.list_until("]")?))
            }
            Tok::Punct("<<") => {
                self.pos += 1;
                Ok(Expr::Set(self.list_until(">>")?))
            }
            Tok::Punct("{") => {
                self.pos += 1;
                self.nest()?;
                let mut entries = Vec::new();
                if self.eat("}") {
                    self.depth -= 1;
                    return Ok(Expr::Map(entries));
                }
                loop {
                    let k = match self.next() {
                        Some(Tok::Str(s)) => s,
                        _ => {
                            self.pos -= 1;
                            return Err(self.unexpected());
                        }
                    };
                    self.expect(":")?;
                    entries.push((k, self.additive()?));
                    if self.eat("}") {
                        self.depth -= 1;
                        return Ok(Expr::Map(entries));
                    }
                    self.expect(",")?;
                }
            }
            Tok::Word(w) if w.eq_ignore_ascii_case("true") || w.eq_ignore_ascii_case("false") => {
                self.pos += 1;
                Ok(Expr::Bool(w.eq_ignore_ascii_case("true")))
            }
            Tok::Word(w) if w.eq_ignore_ascii_case("null") => {
                self.pos += 1;
                Ok(Expr::Null)
            }
            Tok::Word(w) if w.eq_ignore_ascii_case("missing") => {
                self.pos += 1;
                Ok(Expr::Missing)
            }
            Tok::Word(w) if matches!(self.toks.get(self.pos + 1), Some(Tok::Punct("("))) => {
                self.pos += 2;
                let args = self.list_until(")")?;
                Ok(Expr::Call(w.to_ascii_lowercase(), args))
            }
            _ => Ok(Expr::Path(self.path()?)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_statements() {
        let (s, n) =
            parse(r#"SELECT a, b.c[1] FROM "T"."idx" WHERE pk = ? AND sk BETWEEN 1 AND ? ORDER BY sk DESC"#)
                .unwrap();
        assert_eq!(n, 2);
        let Statement::Select {
            table,
            index,
            projection,
            descending,
            ..
        } = s
        else {
            panic!()
        };
        assert_eq!((table.as_str(), index.as_deref()), ("T", Some("idx")));
        assert_eq!(projection.unwrap().len(), 2);
        assert!(descending);

        let (s, _) =
            parse("INSERT INTO t VALUE {'pk': 'a', 'n': -1, 's': <<'x','y'>>, 'l': [1, ?]}")
                .unwrap();
        assert!(matches!(s, Statement::Insert { value: Expr::Map(m), .. } if m.len() == 4));

        let (s, _) =
            parse("UPDATE t SET a = a + 1 SET b = list_append(b, [1]) REMOVE c WHERE pk = 'x' RETURNING ALL NEW *")
                .unwrap();
        assert!(
            matches!(s, Statement::Update { ops, returning: Some("ALL_NEW"), .. } if ops.len() == 3)
        );

        let (s, _) = parse("DELETE FROM t WHERE pk = 'x' AND v IS NOT MISSING").unwrap();
        assert!(matches!(
            s,
            Statement::Delete {
                filter: Some(Expr::And(..)),
                ..
            }
        ));

        let (s, _) = parse("EXISTS(SELECT * FROM t WHERE pk = 'x')").unwrap();
        assert!(matches!(s, Statement::Exists(_)));
    }

    #[test]
    fn malformed_statements_use_aws_messages() {
        let msg = |s: &str| parse(s).unwrap_err().message;
        assert_eq!(
            msg("SELEC * FROM t"),
            "Statement wasn't well formed, can't be processed: Expected data manipulation"
        );
        assert_eq!(
            msg("SELECT * FROM WHERE a = 1"),
            "Statement wasn't well formed, can't be processed: Unexpected keyword"
        );
        assert_eq!(
            msg("SELECT * FROM t WHERE"),
            "Statement wasn't well formed, can't be processed: Unexpected end of statement"
        );
        let deep = format!(
            "SELECT * FROM t WHERE {}a = 1{}",
            "(".repeat(5000),
            ")".repeat(5000)
        );
        assert!(parse(&deep).is_err());
        let deep = format!("SELECT * FROM t WHERE {}a = 1", "NOT ".repeat(2000));
        assert!(parse(&deep).is_err());
        let deep = format!("INSERT INTO t VALUE {}", "[".repeat(5000));
        assert!(parse(&deep).is_err());
        assert_eq!(
            msg("SELECT * FROM t WHERE a = 1 )"),
            "Statement wasn't well formed, can't be processed: Unexpected token"
        );
    }
}
