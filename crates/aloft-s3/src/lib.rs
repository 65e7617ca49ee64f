//! S3 for application developers: buckets, objects (streamed both ways), listing, multipart,
//! versioning, presigned URLs and POST uploads, tagging, CORS, websites, lifecycle expiry and
//! event notifications, with AWS's errors.
//!
//! `start` loads state from the journal, collects orphaned blobs and spawns the lifecycle
//! sweeper. Requests go `routes` (bucket, key, operation) → `handlers::*` → `domain`.

pub mod bodies;
pub mod checksums;
pub mod domain;
pub mod error;
mod events;
pub mod fuzzing;
pub(crate) mod handlers;
pub mod outbox;
mod restores;
pub mod routes;
pub mod store;
pub mod target;
mod workers;
pub mod xml;

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use aloft_core::body::Response;
use aloft_core::{AwsError, AwsRequest, Service, ServiceContext, ServiceSpec};
use aloft_events::Targets;
use aloft_store::Store;
use async_trait::async_trait;

use crate::bodies::BodyStore;
use crate::domain::model::Bucket;
use crate::error::{internal, no_such_bucket};

/// Starts S3: loads its state, collects orphaned bodies, spawns the lifecycle sweeper.
pub async fn start(ctx: &ServiceContext) -> Arc<dyn Service> {
    let s3 = S3::open(ctx).await;
    ctx.targets
        .register_target("s3", Arc::new(target::S3Target::judged_by(&s3, ctx)));
    s3
}

static SPEC: ServiceSpec = ServiceSpec {
    name: "s3",
    signing_names: &["s3", "s3-object-lambda"],
    target_prefixes: &[],
    host_labels: &["s3", "s3-website", "s3-object-lambda"],
    path_prefixes: &[],
    unsigned_actions: &[],
};

pub type BucketCell = Arc<RwLock<Bucket>>;

/// The S3 service.
pub struct S3 {
    buckets: RwLock<HashMap<String, BucketCell>>,
    store: Arc<dyn Store>,
    /// The store keeps what it is given (`--data-dir`). The ephemeral store drops every batch,
    /// so the hot paths skip encoding versions for it: a small object's inline body encoded as
    /// base64 JSON was a quarter of a 1 KiB PUT's work.
    durable: bool,
    bodies: BodyStore,
    targets: Arc<Targets>,
    seq: AtomicU64,
    sweeper: tokio::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// Object events journaled and waiting for their targets.
    pub(crate) outbox: Arc<outbox::Outbox>,
    notifier: tokio::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// The last notifications sent (target ARN, payload), for `/_aloft/s3/notifications`.
    sent: std::sync::Mutex<std::collections::VecDeque<serde_json::Value>>,
    /// Access points and Object Lambda access points (S3 Control), in memory only.
    pub(crate) points: RwLock<handlers::control::Points>,
    /// Object Lambda GetObjects waiting for their WriteGetObjectResponse, by `route/token`.
    pub(crate) pending: std::sync::Mutex<
        HashMap<String, tokio::sync::oneshot::Sender<handlers::object_lambda::Written>>,
    >,
    /// Restores not yet announced as completed and expired: (bucket, key, version id).
    restores: std::sync::Mutex<BTreeSet<RestoreRef>>,
}

type RestoreRef = (String, String, Option<String>);

const SENT_KEPT: usize = 200;

impl S3 {
    pub async fn start(ctx: &ServiceContext) -> Arc<dyn Service> {
        start(ctx).await
    }

    pub async fn open(ctx: &ServiceContext) -> Arc<S3> {
        let durable = ctx.store.is_durable();
        let dir = ctx.blobs.dir().join("s3");
        let bodies = BodyStore::new(dir, durable).unwrap_or_else(|e| {
            tracing::error!("s3: cannot create its blob directory: {e}");
            BodyStore::new(
                std::env::temp_dir().join(format!("aloft-s3-{}", std::process::id())),
                false,
            )
            .expect("a temp directory for S3 bodies")
        });
        let loaded = match store::load(ctx.store.as_ref()) {
            Ok((loaded, live)) => {
                // Bodies written but never committed (a crash between the two) are orphans.
                bodies.collect_orphans(&live);
                loaded
            }
            Err(e) => {
                // Never collect on a failed load: every body would look orphaned.
                tracing::error!("s3: cannot load its state: {e}");
                Default::default()
            }
        };
        let seq = store::max_seq(&loaded) + 1;
        let outbox = Arc::new(
            outbox::Outbox::load(ctx.store.as_ref()).unwrap_or_else(|e| {
                tracing::error!("s3: cannot load its pending notifications: {e}");
                outbox::Outbox::empty()
            }),
        );
        let restores = loaded
            .values()
            .flat_map(|b| {
                b.objects.iter().flat_map(move |(k, vs)| {
                    vs.iter()
                        .filter(|v| v.meta.restore.is_some())
                        .map(move |v| (b.info.name.clone(), k.clone(), v.version_id.clone()))
                })
            })
            .collect();
        let s3 = Arc::new(S3 {
            buckets: RwLock::new(
                loaded
                    .into_iter()
                    .map(|(k, v)| (k, Arc::new(RwLock::new(v))))
                    .collect(),
            ),
            store: ctx.store.clone(),
            durable,
            bodies,
            targets: ctx.targets.clone(),
            seq: AtomicU64::new(seq),
            sweeper: tokio::sync::Mutex::new(None),
            outbox: outbox.clone(),
            notifier: tokio::sync::Mutex::new(None),
            sent: std::sync::Mutex::new(std::collections::VecDeque::new()),
            points: RwLock::new(Default::default()),
            pending: std::sync::Mutex::new(HashMap::new()),
            restores: std::sync::Mutex::new(restores),
        });
        let handle = workers::spawn_sweeper(Arc::downgrade(&s3));
        *s3.sweeper.lock().await = Some(handle);
        let worker = outbox::spawn_worker(outbox.clone(), ctx.store.clone(), ctx.targets.clone());
        *s3.notifier.lock().await = Some(worker);
        s3
    }

    pub(crate) fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn record_sent(&self, deliveries: &[outbox::Entry]) {
        if let Ok(mut q) = self.sent.lock() {
            for (_, p) in deliveries {
                if q.len() == SENT_KEPT {
                    q.pop_front();
                }
                let payload: serde_json::Value =
                    serde_json::from_str(&p.payload).unwrap_or(serde_json::Value::Null);
                q.push_back(serde_json::json!({"target": p.target, "payload": payload}));
            }
        }
    }

    pub(crate) fn track_restore(&self, bucket: &str, key: &str, version: Option<String>) {
        if let Ok(mut s) = self.restores.lock() {
            s.insert((bucket.to_string(), key.to_string(), version));
        }
    }

    pub(crate) fn untrack_restore(&self, bucket: &str, key: &str, version: &Option<String>) {
        if let Ok(mut s) = self.restores.lock() {
            s.remove(&(bucket.to_string(), key.to_string(), version.clone()));
        }
    }

    pub(crate) fn bucket(&self, name: &str) -> Result<BucketCell, AwsError> {
        self.buckets
            .read()
            .map_err(internal)?
            .get(name)
            .cloned()
            .ok_or_else(|| no_such_bucket(name))
    }

    pub(crate) fn bucket_names(&self) -> Vec<BucketCell> {
        self.buckets
            .read()
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default()
    }
}

#[async_trait]
impl Service for S3 {
    fn spec(&self) -> &'static ServiceSpec {
        &SPEC
    }

    async fn handle(&self, req: AwsRequest) -> Response {
        handlers::handle(self, req).await
    }

    async fn internal(&self, _req: AwsRequest, path: &str) -> Option<Response> {
        match path.trim_matches('/') {
            "lifecycle/sweep" => {
                let n = workers::sweep(self).await;
                restores::sweep(self).await;
                Some(handlers::json_response(serde_json::json!({"expired": n})))
            }
            "outbox" => Some(handlers::json_response(self.outbox.view())),
            "notifications" => {
                let sent: Vec<serde_json::Value> = self
                    .sent
                    .lock()
                    .map(|q| q.iter().cloned().collect())
                    .unwrap_or_default();
                Some(handlers::json_response(
                    serde_json::json!({"notifications": sent}),
                ))
            }
            _ => None,
        }
    }

    fn authorization(
        &self,
        _ctx: &aloft_core::RequestContext,
        operation: &str,
        input: &serde_json::Value,
    ) -> Option<Vec<(String, String)>> {
        let s = |n: &str| input.get(n).and_then(serde_json::Value::as_str);
        let bucket = s("Bucket").filter(|b| !b.is_empty());
        let resource = bucket.map_or_else(
            || "*".to_string(),
            |b| domain::access::resource_arn(b, s("Key")),
        );
        let mut wanted = vec![(domain::access::iam_action(operation), resource)];
        // A copy also reads its source.
        if let Some((b, k)) = s("CopySource").and_then(domain::access::copy_source) {
            wanted.push((
                "s3:GetObject".to_string(),
                domain::access::resource_arn(&b, Some(&k)),
            ));
        }
        Some(wanted)
    }

    /// The bucket policy with the bucket's and object's public ACL grants, as the engine
    /// evaluates them for a signed caller.
    async fn resource_policy(
        &self,
        ctx: &aloft_core::RequestContext,
        resource: &str,
    ) -> Option<String> {
        let (bucket, key) = domain::access::parse_arn(resource)?;
        let cell = self.bucket(bucket).ok()?;
        let b = cell.read().ok()?;
        let acl = key
            .and_then(|k| b.current(k))
            .map(|v| v.meta.acl_policy(&b.info.account));
        domain::access::effective_policy(
            &b.info.config,
            bucket,
            key,
            acl.as_ref(),
            false,
            Some(&ctx.account_id),
        )
    }

    async fn reset(&self) {
        let all: Vec<BucketCell> = match self.buckets.write() {
            Ok(mut m) => m.drain().map(|(_, v)| v).collect(),
            Err(_) => return,
        };
        let mut blobs = Vec::new();
        for cell in all {
            if let Ok(b) = cell.read() {
                for v in b.objects.values().flatten() {
                    v.data.blob_ids(&mut blobs);
                }
                for u in b.uploads.values() {
                    for p in u.parts.values() {
                        p.data.blob_ids(&mut blobs);
                    }
                }
            }
        }
        self.outbox.clear();
        for ns in [
            store::BUCKETS,
            store::OBJECTS,
            store::UPLOADS,
            store::PARTS,
            outbox::OUTBOX,
        ] {
            if let Err(e) = self.store.clear(ns, b"").await {
                tracing::error!("s3 reset: {e}");
            }
        }
        self.bodies.remove(&blobs);
        if let Ok(mut q) = self.sent.lock() {
            q.clear();
        }
        if let Ok(mut p) = self.points.write() {
            *p = Default::default();
        }
    }

    async fn shutdown(&self) {
        if let Some(h) = self.sweeper.lock().await.take() {
            h.abort();
        }
        if let Some(h) = self.notifier.lock().await.take() {
            h.abort();
        }
    }

    fn status(&self) -> serde_json::Value {
        let n = self.buckets.read().map(|m| m.len()).unwrap_or(0);
        serde_json::json!({"state": "running", "buckets": n, "durable": self.store.is_durable()})
    }
}
