//! Routing rest requests (`method + URI`) to operations from the models' `requestUri`
//! templates, with the required query/header members that tell S3's overloaded URIs apart.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use aloft_model::{Location, Operation, ServiceModel};
use http::HeaderMap;

use crate::query::form_pairs;
use crate::walk::wire_name;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    /// `{Name}` with optional literal text around it in the same segment.
    Label {
        prefix: String,
        name: String,
        suffix: String,
    },
    /// `{Key+}`: the rest of the path, slashes included.
    Greedy(String),
}

/// One operation's route, parsed from its `requestUri`.
#[derive(Debug, Clone)]
pub struct Route {
    pub operation: &'static str,
    method: String,
    segments: Vec<Segment>,
    /// Query keys the URI template requires (`?uploads`, `?list-type=2`).
    query: Vec<(String, Option<String>)>,
    /// Required members bound to the query string or headers (`(is_header, wire name)`):
    /// what tells S3's `PUT /{Bucket}/{Key+}` apart (PutObject, CopyObject, UploadPart...).
    required: Vec<(bool, String)>,
}

impl Route {
    fn parse(operation: &'static str, method: &str, uri: &str) -> Self {
        let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
        let segments = path
            .trim_start_matches('/')
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| match (s.find('{'), s.find('}')) {
                (Some(a), Some(b)) if a < b => {
                    let name = &s[a + 1..b];
                    match name.strip_suffix('+') {
                        Some(g) => Segment::Greedy(g.to_string()),
                        None => Segment::Label {
                            prefix: s[..a].to_string(),
                            name: name.to_string(),
                            suffix: s[b + 1..].to_string(),
                        },
                    }
                }
                _ => Segment::Literal(s.to_string()),
            })
            .collect();
        let query = query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| match p.split_once('=') {
                Some((k, v)) => (k.to_string(), Some(v.to_string())),
                None => (p.to_string(), None),
            })
            .collect();
        Self {
            operation,
            method: method.to_string(),
            segments,
            query,
            required: Vec::new(),
        }
    }

    fn with_required(mut self, model: &ServiceModel, op: &Operation) -> Self {
        if let Some(shape) = model.input_shape(op) {
            for (name, m) in &shape.members {
                let header = match m.location {
                    Some(Location::Header) => true,
                    Some(Location::Querystring) => false,
                    _ => continue,
                };
                if shape.is_required(name) {
                    self.required
                        .push((header, wire_name(name, m).to_ascii_lowercase()));
                }
            }
        }
        self
    }

    fn requirements_met(&self, query: &[(String, String)], headers: &HeaderMap) -> bool {
        self.required.iter().all(|(header, name)| {
            if *header {
                headers.contains_key(name.as_str())
            } else {
                query.iter().any(|(k, _)| k.eq_ignore_ascii_case(name))
            }
        })
    }

    /// Matches a raw (still percent-encoded) path; returns the decoded labels.
    fn matches(
        &self,
        method: &str,
        path: &str,
        query: &[(String, String)],
    ) -> Option<Vec<(String, String)>> {
        if !self.method.eq_ignore_ascii_case(method) {
            return None;
        }
        for (k, v) in &self.query {
            let found = query.iter().find(|(qk, _)| qk == k)?;
            if v.as_ref().is_some_and(|v| *v != found.1) {
                return None;
            }
        }
        let rest = path.trim_start_matches('/');
        let mut parts: Vec<&str> = if rest.is_empty() {
            Vec::new()
        } else {
            rest.split('/').collect()
        };
        let mut labels = Vec::new();
        let mut i = 0;
        for segment in &self.segments {
            match segment {
                Segment::Greedy(name) => {
                    let tail = parts.get(i..)?.join("/");
                    if tail.is_empty() {
                        return None;
                    }
                    labels.push((name.clone(), decode_component(&tail)));
                    i = parts.len();
                }
                Segment::Literal(lit) => {
                    if parts.get(i)? != lit {
                        return None;
                    }
                    i += 1;
                }
                Segment::Label {
                    prefix,
                    name,
                    suffix,
                } => {
                    let part = parts.get(i)?;
                    let inner = part
                        .strip_prefix(prefix.as_str())?
                        .strip_suffix(suffix.as_str())?;
                    if inner.is_empty() {
                        return None;
                    }
                    labels.push((name.clone(), decode_component(inner)));
                    i += 1;
                }
            }
        }
        // A trailing slash is tolerated (`/bucket/` is the bucket).
        if parts.len() == i + 1 && parts[i].is_empty() {
            parts.pop();
        }
        (i == parts.len()).then_some(labels)
    }

    fn specificity(&self) -> (usize, usize, usize, usize) {
        let literals = self
            .segments
            .iter()
            .filter(|s| matches!(s, Segment::Literal(_)))
            .count();
        let labels = self
            .segments
            .iter()
            .filter(|s| matches!(s, Segment::Label { .. }))
            .count();
        (self.query.len(), literals, labels, self.required.len())
    }
}

fn decode_component(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// Routes requests of one rest service to its operations, from the model's `requestUri`s.
#[derive(Debug)]
pub struct Router {
    routes: Vec<Route>,
}

/// A routed request: the operation and its URI labels (decoded).
pub type Matched = (&'static str, Vec<(String, String)>);

impl Router {
    pub fn new(model: &'static ServiceModel) -> Self {
        let mut routes: Vec<Route> = model
            .operations
            .values()
            .map(|op| {
                Route::parse(op.name.as_str(), &op.http.method, &op.http.request_uri)
                    .with_required(model, op)
            })
            .collect();
        // Most specific first: required query keys, then literal segments, then labels.
        routes.sort_by(|a, b| {
            b.specificity()
                .cmp(&a.specificity())
                .then(a.operation.cmp(b.operation))
        });
        Self { routes }
    }

    /// The router of a model, built once.
    pub fn for_model(model: &'static ServiceModel) -> &'static Router {
        static CACHE: OnceLock<Mutex<HashMap<usize, &'static Router>>> = OnceLock::new();
        let cache = CACHE.get_or_init(Default::default);
        let mut cache = cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let key = std::ptr::from_ref(model) as usize;
        cache
            .entry(key)
            .or_insert_with(|| Box::leak(Box::new(Router::new(model))))
    }

    /// Finds the operation for `method path?query` (path still percent-encoded). Routes whose
    /// required query/header members are present win; failing that, the URI alone decides (so
    /// a request missing a required member still reaches its operation's validation).
    pub fn find(
        &self,
        method: &str,
        path: &str,
        query: &str,
        headers: &HeaderMap,
    ) -> Option<Matched> {
        let pairs = form_pairs(query);
        let strict = self
            .routes
            .iter()
            .filter(|r| r.requirements_met(&pairs, headers));
        let lenient = self.routes.iter().filter(|r| r.required.is_empty());
        strict
            .chain(lenient)
            .chain(self.routes.iter())
            .find_map(|r| {
                r.matches(method, path, &pairs)
                    .map(|labels| (r.operation, labels))
            })
    }

    /// Whether any operation has this path, whatever the method (for 405 vs 404 answers).
    pub fn path_exists(&self, path: &str, query: &str) -> bool {
        let pairs = form_pairs(query);
        self.routes
            .iter()
            .any(|r| r.matches(&r.method, path, &pairs).is_some())
    }
}
