//! Enhanced fan-out consumers: register, deregister, describe, list. A consumer is ACTIVE
//! as soon as its registration is answered (the answer itself says CREATING, as AWS's does).
//! SubscribeToShard is in `subscribe.rs`.

use std::collections::BTreeMap;

use aloft_core::clock;
use serde_json::{Value, json};

use crate::error::{KinesisError, Result};
use crate::keys;
use crate::state::{Consumer, Stream, scoped};
use crate::streams::parse_stream_arn;
use crate::{Kinesis, Out, parse};

const MAX_CONSUMERS: usize = 20;

fn consumer_json(c: &Consumer, status: &str) -> Value {
    json!({
        "ConsumerName": c.name,
        "ConsumerARN": c.arn,
        "ConsumerStatus": status,
        "ConsumerCreationTimestamp": c.created_ms as f64 / 1000.0,
    })
}

/// The consumer an input names: StreamARN + ConsumerName, or ConsumerARN.
struct ConsumerRef {
    account: String,
    region: String,
    stream: String,
    name: Option<String>,
    arn: Option<String>,
}

fn target(input: &Value) -> Result<ConsumerRef> {
    let arn = input.get("ConsumerARN").and_then(Value::as_str);
    let stream = input
        .get("StreamARN")
        .and_then(Value::as_str)
        .or(arn)
        .ok_or_else(|| {
            KinesisError::invalid(
                "Either ConsumerARN or both StreamARN and ConsumerName must be provided.",
            )
        })?;
    let (acct, region, name) = parse_stream_arn(stream)
        .ok_or_else(|| KinesisError::invalid(format!("{stream} is not a valid stream ARN.")))?;
    let consumer = input
        .get("ConsumerName")
        .and_then(Value::as_str)
        .map(str::to_string);
    if arn.is_none() && consumer.is_none() {
        return Err(KinesisError::invalid(
            "Either ConsumerARN or both StreamARN and ConsumerName must be provided.",
        ));
    }
    Ok(ConsumerRef {
        account: acct,
        region,
        stream: name,
        name: consumer,
        arn: arn.map(str::to_string),
    })
}

fn find<'a>(s: &'a Stream, name: Option<&str>, arn: Option<&str>) -> Result<&'a Consumer> {
    s.consumers
        .iter()
        .find(|c| name.is_none_or(|n| c.name == n) && arn.is_none_or(|a| c.arn == a))
        .ok_or_else(|| {
            KinesisError::not_found(format!(
                "Consumer {} under stream {} not found.",
                arn.or(name).unwrap_or_default(),
                s.arn
            ))
        })
}

impl Kinesis {
    pub(crate) async fn register_stream_consumer(&self, a: &str, r: &str, input: Value) -> Out {
        let name = input
            .get("ConsumerName")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let tags: BTreeMap<String, String> = input
            .get("Tags")
            .cloned()
            .map(parse)
            .transpose()?
            .unwrap_or_default();
        let now = clock::now_millis();
        self.mutate(a, r, &input, |s, _| {
            if s.consumers.iter().any(|c| c.name == name) {
                return Err(KinesisError::in_use(format!(
                    "Consumer {name} under stream {} already exists for account {}.",
                    s.arn, s.account
                )));
            }
            if s.consumers.len() >= MAX_CONSUMERS {
                return Err(KinesisError::limit(format!(
                    "Stream {} under account {} already has {MAX_CONSUMERS} registered consumers.",
                    s.name, s.account
                )));
            }
            let c = Consumer {
                arn: format!("{}/consumer/{name}:{}", s.arn, now / 1000),
                name,
                created_ms: now,
                tags,
            };
            let out = json!({"Consumer": consumer_json(&c, "CREATING")});
            s.consumers.push(c);
            Ok(out)
        })
        .await
    }

    pub(crate) async fn deregister_stream_consumer(&self, _a: &str, _r: &str, input: Value) -> Out {
        let ConsumerRef {
            account: acct,
            region,
            stream,
            name,
            arn,
        } = target(&input)?;
        self.mutate_at(&acct, &region, &stream, |s, _| {
            let found = find(s, name.as_deref(), arn.as_deref())?.arn.clone();
            s.consumers.retain(|c| c.arn != found);
            s.policies.remove(&found);
            Ok(json!({}))
        })
        .await
    }

    pub(crate) fn describe_stream_consumer(&self, _a: &str, _r: &str, input: Value) -> Out {
        let ConsumerRef {
            account: acct,
            region,
            stream,
            name,
            arn,
        } = target(&input)?;
        let st = self.state.lock();
        let s = st
            .by_key
            .get(&scoped(&acct, &region, &stream))
            .ok_or_else(|| KinesisError::stream_not_found(&stream, &acct))?;
        let c = find(s, name.as_deref(), arn.as_deref())?;
        let mut d = consumer_json(c, "ACTIVE");
        d["StreamARN"] = json!(s.arn);
        Ok(json!({"ConsumerDescription": d}))
    }

    pub(crate) fn list_stream_consumers(&self, a: &str, r: &str, input: Value) -> Out {
        let max = input
            .get("MaxResults")
            .and_then(Value::as_u64)
            .map_or(100, |m| usize::try_from(m).unwrap_or(100));
        let after = match input.get("NextToken").and_then(Value::as_str) {
            Some(t) => {
                let (parts, _) = keys::decode_token(t)
                    .ok_or_else(|| KinesisError::invalid("Invalid NextToken."))?;
                parts.into_iter().next()
            }
            None => None,
        };
        self.read(a, r, &input, |s| {
            let rest: Vec<&Consumer> = s
                .consumers
                .iter()
                .skip_while(|c| after.as_ref().is_some_and(|x| &c.name != x))
                .skip(usize::from(after.is_some()))
                .collect();
            let mut out = json!({
                "Consumers": rest.iter().take(max).map(|c| consumer_json(c, "ACTIVE")).collect::<Vec<_>>(),
            });
            if rest.len() > max {
                out["NextToken"] = json!(keys::encode_token(
                    &[&rest[max - 1].name],
                    clock::now_millis()
                ));
            }
            Ok(out)
        })
    }
}
