//! Resource-based policies: AddPermission, RemovePermission, GetPolicy.

use aloft_core::RequestContext;
use serde_json::{Value, json};

use crate::Lambda;
use crate::error::{Code, Result, constraint, err};
use crate::functions::{name_and_qualifier, resolve};

/// AWS caps a function's policy document at 20 KB.
const MAX_POLICY: usize = 20 * 1024;

fn str_of<'a>(input: &'a Value, k: &str) -> Option<&'a str> {
    input.get(k).and_then(Value::as_str)
}

fn principal(p: &str) -> Value {
    if p == "*" {
        json!("*")
    } else if p.ends_with(".amazonaws.com") || p.ends_with(".amazon.com") {
        json!({"Service": p})
    } else if p.len() == 12 && p.bytes().all(|b| b.is_ascii_digit()) {
        json!({"AWS": format!("arn:aws:iam::{p}:root")})
    } else {
        json!({"AWS": p})
    }
}

impl Lambda {
    pub async fn add_permission(&self, ctx: &RequestContext, input: Value) -> Result<Value> {
        let (name, q) = name_and_qualifier(&input)?;
        let sid = str_of(&input, "StatementId")
            .ok_or_else(|| constraint("null", "statementId", "Member must not be null"))?
            .to_string();
        let action = str_of(&input, "Action")
            .ok_or_else(|| constraint("null", "action", "Member must not be null"))?
            .to_string();
        let who = str_of(&input, "Principal")
            .ok_or_else(|| constraint("null", "principal", "Member must not be null"))?
            .to_string();
        if !(action.starts_with("lambda:") || action == "*") {
            return Err(constraint(
                &action,
                "action",
                "Member must satisfy regular expression pattern: (lambda:[*]|lambda:[a-zA-Z]+|[*])",
            ));
        }
        let rev = str_of(&input, "RevisionId").map(str::to_string);
        self.mutate(ctx, &name, |f| {
            let v = resolve(f, q.as_deref())?;
            let rev_now = v.revision_id.clone();
            crate::functions::check_revision(rev.as_deref(), &rev_now)?;
            let mut resource = f.arn();
            if let Some(q) = &q {
                resource = format!("{resource}:{q}");
            }
            let mut stmt = json!({
                "Sid": sid,
                "Effect": "Allow",
                "Principal": principal(&who),
                "Action": action,
                "Resource": resource,
            });
            let mut cond = serde_json::Map::new();
            if let Some(s) = str_of(&input, "SourceArn") {
                cond.insert("ArnLike".into(), json!({"AWS:SourceArn": s}));
            }
            if let Some(s) = str_of(&input, "SourceAccount") {
                cond.insert("StringEquals".into(), json!({"AWS:SourceAccount": s}));
            }
            if let Some(s) = str_of(&input, "FunctionUrlAuthType") {
                cond.insert("StringEquals".into(), json!({"lambda:FunctionUrlAuthType": s}));
            }
            if let Some(s) = str_of(&input, "PrincipalOrgID") {
                cond.insert("StringEquals".into(), json!({"aws:PrincipalOrgID": s}));
            }
            if !cond.is_empty() {
                stmt["Condition"] = Value::Object(cond);
            }
            let list = f.policies.entry(q.clone().unwrap_or_default()).or_default();
            if list.iter().any(|s| s["Sid"] == json!(sid)) {
                return Err(err(
                    Code::ResourceConflict,
                    format!("The statement id ({sid}) provided already exists. Please provide a new statement id, or remove the existing statement."),
                ));
            }
            list.push(stmt.clone());
            let size = serde_json::to_string(list).map_or(0, |s| s.len());
            if size > MAX_POLICY {
                list.pop();
                return Err(err(
                    Code::PolicyLengthExceeded,
                    "The final policy size (20481) is bigger than the limit (20480).",
                ));
            }
            Ok(json!({"Statement": stmt.to_string()}))
        })
        .await
    }

    pub async fn remove_permission(&self, ctx: &RequestContext, input: Value) -> Result<Value> {
        let (name, q) = name_and_qualifier(&input)?;
        let sid = str_of(&input, "StatementId")
            .unwrap_or_default()
            .to_string();
        self.mutate(ctx, &name, |f| {
            let arn = f.arn();
            let list = f.policies.entry(q.clone().unwrap_or_default()).or_default();
            let before = list.len();
            list.retain(|s| s["Sid"] != json!(sid));
            if list.len() == before {
                return Err(err(
                    Code::ResourceNotFound,
                    format!("Statement {sid} is not found in resource policy."),
                ));
            }
            let _ = arn;
            Ok(json!({}))
        })
        .await
    }

    pub fn get_policy(&self, ctx: &RequestContext, input: Value) -> Result<Value> {
        let (name, q) = name_and_qualifier(&input)?;
        self.read(ctx, &name, |f| {
            let v = resolve(f, q.as_deref())?;
            let list = f
                .policies
                .get(&q.clone().unwrap_or_default())
                .filter(|l| !l.is_empty());
            let Some(list) = list else {
                return Err(err(
                    Code::ResourceNotFound,
                    "The resource you requested does not exist.",
                ));
            };
            let doc = json!({"Version": "2012-10-17", "Id": "default", "Statement": list});
            Ok(json!({"Policy": doc.to_string(), "RevisionId": v.revision_id}))
        })
    }
}

impl Lambda {
    /// The resource policy (AddPermission's statements) of the function, version or alias an
    /// ARN names, as the gateway's `--enforce-iam` check reads it.
    pub fn policy_document(&self, resource: &str) -> Option<String> {
        let arn = aloft_core::arn::parse(resource).filter(|a| a.service == "lambda")?;
        let mut parts = arn.resource.split(':');
        if parts.next() != Some("function") {
            return None;
        }
        let name = parts.next()?;
        let qualifier = parts.next().unwrap_or("");
        let st = self.state.lock().expect("state lock");
        let f = st
            .functions
            .get(&crate::key(arn.account, arn.region, name))?;
        // `$LATEST` shares the unqualified function's policy.
        let q = if qualifier == "$LATEST" {
            ""
        } else {
            qualifier
        };
        let list = f.policies.get(q).filter(|l| !l.is_empty())?;
        Some(json!({"Version": "2012-10-17", "Id": "default", "Statement": list}).to_string())
    }
}
