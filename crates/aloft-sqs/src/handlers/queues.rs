//! Queue operations: create, find, list, delete, purge, attributes, tags, permissions.

use std::collections::BTreeMap;

use aloft_core::{RequestContext, clock};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Out, commit, parse};
use crate::Sqs;
use crate::domain::config::{QueueConfig, redrive_allowed};
use crate::error::{Code, Result, SqsError};
use crate::registry::{Queue, queue_url};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateQueueInput {
    queue_name: String,
    #[serde(default)]
    attributes: BTreeMap<String, String>,
    #[serde(default, alias = "Tags", rename = "tags")]
    tags: BTreeMap<String, String>,
}

/// Queue names: 1–80 of `[A-Za-z0-9_-]`, FIFO names ending in `.fifo` (counted in the 80).
fn check_name(name: &str, fifo: bool) -> Result<()> {
    let stem = if fifo {
        name.strip_suffix(".fifo")
    } else {
        Some(name)
    };
    let ok = name.len() <= 80
        && stem.is_some_and(|s| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    if ok {
        Ok(())
    } else if fifo {
        Err(SqsError::invalid(
            "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.",
        ))
    } else {
        Err(SqsError::invalid(
            "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length",
        ))
    }
}

fn check_tags(tags: &BTreeMap<String, String>) -> Result<()> {
    if tags.len() > 50 {
        return Err(SqsError::invalid("Too many tags added for queue."));
    }
    for (k, v) in tags {
        if k.is_empty() || k.chars().count() > 128 || v.chars().count() > 256 {
            return Err(SqsError::invalid(format!("Tag {k} is invalid.")));
        }
    }
    Ok(())
}

impl Sqs {
    pub(crate) fn url(&self, ctx: &RequestContext, q: &Queue) -> String {
        queue_url(&ctx.base_url, &q.region, &q.account, &q.name)
    }

    pub(crate) fn queue(
        &self,
        ctx: &RequestContext,
        input: &Value,
    ) -> Result<std::sync::Arc<Queue>> {
        let url = input
            .get("QueueUrl")
            .and_then(Value::as_str)
            .ok_or_else(|| SqsError::missing("QueueUrl"))?;
        self.reg.by_url(url, &ctx.region)
    }

    /// Checks a RedrivePolicy's target: it exists, has the same type, allows this source.
    fn check_redrive(&self, source_arn: &str, config: &QueueConfig) -> Result<()> {
        let Some(policy) = config.redrive() else {
            return Ok(());
        };
        let raw = config.redrive_policy.clone().unwrap_or_default();
        let fail = |reason: &str| SqsError::invalid_value("RedrivePolicy", &raw, reason);
        let dlq = self
            .reg
            .by_arn(&policy.dead_letter_target_arn)
            .ok_or_else(|| fail("Dead letter target does not exist."))?;
        if dlq.is_fifo() != config.fifo {
            return Err(fail(
                "Dead-letter queue must be same type of queue as the source.",
            ));
        }
        let allow = dlq.lock().config.redrive_allow_policy.clone();
        if !redrive_allowed(allow.as_deref(), source_arn) {
            return Err(fail(
                "Dead letter target does not allow this queue to use it as a dead letter queue.",
            ));
        }
        Ok(())
    }

    pub(crate) async fn create_queue(&self, ctx: &RequestContext, input: Value) -> Out {
        let i: CreateQueueInput = parse(input)?;
        let fifo = i
            .attributes
            .get("FifoQueue")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        check_name(&i.queue_name, fifo)?;
        check_tags(&i.tags)?;
        let mut config = QueueConfig::new(fifo);
        config.apply(&i.attributes, true)?;
        let arn = ctx.arn("sqs", &i.queue_name);
        self.check_redrive(&arn, &config)?;
        if self
            .reg
            .recently_deleted(&ctx.account_id, &ctx.region, &i.queue_name)
        {
            return Err(SqsError::new(
                Code::QueueDeletedRecently,
                "You must wait 60 seconds after deleting a queue before you can create another with the same name.",
            ));
        }
        let q = match self.reg.insert(
            &ctx.account_id,
            &ctx.region,
            &i.queue_name,
            config.clone(),
            i.tags,
        ) {
            Ok((q, c)) => {
                commit(c).await?;
                q
            }
            Err(existing) => {
                // Creating an existing queue is idempotent only with identical attributes.
                let mine = config.to_map();
                let theirs = existing.lock().config.to_map();
                if let Some(name) = i
                    .attributes
                    .keys()
                    .find(|k| mine.get(k.as_str()) != theirs.get(k.as_str()))
                    .or_else(|| (existing.is_fifo() != fifo).then_some(&i.queue_name))
                {
                    return Err(SqsError::new(
                        Code::QueueNameExists,
                        format!(
                            "A queue already exists with the same name and a different value for attribute {name}"
                        ),
                    ));
                }
                existing
            }
        };
        Ok(json!({"QueueUrl": self.url(ctx, &q)}))
    }

    pub(crate) async fn get_queue_url(&self, ctx: &RequestContext, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct I {
            queue_name: String,
            #[serde(default, rename = "QueueOwnerAWSAccountId")]
            owner: Option<String>,
        }
        let i: I = parse(input)?;
        let account = i.owner.as_deref().unwrap_or(&ctx.account_id);
        let q = self
            .reg
            .get(account, &ctx.region, &i.queue_name)
            .ok_or_else(SqsError::no_queue)?;
        Ok(json!({"QueueUrl": self.url(ctx, &q)}))
    }

    pub(crate) async fn list_queues(&self, ctx: &RequestContext, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct I {
            #[serde(default)]
            queue_name_prefix: Option<String>,
            #[serde(default)]
            max_results: Option<i64>,
            #[serde(default)]
            next_token: Option<String>,
        }
        let i: I = parse(input)?;
        let prefix = i.queue_name_prefix.unwrap_or_default();
        let after = match i.next_token {
            Some(t) => Some(decode_token(&t)?),
            None => None,
        };
        let limit = match i.max_results {
            None => 1000,
            Some(n @ 1..=1000) => n as usize,
            Some(n) => {
                return Err(SqsError::invalid_value(
                    "MaxResults",
                    n,
                    "MaxResults must be an integer between 1 and 1000.",
                ));
            }
        };
        let queues: Vec<_> = self
            .reg
            .list(&ctx.account_id, &ctx.region)
            .into_iter()
            .filter(|q| q.name.starts_with(&prefix))
            .filter(|q| after.as_deref().is_none_or(|a| q.name.as_str() > a))
            .collect();
        let page: Vec<String> = queues
            .iter()
            .take(limit)
            .map(|q| self.url(ctx, q))
            .collect();
        let mut out = serde_json::Map::new();
        if !page.is_empty() {
            out.insert("QueueUrls".into(), json!(page));
        }
        if i.max_results.is_some() && queues.len() > limit {
            out.insert(
                "NextToken".into(),
                json!(B64.encode(&queues[limit - 1].name)),
            );
        }
        Ok(Value::Object(out))
    }

    pub(crate) async fn delete_queue(&self, ctx: &RequestContext, input: Value) -> Out {
        let q = self.queue(ctx, &input)?;
        commit(self.reg.remove(&q)).await?;
        Ok(json!({}))
    }

    pub(crate) async fn purge_queue(&self, ctx: &RequestContext, input: Value) -> Out {
        let q = self.queue(ctx, &input)?;
        let now = clock::now_millis();
        let c = {
            let mut st = q.lock();
            if st.last_purge_ms.is_some_and(|t| now - t < 60_000) {
                return Err(SqsError::new(
                    Code::PurgeQueueInProgress,
                    format!(
                        "Only one PurgeQueue operation on {} is allowed every 60 seconds.",
                        q.name
                    ),
                ));
            }
            st.last_purge_ms = Some(now);
            let gone: Vec<u64> = st.drain().iter().map(|m| m.seq).collect();
            self.reg.save_messages(&q, [], gone)
        };
        commit(c).await?;
        Ok(json!({}))
    }

    pub(crate) async fn get_queue_attributes(&self, ctx: &RequestContext, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct I {
            #[serde(default)]
            attribute_names: Vec<String>,
        }
        let q = self.queue(ctx, &input)?;
        let i: I = parse(input)?;
        let all = self.queue_attributes(&q);
        let mut out = serde_json::Map::new();
        let want_all = i.attribute_names.iter().any(|n| n == "All");
        for n in &i.attribute_names {
            if n != "All" && !KNOWN_ATTRIBUTES.contains(&n.as_str()) {
                return Err(SqsError::new(
                    Code::InvalidAttributeName,
                    format!("Unknown Attribute {n}."),
                ));
            }
        }
        for (k, v) in all {
            if want_all || i.attribute_names.iter().any(|n| n == k) {
                out.insert(k.to_string(), Value::String(v));
            }
        }
        if out.is_empty() {
            return Ok(json!({}));
        }
        Ok(json!({"Attributes": out}))
    }

    /// Every attribute GetQueueAttributes can show, computed now.
    pub(crate) fn queue_attributes(&self, q: &Queue) -> BTreeMap<&'static str, String> {
        let mut st = q.lock();
        st.tick(clock::now_millis());
        let mut m = st.config.to_map();
        let (visible, inflight, delayed) = st.counts();
        m.insert("QueueArn", q.arn.clone());
        m.insert("ApproximateNumberOfMessages", visible.to_string());
        m.insert(
            "ApproximateNumberOfMessagesNotVisible",
            inflight.to_string(),
        );
        m.insert("ApproximateNumberOfMessagesDelayed", delayed.to_string());
        m.insert("CreatedTimestamp", st.created_s.to_string());
        m.insert("LastModifiedTimestamp", st.modified_s.to_string());
        m
    }

    pub(crate) async fn set_queue_attributes(&self, ctx: &RequestContext, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct I {
            #[serde(default)]
            attributes: BTreeMap<String, String>,
        }
        let q = self.queue(ctx, &input)?;
        let i: I = parse(input)?;
        let mut config = q.lock().config.clone();
        config.apply(&i.attributes, false)?;
        self.check_redrive(&q.arn, &config)?;
        let c = {
            let mut st = q.lock();
            st.config = config;
            st.modified_s = clock::now_secs();
            self.reg.save_queue(&q, &st)
        };
        q.notify.notify_waiters();
        commit(c).await?;
        Ok(json!({}))
    }

    pub(crate) async fn tag_queue(&self, ctx: &RequestContext, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct I {
            #[serde(default)]
            tags: BTreeMap<String, String>,
        }
        let q = self.queue(ctx, &input)?;
        let i: I = parse(input)?;
        if i.tags.is_empty() {
            return Err(SqsError::missing("Tags"));
        }
        let c = {
            let mut st = q.lock();
            let mut tags = st.tags.clone();
            tags.extend(i.tags);
            check_tags(&tags)?;
            st.tags = tags;
            self.reg.save_queue(&q, &st)
        };
        commit(c).await?;
        Ok(json!({}))
    }

    pub(crate) async fn untag_queue(&self, ctx: &RequestContext, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct I {
            #[serde(default)]
            tag_keys: Vec<String>,
        }
        let q = self.queue(ctx, &input)?;
        let i: I = parse(input)?;
        if i.tag_keys.is_empty() {
            return Err(SqsError::missing("TagKeys"));
        }
        let c = {
            let mut st = q.lock();
            for k in &i.tag_keys {
                st.tags.remove(k);
            }
            self.reg.save_queue(&q, &st)
        };
        commit(c).await?;
        Ok(json!({}))
    }

    pub(crate) async fn list_queue_tags(&self, ctx: &RequestContext, input: Value) -> Out {
        let q = self.queue(ctx, &input)?;
        let tags = q.lock().tags.clone();
        if tags.is_empty() {
            return Ok(json!({}));
        }
        Ok(json!({"Tags": tags}))
    }

    pub(crate) async fn list_dead_letter_source_queues(
        &self,
        ctx: &RequestContext,
        input: Value,
    ) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct I {
            #[serde(default)]
            max_results: Option<i64>,
            #[serde(default)]
            next_token: Option<String>,
        }
        let dlq = self.queue(ctx, &input)?;
        let i: I = parse(input)?;
        let after = i.next_token.as_deref().map(decode_token).transpose()?;
        let limit = match i.max_results {
            None => 1000,
            Some(n @ 1..=1000) => n as usize,
            Some(n) => {
                return Err(SqsError::invalid_value(
                    "MaxResults",
                    n,
                    "MaxResults must be an integer between 1 and 1000.",
                ));
            }
        };
        let sources: Vec<_> = self
            .reg
            .list(&dlq.account, &dlq.region)
            .into_iter()
            .filter(|q| {
                q.lock()
                    .config
                    .redrive()
                    .is_some_and(|r| r.dead_letter_target_arn == dlq.arn)
            })
            .filter(|q| after.as_deref().is_none_or(|a| q.name.as_str() > a))
            .collect();
        let urls: Vec<String> = sources
            .iter()
            .take(limit)
            .map(|q| self.url(ctx, q))
            .collect();
        let mut out = json!({"queueUrls": urls});
        if i.max_results.is_some() && sources.len() > limit {
            out["NextToken"] = json!(B64.encode(&sources[limit - 1].name));
        }
        Ok(out)
    }

    pub(crate) async fn add_permission(&self, ctx: &RequestContext, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct I {
            label: String,
            #[serde(default, rename = "AWSAccountIds")]
            accounts: Vec<String>,
            #[serde(default)]
            actions: Vec<String>,
        }
        let q = self.queue(ctx, &input)?;
        let i: I = parse(input)?;
        if i.accounts.is_empty() {
            return Err(SqsError::missing("AWSAccountIds"));
        }
        if i.actions.is_empty() {
            return Err(SqsError::missing("Actions"));
        }
        let c = {
            let mut st = q.lock();
            let mut policy: Value = st
                .config
                .policy
                .as_deref()
                .and_then(|p| serde_json::from_str(p).ok())
                .unwrap_or_else(|| json!({"Version": "2012-10-17", "Id": format!("{}/SQSDefaultPolicy", q.arn), "Statement": []}));
            let statements = policy["Statement"].as_array().cloned().unwrap_or_default();
            if statements.iter().any(|s| s["Sid"] == i.label.as_str()) {
                return Err(SqsError::invalid_value(
                    "Label",
                    &i.label,
                    "Already exists.",
                ));
            }
            let principals: Vec<String> = i
                .accounts
                .iter()
                .map(|a| format!("arn:aws:iam::{a}:root"))
                .collect();
            let actions: Vec<String> = i.actions.iter().map(|a| format!("SQS:{a}")).collect();
            let mut statements = statements;
            statements.push(json!({
                "Sid": i.label,
                "Effect": "Allow",
                "Principal": {"AWS": if principals.len() == 1 { json!(principals[0]) } else { json!(principals) }},
                "Action": if actions.len() == 1 { json!(actions[0]) } else { json!(actions) },
                "Resource": q.arn,
            }));
            policy["Statement"] = Value::Array(statements);
            st.config.policy = Some(policy.to_string());
            self.reg.save_queue(&q, &st)
        };
        commit(c).await?;
        Ok(json!({}))
    }

    pub(crate) async fn remove_permission(&self, ctx: &RequestContext, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct I {
            label: String,
        }
        let q = self.queue(ctx, &input)?;
        let i: I = parse(input)?;
        let c = {
            let mut st = q.lock();
            let mut policy: Value = st
                .config
                .policy
                .as_deref()
                .and_then(|p| serde_json::from_str(p).ok())
                .unwrap_or(Value::Null);
            let mut statements = policy["Statement"].as_array().cloned().unwrap_or_default();
            let before = statements.len();
            statements.retain(|s| s["Sid"] != i.label.as_str());
            if statements.len() == before {
                return Err(SqsError::invalid_value(
                    "Label",
                    &i.label,
                    "can't find label on existing policy.",
                ));
            }
            st.config.policy = if statements.is_empty() {
                None
            } else {
                policy["Statement"] = Value::Array(statements);
                Some(policy.to_string())
            };
            self.reg.save_queue(&q, &st)
        };
        commit(c).await?;
        Ok(json!({}))
    }
}

const KNOWN_ATTRIBUTES: &[&str] = &[
    "Policy",
    "VisibilityTimeout",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
    "QueueArn",
    "ApproximateNumberOfMessagesDelayed",
    "DelaySeconds",
    "ReceiveMessageWaitTimeSeconds",
    "RedrivePolicy",
    "FifoQueue",
    "ContentBasedDeduplication",
    "KmsMasterKeyId",
    "KmsDataKeyReusePeriodSeconds",
    "DeduplicationScope",
    "FifoThroughputLimit",
    "RedriveAllowPolicy",
    "SqsManagedSseEnabled",
];

fn decode_token(t: &str) -> Result<String> {
    B64.decode(t)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| SqsError::invalid("Invalid NextToken value."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_names() {
        assert!(check_name("orders", false).is_ok());
        assert!(check_name("orders.fifo", false).is_err());
        assert!(check_name("orders.fifo", true).is_ok());
        assert!(check_name(".fifo", true).is_err());
        assert!(check_name(&"a".repeat(81), false).is_err());
        assert!(check_name("a b", false).is_err());
    }
}
