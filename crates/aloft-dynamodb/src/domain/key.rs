//! Key schemas and the byte encoding of keys that sorts as DynamoDB stores them: partitions in
//! the order of a hash of the partition key (so Scan is not sorted, as on AWS), then the
//! partition key, then the sort key (numbers numerically, strings by UTF-8 bytes, binaries as
//! unsigned bytes).

use aloft_core::AwsError;
use serde::{Deserialize, Serialize};

use super::value::{AttrValue, Item, KeyType};
use crate::error::{invalid_param, validation};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyAttr {
    pub name: String,
    pub ty: KeyType,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeySchema {
    pub hash: KeyAttr,
    pub range: Option<KeyAttr>,
}

/// Bytes of the partition hash that start every encoded key.
pub const HASH_PREFIX: usize = 4;

/// A stable 32-bit hash of a partition key's encoded bytes (FNV-1a, then a murmur3 finaliser
/// so that similar keys spread over the whole range): Scan walks partitions in this order and
/// parallel Scan splits its range into TotalSegments slices, as AWS splits its hash space.
pub fn partition_hash(encoded: &[u8]) -> u32 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in encoded {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^= h >> 33;
    (h >> 32) as u32
}

/// Appends the partition part of a key: its hash, then its order-preserving encoding.
pub fn encode_partition(v: &AttrValue, out: &mut Vec<u8>) {
    let at = out.len();
    out.extend_from_slice(&[0; HASH_PREFIX]);
    encode_scalar(v, out);
    let h = partition_hash(&out[at + HASH_PREFIX..]);
    out[at..at + HASH_PREFIX].copy_from_slice(&h.to_be_bytes());
}

/// The partition hash an encoded key starts with.
pub fn hash_of_key(key: &[u8]) -> u32 {
    let mut b = [0u8; HASH_PREFIX];
    let n = key.len().min(HASH_PREFIX);
    b[..n].copy_from_slice(&key[..n]);
    u32::from_be_bytes(b)
}

/// The first hash of parallel Scan segment `segment` of `total`: segments are equal slices of
/// the 32-bit hash space.
pub fn segment_start(segment: u64, total: u64) -> u64 {
    (segment << 32) / total
}

/// Appends a self-delimiting, order-preserving encoding of a scalar key value.
pub fn encode_scalar(v: &AttrValue, out: &mut Vec<u8>) {
    match v {
        AttrValue::N(n) => n.encode_ordered(out),
        AttrValue::S(s) => escape(s.as_bytes(), out),
        AttrValue::B(b) => escape(b, out),
        _ => {}
    }
}

// 0x00 inside a value becomes 0x00 0xFF and the value ends with 0x00 0x01, so a shorter
// value sorts before any longer value it is a prefix of.
fn escape(bytes: &[u8], out: &mut Vec<u8>) {
    for &b in bytes {
        out.push(b);
        if b == 0 {
            out.push(0xFF);
        }
    }
    out.extend_from_slice(&[0x00, 0x01]);
}

const HASH_KEY_LIMIT: usize = 2048;
const RANGE_KEY_LIMIT: usize = 1024;

impl KeySchema {
    pub fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.hash.name.as_str()).chain(self.range.as_ref().map(|r| r.name.as_str()))
    }

    pub fn is_key_attr(&self, name: &str) -> bool {
        self.names().any(|n| n == name)
    }

    /// The encoded key of an item being written (PutItem), with AWS's item messages.
    pub fn item_key(&self, item: &Item) -> Result<Vec<u8>, AwsError> {
        let mut out = Vec::with_capacity(32);
        for (attr, limit, is_hash) in [
            (Some(&self.hash), HASH_KEY_LIMIT, true),
            (self.range.as_ref(), RANGE_KEY_LIMIT, false),
        ] {
            let Some(attr) = attr else { continue };
            let v = item.get(&attr.name).ok_or_else(|| {
                invalid_param(format!("Missing the key {} in the item", attr.name))
            })?;
            check_key_value(attr, v, limit, is_hash, true)?;
            if is_hash {
                encode_partition(v, &mut out);
            } else {
                encode_scalar(v, &mut out);
            }
        }
        Ok(out)
    }

    /// The encoded key from a `Key` parameter (GetItem, UpdateItem, DeleteItem, ...).
    pub fn key_param(&self, key: &Item) -> Result<Vec<u8>, AwsError> {
        let expected = 1 + usize::from(self.range.is_some());
        if key.len() != expected {
            return Err(validation(
                "The provided key element does not match the schema",
            ));
        }
        let mut out = Vec::with_capacity(32);
        for (attr, limit, is_hash) in [
            (Some(&self.hash), HASH_KEY_LIMIT, true),
            (self.range.as_ref(), RANGE_KEY_LIMIT, false),
        ] {
            let Some(attr) = attr else { continue };
            let v = key
                .get(&attr.name)
                .ok_or_else(|| validation("The provided key element does not match the schema"))?;
            check_key_value(attr, v, limit, is_hash, false)?;
            if is_hash {
                encode_partition(v, &mut out);
            } else {
                encode_scalar(v, &mut out);
            }
        }
        Ok(out)
    }

    /// The key attributes of an item (for LastEvaluatedKey, KEYS_ONLY, stream Keys).
    pub fn extract(&self, item: &Item) -> Item {
        self.names()
            .filter_map(|n| item.get(n).map(|v| (n.to_string(), v.clone())))
            .collect()
    }

    /// The encoded key of an item whose key attributes are known to be valid, or `None`
    /// when the item lacks them (sparse secondary indexes).
    pub fn index_key(&self, item: &Item) -> Option<Vec<u8>> {
        let mut out = Vec::with_capacity(32);
        let v = item.get(&self.hash.name)?;
        if v.as_key_scalar() != Some(self.hash.ty) {
            return None;
        }
        encode_partition(v, &mut out);
        if let Some(attr) = &self.range {
            let v = item.get(&attr.name)?;
            if v.as_key_scalar() != Some(attr.ty) {
                return None;
            }
            encode_scalar(v, &mut out);
        }
        Some(out)
    }

    /// The encoded partition part only (Query prefix, item collections).
    pub fn partition_prefix(&self, v: &AttrValue) -> Vec<u8> {
        let mut out = Vec::with_capacity(16);
        encode_partition(v, &mut out);
        out
    }
}

fn check_key_value(
    attr: &KeyAttr,
    v: &AttrValue,
    limit: usize,
    is_hash: bool,
    in_item: bool,
) -> Result<(), AwsError> {
    if v.as_key_scalar() != Some(attr.ty) {
        return Err(if in_item {
            invalid_param(format!(
                "Type mismatch for key {} expected: {} actual: {}",
                attr.name,
                attr.ty.tag(),
                v.attr_type().tag()
            ))
        } else {
            validation("The provided key element does not match the schema")
        });
    }
    let (len, what) = match v {
        AttrValue::S(s) => (s.len(), "string"),
        AttrValue::B(b) => (b.len(), "binary"),
        _ => (1, ""),
    };
    if len == 0 {
        return Err(validation(format!(
            "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty {what} value. Key: {}",
            attr.name
        )));
    }
    if len > limit {
        return Err(invalid_param(if is_hash {
            format!("Size of hashkey has exceeded the maximum size limit of{HASH_KEY_LIMIT} bytes")
        } else {
            format!(
                "Aggregated size of all range keys has exceeded the size limit of {RANGE_KEY_LIMIT} bytes"
            )
        }));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::value::item_from_json;
    use serde_json::json;

    fn schema(range: Option<KeyType>) -> KeySchema {
        KeySchema {
            hash: KeyAttr {
                name: "pk".into(),
                ty: KeyType::S,
            },
            range: range.map(|ty| KeyAttr {
                name: "sk".into(),
                ty,
            }),
        }
    }

    #[test]
    fn sort_keys_order_within_a_partition() {
        let s = schema(Some(KeyType::N));
        let k = |n: &str| {
            s.item_key(&item_from_json(&json!({"pk": {"S": "p"}, "sk": {"N": n}})).unwrap())
                .unwrap()
        };
        let mut ks = [k("10"), k("-3"), k("2"), k("2.5"), k("0")];
        ks.sort();
        assert_eq!(ks, [k("-3"), k("0"), k("2"), k("2.5"), k("10")]);
        let s = schema(Some(KeyType::S));
        let k = |v: &str| {
            s.item_key(&item_from_json(&json!({"pk": {"S": "p"}, "sk": {"S": v}})).unwrap())
                .unwrap()
        };
        assert!(k("a") < k("ab") && k("ab") < k("b") && k("B") < k("a"));
        assert!(k("ab").starts_with(&s.partition_prefix(&AttrValue::S("p".into()))));
    }

    #[test]
    fn partitions_order_by_hash_and_stay_together() {
        let s = schema(Some(KeyType::N));
        let k = |p: &str, n: &str| {
            s.item_key(&item_from_json(&json!({"pk": {"S": p}, "sk": {"N": n}})).unwrap())
                .unwrap()
        };
        let mut keys: Vec<(String, Vec<u8>)> = (0..50)
            .flat_map(|p| (0..3).map(move |n| (format!("p{p}"), n.to_string())))
            .map(|(p, n)| (p.clone(), k(&p, &n)))
            .collect();
        keys.sort_by(|a, b| a.1.cmp(&b.1));
        let order: Vec<&str> = keys.iter().map(|(p, _)| p.as_str()).collect();
        // Not alphabetical: the hash decides the partition order.
        let mut sorted = order.clone();
        sorted.sort();
        assert_ne!(order, sorted);
        // Each partition's items are contiguous.
        let mut seen = std::collections::HashSet::new();
        for w in order.windows(2) {
            if w[0] != w[1] {
                assert!(seen.insert(w[0]), "partition {} split", w[0]);
            }
        }
        // The hash is stable (keys and ExclusiveStartKeys survive restarts).
        assert_eq!(partition_hash(b"p1\x00\x01"), partition_hash(b"p1\x00\x01"));
        assert_eq!(hash_of_key(&k("p1", "0")), hash_of_key(&k("p1", "9")));
        // Hashes spread over the range: 1,000 keys touch all 16 top nibbles.
        let nibbles: std::collections::HashSet<u32> = (0..1000)
            .map(|i| partition_hash(format!("user#{i}").as_bytes()) >> 28)
            .collect();
        assert_eq!(nibbles.len(), 16);
    }

    #[test]
    fn key_errors_match_aws() {
        let s = schema(Some(KeyType::S));
        let e = s
            .item_key(&item_from_json(&json!({"pk": {"S": "p"}})).unwrap())
            .unwrap_err();
        assert_eq!(
            e.message,
            "One or more parameter values were invalid: Missing the key sk in the item"
        );
        let e = s
            .item_key(&item_from_json(&json!({"pk": {"N": "1"}, "sk": {"S": "x"}})).unwrap())
            .unwrap_err();
        assert_eq!(
            e.message,
            "One or more parameter values were invalid: Type mismatch for key pk expected: S actual: N"
        );
        let e = s
            .key_param(&item_from_json(&json!({"pk": {"S": "p"}})).unwrap())
            .unwrap_err();
        assert_eq!(
            e.message,
            "The provided key element does not match the schema"
        );
        let e = s
            .key_param(&item_from_json(&json!({"pk": {"S": ""}, "sk": {"S": "x"}})).unwrap())
            .unwrap_err();
        assert!(
            e.message
                .contains("cannot contain an empty string value. Key: pk")
        );
    }
}
