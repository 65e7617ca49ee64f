//! The OAuth 2.0 / OpenID Connect endpoints of a pool's domain (the hosted UI):
//! `/oauth2/authorize` (+ `/login`), `/oauth2/token`, `/oauth2/userInfo`, `/oauth2/revoke`,
//! `/logout`.
//!
//! A domain is reached two ways: by host, `http://{domain}.auth.{region}.localhost:{port}/...`
//! (the `auth` host label, as `{domain}.auth.{region}.amazoncognito.com` on AWS), and by path,
//! `{base}/_aws/cognito/{domain}/...`, for machines where `*.localhost` does not resolve. The
//! OpenID configuration advertises the path form because it always resolves.

mod authorize;
mod token;

use std::collections::HashMap;

use aloft_core::{AwsRequest, RequestContext, Response, body, clock};
use serde_json::{Value, json};

use crate::state::Inner;

/// Where the path form of the domain endpoints lives.
pub const PATH_PREFIX: &str = "/_aws/cognito/";
/// The host label of the domain endpoints.
pub const HOST_LABEL: &str = "auth";

/// Authorization codes live five minutes and are used once, as Cognito's do.
const CODE_TTL_MS: i64 = 5 * 60 * 1000;
/// The hosted UI's sign-in cookie lasts an hour.
const LOGIN_TTL_MS: i64 = 60 * 60 * 1000;

/// A code handed to the redirect URI, waiting for `/oauth2/token`.
#[derive(Debug, Clone)]
pub struct AuthCode {
    pub pool_id: String,
    pub client_id: String,
    pub username: String,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    /// PKCE: the S256 challenge.
    pub challenge: Option<String>,
    pub nonce: Option<String>,
    pub expires: i64,
}

/// A hosted-UI sign-in remembered by cookie: later `/oauth2/authorize` calls skip the page.
#[derive(Debug, Clone)]
pub struct Login {
    pub pool_id: String,
    pub username: String,
    pub expires: i64,
}

/// Codes and sign-in cookies: short-lived, kept in memory only (as a restart ends them on AWS
/// too, from the client's point of view: they expire within minutes).
#[derive(Default)]
pub struct OAuthState {
    pub codes: HashMap<String, AuthCode>,
    pub logins: HashMap<String, Login>,
}

impl OAuthState {
    fn sweep(&mut self, now: i64) {
        self.codes.retain(|_, c| c.expires > now);
        self.logins.retain(|_, l| l.expires > now);
    }
}

/// The domain a request addresses and the path below it, if it is a domain request.
fn domain_of(req: &AwsRequest) -> Option<(String, String, String)> {
    if req.ctx.host_label == Some(HOST_LABEL) {
        let domain = req.ctx.host_prefix.clone()?;
        let base = req.ctx.base_url.trim_end_matches('/').to_string();
        return Some((domain, req.path().to_string(), base));
    }
    let rest = req.path().strip_prefix(PATH_PREFIX)?;
    let (domain, sub) = match rest.split_once('/') {
        Some((d, s)) => (d.to_string(), format!("/{s}")),
        None => (rest.to_string(), "/".to_string()),
    };
    let base = format!(
        "{}{PATH_PREFIX}{domain}",
        req.ctx.base_url.trim_end_matches('/')
    );
    Some((domain, sub, base))
}

/// The endpoints' base URL by path, for documents that must resolve anywhere.
pub fn domain_base(base_url: &str, domain: &str) -> String {
    format!("{}{PATH_PREFIX}{domain}", base_url.trim_end_matches('/'))
}

/// The request context as the issuer sees it: `iss` is always `http://localhost:{port}/{pool}`,
/// whichever host the domain was reached by.
pub(crate) fn issuer_ctx(ctx: &RequestContext) -> RequestContext {
    let mut c = ctx.clone();
    if ctx.host_label == Some(HOST_LABEL)
        && let Some((scheme, host)) = ctx.base_url.split_once("://")
        && let Some((_, after)) = host.split_once(".auth.")
    {
        // `{domain}.auth.{region}.localhost:4566` → `localhost:4566`.
        let rest = match after.split_once('.') {
            Some((label, rest))
                if label.contains('-') && label.ends_with(|ch: char| ch.is_ascii_digit()) =>
            {
                rest
            }
            _ => after,
        };
        c.base_url = format!("{scheme}://{rest}");
    }
    c
}

/// Serves a domain request; `None` if the request is not for a domain.
pub async fn route(inner: &Inner, mut req: AwsRequest) -> Result<Response, AwsRequest> {
    let Some((domain, sub, base)) = domain_of(&req) else {
        return Err(req);
    };
    let pool_id = inner
        .lock()
        .pools
        .values()
        .find(|p| p.domain.as_deref() == Some(domain.as_str()))
        .map(|p| p.id.clone());
    let Some(pool_id) = pool_id else {
        return Ok(html(
            404,
            &page(
                "Not found",
                &format!("<p>No user pool has the domain {}.</p>", esc(&domain)),
            ),
        ));
    };
    {
        let mut st = inner.oauth.lock().expect("oauth lock");
        st.sweep(clock::now_millis());
    }
    let method = req.parts.method.as_str().to_string();
    let query = parse_form(req.query());
    let form = if method == "POST" {
        match req
            .bytes(64 * 1024, || {
                aloft_core::AwsError::validation("Request body too large")
            })
            .await
        {
            Ok(b) => parse_form(&String::from_utf8_lossy(&b)),
            Err(_) => return Ok(oauth_error(400, "invalid_request")),
        }
    } else {
        HashMap::new()
    };
    // The hosted-UI cookie stays with the domain: the whole host, or the path form's prefix.
    let cookie_path = if req.ctx.host_label == Some(HOST_LABEL) {
        "/".to_string()
    } else {
        format!("{PATH_PREFIX}{domain}")
    };
    let site = Site {
        inner,
        pool_id,
        base,
        ctx: issuer_ctx(&req.ctx),
        cookie_path,
    };
    let resp = match (method.as_str(), sub.as_str()) {
        ("GET", "/oauth2/authorize" | "/login" | "/authorize") => {
            authorize::show(&site, &req, &query).await
        }
        ("POST", "/oauth2/authorize" | "/login" | "/authorize") => {
            authorize::submit(&site, &req, &query, &form).await
        }
        ("GET", "/logout") => authorize::logout(&site, &req, &query),
        ("POST", "/oauth2/token") => token::token(&site, &req, &form).await,
        ("GET" | "POST", "/oauth2/userInfo" | "/oauth2/userinfo") => {
            token::user_info(&site, &req).await
        }
        ("POST", "/oauth2/revoke") => token::revoke(&site, &req, &form).await,
        (_, "/oauth2/token" | "/oauth2/revoke") => oauth_error(405, "invalid_request"),
        _ => html(
            404,
            &page(
                "Not found",
                "<p>An error was encountered with the requested page.</p>",
            ),
        ),
    };
    Ok(resp)
}

/// One domain request's pool and addresses.
pub(crate) struct Site<'a> {
    pub inner: &'a Inner,
    pub pool_id: String,
    /// The URL the endpoints are under, as this request addressed them.
    pub base: String,
    pub ctx: RequestContext,
    pub cookie_path: String,
}

/// `application/x-www-form-urlencoded` (and query strings) into a map; the last value wins.
pub fn parse_form(s: &str) -> HashMap<String, String> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let plus = s.replace('+', " ");
    percent_encoding::percent_decode_str(&plus)
        .decode_utf8_lossy()
        .into_owned()
}

pub fn encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC)
        .to_string()
        .replace("%2D", "-")
        .replace("%2E", ".")
        .replace("%5F", "_")
        .replace("%7E", "~")
}

/// `k=v&k2=v2`, percent-encoded.
pub fn encode_pairs(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

pub fn page(title: &str, content: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{}</title>\
<style>body{{font-family:sans-serif;max-width:22em;margin:4em auto}}label,input,button{{display:block;width:100%;margin:.3em 0}}\
.error{{color:#b00}}</style></head><body><h1>{}</h1>{content}</body></html>",
        esc(title),
        esc(title)
    )
}

pub fn html(status: u16, text: &str) -> Response {
    http::Response::builder()
        .status(status)
        .header("content-type", "text/html;charset=UTF-8")
        .header("cache-control", "no-store")
        .body(body::full(text.to_string()))
        .unwrap_or_else(|_| http::Response::new(body::empty()))
}

pub fn redirect(location: &str, cookie: Option<String>) -> Response {
    let mut b = http::Response::builder()
        .status(302)
        .header("location", location)
        .header("cache-control", "no-store");
    if let Some(c) = cookie {
        b = b.header("set-cookie", c);
    }
    b.body(body::empty())
        .unwrap_or_else(|_| http::Response::new(body::empty()))
}

/// The token endpoint's error document: `{"error": "invalid_grant"}`.
pub fn oauth_error(status: u16, error: &str) -> Response {
    json_response(status, &json!({"error": error}))
}

pub fn json_response(status: u16, v: &Value) -> Response {
    http::Response::builder()
        .status(status)
        .header("content-type", "application/json;charset=UTF-8")
        .header("cache-control", "no-store")
        .header("pragma", "no-cache")
        .body(body::full(v.to_string()))
        .unwrap_or_else(|_| http::Response::new(body::empty()))
}

/// A random URL-safe token (codes, cookie ids).
pub fn random_token() -> String {
    aloft_core::ids::random_string(36, aloft_core::ids::ALNUM)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_round_trip() {
        let f =
            parse_form("a=1&redirect_uri=http%3A%2F%2Flocalhost%3A3000%2Fcb&scope=openid+email");
        assert_eq!(f["redirect_uri"], "http://localhost:3000/cb");
        assert_eq!(f["scope"], "openid email");
        assert_eq!(
            encode_pairs(&[("code", "a b"), ("state", "x/y")]),
            "code=a%20b&state=x%2Fy"
        );
        assert_eq!(esc("<a href=\"x\">"), "&lt;a href=&quot;x&quot;&gt;");
    }

    #[test]
    fn issuer_is_localhost_whatever_the_domain_host() {
        let ctx = RequestContext {
            request_id: String::new(),
            account_id: String::new(),
            region: "us-east-1".into(),
            service: "cognito-idp",
            signature: None,
            host_prefix: Some("mydomain".into()),
            host_label: Some(HOST_LABEL),
            base_url: "http://mydomain.auth.us-east-1.localhost:4566".into(),
        };
        assert_eq!(issuer_ctx(&ctx).base_url, "http://localhost:4566");
        let mut c2 = ctx.clone();
        c2.base_url = "http://mydomain.auth.localhost:4566".into();
        assert_eq!(issuer_ctx(&c2).base_url, "http://localhost:4566");
    }
}
