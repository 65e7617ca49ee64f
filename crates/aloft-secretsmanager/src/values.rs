//! Secret values: versions, staging labels, encryption through KMS; GetSecretValue,
//! BatchGetSecretValue, PutSecretValue, UpdateSecretVersionStage, ListSecretVersionIds.

use std::collections::BTreeMap;

use aloft_core::clock;
use aloft_events::Delivery;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::Digest;

use crate::error::{Code, Result, SmError};
use crate::state::{Secret, Version};
use crate::{Out, SecretsManager, commit, parse};

pub const CURRENT: &str = "AWSCURRENT";
pub const PREVIOUS: &str = "AWSPREVIOUS";

/// A value as the caller gave it: SecretString or SecretBinary (bytes).
pub(crate) struct Plain {
    pub bytes: Vec<u8>,
    pub binary: bool,
}

impl Plain {
    pub fn from_input(string: Option<String>, binary: Option<String>) -> Result<Option<Self>> {
        match (string, binary) {
            (Some(_), Some(_)) => Err(SmError::param(
                "You can't specify both a binary secret value and a string secret value in the same secret.",
            )),
            (Some(s), None) => Ok(Some(Self {
                bytes: s.into_bytes(),
                binary: false,
            })),
            (None, Some(b)) => Ok(Some(Self {
                bytes: B64
                    .decode(b)
                    .map_err(|_| SmError::param("SecretBinary is not valid base64."))?,
                binary: true,
            })),
            (None, None) => Ok(None),
        }
    }

    pub fn digest(&self) -> String {
        let mut h = sha2::Sha256::new();
        h.update([u8::from(self.binary)]);
        h.update(&self.bytes);
        B64.encode(h.finalize())
    }
}

/// The KMS ARN a secret's `KmsKeyId` names (the AWS managed key when absent).
pub(crate) fn kms_arn(account: &str, region: &str, key: Option<&str>) -> String {
    match key {
        Some(k) if k.starts_with("arn:") => k.to_string(),
        Some(k) if k.starts_with("alias/") => aloft_core::arn::build("kms", region, account, k),
        Some(k) => aloft_core::arn::build("kms", region, account, &format!("key/{k}")),
        None => aloft_core::arn::build("kms", region, account, "alias/aws/secretsmanager"),
    }
}

fn context(arn: &str, version: &str) -> Value {
    json!({"SecretARN": arn, "SecretVersionId": version})
}

impl SecretsManager {
    pub(crate) async fn seal(&self, s: &Secret, version: &str, value: &Plain) -> Result<String> {
        let arn = kms_arn(&s.account, &s.region, s.kms_key_id.as_deref());
        let mut options = serde_json::Map::new();
        options.insert("Operation".into(), json!("Encrypt"));
        options.insert("EncryptionContext".into(), context(&s.arn, version));
        let d = Delivery {
            payload: value.bytes.clone().into(),
            options,
            sync: true,
            source_arn: Some(s.arn.clone()),
            account: s.account.clone(),
            region: s.region.clone(),
        };
        let out = self.targets.deliver(&arn, d).await.map_err(|e| {
            SmError::new(
                Code::EncryptionFailure,
                format!(
                    "Secrets Manager can't encrypt the secret value with the KMS key: {} ({})",
                    e.message, e.code
                ),
            )
        })?;
        Ok(B64.encode(out.payload.unwrap_or_default()))
    }

    pub(crate) async fn open(&self, s: &Secret, version: &str) -> Result<Vec<u8>> {
        let v = s.versions.get(version).ok_or_else(SmError::not_found)?;
        let arn = kms_arn(&s.account, &s.region, s.kms_key_id.as_deref());
        let mut options = serde_json::Map::new();
        options.insert("Operation".into(), json!("Decrypt"));
        options.insert("EncryptionContext".into(), context(&s.arn, version));
        let d = Delivery {
            payload: B64.decode(blob_of(v)).unwrap_or_default().into(),
            options,
            sync: true,
            source_arn: Some(s.arn.clone()),
            account: s.account.clone(),
            region: s.region.clone(),
        };
        let out = self.targets.deliver(&arn, d).await.map_err(|e| {
            SmError::new(
                Code::DecryptionFailure,
                format!("Secrets Manager can't decrypt the protected secret text using the provided KMS key: {} ({})", e.message, e.code),
            )
        })?;
        Ok(out.payload.unwrap_or_default().to_vec())
    }

    /// Adds version `id` (or finds it again for a repeated token) after encrypting outside
    /// the lock. Returns the version's stages.
    pub(crate) async fn add_version(
        &self,
        arn: &str,
        id: &str,
        value: &Plain,
        stages: Vec<String>,
    ) -> Result<Vec<String>> {
        let snapshot = self.lock_secret(arn)?;
        if let Some(v) = snapshot.versions.get(id) {
            // A repeated ClientRequestToken with the same value is the same request.
            if v.blob_digest() == Some(value.digest()) {
                return Ok(v.stages.clone());
            }
            return Err(SmError::new(
                Code::ResourceExistsException,
                "You can't modify an existing version, you can only create a new version.",
            ));
        }
        let blob = self.seal(&snapshot, id, value).await?;
        let (stages, c) = {
            let mut m = self.state.lock();
            let s = m.get_mut(arn).ok_or_else(SmError::not_found)?;
            if s.deleted_ms.is_some() {
                return Err(SmError::deleted());
            }
            let now = clock::now_secs_f64();
            s.versions.insert(
                id.to_string(),
                Version {
                    blob: format!("{blob}#{}", value.digest()),
                    binary: value.binary,
                    stages: Vec::new(),
                    created_s: now,
                    last_accessed_s: None,
                },
            );
            s.order.push(id.to_string());
            for st in &stages {
                move_stage(s, st, id);
            }
            s.changed_s = now;
            prune(s);
            (s.versions[id].stages.clone(), self.state.save(s))
        };
        commit(c).await?;
        Ok(stages)
    }

    pub(crate) async fn get_secret_value(&self, account: &str, region: &str, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            secret_id: String,
            version_id: Option<String>,
            version_stage: Option<String>,
        }
        let i: In = parse(input)?;
        self.value_of(account, region, &i.secret_id, i.version_id, i.version_stage)
            .await
    }

    async fn value_of(
        &self,
        account: &str,
        region: &str,
        secret_id: &str,
        version_id: Option<String>,
        stage: Option<String>,
    ) -> Out {
        let s = {
            let m = self.state.lock();
            let arn = Self::resolve(&m, account, region, secret_id)?;
            m[&arn].clone()
        };
        if s.deleted_ms.is_some() {
            return Err(SmError::deleted());
        }
        let vid = match (&version_id, &stage) {
            (Some(v), st) => {
                let ver = s.versions.get(v).ok_or_else(|| {
                    SmError::new(
                        Code::ResourceNotFoundException,
                        format!("Secrets Manager can't find the specified secret value for VersionId: {v}"),
                    )
                })?;
                if let Some(st) = st
                    && !ver.stages.contains(st)
                {
                    return Err(SmError::param(format!(
                        "You provided a VersionStage that is not associated to the provided VersionId. VersionId: {v}, VersionStage: {st}"
                    )));
                }
                v.clone()
            }
            (None, st) => {
                let st = st.as_deref().unwrap_or(CURRENT);
                s.staged(st)
                    .ok_or_else(|| {
                        SmError::new(
                            Code::ResourceNotFoundException,
                            format!("Secrets Manager can't find the specified secret value for staging label: {st}"),
                        )
                    })?
                    .to_string()
            }
        };
        let plain = self.open(&s, &vid).await?;
        let v = &s.versions[&vid];
        let today = (clock::now_secs() / 86_400 * 86_400) as f64;
        {
            let mut m = self.state.lock();
            if let Some(live) = m.get_mut(&s.arn) {
                live.accessed_s = Some(today);
                if let Some(lv) = live.versions.get_mut(&vid) {
                    lv.last_accessed_s = Some(today);
                }
            }
        }
        let mut out = json!({
            "ARN": s.arn, "Name": s.name, "VersionId": vid,
            "VersionStages": v.stages, "CreatedDate": v.created_s,
        });
        if v.binary {
            out["SecretBinary"] = json!(B64.encode(&plain));
        } else {
            out["SecretString"] = json!(String::from_utf8_lossy(&plain));
        }
        Ok(out)
    }

    pub(crate) async fn batch_get_secret_value(
        &self,
        account: &str,
        region: &str,
        input: Value,
    ) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            secret_id_list: Option<Vec<String>>,
            filters: Option<Vec<crate::secrets::Filter>>,
            max_results: Option<usize>,
            next_token: Option<String>,
        }
        let i: In = parse(input)?;
        let ids: Vec<String> = match (i.secret_id_list, i.filters) {
            (Some(ids), None) => {
                if i.max_results.is_some() {
                    return Err(SmError::param(
                        "'Filters' not specified. 'Filters' must also be specified when 'MaxResults' is provided in a request.",
                    ));
                }
                ids
            }
            (None, Some(f)) => {
                let listed = self.list_secrets(
                    account,
                    region,
                    json!({"Filters": serde_json::to_value(f).unwrap_or_default(),
                           "MaxResults": i.max_results.unwrap_or(20), "NextToken": i.next_token}),
                )?;
                let arns = listed["SecretList"]
                    .as_array()
                    .map(|l| {
                        l.iter()
                            .filter_map(|e| e["ARN"].as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default();
                return self
                    .batch_values(account, region, arns, listed.get("NextToken").cloned())
                    .await;
            }
            _ => {
                return Err(SmError::param(
                    "Either 'SecretIdList' or 'Filters' must be provided, but not both.",
                ));
            }
        };
        self.batch_values(account, region, ids, None).await
    }

    async fn batch_values(
        &self,
        account: &str,
        region: &str,
        ids: Vec<String>,
        next: Option<Value>,
    ) -> Out {
        let mut values = Vec::new();
        let mut errors = Vec::new();
        for id in ids {
            match self.value_of(account, region, &id, None, None).await {
                Ok(v) => values.push(v),
                Err(e) => errors.push(
                    json!({"SecretId": id, "ErrorCode": e.code.as_str(), "Message": e.message}),
                ),
            }
        }
        let mut out = json!({"SecretValues": values, "Errors": errors});
        if let Some(n) = next {
            out["NextToken"] = n;
        }
        Ok(out)
    }

    pub(crate) async fn put_secret_value(&self, account: &str, region: &str, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            secret_id: String,
            client_request_token: Option<String>,
            secret_binary: Option<String>,
            secret_string: Option<String>,
            version_stages: Option<Vec<String>>,
        }
        let i: In = parse(input)?;
        let value = Plain::from_input(i.secret_string, i.secret_binary)?.ok_or_else(|| {
            SmError::param("You must provide either SecretString or SecretBinary.")
        })?;
        let (arn, name) = self.live(account, region, &i.secret_id)?;
        let vid = i
            .client_request_token
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let stages = i.version_stages.unwrap_or_else(|| vec![CURRENT.into()]);
        let stages = self.add_version(&arn, &vid, &value, stages).await?;
        Ok(json!({"ARN": arn, "Name": name, "VersionId": vid, "VersionStages": stages}))
    }

    pub(crate) async fn update_secret_version_stage(
        &self,
        account: &str,
        region: &str,
        input: Value,
    ) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            secret_id: String,
            version_stage: String,
            remove_from_version_id: Option<String>,
            move_to_version_id: Option<String>,
        }
        let i: In = parse(input)?;
        let (out, c) = {
            let mut m = self.state.lock();
            let arn = Self::resolve(&m, account, region, &i.secret_id)?;
            let s = m.get_mut(&arn).expect("resolved");
            if s.deleted_ms.is_some() {
                return Err(SmError::deleted());
            }
            let holder = s.staged(&i.version_stage).map(String::from);
            if let Some(h) = &holder
                && i.remove_from_version_id.as_deref() != Some(h.as_str())
                && i.move_to_version_id.as_deref() != Some(h.as_str())
            {
                return Err(SmError::param(format!(
                    "The parameter RemoveFromVersionId can't be empty. Staging label {} is currently attached to version {h}, so you must explicitly reference that version in RemoveFromVersionId.",
                    i.version_stage
                )));
            }
            if let Some(r) = &i.remove_from_version_id
                && holder.as_deref() != Some(r.as_str())
            {
                return Err(SmError::param(format!(
                    "The staging label {} is not attached to version {r}.",
                    i.version_stage
                )));
            }
            match &i.move_to_version_id {
                Some(to) => {
                    if !s.versions.contains_key(to) {
                        return Err(SmError::param(format!(
                            "Version {to} not found for the secret."
                        )));
                    }
                    move_stage(s, &i.version_stage, to);
                }
                None => {
                    if i.version_stage == CURRENT {
                        return Err(SmError::param(
                            "You can only move staging label AWSCURRENT to a different secret version. It can’t be completely removed.",
                        ));
                    }
                    for v in s.versions.values_mut() {
                        v.stages.retain(|x| x != &i.version_stage);
                    }
                }
            }
            s.changed_s = clock::now_secs_f64();
            (json!({"ARN": s.arn, "Name": s.name}), self.state.save(s))
        };
        commit(c).await?;
        Ok(out)
    }

    pub(crate) fn list_secret_version_ids(&self, account: &str, region: &str, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            secret_id: String,
            #[serde(default)]
            include_deprecated: bool,
        }
        let i: In = parse(input)?;
        let m = self.state.lock();
        let s = &m[&Self::resolve(&m, account, region, &i.secret_id)?];
        let versions: Vec<Value> = s
            .order
            .iter()
            .rev()
            .filter_map(|id| s.versions.get(id).map(|v| (id, v)))
            .filter(|(_, v)| i.include_deprecated || !v.stages.is_empty())
            .map(|(id, v)| {
                let mut e = json!({"VersionId": id, "VersionStages": v.stages, "CreatedDate": v.created_s,
                    "KmsKeyIds": [s.kms_key_id.clone().unwrap_or_else(|| "DefaultEncryptionKey".into())]});
                if let Some(a) = v.last_accessed_s {
                    e["LastAccessedDate"] = json!(a);
                }
                e
            })
            .collect();
        Ok(json!({"Versions": versions, "ARN": s.arn, "Name": s.name}))
    }
}

impl Version {
    fn blob_digest(&self) -> Option<String> {
        self.blob.split_once('#').map(|(_, d)| d.to_string())
    }
}

/// Version stages to report: only versions that still carry a label.
pub(crate) fn stages_map(s: &Secret) -> BTreeMap<String, Vec<String>> {
    s.versions
        .iter()
        .filter(|(_, v)| !v.stages.is_empty())
        .map(|(id, v)| (id.clone(), v.stages.clone()))
        .collect()
}

/// Puts `stage` on version `to`, taking it from whichever version held it; moving
/// AWSCURRENT hands AWSPREVIOUS to the version that was current.
pub(crate) fn move_stage(s: &mut Secret, stage: &str, to: &str) {
    let old = s.staged(stage).map(String::from);
    if old.as_deref() == Some(to) {
        return;
    }
    for v in s.versions.values_mut() {
        v.stages.retain(|x| x != stage);
    }
    if let Some(v) = s.versions.get_mut(to) {
        v.stages.push(stage.to_string());
    }
    if stage == CURRENT
        && let Some(old) = old
    {
        for v in s.versions.values_mut() {
            v.stages.retain(|x| x != PREVIOUS);
        }
        if let Some(v) = s.versions.get_mut(&old) {
            v.stages.push(PREVIOUS.into());
        }
    }
}

/// AWS keeps at most 100 versions without labels; the oldest go first.
fn prune(s: &mut Secret) {
    let deprecated: Vec<String> = s
        .order
        .iter()
        .filter(|id| s.versions.get(*id).is_some_and(|v| v.stages.is_empty()))
        .cloned()
        .collect();
    if deprecated.len() > 100 {
        for id in &deprecated[..deprecated.len() - 100] {
            s.versions.remove(id);
            s.order.retain(|x| x != id);
        }
    }
}

/// The blob of a stored version without the digest suffix.
pub(crate) fn blob_of(v: &Version) -> &str {
    v.blob.split_once('#').map_or(v.blob.as_str(), |(b, _)| b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(versions: &[(&str, &[&str])]) -> Secret {
        Secret {
            account: "1".into(),
            region: "r".into(),
            name: "n".into(),
            arn: "a".into(),
            description: None,
            kms_key_id: None,
            tags: Vec::new(),
            created_s: 0.0,
            changed_s: 0.0,
            accessed_s: None,
            deleted_ms: None,
            rotation_lambda: None,
            rotation_rules: None,
            rotation_enabled: false,
            rotated_s: None,
            policy: None,
            versions: versions
                .iter()
                .map(|(id, st)| {
                    (
                        (*id).to_string(),
                        Version {
                            blob: String::new(),
                            binary: false,
                            stages: st.iter().map(|s| (*s).to_string()).collect(),
                            created_s: 0.0,
                            last_accessed_s: None,
                        },
                    )
                })
                .collect(),
            order: versions.iter().map(|(id, _)| (*id).to_string()).collect(),
        }
    }

    #[test]
    fn moving_current_hands_previous_to_the_old_current() {
        let mut s = secret(&[
            ("v1", &[PREVIOUS]),
            ("v2", &[CURRENT]),
            ("v3", &["AWSPENDING"]),
        ]);
        move_stage(&mut s, CURRENT, "v3");
        assert_eq!(s.staged(CURRENT), Some("v3"));
        assert_eq!(s.staged(PREVIOUS), Some("v2"));
        assert!(s.versions["v1"].stages.is_empty());
        assert_eq!(s.versions["v3"].stages, ["AWSPENDING", CURRENT]);
        // Moving a label onto the version that has it changes nothing.
        move_stage(&mut s, CURRENT, "v3");
        assert_eq!(s.staged(PREVIOUS), Some("v2"));
        // Other labels just move.
        move_stage(&mut s, "custom", "v1");
        move_stage(&mut s, "custom", "v2");
        assert_eq!(s.staged("custom"), Some("v2"));
        assert!(s.versions["v1"].stages.is_empty());
    }
}
