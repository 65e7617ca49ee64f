//! Groups: precedence and role ARN (they feed the `cognito:groups`/`cognito:roles` claims).

use aloft_core::{RequestContext, clock};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{Code, Result, invalid, user_not_found};
use crate::model::{Group, Pool};
use crate::state::{Inner, Record};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GroupInput {
    user_pool_id: String,
    group_name: String,
    description: Option<String>,
    role_arn: Option<String>,
    precedence: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListInput {
    user_pool_id: String,
    group_name: Option<String>,
    username: Option<String>,
    limit: Option<i64>,
    next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MemberInput {
    user_pool_id: String,
    username: String,
    group_name: String,
}

fn group_type(pool: &Pool, g: &Group) -> Value {
    let mut v = json!({
        "GroupName": g.name, "UserPoolId": pool.id,
        "CreationDate": g.created, "LastModifiedDate": g.modified,
    });
    if let Some(d) = &g.description {
        v["Description"] = d.clone().into();
    }
    if let Some(r) = &g.role_arn {
        v["RoleArn"] = r.clone().into();
    }
    if let Some(p) = g.precedence {
        v["Precedence"] = p.into();
    }
    v
}

fn not_found() -> aloft_core::AwsError {
    Code::ResourceNotFoundException.msg("Group not found.")
}

fn check(input: &GroupInput) -> Result<()> {
    if input.group_name.is_empty() || input.group_name.chars().count() > 128 {
        return Err(invalid(
            "1 validation error detected: Value at 'groupName' failed to satisfy constraint: Member must have length between 1 and 128",
        ));
    }
    if input.precedence.is_some_and(|p| p < 0) {
        return Err(invalid(
            "1 validation error detected: Value at 'precedence' failed to satisfy constraint: Member must have value greater than or equal to 0",
        ));
    }
    Ok(())
}

pub async fn create_group(inner: &Inner, ctx: &RequestContext, input: GroupInput) -> Result<Value> {
    check(&input)?;
    inner
        .mutate(ctx, &input.user_pool_id, |pool| {
            if pool.groups.contains_key(&input.group_name) {
                return Err(Code::GroupExistsException.msg("A group with the name already exists."));
            }
            let now = clock::now_secs_f64();
            let g = Group {
                name: input.group_name.clone(),
                description: input.description,
                role_arn: input.role_arn,
                precedence: input.precedence,
                created: now,
                modified: now,
            };
            let out = json!({"Group": group_type(pool, &g)});
            pool.groups.insert(g.name.clone(), g);
            Ok((out, vec![Record::Pool]))
        })
        .await
}

pub fn get_group(inner: &Inner, ctx: &RequestContext, input: ListInput) -> Result<Value> {
    inner.read(ctx, &input.user_pool_id, |pool| {
        let name = input.group_name.as_deref().unwrap_or("");
        let g = pool.groups.get(name).ok_or_else(not_found)?;
        Ok(json!({"Group": group_type(pool, g)}))
    })
}

pub async fn update_group(inner: &Inner, ctx: &RequestContext, input: GroupInput) -> Result<Value> {
    check(&input)?;
    inner
        .mutate(ctx, &input.user_pool_id, |pool| {
            let g = pool
                .groups
                .get_mut(&input.group_name)
                .ok_or_else(not_found)?;
            if input.description.is_some() {
                g.description = input.description;
            }
            if input.role_arn.is_some() {
                g.role_arn = input.role_arn;
            }
            if input.precedence.is_some() {
                g.precedence = input.precedence;
            }
            g.modified = clock::now_secs_f64();
            let g = g.clone();
            Ok((json!({"Group": group_type(pool, &g)}), vec![Record::Pool]))
        })
        .await
}

pub async fn delete_group(inner: &Inner, ctx: &RequestContext, input: ListInput) -> Result<Value> {
    let name = input.group_name.clone().unwrap_or_default();
    inner
        .mutate(ctx, &input.user_pool_id, |pool| {
            pool.groups.remove(&name).ok_or_else(not_found)?;
            let mut records = vec![Record::Pool];
            for u in pool.users.values_mut() {
                if u.groups.remove(&name) {
                    records.push(Record::User(u.username.clone()));
                }
            }
            Ok((json!({}), records))
        })
        .await
}

fn limit(l: Option<i64>) -> usize {
    match l {
        Some(n) if (1..=60).contains(&n) => n as usize,
        _ => 60,
    }
}

pub fn list_groups(inner: &Inner, ctx: &RequestContext, input: ListInput) -> Result<Value> {
    inner.read(ctx, &input.user_pool_id, |pool| {
        let items = pool
            .groups
            .values()
            .map(|g| (g.name.clone(), group_type(pool, g)))
            .collect();
        let (groups, next) =
            crate::pools::page(items, input.next_token.as_deref(), limit(input.limit));
        let mut out = json!({"Groups": groups});
        if let Some(n) = next {
            out["NextToken"] = n.into();
        }
        Ok(out)
    })
}

pub async fn admin_add_user_to_group(
    inner: &Inner,
    ctx: &RequestContext,
    input: MemberInput,
    add: bool,
) -> Result<Value> {
    inner
        .mutate(ctx, &input.user_pool_id, |pool| {
            if !pool.groups.contains_key(&input.group_name) {
                return Err(not_found());
            }
            let name =
                crate::access::find_username(pool, &input.username).ok_or_else(user_not_found)?;
            let u = pool.users.get_mut(&name).ok_or_else(user_not_found)?;
            if add {
                u.groups.insert(input.group_name.clone());
            } else {
                u.groups.remove(&input.group_name);
            }
            Ok((json!({}), vec![Record::User(name)]))
        })
        .await
}

pub fn admin_list_groups_for_user(
    inner: &Inner,
    ctx: &RequestContext,
    input: ListInput,
) -> Result<Value> {
    inner.read(ctx, &input.user_pool_id, |pool| {
        let name = crate::access::find_username(pool, input.username.as_deref().unwrap_or(""))
            .ok_or_else(user_not_found)?;
        let u = &pool.users[&name];
        let items = u
            .groups
            .iter()
            .filter_map(|g| pool.groups.get(g))
            .map(|g| (g.name.clone(), group_type(pool, g)))
            .collect();
        let (groups, next) =
            crate::pools::page(items, input.next_token.as_deref(), limit(input.limit));
        let mut out = json!({"Groups": groups});
        if let Some(n) = next {
            out["NextToken"] = n.into();
        }
        Ok(out)
    })
}

pub fn list_users_in_group(inner: &Inner, ctx: &RequestContext, input: ListInput) -> Result<Value> {
    inner.read(ctx, &input.user_pool_id, |pool| {
        let name = input.group_name.as_deref().unwrap_or("");
        pool.groups.get(name).ok_or_else(not_found)?;
        let items = pool
            .users
            .values()
            .filter(|u| u.groups.contains(name))
            .map(|u| (u.username.clone(), u.to_user_type(None)))
            .collect();
        let (users, next) =
            crate::pools::page(items, input.next_token.as_deref(), limit(input.limit));
        let mut out = json!({"Users": users});
        if let Some(n) = next {
            out["NextToken"] = n.into();
        }
        Ok(out)
    })
}
