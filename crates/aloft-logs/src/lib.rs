//! CloudWatch Logs (json 1.1, `Logs_20140328`): log groups, streams, events, filter patterns,
//! retention and tags; and the `logs` target Lambda writes function output through.
//!
//! The json 1.1 framing here is minimal (target header, JSON body, `__type` errors) until the
//! shared codec on `aloft-protocol` carries it.

pub mod filter;
pub mod groups;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, Weak};

use aloft_core::{
    AwsError, AwsRequest, RequestContext, Response, Service, ServiceContext, ServiceSpec,
};
use aloft_events::{Delivered, Delivery, Target};
use async_trait::async_trait;
use serde_json::{Value, json};

use groups::{
    Group, Stream, check_group_name, check_stream_name, err, group_missing, invalid, stream_missing,
};

pub static SPEC: ServiceSpec = ServiceSpec {
    name: "logs",
    signing_names: &["logs"],
    target_prefixes: &["Logs_20140328"],
    host_labels: &[],
    path_prefixes: &[],
    unsigned_actions: &[],
};

/// Group records (settings, tags, stream names) without their events.
const NS: &str = "logs/groups";
/// One record per event: `{account}/{region}/{group}\0{stream}\0{id:020}`.
const NS_EVENTS: &str = "logs/events";

fn event_key(group_key: &str, stream: &str, id: u64) -> String {
    format!("{group_key}\0{stream}\0{id:020}")
}

pub struct Logs {
    groups: Mutex<HashMap<String, Group>>,
    ctx: ServiceContext,
}

fn key(account: &str, region: &str, name: &str) -> String {
    format!("{account}/{region}/{name}")
}

pub async fn start(ctx: &ServiceContext) -> Arc<dyn Service> {
    let mut groups = HashMap::new();
    if let Ok(rows) = ctx.store.load(NS, b"") {
        for (k, v) in rows {
            if let Ok(g) = serde_json::from_slice::<Group>(&v) {
                groups.insert(String::from_utf8_lossy(&k).into_owned(), g);
            }
        }
    }
    if let Ok(rows) = ctx.store.load(NS_EVENTS, b"") {
        for (k, v) in rows {
            let k = String::from_utf8_lossy(&k).into_owned();
            let mut parts = k.splitn(3, '\0');
            let (Some(g), Some(st)) = (parts.next(), parts.next()) else {
                continue;
            };
            let (Some(group), Ok(e)) = (
                groups.get_mut(g),
                serde_json::from_slice::<groups::Event>(&v),
            ) else {
                continue;
            };
            group.next_id = group.next_id.max(e.id);
            if let Some(stream) = group.streams.get_mut(st) {
                stream.last_ingestion = Some(stream.last_ingestion.unwrap_or(0).max(e.ingestion));
                stream.events.push(e);
            }
        }
        for g in groups.values_mut() {
            for st in g.streams.values_mut() {
                st.events.sort_by_key(|e| (e.timestamp, e.id));
            }
        }
    }
    let svc = Arc::new(Logs {
        groups: Mutex::new(groups),
        ctx: ctx.clone(),
    });
    ctx.targets
        .register_target("logs", Arc::new(LogsTarget(Arc::downgrade(&svc))));
    svc
}

fn s<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str)
}

/// `logGroupName`, or `logGroupIdentifier` (a name or an ARN).
fn group_name(input: &Value) -> Result<String, AwsError> {
    if let Some(n) = s(input, "logGroupName") {
        return Ok(n.to_string());
    }
    if let Some(id) = s(input, "logGroupIdentifier") {
        let name = id
            .strip_prefix("arn:")
            .and_then(|_| id.split_once(":log-group:"))
            .map_or(id, |(_, n)| n.trim_end_matches(":*"));
        return Ok(name.to_string());
    }
    Err(invalid(
        "1 validation error detected: Value null at 'logGroupName' failed to satisfy constraint: Member must not be null",
    ))
}

impl Logs {
    fn persist(&self, k: &str, g: Option<&Group>) -> aloft_store::Commit {
        // The group record holds its events: skip serialising it when nothing is kept.
        if !self.ctx.store.is_durable() {
            return aloft_store::Commit::done();
        }
        let mut b = aloft_store::Batch::new();
        match g {
            Some(g) => b.put(NS, k.as_bytes(), serde_json::to_vec(g).unwrap_or_default()),
            None => b.delete(NS, k.as_bytes()),
        }
        self.ctx.store.submit(b)
    }

    /// Journals the events a put appended to `stream` (ids above `after`), and the group
    /// record too when the put created the stream.
    fn journal_events(
        &self,
        k: &str,
        g: &Group,
        stream: &str,
        after: u64,
        meta: bool,
    ) -> aloft_store::Commit {
        if !self.ctx.store.is_durable() {
            return aloft_store::Commit::done();
        }
        let mut b = aloft_store::Batch::new();
        if meta {
            b.put(NS, k.as_bytes(), serde_json::to_vec(g).unwrap_or_default());
        }
        if let Some(st) = g.streams.get(stream) {
            for e in st.events.iter().filter(|e| e.id > after) {
                b.put(
                    NS_EVENTS,
                    event_key(k, stream, e.id).into_bytes(),
                    serde_json::to_vec(e).unwrap_or_default(),
                );
            }
        }
        self.ctx.store.submit(b)
    }

    /// Forgets the journaled events under a group (`stream: None`) or one stream.
    fn clear_events(&self, k: &str, stream: Option<&str>) -> aloft_store::Commit {
        if !self.ctx.store.is_durable() {
            return aloft_store::Commit::done();
        }
        let prefix = match stream {
            Some(st) => format!("{k}\0{st}\0"),
            None => format!("{k}\0"),
        };
        self.ctx.store.clear(NS_EVENTS, prefix.as_bytes())
    }

    async fn with_group<T>(
        &self,
        ctx: &RequestContext,
        name: &str,
        f: impl FnOnce(&mut Group) -> Result<T, AwsError>,
    ) -> Result<T, AwsError> {
        let k = key(&ctx.account_id, &ctx.region, name);
        let (out, commit) = {
            let mut gs = self.groups.lock().expect("groups lock");
            let g = gs.get_mut(&k).ok_or_else(group_missing)?;
            let out = f(g)?;
            (out, self.persist(&k, Some(g)))
        };
        commit
            .await
            .map_err(|e| AwsError::internal(e.to_string()))?;
        Ok(out)
    }

    fn read_group<T>(
        &self,
        ctx: &RequestContext,
        name: &str,
        f: impl FnOnce(&Group) -> Result<T, AwsError>,
    ) -> Result<T, AwsError> {
        let gs = self.groups.lock().expect("groups lock");
        let g = gs
            .get(&key(&ctx.account_id, &ctx.region, name))
            .ok_or_else(group_missing)?;
        f(g)
    }

    async fn create_group(
        &self,
        ctx: &RequestContext,
        name: &str,
        tags: BTreeMap<String, String>,
        kms: Option<String>,
    ) -> Result<(), AwsError> {
        check_group_name(name)?;
        let k = key(&ctx.account_id, &ctx.region, name);
        let commit = {
            let mut gs = self.groups.lock().expect("groups lock");
            if gs.contains_key(&k) {
                return Err(err(
                    "ResourceAlreadyExistsException",
                    "The specified log group already exists",
                ));
            }
            let g = Group {
                account: ctx.account_id.clone(),
                region: ctx.region.clone(),
                name: name.to_string(),
                created: aloft_core::clock::now_millis(),
                tags,
                kms_key_id: kms,
                ..Default::default()
            };
            let c = self.persist(&k, Some(&g));
            gs.insert(k, g);
            c
        };
        commit.await.map_err(|e| AwsError::internal(e.to_string()))
    }

    pub async fn dispatch(
        &self,
        ctx: &RequestContext,
        op: &str,
        input: Value,
    ) -> Result<Value, AwsError> {
        let now = aloft_core::clock::now_millis();
        match op {
            "CreateLogGroup" => {
                let name = group_name(&input)?;
                let tags = input
                    .get("tags")
                    .and_then(|t| serde_json::from_value(t.clone()).ok())
                    .unwrap_or_default();
                self.create_group(ctx, &name, tags, s(&input, "kmsKeyId").map(str::to_string))
                    .await?;
                Ok(json!({}))
            }
            "DeleteLogGroup" => {
                let name = group_name(&input)?;
                let k = key(&ctx.account_id, &ctx.region, &name);
                let commit = {
                    let mut gs = self.groups.lock().expect("groups lock");
                    gs.remove(&k).ok_or_else(group_missing)?;
                    (self.persist(&k, None), self.clear_events(&k, None))
                };
                for c in [commit.0, commit.1] {
                    c.await.map_err(|e| AwsError::internal(e.to_string()))?;
                }
                Ok(json!({}))
            }
            "DescribeLogGroups" => {
                let prefix = s(&input, "logGroupNamePrefix").unwrap_or("");
                let pattern = s(&input, "logGroupNamePattern");
                let limit = input
                    .get("limit")
                    .and_then(Value::as_u64)
                    .unwrap_or(50)
                    .clamp(1, 50) as usize;
                let skip = s(&input, "nextToken")
                    .and_then(|t| t.parse::<usize>().ok())
                    .unwrap_or(0);
                let gs = self.groups.lock().expect("groups lock");
                let scope = format!("{}/{}/", ctx.account_id, ctx.region);
                let mut list: Vec<&Group> = gs
                    .iter()
                    .filter(|(k, g)| {
                        k.starts_with(&scope)
                            && g.name.starts_with(prefix)
                            && pattern.is_none_or(|p| g.name.contains(p))
                    })
                    .map(|(_, g)| g)
                    .collect();
                list.sort_by(|a, b| a.name.cmp(&b.name));
                let total = list.len();
                let page: Vec<Value> = list
                    .into_iter()
                    .skip(skip)
                    .take(limit)
                    .map(Group::describe)
                    .collect();
                let mut out = json!({"logGroups": page});
                if skip + limit < total {
                    out["nextToken"] = json!((skip + limit).to_string());
                }
                Ok(out)
            }
            "CreateLogStream" => {
                let name = group_name(&input)?;
                let stream = s(&input, "logStreamName").unwrap_or_default().to_string();
                check_stream_name(&stream)?;
                self.with_group(ctx, &name, |g| {
                    if g.streams.contains_key(&stream) {
                        return Err(err(
                            "ResourceAlreadyExistsException",
                            "The specified log stream already exists",
                        ));
                    }
                    g.streams.insert(
                        stream.clone(),
                        Stream {
                            name: stream.clone(),
                            created: now,
                            ..Default::default()
                        },
                    );
                    Ok(json!({}))
                })
                .await
            }
            "DeleteLogStream" => {
                let name = group_name(&input)?;
                let stream = s(&input, "logStreamName").unwrap_or_default().to_string();
                let out = self
                    .with_group(ctx, &name, |g| {
                        g.streams
                            .remove(&stream)
                            .map(|_| json!({}))
                            .ok_or_else(stream_missing)
                    })
                    .await?;
                let k = key(&ctx.account_id, &ctx.region, &name);
                self.clear_events(&k, Some(&stream))
                    .await
                    .map_err(|e| AwsError::internal(e.to_string()))?;
                Ok(out)
            }
            "DescribeLogStreams" => {
                let name = group_name(&input)?;
                let prefix = s(&input, "logStreamNamePrefix").unwrap_or("");
                let by_time = s(&input, "orderBy") == Some("LastEventTime");
                if by_time && !prefix.is_empty() {
                    return Err(invalid(
                        "Cannot order by LastEventTime with a logStreamNamePrefix.",
                    ));
                }
                let desc = input
                    .get("descending")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                let limit = input
                    .get("limit")
                    .and_then(Value::as_u64)
                    .unwrap_or(50)
                    .clamp(1, 50) as usize;
                let skip = s(&input, "nextToken")
                    .and_then(|t| t.parse::<usize>().ok())
                    .unwrap_or(0);
                self.read_group(ctx, &name, |g| {
                    let mut list: Vec<&Stream> = g
                        .streams
                        .values()
                        .filter(|st| st.name.starts_with(prefix))
                        .collect();
                    if by_time {
                        list.sort_by_key(|st| st.events.last().map_or(st.created, |e| e.timestamp));
                    }
                    if desc {
                        list.reverse();
                    }
                    let total = list.len();
                    let page: Vec<Value> = list
                        .into_iter()
                        .skip(skip)
                        .take(limit)
                        .map(|st| g.describe_stream(st))
                        .collect();
                    let mut out = json!({"logStreams": page});
                    if skip + limit < total {
                        out["nextToken"] = json!((skip + limit).to_string());
                    }
                    Ok(out)
                })
            }
            "PutLogEvents" => {
                let name = group_name(&input)?;
                let stream = s(&input, "logStreamName").unwrap_or_default().to_string();
                let events = parse_events(&input)?;
                let k = key(&ctx.account_id, &ctx.region, &name);
                let (rejected, commit) = {
                    let mut gs = self.groups.lock().expect("groups lock");
                    let g = gs.get_mut(&k).ok_or_else(group_missing)?;
                    let after = g.next_id;
                    let rejected = g.put_events(&stream, &events, now)?;
                    (rejected, self.journal_events(&k, g, &stream, after, false))
                };
                commit
                    .await
                    .map_err(|e| AwsError::internal(e.to_string()))?;
                let mut out = json!({"nextSequenceToken": format!("{:056}", now)});
                if let Some(r) = rejected {
                    out["rejectedLogEventsInfo"] = r;
                }
                Ok(out)
            }
            "GetLogEvents" => {
                let name = group_name(&input)?;
                let stream = s(&input, "logStreamName").unwrap_or_default().to_string();
                self.read_group(ctx, &name, |g| {
                    let st = g.streams.get(&stream).ok_or_else(stream_missing)?;
                    groups::get_events(g, st, &input, now)
                })
            }
            "FilterLogEvents" => {
                let name = group_name(&input)?;
                self.read_group(ctx, &name, |g| groups::filter_events(g, &input, now))
            }
            "PutRetentionPolicy" => {
                let name = group_name(&input)?;
                let days = input
                    .get("retentionInDays")
                    .and_then(Value::as_i64)
                    .unwrap_or(0);
                if !groups::RETENTION_DAYS.contains(&days) {
                    return Err(invalid(format!(
                        "1 validation error detected: Value '{days}' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
                        groups::RETENTION_DAYS
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    )));
                }
                self.with_group(ctx, &name, |g| {
                    g.retention = Some(days);
                    Ok(json!({}))
                })
                .await
            }
            "DeleteRetentionPolicy" => {
                let name = group_name(&input)?;
                self.with_group(ctx, &name, |g| {
                    g.retention = None;
                    Ok(json!({}))
                })
                .await
            }
            "TagLogGroup" | "TagResource" => {
                let name = if op == "TagResource" {
                    arn_group(&input)?
                } else {
                    group_name(&input)?
                };
                let tags: BTreeMap<String, String> = input
                    .get("tags")
                    .and_then(|t| serde_json::from_value(t.clone()).ok())
                    .unwrap_or_default();
                self.with_group(ctx, &name, |g| {
                    g.tags.extend(tags);
                    Ok(json!({}))
                })
                .await
            }
            "UntagLogGroup" | "UntagResource" => {
                let name = if op == "UntagResource" {
                    arn_group(&input)?
                } else {
                    group_name(&input)?
                };
                let keys: Vec<String> = input
                    .get("tags")
                    .or_else(|| input.get("tagKeys"))
                    .and_then(|t| serde_json::from_value(t.clone()).ok())
                    .unwrap_or_default();
                self.with_group(ctx, &name, |g| {
                    for k in &keys {
                        g.tags.remove(k);
                    }
                    Ok(json!({}))
                })
                .await
            }
            "ListTagsLogGroup" => {
                let name = group_name(&input)?;
                self.read_group(ctx, &name, |g| Ok(json!({"tags": g.tags})))
            }
            "ListTagsForResource" => {
                let name = arn_group(&input)?;
                self.read_group(ctx, &name, |g| Ok(json!({"tags": g.tags})))
            }
            _ => Err(AwsError::new(
                "UnknownOperationException",
                400,
                format!("Aloft does not implement the Logs operation {op} yet"),
            )),
        }
    }
}

fn arn_group(input: &Value) -> Result<String, AwsError> {
    let arn = s(input, "resourceArn").unwrap_or_default();
    arn.split_once(":log-group:")
        .map(|(_, n)| n.trim_end_matches(":*").to_string())
        .ok_or_else(|| invalid(format!("Invalid resource ARN: {arn}")))
}

fn parse_events(input: &Value) -> Result<Vec<(i64, String)>, AwsError> {
    let arr = input.get("logEvents").and_then(Value::as_array).ok_or_else(|| {
        invalid("1 validation error detected: Value null at 'logEvents' failed to satisfy constraint: Member must not be null")
    })?;
    if arr.is_empty() || arr.len() > 10_000 {
        return Err(invalid(format!(
            "1 validation error detected: Value '[]' at 'logEvents' failed to satisfy constraint: Member must have length {}",
            if arr.is_empty() {
                "greater than or equal to 1"
            } else {
                "less than or equal to 10000"
            }
        )));
    }
    Ok(arr
        .iter()
        .map(|e| {
            (
                e.get("timestamp").and_then(Value::as_i64).unwrap_or(0),
                e.get("message")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect())
}

#[async_trait]
impl Service for Logs {
    fn spec(&self) -> &'static ServiceSpec {
        &SPEC
    }

    async fn handle(&self, req: AwsRequest) -> Response {
        aloft_core::wire::serve(
            "logs",
            "InvalidParameterException",
            req,
            |ctx, op, input| async move { self.dispatch(&ctx, op, input).await },
        )
        .await
    }

    async fn reset(&self) {
        self.groups.lock().expect("groups lock").clear();
        let _ = self.ctx.store.clear(NS, b"").await;
        let _ = self.ctx.store.clear(NS_EVENTS, b"").await;
    }
}

/// Lambda (and others) write log events through this: options carry the PutLogEvents members
/// plus `CreateIfMissing` to create the group and stream as Lambda's service role does.
pub struct LogsTarget(Weak<Logs>);

#[async_trait]
impl Target for LogsTarget {
    async fn deliver(&self, arn: &str, d: Delivery) -> Result<Delivered, AwsError> {
        let svc = self
            .0
            .upgrade()
            .ok_or_else(|| AwsError::internal("logs stopped"))?;
        let a = aloft_core::arn::parse(arn)
            .ok_or_else(|| AwsError::validation(format!("Invalid ARN: {arn}")))?;
        let group = a
            .resource
            .strip_prefix("log-group:")
            .unwrap_or(a.resource)
            .trim_end_matches(":*")
            .to_string();
        let ctx = RequestContext {
            request_id: aloft_core::ids::request_id(),
            account_id: if a.account.is_empty() {
                d.account.clone()
            } else {
                a.account.to_string()
            },
            region: if a.region.is_empty() {
                d.region.clone()
            } else {
                a.region.to_string()
            },
            service: "logs",
            signature: None,
            host_prefix: None,
            host_label: None,
            base_url: String::new(),
        };
        let opts = Value::Object(d.options.clone());
        let stream = s(&opts, "logStreamName").unwrap_or_default().to_string();
        let events = parse_events(&opts)?;
        let now = aloft_core::clock::now_millis();
        let create = opts
            .get("CreateIfMissing")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let k = key(&ctx.account_id, &ctx.region, &group);
        let commit = {
            let mut gs = svc.groups.lock().expect("groups lock");
            if !gs.contains_key(&k) {
                if !create {
                    return Err(group_missing());
                }
                gs.insert(
                    k.clone(),
                    Group {
                        account: ctx.account_id.clone(),
                        region: ctx.region.clone(),
                        name: group.clone(),
                        created: now,
                        ..Default::default()
                    },
                );
            }
            let g = gs.get_mut(&k).ok_or_else(group_missing)?;
            let new_stream = !g.streams.contains_key(&stream);
            if new_stream {
                if !create {
                    return Err(stream_missing());
                }
                g.streams.insert(
                    stream.clone(),
                    Stream {
                        name: stream.clone(),
                        created: now,
                        ..Default::default()
                    },
                );
            }
            let after = g.next_id;
            g.put_events(&stream, &events, now)?;
            svc.journal_events(&k, g, &stream, after, new_stream)
        };
        commit
            .await
            .map_err(|e| AwsError::internal(e.to_string()))?;
        Ok(Delivered::default())
    }
}
