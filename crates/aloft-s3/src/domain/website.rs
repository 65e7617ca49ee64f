//! Static website semantics: index documents, redirect-all, routing rules, error documents.

use crate::domain::config::{Redirect, WebsiteConfiguration};

/// The key a website path maps to, applying the index document to "directories".
pub fn key_for_path(cfg: &WebsiteConfiguration, path_key: &str) -> String {
    let suffix = cfg
        .index
        .as_ref()
        .map(|i| i.suffix.as_str())
        .unwrap_or("index.html");
    if path_key.is_empty() || path_key.ends_with('/') {
        format!("{path_key}{suffix}")
    } else {
        path_key.to_string()
    }
}

/// Builds the redirect Location for a matched routing rule.
pub fn redirect_location(
    r: &Redirect,
    key: &str,
    matched_prefix: Option<&str>,
    default_host: &str,
) -> (u16, String) {
    let new_key = if let Some(k) = &r.replace_key_with {
        k.clone()
    } else if let Some(p) = &r.replace_key_prefix_with {
        let rest = matched_prefix
            .and_then(|m| key.strip_prefix(m))
            .unwrap_or(key);
        format!("{p}{rest}")
    } else {
        key.to_string()
    };
    let code = r
        .http_redirect_code
        .as_deref()
        .and_then(|c| c.parse().ok())
        .unwrap_or(301);
    let location = match &r.host_name {
        Some(h) => format!(
            "{}://{h}/{new_key}",
            r.protocol.as_deref().unwrap_or("http")
        ),
        None => format!(
            "{}://{default_host}/{new_key}",
            r.protocol.as_deref().unwrap_or("http")
        ),
    };
    (code, location)
}

/// The routing rule applying to `key` given the status it would get (`None` before lookup).
pub fn matching_rule<'a>(
    cfg: &'a WebsiteConfiguration,
    key: &str,
    status: Option<u16>,
) -> Option<(&'a Redirect, Option<&'a str>)> {
    let rules = cfg.routing_rules.as_ref()?;
    rules.rules.iter().find_map(|rule| {
        let cond = rule.condition.as_ref();
        let prefix = cond.and_then(|c| c.key_prefix.as_deref());
        let code = cond.and_then(|c| c.http_error_code.as_deref());
        let prefix_ok = prefix.is_none_or(|p| key.starts_with(p));
        let code_ok = match code {
            None => true,
            Some(c) => status.is_some_and(|s| c == s.to_string()),
        };
        (prefix_ok && code_ok && (code.is_some() == status.is_some() || code.is_none()))
            .then_some((&rule.redirect, prefix))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::config::*;

    #[test]
    fn index_and_rules() {
        let cfg = WebsiteConfiguration {
            index: Some(IndexDocument {
                suffix: "index.html".into(),
            }),
            routing_rules: Some(RoutingRules {
                rules: vec![RoutingRule {
                    condition: Some(RoutingCondition {
                        key_prefix: Some("docs/".into()),
                        http_error_code: None,
                    }),
                    redirect: Redirect {
                        replace_key_prefix_with: Some("documents/".into()),
                        ..Default::default()
                    },
                }],
            }),
            ..Default::default()
        };
        assert_eq!(key_for_path(&cfg, ""), "index.html");
        assert_eq!(key_for_path(&cfg, "a/"), "a/index.html");
        assert_eq!(key_for_path(&cfg, "a.html"), "a.html");
        let (r, p) = matching_rule(&cfg, "docs/x.html", None).unwrap();
        assert_eq!(
            redirect_location(r, "docs/x.html", p, "b.s3-website.localhost:4566"),
            (
                301,
                "http://b.s3-website.localhost:4566/documents/x.html".into()
            )
        );
        assert!(matching_rule(&cfg, "other", None).is_none());
    }
}
