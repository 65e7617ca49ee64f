//! ListUsers and its filter language (`attr = "v"`, `attr ^= "prefix"`).

use aloft_core::RequestContext;
use serde_json::{Value, json};

use crate::error::{Result, invalid};
use crate::model::User;
use crate::state::Inner;
use crate::users::*;

/// ListUsers' filter: `attr = "v"` (exact) or `attr ^= "v"` (prefix); empty means all.
#[derive(Debug, PartialEq)]
pub struct Filter {
    attribute: String,
    prefix: bool,
    value: String,
}

pub fn parse_filter(s: &str) -> Result<Option<Filter>> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let bad = || invalid("Error while parsing filter.");
    let (attr, rest, prefix) = if let Some((a, r)) = s.split_once("^=") {
        (a, r, true)
    } else {
        let (a, r) = s.split_once('=').ok_or_else(bad)?;
        (a, r, false)
    };
    let attr = attr.trim().trim_matches('"').to_string();
    let rest = rest.trim();
    if rest.len() < 2 || !rest.starts_with('"') || !rest.ends_with('"') {
        return Err(bad());
    }
    const SEARCHABLE: &[&str] = &[
        "username",
        "email",
        "phone_number",
        "name",
        "given_name",
        "family_name",
        "preferred_username",
        "cognito:user_status",
        "status",
        "sub",
    ];
    if !SEARCHABLE.contains(&attr.as_str()) {
        return Err(invalid(format!("Invalid search attribute: {attr}")));
    }
    Ok(Some(Filter {
        attribute: attr,
        prefix,
        value: rest[1..rest.len() - 1].to_string(),
    }))
}

fn filter_matches(f: &Filter, u: &User) -> bool {
    let v = match f.attribute.as_str() {
        "username" => Some(u.username.clone()),
        "cognito:user_status" => Some(u.status.as_str().to_string()),
        "status" => Some(if u.enabled { "Enabled" } else { "Disabled" }.to_string()),
        a => u.attributes.get(a).cloned(),
    };
    v.is_some_and(|v| {
        if f.prefix {
            v.to_lowercase().starts_with(&f.value.to_lowercase())
        } else {
            v == f.value
        }
    })
}

pub fn list_users(inner: &Inner, ctx: &RequestContext, input: ListUsersInput) -> Result<Value> {
    let filter = parse_filter(input.filter.as_deref().unwrap_or(""))?;
    let limit = match input.limit {
        None | Some(0) => 60,
        Some(n) if !(0..=60).contains(&n) => {
            return Err(invalid(format!(
                "1 validation error detected: Value '{n}' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 60"
            )));
        }
        Some(n) => n as usize,
    };
    inner.read(ctx, &input.user_pool_id, |pool| {
        let items = pool
            .users
            .values()
            .filter(|u| filter.as_ref().is_none_or(|f| filter_matches(f, u)))
            .map(|u| {
                (
                    u.username.clone(),
                    u.to_user_type(input.attributes_to_get.as_deref()),
                )
            })
            .collect();
        let (users, next) = crate::pools::page(items, input.pagination_token.as_deref(), limit);
        let mut out = json!({"Users": users});
        if let Some(n) = next {
            out["PaginationToken"] = n.into();
        }
        Ok(out)
    })
}

/// Runs `f` on the user an access token names and journals it.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse() {
        assert_eq!(
            parse_filter("email ^= \"ali\"").unwrap(),
            Some(Filter {
                attribute: "email".into(),
                prefix: true,
                value: "ali".into()
            })
        );
        assert_eq!(parse_filter("  ").unwrap(), None);
        assert!(parse_filter("email = ali").is_err());
        assert!(parse_filter("custom:x = \"a\"").is_err());
        let f = parse_filter("cognito:user_status = \"UNCONFIRMED\"")
            .unwrap()
            .unwrap();
        assert!(!f.prefix);
    }
}
