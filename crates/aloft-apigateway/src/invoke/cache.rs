//! Stage response caching: per method (GET by default through `*/*`), keyed by the resource
//! path and the integration's cache key parameters, for `cacheTtlInSeconds` on the one clock;
//! `Cache-Control: max-age=0` refreshes an entry when the caller may invalidate it.

use std::collections::HashMap;
use std::sync::Mutex;

use bytes::Bytes;
use http::HeaderMap;
use serde_json::Value;

use super::mapping::Params;
use crate::model::{Integration, Stage};

/// Entries kept at most (a 0.5 GB cache cluster holds far more, but memory here is shared).
const MAX_ENTRIES: usize = 10_000;

#[derive(Clone)]
pub struct Entry {
    pub expires: i64,
    pub status: http::StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

#[derive(Default)]
pub struct Cache {
    entries: Mutex<HashMap<String, Entry>>,
}

/// What the method settings say about caching one method.
pub struct Policy {
    pub ttl_secs: i64,
    pub require_auth: bool,
    pub strategy: String,
}

impl Cache {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn reset(&self) {
        self.lock().clear();
    }

    pub fn get(&self, key: &str, now: i64) -> Option<Entry> {
        self.lock().get(key).filter(|e| e.expires > now).cloned()
    }

    pub fn put(&self, key: String, e: Entry, now: i64) {
        let mut m = self.lock();
        if m.len() >= MAX_ENTRIES {
            m.retain(|_, v| v.expires > now);
            if m.len() >= MAX_ENTRIES
                && let Some(k) = m
                    .iter()
                    .min_by_key(|(_, v)| v.expires)
                    .map(|(k, _)| k.clone())
            {
                m.remove(&k);
            }
        }
        m.insert(key, e);
    }

    /// FlushStageCache.
    pub fn flush(&self, api_id: &str, stage: &str) {
        let prefix = format!("{api_id}/{stage}/");
        self.lock().retain(|k, _| !k.starts_with(&prefix));
    }
}

/// The caching policy of a method, if its stage caches it.
pub fn policy(stage: &Stage, resource_path: &str, method: &str) -> Option<Policy> {
    if !stage.cache_cluster_enabled {
        return None;
    }
    let own = format!("{}/{method}", resource_path.trim_start_matches('/'));
    // Stage-wide settings cache GET only; other methods need a setting of their own.
    let s = stage.method_settings.get(&own).or_else(|| {
        (method == "GET")
            .then(|| stage.method_settings.get("*/*"))
            .flatten()
    })?;
    if s.get("cachingEnabled").and_then(Value::as_bool) != Some(true) {
        return None;
    }
    let ttl = s
        .get("cacheTtlInSeconds")
        .and_then(Value::as_i64)
        .unwrap_or(300);
    (ttl > 0).then(|| Policy {
        ttl_secs: ttl.min(3600),
        require_auth: s
            .get("requireAuthorizationForCacheControl")
            .and_then(Value::as_bool)
            .unwrap_or(true),
        strategy: s
            .get("unauthorizedCacheControlHeaderStrategy")
            .and_then(Value::as_str)
            .unwrap_or("SUCCEED_WITH_RESPONSE_HEADER")
            .to_string(),
    })
}

/// `api/stage/METHOD/resource path` and the values of the cache key parameters.
pub fn key(
    api_id: &str,
    stage: &str,
    method: &str,
    resource_path: &str,
    i: &Integration,
    params: &Params,
) -> String {
    let mut k = format!("{api_id}/{stage}/{method}{resource_path}");
    for p in &i.cache_key_parameters {
        let v = if let Some(h) = p.strip_prefix("method.request.header.") {
            params.header(h).map(str::to_string)
        } else if let Some(q) = p.strip_prefix("method.request.querystring.") {
            params.query.get(q).map(|v| v.join(","))
        } else if let Some(n) = p.strip_prefix("method.request.path.") {
            params.path.get(n).cloned()
        } else {
            None
        };
        k.push('\u{1f}');
        k.push_str(p);
        k.push('=');
        k.push_str(v.as_deref().unwrap_or(""));
    }
    k
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn policies_and_keys() {
        let mut st = Stage {
            cache_cluster_enabled: true,
            ..Default::default()
        };
        st.method_settings.insert(
            "*/*".into(),
            json!({"cachingEnabled": true, "cacheTtlInSeconds": 60}),
        );
        assert_eq!(policy(&st, "/pets", "GET").unwrap().ttl_secs, 60);
        assert!(policy(&st, "/pets", "POST").is_none());
        st.method_settings
            .insert("pets/POST".into(), json!({"cachingEnabled": true}));
        assert_eq!(policy(&st, "/pets", "POST").unwrap().ttl_secs, 300);
        st.cache_cluster_enabled = false;
        assert!(policy(&st, "/pets", "GET").is_none());

        let i = Integration {
            cache_key_parameters: vec!["method.request.querystring.q".into()],
            ..Default::default()
        };
        let mut p = Params::default();
        p.query.insert("q".into(), vec!["a".into()]);
        p.query.insert("other".into(), vec!["x".into()]);
        let k1 = key("api", "prod", "GET", "/pets", &i, &p);
        p.query.insert("other".into(), vec!["y".into()]);
        assert_eq!(k1, key("api", "prod", "GET", "/pets", &i, &p));
        p.query.insert("q".into(), vec!["b".into()]);
        assert_ne!(k1, key("api", "prod", "GET", "/pets", &i, &p));

        let c = Cache::default();
        let e = Entry {
            expires: 100,
            status: http::StatusCode::OK,
            headers: HeaderMap::new(),
            body: Bytes::new(),
        };
        c.put("api/prod/x".into(), e, 0);
        assert!(c.get("api/prod/x", 99).is_some());
        assert!(c.get("api/prod/x", 100).is_none());
        c.flush("api", "prod");
        assert!(c.get("api/prod/x", 0).is_none());
    }
}
