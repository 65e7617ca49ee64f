//! From a PartiQL statement to the native request that does the same work: a SELECT with an
//! equality on the partition key becomes a Query (other SELECTs a Scan), INSERT a PutItem
//! that must not overwrite, UPDATE an UpdateItem on an item that must exist, DELETE a
//! DeleteItem. Conditions are rendered as DynamoDB expressions with `#n`/`:v` placeholders,
//! so the native handlers' checks and evaluation apply unchanged.

use std::collections::HashMap;

use aloft_core::AwsError;
use serde_json::{Map, Value as Json, json};

use super::parser::{Expr, PSeg, Statement, UpdateOp};
use crate::domain::key::KeySchema;
use crate::domain::value::{AttrValue, Item, parse_number};
use crate::error::validation;
use crate::expr::ast::CmpOp;

/// What a statement runs as.
#[derive(Debug)]
pub enum Native {
    Query(Json),
    /// A SELECT over a list of partition key values: one Query each, in the list's order.
    Queries(Vec<Json>),
    Scan(Json),
    /// INSERT: a PutItem whose condition failing means the key exists.
    Insert(Json),
    Update(Json),
    Delete(Json),
    /// EXISTS(SELECT …): a ConditionCheck.
    Check(Json),
}

/// The parts of a statement's target that planning needs.
pub struct Target<'a> {
    /// The table's primary key (writes) …
    pub table: &'a KeySchema,
    /// … and the schema being read (the index's for `FROM "t"."index"`).
    pub read: &'a KeySchema,
}

/// Placeholders for names and values used by the rendered expressions.
#[derive(Default)]
pub(super) struct Render<'p> {
    params: &'p [AttrValue],
    names: Map<String, Json>,
    name_ids: HashMap<String, String>,
    values: Map<String, Json>,
}

fn unsupported(what: &str) -> AwsError {
    validation(format!(
        "Statement wasn't well formed, can't be processed: {what}"
    ))
}

fn cmp_symbol(op: CmpOp) -> &'static str {
    op.symbol()
}

impl<'p> Render<'p> {
    pub(super) fn new(params: &'p [AttrValue]) -> Self {
        Render {
            params,
            ..Default::default()
        }
    }

    fn name(&mut self, n: &str) -> String {
        if let Some(id) = self.name_ids.get(n) {
            return id.clone();
        }
        let id = format!("#n{}", self.name_ids.len());
        self.name_ids.insert(n.to_string(), id.clone());
        self.names.insert(id.clone(), json!(n));
        id
    }

    fn value(&mut self, v: &AttrValue) -> String {
        let id = format!(":v{}", self.values.len());
        self.values.insert(id.clone(), v.to_json());
        id
    }

    fn path(&mut self, p: &[PSeg]) -> String {
        let mut s = String::new();
        for seg in p {
            match seg {
                PSeg::Attr(a) => {
                    if !s.is_empty() {
                        s.push('.');
                    }
                    s.push_str(&self.name(a));
                }
                PSeg::Index(i) => s.push_str(&format!("[{i}]")),
            }
        }
        s
    }

    /// The value of a literal expression (None for MISSING, error for anything else).
    pub(super) fn literal(&self, e: &Expr) -> Result<Option<AttrValue>, AwsError> {
        Ok(Some(match e {
            Expr::Str(s) => AttrValue::S(s.as_str().into()),
            Expr::Num(n) => AttrValue::N(parse_number(n)?),
            Expr::Bool(b) => AttrValue::Bool(*b),
            Expr::Null => AttrValue::Null,
            Expr::Missing => return Ok(None),
            Expr::Param(i) => self.params.get(*i).cloned().ok_or_else(|| {
                validation("Number of parameters in request and statement don't match.")
            })?,
            Expr::Map(entries) => {
                let mut m = Item::with_capacity(entries.len());
                for (k, v) in entries {
                    if let Some(v) = self.literal(v)? {
                        m.insert(k.as_str(), v);
                    }
                }
                AttrValue::M(m)
            }
            Expr::List(items) => AttrValue::L(
                items
                    .iter()
                    .filter_map(|i| self.literal(i).transpose())
                    .collect::<Result<_, _>>()?,
            ),
            Expr::Set(items) => {
                let vals: Vec<AttrValue> = items
                    .iter()
                    .filter_map(|i| self.literal(i).transpose())
                    .collect::<Result<_, _>>()?;
                set_of(vals)?
            }
            _ => return Err(unsupported("Unexpected path component")),
        }))
    }

    pub(super) fn is_literal(e: &Expr) -> bool {
        !matches!(
            e,
            Expr::Path(_)
                | Expr::Call(..)
                | Expr::Plus(..)
                | Expr::Minus(..)
                | Expr::Cmp(..)
                | Expr::And(..)
                | Expr::Or(..)
                | Expr::Not(..)
                | Expr::Between(..)
                | Expr::In(..)
                | Expr::Is(..)
        )
    }

    /// A comparison operand: a path, `size(path)` or a literal.
    fn operand(&mut self, e: &Expr) -> Result<String, AwsError> {
        match e {
            Expr::Path(p) => Ok(self.path(p)),
            Expr::Call(f, args) if f == "size" && args.len() == 1 => {
                Ok(format!("size({})", self.operand(&args[0])?))
            }
            e if Self::is_literal(e) => match self.literal(e)? {
                Some(v) => Ok(self.value(&v)),
                None => Err(unsupported("Unexpected MISSING")),
            },
            _ => Err(unsupported("Unexpected expression")),
        }
    }

    fn cond(&mut self, e: &Expr) -> Result<String, AwsError> {
        Ok(match e {
            Expr::And(a, b) => format!("({}) AND ({})", self.cond(a)?, self.cond(b)?),
            Expr::Or(a, b) => format!("({}) OR ({})", self.cond(a)?, self.cond(b)?),
            Expr::Not(a) => format!("NOT ({})", self.cond(a)?),
            Expr::Cmp(a, op, b) => match (&**a, &**b) {
                (Expr::Path(p), Expr::Missing) | (Expr::Missing, Expr::Path(p))
                    if matches!(op, CmpOp::Eq | CmpOp::Ne) =>
                {
                    let f = if *op == CmpOp::Eq {
                        "attribute_not_exists"
                    } else {
                        "attribute_exists"
                    };
                    format!("{f}({})", self.path(p))
                }
                _ => format!(
                    "{} {} {}",
                    self.operand(a)?,
                    cmp_symbol(*op),
                    self.operand(b)?
                ),
            },
            Expr::Between(a, lo, hi) => format!(
                "{} BETWEEN {} AND {}",
                self.operand(a)?,
                self.operand(lo)?,
                self.operand(hi)?
            ),
            Expr::In(a, items) => {
                let a = self.operand(a)?;
                let list: Vec<String> = items
                    .iter()
                    .map(|i| self.operand(i))
                    .collect::<Result<_, _>>()?;
                format!("{a} IN ({})", list.join(", "))
            }
            Expr::Is(a, what, neg) => {
                let Expr::Path(p) = &**a else {
                    return Err(unsupported("Unexpected expression"));
                };
                let path = self.path(p);
                let c = match what.as_str() {
                    "MISSING" => format!("attribute_not_exists({path})"),
                    "NULL" => {
                        let t = self.value(&AttrValue::S("NULL".into()));
                        format!("attribute_not_exists({path}) OR attribute_type({path}, {t})")
                    }
                    other => {
                        let tag = match other {
                            "STRING" => "S",
                            "NUMBER" | "INT" | "INTEGER" | "DECIMAL" | "FLOAT" => "N",
                            "BINARY" | "BLOB" => "B",
                            "BOOLEAN" | "BOOL" => "BOOL",
                            "LIST" => "L",
                            "MAP" | "TUPLE" | "STRUCT" => "M",
                            _ => return Err(unsupported("Unexpected type")),
                        };
                        let t = self.value(&AttrValue::S(tag.into()));
                        format!("attribute_type({path}, {t})")
                    }
                };
                if *neg { format!("NOT ({c})") } else { c }
            }
            Expr::Call(f, args) => match (f.as_str(), args.as_slice()) {
                ("begins_with" | "contains" | "attribute_type", [a, b]) => {
                    format!("{f}({}, {})", self.operand(a)?, self.operand(b)?)
                }
                ("exists" | "attribute_exists", [Expr::Path(p)]) => {
                    format!("attribute_exists({})", self.path(p))
                }
                ("attribute_not_exists", [Expr::Path(p)]) => {
                    format!("attribute_not_exists({})", self.path(p))
                }
                _ => {
                    return Err(validation(format!(
                        "Unsupported function call: {f} with {} argument(s)",
                        args.len()
                    )));
                }
            },
            _ => return Err(unsupported("Expected boolean expression in WHERE clause")),
        })
    }

    /// The right side of `SET path = …`.
    fn set_value(&mut self, e: &Expr) -> Result<String, AwsError> {
        Ok(match e {
            Expr::Path(p) => self.path(p),
            Expr::Plus(a, b) => format!("{} + {}", self.set_value(a)?, self.set_value(b)?),
            Expr::Minus(a, b) => format!("{} - {}", self.set_value(a)?, self.set_value(b)?),
            Expr::Call(f, args) if f == "list_append" && args.len() == 2 => format!(
                "list_append({}, {})",
                self.set_value(&args[0])?,
                self.set_value(&args[1])?
            ),
            Expr::Call(f, args) if f == "if_not_exists" && args.len() == 2 => format!(
                "if_not_exists({}, {})",
                self.set_value(&args[0])?,
                self.set_value(&args[1])?
            ),
            e if Self::is_literal(e) => match self.literal(e)? {
                Some(v) => self.value(&v),
                None => return Err(unsupported("Unexpected MISSING")),
            },
            _ => return Err(unsupported("Unexpected expression")),
        })
    }

    fn attach(self, req: &mut Json) {
        if !self.names.is_empty() {
            req["ExpressionAttributeNames"] = Json::Object(self.names);
        }
        if !self.values.is_empty() {
            req["ExpressionAttributeValues"] = Json::Object(self.values);
        }
    }
}

/// A set literal's type from its elements, as DynamoDB infers it.
fn set_of(vals: Vec<AttrValue>) -> Result<AttrValue, AwsError> {
    let bad = || validation("Set must contain elements of the same type: String, Number or Binary");
    match vals.first() {
        None => Err(validation(
            "One or more parameter values were invalid: An string set  may not be empty",
        )),
        Some(AttrValue::S(_)) => vals
            .into_iter()
            .map(|v| match v {
                AttrValue::S(s) => Ok(s.into_string()),
                _ => Err(bad()),
            })
            .collect::<Result<_, _>>()
            .map(AttrValue::Ss),
        Some(AttrValue::N(_)) => vals
            .into_iter()
            .map(|v| match v {
                AttrValue::N(n) => Ok(n),
                _ => Err(bad()),
            })
            .collect::<Result<_, _>>()
            .map(AttrValue::Ns),
        Some(AttrValue::B(_)) => vals
            .into_iter()
            .map(|v| match v {
                AttrValue::B(b) => Ok(b),
                _ => Err(bad()),
            })
            .collect::<Result<_, _>>()
            .map(AttrValue::Bs),
        Some(_) => Err(bad()),
    }
}

fn conjuncts(e: Expr, out: &mut Vec<Expr>) {
    match e {
        Expr::And(a, b) => {
            conjuncts(*a, out);
            conjuncts(*b, out);
        }
        other => out.push(other),
    }
}

fn and_all(parts: Vec<Expr>) -> Option<Expr> {
    (!parts.is_empty()).then(|| super::parser::balanced(parts, true))
}

/// `attr = literal` (either way round) on a top-level attribute.
pub(super) fn equality(e: &Expr) -> Option<(&str, &Expr)> {
    match e {
        Expr::Cmp(a, CmpOp::Eq, b) => match (&**a, &**b) {
            (Expr::Path(p), v) | (v, Expr::Path(p)) if Render::is_literal(v) => {
                match p.as_slice() {
                    [PSeg::Attr(n)] => Some((n.as_str(), v)),
                    _ => None,
                }
            }
            _ => None,
        },
        _ => None,
    }
}

fn mentions(e: &Expr, attr: &str) -> bool {
    match e {
        Expr::Path(p) => matches!(p.first(), Some(PSeg::Attr(a)) if a == attr),
        Expr::Cmp(a, _, b)
        | Expr::And(a, b)
        | Expr::Or(a, b)
        | Expr::Plus(a, b)
        | Expr::Minus(a, b) => mentions(a, attr) || mentions(b, attr),
        Expr::Not(a) | Expr::Is(a, _, _) => mentions(a, attr),
        Expr::Between(a, b, c) => mentions(a, attr) || mentions(b, attr) || mentions(c, attr),
        Expr::In(a, l) => mentions(a, attr) || l.iter().any(|x| mentions(x, attr)),
        Expr::Call(_, l) => l.iter().any(|x| mentions(x, attr)),
        _ => false,
    }
}

/// Splits a WHERE clause into the full primary key (by equality) and the remaining conditions.
fn key_and_rest(
    r: &Render<'_>,
    filter: Option<Expr>,
    schema: &KeySchema,
) -> Result<(Option<Item>, Vec<Expr>), AwsError> {
    let mut parts = Vec::new();
    if let Some(f) = filter {
        conjuncts(f, &mut parts);
    }
    let mut key = Item::new();
    let mut rest = Vec::new();
    for p in parts {
        if let Some((n, v)) = equality(&p)
            && schema.is_key_attr(n)
            && !key.contains_key(n)
            && let Some(v) = r.literal(v)?
        {
            key.insert(n, v);
            continue;
        }
        rest.push(p);
    }
    let complete = schema.names().all(|n| key.contains_key(n));
    Ok((complete.then_some(key), rest))
}

/// A SELECT's conditions (as conjuncts) planned as one Query or a Scan.
pub(super) fn select_parts(
    mut r: Render<'_>,
    table: &str,
    index: Option<&str>,
    projection: Option<&[Vec<PSeg>]>,
    mut parts: Vec<Expr>,
    descending: bool,
    read: &KeySchema,
) -> Result<Native, AwsError> {
    {
        let mut req = json!({"TableName": table});
        if let Some(i) = index {
            req["IndexName"] = json!(i);
        }
        if let Some(paths) = projection {
            let rendered: Vec<String> = paths.iter().map(|p| r.path(p)).collect();
            req["ProjectionExpression"] = json!(rendered.join(", "));
        }
        let schema = read;
        let hash_at = parts.iter().position(|p| {
            equality(p).is_some_and(|(n, v)| n == schema.hash.name && !matches!(v, Expr::Missing))
        });
        let Some(hash_at) = hash_at else {
            if descending {
                return Err(validation(
                    "Must have WHERE clause in the statement when using ORDER BY clause.",
                ));
            }
            if let Some(f) = and_all(parts) {
                req["FilterExpression"] = json!(r.cond(&f)?);
            }
            r.attach(&mut req);
            return Ok(Native::Scan(req));
        };
        let hash = parts.remove(hash_at);
        let mut key_cond = r.cond(&hash)?;
        if let Some(range) = &schema.range {
            let sort_at = parts.iter().position(|p| sort_condition(p, &range.name));
            if let Some(i) = sort_at {
                let s = parts.remove(i);
                key_cond = format!("{key_cond} AND {}", r.cond(&s)?);
            }
        }
        // Key attributes left in the filter: a Query cannot filter on them; a Scan can.
        if parts.iter().any(|p| schema.names().any(|k| mentions(p, k))) {
            let mut all = vec![hash];
            all.extend(parts);
            let mut r2 = Render {
                params: r.params,
                ..Default::default()
            };
            let mut req = json!({"TableName": table});
            if let Some(i) = index {
                req["IndexName"] = json!(i);
            }
            if let Some(paths) = projection {
                let rendered: Vec<String> = paths.iter().map(|p| r2.path(p)).collect();
                req["ProjectionExpression"] = json!(rendered.join(", "));
            }
            if let Some(f) = and_all(all) {
                req["FilterExpression"] = json!(r2.cond(&f)?);
            }
            r2.attach(&mut req);
            return Ok(Native::Scan(req));
        }
        req["KeyConditionExpression"] = json!(key_cond);
        if let Some(f) = and_all(parts) {
            req["FilterExpression"] = json!(r.cond(&f)?);
        }
        if descending {
            req["ScanIndexForward"] = json!(false);
        }
        r.attach(&mut req);
        Ok(Native::Query(req))
    }
}

fn no_key() -> AwsError {
    validation("Where clause does not contain a mandatory equality on all key attributes")
}

/// Builds the native request for a statement with its parameters bound.
pub fn plan(
    stmt: Statement,
    params: &[AttrValue],
    target: &Target<'_>,
) -> Result<Native, AwsError> {
    let mut r = Render {
        params,
        ..Default::default()
    };
    match stmt {
        Statement::Select {
            table,
            index,
            projection,
            filter,
            descending,
        } => {
            let mut parts = Vec::new();
            if let Some(f) = filter {
                conjuncts(f, &mut parts);
            }
            // Lists of key values: one Query per key (see [`super::keys`]).
            if let Some(n) = super::keys::plan_lists(
                params,
                target.read,
                &table,
                index.as_deref(),
                projection.as_deref(),
                &parts,
                descending,
            )? {
                return Ok(n);
            }
            select_parts(
                r,
                &table,
                index.as_deref(),
                projection.as_deref(),
                parts,
                descending,
                target.read,
            )
        }
        Statement::Insert { table, value } => {
            let Some(AttrValue::M(item)) = r.literal(&value)? else {
                return Err(unsupported("Expected a tuple value after VALUE"));
            };
            let cond = format!("attribute_not_exists({})", r.name(&target.table.hash.name));
            let mut req = json!({"TableName": table, "Item": crate::domain::value::item_to_json(&item),
                "ConditionExpression": cond});
            r.attach(&mut req);
            Ok(Native::Insert(req))
        }
        Statement::Update {
            table,
            ops,
            filter,
            returning,
        } => {
            let (key, rest) = key_and_rest(&r, filter, target.table)?;
            let key = key.ok_or_else(no_key)?;
            let mut sets = Vec::new();
            let mut removes = Vec::new();
            let mut adds = Vec::new();
            let mut deletes = Vec::new();
            for op in ops {
                match op {
                    UpdateOp::Set(p, Expr::Call(f, args))
                        if (f == "set_add" || f == "set_delete") && args.len() == 2 =>
                    {
                        let path = r.path(&p);
                        let v = r
                            .literal(&args[1])?
                            .ok_or_else(|| unsupported("Unexpected MISSING"))?;
                        let v = r.value(&v);
                        if f == "set_add" {
                            adds.push(format!("{path} {v}"));
                        } else {
                            deletes.push(format!("{path} {v}"));
                        }
                    }
                    UpdateOp::Set(p, e) => {
                        let path = r.path(&p);
                        sets.push(format!("{path} = {}", r.set_value(&e)?));
                    }
                    UpdateOp::Remove(p) => removes.push(r.path(&p)),
                }
            }
            let mut update = Vec::new();
            for (kw, list) in [
                ("SET", sets),
                ("REMOVE", removes),
                ("ADD", adds),
                ("DELETE", deletes),
            ] {
                if !list.is_empty() {
                    update.push(format!("{kw} {}", list.join(", ")));
                }
            }
            // UPDATE never creates an item: it must exist.
            let mut cond = format!("attribute_exists({})", r.name(&target.table.hash.name));
            if let Some(f) = and_all(rest) {
                cond = format!("{cond} AND ({})", r.cond(&f)?);
            }
            let mut req = json!({"TableName": table, "Key": crate::domain::value::item_to_json(&key),
                "UpdateExpression": update.join(" "), "ConditionExpression": cond});
            if let Some(rv) = returning {
                req["ReturnValues"] = json!(rv);
            }
            r.attach(&mut req);
            Ok(Native::Update(req))
        }
        Statement::Delete {
            table,
            filter,
            returning,
        } => {
            let (key, rest) = key_and_rest(&r, filter, target.table)?;
            let key = key.ok_or_else(no_key)?;
            let mut req =
                json!({"TableName": table, "Key": crate::domain::value::item_to_json(&key)});
            if let Some(f) = and_all(rest) {
                req["ConditionExpression"] = json!(r.cond(&f)?);
            }
            if let Some(rv) = returning {
                req["ReturnValues"] = json!(rv);
            }
            r.attach(&mut req);
            Ok(Native::Delete(req))
        }
        Statement::Exists(inner) => {
            let Statement::Select { table, filter, .. } = *inner else {
                return Err(unsupported("Expected SELECT in EXISTS"));
            };
            let (key, rest) = key_and_rest(&r, filter, target.table)?;
            let key = key.ok_or_else(no_key)?;
            let mut cond = format!("attribute_exists({})", r.name(&target.table.hash.name));
            if let Some(f) = and_all(rest) {
                cond = format!("{cond} AND ({})", r.cond(&f)?);
            }
            let mut req = json!({"TableName": table, "Key": crate::domain::value::item_to_json(&key),
                "ConditionExpression": cond});
            r.attach(&mut req);
            Ok(Native::Check(req))
        }
    }
}

/// A condition a Query can use on the sort key.
fn sort_condition(e: &Expr, range: &str) -> bool {
    let is_range = |x: &Expr| matches!(x, Expr::Path(p) if matches!(p.as_slice(), [PSeg::Attr(n)] if n == range));
    match e {
        Expr::Cmp(a, op, b) => {
            *op != CmpOp::Ne
                && ((is_range(a) && Render::is_literal(b) && !matches!(**b, Expr::Missing))
                    || (is_range(b) && Render::is_literal(a) && !matches!(**a, Expr::Missing)))
        }
        Expr::Between(a, lo, hi) => is_range(a) && Render::is_literal(lo) && Render::is_literal(hi),
        Expr::Call(f, args) => {
            f == "begins_with"
                && args.len() == 2
                && is_range(&args[0])
                && Render::is_literal(&args[1])
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::key::KeyAttr;
    use crate::domain::value::KeyType;
    use crate::partiql::parser::parse;

    fn schema() -> KeySchema {
        KeySchema {
            hash: KeyAttr {
                name: "pk".into(),
                ty: KeyType::S,
            },
            range: Some(KeyAttr {
                name: "sk".into(),
                ty: KeyType::N,
            }),
        }
    }

    fn planned(src: &str, params: &[AttrValue]) -> Result<Native, AwsError> {
        let s = schema();
        let (stmt, _) = parse(src)?;
        plan(
            stmt,
            params,
            &Target {
                table: &s,
                read: &s,
            },
        )
    }

    #[test]
    fn partition_key_lists_become_one_query_each() {
        for src in [
            "SELECT * FROM t WHERE pk IN ('a', ?, 'a') AND sk > 3 AND x = 1",
            "SELECT * FROM t WHERE (pk = 'a' OR pk = ?) AND sk > 3 AND x = 1",
            "SELECT * FROM t WHERE sk > 3 AND x = 1 AND pk IN ['a', ?]",
        ] {
            let Native::Queries(qs) = planned(src, &[AttrValue::S("b".into())]).unwrap() else {
                panic!("{src}")
            };
            assert_eq!(qs.len(), 2, "{src}");
            for (q, want) in qs.iter().zip(["a", "b"]) {
                let kc = q["KeyConditionExpression"].as_str().unwrap();
                assert!(kc.contains(" AND "), "{src}: {kc}");
                assert!(q["FilterExpression"].is_string());
                let vals = q["ExpressionAttributeValues"].as_object().unwrap();
                assert!(vals.values().any(|v| v == &json!({"S": want})));
            }
        }
        // A key attribute left for the filter: the whole statement scans, IN included.
        let Native::Scan(s) =
            planned("SELECT * FROM t WHERE pk IN ('a', 'b') AND sk <> 3", &[]).unwrap()
        else {
            panic!()
        };
        assert!(s["FilterExpression"].as_str().unwrap().contains(" IN "));
        // One value is a plain Query; OR with another attribute scans.
        assert!(matches!(
            planned("SELECT * FROM t WHERE pk IN ('a')", &[]).unwrap(),
            Native::Query(_)
        ));
        assert!(matches!(
            planned("SELECT * FROM t WHERE pk = 'a' OR x = 1", &[]).unwrap(),
            Native::Scan(_)
        ));
        let many: Vec<String> = (0..51).map(|i| format!("'k{i}'")).collect();
        let e = planned(
            &format!("SELECT * FROM t WHERE pk IN ({})", many.join(", ")),
            &[],
        )
        .unwrap_err();
        assert_eq!(e.code, "ValidationException");
    }

    #[test]
    fn sort_key_lists_become_one_query_per_key() {
        let sk_of = |q: &Json| {
            let vals = q["ExpressionAttributeValues"].as_object().unwrap();
            vals.values()
                .find_map(|v| v.get("N").and_then(Json::as_str).map(str::to_string))
                .unwrap()
        };
        let Native::Queries(qs) =
            planned("SELECT * FROM t WHERE pk = 'a' AND sk IN (3, 1, 2, 1)", &[]).unwrap()
        else {
            panic!()
        };
        assert_eq!(qs.iter().map(sk_of).collect::<Vec<_>>(), ["1", "2", "3"]);
        let Native::Queries(qs) = planned(
            "SELECT * FROM t WHERE pk IN ('a', 'b') AND (sk = 2 OR sk = 1) ORDER BY sk DESC",
            &[],
        )
        .unwrap() else {
            panic!()
        };
        assert_eq!(
            qs.iter().map(sk_of).collect::<Vec<_>>(),
            ["2", "1", "2", "1"]
        );
        assert!(qs.iter().all(|q| q["ScanIndexForward"] == false));
    }

    #[test]
    fn selects_become_queries_or_scans() {
        let Native::Query(q) = planned(
            "SELECT a FROM t WHERE pk = ? AND sk > 3 AND x.y[1] = 'z' ORDER BY sk DESC",
            &[AttrValue::S("p".into())],
        )
        .unwrap() else {
            panic!()
        };
        assert_eq!(q["KeyConditionExpression"], "#n1 = :v0 AND #n2 > :v1");
        assert_eq!(q["FilterExpression"], "#n3.#n4[1] = :v2");
        assert_eq!(q["ScanIndexForward"], false);
        assert_eq!(q["ExpressionAttributeValues"][":v0"], json!({"S": "p"}));
        // Without an equality on the partition key, or with key attributes left over for the
        // filter, the statement scans.
        assert!(matches!(
            planned("SELECT * FROM t WHERE sk = 1", &[]).unwrap(),
            Native::Scan(_)
        ));
        assert!(matches!(
            planned("SELECT * FROM t WHERE pk = 'a' AND (sk = 1 OR x = 2)", &[]).unwrap(),
            Native::Scan(_)
        ));
        // A list of sort key values is one Query per key.
        assert!(matches!(
            planned("SELECT * FROM t WHERE pk = 'a' AND (sk = 1 OR sk = 2)", &[]).unwrap(),
            Native::Queries(q) if q.len() == 2
        ));
        assert!(matches!(
            planned("SELECT * FROM t", &[]).unwrap(),
            Native::Scan(q) if q.get("FilterExpression").is_none()
        ));
    }

    #[test]
    fn writes_need_the_whole_key() {
        let Native::Update(u) = planned(
            "UPDATE t SET n = n + 1 REMOVE old WHERE pk = 'a' AND sk = 1 AND n < 10",
            &[],
        )
        .unwrap() else {
            panic!()
        };
        assert_eq!(u["Key"], json!({"pk": {"S": "a"}, "sk": {"N": "1"}}));
        assert_eq!(u["UpdateExpression"], "SET #n0 = #n0 + :v0 REMOVE #n1");
        assert_eq!(
            u["ConditionExpression"],
            "attribute_exists(#n2) AND (#n0 < :v1)"
        );
        let e = planned("DELETE FROM t WHERE pk = 'a'", &[]).unwrap_err();
        assert_eq!(
            e.message,
            "Where clause does not contain a mandatory equality on all key attributes"
        );
        let Native::Insert(i) = planned(
            "INSERT INTO t VALUE {'pk': 'a', 'sk': 1, 's': <<1, 2>>}",
            &[],
        )
        .unwrap() else {
            panic!()
        };
        assert_eq!(i["Item"]["s"], json!({"NS": ["1", "2"]}));
        assert!(planned("INSERT INTO t VALUE {'pk': 'a', 's': <<1, 'x'>>}", &[]).is_err());
    }

    #[test]
    fn never_panics_on_garbage() {
        let junk = [
            "",
            "SELECT",
            "SELECT *",
            "SELECT * FROM",
            "UPDATE t",
            "UPDATE t SET",
            "DELETE FROM t WHERE",
            "INSERT INTO t VALUE",
            "INSERT INTO t VALUE {",
            "SELECT * FROM t WHERE a IN (",
            "EXISTS(",
            "SELECT a[ FROM t",
            "SELECT * FROM t WHERE a = -",
            "SELECT * FROM t WHERE a IS",
            "SELECT * FROM t WHERE a BETWEEN 1",
            "SELECT * FROM t WHERE a = ?",
            "SELECT * FROM \"t",
            "UPDATE t SET a = <<>> WHERE pk = 'a' AND sk = 1",
        ];
        for j in junk {
            let _ = planned(j, &[]);
        }
        // The longest statement AWS accepts (8 KB) as one chain of conditions.
        let long = format!("SELECT * FROM t WHERE {}x = 1", "x = 1 AND ".repeat(810));
        assert!(matches!(planned(&long, &[]).unwrap(), Native::Scan(_)));
    }
}
