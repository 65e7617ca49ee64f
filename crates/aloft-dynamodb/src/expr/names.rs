//! `ExpressionAttributeNames` / `ExpressionAttributeValues` of a request, which of them its
//! expressions used, and AWS's 573 reserved words.

use std::sync::OnceLock;

use aloft_core::AwsError;
use serde_json::Value as Json;

use crate::domain::value::AttrValue;
use crate::error::validation;

/// AWS's reserved words, upper case, sorted (a binary search without building an upper-case
/// copy of the word: that copy and a SipHash set lookup were a fifth of parsing a key
/// condition).
pub(super) fn reserved() -> &'static [&'static str] {
    static WORDS: OnceLock<Vec<&'static str>> = OnceLock::new();
    WORDS.get_or_init(|| {
        let mut w: Vec<&str> = include_str!("reserved_words.txt").lines().collect();
        w.sort_unstable();
        w.dedup();
        w
    })
}

pub fn is_reserved(word: &str) -> bool {
    let upper = word.bytes().map(|b| b.to_ascii_uppercase());
    reserved()
        .binary_search_by(|w| w.bytes().cmp(upper.clone()))
        .is_ok()
}

/// `ExpressionAttributeNames` / `ExpressionAttributeValues` of one request, and which of
/// them its expressions used (AWS rejects unused ones).
///
/// Vectors sorted by key, each entry with its "used" mark: a request has a few of each, and
/// the four hash maps this replaced (definitions and uses, each with its own allocation
/// aligned for SIMD groups, the allocator's slow path) cost ~2k instructions per Query.
#[derive(Debug, Default)]
pub struct ExprContext {
    names: Vec<(String, String, bool)>,
    values: Vec<(String, AttrValue, bool)>,
}

/// Where `sigil` + `word` (`#name`, `:value`) is or would be among sorted keys, without
/// building that string.
fn find<V>(entries: &[(String, V, bool)], sigil: u8, word: &str) -> Result<usize, usize> {
    entries.binary_search_by(|(k, _, _)| k.bytes().cmp(std::iter::once(sigil).chain(word.bytes())))
}

/// Inserts in order; false when the key is already there.
fn define<V>(entries: &mut Vec<(String, V, bool)>, key: &str, value: V) -> bool {
    match entries.binary_search_by(|(k, _, _)| k.as_str().cmp(key)) {
        Ok(_) => false,
        Err(at) => {
            entries.insert(at, (key.to_string(), value, false));
            true
        }
    }
}

fn unused<V>(entries: &[(String, V, bool)]) -> Vec<&str> {
    entries
        .iter()
        .filter(|e| !e.2)
        .map(|e| e.0.as_str())
        .collect()
}

impl ExprContext {
    pub fn new(names: Option<&Json>, values: Option<&Json>) -> Result<Self, AwsError> {
        let mut ctx = ExprContext::default();
        if let Some(n) = names.filter(|v| !v.is_null()) {
            let obj = n.as_object().ok_or_else(|| {
                crate::error::serialization("ExpressionAttributeNames must be a map")
            })?;
            if obj.is_empty() {
                return Err(validation("ExpressionAttributeNames must not be empty"));
            }
            for (k, v) in obj {
                let v = v.as_str().ok_or_else(|| {
                    crate::error::serialization("ExpressionAttributeNames values must be strings")
                })?;
                ctx.names.push((k.clone(), v.to_string(), false));
            }
        }
        if let Some(vals) = values.filter(|v| !v.is_null()) {
            let obj = vals.as_object().ok_or_else(|| {
                crate::error::serialization("ExpressionAttributeValues must be a map")
            })?;
            if obj.is_empty() {
                return Err(validation("ExpressionAttributeValues must not be empty"));
            }
            for (k, v) in obj {
                if !k.starts_with(':') {
                    return Err(validation(format!(
                        "ExpressionAttributeValues contains invalid key: Syntax error; key: \"{k}\""
                    )));
                }
                let av = AttrValue::from_json(v).map_err(|e| {
                    validation(format!(
                        "ExpressionAttributeValues contains invalid value: {} for key {k}",
                        e.message
                    ))
                })?;
                ctx.values.push((k.clone(), av, false));
            }
        }
        // A JSON object's keys are distinct: sorted once, not kept sorted per insertion.
        ctx.names.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        ctx.values.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        Ok(ctx)
    }

    /// Defines `#name` as `value` (the fast path's decoder); false when already defined.
    pub fn define_name(&mut self, name: &str, value: &str) -> bool {
        define(&mut self.names, name, value.to_string())
    }

    /// Defines `:name` as `value` (the fast path's decoder); false when already defined.
    pub fn define_value(&mut self, name: &str, value: AttrValue) -> bool {
        define(&mut self.values, name, value)
    }

    /// The value of `#word`, marked used.
    pub(super) fn use_name(&mut self, word: &str) -> Option<String> {
        let at = find(&self.names, b'#', word).ok()?;
        let e = &mut self.names[at];
        e.2 = true;
        Some(e.1.clone())
    }

    /// The value of `:word`, marked used.
    pub(super) fn use_value(&mut self, word: &str) -> Option<AttrValue> {
        let at = find(&self.values, b':', word).ok()?;
        let e = &mut self.values[at];
        e.2 = true;
        Some(e.1.clone())
    }

    pub fn has_names(&self) -> bool {
        !self.names.is_empty()
    }

    pub fn has_values(&self) -> bool {
        !self.values.is_empty()
    }

    /// AWS's check after all of a request's expressions are parsed (keys listed sorted).
    pub fn check_unused(&self) -> Result<(), AwsError> {
        let keys = unused(&self.names);
        if !keys.is_empty() {
            return Err(validation(format!(
                "Value provided in ExpressionAttributeNames unused in expressions: keys: {{{}}}",
                keys.join(", ")
            )));
        }
        let keys = unused(&self.values);
        if !keys.is_empty() {
            return Err(validation(format!(
                "Value provided in ExpressionAttributeValues unused in expressions: keys: {{{}}}",
                keys.join(", ")
            )));
        }
        Ok(())
    }
}
