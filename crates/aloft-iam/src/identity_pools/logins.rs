//! Login tokens: RS256 JWTs from Aloft's user pools verified against the pool's JWKS (fetched
//! over HTTP from Aloft itself: no crate depends on another service's), with expiry and
//! audience checks; the role a login maps to (Token and Rules mappings); and the RSA key that
//! signs identity pools' own OpenID tokens.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aloft_core::clock;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use rsa::traits::PublicKeyParts;
use rsa::{BigUint, RsaPrivateKey, RsaPublicKey};
use serde_json::{Map, Value, json};
use sha2::Sha256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{Code, Result};

const INVALID_LOGIN: &str = "Invalid login token.";

/// A JWT taken apart (not yet trusted).
pub struct Jwt {
    pub header: Value,
    pub claims: Map<String, Value>,
    signed: String,
    signature: Vec<u8>,
}

pub fn decode(token: &str) -> Option<Jwt> {
    let mut it = token.split('.');
    let (h, c, s) = (it.next()?, it.next()?, it.next()?);
    if it.next().is_some() {
        return None;
    }
    let part = |p: &str| URL_SAFE_NO_PAD.decode(p.trim_end_matches('=')).ok();
    let header: Value = serde_json::from_slice(&part(h)?).ok()?;
    let claims: Map<String, Value> = serde_json::from_slice(&part(c)?).ok()?;
    Some(Jwt {
        header,
        claims,
        signed: format!("{h}.{c}"),
        signature: part(s)?,
    })
}

impl Jwt {
    pub fn claim(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }

    /// Whether the RS256 signature verifies with this JWK's public key.
    pub fn verifies(&self, jwk: &Value) -> bool {
        let field = |n: &str| {
            jwk.get(n)
                .and_then(Value::as_str)
                .and_then(|s| URL_SAFE_NO_PAD.decode(s).ok())
        };
        let (Some(n), Some(e)) = (field("n"), field("e")) else {
            return false;
        };
        let Ok(public) = RsaPublicKey::new(BigUint::from_bytes_be(&n), BigUint::from_bytes_be(&e))
        else {
            return false;
        };
        let Ok(sig) = Signature::try_from(self.signature.as_slice()) else {
            return false;
        };
        VerifyingKey::<Sha256>::new(public)
            .verify(self.signed.as_bytes(), &sig)
            .is_ok()
    }
}

/// JWKS documents by user pool id, refreshed when a token names an unknown `kid`.
#[derive(Default)]
pub struct KeyCache(Mutex<HashMap<String, Vec<Value>>>);

impl KeyCache {
    fn get(&self, pool: &str, kid: &str) -> Option<Value> {
        let m = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        m.get(pool)?
            .iter()
            .find(|k| k.get("kid").and_then(Value::as_str) == Some(kid))
            .cloned()
    }

    fn put(&self, pool: &str, keys: Vec<Value>) {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(pool.to_string(), keys);
    }
}

/// `GET {base}{path}` over plain HTTP/1.1: the issuer documents are Aloft's own.
async fn http_get_json(base: &str, path: &str) -> Option<Value> {
    let authority = base.strip_prefix("http://")?.trim_end_matches('/');
    let mut stream = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        tokio::net::TcpStream::connect(authority),
    )
    .await
    .ok()?
    .ok()?;
    let req = format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n");
    stream.write_all(req.as_bytes()).await.ok()?;
    let mut buf = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(5),
        stream.take(4 << 20).read_to_end(&mut buf),
    )
    .await
    .ok()?
    .ok()?;
    let split = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&buf[..split]);
    if !head.starts_with("HTTP/1.1 200") {
        return None;
    }
    serde_json::from_slice(&buf[split + 4..]).ok()
}

/// The provider name of a Cognito user pool login: `cognito-idp.{region}.amazonaws.com/{pool}`.
pub fn user_pool_of(provider: &str) -> Option<&str> {
    let rest = provider.strip_prefix("cognito-idp.")?;
    let (_, pool) = rest.split_once(".amazonaws.com/")?;
    (!pool.is_empty()).then_some(pool)
}

/// Verifies a user pool ID token for `provider`: signature against the pool's JWKS, issuer,
/// expiry on Aloft's clock, and that its audience is one of the pool's configured clients.
pub async fn verify_user_pool_token(
    cache: &KeyCache,
    internal_url: &str,
    provider: &str,
    token: &str,
    clients: &[String],
) -> Result<Jwt> {
    let invalid = || Code::NotAuthorizedException.msg(INVALID_LOGIN);
    let pool = user_pool_of(provider).ok_or_else(invalid)?;
    let jwt = decode(token).ok_or_else(invalid)?;
    if jwt.header.get("alg").and_then(Value::as_str) != Some("RS256") {
        return Err(invalid());
    }
    // Aloft's issuer is `{how the client addressed Aloft}/{pool}`: only the pool must agree.
    let iss = jwt.claim("iss").unwrap_or("");
    if iss.rsplit('/').next() != Some(pool) {
        return Err(Code::NotAuthorizedException
            .msg("Invalid login token. Issuer doesn't match providerName"));
    }
    let kid = jwt
        .header
        .get("kid")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let jwk = match cache.get(pool, &kid) {
        Some(k) => k,
        None => {
            let doc = http_get_json(internal_url, &format!("/{pool}/.well-known/jwks.json"))
                .await
                .ok_or_else(invalid)?;
            let keys = doc
                .get("keys")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            cache.put(pool, keys);
            cache.get(pool, &kid).ok_or_else(invalid)?
        }
    };
    if !jwt.verifies(&jwk) {
        return Err(invalid());
    }
    check_expiry(&jwt)?;
    let aud = jwt
        .claim("aud")
        .or_else(|| jwt.claim("client_id"))
        .unwrap_or("");
    if !clients.is_empty() && !clients.iter().any(|c| c == aud) {
        return Err(Code::NotAuthorizedException.msg(
            "Invalid login token. Couldn't verify signed token. Token is not from a supported provider of this identity pool.",
        ));
    }
    Ok(jwt)
}

pub fn check_expiry(jwt: &Jwt) -> Result<()> {
    let exp = jwt
        .claims
        .get("exp")
        .and_then(Value::as_i64)
        .unwrap_or(i64::MAX);
    if exp <= clock::now_secs() {
        return Err(Code::NotAuthorizedException.msg(
            "Invalid login token. Token expired: ".to_string()
                + &exp.to_string()
                + " >= "
                + &clock::now_secs().to_string(),
        ));
    }
    Ok(())
}

/// The role a login's claims map to, per the provider's mapping: `Ok(None)` when the mapping
/// does not decide and `AmbiguousRoleResolution` is `AuthenticatedRole`.
pub fn mapped_role(
    mapping: &Value,
    claims: &Map<String, Value>,
    custom: Option<&str>,
) -> Result<Option<String>> {
    let kind = mapping.get("Type").and_then(Value::as_str).unwrap_or("");
    let chosen = match kind {
        "Token" => {
            let roles: Vec<String> = match claims.get("cognito:roles") {
                Some(Value::Array(a)) => a
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect(),
                Some(Value::String(s)) => vec![s.clone()],
                _ => Vec::new(),
            };
            if let Some(c) = custom {
                roles.iter().find(|r| *r == c).cloned()
            } else if let Some(p) = claims.get("cognito:preferred_role").and_then(Value::as_str) {
                Some(p.to_string())
            } else if roles.len() == 1 {
                roles.first().cloned()
            } else {
                None
            }
        }
        "Rules" => mapping
            .pointer("/RulesConfiguration/Rules")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|rule| rule_matches(rule, claims))
            .and_then(|r| r.get("RoleARN").and_then(Value::as_str))
            .map(str::to_string),
        _ => None,
    };
    if chosen.is_some() {
        return Ok(chosen);
    }
    match mapping.get("AmbiguousRoleResolution").and_then(Value::as_str) {
        Some("Deny") => Err(Code::NotAuthorizedException.msg(
            "Unable to determine the role from the role mapping and the pool denies ambiguous logins.",
        )),
        _ => Ok(None),
    }
}

fn rule_matches(rule: &Value, claims: &Map<String, Value>) -> bool {
    let s = |n: &str| rule.get(n).and_then(Value::as_str).unwrap_or("");
    let wanted = s("Value");
    let values: Vec<String> = match claims.get(s("Claim")) {
        Some(Value::String(v)) => vec![v.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        Some(Value::Bool(b)) => vec![b.to_string()],
        Some(Value::Number(n)) => vec![n.to_string()],
        _ => return s("MatchType") == "NotEqual",
    };
    match s("MatchType") {
        "Equals" => values.iter().any(|v| v == wanted),
        "Contains" => values.iter().any(|v| v.contains(wanted)),
        "StartsWith" => values.iter().any(|v| v.starts_with(wanted)),
        "NotEqual" => values.iter().all(|v| v != wanted),
        _ => false,
    }
}

/// The key that signs identity pools' OpenID tokens (generated once per process).
pub struct OpenIdKey {
    pub kid: String,
    key: RsaPrivateKey,
}

impl OpenIdKey {
    pub fn generate() -> std::result::Result<Self, String> {
        let key = RsaPrivateKey::new(&mut rand_core_06::OsRng, 2048).map_err(|e| e.to_string())?;
        Ok(Self {
            kid: format!(
                "us-east-1-{}",
                aloft_core::ids::random_string(8, aloft_core::ids::ALNUM)
            ),
            key,
        })
    }

    pub fn jwk(&self) -> Value {
        json!({
            "kty": "RSA", "alg": "RS512", "use": "sig", "kid": self.kid,
            "n": URL_SAFE_NO_PAD.encode(self.key.n().to_bytes_be()),
            "e": URL_SAFE_NO_PAD.encode(self.key.e().to_bytes_be()),
        })
    }

    pub fn sign(&self, claims: &Value) -> String {
        let header = json!({"kid": self.kid, "typ": "JWS", "alg": "RS256"});
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let sig = SigningKey::<Sha256>::new(self.key.clone()).sign(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
    }
}

static OPENID_KEY: tokio::sync::OnceCell<Arc<OpenIdKey>> = tokio::sync::OnceCell::const_new();

/// The OpenID signing key, generated off the async threads on first use (slow in debug builds).
pub async fn openid_key() -> Result<Arc<OpenIdKey>> {
    OPENID_KEY
        .get_or_try_init(|| async {
            tokio::task::spawn_blocking(OpenIdKey::generate)
                .await
                .map_err(|e| Code::InternalErrorException.msg(e.to_string()))?
                .map(Arc::new)
                .map_err(|e| Code::InternalErrorException.msg(e))
        })
        .await
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn provider_names_name_their_pool() {
        assert_eq!(
            user_pool_of("cognito-idp.us-east-1.amazonaws.com/us-east-1_abc"),
            Some("us-east-1_abc")
        );
        assert_eq!(user_pool_of("accounts.google.com"), None);
    }

    #[test]
    fn token_mappings_use_preferred_or_single_role() {
        let m = json!({"Type": "Token", "AmbiguousRoleResolution": "AuthenticatedRole"});
        let c = claims(json!({"cognito:roles": ["arn:r1"], "cognito:preferred_role": "arn:r1"}));
        assert_eq!(
            mapped_role(&m, &c, None).unwrap().as_deref(),
            Some("arn:r1")
        );
        let c = claims(json!({"cognito:roles": ["arn:r1", "arn:r2"]}));
        assert_eq!(mapped_role(&m, &c, None).unwrap(), None);
        assert_eq!(
            mapped_role(&m, &c, Some("arn:r2")).unwrap().as_deref(),
            Some("arn:r2")
        );
        let deny = json!({"Type": "Token", "AmbiguousRoleResolution": "Deny"});
        assert!(mapped_role(&deny, &c, None).is_err());
    }

    #[test]
    fn rule_mappings_match_claims_in_order() {
        let m = json!({"Type": "Rules", "AmbiguousRoleResolution": "Deny", "RulesConfiguration": {"Rules": [
            {"Claim": "custom:tier", "MatchType": "Equals", "Value": "gold", "RoleARN": "arn:gold"},
            {"Claim": "email", "MatchType": "Contains", "Value": "@corp", "RoleARN": "arn:corp"},
        ]}});
        let c = claims(json!({"custom:tier": "gold", "email": "a@corp.com"}));
        assert_eq!(
            mapped_role(&m, &c, None).unwrap().as_deref(),
            Some("arn:gold")
        );
        let c = claims(json!({"email": "a@corp.com"}));
        assert_eq!(
            mapped_role(&m, &c, None).unwrap().as_deref(),
            Some("arn:corp")
        );
        assert!(mapped_role(&m, &claims(json!({"email": "x@y"})), None).is_err());
    }

    #[test]
    fn signed_tokens_verify_and_tampered_ones_do_not() {
        let key = OpenIdKey::generate().unwrap();
        let token = key.sign(&json!({"sub": "s", "exp": 1}));
        let jwt = decode(&token).unwrap();
        assert!(jwt.verifies(&key.jwk()));
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = URL_SAFE_NO_PAD.encode(json!({"sub": "other", "exp": 1}).to_string());
        parts[1] = &forged;
        assert!(!decode(&parts.join(".")).unwrap().verifies(&key.jwk()));
    }
}
