//! Account-level answers (limits, the throughput billing commitment), tags on streams and
//! consumers, and resource policies.

use std::collections::BTreeMap;

use aloft_core::clock;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{KinesisError, Result};
use crate::state::{Stream, scoped};
use crate::streams::{ON_DEMAND_STREAM_LIMIT, SHARD_LIMIT, parse_stream_arn};
use crate::{Kinesis, Out, commit, parse};

const MAX_TAGS: usize = 50;

fn tag_list(tags: &BTreeMap<String, String>) -> Vec<Value> {
    tags.iter()
        .map(|(k, v)| json!({"Key": k, "Value": v}))
        .collect()
}

fn add_tags(
    tags: &mut BTreeMap<String, String>,
    new: BTreeMap<String, String>,
    what: &str,
) -> Result<()> {
    let total = tags.len() + new.keys().filter(|k| !tags.contains_key(*k)).count();
    if total > MAX_TAGS {
        return Err(KinesisError::invalid(format!(
            "Failed to add tags to {what}: a resource can have at most {MAX_TAGS} tags."
        )));
    }
    tags.extend(new);
    Ok(())
}

impl Kinesis {
    pub(crate) fn describe_limits(&self, a: &str, r: &str) -> Value {
        let prefix = format!("{a}/{r}/");
        let st = self.state.lock();
        let mine = || st.by_key.iter().filter(|(k, _)| k.starts_with(&prefix));
        json!({
            "ShardLimit": SHARD_LIMIT,
            "OpenShardCount": mine().map(|(_, s)| s.open_shards()).sum::<usize>(),
            "OnDemandStreamCount": mine().filter(|(_, s)| s.mode == "ON_DEMAND").count(),
            "OnDemandStreamCountLimit": ON_DEMAND_STREAM_LIMIT,
        })
    }

    pub(crate) fn describe_account_settings(&self, a: &str) -> Value {
        let st = self.state.lock();
        commitment_json(st.accounts.get(a).and_then(|x| x.commitment))
    }

    pub(crate) async fn update_account_settings(&self, a: &str, input: Value) -> Out {
        let status = input
            .pointer("/MinimumThroughputBillingCommitment/Status")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let (out, c) = {
            let mut st = self.state.lock();
            let acct = st.accounts.entry(a.to_string()).or_default();
            match (status.as_str(), acct.commitment) {
                ("ENABLED", None) => acct.commitment = Some(clock::now_millis()),
                ("DISABLED", Some(started)) => {
                    // A commitment lasts at least a day once enabled.
                    if clock::now_millis() < started + 86_400_000 {
                        return Err(KinesisError::invalid(
                            "The minimum throughput billing commitment cannot be disabled before its earliest allowed end.",
                        ));
                    }
                    acct.commitment = None;
                }
                _ => {}
            }
            let acct = acct.clone();
            (
                commitment_json(acct.commitment),
                self.state.save_account(a, &acct),
            )
        };
        commit(c).await?;
        Ok(out)
    }

    pub(crate) async fn add_tags_to_stream(&self, a: &str, r: &str, input: Value) -> Out {
        let tags: BTreeMap<String, String> = input
            .get("Tags")
            .cloned()
            .map(parse)
            .transpose()?
            .unwrap_or_default();
        if tags.len() > 10 {
            return Err(KinesisError::invalid(
                "Failed to add tags: at most 10 tags can be added in one call.",
            ));
        }
        self.mutate(a, r, &input, |s, _| {
            let what = format!("stream {} under account {}", s.name, s.account);
            add_tags(&mut s.tags, tags, &what)?;
            Ok(json!({}))
        })
        .await
    }

    pub(crate) async fn remove_tags_from_stream(&self, a: &str, r: &str, input: Value) -> Out {
        let keys: Vec<String> = input
            .get("TagKeys")
            .cloned()
            .map(parse)
            .transpose()?
            .unwrap_or_default();
        self.mutate(a, r, &input, |s, _| {
            for k in &keys {
                s.tags.remove(k);
            }
            Ok(json!({}))
        })
        .await
    }

    pub(crate) fn list_tags_for_stream(&self, a: &str, r: &str, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            exclusive_start_tag_key: Option<String>,
            limit: Option<usize>,
        }
        let i: In = parse(input.clone())?;
        let limit = i.limit.unwrap_or(50);
        self.read(a, r, &input, |s| {
            let rest: Vec<(&String, &String)> = s
                .tags
                .iter()
                .filter(|(k, _)| {
                    i.exclusive_start_tag_key
                        .as_ref()
                        .is_none_or(|x| k.as_str() > x.as_str())
                })
                .collect();
            Ok(json!({
                "Tags": rest.iter().take(limit).map(|(k, v)| json!({"Key": k, "Value": v})).collect::<Vec<_>>(),
                "HasMoreTags": rest.len() > limit,
            }))
        })
    }

    /// Runs `f` on the tags of a stream or consumer ARN.
    async fn with_resource_tags<T>(
        &self,
        arn: &str,
        f: impl FnOnce(&mut BTreeMap<String, String>) -> Result<T>,
    ) -> Result<T> {
        self.with_resource(arn, |s| f(resource_tags(s, arn)?)).await
    }

    pub(crate) async fn tag_resource(&self, _a: &str, _r: &str, input: Value) -> Out {
        let arn = arn_of(&input)?;
        let tags: BTreeMap<String, String> = input
            .get("Tags")
            .cloned()
            .map(parse)
            .transpose()?
            .unwrap_or_default();
        self.with_resource_tags(&arn, |t| add_tags(t, tags, &arn))
            .await?;
        Ok(json!({}))
    }

    pub(crate) async fn untag_resource(&self, _a: &str, _r: &str, input: Value) -> Out {
        let arn = arn_of(&input)?;
        let keys: Vec<String> = input
            .get("TagKeys")
            .cloned()
            .map(parse)
            .transpose()?
            .unwrap_or_default();
        self.with_resource_tags(&arn, |t| {
            for k in &keys {
                t.remove(k);
            }
            Ok(())
        })
        .await?;
        Ok(json!({}))
    }

    pub(crate) fn list_tags_for_resource(&self, _a: &str, _r: &str, input: Value) -> Out {
        let arn = arn_of(&input)?;
        let (acct, region, name) = resource_stream(&arn)?;
        let mut st = self.state.lock();
        let s = st
            .by_key
            .get_mut(&scoped(&acct, &region, &name))
            .ok_or_else(|| KinesisError::stream_not_found(&name, &acct))?;
        Ok(json!({"Tags": tag_list(resource_tags(s, &arn)?)}))
    }

    pub(crate) async fn put_resource_policy(&self, _a: &str, _r: &str, input: Value) -> Out {
        let arn = arn_of(&input)?;
        let policy = input
            .get("Policy")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        if serde_json::from_str::<Value>(&policy).map_or(true, |v| !v.is_object()) {
            return Err(KinesisError::invalid(
                "Policy is not a valid JSON document.",
            ));
        }
        self.with_policies(&arn, |s| {
            s.policies.insert(arn.clone(), policy);
            Ok(json!({}))
        })
        .await
    }

    pub(crate) fn get_resource_policy(&self, _a: &str, _r: &str, input: Value) -> Out {
        let arn = arn_of(&input)?;
        let (acct, region, name) = resource_stream(&arn)?;
        let st = self.state.lock();
        let s = st
            .by_key
            .get(&scoped(&acct, &region, &name))
            .ok_or_else(|| KinesisError::stream_not_found(&name, &acct))?;
        // AWS answers an empty policy document when none is attached.
        Ok(json!({"Policy": s.policies.get(&arn).cloned().unwrap_or_else(|| "{}".into())}))
    }

    pub(crate) async fn delete_resource_policy(&self, _a: &str, _r: &str, input: Value) -> Out {
        let arn = arn_of(&input)?;
        self.with_policies(&arn, |s| {
            if s.policies.remove(&arn).is_none() {
                return Err(KinesisError::not_found(format!(
                    "No resource policy found for resource ARN {arn}."
                )));
            }
            Ok(json!({}))
        })
        .await
    }

    async fn with_policies(&self, arn: &str, f: impl FnOnce(&mut Stream) -> Out) -> Out {
        self.with_resource(arn, |s| {
            resource_tags(s, arn)?;
            f(s)
        })
        .await
    }

    /// Changes the stream that owns the stream or consumer ARN `arn`, and journals it.
    async fn with_resource<T>(
        &self,
        arn: &str,
        f: impl FnOnce(&mut Stream) -> Result<T>,
    ) -> Result<T> {
        let (acct, region, name) = resource_stream(arn)?;
        self.mutate_at(&acct, &region, &name, |s, _| f(s)).await
    }
}

/// The stream a resource ARN (the stream's or a consumer's) belongs to.
fn resource_stream(arn: &str) -> Result<(String, String, String)> {
    parse_stream_arn(arn).ok_or_else(|| {
        KinesisError::invalid(format!("ResourceARN {arn} is not a valid Kinesis ARN."))
    })
}

fn arn_of(input: &Value) -> Result<String> {
    input
        .get("ResourceARN")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| KinesisError::invalid("ResourceARN is required."))
}

/// The tags of the stream itself or of one of its consumers, by ARN.
fn resource_tags<'a>(s: &'a mut Stream, arn: &str) -> Result<&'a mut BTreeMap<String, String>> {
    if arn == s.arn {
        return Ok(&mut s.tags);
    }
    let account = s.account.clone();
    s.consumers
        .iter_mut()
        .find(|c| c.arn == arn)
        .map(|c| &mut c.tags)
        .ok_or_else(|| {
            KinesisError::not_found(format!("Resource {arn} under account {account} not found."))
        })
}

fn commitment_json(started: Option<i64>) -> Value {
    match started {
        Some(ms) => json!({"MinimumThroughputBillingCommitment": {
            "Status": "ENABLED",
            "StartedAt": ms as f64 / 1000.0,
            "EarliestAllowedEndAt": (ms + 86_400_000) as f64 / 1000.0,
        }}),
        None => json!({"MinimumThroughputBillingCommitment": {"Status": "DISABLED"}}),
    }
}
