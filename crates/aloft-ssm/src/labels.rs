//! LabelParameterVersion and UnlabelParameterVersion: a label names one version of a
//! parameter at a time, a version carries at most 10 labels.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{Code, SsmError};
use crate::names::label_ok;
use crate::state::{Param, scoped};
use crate::{Out, Ssm, commit, parse};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct In {
    name: String,
    parameter_version: Option<u64>,
    labels: Vec<String>,
}

fn version_index(p: &Param, v: Option<u64>) -> Result<usize, SsmError> {
    match v {
        None => Ok(p.versions.len() - 1),
        Some(n) => p.versions.iter().position(|x| x.version == n).ok_or_else(|| {
            SsmError::new(
                Code::ParameterVersionNotFound,
                format!(
                    "Systems Manager could not find version {n} of {}. Verify the version and try again.",
                    p.name
                ),
            )
        }),
    }
}

impl Ssm {
    pub(crate) async fn label_parameter_version(
        &self,
        account: &str,
        region: &str,
        input: Value,
    ) -> Out {
        let i: In = parse(input)?;
        let (out, c) = {
            let mut m = self.state.lock();
            let p = m
                .get_mut(&scoped(account, region, &i.name))
                .ok_or_else(SsmError::not_found)?;
            let idx = version_index(p, i.parameter_version)?;
            let (good, bad): (Vec<String>, Vec<String>) =
                i.labels.into_iter().partition(|l| label_ok(l));
            let mut merged = p.versions[idx].labels.clone();
            for l in &good {
                if !merged.contains(l) {
                    merged.push(l.clone());
                }
            }
            if merged.len() > 10 {
                return Err(SsmError::new(
                    Code::ParameterVersionLabelLimitExceeded,
                    "A parameter version can have maximum 10 labels.Move one or more labels to another version and try again.",
                ));
            }
            for (j, v) in p.versions.iter_mut().enumerate() {
                if j != idx {
                    v.labels.retain(|l| !good.contains(l));
                }
            }
            p.versions[idx].labels = merged;
            let version = p.versions[idx].version;
            (
                json!({"InvalidLabels": bad, "ParameterVersion": version}),
                self.state.save(p),
            )
        };
        commit(c).await?;
        Ok(out)
    }

    pub(crate) async fn unlabel_parameter_version(
        &self,
        account: &str,
        region: &str,
        input: Value,
    ) -> Out {
        let i: In = parse(input)?;
        let (out, c) = {
            let mut m = self.state.lock();
            let p = m
                .get_mut(&scoped(account, region, &i.name))
                .ok_or_else(SsmError::not_found)?;
            let idx = version_index(p, i.parameter_version)?;
            let v = &mut p.versions[idx];
            let (removed, invalid): (Vec<String>, Vec<String>) =
                i.labels.into_iter().partition(|l| v.labels.contains(l));
            v.labels.retain(|l| !removed.contains(l));
            (
                json!({"RemovedLabels": removed, "InvalidLabels": invalid}),
                self.state.save(p),
            )
        };
        commit(c).await?;
        Ok(out)
    }
}
