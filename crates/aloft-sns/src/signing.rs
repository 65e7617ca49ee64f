//! Message signatures, so SDK signature validators accept Aloft's notifications: one RSA
//! key per Aloft (generated off the request path when the first topic is created, journaled
//! when durable), a self-signed certificate for it served at the SigningCertURL, and SNS's
//! canonical string signed with SHA1withRSA (SignatureVersion 1) or SHA256withRSA (2).

use std::sync::{Arc, OnceLock};

use aloft_store::{Batch, Store};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use rsa::RsaPrivateKey;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey};
use rsa::signature::{SignatureEncoding, Signer as _};

const NS: &str = "sns/signing";

pub struct KeyPair {
    sha1: SigningKey<sha1::Sha1>,
    sha256: SigningKey<sha2::Sha256>,
    /// The certificate, PEM.
    pub cert_pem: String,
}

pub struct Signer {
    pair: OnceLock<Arc<KeyPair>>,
    warming: std::sync::atomic::AtomicBool,
    store: Arc<dyn Store>,
}

impl Signer {
    /// Loads the journaled key, or starts generating one on a blocking thread.
    pub fn start(store: Arc<dyn Store>) -> Arc<Self> {
        let signer = Arc::new(Self {
            pair: OnceLock::new(),
            warming: std::sync::atomic::AtomicBool::new(false),
            store,
        });
        let stored = signer
            .store
            .load(NS, b"key")
            .ok()
            .and_then(|rows| rows.into_iter().next())
            .and_then(|(_, der)| RsaPrivateKey::from_pkcs8_der(&der).ok());
        if let Some(key) = stored {
            let _ = signer.pair.set(Arc::new(KeyPair::from_key(key)));
        }
        signer
    }

    /// Starts generating the key on a blocking thread if nobody has yet: called when the
    /// first topic is created, so an Aloft that never uses SNS never pays for a key.
    pub fn warm(self: &Arc<Self>) {
        if self.pair.get().is_some() || self.warming.swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            return;
        }
        let s = self.clone();
        tokio::task::spawn_blocking(move || {
            s.pair();
        });
    }

    /// The key pair, generating it here if the background generation has not finished.
    pub fn pair(&self) -> Arc<KeyPair> {
        self.pair
            .get_or_init(|| {
                let key =
                    RsaPrivateKey::new(&mut rand_core_06::OsRng, 2048).expect("RSA key generation");
                if self.store.is_durable()
                    && let Ok(der) = key.to_pkcs8_der()
                {
                    let mut b = Batch::new();
                    b.put(NS, b"key".to_vec(), der.as_bytes().to_vec());
                    let commit = self.store.submit(b);
                    if let Ok(rt) = tokio::runtime::Handle::try_current() {
                        rt.spawn(async move {
                            if commit.await.is_err() {
                                tracing::warn!("sns: could not journal the signing key");
                            }
                        });
                    }
                }
                Arc::new(KeyPair::from_key(key))
            })
            .clone()
    }

    /// Signs a message's fields (name, value) in SNS's canonical order and form.
    pub fn sign(&self, fields: &[(&str, Option<&str>)], version: &str) -> String {
        let text = canonical(fields);
        let pair = self.pair();
        let sig = if version == "2" {
            pair.sha256.sign(text.as_bytes()).to_vec()
        } else {
            pair.sha1.sign(text.as_bytes()).to_vec()
        };
        B64.encode(sig)
    }
}

/// `Name\nvalue\n` for each present field, in the order given (SNS's order differs between
/// notifications and confirmations; the caller passes the right one).
pub fn canonical(fields: &[(&str, Option<&str>)]) -> String {
    let mut out = String::new();
    for (k, v) in fields {
        if let Some(v) = v {
            out.push_str(k);
            out.push('\n');
            out.push_str(v);
            out.push('\n');
        }
    }
    out
}

impl KeyPair {
    fn from_key(key: RsaPrivateKey) -> Self {
        let cert_pem = certificate_pem(&key);
        Self {
            sha1: SigningKey::new(key.clone()),
            sha256: SigningKey::new(key),
            cert_pem,
        }
    }
}

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes: Vec<u8> = n
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

fn seq(parts: &[&[u8]]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

/// A self-signed X.509 v3 certificate for the key (CN=sns.amazonaws.com, SHA256withRSA).
fn certificate_pem(key: &RsaPrivateKey) -> String {
    // 1.2.840.113549.1.1.11 sha256WithRSAEncryption, with NULL parameters.
    let alg = seq(&[
        &[
            0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0B,
        ],
        &[0x05, 0x00],
    ]);
    // CN (2.5.4.3) as a PrintableString.
    let cn = seq(&[
        &[0x06, 0x03, 0x55, 0x04, 0x03],
        &tlv(0x13, b"sns.amazonaws.com"),
    ]);
    let name = seq(&[&tlv(0x31, &cn)]);
    let validity = seq(&[&tlv(0x17, b"200101000000Z"), &tlv(0x17, b"491231235959Z")]);
    let mut serial = [0u8; 16];
    rand_core_06::RngCore::fill_bytes(&mut rand_core_06::OsRng, &mut serial);
    serial[0] &= 0x7F; // positive
    let spki = key
        .to_public_key()
        .to_public_key_der()
        .map(|d| d.as_bytes().to_vec())
        .unwrap_or_default();
    let tbs = seq(&[
        &[0xA0, 0x03, 0x02, 0x01, 0x02],
        &tlv(0x02, &serial),
        &alg,
        &name,
        &validity,
        &name,
        &spki,
    ]);
    let sig = SigningKey::<sha2::Sha256>::new(key.clone())
        .sign(&tbs)
        .to_vec();
    let mut bits = vec![0u8];
    bits.extend(sig);
    let der = seq(&[&tbs, &alg, &tlv(0x03, &bits)]);
    let b64 = B64.encode(der);
    let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        pem.push('\n');
    }
    pem.push_str("-----END CERTIFICATE-----\n");
    pem
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_form_skips_absent_fields() {
        let s = canonical(&[
            ("Message", Some("hi")),
            ("Subject", None),
            ("Type", Some("Notification")),
        ]);
        assert_eq!(s, "Message\nhi\nType\nNotification\n");
    }

    #[test]
    fn der_lengths() {
        assert_eq!(tlv(0x04, &[1, 2]), vec![0x04, 2, 1, 2]);
        let long = tlv(0x04, &[0u8; 300]);
        assert_eq!(&long[..4], &[0x04, 0x82, 0x01, 0x2C]);
    }
}
