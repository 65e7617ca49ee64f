//! Events in and out: PutEvents, rule matching, target input shaping (Input, InputPath,
//! InputTransformer), delivery through `ctx.targets`, and the clock-driven schedule worker.

use std::sync::Arc;

use aloft_core::{RequestContext, clock};
use aloft_events::Delivery;
use serde_json::{Map, Value, json};

use crate::error::{EbError, Result};
use crate::rules::bus_name;
use crate::state::Rule;
use crate::{EventBridge, Out};

/// EventBridge's event time: ISO 8601 to the second.
fn event_time(ms: i64) -> String {
    let s = clock::iso8601_millis(ms);
    format!("{}Z", &s[..19])
}

impl EventBridge {
    pub(crate) async fn put_events(self: &Arc<Self>, ctx: &RequestContext, input: Value) -> Out {
        let entries = input
            .get("Entries")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if entries.is_empty() || entries.len() > 10 {
            return Err(EbError::validation(format!(
                "1 validation error detected: Value '{}' at 'entries' failed to satisfy constraint: Member must have length less than or equal to 10",
                entries.len()
            )));
        }
        let mut out = Vec::new();
        let mut commits = Vec::new();
        let mut failed = 0;
        for e in entries {
            match self.build_event(ctx, &e) {
                Ok((bus, event)) => {
                    out.push(json!({"EventId": event["id"]}));
                    commits.extend(self.route(&ctx.account_id, &ctx.region, &bus, event));
                }
                Err((code, msg)) => {
                    failed += 1;
                    out.push(json!({"ErrorCode": code, "ErrorMessage": msg}));
                }
            }
        }
        for c in commits {
            crate::commit(c).await?;
        }
        Ok(json!({"FailedEntryCount": failed, "Entries": out}))
    }

    fn build_event(
        &self,
        ctx: &RequestContext,
        e: &Value,
    ) -> std::result::Result<(String, Value), (&'static str, String)> {
        let s = |k: &str| e.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
        let source = s("Source").ok_or((
            "InvalidArgument",
            "Parameter Source is not valid. Reason: Source is a required argument.".to_string(),
        ))?;
        let detail_type = s("DetailType").ok_or((
            "InvalidArgument",
            "Parameter DetailType is not valid. Reason: DetailType is a required argument."
                .to_string(),
        ))?;
        let detail_text = s("Detail").ok_or((
            "InvalidArgument",
            "Parameter Detail is not valid. Reason: Detail is a required argument.".to_string(),
        ))?;
        let detail: Value = serde_json::from_str(detail_text)
            .map_err(|_| ("MalformedDetail", "Detail is malformed.".to_string()))?;
        if !detail.is_object() {
            return Err(("MalformedDetail", "Detail is malformed.".to_string()));
        }
        let bus = bus_name(s("EventBusName"));
        if self.bus(&ctx.account_id, &ctx.region, &bus).is_err() {
            return Err((
                "NotFoundException",
                format!("Event bus {bus} does not exist."),
            ));
        }
        let time_ms = e
            .get("Time")
            .and_then(Value::as_f64)
            .map_or_else(clock::now_millis, |t| (t * 1000.0) as i64);
        let resources = e.get("Resources").cloned().unwrap_or_else(|| json!([]));
        Ok((
            bus,
            json!({
                "version": "0",
                "id": aloft_core::ids::uuid(),
                "detail-type": detail_type,
                "source": source,
                "account": ctx.account_id,
                "time": event_time(time_ms),
                "region": ctx.region,
                "resources": resources,
                "detail": detail,
            }),
        ))
    }

    /// Archives `event` and sends it to the targets of every enabled rule of the bus whose
    /// pattern matches; the returned commit journals the archived copies.
    pub(crate) fn route(
        self: &Arc<Self>,
        account: &str,
        region: &str,
        bus: &str,
        event: Value,
    ) -> Option<aloft_store::Commit> {
        let c = self.archive_event(account, region, bus, &event);
        self.route_to(account, region, bus, event, None);
        c
    }

    /// Sends `event` to the matching enabled rules of the bus, only those in `only` when given
    /// and non-empty (a replay's FilterArns).
    pub(crate) fn route_to(
        self: &Arc<Self>,
        account: &str,
        region: &str,
        bus: &str,
        event: Value,
        only: Option<&[String]>,
    ) {
        let rules: Vec<Rule> = self
            .state
            .lock()
            .rules
            .values()
            .filter(|r| {
                r.enabled && r.account == account && r.region == region && r.bus_name == bus
            })
            .filter(|r| only.is_none_or(|o| o.is_empty() || o.contains(&r.arn)))
            .filter(|r| {
                r.event_pattern
                    .as_deref()
                    .and_then(|p| serde_json::from_str::<Value>(p).ok())
                    .is_some_and(|p| aloft_eventpattern::matches(&p, &event))
            })
            .cloned()
            .collect();
        for r in rules {
            self.fire(&r, &event);
        }
    }

    fn fire(self: &Arc<Self>, rule: &Rule, event: &Value) {
        for t in rule.targets.values() {
            let me = self.clone();
            let (t, rule, event) = (t.clone(), rule.clone(), event.clone());
            tokio::spawn(async move { me.deliver(&rule, &t, &event).await });
        }
    }

    async fn deliver(&self, rule: &Rule, target: &Value, event: &Value) {
        let Some(arn) = target.get("Arn").and_then(Value::as_str) else {
            return;
        };
        let payload = match shape_input(target, event, rule) {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(
                    "events: rule {} target input failed: {}",
                    rule.name,
                    e.message
                );
                return;
            }
        };
        let mut options = Map::new();
        if let Some(g) = target
            .pointer("/SqsParameters/MessageGroupId")
            .and_then(Value::as_str)
        {
            options.insert("MessageGroupId".into(), json!(g));
            options.insert("MessageDeduplicationId".into(), json!(event["id"]));
        }
        let d = Delivery {
            payload: payload.clone().into(),
            options: options.clone(),
            sync: false,
            source_arn: Some(rule.arn.clone()),
            account: rule.account.clone(),
            region: rule.region.clone(),
        };
        if let Err(e) = self.targets.deliver(arn, d).await {
            tracing::warn!("events: delivery to {arn} failed: {e}");
            if let Some(dlq) = target
                .pointer("/DeadLetterConfig/Arn")
                .and_then(Value::as_str)
            {
                let d = Delivery {
                    payload: payload.into(),
                    options: Map::new(),
                    sync: false,
                    source_arn: Some(rule.arn.clone()),
                    account: rule.account.clone(),
                    region: rule.region.clone(),
                };
                if let Err(e) = self.targets.deliver(dlq, d).await {
                    tracing::warn!("events: dead-letter delivery to {dlq} failed: {e}");
                }
            }
        }
    }

    /// Fires scheduled rules when the one clock passes their next time.
    pub(crate) async fn run_schedules(self: Arc<Self>) {
        let mut clock_rx = clock::changed();
        loop {
            let now = clock::now_millis();
            let mut next: Option<i64> = None;
            let mut due: Vec<(Rule, usize)> = Vec::new();
            {
                let mut m = self.state.lock();
                for r in m
                    .rules
                    .values_mut()
                    .filter(|r| r.enabled && r.schedule.is_some())
                {
                    let Some(s) = r
                        .schedule
                        .as_deref()
                        .and_then(|s| crate::schedule::parse(s).ok())
                    else {
                        continue;
                    };
                    let mut fires = 0;
                    let mut at = s.next_after(r.schedule_start_ms, r.last_fired_ms);
                    while let Some(t) = at.filter(|t| *t <= now) {
                        fires += 1;
                        r.last_fired_ms = t;
                        at = s.next_after(r.schedule_start_ms, t);
                        if fires >= 60 {
                            // After a long jump, fire a bounded burst and catch up to now.
                            r.last_fired_ms = now;
                            at = s.next_after(r.schedule_start_ms, now);
                            break;
                        }
                    }
                    if fires > 0 {
                        due.push((r.clone(), fires));
                    }
                    if let Some(t) = at {
                        next = Some(next.map_or(t, |n| n.min(t)));
                    }
                }
            }
            for (r, n) in due {
                for _ in 0..n {
                    let event = json!({
                        "version": "0",
                        "id": aloft_core::ids::uuid(),
                        "detail-type": "Scheduled Event",
                        "source": "aws.events",
                        "account": r.account,
                        "time": event_time(r.last_fired_ms),
                        "region": r.region,
                        "resources": [r.arn],
                        "detail": {},
                    });
                    self.fire(&r, &event);
                }
            }
            let sleep_until = next.unwrap_or(now + 3_600_000);
            tokio::select! {
                () = clock::sleep_until_millis(sleep_until) => {}
                () = self.wake.notified() => {}
                r = clock_rx.changed() => { if r.is_err() { return; } }
            }
            if self.stopped.load(std::sync::atomic::Ordering::SeqCst) {
                return;
            }
        }
    }
}

/// The payload a target receives: the event, `Input`, the `InputPath` selection, or the
/// `InputTransformer` template filled from `InputPathsMap`.
pub fn shape_input(target: &Value, event: &Value, rule: &Rule) -> Result<String> {
    if let Some(i) = target.get("Input").and_then(Value::as_str) {
        return Ok(i.to_string());
    }
    if let Some(p) = target.get("InputPath").and_then(Value::as_str) {
        return Ok(select(event, p).map_or_else(|| "null".into(), |v| v.to_string()));
    }
    if let Some(t) = target.get("InputTransformer") {
        let template = t.get("InputTemplate").and_then(Value::as_str).unwrap_or("");
        let mut out = template.to_string();
        let mut vars: Vec<(String, Value)> = t
            .get("InputPathsMap")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, p)| {
                        (
                            k.clone(),
                            p.as_str()
                                .and_then(|p| select(event, p))
                                .unwrap_or(Value::Null),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        vars.push(("aws.events.rule-arn".into(), json!(rule.arn)));
        vars.push(("aws.events.rule-name".into(), json!(rule.name)));
        vars.push((
            "aws.events.event.ingestion-time".into(),
            event["time"].clone(),
        ));
        vars.push(("aws.events.event".into(), event.clone()));
        vars.push(("aws.events.event.json".into(), event.clone()));
        for (k, v) in vars {
            // Strings go in bare (the template supplies quotes); anything else as JSON.
            let text = match &v {
                Value::String(s) => {
                    let quoted = Value::String(s.clone()).to_string();
                    quoted[1..quoted.len() - 1].to_string()
                }
                other => other.to_string(),
            };
            out = out.replace(&format!("<{k}>"), &text);
        }
        return Ok(out);
    }
    Ok(event.to_string())
}

/// A `$.a.b[0]` JSONPath selection (the subset EventBridge input paths use).
fn select(event: &Value, path: &str) -> Option<Value> {
    let rest = path.strip_prefix('$')?;
    let mut cur = event;
    for seg in rest.split('.').filter(|s| !s.is_empty()) {
        let (name, idx) = match seg.split_once('[') {
            Some((n, i)) => (n, i.trim_end_matches(']').parse::<usize>().ok()),
            None => (seg, None),
        };
        if !name.is_empty() {
            cur = cur.get(name)?;
        }
        if let Some(i) = idx {
            cur = cur.get(i)?;
        }
    }
    Some(cur.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule() -> Rule {
        serde_json::from_value(json!({
            "name": "r", "arn": "arn:aws:events:us-east-1:0:rule/r", "bus_name": "default",
            "account": "0", "region": "us-east-1", "event_pattern": null, "schedule": null,
            "enabled": true, "description": null, "role_arn": null, "targets": {}, "tags": {},
            "schedule_start_ms": 0, "last_fired_ms": 0
        }))
        .unwrap()
    }

    #[test]
    fn input_shapes() {
        let ev = json!({"id": "1", "time": "t", "detail": {"name": "n", "items": [{"v": 7}]}});
        let r = rule();
        assert_eq!(
            shape_input(&json!({"Input": "{\"a\":1}"}), &ev, &r).unwrap(),
            "{\"a\":1}"
        );
        assert_eq!(
            shape_input(&json!({"InputPath": "$.detail.items[0].v"}), &ev, &r).unwrap(),
            "7"
        );
        let t = json!({"InputTransformer": {
            "InputPathsMap": {"n": "$.detail.name", "v": "$.detail.items[0].v"},
            "InputTemplate": "{\"name\": \"<n>\", \"v\": <v>, \"rule\": \"<aws.events.rule-name>\"}"
        }});
        assert_eq!(
            shape_input(&t, &ev, &r).unwrap(),
            "{\"name\": \"n\", \"v\": 7, \"rule\": \"r\"}"
        );
        assert_eq!(shape_input(&json!({}), &ev, &r).unwrap(), ev.to_string());
    }
}
