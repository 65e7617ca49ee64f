//! RestApis and their resource tree.

use aloft_core::RequestContext;
use serde_json::{Value, json};

use super::{flag, items, new_id, now, opt, s, str_map};
use crate::error::{Code, Result, bad_request, err, not_found};
use crate::model::{Api, Resource, RestApiInfo, output};
use crate::patch;
use crate::{ApiGateway, invalid_api, scope};

pub(crate) async fn create_rest_api(
    gw: &ApiGateway,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    let name = s(input, "name")?.to_string();
    let mut api = match opt(input, "cloneFrom") {
        Some(src) => gw.read_api(ctx, &src, |a| Ok(a.clone()))?,
        None => Api::default(),
    };
    let id = new_id(10);
    let root = new_id(10);
    let endpoint = input
        .get("endpointConfiguration")
        .cloned()
        .unwrap_or_else(|| json!({"types": ["EDGE"]}));
    api.info = RestApiInfo {
        id: id.clone(),
        name,
        description: opt(input, "description"),
        created_date: now(),
        version: opt(input, "version"),
        binary_media_types: input
            .get("binaryMediaTypes")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
        minimum_compression_size: input.get("minimumCompressionSize").and_then(Value::as_i64),
        api_key_source: opt(input, "apiKeySource").unwrap_or_else(|| "HEADER".into()),
        endpoint_configuration: endpoint,
        policy: opt(input, "policy"),
        tags: str_map(input, "tags"),
        disable_execute_api_endpoint: flag(input, "disableExecuteApiEndpoint").unwrap_or(false),
        root_resource_id: root.clone(),
    };
    if api.resources.is_empty() {
        api.resources.insert(
            root.clone(),
            Resource {
                id: root,
                path: "/".into(),
                ..Default::default()
            },
        );
    } else {
        // A clone keeps the tree; its root keeps its own id.
        api.info.root_resource_id = api
            .resources
            .values()
            .find(|r| r.parent_id.is_none())
            .map(|r| r.id.clone())
            .unwrap_or_default();
        api.deployments.clear();
        api.stages.clear();
    }
    let out = output(&api.info);
    let commit = {
        let mut st = gw.lock();
        let key = format!("{}/{id}", scope(ctx));
        st.api_index.insert(id, key.clone());
        let commit = gw.commit_api(&key, Some(&api));
        st.apis.insert(key, api);
        commit
    };
    commit
        .await
        .map_err(|e| aloft_core::AwsError::internal(e.to_string()))?;
    Ok(out)
}

pub(crate) fn get_rest_api(gw: &ApiGateway, ctx: &RequestContext, input: &Value) -> Result<Value> {
    gw.read_api(ctx, s(input, "restApiId")?, |a| Ok(output(&a.info)))
}

pub(crate) fn get_rest_apis(gw: &ApiGateway, ctx: &RequestContext) -> Result<Value> {
    let st = gw.lock();
    let prefix = format!("{}/", scope(ctx));
    let mut apis: Vec<&Api> = st
        .apis
        .iter()
        .filter(|(k, _)| k.starts_with(&prefix))
        .map(|(_, a)| a)
        .collect();
    apis.sort_by(|a, b| a.info.created_date.total_cmp(&b.info.created_date));
    Ok(items(apis.iter().map(|a| output(&a.info)).collect()))
}

pub(crate) async fn update_rest_api(
    gw: &ApiGateway,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    let ops = patch::ops(input);
    gw.edit_api(ctx, s(input, "restApiId")?, |api| {
        let root = api.info.root_resource_id.clone();
        let id = api.info.id.clone();
        for op in &ops {
            // Binary media types are a list addressed by value: `/binaryMediaTypes/image~1png`.
            let segs = patch::segments(&op.path);
            if segs.first().map(String::as_str) == Some("binaryMediaTypes") && segs.len() == 2 {
                let t = &segs[1];
                match op.op.as_str() {
                    "add" if !api.info.binary_media_types.contains(t) => {
                        api.info.binary_media_types.push(t.clone());
                    }
                    "remove" => api.info.binary_media_types.retain(|x| x != t),
                    _ => {}
                }
                continue;
            }
            if matches!(segs[0].as_str(), "id" | "createdDate" | "rootResourceId") {
                return Err(bad_request(format!(
                    "Invalid patch path {} specified for op '{}'",
                    op.path, op.op
                )));
            }
            patch::apply(&mut api.info, std::slice::from_ref(op), &[])?;
        }
        api.info.root_resource_id = root;
        api.info.id = id;
        Ok(output(&api.info))
    })
    .await
}

pub(crate) async fn delete_rest_api(
    gw: &ApiGateway,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    let id = s(input, "restApiId")?;
    let commit = {
        let mut st = gw.lock();
        let key = format!("{}/{id}", scope(ctx));
        if st.apis.remove(&key).is_none() {
            return Err(invalid_api(ctx, id));
        }
        st.api_index.remove(id);
        gw.commit_api(&key, None)
    };
    commit
        .await
        .map_err(|e| aloft_core::AwsError::internal(e.to_string()))?;
    Ok(json!({}))
}

pub(crate) fn invalid_resource() -> aloft_core::AwsError {
    not_found("Invalid Resource identifier specified")
}

/// AWS's rule for a path part: letters, digits, `._-:`, or a whole `{var}`/`{var+}`.
fn valid_path_part(p: &str) -> bool {
    let plain = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b':'))
    };
    match p.strip_prefix('{').and_then(|r| r.strip_suffix('}')) {
        Some(inner) => plain(inner.strip_suffix('+').unwrap_or(inner)),
        None => plain(p) || p.starts_with('$') && plain(&p[1..]),
    }
}

fn check_child(api: &Api, parent_id: &str, part: &str, except: Option<&str>) -> Result<String> {
    if !valid_path_part(part) {
        return Err(bad_request(
            "Resource's path part only allow a-zA-Z0-9._- and curly braces at the beginning and the end and an optional plus sign before the closing brace.",
        ));
    }
    let parent = api.resources.get(parent_id).ok_or_else(invalid_resource)?;
    if parent
        .path_part
        .as_deref()
        .is_some_and(|p| p.ends_with("+}"))
    {
        return Err(bad_request(format!(
            "Cannot create a child of a resource with a greedy path variable: {}",
            parent.path
        )));
    }
    for sib in api
        .resources
        .values()
        .filter(|r| r.parent_id.as_deref() == Some(parent_id) && Some(r.id.as_str()) != except)
    {
        let sp = sib.path_part.as_deref().unwrap_or("");
        if sp == part {
            return Err(err(
                Code::ConflictException,
                format!("Another resource with the same parent already has this name: {part}"),
            ));
        }
        if sp.starts_with('{') && part.starts_with('{') {
            return Err(bad_request(format!(
                "A sibling ({sp}) of this resource already has a variable path part -- only one is allowed"
            )));
        }
    }
    Ok(if parent.path == "/" {
        format!("/{part}")
    } else {
        format!("{}/{part}", parent.path)
    })
}

pub(crate) async fn create_resource(
    gw: &ApiGateway,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    let parent_id = s(input, "parentId")?.to_string();
    let part = s(input, "pathPart")?.to_string();
    gw.edit_api(ctx, s(input, "restApiId")?, |api| {
        let path = check_child(api, &parent_id, &part, None)?;
        let id = new_id(6);
        let r = Resource {
            id: id.clone(),
            parent_id: Some(parent_id),
            path_part: Some(part),
            path,
            resource_methods: Default::default(),
        };
        let out = output(&r);
        api.resources.insert(id, r);
        Ok(out)
    })
    .await
}

fn resource_output(r: &Resource, embed: bool) -> Value {
    let mut v = output(r);
    if !embed && let Some(m) = v.get_mut("resourceMethods").and_then(Value::as_object_mut) {
        for m in m.values_mut() {
            *m = json!({});
        }
    }
    v
}

fn embeds_methods(input: &Value) -> bool {
    input
        .get("embed")
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|e| e.as_str() == Some("methods")))
}

pub(crate) fn get_resource(gw: &ApiGateway, ctx: &RequestContext, input: &Value) -> Result<Value> {
    let rid = s(input, "resourceId")?;
    gw.read_api(ctx, s(input, "restApiId")?, |api| {
        let r = api.resources.get(rid).ok_or_else(invalid_resource)?;
        Ok(resource_output(r, embeds_methods(input)))
    })
}

pub(crate) fn get_resources(gw: &ApiGateway, ctx: &RequestContext, input: &Value) -> Result<Value> {
    gw.read_api(ctx, s(input, "restApiId")?, |api| {
        let embed = embeds_methods(input);
        let mut rs: Vec<&Resource> = api.resources.values().collect();
        rs.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(items(
            rs.iter().map(|r| resource_output(r, embed)).collect(),
        ))
    })
}

fn descendants(api: &Api, id: &str) -> Vec<String> {
    let mut out = vec![id.to_string()];
    let mut i = 0;
    while i < out.len() {
        let cur = out[i].clone();
        out.extend(
            api.resources
                .values()
                .filter(|r| r.parent_id.as_deref() == Some(cur.as_str()))
                .map(|r| r.id.clone()),
        );
        i += 1;
    }
    out
}

pub(crate) async fn update_resource(
    gw: &ApiGateway,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    let rid = s(input, "resourceId")?.to_string();
    let ops = patch::ops(input);
    gw.edit_api(ctx, s(input, "restApiId")?, |api| {
        let mut r = api.resources.get(&rid).ok_or_else(invalid_resource)?.clone();
        for op in &ops {
            let v = op.value.clone().unwrap_or_default();
            match (op.op.as_str(), op.path.as_str()) {
                ("replace", "/pathPart") => r.path_part = Some(v),
                ("replace", "/parentId") => r.parent_id = Some(v),
                _ => {
                    return Err(bad_request(format!(
                        "Invalid patch path {} specified for op '{}'. Must be one of: [/parentId, /pathPart]",
                        op.path, op.op
                    )));
                }
            }
        }
        let parent = r.parent_id.clone().ok_or_else(|| bad_request("Cannot update the root resource"))?;
        let part = r.path_part.clone().unwrap_or_default();
        let old_path = r.path.clone();
        r.path = check_child(api, &parent, &part, Some(&rid))?;
        let new_path = r.path.clone();
        // Children's paths follow their parent's.
        for id in descendants(api, &rid).into_iter().skip(1) {
            if let Some(c) = api.resources.get_mut(&id) {
                c.path = format!("{new_path}{}", &c.path[old_path.len()..]);
            }
        }
        let out = resource_output(&r, true);
        api.resources.insert(rid.clone(), r);
        Ok(out)
    })
    .await
}

pub(crate) async fn delete_resource(
    gw: &ApiGateway,
    ctx: &RequestContext,
    input: &Value,
) -> Result<Value> {
    let rid = s(input, "resourceId")?.to_string();
    gw.edit_api(ctx, s(input, "restApiId")?, |api| {
        let r = api.resources.get(&rid).ok_or_else(invalid_resource)?;
        if r.parent_id.is_none() {
            return Err(bad_request("Cannot delete root resource"));
        }
        for id in descendants(api, &rid) {
            api.resources.shift_remove(&id);
        }
        Ok(json!({}))
    })
    .await
}

#[cfg(test)]
mod tests {
    #[test]
    fn path_parts() {
        for ok in ["notes", "{id}", "{proxy+}", "v1.2", "a_b-c", "x:y"] {
            assert!(super::valid_path_part(ok), "{ok}");
        }
        for bad in ["", "a/b", "{id", "id}", "{}", "a b", "{a}b"] {
            assert!(!super::valid_path_part(bad), "{bad}");
        }
    }
}
