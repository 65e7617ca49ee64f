//! Functions and their versions: create, read, update, delete, list, publish.

use std::collections::BTreeMap;

use aloft_core::RequestContext;
use serde_json::{Value, json};

use crate::config::{ConfigInput, FunctionCode, check_role, parse};
use crate::error::{Code, Result, constraint, err, not_found};
use crate::model::{Function, LayerRef, Version};
use crate::{Lambda, key};

pub fn parse_name(raw: &str) -> Result<(String, Option<String>)> {
    let invalid = || {
        constraint(
            raw,
            "functionName",
            "Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?",
        )
    };
    let parts: Vec<&str> = raw.split(':').collect();
    let (name, qual) = match parts.as_slice() {
        [n] => (*n, None),
        [n, q] => (*n, Some(*q)),
        [_acct, "function", n] => (*n, None),
        [_acct, "function", n, q] => (*n, Some(*q)),
        ["arn", _, "lambda", _, _, "function", n] => (*n, None),
        ["arn", _, "lambda", _, _, "function", n, q] => (*n, Some(*q)),
        _ => return Err(invalid()),
    };
    let ok_name = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    let ok_qual = qual.is_none_or(|q| {
        q == "$LATEST"
            || (!q.is_empty()
                && q.len() <= 128
                && q.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    });
    if !ok_name || !ok_qual {
        return Err(invalid());
    }
    Ok((name.to_string(), qual.map(str::to_string)))
}

/// The qualifier from `FunctionName` and `Qualifier` together; AWS refuses two that differ.
pub fn qualifier(from_name: Option<String>, from_input: Option<&str>) -> Result<Option<String>> {
    match (from_name, from_input) {
        (Some(a), Some(b)) if a != b => Err(err(
            Code::InvalidParameterValue,
            "The derived qualifier from the function name does not match the specified qualifier.",
        )),
        (Some(a), _) => Ok(Some(a)),
        (None, b) => Ok(b.map(str::to_string)),
    }
}

pub fn revision() -> String {
    aloft_core::ids::uuid()
}

impl Lambda {
    /// Reads a package from `Code`: inline base64, or an S3 object through the S3 target.
    pub(crate) async fn load_code(
        &self,
        ctx: &RequestContext,
        code: &FunctionCode,
        op: &str,
    ) -> Result<crate::code::Package> {
        if let Some(z) = &code.zip_file {
            let bytes = crate::code::decode_base64(z)?;
            let root = self.code_root.clone();
            let op = op.to_string();
            return tokio::task::spawn_blocking(move || crate::code::store(&root, &bytes, &op))
                .await
                .map_err(|e| err(Code::Service, e.to_string()))?;
        }
        if let (Some(b), Some(k)) = (&code.s3_bucket, &code.s3_key) {
            let bytes = self
                .fetch_s3(ctx, b, k, code.s3_object_version.as_deref())
                .await?;
            let root = self.code_root.clone();
            let op = op.to_string();
            return tokio::task::spawn_blocking(move || crate::code::store(&root, &bytes, &op))
                .await
                .map_err(|e| err(Code::Service, e.to_string()))?;
        }
        if code.image_uri.is_some() {
            return Err(err(
                Code::InvalidParameterValue,
                "Aloft runs .zip packages only: container image functions are not supported.",
            ));
        }
        Err(err(
            Code::InvalidParameterValue,
            "Please provide a source for function code.",
        ))
    }

    /// Reads `s3://bucket/key` by delivering a `GetObject` to the S3 service's target.
    async fn fetch_s3(
        &self,
        ctx: &RequestContext,
        bucket: &str,
        key: &str,
        version: Option<&str>,
    ) -> Result<Vec<u8>> {
        let mut options = serde_json::Map::new();
        options.insert("Operation".into(), json!("GetObject"));
        if let Some(v) = version {
            options.insert("VersionId".into(), json!(v));
        }
        let d = aloft_events::Delivery {
            options,
            sync: true,
            account: ctx.account_id.clone(),
            region: ctx.region.clone(),
            ..Default::default()
        };
        let failed = || {
            err(
                Code::InvalidParameterValue,
                "Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: The specified key does not exist.",
            )
        };
        match self
            .ctx
            .targets
            .deliver(&format!("arn:aws:s3:::{bucket}/{key}"), d)
            .await
        {
            Ok(out) => out.payload.map(|b| b.to_vec()).ok_or_else(failed),
            Err(e) => Err(err(
                Code::InvalidParameterValue,
                format!(
                    "Error occurred while GetObject. S3 Error Code: {}. S3 Error Message: {}",
                    if e.code == "ResourceNotFoundException" {
                        "NoSuchBucket"
                    } else {
                        e.code
                    },
                    if e.code == "ResourceNotFoundException" {
                        "The specified bucket does not exist"
                    } else {
                        e.message.as_str()
                    }
                ),
            )),
        }
    }

    pub async fn create_function(&self, ctx: &RequestContext, input: Value) -> Result<Value> {
        let c: ConfigInput = parse(input)?;
        let (name, qual) = parse_name(&c.function_name)?;
        if qual.is_some() {
            return Err(constraint(
                &c.function_name,
                "functionName",
                "Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)",
            ));
        }
        let Some(role) = &c.role else {
            return Err(constraint("null", "role", "Member must not be null"));
        };
        check_role(role)?;
        let package_type = c.package_type.clone().unwrap_or_else(|| "Zip".into());
        if package_type == "Zip" && (c.runtime.is_none() || c.handler.is_none()) {
            let missing = if c.runtime.is_none() {
                "Runtime"
            } else {
                "Handler"
            };
            return Err(err(
                Code::InvalidParameterValue,
                format!("{missing} is required when PackageType is Zip."),
            ));
        }
        if c.runtime
            .as_deref()
            .and_then(crate::runtime::env::family)
            .is_some_and(|f| f == crate::runtime::env::Family::Python)
        {
            self.engine.warm_python();
        }
        let k = key(&ctx.account_id, &ctx.region, &name);
        let now = aloft_core::clock::now_millis();
        let mut v = Version {
            version: "$LATEST".into(),
            runtime: None,
            role: String::new(),
            handler: None,
            description: String::new(),
            timeout: 3,
            memory_size: 128,
            variables: None,
            layers: vec![],
            architectures: vec!["x86_64".into()],
            ephemeral_storage: 512,
            dead_letter_target: None,
            tracing_mode: "PassThrough".into(),
            package_type,
            log_group: None,
            log_format: "Text".into(),
            code_sha256: String::new(),
            code_hex: String::new(),
            code_size: 0,
            last_modified_ms: now,
            revision_id: revision(),
            kms_key_arn: None,
            vpc: None,
        };
        self.apply_config(ctx, &mut v, &c)?;
        if self
            .state
            .lock()
            .expect("state lock")
            .functions
            .contains_key(&k)
        {
            return Err(err(
                Code::ResourceConflict,
                format!("Function already exist: {name}"),
            ));
        }
        let pkg = self
            .load_code(
                ctx,
                c.code.as_ref().unwrap_or(&FunctionCode::default()),
                "CreateFunction",
            )
            .await?;
        v.code_sha256 = pkg.sha256;
        v.code_hex = pkg.hex;
        v.code_size = pkg.size;
        let mut f = Function {
            account: ctx.account_id.clone(),
            region: ctx.region.clone(),
            name: name.clone(),
            latest: v,
            versions: BTreeMap::new(),
            next_version: 1,
            aliases: BTreeMap::new(),
            policies: BTreeMap::new(),
            reserved_concurrency: None,
            urls: BTreeMap::new(),
            event_invoke: BTreeMap::new(),
            tags: c.tags.clone().unwrap_or_default(),
        };
        let mut out_version = f.latest.clone();
        if c.publish == Some(true) {
            out_version = publish(&mut f, None)?;
        }
        let (out, commit) = {
            let mut s = self.state.lock().expect("state lock");
            if s.functions.contains_key(&k) {
                return Err(err(
                    Code::ResourceConflict,
                    format!("Function already exist: {name}"),
                ));
            }
            let out = f.config(&out_version);
            let commit = self.persist_function(&k, Some(&f));
            s.functions.insert(k, f);
            (out, commit)
        };
        commit
            .await
            .map_err(|e| err(Code::Service, e.to_string()))?;
        // The create response shows the function still being created, as AWS's does.
        let mut out = out;
        out["State"] = json!("Pending");
        out["StateReason"] = json!("The function is being created.");
        out["StateReasonCode"] = json!("Creating");
        Ok(out)
    }

    /// Runs `f` on the named function under the state lock and journals it.
    pub(crate) async fn mutate<T>(
        &self,
        ctx: &RequestContext,
        name: &str,
        f: impl FnOnce(&mut Function) -> Result<T>,
    ) -> Result<T> {
        let k = key(&ctx.account_id, &ctx.region, name);
        let (out, commit) = {
            let mut s = self.state.lock().expect("state lock");
            let func = s.functions.get_mut(&k).ok_or_else(|| {
                not_found("Function", &ctx.arn("lambda", &format!("function:{name}")))
            })?;
            let out = f(func)?;
            let commit = self.persist_function(&k, Some(func));
            (out, commit)
        };
        commit
            .await
            .map_err(|e| err(Code::Service, e.to_string()))?;
        Ok(out)
    }

    /// Reads the named function under the state lock.
    pub(crate) fn read<T>(
        &self,
        ctx: &RequestContext,
        name: &str,
        f: impl FnOnce(&Function) -> Result<T>,
    ) -> Result<T> {
        let k = key(&ctx.account_id, &ctx.region, name);
        let s = self.state.lock().expect("state lock");
        let func = s.functions.get(&k).ok_or_else(|| {
            not_found("Function", &ctx.arn("lambda", &format!("function:{name}")))
        })?;
        f(func)
    }

    pub fn get_function(&self, ctx: &RequestContext, input: Value) -> Result<Value> {
        let (name, q) = name_and_qualifier(&input)?;
        self.read(ctx, &name, |f| {
            let v = resolve(f, q.as_deref())?;
            let mut out = json!({
                "Configuration": f.config(v),
                "Code": {
                    "RepositoryType": "S3",
                    "Location": format!("{}/_aloft/lambda/code/{}", ctx.base_url, v.code_hex),
                },
            });
            if !f.tags.is_empty() {
                out["Tags"] = json!(f.tags);
            }
            if let Some(r) = f.reserved_concurrency {
                out["Concurrency"] = json!({"ReservedConcurrentExecutions": r});
            }
            Ok(out)
        })
    }

    pub fn get_function_configuration(&self, ctx: &RequestContext, input: Value) -> Result<Value> {
        let (name, q) = name_and_qualifier(&input)?;
        self.read(ctx, &name, |f| Ok(f.config(resolve(f, q.as_deref())?)))
    }

    pub async fn update_function_code(&self, ctx: &RequestContext, input: Value) -> Result<Value> {
        let (name, _) = name_and_qualifier(&input)?;
        let code: FunctionCode = parse(input.clone())?;
        let publish_now = input.get("Publish").and_then(Value::as_bool) == Some(true);
        let rev = input
            .get("RevisionId")
            .and_then(Value::as_str)
            .map(str::to_string);
        self.read(ctx, &name, |_| Ok(()))?;
        let pkg = self.load_code(ctx, &code, "UpdateFunctionCode").await?;
        let out = self
            .mutate(ctx, &name, |f| {
                check_revision(rev.as_deref(), &f.latest.revision_id)?;
                f.latest.code_sha256 = pkg.sha256;
                f.latest.code_hex = pkg.hex;
                f.latest.code_size = pkg.size;
                f.latest.last_modified_ms = aloft_core::clock::now_millis();
                f.latest.revision_id = revision();
                let v = if publish_now {
                    publish(f, None)?
                } else {
                    f.latest.clone()
                };
                Ok(f.config(&v))
            })
            .await?;
        self.engine
            .retire(&ctx.account_id, &ctx.region, &name, Some("$LATEST"));
        Ok(in_progress(out))
    }

    pub async fn update_function_configuration(
        &self,
        ctx: &RequestContext,
        input: Value,
    ) -> Result<Value> {
        let c: ConfigInput = parse(input)?;
        let (name, _) = parse_name(&c.function_name)?;
        let out = self
            .mutate(ctx, &name, |f| {
                check_revision(c.revision_id.as_deref(), &f.latest.revision_id)?;
                let mut v = f.latest.clone();
                self.apply_config(ctx, &mut v, &c)?;
                v.last_modified_ms = aloft_core::clock::now_millis();
                v.revision_id = revision();
                f.latest = v;
                Ok(f.config(&f.latest))
            })
            .await?;
        self.engine
            .retire(&ctx.account_id, &ctx.region, &name, Some("$LATEST"));
        Ok(in_progress(out))
    }

    pub async fn delete_function(&self, ctx: &RequestContext, input: Value) -> Result<Value> {
        let (name, q) = name_and_qualifier(&input)?;
        let k = key(&ctx.account_id, &ctx.region, &name);
        let commit = {
            let mut s = self.state.lock().expect("state lock");
            let not_found_err =
                || not_found("Function", &ctx.arn("lambda", &format!("function:{name}")));
            match q.as_deref() {
                None | Some("$LATEST") => {
                    if s.functions.remove(&k).is_none() {
                        return Err(not_found_err());
                    }
                    self.persist_function(&k, None)
                }
                Some(qv) => {
                    let f = s.functions.get_mut(&k).ok_or_else(not_found_err)?;
                    let n = qv.parse::<u64>().map_err(|_| {
                        err(
                            Code::InvalidParameterValue,
                            "Deletion of aliases is not currently supported.",
                        )
                    })?;
                    if let Some(a) = f
                        .aliases
                        .values()
                        .find(|a| a.function_version == qv || a.routing.contains_key(qv))
                    {
                        return Err(err(
                            Code::ResourceConflict,
                            format!(
                                "Unable to delete version because the following aliases reference it: [{}]",
                                a.name
                            ),
                        ));
                    }
                    if f.versions.remove(&n).is_none() {
                        return Err(not_found("Function", &format!("{}:{qv}", f.arn())));
                    }
                    self.persist_function(&k, Some(f))
                }
            }
        };
        commit
            .await
            .map_err(|e| err(Code::Service, e.to_string()))?;
        self.engine
            .retire(&ctx.account_id, &ctx.region, &name, q.as_deref());
        Ok(json!({}))
    }

    pub fn list_functions(&self, ctx: &RequestContext, input: Value) -> Result<Value> {
        let all_versions = input.get("FunctionVersion").and_then(Value::as_str) == Some("ALL");
        let s = self.state.lock().expect("state lock");
        let prefix = format!("{}/{}/", ctx.account_id, ctx.region);
        let mut keys: Vec<&String> = s
            .functions
            .keys()
            .filter(|k| k.starts_with(&prefix))
            .collect();
        keys.sort();
        let mut items = Vec::new();
        for k in keys {
            let f = &s.functions[k];
            items.push(f.config(&f.latest));
            if all_versions {
                for v in f.versions.values() {
                    items.push(f.config(v));
                }
            }
        }
        Ok(paginate(items, &input, "Functions", "NextMarker", 50))
    }

    pub async fn publish_version(&self, ctx: &RequestContext, input: Value) -> Result<Value> {
        let (name, _) = name_and_qualifier(&input)?;
        let description = input
            .get("Description")
            .and_then(Value::as_str)
            .map(str::to_string);
        let sha = input
            .get("CodeSha256")
            .and_then(Value::as_str)
            .map(str::to_string);
        let rev = input
            .get("RevisionId")
            .and_then(Value::as_str)
            .map(str::to_string);
        self.mutate(ctx, &name, |f| {
            check_revision(rev.as_deref(), &f.latest.revision_id)?;
            if let Some(s) = &sha
                && *s != f.latest.code_sha256
            {
                return Err(err(
                    Code::InvalidParameterValue,
                    format!("CodeSHA256 ({s}) is different from current CodeSHA256 in $LATEST ({}). Please try again with the CodeSHA256 in $LATEST.", f.latest.code_sha256),
                ));
            }
            let v = publish(f, description)?;
            Ok(f.config(&v))
        })
        .await
    }

    pub fn list_versions_by_function(&self, ctx: &RequestContext, input: Value) -> Result<Value> {
        let (name, _) = name_and_qualifier(&input)?;
        let items = self.read(ctx, &name, |f| {
            let mut items = vec![f.config(&f.latest)];
            items.extend(f.versions.values().map(|v| f.config(v)));
            Ok(items)
        })?;
        Ok(paginate(items, &input, "Versions", "NextMarker", 50))
    }
}

/// Publishes `$LATEST` unless it is identical to the newest version (AWS returns that one).
fn publish(f: &mut Function, description: Option<String>) -> Result<Version> {
    if let Some((_, last)) = f.versions.iter().next_back()
        && last.code_sha256 == f.latest.code_sha256
        && same_config(last, &f.latest)
    {
        return Ok(last.clone());
    }
    let n = f.next_version;
    f.next_version += 1;
    let mut v = f.latest.clone();
    v.version = n.to_string();
    v.revision_id = revision();
    if let Some(d) = description {
        v.description = d;
    }
    f.versions.insert(n, v.clone());
    Ok(v)
}

fn same_config(a: &Version, b: &Version) -> bool {
    a.runtime == b.runtime
        && a.handler == b.handler
        && a.timeout == b.timeout
        && a.memory_size == b.memory_size
        && a.variables == b.variables
        && a.role == b.role
        && a.layers
            .iter()
            .map(|l| &l.arn)
            .eq(b.layers.iter().map(|l| &l.arn))
}

fn in_progress(mut out: Value) -> Value {
    out["LastUpdateStatus"] = json!("InProgress");
    out["LastUpdateStatusReason"] = json!("The function is being created.");
    out["LastUpdateStatusReasonCode"] = json!("Creating");
    out
}

pub(crate) fn check_revision(given: Option<&str>, current: &str) -> Result<()> {
    match given {
        Some(r) if r != current => Err(err(
            Code::PreconditionFailed,
            "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id",
        )),
        _ => Ok(()),
    }
}

/// `FunctionName` (with any qualifier in it) and the `Qualifier` member, reconciled.
pub fn name_and_qualifier(input: &Value) -> Result<(String, Option<String>)> {
    let raw = input
        .get("FunctionName")
        .and_then(Value::as_str)
        .ok_or_else(|| constraint("null", "functionName", "Member must not be null"))?;
    let (name, q) = parse_name(raw)?;
    let q = qualifier(q, input.get("Qualifier").and_then(Value::as_str))?;
    Ok((name, q))
}

/// The version a qualifier names: `$LATEST`, a number, or an alias (its primary version).
pub fn resolve<'a>(f: &'a Function, q: Option<&str>) -> Result<&'a Version> {
    let q = q.unwrap_or("$LATEST");
    if let Some(v) = f.version(q) {
        return Ok(v);
    }
    if let Some(a) = f.aliases.get(q)
        && let Some(v) = f.version(&a.function_version)
    {
        return Ok(v);
    }
    Err(not_found("Function", &format!("{}:{q}", f.arn())))
}

/// `Marker`/`MaxItems` paging over a list already in order.
pub(crate) fn paginate(
    items: Vec<Value>,
    input: &Value,
    list: &str,
    next: &str,
    default: usize,
) -> Value {
    let start = input
        .get("Marker")
        .and_then(Value::as_str)
        .and_then(|m| m.parse::<usize>().ok())
        .unwrap_or(0);
    let max = input
        .get("MaxItems")
        .and_then(|v| {
            v.as_u64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        })
        .map_or(default, |n| n.clamp(1, 10_000) as usize);
    let total = items.len();
    let page: Vec<Value> = items.into_iter().skip(start).take(max).collect();
    let mut out = json!({ list: page });
    if start + max < total {
        out[next] = json!((start + max).to_string());
    }
    out
}

pub(crate) fn layer_refs_hex(v: &Version) -> Vec<String> {
    v.layers
        .iter()
        .map(|l: &LayerRef| l.code_hex.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{check_runtime, check_variables};

    #[test]
    fn names_and_arns() {
        assert_eq!(parse_name("f").unwrap(), ("f".into(), None));
        assert_eq!(parse_name("f:1").unwrap(), ("f".into(), Some("1".into())));
        assert_eq!(
            parse_name("arn:aws:lambda:us-east-1:000000000000:function:f:live").unwrap(),
            ("f".into(), Some("live".into()))
        );
        assert_eq!(
            parse_name("000000000000:function:f").unwrap(),
            ("f".into(), None)
        );
        assert!(parse_name("bad name").is_err());
        assert!(parse_name("").is_err());
        assert_eq!(
            qualifier(Some("1".into()), Some("2")).unwrap_err().code,
            "InvalidParameterValueException"
        );
    }

    #[test]
    fn runtime_and_env_rules() {
        assert!(check_runtime("python3.12").is_ok());
        assert_eq!(
            check_runtime("python3.7").unwrap_err().code,
            "InvalidParameterValueException"
        );
        assert_eq!(
            check_runtime("cobol").unwrap_err().code,
            "ValidationException"
        );
        let mut vars = BTreeMap::new();
        vars.insert("AWS_REGION".to_string(), "x".to_string());
        assert!(
            check_variables(&vars)
                .unwrap_err()
                .message
                .contains("AWS_REGION")
        );
        let mut big = BTreeMap::new();
        big.insert("K".to_string(), "x".repeat(5000));
        assert!(check_variables(&big).unwrap_err().message.contains("4KB"));
        assert!(check_role("arn:aws:iam::000000000000:role/r").is_ok());
        assert!(check_role("role").is_err());
    }
}
