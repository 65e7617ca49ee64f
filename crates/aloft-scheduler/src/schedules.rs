//! Schedules: Create/Update/Get/Delete/ListSchedules, with their validation and defaults.

use std::sync::Arc;

use aloft_core::{RequestContext, clock};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{Result, SchedError};
use crate::expression::{self, Expr};
use crate::groups::{DEFAULT_GROUP, page};
use crate::state::{NS_SCHEDULES, Schedule, schedule_key};
use crate::{Out, Scheduler, commit, parse};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Window {
    mode: String,
    maximum_window_in_minutes: Option<i64>,
}

/// CreateSchedule and UpdateSchedule carry the same members: an update replaces everything.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ScheduleInput {
    name: String,
    group_name: Option<String>,
    schedule_expression: String,
    start_date: Option<f64>,
    end_date: Option<f64>,
    description: Option<String>,
    schedule_expression_timezone: Option<String>,
    state: Option<String>,
    kms_key_arn: Option<String>,
    target: Value,
    flexible_time_window: Window,
    action_after_completion: Option<String>,
}

pub fn schedule_arn(region: &str, account: &str, group: &str, name: &str) -> String {
    aloft_core::arn::build(
        "scheduler",
        region,
        account,
        &format!("schedule/{group}/{name}"),
    )
}

fn schedule_json(s: &Schedule) -> Value {
    let mut window =
        json!({ "Mode": if s.flexible_window_minutes.is_some() { "FLEXIBLE" } else { "OFF" } });
    if let Some(m) = s.flexible_window_minutes {
        window["MaximumWindowInMinutes"] = json!(m);
    }
    let mut out = json!({
        "Arn": s.arn, "GroupName": s.group, "Name": s.name,
        "ScheduleExpression": s.expression,
        "State": if s.enabled { "ENABLED" } else { "DISABLED" },
        "CreationDate": s.created_s, "LastModificationDate": s.modified_s,
        "Target": s.target, "FlexibleTimeWindow": window,
        "ActionAfterCompletion": if s.delete_after_completion { "DELETE" } else { "NONE" },
    });
    let opt = [
        ("StartDate", s.start_date.map(|v| json!(v))),
        ("EndDate", s.end_date.map(|v| json!(v))),
        ("Description", s.description.as_ref().map(|v| json!(v))),
        (
            "ScheduleExpressionTimezone",
            s.timezone.as_ref().map(|v| json!(v)),
        ),
        ("KmsKeyArn", s.kms_key_arn.as_ref().map(|v| json!(v))),
    ];
    for (k, v) in opt {
        if let Some(v) = v {
            out[k] = v;
        }
    }
    out
}

/// Checks the input and builds the schedule (runtime fields counted from `now_ms`).
fn build(ctx: &RequestContext, i: ScheduleInput, group: &str, now_ms: i64) -> Result<Schedule> {
    let expr = expression::parse(&i.schedule_expression)?;
    expression::zone(i.schedule_expression_timezone.as_deref())?;
    let window = match (
        i.flexible_time_window.mode.as_str(),
        i.flexible_time_window.maximum_window_in_minutes,
    ) {
        ("OFF", None) => None,
        ("OFF", Some(_)) => {
            return Err(SchedError::validation(
                "MaximumWindowInMinutes must not be provided when Mode is OFF.",
            ));
        }
        (_, Some(m)) => Some(m),
        (_, None) => {
            return Err(SchedError::validation(
                "MaximumWindowInMinutes must be provided when Mode is FLEXIBLE.",
            ));
        }
    };
    let now_s = now_ms as f64 / 1000.0;
    if let Some(start) = i.start_date
        && start < now_s - 300.0
    {
        return Err(SchedError::validation(
            "The StartDate you specify cannot be earlier than 5 minutes prior to the current time.",
        ));
    }
    if let Some(end) = i.end_date {
        if end <= now_s {
            return Err(SchedError::validation(
                "The EndDate you specify cannot be earlier than the current time.",
            ));
        }
        if i.start_date.is_some_and(|s| s >= end) {
            return Err(SchedError::validation(
                "The StartDate must come before the EndDate.",
            ));
        }
    }
    let mut target = i.target;
    check_target(&target)?;
    if target.get("RetryPolicy").is_none() {
        target["RetryPolicy"] =
            json!({"MaximumEventAgeInSeconds": 86_400, "MaximumRetryAttempts": 185});
    }
    let anchor_ms = i.start_date.map_or(now_ms, |s| (s * 1000.0) as i64);
    Ok(Schedule {
        arn: schedule_arn(&ctx.region, &ctx.account_id, group, &i.name),
        name: i.name,
        group: group.to_string(),
        account: ctx.account_id.clone(),
        region: ctx.region.clone(),
        expression: i.schedule_expression,
        timezone: i.schedule_expression_timezone,
        start_date: i.start_date,
        end_date: i.end_date,
        description: i.description,
        enabled: i.state.as_deref() != Some("DISABLED"),
        kms_key_arn: i.kms_key_arn,
        target,
        flexible_window_minutes: window,
        delete_after_completion: i.action_after_completion.as_deref() == Some("DELETE"),
        created_s: now_s,
        modified_s: now_s,
        anchor_ms,
        // A rate's first occurrence is its anchor; `at` and `cron` count from now.
        last_ms: if matches!(expr, Expr::Rate(_)) {
            anchor_ms - 1
        } else {
            now_ms
        },
        pending: None,
    })
}

/// Target members that only make sense for some ARNs.
fn check_target(t: &Value) -> Result<()> {
    let arn = t["Arn"].as_str().unwrap_or_default();
    let service = aloft_events::arn_service(arn).unwrap_or_default();
    if t.get("EventBridgeParameters").is_some() && service != "events" {
        return Err(SchedError::validation(
            "EventBridgeParameters can only be specified for an EventBridge PutEvents target.",
        ));
    }
    if t.get("SqsParameters").is_some() && service != "sqs" {
        return Err(SchedError::validation(
            "SqsParameters can only be specified for an Amazon SQS target.",
        ));
    }
    if service == "events"
        && arn.contains(":event-bus/")
        && t.get("EventBridgeParameters").is_none()
    {
        return Err(SchedError::validation(
            "EventBridgeParameters must be specified for an EventBridge PutEvents target.",
        ));
    }
    Ok(())
}

impl Scheduler {
    pub(crate) async fn create_schedule(
        self: &Arc<Self>,
        ctx: &RequestContext,
        input: Value,
    ) -> Out {
        let i: ScheduleInput = parse(input)?;
        let group = i.group_name.clone().unwrap_or_else(|| DEFAULT_GROUP.into());
        let g = self.group(ctx, &group)?;
        let s = build(ctx, i, &group, clock::now_millis())?;
        let key = schedule_key(&ctx.account_id, &ctx.region, &group, &s.name);
        let (arn, c) = {
            let mut m = self.state.lock();
            if m.schedules.contains_key(&key) {
                return Err(SchedError::conflict(format!(
                    "Schedule {} already exists.",
                    s.name
                )));
            }
            let c = self.state.write(&[&g], &[&s], &[]);
            let arn = s.arn.clone();
            m.schedules.insert(key, s);
            (arn, c)
        };
        commit(c).await?;
        self.wake.notify_one();
        Ok(json!({ "ScheduleArn": arn }))
    }

    pub(crate) async fn update_schedule(
        self: &Arc<Self>,
        ctx: &RequestContext,
        input: Value,
    ) -> Out {
        let i: ScheduleInput = parse(input)?;
        let group = i.group_name.clone().unwrap_or_else(|| DEFAULT_GROUP.into());
        self.group(ctx, &group)?;
        let mut s = build(ctx, i, &group, clock::now_millis())?;
        let key = schedule_key(&ctx.account_id, &ctx.region, &group, &s.name);
        let (arn, c) = {
            let mut m = self.state.lock();
            let Some(old) = m.schedules.get(&key) else {
                return Err(SchedError::not_found(format!(
                    "Schedule {} does not exist.",
                    s.name
                )));
            };
            s.created_s = old.created_s;
            let c = self.state.write(&[], &[&s], &[]);
            let arn = s.arn.clone();
            m.schedules.insert(key, s);
            (arn, c)
        };
        commit(c).await?;
        self.wake.notify_one();
        Ok(json!({ "ScheduleArn": arn }))
    }

    fn lookup(&self, ctx: &RequestContext, input: &Value) -> Result<(String, Schedule)> {
        let name = input["Name"].as_str().unwrap_or_default();
        let group = input["GroupName"].as_str().unwrap_or(DEFAULT_GROUP);
        self.group(ctx, group)?;
        let key = schedule_key(&ctx.account_id, &ctx.region, group, name);
        let s = self
            .state
            .lock()
            .schedules
            .get(&key)
            .cloned()
            .ok_or_else(|| SchedError::not_found(format!("Schedule {name} does not exist.")))?;
        Ok((key, s))
    }

    pub(crate) fn get_schedule(&self, ctx: &RequestContext, input: Value) -> Out {
        Ok(schedule_json(&self.lookup(ctx, &input)?.1))
    }

    pub(crate) async fn delete_schedule(&self, ctx: &RequestContext, input: Value) -> Out {
        let (key, _) = self.lookup(ctx, &input)?;
        let c = {
            let mut m = self.state.lock();
            if m.schedules.remove(&key).is_none() {
                let name = input["Name"].as_str().unwrap_or_default();
                return Err(SchedError::not_found(format!(
                    "Schedule {name} does not exist."
                )));
            }
            self.state.write(&[], &[], &[(NS_SCHEDULES, key)])
        };
        commit(c).await?;
        self.wake.notify_one();
        Ok(json!({}))
    }

    pub(crate) fn list_schedules(&self, ctx: &RequestContext, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            group_name: Option<String>,
            name_prefix: Option<String>,
            state: Option<String>,
            next_token: Option<String>,
            max_results: Option<usize>,
        }
        let i: In = parse(input)?;
        if let Some(g) = &i.group_name {
            self.group(ctx, g)?;
        }
        let mut list: Vec<Schedule> = self
            .state
            .lock()
            .schedules
            .values()
            .filter(|s| s.account == ctx.account_id && s.region == ctx.region)
            .filter(|s| i.group_name.as_ref().is_none_or(|g| &s.group == g))
            .filter(|s| {
                i.name_prefix
                    .as_deref()
                    .is_none_or(|p| s.name.starts_with(p))
            })
            .filter(|s| {
                i.state
                    .as_deref()
                    .is_none_or(|st| (st == "ENABLED") == s.enabled)
            })
            .cloned()
            .collect();
        list.sort_by(|a, b| (&a.name, &a.group).cmp(&(&b.name, &b.group)));
        let (list, next) = page(list, i.next_token.as_deref(), i.max_results)?;
        let items: Vec<Value> = list
            .iter()
            .map(|s| {
                json!({
                    "Arn": s.arn, "Name": s.name, "GroupName": s.group,
                    "State": if s.enabled { "ENABLED" } else { "DISABLED" },
                    "CreationDate": s.created_s, "LastModificationDate": s.modified_s,
                    "Target": { "Arn": s.target["Arn"] },
                })
            })
            .collect();
        let mut out = json!({ "Schedules": items });
        if let Some(n) = next {
            out["NextToken"] = json!(n);
        }
        Ok(out)
    }
}
