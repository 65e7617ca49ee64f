//! IAM instance profiles: named containers holding at most one role, with tags; a role
//! cannot be deleted while a profile holds it.

use aloft_core::{RequestContext, clock};
use serde_json::{Value, json};

use crate::error::{Code, Result, no_such};
use crate::iam::{Kind, listed, page, path_of, principal_value, req, s, tags};
use crate::state::{Account, Identity, InstanceProfile, check_name, entity_id};

/// AWS's per-profile quota: one role.
const MAX_ROLES: usize = 1;
const MAX_TAGS: usize = 50;

fn missing(name: &str) -> aloft_core::AwsError {
    Code::NoSuchEntityException.msg(format!("Instance Profile {name} cannot be found."))
}

fn value(a: &Account, ip: &InstanceProfile) -> Value {
    let mut v = json!({
        "Path": ip.path,
        "InstanceProfileName": ip.name,
        "InstanceProfileId": ip.id,
        "Arn": ip.arn,
        "CreateDate": ip.created,
        "Roles": ip.roles.iter()
            .filter_map(|r| a.roles.get(r))
            .map(|r| principal_value(Kind::Role, r))
            .collect::<Vec<_>>(),
    });
    if !ip.tags.is_empty() {
        v["Tags"] = tag_list(&ip.tags);
    }
    v
}

fn tag_list(t: &[(String, String)]) -> Value {
    t.iter()
        .map(|(k, v)| json!({"Key": k, "Value": v}))
        .collect()
}

fn name_of(input: &Value) -> Result<String> {
    let name = req(input, "InstanceProfileName")?.to_string();
    check_name("instanceProfileName", &name, 128)?;
    Ok(name)
}

pub async fn create(id: &Identity, ctx: &RequestContext, input: &Value) -> Result<Value> {
    let name = name_of(input)?;
    let path = path_of(input)?;
    let t = tags(input);
    if t.len() > MAX_TAGS {
        return Err(Code::LimitExceededException.msg(format!(
            "Cannot exceed quota for TagsPerInstanceProfile: {MAX_TAGS}"
        )));
    }
    let account = ctx.account_id.clone();
    id.with_account(&account, |a| {
        // Names are unique case-insensitively, like every IAM name.
        if a.instance_profiles
            .keys()
            .any(|k| k.eq_ignore_ascii_case(&name))
        {
            return Err(Code::EntityAlreadyExistsException
                .msg(format!("Instance Profile {name} already exists.")));
        }
        let ip = InstanceProfile {
            arn: format!("arn:aws:iam::{account}:instance-profile{path}{name}"),
            name: name.clone(),
            id: entity_id("AIPA"),
            path,
            created: clock::now_secs_f64(),
            roles: Vec::new(),
            tags: t,
        };
        let out = json!({"InstanceProfile": value(a, &ip)});
        a.instance_profiles.insert(name, ip);
        Ok(out)
    })
    .await
}

pub fn get(id: &Identity, ctx: &RequestContext, input: &Value) -> Result<Value> {
    let name = name_of(input)?;
    id.read_account(&ctx.account_id, |a| {
        let ip = a
            .instance_profiles
            .get(&name)
            .ok_or_else(|| missing(&name))?;
        Ok(json!({"InstanceProfile": value(a, ip)}))
    })
}

pub async fn delete(id: &Identity, ctx: &RequestContext, input: &Value) -> Result<Value> {
    let name = name_of(input)?;
    id.with_account(&ctx.account_id, |a| {
        let ip = a
            .instance_profiles
            .get(&name)
            .ok_or_else(|| missing(&name))?;
        if !ip.roles.is_empty() {
            return Err(Code::DeleteConflictException
                .msg("Cannot delete entity, must remove roles from instance profile first."));
        }
        a.instance_profiles.remove(&name);
        Ok(json!({}))
    })
    .await
}

pub fn list(id: &Identity, ctx: &RequestContext, input: &Value) -> Result<Value> {
    let prefix = s(input, "PathPrefix").unwrap_or("/");
    id.read_account(&ctx.account_id, |a| {
        let items = a
            .instance_profiles
            .values()
            .filter(|ip| ip.path.starts_with(prefix))
            .map(|ip| (ip.name.clone(), value(a, ip)))
            .collect();
        Ok(listed("InstanceProfiles", page(items, input)))
    })
}

pub fn list_for_role(id: &Identity, ctx: &RequestContext, input: &Value) -> Result<Value> {
    let role = req(input, "RoleName")?.to_string();
    id.read_account(&ctx.account_id, |a| {
        if !a.roles.contains_key(&role) {
            return Err(no_such("role", &role));
        }
        let items = a
            .instance_profiles
            .values()
            .filter(|ip| ip.roles.contains(&role))
            .map(|ip| (ip.name.clone(), value(a, ip)))
            .collect();
        Ok(listed("InstanceProfiles", page(items, input)))
    })
}

/// AddRoleToInstanceProfile (`add`) and RemoveRoleFromInstanceProfile.
pub async fn set_role(
    id: &Identity,
    ctx: &RequestContext,
    input: &Value,
    add: bool,
) -> Result<Value> {
    let name = name_of(input)?;
    let role = req(input, "RoleName")?.to_string();
    check_name("roleName", &role, 64)?;
    id.with_account(&ctx.account_id, |a| {
        if !a.instance_profiles.contains_key(&name) {
            return Err(missing(&name));
        }
        if !a.roles.contains_key(&role) {
            return Err(no_such("role", &role));
        }
        let ip = a
            .instance_profiles
            .get_mut(&name)
            .ok_or_else(|| missing(&name))?;
        if add {
            if ip.roles.len() >= MAX_ROLES {
                return Err(Code::LimitExceededException.msg(format!(
                    "Cannot exceed quota for InstanceSessionsPerInstanceProfile: {MAX_ROLES}"
                )));
            }
            ip.roles.push(role);
        } else {
            let before = ip.roles.len();
            ip.roles.retain(|r| *r != role);
            if ip.roles.len() == before {
                return Err(no_such("role", &role));
            }
        }
        Ok(json!({}))
    })
    .await
}

/// TagInstanceProfile (`add`) and UntagInstanceProfile.
pub async fn tag(id: &Identity, ctx: &RequestContext, input: &Value, add: bool) -> Result<Value> {
    let name = name_of(input)?;
    let new = tags(input);
    let remove: Vec<String> = input
        .get("TagKeys")
        .and_then(Value::as_array)
        .map(|k| {
            k.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    id.with_account(&ctx.account_id, |a| {
        let ip = a
            .instance_profiles
            .get_mut(&name)
            .ok_or_else(|| missing(&name))?;
        let mut t = ip.tags.clone();
        if add {
            for (k, v) in new {
                match t.iter_mut().find(|(x, _)| *x == k) {
                    Some(slot) => slot.1 = v,
                    None => t.push((k, v)),
                }
            }
            if t.len() > MAX_TAGS {
                return Err(Code::LimitExceededException.msg(format!(
                    "Cannot exceed quota for TagsPerInstanceProfile: {MAX_TAGS}"
                )));
            }
        } else {
            t.retain(|(k, _)| !remove.contains(k));
        }
        ip.tags = t;
        Ok(json!({}))
    })
    .await
}

pub fn list_tags(id: &Identity, ctx: &RequestContext, input: &Value) -> Result<Value> {
    let name = name_of(input)?;
    id.read_account(&ctx.account_id, |a| {
        let ip = a
            .instance_profiles
            .get(&name)
            .ok_or_else(|| missing(&name))?;
        Ok(json!({"Tags": tag_list(&ip.tags), "IsTruncated": false}))
    })
}
