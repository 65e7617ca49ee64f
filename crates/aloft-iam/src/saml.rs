//! STS AssumeRoleWithSAML: reads the IdP's base64 SAML response (subject, issuer, audience,
//! expiry, the AWS role and session-name attributes) and issues role credentials.
//!
//! The XML signature is NOT verified: Aloft has no registered IdP certificates to check it
//! against, so any well-formed assertion naming the role is accepted (tests build their own).

use aloft_core::{RequestContext, clock};
use aloft_protocol::xml::{Element, parse};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::{Value, json};
use sha1::{Digest, Sha1};

use crate::error::{Code, Result};
use crate::state::Identity;
use crate::sts::{AssumeRoleInput, assume, credentials_value, store};

const ROLE_ATTR: &str = "https://aws.amazon.com/SAML/Attributes/Role";
const SESSION_NAME_ATTR: &str = "https://aws.amazon.com/SAML/Attributes/RoleSessionName";
const SESSION_DURATION_ATTR: &str = "https://aws.amazon.com/SAML/Attributes/SessionDuration";
const NAMEID_PREFIX: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:";

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SamlInput {
    role_arn: String,
    principal_arn: String,
    #[serde(rename = "SAMLAssertion")]
    saml_assertion: String,
    duration_seconds: Option<i64>,
    policy: Option<String>,
}

/// What Aloft reads from an assertion.
#[derive(Debug, Default, PartialEq)]
pub struct Assertion {
    pub issuer: String,
    pub name_id: String,
    pub name_id_format: Option<String>,
    pub audience: Option<String>,
    /// Epoch seconds: the earliest of the subject confirmation's and conditions' limits.
    pub not_on_or_after: Option<f64>,
    pub not_before: Option<f64>,
    /// `(role ARN, provider ARN)` pairs.
    pub roles: Vec<(String, String)>,
    pub session_name: Option<String>,
    pub session_duration: Option<i64>,
}

fn invalid(msg: &str) -> aloft_core::AwsError {
    Code::InvalidIdentityTokenException.msg(msg)
}

fn find<'a>(el: &'a Element, name: &str) -> Option<&'a Element> {
    if el.name == name {
        return Some(el);
    }
    el.children.iter().find_map(|c| find(c, name))
}

fn time_attr(el: Option<&Element>, attr: &str) -> Option<f64> {
    el.and_then(|e| e.attribute(attr))
        .and_then(aloft_protocol::parse_timestamp)
}

fn earliest(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

/// Decodes the base64 `SAMLResponse` and reads its (first) assertion.
pub fn read_assertion(b64: &str) -> Result<Assertion> {
    let compact: String = b64.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let xml = STANDARD.decode(compact).map_err(|_| {
        invalid("Invalid base64 SAMLResponse (check that your SAML response is encoded correctly)")
    })?;
    let root = parse(&xml).map_err(|_| invalid("Response is not a valid SAML response."))?;
    if find(&root, "EncryptedAssertion").is_some() && find(&root, "Assertion").is_none() {
        return Err(invalid(
            "Encrypted SAML assertions are not supported by Aloft.",
        ));
    }
    let a = find(&root, "Assertion")
        .ok_or_else(|| invalid("Response does not contain an Assertion."))?;
    let issuer = a
        .child("Issuer")
        .or_else(|| root.child("Issuer"))
        .map(|i| i.text.trim().to_string())
        .filter(|i| !i.is_empty())
        .ok_or_else(|| invalid("Assertion does not contain an Issuer."))?;
    let subject = a.child("Subject");
    let name_id = subject
        .and_then(|s| s.child("NameID"))
        .ok_or_else(|| invalid("Assertion does not contain a NameID."))?;
    let conditions = a.child("Conditions");
    let confirmation = subject.and_then(|s| find(s, "SubjectConfirmationData"));
    let mut out = Assertion {
        issuer,
        name_id: name_id.text.trim().to_string(),
        name_id_format: name_id.attribute("Format").map(str::to_string),
        audience: conditions
            .and_then(|c| find(c, "Audience"))
            .map(|e| e.text.trim().to_string()),
        not_on_or_after: earliest(
            time_attr(conditions, "NotOnOrAfter"),
            time_attr(confirmation, "NotOnOrAfter"),
        ),
        not_before: time_attr(conditions, "NotBefore"),
        ..Assertion::default()
    };
    for attrs in a.children_named("AttributeStatement") {
        for attr in attrs.children_named("Attribute") {
            let values = attr
                .children_named("AttributeValue")
                .map(|v| v.text.trim().to_string());
            match attr.attribute("Name").unwrap_or("") {
                ROLE_ATTR => {
                    for v in values {
                        // Either order is accepted by AWS: "role,provider" or "provider,role".
                        if let Some((x, y)) = v.split_once(',') {
                            let (x, y) = (x.trim().to_string(), y.trim().to_string());
                            if x.contains(":saml-provider/") {
                                out.roles.push((y, x));
                            } else {
                                out.roles.push((x, y));
                            }
                        }
                    }
                }
                SESSION_NAME_ATTR => out.session_name = values.into_iter().next(),
                SESSION_DURATION_ATTR => {
                    out.session_duration = values.into_iter().next().and_then(|v| v.parse().ok());
                }
                _ => {}
            }
        }
    }
    Ok(out)
}

/// `persistent`/`transient`/... for SAML 2.0 formats, the full URI for any other.
fn subject_type(format: Option<&str>) -> String {
    match format {
        Some(f) => f.strip_prefix(NAMEID_PREFIX).unwrap_or(f).to_string(),
        None => "transient".to_string(),
    }
}

/// AWS's documented `BASE64(SHA1(issuer + account + "/" + provider name))`.
fn name_qualifier(issuer: &str, account: &str, provider: &str) -> String {
    let mut h = Sha1::new();
    h.update(format!("{issuer}{account}/{provider}").as_bytes());
    STANDARD.encode(h.finalize())
}

pub async fn assume_role_with_saml(
    id: &Identity,
    ctx: &RequestContext,
    input: SamlInput,
) -> Result<Value> {
    let a = read_assertion(&input.saml_assertion)?;
    let now = clock::now_secs_f64();
    if a.not_on_or_after.is_some_and(|t| t <= now) || a.not_before.is_some_and(|t| t > now) {
        return Err(Code::ExpiredTokenException.msg(
            "Token expired: current date/time must be before the expiration date/time in the token.",
        ));
    }
    if !a
        .roles
        .iter()
        .any(|(r, p)| *r == input.role_arn && *p == input.principal_arn)
    {
        return Err(invalid(
            "The SAML assertion does not contain the requested RoleArn and PrincipalArn pair in its https://aws.amazon.com/SAML/Attributes/Role attribute.",
        ));
    }
    let provider = aloft_core::arn::parse(&input.principal_arn)
        .filter(|p| p.service == "iam" && p.resource.starts_with("saml-provider/"))
        .ok_or_else(|| Code::ValidationError.msg(format!("{} is invalid", input.principal_arn)))?;
    let provider_name = provider
        .resource
        .trim_start_matches("saml-provider/")
        .to_string();
    let account = if provider.account.is_empty() {
        ctx.account_id.clone()
    } else {
        provider.account.to_string()
    };
    let session_name = a.session_name.clone().ok_or_else(|| {
        invalid("The SAML assertion does not contain a https://aws.amazon.com/SAML/Attributes/RoleSessionName attribute.")
    })?;
    // An explicit DurationSeconds wins; else the assertion's SessionDuration; else one hour.
    let duration = input.duration_seconds.or(a.session_duration);
    let request = AssumeRoleInput {
        role_arn: input.role_arn.clone(),
        role_session_name: session_name,
        duration_seconds: duration,
        policy: input.policy.clone(),
        web_identity_token: None,
    };
    let (c, user) = assume(id, ctx, &request).await?;
    store(id, &c).await?;
    Ok(json!({
        "Credentials": credentials_value(&c),
        "AssumedRoleUser": user,
        "PackedPolicySize": if c.session_policy.is_some() { 6 } else { 0 },
        "Subject": a.name_id,
        "SubjectType": subject_type(a.name_id_format.as_deref()),
        "Issuer": a.issuer,
        "Audience": a.audience.unwrap_or_else(|| "https://signin.aws.amazon.com/saml".into()),
        "NameQualifier": name_qualifier(&a.issuer, &account, &provider_name),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const XML: &str = r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">
  <saml:Issuer>https://idp.example.com</saml:Issuer>
  <saml:Assertion>
    <saml:Issuer>https://idp.example.com</saml:Issuer>
    <saml:Subject>
      <saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">alice&amp;co</saml:NameID>
      <saml:SubjectConfirmation><saml:SubjectConfirmationData NotOnOrAfter="2030-01-01T00:00:00Z"/></saml:SubjectConfirmation>
    </saml:Subject>
    <saml:Conditions NotOnOrAfter="2031-01-01T00:00:00Z">
      <saml:AudienceRestriction><saml:Audience>https://signin.aws.amazon.com/saml</saml:Audience></saml:AudienceRestriction>
    </saml:Conditions>
    <saml:AttributeStatement>
      <saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/Role">
        <saml:AttributeValue>arn:aws:iam::1:saml-provider/P,arn:aws:iam::1:role/R</saml:AttributeValue>
        <saml:AttributeValue>arn:aws:iam::1:role/S,arn:aws:iam::1:saml-provider/P</saml:AttributeValue>
      </saml:Attribute>
      <saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/RoleSessionName">
        <saml:AttributeValue>alice</saml:AttributeValue>
      </saml:Attribute>
    </saml:AttributeStatement>
  </saml:Assertion>
</samlp:Response>"#;

    #[test]
    fn reads_subject_roles_and_expiry() {
        let a = read_assertion(&STANDARD.encode(XML)).unwrap();
        assert_eq!(a.issuer, "https://idp.example.com");
        assert_eq!(a.name_id, "alice&co");
        assert_eq!(subject_type(a.name_id_format.as_deref()), "persistent");
        assert_eq!(
            a.audience.as_deref(),
            Some("https://signin.aws.amazon.com/saml")
        );
        assert_eq!(a.not_on_or_after, Some(1_893_456_000.0));
        assert_eq!(
            a.roles,
            vec![
                (
                    "arn:aws:iam::1:role/R".into(),
                    "arn:aws:iam::1:saml-provider/P".into()
                ),
                (
                    "arn:aws:iam::1:role/S".into(),
                    "arn:aws:iam::1:saml-provider/P".into()
                ),
            ]
        );
        assert_eq!(a.session_name.as_deref(), Some("alice"));
    }

    #[test]
    fn rejects_bad_base64_and_non_saml() {
        assert_eq!(
            read_assertion("!!!").unwrap_err().code,
            "InvalidIdentityTokenException"
        );
        let e = read_assertion(&STANDARD.encode("<a><b/></a>")).unwrap_err();
        assert_eq!(e.code, "InvalidIdentityTokenException");
    }

    #[test]
    fn name_qualifier_is_sha1_of_issuer_account_provider() {
        // echo -n "https://example.com/saml123456789012/MySAMLIdP" | sha1sum | xxd -r -p | base64
        let q = name_qualifier("https://example.com/saml", "123456789012", "MySAMLIdP");
        assert_eq!(q, "1uAJanUnBc2XeUkHURMht+xam2c=");
    }
}
