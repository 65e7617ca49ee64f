//! Customer managed policies and their versions (IAM keeps up to five; one is the default).

use aloft_core::{RequestContext, clock};
use serde_json::{Value, json};

use crate::error::{Code, Result};
use crate::iam::*;
use crate::state::{Account, Identity, ManagedPolicy, PolicyVersion, check_name, entity_id};

pub(crate) fn attachments(a: &Account, arn: &str) -> usize {
    a.users
        .values()
        .chain(a.roles.values())
        .chain(a.groups.values())
        .filter(|p| p.attached.iter().any(|x| x == arn))
        .count()
}

pub async fn create_policy(id: &Identity, ctx: &RequestContext, input: &Value) -> Result<Value> {
    let name = req(input, "PolicyName")?.to_string();
    check_name("policyName", &name, 128)?;
    let doc = req(input, "PolicyDocument")?.to_string();
    check_doc(&doc)?;
    let path = path_of(input)?;
    let account = ctx.account_id.clone();
    let arn = format!("arn:aws:iam::{account}:policy{path}{name}");
    id.with_account(&account, |a| {
        if a.policies.contains_key(&arn) {
            return Err(Code::EntityAlreadyExistsException.msg(format!(
                "A policy called {name} already exists. Duplicate names are not allowed."
            )));
        }
        let now = clock::now_secs_f64();
        let p = ManagedPolicy {
            name,
            id: entity_id("ANPA"),
            arn: arn.clone(),
            path,
            description: s(input, "Description").map(str::to_string),
            created: now,
            updated: now,
            default_version: "v1".into(),
            versions: vec![PolicyVersion {
                id: "v1".into(),
                document: doc,
                created: now,
            }],
            next_version: 2,
        };
        let out = json!({"Policy": policy_value(&p, 0)});
        a.policies.insert(arn, p);
        Ok(out)
    })
    .await
}

pub(crate) fn policy_missing(arn: &str) -> aloft_core::AwsError {
    Code::NoSuchEntityException.msg(format!("Policy {arn} was not found."))
}

pub fn get_policy(id: &Identity, ctx: &RequestContext, input: &Value) -> Result<Value> {
    let arn = req(input, "PolicyArn")?.to_string();
    id.read_account(&ctx.account_id, |a| {
        let p = a.policies.get(&arn).ok_or_else(|| policy_missing(&arn))?;
        Ok(json!({"Policy": policy_value(p, attachments(a, &arn))}))
    })
}

pub fn list_policies(id: &Identity, ctx: &RequestContext, input: &Value) -> Result<Value> {
    let scope = s(input, "Scope").unwrap_or("All");
    let only_attached = input
        .get("OnlyAttached")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    id.read_account(&ctx.account_id, |a| {
        let items = a
            .policies
            .values()
            .filter(|_| scope != "AWS")
            .filter(|p| !only_attached || attachments(a, &p.arn) > 0)
            .map(|p| (p.arn.clone(), policy_value(p, attachments(a, &p.arn))))
            .collect();
        Ok(listed("Policies", page(items, input)))
    })
}

pub async fn delete_policy(id: &Identity, ctx: &RequestContext, input: &Value) -> Result<Value> {
    let arn = req(input, "PolicyArn")?.to_string();
    id.with_account(&ctx.account_id, |a| {
        if !a.policies.contains_key(&arn) {
            return Err(policy_missing(&arn));
        }
        if attachments(a, &arn) > 0 {
            return Err(
                Code::DeleteConflictException.msg("Cannot delete a policy attached to entities.")
            );
        }
        a.policies.remove(&arn);
        Ok(json!({}))
    })
    .await
}

pub(crate) fn version_value(v: &PolicyVersion, default: &str, with_doc: bool) -> Value {
    let mut out =
        json!({"VersionId": v.id, "IsDefaultVersion": v.id == default, "CreateDate": v.created});
    if with_doc {
        out["Document"] = encode_doc(&v.document).into();
    }
    out
}

pub async fn create_policy_version(
    id: &Identity,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    let arn = req(input, "PolicyArn")?.to_string();
    let doc = req(input, "PolicyDocument")?.to_string();
    check_doc(&doc)?;
    let set_default = input
        .get("SetAsDefault")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    id.with_account(&ctx.account_id, |a| {
        let p = a.policies.get_mut(&arn).ok_or_else(|| policy_missing(&arn))?;
        if p.versions.len() >= 5 {
            return Err(Code::LimitExceededException.msg("A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.".to_string()));
        }
        let now = clock::now_secs_f64();
        let v = PolicyVersion { id: format!("v{}", p.next_version), document: doc, created: now };
        p.next_version += 1;
        if set_default {
            p.default_version = v.id.clone();
        }
        p.updated = now;
        let out = json!({"PolicyVersion": version_value(&v, &p.default_version, false)});
        p.versions.push(v);
        Ok(out)
    })
    .await
}

pub fn get_policy_version(id: &Identity, ctx: &RequestContext, input: &Value) -> Result<Value> {
    let arn = req(input, "PolicyArn")?.to_string();
    let vid = req(input, "VersionId")?.to_string();
    id.read_account(&ctx.account_id, |a| {
        let p = a.policies.get(&arn).ok_or_else(|| policy_missing(&arn))?;
        let v = p.versions.iter().find(|v| v.id == vid).ok_or_else(|| {
            Code::NoSuchEntityException.msg(format!(
                "Policy {arn} version {vid} does not exist or is not attachable."
            ))
        })?;
        Ok(json!({"PolicyVersion": version_value(v, &p.default_version, true)}))
    })
}

pub fn list_policy_versions(id: &Identity, ctx: &RequestContext, input: &Value) -> Result<Value> {
    let arn = req(input, "PolicyArn")?.to_string();
    id.read_account(&ctx.account_id, |a| {
        let p = a.policies.get(&arn).ok_or_else(|| policy_missing(&arn))?;
        let items = p
            .versions
            .iter()
            .rev()
            .map(|v| (v.id.clone(), version_value(v, &p.default_version, false)))
            .collect();
        Ok(listed("Versions", page(items, &json!({}))))
    })
}

pub async fn delete_policy_version(
    id: &Identity,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    let arn = req(input, "PolicyArn")?.to_string();
    let vid = req(input, "VersionId")?.to_string();
    id.with_account(&ctx.account_id, |a| {
        let p = a
            .policies
            .get_mut(&arn)
            .ok_or_else(|| policy_missing(&arn))?;
        if p.default_version == vid {
            return Err(
                Code::DeleteConflictException.msg("Cannot delete the default version of a policy.")
            );
        }
        let before = p.versions.len();
        p.versions.retain(|v| v.id != vid);
        if before == p.versions.len() {
            return Err(Code::NoSuchEntityException.msg(format!(
                "Policy {arn} version {vid} does not exist or is not attachable."
            )));
        }
        Ok(json!({}))
    })
    .await
}

pub async fn set_default_policy_version(
    id: &Identity,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    let arn = req(input, "PolicyArn")?.to_string();
    let vid = req(input, "VersionId")?.to_string();
    id.with_account(&ctx.account_id, |a| {
        let p = a
            .policies
            .get_mut(&arn)
            .ok_or_else(|| policy_missing(&arn))?;
        if !p.versions.iter().any(|v| v.id == vid) {
            return Err(Code::NoSuchEntityException.msg(format!(
                "Policy {arn} version {vid} does not exist or is not attachable."
            )));
        }
        p.default_version = vid;
        p.updated = clock::now_secs_f64();
        Ok(json!({}))
    })
    .await
}
