//! CORS rule matching for preflights (OPTIONS) and for the headers on actual requests.

use crate::domain::config::{CorsConfiguration, CorsRule};

/// `*` matches any run of characters; S3 allows one wildcard per origin or header pattern.
pub fn wildcard(pattern: &str, value: &str, case_insensitive: bool) -> bool {
    let (p, v) = if case_insensitive {
        (pattern.to_ascii_lowercase(), value.to_ascii_lowercase())
    } else {
        (pattern.to_string(), value.to_string())
    };
    match p.split_once('*') {
        None => p == v,
        Some((pre, post)) => {
            v.len() >= pre.len() + post.len() && v.starts_with(pre) && v.ends_with(post)
        }
    }
}

/// The first rule allowing `origin`, `method` and every one of `headers`.
pub fn find<'a>(
    cfg: &'a CorsConfiguration,
    origin: &str,
    method: &str,
    headers: &[&str],
) -> Option<&'a CorsRule> {
    cfg.rules.iter().find(|r| {
        r.allowed_origins.iter().any(|o| wildcard(o, origin, false))
            && r.allowed_methods.iter().any(|m| m == method)
            && headers.iter().all(|h| {
                r.allowed_headers
                    .iter()
                    .any(|a| wildcard(a, h.trim(), true))
            })
    })
}

/// The response headers for a matched rule.
pub fn headers(
    rule: &CorsRule,
    origin: &str,
    requested_headers: Option<&str>,
    preflight: bool,
) -> Vec<(&'static str, String)> {
    let any_origin = rule.allowed_origins.iter().any(|o| o == "*");
    let mut out = vec![(
        "access-control-allow-origin",
        if any_origin {
            "*".to_string()
        } else {
            origin.to_string()
        },
    )];
    out.push((
        "access-control-allow-methods",
        rule.allowed_methods.join(", "),
    ));
    if !any_origin {
        out.push(("access-control-allow-credentials", "true".into()));
    }
    if preflight {
        if let Some(h) = requested_headers.filter(|h| !h.trim().is_empty()) {
            out.push(("access-control-allow-headers", h.to_ascii_lowercase()));
        }
        if let Some(age) = rule.max_age_seconds {
            out.push(("access-control-max-age", age.to_string()));
        }
    }
    if !rule.expose_headers.is_empty() {
        out.push((
            "access-control-expose-headers",
            rule.expose_headers.join(", "),
        ));
    }
    out.push((
        "vary",
        "Origin, Access-Control-Request-Headers, Access-Control-Request-Method".into(),
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_match_origin_method_headers() {
        let cfg = CorsConfiguration {
            rules: vec![CorsRule {
                allowed_origins: vec!["https://*.example.com".into()],
                allowed_methods: vec!["GET".into(), "PUT".into()],
                allowed_headers: vec!["x-amz-*".into(), "content-type".into()],
                max_age_seconds: Some(300),
                ..Default::default()
            }],
        };
        assert!(
            find(
                &cfg,
                "https://app.example.com",
                "PUT",
                &["Content-Type", "x-amz-date"]
            )
            .is_some()
        );
        assert!(find(&cfg, "https://evil.com", "PUT", &[]).is_none());
        assert!(find(&cfg, "https://app.example.com", "DELETE", &[]).is_none());
        assert!(find(&cfg, "https://app.example.com", "GET", &["authorization"]).is_none());
        let h = headers(
            &cfg.rules[0],
            "https://app.example.com",
            Some("Content-Type"),
            true,
        );
        assert!(h.contains(&(
            "access-control-allow-origin",
            "https://app.example.com".into()
        )));
        assert!(h.contains(&("access-control-max-age", "300".into())));
    }
}
