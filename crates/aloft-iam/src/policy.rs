//! The policy evaluation engine: AWS's logic for identity policies, permission boundaries and
//! session policies — an explicit Deny wins, then an Allow is needed in every applicable layer,
//! otherwise the implicit deny. Wildcards `*`/`?` in actions (case-insensitive) and resources,
//! `Not*` elements, and the common condition operators (with `...IfExists`).

use std::collections::HashMap;

use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    ExplicitDeny,
    ImplicitDeny,
}

impl Decision {
    /// The `EvalDecision` word of the simulation APIs.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allowed => "allowed",
            Decision::ExplicitDeny => "explicitDeny",
            Decision::ImplicitDeny => "implicitDeny",
        }
    }
}

/// A request to authorize: action, resource and context keys (`aws:SourceIp`, ...).
pub struct Request<'a> {
    pub action: &'a str,
    pub resource: &'a str,
    pub context: &'a HashMap<String, Vec<String>>,
}

pub use aloft_core::auth::wildcard;

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        Some(Value::Bool(b)) => vec![b.to_string()],
        Some(Value::Number(n)) => vec![n.to_string()],
        _ => Vec::new(),
    }
}

fn element_matches(st: &Value, key: &str, not_key: &str, value: &str, ci: bool) -> bool {
    if let Some(v) = st.get(key) {
        strings(Some(v)).iter().any(|p| wildcard(p, value, ci))
    } else if let Some(v) = st.get(not_key) {
        !strings(Some(v)).iter().any(|p| wildcard(p, value, ci))
    } else {
        false
    }
}

fn operator(op: &str, values: &[String], wanted: &[String]) -> Option<bool> {
    let num = |s: &String| s.parse::<f64>().ok();
    let any = |f: &dyn Fn(&String, &String) -> bool| {
        values.iter().any(|v| wanted.iter().any(|w| f(v, w)))
    };
    Some(match op {
        "StringEquals" | "ArnEquals" => any(&|v, w| v == w),
        "StringNotEquals" | "ArnNotEquals" => !any(&|v, w| v == w),
        "StringEqualsIgnoreCase" => any(&|v, w| v.eq_ignore_ascii_case(w)),
        "StringNotEqualsIgnoreCase" => !any(&|v, w| v.eq_ignore_ascii_case(w)),
        "StringLike" | "ArnLike" => any(&|v, w| wildcard(w, v, false)),
        "StringNotLike" | "ArnNotLike" => !any(&|v, w| wildcard(w, v, false)),
        "Bool" => any(&|v, w| v.eq_ignore_ascii_case(w)),
        "NumericEquals" => any(&|v, w| num(v).zip(num(w)).is_some_and(|(a, b)| a == b)),
        "NumericNotEquals" => !any(&|v, w| num(v).zip(num(w)).is_some_and(|(a, b)| a == b)),
        "NumericLessThan" => any(&|v, w| num(v).zip(num(w)).is_some_and(|(a, b)| a < b)),
        "NumericLessThanEquals" => any(&|v, w| num(v).zip(num(w)).is_some_and(|(a, b)| a <= b)),
        "NumericGreaterThan" => any(&|v, w| num(v).zip(num(w)).is_some_and(|(a, b)| a > b)),
        "NumericGreaterThanEquals" => any(&|v, w| num(v).zip(num(w)).is_some_and(|(a, b)| a >= b)),
        _ => return None,
    })
}

fn conditions_hold(st: &Value, ctx: &HashMap<String, Vec<String>>) -> bool {
    let Some(conds) = st.get("Condition").and_then(Value::as_object) else {
        return true;
    };
    conds.iter().all(|(op, block)| {
        let Some(block) = block.as_object() else {
            return false;
        };
        block.iter().all(|(key, wanted)| {
            let wanted = strings(Some(wanted));
            if op == "Null" {
                let absent = !ctx.keys().any(|k| k.eq_ignore_ascii_case(key));
                return wanted
                    .iter()
                    .any(|w| w.eq_ignore_ascii_case(&absent.to_string()));
            }
            let (base, if_exists) = op
                .strip_suffix("IfExists")
                .map_or((op.as_str(), false), |b| (b, true));
            let values = ctx
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v.clone());
            match values {
                None => if_exists || base.contains("Not"),
                Some(values) => operator(base, &values, &wanted).unwrap_or(false),
            }
        })
    })
}

fn statements(doc: &Value) -> Vec<Value> {
    match doc.get("Statement") {
        Some(Value::Array(a)) => a.clone(),
        Some(s @ Value::Object(_)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// Whether a resource-policy statement's `Principal` (or `NotPrincipal`) names the caller, known
/// by any of `names` (its ARN, account id, account root ARN, role ARN). `"*"` and
/// `{"AWS": "*"}` name everyone.
pub fn principal_matches(st: &Value, names: &[String]) -> bool {
    let listed = |p: &Value| -> bool {
        match p {
            Value::String(s) => s == "*",
            Value::Object(m) => m.values().any(|v| {
                strings(Some(v))
                    .iter()
                    .any(|x| x == "*" || names.iter().any(|n| wildcard(x, n, false)))
            }),
            _ => false,
        }
    };
    if let Some(p) = st.get("Principal") {
        listed(p)
    } else if let Some(p) = st.get("NotPrincipal") {
        !listed(p)
    } else {
        false
    }
}

/// The decision of one set of policy documents alone.
pub fn evaluate_set(docs: &[Value], req: &Request<'_>) -> Decision {
    let mut allowed = false;
    for doc in docs {
        for st in statements(doc) {
            let applies = element_matches(&st, "Action", "NotAction", req.action, true)
                && element_matches(&st, "Resource", "NotResource", req.resource, false)
                && conditions_hold(&st, req.context);
            if !applies {
                continue;
            }
            match st.get("Effect").and_then(Value::as_str) {
                Some("Deny") => return Decision::ExplicitDeny,
                Some("Allow") => allowed = true,
                _ => {}
            }
        }
    }
    if allowed {
        Decision::Allowed
    } else {
        Decision::ImplicitDeny
    }
}

/// Identity policies, then the permission boundary and session policies (when present) must
/// each allow; a Deny anywhere wins.
pub fn evaluate(
    identity: &[Value],
    boundary: Option<&Value>,
    session: Option<&Value>,
    req: &Request<'_>,
) -> Decision {
    let layers: Vec<Decision> = std::iter::once(evaluate_set(identity, req))
        .chain(boundary.map(|b| evaluate_set(std::slice::from_ref(b), req)))
        .chain(session.map(|s| evaluate_set(std::slice::from_ref(s), req)))
        .collect();
    if layers.contains(&Decision::ExplicitDeny) {
        Decision::ExplicitDeny
    } else if layers.iter().all(|d| *d == Decision::Allowed) {
        Decision::Allowed
    } else {
        Decision::ImplicitDeny
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn req<'a>(
        action: &'a str,
        resource: &'a str,
        ctx: &'a HashMap<String, Vec<String>>,
    ) -> Request<'a> {
        Request {
            action,
            resource,
            context: ctx,
        }
    }

    #[test]
    fn wildcards() {
        assert!(wildcard("s3:Get*", "s3:GetObject", false));
        assert!(wildcard("S3:get*", "s3:GetObject", true));
        assert!(!wildcard("s3:Get*", "s3:PutObject", false));
        assert!(wildcard(
            "arn:aws:s3:::b/?.txt",
            "arn:aws:s3:::b/a.txt",
            false
        ));
        assert!(!wildcard(
            "arn:aws:s3:::b/?.txt",
            "arn:aws:s3:::b/ab.txt",
            false
        ));
        assert!(wildcard("*", "", false));
    }

    #[test]
    fn explicit_deny_wins_and_default_is_implicit_deny() {
        let ctx = HashMap::new();
        let allow = json!({"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]});
        let deny = json!({"Statement": {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::b/*"}});
        let docs = [allow.clone(), deny];
        assert_eq!(
            evaluate_set(&docs, &req("s3:GetObject", "arn:aws:s3:::b/k", &ctx)),
            Decision::Allowed
        );
        assert_eq!(
            evaluate_set(&docs, &req("s3:DeleteObject", "arn:aws:s3:::b/k", &ctx)),
            Decision::ExplicitDeny
        );
        assert_eq!(
            evaluate_set(
                &docs,
                &req("sqs:SendMessage", "arn:aws:sqs:us-east-1:1:q", &ctx)
            ),
            Decision::ImplicitDeny
        );
        let boundary =
            json!({"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]});
        assert_eq!(
            evaluate(
                std::slice::from_ref(&allow),
                Some(&boundary),
                None,
                &req("s3:PutObject", "arn:aws:s3:::b/k", &ctx)
            ),
            Decision::ImplicitDeny
        );
        assert_eq!(
            evaluate(
                &[allow],
                Some(&boundary),
                None,
                &req("s3:GetObject", "arn:aws:s3:::b/k", &ctx)
            ),
            Decision::Allowed
        );
    }

    #[test]
    fn principals_of_resource_policies() {
        let names = vec![
            "arn:aws:sts::1:assumed-role/r/s".to_string(),
            "1".to_string(),
            "arn:aws:iam::1:role/r".to_string(),
        ];
        assert!(principal_matches(&json!({"Principal": "*"}), &names));
        assert!(principal_matches(
            &json!({"Principal": {"AWS": ["arn:aws:iam::1:role/r"]}}),
            &names
        ));
        assert!(principal_matches(
            &json!({"Principal": {"AWS": "1"}}),
            &names
        ));
        assert!(!principal_matches(
            &json!({"Principal": {"AWS": "arn:aws:iam::2:root"}}),
            &names
        ));
        assert!(!principal_matches(
            &json!({"Principal": {"Service": "lambda.amazonaws.com"}}),
            &names
        ));
    }

    #[test]
    fn not_action_and_conditions() {
        let mut ctx = HashMap::new();
        ctx.insert("aws:username".to_string(), vec!["alice".to_string()]);
        let doc = json!({"Statement": [
            {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*",
             "Condition": {"StringLike": {"aws:username": "al*"}, "NumericLessThanIfExists": {"s3:max-keys": "10"}}}
        ]});
        assert_eq!(
            evaluate_set(
                std::slice::from_ref(&doc),
                &req("s3:ListBucket", "arn:aws:s3:::b", &ctx)
            ),
            Decision::Allowed
        );
        assert_eq!(
            evaluate_set(
                std::slice::from_ref(&doc),
                &req("iam:CreateUser", "*", &ctx)
            ),
            Decision::ImplicitDeny
        );
        ctx.insert("aws:username".to_string(), vec!["bob".to_string()]);
        assert_eq!(
            evaluate_set(&[doc], &req("s3:ListBucket", "arn:aws:s3:::b", &ctx)),
            Decision::ImplicitDeny
        );
    }
}
