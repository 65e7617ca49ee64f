//! Schedule groups (the implicit `default` one included) and their tags: only groups take
//! tags in Scheduler, schedules do not.

use std::collections::BTreeMap;
use std::sync::Arc;

use aloft_core::{RequestContext, clock};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{Result, SchedError};
use crate::state::{Group, NS_GROUPS, NS_SCHEDULES, group_key, schedule_key};
use crate::{Out, Scheduler, commit, parse};

pub const DEFAULT_GROUP: &str = "default";

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Tag {
    key: String,
    value: String,
}

pub fn group_arn(region: &str, account: &str, name: &str) -> String {
    aloft_core::arn::build(
        "scheduler",
        region,
        account,
        &format!("schedule-group/{name}"),
    )
}

fn group_json(g: &Group) -> Value {
    json!({
        "Arn": g.arn, "Name": g.name, "State": "ACTIVE",
        "CreationDate": g.created_s, "LastModificationDate": g.modified_s,
    })
}

/// Page `items` by a numeric NextToken (an offset), as Scheduler's list calls do.
pub(crate) fn page<T>(
    items: Vec<T>,
    token: Option<&str>,
    max: Option<usize>,
) -> Result<(Vec<T>, Option<String>)> {
    let start = match token {
        None => 0,
        Some(t) => t
            .parse::<usize>()
            .map_err(|_| SchedError::validation("Invalid NextToken."))?,
    };
    let max = max.unwrap_or(100);
    let total = items.len();
    let out: Vec<T> = items.into_iter().skip(start).take(max).collect();
    let next = (start + out.len() < total).then(|| (start + out.len()).to_string());
    Ok((out, next))
}

impl Scheduler {
    /// The named group; `default` always exists (created on first use).
    pub(crate) fn group(&self, ctx: &RequestContext, name: &str) -> Result<Group> {
        let key = group_key(&ctx.account_id, &ctx.region, name);
        let mut m = self.state.lock();
        if let Some(g) = m.groups.get(&key) {
            return Ok(g.clone());
        }
        if name == DEFAULT_GROUP {
            let now = clock::now_secs_f64();
            let g = Group {
                name: name.into(),
                arn: group_arn(&ctx.region, &ctx.account_id, name),
                account: ctx.account_id.clone(),
                region: ctx.region.clone(),
                created_s: now,
                modified_s: now,
                tags: BTreeMap::new(),
            };
            m.groups.insert(key, g.clone());
            // The default group is journaled with the first schedule written into it.
            return Ok(g);
        }
        Err(SchedError::not_found(format!(
            "Schedule group {name} does not exist."
        )))
    }

    pub(crate) async fn create_schedule_group(&self, ctx: &RequestContext, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            name: String,
            #[serde(default)]
            tags: Vec<Tag>,
        }
        let i: In = parse(input)?;
        let key = group_key(&ctx.account_id, &ctx.region, &i.name);
        let now = clock::now_secs_f64();
        let (arn, c) = {
            let mut m = self.state.lock();
            if m.groups.contains_key(&key) || i.name == DEFAULT_GROUP {
                return Err(SchedError::conflict(format!(
                    "Schedule group {} already exists.",
                    i.name
                )));
            }
            let g = Group {
                arn: group_arn(&ctx.region, &ctx.account_id, &i.name),
                name: i.name,
                account: ctx.account_id.clone(),
                region: ctx.region.clone(),
                created_s: now,
                modified_s: now,
                tags: i.tags.into_iter().map(|t| (t.key, t.value)).collect(),
            };
            let c = self.state.write(&[&g], &[], &[]);
            let arn = g.arn.clone();
            m.groups.insert(key, g);
            (arn, c)
        };
        commit(c).await?;
        Ok(json!({ "ScheduleGroupArn": arn }))
    }

    pub(crate) fn get_schedule_group(&self, ctx: &RequestContext, input: Value) -> Out {
        let name = input["Name"].as_str().unwrap_or_default();
        Ok(group_json(&self.group(ctx, name)?))
    }

    /// Deletes the group and every schedule in it (AWS does this asynchronously, in state
    /// DELETING; here it is done by the time the call returns).
    pub(crate) async fn delete_schedule_group(&self, ctx: &RequestContext, input: Value) -> Out {
        let name = input["Name"].as_str().unwrap_or_default().to_string();
        if name == DEFAULT_GROUP {
            return Err(SchedError::validation(
                "Cannot delete the default schedule group.",
            ));
        }
        let key = group_key(&ctx.account_id, &ctx.region, &name);
        let c = {
            let mut m = self.state.lock();
            if m.groups.remove(&key).is_none() {
                return Err(SchedError::not_found(format!(
                    "Schedule group {name} does not exist."
                )));
            }
            let prefix = schedule_key(&ctx.account_id, &ctx.region, &name, "");
            let doomed: Vec<String> = m
                .schedules
                .range(prefix.clone()..)
                .take_while(|(k, _)| k.starts_with(&prefix))
                .map(|(k, _)| k.clone())
                .collect();
            let mut deletes: Vec<(&str, String)> = vec![(NS_GROUPS, key)];
            for k in doomed {
                m.schedules.remove(&k);
                deletes.push((NS_SCHEDULES, k));
            }
            self.state.write(&[], &[], &deletes)
        };
        commit(c).await?;
        self.wake.notify_one();
        Ok(json!({}))
    }

    pub(crate) fn list_schedule_groups(&self, ctx: &RequestContext, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            name_prefix: Option<String>,
            next_token: Option<String>,
            max_results: Option<usize>,
        }
        let i: In = parse(input)?;
        self.group(ctx, DEFAULT_GROUP)?;
        let mut groups: Vec<Group> = self
            .state
            .lock()
            .groups
            .values()
            .filter(|g| g.account == ctx.account_id && g.region == ctx.region)
            .filter(|g| {
                i.name_prefix
                    .as_deref()
                    .is_none_or(|p| g.name.starts_with(p))
            })
            .cloned()
            .collect();
        groups.sort_by(|a, b| a.name.cmp(&b.name));
        let (groups, next) = page(groups, i.next_token.as_deref(), i.max_results)?;
        let mut out =
            json!({ "ScheduleGroups": groups.iter().map(group_json).collect::<Vec<_>>() });
        if let Some(n) = next {
            out["NextToken"] = json!(n);
        }
        Ok(out)
    }

    /// The group a tagging call names; schedules cannot be tagged.
    fn tagged_group(&self, ctx: &RequestContext, arn: &str) -> Result<String> {
        let parsed = aloft_core::arn::parse(arn);
        let name = parsed
            .as_ref()
            .filter(|a| a.service == "scheduler")
            .and_then(|a| a.resource.strip_prefix("schedule-group/"))
            .ok_or_else(|| SchedError::validation(format!("Invalid ARN: {arn}")))?;
        self.group(ctx, name)?;
        Ok(group_key(&ctx.account_id, &ctx.region, name))
    }

    pub(crate) async fn tag_resource(
        self: &Arc<Self>,
        ctx: &RequestContext,
        input: Value,
        remove: bool,
    ) -> Out {
        let arn = input["ResourceArn"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let key = self.tagged_group(ctx, &arn)?;
        let c = {
            let mut m = self.state.lock();
            let Some(g) = m.groups.get_mut(&key) else {
                return Err(SchedError::not_found(format!(
                    "Resource {arn} does not exist."
                )));
            };
            if remove {
                for k in input["TagKeys"].as_array().into_iter().flatten() {
                    if let Some(k) = k.as_str() {
                        g.tags.remove(k);
                    }
                }
            } else {
                let tags: Vec<Tag> = parse(input["Tags"].clone())?;
                if g.tags.len() + tags.len() > 200 {
                    return Err(SchedError::validation(
                        "Too many tags: a resource can have at most 200.",
                    ));
                }
                for t in tags {
                    g.tags.insert(t.key, t.value);
                }
            }
            let g = g.clone();
            self.state.write(&[&g], &[], &[])
        };
        commit(c).await?;
        Ok(json!({}))
    }

    pub(crate) fn list_tags_for_resource(&self, ctx: &RequestContext, input: Value) -> Out {
        let arn = input["ResourceArn"].as_str().unwrap_or_default();
        let key = self.tagged_group(ctx, arn)?;
        let m = self.state.lock();
        let tags: Vec<Value> = m
            .groups
            .get(&key)
            .map(|g| {
                g.tags
                    .iter()
                    .map(|(k, v)| json!({"Key": k, "Value": v}))
                    .collect()
            })
            .unwrap_or_default();
        Ok(json!({ "Tags": tags }))
    }
}
