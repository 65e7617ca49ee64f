//! Message move tasks: redriving a dead-letter queue back to its sources (or elsewhere).
//!
//! Aloft moves the messages at once (AWS paces them by `MaxNumberOfMessagesPerSecond`), so a
//! task is `COMPLETED` when StartMessageMoveTask answers; ListMessageMoveTasks reports it.

use aloft_core::{RequestContext, clock};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::Sqs;
use crate::error::{Code, SqsError};
use crate::handlers::{Out, commit, parse};
use crate::registry::moved;

#[derive(Debug, Clone)]
pub struct MoveTask {
    pub handle: String,
    pub source_arn: String,
    pub destination_arn: Option<String>,
    pub rate: Option<i64>,
    pub moved: usize,
    pub to_move: usize,
    pub started_ms: i64,
    pub status: &'static str,
}

fn not_found(param: &str) -> SqsError {
    SqsError::new(
        Code::ResourceNotFoundException,
        format!("The resource that you specified for the {param} parameter doesn't exist."),
    )
}

impl Sqs {
    pub(crate) async fn start_message_move_task(&self, _ctx: &RequestContext, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct I {
            source_arn: String,
            #[serde(default)]
            destination_arn: Option<String>,
            #[serde(default)]
            max_number_of_messages_per_second: Option<i64>,
        }
        let i: I = parse(input)?;
        if let Some(r) = i.max_number_of_messages_per_second
            && !(1..=500).contains(&r)
        {
            return Err(SqsError::invalid_value(
                "MaxNumberOfMessagesPerSecond",
                r,
                "MaxNumberOfMessagesPerSecond must be between 1 and 500.",
            ));
        }
        let src = self
            .reg
            .by_arn(&i.source_arn)
            .ok_or_else(|| not_found("SourceArn"))?;
        let is_dlq = self.reg.all().iter().any(|q| {
            q.lock()
                .config
                .redrive()
                .is_some_and(|r| r.dead_letter_target_arn == src.arn)
        });
        if !is_dlq {
            return Err(SqsError::invalid(
                "Source queue must be configured as a Dead Letter Queue.",
            ));
        }
        let dest = match &i.destination_arn {
            Some(d) => Some(
                self.reg
                    .by_arn(d)
                    .ok_or_else(|| not_found("DestinationArn"))?,
            ),
            None => None,
        };
        {
            let tasks = self
                .reg
                .tasks
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if tasks
                .iter()
                .any(|t| t.source_arn == src.arn && t.status == "RUNNING")
            {
                return Err(SqsError::invalid(
                    "There is already a task running. Only one active task is allowed for a source queue arn at a given time.",
                ));
            }
        }
        let started = clock::now_millis();
        let (msgs, c) = {
            let mut st = src.lock();
            let msgs = st.take_visible(started);
            let c = self.reg.save_messages(&src, [], msgs.iter().map(|m| m.seq));
            (msgs, c)
        };
        commit(c).await?;
        let to_move = msgs.len();
        let mut moved_n = 0;
        for m in msgs {
            let target = match &dest {
                Some(d) => Some(d.clone()),
                None => m.dlq_source_arn.as_deref().and_then(|a| self.reg.by_arn(a)),
            };
            let Some(target) = target else { continue };
            let mut new = moved(m, None);
            new.dlq_source_arn = None;
            new.receive_count = 0;
            if self.reg.enqueue(&target, new).await.is_ok() {
                moved_n += 1;
            }
        }
        let handle = aloft_core::ids::uuid();
        self.reg
            .tasks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(MoveTask {
                handle: handle.clone(),
                source_arn: src.arn.clone(),
                destination_arn: i.destination_arn,
                rate: i.max_number_of_messages_per_second,
                moved: moved_n,
                to_move,
                started_ms: started,
                status: "COMPLETED",
            });
        Ok(json!({"TaskHandle": handle}))
    }

    pub(crate) async fn list_message_move_tasks(&self, _ctx: &RequestContext, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct I {
            source_arn: String,
            #[serde(default)]
            max_results: Option<i64>,
        }
        let i: I = parse(input)?;
        let max = match i.max_results {
            None => 1,
            Some(n @ 1..=10) => n as usize,
            Some(n) => {
                return Err(SqsError::invalid_value(
                    "MaxResults",
                    n,
                    "MaxResults must be between 1 and 10.",
                ));
            }
        };
        self.reg
            .by_arn(&i.source_arn)
            .ok_or_else(|| not_found("SourceArn"))?;
        let tasks = self
            .reg
            .tasks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let results: Vec<Value> = tasks
            .iter()
            .rev()
            .filter(|t| t.source_arn == i.source_arn)
            .take(max)
            .map(|t| {
                let mut v = json!({
                    "Status": t.status,
                    "SourceArn": t.source_arn,
                    "ApproximateNumberOfMessagesMoved": t.moved,
                    "ApproximateNumberOfMessagesToMove": t.to_move,
                    "StartedTimestamp": t.started_ms,
                });
                if t.status == "RUNNING" {
                    v["TaskHandle"] = json!(t.handle);
                }
                if let Some(d) = &t.destination_arn {
                    v["DestinationArn"] = json!(d);
                }
                if let Some(r) = t.rate {
                    v["MaxNumberOfMessagesPerSecond"] = json!(r);
                }
                v
            })
            .collect();
        Ok(json!({"Results": results}))
    }

    pub(crate) async fn cancel_message_move_task(
        &self,
        _ctx: &RequestContext,
        input: Value,
    ) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct I {
            task_handle: String,
        }
        let i: I = parse(input)?;
        let tasks = self
            .reg
            .tasks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match tasks.iter().find(|t| t.handle == i.task_handle) {
            Some(t) if t.status == "RUNNING" => {
                Ok(json!({"ApproximateNumberOfMessagesMoved": t.moved}))
            }
            Some(_) => Err(SqsError::invalid("Only active tasks can be cancelled.")),
            None => Err(not_found("TaskHandle")),
        }
    }
}
