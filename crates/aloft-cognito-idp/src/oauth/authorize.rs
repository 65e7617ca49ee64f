//! `/oauth2/authorize` and `/login`: the request's checks, a small login page, the sign-in
//! (with the hosted-UI cookie that skips the page next time), the redirect with a code (or,
//! for the implicit flow, tokens in the fragment); and `/logout`.

use std::collections::HashMap;

use aloft_core::{AwsRequest, Response, clock};
use serde_json::Value;

use super::{
    AuthCode, CODE_TTL_MS, LOGIN_TTL_MS, Login, Site, encode_pairs, esc, html, page, random_token,
    redirect,
};
use crate::auth::{Grant, issue_tokens_with, password_sign_in};
use crate::model::{Client, UserStatus};

const COOKIE: &str = "cognito";

/// A checked authorization request.
struct Ask {
    client_id: String,
    redirect_uri: String,
    response_type: String,
    state: Option<String>,
    scopes: Vec<String>,
    challenge: Option<String>,
    nonce: Option<String>,
}

/// What is wrong with a request: shown on a page when the redirect URI cannot be trusted,
/// else sent back to it as `?error=`.
enum Refusal {
    Page(u16, String),
    Redirect(String, &'static str, Option<String>),
}

fn refuse(r: Refusal) -> Response {
    match r {
        Refusal::Page(status, why) => html(
            status,
            &page("Error", &format!("<p class=\"error\">{}</p>", esc(&why))),
        ),
        Refusal::Redirect(uri, error, state) => {
            let mut pairs = vec![("error", error)];
            if let Some(s) = &state {
                pairs.push(("state", s.as_str()));
            }
            redirect(&append_query(&uri, &encode_pairs(&pairs)), None)
        }
    }
}

fn append_query(uri: &str, q: &str) -> String {
    let sep = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{sep}{q}")
}

fn list(c: &Client, name: &str) -> Vec<String> {
    c.list(name)
}

fn check(site: &Site<'_>, q: &HashMap<String, String>) -> Result<Ask, Refusal> {
    let client_id = q
        .get("client_id")
        .filter(|c| !c.is_empty())
        .ok_or_else(|| Refusal::Page(400, "invalid_request: client_id is missing".into()))?;
    let client = site
        .inner
        .read_any(&site.pool_id, |p| Ok(p.clients.get(client_id).cloned()))
        .ok()
        .flatten()
        .ok_or_else(|| {
            Refusal::Page(
                400,
                "invalid_request: the client does not exist in this user pool".into(),
            )
        })?;
    let callbacks = list(&client, "CallbackURLs");
    let redirect_uri = match q.get("redirect_uri") {
        Some(r) => r.clone(),
        None => client
            .str("DefaultRedirectURI")
            .map(str::to_string)
            .ok_or_else(|| Refusal::Page(400, "redirect_mismatch".into()))?,
    };
    if !callbacks.contains(&redirect_uri) {
        return Err(Refusal::Page(400, "redirect_mismatch".into()));
    }
    let state = q.get("state").cloned();
    let back = |e: &'static str| Refusal::Redirect(redirect_uri.clone(), e, state.clone());
    let response_type = q.get("response_type").cloned().unwrap_or_default();
    let flow = match response_type.as_str() {
        "code" => "code",
        "token" => "implicit",
        _ => return Err(back("unsupported_response_type")),
    };
    let enabled =
        client.settings.get("AllowedOAuthFlowsUserPoolClient") == Some(&Value::Bool(true));
    if !enabled || !list(&client, "AllowedOAuthFlows").iter().any(|f| f == flow) {
        return Err(back("unauthorized_client"));
    }
    let allowed = list(&client, "AllowedOAuthScopes");
    let scopes: Vec<String> = match q.get("scope").filter(|s| !s.trim().is_empty()) {
        Some(s) => s.split_whitespace().map(str::to_string).collect(),
        None => allowed.clone(),
    };
    if scopes.iter().any(|s| !allowed.contains(s)) {
        return Err(back("invalid_scope"));
    }
    let challenge = q.get("code_challenge").cloned();
    if challenge.is_some() || q.contains_key("code_challenge_method") {
        // Cognito implements PKCE's S256 method only.
        if q.get("code_challenge_method").map(String::as_str) != Some("S256") || challenge.is_none()
        {
            return Err(back("invalid_request"));
        }
    }
    Ok(Ask {
        client_id: client_id.clone(),
        redirect_uri,
        response_type,
        state,
        scopes,
        challenge,
        nonce: q.get("nonce").cloned(),
    })
}

fn cookie_of(req: &AwsRequest) -> Option<String> {
    req.parts
        .headers
        .get_all("cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_string())
}

/// The user signed in by the hosted-UI cookie, if still valid and able to sign in.
fn signed_in(site: &Site<'_>, req: &AwsRequest) -> Option<String> {
    let id = cookie_of(req)?;
    let login = site
        .inner
        .oauth
        .lock()
        .expect("oauth lock")
        .logins
        .get(&id)
        .cloned()?;
    if login.pool_id != site.pool_id || login.expires <= clock::now_millis() {
        return None;
    }
    site.inner
        .read_any(&site.pool_id, |p| {
            Ok(p.users
                .get(&login.username)
                .is_some_and(|u| u.enabled && u.status == UserStatus::CONFIRMED))
        })
        .ok()
        .filter(|ok| *ok)
        .map(|_| login.username)
}

fn login_form(req: &AwsRequest, error: Option<&str>, username: &str) -> String {
    let action = match req.query() {
        "" => req.path().to_string(),
        q => format!("{}?{q}", req.path()),
    };
    let err = error
        .map(|e| format!("<p class=\"error\" id=\"loginErrorMessage\">{}</p>", esc(e)))
        .unwrap_or_default();
    page(
        "Sign in",
        &format!(
            "{err}<form method=\"post\" action=\"{}\">\
<label for=\"username\">Username</label><input id=\"username\" name=\"username\" value=\"{}\" autocomplete=\"username\">\
<label for=\"password\">Password</label><input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\">\
<button type=\"submit\" name=\"signInSubmitButton\">Sign in</button></form>",
            esc(&action),
            esc(username)
        ),
    )
}

/// GET: check the request; a signed-in browser goes straight back, others see the page.
pub async fn show(site: &Site<'_>, req: &AwsRequest, q: &HashMap<String, String>) -> Response {
    let ask = match check(site, q) {
        Ok(a) => a,
        Err(r) => return refuse(r),
    };
    let force = q
        .get("prompt")
        .is_some_and(|p| p.split_whitespace().any(|x| x == "login"));
    if !force && let Some(username) = signed_in(site, req) {
        return complete(site, &ask, &username, None).await;
    }
    html(200, &login_form(req, None, ""))
}

/// POST: the login form's credentials.
pub async fn submit(
    site: &Site<'_>,
    req: &AwsRequest,
    q: &HashMap<String, String>,
    form: &HashMap<String, String>,
) -> Response {
    let ask = match check(site, q) {
        Ok(a) => a,
        Err(r) => return refuse(r),
    };
    let given = form.get("username").map(|s| s.trim()).unwrap_or("");
    let pw = form.get("password").map(String::as_str).unwrap_or("");
    if given.is_empty() || pw.is_empty() {
        return html(
            400,
            &login_form(req, Some("Username and password are required."), given),
        );
    }
    let username = match password_sign_in(
        site.inner,
        &site.pool_id,
        &ask.client_id,
        given,
        pw,
        None,
        &None,
    )
    .await
    {
        Ok(u) => u,
        Err(e) => return html(400, &login_form(req, Some(&e.message), given)),
    };
    let needs_more = site.inner.read_any(&site.pool_id, |p| {
        let u = p.users.get(&username);
        let mode = p.mfa_configuration();
        let mfa = u.is_some_and(|u| {
            mode == "ON"
                || (mode == "OPTIONAL"
                    && (u.mfa.totp_enabled || u.mfa.sms_enabled || u.mfa.email_enabled))
        });
        Ok(u.is_some_and(|u| u.status == UserStatus::FORCE_CHANGE_PASSWORD) || mfa)
    });
    if needs_more.unwrap_or(false) {
        return html(
            400,
            &login_form(
                req,
                Some(
                    "This user must complete a challenge (a new password or MFA) that Aloft's hosted login page does not offer; sign in through the API (InitiateAuth) instead.",
                ),
                given,
            ),
        );
    }
    let id = random_token();
    site.inner.oauth.lock().expect("oauth lock").logins.insert(
        id.clone(),
        Login {
            pool_id: site.pool_id.clone(),
            username: username.clone(),
            expires: clock::now_millis() + LOGIN_TTL_MS,
        },
    );
    let cookie = format!(
        "{COOKIE}={id}; Path={}; HttpOnly; SameSite=Lax",
        site.cookie_path
    );
    complete(site, &ask, &username, Some(cookie)).await
}

/// The redirect back to the client: a code, or (implicit) the tokens in the fragment.
async fn complete(site: &Site<'_>, ask: &Ask, username: &str, cookie: Option<String>) -> Response {
    if ask.response_type == "token" {
        let grant = Grant {
            scopes: ask.scopes.clone(),
            nonce: ask.nonce.clone(),
        };
        let tokens = issue_tokens_with(
            site.inner,
            &site.ctx,
            &site.pool_id,
            &ask.client_id,
            username,
            None,
            "TokenGeneration_HostedAuth",
            Some(&grant),
        )
        .await;
        let tokens = match tokens {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(error = %e.message, "implicit grant failed");
                return refuse(Refusal::Redirect(
                    ask.redirect_uri.clone(),
                    "server_error",
                    ask.state.clone(),
                ));
            }
        };
        let access = tokens["AccessToken"].as_str().unwrap_or("").to_string();
        let expires = tokens["ExpiresIn"].to_string();
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        let id_token = tokens["IdToken"].as_str().unwrap_or("").to_string();
        if ask.scopes.iter().any(|s| s == "openid") {
            pairs.push(("id_token", &id_token));
        }
        pairs.push(("access_token", &access));
        pairs.push(("expires_in", &expires));
        pairs.push(("token_type", "Bearer"));
        if let Some(s) = &ask.state {
            pairs.push(("state", s));
        }
        return redirect(
            &format!("{}#{}", ask.redirect_uri, encode_pairs(&pairs)),
            cookie,
        );
    }
    let code = uuid::Uuid::new_v4().to_string();
    site.inner.oauth.lock().expect("oauth lock").codes.insert(
        code.clone(),
        AuthCode {
            pool_id: site.pool_id.clone(),
            client_id: ask.client_id.clone(),
            username: username.to_string(),
            redirect_uri: ask.redirect_uri.clone(),
            scopes: ask.scopes.clone(),
            challenge: ask.challenge.clone(),
            nonce: ask.nonce.clone(),
            expires: clock::now_millis() + CODE_TTL_MS,
        },
    );
    let mut pairs = vec![("code", code.as_str())];
    if let Some(s) = &ask.state {
        pairs.push(("state", s));
    }
    redirect(
        &append_query(&ask.redirect_uri, &encode_pairs(&pairs)),
        cookie,
    )
}

/// `/logout?client_id=&logout_uri=`: ends the hosted-UI session and returns to a registered
/// sign-out URL; with `redirect_uri`+`response_type` instead, it goes on to the login page.
pub fn logout(site: &Site<'_>, req: &AwsRequest, q: &HashMap<String, String>) -> Response {
    let Some(client_id) = q.get("client_id") else {
        return refuse(Refusal::Page(
            400,
            "invalid_request: client_id is missing".into(),
        ));
    };
    let client = site
        .inner
        .read_any(&site.pool_id, |p| Ok(p.clients.get(client_id).cloned()))
        .ok()
        .flatten();
    let Some(client) = client else {
        return refuse(Refusal::Page(
            400,
            "invalid_request: the client does not exist in this user pool".into(),
        ));
    };
    if let Some(id) = cookie_of(req) {
        site.inner
            .oauth
            .lock()
            .expect("oauth lock")
            .logins
            .remove(&id);
    }
    let clear = format!(
        "{COOKIE}=; Path={}; Max-Age=0; HttpOnly; SameSite=Lax",
        site.cookie_path
    );
    if let Some(uri) = q.get("logout_uri") {
        if !list(&client, "LogoutURLs").contains(uri) {
            return refuse(Refusal::Page(400, "redirect_mismatch".into()));
        }
        return redirect(uri, Some(clear));
    }
    if q.contains_key("redirect_uri") && q.contains_key("response_type") {
        let mut rest: Vec<(&str, &str)> = q
            .iter()
            .filter(|(k, _)| k.as_str() != "logout_uri")
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        rest.sort();
        let login = format!("{}/login?{}", site.base, encode_pairs(&rest));
        return redirect(&login, Some(clear));
    }
    refuse(Refusal::Page(
        400,
        "invalid_request: logout_uri or redirect_uri is required".into(),
    ))
}
