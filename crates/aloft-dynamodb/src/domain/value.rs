//! AttributeValue: the ten DynamoDB types, read from and written to their JSON form with
//! AWS's validation rules (one type per value, no empty sets, no duplicates in sets).

use std::cmp::Ordering;

use aloft_core::AwsError;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Map, Value as Json};

use super::number::Number;
pub use super::text::Str;
use crate::error::{invalid_param, serialization, validation};

pub use super::item::AttrMap;

pub type Item = AttrMap;

#[derive(Debug, Clone, PartialEq)]
pub enum AttrValue {
    S(Str),
    N(Number),
    B(Vec<u8>),
    Bool(bool),
    Null,
    M(AttrMap),
    L(Vec<AttrValue>),
    Ss(Vec<String>),
    Ns(Vec<Number>),
    Bs(Vec<Vec<u8>>),
}

/// The type letters AWS uses in messages and in `attribute_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrType {
    S,
    N,
    B,
    Bool,
    Null,
    M,
    L,
    Ss,
    Ns,
    Bs,
}

impl AttrType {
    pub fn tag(self) -> &'static str {
        match self {
            AttrType::S => "S",
            AttrType::N => "N",
            AttrType::B => "B",
            AttrType::Bool => "BOOL",
            AttrType::Null => "NULL",
            AttrType::M => "M",
            AttrType::L => "L",
            AttrType::Ss => "SS",
            AttrType::Ns => "NS",
            AttrType::Bs => "BS",
        }
    }

    pub fn from_tag(s: &str) -> Option<AttrType> {
        Some(match s {
            "S" => AttrType::S,
            "N" => AttrType::N,
            "B" => AttrType::B,
            "BOOL" => AttrType::Bool,
            "NULL" => AttrType::Null,
            "M" => AttrType::M,
            "L" => AttrType::L,
            "SS" => AttrType::Ss,
            "NS" => AttrType::Ns,
            "BS" => AttrType::Bs,
            _ => return None,
        })
    }

    /// The word AWS uses in "operand type" messages.
    pub fn long_name(self) -> &'static str {
        match self {
            AttrType::S => "STRING",
            AttrType::N => "NUMBER",
            AttrType::B => "BINARY",
            AttrType::Bool => "BOOLEAN",
            AttrType::Null => "NULL",
            AttrType::M => "MAP",
            AttrType::L => "LIST",
            AttrType::Ss => "STRING_SET",
            AttrType::Ns => "NUMBER_SET",
            AttrType::Bs => "BINARY_SET",
        }
    }
}

impl AttrValue {
    pub fn attr_type(&self) -> AttrType {
        match self {
            AttrValue::S(_) => AttrType::S,
            AttrValue::N(_) => AttrType::N,
            AttrValue::B(_) => AttrType::B,
            AttrValue::Bool(_) => AttrType::Bool,
            AttrValue::Null => AttrType::Null,
            AttrValue::M(_) => AttrType::M,
            AttrValue::L(_) => AttrType::L,
            AttrValue::Ss(_) => AttrType::Ss,
            AttrValue::Ns(_) => AttrType::Ns,
            AttrValue::Bs(_) => AttrType::Bs,
        }
    }

    /// Parses `{"S": "x"}` and friends, with AWS's messages for malformed values.
    pub fn from_json(v: &Json) -> Result<AttrValue, AwsError> {
        let obj = v
            .as_object()
            .ok_or_else(|| serialization("Unexpected value type in payload"))?;
        let mut found: Option<AttrValue> = None;
        for (k, val) in obj {
            if val.is_null() {
                continue;
            }
            if found.is_some() {
                return Err(validation(
                    "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes",
                ));
            }
            found = Some(parse_typed(k, val)?);
        }
        found.ok_or_else(|| {
            validation(
                "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes",
            )
        })
    }

    pub fn to_json(&self) -> Json {
        let mut m = Map::with_capacity(1);
        let (k, v) = match self {
            AttrValue::S(s) => ("S", Json::String(s.as_str().to_owned())),
            AttrValue::N(n) => ("N", Json::String(n.to_string())),
            AttrValue::B(b) => ("B", Json::String(B64.encode(b))),
            AttrValue::Bool(b) => ("BOOL", Json::Bool(*b)),
            AttrValue::Null => ("NULL", Json::Bool(true)),
            AttrValue::M(m) => ("M", item_to_json(m)),
            AttrValue::L(l) => ("L", Json::Array(l.iter().map(AttrValue::to_json).collect())),
            AttrValue::Ss(s) => (
                "SS",
                Json::Array(s.iter().map(|x| Json::String(x.clone())).collect()),
            ),
            AttrValue::Ns(s) => (
                "NS",
                Json::Array(s.iter().map(|x| Json::String(x.to_string())).collect()),
            ),
            AttrValue::Bs(s) => (
                "BS",
                Json::Array(s.iter().map(|x| Json::String(B64.encode(x))).collect()),
            ),
        };
        m.insert(k.to_string(), v);
        Json::Object(m)
    }

    /// The bytes this value counts for in an item's size, as AWS documents it.
    pub fn size(&self) -> usize {
        match self {
            AttrValue::S(s) => s.len(),
            AttrValue::N(n) => number_size(n),
            AttrValue::B(b) => b.len(),
            AttrValue::Bool(_) | AttrValue::Null => 1,
            // 3 bytes per container plus 1 byte per element.
            AttrValue::M(m) => 3 + m.iter().map(|(k, v)| k.len() + v.size() + 1).sum::<usize>(),
            AttrValue::L(l) => 3 + l.iter().map(|v| v.size() + 1).sum::<usize>(),
            AttrValue::Ss(s) => s.iter().map(String::len).sum(),
            AttrValue::Ns(s) => s.iter().map(number_size).sum(),
            AttrValue::Bs(s) => s.iter().map(Vec::len).sum(),
        }
    }

    /// Ordering for `<`, `BETWEEN` and sort keys: only between two N, two S or two B.
    pub fn compare(&self, other: &AttrValue) -> Option<Ordering> {
        match (self, other) {
            (AttrValue::N(a), AttrValue::N(b)) => Some(a.cmp(b)),
            // Strings compare by UTF-8 bytes, binaries as unsigned bytes.
            (AttrValue::S(a), AttrValue::S(b)) => Some(a.as_bytes().cmp(b.as_bytes())),
            (AttrValue::B(a), AttrValue::B(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }

    /// Equality as DynamoDB sees it: sets are equal regardless of element order.
    pub fn same(&self, other: &AttrValue) -> bool {
        match (self, other) {
            (AttrValue::Ss(a), AttrValue::Ss(b)) => set_eq(a, b),
            (AttrValue::Ns(a), AttrValue::Ns(b)) => set_eq(a, b),
            (AttrValue::Bs(a), AttrValue::Bs(b)) => set_eq(a, b),
            (AttrValue::L(a), AttrValue::L(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same(y))
            }
            (AttrValue::M(a), AttrValue::M(b)) => {
                a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| v.same(w)))
            }
            _ => self == other,
        }
    }

    /// The scalar key value of this attribute, when it can be a key.
    pub fn as_key_scalar(&self) -> Option<KeyType> {
        match self {
            AttrValue::S(_) => Some(KeyType::S),
            AttrValue::N(_) => Some(KeyType::N),
            AttrValue::B(_) => Some(KeyType::B),
            _ => None,
        }
    }
}

/// The three types a key attribute may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum KeyType {
    S,
    N,
    B,
}

impl KeyType {
    pub fn tag(self) -> &'static str {
        match self {
            KeyType::S => "S",
            KeyType::N => "N",
            KeyType::B => "B",
        }
    }
    pub fn parse(s: &str) -> Option<KeyType> {
        match s {
            "S" => Some(KeyType::S),
            "N" => Some(KeyType::N),
            "B" => Some(KeyType::B),
            _ => None,
        }
    }
}

fn set_eq<T: PartialEq>(a: &[T], b: &[T]) -> bool {
    a.len() == b.len() && a.iter().all(|x| b.contains(x))
}

fn number_size(n: &Number) -> usize {
    // "1 byte per two significant digits, plus 1 byte".
    n.significant_digits().div_ceil(2) + 1
}

fn parse_typed(tag: &str, val: &Json) -> Result<AttrValue, AwsError> {
    let str_of = |v: &Json| -> Result<String, AwsError> {
        v.as_str().map(str::to_string).ok_or_else(|| {
            serialization(format!(
                "Unexpected value type for {tag}: expected a string"
            ))
        })
    };
    let arr_of = |v: &Json| -> Result<Vec<Json>, AwsError> {
        v.as_array().cloned().ok_or_else(|| {
            serialization(format!("Unexpected value type for {tag}: expected a list"))
        })
    };
    Ok(match tag {
        "S" => AttrValue::S(Str::from(val.as_str().ok_or_else(|| {
            serialization("Unexpected value type for S: expected a string")
        })?)),
        "N" => AttrValue::N(parse_number(&str_of(val)?)?),
        "B" => AttrValue::B(parse_b64(&str_of(val)?)?),
        "BOOL" => {
            AttrValue::Bool(val.as_bool().ok_or_else(|| {
                serialization("Unexpected value type for BOOL: expected a boolean")
            })?)
        }
        "NULL" => match val.as_bool() {
            Some(true) => AttrValue::Null,
            Some(false) => {
                return Err(invalid_param(
                    "Null attribute value types must have the value of true",
                ));
            }
            None => {
                return Err(serialization(
                    "Unexpected value type for NULL: expected a boolean",
                ));
            }
        },
        "M" => {
            let obj = val
                .as_object()
                .ok_or_else(|| serialization("Unexpected value type for M: expected a map"))?;
            AttrValue::M(
                obj.iter()
                    .map(|(k, v)| Ok((k.as_str(), AttrValue::from_json(v)?)))
                    .collect::<Result<AttrMap, AwsError>>()?,
            )
        }
        "L" => AttrValue::L(
            arr_of(val)?
                .iter()
                .map(AttrValue::from_json)
                .collect::<Result<_, _>>()?,
        ),
        "SS" => {
            let items: Vec<String> = arr_of(val)?.iter().map(str_of).collect::<Result<_, _>>()?;
            if items.is_empty() {
                return Err(invalid_param("An string set  may not be empty"));
            }
            check_dupes(&items, |s| s.clone())?;
            AttrValue::Ss(items)
        }
        "NS" => {
            let items: Vec<Number> = arr_of(val)?
                .iter()
                .map(|v| str_of(v).and_then(|s| parse_number(&s)))
                .collect::<Result<_, _>>()?;
            if items.is_empty() {
                return Err(invalid_param("An number set  may not be empty"));
            }
            check_dupes(&items, ToString::to_string)?;
            AttrValue::Ns(items)
        }
        "BS" => {
            let items: Vec<Vec<u8>> = arr_of(val)?
                .iter()
                .map(|v| str_of(v).and_then(|s| parse_b64(&s)))
                .collect::<Result<_, _>>()?;
            if items.is_empty() {
                return Err(invalid_param("Binary sets should not be empty"));
            }
            check_dupes(&items, |b| B64.encode(b))?;
            AttrValue::Bs(items)
        }
        other => {
            return Err(serialization(format!(
                "Unexpected field type in AttributeValue: {other}"
            )));
        }
    })
}

/// Sets of a few members are checked pairwise (no allocation); larger ones through a hash set,
/// so that a set of many thousand members is not quadratic.
fn check_dupes<T: Eq + std::hash::Hash>(
    items: &[T],
    show: impl Fn(&T) -> String,
) -> Result<(), AwsError> {
    let dupe = if items.len() <= 16 {
        items
            .iter()
            .enumerate()
            .any(|(i, x)| items[..i].contains(x))
    } else {
        let mut seen = std::collections::HashSet::with_capacity(items.len());
        !items.iter().all(|x| seen.insert(x))
    };
    if dupe {
        let listed: Vec<String> = items.iter().map(&show).collect();
        return Err(invalid_param(format!(
            "Input collection [{}] contains duplicates.",
            listed.join(", ")
        )));
    }
    Ok(())
}

pub fn parse_number(s: &str) -> Result<Number, AwsError> {
    Number::parse(s).map_err(|e| validation(e.message()))
}

fn parse_b64(s: &str) -> Result<Vec<u8>, AwsError> {
    B64.decode(s)
        .map_err(|_| serialization("Base64 encoded value is not valid"))
}

/// Parses an item (`{"attr": {"S": "x"}, ...}`).
pub fn item_from_json(v: &Json) -> Result<Item, AwsError> {
    let obj = v
        .as_object()
        .ok_or_else(|| serialization("Unexpected value type in payload: expected a map"))?;
    obj.iter()
        .map(|(k, v)| Ok((k.as_str(), AttrValue::from_json(v)?)))
        .collect()
}

pub fn item_to_json(item: &AttrMap) -> Json {
    Json::Object(
        item.iter()
            .map(|(k, v)| (k.to_string(), v.to_json()))
            .collect(),
    )
}

/// An item's size: attribute names plus values, as AWS counts toward the 400 KB limit.
pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(k, v)| k.len() + v.size()).sum()
}

pub const MAX_ITEM_SIZE: usize = 400 * 1024;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_every_type_and_round_trips() {
        let j = json!({"s": {"S": "x"}, "n": {"N": "1.50"}, "b": {"B": "AQI="}, "t": {"BOOL": true},
            "z": {"NULL": true}, "m": {"M": {"a": {"N": "1"}}}, "l": {"L": [{"S": "a"}]},
            "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "2"]}, "bs": {"BS": ["AQ=="]}});
        let item = item_from_json(&j).unwrap();
        assert_eq!(item["b"], AttrValue::B(vec![1, 2]));
        let back = item_to_json(&item);
        assert_eq!(back["n"], json!({"N": "1.5"}));
        assert_eq!(back["ss"], json!({"SS": ["a", "b"]}));
    }

    #[test]
    fn rejects_malformed_values_with_aws_messages() {
        let e = AttrValue::from_json(&json!({})).unwrap_err();
        assert!(e.message.starts_with("Supplied AttributeValue is empty"));
        let e = AttrValue::from_json(&json!({"S": "a", "N": "1"})).unwrap_err();
        assert!(e.message.contains("more than one datatypes"));
        let e = AttrValue::from_json(&json!({"SS": []})).unwrap_err();
        assert_eq!(
            e.message,
            "One or more parameter values were invalid: An string set  may not be empty"
        );
        let e = AttrValue::from_json(&json!({"SS": ["a", "a"]})).unwrap_err();
        assert_eq!(
            e.message,
            "One or more parameter values were invalid: Input collection [a, a] contains duplicates."
        );
        let e = AttrValue::from_json(&json!({"N": "x"})).unwrap_err();
        assert_eq!(
            e.message,
            "A value provided cannot be converted into a number"
        );
        let e = AttrValue::from_json(&json!({"S": 1})).unwrap_err();
        assert_eq!(e.code, "SerializationException");
    }

    #[test]
    fn large_sets_are_checked_for_duplicates() {
        let many: Vec<String> = (0..20_000).map(|i| i.to_string()).collect();
        assert!(AttrValue::from_json(&json!({ "NS": many })).is_ok());
        let mut dup: Vec<String> = (0..40).map(|i| format!("s{i}")).collect();
        dup.push("s7".into());
        let e = AttrValue::from_json(&json!({ "SS": dup })).unwrap_err();
        assert!(e.message.ends_with("s39, s7] contains duplicates."));
        // Equal numbers in other spellings are the same member.
        let mut nums: Vec<String> = (0..30).map(|i| i.to_string()).collect();
        nums.push("1.0".into());
        assert!(AttrValue::from_json(&json!({ "NS": nums })).is_err());
    }

    #[test]
    fn sizes_follow_aws_rules() {
        let item = item_from_json(&json!({"id": {"S": "abc"}, "n": {"N": "123"},
            "l": {"L": [{"BOOL": true}, {"NULL": true}]}, "m": {"M": {"k": {"S": "v"}}}}))
        .unwrap();
        // id: 2+3; n: 1+(2+1); l: 1+3+2*(1+1); m: 1+3+(1+1+1)
        assert_eq!(item_size(&item), 5 + 4 + 8 + 7);
    }

    #[test]
    fn compares_like_dynamodb() {
        let s = |x: &str| AttrValue::S(x.into());
        assert_eq!(s("a").compare(&s("B")), Some(Ordering::Greater));
        assert_eq!(s("a").compare(&AttrValue::N(Number::ZERO)), None);
        assert!(
            AttrValue::Ss(vec!["a".into(), "b".into()])
                .same(&AttrValue::Ss(vec!["b".into(), "a".into()]))
        );
    }
}
