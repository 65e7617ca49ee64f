//! One-time codes "sent" by mail or SMS: nothing leaves the machine; each code is logged and
//! listed at `GET /_aloft/cognito-idp/codes` (optionally `?username=`/`?pool=`), newest last.

use aloft_core::{AwsRequest, Response, clock, ids};
use serde_json::{Value, json};

use crate::model::{PendingCode, User};
use crate::state::Inner;
use crate::triggers::{self, Call};
use crate::wire;

const KEEP: usize = 1000;

/// Masks a destination the way Cognito's `CodeDeliveryDetails` shows it.
pub fn mask(attribute: &str, value: &str) -> String {
    if attribute == "email" {
        let (local, domain) = value.split_once('@').unwrap_or((value, ""));
        let l = local.chars().next().map(String::from).unwrap_or_default();
        let d = domain.chars().next().map(String::from).unwrap_or_default();
        format!("{l}***@{d}***")
    } else {
        let tail: String = value
            .chars()
            .rev()
            .take(4)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        format!("+*******{tail}")
    }
}

/// Where a code for `user` goes: email if it has one, else phone (`preferred` first).
pub fn destination(user: &User, preferred: &[String]) -> Option<(String, String)> {
    let mut order: Vec<&str> = preferred.iter().map(String::as_str).collect();
    order.extend(["email", "phone_number"]);
    order
        .into_iter()
        .find_map(|a| user.attributes.get(a).map(|v| (a.to_string(), v.clone())))
}

/// `CodeDeliveryDetails` for a destination.
pub fn delivery(attribute: &str, value: &str) -> Value {
    json!({
        "Destination": mask(attribute, value),
        "DeliveryMedium": if attribute == "email" { "EMAIL" } else { "SMS" },
        "AttributeName": attribute,
    })
}

/// Issues a fresh code for `purpose` on `user`, valid for `ttl_secs`, and records it.
pub fn issue(
    inner: &Inner,
    pool_id: &str,
    user: &mut User,
    purpose: &str,
    ttl_secs: i64,
    to: Option<&(String, String)>,
) -> String {
    let code = ids::random_string(6, b"0123456789");
    user.codes.insert(
        purpose.to_string(),
        PendingCode {
            code: code.clone(),
            expires: clock::now_millis() + ttl_secs * 1000,
        },
    );
    record(inner, pool_id, &user.username, purpose, &code, to);
    code
}

/// Logs a code (or temporary password) and keeps it for `/_aloft/cognito-idp/codes`.
pub fn record(
    inner: &Inner,
    pool_id: &str,
    username: &str,
    purpose: &str,
    code: &str,
    to: Option<&(String, String)>,
) {
    tracing::info!(
        pool = pool_id,
        username,
        purpose,
        code,
        "cognito-idp code sent"
    );
    let mut log = inner.codes.lock().expect("codes lock");
    if log.len() >= KEEP {
        log.pop_front();
    }
    log.push_back(json!({
        "pool_id": pool_id,
        "username": username,
        "purpose": purpose,
        "code": code,
        "attribute": to.map(|t| t.0.clone()),
        "destination": to.map(|t| t.1.clone()),
        "at": clock::now_millis(),
    }));
}

/// Runs the CustomMessage trigger for the code just "sent" to `given` for `purpose`, as
/// `source` (`CustomMessage_SignUp`, `_ResendCode`, `_ForgotPassword`, `_AdminCreateUser`,
/// `_Authentication`, ...), and keeps the message it wrote beside the code (`message`: subject,
/// email and SMS text with the code and username filled in), where tests can read it.
pub async fn custom_message(
    inner: &Inner,
    pool_id: &str,
    given: &str,
    purpose: &str,
    source: &str,
    client_id: Option<&str>,
    metadata: Option<&Value>,
) -> crate::error::Result<()> {
    let found = inner.read_any(pool_id, |p| {
        Ok(crate::access::find_username(p, given).and_then(|name| {
            let u = p.users.get(&name)?;
            Call::of(p, "CustomMessage", client_id).map(|c| (c, triggers::attributes(u), name))
        }))
    })?;
    let Some((call, attrs, username)) = found else {
        return Ok(());
    };
    let position = {
        let log = inner.codes.lock().expect("codes lock");
        log.iter().rposition(|c| {
            c["pool_id"] == pool_id && c["username"] == username.as_str() && c["purpose"] == purpose
        })
    };
    let Some(position) = position else {
        return Ok(());
    };
    let code = inner.codes.lock().expect("codes lock")[position]["code"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let mut request = json!({
        "userAttributes": attrs,
        "codeParameter": "{####}",
        "linkParameter": "{##Click Here##}",
        "usernameParameter": null,
        "clientMetadata": metadata.cloned().unwrap_or(json!({})),
    });
    if source == "CustomMessage_AdminCreateUser" {
        request["usernameParameter"] = "{username}".into();
    }
    let resp = triggers::invoke(
        inner,
        &call,
        "CustomMessage",
        source,
        &username,
        request,
        json!({"smsMessage": null, "emailMessage": null, "emailSubject": null}),
    )
    .await?;
    let fill = |k: &str| {
        resp.get(k)
            .and_then(Value::as_str)
            .map(|s| Value::String(s.replace("{####}", &code).replace("{username}", &username)))
            .unwrap_or(Value::Null)
    };
    let message = json!({
        "emailSubject": fill("emailSubject"),
        "emailMessage": fill("emailMessage"),
        "smsMessage": fill("smsMessage"),
        "triggerSource": source,
    });
    tracing::info!(pool = pool_id, username = %username, %message, "cognito-idp custom message");
    let mut log = inner.codes.lock().expect("codes lock");
    // The entry may have been pushed out by a thousand newer codes meanwhile.
    if let Some(entry) = log.get_mut(position)
        && entry["code"] == code.as_str()
    {
        entry["message"] = message;
    }
    Ok(())
}

pub fn internal(inner: &Inner, req: &AwsRequest, path: &str) -> Option<Response> {
    if path.trim_matches('/') != "codes" {
        return None;
    }
    let mut username = None;
    let mut pool = None;
    for pair in req.query().split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = percent_decode(v);
        match k {
            "username" => username = Some(v),
            "pool" | "pool_id" => pool = Some(v),
            _ => {}
        }
    }
    let log = inner.codes.lock().expect("codes lock");
    let codes: Vec<Value> = log
        .iter()
        .filter(|c| {
            username
                .as_ref()
                .is_none_or(|u| c["username"] == u.as_str() || c["destination"] == u.as_str())
        })
        .filter(|c| pool.as_ref().is_none_or(|p| c["pool_id"] == p.as_str()))
        .cloned()
        .collect();
    Some(wire::json(200, &json!({"codes": codes})))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match u8::from_str_radix(&s[i + 1..i + 3], 16) {
                Ok(b) => {
                    out.push(b);
                    i += 3;
                }
                Err(_) => {
                    out.push(b'%');
                    i += 1;
                }
            },
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn masks_like_cognito() {
        assert_eq!(super::mask("email", "alice@example.com"), "a***@e***");
        assert_eq!(super::mask("phone_number", "+15551234567"), "+*******4567");
        assert_eq!(super::percent_decode("a%40b.com"), "a@b.com");
    }
}
