//! Topics: create, delete, list, attributes, tags.

use std::collections::BTreeMap;

use aloft_core::RequestContext;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{Code, Result, SnsError};
use crate::state::Topic;
use crate::{Out, Sns, commit, parse};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    pub key: String,
    pub value: String,
}

/// Topic names: 1–256 of `[A-Za-z0-9_-]`, FIFO names ending in `.fifo`.
fn check_name(name: &str, fifo: bool) -> Result<()> {
    let stem = if fifo {
        name.strip_suffix(".fifo")
    } else {
        Some(name)
    };
    let ok = name.len() <= 256
        && stem.is_some_and(|s| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    if ok {
        Ok(())
    } else if fifo {
        Err(SnsError::invalid(
            "Topic Name: Fifo Topic names must end with .fifo and must be made up of only uppercase and lowercase ASCII letters, numbers, underscores, and hyphens, and must be between 1 and 256 characters long.",
        ))
    } else {
        Err(SnsError::invalid("Topic Name"))
    }
}

const SETTABLE: &[&str] = &[
    "DisplayName",
    "Policy",
    "DeliveryPolicy",
    "KmsMasterKeyId",
    "SignatureVersion",
    "TracingConfig",
    "ContentBasedDeduplication",
    "FifoTopic",
    "ArchivePolicy",
    "FifoThroughputScope",
    "DataProtectionPolicy",
];

fn check_attribute(name: &str, value: &str, fifo: bool) -> Result<()> {
    if !SETTABLE.contains(&name)
        && !name.ends_with("FeedbackRoleArn")
        && !name.ends_with("FeedbackSampleRate")
    {
        return Err(SnsError::invalid(format!("Attribute Name: {name}")));
    }
    match name {
        "ContentBasedDeduplication" if !fifo => Err(SnsError::invalid(
            "ContentBasedDeduplication: Content-based deduplication can only be set for FIFO topics",
        )),
        "ContentBasedDeduplication" | "FifoTopic" if !matches!(value, "true" | "false") => {
            Err(SnsError::invalid(format!("{name}: {value}")))
        }
        "SignatureVersion" if !matches!(value, "1" | "2") => {
            Err(SnsError::invalid("SignatureVersion: Invalid value"))
        }
        "Policy" | "DeliveryPolicy"
            if serde_json::from_str::<Value>(value).map_or(true, |v| !v.is_object()) =>
        {
            Err(SnsError::invalid(format!("{name}: Invalid JSON")))
        }
        _ => Ok(()),
    }
}

fn check_tags(tags: &BTreeMap<String, String>) -> Result<()> {
    if tags.len() > 50 {
        return Err(SnsError::new(
            Code::TagLimitExceeded,
            "Could not complete request: tag quota of per resource exceeded",
        ));
    }
    Ok(())
}

impl Sns {
    pub(crate) fn topic(&self, arn: &str) -> Result<Topic> {
        self.state
            .read()
            .topics
            .get(arn)
            .cloned()
            .ok_or_else(SnsError::topic_not_found)
    }

    pub(crate) async fn create_topic(&self, ctx: &RequestContext, input: Value) -> Out {
        self.signer.warm();
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct I {
            name: String,
            #[serde(default)]
            attributes: BTreeMap<String, String>,
            #[serde(default)]
            tags: Vec<Tag>,
        }
        let i: I = parse(input)?;
        let fifo = i.attributes.get("FifoTopic").is_some_and(|v| v == "true");
        check_name(&i.name, fifo)?;
        if !fifo && i.name.ends_with(".fifo") {
            return Err(SnsError::invalid("Topic Name"));
        }
        for (k, v) in &i.attributes {
            check_attribute(k, v, fifo)?;
        }
        let tags: BTreeMap<String, String> = i.tags.into_iter().map(|t| (t.key, t.value)).collect();
        check_tags(&tags)?;
        let arn = ctx.arn("sns", &i.name);
        let c = {
            let mut m = self.state.write();
            if let Some(existing) = m.topics.get(&arn) {
                // Same name again: idempotent unless the attributes differ.
                for (k, v) in &i.attributes {
                    if existing.attributes.get(k).is_some_and(|e| e != v) {
                        return Err(SnsError::invalid(
                            "Attributes: Topic already exists with different attributes",
                        ));
                    }
                }
                return Ok(json!({"TopicArn": arn}));
            }
            let t = Topic {
                arn: arn.clone(),
                name: i.name.clone(),
                account: ctx.account_id.clone(),
                region: ctx.region.clone(),
                fifo,
                attributes: i.attributes,
                tags,
                deleted_subscriptions: 0,
            };
            let c = self.state.save_topic(&t);
            m.topics.insert(arn.clone(), t);
            c
        };
        commit(c).await?;
        Ok(json!({"TopicArn": arn}))
    }

    pub(crate) async fn delete_topic(&self, _ctx: &RequestContext, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct I {
            topic_arn: String,
        }
        let i: I = parse(input)?;
        let c = {
            let mut m = self.state.write();
            // Deleting a topic that does not exist succeeds, as in AWS.
            if m.topics.remove(&i.topic_arn).is_none() {
                return Ok(json!({}));
            }
            let subs: Vec<String> = m
                .subs
                .values()
                .filter(|s| s.topic_arn == i.topic_arn)
                .map(|s| s.arn.clone())
                .collect();
            for s in &subs {
                m.subs.remove(s);
            }
            self.state.delete(std::slice::from_ref(&i.topic_arn), &subs)
        };
        commit(c).await?;
        Ok(json!({}))
    }

    pub(crate) async fn list_topics(&self, ctx: &RequestContext, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct I {
            #[serde(default)]
            next_token: Option<String>,
        }
        let i: I = parse(input)?;
        let mut arns: Vec<String> = self
            .state
            .read()
            .topics
            .values()
            .filter(|t| t.account == ctx.account_id && t.region == ctx.region)
            .map(|t| t.arn.clone())
            .collect();
        arns.sort();
        let (page, next) = paginate(arns, i.next_token.as_deref(), 100)?;
        let mut out =
            json!({"Topics": page.iter().map(|a| json!({"TopicArn": a})).collect::<Vec<_>>()});
        if let Some(n) = next {
            out["NextToken"] = json!(n);
        }
        Ok(out)
    }

    pub(crate) async fn get_topic_attributes(&self, _ctx: &RequestContext, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct I {
            topic_arn: String,
        }
        let i: I = parse(input)?;
        let t = self.topic(&i.topic_arn)?;
        let (confirmed, pending) = {
            let m = self.state.read();
            let subs = m.subs.values().filter(|s| s.topic_arn == t.arn);
            subs.fold(
                (0, 0),
                |(c, p), s| if s.confirmed { (c + 1, p) } else { (c, p + 1) },
            )
        };
        let mut a: BTreeMap<String, String> = BTreeMap::new();
        a.insert("TopicArn".into(), t.arn.clone());
        a.insert("Owner".into(), t.account.clone());
        a.insert("DisplayName".into(), String::new());
        a.insert("Policy".into(), default_policy(&t));
        a.insert("SubscriptionsConfirmed".into(), confirmed.to_string());
        a.insert("SubscriptionsPending".into(), pending.to_string());
        a.insert(
            "SubscriptionsDeleted".into(),
            t.deleted_subscriptions.to_string(),
        );
        a.insert(
            "EffectiveDeliveryPolicy".into(),
            DEFAULT_DELIVERY_POLICY.into(),
        );
        if t.fifo {
            a.insert("FifoTopic".into(), "true".into());
            a.insert("ContentBasedDeduplication".into(), "false".into());
        }
        for (k, v) in &t.attributes {
            a.insert(k.clone(), v.clone());
        }
        Ok(json!({"Attributes": a}))
    }

    pub(crate) async fn set_topic_attributes(&self, _ctx: &RequestContext, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct I {
            topic_arn: String,
            attribute_name: String,
            #[serde(default)]
            attribute_value: Option<String>,
        }
        let i: I = parse(input)?;
        let c = {
            let mut m = self.state.write();
            let t = m
                .topics
                .get_mut(&i.topic_arn)
                .ok_or_else(SnsError::topic_not_found)?;
            if i.attribute_name == "FifoTopic" {
                return Err(SnsError::invalid(
                    "AttributeName: FifoTopic cannot be changed",
                ));
            }
            let v = i.attribute_value.unwrap_or_default();
            check_attribute(&i.attribute_name, &v, t.fifo)?;
            t.attributes.insert(i.attribute_name, v);
            self.state.save_topic(t)
        };
        commit(c).await?;
        Ok(json!({}))
    }

    pub(crate) async fn tag_resource(&self, _ctx: &RequestContext, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct I {
            resource_arn: String,
            tags: Vec<Tag>,
        }
        let i: I = parse(input)?;
        let c = {
            let mut m = self.state.write();
            let t = m
                .topics
                .get_mut(&i.resource_arn)
                .ok_or_else(|| SnsError::new(Code::ResourceNotFound, "Resource does not exist"))?;
            let mut tags = t.tags.clone();
            tags.extend(i.tags.into_iter().map(|t| (t.key, t.value)));
            check_tags(&tags)?;
            t.tags = tags;
            self.state.save_topic(t)
        };
        commit(c).await?;
        Ok(json!({}))
    }

    pub(crate) async fn untag_resource(&self, _ctx: &RequestContext, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct I {
            resource_arn: String,
            tag_keys: Vec<String>,
        }
        let i: I = parse(input)?;
        let c = {
            let mut m = self.state.write();
            let t = m
                .topics
                .get_mut(&i.resource_arn)
                .ok_or_else(|| SnsError::new(Code::ResourceNotFound, "Resource does not exist"))?;
            for k in &i.tag_keys {
                t.tags.remove(k);
            }
            self.state.save_topic(t)
        };
        commit(c).await?;
        Ok(json!({}))
    }

    pub(crate) async fn list_tags_for_resource(&self, _ctx: &RequestContext, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct I {
            resource_arn: String,
        }
        let i: I = parse(input)?;
        let m = self.state.read();
        let t = m
            .topics
            .get(&i.resource_arn)
            .ok_or_else(|| SnsError::new(Code::ResourceNotFound, "Resource does not exist"))?;
        let tags: Vec<Value> = t
            .tags
            .iter()
            .map(|(k, v)| json!({"Key": k, "Value": v}))
            .collect();
        Ok(json!({"Tags": tags}))
    }
}

pub const DEFAULT_DELIVERY_POLICY: &str = r#"{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,"numRetries":3,"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"linear"},"disableSubscriptionOverrides":false,"defaultRequestPolicy":{"headerContentType":"text/plain; charset=UTF-8"}}}"#;

fn default_policy(t: &Topic) -> String {
    json!({
        "Version": "2008-10-17",
        "Id": "__default_policy_ID",
        "Statement": [{
            "Sid": "__default_statement_ID",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": ["SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission",
                       "SNS:RemovePermission", "SNS:DeleteTopic", "SNS:Subscribe",
                       "SNS:ListSubscriptionsByTopic", "SNS:Publish"],
            "Resource": t.arn,
            "Condition": {"StringEquals": {"AWS:SourceOwner": t.account}}
        }]
    })
    .to_string()
}

/// Pages a sorted list: the token is the index to resume from.
pub fn paginate(
    items: Vec<String>,
    token: Option<&str>,
    size: usize,
) -> Result<(Vec<String>, Option<String>)> {
    let start = match token {
        None => 0,
        Some(t) => t
            .parse::<usize>()
            .map_err(|_| SnsError::invalid("NextToken"))?,
    };
    let next = (items.len() > start + size).then(|| (start + size).to_string());
    Ok((items.into_iter().skip(start).take(size).collect(), next))
}
