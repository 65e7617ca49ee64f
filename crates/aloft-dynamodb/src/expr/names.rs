//! `ExpressionAttributeNames` / `ExpressionAttributeValues` of a request, which of them its
//! expressions used, and AWS's 573 reserved words.

use std::collections::{HashMap, HashSet};

use crate::hash::FastBuild;
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
#[derive(Debug, Default)]
pub struct ExprContext {
    pub(super) names: HashMap<String, String, FastBuild>,
    pub(super) values: HashMap<String, AttrValue, FastBuild>,
    pub(super) used_names: HashSet<String, FastBuild>,
    pub(super) used_values: HashSet<String, FastBuild>,
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
                ctx.names.insert(k.clone(), v.to_string());
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
                ctx.values.insert(k.clone(), av);
            }
        }
        Ok(ctx)
    }

    /// Defines `#name` as `value` (the fast path's decoder); false when already defined.
    pub fn define_name(&mut self, name: &str, value: &str) -> bool {
        if self.names.contains_key(name) {
            return false;
        }
        self.names.insert(name.to_string(), value.to_string());
        true
    }

    /// Defines `:name` as `value` (the fast path's decoder); false when already defined.
    pub fn define_value(&mut self, name: &str, value: AttrValue) -> bool {
        if self.values.contains_key(name) {
            return false;
        }
        self.values.insert(name.to_string(), value);
        true
    }

    pub fn has_names(&self) -> bool {
        !self.names.is_empty()
    }

    pub fn has_values(&self) -> bool {
        !self.values.is_empty()
    }

    /// AWS's check after all of a request's expressions are parsed.
    pub fn check_unused(&self) -> Result<(), AwsError> {
        let mut unused: Vec<&String> = self
            .names
            .keys()
            .filter(|k| !self.used_names.contains(*k))
            .collect();
        if !unused.is_empty() {
            unused.sort();
            let keys: Vec<&str> = unused.iter().map(|s| s.as_str()).collect();
            return Err(validation(format!(
                "Value provided in ExpressionAttributeNames unused in expressions: keys: {{{}}}",
                keys.join(", ")
            )));
        }
        let mut unused: Vec<&String> = self
            .values
            .keys()
            .filter(|k| !self.used_values.contains(*k))
            .collect();
        if !unused.is_empty() {
            unused.sort();
            let keys: Vec<&str> = unused.iter().map(|s| s.as_str()).collect();
            return Err(validation(format!(
                "Value provided in ExpressionAttributeValues unused in expressions: keys: {{{}}}",
                keys.join(", ")
            )));
        }
        Ok(())
    }
}
