//! JSON Web Tokens for Cognito user pool authorizers (REST) and JWT authorizers (HTTP APIs):
//! RS256 signatures checked against the issuer's JWKS, fetched over HTTP and cached per URL.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use http_body_util::Full;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::signature::Verifier;
use rsa::{BigUint, RsaPublicKey};
use serde_json::{Map, Value};

use crate::invoke::http::Client;

/// Why a token was refused. The authorizers turn these into AWS's answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalid {
    /// Not three base64url parts of JSON, not RS256, or no such key.
    Malformed,
    BadSignature,
    Expired,
    /// `iss`, `aud`/`client_id`, `token_use` or scopes do not match what the authorizer wants.
    Claims(&'static str),
    /// The JWKS could not be fetched.
    Keys,
}

/// A token split and decoded, signature not yet checked.
pub struct Token {
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
    signed: String,
    signature: Vec<u8>,
}

pub fn parse(token: &str) -> Result<Token, Invalid> {
    let token = token.trim();
    let mut parts = token.split('.');
    let (Some(h), Some(c), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Invalid::Malformed);
    };
    let json = |p: &str| -> Result<Map<String, Value>, Invalid> {
        let bytes = URL_SAFE_NO_PAD
            .decode(p.trim_end_matches('='))
            .map_err(|_| Invalid::Malformed)?;
        match serde_json::from_slice(&bytes) {
            Ok(Value::Object(m)) => Ok(m),
            _ => Err(Invalid::Malformed),
        }
    };
    Ok(Token {
        header: json(h)?,
        claims: json(c)?,
        signed: format!("{h}.{c}"),
        signature: URL_SAFE_NO_PAD
            .decode(s.trim_end_matches('='))
            .map_err(|_| Invalid::Malformed)?,
    })
}

impl Token {
    pub fn kid(&self) -> Option<&str> {
        self.header.get("kid").and_then(Value::as_str)
    }

    pub fn claim(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }

    /// Checks the RS256 signature with the JWK of the token's `kid`.
    pub fn verify(&self, keys: &[Value]) -> Result<(), Invalid> {
        if self.header.get("alg").and_then(Value::as_str) != Some("RS256") {
            return Err(Invalid::Malformed);
        }
        let kid = self.kid();
        let jwk = keys
            .iter()
            .find(|k| k.get("kid").and_then(Value::as_str) == kid)
            .ok_or(Invalid::Malformed)?;
        let num = |name: &str| -> Result<BigUint, Invalid> {
            let s = jwk.get(name).and_then(Value::as_str).ok_or(Invalid::Keys)?;
            let b = URL_SAFE_NO_PAD.decode(s).map_err(|_| Invalid::Keys)?;
            Ok(BigUint::from_bytes_be(&b))
        };
        let key = RsaPublicKey::new(num("n")?, num("e")?).map_err(|_| Invalid::Keys)?;
        let sig =
            Signature::try_from(self.signature.as_slice()).map_err(|_| Invalid::BadSignature)?;
        VerifyingKey::<sha2::Sha256>::new(key)
            .verify(self.signed.as_bytes(), &sig)
            .map_err(|_| Invalid::BadSignature)
    }

    /// `exp` (and `nbf`) against the one clock, in seconds.
    pub fn check_time(&self, now_secs: i64) -> Result<(), Invalid> {
        let exp = self.claims.get("exp").and_then(Value::as_i64);
        if exp.is_none_or(|e| e <= now_secs) {
            return Err(Invalid::Expired);
        }
        if self
            .claims
            .get("nbf")
            .and_then(Value::as_i64)
            .is_some_and(|n| n > now_secs)
        {
            return Err(Invalid::Claims("nbf"));
        }
        Ok(())
    }

    /// `scope` as a list (space separated in access tokens).
    pub fn scopes(&self) -> Vec<&str> {
        self.claim("scope")
            .map(|s| s.split_whitespace().collect())
            .unwrap_or_default()
    }
}

/// The user pool id in an issuer or provider ARN: `.../us-east-1_AbC` or `userpool/us-east-1_AbC`.
pub fn pool_id(s: &str) -> Option<&str> {
    let id = s.trim_end_matches('/').rsplit('/').next()?;
    (id.contains('_') && !id.contains(':')).then_some(id)
}

/// Cognito issuers (`https://cognito-idp.{region}.amazonaws.com/{pool}`) name pools Aloft
/// serves; their tokens carry Aloft's own URL as `iss`, so they match by pool id.
pub fn issuer_matches(configured: &str, iss: &str) -> bool {
    let (a, b) = (configured.trim_end_matches('/'), iss.trim_end_matches('/'));
    if a == b {
        return true;
    }
    let cognito =
        |u: &str| u.contains("cognito-idp.") || u.contains("localhost") || u.contains("127.0.0.1");
    cognito(a) && cognito(b) && pool_id(a).is_some() && pool_id(a) == pool_id(b)
}

/// Where an issuer's keys are: Cognito pools are served by Aloft itself.
pub fn jwks_url(issuer: &str, internal_url: &str) -> String {
    let base = internal_url.trim_end_matches('/');
    match pool_id(issuer) {
        Some(pool)
            if issuer.contains("cognito-idp.")
                || issuer.contains("://localhost")
                || issuer.starts_with(base) =>
        {
            format!("{base}/{pool}/.well-known/jwks.json")
        }
        _ => format!("{}/.well-known/jwks.json", issuer.trim_end_matches('/')),
    }
}

/// JWKS documents by URL with the time they were fetched (ms on the one clock).
#[derive(Default)]
pub struct KeyCache {
    sets: Mutex<HashMap<String, (i64, Vec<Value>)>>,
}

/// Keys are fetched again after an hour, or at once when a token names an unknown `kid`
/// (a pool's keys do not rotate, but a pool deleted and created again has new ones).
const KEYS_TTL_MS: i64 = 3_600_000;

impl KeyCache {
    pub fn reset(&self) {
        self.sets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }

    pub async fn keys(
        &self,
        http: &Client,
        url: &str,
        kid: Option<&str>,
    ) -> Result<Vec<Value>, Invalid> {
        let now = aloft_core::clock::now_millis();
        if let Some((at, keys)) = self
            .sets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(url)
            && now - at < KEYS_TTL_MS
            && keys
                .iter()
                .any(|k| k.get("kid").and_then(Value::as_str) == kid)
        {
            return Ok(keys.clone());
        }
        let req = http::Request::get(url)
            .body(Full::new(Bytes::new()))
            .map_err(|_| Invalid::Keys)?;
        let ans = http
            .send(req, Duration::from_secs(10))
            .await
            .map_err(|_| Invalid::Keys)?;
        if ans.status != 200 {
            return Err(Invalid::Keys);
        }
        let doc: Value = serde_json::from_slice(&ans.body).map_err(|_| Invalid::Keys)?;
        let keys = doc
            .get("keys")
            .and_then(Value::as_array)
            .cloned()
            .ok_or(Invalid::Keys)?;
        self.sets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(url.to_string(), (now, keys.clone()));
        Ok(keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(v: &Value) -> String {
        URL_SAFE_NO_PAD.encode(v.to_string())
    }

    #[test]
    fn parses_and_refuses_malformed_tokens() {
        let t = format!(
            "{}.{}.{}",
            b64(&serde_json::json!({"alg": "RS256", "kid": "k"})),
            b64(&serde_json::json!({"sub": "u", "exp": 100, "scope": "a b"})),
            URL_SAFE_NO_PAD.encode(b"sig")
        );
        let tok = parse(&t).unwrap();
        assert_eq!(tok.kid(), Some("k"));
        assert_eq!(tok.scopes(), ["a", "b"]);
        assert_eq!(tok.check_time(99), Ok(()));
        assert_eq!(tok.check_time(100), Err(Invalid::Expired));
        assert_eq!(tok.verify(&[]).unwrap_err(), Invalid::Malformed);
        for bad in [
            "",
            "a.b",
            "a.b.c.d",
            "!!.e30.e30",
            &format!("{}.bm90IGpzb24.e30", b64(&serde_json::json!({}))),
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn issuers_and_key_urls() {
        let aws = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC";
        assert!(issuer_matches(aws, "http://localhost:4566/us-east-1_AbC"));
        assert!(!issuer_matches(aws, "http://localhost:4566/us-east-1_XyZ"));
        assert!(issuer_matches(
            "https://idp.example/",
            "https://idp.example"
        ));
        assert!(!issuer_matches(
            "https://idp.example",
            "https://evil.example"
        ));
        assert_eq!(
            jwks_url(aws, "http://127.0.0.1:4566"),
            "http://127.0.0.1:4566/us-east-1_AbC/.well-known/jwks.json"
        );
        assert_eq!(
            jwks_url("http://idp.test/realm", "http://127.0.0.1:4566"),
            "http://idp.test/realm/.well-known/jwks.json"
        );
        assert_eq!(
            pool_id("arn:aws:cognito-idp:us-east-1:000000000000:userpool/us-east-1_AbC"),
            Some("us-east-1_AbC")
        );
    }
}
