//! Layers: published, versioned packages extracted beside a function's code (as AWS's /opt).

use std::collections::BTreeMap;

use aloft_core::RequestContext;
use serde_json::{Value, json};

use crate::config::{FunctionCode, parse};
use crate::error::{Code, Result, constraint, err, not_found};
use crate::model::{Layer, LayerRef, LayerVersion};
use crate::{Lambda, key};

fn layer_name(input: &Value) -> Result<String> {
    let raw = input
        .get("LayerName")
        .and_then(Value::as_str)
        .unwrap_or_default();
    // A layer ARN is accepted wherever a name is.
    let name = raw
        .strip_prefix("arn:")
        .map_or(raw, |_| raw.rsplit(':').next().unwrap_or(raw));
    if name.is_empty()
        || name.len() > 140
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(constraint(
            raw,
            "layerName",
            "Member must satisfy regular expression pattern: (arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+)|[a-zA-Z0-9-_]+",
        ));
    }
    Ok(name.to_string())
}

fn version_number(input: &Value) -> u64 {
    input
        .get("VersionNumber")
        .and_then(|v| {
            v.as_u64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        })
        .unwrap_or(0)
}

impl Lambda {
    pub async fn publish_layer_version(&self, ctx: &RequestContext, input: Value) -> Result<Value> {
        let name = layer_name(&input)?;
        let content: FunctionCode = parse(input.get("Content").cloned().unwrap_or(json!({})))?;
        let pkg = self.load_code(ctx, &content, "PublishLayerVersion").await?;
        let strings = |k: &str| -> Vec<String> {
            input
                .get(k)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        let k = key(&ctx.account_id, &ctx.region, &name);
        let (out, commit) = {
            let mut s = self.state.lock().expect("state lock");
            let layer = s.layers.entry(k.clone()).or_insert_with(|| Layer {
                account: ctx.account_id.clone(),
                region: ctx.region.clone(),
                name: name.clone(),
                next_version: 1,
                versions: BTreeMap::new(),
            });
            let n = layer.next_version;
            layer.next_version += 1;
            let v = LayerVersion {
                version: n,
                description: input
                    .get("Description")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                created_ms: aloft_core::clock::now_millis(),
                compatible_runtimes: strings("CompatibleRuntimes"),
                compatible_architectures: strings("CompatibleArchitectures"),
                license_info: input
                    .get("LicenseInfo")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                code_sha256: pkg.sha256,
                code_hex: pkg.hex,
                code_size: pkg.size,
                policy: vec![],
            };
            let out = layer.version_json(&v, &ctx.base_url, true);
            layer.versions.insert(n, v);
            let commit = self.persist_layer(&k, Some(layer));
            (out, commit)
        };
        commit
            .await
            .map_err(|e| err(Code::Service, e.to_string()))?;
        Ok(out)
    }

    fn layer_version_json(&self, ctx: &RequestContext, name: &str, n: u64) -> Result<Value> {
        let s = self.state.lock().expect("state lock");
        let arn = ctx.arn("lambda", &format!("layer:{name}:{n}"));
        let l = s
            .layers
            .get(&key(&ctx.account_id, &ctx.region, name))
            .ok_or_else(|| {
                err(
                    Code::ResourceNotFound,
                    "The resource you requested does not exist.",
                )
            })?;
        let v = l
            .versions
            .get(&n)
            .ok_or_else(|| not_found("Layer version", &arn).with_field("Type", "User"))?;
        Ok(l.version_json(v, &ctx.base_url, true))
    }

    pub fn get_layer_version(&self, ctx: &RequestContext, input: Value) -> Result<Value> {
        let name = layer_name(&input)?;
        self.layer_version_json(ctx, &name, version_number(&input))
    }

    pub fn get_layer_version_by_arn(&self, ctx: &RequestContext, input: Value) -> Result<Value> {
        let arn = input.get("Arn").and_then(Value::as_str).unwrap_or_default();
        let parts: Vec<&str> = arn.split(':').collect();
        match parts.as_slice() {
            ["arn", _, "lambda", _, _, "layer", name, n] => {
                self.layer_version_json(ctx, name, n.parse().unwrap_or(0))
            }
            _ => Err(constraint(
                arn,
                "arn",
                "Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:\\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+)",
            )),
        }
    }

    pub fn list_layers(&self, ctx: &RequestContext, input: Value) -> Result<Value> {
        let runtime = input.get("CompatibleRuntime").and_then(Value::as_str);
        let s = self.state.lock().expect("state lock");
        let prefix = format!("{}/{}/", ctx.account_id, ctx.region);
        let mut items: Vec<(String, Value)> = s
            .layers
            .iter()
            .filter(|(k, _)| k.starts_with(&prefix))
            .filter_map(|(_, l)| {
                let v = l.versions.values().rev().find(|v| {
                    runtime.is_none_or(|r| v.compatible_runtimes.iter().any(|c| c == r))
                })?;
                Some((
                    l.name.clone(),
                    json!({
                        "LayerName": l.name,
                        "LayerArn": l.arn(),
                        "LatestMatchingVersion": l.version_json(v, &ctx.base_url, false),
                    }),
                ))
            })
            .collect();
        items.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(crate::functions::paginate(
            items.into_iter().map(|(_, v)| v).collect(),
            &input,
            "Layers",
            "NextMarker",
            50,
        ))
    }

    pub fn list_layer_versions(&self, ctx: &RequestContext, input: Value) -> Result<Value> {
        let name = layer_name(&input)?;
        let s = self.state.lock().expect("state lock");
        let items = s
            .layers
            .get(&key(&ctx.account_id, &ctx.region, &name))
            .map(|l| {
                l.versions
                    .values()
                    .rev()
                    .map(|v| l.version_json(v, &ctx.base_url, false))
                    .collect()
            })
            .unwrap_or_default();
        Ok(crate::functions::paginate(
            items,
            &input,
            "LayerVersions",
            "NextMarker",
            50,
        ))
    }

    pub async fn delete_layer_version(&self, ctx: &RequestContext, input: Value) -> Result<Value> {
        let name = layer_name(&input)?;
        let n = version_number(&input);
        let k = key(&ctx.account_id, &ctx.region, &name);
        let commit = {
            let mut s = self.state.lock().expect("state lock");
            let Some(l) = s.layers.get_mut(&k) else {
                return Ok(json!({}));
            };
            l.versions.remove(&n);
            self.persist_layer(&k, Some(l))
        };
        commit
            .await
            .map_err(|e| err(Code::Service, e.to_string()))?;
        Ok(json!({}))
    }

    /// Resolves layer version ARNs for a function configuration (at most 5, as AWS allows).
    pub(crate) fn resolve_layers(
        &self,
        _ctx: &RequestContext,
        arns: &[String],
    ) -> Result<Vec<LayerRef>> {
        if arns.len() > 5 {
            return Err(err(
                Code::InvalidParameterValue,
                "Cannot reference more than 5 layers.",
            ));
        }
        let s = self.state.lock().expect("state lock");
        let mut out = Vec::new();
        for arn in arns {
            let parts: Vec<&str> = arn.split(':').collect();
            let found = match parts.as_slice() {
                ["arn", _, "lambda", region, account, "layer", name, n] => s
                    .layers
                    .get(&key(account, region, name))
                    .and_then(|l| l.versions.get(&n.parse::<u64>().unwrap_or(0))),
                _ => {
                    return Err(constraint(
                        arn,
                        "layers",
                        "Member must satisfy constraint: [Member must satisfy regular expression pattern: (arn:[a-zA-Z0-9-]+:lambda:[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:\\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+)|(arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9-_]+)]",
                    ));
                }
            };
            let Some(v) = found else {
                return Err(err(
                    Code::InvalidParameterValue,
                    format!("Layer version {arn} does not exist."),
                ));
            };
            out.push(LayerRef {
                arn: arn.clone(),
                code_size: v.code_size,
                code_hex: v.code_hex.clone(),
            });
        }
        Ok(out)
    }
}
