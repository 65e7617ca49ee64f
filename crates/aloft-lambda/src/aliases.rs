//! Aliases: named pointers to a version, optionally splitting traffic with a second one.

use std::collections::BTreeMap;

use aloft_core::RequestContext;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::Lambda;
use crate::config::parse;
use crate::error::{Code, Result, constraint, err, not_found};
use crate::functions::{check_revision, name_and_qualifier, paginate, revision};
use crate::model::{Alias, Function};

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct AliasInput {
    name: Option<String>,
    function_version: Option<String>,
    description: Option<String>,
    routing_config: Option<RoutingInput>,
    revision_id: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct RoutingInput {
    additional_version_weights: Option<BTreeMap<String, f64>>,
}

fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && !name.bytes().all(|b| b.is_ascii_digit())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(constraint(
            name,
            "name",
            "Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)",
        ))
    }
}

fn check_routing(f: &Function, primary: &str, routing: &BTreeMap<String, f64>) -> Result<()> {
    if routing.len() > 1 {
        return Err(err(
            Code::InvalidParameterValue,
            "Number of items in AdditionalVersionWeights cannot be greater than 1",
        ));
    }
    for (v, w) in routing {
        if !(0.0..=1.0).contains(w) {
            return Err(constraint(
                &w.to_string(),
                "routingConfig.additionalVersionWeights",
                "Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0]",
            ));
        }
        if v == primary {
            return Err(err(
                Code::InvalidParameterValue,
                format!(
                    "Invalid function version {v}. Function version {v} is already included in routing configuration."
                ),
            ));
        }
        if v == "$LATEST" || f.version(v).is_none() {
            return Err(err(
                Code::InvalidParameterValue,
                format!("Invalid function version {v}. Function version {v} does not exist."),
            ));
        }
    }
    Ok(())
}

impl Lambda {
    pub async fn create_alias(&self, ctx: &RequestContext, input: Value) -> Result<Value> {
        let (name, _) = name_and_qualifier(&json!({"FunctionName": input["FunctionName"]}))?;
        let a: AliasInput = parse(input)?;
        let alias = a.name.clone().unwrap_or_default();
        check_name(&alias)?;
        let version = a
            .function_version
            .clone()
            .ok_or_else(|| constraint("null", "functionVersion", "Member must not be null"))?;
        self.mutate(ctx, &name, |f| {
            if f.aliases.contains_key(&alias) {
                return Err(err(
                    Code::ResourceConflict,
                    format!("Alias already exists: {}:{alias}", f.arn()),
                ));
            }
            if f.version(&version).is_none() {
                return Err(not_found("Function", &format!("{}:{version}", f.arn())));
            }
            let routing = a
                .routing_config
                .and_then(|r| r.additional_version_weights)
                .unwrap_or_default();
            check_routing(f, &version, &routing)?;
            let al = Alias {
                name: alias.clone(),
                function_version: version,
                description: a.description.unwrap_or_default(),
                routing,
                revision_id: revision(),
            };
            let out = f.alias_json(&al);
            f.aliases.insert(alias, al);
            Ok(out)
        })
        .await
    }

    pub fn get_alias(&self, ctx: &RequestContext, input: Value) -> Result<Value> {
        let (name, _) = name_and_qualifier(&json!({"FunctionName": input["FunctionName"]}))?;
        let alias = input
            .get("Name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        self.read(ctx, &name, |f| {
            f.aliases
                .get(&alias)
                .map(|a| f.alias_json(a))
                .ok_or_else(|| not_found("Alias", &format!("{}:{alias}", f.arn())))
        })
    }

    pub async fn update_alias(&self, ctx: &RequestContext, input: Value) -> Result<Value> {
        let (name, _) = name_and_qualifier(&json!({"FunctionName": input["FunctionName"]}))?;
        let a: AliasInput = parse(input)?;
        let alias = a.name.clone().unwrap_or_default();
        self.mutate(ctx, &name, |f| {
            let arn = f.arn();
            let mut al = f
                .aliases
                .get(&alias)
                .cloned()
                .ok_or_else(|| not_found("Alias", &format!("{arn}:{alias}")))?;
            check_revision(a.revision_id.as_deref(), &al.revision_id)?;
            if let Some(v) = &a.function_version {
                if f.version(v).is_none() {
                    return Err(not_found("Function", &format!("{arn}:{v}")));
                }
                al.function_version.clone_from(v);
            }
            if let Some(d) = &a.description {
                al.description.clone_from(d);
            }
            if let Some(r) = &a.routing_config {
                al.routing = r.additional_version_weights.clone().unwrap_or_default();
            }
            check_routing(f, &al.function_version, &al.routing)?;
            al.revision_id = revision();
            let out = f.alias_json(&al);
            f.aliases.insert(alias, al);
            Ok(out)
        })
        .await
    }

    pub async fn delete_alias(&self, ctx: &RequestContext, input: Value) -> Result<Value> {
        let (name, _) = name_and_qualifier(&json!({"FunctionName": input["FunctionName"]}))?;
        let alias = input
            .get("Name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        // Deleting an alias that does not exist succeeds on AWS.
        self.mutate(ctx, &name, |f| {
            f.aliases.remove(&alias);
            f.urls.remove(&alias);
            f.event_invoke.remove(&alias);
            Ok(json!({}))
        })
        .await
    }

    pub fn list_aliases(&self, ctx: &RequestContext, input: Value) -> Result<Value> {
        let (name, _) = name_and_qualifier(&json!({"FunctionName": input["FunctionName"]}))?;
        let only = input
            .get("FunctionVersion")
            .and_then(Value::as_str)
            .map(str::to_string);
        let items = self.read(ctx, &name, |f| {
            Ok(f.aliases
                .values()
                .filter(|a| only.as_ref().is_none_or(|v| *v == a.function_version))
                .map(|a| f.alias_json(a))
                .collect::<Vec<_>>())
        })?;
        Ok(paginate(items, &input, "Aliases", "NextMarker", 50))
    }
}

/// Picks the version an alias routes this invocation to (weighted).
pub fn route(a: &Alias) -> String {
    if let Some((v, w)) = a.routing.iter().next() {
        let r: f64 = rand_unit();
        if r < *w {
            return v.clone();
        }
    }
    a.function_version.clone()
}

fn rand_unit() -> f64 {
    let hex = aloft_core::ids::hex(4);
    u32::from_str_radix(&hex, 16).map_or(0.0, |n| f64::from(n) / f64::from(u32::MAX))
}
