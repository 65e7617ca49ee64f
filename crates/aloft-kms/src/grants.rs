//! Grants: recorded, listed, retired and revoked. Aloft does not authorize by principal, so
//! grants never widen or narrow what a caller may do; their tokens are still checked on retire.

use aloft_core::clock;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{Code, KmsError};
use crate::keys::{page, pending};
use crate::state::{Grant, Key, KeyState};
use crate::{Kms, Out, parse};

fn grant_json(k: &Key, g: &Grant) -> Value {
    let mut v = json!({
        "KeyId": k.arn, "GrantId": g.grant_id, "CreationDate": g.created_s,
        "GranteePrincipal": g.grantee, "IssuingAccount": g.issuing_account,
        "Operations": g.operations,
    });
    if let Some(n) = &g.name {
        v["Name"] = json!(n);
    }
    if let Some(r) = &g.retiring {
        v["RetiringPrincipal"] = json!(r);
    }
    if let Some(c) = &g.constraints {
        v["Constraints"] = c.clone();
    }
    v
}

impl Kms {
    pub(crate) async fn create_grant(&self, account: &str, region: &str, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            key_id: String,
            grantee_principal: String,
            retiring_principal: Option<String>,
            operations: Vec<String>,
            constraints: Option<Value>,
            name: Option<String>,
            #[serde(default)]
            dry_run: bool,
        }
        let i: In = parse(input)?;
        if i.operations.is_empty() {
            return Err(KmsError::validation(
                "1 validation error detected: Value '[]' at 'operations' failed to satisfy constraint: Member must have length greater than or equal to 1",
            ));
        }
        if i.dry_run {
            return Err(dry_run());
        }
        let (id, token) = self
            .update(account, region, &i.key_id, |k| {
                if k.state == KeyState::PendingDeletion {
                    return Err(pending(k));
                }
                // A named grant repeated with the same parameters is the same grant.
                if let Some(g) = k.grants.iter().find(|g| {
                    i.name.is_some()
                        && g.name == i.name
                        && g.grantee == i.grantee_principal
                        && g.operations == i.operations
                }) {
                    return Ok((g.grant_id.clone(), g.token.clone()));
                }
                let g = Grant {
                    grant_id: aloft_core::ids::hex(32),
                    token: aloft_core::ids::random_string(
                        96,
                        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
                    ),
                    name: i.name,
                    grantee: i.grantee_principal,
                    retiring: i.retiring_principal,
                    operations: i.operations,
                    constraints: i.constraints,
                    issuing_account: format!("arn:aws:iam::{account}:root"),
                    created_s: clock::now_secs_f64(),
                };
                let out = (g.grant_id.clone(), g.token.clone());
                k.grants.push(g);
                Ok(out)
            })
            .await?;
        Ok(json!({"GrantId": id, "GrantToken": token}))
    }

    pub(crate) async fn list_grants(&self, account: &str, region: &str, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            key_id: String,
            limit: Option<usize>,
            marker: Option<String>,
            grant_id: Option<String>,
            grantee_principal: Option<String>,
        }
        let i: In = parse(input)?;
        let k = self.find(account, region, &i.key_id).await?;
        let entries = k
            .grants
            .iter()
            .filter(|g| i.grant_id.as_ref().is_none_or(|x| &g.grant_id == x))
            .filter(|g| i.grantee_principal.as_ref().is_none_or(|x| &g.grantee == x))
            .map(|g| grant_json(&k, g))
            .collect();
        page(entries, i.limit, i.marker.as_deref(), "Grants")
    }

    pub(crate) fn list_retirable_grants(&self, account: &str, region: &str, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            retiring_principal: String,
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
        let entries = keys
            .iter()
            .flat_map(|k| {
                k.grants
                    .iter()
                    .filter(|g| g.retiring.as_deref() == Some(i.retiring_principal.as_str()))
                    .map(|g| grant_json(k, g))
            })
            .collect();
        page(entries, i.limit, i.marker.as_deref(), "Grants")
    }

    pub(crate) async fn revoke_grant(&self, account: &str, region: &str, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            key_id: String,
            grant_id: String,
            #[serde(default)]
            dry_run: bool,
        }
        let i: In = parse(input)?;
        if i.dry_run {
            return Err(dry_run());
        }
        self.update(account, region, &i.key_id, |k| {
            let before = k.grants.len();
            k.grants.retain(|g| g.grant_id != i.grant_id);
            if k.grants.len() == before {
                return Err(KmsError::new(
                    Code::InvalidGrantIdException,
                    "Grant ID not found",
                ));
            }
            Ok(())
        })
        .await?;
        Ok(json!({}))
    }

    pub(crate) async fn retire_grant(&self, account: &str, region: &str, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            grant_token: Option<String>,
            key_id: Option<String>,
            grant_id: Option<String>,
            #[serde(default)]
            dry_run: bool,
        }
        let i: In = parse(input)?;
        if i.dry_run {
            return Err(dry_run());
        }
        let key_ref = if let Some(t) = &i.grant_token {
            let m = self.state.lock();
            m.keys
                .values()
                .find(|k| k.grants.iter().any(|g| &g.token == t))
                .map(|k| k.arn.clone())
                .ok_or_else(|| {
                    KmsError::new(Code::InvalidGrantTokenException, "Invalid grant token")
                })?
        } else {
            match (&i.key_id, &i.grant_id) {
                (Some(k), Some(_)) => k.clone(),
                _ => {
                    return Err(KmsError::validation(
                        "Either a grant token or both a key ID and grant ID must be specified",
                    ));
                }
            }
        };
        self.update(account, region, &key_ref, |k| {
            let before = k.grants.len();
            k.grants.retain(|g| {
                !(i.grant_token.as_ref().is_some_and(|t| &g.token == t)
                    || i.grant_id.as_ref().is_some_and(|x| &g.grant_id == x))
            });
            if k.grants.len() == before {
                return Err(KmsError::new(
                    Code::InvalidGrantIdException,
                    "Grant ID not found",
                ));
            }
            Ok(())
        })
        .await?;
        Ok(json!({}))
    }
}

pub(crate) fn dry_run() -> KmsError {
    KmsError::new(
        Code::DryRunOperationException,
        "The request would have succeeded, but the DryRun option is set.",
    )
}
