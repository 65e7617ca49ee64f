//! Key policies and grants under `--enforce-iam`. A key policy is KMS's primary control: a
//! statement naming the key's own account (`arn:aws:iam::{account}:root`) delegates to IAM
//! policies rather than granting every principal of the account, other statements grant
//! directly, and a grant lets its grantee perform the grant's operations. Without delegation,
//! IAM policies (and the account root) get nothing.

use serde_json::{Value, json};

use crate::state::{Key, Maps, scoped};

/// The key a request acts on: its `KeyId` (`SourceKeyId` for ReEncrypt), else the key named
/// inside a ciphertext blob (Decrypt without `KeyId`).
pub fn key_of<'a>(m: &'a Maps, account: &str, region: &str, input: &Value) -> Option<&'a Key> {
    let s = |n: &str| {
        input
            .get(n)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
    };
    if let Some(r) = s("KeyId").or_else(|| s("SourceKeyId")) {
        return crate::Kms::resolve(m, account, region, r)
            .ok()
            .and_then(|k| m.keys.get(&k));
    }
    let blob = s("CiphertextBlob").and_then(|b| crate::unb64(b).ok())?;
    let (id, _) = crate::material::blob_key(&blob)?;
    m.keys.get(&scoped(account, region, &id))
}

/// The IAM action of a KMS operation (ReEncrypt needs `kms:ReEncryptFrom` on its source key).
pub fn action(op: &str) -> String {
    match op {
        "ReEncrypt" => "kms:ReEncryptFrom".to_string(),
        other => format!("kms:{other}"),
    }
}

fn statements(doc: &Value) -> Vec<Value> {
    match doc.get("Statement") {
        Some(Value::Array(a)) => a.clone(),
        Some(s @ Value::Object(_)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

fn own_account(p: &str, account: &str) -> bool {
    p == account || p == format!("arn:aws:iam::{account}:root")
}

fn glob(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern.eq_ignore_ascii_case(text),
        Some((pre, rest)) => {
            let t = text.to_ascii_lowercase();
            let pre = pre.to_ascii_lowercase();
            t.starts_with(&pre) && (rest.is_empty() || glob_tail(rest, &t[pre.len()..]))
        }
    }
}

fn glob_tail(rest: &str, text: &str) -> bool {
    (0..=text.len()).any(|i| text.is_char_boundary(i) && glob(rest, &text[i..]))
}

/// Whether the key policy delegates `action` to IAM (an `Allow` naming the key's account).
pub fn delegates(policy: &str, account: &str, action: &str) -> bool {
    let Ok(doc) = serde_json::from_str::<Value>(policy) else {
        return false;
    };
    statements(&doc).iter().any(|st| {
        st["Effect"] == "Allow"
            && st.get("Condition").is_none()
            && strings(&st["Principal"]["AWS"])
                .iter()
                .any(|p| own_account(p, account))
            && strings(&st["Action"]).iter().any(|a| glob(a, action))
    })
}

/// The key policy as the engine evaluates it: `Allow`s to the key's own account removed (they
/// delegate to IAM, which the engine consults anyway), and one `Allow` per grant.
pub fn effective_policy(key: &Key) -> String {
    let doc = serde_json::from_str::<Value>(&key.policy).unwrap_or_else(|_| json!({}));
    let mut out = Vec::new();
    for mut st in statements(&doc) {
        if st["Effect"] == "Allow"
            && let Some(aws) = st.get("Principal").and_then(|p| p.get("AWS")).cloned()
        {
            let kept: Vec<String> = strings(&aws)
                .into_iter()
                .filter(|p| !own_account(p, &key.account))
                .collect();
            if kept.is_empty() {
                continue;
            }
            st["Principal"]["AWS"] = json!(kept);
        }
        out.push(st);
    }
    for g in &key.grants {
        let actions: Vec<String> = g.operations.iter().map(|o| format!("kms:{o}")).collect();
        out.push(
            json!({"Sid": format!("grant {}", g.grant_id), "Effect": "Allow",
            "Principal": {"AWS": g.grantee}, "Action": actions, "Resource": "*"}),
        );
    }
    json!({"Version": "2012-10-17", "Statement": out}).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_policy_delegates_to_iam() {
        let p = crate::keys::default_policy("111122223333");
        assert!(delegates(&p, "111122223333", "kms:Decrypt"));
        assert!(!delegates(&p, "444455556666", "kms:Decrypt"));
        let narrow = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":["kms:Describe*"],"Resource":"*"}]}"#;
        assert!(delegates(narrow, "111122223333", "kms:DescribeKey"));
        assert!(!delegates(narrow, "111122223333", "kms:Decrypt"));
    }

    #[test]
    fn globs_match_like_iam() {
        assert!(glob("kms:*", "kms:Decrypt"));
        assert!(glob("kms:Gen*Key", "kms:GenerateDataKey"));
        assert!(!glob("kms:Gen*Key", "kms:GenerateDataKeyPair"));
        assert!(glob("KMS:decrypt", "kms:Decrypt"));
    }
}
