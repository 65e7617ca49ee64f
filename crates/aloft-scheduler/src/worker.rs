//! The firing loop: each enabled schedule's next occurrence (placed at random inside its
//! flexible window) is invoked when the one clock reaches it, then delivered to the target
//! with Scheduler's retry policy, dead-letter queue and ActionAfterCompletion.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use aloft_core::{AwsError, clock};
use aloft_events::Delivery;
use rand::Rng;
use serde_json::{Map, Value, json};

use crate::Scheduler;
use crate::expression::{self, Expr};
use crate::state::{NS_SCHEDULES, Schedule};

/// Invocations fired at once for one schedule after a long clock jump; the rest are skipped.
const MAX_BURST: usize = 60;

/// Scheduler's time format for `<aws.scheduler.scheduled-time>`: seconds, `Z`.
fn scheduled_time(ms: i64) -> String {
    format!("{}Z", &clock::iso8601_millis(ms)[..19])
}

/// The next occurrence after `after` within the schedule's dates, with its invocation time.
fn next_pending(
    s: &Schedule,
    expr: &Expr,
    zone: &aloft_cron::Zone,
    after: i64,
) -> Option<(i64, i64)> {
    let start_ms = s.start_date.map(|d| (d * 1000.0) as i64);
    let after = start_ms.map_or(after, |st| after.max(st - 1));
    let occ = expr.next_after(s.anchor_ms, after, zone)?;
    if s.end_date.is_some_and(|e| occ > (e * 1000.0) as i64) {
        return None;
    }
    let jitter = s
        .flexible_window_minutes
        .map_or(0, |m| rand::rng().random_range(0..m * 60_000));
    Some((occ, occ + jitter))
}

impl Scheduler {
    pub(crate) async fn run(self: Arc<Self>) {
        let mut clock_rx = clock::changed();
        loop {
            let next = self.tick().await;
            let until = next.unwrap_or_else(|| clock::now_millis() + 3_600_000);
            tokio::select! {
                () = clock::sleep_until_millis(until) => {}
                () = self.wake.notified() => {}
                r = clock_rx.changed() => { if r.is_err() { return; } }
            }
            if self.stopped.load(Ordering::SeqCst) {
                return;
            }
        }
    }

    /// Fires what is due; returns when the next invocation is due.
    async fn tick(self: &Arc<Self>) -> Option<i64> {
        let now = clock::now_millis();
        let mut next: Option<i64> = None;
        let mut due: Vec<(Schedule, i64)> = Vec::new();
        let commit = {
            let mut m = self.state.lock();
            let mut changed: Vec<String> = Vec::new();
            let mut finished: Vec<String> = Vec::new();
            for (key, s) in m.schedules.iter_mut().filter(|(_, s)| s.enabled) {
                let (Ok(expr), Ok(zone)) = (
                    expression::parse(&s.expression),
                    expression::zone(s.timezone.as_deref()),
                ) else {
                    continue;
                };
                if s.pending.is_none() {
                    s.pending = next_pending(s, &expr, &zone, s.last_ms);
                }
                let mut fired = 0;
                while let Some((occ, _)) = s.pending.filter(|(_, at)| *at <= now) {
                    if fired < MAX_BURST {
                        due.push((s.clone(), occ));
                    }
                    fired += 1;
                    s.last_ms = occ;
                    s.pending = next_pending(s, &expr, &zone, occ);
                    if fired >= MAX_BURST {
                        // After a long jump, skip to the first occurrence after now.
                        s.last_ms = s.last_ms.max(now - 1);
                        s.pending = next_pending(s, &expr, &zone, s.last_ms);
                    }
                }
                if fired > 0 {
                    changed.push(key.clone());
                }
                match s.pending {
                    Some((_, at)) => next = Some(next.map_or(at, |n: i64| n.min(at))),
                    None if s.delete_after_completion
                        && (fired > 0 || expr.is_one_time() || s.last_ms >= s.anchor_ms) =>
                    {
                        finished.push(key.clone());
                    }
                    None => {}
                }
            }
            let mut deletes: Vec<(&str, String)> = Vec::new();
            for k in &finished {
                m.schedules.remove(k);
                deletes.push((NS_SCHEDULES, k.clone()));
            }
            let kept: Vec<&Schedule> = changed
                .iter()
                .filter(|k| !finished.contains(k))
                .filter_map(|k| m.schedules.get(k))
                .collect();
            if kept.is_empty() && deletes.is_empty() {
                None
            } else {
                Some(self.state.write(&[], &kept, &deletes))
            }
        };
        if let Some(c) = commit
            && let Err(e) = c.await
        {
            tracing::warn!("scheduler: journal write failed: {e}");
        }
        for (s, occ) in due {
            let me = self.clone();
            tokio::spawn(async move { me.invoke(&s, occ).await });
        }
        next
    }

    /// One invocation of a schedule's target, with retries and the dead-letter queue.
    async fn invoke(&self, s: &Schedule, occ: i64) {
        let execution_id = format!("{:016x}", rand::rng().random::<u64>());
        let max_attempts = s.target["RetryPolicy"]["MaximumRetryAttempts"]
            .as_i64()
            .unwrap_or(185)
            + 1;
        let max_age_ms = s.target["RetryPolicy"]["MaximumEventAgeInSeconds"]
            .as_i64()
            .unwrap_or(86_400)
            * 1000;
        let target_arn = s.target["Arn"].as_str().unwrap_or_default().to_string();
        let started = clock::now_millis();
        let mut attempt: i64 = 1;
        let (err, exhausted) = loop {
            let input = self.input(s, occ, &execution_id, attempt);
            let result = self.deliver(s, &target_arn, &input).await;
            self.record(
                s,
                occ,
                &execution_id,
                attempt,
                &target_arn,
                result.as_ref().err(),
            );
            let e = match result {
                Ok(()) => return,
                Err(e) => e,
            };
            // Scheduler retries throttling and server errors; a bad target fails at once.
            let retryable =
                e.status.as_u16() >= 500 || e.status.as_u16() == 429 || e.code.contains("Throttl");
            if !retryable {
                break (e, "MaximumRetryAttempts");
            }
            if attempt >= max_attempts {
                break (e, "MaximumRetryAttempts");
            }
            let backoff = (1000_i64 << attempt.min(6)).min(60_000);
            if clock::now_millis() + backoff - started > max_age_ms {
                break (e, "MaximumEventAgeInSeconds");
            }
            clock::sleep_until_millis(clock::now_millis() + backoff).await;
            attempt += 1;
        };
        tracing::warn!(
            "scheduler: {} → {target_arn} failed: {}",
            s.arn,
            err.message
        );
        let Some(dlq) = s.target["DeadLetterConfig"]["Arn"].as_str() else {
            return;
        };
        let attr = |v: String| json!({"DataType": "String", "StringValue": v});
        let mut options = Map::new();
        options.insert(
            "MessageAttributes".into(),
            json!({
                "ERROR_CODE": attr(err.code.to_string()),
                "ERROR_MESSAGE": attr(err.message.clone()),
                "EXECUTION_ID": attr(execution_id.clone()),
                "EXHAUSTED_RETRY_CONDITION": attr(exhausted.to_string()),
                "RETRY_ATTEMPTS": attr((attempt - 1).to_string()),
                "SCHEDULE_ARN": attr(s.arn.clone()),
                "TARGET_ARN": attr(target_arn.clone()),
            }),
        );
        let d = Delivery {
            payload: self.input(s, occ, &execution_id, attempt).into(),
            options,
            sync: false,
            source_arn: Some(s.arn.clone()),
            account: s.account.clone(),
            region: s.region.clone(),
        };
        if let Err(e) = self.targets.deliver(dlq, d).await {
            tracing::warn!("scheduler: dead-letter delivery to {dlq} failed: {e}");
        }
    }

    /// The target's Input with the context attributes filled in.
    fn input(&self, s: &Schedule, occ: i64, execution_id: &str, attempt: i64) -> String {
        let raw = s.target["Input"].as_str().unwrap_or("{}");
        raw.replace("<aws.scheduler.schedule-arn>", &s.arn)
            .replace("<aws.scheduler.scheduled-time>", &scheduled_time(occ))
            .replace("<aws.scheduler.execution-id>", execution_id)
            .replace("<aws.scheduler.attempt-number>", &attempt.to_string())
    }

    fn record(
        &self,
        s: &Schedule,
        occ: i64,
        id: &str,
        attempt: i64,
        target: &str,
        err: Option<&AwsError>,
    ) {
        let mut log = self
            .log
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if log.len() >= 1000 {
            log.pop_front();
        }
        log.push_back(json!({
            "ScheduleArn": s.arn, "ScheduledTime": scheduled_time(occ), "ExecutionId": id,
            "Attempt": attempt, "TargetArn": target, "InvokedAt": clock::iso8601_millis(clock::now_millis()),
            "Error": err.map(|e| json!({"Code": e.code, "Message": e.message})),
        }));
    }

    async fn deliver(&self, s: &Schedule, arn: &str, input: &str) -> Result<(), AwsError> {
        let base = |payload: String, options: Map<String, Value>| Delivery {
            payload: payload.into(),
            options,
            sync: false,
            source_arn: Some(s.arn.clone()),
            account: s.account.clone(),
            region: s.region.clone(),
        };
        if let Some(action) = arn.strip_prefix("arn:aws:scheduler:::aws-sdk:") {
            return self.universal(s, action, input).await;
        }
        let mut options = Map::new();
        let payload = if arn.contains(":event-bus/") {
            let p = &s.target["EventBridgeParameters"];
            json!({"Source": p["Source"], "DetailType": p["DetailType"], "Detail": input, "Resources": [s.arn]}).to_string()
        } else {
            if let Some(g) = s.target["SqsParameters"]["MessageGroupId"].as_str() {
                options.insert("MessageGroupId".into(), json!(g));
            }
            input.to_string()
        };
        if options.contains_key("MessageGroupId") {
            options.insert(
                "MessageDeduplicationId".into(),
                json!(format!("{:016x}", rand::rng().random::<u64>())),
            );
        }
        self.targets
            .deliver(arn, base(payload, options))
            .await
            .map(|_| ())
    }

    /// Universal targets (`arn:aws:scheduler:::aws-sdk:sqs:sendMessage`): Input is the API
    /// request. The services reachable as Aloft targets are mapped to their delivery.
    async fn universal(&self, s: &Schedule, action: &str, input: &str) -> Result<(), AwsError> {
        let req: Value = serde_json::from_str(input)
            .map_err(|_| AwsError::validation("The target Input is not a valid JSON request."))?;
        let str_of = |k: &str| req[k].as_str().unwrap_or_default().to_string();
        let arn_for = |service: &str, v: &str, prefix: &str| -> String {
            if v.starts_with("arn:") {
                v.to_string()
            } else {
                aloft_core::arn::build(service, &s.region, &s.account, &format!("{prefix}{v}"))
            }
        };
        let mut options = Map::new();
        let (arn, payload) = match action {
            "sqs:sendMessage" => {
                let url = str_of("QueueUrl");
                let mut parts = url.trim_end_matches('/').rsplit('/');
                let name = parts.next().unwrap_or_default();
                let account = parts.next().unwrap_or(&s.account);
                for k in [
                    "MessageGroupId",
                    "MessageDeduplicationId",
                    "DelaySeconds",
                    "MessageAttributes",
                ] {
                    if let Some(v) = req.get(k) {
                        options.insert(k.into(), v.clone());
                    }
                }
                (
                    aloft_core::arn::build("sqs", &s.region, account, name),
                    str_of("MessageBody"),
                )
            }
            "sns:publish" => {
                for k in [
                    "Subject",
                    "MessageGroupId",
                    "MessageDeduplicationId",
                    "MessageAttributes",
                ] {
                    if let Some(v) = req.get(k) {
                        options.insert(k.into(), v.clone());
                    }
                }
                (str_of("TopicArn"), str_of("Message"))
            }
            "lambda:invoke" => {
                let payload = match &req["Payload"] {
                    Value::String(p) => p.clone(),
                    Value::Null => "{}".into(),
                    other => other.to_string(),
                };
                (
                    arn_for("lambda", &str_of("FunctionName"), "function:"),
                    payload,
                )
            }
            "eventbridge:putEvents" => {
                for e in req["Entries"].as_array().into_iter().flatten() {
                    let bus = e["EventBusName"].as_str().unwrap_or("default");
                    let d = Delivery {
                        payload: e.to_string().into(),
                        options: Map::new(),
                        sync: false,
                        source_arn: Some(s.arn.clone()),
                        account: s.account.clone(),
                        region: s.region.clone(),
                    };
                    self.targets
                        .deliver(&arn_for("events", bus, "event-bus/"), d)
                        .await?;
                }
                return Ok(());
            }
            other => {
                return Err(AwsError::validation(format!(
                    "Aloft does not support the universal target aws-sdk:{other} yet."
                )));
            }
        };
        let d = Delivery {
            payload: payload.into(),
            options,
            sync: false,
            source_arn: Some(s.arn.clone()),
            account: s.account.clone(),
            region: s.region.clone(),
        };
        self.targets.deliver(&arn, d).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(expr: &str) -> Schedule {
        serde_json::from_value(json!({
            "name": "s", "group": "default", "arn": "arn", "account": "1", "region": "r",
            "expression": expr, "timezone": null, "start_date": null, "end_date": null,
            "description": null, "enabled": true, "kms_key_arn": null, "target": {},
            "flexible_window_minutes": null, "delete_after_completion": false,
            "created_s": 0.0, "modified_s": 0.0, "anchor_ms": 0, "last_ms": -1, "pending": null
        }))
        .unwrap()
    }

    #[test]
    fn dates_bound_the_occurrences() {
        let utc = aloft_cron::Zone::utc();
        let mut s = schedule("rate(1 hour)");
        let e = expression::parse(&s.expression).unwrap();
        assert_eq!(next_pending(&s, &e, &utc, -1), Some((0, 0)));
        s.start_date = Some(7200.0);
        assert_eq!(next_pending(&s, &e, &utc, -1), Some((7_200_000, 7_200_000)));
        s.end_date = Some(10_000.0);
        assert_eq!(
            next_pending(&s, &e, &utc, 7_200_000),
            None,
            "the next hour is past EndDate"
        );
    }

    #[test]
    fn flexible_windows_stay_inside_the_window() {
        let utc = aloft_cron::Zone::utc();
        let mut s = schedule("cron(0 * * * ? *)");
        s.flexible_window_minutes = Some(15);
        let e = expression::parse(&s.expression).unwrap();
        for _ in 0..50 {
            let (occ, at) = next_pending(&s, &e, &utc, 0).unwrap();
            assert_eq!(occ, 3_600_000);
            assert!((occ..occ + 15 * 60_000).contains(&at));
        }
    }
}
