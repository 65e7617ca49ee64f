//! Subscriptions: subscribe (with the HTTP confirmation round trip), confirm, unsubscribe,
//! list, attributes (filter policies, raw delivery, redrive policies).

use std::collections::BTreeMap;

use aloft_core::RequestContext;
use aloft_eventpattern::Dialect;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{Result, SnsError};
use crate::state::Subscription;
use crate::topics::paginate;
use crate::{Out, Sns, commit, parse};

const SUB_ATTRIBUTES: &[&str] = &[
    "DeliveryPolicy",
    "FilterPolicy",
    "FilterPolicyScope",
    "RawMessageDelivery",
    "RedrivePolicy",
    "SubscriptionRoleArn",
    "ReplayPolicy",
];

fn check_endpoint(protocol: &str, endpoint: &str) -> Result<()> {
    let ok = match protocol {
        "sqs" => endpoint.starts_with("arn:aws:sqs:"),
        "lambda" => endpoint.starts_with("arn:aws:lambda:"),
        "firehose" => endpoint.starts_with("arn:aws:firehose:"),
        "application" => endpoint.starts_with("arn:aws:sns:"),
        "http" => endpoint.starts_with("http://"),
        "https" => endpoint.starts_with("https://"),
        "email" | "email-json" => endpoint.contains('@'),
        "sms" => {
            let digits = endpoint.trim_start_matches('+');
            !digits.is_empty() && digits.len() <= 15 && digits.bytes().all(|b| b.is_ascii_digit())
        }
        _ => {
            return Err(SnsError::invalid(format!(
                "Invalid protocol type: {protocol}"
            )));
        }
    };
    if ok {
        Ok(())
    } else {
        Err(SnsError::invalid(format!(
            "{} endpoint",
            endpoint_name(protocol)
        )))
    }
}

fn endpoint_name(protocol: &str) -> &'static str {
    match protocol {
        "sqs" => "SQS",
        "lambda" => "Lambda",
        "http" | "https" => "Unreachable Endpoint",
        "email" | "email-json" => "Email address",
        "sms" => "SMS",
        _ => "Endpoint",
    }
}

fn check_sub_attribute(name: &str, value: &str, protocol: &str) -> Result<()> {
    if !SUB_ATTRIBUTES.contains(&name) {
        return Err(SnsError::invalid(format!("AttributeName: {name}")));
    }
    match name {
        "RawMessageDelivery" => {
            if !matches!(value.to_ascii_lowercase().as_str(), "true" | "false") {
                return Err(SnsError::invalid("RawMessageDelivery: Invalid value"));
            }
            if matches!(
                protocol,
                "email" | "email-json" | "sms" | "lambda" | "application"
            ) && value.eq_ignore_ascii_case("true")
            {
                return Err(SnsError::invalid(format!(
                    "Delivery protocol [{protocol}] does not support raw message delivery."
                )));
            }
        }
        "FilterPolicy" if !value.is_empty() => {
            aloft_eventpattern::parse(value, Dialect::Sns)
                .map_err(|e| SnsError::invalid(format!("FilterPolicy: {e}")))?;
        }
        "FilterPolicyScope" if !matches!(value, "MessageAttributes" | "MessageBody") => {
            return Err(SnsError::invalid(
                "FilterPolicyScope: Invalid filter policy scope, please specify MessageAttributes or MessageBody",
            ));
        }
        "RedrivePolicy" if !value.is_empty() => {
            let ok = serde_json::from_str::<Value>(value)
                .ok()
                .and_then(|v| {
                    v.get("deadLetterTargetArn")?
                        .as_str()
                        .map(|s| s.starts_with("arn:aws:sqs:"))
                })
                .unwrap_or(false);
            if !ok {
                return Err(SnsError::invalid(
                    "RedrivePolicy: deadLetterTargetArn is invalid",
                ));
            }
        }
        _ => {}
    }
    Ok(())
}

impl Sns {
    pub(crate) async fn subscribe(&self, ctx: &RequestContext, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct I {
            topic_arn: String,
            protocol: String,
            #[serde(default)]
            endpoint: Option<String>,
            #[serde(default)]
            attributes: BTreeMap<String, String>,
            #[serde(default)]
            return_subscription_arn: Option<bool>,
        }
        let i: I = parse(input)?;
        let protocol = i.protocol.to_ascii_lowercase();
        let endpoint = i.endpoint.unwrap_or_default();
        check_endpoint(&protocol, &endpoint)?;
        for (k, v) in &i.attributes {
            check_sub_attribute(k, v, &protocol)?;
        }
        let topic = self.topic(&i.topic_arn)?;
        if topic.fifo && !matches!(protocol.as_str(), "sqs" | "lambda" | "firehose") {
            return Err(SnsError::invalid(format!(
                "Invalid parameter: Endpoint Reason: FIFO topic only supports sqs, lambda and firehose protocols, got {protocol}"
            )));
        }
        // Confirmation is needed where AWS cannot assume the endpoint's consent.
        let needs_confirmation =
            matches!(protocol.as_str(), "http" | "https" | "email" | "email-json");
        let (sub, c, existing) = {
            let mut m = self.state.write();
            if let Some(s) = m.subs.values().find(|s| {
                s.topic_arn == topic.arn && s.protocol == protocol && s.endpoint == endpoint
            }) {
                if i.attributes
                    .iter()
                    .any(|(k, v)| s.attributes.get(k).is_some_and(|e| e != v))
                {
                    return Err(SnsError::invalid(
                        "Attributes: Subscription already exists with different attributes",
                    ));
                }
                let s = s.clone();
                (s, aloft_store::Commit::done(), true)
            } else {
                let s = Subscription {
                    arn: format!("{}:{}", topic.arn, aloft_core::ids::uuid()),
                    topic_arn: topic.arn.clone(),
                    owner: ctx.account_id.clone(),
                    protocol: protocol.clone(),
                    endpoint: endpoint.clone(),
                    confirmed: !needs_confirmation,
                    token: aloft_core::ids::hex(64),
                    attributes: i.attributes,
                };
                let c = self.state.save_sub(&s);
                m.subs.insert(s.arn.clone(), s.clone());
                (s, c, false)
            }
        };
        commit(c).await?;
        if !sub.confirmed && !existing {
            self.request_confirmation(&sub, &ctx.base_url);
        }
        let arn = if sub.confirmed || i.return_subscription_arn == Some(true) {
            sub.arn
        } else {
            "pending confirmation".to_string()
        };
        Ok(json!({"SubscriptionArn": arn}))
    }

    pub(crate) async fn confirm_subscription(&self, _ctx: &RequestContext, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct I {
            topic_arn: String,
            token: String,
        }
        let i: I = parse(input)?;
        self.topic(&i.topic_arn)?;
        let arn = self.confirm(&i.topic_arn, &i.token).await?;
        Ok(json!({"SubscriptionArn": arn}))
    }

    /// Confirms the subscription a token was sent for (API call or the SubscribeURL).
    pub(crate) async fn confirm(&self, topic_arn: &str, token: &str) -> Result<String> {
        let (arn, c) = {
            let mut m = self.state.write();
            let s = m
                .subs
                .values_mut()
                .find(|s| s.topic_arn == topic_arn && s.token == token)
                .ok_or_else(|| SnsError::invalid("Token"))?;
            s.confirmed = true;
            (s.arn.clone(), self.state.save_sub(s))
        };
        commit(c).await?;
        Ok(arn)
    }

    pub(crate) async fn unsubscribe(&self, _ctx: &RequestContext, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct I {
            subscription_arn: String,
        }
        let i: I = parse(input)?;
        let c = {
            let mut m = self.state.write();
            let s = m
                .subs
                .remove(&i.subscription_arn)
                .ok_or_else(SnsError::subscription_not_found)?;
            if let Some(t) = m.topics.get_mut(&s.topic_arn) {
                t.deleted_subscriptions += 1;
            }
            self.state.delete(&[], std::slice::from_ref(&s.arn))
        };
        commit(c).await?;
        Ok(json!({}))
    }

    fn list_subs(&self, ctx: &RequestContext, topic: Option<&str>, token: Option<&str>) -> Out {
        let m = self.state.read();
        let mut subs: Vec<&Subscription> = m
            .subs
            .values()
            .filter(|s| topic.map_or(s.owner == ctx.account_id, |t| s.topic_arn == t))
            .filter(|s| topic.is_some() || s.topic_arn.contains(&format!(":{}:", ctx.region)))
            .collect();
        subs.sort_by(|a, b| a.arn.cmp(&b.arn));
        let arns: Vec<String> = subs.iter().map(|s| s.arn.clone()).collect();
        let (page, next) = paginate(arns, token, 100)?;
        let list: Vec<Value> = page
            .iter()
            .filter_map(|a| m.subs.get(a))
            .map(|s| {
                json!({
                    "SubscriptionArn": if s.confirmed { s.arn.as_str() } else { "PendingConfirmation" },
                    "Owner": s.owner, "Protocol": s.protocol, "Endpoint": s.endpoint, "TopicArn": s.topic_arn,
                })
            })
            .collect();
        let mut out = json!({"Subscriptions": list});
        if let Some(n) = next {
            out["NextToken"] = json!(n);
        }
        Ok(out)
    }

    pub(crate) async fn list_subscriptions(&self, ctx: &RequestContext, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct I {
            #[serde(default)]
            next_token: Option<String>,
        }
        let i: I = parse(input)?;
        self.list_subs(ctx, None, i.next_token.as_deref())
    }

    pub(crate) async fn list_subscriptions_by_topic(
        &self,
        ctx: &RequestContext,
        input: Value,
    ) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct I {
            topic_arn: String,
            #[serde(default)]
            next_token: Option<String>,
        }
        let i: I = parse(input)?;
        self.topic(&i.topic_arn)?;
        self.list_subs(ctx, Some(&i.topic_arn), i.next_token.as_deref())
    }

    pub(crate) async fn get_subscription_attributes(
        &self,
        _ctx: &RequestContext,
        input: Value,
    ) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct I {
            subscription_arn: String,
        }
        let i: I = parse(input)?;
        let m = self.state.read();
        let s = m
            .subs
            .get(&i.subscription_arn)
            .ok_or_else(SnsError::subscription_not_found)?;
        let mut a: BTreeMap<String, String> = BTreeMap::new();
        a.insert("SubscriptionArn".into(), s.arn.clone());
        a.insert("TopicArn".into(), s.topic_arn.clone());
        a.insert("Owner".into(), s.owner.clone());
        a.insert("Protocol".into(), s.protocol.clone());
        a.insert("Endpoint".into(), s.endpoint.clone());
        a.insert("PendingConfirmation".into(), (!s.confirmed).to_string());
        a.insert(
            "ConfirmationWasAuthenticated".into(),
            s.confirmed.to_string(),
        );
        a.insert("RawMessageDelivery".into(), s.raw().to_string());
        a.insert(
            "EffectiveDeliveryPolicy".into(),
            crate::topics::DEFAULT_DELIVERY_POLICY.into(),
        );
        if s.attributes.contains_key("FilterPolicy") {
            a.insert("FilterPolicyScope".into(), "MessageAttributes".into());
        }
        for (k, v) in &s.attributes {
            a.insert(k.clone(), v.clone());
        }
        Ok(json!({"Attributes": a}))
    }

    pub(crate) async fn set_subscription_attributes(
        &self,
        _ctx: &RequestContext,
        input: Value,
    ) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct I {
            subscription_arn: String,
            attribute_name: String,
            #[serde(default)]
            attribute_value: Option<String>,
        }
        let i: I = parse(input)?;
        let c = {
            let mut m = self.state.write();
            let s = m
                .subs
                .get_mut(&i.subscription_arn)
                .ok_or_else(SnsError::subscription_not_found)?;
            let v = i.attribute_value.unwrap_or_default();
            check_sub_attribute(&i.attribute_name, &v, &s.protocol)?;
            if v.is_empty() {
                s.attributes.remove(&i.attribute_name);
            } else {
                s.attributes.insert(i.attribute_name, v);
            }
            self.state.save_sub(s)
        };
        commit(c).await?;
        Ok(json!({}))
    }
}
