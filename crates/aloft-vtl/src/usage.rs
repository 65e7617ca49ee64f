//! What a template reads of a variable, found once from its syntax tree, so that a host can
//! leave out what the template never looks at (API Gateway's `$context` has dozens of members;
//! a template typically reads one or two).

use crate::ast::{Accessor, Expr, Node, Reference};

/// How a template uses one variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Usage {
    /// Never referenced: the variable may be left out.
    Unused,
    /// Only as `$name.prop...` (read or `#set`), with these first properties: a map holding
    /// just them renders the same as the whole value.
    Properties(Vec<String>),
    /// Referenced some other way (bare, a method or an index on it, rebound by `#set`,
    /// `#foreach` or a macro parameter): supply the whole value.
    Whole,
}

impl Usage {
    fn add(&mut self, other: Usage) {
        match (&mut *self, other) {
            (_, Usage::Unused) | (Usage::Whole, _) => {}
            (_, Usage::Whole) => *self = Usage::Whole,
            (Usage::Unused, u) => *self = u,
            (Usage::Properties(mine), Usage::Properties(theirs)) => {
                for p in theirs {
                    if !mine.contains(&p) {
                        mine.push(p);
                    }
                }
            }
        }
    }
}

pub(crate) fn of(nodes: &[Node], name: &str) -> Usage {
    let mut u = Usage::Unused;
    walk_nodes(nodes, name, &mut u);
    u
}

fn walk_nodes(nodes: &[Node], name: &str, u: &mut Usage) {
    for n in nodes {
        match n {
            Node::Text(_) | Node::Break | Node::Stop => {}
            Node::Ref(r) => reference(r, name, u),
            Node::Set(target, value) => {
                if target.name == name && target.path.is_empty() {
                    u.add(Usage::Whole);
                }
                reference(target, name, u);
                expr(value, name, u);
            }
            Node::If(branches, otherwise) => {
                for (cond, body) in branches {
                    expr(cond, name, u);
                    walk_nodes(body, name, u);
                }
                if let Some(body) = otherwise {
                    walk_nodes(body, name, u);
                }
            }
            Node::Foreach(var, list, body) => {
                if var == name {
                    u.add(Usage::Whole);
                }
                expr(list, name, u);
                walk_nodes(body, name, u);
            }
            Node::Macro(_, params, body) => {
                if params.iter().any(|p| p == name) {
                    u.add(Usage::Whole);
                }
                walk_nodes(body, name, u);
            }
            Node::MacroCall(_, args) => {
                for a in args {
                    expr(a, name, u);
                }
            }
        }
    }
}

fn reference(r: &Reference, name: &str, u: &mut Usage) {
    if r.name == name {
        u.add(match r.path.first() {
            Some(Accessor::Property(p)) => Usage::Properties(vec![p.clone()]),
            _ => Usage::Whole,
        });
    }
    for a in &r.path {
        match a {
            Accessor::Property(_) => {}
            Accessor::Method(_, args) => {
                for e in args {
                    expr(e, name, u);
                }
            }
            Accessor::Index(e) => expr(e, name, u),
        }
    }
}

fn expr(e: &Expr, name: &str, u: &mut Usage) {
    match e {
        Expr::Null | Expr::Bool(_) | Expr::Int(_) | Expr::Float(_) | Expr::Str(_) => {}
        Expr::Interpolated(nodes) => walk_nodes(nodes, name, u),
        Expr::Ref(r) => reference(r, name, u),
        Expr::List(items) => {
            for i in items {
                expr(i, name, u);
            }
        }
        Expr::Map(entries) => {
            for (k, v) in entries {
                expr(k, name, u);
                expr(v, name, u);
            }
        }
        Expr::Range(a, b) | Expr::Binary(_, a, b) => {
            expr(a, name, u);
            expr(b, name, u);
        }
        Expr::Not(a) | Expr::Neg(a) => expr(a, name, u),
    }
}

#[cfg(test)]
mod tests {
    use super::Usage;
    use crate::Template;

    fn usage(src: &str) -> Usage {
        Template::parse(src).unwrap().usage("context")
    }

    fn props(p: &[&str]) -> Usage {
        Usage::Properties(p.iter().map(|s| (*s).to_string()).collect())
    }

    #[test]
    fn finds_what_a_template_reads() {
        assert_eq!(usage(r#"{"statusCode": 200}"#), Usage::Unused);
        assert_eq!(usage("$contextual $input.path('$')"), Usage::Unused);
        assert_eq!(
            usage(r#"{"id": "$context.requestId", "ip": "$context.identity.sourceIp"}"#),
            props(&["requestId", "identity"])
        );
        assert_eq!(
            usage("#if($context.stage == 'prod')$!{context.requestId}#end"),
            props(&["stage", "requestId"])
        );
        assert_eq!(
            usage("#set($x = \"a $context.stage\")#foreach($i in [$context.path])$i#end"),
            props(&["stage", "path"])
        );
        assert_eq!(
            usage("#set($context.extra = 1)$context.extra"),
            props(&["extra"])
        );
        assert_eq!(
            usage("$util.escapeJavaScript($context.stage)"),
            props(&["stage"])
        );
        assert_eq!(
            usage("#macro(m $a)$context.stage#end#m(1)"),
            props(&["stage"])
        );
    }

    #[test]
    fn anything_else_takes_the_whole_value() {
        for src in [
            "$context",
            "$context.keySet()",
            "$context['stage']",
            "$context.get('stage')",
            "#set($c = $context)$c.stage",
            "#set($context = {})",
            "#foreach($context in [1])$context#end",
            "#macro(m $context)$context#end",
            "#m($context)",
            "$context.stage $context.size()",
        ] {
            assert_eq!(usage(src), Usage::Whole, "{src}");
        }
    }
}
