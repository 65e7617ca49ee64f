//! Key lifecycle: create, describe, list, enable/disable, descriptions, scheduled deletion
//! and automatic rotation (both on the one clock), key policies and tags.

use std::collections::BTreeMap;

use aloft_core::clock;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{Code, KmsError, Result};
use crate::material::{self, Spec};
use crate::state::{Key, KeyState, Maps, Rotation, scoped};
use crate::{Kms, Out, b64, commit, parse};

const DAY_MS: i64 = 86_400_000;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Tag {
    pub(crate) tag_key: String,
    pub(crate) tag_value: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct KeyIdInput {
    pub(crate) key_id: String,
}

pub fn key_arn(account: &str, region: &str, id: &str) -> String {
    aloft_core::arn::build("kms", region, account, &format!("key/{id}"))
}

pub fn default_policy(account: &str) -> String {
    json!({
        "Version": "2012-10-17",
        "Id": "key-default-1",
        "Statement": [{
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{account}:root")},
            "Action": "kms:*",
            "Resource": "*"
        }]
    })
    .to_string()
}

fn now_s() -> f64 {
    clock::now_secs_f64()
}

fn ms_to_s(ms: i64) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    let s = ms as f64 / 1000.0;
    s
}

/// Where a key reference points: (account, region, what) with `what` a key id or `alias/...`.
fn locate<'a>(account: &'a str, region: &'a str, r: &'a str) -> (&'a str, &'a str, &'a str) {
    if let Some(a) = aloft_core::arn::parse(r)
        && a.service == "kms"
    {
        return (
            a.account,
            a.region,
            a.resource.strip_prefix("key/").unwrap_or(a.resource),
        );
    }
    (account, region, r)
}

pub(crate) fn metadata(k: &Key) -> Value {
    let spec = k.spec();
    let mut m = json!({
        "AWSAccountId": k.account,
        "KeyId": k.id,
        "Arn": k.arn,
        "CreationDate": k.created_s,
        "Enabled": k.state == KeyState::Enabled,
        "Description": k.description,
        "KeyUsage": k.usage,
        "KeyState": k.state.as_str(),
        "Origin": k.origin,
        "KeyManager": k.manager,
        "CustomerMasterKeySpec": k.spec,
        "KeySpec": k.spec,
        "MultiRegion": false,
    });
    if k.usage == "ENCRYPT_DECRYPT" {
        m["EncryptionAlgorithms"] = json!(spec.encryption_algorithms());
    }
    if k.usage == "SIGN_VERIFY" {
        m["SigningAlgorithms"] = json!(spec.signing_algorithms());
    }
    if k.usage == "KEY_AGREEMENT" {
        m["KeyAgreementAlgorithms"] = json!(["ECDH"]);
    }
    if k.usage == "GENERATE_VERIFY_MAC" {
        m["MacAlgorithms"] = json!(spec.mac_algorithms());
    }
    if let Some(ms) = k.deletion_ms {
        m["DeletionDate"] = json!(ms_to_s(ms));
        m["PendingDeletionWindowInDays"] = json!(k.pending_days);
    }
    m
}

fn not_found_key(account: &str, region: &str, id: &str) -> KmsError {
    KmsError::not_found(format!(
        "Key '{}' does not exist",
        key_arn(account, region, id)
    ))
}

impl Kms {
    /// The scoped map key of the key a reference (id, key ARN, alias name, alias ARN) names.
    pub(crate) fn resolve(m: &Maps, account: &str, region: &str, r: &str) -> Result<String> {
        let (account, region, what) = locate(account, region, r);
        if what.starts_with("alias/") {
            let alias = m
                .aliases
                .get(&scoped(account, region, what))
                .ok_or_else(|| {
                    KmsError::not_found(format!(
                        "Alias {} is not found.",
                        aloft_core::arn::build("kms", region, account, what)
                    ))
                })?;
            return Ok(scoped(account, region, &alias.target));
        }
        if uuid::Uuid::parse_str(what).is_err() {
            return Err(KmsError::not_found(format!("Invalid keyId '{r}'")));
        }
        let k = scoped(account, region, what);
        if m.keys.contains_key(&k) {
            Ok(k)
        } else {
            Err(not_found_key(account, region, what))
        }
    }

    /// A copy of the key a reference names; `alias/aws/<service>` keys are made on first use.
    pub(crate) async fn find(&self, account: &str, region: &str, r: &str) -> Result<Key> {
        let (c, key) = {
            let mut m = self.state.lock();
            match Self::resolve(&m, account, region, r) {
                Ok(k) => return Ok(m.keys[&k].clone()),
                Err(e) => {
                    let (acc, reg, what) = locate(account, region, r);
                    let Some(service) = what.strip_prefix("alias/aws/") else {
                        return Err(e);
                    };
                    let key = new_key(acc, reg, Spec::Symmetric, "ENCRYPT_DECRYPT", "AWS")?;
                    let mut key = key;
                    key.description = format!(
                        "Default key that protects my {service} data when no other key is defined"
                    );
                    let alias = crate::aliases::new_alias(acc, reg, what, &key.id);
                    let c1 = self.state.save_key(&key);
                    let c2 = self.state.save_alias(&alias);
                    m.keys.insert(scoped(acc, reg, &key.id), key.clone());
                    m.aliases.insert(scoped(acc, reg, what), alias);
                    ((c1, c2), key)
                }
            }
        };
        commit(c.0).await?;
        commit(c.1).await?;
        Ok(key)
    }

    /// Applies `f` to the key a reference names and journals it.
    pub(crate) async fn update<T>(
        &self,
        account: &str,
        region: &str,
        r: &str,
        f: impl FnOnce(&mut Key) -> Result<T>,
    ) -> Result<T> {
        let (out, c) = {
            let mut m = self.state.lock();
            let k = Self::resolve(&m, account, region, r)?;
            let key = m.keys.get_mut(&k).expect("resolved");
            let out = f(key)?;
            (out, self.state.save_key(key))
        };
        commit(c).await?;
        Ok(out)
    }

    /// Deletes keys whose waiting period ended and rotates keys whose period came round.
    pub(crate) async fn sweep(&self, _account: &str, _region: &str) -> Result<()> {
        let now = clock::now_millis();
        let (c, saves) = {
            let mut m = self.state.lock();
            let gone: Vec<String> = m
                .keys
                .iter()
                .filter(|(_, k)| k.state == KeyState::PendingDeletion)
                .filter(|(_, k)| k.deletion_ms.is_some_and(|d| d <= now))
                .map(|(s, _)| s.clone())
                .collect();
            let mut aliases = Vec::new();
            for s in &gone {
                if let Some(k) = m.keys.remove(s) {
                    m.aliases.retain(|name, a| {
                        let hit =
                            a.account == k.account && a.region == k.region && a.target == k.id;
                        if hit {
                            aliases.push(name.clone());
                        }
                        !hit
                    });
                }
            }
            let mut saves = Vec::new();
            for k in m.keys.values_mut() {
                let (Some(days), Some(mut next)) = (k.rotation_days, k.next_rotation_ms) else {
                    continue;
                };
                if next > now || k.state == KeyState::PendingDeletion {
                    continue;
                }
                while next <= now {
                    rotate(k, next, "AUTOMATIC")?;
                    next += i64::from(days) * DAY_MS;
                }
                k.next_rotation_ms = Some(next);
                saves.push(self.state.save_key(k));
            }
            (self.state.delete(&gone, &aliases), saves)
        };
        commit(c).await?;
        for s in saves {
            commit(s).await?;
        }
        Ok(())
    }

    pub(crate) async fn create_key(&self, account: &str, region: &str, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            policy: Option<String>,
            description: Option<String>,
            key_usage: Option<String>,
            customer_master_key_spec: Option<String>,
            key_spec: Option<String>,
            origin: Option<String>,
            #[serde(default)]
            tags: Vec<Tag>,
            #[serde(default)]
            multi_region: bool,
        }
        let i: In = parse(input)?;
        if i.key_spec.is_some() && i.customer_master_key_spec.is_some() {
            return Err(KmsError::validation(
                "You cannot specify KeySpec and CustomerMasterKeySpec in the same request. CustomerMasterKeySpec parameter is deprecated. Use KeySpec.",
            ));
        }
        if let Some(o) = i.origin.as_deref().filter(|o| *o != "AWS_KMS") {
            return Err(KmsError::new(
                Code::UnsupportedOperationException,
                format!(
                    "Aloft supports only KMS-generated key material (Origin AWS_KMS), not {o}."
                ),
            ));
        }
        if i.multi_region {
            return Err(KmsError::new(
                Code::UnsupportedOperationException,
                "Aloft does not support multi-Region keys yet.",
            ));
        }
        let spec_name = i
            .key_spec
            .or(i.customer_master_key_spec)
            .unwrap_or_else(|| "SYMMETRIC_DEFAULT".into());
        let spec = Spec::parse(&spec_name).ok_or_else(|| {
            KmsError::new(
                Code::UnsupportedOperationException,
                format!("KeySpec {spec_name} is not supported by Aloft."),
            )
        })?;
        let usage = match i.key_usage {
            Some(u) => u,
            // AWS has no default usage for asymmetric and HMAC keys except their only one.
            None if spec == Spec::Symmetric => "ENCRYPT_DECRYPT".into(),
            None if matches!(spec, Spec::Hmac(_)) => {
                return Err(KmsError::validation(format!(
                    "KeyUsage ENCRYPT_DECRYPT is not compatible with KeySpec {spec_name}"
                )));
            }
            None => "ENCRYPT_DECRYPT".into(),
        };
        if !spec.usages().contains(&usage.as_str()) {
            return Err(KmsError::validation(format!(
                "KeyUsage {usage} is not compatible with KeySpec {spec_name}"
            )));
        }
        if usage == "KEY_AGREEMENT" {
            return Err(KmsError::new(
                Code::UnsupportedOperationException,
                "Aloft does not support KEY_AGREEMENT keys yet.",
            ));
        }
        let mut tags = BTreeMap::new();
        for t in i.tags {
            tags.insert(t.tag_key, t.tag_value);
        }
        if let Some(p) = &i.policy {
            crate::policies::check_policy(p)?;
        }
        // RSA key generation takes a while: never under the state lock.
        let mut key = tokio::task::spawn_blocking(move || new_key_owned(spec, usage))
            .await
            .map_err(|e| KmsError::new(Code::KMSInternalException, e.to_string()))??;
        key.account = account.into();
        key.region = region.into();
        key.arn = key_arn(account, region, &key.id);
        key.policy = i.policy.unwrap_or_else(|| default_policy(account));
        key.description = i.description.unwrap_or_default();
        key.tags = tags;
        let meta = metadata(&key);
        let c = {
            let mut m = self.state.lock();
            let c = self.state.save_key(&key);
            m.keys.insert(scoped(account, region, &key.id), key);
            c
        };
        commit(c).await?;
        Ok(json!({ "KeyMetadata": meta }))
    }

    pub(crate) async fn describe_key(&self, account: &str, region: &str, input: Value) -> Out {
        let i: KeyIdInput = parse(input)?;
        let k = self.find(account, region, &i.key_id).await?;
        Ok(json!({ "KeyMetadata": metadata(&k) }))
    }

    pub(crate) fn list_keys(&self, account: &str, region: &str, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            limit: Option<usize>,
            marker: Option<String>,
        }
        let i: In = parse(input)?;
        let m = self.state.lock();
        let mut keys: Vec<&Key> = m
            .keys
            .values()
            .filter(|k| k.account == account && k.region == region)
            .collect();
        keys.sort_by(|a, b| a.id.cmp(&b.id));
        let entries: Vec<Value> = keys
            .iter()
            .map(|k| json!({"KeyId": k.id, "KeyArn": k.arn}))
            .collect();
        page(entries, i.limit, i.marker.as_deref(), "Keys")
    }

    pub(crate) async fn set_enabled(
        &self,
        account: &str,
        region: &str,
        input: Value,
        enable: bool,
    ) -> Out {
        let i: KeyIdInput = parse(input)?;
        self.update(account, region, &i.key_id, |k| {
            if k.state == KeyState::PendingDeletion {
                return Err(pending(k));
            }
            k.state = if enable {
                KeyState::Enabled
            } else {
                KeyState::Disabled
            };
            Ok(())
        })
        .await?;
        Ok(json!({}))
    }

    pub(crate) async fn update_key_description(
        &self,
        account: &str,
        region: &str,
        input: Value,
    ) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            key_id: String,
            description: String,
        }
        let i: In = parse(input)?;
        self.update(account, region, &i.key_id, |k| {
            if k.state == KeyState::PendingDeletion {
                return Err(pending(k));
            }
            k.description = i.description;
            Ok(())
        })
        .await?;
        Ok(json!({}))
    }

    pub(crate) async fn schedule_key_deletion(
        &self,
        account: &str,
        region: &str,
        input: Value,
    ) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            key_id: String,
            pending_window_in_days: Option<u32>,
        }
        let i: In = parse(input)?;
        let days = i.pending_window_in_days.unwrap_or(30);
        if !(7..=30).contains(&days) {
            return Err(KmsError::validation(format!(
                "1 validation error detected: Value '{days}' at 'pendingWindowInDays' failed to satisfy constraint: Member must have value less than or equal to 30"
            )));
        }
        let (arn, when) = self
            .update(account, region, &i.key_id, |k| {
                if k.state == KeyState::PendingDeletion {
                    return Err(pending(k));
                }
                if k.manager == "AWS" {
                    return Err(KmsError::new(
                        Code::KMSInvalidStateException,
                        format!("{} is an AWS managed key and cannot be deleted.", k.arn),
                    ));
                }
                let when = clock::now_millis() + i64::from(days) * DAY_MS;
                k.state = KeyState::PendingDeletion;
                k.deletion_ms = Some(when);
                k.pending_days = Some(days);
                Ok((k.arn.clone(), when))
            })
            .await?;
        Ok(json!({
            "KeyId": arn, "DeletionDate": ms_to_s(when),
            "KeyState": "PendingDeletion", "PendingWindowInDays": days,
        }))
    }

    pub(crate) async fn cancel_key_deletion(
        &self,
        account: &str,
        region: &str,
        input: Value,
    ) -> Out {
        let i: KeyIdInput = parse(input)?;
        let arn = self
            .update(account, region, &i.key_id, |k| {
                if k.state != KeyState::PendingDeletion {
                    return Err(KmsError::new(
                        Code::KMSInvalidStateException,
                        format!("{} is not pending deletion.", k.arn),
                    ));
                }
                // A cancelled deletion leaves the key disabled, as in AWS.
                k.state = KeyState::Disabled;
                k.deletion_ms = None;
                k.pending_days = None;
                Ok(k.arn.clone())
            })
            .await?;
        Ok(json!({ "KeyId": arn }))
    }

    pub(crate) async fn enable_key_rotation(
        &self,
        account: &str,
        region: &str,
        input: Value,
    ) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            key_id: String,
            rotation_period_in_days: Option<u32>,
        }
        let i: In = parse(input)?;
        let days = i.rotation_period_in_days.unwrap_or(365);
        self.update(account, region, &i.key_id, |k| {
            rotatable(k)?;
            k.rotation_days = Some(days);
            k.next_rotation_ms = Some(clock::now_millis() + i64::from(days) * DAY_MS);
            Ok(())
        })
        .await?;
        Ok(json!({}))
    }

    pub(crate) async fn disable_key_rotation(
        &self,
        account: &str,
        region: &str,
        input: Value,
    ) -> Out {
        let i: KeyIdInput = parse(input)?;
        self.update(account, region, &i.key_id, |k| {
            rotatable(k)?;
            k.rotation_days = None;
            k.next_rotation_ms = None;
            Ok(())
        })
        .await?;
        Ok(json!({}))
    }

    pub(crate) async fn get_key_rotation_status(
        &self,
        account: &str,
        region: &str,
        input: Value,
    ) -> Out {
        let i: KeyIdInput = parse(input)?;
        let k = self.find(account, region, &i.key_id).await?;
        if k.state == KeyState::PendingDeletion {
            return Err(pending(&k));
        }
        if k.spec() != Spec::Symmetric {
            return Err(unsupported_rotation(&k));
        }
        let mut out = json!({"KeyId": k.arn, "KeyRotationEnabled": k.rotation_days.is_some()});
        if let (Some(d), Some(n)) = (k.rotation_days, k.next_rotation_ms) {
            out["RotationPeriodInDays"] = json!(d);
            out["NextRotationDate"] = json!(ms_to_s(n));
        }
        Ok(out)
    }

    pub(crate) async fn rotate_key_on_demand(
        &self,
        account: &str,
        region: &str,
        input: Value,
    ) -> Out {
        let i: KeyIdInput = parse(input)?;
        let arn = self
            .update(account, region, &i.key_id, |k| {
                rotatable(k)?;
                rotate(k, clock::now_millis(), "ON_DEMAND")?;
                Ok(k.arn.clone())
            })
            .await?;
        Ok(json!({ "KeyId": arn }))
    }

    pub(crate) async fn list_key_rotations(
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
        if k.spec() != Spec::Symmetric {
            return Err(unsupported_rotation(&k));
        }
        let entries = k
            .rotations
            .iter()
            .map(|r| json!({"KeyId": k.id, "RotationDate": r.date_s, "RotationType": r.kind}))
            .collect();
        page(entries, i.limit, i.marker.as_deref(), "Rotations")
    }
}

/// A fresh key of `spec` (account, region, ARN and policy are filled in by the caller).
fn new_key_owned(spec: Spec, usage: String) -> Result<Key> {
    let material = material::generate(spec)?;
    let id = uuid::Uuid::new_v4().to_string();
    Ok(Key {
        account: String::new(),
        region: String::new(),
        arn: String::new(),
        id,
        created_s: now_s(),
        description: String::new(),
        usage,
        spec: material::spec_name(spec),
        origin: "AWS_KMS".into(),
        manager: "CUSTOMER".into(),
        state: KeyState::Enabled,
        deletion_ms: None,
        pending_days: None,
        policy: String::new(),
        tags: BTreeMap::new(),
        rotation_days: None,
        next_rotation_ms: None,
        rotations: Vec::new(),
        materials: vec![b64_string(&material)],
        grants: Vec::new(),
    })
}

fn b64_string(b: &[u8]) -> String {
    b64(b).as_str().unwrap_or_default().to_string()
}

pub(crate) fn new_key(
    account: &str,
    region: &str,
    spec: Spec,
    usage: &str,
    manager: &str,
) -> Result<Key> {
    let mut k = new_key_owned(spec, usage.to_string())?;
    k.account = account.into();
    k.region = region.into();
    k.arn = key_arn(account, region, &k.id);
    k.policy = default_policy(account);
    k.manager = manager.into();
    if manager == "AWS" {
        // AWS managed keys rotate every year, always.
        k.rotation_days = Some(365);
        k.next_rotation_ms = Some(clock::now_millis() + 365 * DAY_MS);
    }
    Ok(k)
}

fn rotate(k: &mut Key, at_ms: i64, kind: &str) -> Result<()> {
    let fresh = material::generate(Spec::Symmetric)?;
    k.materials.push(b64_string(&fresh));
    let version = u16::try_from(k.materials.len() - 1).unwrap_or(u16::MAX);
    k.rotations.push(Rotation {
        version,
        date_s: ms_to_s(at_ms),
        kind: kind.into(),
    });
    Ok(())
}

pub(crate) fn pending(k: &Key) -> KmsError {
    KmsError::new(
        Code::KMSInvalidStateException,
        format!("{} is pending deletion.", k.arn),
    )
}

/// Whether a key may be used for cryptography now.
pub(crate) fn usable(k: &Key) -> Result<()> {
    match k.state {
        KeyState::Enabled => Ok(()),
        KeyState::Disabled => Err(KmsError::new(
            Code::DisabledException,
            format!("{} is disabled.", k.arn),
        )),
        KeyState::PendingDeletion => Err(pending(k)),
    }
}

fn unsupported_rotation(k: &Key) -> KmsError {
    KmsError::new(
        Code::UnsupportedOperationException,
        format!("{} does not support automatic key rotation.", k.arn),
    )
}

fn rotatable(k: &Key) -> Result<()> {
    if k.state == KeyState::PendingDeletion {
        return Err(pending(k));
    }
    if k.state == KeyState::Disabled {
        return Err(KmsError::new(
            Code::DisabledException,
            format!("{} is disabled.", k.arn),
        ));
    }
    if k.spec() != Spec::Symmetric {
        return Err(unsupported_rotation(k));
    }
    Ok(())
}

/// One page of a listing with KMS's `Limit`/`Marker`/`Truncated`/`NextMarker`.
pub(crate) fn page(
    entries: Vec<Value>,
    limit: Option<usize>,
    marker: Option<&str>,
    member: &str,
) -> Out {
    let start = match marker {
        None => 0,
        Some(m) => m
            .parse::<usize>()
            .ok()
            .filter(|n| *n <= entries.len())
            .ok_or_else(|| KmsError::new(Code::InvalidMarkerException, "Invalid marker"))?,
    };
    let limit = limit.unwrap_or(100).clamp(1, 1000);
    let end = (start + limit).min(entries.len());
    let truncated = end < entries.len();
    let mut out = json!({ member: entries[start..end].to_vec(), "Truncated": truncated });
    if truncated {
        out["NextMarker"] = json!(end.to_string());
    }
    Ok(out)
}
