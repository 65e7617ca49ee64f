//! Authorizer results cached by identity source for their TTL (Lambda authorizers are not run
//! yet: methods using them are refused with AUTHORIZER_CONFIGURATION_ERROR).

use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Default)]
pub struct Cache {
    entries: Mutex<HashMap<String, (i64, serde_json::Value)>>,
}

impl Cache {
    pub fn reset(&self) {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }
}
