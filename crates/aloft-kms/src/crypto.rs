//! The cryptographic operations: Encrypt/Decrypt/ReEncrypt, data keys and key pairs,
//! Sign/Verify, GetPublicKey, GenerateMac/VerifyMac, GenerateRandom.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{Code, KmsError, Result};
use crate::grants::dry_run;
use crate::keys::usable;
use crate::material::{self, Spec};
use crate::state::{Key, scoped};
use crate::{Kms, Out, b64, parse, unb64};

type Context = BTreeMap<String, String>;

fn need_usage(k: &Key, usage: &str, op: &str) -> Result<()> {
    if k.usage == usage {
        return Ok(());
    }
    Err(KmsError::usage(format!(
        "{} key usage is {} which is not valid for {op}.",
        k.arn, k.usage
    )))
}

fn encryption_alg(k: &Key, alg: Option<&str>) -> Result<String> {
    let alg = alg.unwrap_or("SYMMETRIC_DEFAULT");
    if k.spec().encryption_algorithms().contains(&alg) {
        return Ok(alg.to_string());
    }
    Err(KmsError::usage(format!(
        "Algorithm {alg} is incompatible with key spec {}.",
        k.spec
    )))
}

impl Kms {
    /// Encrypts with a key that is enabled and for ENCRYPT_DECRYPT.
    fn seal_with(k: &Key, alg: &str, plaintext: &[u8], ctx: &Context) -> Result<Vec<u8>> {
        if k.spec() == Spec::Symmetric {
            let (v, material) = k.current();
            material::seal(&k.id, v, &material, plaintext, ctx)
        } else {
            let material = k.material(0).unwrap_or_default();
            material::rsa_encrypt(&material, alg, plaintext)
        }
    }

    async fn encrypt_key(&self, account: &str, region: &str, r: &str, op: &str) -> Result<Key> {
        let k = self.find(account, region, r).await?;
        usable(&k)?;
        need_usage(&k, "ENCRYPT_DECRYPT", op)?;
        Ok(k)
    }

    pub(crate) async fn encrypt(&self, account: &str, region: &str, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            key_id: String,
            plaintext: String,
            #[serde(default)]
            encryption_context: Context,
            encryption_algorithm: Option<String>,
            #[serde(default)]
            dry_run: bool,
        }
        let i: In = parse(input)?;
        let k = self
            .encrypt_key(account, region, &i.key_id, "Encrypt")
            .await?;
        let alg = encryption_alg(&k, i.encryption_algorithm.as_deref())?;
        if i.dry_run {
            return Err(dry_run());
        }
        let blob = Self::seal_with(&k, &alg, &unb64(&i.plaintext)?, &i.encryption_context)?;
        Ok(json!({"CiphertextBlob": b64(&blob), "KeyId": k.arn, "EncryptionAlgorithm": alg}))
    }

    /// Decrypts a blob: ours name their key; RSA ciphertexts need the KeyId.
    async fn open_blob(
        &self,
        account: &str,
        region: &str,
        blob: &[u8],
        key_id: Option<&str>,
        alg: Option<&str>,
        ctx: &Context,
    ) -> Result<(Vec<u8>, Key, String)> {
        let named = match key_id {
            Some(r) => Some(self.find(account, region, r).await?),
            None => None,
        };
        if let Some((id, version)) = material::blob_key(blob) {
            let k = {
                let m = self.state.lock();
                m.keys.get(&scoped(account, region, &id)).cloned()
            }
            .ok_or_else(KmsError::ciphertext)?;
            if named.as_ref().is_some_and(|n| n.id != k.id) {
                return Err(KmsError::new(
                    Code::IncorrectKeyException,
                    "The key ID in the request does not identify a CMK that can perform this operation.",
                ));
            }
            usable(&k)?;
            need_usage(&k, "ENCRYPT_DECRYPT", "Decrypt")?;
            if alg.is_some_and(|a| a != "SYMMETRIC_DEFAULT") {
                return Err(KmsError::new(
                    Code::IncorrectKeyException,
                    "The key ID in the request does not identify a CMK that can perform this operation.",
                ));
            }
            let material = k
                .material(usize::from(version))
                .ok_or_else(KmsError::ciphertext)?;
            let pt = material::open(blob, &material, ctx)?;
            return Ok((pt, k, "SYMMETRIC_DEFAULT".into()));
        }
        let Some(k) = named else {
            return Err(KmsError::ciphertext());
        };
        usable(&k)?;
        need_usage(&k, "ENCRYPT_DECRYPT", "Decrypt")?;
        if !k.spec().is_asymmetric() {
            return Err(KmsError::ciphertext());
        }
        let alg = encryption_alg(&k, alg)?;
        let material = k.material(0).unwrap_or_default();
        let pt = material::rsa_decrypt(&material, &alg, blob)?;
        Ok((pt, k, alg))
    }

    pub(crate) async fn decrypt(&self, account: &str, region: &str, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            ciphertext_blob: String,
            #[serde(default)]
            encryption_context: Context,
            key_id: Option<String>,
            encryption_algorithm: Option<String>,
            #[serde(default)]
            dry_run: bool,
        }
        let i: In = parse(input)?;
        let blob = unb64(&i.ciphertext_blob)?;
        let (pt, k, alg) = self
            .open_blob(
                account,
                region,
                &blob,
                i.key_id.as_deref(),
                i.encryption_algorithm.as_deref(),
                &i.encryption_context,
            )
            .await?;
        if i.dry_run {
            return Err(dry_run());
        }
        Ok(json!({"Plaintext": b64(&pt), "KeyId": k.arn, "EncryptionAlgorithm": alg}))
    }

    pub(crate) async fn re_encrypt(&self, account: &str, region: &str, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            ciphertext_blob: String,
            #[serde(default)]
            source_encryption_context: Context,
            source_key_id: Option<String>,
            destination_key_id: String,
            #[serde(default)]
            destination_encryption_context: Context,
            source_encryption_algorithm: Option<String>,
            destination_encryption_algorithm: Option<String>,
            #[serde(default)]
            dry_run: bool,
        }
        let i: In = parse(input)?;
        let blob = unb64(&i.ciphertext_blob)?;
        let (pt, src, src_alg) = self
            .open_blob(
                account,
                region,
                &blob,
                i.source_key_id.as_deref(),
                i.source_encryption_algorithm.as_deref(),
                &i.source_encryption_context,
            )
            .await?;
        let dst = self
            .encrypt_key(account, region, &i.destination_key_id, "ReEncrypt")
            .await?;
        let dst_alg = encryption_alg(&dst, i.destination_encryption_algorithm.as_deref())?;
        if i.dry_run {
            return Err(dry_run());
        }
        let out = Self::seal_with(&dst, &dst_alg, &pt, &i.destination_encryption_context)?;
        Ok(json!({
            "CiphertextBlob": b64(&out), "SourceKeyId": src.arn, "KeyId": dst.arn,
            "SourceEncryptionAlgorithm": src_alg, "DestinationEncryptionAlgorithm": dst_alg,
        }))
    }

    pub(crate) async fn generate_data_key(
        &self,
        account: &str,
        region: &str,
        input: Value,
        with_plaintext: bool,
    ) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            key_id: String,
            #[serde(default)]
            encryption_context: Context,
            number_of_bytes: Option<usize>,
            key_spec: Option<String>,
            #[serde(default)]
            dry_run: bool,
        }
        let i: In = parse(input)?;
        let n = match (i.number_of_bytes, i.key_spec.as_deref()) {
            (Some(_), Some(_)) => {
                return Err(KmsError::validation(
                    "Please specify either number of bytes or key spec.",
                ));
            }
            (None, None) => {
                return Err(KmsError::validation(
                    "Please specify either number of bytes or key spec.",
                ));
            }
            (Some(n), None) => n,
            (None, Some("AES_128")) => 16,
            (None, Some(_)) => 32,
        };
        let op = if with_plaintext {
            "GenerateDataKey"
        } else {
            "GenerateDataKeyWithoutPlaintext"
        };
        let k = self.encrypt_key(account, region, &i.key_id, op).await?;
        if k.spec() != Spec::Symmetric {
            return Err(KmsError::usage(format!(
                "{} key usage or key spec is not valid for {op}.",
                k.arn
            )));
        }
        if i.dry_run {
            return Err(dry_run());
        }
        let dk = material::random(n);
        let blob = Self::seal_with(&k, "SYMMETRIC_DEFAULT", &dk, &i.encryption_context)?;
        let mut out = json!({"CiphertextBlob": b64(&blob), "KeyId": k.arn});
        if with_plaintext {
            out["Plaintext"] = b64(&dk);
        }
        Ok(out)
    }

    pub(crate) async fn generate_data_key_pair(
        &self,
        account: &str,
        region: &str,
        input: Value,
        with_plaintext: bool,
    ) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            key_id: String,
            #[serde(default)]
            encryption_context: Context,
            key_pair_spec: String,
            #[serde(default)]
            dry_run: bool,
        }
        let i: In = parse(input)?;
        let spec = Spec::parse(&i.key_pair_spec)
            .filter(|s| s.is_asymmetric())
            .ok_or_else(|| {
                KmsError::new(
                    Code::UnsupportedOperationException,
                    format!("KeyPairSpec {} is not supported by Aloft.", i.key_pair_spec),
                )
            })?;
        let op = "GenerateDataKeyPair";
        let k = self.encrypt_key(account, region, &i.key_id, op).await?;
        if k.spec() != Spec::Symmetric {
            return Err(KmsError::usage(format!(
                "{} key usage or key spec is not valid for {op}.",
                k.arn
            )));
        }
        if i.dry_run {
            return Err(dry_run());
        }
        let private = tokio::task::spawn_blocking(move || material::generate(spec))
            .await
            .map_err(|e| KmsError::new(Code::KMSInternalException, e.to_string()))??;
        let public = material::public_key_der(spec, &private)?;
        let blob = Self::seal_with(&k, "SYMMETRIC_DEFAULT", &private, &i.encryption_context)?;
        let mut out = json!({
            "PrivateKeyCiphertextBlob": b64(&blob), "PublicKey": b64(&public),
            "KeyId": k.arn, "KeyPairSpec": i.key_pair_spec,
        });
        if with_plaintext {
            out["PrivateKeyPlaintext"] = b64(&private);
        }
        Ok(out)
    }

    pub(crate) async fn get_public_key(&self, account: &str, region: &str, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            key_id: String,
        }
        let i: In = parse(input)?;
        let k = self.find(account, region, &i.key_id).await?;
        usable(&k)?;
        if !k.spec().is_asymmetric() {
            return Err(KmsError::new(
                Code::UnsupportedOperationException,
                format!("{} key spec {} has no public key.", k.arn, k.spec),
            ));
        }
        let public = material::public_key_der(k.spec(), &k.material(0).unwrap_or_default())?;
        let mut out = json!({
            "KeyId": k.arn, "PublicKey": b64(&public), "CustomerMasterKeySpec": k.spec,
            "KeySpec": k.spec, "KeyUsage": k.usage,
        });
        if k.usage == "ENCRYPT_DECRYPT" {
            out["EncryptionAlgorithms"] = json!(k.spec().encryption_algorithms());
        } else {
            out["SigningAlgorithms"] = json!(k.spec().signing_algorithms());
        }
        Ok(out)
    }

    pub(crate) async fn sign(&self, account: &str, region: &str, input: Value) -> Out {
        let i: SignIn = parse(input)?;
        let k = self.sign_key(account, region, &i, "Sign").await?;
        let message = unb64(&i.message)?;
        let sig = sign_blocking(
            k.clone(),
            i.signing_algorithm.clone(),
            message,
            i.is_digest()?,
        )
        .await?;
        Ok(json!({"KeyId": k.arn, "Signature": b64(&sig), "SigningAlgorithm": i.signing_algorithm}))
    }

    pub(crate) async fn verify(&self, account: &str, region: &str, input: Value) -> Out {
        let i: SignIn = parse(input)?;
        let k = self.sign_key(account, region, &i, "Verify").await?;
        let message = unb64(&i.message)?;
        let sig = unb64(i.signature.as_deref().unwrap_or_default())?;
        let ok = material::verify(
            k.spec(),
            &k.material(0).unwrap_or_default(),
            &i.signing_algorithm,
            &message,
            i.is_digest()?,
            &sig,
        )?;
        if !ok {
            return Err(KmsError::new(Code::KMSInvalidSignatureException, ""));
        }
        Ok(json!({"KeyId": k.arn, "SignatureValid": true, "SigningAlgorithm": i.signing_algorithm}))
    }

    async fn sign_key(&self, account: &str, region: &str, i: &SignIn, op: &str) -> Result<Key> {
        let k = self.find(account, region, &i.key_id).await?;
        usable(&k)?;
        need_usage(&k, "SIGN_VERIFY", op)?;
        if i.dry_run {
            return Err(dry_run());
        }
        Ok(k)
    }

    pub(crate) async fn generate_mac(&self, account: &str, region: &str, input: Value) -> Out {
        let i: MacIn = parse(input)?;
        let (k, mac) = self.mac(account, region, &i, "GenerateMac").await?;
        Ok(json!({"KeyId": k.arn, "Mac": b64(&mac), "MacAlgorithm": i.mac_algorithm}))
    }

    pub(crate) async fn verify_mac(&self, account: &str, region: &str, input: Value) -> Out {
        let i: MacIn = parse(input)?;
        let (k, mac) = self.mac(account, region, &i, "VerifyMac").await?;
        let given = unb64(i.mac.as_deref().unwrap_or_default())?;
        if !constant_time_eq(&mac, &given) {
            return Err(KmsError::new(Code::KMSInvalidMacException, ""));
        }
        Ok(json!({"KeyId": k.arn, "MacValid": true, "MacAlgorithm": i.mac_algorithm}))
    }

    async fn mac(
        &self,
        account: &str,
        region: &str,
        i: &MacIn,
        op: &str,
    ) -> Result<(Key, Vec<u8>)> {
        let k = self.find(account, region, &i.key_id).await?;
        usable(&k)?;
        need_usage(&k, "GENERATE_VERIFY_MAC", op)?;
        if i.dry_run {
            return Err(dry_run());
        }
        let mac = material::mac(
            k.spec(),
            &k.material(0).unwrap_or_default(),
            &i.mac_algorithm,
            &unb64(&i.message)?,
        )?;
        Ok((k, mac))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SignIn {
    key_id: String,
    message: String,
    message_type: Option<String>,
    signing_algorithm: String,
    signature: Option<String>,
    #[serde(default)]
    dry_run: bool,
}

impl SignIn {
    fn is_digest(&self) -> Result<bool> {
        match self.message_type.as_deref() {
            None | Some("RAW") => Ok(false),
            Some("DIGEST") => Ok(true),
            Some(other) => Err(KmsError::new(
                Code::UnsupportedOperationException,
                format!("MessageType {other} is not supported by Aloft."),
            )),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MacIn {
    key_id: String,
    message: String,
    mac_algorithm: String,
    mac: Option<String>,
    #[serde(default)]
    dry_run: bool,
}

async fn sign_blocking(k: Key, alg: String, message: Vec<u8>, digest: bool) -> Result<Vec<u8>> {
    tokio::task::spawn_blocking(move || {
        material::sign(
            k.spec(),
            &k.material(0).unwrap_or_default(),
            &alg,
            &message,
            digest,
        )
    })
    .await
    .map_err(|e| KmsError::new(Code::KMSInternalException, e.to_string()))?
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub(crate) fn generate_random(input: Value) -> Out {
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct In {
        number_of_bytes: Option<usize>,
    }
    let i: In = parse(input)?;
    let n = i
        .number_of_bytes
        .ok_or_else(|| KmsError::validation("NumberOfBytes is required."))?;
    Ok(json!({"Plaintext": b64(&material::random(n))}))
}
