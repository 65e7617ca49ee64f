//! Metric math basics: `+ - * /`, parentheses, numbers, query ids, arrays `[a, b]`,
//! `METRICS()`, and `SUM`/`AVG`/`MIN`/`MAX`/`ABS` over time series aligned by timestamp.

use std::collections::{BTreeMap, HashMap};

pub type Series = BTreeMap<i64, f64>;

#[derive(Debug, Clone)]
pub enum Val {
    Scalar(f64),
    Series(Series),
    List(Vec<Series>),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    Ident(String),
    Op(char),
}

fn lex(s: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let cs: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < cs.len() {
        let c = cs[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() || c == '.' {
            let st = i;
            while i < cs.len() && (cs[i].is_ascii_digit() || cs[i] == '.') {
                i += 1;
            }
            let t: String = cs[st..i].iter().collect();
            out.push(Tok::Num(
                t.parse().map_err(|_| format!("Invalid number {t}"))?,
            ));
        } else if c.is_ascii_alphabetic() || c == '_' {
            let st = i;
            while i < cs.len() && (cs[i].is_ascii_alphanumeric() || cs[i] == '_') {
                i += 1;
            }
            out.push(Tok::Ident(cs[st..i].iter().collect()));
        } else if "+-*/()[],".contains(c) {
            out.push(Tok::Op(c));
            i += 1;
        } else {
            return Err(format!("Unexpected character '{c}'"));
        }
    }
    Ok(out)
}

struct Parser<'a> {
    toks: Vec<Tok>,
    pos: usize,
    vars: &'a HashMap<String, Series>,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(&Tok::Op(c)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn expr(&mut self) -> Result<Val, String> {
        let mut v = self.term()?;
        loop {
            if self.eat('+') {
                v = binary(v, self.term()?, |a, b| Some(a + b));
            } else if self.eat('-') {
                v = binary(v, self.term()?, |a, b| Some(a - b));
            } else {
                return Ok(v);
            }
        }
    }
    fn term(&mut self) -> Result<Val, String> {
        let mut v = self.unary()?;
        loop {
            if self.eat('*') {
                v = binary(v, self.unary()?, |a, b| Some(a * b));
            } else if self.eat('/') {
                v = binary(v, self.unary()?, |a, b| (b != 0.0).then(|| a / b));
            } else {
                return Ok(v);
            }
        }
    }
    fn unary(&mut self) -> Result<Val, String> {
        if self.eat('-') {
            return Ok(binary(Val::Scalar(0.0), self.unary()?, |a, b| Some(a - b)));
        }
        self.primary()
    }
    fn args(&mut self, close: char) -> Result<Vec<Val>, String> {
        let mut out = Vec::new();
        if self.eat(close) {
            return Ok(out);
        }
        loop {
            out.push(self.expr()?);
            if self.eat(close) {
                return Ok(out);
            }
            if !self.eat(',') {
                return Err(format!("Expected ',' or '{close}'"));
            }
        }
    }
    fn primary(&mut self) -> Result<Val, String> {
        match self.toks.get(self.pos).cloned() {
            Some(Tok::Num(n)) => {
                self.pos += 1;
                Ok(Val::Scalar(n))
            }
            Some(Tok::Op('(')) => {
                self.pos += 1;
                let v = self.expr()?;
                if !self.eat(')') {
                    return Err("Expected ')'".into());
                }
                Ok(v)
            }
            Some(Tok::Op('[')) => {
                self.pos += 1;
                let items = self.args(']')?;
                Ok(Val::List(flatten(items)?))
            }
            Some(Tok::Ident(name)) => {
                self.pos += 1;
                if self.eat('(') {
                    let args = self.args(')')?;
                    return self.call(&name, args);
                }
                self.vars
                    .get(&name)
                    .cloned()
                    .map(Val::Series)
                    .ok_or_else(|| format!("Unrecognized identifier {name}"))
            }
            other => Err(format!("Unexpected token {other:?}")),
        }
    }
    fn call(&self, name: &str, args: Vec<Val>) -> Result<Val, String> {
        let upper = name.to_ascii_uppercase();
        if upper == "METRICS" {
            let mut keys: Vec<&String> = self.vars.keys().collect();
            keys.sort();
            return Ok(Val::List(
                keys.iter().map(|k| self.vars[*k].clone()).collect(),
            ));
        }
        let [arg] =
            <[Val; 1]>::try_from(args).map_err(|_| format!("{upper} takes one argument"))?;
        if upper == "ABS" {
            return Ok(binary(arg, Val::Scalar(0.0), |a, _| Some(a.abs())));
        }
        let agg = |v: &[f64]| -> Option<f64> {
            if v.is_empty() {
                return None;
            }
            #[allow(clippy::cast_precision_loss)]
            let n = v.len() as f64;
            Some(match upper.as_str() {
                "SUM" => v.iter().sum(),
                "AVG" => v.iter().sum::<f64>() / n,
                "MIN" => v.iter().copied().fold(f64::INFINITY, f64::min),
                _ => v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            })
        };
        if !matches!(upper.as_str(), "SUM" | "AVG" | "MIN" | "MAX") {
            return Err(format!("Unsupported function {upper}"));
        }
        match arg {
            // One series: the aggregate of all its values, a scalar.
            Val::Series(s) => Ok(Val::Scalar(
                agg(&s.values().copied().collect::<Vec<_>>()).unwrap_or(0.0),
            )),
            Val::Scalar(x) => Ok(Val::Scalar(x)),
            // An array: the aggregate across series at each timestamp.
            Val::List(list) => {
                let mut by_ts: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
                for s in &list {
                    for (t, v) in s {
                        by_ts.entry(*t).or_default().push(*v);
                    }
                }
                Ok(Val::Series(
                    by_ts
                        .into_iter()
                        .filter_map(|(t, v)| agg(&v).map(|x| (t, x)))
                        .collect(),
                ))
            }
        }
    }
}

fn flatten(items: Vec<Val>) -> Result<Vec<Series>, String> {
    let mut out = Vec::new();
    for v in items {
        match v {
            Val::Series(s) => out.push(s),
            Val::List(l) => out.extend(l),
            Val::Scalar(_) => return Err("Arrays hold time series, not numbers".into()),
        }
    }
    Ok(out)
}

fn zip(a: &Series, b: &Series, f: impl Fn(f64, f64) -> Option<f64>) -> Series {
    a.iter()
        .filter_map(|(t, x)| b.get(t).and_then(|y| f(*x, *y)).map(|v| (*t, v)))
        .collect()
}

fn binary(a: Val, b: Val, f: impl Fn(f64, f64) -> Option<f64> + Copy) -> Val {
    use Val::{List, Scalar, Series as S};
    match (a, b) {
        (Scalar(x), Scalar(y)) => Scalar(f(x, y).unwrap_or(f64::NAN)),
        (S(s), Scalar(y)) => S(s
            .into_iter()
            .filter_map(|(t, x)| f(x, y).map(|v| (t, v)))
            .collect()),
        (Scalar(x), S(s)) => S(s
            .into_iter()
            .filter_map(|(t, y)| f(x, y).map(|v| (t, v)))
            .collect()),
        (S(a), S(b)) => S(zip(&a, &b, f)),
        (List(l), other) => List(
            l.into_iter()
                .filter_map(|s| match binary(S(s), other.clone(), f) {
                    S(r) => Some(r),
                    _ => None,
                })
                .collect(),
        ),
        (other, List(l)) => List(
            l.into_iter()
                .filter_map(|s| match binary(other.clone(), S(s), f) {
                    S(r) => Some(r),
                    _ => None,
                })
                .collect(),
        ),
    }
}

/// Evaluates an expression over the series named by query ids.
pub fn eval(expr: &str, vars: &HashMap<String, Series>) -> Result<Val, String> {
    let mut p = Parser {
        toks: lex(expr)?,
        pos: 0,
        vars,
    };
    let v = p.expr()?;
    if p.pos != p.toks.len() {
        return Err(format!("Unexpected input after position {}", p.pos));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(points: &[(i64, f64)]) -> Series {
        points.iter().copied().collect()
    }

    #[test]
    fn arithmetic_aligns_by_timestamp() {
        let mut vars = HashMap::new();
        vars.insert("errors".to_string(), s(&[(0, 2.0), (60, 4.0), (120, 1.0)]));
        vars.insert("calls".to_string(), s(&[(0, 10.0), (60, 0.0)]));
        let Val::Series(r) = eval("100 * errors / calls", &vars).unwrap() else {
            panic!()
        };
        // 60: division by zero drops the point; 120: calls missing.
        assert_eq!(r, s(&[(0, 20.0)]));
        let Val::Series(r) = eval("SUM([errors, calls])", &vars).unwrap() else {
            panic!()
        };
        assert_eq!(r, s(&[(0, 12.0), (60, 4.0), (120, 1.0)]));
        let Val::Series(r) = eval("MAX(METRICS())", &vars).unwrap() else {
            panic!()
        };
        assert_eq!(r, s(&[(0, 10.0), (60, 4.0), (120, 1.0)]));
        let Val::Scalar(x) = eval("AVG(errors) - -1", &vars).unwrap() else {
            panic!()
        };
        assert!((x - 7.0 / 3.0 - 1.0).abs() < 1e-9);
        assert!(eval("nope + 1", &vars).is_err());
        assert!(eval("(errors", &vars).is_err());
        assert!(eval("RATE(errors)", &vars).is_err());
    }
}
