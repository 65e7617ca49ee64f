//! Aliases: friendly names (`alias/...`) pointing at keys of the same account and region.

use aloft_core::clock;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{Code, KmsError, Result};
use crate::keys::{page, pending};
use crate::state::{Alias, KeyState, scoped};
use crate::{Kms, Out, commit, parse};

pub(crate) fn new_alias(account: &str, region: &str, name: &str, target: &str) -> Alias {
    let now = clock::now_secs_f64();
    Alias {
        account: account.into(),
        region: region.into(),
        name: name.into(),
        arn: aloft_core::arn::build("kms", region, account, name),
        target: target.into(),
        created_s: now,
        updated_s: now,
    }
}

fn check_name(name: &str) -> Result<()> {
    if !name.starts_with("alias/") || name.len() <= "alias/".len() {
        return Err(KmsError::validation(
            "Alias must start with the prefix \"alias/\". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html",
        ));
    }
    // The alias/aws/ prefix belongs to AWS managed keys.
    if name.starts_with("alias/aws/") {
        return Err(KmsError::new(
            Code::InvalidAliasNameException,
            format!("Alias name {name} must not begin with alias/aws/."),
        ));
    }
    Ok(())
}

impl Kms {
    /// The key id an alias may point at: a customer key not pending deletion.
    fn alias_target(&self, account: &str, region: &str, r: &str) -> Result<String> {
        if r.starts_with("alias/") || r.contains(":alias/") {
            return Err(KmsError::validation(
                "Aliases must refer to keys. Not aliases",
            ));
        }
        let m = self.state.lock();
        let k = &m.keys[&Self::resolve(&m, account, region, r)?];
        if k.state == KeyState::PendingDeletion {
            return Err(pending(k));
        }
        if k.account != account || k.region != region {
            return Err(KmsError::not_found(format!("Key '{r}' does not exist")));
        }
        Ok(k.id.clone())
    }

    pub(crate) async fn create_alias(&self, account: &str, region: &str, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            alias_name: String,
            target_key_id: String,
        }
        let i: In = parse(input)?;
        check_name(&i.alias_name)?;
        let target = self.alias_target(account, region, &i.target_key_id)?;
        let c = {
            let mut m = self.state.lock();
            let k = scoped(account, region, &i.alias_name);
            if m.aliases.contains_key(&k) {
                return Err(KmsError::new(
                    Code::AlreadyExistsException,
                    format!(
                        "An alias with the name {} already exists",
                        aloft_core::arn::build("kms", region, account, &i.alias_name)
                    ),
                ));
            }
            let a = new_alias(account, region, &i.alias_name, &target);
            let c = self.state.save_alias(&a);
            m.aliases.insert(k, a);
            c
        };
        commit(c).await?;
        Ok(json!({}))
    }

    pub(crate) async fn update_alias(&self, account: &str, region: &str, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            alias_name: String,
            target_key_id: String,
        }
        let i: In = parse(input)?;
        check_name(&i.alias_name)?;
        let target = self.alias_target(account, region, &i.target_key_id)?;
        let c = {
            let mut m = self.state.lock();
            let k = scoped(account, region, &i.alias_name);
            let Some(old) = m.aliases.get(&k).map(|a| a.target.clone()) else {
                return Err(alias_not_found(account, region, &i.alias_name));
            };
            // The new key must be of the same type and usage as the old one.
            let (a, b) = (
                m.keys.get(&scoped(account, region, &old)),
                m.keys.get(&scoped(account, region, &target)),
            );
            if let (Some(a), Some(b)) = (a, b)
                && (a.spec != b.spec || a.usage != b.usage)
            {
                return Err(KmsError::validation(format!(
                    "{} key usage or key spec is different from the alias's current key.",
                    b.arn
                )));
            }
            let alias = m.aliases.get_mut(&k).expect("checked");
            alias.target = target;
            alias.updated_s = clock::now_secs_f64();
            self.state.save_alias(alias)
        };
        commit(c).await?;
        Ok(json!({}))
    }

    pub(crate) async fn delete_alias(&self, account: &str, region: &str, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            alias_name: String,
        }
        let i: In = parse(input)?;
        let c = {
            let mut m = self.state.lock();
            let k = scoped(account, region, &i.alias_name);
            if m.aliases.remove(&k).is_none() {
                return Err(alias_not_found(account, region, &i.alias_name));
            }
            self.state.delete(&[], &[k])
        };
        commit(c).await?;
        Ok(json!({}))
    }

    pub(crate) async fn list_aliases(&self, account: &str, region: &str, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            key_id: Option<String>,
            limit: Option<usize>,
            marker: Option<String>,
        }
        let i: In = parse(input)?;
        let m = self.state.lock();
        let only = match &i.key_id {
            Some(r) => Some(m.keys[&Self::resolve(&m, account, region, r)?].id.clone()),
            None => None,
        };
        let mut aliases: Vec<&Alias> = m
            .aliases
            .values()
            .filter(|a| a.account == account && a.region == region)
            .filter(|a| only.as_ref().is_none_or(|id| &a.target == id))
            .collect();
        aliases.sort_by(|a, b| a.name.cmp(&b.name));
        let entries = aliases
            .iter()
            .map(|a| {
                json!({
                    "AliasName": a.name, "AliasArn": a.arn, "TargetKeyId": a.target,
                    "CreationDate": a.created_s, "LastUpdatedDate": a.updated_s,
                })
            })
            .collect();
        page(entries, i.limit, i.marker.as_deref(), "Aliases")
    }
}

fn alias_not_found(account: &str, region: &str, name: &str) -> KmsError {
    KmsError::not_found(format!(
        "Alias {} is not found.",
        aloft_core::arn::build("kms", region, account, name)
    ))
}
