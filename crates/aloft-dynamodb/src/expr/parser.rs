//! A hand-written recursive-descent parser for condition, update, projection and key
//! condition expressions, reporting AWS's messages: the syntax error with its token and
//! `near`, then reserved words, then undefined `#names` / `:values` (AWS's order).

use aloft_core::AwsError;

use super::ast::{CmpOp, Cond, Operand, Path, Seg, SetValue, Update, UpdateAction};
use super::lexer::{Tok, Token, tokenize};
use crate::domain::value::{AttrType, AttrValue};
use crate::error::validation;

pub use super::names::{ExprContext, is_reserved};

/// Which expression is being parsed; names the parameter in AWS's messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExprKind {
    Condition,
    Update,
    Projection,
    KeyCondition,
    Filter,
    SearchCondition,
}

impl ExprKind {
    pub fn param(self) -> &'static str {
        match self {
            ExprKind::Condition => "ConditionExpression",
            ExprKind::Update => "UpdateExpression",
            ExprKind::Projection => "ProjectionExpression",
            ExprKind::KeyCondition => "KeyConditionExpression",
            ExprKind::Filter => "FilterExpression",
            ExprKind::SearchCondition => "SearchConditionExpression",
        }
    }

    pub fn error(self, detail: impl std::fmt::Display) -> AwsError {
        validation(format!("Invalid {}: {detail}", self.param()))
    }
}

struct Parser<'a> {
    src: &'a str,
    toks: Vec<Token>,
    pos: usize,
    kind: ExprKind,
    ctx: &'a mut ExprContext,
    reserved: Option<String>,
    undefined_name: Option<String>,
    undefined_value: Option<String>,
    /// Semantic errors found while parsing, reported after the syntax is known good.
    semantic: Option<String>,
}

type PResult<T> = Result<T, AwsError>;

impl<'a> Parser<'a> {
    fn new(src: &'a str, kind: ExprKind, ctx: &'a mut ExprContext) -> Self {
        Parser {
            src,
            toks: tokenize(src),
            pos: 0,
            kind,
            ctx,
            reserved: None,
            undefined_name: None,
            undefined_value: None,
            semantic: None,
        }
    }

    fn peek(&self) -> &Tok {
        &self.toks[self.pos].tok
    }

    fn peek_at(&self, n: usize) -> &Tok {
        &self.toks[(self.pos + n).min(self.toks.len() - 1)].tok
    }

    fn bump(&mut self) {
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
    }

    /// The current token, moved out (its text left empty: only its place is read again, by
    /// `syntax_error`), then [`Self::bump`]. A clone of every token consumed cost an
    /// allocation per word.
    fn take(&mut self) -> Tok {
        let t = match &mut self.toks[self.pos].tok {
            Tok::Ident(s) => Tok::Ident(std::mem::take(s)),
            Tok::Name(s) => Tok::Name(std::mem::take(s)),
            other => other.clone(),
        };
        self.bump();
        t
    }

    /// `Syntax error; token: "x", near: "prev x next"` as AWS words it.
    fn syntax_error(&self) -> AwsError {
        let cur = &self.toks[self.pos];
        let token = if cur.tok == Tok::Eof {
            "<EOF>".to_string()
        } else {
            self.src[cur.start..cur.end].to_string()
        };
        let from = if self.pos > 0 {
            self.toks[self.pos - 1].start
        } else {
            cur.start
        };
        let to = if cur.tok == Tok::Eof {
            cur.end
        } else {
            self.toks.get(self.pos + 1).map_or(cur.end, |t| t.end)
        };
        let near = self.src[from..to].trim_end();
        self.kind.error(format!(
            "Syntax error; token: \"{token}\", near: \"{near}\""
        ))
    }

    fn expect(&mut self, t: &Tok) -> PResult<()> {
        if self.peek() == t {
            self.bump();
            Ok(())
        } else {
            Err(self.syntax_error())
        }
    }

    fn expect_eof(&self) -> PResult<()> {
        if *self.peek() == Tok::Eof {
            Ok(())
        } else {
            Err(self.syntax_error())
        }
    }

    /// Reports what was deferred: reserved words, then undefined names, then values.
    fn finish(&self) -> PResult<()> {
        if let Some(w) = &self.reserved {
            return Err(self.kind.error(format!(
                "Attribute name is a reserved keyword; reserved keyword: {w}"
            )));
        }
        if let Some(n) = &self.undefined_name {
            return Err(self.kind.error(format!(
                "An expression attribute name used in the document path is not defined; attribute name: {n}"
            )));
        }
        if let Some(v) = &self.undefined_value {
            return Err(self.kind.error(format!(
                "An expression attribute value used in expression is not defined; attribute value: {v}"
            )));
        }
        if let Some(m) = &self.semantic {
            return Err(self.kind.error(m));
        }
        Ok(())
    }

    fn semantic(&mut self, msg: String) {
        if self.semantic.is_none() {
            self.semantic = Some(msg);
        }
    }

    fn name_segment(&mut self) -> PResult<String> {
        if !matches!(self.peek(), Tok::Ident(_) | Tok::Name(_)) {
            return Err(self.syntax_error());
        }
        match self.take() {
            Tok::Ident(id) => {
                if self.reserved.is_none() && is_reserved(&id) {
                    self.reserved = Some(id.clone());
                }
                Ok(id)
            }
            Tok::Name(n) => match self.ctx.use_name(&n) {
                Some(v) => Ok(v),
                None => {
                    if self.undefined_name.is_none() {
                        self.undefined_name = Some(format!("#{n}"));
                    }
                    Ok(String::new())
                }
            },
            _ => Err(self.syntax_error()),
        }
    }

    fn path(&mut self) -> PResult<Path> {
        let mut segs = vec![Seg::Attr(self.name_segment()?)];
        loop {
            match self.peek() {
                Tok::Dot => {
                    self.bump();
                    segs.push(Seg::Attr(self.name_segment()?));
                }
                Tok::LBracket => {
                    self.bump();
                    let Tok::Int(n) = self.peek().clone() else {
                        return Err(self.syntax_error());
                    };
                    self.bump();
                    let idx: usize = n.parse().unwrap_or(usize::MAX);
                    self.expect(&Tok::RBracket)?;
                    segs.push(Seg::Index(idx));
                }
                _ => return Ok(Path(segs)),
            }
        }
    }

    fn value(&mut self, v: &str) -> AttrValue {
        match self.ctx.use_value(v) {
            Some(av) => av,
            None => {
                if self.undefined_value.is_none() {
                    self.undefined_value = Some(format!(":{v}"));
                }
                AttrValue::Null
            }
        }
    }

    fn is_call(&self) -> bool {
        matches!(self.peek(), Tok::Ident(_)) && *self.peek_at(1) == Tok::LParen
    }

    // ---- conditions ----

    fn condition(&mut self) -> PResult<Cond> {
        let mut left = self.and_cond()?;
        while self.peek().is_keyword("OR") {
            self.bump();
            let right = self.and_cond()?;
            left = Cond::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and_cond(&mut self) -> PResult<Cond> {
        let mut left = self.not_cond()?;
        while self.peek().is_keyword("AND") {
            self.bump();
            let right = self.not_cond()?;
            left = Cond::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn not_cond(&mut self) -> PResult<Cond> {
        if self.peek().is_keyword("NOT") {
            self.bump();
            return Ok(Cond::Not(Box::new(self.not_cond()?)));
        }
        if *self.peek() == Tok::LParen {
            self.bump();
            let c = self.condition()?;
            self.expect(&Tok::RParen)?;
            return Ok(c);
        }
        if self.is_call() {
            let Tok::Ident(name) = self.peek().clone() else {
                unreachable!("is_call checked an identifier")
            };
            if name != "size" {
                return self.bool_function(&name);
            }
        }
        self.comparison()
    }

    fn comparison(&mut self) -> PResult<Cond> {
        let left = self.operand()?;
        let op = match self.peek() {
            Tok::Eq => CmpOp::Eq,
            Tok::Ne => CmpOp::Ne,
            Tok::Lt => CmpOp::Lt,
            Tok::Le => CmpOp::Le,
            Tok::Gt => CmpOp::Gt,
            Tok::Ge => CmpOp::Ge,
            t if t.is_keyword("BETWEEN") => {
                self.bump();
                let lo = self.operand()?;
                if !self.peek().is_keyword("AND") {
                    return Err(self.syntax_error());
                }
                self.bump();
                let hi = self.operand()?;
                if let (Operand::Value(a), Operand::Value(b)) = (&lo, &hi)
                    && let Some(std::cmp::Ordering::Greater) = a.compare(b)
                {
                    let show = |v: &AttrValue| {
                        let j = v.to_json();
                        let (t, x) = j
                            .as_object()
                            .and_then(|o| o.iter().next())
                            .map_or((String::new(), String::new()), |(t, x)| {
                                (t.clone(), x.as_str().unwrap_or_default().to_string())
                            });
                        format!("AttributeValue: {{{t}:{x}}}")
                    };
                    self.semantic(format!(
                        "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: {}, upper bound operand: {}",
                        show(a),
                        show(b)
                    ));
                }
                return Ok(Cond::Between(left, lo, hi));
            }
            t if t.is_keyword("IN") => {
                self.bump();
                self.expect(&Tok::LParen)?;
                let mut list = vec![self.operand()?];
                while *self.peek() == Tok::Comma {
                    self.bump();
                    list.push(self.operand()?);
                }
                self.expect(&Tok::RParen)?;
                if list.len() > 100 {
                    self.semantic(format!(
                        "The IN operator is provided with too many operands; number of operands: {}",
                        list.len()
                    ));
                }
                return Ok(Cond::In(left, list));
            }
            _ => return Err(self.syntax_error()),
        };
        self.bump();
        let right = self.operand()?;
        Ok(Cond::Cmp(left, op, right))
    }

    fn operand(&mut self) -> PResult<Operand> {
        match self.peek().clone() {
            Tok::Value(v) => {
                self.bump();
                Ok(Operand::Value(self.value(&v)))
            }
            Tok::Ident(name) if self.is_call() => {
                if name == "size" {
                    let args = self.call_args()?;
                    self.check_arity("size", args.len(), 1);
                    let path = self.path_arg("size", args.into_iter().next());
                    Ok(Operand::Size(path))
                } else {
                    self.check_function_name(&name);
                    // A boolean function where a value is needed: not valid syntax.
                    Err(self.syntax_error())
                }
            }
            Tok::Ident(_) | Tok::Name(_) => Ok(Operand::Path(self.path()?)),
            _ => Err(self.syntax_error()),
        }
    }

    fn call_args(&mut self) -> PResult<Vec<Operand>> {
        self.bump(); // name
        self.expect(&Tok::LParen)?;
        let mut args = vec![self.operand()?];
        while *self.peek() == Tok::Comma {
            self.bump();
            args.push(self.operand()?);
        }
        self.expect(&Tok::RParen)?;
        Ok(args)
    }

    fn check_arity(&mut self, f: &str, got: usize, want: usize) {
        if got != want {
            self.semantic(format!(
                "Incorrect number of operands for operator or function; operator or function: {f}, number of operands: {got}"
            ));
        }
    }

    fn path_arg(&mut self, f: &str, arg: Option<Operand>) -> Path {
        match arg {
            Some(Operand::Path(p)) => p,
            _ => {
                self.semantic(format!(
                    "Operator or function requires a document path; operator or function: {f}"
                ));
                Path(vec![Seg::Attr(String::new())])
            }
        }
    }

    fn check_function_name(&mut self, name: &str) {
        const ALL: [&str; 8] = [
            "attribute_exists",
            "attribute_not_exists",
            "attribute_type",
            "begins_with",
            "contains",
            "size",
            "if_not_exists",
            "list_append",
        ];
        if !ALL.contains(&name) {
            self.semantic(format!("Invalid function name; function: {name}"));
        }
    }

    fn bool_function(&mut self, name: &str) -> PResult<Cond> {
        let fname = name.to_string();
        let args = self.call_args()?;
        let n = args.len();
        let mut it = args.into_iter();
        Ok(match fname.as_str() {
            "attribute_exists" | "attribute_not_exists" => {
                self.check_arity(&fname, n, 1);
                let p = self.path_arg(&fname, it.next());
                if fname == "attribute_exists" {
                    Cond::AttributeExists(p)
                } else {
                    Cond::AttributeNotExists(p)
                }
            }
            "attribute_type" => {
                self.check_arity(&fname, n, 2);
                let p = self.path_arg(&fname, it.next());
                let t = it.next().unwrap_or(Operand::Value(AttrValue::Null));
                if let Operand::Value(AttrValue::S(s)) = &t
                    && AttrType::from_tag(s).is_none()
                {
                    self.semantic(format!(
                        "Invalid attribute type name found; type: {s}, valid types: {{ B,NULL,SS,BOOL,L,BS,N,NS,S,M }}"
                    ));
                }
                Cond::AttributeType(p, t)
            }
            "begins_with" | "contains" => {
                self.check_arity(&fname, n, 2);
                let a = it.next().unwrap_or(Operand::Value(AttrValue::Null));
                let b = it.next().unwrap_or(Operand::Value(AttrValue::Null));
                if fname == "begins_with" {
                    Cond::BeginsWith(a, b)
                } else {
                    Cond::Contains(a, b)
                }
            }
            other => {
                self.check_function_name(other);
                if self.semantic.is_none() {
                    self.semantic(format!(
                        "The function is not allowed to be used this way in an expression; function: {other}"
                    ));
                }
                Cond::AttributeExists(Path(vec![Seg::Attr(String::new())]))
            }
        })
    }

    // ---- updates ----

    fn update(&mut self) -> PResult<Update> {
        let mut out = Update::default();
        let mut seen: Vec<&'static str> = Vec::new();
        if *self.peek() == Tok::Eof {
            return Err(self.syntax_error());
        }
        while *self.peek() != Tok::Eof {
            let clause = match self.peek() {
                t if t.is_keyword("SET") => "SET",
                t if t.is_keyword("REMOVE") => "REMOVE",
                t if t.is_keyword("ADD") => "ADD",
                t if t.is_keyword("DELETE") => "DELETE",
                _ => return Err(self.syntax_error()),
            };
            if seen.contains(&clause) {
                self.semantic(format!(
                    "The \"{clause}\" section can only be used once in an update expression;"
                ));
            }
            seen.push(clause);
            self.bump();
            loop {
                let action = match clause {
                    "SET" => {
                        let p = self.path()?;
                        self.expect(&Tok::Eq)?;
                        UpdateAction::Set(p, self.set_value()?)
                    }
                    "REMOVE" => UpdateAction::Remove(self.path()?),
                    _ => {
                        let p = self.path()?;
                        let Tok::Value(v) = self.peek().clone() else {
                            return Err(self.syntax_error());
                        };
                        self.bump();
                        let val = self.value(&v);
                        let t = val.attr_type();
                        let ok = if clause == "ADD" {
                            matches!(t, AttrType::N | AttrType::Ss | AttrType::Ns | AttrType::Bs)
                        } else {
                            matches!(t, AttrType::Ss | AttrType::Ns | AttrType::Bs)
                        };
                        if !ok && self.undefined_value.is_none() {
                            self.semantic(format!(
                                "Incorrect operand type for operator or function; operator: {clause}, operand type: {}",
                                t.long_name()
                            ));
                        }
                        if clause == "ADD" {
                            UpdateAction::Add(p, val)
                        } else {
                            UpdateAction::Delete(p, val)
                        }
                    }
                };
                out.actions.push(action);
                if *self.peek() == Tok::Comma {
                    self.bump();
                } else {
                    break;
                }
            }
        }
        // Overlapping document paths are rejected, whatever the clauses.
        for (i, a) in out.actions.iter().enumerate() {
            for b in &out.actions[..i] {
                if a.path().overlaps(b.path()) {
                    let msg = format!(
                        "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: {}, path two: {}",
                        b.path(),
                        a.path()
                    );
                    self.semantic(msg);
                }
            }
        }
        Ok(out)
    }

    fn set_value(&mut self) -> PResult<SetValue> {
        let left = self.set_operand()?;
        match self.peek() {
            Tok::Plus => {
                self.bump();
                let right = self.set_operand()?;
                Ok(SetValue::Plus(Box::new(left), Box::new(right)))
            }
            Tok::Minus => {
                self.bump();
                let right = self.set_operand()?;
                Ok(SetValue::Minus(Box::new(left), Box::new(right)))
            }
            _ => Ok(left),
        }
    }

    fn set_operand(&mut self) -> PResult<SetValue> {
        match self.peek().clone() {
            Tok::Value(v) => {
                self.bump();
                Ok(SetValue::Value(self.value(&v)))
            }
            Tok::Ident(name) if self.is_call() => {
                self.bump();
                self.expect(&Tok::LParen)?;
                let mut args = vec![self.set_value()?];
                while *self.peek() == Tok::Comma {
                    self.bump();
                    args.push(self.set_value()?);
                }
                self.expect(&Tok::RParen)?;
                let n = args.len();
                let mut it = args.into_iter();
                match name.as_str() {
                    "if_not_exists" => {
                        self.check_arity("if_not_exists", n, 2);
                        let p = match it.next() {
                            Some(SetValue::Path(p)) => p,
                            _ => {
                                self.semantic(
                                    "Operator or function requires a document path; operator or function: if_not_exists".into(),
                                );
                                Path(vec![Seg::Attr(String::new())])
                            }
                        };
                        let v = it.next().unwrap_or(SetValue::Value(AttrValue::Null));
                        Ok(SetValue::IfNotExists(p, Box::new(v)))
                    }
                    "list_append" => {
                        self.check_arity("list_append", n, 2);
                        let a = it.next().unwrap_or(SetValue::Value(AttrValue::Null));
                        let b = it.next().unwrap_or(SetValue::Value(AttrValue::Null));
                        Ok(SetValue::ListAppend(Box::new(a), Box::new(b)))
                    }
                    other => {
                        self.check_function_name(other);
                        self.semantic(format!(
                            "The function is not allowed in an update expression; function: {other}"
                        ));
                        Ok(SetValue::Value(AttrValue::Null))
                    }
                }
            }
            Tok::Ident(_) | Tok::Name(_) => Ok(SetValue::Path(self.path()?)),
            _ => Err(self.syntax_error()),
        }
    }

    // ---- projections ----

    fn projection(&mut self) -> PResult<Vec<Path>> {
        let mut paths = vec![self.path()?];
        while *self.peek() == Tok::Comma {
            self.bump();
            paths.push(self.path()?);
        }
        self.expect_eof()?;
        for (i, a) in paths.iter().enumerate() {
            for b in &paths[..i] {
                if a.overlaps(b) {
                    let msg = format!(
                        "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: {b}, path two: {a}"
                    );
                    self.semantic(msg);
                }
            }
        }
        Ok(paths)
    }
}

fn empty_check(src: &str, kind: ExprKind) -> PResult<()> {
    if src.trim().is_empty() {
        return Err(kind.error("The expression can not be empty;"));
    }
    Ok(())
}

/// Parses a condition (ConditionExpression, FilterExpression, KeyConditionExpression).
pub fn parse_condition(src: &str, kind: ExprKind, ctx: &mut ExprContext) -> PResult<Cond> {
    empty_check(src, kind)?;
    let mut p = Parser::new(src, kind, ctx);
    let c = p.condition()?;
    p.expect_eof()?;
    p.finish()?;
    Ok(c)
}

pub fn parse_update(src: &str, ctx: &mut ExprContext) -> PResult<Update> {
    empty_check(src, ExprKind::Update)?;
    let mut p = Parser::new(src, ExprKind::Update, ctx);
    let u = p.update()?;
    p.finish()?;
    Ok(u)
}

pub fn parse_projection(src: &str, ctx: &mut ExprContext) -> PResult<Vec<Path>> {
    empty_check(src, ExprKind::Projection)?;
    let mut p = Parser::new(src, ExprKind::Projection, ctx);
    let paths = p.projection()?;
    p.finish()?;
    Ok(paths)
}

/// Fuzzing entry points: parse with no names or values defined; must never panic.
pub fn parse_condition_expression(src: &str) -> PResult<Cond> {
    parse_condition(src, ExprKind::Condition, &mut ExprContext::default())
}

pub fn parse_update_expression(src: &str) -> PResult<Update> {
    parse_update(src, &mut ExprContext::default())
}

pub fn parse_projection_expression(src: &str) -> PResult<Vec<Path>> {
    parse_projection(src, &mut ExprContext::default())
}

#[cfg(test)]
#[path = "parser_tests.rs"]
mod tests;
