//! Parameter names, paths, selectors (`name:3`, `name:label`) and label rules.

use crate::error::{Code, Result, SsmError};

const NAME_RULE: &str = "Parameter name: can't be prefixed with \"aws\" or \"ssm\" (case-insensitive). If formed as a path, it can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_";

/// Checks a name for PutParameter.
pub fn check_name(name: &str) -> Result<()> {
    if name.contains('/') && !name.starts_with('/') {
        return Err(SsmError::validation(
            "Parameter name must be a fully qualified name.",
        ));
    }
    let bare = name.trim_start_matches('/').to_ascii_lowercase();
    if bare.starts_with("aws") || bare.starts_with("ssm") {
        return Err(SsmError::validation(NAME_RULE));
    }
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_.-/".contains(c));
    if !ok_chars || name.ends_with('/') || name.contains("//") {
        return Err(SsmError::validation(NAME_RULE));
    }
    if name.matches('/').count() > 15 {
        return Err(SsmError::new(
            Code::HierarchyLevelLimitExceededException,
            "Parameter name hierarchy level exceeds max hierarchy level of 15",
        ));
    }
    Ok(())
}

#[derive(Debug, PartialEq, Eq)]
pub enum Selector<'a> {
    Latest,
    Version(u64),
    Label(&'a str),
}

/// Splits `name:selector`.
pub fn split(spec: &str) -> Result<(&str, Selector<'_>)> {
    let Some((name, sel)) = spec.split_once(':') else {
        return Ok((spec, Selector::Latest));
    };
    if sel.is_empty() || sel.contains(':') {
        return Err(SsmError::validation(format!(
            "Invalid parameter name or selector: {spec}"
        )));
    }
    if sel.bytes().all(|b| b.is_ascii_digit()) {
        let v = sel
            .parse::<u64>()
            .map_err(|_| SsmError::validation("Invalid version selector"))?;
        return Ok((name, Selector::Version(v)));
    }
    Ok((name, Selector::Label(sel)))
}

/// Whether a label may be attached: at most 100 characters, not starting with a digit
/// or with `aws`/`ssm`, made of letters, digits, `.`, `-` and `_`.
pub fn label_ok(l: &str) -> bool {
    let lower = l.to_ascii_lowercase();
    !l.is_empty()
        && l.len() <= 100
        && !l.starts_with(|c: char| c.is_ascii_digit())
        && !lower.starts_with("aws")
        && !lower.starts_with("ssm")
        && l.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
}

pub fn arn(account: &str, region: &str, name: &str) -> String {
    let res = if name.starts_with('/') {
        format!("parameter{name}")
    } else {
        format!("parameter/{name}")
    };
    aloft_core::arn::build("ssm", region, account, &res)
}

/// Whether `name` lies under `path` (directly, or anywhere when recursive).
pub fn under(name: &str, path: &str, recursive: bool) -> bool {
    let prefix = if path.ends_with('/') {
        path.to_string()
    } else {
        format!("{path}/")
    };
    match name.strip_prefix(&prefix) {
        Some(rest) if !rest.is_empty() => recursive || !rest.contains('/'),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(check_name("/app/db/url").is_ok());
        assert!(check_name("plain.name-1").is_ok());
        assert!(check_name("app/db").is_err());
        assert!(check_name("/aws/x").is_err());
        assert!(check_name("SSMthing").is_err());
        assert!(check_name("/a b").is_err());
        let deep = "/a".repeat(16);
        assert_eq!(
            check_name(&deep).unwrap_err().code,
            Code::HierarchyLevelLimitExceededException
        );
    }

    #[test]
    fn selectors() {
        assert_eq!(split("/a/b").unwrap(), ("/a/b", Selector::Latest));
        assert_eq!(split("/a/b:3").unwrap(), ("/a/b", Selector::Version(3)));
        assert_eq!(
            split("/a/b:prod").unwrap(),
            ("/a/b", Selector::Label("prod"))
        );
        assert!(split("/a/b:").is_err());
        assert!(split("/a:b:c").is_err());
    }

    #[test]
    fn paths_and_labels() {
        assert!(under("/a/b", "/a", false));
        assert!(!under("/a/b/c", "/a", false));
        assert!(under("/a/b/c", "/a", true));
        assert!(under("/a/b", "/", true) && under("/a", "/", false));
        assert!(!under("/ab", "/a", true));
        assert!(label_ok("prod") && label_ok("Release-1.0"));
        assert!(!label_ok("1st") && !label_ok("awsx") && !label_ok("a b"));
    }
}
