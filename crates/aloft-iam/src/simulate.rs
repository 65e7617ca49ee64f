//! SimulateCustomPolicy and SimulatePrincipalPolicy, answered by the one policy engine.

use std::collections::HashMap;

use aloft_core::RequestContext;
use serde_json::{Value, json};

use crate::authority::principal_docs;
use crate::error::{Code, Result};
use crate::policy::{Request, evaluate};
use crate::state::Identity;

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn parse_docs(list: &[String]) -> Result<Vec<Value>> {
    list.iter()
        .map(|d| {
            serde_json::from_str(d).map_err(|_| {
                Code::MalformedPolicyDocumentException.msg("This policy contains invalid Json")
            })
        })
        .collect()
}

fn context(input: &Value) -> HashMap<String, Vec<String>> {
    let mut ctx = HashMap::new();
    for e in input
        .get("ContextEntries")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(k) = e.get("ContextKeyName").and_then(Value::as_str) {
            ctx.insert(k.to_string(), strings(e.get("ContextKeyValues")));
        }
    }
    ctx
}

fn results(input: &Value, identity: &[Value], boundary: Option<&Value>) -> Result<Value> {
    let actions = strings(input.get("ActionNames"));
    let mut resources = strings(input.get("ResourceArns"));
    if resources.is_empty() {
        resources.push("*".into());
    }
    let ctx = context(input);
    let mut out = Vec::new();
    for a in &actions {
        for r in &resources {
            let d = evaluate(
                identity,
                boundary,
                None,
                &Request {
                    action: a,
                    resource: r,
                    context: &ctx,
                },
            );
            out.push(json!({
                "EvalActionName": a, "EvalResourceName": r, "EvalDecision": d.as_str(),
                "MatchedStatements": [], "MissingContextValues": [],
            }));
        }
    }
    Ok(json!({"EvaluationResults": out, "IsTruncated": false}))
}

pub fn simulate_custom_policy(input: &Value) -> Result<Value> {
    let docs = parse_docs(&strings(input.get("PolicyInputList")))?;
    let boundary = parse_docs(&strings(input.get("PermissionsBoundaryPolicyInputList")))?;
    results(input, &docs, boundary.first())
}

pub fn simulate_principal_policy(
    id: &Identity,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    let arn = input
        .get("PolicySourceArn")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let parsed = aloft_core::arn::parse(&arn)
        .ok_or_else(|| Code::InvalidInputException.msg(format!("Invalid ARN: {arn}")))?;
    let (kind, name) = parsed
        .resource
        .split_once('/')
        .map(|(k, rest)| {
            (
                k.to_string(),
                rest.rsplit('/').next().unwrap_or("").to_string(),
            )
        })
        .unwrap_or_default();
    let extra = parse_docs(&strings(input.get("PolicyInputList")))?;
    let (mut docs, boundary) = id.read_account(&ctx.account_id, |a| {
        let p = match kind.as_str() {
            "user" => a.users.get(&name),
            "role" => a.roles.get(&name),
            "group" => a.groups.get(&name),
            _ => None,
        }
        .ok_or_else(|| {
            Code::NoSuchEntityException.msg(format!("The {kind} with name {name} cannot be found."))
        })?;
        let mut docs = Vec::new();
        principal_docs(a, p, &mut docs);
        for g in &p.groups {
            if let Some(g) = a.groups.get(g) {
                principal_docs(a, g, &mut docs);
            }
        }
        let boundary = p
            .permissions_boundary
            .as_ref()
            .and_then(|b| a.policies.get(b))
            .and_then(|pol| pol.versions.iter().find(|v| v.id == pol.default_version))
            .and_then(|v| serde_json::from_str::<Value>(&v.document).ok());
        Ok((docs, boundary))
    })?;
    docs.extend(extra);
    results(input, &docs, boundary.as_ref())
}
