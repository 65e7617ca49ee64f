//! Tokens of DynamoDB's expression language, with their place in the source for AWS's
//! `near: "…"` in syntax errors.

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Ident(String),
    /// `#name` (without the `#`).
    Name(String),
    /// `:value` (without the `:`).
    Value(String),
    Int(String),
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Dot,
    Plus,
    Minus,
    /// A character the language has no use for.
    Bad(char),
    Eof,
}

#[derive(Debug, Clone)]
pub struct Token {
    pub tok: Tok,
    pub start: usize,
    pub end: usize,
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

pub fn tokenize(src: &str) -> Vec<Token> {
    // Sized up front: growing both vectors from empty cost more than the tokens themselves
    // in a short key condition.
    let mut out = Vec::with_capacity(src.len() / 2 + 2);
    let mut chars: Vec<(usize, char)> = Vec::with_capacity(src.len());
    chars.extend(src.char_indices());
    let mut i = 0;
    let end_of = |j: usize| chars.get(j).map_or(src.len(), |c| c.0);
    while i < chars.len() {
        let (start, c) = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let take_word = |mut j: usize| {
            while j < chars.len() && is_word(chars[j].1) {
                j += 1;
            }
            j
        };
        let (tok, next) = if is_ident_start(c) {
            let j = take_word(i + 1);
            (Tok::Ident(src[start..end_of(j)].to_string()), j)
        } else if c.is_ascii_digit() {
            let mut j = i + 1;
            while j < chars.len() && chars[j].1.is_ascii_digit() {
                j += 1;
            }
            (Tok::Int(src[start..end_of(j)].to_string()), j)
        } else if c == '#' || c == ':' {
            let j = take_word(i + 1);
            if j == i + 1 {
                (Tok::Bad(c), i + 1)
            } else {
                let word = src[chars[i + 1].0..end_of(j)].to_string();
                (
                    if c == '#' {
                        Tok::Name(word)
                    } else {
                        Tok::Value(word)
                    },
                    j,
                )
            }
        } else {
            let next_c = chars.get(i + 1).map(|c| c.1);
            match (c, next_c) {
                ('<', Some('>')) => (Tok::Ne, i + 2),
                ('<', Some('=')) => (Tok::Le, i + 2),
                ('>', Some('=')) => (Tok::Ge, i + 2),
                ('<', _) => (Tok::Lt, i + 1),
                ('>', _) => (Tok::Gt, i + 1),
                ('=', _) => (Tok::Eq, i + 1),
                ('(', _) => (Tok::LParen, i + 1),
                (')', _) => (Tok::RParen, i + 1),
                ('[', _) => (Tok::LBracket, i + 1),
                (']', _) => (Tok::RBracket, i + 1),
                (',', _) => (Tok::Comma, i + 1),
                ('.', _) => (Tok::Dot, i + 1),
                ('+', _) => (Tok::Plus, i + 1),
                ('-', _) => (Tok::Minus, i + 1),
                _ => (Tok::Bad(c), i + 1),
            }
        };
        out.push(Token {
            tok,
            start,
            end: end_of(next),
        });
        i = next;
    }
    out.push(Token {
        tok: Tok::Eof,
        start: src.len(),
        end: src.len(),
    });
    out
}

impl Tok {
    pub fn is_keyword(&self, kw: &str) -> bool {
        matches!(self, Tok::Ident(s) if s.eq_ignore_ascii_case(kw))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        let t: Vec<Tok> = tokenize("a.#b[1] <> :v AND size(x)>=3")
            .into_iter()
            .map(|t| t.tok)
            .collect();
        assert_eq!(
            t,
            vec![
                Tok::Ident("a".into()),
                Tok::Dot,
                Tok::Name("b".into()),
                Tok::LBracket,
                Tok::Int("1".into()),
                Tok::RBracket,
                Tok::Ne,
                Tok::Value("v".into()),
                Tok::Ident("AND".into()),
                Tok::Ident("size".into()),
                Tok::LParen,
                Tok::Ident("x".into()),
                Tok::RParen,
                Tok::Ge,
                Tok::Int("3".into()),
                Tok::Eof
            ]
        );
    }
}
