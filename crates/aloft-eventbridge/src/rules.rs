//! Buses, rules and targets: the management operations.

use std::collections::BTreeMap;

use aloft_core::{RequestContext, clock};
use aloft_eventpattern::Dialect;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{Code, EbError, Result};
use crate::state::{Bus, NS_BUSES, NS_RULES, Rule};
use crate::{EventBridge, Out, commit, parse};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Tag {
    key: String,
    value: String,
}

/// A bus name from a name or an ARN (`arn:aws:events:r:a:event-bus/name`).
pub fn bus_name(v: Option<&str>) -> String {
    match v {
        None | Some("") => "default".into(),
        Some(s) => s
            .rsplit_once("event-bus/")
            .map_or(s, |(_, n)| n)
            .to_string(),
    }
}

pub fn bus_arn(ctx_region: &str, account: &str, name: &str) -> String {
    aloft_core::arn::build("events", ctx_region, account, &format!("event-bus/{name}"))
}

pub fn rule_arn(region: &str, account: &str, bus: &str, name: &str) -> String {
    let res = if bus == "default" {
        format!("rule/{name}")
    } else {
        format!("rule/{bus}/{name}")
    };
    aloft_core::arn::build("events", region, account, &res)
}

pub fn check_pattern(p: &str) -> Result<()> {
    aloft_eventpattern::parse(p, Dialect::EventBridge)
        .map(|_| ())
        .map_err(|e| {
            EbError::new(
                Code::InvalidEventPatternException,
                format!("Event pattern is not valid. Reason: {e}"),
            )
        })
}

impl EventBridge {
    /// The bus named (default exists implicitly), or ResourceNotFound.
    pub(crate) fn bus(&self, account: &str, region: &str, name: &str) -> Result<Bus> {
        let arn = bus_arn(region, account, name);
        if name == "default" {
            return Ok(self.state.lock().buses.get(&arn).cloned().unwrap_or(Bus {
                name: "default".into(),
                arn,
                account: account.into(),
                region: region.into(),
                created_s: 0,
                description: None,
                tags: BTreeMap::new(),
            }));
        }
        self.state
            .lock()
            .buses
            .get(&arn)
            .cloned()
            .ok_or_else(|| EbError::not_found(format!("Event bus {name} does not exist.")))
    }

    pub(crate) async fn create_event_bus(&self, ctx: &RequestContext, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct I {
            name: String,
            #[serde(default)]
            description: Option<String>,
            #[serde(default)]
            tags: Vec<Tag>,
        }
        let i: I = parse(input)?;
        if i.name == "default" || i.name.contains('/') {
            return Err(EbError::validation(format!(
                "Event bus name {} is not valid.",
                i.name
            )));
        }
        let arn = bus_arn(&ctx.region, &ctx.account_id, &i.name);
        let c = {
            let mut m = self.state.lock();
            if m.buses.contains_key(&arn) {
                return Err(EbError::new(
                    Code::ResourceAlreadyExistsException,
                    format!("Event bus {} already exists.", i.name),
                ));
            }
            let b = Bus {
                name: i.name,
                arn: arn.clone(),
                account: ctx.account_id.clone(),
                region: ctx.region.clone(),
                created_s: clock::now_secs(),
                description: i.description,
                tags: i.tags.into_iter().map(|t| (t.key, t.value)).collect(),
            };
            let c = self.state.save_bus(&b);
            m.buses.insert(arn.clone(), b);
            c
        };
        commit(c).await?;
        Ok(json!({"EventBusArn": arn}))
    }

    pub(crate) async fn delete_event_bus(&self, ctx: &RequestContext, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct I {
            name: String,
        }
        let i: I = parse(input)?;
        if i.name == "default" {
            return Err(EbError::validation("Cannot delete event bus default."));
        }
        let arn = bus_arn(&ctx.region, &ctx.account_id, &i.name);
        let c = {
            let mut m = self.state.lock();
            if m.rules.values().any(|r| {
                r.bus_name == i.name && r.account == ctx.account_id && r.region == ctx.region
            }) {
                return Err(EbError::validation(
                    "Cannot delete event bus because it still has rules.",
                ));
            }
            m.buses.remove(&arn);
            self.state.delete(NS_BUSES, &arn)
        };
        commit(c).await?;
        Ok(json!({}))
    }

    pub(crate) async fn describe_event_bus(&self, ctx: &RequestContext, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct I {
            #[serde(default)]
            name: Option<String>,
        }
        let i: I = parse(input)?;
        let b = self.bus(&ctx.account_id, &ctx.region, &bus_name(i.name.as_deref()))?;
        let mut out = json!({"Name": b.name, "Arn": b.arn});
        if b.created_s > 0 {
            out["CreationTime"] = json!(b.created_s);
        }
        if let Some(d) = b.description {
            out["Description"] = json!(d);
        }
        Ok(out)
    }

    pub(crate) async fn list_event_buses(&self, ctx: &RequestContext, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct I {
            #[serde(default)]
            name_prefix: Option<String>,
        }
        let i: I = parse(input)?;
        let prefix = i.name_prefix.unwrap_or_default();
        let mut buses = vec![self.bus(&ctx.account_id, &ctx.region, "default")?];
        buses.extend(
            self.state
                .lock()
                .buses
                .values()
                .filter(|b| {
                    b.account == ctx.account_id && b.region == ctx.region && b.name != "default"
                })
                .cloned(),
        );
        buses.retain(|b| b.name.starts_with(&prefix));
        buses.sort_by(|a, b| a.name.cmp(&b.name));
        let list: Vec<Value> = buses
            .iter()
            .map(|b| json!({"Name": b.name, "Arn": b.arn}))
            .collect();
        Ok(json!({"EventBuses": list}))
    }

    pub(crate) async fn put_rule(&self, ctx: &RequestContext, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct I {
            name: String,
            #[serde(default)]
            event_pattern: Option<String>,
            #[serde(default)]
            schedule_expression: Option<String>,
            #[serde(default)]
            state: Option<String>,
            #[serde(default)]
            description: Option<String>,
            #[serde(default)]
            role_arn: Option<String>,
            #[serde(default)]
            event_bus_name: Option<String>,
            #[serde(default)]
            tags: Vec<Tag>,
        }
        let i: I = parse(input)?;
        let bus = bus_name(i.event_bus_name.as_deref());
        self.bus(&ctx.account_id, &ctx.region, &bus)?;
        if i.event_pattern.is_none() && i.schedule_expression.is_none() {
            return Err(EbError::validation(
                "Parameter(s) EventPattern or ScheduleExpression must be specified.",
            ));
        }
        if let Some(p) = &i.event_pattern {
            check_pattern(p)?;
        }
        if let Some(s) = &i.schedule_expression {
            if bus != "default" {
                return Err(EbError::validation(
                    "ScheduleExpression is supported only on the default event bus.",
                ));
            }
            crate::schedule::parse(s).map_err(EbError::validation)?;
        }
        let enabled = match i.state.as_deref() {
            None | Some("ENABLED") => true,
            Some("DISABLED") => false,
            Some(other) => {
                return Err(EbError::validation(format!(
                    "1 validation error detected: Value '{other}' at 'state' failed to satisfy constraint: Member must satisfy enum value set: [ENABLED, DISABLED]"
                )));
            }
        };
        let arn = rule_arn(&ctx.region, &ctx.account_id, &bus, &i.name);
        let now = clock::now_millis();
        let c = {
            let mut m = self.state.lock();
            let old = m.rules.get(&arn).cloned();
            let r = Rule {
                name: i.name,
                arn: arn.clone(),
                bus_name: bus,
                account: ctx.account_id.clone(),
                region: ctx.region.clone(),
                event_pattern: i.event_pattern,
                schedule: i.schedule_expression.clone(),
                enabled,
                description: i.description,
                role_arn: i.role_arn,
                targets: old.as_ref().map(|o| o.targets.clone()).unwrap_or_default(),
                tags: old.as_ref().map_or_else(
                    || i.tags.into_iter().map(|t| (t.key, t.value)).collect(),
                    |o| o.tags.clone(),
                ),
                schedule_start_ms: match &old {
                    Some(o) if o.schedule == i.schedule_expression => o.schedule_start_ms,
                    _ => now,
                },
                last_fired_ms: old.as_ref().map_or(now, |o| o.last_fired_ms),
            };
            let c = self.state.save_rule(&r);
            m.rules.insert(arn.clone(), r);
            c
        };
        self.wake.notify_one();
        commit(c).await?;
        Ok(json!({"RuleArn": arn}))
    }

    fn rule(&self, ctx: &RequestContext, name: &str, bus: Option<&str>) -> Result<Rule> {
        let bus = bus_name(bus);
        let arn = rule_arn(&ctx.region, &ctx.account_id, &bus, name);
        self.state.lock().rules.get(&arn).cloned().ok_or_else(|| {
            EbError::not_found(format!("Rule {name} does not exist on EventBus {bus}."))
        })
    }

    pub(crate) async fn describe_rule(&self, ctx: &RequestContext, input: Value) -> Out {
        let (name, bus) = name_and_bus(&input)?;
        let r = self.rule(ctx, &name, bus.as_deref())?;
        Ok(rule_json(&r))
    }

    pub(crate) async fn list_rules(&self, ctx: &RequestContext, input: Value) -> Out {
        let prefix = input
            .get("NamePrefix")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let bus = bus_name(input.get("EventBusName").and_then(Value::as_str));
        let mut rules: Vec<Rule> = self
            .state
            .lock()
            .rules
            .values()
            .filter(|r| {
                r.account == ctx.account_id
                    && r.region == ctx.region
                    && r.bus_name == bus
                    && r.name.starts_with(&prefix)
            })
            .cloned()
            .collect();
        rules.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(json!({"Rules": rules.iter().map(rule_json).collect::<Vec<_>>()}))
    }

    pub(crate) async fn set_rule_state(
        &self,
        ctx: &RequestContext,
        input: Value,
        enabled: bool,
    ) -> Out {
        let (name, bus) = name_and_bus(&input)?;
        let r = self.rule(ctx, &name, bus.as_deref())?;
        let c = {
            let mut m = self.state.lock();
            let Some(rule) = m.rules.get_mut(&r.arn) else {
                return Ok(json!({}));
            };
            rule.enabled = enabled;
            self.state.save_rule(rule)
        };
        self.wake.notify_one();
        commit(c).await?;
        Ok(json!({}))
    }

    pub(crate) async fn delete_rule(&self, ctx: &RequestContext, input: Value) -> Out {
        let (name, bus) = name_and_bus(&input)?;
        let Ok(r) = self.rule(ctx, &name, bus.as_deref()) else {
            return Ok(json!({}));
        };
        if !r.targets.is_empty() && input.get("Force") != Some(&Value::Bool(true)) {
            return Err(EbError::validation(
                "Rule can't be deleted since it has targets.",
            ));
        }
        let c = {
            self.state.lock().rules.remove(&r.arn);
            self.state.delete(NS_RULES, &r.arn)
        };
        commit(c).await?;
        Ok(json!({}))
    }

    pub(crate) async fn put_targets(&self, ctx: &RequestContext, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct I {
            rule: String,
            #[serde(default)]
            event_bus_name: Option<String>,
            targets: Vec<Value>,
        }
        let i: I = parse(input)?;
        let r = self.rule(ctx, &i.rule, i.event_bus_name.as_deref())?;
        let mut failed = Vec::new();
        let c = {
            let mut m = self.state.lock();
            let Some(rule) = m.rules.get_mut(&r.arn) else {
                return Err(EbError::not_found("Rule does not exist."));
            };
            for t in i.targets {
                let id = t
                    .get("Id")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                let inputs = ["Input", "InputPath", "InputTransformer"]
                    .iter()
                    .filter(|k| t.get(**k).is_some())
                    .count();
                if inputs > 1 {
                    failed.push(json!({"TargetId": id, "ErrorCode": "ValidationException", "ErrorMessage": "Only one of Input, InputPath, or InputTransformer must be provided."}));
                    continue;
                }
                if let Some(s) = t.get("Input").and_then(Value::as_str)
                    && serde_json::from_str::<Value>(s).is_err()
                {
                    failed.push(json!({"TargetId": id, "ErrorCode": "ValidationException", "ErrorMessage": "Input is not a valid JSON text."}));
                    continue;
                }
                if rule.targets.len() >= 5 && !rule.targets.contains_key(&id) {
                    return Err(EbError::new(
                        Code::LimitExceededException,
                        "The requested resource exceeds the maximum number allowed.",
                    ));
                }
                rule.targets.insert(id, t);
            }
            self.state.save_rule(rule)
        };
        commit(c).await?;
        Ok(json!({"FailedEntryCount": failed.len(), "FailedEntries": failed}))
    }

    pub(crate) async fn remove_targets(&self, ctx: &RequestContext, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct I {
            rule: String,
            #[serde(default)]
            event_bus_name: Option<String>,
            ids: Vec<String>,
        }
        let i: I = parse(input)?;
        let r = self.rule(ctx, &i.rule, i.event_bus_name.as_deref())?;
        let mut failed = Vec::new();
        let c = {
            let mut m = self.state.lock();
            let Some(rule) = m.rules.get_mut(&r.arn) else {
                return Ok(json!({}));
            };
            for id in i.ids {
                if rule.targets.remove(&id).is_none() {
                    failed.push(json!({"TargetId": id, "ErrorCode": "ResourceNotFoundException", "ErrorMessage": "Target does not exist."}));
                }
            }
            self.state.save_rule(rule)
        };
        commit(c).await?;
        Ok(json!({"FailedEntryCount": failed.len(), "FailedEntries": failed}))
    }

    pub(crate) async fn list_targets_by_rule(&self, ctx: &RequestContext, input: Value) -> Out {
        let name = input
            .get("Rule")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let bus = input
            .get("EventBusName")
            .and_then(Value::as_str)
            .map(str::to_string);
        let r = self.rule(ctx, &name, bus.as_deref())?;
        Ok(json!({"Targets": r.targets.values().collect::<Vec<_>>()}))
    }

    pub(crate) async fn test_event_pattern(&self, _ctx: &RequestContext, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct I {
            event_pattern: String,
            event: String,
        }
        let i: I = parse(input)?;
        check_pattern(&i.event_pattern)?;
        let event: Value = serde_json::from_str(&i.event)
            .map_err(|_| EbError::validation("Parameter Event is not valid."))?;
        for k in ["id", "account", "source", "time", "region", "detail-type"] {
            if event.get(k).is_none() {
                return Err(EbError::validation(format!(
                    "Parameter Event is not valid. Reason: Provided Event is missing required field: {k}"
                )));
            }
        }
        let pattern: Value = serde_json::from_str(&i.event_pattern).unwrap_or(Value::Null);
        Ok(json!({"Result": aloft_eventpattern::matches(&pattern, &event)}))
    }

    pub(crate) async fn tag_resource(&self, input: Value, remove: bool) -> Out {
        let arn = input
            .get("ResourceARN")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let c = {
            let mut m = self.state.lock();
            let tags = if let Some(r) = m.rules.get_mut(&arn) {
                &mut r.tags
            } else if let Some(b) = m.buses.get_mut(&arn) {
                &mut b.tags
            } else {
                return Err(EbError::not_found(format!(
                    "Resource {arn} does not exist."
                )));
            };
            if remove {
                for k in input
                    .get("TagKeys")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some(k) = k.as_str() {
                        tags.remove(k);
                    }
                }
            } else {
                for t in input
                    .get("Tags")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let (Some(k), Some(v)) = (t["Key"].as_str(), t["Value"].as_str()) {
                        tags.insert(k.into(), v.into());
                    }
                }
            }
            match (m.rules.get(&arn), m.buses.get(&arn)) {
                (Some(r), _) => self.state.save_rule(r),
                (_, Some(b)) => self.state.save_bus(b),
                _ => aloft_store::Commit::done(),
            }
        };
        commit(c).await?;
        Ok(json!({}))
    }

    pub(crate) async fn list_tags_for_resource(&self, input: Value) -> Out {
        let arn = input
            .get("ResourceARN")
            .and_then(Value::as_str)
            .unwrap_or("");
        let m = self.state.lock();
        let tags = m
            .rules
            .get(arn)
            .map(|r| &r.tags)
            .or_else(|| m.buses.get(arn).map(|b| &b.tags))
            .ok_or_else(|| EbError::not_found(format!("Resource {arn} does not exist.")))?;
        Ok(
            json!({"Tags": tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect::<Vec<_>>()}),
        )
    }
}

fn name_and_bus(input: &Value) -> Result<(String, Option<String>)> {
    let name = input
        .get("Name")
        .and_then(Value::as_str)
        .ok_or_else(|| EbError::validation("Parameter Name is required."))?;
    Ok((
        name.to_string(),
        input
            .get("EventBusName")
            .and_then(Value::as_str)
            .map(str::to_string),
    ))
}

fn rule_json(r: &Rule) -> Value {
    let mut v = json!({
        "Name": r.name, "Arn": r.arn, "State": if r.enabled { "ENABLED" } else { "DISABLED" },
        "EventBusName": r.bus_name, "CreatedBy": r.account,
    });
    for (k, val) in [
        ("EventPattern", &r.event_pattern),
        ("ScheduleExpression", &r.schedule),
        ("Description", &r.description),
        ("RoleArn", &r.role_arn),
    ] {
        if let Some(x) = val {
            v[k] = json!(x);
        }
    }
    v
}
