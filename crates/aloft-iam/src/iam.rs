//! IAM (global): users, roles, groups, inline and attached policies, group membership, access
//! keys. Customer managed policies and their versions are in `managed_policies`.

use aloft_core::{RequestContext, clock};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Map, Value, json};

use crate::error::{Code, Result, no_such};
use crate::state::{
    Account, Credential, Identity, ManagedPolicy, Principal, access_key_id, check_name, durable,
    entity_id, secret_key,
};
use crate::sts;

#[derive(Clone, Copy, PartialEq)]
pub enum Kind {
    User,
    Role,
    Group,
}

impl Kind {
    fn word(self) -> &'static str {
        match self {
            Kind::User => "user",
            Kind::Role => "role",
            Kind::Group => "group",
        }
    }
    fn member(self) -> &'static str {
        match self {
            Kind::User => "UserName",
            Kind::Role => "RoleName",
            Kind::Group => "GroupName",
        }
    }
    fn map(self, a: &mut Account) -> &mut std::collections::BTreeMap<String, Principal> {
        match self {
            Kind::User => &mut a.users,
            Kind::Role => &mut a.roles,
            Kind::Group => &mut a.groups,
        }
    }
    fn map_ref(self, a: &Account) -> &std::collections::BTreeMap<String, Principal> {
        match self {
            Kind::User => &a.users,
            Kind::Role => &a.roles,
            Kind::Group => &a.groups,
        }
    }
}

pub(crate) fn s<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str)
}

pub(crate) fn req<'a>(v: &'a Value, k: &str) -> Result<&'a str> {
    s(v, k).ok_or_else(|| Code::ValidationError.msg(format!("1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null", lower_first(k))))
}

pub(crate) fn lower_first(k: &str) -> String {
    let mut c = k.chars();
    c.next()
        .map(|f| f.to_ascii_lowercase().to_string() + c.as_str())
        .unwrap_or_default()
}

/// IAM returns policy documents URL-encoded.
pub(crate) fn encode_doc(doc: &str) -> String {
    utf8_percent_encode(doc, NON_ALPHANUMERIC).to_string()
}

pub(crate) fn check_doc(doc: &str) -> Result<()> {
    let v: Value = serde_json::from_str(doc).map_err(|_| {
        Code::MalformedPolicyDocumentException.msg("This policy contains invalid Json")
    })?;
    let stmts = v
        .get("Statement")
        .ok_or_else(|| Code::MalformedPolicyDocumentException.msg("Syntax errors in policy."))?;
    let list = if stmts.is_array() {
        stmts.as_array().cloned().unwrap_or_default()
    } else {
        vec![stmts.clone()]
    };
    for st in &list {
        match s(st, "Effect") {
            Some("Allow" | "Deny") => {}
            _ => {
                return Err(Code::MalformedPolicyDocumentException
                    .msg("Policy statement must contain a valid Effect."));
            }
        }
    }
    Ok(())
}

pub(crate) fn path_of(input: &Value) -> Result<String> {
    let p = s(input, "Path").unwrap_or("/").to_string();
    if !p.starts_with('/') || !p.ends_with('/') {
        return Err(Code::ValidationError.msg("The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters."));
    }
    Ok(p)
}

pub(crate) fn tags(input: &Value) -> Vec<(String, String)> {
    input
        .get("Tags")
        .and_then(Value::as_array)
        .map(|t| {
            t.iter()
                .map(|t| {
                    (
                        s(t, "Key").unwrap_or("").to_string(),
                        s(t, "Value").unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) fn principal_value(kind: Kind, p: &Principal) -> Value {
    let mut m = Map::new();
    m.insert("Path".into(), p.path.clone().into());
    m.insert(kind.member().into(), p.name.clone().into());
    let id_member = match kind {
        Kind::User => "UserId",
        Kind::Role => "RoleId",
        Kind::Group => "GroupId",
    };
    m.insert(id_member.into(), p.id.clone().into());
    m.insert("Arn".into(), p.arn.clone().into());
    m.insert("CreateDate".into(), p.created.into());
    if kind == Kind::Role {
        if let Some(t) = &p.trust_policy {
            m.insert("AssumeRolePolicyDocument".into(), encode_doc(t).into());
        }
        m.insert(
            "MaxSessionDuration".into(),
            p.max_session_duration.unwrap_or(3600).into(),
        );
        if let Some(d) = &p.description {
            m.insert("Description".into(), d.clone().into());
        }
    }
    if let Some(b) = &p.permissions_boundary {
        m.insert(
            "PermissionsBoundary".into(),
            json!({"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": b}),
        );
    }
    if !p.tags.is_empty() && kind != Kind::Group {
        m.insert(
            "Tags".into(),
            p.tags
                .iter()
                .map(|(k, v)| json!({"Key": k, "Value": v}))
                .collect(),
        );
    }
    Value::Object(m)
}

pub(crate) fn single(kind: Kind) -> &'static str {
    match kind {
        Kind::User => "User",
        Kind::Role => "Role",
        Kind::Group => "Group",
    }
}

pub async fn create(
    id: &Identity,
    ctx: &RequestContext,
    kind: Kind,
    input: Value,
) -> Result<Value> {
    let name = req(&input, kind.member())?.to_string();
    check_name(
        &lower_first(kind.member()),
        &name,
        if kind == Kind::User { 64 } else { 128 },
    )?;
    let path = path_of(&input)?;
    let trust = if kind == Kind::Role {
        let doc = req(&input, "AssumeRolePolicyDocument")?.to_string();
        check_doc(&doc)?;
        Some(doc)
    } else {
        None
    };
    let max = input.get("MaxSessionDuration").and_then(Value::as_i64);
    if max.is_some_and(|m| !(3600..=43200).contains(&m)) {
        return Err(Code::ValidationError.msg("1 validation error detected: Value at 'maxSessionDuration' failed to satisfy constraint: Member must have value between 3600 and 43200"));
    }
    let account = ctx.account_id.clone();
    id.with_account(&account, |a| {
        // IAM names are unique case-insensitively.
        if kind
            .map_ref(a)
            .keys()
            .any(|k| k.eq_ignore_ascii_case(&name))
        {
            return Err(Code::EntityAlreadyExistsException
                .msg(format!("{} with name {name} already exists.", single(kind))));
        }
        let prefix = match kind {
            Kind::User => "AIDA",
            Kind::Role => "AROA",
            Kind::Group => "AGPA",
        };
        let p = Principal {
            name: name.clone(),
            id: entity_id(prefix),
            arn: format!("arn:aws:iam::{account}:{}{}{name}", kind.word(), path),
            path,
            created: clock::now_secs_f64(),
            description: s(&input, "Description").map(str::to_string),
            trust_policy: trust,
            max_session_duration: if kind == Kind::Role {
                Some(max.unwrap_or(3600))
            } else {
                None
            },
            permissions_boundary: s(&input, "PermissionsBoundary").map(str::to_string),
            inline: Default::default(),
            attached: Vec::new(),
            tags: tags(&input),
            groups: Vec::new(),
        };
        let out = json!({single(kind): principal_value(kind, &p)});
        kind.map(a).insert(name.clone(), p);
        Ok(out)
    })
    .await
}

pub fn get(id: &Identity, ctx: &RequestContext, kind: Kind, input: &Value) -> Result<Value> {
    let name = match (kind, s(input, kind.member())) {
        (_, Some(n)) => n.to_string(),
        // GetUser without a name describes the caller.
        (Kind::User, None) => {
            let c = sts::caller(id, ctx);
            match c.user {
                Some(u) => u,
                None => {
                    return Ok(
                        json!({"User": {"Path": "/", "UserName": "root", "UserId": c.account, "Arn": format!("arn:aws:iam::{}:root", c.account), "CreateDate": 0.0}}),
                    );
                }
            }
        }
        _ => req(input, kind.member())?.to_string(),
    };
    id.read_account(&ctx.account_id, |a| {
        let p = kind
            .map_ref(a)
            .get(&name)
            .ok_or_else(|| no_such(kind.word(), &name))?;
        let mut out = json!({single(kind): principal_value(kind, p)});
        if kind == Kind::Group {
            out["Users"] = a
                .users
                .values()
                .filter(|u| u.groups.contains(&name))
                .map(|u| principal_value(Kind::User, u))
                .collect();
            out["IsTruncated"] = false.into();
        }
        Ok(out)
    })
}

pub(crate) fn page<T: Clone>(items: Vec<(String, T)>, input: &Value) -> (Vec<T>, Option<String>) {
    let max = input.get("MaxItems").and_then(Value::as_u64).unwrap_or(100) as usize;
    let start = s(input, "Marker").map_or(0, |m| {
        items
            .iter()
            .position(|(k, _)| k.as_str() > m)
            .unwrap_or(items.len())
    });
    let rest = &items[start..];
    let next = (rest.len() > max).then(|| rest[max - 1].0.clone());
    (
        rest.iter().take(max).map(|(_, v)| v.clone()).collect(),
        next,
    )
}

pub(crate) fn listed(member: &str, (items, next): (Vec<Value>, Option<String>)) -> Value {
    let mut out = json!({member: items, "IsTruncated": next.is_some()});
    if let Some(n) = next {
        out["Marker"] = n.into();
    }
    out
}

pub fn list(id: &Identity, ctx: &RequestContext, kind: Kind, input: &Value) -> Result<Value> {
    let prefix = s(input, "PathPrefix").unwrap_or("/");
    id.read_account(&ctx.account_id, |a| {
        let items = kind
            .map_ref(a)
            .values()
            .filter(|p| p.path.starts_with(prefix))
            .map(|p| (p.name.clone(), principal_value(kind, p)))
            .collect();
        let member = match kind {
            Kind::User => "Users",
            Kind::Role => "Roles",
            Kind::Group => "Groups",
        };
        Ok(listed(member, page(items, input)))
    })
}

pub async fn delete(
    id: &Identity,
    ctx: &RequestContext,
    kind: Kind,
    input: &Value,
) -> Result<Value> {
    let name = req(input, kind.member())?.to_string();
    let has_keys = kind == Kind::User
        && id
            .lock()
            .keys
            .values()
            .any(|k| k.user.as_deref() == Some(&name) && k.account == ctx.account_id);
    id.with_account(&ctx.account_id, |a| {
        let p = kind
            .map_ref(a)
            .get(&name)
            .ok_or_else(|| no_such(kind.word(), &name))?;
        if has_keys {
            return Err(Code::DeleteConflictException
                .msg("Cannot delete entity, must delete access keys first."));
        }
        if !p.inline.is_empty() {
            return Err(Code::DeleteConflictException
                .msg("Cannot delete entity, must delete policies first."));
        }
        if !p.attached.is_empty() {
            return Err(Code::DeleteConflictException
                .msg("Cannot delete entity, must detach all policies first."));
        }
        if kind == Kind::Role
            && a.instance_profiles
                .values()
                .any(|ip| ip.roles.contains(&name))
        {
            return Err(Code::DeleteConflictException
                .msg("Cannot delete entity, must remove roles from instance profile first."));
        }
        kind.map(a).remove(&name);
        Ok(json!({}))
    })
    .await
}

pub async fn update_assume_role_policy(
    id: &Identity,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    let name = req(input, "RoleName")?.to_string();
    let doc = req(input, "PolicyDocument")?.to_string();
    check_doc(&doc)?;
    id.with_account(&ctx.account_id, |a| {
        let r = a
            .roles
            .get_mut(&name)
            .ok_or_else(|| no_such("role", &name))?;
        r.trust_policy = Some(doc);
        Ok(json!({}))
    })
    .await
}

pub async fn put_inline(
    id: &Identity,
    ctx: &RequestContext,
    kind: Kind,
    input: &Value,
) -> Result<Value> {
    let name = req(input, kind.member())?.to_string();
    let pname = req(input, "PolicyName")?.to_string();
    check_name("policyName", &pname, 128)?;
    let doc = req(input, "PolicyDocument")?.to_string();
    check_doc(&doc)?;
    id.with_account(&ctx.account_id, |a| {
        let p = kind
            .map(a)
            .get_mut(&name)
            .ok_or_else(|| no_such(kind.word(), &name))?;
        p.inline.insert(pname, doc);
        Ok(json!({}))
    })
    .await
}

pub fn get_inline(id: &Identity, ctx: &RequestContext, kind: Kind, input: &Value) -> Result<Value> {
    let name = req(input, kind.member())?.to_string();
    let pname = req(input, "PolicyName")?.to_string();
    id.read_account(&ctx.account_id, |a| {
        let p = kind
            .map_ref(a)
            .get(&name)
            .ok_or_else(|| no_such(kind.word(), &name))?;
        let doc = p.inline.get(&pname).ok_or_else(|| {
            Code::NoSuchEntityException.msg(format!(
                "The {} policy with name {pname} cannot be found.",
                kind.word()
            ))
        })?;
        Ok(json!({kind.member(): name, "PolicyName": pname, "PolicyDocument": encode_doc(doc)}))
    })
}

pub fn list_inline(
    id: &Identity,
    ctx: &RequestContext,
    kind: Kind,
    input: &Value,
) -> Result<Value> {
    let name = req(input, kind.member())?.to_string();
    id.read_account(&ctx.account_id, |a| {
        let p = kind
            .map_ref(a)
            .get(&name)
            .ok_or_else(|| no_such(kind.word(), &name))?;
        let items = p
            .inline
            .keys()
            .map(|k| (k.clone(), Value::String(k.clone())))
            .collect();
        Ok(listed("PolicyNames", page(items, input)))
    })
}

pub async fn delete_inline(
    id: &Identity,
    ctx: &RequestContext,
    kind: Kind,
    input: &Value,
) -> Result<Value> {
    let name = req(input, kind.member())?.to_string();
    let pname = req(input, "PolicyName")?.to_string();
    id.with_account(&ctx.account_id, |a| {
        let p = kind
            .map(a)
            .get_mut(&name)
            .ok_or_else(|| no_such(kind.word(), &name))?;
        p.inline.remove(&pname).ok_or_else(|| {
            Code::NoSuchEntityException.msg(format!(
                "The {} policy with name {pname} cannot be found.",
                kind.word()
            ))
        })?;
        Ok(json!({}))
    })
    .await
}

pub(crate) fn aws_managed(arn: &str) -> bool {
    arn.starts_with("arn:aws:iam::aws:policy/")
}

pub async fn attach(
    id: &Identity,
    ctx: &RequestContext,
    kind: Kind,
    input: &Value,
    on: bool,
) -> Result<Value> {
    let name = req(input, kind.member())?.to_string();
    let arn = req(input, "PolicyArn")?.to_string();
    if aloft_core::arn::parse(&arn).is_none() {
        return Err(Code::InvalidInputException.msg(format!("ARN {arn} is not valid.")));
    }
    id.with_account(&ctx.account_id, |a| {
        if !aws_managed(&arn) && !a.policies.contains_key(&arn) {
            return Err(Code::NoSuchEntityException
                .msg(format!("Policy {arn} does not exist or is not attachable.")));
        }
        let p = kind
            .map(a)
            .get_mut(&name)
            .ok_or_else(|| no_such(kind.word(), &name))?;
        if on {
            if !p.attached.contains(&arn) {
                p.attached.push(arn);
            }
        } else {
            let before = p.attached.len();
            p.attached.retain(|x| x != &arn);
            if p.attached.len() == before {
                return Err(Code::NoSuchEntityException.msg(format!("Policy {arn} was not found.")));
            }
        }
        Ok(json!({}))
    })
    .await
}

pub(crate) fn policy_name_of(arn: &str) -> String {
    arn.rsplit('/').next().unwrap_or(arn).to_string()
}

pub fn list_attached(
    id: &Identity,
    ctx: &RequestContext,
    kind: Kind,
    input: &Value,
) -> Result<Value> {
    let name = req(input, kind.member())?.to_string();
    id.read_account(&ctx.account_id, |a| {
        let p = kind
            .map_ref(a)
            .get(&name)
            .ok_or_else(|| no_such(kind.word(), &name))?;
        let items = p
            .attached
            .iter()
            .map(|arn| {
                (
                    arn.clone(),
                    json!({"PolicyName": policy_name_of(arn), "PolicyArn": arn}),
                )
            })
            .collect();
        Ok(listed("AttachedPolicies", page(items, input)))
    })
}

pub(crate) fn policy_value(p: &ManagedPolicy, attachments: usize) -> Value {
    let mut v = json!({
        "PolicyName": p.name, "PolicyId": p.id, "Arn": p.arn, "Path": p.path,
        "DefaultVersionId": p.default_version, "AttachmentCount": attachments,
        "PermissionsBoundaryUsageCount": 0, "IsAttachable": true,
        "CreateDate": p.created, "UpdateDate": p.updated,
    });
    if let Some(d) = &p.description {
        v["Description"] = d.clone().into();
    }
    v
}

pub async fn group_membership(
    id: &Identity,
    ctx: &RequestContext,
    input: &Value,
    add: bool,
) -> Result<Value> {
    let group = req(input, "GroupName")?.to_string();
    let user = req(input, "UserName")?.to_string();
    id.with_account(&ctx.account_id, |a| {
        if !a.groups.contains_key(&group) {
            return Err(no_such("group", &group));
        }
        let u = a
            .users
            .get_mut(&user)
            .ok_or_else(|| no_such("user", &user))?;
        if add {
            if !u.groups.contains(&group) {
                u.groups.push(group);
            }
        } else {
            u.groups.retain(|g| g != &group);
        }
        Ok(json!({}))
    })
    .await
}

pub fn list_groups_for_user(id: &Identity, ctx: &RequestContext, input: &Value) -> Result<Value> {
    let user = req(input, "UserName")?.to_string();
    id.read_account(&ctx.account_id, |a| {
        let u = a.users.get(&user).ok_or_else(|| no_such("user", &user))?;
        let items = u
            .groups
            .iter()
            .filter_map(|g| a.groups.get(g))
            .map(|g| (g.name.clone(), principal_value(Kind::Group, g)))
            .collect();
        Ok(listed("Groups", page(items, input)))
    })
}

pub(crate) fn key_user(id: &Identity, ctx: &RequestContext, input: &Value) -> Result<String> {
    match s(input, "UserName") {
        Some(u) => Ok(u.to_string()),
        None => sts::caller(id, ctx).user.ok_or_else(|| {
            Code::ValidationError
                .msg("Must specify userName when calling with non-User credentials")
        }),
    }
}

pub async fn create_access_key(
    id: &Identity,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    let user = key_user(id, ctx, input)?;
    let principal = id.read_account(&ctx.account_id, |a| {
        a.users
            .get(&user)
            .cloned()
            .ok_or_else(|| no_such("user", &user))
    })?;
    let commit = {
        let mut st = id.lock();
        let count = st
            .keys
            .values()
            .filter(|k| k.user.as_deref() == Some(&user) && k.account == ctx.account_id)
            .count();
        if count >= 2 {
            return Err(
                Code::LimitExceededException.msg("Cannot exceed quota for AccessKeysPerUser: 2")
            );
        }
        let c = Credential {
            access_key: access_key_id("AKIA"),
            secret: secret_key(),
            session_token: None,
            account: ctx.account_id.clone(),
            arn: principal.arn.clone(),
            user_id: principal.id.clone(),
            user: Some(user.clone()),
            status: "Active".into(),
            created: clock::now_secs_f64(),
            expires: None,
            role_arn: None,
            session_policy: None,
        };
        let out = json!({"AccessKey": {"UserName": user, "AccessKeyId": c.access_key, "Status": "Active", "SecretAccessKey": c.secret, "CreateDate": c.created}});
        (id.put_key(&mut st, c), out)
    };
    durable(commit.0).await?;
    Ok(commit.1)
}

pub fn list_access_keys(id: &Identity, ctx: &RequestContext, input: &Value) -> Result<Value> {
    let user = key_user(id, ctx, input)?;
    id.read_account(&ctx.account_id, |a| {
        a.users
            .get(&user)
            .map(|_| ())
            .ok_or_else(|| no_such("user", &user))
    })?;
    let st = id.lock();
    let mut items: Vec<(String, Value)> = st
        .keys
        .values()
        .filter(|k| k.user.as_deref() == Some(&user) && k.account == ctx.account_id)
        .map(|k| (k.access_key.clone(), json!({"UserName": user, "AccessKeyId": k.access_key, "Status": k.status, "CreateDate": k.created})))
        .collect();
    items.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(listed("AccessKeyMetadata", page(items, input)))
}

pub async fn update_or_delete_access_key(
    id: &Identity,
    ctx: &RequestContext,
    input: &Value,
    delete: bool,
) -> Result<Value> {
    let user = key_user(id, ctx, input)?;
    let key = req(input, "AccessKeyId")?.to_string();
    let commit = {
        let mut st = id.lock();
        let Some(k) = st
            .keys
            .get_mut(&key)
            .filter(|k| k.user.as_deref() == Some(&user) && k.account == ctx.account_id)
        else {
            return Err(Code::NoSuchEntityException
                .msg(format!("The Access Key with id {key} cannot be found.")));
        };
        if delete {
            id.delete_key(&mut st, &key)
        } else {
            k.status = req(input, "Status")?.to_string();
            let c = k.clone();
            id.put_key(&mut st, c)
        }
    };
    durable(commit).await?;
    Ok(json!({}))
}

pub use crate::managed_policies::*;

#[cfg(test)]
mod tests {
    #[test]
    fn documents_are_checked_and_url_encoded() {
        assert!(super::check_doc(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#).is_ok());
        assert!(super::check_doc(r#"{"Statement":{"Effect":"Maybe"}}"#).is_err());
        assert!(super::check_doc("not json").is_err());
        assert_eq!(super::encode_doc(r#"{"a":1}"#), "%7B%22a%22%3A1%7D");
    }
}
