//! Per-function settings: reserved concurrency, tags, function URLs, event invoke configs,
//! and the account's settings.

use aloft_core::RequestContext;
use serde_json::{Value, json};

use crate::error::{Code, Result, constraint, err, not_found};
use crate::functions::{name_and_qualifier, parse_name, resolve};
use crate::model::{UrlConfig, iso};
use crate::{Lambda, key};

/// AWS keeps this many unreserved executions for functions without a reservation.
const MIN_UNRESERVED: u64 = 100;

fn function_from_resource_arn(arn: &str) -> Result<String> {
    let (name, _) = parse_name(arn)?;
    Ok(name)
}

impl Lambda {
    fn reserved_total(&self, ctx: &RequestContext, except: &str) -> u64 {
        let s = self.state.lock().expect("state lock");
        let prefix = format!("{}/{}/", ctx.account_id, ctx.region);
        s.functions
            .iter()
            .filter(|(k, f)| k.starts_with(&prefix) && f.name != except)
            .filter_map(|(_, f)| f.reserved_concurrency)
            .map(u64::from)
            .sum()
    }

    pub async fn put_function_concurrency(
        &self,
        ctx: &RequestContext,
        input: Value,
    ) -> Result<Value> {
        let (name, _) = name_and_qualifier(&input)?;
        let n = input
            .get("ReservedConcurrentExecutions")
            .and_then(Value::as_i64)
            .ok_or_else(|| {
                constraint(
                    "null",
                    "reservedConcurrentExecutions",
                    "Member must not be null",
                )
            })?;
        if n < 0 {
            return Err(constraint(
                &n.to_string(),
                "reservedConcurrentExecutions",
                "Member must have value greater than or equal to 0",
            ));
        }
        let limit = self.engine.account_limit as u64;
        let others = self.reserved_total(ctx, &name);
        if others + n as u64 > limit.saturating_sub(MIN_UNRESERVED) {
            return Err(err(
                Code::InvalidParameterValue,
                format!(
                    "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [{MIN_UNRESERVED}]."
                ),
            ));
        }
        self.mutate(ctx, &name, |f| {
            f.reserved_concurrency = Some(n as u32);
            Ok(json!({"ReservedConcurrentExecutions": n}))
        })
        .await
    }

    pub fn get_function_concurrency(&self, ctx: &RequestContext, input: Value) -> Result<Value> {
        let (name, _) = name_and_qualifier(&input)?;
        self.read(ctx, &name, |f| {
            Ok(match f.reserved_concurrency {
                Some(n) => json!({"ReservedConcurrentExecutions": n}),
                None => json!({}),
            })
        })
    }

    pub async fn delete_function_concurrency(
        &self,
        ctx: &RequestContext,
        input: Value,
    ) -> Result<Value> {
        let (name, _) = name_and_qualifier(&input)?;
        self.mutate(ctx, &name, |f| {
            f.reserved_concurrency = None;
            Ok(json!({}))
        })
        .await
    }

    pub fn get_account_settings(&self, ctx: &RequestContext) -> Value {
        let s = self.state.lock().expect("state lock");
        let prefix = format!("{}/{}/", ctx.account_id, ctx.region);
        let mut count = 0u64;
        let mut size = 0u64;
        let mut reserved = 0u64;
        for (k, f) in &s.functions {
            if k.starts_with(&prefix) {
                count += 1;
                size += f.latest.code_size + f.versions.values().map(|v| v.code_size).sum::<u64>();
                reserved += u64::from(f.reserved_concurrency.unwrap_or(0));
            }
        }
        let limit = self.engine.account_limit as u64;
        json!({
            "AccountLimit": {
                "TotalCodeSize": 80_530_636_800u64,
                "CodeSizeUnzipped": crate::code::MAX_UNZIPPED,
                "CodeSizeZipped": crate::code::MAX_ZIPPED_DIRECT,
                "ConcurrentExecutions": limit,
                "UnreservedConcurrentExecutions": limit.saturating_sub(reserved),
            },
            "AccountUsage": {"TotalCodeSize": size, "FunctionCount": count},
        })
    }

    pub async fn tag_resource(&self, ctx: &RequestContext, input: Value) -> Result<Value> {
        let arn = input
            .get("Resource")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let name = function_from_resource_arn(arn)?;
        let tags = input
            .get("Tags")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        self.mutate(ctx, &name, |f| {
            for (k, v) in tags {
                f.tags.insert(k, v.as_str().unwrap_or_default().to_string());
            }
            if f.tags.len() > 50 {
                return Err(err(
                    Code::InvalidParameterValue,
                    "Number of tags exceeds resource tag limit.",
                ));
            }
            Ok(json!({}))
        })
        .await
    }

    pub async fn untag_resource(&self, ctx: &RequestContext, input: Value) -> Result<Value> {
        let arn = input
            .get("Resource")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let name = function_from_resource_arn(arn)?;
        let keys: Vec<String> = input
            .get("TagKeys")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        self.mutate(ctx, &name, |f| {
            for k in &keys {
                f.tags.remove(k);
            }
            Ok(json!({}))
        })
        .await
    }

    pub fn list_tags(&self, ctx: &RequestContext, input: Value) -> Result<Value> {
        let arn = input
            .get("Resource")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let name = function_from_resource_arn(arn)?;
        self.read(ctx, &name, |f| Ok(json!({"Tags": f.tags})))
    }

    fn url_json(&self, ctx: &RequestContext, fn_arn: &str, u: &UrlConfig) -> Value {
        let mut v = json!({
            "FunctionUrl": url_of(ctx, &u.url_id),
            "FunctionArn": fn_arn,
            "AuthType": u.auth_type,
            "CreationTime": iso(u.created_ms),
            "LastModifiedTime": iso(u.modified_ms),
            "InvokeMode": u.invoke_mode,
        });
        if let Some(c) = &u.cors {
            v["Cors"] = c.clone();
        }
        v
    }

    pub async fn create_function_url_config(
        &self,
        ctx: &RequestContext,
        input: Value,
    ) -> Result<Value> {
        let (name, q) = name_and_qualifier(&input)?;
        let auth = check_auth(&input)?;
        let now = aloft_core::clock::now_millis();
        let u = UrlConfig {
            url_id: aloft_core::ids::random_string(32, aloft_core::ids::LOWER_ALNUM),
            auth_type: auth,
            cors: input.get("Cors").cloned(),
            invoke_mode: input
                .get("InvokeMode")
                .and_then(Value::as_str)
                .unwrap_or("BUFFERED")
                .to_string(),
            created_ms: now,
            modified_ms: now,
        };
        if q.as_deref()
            .is_some_and(|q| q.bytes().all(|b| b.is_ascii_digit()) || q == "$LATEST")
        {
            return Err(err(
                Code::InvalidParameterValue,
                "Function URLs can only be created for aliases or unqualified functions.",
            ));
        }
        let out = self
            .mutate(ctx, &name, |f| {
                let slot = q.clone().unwrap_or_default();
                if !slot.is_empty() && !f.aliases.contains_key(&slot) {
                    return Err(not_found("Function", &format!("{}:{slot}", f.arn())));
                }
                if f.urls.contains_key(&slot) {
                    return Err(err(
                        Code::ResourceConflict,
                        format!("Failed to create function url config for [functionArn = {}]. Error message:  FunctionUrlConfig exists for this Lambda function", f.arn()),
                    ));
                }
                let arn = qualified(&f.arn(), q.as_deref());
                f.urls.insert(slot, u.clone());
                Ok(arn)
            })
            .await?;
        let mut v = self.url_json(ctx, &out, &u);
        if let Some(m) = v.as_object_mut() {
            m.remove("LastModifiedTime");
        }
        Ok(v)
    }

    pub fn get_function_url_config(&self, ctx: &RequestContext, input: Value) -> Result<Value> {
        let (name, q) = name_and_qualifier(&input)?;
        self.read(ctx, &name, |f| {
            let u = f.urls.get(&q.clone().unwrap_or_default()).ok_or_else(|| {
                err(
                    Code::ResourceNotFound,
                    "The resource you requested does not exist.",
                )
            })?;
            Ok(self.url_json(ctx, &qualified(&f.arn(), q.as_deref()), u))
        })
    }

    pub async fn update_function_url_config(
        &self,
        ctx: &RequestContext,
        input: Value,
    ) -> Result<Value> {
        let (name, q) = name_and_qualifier(&input)?;
        let auth = input
            .get("AuthType")
            .map(|_| check_auth(&input))
            .transpose()?;
        let (arn, u) = self
            .mutate(ctx, &name, |f| {
                let arn = qualified(&f.arn(), q.as_deref());
                let u = f
                    .urls
                    .get_mut(&q.clone().unwrap_or_default())
                    .ok_or_else(|| {
                        err(
                            Code::ResourceNotFound,
                            "The resource you requested does not exist.",
                        )
                    })?;
                if let Some(a) = &auth {
                    u.auth_type.clone_from(a);
                }
                if let Some(c) = input.get("Cors") {
                    u.cors = Some(c.clone());
                }
                if let Some(m) = input.get("InvokeMode").and_then(Value::as_str) {
                    u.invoke_mode = m.to_string();
                }
                u.modified_ms = aloft_core::clock::now_millis();
                Ok((arn, u.clone()))
            })
            .await?;
        Ok(self.url_json(ctx, &arn, &u))
    }

    pub async fn delete_function_url_config(
        &self,
        ctx: &RequestContext,
        input: Value,
    ) -> Result<Value> {
        let (name, q) = name_and_qualifier(&input)?;
        self.mutate(ctx, &name, |f| {
            f.urls
                .remove(&q.clone().unwrap_or_default())
                .map(|_| json!({}))
                .ok_or_else(|| {
                    err(
                        Code::ResourceNotFound,
                        "The resource you requested does not exist.",
                    )
                })
        })
        .await
    }

    pub fn list_function_url_configs(&self, ctx: &RequestContext, input: Value) -> Result<Value> {
        let (name, _) = name_and_qualifier(&input)?;
        let items = self.read(ctx, &name, |f| {
            Ok(f.urls
                .iter()
                .map(|(q, u)| {
                    self.url_json(
                        ctx,
                        &qualified(
                            &f.arn(),
                            Some(q).filter(|q| !q.is_empty()).map(String::as_str),
                        ),
                        u,
                    )
                })
                .collect::<Vec<_>>())
        })?;
        Ok(crate::functions::paginate(
            items,
            &input,
            "FunctionUrlConfigs",
            "NextMarker",
            50,
        ))
    }

    /// Finds the function (and qualifier) behind a function URL id.
    pub fn find_url(
        &self,
        url_id: &str,
    ) -> Option<(String, String, String, Option<String>, String)> {
        let s = self.state.lock().expect("state lock");
        for f in s.functions.values() {
            for (q, u) in &f.urls {
                if u.url_id == url_id {
                    let q = Some(q.clone()).filter(|q| !q.is_empty());
                    return Some((
                        f.account.clone(),
                        f.region.clone(),
                        f.name.clone(),
                        q,
                        u.auth_type.clone(),
                    ));
                }
            }
        }
        None
    }

    pub async fn put_event_invoke_config(
        &self,
        ctx: &RequestContext,
        input: Value,
        replace: bool,
    ) -> Result<Value> {
        let (name, q) = name_and_qualifier(&input)?;
        if let Some(n) = input.get("MaximumRetryAttempts").and_then(Value::as_i64)
            && !(0..=2).contains(&n)
        {
            return Err(constraint(
                &n.to_string(),
                "maximumRetryAttempts",
                if n < 0 {
                    "Member must have value greater than or equal to 0"
                } else {
                    "Member must have value less than or equal to 2"
                },
            ));
        }
        if let Some(n) = input
            .get("MaximumEventAgeInSeconds")
            .and_then(Value::as_i64)
            && !(60..=21600).contains(&n)
        {
            return Err(constraint(
                &n.to_string(),
                "maximumEventAgeInSeconds",
                if n < 60 {
                    "Member must have value greater than or equal to 60"
                } else {
                    "Member must have value less than or equal to 21600"
                },
            ));
        }
        self.mutate(ctx, &name, |f| {
            resolve(f, q.as_deref())?;
            let slot = q.clone().unwrap_or_default();
            let mut cfg = if replace {
                json!({})
            } else {
                f.event_invoke.get(&slot).cloned().ok_or_else(|| {
                    err(
                        Code::ResourceNotFound,
                        format!(
                            "The function {} doesn't have an EventInvokeConfig",
                            qualified(&f.arn(), q.as_deref())
                        ),
                    )
                })?
            };
            for k in [
                "MaximumRetryAttempts",
                "MaximumEventAgeInSeconds",
                "DestinationConfig",
            ] {
                if let Some(v) = input.get(k) {
                    cfg[k] = v.clone();
                }
            }
            if cfg.get("DestinationConfig").is_none() {
                cfg["DestinationConfig"] = json!({"OnSuccess": {}, "OnFailure": {}});
            }
            cfg["FunctionArn"] =
                json!(qualified(&f.arn(), Some(q.as_deref().unwrap_or("$LATEST"))));
            cfg["LastModified"] = json!(aloft_core::clock::now_secs_f64());
            f.event_invoke.insert(slot, cfg.clone());
            Ok(cfg)
        })
        .await
    }

    pub fn get_event_invoke_config(&self, ctx: &RequestContext, input: Value) -> Result<Value> {
        let (name, q) = name_and_qualifier(&input)?;
        self.read(ctx, &name, |f| {
            f.event_invoke
                .get(&q.clone().unwrap_or_default())
                .cloned()
                .ok_or_else(|| {
                    err(
                        Code::ResourceNotFound,
                        format!(
                            "The function {} doesn't have an EventInvokeConfig",
                            qualified(&f.arn(), Some(q.as_deref().unwrap_or("$LATEST")))
                        ),
                    )
                })
        })
    }

    pub async fn delete_event_invoke_config(
        &self,
        ctx: &RequestContext,
        input: Value,
    ) -> Result<Value> {
        let (name, q) = name_and_qualifier(&input)?;
        self.mutate(ctx, &name, |f| {
            f.event_invoke
                .remove(&q.clone().unwrap_or_default())
                .map(|_| json!({}))
                .ok_or_else(|| {
                    err(
                        Code::ResourceNotFound,
                        format!(
                            "The function {} doesn't have an EventInvokeConfig",
                            qualified(&f.arn(), Some(q.as_deref().unwrap_or("$LATEST")))
                        ),
                    )
                })
        })
        .await
    }

    pub fn list_event_invoke_configs(&self, ctx: &RequestContext, input: Value) -> Result<Value> {
        let (name, _) = name_and_qualifier(&input)?;
        let items = self.read(ctx, &name, |f| {
            Ok(f.event_invoke.values().cloned().collect::<Vec<_>>())
        })?;
        Ok(crate::functions::paginate(
            items,
            &input,
            "FunctionEventInvokeConfigs",
            "NextMarker",
            50,
        ))
    }

    /// The event invoke config that applies to a qualifier (its own, else the function's).
    pub(crate) fn event_config(
        &self,
        account: &str,
        region: &str,
        name: &str,
        q: Option<&str>,
    ) -> Option<Value> {
        let s = self.state.lock().expect("state lock");
        let f = s.functions.get(&key(account, region, name))?;
        q.and_then(|q| f.event_invoke.get(q))
            .or_else(|| f.event_invoke.get(""))
            .cloned()
    }
}

fn check_auth(input: &Value) -> Result<String> {
    let a = input
        .get("AuthType")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if matches!(a, "NONE" | "AWS_IAM") {
        Ok(a.to_string())
    } else {
        Err(constraint(
            a,
            "authType",
            "Member must satisfy enum value set: [NONE, AWS_IAM]",
        ))
    }
}

fn qualified(arn: &str, q: Option<&str>) -> String {
    match q {
        Some(q) => format!("{arn}:{q}"),
        None => arn.to_string(),
    }
}

/// `http://<id>.lambda-url.<region>.localhost:<port>/`, on Aloft's own port.
pub fn url_of(ctx: &RequestContext, id: &str) -> String {
    let (scheme, rest) = ctx
        .base_url
        .split_once("://")
        .unwrap_or(("http", &ctx.base_url));
    let port = rest
        .rsplit_once(':')
        .map(|(_, p)| format!(":{p}"))
        .unwrap_or_default();
    format!("{scheme}://{id}.lambda-url.{}.localhost{port}/", ctx.region)
}
