//! GetParametersByPath and DescribeParameters: paths, ParameterFilters and pagination.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{Code, Result, SsmError};
use crate::names;
use crate::state::Param;
use crate::{Out, Ssm, parse};

#[derive(Deserialize, Clone)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ParamFilter {
    key: String,
    option: Option<String>,
    #[serde(default)]
    values: Vec<String>,
}

/// `[start, end)` of a page, from an offset NextToken.
pub(crate) fn window(len: usize, token: Option<&str>, max: usize) -> Result<(usize, usize)> {
    let start = match token {
        None => 0,
        Some(t) => t
            .parse::<usize>()
            .ok()
            .filter(|n| *n <= len)
            .ok_or_else(|| {
                SsmError::new(Code::InvalidNextToken, "The specified token isn't valid.")
            })?,
    };
    Ok((start, (start + max).min(len)))
}

fn bad_option(key: &str, option: &str) -> SsmError {
    let valid = match key {
        "Path" => "Recursive and OneLevel",
        "Name" => "Equals, BeginsWith and Contains",
        "Label" | "Tier" | "DataType" => "Equals",
        _ => "Equals and BeginsWith",
    };
    SsmError::new(
        Code::InvalidFilterOption,
        format!(
            "The filter option {option} is not valid for key {key}. Valid options include: {valid}."
        ),
    )
}

/// The option a filter uses when none is given.
fn option_of(f: &ParamFilter) -> &str {
    f.option.as_deref().unwrap_or(if f.key == "Path" {
        "OneLevel"
    } else {
        "Equals"
    })
}

/// Checks a filter, for the keys an operation allows.
fn check(f: &ParamFilter, by_path: bool) -> Result<()> {
    let key = f.key.as_str();
    let tag = key.starts_with("tag:");
    let allowed: &[&str] = if by_path {
        &["Type", "KeyId", "Label"]
    } else {
        &["Name", "Type", "KeyId", "Path", "Tier", "DataType", "Label"]
    };
    if !tag && !allowed.contains(&key) {
        return Err(SsmError::new(
            Code::InvalidFilterKey,
            format!(
                "The following filter key is not valid: {key}. Valid filter keys include: [{}].",
                allowed.join(", ")
            ),
        ));
    }
    let opt = option_of(f);
    let ok = match key {
        "Path" => matches!(opt, "Recursive" | "OneLevel"),
        "Name" => matches!(opt, "Equals" | "BeginsWith" | "Contains"),
        "Label" | "Tier" | "DataType" => opt == "Equals",
        _ => matches!(opt, "Equals" | "BeginsWith"),
    };
    if !ok {
        return Err(bad_option(key, opt));
    }
    if f.values.is_empty() && !tag {
        return Err(SsmError::new(
            Code::InvalidFilterValue,
            format!("The following filter values are missing : null for filter key {key}."),
        ));
    }
    if key == "Path" && f.values.iter().any(|v| !v.starts_with('/')) {
        return Err(SsmError::new(
            Code::InvalidFilterValue,
            "The parameter doesn't meet the parameter name requirements. The parameter name must begin with a forward slash \"/\".",
        ));
    }
    Ok(())
}

fn hit(p: &Param, f: &ParamFilter) -> bool {
    let cur = p.current();
    let opt = option_of(f);
    let cmp = |s: &str, v: &str| match opt {
        "BeginsWith" => s.starts_with(v),
        "Contains" => s.contains(v),
        _ => s == v,
    };
    if let Some(tag) = f.key.strip_prefix("tag:") {
        return p
            .tags
            .iter()
            .any(|(k, v)| k == tag && (f.values.is_empty() || f.values.iter().any(|x| cmp(v, x))));
    }
    f.values.iter().any(|x| match f.key.as_str() {
        "Name" => {
            // Names match with or without their leading slash.
            let n = p.name.trim_start_matches('/');
            cmp(n, x.trim_start_matches('/'))
        }
        "Type" => cmp(&cur.kind, x),
        "KeyId" => cur.key_id.as_deref().is_some_and(|k| cmp(k, x)),
        "Tier" => cmp(&cur.tier, x),
        "DataType" => cmp(&cur.data_type, x),
        "Label" => p.versions.iter().any(|v| v.labels.iter().any(|l| l == x)),
        "Path" => names::under(&p.name, x, opt == "Recursive"),
        _ => false,
    })
}

fn metadata(p: &Param) -> Value {
    let v = p.current();
    let mut m = json!({
        "Name": p.name, "ARN": p.arn, "Type": v.kind, "LastModifiedDate": v.modified_s,
        "LastModifiedUser": v.user, "Version": v.version, "Tier": v.tier, "Policies": [],
        "DataType": v.data_type,
    });
    if let Some(d) = &v.description {
        m["Description"] = json!(d);
    }
    if let Some(k) = &v.key_id {
        m["KeyId"] = json!(k);
    }
    if let Some(a) = &v.allowed_pattern {
        m["AllowedPattern"] = json!(a);
    }
    m
}

impl Ssm {
    pub(crate) async fn get_parameters_by_path(
        &self,
        account: &str,
        region: &str,
        input: Value,
    ) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            path: String,
            #[serde(default)]
            recursive: bool,
            #[serde(default)]
            parameter_filters: Vec<ParamFilter>,
            #[serde(default)]
            with_decryption: bool,
            max_results: Option<usize>,
            next_token: Option<String>,
        }
        let i: In = parse(input)?;
        if !i.path.starts_with('/') {
            return Err(SsmError::validation(
                "The parameter doesn't meet the parameter name requirements. The parameter name must begin with a forward slash \"/\".",
            ));
        }
        for f in &i.parameter_filters {
            check(f, true)?;
        }
        let list: Vec<Param> = {
            let m = self.state.lock();
            let scope = crate::state::scoped(account, region, "");
            m.range(scope.clone()..)
                .take_while(|(k, _)| k.starts_with(&scope))
                .map(|(_, p)| p)
                .filter(|p| names::under(&p.name, &i.path, i.recursive))
                .filter(|p| i.parameter_filters.iter().all(|f| hit(p, f)))
                .cloned()
                .collect()
        };
        let (start, end) = window(
            list.len(),
            i.next_token.as_deref(),
            i.max_results.unwrap_or(10).clamp(1, 10),
        )?;
        let mut out = Vec::new();
        for p in &list[start..end] {
            out.push(
                self.parameter_json(p, p.versions.len() - 1, "", i.with_decryption)
                    .await?,
            );
        }
        let mut resp = json!({ "Parameters": out });
        if end < list.len() {
            resp["NextToken"] = json!(end.to_string());
        }
        Ok(resp)
    }

    pub(crate) fn describe_parameters(&self, account: &str, region: &str, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct OldFilter {
            key: String,
            values: Vec<String>,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            filters: Option<Vec<OldFilter>>,
            parameter_filters: Option<Vec<ParamFilter>>,
            max_results: Option<usize>,
            next_token: Option<String>,
        }
        let i: In = parse(input)?;
        let filters: Vec<ParamFilter> = match (i.filters, i.parameter_filters) {
            (Some(_), Some(_)) => {
                return Err(SsmError::validation(
                    "You can use either Filters or ParameterFilters in a single request.",
                ));
            }
            // The old Filters: Name matches as a prefix, Type and KeyId exactly.
            (Some(old), None) => old
                .into_iter()
                .map(|f| ParamFilter {
                    option: Some(
                        if f.key == "Name" {
                            "BeginsWith"
                        } else {
                            "Equals"
                        }
                        .into(),
                    ),
                    key: f.key,
                    values: f.values,
                })
                .collect(),
            (None, p) => p.unwrap_or_default(),
        };
        for f in &filters {
            check(f, false)?;
        }
        let m = self.state.lock();
        let scope = crate::state::scoped(account, region, "");
        let list: Vec<&Param> = m
            .range(scope.clone()..)
            .take_while(|(k, _)| k.starts_with(&scope))
            .map(|(_, p)| p)
            .filter(|p| filters.iter().all(|f| hit(p, f)))
            .collect();
        let (start, end) = window(
            list.len(),
            i.next_token.as_deref(),
            i.max_results.unwrap_or(50).clamp(1, 50),
        )?;
        let out: Vec<Value> = list[start..end].iter().map(|p| metadata(p)).collect();
        let mut resp = json!({ "Parameters": out });
        if end < list.len() {
            resp["NextToken"] = json!(end.to_string());
        }
        Ok(resp)
    }
}
