//! Resource-based policy documents as DynamoDB checks and keeps them: the 20 KB limit (on the
//! text as sent, whitespace included), AWS's validation messages, and the canonical form
//! GetResourcePolicy answers (minified, keys in AWS's order, one-element lists as strings, an
//! account-id principal as its root ARN). Two documents with the same canonical form are the
//! same policy: re-putting one keeps its RevisionId.

use serde_json::{Map, Value as Json, json};

/// "The maximum size supported for a resource-based policy document is 20 KB."
pub const MAX_POLICY_BYTES: usize = 20 * 1024;

/// What a policy is attached to: its rules differ (stream actions only on streams).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Table,
    Stream,
}

/// The actions that act on a stream; AWS rejects them in a table's policy and the others in
/// a stream's.
const STREAM_ACTIONS: &[&str] = &["DescribeStream", "GetRecords", "GetShardIterator"];

fn invalid(detail: &str) -> String {
    format!("One or more parameter values were invalid: {detail}")
}

fn invalid_doc(detail: &str) -> String {
    invalid(&format!("Invalid policy document: {detail}"))
}

/// Checks a document sent for `target` and answers its canonical form, or AWS's
/// ValidationException message.
pub fn validate(text: &str, target: Target) -> Result<String, String> {
    if text.len() > MAX_POLICY_BYTES {
        return Err(invalid(&format!(
            "Maximum policy size of {MAX_POLICY_BYTES} bytes exceeded"
        )));
    }
    let doc: Json = match serde_json::from_str(text) {
        Ok(v @ Json::Object(_)) => v,
        // AWS's policy parser words these two apart (measured: ack-api-quirks DDB-TABLE-457).
        Ok(Json::Null) => return Err(invalid_doc("This text appears not to be a policy")),
        _ => return Err(invalid_doc("This policy contains invalid Json")),
    };
    if doc.as_object().is_some_and(|o| o.is_empty()) {
        // An empty object fails to parse where the text ends ("{}": line 1, column 3).
        let line = text.lines().count().max(1);
        let column = text.lines().last().map_or(0, |l| l.chars().count()) + 1;
        return Err(invalid_doc(&format!(
            "Syntax error at position ({line},{column})"
        )));
    }
    let statements = match doc.get("Statement") {
        Some(Json::Array(a)) if !a.is_empty() => a.clone(),
        Some(s @ Json::Object(_)) => vec![s.clone()],
        _ => {
            return Err(invalid_doc(
                "Could not parse the policy: Statement is empty!",
            ));
        }
    };
    let mut sids = Vec::new();
    let mut bad_actions = Vec::new();
    let mut out = Vec::new();
    for s in &statements {
        let s = s
            .as_object()
            .ok_or_else(|| invalid_doc("This policy contains invalid Json"))?;
        if let Some(sid) = s.get("Sid").and_then(Json::as_str) {
            if sids.contains(&sid) {
                return Err(invalid_doc(
                    "The Statement Ids in the policy are not unique",
                ));
            }
            sids.push(sid);
        }
        let effect = match s.get("Effect").and_then(Json::as_str) {
            Some(e) if e.eq_ignore_ascii_case("allow") => "Allow",
            Some(e) if e.eq_ignore_ascii_case("deny") => "Deny",
            Some(_) => return Err(invalid_doc("Invalid effect")),
            None => return Err(invalid_doc("Missing required field Effect")),
        };
        for field in ["Principal", "Action", "Resource"] {
            let not = format!("Not{field}");
            if s.get(field).is_none() && s.get(not.as_str()).is_none() {
                return Err(invalid_doc(&format!("Missing required field {field}")));
            }
        }
        for key in ["Principal", "NotPrincipal"] {
            if let Some(p) = s.get(key) {
                check_principal(p, text)?;
            }
        }
        // AWS's least-privilege guardrail: an Allow to everyone, unconditioned.
        if effect == "Allow"
            && s.get("Condition").is_none()
            && s.get("Principal").is_some_and(is_everyone)
        {
            return Err(
                "Resource-based policy grants unbounded access in one or more elements. Please revise the policy to ensure least-privilege form of access"
                    .to_string(),
            );
        }
        for key in ["Action", "NotAction"] {
            for a in strings(s.get(key)) {
                if wrong_action(&a, target) {
                    bad_actions.push(format!("\"{a}\""));
                }
            }
        }
        out.push(canonical_statement(s, effect));
    }
    if !bad_actions.is_empty() {
        return Err(invalid_doc(&format!(
            "The following action names are invalid: {}",
            bad_actions.join(", ")
        )));
    }
    let mut c = Map::new();
    if let Some(v) = doc.get("Version") {
        c.insert("Version".into(), v.clone());
    }
    if let Some(v) = doc.get("Id") {
        c.insert("Id".into(), v.clone());
    }
    c.insert("Statement".into(), Json::Array(out));
    Ok(Json::Object(c).to_string())
}

/// The document GetResourcePolicy answers: a document sent without `Version` reads back with
/// IAM's default one (but stays a different document for idempotency).
pub fn as_read(canonical: &str) -> String {
    match serde_json::from_str::<Json>(canonical) {
        Ok(Json::Object(m)) if !m.contains_key("Version") => {
            let mut c = Map::new();
            c.insert("Version".into(), json!("2008-10-17"));
            c.extend(m);
            Json::Object(c).to_string()
        }
        _ => canonical.to_string(),
    }
}

/// A string or a list of strings, as policy elements are.
fn strings(v: Option<&Json>) -> Vec<String> {
    match v {
        Some(Json::String(s)) => vec![s.clone()],
        Some(Json::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

fn wrong_action(action: &str, target: Target) -> bool {
    let Some(name) = action.strip_prefix("dynamodb:") else {
        // Other services' actions and bare `*` are accepted as they are.
        return false;
    };
    if name.contains('*') || name.contains('?') {
        return false;
    }
    let stream = STREAM_ACTIONS.contains(&name);
    match target {
        Target::Table => stream,
        Target::Stream => !stream,
    }
}

/// `"*"` or `{"AWS": "*"}`.
fn is_everyone(p: &Json) -> bool {
    match p {
        Json::String(s) => s == "*",
        Json::Object(m) => strings(m.get("AWS")).iter().any(|id| id == "*"),
        _ => false,
    }
}

/// Principals must be `*` or `{"AWS": ...}`/`{"Service": ...}`/`{"Federated": ...}`. Any other
/// string is a syntax error AWS places at the value (line and column in the text as sent).
fn check_principal(p: &Json, text: &str) -> Result<(), String> {
    let bad = || invalid("Invalid principal in policy document.");
    match p {
        Json::String(s) if s == "*" => Ok(()),
        Json::String(s) => {
            let (line, col) = position_of_value(text, "Principal", s);
            Err(invalid_doc(&format!(
                "Syntax error at position ({line},{col})"
            )))
        }
        Json::Object(m) if !m.is_empty() => {
            for (k, v) in m {
                if !matches!(
                    k.as_str(),
                    "AWS" | "Service" | "Federated" | "CanonicalUser"
                ) {
                    return Err(bad());
                }
                let ids = strings(Some(v));
                if ids.is_empty() || ids.iter().any(|id| !valid_principal_id(k, id)) {
                    return Err(bad());
                }
            }
            Ok(())
        }
        _ => Err(bad()),
    }
}

/// Line and column (from 1) of the string `value` given to `key` in the document's text.
fn position_of_value(text: &str, key: &str, value: &str) -> (usize, usize) {
    let needle = format!("\"{key}\"");
    let quoted = serde_json::to_string(value).unwrap_or_default();
    let at = text
        .match_indices(&needle)
        .find_map(|(i, _)| {
            let rest = &text[i + needle.len()..];
            let after_colon = rest.trim_start().strip_prefix(':')?.trim_start();
            after_colon
                .starts_with(&quoted)
                .then(|| text.len() - after_colon.len())
        })
        .unwrap_or(0);
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let col = at - before.rfind('\n').map_or(0, |n| n + 1) + 1;
    (line, col)
}

fn valid_principal_id(kind: &str, id: &str) -> bool {
    match kind {
        "AWS" => id == "*" || is_account(id) || id.starts_with("arn:"),
        _ => !id.is_empty(),
    }
}

fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// One statement in AWS's key order, with its elements normalized.
fn canonical_statement(s: &Map<String, Json>, effect: &str) -> Json {
    let mut c = Map::new();
    if let Some(v) = s.get("Sid") {
        c.insert("Sid".into(), v.clone());
    }
    c.insert("Effect".into(), json!(effect));
    for key in ["Principal", "NotPrincipal"] {
        if let Some(p) = s.get(key) {
            c.insert(key.into(), canonical_principal(p));
        }
    }
    for key in ["Action", "NotAction", "Resource", "NotResource"] {
        if let Some(v) = s.get(key) {
            c.insert(key.into(), collapse(strings(Some(v))));
        }
    }
    if let Some(v) = s.get("Condition") {
        c.insert("Condition".into(), v.clone());
    }
    Json::Object(c)
}

fn collapse(mut v: Vec<String>) -> Json {
    if v.len() == 1 {
        json!(v.remove(0))
    } else {
        json!(v)
    }
}

fn canonical_principal(p: &Json) -> Json {
    let Json::Object(m) = p else {
        return p.clone();
    };
    let mut c = Map::new();
    for (k, v) in m {
        let mut ids: Vec<String> = strings(Some(v))
            .into_iter()
            .map(|id| {
                if k == "AWS" && is_account(&id) {
                    format!("arn:aws:iam::{id}:root")
                } else {
                    id
                }
            })
            .collect();
        let mut seen = Vec::new();
        ids.retain(|id| {
            let fresh = !seen.contains(id);
            seen.push(id.clone());
            fresh
        });
        c.insert(k.clone(), collapse(ids));
    }
    Json::Object(c)
}

/// Whether the document denies `account`'s root (the caller of a default-credentials request)
/// `dynamodb:PutResourcePolicy`: AWS refuses such a policy unless the caller confirms the
/// lockout with `ConfirmRemoveSelfResourceAccess`.
pub fn locks_out(canonical: &str, account: &str) -> bool {
    let Ok(doc) = serde_json::from_str::<Json>(canonical) else {
        return false;
    };
    let root = format!("arn:aws:iam::{account}:root");
    doc["Statement"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| s["Effect"] == "Deny")
        .any(|s| {
            let principal = match &s["Principal"] {
                Json::String(p) => p == "*",
                Json::Object(m) => strings(m.get("AWS"))
                    .iter()
                    .any(|id| id == "*" || *id == root || id == account),
                _ => false,
            };
            principal
                && strings(s.get("Action"))
                    .iter()
                    .any(|a| action_matches(a, "dynamodb:PutResourcePolicy"))
        })
}

/// Whether the document lets DynamoDB's replication service principal replicate to and from
/// the table for `account` (multi-account global tables): each of the three actions allowed
/// to `replication.dynamodb.amazonaws.com`, under an `aws:SourceAccount` condition, when one
/// is set, that names the account.
pub fn grants_replication(doc: &str, account: &str) -> bool {
    let Ok(doc) = serde_json::from_str::<Json>(doc) else {
        return false;
    };
    let statements: Vec<&Json> = match &doc["Statement"] {
        Json::Array(a) => a.iter().collect(),
        s @ Json::Object(_) => vec![s],
        _ => Vec::new(),
    };
    let allows = |s: &Json, action: &str| {
        s["Effect"] == "Allow"
            && strings(s["Principal"].get("Service"))
                .iter()
                .any(|p| p == "replication.dynamodb.amazonaws.com")
            && strings(s.get("Action"))
                .iter()
                .any(|a| action_matches(a, action))
            && s["Condition"].as_object().is_none_or(|ops| {
                ops.values()
                    .filter_map(Json::as_object)
                    .flat_map(|keys| keys.iter())
                    .filter(|(k, _)| k.eq_ignore_ascii_case("aws:SourceAccount"))
                    .all(|(_, v)| strings(Some(v)).iter().any(|a| a == account))
            })
    };
    [
        "dynamodb:ReadDataForReplication",
        "dynamodb:WriteDataForReplication",
        "dynamodb:ReplicateSettings",
    ]
    .iter()
    .all(|action| statements.iter().any(|s| allows(s, action)))
}

/// IAM's action match: case-insensitive, `*` and `?` wildcards.
fn action_matches(pattern: &str, action: &str) -> bool {
    fn go(p: &[u8], a: &[u8]) -> bool {
        match (p.first(), a.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&p[1..], a) || (!a.is_empty() && go(p, &a[1..])),
            (Some(b'?'), Some(_)) => go(&p[1..], &a[1..]),
            (Some(x), Some(y)) if x.eq_ignore_ascii_case(y) => go(&p[1..], &a[1..]),
            _ => false,
        }
    }
    go(pattern.as_bytes(), action.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replication_grants() {
        let policy = |accounts: &str, actions: &str| {
            format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Service":["replication.dynamodb.amazonaws.com"]}},"Action":[{actions}],"Resource":"*","Condition":{{"StringEquals":{{"aws:SourceAccount":[{accounts}]}}}}}}]}}"#
            )
        };
        let all = r#""dynamodb:ReadDataForReplication","dynamodb:WriteDataForReplication","dynamodb:ReplicateSettings""#;
        assert!(grants_replication(
            &policy(r#""222222222222","111111111111""#, all),
            "222222222222"
        ));
        assert!(!grants_replication(
            &policy(r#""111111111111""#, all),
            "222222222222"
        ));
        assert!(!grants_replication(
            &policy(r#""222222222222""#, r#""dynamodb:WriteDataForReplication""#),
            "222222222222"
        ));
        assert!(grants_replication(
            &policy(r#""222222222222""#, r#""dynamodb:*""#),
            "222222222222"
        ));
        assert!(!grants_replication("{}", "222222222222"));
    }

    fn doc(statement: &Json) -> String {
        json!({"Version": "2012-10-17", "Statement": statement}).to_string()
    }

    #[test]
    fn canonical_form_is_minified_and_normalized() {
        let text = r#"{ "Statement": [ { "Resource": ["arn:aws:dynamodb:us-east-1:111122223333:table/t"],
            "Action": ["dynamodb:GetItem"], "Principal": {"AWS": ["111122223333", "arn:aws:iam::111122223333:root"]},
            "effect_ignored": 1, "Effect": "allow" } ], "Version": "2012-10-17" }"#;
        let c = validate(text, Target::Table).unwrap();
        assert_eq!(
            c,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"dynamodb:GetItem","Resource":"arn:aws:dynamodb:us-east-1:111122223333:table/t"}]}"#
        );
        // The same policy with other whitespace and key order is the same canonical text.
        let again = doc(&json!([{"Effect": "Allow", "Action": "dynamodb:GetItem",
            "Resource": "arn:aws:dynamodb:us-east-1:111122223333:table/t",
            "Principal": {"AWS": "111122223333"}}]));
        assert_eq!(validate(&again, Target::Table).unwrap(), c);
    }

    #[test]
    fn version_defaults_on_read_only() {
        let c = validate(
            r#"{"Statement":{"Effect":"Deny","Principal":"*","Action":"dynamodb:*","Resource":"*"}}"#,
            Target::Table,
        )
        .unwrap();
        assert!(!c.contains("Version"));
        assert!(as_read(&c).starts_with(r#"{"Version":"2008-10-17","Statement":[{"#));
    }

    #[test]
    fn aws_messages_for_bad_documents() {
        let err = |t: &str| validate(t, Target::Table).unwrap_err();
        let p = "One or more parameter values were invalid: ";
        assert_eq!(
            err("{not json"),
            format!("{p}Invalid policy document: This policy contains invalid Json")
        );
        assert_eq!(
            err(""),
            format!("{p}Invalid policy document: This policy contains invalid Json")
        );
        assert_eq!(
            err("[]"),
            format!("{p}Invalid policy document: This policy contains invalid Json")
        );
        assert_eq!(
            err("null"),
            format!("{p}Invalid policy document: This text appears not to be a policy")
        );
        assert_eq!(
            err("{}"),
            format!("{p}Invalid policy document: Syntax error at position (1,3)")
        );
        assert_eq!(
            err(r#"{"Version":"2012-10-17","Statement":[]}"#),
            format!("{p}Invalid policy document: Could not parse the policy: Statement is empty!")
        );
        assert_eq!(
            err(&doc(
                &json!([{"Effect": "Allow", "Principal": "*", "Action": "dynamodb:GetItem"}])
            )),
            format!("{p}Invalid policy document: Missing required field Resource")
        );
        assert_eq!(
            err(
                r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "111122223333", "Action": "dynamodb:GetItem", "Resource": "*"}]}"#
            ),
            format!("{p}Invalid policy document: Syntax error at position (1,74)")
        );
        assert_eq!(
            err(&doc(
                &json!([{"Effect": "Allow", "Principal": {"Foo": "x"}, "Action": "dynamodb:GetItem", "Resource": "*"}])
            )),
            format!("{p}Invalid principal in policy document.")
        );
        let dup = json!({"Sid": "a", "Effect": "Deny", "Principal": "*", "Action": "dynamodb:GetItem", "Resource": "*"});
        assert_eq!(
            err(&doc(&json!([dup, dup]))),
            format!("{p}Invalid policy document: The Statement Ids in the policy are not unique")
        );
        for everyone in [json!("*"), json!({"AWS": "*"})] {
            assert_eq!(
                err(&doc(
                    &json!([{"Effect": "Allow", "Principal": everyone, "Action": "dynamodb:GetItem", "Resource": "*"}])
                )),
                "Resource-based policy grants unbounded access in one or more elements. Please revise the policy to ensure least-privilege form of access"
            );
        }
        let padded = format!("{}{}", doc(&json!([])), " ".repeat(MAX_POLICY_BYTES));
        assert_eq!(
            err(&padded),
            format!("{p}Maximum policy size of 20480 bytes exceeded")
        );
    }

    #[test]
    fn stream_actions_only_on_streams() {
        let s = doc(
            &json!([{"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": ["dynamodb:GetRecords", "dynamodb:DescribeStream"], "Resource": "*"}]),
        );
        assert_eq!(
            validate(&s, Target::Table).unwrap_err(),
            "One or more parameter values were invalid: Invalid policy document: The following action names are invalid: \"dynamodb:GetRecords\", \"dynamodb:DescribeStream\""
        );
        assert!(validate(&s, Target::Stream).is_ok());
        let t = doc(
            &json!([{"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "dynamodb:PutItem", "Resource": "*"}]),
        );
        assert!(validate(&t, Target::Stream).is_err());
        let w = doc(
            &json!([{"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "dynamodb:*", "Resource": "*"}]),
        );
        assert!(validate(&w, Target::Stream).is_ok() && validate(&w, Target::Table).is_ok());
    }

    #[test]
    fn lockout_needs_a_deny_of_put_for_the_caller() {
        let deny = |action: &str, principal: Json| {
            validate(
                &doc(
                    &json!([{"Effect": "Deny", "Principal": principal, "Action": action, "Resource": "*"}]),
                ),
                Target::Table,
            )
            .unwrap()
        };
        assert!(locks_out(&deny("dynamodb:*", json!("*")), "111122223333"));
        assert!(locks_out(
            &deny("dynamodb:PutResource*", json!({"AWS": "111122223333"})),
            "111122223333"
        ));
        assert!(!locks_out(
            &deny("dynamodb:DeleteResourcePolicy", json!("*")),
            "111122223333"
        ));
        assert!(!locks_out(
            &deny("dynamodb:*", json!({"AWS": "444455556666"})),
            "111122223333"
        ));
    }
}
