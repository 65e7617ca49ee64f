//! Key policies (the one `default` policy per key) and key tags.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{Code, KmsError, Result};
use crate::keys::{KeyIdInput, Tag, page, pending};
use crate::state::KeyState;
use crate::{Kms, Out, parse};

impl Kms {
    pub(crate) async fn get_key_policy(&self, account: &str, region: &str, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            key_id: String,
            policy_name: Option<String>,
        }
        let i: In = parse(input)?;
        let k = self.find(account, region, &i.key_id).await?;
        check_policy_name(i.policy_name.as_deref())?;
        Ok(json!({"Policy": k.policy, "PolicyName": "default"}))
    }

    pub(crate) async fn put_key_policy(&self, account: &str, region: &str, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            key_id: String,
            policy_name: Option<String>,
            policy: String,
        }
        let i: In = parse(input)?;
        check_policy_name(i.policy_name.as_deref())?;
        check_policy(&i.policy)?;
        self.update(account, region, &i.key_id, |k| {
            if k.state == KeyState::PendingDeletion {
                return Err(pending(k));
            }
            k.policy = i.policy;
            Ok(())
        })
        .await?;
        Ok(json!({}))
    }

    pub(crate) async fn list_key_policies(&self, account: &str, region: &str, input: Value) -> Out {
        let i: KeyIdInput = parse(input)?;
        self.find(account, region, &i.key_id).await?;
        Ok(json!({"PolicyNames": ["default"], "Truncated": false}))
    }

    pub(crate) async fn tag_resource(&self, account: &str, region: &str, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            key_id: String,
            tags: Vec<Tag>,
        }
        let i: In = parse(input)?;
        for t in &i.tags {
            if t.tag_key.starts_with("aws:") {
                return Err(KmsError::new(
                    Code::TagException,
                    "Tags beginning with aws: are reserved",
                ));
            }
        }
        self.update(account, region, &i.key_id, |k| {
            if k.state == KeyState::PendingDeletion {
                return Err(pending(k));
            }
            for t in i.tags {
                k.tags.insert(t.tag_key, t.tag_value);
            }
            if k.tags.len() > 50 {
                return Err(KmsError::new(
                    Code::TagException,
                    "A KMS key can have at most 50 tags.",
                ));
            }
            Ok(())
        })
        .await?;
        Ok(json!({}))
    }

    pub(crate) async fn untag_resource(&self, account: &str, region: &str, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            key_id: String,
            tag_keys: Vec<String>,
        }
        let i: In = parse(input)?;
        self.update(account, region, &i.key_id, |k| {
            if k.state == KeyState::PendingDeletion {
                return Err(pending(k));
            }
            for t in &i.tag_keys {
                k.tags.remove(t);
            }
            Ok(())
        })
        .await?;
        Ok(json!({}))
    }

    pub(crate) async fn list_resource_tags(
        &self,
        account: &str,
        region: &str,
        input: Value,
    ) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            key_id: String,
            limit: Option<usize>,
            marker: Option<String>,
        }
        let i: In = parse(input)?;
        let k = self.find(account, region, &i.key_id).await?;
        let entries = k
            .tags
            .iter()
            .map(|(key, v)| json!({"TagKey": key, "TagValue": v}))
            .collect();
        page(entries, i.limit, i.marker.as_deref(), "Tags")
    }
}

pub(crate) fn check_policy(p: &str) -> Result<()> {
    match serde_json::from_str::<Value>(p) {
        Ok(Value::Object(o)) if o.contains_key("Statement") => Ok(()),
        _ => Err(KmsError::new(
            Code::MalformedPolicyDocumentException,
            "The key policy is not a valid policy document.",
        )),
    }
}

fn check_policy_name(name: Option<&str>) -> Result<()> {
    match name {
        None | Some("default") => Ok(()),
        Some(_) => Err(KmsError::not_found("No such policy exists")),
    }
}
