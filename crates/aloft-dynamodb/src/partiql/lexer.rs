//! Tokens of DynamoDB's PartiQL dialect: keywords and bare names, `"quoted names"`,
//! `'string literals'` (with `''` for a quote), numbers, `?` parameters and punctuation.

use aloft_core::AwsError;

use super::malformed;

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// A bare word: a keyword or a name, compared case-insensitively as a keyword.
    Word(String),
    /// A double-quoted name (never a keyword).
    Quoted(String),
    Str(String),
    Num(String),
    Param,
    Punct(&'static str),
}

impl Tok {
    pub fn is_kw(&self, kw: &str) -> bool {
        matches!(self, Tok::Word(w) if w.eq_ignore_ascii_case(kw))
    }
}

const PUNCT: [&str; 22] = [
    "<<", ">>", "<>", "!=", "<=", ">=", "(", ")", "[", "]", "{", "}", ",", ".", ":", "=", "<", ">",
    "+", "-", "*", ";",
];

pub fn tokenize(src: &str) -> Result<Vec<Tok>, AwsError> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        // `--` comments run to the end of the line.
        if b[i..].starts_with(b"--") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        if c == b'\'' || c == b'"' {
            let (s, next) = quoted(src, i, c)?;
            out.push(if c == b'\'' {
                Tok::Str(s)
            } else {
                Tok::Quoted(s)
            });
            i = next;
            continue;
        }
        if c.is_ascii_digit() || (c == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit)) {
            let start = i;
            while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
                i += 1;
            }
            if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
                let mut j = i + 1;
                if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
                    j += 1;
                }
                if j < b.len() && b[j].is_ascii_digit() {
                    i = j;
                    while i < b.len() && b[i].is_ascii_digit() {
                        i += 1;
                    }
                }
            }
            out.push(Tok::Num(src[start..i].to_string()));
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' || c == b'$' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'$') {
                i += 1;
            }
            out.push(Tok::Word(src[start..i].to_string()));
            continue;
        }
        if c == b'?' {
            out.push(Tok::Param);
            i += 1;
            continue;
        }
        match PUNCT.iter().find(|p| b[i..].starts_with(p.as_bytes())) {
            Some(p) => {
                out.push(Tok::Punct(p));
                i += p.len();
            }
            None => return Err(malformed("Unexpected token")),
        }
    }
    Ok(out)
}

/// A quoted literal from `start` (the opening quote); a doubled quote stands for one.
fn quoted(src: &str, start: usize, q: u8) -> Result<(String, usize), AwsError> {
    let b = src.as_bytes();
    let mut s = String::new();
    let mut i = start + 1;
    let mut run = i;
    loop {
        if i >= b.len() {
            return Err(malformed("Unexpected end of statement"));
        }
        if b[i] == q {
            s.push_str(&src[run..i]);
            if b.get(i + 1) == Some(&q) {
                s.push(q as char);
                i += 2;
                run = i;
                continue;
            }
            return Ok((s, i + 1));
        }
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        let t = tokenize(r#"SELECT "a b", x FROM t WHERE s = 'it''s' AND n >= -1.5e3 AND y = ?"#)
            .unwrap();
        assert!(t[0].is_kw("select"));
        assert_eq!(t[1], Tok::Quoted("a b".into()));
        assert!(t.contains(&Tok::Str("it's".into())));
        assert!(t.contains(&Tok::Num("1.5e3".into())));
        assert!(t.contains(&Tok::Punct(">=")));
        assert_eq!(t.last(), Some(&Tok::Param));
        assert!(tokenize("SELECT * FROM t WHERE a = 'x").is_err());
        assert!(tokenize("SELECT # FROM t").is_err());
    }
}
