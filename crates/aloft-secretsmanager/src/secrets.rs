//! Secrets themselves: create, describe, list with filters, update, delete with a recovery
//! window (swept on the one clock), restore, tags, resource policies.

use std::collections::{BTreeMap, HashMap};

use aloft_core::clock;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::{Code, Result, SmError};
use crate::state::Secret;
use crate::values::{CURRENT, Plain, stages_map};
use crate::{Out, SecretsManager, commit, parse};

const DAY_MS: i64 = 86_400_000;

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Tag {
    key: String,
    value: String,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Filter {
    key: String,
    #[serde(default)]
    values: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SecretIdIn {
    secret_id: String,
}

fn ms_to_s(ms: i64) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    let s = ms as f64 / 1000.0;
    s
}

fn tags_json(s: &Secret) -> Vec<Value> {
    s.tags
        .iter()
        .map(|(k, v)| json!({"Key": k, "Value": v}))
        .collect()
}

/// DescribeSecret and SecretListEntry share most members.
fn entry(s: &Secret, versions_member: &str) -> Value {
    let mut e = json!({
        "ARN": s.arn, "Name": s.name, "CreatedDate": s.created_s,
        "LastChangedDate": s.changed_s, "Tags": tags_json(s),
        versions_member: stages_map(s),
    });
    if let Some(d) = &s.description {
        e["Description"] = json!(d);
    }
    if let Some(k) = &s.kms_key_id {
        e["KmsKeyId"] = json!(k);
    }
    if let Some(a) = s.accessed_s {
        e["LastAccessedDate"] = json!(a);
    }
    if let Some(d) = s.deleted_ms {
        e["DeletedDate"] = json!(ms_to_s(d));
    }
    if s.rotation_enabled || s.rotation_lambda.is_some() {
        e["RotationEnabled"] = json!(s.rotation_enabled);
    }
    if let Some(l) = &s.rotation_lambda {
        e["RotationLambdaARN"] = json!(l);
    }
    if let Some(r) = &s.rotation_rules {
        e["RotationRules"] = r.clone();
        if s.rotation_enabled
            && let Some(next) = crate::rotation::next_rotation(s)
        {
            e["NextRotationDate"] = json!(next);
        }
    }
    if let Some(r) = s.rotated_s {
        e["LastRotatedDate"] = json!(r);
    }
    e
}

/// Prefix match, or (leading `!`) its negation, as ListSecrets filters do.
fn matches(value: &str, pattern: &str, fold: bool) -> bool {
    let (neg, p) = match pattern.strip_prefix('!') {
        Some(p) => (true, p),
        None => (false, pattern),
    };
    let hit = if fold {
        value.to_lowercase().starts_with(&p.to_lowercase())
    } else {
        value.starts_with(p)
    };
    hit != neg
}

/// Per AWS's Filter docs: `description` and `all` ignore case, the others do not; `all`
/// splits the value into words and looks for each in every attribute (and its words).
fn filter_hits(s: &Secret, f: &Filter) -> bool {
    let desc = s.description.as_deref().unwrap_or("");
    f.values.iter().any(|p| match f.key.as_str() {
        "name" => matches(&s.name, p, false),
        "description" => matches(desc, p, true),
        "tag-key" => s.tags.iter().any(|(k, _)| matches(k, p, false)),
        "tag-value" => s.tags.iter().any(|(_, v)| matches(v, p, false)),
        "primary-region" => matches(&s.region, p, false),
        "owning-service" => false,
        _ => {
            let mut attrs: Vec<&str> = vec![s.name.as_str(), desc];
            for (k, v) in &s.tags {
                attrs.push(k);
                attrs.push(v);
            }
            let words: Vec<&str> = attrs
                .iter()
                .flat_map(|a| std::iter::once(*a).chain(a.split(|c: char| !c.is_alphanumeric())))
                .filter(|w| !w.is_empty())
                .collect();
            p.split_whitespace()
                .all(|w| words.iter().any(|a| matches(a, w, true)))
        }
    })
}

fn arn_suffix() -> String {
    aloft_core::ids::random_string(
        6,
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
    )
}

fn check_policy(p: &str) -> Result<()> {
    match serde_json::from_str::<Value>(p) {
        Ok(Value::Object(o)) if o.contains_key("Statement") => Ok(()),
        _ => Err(SmError::new(
            Code::MalformedPolicyDocumentException,
            "The policy document you provided isn't valid. Check the policy syntax and try again.",
        )),
    }
}

pub(crate) fn validate_resource_policy(input: Value) -> Out {
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct In {
        resource_policy: String,
    }
    let i: In = parse(input)?;
    let ok = check_policy(&i.resource_policy).is_ok();
    let errors: Vec<Value> = if ok {
        vec![]
    } else {
        vec![
            json!({"CheckName": "JSON_SYNTAX", "ErrorMessage": "The policy document is not valid JSON."}),
        ]
    };
    Ok(json!({"PolicyValidationPassed": ok, "ValidationErrors": errors}))
}

impl SecretsManager {
    /// The ARN of the secret a SecretId (name, full ARN, or ARN without the random suffix) names.
    pub(crate) fn resolve(
        m: &HashMap<String, Secret>,
        account: &str,
        region: &str,
        id: &str,
    ) -> Result<String> {
        if id.starts_with("arn:") {
            if m.contains_key(id) {
                return Ok(id.to_string());
            }
            return m
                .keys()
                .find(|arn| {
                    arn.len() == id.len() + 7
                        && arn.starts_with(id)
                        && arn.as_bytes()[id.len()] == b'-'
                })
                .cloned()
                .ok_or_else(SmError::not_found);
        }
        m.values()
            .find(|s| s.account == account && s.region == region && s.name == id)
            .map(|s| s.arn.clone())
            .ok_or_else(SmError::not_found)
    }

    /// A copy of a secret, for work done outside the lock.
    pub(crate) fn lock_secret(&self, arn: &str) -> Result<Secret> {
        self.state
            .lock()
            .get(arn)
            .cloned()
            .ok_or_else(SmError::not_found)
    }

    /// (ARN, name) of a secret that is not pending deletion.
    pub(crate) fn live(&self, account: &str, region: &str, id: &str) -> Result<(String, String)> {
        let m = self.state.lock();
        let arn = Self::resolve(&m, account, region, id)?;
        let s = &m[&arn];
        if s.deleted_ms.is_some() {
            return Err(SmError::deleted());
        }
        Ok((arn, s.name.clone()))
    }

    /// Applies `f` to a secret and journals it.
    pub(crate) async fn update<T>(
        &self,
        account: &str,
        region: &str,
        id: &str,
        f: impl FnOnce(&mut Secret) -> Result<T>,
    ) -> Result<T> {
        let (out, c) = {
            let mut m = self.state.lock();
            let arn = Self::resolve(&m, account, region, id)?;
            let s = m.get_mut(&arn).expect("resolved");
            let out = f(s)?;
            (out, self.state.save(s))
        };
        commit(c).await?;
        Ok(out)
    }

    /// Forgets secrets whose recovery window ended.
    pub(crate) async fn sweep(&self) -> Result<()> {
        let now = clock::now_millis();
        let c = {
            let mut m = self.state.lock();
            let gone: Vec<String> = m
                .values()
                .filter(|s| s.deleted_ms.is_some_and(|d| d <= now))
                .map(|s| s.arn.clone())
                .collect();
            let removed: Vec<Secret> = gone.iter().filter_map(|a| m.remove(a)).collect();
            self.state.delete(&removed)
        };
        commit(c).await
    }

    pub(crate) async fn create_secret(&self, account: &str, region: &str, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            name: String,
            client_request_token: Option<String>,
            description: Option<String>,
            kms_key_id: Option<String>,
            secret_binary: Option<String>,
            secret_string: Option<String>,
            #[serde(default)]
            tags: Vec<Tag>,
        }
        let i: In = parse(input)?;
        let value = Plain::from_input(i.secret_string, i.secret_binary)?;
        // A name ending in a hyphen and six characters would be ambiguous with an ARN suffix.
        let arn = aloft_core::arn::build(
            "secretsmanager",
            region,
            account,
            &format!("secret:{}-{}", i.name, arn_suffix()),
        );
        let now = clock::now_secs_f64();
        let secret = Secret {
            account: account.into(),
            region: region.into(),
            name: i.name.clone(),
            arn: arn.clone(),
            description: i.description,
            kms_key_id: i.kms_key_id,
            tags: i.tags.into_iter().map(|t| (t.key, t.value)).collect(),
            created_s: now,
            changed_s: now,
            accessed_s: None,
            deleted_ms: None,
            rotation_lambda: None,
            rotation_rules: None,
            rotation_enabled: false,
            rotated_s: None,
            policy: None,
            versions: BTreeMap::new(),
            order: Vec::new(),
        };
        let c = {
            let mut m = self.state.lock();
            if let Some(old) = m
                .values()
                .find(|s| s.account == account && s.region == region && s.name == i.name)
            {
                if old.deleted_ms.is_some() {
                    return Err(SmError::request(
                        "You can't create this secret because a secret with this name is already scheduled for deletion.",
                    ));
                }
                return Err(SmError::new(
                    Code::ResourceExistsException,
                    format!(
                        "The operation failed because the secret {} already exists.",
                        i.name
                    ),
                ));
            }
            let c = self.state.save(&secret);
            m.insert(arn.clone(), secret);
            c
        };
        commit(c).await?;
        let mut out = json!({"ARN": arn, "Name": i.name});
        if let Some(v) = value {
            let vid = i
                .client_request_token
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
            if let Err(e) = self.add_version(&arn, &vid, &v, vec![CURRENT.into()]).await {
                // The secret must not exist half made when its value could not be encrypted.
                let gone: Vec<Secret> = self.state.lock().remove(&arn).into_iter().collect();
                commit(self.state.delete(&gone)).await?;
                return Err(e);
            }
            out["VersionId"] = json!(vid);
        }
        Ok(out)
    }

    pub(crate) fn describe_secret(&self, account: &str, region: &str, input: Value) -> Out {
        let i: SecretIdIn = parse(input)?;
        let m = self.state.lock();
        let s = &m[&Self::resolve(&m, account, region, &i.secret_id)?];
        Ok(entry(s, "VersionIdsToStages"))
    }

    pub(crate) fn list_secrets(&self, account: &str, region: &str, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            #[serde(default)]
            include_planned_deletion: bool,
            max_results: Option<usize>,
            next_token: Option<String>,
            #[serde(default)]
            filters: Vec<Filter>,
            sort_order: Option<String>,
        }
        let i: In = parse(input)?;
        for f in &i.filters {
            if f.values.is_empty() && f.key != "all" {
                return Err(SmError::param(format!(
                    "Invalid filter values for key: {}. Values list cannot be empty.",
                    f.key
                )));
            }
        }
        let m = self.state.lock();
        let mut list: Vec<&Secret> = m
            .values()
            .filter(|s| s.account == account && s.region == region)
            .filter(|s| i.include_planned_deletion || s.deleted_ms.is_none())
            .filter(|s| i.filters.iter().all(|f| filter_hits(s, f)))
            .collect();
        list.sort_by(|a, b| {
            a.created_s
                .total_cmp(&b.created_s)
                .then_with(|| a.name.cmp(&b.name))
        });
        if i.sort_order.as_deref() == Some("desc") {
            list.reverse();
        }
        let start = match &i.next_token {
            None => 0,
            Some(t) => t
                .parse::<usize>()
                .ok()
                .filter(|n| *n <= list.len())
                .ok_or_else(|| {
                    SmError::new(
                        Code::InvalidNextTokenException,
                        "The NextToken value is invalid.",
                    )
                })?,
        };
        let max = i.max_results.unwrap_or(100).clamp(1, 100);
        let end = (start + max).min(list.len());
        let entries: Vec<Value> = list[start..end]
            .iter()
            .map(|s| entry(s, "SecretVersionsToStages"))
            .collect();
        let mut out = json!({ "SecretList": entries });
        if end < list.len() {
            out["NextToken"] = json!(end.to_string());
        }
        Ok(out)
    }

    pub(crate) async fn update_secret(&self, account: &str, region: &str, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            secret_id: String,
            client_request_token: Option<String>,
            description: Option<String>,
            kms_key_id: Option<String>,
            secret_binary: Option<String>,
            secret_string: Option<String>,
        }
        let i: In = parse(input)?;
        let value = Plain::from_input(i.secret_string, i.secret_binary)?;
        let (arn, name) = self
            .update(account, region, &i.secret_id, |s| {
                if s.deleted_ms.is_some() {
                    return Err(SmError::deleted());
                }
                if let Some(d) = i.description {
                    s.description = Some(d);
                }
                if let Some(k) = i.kms_key_id {
                    s.kms_key_id = Some(k);
                }
                s.changed_s = clock::now_secs_f64();
                Ok((s.arn.clone(), s.name.clone()))
            })
            .await?;
        let mut out = json!({"ARN": arn, "Name": name});
        if let Some(v) = value {
            let vid = i
                .client_request_token
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
            self.add_version(&arn, &vid, &v, vec![CURRENT.into()])
                .await?;
            out["VersionId"] = json!(vid);
        }
        Ok(out)
    }

    pub(crate) async fn delete_secret(&self, account: &str, region: &str, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            secret_id: String,
            recovery_window_in_days: Option<i64>,
            force_delete_without_recovery: Option<bool>,
        }
        let i: In = parse(input)?;
        let force = i.force_delete_without_recovery.unwrap_or(false);
        if force && i.recovery_window_in_days.is_some() {
            return Err(SmError::param(
                "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.",
            ));
        }
        let days = i.recovery_window_in_days.unwrap_or(30);
        if !force && !(7..=30).contains(&days) {
            return Err(SmError::param(
                "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).",
            ));
        }
        let now = clock::now_millis();
        let (out, c) = {
            let mut m = self.state.lock();
            let arn = Self::resolve(&m, account, region, &i.secret_id)?;
            if force {
                let s = m.remove(&arn).expect("resolved");
                let out = json!({"ARN": s.arn, "Name": s.name, "DeletionDate": ms_to_s(now)});
                (out, self.state.delete(&[s]))
            } else {
                let s = m.get_mut(&arn).expect("resolved");
                if s.deleted_ms.is_some() {
                    return Err(SmError::deleted());
                }
                let when = now + days * DAY_MS;
                s.deleted_ms = Some(when);
                let out = json!({"ARN": s.arn, "Name": s.name, "DeletionDate": ms_to_s(when)});
                (out, self.state.save(s))
            }
        };
        commit(c).await?;
        Ok(out)
    }

    pub(crate) async fn restore_secret(&self, account: &str, region: &str, input: Value) -> Out {
        let i: SecretIdIn = parse(input)?;
        self.update(account, region, &i.secret_id, |s| {
            s.deleted_ms = None;
            Ok(json!({"ARN": s.arn, "Name": s.name}))
        })
        .await
    }

    pub(crate) async fn tag_resource(&self, account: &str, region: &str, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            secret_id: String,
            tags: Vec<Tag>,
        }
        let i: In = parse(input)?;
        self.update(account, region, &i.secret_id, |s| {
            for t in i.tags {
                match s.tags.iter_mut().find(|(k, _)| *k == t.key) {
                    Some(e) => e.1 = t.value,
                    None => s.tags.push((t.key, t.value)),
                }
            }
            if s.tags.len() > 50 {
                return Err(SmError::param(
                    "You can attach at most 50 tags to a secret.",
                ));
            }
            Ok(json!({}))
        })
        .await
    }

    pub(crate) async fn untag_resource(&self, account: &str, region: &str, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            secret_id: String,
            tag_keys: Vec<String>,
        }
        let i: In = parse(input)?;
        self.update(account, region, &i.secret_id, |s| {
            s.tags.retain(|(k, _)| !i.tag_keys.contains(k));
            Ok(json!({}))
        })
        .await
    }

    pub(crate) async fn put_resource_policy(
        &self,
        account: &str,
        region: &str,
        input: Value,
    ) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            secret_id: String,
            resource_policy: String,
        }
        let i: In = parse(input)?;
        check_policy(&i.resource_policy)?;
        self.update(account, region, &i.secret_id, |s| {
            if s.deleted_ms.is_some() {
                return Err(SmError::deleted());
            }
            s.policy = Some(i.resource_policy);
            Ok(json!({"ARN": s.arn, "Name": s.name}))
        })
        .await
    }

    pub(crate) fn get_resource_policy(&self, account: &str, region: &str, input: Value) -> Out {
        let i: SecretIdIn = parse(input)?;
        let m = self.state.lock();
        let s = &m[&Self::resolve(&m, account, region, &i.secret_id)?];
        let mut out = json!({"ARN": s.arn, "Name": s.name});
        if let Some(p) = &s.policy {
            out["ResourcePolicy"] = json!(p);
        }
        Ok(out)
    }

    pub(crate) async fn delete_resource_policy(
        &self,
        account: &str,
        region: &str,
        input: Value,
    ) -> Out {
        let i: SecretIdIn = parse(input)?;
        self.update(account, region, &i.secret_id, |s| {
            s.policy = None;
            Ok(json!({"ARN": s.arn, "Name": s.name}))
        })
        .await
    }
}
