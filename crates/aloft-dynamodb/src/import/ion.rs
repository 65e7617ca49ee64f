//! Ion text sources, as DynamoDB's export writes them: `$ion_1_0 {Item:{...}}` per line.
//! Ion types map to DynamoDB's: strings and symbols → S, int/decimal/float → N, blob → B,
//! bool → BOOL, null → NULL, list → L, struct → M, and lists annotated `$dynamodb_SS`,
//! `$dynamodb_NS`, `$dynamodb_BS` → the set types. Timestamps, clobs and s-expressions have
//! no DynamoDB type: such a record is an error.

use std::cell::Cell;

use serde_json::{Map, Value as Json, json};

use super::Record;

enum Ion {
    Null,
    Bool(bool),
    Str(String),
    Sym(String),
    /// Number text already in DynamoDB's notation.
    Num(String),
    /// Base64 text.
    Blob(String),
    List(Vec<(Vec<String>, Ion)>),
    Struct(Vec<(String, Vec<String>, Ion)>),
}

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
    /// Offset of `b` in the object (error messages name offsets in the object).
    base: usize,
    /// Whether parsing looked at (or past) the end of `b`: with more text to come, what
    /// was parsed may read differently, so it is parsed again once more has arrived.
    hit_end: Cell<bool>,
    /// Whether whitespace skipping stopped inside a `//` comment at the end of `b`.
    open_comment: bool,
}

type Res<T> = Result<T, String>;

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c == b'$'
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$'
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        let c = self.b.get(self.i).copied();
        if c.is_none() {
            self.hit_end.set(true);
        }
        c
    }

    /// Whether `pat` starts here (noting when the text ends inside it).
    fn at(&self, pat: &[u8]) -> bool {
        let rest = &self.b[self.i.min(self.b.len())..];
        if rest.len() < pat.len() && pat.starts_with(rest) {
            self.hit_end.set(true);
        }
        rest.starts_with(pat)
    }

    /// Where `pat` next occurs from `from`, if it does in the text at hand.
    fn find(&self, from: usize, pat: &[u8]) -> Option<usize> {
        let found = self.b[from.min(self.b.len())..]
            .windows(pat.len())
            .position(|w| w == pat);
        if found.is_none() {
            self.hit_end.set(true);
        }
        found
    }

    fn skip_ws(&mut self) -> Res<()> {
        while let Some(c) = self.peek() {
            if c.is_ascii_whitespace() {
                self.i += 1;
            } else if self.at(b"//") {
                while self.peek().is_some_and(|c| c != b'\n') {
                    self.i += 1;
                }
                self.open_comment = self.i >= self.b.len();
            } else if self.at(b"/*") {
                let end = self.find(self.i + 2, b"*/").ok_or("Unterminated comment")?;
                self.i += end + 4;
            } else {
                break;
            }
        }
        Ok(())
    }

    fn expect(&mut self, c: u8) -> Res<()> {
        self.skip_ws()?;
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(format!(
                "Expected '{}' at offset {}",
                c as char,
                self.base + self.i
            ))
        }
    }

    /// A quoted string body after its opening quote `q`, escapes resolved.
    fn quoted(&mut self, q: u8) -> Res<String> {
        let mut out = Vec::new();
        loop {
            let c = self.peek().ok_or("Unterminated string")?;
            self.i += 1;
            if c == q {
                break;
            }
            if c == b'\n' && q == b'"' {
                return Err("Newline in a quoted string".to_string());
            }
            if c == b'\\' {
                self.escape(&mut out)?;
            } else {
                out.push(c);
            }
        }
        String::from_utf8(out).map_err(|_| "Invalid UTF-8 in a string".to_string())
    }

    /// One escape sequence, just after its backslash.
    fn escape(&mut self, out: &mut Vec<u8>) -> Res<()> {
        let e = self.peek().ok_or("Unterminated escape")?;
        self.i += 1;
        let simple = match e {
            b'n' => Some(b'\n'),
            b't' => Some(b'\t'),
            b'r' => Some(b'\r'),
            b'0' => Some(0),
            b'a' => Some(7),
            b'b' => Some(8),
            b'f' => Some(12),
            b'v' => Some(11),
            b'"' | b'\'' | b'\\' | b'/' | b'?' => Some(e),
            _ => None,
        };
        if let Some(s) = simple {
            out.push(s);
            return Ok(());
        }
        if e == b'\n' {
            return Ok(());
        }
        let digits = match e {
            b'x' => 2,
            b'u' => 4,
            b'U' => 8,
            _ => return Err(format!("Invalid escape \\{}", e as char)),
        };
        let hex = self.b.get(self.i..self.i + digits);
        if hex.is_none() {
            self.hit_end.set(true);
        }
        let ch = hex
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .and_then(char::from_u32)
            .ok_or("Invalid escape sequence")?;
        self.i += digits;
        let mut buf = [0u8; 4];
        out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
        Ok(())
    }

    fn ident(&mut self) -> String {
        let start = self.i;
        while self.peek().is_some_and(is_ident) {
            self.i += 1;
        }
        String::from_utf8_lossy(&self.b[start..self.i]).into_owned()
    }

    /// A symbol (identifier or `'quoted'`), if one starts here.
    fn symbol(&mut self) -> Res<Option<String>> {
        match self.peek() {
            Some(b'\'') if !self.at(b"'''") => {
                self.i += 1;
                self.quoted(b'\'').map(Some)
            }
            Some(c) if is_ident_start(c) => Ok(Some(self.ident())),
            _ => Ok(None),
        }
    }

    /// A value with its annotations.
    fn value(&mut self) -> Res<(Vec<String>, Ion)> {
        let mut annotations = Vec::new();
        loop {
            self.skip_ws()?;
            let save = self.i;
            let Some(sym) = self.symbol()? else { break };
            self.skip_ws()?;
            if self.at(b"::") {
                self.i += 2;
                annotations.push(sym);
            } else {
                self.i = save;
                break;
            }
        }
        self.skip_ws()?;
        let c = self.peek().ok_or("Unexpected end of data")?;
        let v = match c {
            b'{' if self.at(b"{{") => self.lob()?,
            b'{' => self.structure()?,
            b'[' => self.list()?,
            b'(' => return Err("S-expressions have no DynamoDB type".to_string()),
            b'"' => {
                self.i += 1;
                Ion::Str(self.quoted(b'"')?)
            }
            b'\'' if self.at(b"'''") => Ion::Str(self.long_string()?),
            b'\'' => Ion::Sym(self.symbol()?.unwrap_or_default()),
            c if is_ident_start(c) => self.keyword()?,
            b'-' | b'+' | b'0'..=b'9' => self.number()?,
            other => return Err(format!("Unexpected character '{}'", other as char)),
        };
        Ok((annotations, v))
    }

    fn keyword(&mut self) -> Res<Ion> {
        let word = self.ident();
        Ok(match word.as_str() {
            "true" => Ion::Bool(true),
            "false" => Ion::Bool(false),
            "nan" => return Err("nan is not a DynamoDB number".to_string()),
            "null" => {
                // Typed nulls (`null.string`) are nulls too.
                if self.peek() == Some(b'.') {
                    self.i += 1;
                    self.ident();
                }
                Ion::Null
            }
            _ => Ion::Sym(word),
        })
    }

    fn long_string(&mut self) -> Res<String> {
        // Adjacent '''…''' segments concatenate.
        let mut out = Vec::new();
        loop {
            self.skip_ws()?;
            if !self.at(b"'''") {
                return String::from_utf8(out).map_err(|_| "Invalid UTF-8 in a string".to_string());
            }
            self.i += 3;
            loop {
                if self.at(b"'''") {
                    self.i += 3;
                    break;
                }
                let c = self.peek().ok_or("Unterminated long string")?;
                self.i += 1;
                if c == b'\\' {
                    self.escape(&mut out)?;
                } else {
                    out.push(c);
                }
            }
        }
    }

    fn lob(&mut self) -> Res<Ion> {
        self.i += 2;
        let end = self.find(self.i, b"}}").ok_or("Unterminated blob")?;
        let inner = &self.b[self.i..self.i + end];
        self.i += end + 2;
        if inner.iter().any(|c| *c == b'"' || *c == b'\'') {
            return Err("Clobs have no DynamoDB type".to_string());
        }
        let text: String = inner
            .iter()
            .filter(|c| !c.is_ascii_whitespace())
            .map(|c| *c as char)
            .collect();
        Ok(Ion::Blob(text))
    }

    fn list(&mut self) -> Res<Ion> {
        self.i += 1;
        let mut items = Vec::new();
        loop {
            self.skip_ws()?;
            if self.peek() == Some(b']') {
                self.i += 1;
                return Ok(Ion::List(items));
            }
            items.push(self.value()?);
            self.separator(b']')?;
        }
    }

    /// After a list element or struct field: a comma (taken), or the closing `close` (left
    /// for the caller's loop).
    fn separator(&mut self, close: u8) -> Res<()> {
        self.skip_ws()?;
        match self.peek() {
            Some(b',') => self.i += 1,
            Some(c) if c == close => {}
            _ => {
                return Err(format!(
                    "Expected ',' or '{}' at offset {}",
                    close as char,
                    self.base + self.i
                ));
            }
        }
        Ok(())
    }

    fn structure(&mut self) -> Res<Ion> {
        self.i += 1;
        let mut fields = Vec::new();
        loop {
            self.skip_ws()?;
            if self.peek() == Some(b'}') {
                self.i += 1;
                return Ok(Ion::Struct(fields));
            }
            let name = match self.peek() {
                Some(b'"') => {
                    self.i += 1;
                    self.quoted(b'"')?
                }
                Some(b'\'') if self.at(b"'''") => self.long_string()?,
                _ => self.symbol()?.ok_or_else(|| {
                    format!("Expected a field name at offset {}", self.base + self.i)
                })?,
            };
            self.expect(b':')?;
            let (ann, v) = self.value()?;
            fields.push((name, ann, v));
            self.separator(b'}')?;
        }
    }

    fn number(&mut self) -> Res<Ion> {
        let start = self.i;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || b"+-._".contains(&c))
        {
            self.i += 1;
        }
        let raw = std::str::from_utf8(&self.b[start..self.i]).unwrap_or_default();
        number_text(raw).map(Ion::Num)
    }
}

/// Ion number text in DynamoDB's notation: `103.` → `103`, `6d2` → `6e2`, `0x1F` → `31`.
fn number_text(raw: &str) -> Res<String> {
    if raw == "+inf" || raw == "-inf" {
        return Err(format!("{raw} is not a DynamoDB number"));
    }
    if raw.len() >= 10 && raw.as_bytes()[4] == b'-' && raw.contains('T') || raw.ends_with('T') {
        return Err("Timestamps have no DynamoDB type".to_string());
    }
    let s: String = raw.chars().filter(|c| *c != '_').collect();
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s.as_str()),
    };
    let radix = if body.starts_with("0x") || body.starts_with("0X") {
        Some(16)
    } else if body.starts_with("0b") || body.starts_with("0B") {
        Some(2)
    } else {
        None
    };
    if let Some(radix) = radix {
        let v =
            u128::from_str_radix(&body[2..], radix).map_err(|_| format!("Invalid number {raw}"))?;
        return Ok(format!("{}{v}", if neg { "-" } else { "" }));
    }
    let (mantissa, exp) = match body.find(['d', 'D', 'e', 'E']) {
        Some(p) => (&body[..p], Some(&body[p + 1..])),
        None => (body, None),
    };
    let mantissa = mantissa.strip_suffix('.').unwrap_or(mantissa);
    let ok = !mantissa.is_empty()
        && mantissa.chars().all(|c| c.is_ascii_digit() || c == '.')
        && mantissa.matches('.').count() <= 1
        && exp.is_none_or(|e| {
            let d = e.strip_prefix(['+', '-']).unwrap_or(e);
            !d.is_empty() && d.chars().all(|c| c.is_ascii_digit())
        });
    if !ok {
        return Err(format!("Invalid number {raw}"));
    }
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    out.push_str(mantissa);
    if let Some(e) = exp {
        out.push('e');
        out.push_str(e);
    }
    Ok(out)
}

/// An Ion value as a DynamoDB JSON attribute value.
fn to_attr(annotations: &[String], v: Ion) -> Res<Json> {
    let set = annotations.iter().find_map(|a| match a.as_str() {
        "$dynamodb_SS" => Some("SS"),
        "$dynamodb_NS" => Some("NS"),
        "$dynamodb_BS" => Some("BS"),
        _ => None,
    });
    if let Some(tag) = set {
        let Ion::List(items) = v else {
            return Err(format!("{tag} must annotate a list"));
        };
        let members = items
            .into_iter()
            .map(|(_, m)| match (tag, m) {
                ("SS", Ion::Str(s) | Ion::Sym(s)) | ("NS", Ion::Num(s)) | ("BS", Ion::Blob(s)) => {
                    Ok(Json::String(s))
                }
                _ => Err(format!("A member of a {tag} set has the wrong type")),
            })
            .collect::<Res<Vec<_>>>()?;
        return Ok(json!({ tag: members }));
    }
    Ok(match v {
        Ion::Null => json!({"NULL": true}),
        Ion::Bool(b) => json!({"BOOL": b}),
        Ion::Str(s) | Ion::Sym(s) => json!({"S": s}),
        Ion::Num(n) => json!({"N": n}),
        Ion::Blob(b) => json!({"B": b}),
        Ion::List(items) => {
            let l = items
                .into_iter()
                .map(|(a, m)| to_attr(&a, m))
                .collect::<Res<Vec<_>>>()?;
            json!({"L": l})
        }
        Ion::Struct(fields) => json!({"M": to_map(fields)?}),
    })
}

fn to_map(fields: Vec<(String, Vec<String>, Ion)>) -> Res<Map<String, Json>> {
    fields
        .into_iter()
        .map(|(n, a, v)| Ok((n, to_attr(&a, v)?)))
        .collect()
}

/// Reads the records of Ion `text` (the object from offset `base`, starting between
/// values) and returns the offset of the first byte not yet read. A record that cannot be
/// read is an error; reading resumes at the next line (exports write one item per line),
/// which `skip_line` asks of the caller when that line is not in `text` yet. Without `last`,
/// a value that reaches the end of `text` waits for more, so that it reads exactly as it
/// would in the whole object.
pub(super) fn scan(
    text: &[u8],
    base: usize,
    last: bool,
    line: &mut dyn FnMut(usize) -> usize,
    skip_line: &mut bool,
    emit: &mut dyn FnMut(Record),
) -> usize {
    let mut p = Parser {
        b: text,
        i: 0,
        base,
        hit_end: Cell::new(false),
        open_comment: false,
    };
    loop {
        let before = p.i;
        p.hit_end.set(false);
        p.open_comment = false;
        if let Err(e) = p.skip_ws() {
            if !last {
                return before;
            }
            emit(Record::Bad {
                line: line(p.i),
                message: e,
            });
            return text.len();
        }
        if p.i >= text.len() {
            return if last || !p.open_comment { p.i } else { before };
        }
        let start = p.i;
        p.hit_end.set(false);
        let parsed = p.value().and_then(|(ann, v)| match v {
            Ion::Sym(s) if ann.is_empty() && s == "$ion_1_0" => Ok(None),
            Ion::Struct(mut fields)
                if fields.len() == 1 && fields[0].0 == "Item" && fields[0].1.is_empty() =>
            {
                match fields.pop() {
                    Some((_, _, Ion::Struct(item))) => to_map(item).map(Some),
                    _ => Err("Item must be a struct".to_string()),
                }
            }
            _ => Err("Expected a struct {Item:{...}}".to_string()),
        });
        if p.hit_end.get() && !last {
            return start;
        }
        match parsed {
            Ok(Some(item)) => emit(Record::Item(item)),
            Ok(None) => {}
            Err(message) => {
                emit(Record::Bad {
                    line: line(start),
                    message,
                });
                match text[start..].iter().position(|c| *c == b'\n') {
                    Some(n) => p.i = start + n + 1,
                    None => {
                        *skip_line = !last;
                        return text.len();
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(j: Json) -> Record {
        Record::Item(j.as_object().unwrap().clone())
    }

    #[test]
    fn export_lines_map_every_type() {
        let text = "$ion_1_0 {Item:{Authors:$dynamodb_SS::[\"A1\",\"A2\"],Id:103.,Price:2d3,F:1.5e0,\
                    Neg:-0.25,B:{{AQI=}},Ok:false,Z:null,L:[1,\"x\"],M:{'a b':\"c\"},\
                    NS:$dynamodb_NS::[1.,2.5],BS:$dynamodb_BS::[{{ AQ== }}],Big:1_000}}\n";
        let r = crate::import::records(
            text.as_bytes(),
            crate::import::Format::Ion,
            &Default::default(),
            &[],
        );
        assert_eq!(
            r,
            vec![item(json!({
                "Authors": {"SS": ["A1", "A2"]}, "Id": {"N": "103"}, "Price": {"N": "2e3"},
                "F": {"N": "1.5e0"}, "Neg": {"N": "-0.25"}, "B": {"B": "AQI="}, "Ok": {"BOOL": false},
                "Z": {"NULL": true}, "L": {"L": [{"N": "1"}, {"S": "x"}]}, "M": {"M": {"a b": {"S": "c"}}},
                "NS": {"NS": ["1", "2.5"]}, "BS": {"BS": ["AQ=="]}, "Big": {"N": "1000"}
            }))]
        );
    }

    #[test]
    fn strings_escapes_comments_and_long_strings() {
        let text = "// header\n{Item:{s:\"a\\\"b\\u00e9\\n\", t:'''one''' '''two''', /* c */ n:null.string}}";
        let r = crate::import::records(
            text.as_bytes(),
            crate::import::Format::Ion,
            &Default::default(),
            &[],
        );
        assert_eq!(
            r,
            vec![item(
                json!({"s": {"S": "a\"b\u{e9}\n"}, "t": {"S": "onetwo"}, "n": {"NULL": true}})
            )]
        );
    }

    #[test]
    fn bad_records_resume_at_the_next_line() {
        let text = "{Item:{a:2007-02-23T12:14Z}}\n{Item:{a:(x y)}}\n{NotItem:{}}\n{Item:{a:\"ok\"}}\n{Item:{a:\"open}}";
        let r = crate::import::records(
            text.as_bytes(),
            crate::import::Format::Ion,
            &Default::default(),
            &[],
        );
        assert!(matches!(&r[0], Record::Bad { line: 1, .. }));
        assert!(matches!(&r[1], Record::Bad { line: 2, .. }));
        assert!(matches!(&r[2], Record::Bad { line: 3, .. }));
        assert_eq!(r[3], item(json!({"a": {"S": "ok"}})));
        assert!(matches!(&r[4], Record::Bad { line: 5, .. }));
        assert_eq!(r.len(), 5);
    }

    #[test]
    fn number_notation() {
        assert_eq!(number_text("0x1F").unwrap(), "31");
        assert_eq!(number_text("-12.5d-3").unwrap(), "-12.5e-3");
        assert!(number_text("+inf").is_err());
        assert!(number_text("1..2").is_err());
    }
}
