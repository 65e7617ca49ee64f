//! Template text → [`Node`]s, with Velocity 1.7's whitespace rules for directive lines.
//!
//! Velocity 1.7 (what API Gateway runs) eats the rest of the line after a directive's closing
//! `)` and after `#else`/`#end` when only spaces precede the newline, and `#set` also eats the
//! spaces before it; the indentation before other directives stays in the output. That is why
//! AWS's rendering of seed 004's template has its odd indentation, and tests pin it.

use std::collections::HashSet;

use crate::Error;
use crate::ast::{Accessor, BinOp, Expr, Node, Reference};

/// Nesting deeper than this is refused rather than risking the stack.
const MAX_DEPTH: usize = 40;

enum Stop {
    Eof,
    End,
    Else,
    ElseIf(Expr),
}

pub(crate) struct Parser<'a> {
    src: &'a str,
    b: &'a [u8],
    pos: usize,
    depth: usize,
    macros: HashSet<String>,
}

pub(crate) fn parse(src: &str) -> Result<Vec<Node>, Error> {
    let mut p = Parser {
        src,
        b: src.as_bytes(),
        pos: 0,
        depth: 0,
        macros: HashSet::new(),
    };
    let (nodes, end) = p.block()?;
    match end {
        Stop::Eof => Ok(nodes),
        Stop::End => Err(p.error("unexpected #end")),
        Stop::Else | Stop::ElseIf(_) => Err(p.error("#else or #elseif without #if")),
    }
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

/// Velocity identifiers may contain `-` after the first character (`$foo-bar` is one name).
fn is_ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

impl<'a> Parser<'a> {
    fn error(&self, msg: &str) -> Error {
        let before = &self.src[..self.pos.min(self.src.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
        Error {
            message: format!("{msg} at line {line}, column {column}"),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn at(&self, off: usize) -> Option<u8> {
        self.b.get(self.pos + off).copied()
    }

    fn starts_with(&self, s: &str) -> bool {
        self.b[self.pos..].starts_with(s.as_bytes())
    }

    fn enter(&mut self) -> Result<(), Error> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error("template nested too deeply"));
        }
        Ok(())
    }

    fn block(&mut self) -> Result<(Vec<Node>, Stop), Error> {
        self.enter()?;
        let mut nodes = Vec::new();
        let mut text = String::new();
        let flush = |nodes: &mut Vec<Node>, text: &mut String| {
            if !text.is_empty() {
                nodes.push(Node::Text(std::mem::take(text)));
            }
        };
        let end = loop {
            let Some(c) = self.peek() else {
                break Stop::Eof;
            };
            match c {
                b'$' => {
                    if let Some(r) = self.reference()? {
                        flush(&mut nodes, &mut text);
                        nodes.push(Node::Ref(r));
                    } else {
                        text.push('$');
                        self.pos += 1;
                    }
                }
                b'\\' if matches!(self.at(1), Some(b'$' | b'#')) => {
                    // `\$ref` and `\#directive` print the rest literally.
                    text.push(self.b[self.pos + 1] as char);
                    self.pos += 2;
                }
                b'#' => {
                    if let Some(end) = self.hash(&mut nodes, &mut text)? {
                        break end;
                    }
                }
                _ => {
                    let start = self.pos;
                    while let Some(c) = self.peek() {
                        if matches!(c, b'$' | b'#' | b'\\') && self.pos > start {
                            break;
                        }
                        self.pos += 1;
                        if c == b'\\' {
                            break;
                        }
                    }
                    text.push_str(&self.src[start..self.pos]);
                }
            }
        };
        flush(&mut nodes, &mut text);
        self.depth -= 1;
        Ok((nodes, end))
    }

    /// After a `#`: a comment, a directive, or a literal `#`. Returns a block terminator.
    fn hash(&mut self, nodes: &mut Vec<Node>, text: &mut String) -> Result<Option<Stop>, Error> {
        if self.starts_with("##") {
            // A line comment takes its newline with it.
            while let Some(c) = self.peek() {
                self.pos += 1;
                if c == b'\n' {
                    break;
                }
            }
            return Ok(None);
        }
        if self.starts_with("#*") {
            match self.src[self.pos + 2..].find("*#") {
                Some(i) => self.pos += 2 + i + 2,
                None => self.pos = self.b.len(),
            }
            return Ok(None);
        }
        if self.starts_with("#[[") {
            let body_start = self.pos + 3;
            let end = self.src[body_start..]
                .find("]]#")
                .map_or(self.b.len(), |i| body_start + i);
            text.push_str(&self.src[body_start..end]);
            self.pos = (end + 3).min(self.b.len());
            return Ok(None);
        }
        let start = self.pos;
        let braced = self.at(1) == Some(b'{');
        let name_start = start + 1 + usize::from(braced);
        let mut p = name_start;
        if !self.b.get(p).copied().is_some_and(is_ident_start) {
            text.push('#');
            self.pos += 1;
            return Ok(None);
        }
        while self
            .b
            .get(p)
            .copied()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_')
        {
            p += 1;
        }
        let name = &self.src[name_start..p];
        if braced {
            if self.b.get(p) != Some(&b'}') {
                text.push('#');
                self.pos += 1;
                return Ok(None);
            }
            p += 1;
        }
        let flush = |nodes: &mut Vec<Node>, text: &mut String| {
            if !text.is_empty() {
                nodes.push(Node::Text(std::mem::take(text)));
            }
        };
        match name {
            "set" => {
                // `#set` takes the spaces before it on its line.
                let trimmed = text.trim_end_matches([' ', '\t']).len();
                text.truncate(trimmed);
                flush(nodes, text);
                self.pos = p;
                self.open_paren()?;
                self.ws();
                if self.peek() != Some(b'$') {
                    return Err(self.error("#set needs a reference on its left"));
                }
                let Some(target) = self.reference()? else {
                    return Err(self.error("#set needs a reference on its left"));
                };
                self.ws();
                if self.peek() != Some(b'=') {
                    return Err(self.error("#set needs `=`"));
                }
                self.pos += 1;
                let value = self.expr()?;
                self.close_paren()?;
                nodes.push(Node::Set(target, value));
            }
            "if" => {
                flush(nodes, text);
                self.pos = p;
                self.open_paren()?;
                let cond = self.expr()?;
                self.close_paren()?;
                nodes.push(self.if_rest(cond)?);
            }
            "foreach" => {
                flush(nodes, text);
                self.pos = p;
                self.open_paren()?;
                self.ws();
                let Some(var) = self.reference()? else {
                    return Err(self.error("#foreach needs a loop variable"));
                };
                if !var.path.is_empty() {
                    return Err(self.error("#foreach loop variable must be a plain name"));
                }
                self.ws();
                if !self.word("in") {
                    return Err(self.error("#foreach needs `in`"));
                }
                self.pos += 2;
                let list = self.expr()?;
                self.close_paren()?;
                let (body, end) = self.block()?;
                if !matches!(end, Stop::End) {
                    return Err(self.error("#foreach without #end"));
                }
                nodes.push(Node::Foreach(var.name, list, body));
            }
            "elseif" => {
                flush(nodes, text);
                self.pos = p;
                self.open_paren()?;
                let cond = self.expr()?;
                self.close_paren()?;
                return Ok(Some(Stop::ElseIf(cond)));
            }
            "else" => {
                flush(nodes, text);
                self.pos = p;
                self.gobble_line();
                return Ok(Some(Stop::Else));
            }
            "end" => {
                flush(nodes, text);
                self.pos = p;
                self.gobble_line();
                return Ok(Some(Stop::End));
            }
            "break" => {
                flush(nodes, text);
                self.pos = p;
                nodes.push(Node::Break);
            }
            "stop" => {
                flush(nodes, text);
                self.pos = p;
                nodes.push(Node::Stop);
            }
            "macro" => {
                flush(nodes, text);
                self.pos = p;
                nodes.push(self.macro_def()?);
            }
            _ if self.macros.contains(name) && self.paren_follows(p) => {
                flush(nodes, text);
                self.pos = p;
                self.open_paren()?;
                let mut args = Vec::new();
                loop {
                    self.ws();
                    match self.peek() {
                        Some(b')') => break,
                        Some(b',') => self.pos += 1,
                        None => return Err(self.error("unclosed macro call")),
                        _ => args.push(self.primary()?),
                    }
                }
                self.close_paren()?;
                nodes.push(Node::MacroCall(name.to_string(), args));
            }
            _ => {
                text.push('#');
                self.pos += 1;
            }
        }
        Ok(None)
    }

    fn paren_follows(&self, mut p: usize) -> bool {
        while matches!(self.b.get(p), Some(b' ' | b'\t')) {
            p += 1;
        }
        self.b.get(p) == Some(&b'(')
    }

    fn if_rest(&mut self, first: Expr) -> Result<Node, Error> {
        let mut branches = Vec::new();
        let mut cond = first;
        loop {
            let (body, end) = self.block()?;
            branches.push((cond, body));
            match end {
                Stop::ElseIf(next) => cond = next,
                Stop::Else => {
                    let (body, end) = self.block()?;
                    if !matches!(end, Stop::End) {
                        return Err(self.error("#else without #end"));
                    }
                    return Ok(Node::If(branches, Some(body)));
                }
                Stop::End => return Ok(Node::If(branches, None)),
                Stop::Eof => return Err(self.error("#if without #end")),
            }
        }
    }

    fn macro_def(&mut self) -> Result<Node, Error> {
        self.open_paren()?;
        self.ws();
        let start = self.pos;
        while self.peek().is_some_and(is_ident_char) {
            self.pos += 1;
        }
        let name = self.src[start..self.pos].to_string();
        if name.is_empty() {
            return Err(self.error("#macro needs a name"));
        }
        let mut params = Vec::new();
        loop {
            self.ws();
            match self.peek() {
                Some(b')') => break,
                Some(b',') => self.pos += 1,
                Some(b'$') => match self.reference()? {
                    Some(r) if r.path.is_empty() => params.push(r.name),
                    _ => return Err(self.error("bad #macro parameter")),
                },
                _ => return Err(self.error("bad #macro parameter")),
            }
        }
        self.close_paren()?;
        self.macros.insert(name.clone());
        let (body, end) = self.block()?;
        if !matches!(end, Stop::End) {
            return Err(self.error("#macro without #end"));
        }
        Ok(Node::Macro(name, params, body))
    }

    fn open_paren(&mut self) -> Result<(), Error> {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
        if self.peek() != Some(b'(') {
            return Err(self.error("expected `(`"));
        }
        self.pos += 1;
        Ok(())
    }

    fn close_paren(&mut self) -> Result<(), Error> {
        self.ws();
        if self.peek() != Some(b')') {
            return Err(self.error("expected `)`"));
        }
        self.pos += 1;
        self.gobble_line();
        Ok(())
    }

    /// Eats `[ \t]*` and a line break if that is all that is left of the line.
    fn gobble_line(&mut self) {
        let mut p = self.pos;
        while matches!(self.b.get(p), Some(b' ' | b'\t')) {
            p += 1;
        }
        match self.b.get(p) {
            Some(b'\n') => self.pos = p + 1,
            Some(b'\r') => self.pos = p + 1 + usize::from(self.b.get(p + 1) == Some(&b'\n')),
            _ => {}
        }
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    /// `$x`, `$!x`, `${x.y}`, `$x.m(a, b)[0]`. `None` (position unchanged) if this `$` starts
    /// no reference and is plain text.
    fn reference(&mut self) -> Result<Option<Reference>, Error> {
        let start = self.pos;
        let mut p = start + 1;
        let quiet = self.b.get(p) == Some(&b'!');
        if quiet {
            p += 1;
        }
        let formal = self.b.get(p) == Some(&b'{');
        if formal {
            p += 1;
        }
        if !self.b.get(p).copied().is_some_and(is_ident_start) {
            return Ok(None);
        }
        let name_start = p;
        while self.b.get(p).copied().is_some_and(is_ident_char) {
            p += 1;
        }
        let name = self.src[name_start..p].to_string();
        self.pos = p;
        let mut path = Vec::new();
        loop {
            match self.peek() {
                Some(b'.') if self.at(1).is_some_and(is_ident_start) => {
                    let s = self.pos + 1;
                    let mut e = s;
                    while self.b.get(e).copied().is_some_and(is_ident_char) {
                        e += 1;
                    }
                    let ident = self.src[s..e].to_string();
                    self.pos = e;
                    if self.peek() == Some(b'(') {
                        self.pos += 1;
                        let args = self.args(b')')?;
                        path.push(Accessor::Method(ident, args));
                    } else {
                        path.push(Accessor::Property(ident));
                    }
                }
                Some(b'[') => {
                    self.pos += 1;
                    self.enter()?;
                    let index = self.expr()?;
                    self.depth -= 1;
                    self.ws();
                    if self.peek() != Some(b']') {
                        return Err(self.error("expected `]`"));
                    }
                    self.pos += 1;
                    path.push(Accessor::Index(index));
                }
                _ => break,
            }
        }
        if formal {
            if self.peek() != Some(b'}') {
                // `${` without its `}` is text, as in Velocity.
                self.pos = start;
                return Ok(None);
            }
            self.pos += 1;
        }
        Ok(Some(Reference {
            quiet,
            name,
            path,
            raw: self.src[start..self.pos].to_string(),
        }))
    }

    fn args(&mut self, close: u8) -> Result<Vec<Expr>, Error> {
        self.enter()?;
        let mut args = Vec::new();
        self.ws();
        if self.peek() == Some(close) {
            self.pos += 1;
            self.depth -= 1;
            return Ok(args);
        }
        loop {
            args.push(self.expr()?);
            self.ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(c) if c == close => {
                    self.pos += 1;
                    break;
                }
                _ => return Err(self.error("expected `,` or a closing bracket")),
            }
        }
        self.depth -= 1;
        Ok(args)
    }

    // --- expressions -------------------------------------------------------------------

    fn word(&self, w: &str) -> bool {
        self.starts_with(w) && !self.at(w.len()).is_some_and(is_ident_char)
    }

    fn expr(&mut self) -> Result<Expr, Error> {
        self.enter()?;
        let e = self.binary(0)?;
        self.depth -= 1;
        Ok(e)
    }

    /// The operator at the cursor for precedence level `level` (0 = loosest), and its length.
    fn operator(&self, level: u8) -> Option<(BinOp, usize)> {
        let sym = |s: &str, op| self.starts_with(s).then_some((op, s.len()));
        let word = |s: &str, op| self.word(s).then_some((op, s.len()));
        match level {
            0 => sym("||", BinOp::Or).or_else(|| word("or", BinOp::Or)),
            1 => sym("&&", BinOp::And).or_else(|| word("and", BinOp::And)),
            2 => sym("==", BinOp::Eq)
                .or_else(|| sym("!=", BinOp::Ne))
                .or_else(|| word("eq", BinOp::Eq))
                .or_else(|| word("ne", BinOp::Ne)),
            3 => sym("<=", BinOp::Le)
                .or_else(|| sym(">=", BinOp::Ge))
                .or_else(|| sym("<", BinOp::Lt))
                .or_else(|| sym(">", BinOp::Gt))
                .or_else(|| word("le", BinOp::Le))
                .or_else(|| word("ge", BinOp::Ge))
                .or_else(|| word("lt", BinOp::Lt))
                .or_else(|| word("gt", BinOp::Gt)),
            4 => sym("+", BinOp::Add).or_else(|| sym("-", BinOp::Sub)),
            _ => sym("*", BinOp::Mul)
                .or_else(|| sym("/", BinOp::Div))
                .or_else(|| sym("%", BinOp::Mod)),
        }
    }

    fn binary(&mut self, level: u8) -> Result<Expr, Error> {
        if level > 5 {
            return self.unary();
        }
        let mut left = self.binary(level + 1)?;
        loop {
            self.ws();
            let Some((op, len)) = self.operator(level) else {
                return Ok(left);
            };
            self.pos += len;
            self.enter()?;
            let right = self.binary(level + 1)?;
            self.depth -= 1;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
    }

    fn unary(&mut self) -> Result<Expr, Error> {
        self.ws();
        if self.peek() == Some(b'!') && self.at(1) != Some(b'=') {
            self.pos += 1;
            self.enter()?;
            let e = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(e)));
        }
        if self.word("not") {
            self.pos += 3;
            self.enter()?;
            let e = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(e)));
        }
        if self.peek() == Some(b'-') && !self.at(1).is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
            self.enter()?;
            let e = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::Neg(Box::new(e)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, Error> {
        self.ws();
        let Some(c) = self.peek() else {
            return Err(self.error("unexpected end of template in an expression"));
        };
        match c {
            b'$' => match self.reference()? {
                Some(r) => Ok(Expr::Ref(r)),
                None => Err(self.error("expected a reference after `$`")),
            },
            b'\'' | b'"' => self.string(c),
            b'0'..=b'9' | b'-' => self.number(),
            b'[' => {
                self.pos += 1;
                self.ws();
                if self.peek() == Some(b']') {
                    self.pos += 1;
                    return Ok(Expr::List(Vec::new()));
                }
                let first = self.expr()?;
                self.ws();
                if self.starts_with("..") {
                    self.pos += 2;
                    let last = self.expr()?;
                    self.ws();
                    if self.peek() != Some(b']') {
                        return Err(self.error("expected `]` after a range"));
                    }
                    self.pos += 1;
                    return Ok(Expr::Range(Box::new(first), Box::new(last)));
                }
                let mut items = vec![first];
                match self.peek() {
                    Some(b']') => self.pos += 1,
                    Some(b',') => {
                        self.pos += 1;
                        items.extend(self.args(b']')?);
                    }
                    _ => return Err(self.error("expected `,` or `]` in a list")),
                }
                Ok(Expr::List(items))
            }
            b'{' => {
                self.pos += 1;
                self.enter()?;
                let mut entries = Vec::new();
                loop {
                    self.ws();
                    if self.peek() == Some(b'}') {
                        self.pos += 1;
                        break;
                    }
                    let key = self.expr()?;
                    self.ws();
                    if self.peek() != Some(b':') {
                        return Err(self.error("expected `:` in a map"));
                    }
                    self.pos += 1;
                    let value = self.expr()?;
                    entries.push((key, value));
                    self.ws();
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b'}') => {}
                        _ => return Err(self.error("expected `,` or `}` in a map")),
                    }
                }
                self.depth -= 1;
                Ok(Expr::Map(entries))
            }
            b'(' => {
                self.pos += 1;
                let e = self.expr()?;
                self.ws();
                if self.peek() != Some(b')') {
                    return Err(self.error("expected `)`"));
                }
                self.pos += 1;
                Ok(e)
            }
            _ if self.word("true") => {
                self.pos += 4;
                Ok(Expr::Bool(true))
            }
            _ if self.word("false") => {
                self.pos += 5;
                Ok(Expr::Bool(false))
            }
            _ if self.word("null") => {
                self.pos += 4;
                Ok(Expr::Null)
            }
            _ => Err(self.error("unexpected character in an expression")),
        }
    }

    fn string(&mut self, quote: u8) -> Result<Expr, Error> {
        self.pos += 1;
        let mut content = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.error("unterminated string"));
            };
            if c == quote {
                // A doubled quote is the quote itself (Velocity 1.7).
                if self.at(1) == Some(quote) {
                    content.push(quote as char);
                    self.pos += 2;
                    continue;
                }
                self.pos += 1;
                break;
            }
            let start = self.pos;
            self.pos += 1;
            while self.peek().is_some_and(|c| c != quote) {
                self.pos += 1;
            }
            content.push_str(&self.src[start..self.pos]);
        }
        if quote == b'\'' {
            return Ok(Expr::Str(content));
        }
        if !content.contains(['$', '#']) {
            return Ok(Expr::Str(content));
        }
        let mut inner = Parser {
            src: &content,
            b: content.as_bytes(),
            pos: 0,
            depth: self.depth,
            macros: self.macros.clone(),
        };
        let (nodes, end) = inner.block()?;
        if !matches!(end, Stop::Eof) {
            return Err(self.error("unbalanced directive inside a string"));
        }
        Ok(Expr::Interpolated(nodes))
    }

    fn number(&mut self) -> Result<Expr, Error> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        let mut float = false;
        if self.peek() == Some(b'.') && self.at(1).is_some_and(|c| c.is_ascii_digit()) {
            float = true;
            self.pos += 1;
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.pos += 1;
            }
        }
        let s = &self.src[start..self.pos];
        if s == "-" {
            return Err(self.error("expected a number"));
        }
        if float {
            s.parse()
                .map(Expr::Float)
                .map_err(|_| self.error("bad number"))
        } else {
            match s.parse() {
                Ok(i) => Ok(Expr::Int(i)),
                Err(_) => s
                    .parse()
                    .map(Expr::Float)
                    .map_err(|_| self.error("bad number")),
            }
        }
    }
}
