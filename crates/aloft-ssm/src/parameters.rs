//! PutParameter with its overwrite, tier, pattern and version rules; GetParameter(s) with
//! selectors; DeleteParameter(s); GetParameterHistory; tags. SecureString values go
//! through the `kms` target with the parameter's ARN as encryption context, as in AWS.

use aloft_core::clock;
use aloft_events::Delivery;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{Code, Result, SsmError};
use crate::names::{self, Selector};
use crate::state::{Param, ParamVersion, scoped};
use crate::{Out, Ssm, commit, parse};

const STANDARD_MAX: usize = 4096;
const ADVANCED_MAX: usize = 8192;
const MAX_VERSIONS: usize = 100;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Tag {
    key: String,
    value: String,
}

fn kms_arn(account: &str, region: &str, key: Option<&str>) -> String {
    match key {
        Some(k) if k.starts_with("arn:") => k.to_string(),
        Some(k) if k.starts_with("alias/") => aloft_core::arn::build("kms", region, account, k),
        Some(k) => aloft_core::arn::build("kms", region, account, &format!("key/{k}")),
        None => aloft_core::arn::build("kms", region, account, "alias/aws/ssm"),
    }
}

/// The KeyId AWS reports for a SecureString: the alias or key as given, `alias/aws/ssm` by default.
fn shown_key(key: Option<&str>) -> String {
    key.unwrap_or("alias/aws/ssm").to_string()
}

impl Ssm {
    async fn kms(
        &self,
        account: &str,
        region: &str,
        key: Option<&str>,
        op: &str,
        arn: &str,
        payload: Vec<u8>,
    ) -> Result<Vec<u8>> {
        let mut options = serde_json::Map::new();
        options.insert("Operation".into(), json!(op));
        options.insert("EncryptionContext".into(), json!({"PARAMETER_ARN": arn}));
        let d = Delivery {
            payload: payload.into(),
            options,
            sync: true,
            source_arn: Some(arn.to_string()),
            account: account.into(),
            region: region.into(),
        };
        let out = self
            .targets
            .deliver(&kms_arn(account, region, key), d)
            .await
            .map_err(|e| {
                let code = if e.code == "NotFoundException" || e.code == "DisabledException" {
                    Code::InvalidKeyId
                } else {
                    Code::InternalServerError
                };
                SsmError::new(code, e.message)
            })?;
        Ok(out.payload.unwrap_or_default().to_vec())
    }

    /// The value as the caller sees it (SecureString decrypted only on request).
    pub(crate) async fn shown_value(
        &self,
        p: &Param,
        v: &ParamVersion,
        decrypt: bool,
    ) -> Result<String> {
        if v.kind != "SecureString" || !decrypt {
            return Ok(v.value.clone());
        }
        let blob = B64.decode(&v.value).unwrap_or_default();
        let plain = self
            .kms(
                &p.account,
                &p.region,
                v.key_id.as_deref(),
                "Decrypt",
                &p.arn,
                blob,
            )
            .await?;
        Ok(String::from_utf8_lossy(&plain).into_owned())
    }

    /// A copy of a parameter and the index of the version a selector names.
    pub(crate) fn pick(
        &self,
        account: &str,
        region: &str,
        spec: &str,
    ) -> Result<(Param, usize, String)> {
        let (name, sel) = names::split(spec)?;
        let m = self.state.lock();
        let p = m
            .get(&scoped(account, region, name))
            .ok_or_else(SsmError::not_found)?;
        let (idx, shown) = match sel {
            Selector::Latest => (p.versions.len() - 1, String::new()),
            Selector::Version(n) => (
                p.versions
                    .iter()
                    .position(|v| v.version == n)
                    .ok_or_else(|| {
                        SsmError::new(
                            Code::ParameterVersionNotFound,
                            format!("Systems Manager could not find version {n} of {name}. Verify the version and try again."),
                        )
                    })?,
                format!(":{n}"),
            ),
            Selector::Label(l) => (
                p.versions
                    .iter()
                    .position(|v| v.labels.iter().any(|x| x == l))
                    .ok_or_else(SsmError::not_found)?,
                format!(":{l}"),
            ),
        };
        Ok((p.clone(), idx, shown))
    }

    pub(crate) async fn parameter_json(
        &self,
        p: &Param,
        idx: usize,
        selector: &str,
        decrypt: bool,
    ) -> Result<Value> {
        let v = &p.versions[idx];
        let mut out = json!({
            "Name": p.name, "Type": v.kind, "Value": self.shown_value(p, v, decrypt).await?,
            "Version": v.version, "LastModifiedDate": v.modified_s, "ARN": p.arn,
            "DataType": v.data_type,
        });
        if !selector.is_empty() {
            out["Selector"] = json!(selector);
        }
        Ok(out)
    }

    pub(crate) async fn put_parameter(&self, account: &str, region: &str, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            name: String,
            description: Option<String>,
            value: String,
            #[serde(rename = "Type")]
            kind: Option<String>,
            key_id: Option<String>,
            #[serde(default)]
            overwrite: bool,
            allowed_pattern: Option<String>,
            tags: Option<Vec<Tag>>,
            tier: Option<String>,
            policies: Option<String>,
            data_type: Option<String>,
        }
        let i: In = parse(input)?;
        names::check_name(&i.name)?;
        if i.overwrite && i.tags.is_some() {
            return Err(SsmError::validation(
                "Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.",
            ));
        }
        let key = scoped(account, region, &i.name);
        let existing = self.state.lock().get(&key).cloned();
        if existing.is_some() && !i.overwrite {
            return Err(SsmError::new(
                Code::ParameterAlreadyExists,
                "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.",
            ));
        }
        let prev = existing.as_ref().map(Param::current);
        let kind = match (i.kind, prev) {
            (Some(k), _) => k,
            (None, Some(p)) => p.kind.clone(),
            (None, None) => {
                return Err(SsmError::validation(
                    "A parameter type is required when you create a parameter.",
                ));
            }
        };
        if kind != "SecureString" && i.key_id.is_some() {
            return Err(SsmError::validation(
                "KeyId is required for SecureString type parameter only.",
            ));
        }
        let data_type = i.data_type.unwrap_or_else(|| "text".into());
        if !["text", "aws:ec2:image", "aws:ssm:integration"].contains(&data_type.as_str()) {
            return Err(SsmError::validation(format!(
                "The following data type is not supported: {data_type} (Data type names are all lowercase.)"
            )));
        }
        if data_type == "aws:ec2:image" && !i.value.starts_with("ami-") {
            return Err(SsmError::validation(format!(
                "Parameter value {} is not a valid ami-id.",
                i.value
            )));
        }
        // The tier: Intelligent-Tiering picks Advanced only when the value needs it, and a
        // parameter never moves back from Advanced to Standard.
        let was_advanced = prev.is_some_and(|p| p.tier == "Advanced");
        let len = i.value.chars().count();
        let tier = match i.tier.as_deref() {
            Some("Advanced") => "Advanced",
            Some("Standard") if was_advanced => {
                return Err(SsmError::validation(
                    "This parameter uses the advanced-parameter tier. You can't downgrade a parameter from the advanced-parameter tier to the standard-parameter tier. If necessary, you can delete the advanced parameter and recreate it as a standard parameter.",
                ));
            }
            Some("Intelligent-Tiering") if len > STANDARD_MAX => "Advanced",
            _ if was_advanced => "Advanced",
            _ => "Standard",
        };
        if tier == "Standard" && len > STANDARD_MAX {
            return Err(SsmError::validation(
                "Standard tier parameters support a maximum parameter value of 4096 characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier. For more information, see https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html",
            ));
        }
        if len > ADVANCED_MAX {
            return Err(SsmError::validation(
                "Advanced tier parameters support a maximum parameter value of 8192 characters.",
            ));
        }
        let pattern = i
            .allowed_pattern
            .clone()
            .or_else(|| prev.and_then(|p| p.allowed_pattern.clone()));
        if let Some(pat) = &pattern {
            let re = regex::Regex::new(&format!("^(?:{pat})$")).map_err(|_| {
                SsmError::new(
                    Code::InvalidAllowedPatternException,
                    "The allowed pattern is not valid.",
                )
            })?;
            if !re.is_match(&i.value) {
                return Err(SsmError::new(
                    Code::ParameterPatternMismatchException,
                    format!("Parameter value, cannot be validated against allowedPattern: {pat}"),
                ));
            }
        }
        let arn = names::arn(account, region, &i.name);
        let key_id = if kind == "SecureString" {
            Some(
                i.key_id
                    .clone()
                    .or_else(|| prev.and_then(|p| p.key_id.clone()))
                    .unwrap_or_else(|| shown_key(None)),
            )
        } else {
            None
        };
        let stored = if kind == "SecureString" {
            let blob = self
                .kms(
                    account,
                    region,
                    key_id.as_deref(),
                    "Encrypt",
                    &arn,
                    i.value.clone().into_bytes(),
                )
                .await?;
            B64.encode(blob)
        } else {
            i.value.clone()
        };
        let (version, c) = {
            let mut m = self.state.lock();
            let entry = m.entry(key.clone()).or_insert_with(|| Param {
                account: account.into(),
                region: region.into(),
                name: i.name.clone(),
                arn: arn.clone(),
                tags: i
                    .tags
                    .unwrap_or_default()
                    .into_iter()
                    .map(|t| (t.key, t.value))
                    .collect(),
                versions: Vec::new(),
            });
            let next = entry.versions.last().map_or(1, |v| v.version + 1);
            if entry.versions.len() >= MAX_VERSIONS {
                let oldest = &entry.versions[0];
                if !oldest.labels.is_empty() {
                    return Err(SsmError::new(
                        Code::ParameterMaxVersionLimitExceeded,
                        format!(
                            "You attempted to create a new version of {} by calling the PutParameter API with the overwrite flag. Version {}, the oldest version, can't be deleted because it has a label associated with it. Move the label to another version of the parameter, and try again.",
                            i.name, oldest.version
                        ),
                    ));
                }
                entry.versions.remove(0);
            }
            let description = i
                .description
                .or_else(|| entry.versions.last().and_then(|v| v.description.clone()));
            entry.versions.push(ParamVersion {
                version: next,
                value: stored,
                kind,
                description,
                key_id,
                allowed_pattern: pattern,
                tier: tier.to_string(),
                data_type,
                policies: i.policies,
                modified_s: clock::now_secs_f64(),
                user: format!("arn:aws:iam::{account}:root"),
                labels: Vec::new(),
            });
            (next, self.state.save(entry))
        };
        commit(c).await?;
        Ok(json!({"Version": version, "Tier": tier}))
    }

    pub(crate) async fn get_parameter(&self, account: &str, region: &str, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            name: String,
            #[serde(default)]
            with_decryption: bool,
        }
        let i: In = parse(input)?;
        let (p, idx, sel) = self.pick(account, region, &i.name)?;
        let param = self
            .parameter_json(&p, idx, &sel, i.with_decryption)
            .await?;
        Ok(json!({ "Parameter": param }))
    }

    pub(crate) async fn get_parameters(&self, account: &str, region: &str, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            names: Vec<String>,
            #[serde(default)]
            with_decryption: bool,
        }
        let i: In = parse(input)?;
        let mut found = Vec::new();
        let mut invalid = Vec::new();
        for n in &i.names {
            match self.pick(account, region, n) {
                Ok((p, idx, sel)) => {
                    found.push(
                        self.parameter_json(&p, idx, &sel, i.with_decryption)
                            .await?,
                    );
                }
                Err(e) if e.code == Code::ValidationException => return Err(e),
                Err(_) => {
                    if !invalid.contains(n) {
                        invalid.push(n.clone());
                    }
                }
            }
        }
        Ok(json!({"Parameters": found, "InvalidParameters": invalid}))
    }

    pub(crate) async fn delete_parameter(&self, account: &str, region: &str, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            name: String,
        }
        let i: In = parse(input)?;
        let key = scoped(account, region, &i.name);
        let c = {
            let mut m = self.state.lock();
            if m.remove(&key).is_none() {
                return Err(SsmError::not_found());
            }
            self.state.delete(&[key])
        };
        commit(c).await?;
        Ok(json!({}))
    }

    pub(crate) async fn delete_parameters(&self, account: &str, region: &str, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            names: Vec<String>,
        }
        let i: In = parse(input)?;
        let (deleted, invalid, c) = {
            let mut m = self.state.lock();
            let mut deleted = Vec::new();
            let mut invalid = Vec::new();
            let mut keys = Vec::new();
            for n in i.names {
                let key = scoped(account, region, &n);
                if m.remove(&key).is_some() {
                    deleted.push(n);
                    keys.push(key);
                } else {
                    invalid.push(n);
                }
            }
            (deleted, invalid, self.state.delete(&keys))
        };
        commit(c).await?;
        Ok(json!({"DeletedParameters": deleted, "InvalidParameters": invalid}))
    }

    pub(crate) async fn get_parameter_history(
        &self,
        account: &str,
        region: &str,
        input: Value,
    ) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            name: String,
            #[serde(default)]
            with_decryption: bool,
            max_results: Option<usize>,
            next_token: Option<String>,
        }
        let i: In = parse(input)?;
        let p = self
            .state
            .lock()
            .get(&scoped(account, region, &i.name))
            .cloned()
            .ok_or_else(SsmError::not_found)?;
        let (start, end) = crate::query::window(
            p.versions.len(),
            i.next_token.as_deref(),
            i.max_results.unwrap_or(50).clamp(1, 50),
        )?;
        let mut out = Vec::new();
        for v in &p.versions[start..end] {
            let mut h = json!({
                "Name": p.name, "Type": v.kind, "LastModifiedDate": v.modified_s,
                "LastModifiedUser": v.user, "Value": self.shown_value(&p, v, i.with_decryption).await?,
                "Version": v.version, "Labels": v.labels, "Tier": v.tier, "Policies": [],
                "DataType": v.data_type,
            });
            if let Some(d) = &v.description {
                h["Description"] = json!(d);
            }
            if let Some(k) = &v.key_id {
                h["KeyId"] = json!(k);
            }
            if let Some(a) = &v.allowed_pattern {
                h["AllowedPattern"] = json!(a);
            }
            out.push(h);
        }
        let mut resp = json!({ "Parameters": out });
        if end < p.versions.len() {
            resp["NextToken"] = json!(end.to_string());
        }
        Ok(resp)
    }

    fn tag_target(&self, account: &str, region: &str, kind: &str, id: &str) -> Result<String> {
        if kind != "Parameter" {
            return Err(SsmError::new(
                Code::InvalidResourceType,
                format!("Aloft supports tags on Parameter resources only, not {kind}."),
            ));
        }
        let key = scoped(account, region, id);
        if !self.state.lock().contains_key(&key) {
            return Err(SsmError::new(Code::InvalidResourceId, ""));
        }
        Ok(key)
    }

    pub(crate) async fn add_tags_to_resource(
        &self,
        account: &str,
        region: &str,
        input: Value,
    ) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            resource_type: String,
            resource_id: String,
            tags: Vec<Tag>,
        }
        let i: In = parse(input)?;
        let key = self.tag_target(account, region, &i.resource_type, &i.resource_id)?;
        let c = {
            let mut m = self.state.lock();
            let p = m
                .get_mut(&key)
                .ok_or_else(|| SsmError::new(Code::InvalidResourceId, ""))?;
            let mut tags = p.tags.clone();
            for t in i.tags {
                match tags.iter_mut().find(|(k, _)| *k == t.key) {
                    Some(e) => e.1 = t.value,
                    None => tags.push((t.key, t.value)),
                }
            }
            if tags.len() > 50 {
                return Err(SsmError::new(
                    Code::TooManyTagsError,
                    "The Tags list can't contain more than 50 tags.",
                ));
            }
            p.tags = tags;
            self.state.save(p)
        };
        commit(c).await?;
        Ok(json!({}))
    }

    pub(crate) async fn remove_tags_from_resource(
        &self,
        account: &str,
        region: &str,
        input: Value,
    ) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            resource_type: String,
            resource_id: String,
            tag_keys: Vec<String>,
        }
        let i: In = parse(input)?;
        let key = self.tag_target(account, region, &i.resource_type, &i.resource_id)?;
        let c = {
            let mut m = self.state.lock();
            let p = m
                .get_mut(&key)
                .ok_or_else(|| SsmError::new(Code::InvalidResourceId, ""))?;
            p.tags.retain(|(k, _)| !i.tag_keys.contains(k));
            self.state.save(p)
        };
        commit(c).await?;
        Ok(json!({}))
    }

    pub(crate) fn list_tags_for_resource(&self, account: &str, region: &str, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            resource_type: String,
            resource_id: String,
        }
        let i: In = parse(input)?;
        let key = self.tag_target(account, region, &i.resource_type, &i.resource_id)?;
        let m = self.state.lock();
        let tags: Vec<Value> = m[&key]
            .tags
            .iter()
            .map(|(k, v)| json!({"Key": k, "Value": v}))
            .collect();
        Ok(json!({ "TagList": tags }))
    }
}
