//! Key material and the cryptography on it: AES-256-GCM ciphertext blobs, RSA OAEP and
//! signatures, ECDSA on P-256/P-384/secp256k1, HMAC. Pure functions, no state.

use std::collections::BTreeMap;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hmac::Mac;
use rand_core::{OsRng, RngCore};
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey};
use rsa::{Oaep, Pkcs1v15Sign, Pss, RsaPrivateKey, RsaPublicKey};
use sha2::Digest;

use crate::error::{Code, KmsError, Result};

/// What kind of material a key holds (its `KeySpec`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spec {
    Symmetric,
    Rsa(usize),
    EccP256,
    EccP384,
    EccK256,
    Hmac(usize),
}

impl Spec {
    /// Parses a `KeySpec` (or a `KeyPairSpec`); `None` for specs Aloft cannot hold (SM2, P-521, ML-DSA).
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "SYMMETRIC_DEFAULT" => Self::Symmetric,
            "RSA_2048" => Self::Rsa(2048),
            "RSA_3072" => Self::Rsa(3072),
            "RSA_4096" => Self::Rsa(4096),
            "ECC_NIST_P256" => Self::EccP256,
            "ECC_NIST_P384" => Self::EccP384,
            "ECC_SECG_P256K1" => Self::EccK256,
            "HMAC_224" => Self::Hmac(224),
            "HMAC_256" => Self::Hmac(256),
            "HMAC_384" => Self::Hmac(384),
            "HMAC_512" => Self::Hmac(512),
            _ => return None,
        })
    }

    pub fn is_asymmetric(self) -> bool {
        matches!(
            self,
            Self::Rsa(_) | Self::EccP256 | Self::EccP384 | Self::EccK256
        )
    }

    /// The usages AWS allows for this spec; the first is the default.
    pub fn usages(self) -> &'static [&'static str] {
        match self {
            Self::Symmetric => &["ENCRYPT_DECRYPT"],
            Self::Rsa(_) => &["ENCRYPT_DECRYPT", "SIGN_VERIFY"],
            Self::EccP256 | Self::EccP384 => &["SIGN_VERIFY", "KEY_AGREEMENT"],
            Self::EccK256 => &["SIGN_VERIFY"],
            Self::Hmac(_) => &["GENERATE_VERIFY_MAC"],
        }
    }

    pub fn encryption_algorithms(self) -> &'static [&'static str] {
        match self {
            Self::Symmetric => &["SYMMETRIC_DEFAULT"],
            Self::Rsa(_) => &["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"],
            _ => &[],
        }
    }

    pub fn signing_algorithms(self) -> &'static [&'static str] {
        match self {
            Self::Rsa(_) => &[
                "RSASSA_PSS_SHA_256",
                "RSASSA_PSS_SHA_384",
                "RSASSA_PSS_SHA_512",
                "RSASSA_PKCS1_V1_5_SHA_256",
                "RSASSA_PKCS1_V1_5_SHA_384",
                "RSASSA_PKCS1_V1_5_SHA_512",
            ],
            Self::EccP256 | Self::EccK256 => &["ECDSA_SHA_256"],
            Self::EccP384 => &["ECDSA_SHA_384"],
            _ => &[],
        }
    }

    pub fn mac_algorithms(self) -> &'static [&'static str] {
        match self {
            Self::Hmac(224) => &["HMAC_SHA_224"],
            Self::Hmac(256) => &["HMAC_SHA_256"],
            Self::Hmac(384) => &["HMAC_SHA_384"],
            Self::Hmac(512) => &["HMAC_SHA_512"],
            _ => &[],
        }
    }
}

pub fn random(n: usize) -> Vec<u8> {
    let mut out = vec![0u8; n];
    OsRng.fill_bytes(&mut out);
    out
}

fn internal(e: impl std::fmt::Display) -> KmsError {
    KmsError::new(Code::KMSInternalException, e.to_string())
}

/// New secret material: an AES key, an HMAC key, or a PKCS#8 DER private key.
pub fn generate(spec: Spec) -> Result<Vec<u8>> {
    Ok(match spec {
        Spec::Symmetric => random(32),
        Spec::Hmac(bits) => random(bits / 8),
        Spec::Rsa(bits) => {
            let k = RsaPrivateKey::new(&mut OsRng, bits).map_err(internal)?;
            k.to_pkcs8_der().map_err(internal)?.as_bytes().to_vec()
        }
        Spec::EccP256 => p256::SecretKey::random(&mut OsRng)
            .to_pkcs8_der()
            .map_err(internal)?
            .as_bytes()
            .to_vec(),
        Spec::EccP384 => p384::SecretKey::random(&mut OsRng)
            .to_pkcs8_der()
            .map_err(internal)?
            .as_bytes()
            .to_vec(),
        Spec::EccK256 => k256::SecretKey::random(&mut OsRng)
            .to_pkcs8_der()
            .map_err(internal)?
            .as_bytes()
            .to_vec(),
    })
}

/// The DER `SubjectPublicKeyInfo` of an asymmetric key (what GetPublicKey returns).
pub fn public_key_der(spec: Spec, material: &[u8]) -> Result<Vec<u8>> {
    let doc = match spec {
        Spec::Rsa(_) => RsaPrivateKey::from_pkcs8_der(material)
            .map_err(internal)?
            .to_public_key()
            .to_public_key_der(),
        Spec::EccP256 => p256::SecretKey::from_pkcs8_der(material)
            .map_err(internal)?
            .public_key()
            .to_public_key_der(),
        Spec::EccP384 => p384::SecretKey::from_pkcs8_der(material)
            .map_err(internal)?
            .public_key()
            .to_public_key_der(),
        Spec::EccK256 => k256::SecretKey::from_pkcs8_der(material)
            .map_err(internal)?
            .public_key()
            .to_public_key_der(),
        _ => return Err(KmsError::new(Code::UnsupportedOperationException, "")),
    };
    Ok(doc.map_err(internal)?.as_bytes().to_vec())
}

// ---- symmetric ciphertext blobs ---------------------------------------------------------

const MAGIC: [u8; 2] = [0x01, 0xA1];
const ID_LEN: usize = 36;
const HEADER: usize = MAGIC.len() + ID_LEN + 2 + 12;

/// Canonical form of an encryption context, bound into the blob as AAD: the same pairs in
/// any order decrypt, any other pairs do not.
fn aad(header: &[u8], context: &BTreeMap<String, String>) -> Vec<u8> {
    let mut out = header.to_vec();
    out.extend(serde_json::to_vec(context).unwrap_or_default());
    out
}

/// Encrypts under `key` (material `version` of key `key_id`). The blob carries the key id
/// and version in the clear, so Decrypt needs no KeyId, and authenticates both.
pub fn seal(
    key_id: &str,
    version: u16,
    key: &[u8],
    plaintext: &[u8],
    context: &BTreeMap<String, String>,
) -> Result<Vec<u8>> {
    if key_id.len() != ID_LEN || key.len() != 32 {
        return Err(internal("malformed key"));
    }
    let nonce = random(12);
    let mut header = Vec::with_capacity(HEADER);
    header.extend_from_slice(&MAGIC);
    header.extend_from_slice(key_id.as_bytes());
    header.extend_from_slice(&version.to_be_bytes());
    header.extend_from_slice(&nonce);
    let cipher = Aes256Gcm::new_from_slice(key).map_err(internal)?;
    let ct = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad: &aad(&header, context),
            },
        )
        .map_err(internal)?;
    header.extend(ct);
    Ok(header)
}

/// The key id and material version a blob names, if it is one of ours.
pub fn blob_key(blob: &[u8]) -> Option<(String, u16)> {
    if blob.len() < HEADER + 16 || blob[..2] != MAGIC {
        return None;
    }
    let id = std::str::from_utf8(&blob[2..2 + ID_LEN]).ok()?.to_string();
    let v = u16::from_be_bytes([blob[2 + ID_LEN], blob[3 + ID_LEN]]);
    Some((id, v))
}

/// Decrypts a blob; any tampering or a different context is InvalidCiphertextException.
pub fn open(blob: &[u8], key: &[u8], context: &BTreeMap<String, String>) -> Result<Vec<u8>> {
    if blob_key(blob).is_none() {
        return Err(KmsError::ciphertext());
    }
    let (header, ct) = blob.split_at(HEADER);
    let cipher = Aes256Gcm::new_from_slice(key).map_err(|_| KmsError::ciphertext())?;
    cipher
        .decrypt(
            Nonce::from_slice(&header[HEADER - 12..]),
            Payload {
                msg: ct,
                aad: &aad(header, context),
            },
        )
        .map_err(|_| KmsError::ciphertext())
}

// ---- RSA encryption ---------------------------------------------------------------------

fn oaep(alg: &str) -> Result<Oaep> {
    match alg {
        "RSAES_OAEP_SHA_1" => Ok(Oaep::new::<sha1::Sha1>()),
        "RSAES_OAEP_SHA_256" => Ok(Oaep::new::<sha2::Sha256>()),
        _ => Err(KmsError::usage(format!(
            "{alg} is not a supported encryption algorithm for RSA keys."
        ))),
    }
}

pub fn rsa_encrypt(material: &[u8], alg: &str, plaintext: &[u8]) -> Result<Vec<u8>> {
    let key = RsaPrivateKey::from_pkcs8_der(material).map_err(internal)?;
    let public = RsaPublicKey::from(&key);
    public
        .encrypt(&mut OsRng, oaep(alg)?, plaintext)
        .map_err(|_| {
            KmsError::validation(format!(
                "Plaintext is too long for encryption with {alg} under this key."
            ))
        })
}

pub fn rsa_decrypt(material: &[u8], alg: &str, ciphertext: &[u8]) -> Result<Vec<u8>> {
    let key = RsaPrivateKey::from_pkcs8_der(material).map_err(internal)?;
    key.decrypt(oaep(alg)?, ciphertext)
        .map_err(|_| KmsError::ciphertext())
}

// ---- signatures -------------------------------------------------------------------------

fn hash(name: &str, msg: &[u8]) -> Vec<u8> {
    match name {
        "224" => sha2::Sha224::digest(msg).to_vec(),
        "384" => sha2::Sha384::digest(msg).to_vec(),
        "512" => sha2::Sha512::digest(msg).to_vec(),
        _ => sha2::Sha256::digest(msg).to_vec(),
    }
}

fn hash_len(name: &str) -> usize {
    match name {
        "224" => 28,
        "384" => 48,
        "512" => 64,
        _ => 32,
    }
}

/// The digest to sign: the message hashed, or (MessageType DIGEST) the message itself.
fn digest(alg: &str, message: &[u8], is_digest: bool) -> Result<Vec<u8>> {
    let bits = alg.rsplit('_').next().unwrap_or("256");
    if is_digest {
        if message.len() != hash_len(bits) {
            return Err(KmsError::validation(format!(
                "Digest is invalid length for algorithm {alg}."
            )));
        }
        return Ok(message.to_vec());
    }
    Ok(hash(bits, message))
}

fn check_alg(spec: Spec, alg: &str) -> Result<()> {
    if spec.signing_algorithms().contains(&alg) {
        return Ok(());
    }
    Err(KmsError::usage(format!(
        "Algorithm {alg} is incompatible with key spec {}.",
        spec_name(spec)
    )))
}

pub fn spec_name(spec: Spec) -> String {
    match spec {
        Spec::Symmetric => "SYMMETRIC_DEFAULT".into(),
        Spec::Rsa(b) => format!("RSA_{b}"),
        Spec::EccP256 => "ECC_NIST_P256".into(),
        Spec::EccP384 => "ECC_NIST_P384".into(),
        Spec::EccK256 => "ECC_SECG_P256K1".into(),
        Spec::Hmac(b) => format!("HMAC_{b}"),
    }
}

macro_rules! ecdsa_sign {
    ($curve:ident, $material:expr, $d:expr) => {{
        use $curve::ecdsa::signature::hazmat::PrehashSigner;
        let sk = $curve::SecretKey::from_pkcs8_der($material).map_err(internal)?;
        let signer = $curve::ecdsa::SigningKey::from(sk);
        let sig: $curve::ecdsa::Signature = signer.sign_prehash($d).map_err(internal)?;
        sig.to_der().as_bytes().to_vec()
    }};
}

macro_rules! ecdsa_verify {
    ($curve:ident, $material:expr, $d:expr, $sig:expr) => {{
        use $curve::ecdsa::signature::hazmat::PrehashVerifier;
        let sk = $curve::SecretKey::from_pkcs8_der($material).map_err(internal)?;
        let vk = $curve::ecdsa::VerifyingKey::from(sk.public_key());
        match $curve::ecdsa::Signature::from_der($sig) {
            Ok(s) => vk.verify_prehash($d, &s).is_ok(),
            Err(_) => false,
        }
    }};
}

fn rsa_scheme_sign(key: &RsaPrivateKey, alg: &str, d: &[u8]) -> Result<Vec<u8>> {
    let r = match alg {
        "RSASSA_PKCS1_V1_5_SHA_256" => key.sign(Pkcs1v15Sign::new::<sha2::Sha256>(), d),
        "RSASSA_PKCS1_V1_5_SHA_384" => key.sign(Pkcs1v15Sign::new::<sha2::Sha384>(), d),
        "RSASSA_PKCS1_V1_5_SHA_512" => key.sign(Pkcs1v15Sign::new::<sha2::Sha512>(), d),
        "RSASSA_PSS_SHA_256" => key.sign_with_rng(&mut OsRng, Pss::new::<sha2::Sha256>(), d),
        "RSASSA_PSS_SHA_384" => key.sign_with_rng(&mut OsRng, Pss::new::<sha2::Sha384>(), d),
        _ => key.sign_with_rng(&mut OsRng, Pss::new::<sha2::Sha512>(), d),
    };
    r.map_err(internal)
}

fn rsa_scheme_verify(key: &RsaPublicKey, alg: &str, d: &[u8], sig: &[u8]) -> bool {
    let r = match alg {
        "RSASSA_PKCS1_V1_5_SHA_256" => key.verify(Pkcs1v15Sign::new::<sha2::Sha256>(), d, sig),
        "RSASSA_PKCS1_V1_5_SHA_384" => key.verify(Pkcs1v15Sign::new::<sha2::Sha384>(), d, sig),
        "RSASSA_PKCS1_V1_5_SHA_512" => key.verify(Pkcs1v15Sign::new::<sha2::Sha512>(), d, sig),
        "RSASSA_PSS_SHA_256" => key.verify(Pss::new::<sha2::Sha256>(), d, sig),
        "RSASSA_PSS_SHA_384" => key.verify(Pss::new::<sha2::Sha384>(), d, sig),
        _ => key.verify(Pss::new::<sha2::Sha512>(), d, sig),
    };
    r.is_ok()
}

pub fn sign(
    spec: Spec,
    material: &[u8],
    alg: &str,
    message: &[u8],
    is_digest: bool,
) -> Result<Vec<u8>> {
    check_alg(spec, alg)?;
    let d = digest(alg, message, is_digest)?;
    Ok(match spec {
        Spec::Rsa(_) => {
            let key = RsaPrivateKey::from_pkcs8_der(material).map_err(internal)?;
            rsa_scheme_sign(&key, alg, &d)?
        }
        Spec::EccP256 => ecdsa_sign!(p256, material, &d),
        Spec::EccP384 => ecdsa_sign!(p384, material, &d),
        Spec::EccK256 => ecdsa_sign!(k256, material, &d),
        _ => return Err(KmsError::usage("")),
    })
}

pub fn verify(
    spec: Spec,
    material: &[u8],
    alg: &str,
    message: &[u8],
    is_digest: bool,
    signature: &[u8],
) -> Result<bool> {
    check_alg(spec, alg)?;
    let d = digest(alg, message, is_digest)?;
    Ok(match spec {
        Spec::Rsa(_) => {
            let key = RsaPrivateKey::from_pkcs8_der(material).map_err(internal)?;
            rsa_scheme_verify(&key.to_public_key(), alg, &d, signature)
        }
        Spec::EccP256 => ecdsa_verify!(p256, material, &d, signature),
        Spec::EccP384 => ecdsa_verify!(p384, material, &d, signature),
        Spec::EccK256 => ecdsa_verify!(k256, material, &d, signature),
        _ => return Err(KmsError::usage("")),
    })
}

// ---- HMAC -------------------------------------------------------------------------------

pub fn mac(spec: Spec, material: &[u8], alg: &str, message: &[u8]) -> Result<Vec<u8>> {
    if !spec.mac_algorithms().contains(&alg) {
        return Err(KmsError::usage(format!(
            "Algorithm {alg} is incompatible with key spec {}.",
            spec_name(spec)
        )));
    }
    macro_rules! run {
        ($h:ty) => {{
            let mut m = <hmac::Hmac<$h> as KeyInit>::new_from_slice(material).map_err(internal)?;
            m.update(message);
            m.finalize().into_bytes().to_vec()
        }};
    }
    Ok(match alg {
        "HMAC_SHA_224" => run!(sha2::Sha224),
        "HMAC_SHA_384" => run!(sha2::Sha384),
        "HMAC_SHA_512" => run!(sha2::Sha512),
        _ => run!(sha2::Sha256),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0b8f7c1e-1111-4222-8333-944455556666";

    fn ctx(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect()
    }

    #[test]
    fn blobs_round_trip_and_name_their_key() {
        let key = random(32);
        let c = ctx(&[("purpose", "test"), ("a", "b")]);
        let blob = seal(ID, 3, &key, b"hello", &c).unwrap();
        assert_eq!(blob_key(&blob), Some((ID.to_string(), 3)));
        assert_eq!(open(&blob, &key, &c).unwrap(), b"hello");
    }

    #[test]
    fn tampering_context_or_key_fails() {
        let key = random(32);
        let c = ctx(&[("purpose", "test")]);
        let blob = seal(ID, 0, &key, b"hello", &c).unwrap();
        for i in [0usize, 5, 39, 45, blob.len() - 1] {
            let mut t = blob.clone();
            t[i] ^= 1;
            assert_eq!(
                open(&t, &key, &c).unwrap_err().code,
                Code::InvalidCiphertextException,
                "byte {i}"
            );
        }
        assert!(open(&blob, &key, &ctx(&[("purpose", "other")])).is_err());
        assert!(open(&blob, &key, &BTreeMap::new()).is_err());
        assert!(open(&blob, &random(32), &c).is_err());
        assert!(open(&blob[..20], &key, &c).is_err());
    }

    #[test]
    fn ecdsa_and_hmac_sign_and_verify() {
        for spec in [Spec::EccP256, Spec::EccP384, Spec::EccK256] {
            let m = generate(spec).unwrap();
            let alg = spec.signing_algorithms()[0];
            let sig = sign(spec, &m, alg, b"msg", false).unwrap();
            assert!(verify(spec, &m, alg, b"msg", false, &sig).unwrap());
            assert!(!verify(spec, &m, alg, b"msh", false, &sig).unwrap());
            assert!(public_key_der(spec, &m).unwrap().len() > 60);
        }
        let m = generate(Spec::Hmac(256)).unwrap();
        assert_eq!(
            mac(Spec::Hmac(256), &m, "HMAC_SHA_256", b"x")
                .unwrap()
                .len(),
            32
        );
        assert!(mac(Spec::Hmac(256), &m, "HMAC_SHA_512", b"x").is_err());
    }

    #[test]
    fn digest_messages_must_have_the_hash_length() {
        let m = generate(Spec::EccP256).unwrap();
        let d = sha2::Sha256::digest(b"msg").to_vec();
        let s1 = sign(Spec::EccP256, &m, "ECDSA_SHA_256", &d, true).unwrap();
        assert!(verify(Spec::EccP256, &m, "ECDSA_SHA_256", b"msg", false, &s1).unwrap());
        assert!(sign(Spec::EccP256, &m, "ECDSA_SHA_256", b"short", true).is_err());
        assert!(sign(Spec::EccP256, &m, "ECDSA_SHA_384", &d, true).is_err());
    }

    #[test]
    fn rsa_oaep_and_pss() {
        let spec = Spec::Rsa(2048);
        let m = generate(spec).unwrap();
        let ct = rsa_encrypt(&m, "RSAES_OAEP_SHA_256", b"secret").unwrap();
        assert_eq!(
            rsa_decrypt(&m, "RSAES_OAEP_SHA_256", &ct).unwrap(),
            b"secret"
        );
        assert!(rsa_decrypt(&m, "RSAES_OAEP_SHA_1", &ct).is_err());
        let sig = sign(spec, &m, "RSASSA_PSS_SHA_256", b"doc", false).unwrap();
        assert!(verify(spec, &m, "RSASSA_PSS_SHA_256", b"doc", false, &sig).unwrap());
        assert!(!verify(spec, &m, "RSASSA_PKCS1_V1_5_SHA_256", b"doc", false, &sig).unwrap());
    }
}
