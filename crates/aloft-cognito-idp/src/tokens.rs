//! Token crypto: each pool's RS256 signing key, JWT signing and checking, the JWKS, and the
//! opaque refresh tokens.
//!
//! RSA key generation is slow in debug builds, so a pool's key is generated on a blocking
//! thread when the pool is created and awaited only when the first token is issued.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use rsa::traits::{PrivateKeyParts, PublicKeyParts};
use rsa::{BigUint, RsaPrivateKey};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::Sha256;

/// A pool's signing key.
pub struct PoolKey {
    pub kid: String,
    key: RsaPrivateKey,
}

/// The key as journaled: its components in hex.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredKey {
    pub kid: String,
    pub n: String,
    pub e: String,
    pub d: String,
    pub primes: Vec<String>,
}

impl PoolKey {
    /// Generates a 2048-bit key (blocking: call from `spawn_blocking`).
    pub fn generate() -> Result<Self, String> {
        let mut rng = rand_core_06::OsRng;
        let key = RsaPrivateKey::new(&mut rng, 2048).map_err(|e| e.to_string())?;
        let mut kid = [0u8; 32];
        rand::fill(&mut kid);
        Ok(Self {
            kid: STANDARD.encode(kid),
            key,
        })
    }

    pub fn to_stored(&self) -> StoredKey {
        StoredKey {
            kid: self.kid.clone(),
            n: self.key.n().to_str_radix(16),
            e: self.key.e().to_str_radix(16),
            d: self.key.d().to_str_radix(16),
            primes: self
                .key
                .primes()
                .iter()
                .map(|p| p.to_str_radix(16))
                .collect(),
        }
    }

    pub fn from_stored(s: &StoredKey) -> Option<Self> {
        let num = |h: &str| BigUint::parse_bytes(h.as_bytes(), 16);
        let primes = s
            .primes
            .iter()
            .map(|p| num(p))
            .collect::<Option<Vec<_>>>()?;
        let key =
            RsaPrivateKey::from_components(num(&s.n)?, num(&s.e)?, num(&s.d)?, primes).ok()?;
        Some(Self {
            kid: s.kid.clone(),
            key,
        })
    }

    /// The public key as a JWK, as `/.well-known/jwks.json` lists it.
    pub fn jwk(&self) -> Value {
        json!({
            "alg": "RS256",
            "e": URL_SAFE_NO_PAD.encode(self.key.e().to_bytes_be()),
            "kid": self.kid,
            "kty": "RSA",
            "n": URL_SAFE_NO_PAD.encode(self.key.n().to_bytes_be()),
            "use": "sig",
        })
    }

    /// Signs `claims` as an RS256 JWT.
    pub fn sign(&self, claims: &Map<String, Value>) -> String {
        let header = json!({"kid": self.kid, "alg": "RS256"});
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(Value::Object(claims.clone()).to_string())
        );
        let signer = SigningKey::<Sha256>::new(self.key.clone());
        let sig = signer.sign(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
    }

    /// The claims of a JWT this key signed; `None` if it is malformed or the signature fails.
    pub fn verify(&self, token: &str) -> Option<Map<String, Value>> {
        let mut parts = token.split('.');
        let (h, p, s) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(h).ok()?).ok()?;
        if header.get("alg")? != "RS256" || header.get("kid")? != self.kid.as_str() {
            return None;
        }
        let sig = Signature::try_from(URL_SAFE_NO_PAD.decode(s).ok()?.as_slice()).ok()?;
        let verifier = VerifyingKey::<Sha256>::new(self.key.to_public_key());
        verifier.verify(format!("{h}.{p}").as_bytes(), &sig).ok()?;
        match serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).ok()?).ok()? {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }
}

/// The claims of a JWT without checking it (to find which pool it names).
pub fn peek_claims(token: &str) -> Option<Map<String, Value>> {
    let payload = token.split('.').nth(1)?;
    match serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()? {
        Value::Object(m) => Some(m),
        _ => None,
    }
}

/// What a refresh token stands for.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RefreshClaims {
    pub pool: String,
    pub username: String,
    pub client: String,
    pub origin_jti: String,
    pub auth_time: i64,
    pub iat: i64,
    pub exp: i64,
    /// The scopes an OAuth grant gave; refreshed tokens keep them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

// Cognito's refresh tokens are JWEs clients cannot read; this keeps the five-part look with an
// authenticated (HMAC) payload instead of an encrypted one.
const REFRESH_HEADER: &str = r#"{"cty":"JWT","enc":"A256GCM","alg":"RSA-OAEP"}"#;

pub fn refresh_token(secret: &[u8], claims: &RefreshClaims) -> String {
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap_or_default());
    let mut filler = [0u8; 32];
    rand::fill(&mut filler);
    let mut iv = [0u8; 12];
    rand::fill(&mut iv);
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(payload.as_bytes());
    format!(
        "{}.{}.{}.{}.{}",
        URL_SAFE_NO_PAD.encode(REFRESH_HEADER),
        URL_SAFE_NO_PAD.encode(filler),
        URL_SAFE_NO_PAD.encode(iv),
        payload,
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

/// The pool a refresh token names, read without checking (to find the secret).
pub fn refresh_pool(token: &str) -> Option<String> {
    let payload = token.split('.').nth(3)?;
    let c: RefreshClaims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    Some(c.pool)
}

pub fn check_refresh_token(secret: &[u8], token: &str) -> Option<RefreshClaims> {
    let parts: Vec<&str> = token.split('.').collect();
    let [_, _, _, payload, tag] = parts.as_slice() else {
        return None;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(payload.as_bytes());
    mac.verify_slice(&URL_SAFE_NO_PAD.decode(tag).ok()?).ok()?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jwt_sign_verify_and_tamper() {
        let k = PoolKey::generate().unwrap();
        let mut c = Map::new();
        c.insert("sub".into(), "abc".into());
        let t = k.sign(&c);
        assert_eq!(k.verify(&t).unwrap()["sub"], "abc");
        assert_eq!(peek_claims(&t).unwrap()["sub"], "abc");
        let mut parts: Vec<String> = t.split('.').map(str::to_string).collect();
        parts[1] = URL_SAFE_NO_PAD.encode(r#"{"sub":"evil"}"#);
        assert!(k.verify(&parts.join(".")).is_none());
        let again = PoolKey::from_stored(&k.to_stored()).unwrap();
        assert!(again.verify(&t).is_some());
        assert_eq!(again.jwk()["n"], k.jwk()["n"]);
    }

    #[test]
    fn refresh_tokens_are_authenticated() {
        let c = RefreshClaims {
            pool: "us-east-1_x".into(),
            username: "u".into(),
            client: "c".into(),
            origin_jti: "j".into(),
            auth_time: 1,
            iat: 1,
            exp: 2,
            scope: None,
        };
        let t = refresh_token(b"k", &c);
        assert_eq!(t.split('.').count(), 5);
        assert_eq!(check_refresh_token(b"k", &t), Some(c));
        assert_eq!(refresh_pool(&t).as_deref(), Some("us-east-1_x"));
        assert!(check_refresh_token(b"other", &t).is_none());
    }
}
