//! Archives: events of a bus matching an optional pattern, kept for RetentionDays of the one
//! clock (0 keeps them forever), journaled one record per event so a restart keeps them.

use aloft_core::{RequestContext, clock};
use aloft_store::{Batch, Commit, Store};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::{Code, EbError, Result};
use crate::rules::{bus_name, check_pattern};
use crate::state::Maps;
use crate::{EventBridge, Out, commit, parse};

pub const NS_ARCHIVES: &str = "events/archives";
pub const NS_ARCHIVED: &str = "events/archived";
pub const NS_REPLAYS: &str = "events/replays";
pub const NAMESPACES: [&str; 3] = [NS_ARCHIVES, NS_ARCHIVED, NS_REPLAYS];

const DAY_MS: i64 = 86_400_000;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Archive {
    pub name: String,
    pub arn: String,
    pub account: String,
    pub region: String,
    pub source_arn: String,
    pub bus_name: String,
    pub event_pattern: Option<String>,
    pub description: Option<String>,
    pub retention_days: i64,
    pub created_s: i64,
    #[serde(skip)]
    pub next_seq: u64,
    #[serde(skip)]
    pub events: Vec<Archived>,
}

/// One archived event: `time_ms` is the event's own time (what a replay window selects on),
/// `received_ms` when the archive got it (what retention counts from).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Archived {
    pub archive_arn: String,
    pub seq: u64,
    pub received_ms: i64,
    pub time_ms: i64,
    pub size: u64,
    pub event: Value,
}

pub fn archive_arn(region: &str, account: &str, name: &str) -> String {
    aloft_core::arn::build("events", region, account, &format!("archive/{name}"))
}

fn event_key(a: &Archived) -> String {
    match aloft_core::arn::parse(&a.archive_arn) {
        Some(p) => format!("{}/{}/{}/{:016}", p.account, p.region, p.resource, a.seq),
        None => format!("{}/{:016}", a.archive_arn, a.seq),
    }
}

fn events_prefix(arn: &str) -> String {
    match aloft_core::arn::parse(arn) {
        Some(p) => format!("{}/{}/{}/", p.account, p.region, p.resource),
        None => format!("{arn}/"),
    }
}

/// The epoch millis of an event's `time` (RFC 3339), if it has one.
pub fn event_time_ms(event: &Value) -> Option<i64> {
    let t = event.get("time")?.as_str()?;
    let dt = time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()?;
    Some((dt.unix_timestamp_nanos() / 1_000_000) as i64)
}

pub(crate) fn load(m: &mut Maps, store: &dyn Store) {
    for (_, v) in store.load(NS_ARCHIVES, b"").unwrap_or_default() {
        if let Ok(a) = serde_json::from_slice::<Archive>(&v) {
            m.archives.insert(a.arn.clone(), a);
        }
    }
    for (_, v) in store.load(NS_ARCHIVED, b"").unwrap_or_default() {
        if let Ok(e) = serde_json::from_slice::<Archived>(&v)
            && let Some(a) = m.archives.get_mut(&e.archive_arn)
        {
            a.next_seq = a.next_seq.max(e.seq + 1);
            a.events.push(e);
        }
    }
    for a in m.archives.values_mut() {
        a.events.sort_by_key(|e| e.seq);
    }
    for (_, v) in store.load(NS_REPLAYS, b"").unwrap_or_default() {
        if let Ok(r) = serde_json::from_slice::<crate::replays::Replay>(&v) {
            m.replays.insert(r.arn.clone(), r);
        }
    }
}

impl Archive {
    /// Drops events older than the retention period; the returned keys leave the journal.
    pub fn expire(&mut self, now_ms: i64) -> Vec<String> {
        if self.retention_days <= 0 {
            return Vec::new();
        }
        let cutoff = now_ms - self.retention_days * DAY_MS;
        let (old, keep): (Vec<_>, Vec<_>) =
            self.events.drain(..).partition(|e| e.received_ms < cutoff);
        self.events = keep;
        old.iter().map(event_key).collect()
    }

    fn json(&self) -> Value {
        let mut out = json!({
            "ArchiveName": self.name,
            "EventSourceArn": self.source_arn,
            "State": "ENABLED",
            "RetentionDays": self.retention_days,
            "SizeBytes": self.events.iter().map(|e| e.size).sum::<u64>(),
            "EventCount": self.events.len(),
            "CreationTime": self.created_s,
        });
        if let Some(d) = &self.description {
            out["Description"] = json!(d);
        }
        out
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct NameOnly {
    archive_name: String,
}

fn not_found(name: &str) -> EbError {
    EbError::not_found(format!("Archive {name} does not exist."))
}

impl EventBridge {
    /// Appends `event` to every archive of the bus whose pattern matches. Replayed events
    /// (carrying `replay-name`) never go back into an archive.
    pub(crate) fn archive_event(
        &self,
        account: &str,
        region: &str,
        bus: &str,
        event: &Value,
    ) -> Option<Commit> {
        if event.get("replay-name").is_some() {
            return None;
        }
        let now = clock::now_millis();
        let mut batch = Batch::new();
        let mut m = self.state.lock();
        for a in m.archives.values_mut() {
            if a.account != account || a.region != region || a.bus_name != bus {
                continue;
            }
            let matched = match a.event_pattern.as_deref() {
                None => true,
                Some(p) => serde_json::from_str::<Value>(p)
                    .is_ok_and(|p| aloft_eventpattern::matches(&p, event)),
            };
            if !matched {
                continue;
            }
            for k in a.expire(now) {
                batch.delete(NS_ARCHIVED, k);
            }
            let text = serde_json::to_vec(event).unwrap_or_default();
            let e = Archived {
                archive_arn: a.arn.clone(),
                seq: a.next_seq,
                received_ms: now,
                time_ms: event_time_ms(event).unwrap_or(now),
                size: text.len() as u64,
                event: event.clone(),
            };
            a.next_seq += 1;
            batch.put(
                NS_ARCHIVED,
                event_key(&e),
                serde_json::to_vec(&e).unwrap_or_default(),
            );
            a.events.push(e);
        }
        match self.state.store() {
            Some(s) if !batch.is_empty() => Some(s.submit(batch)),
            _ => None,
        }
    }

    /// The archive named in this account and region, with expired events dropped.
    pub(crate) fn archive(&self, ctx: &RequestContext, name: &str) -> Result<Archive> {
        let arn = archive_arn(&ctx.region, &ctx.account_id, name);
        let (a, c) = {
            let mut m = self.state.lock();
            let a = m.archives.get_mut(&arn).ok_or_else(|| not_found(name))?;
            let gone = a.expire(clock::now_millis());
            let c = self.state.store().filter(|_| !gone.is_empty()).map(|s| {
                let mut b = Batch::new();
                for k in gone {
                    b.delete(NS_ARCHIVED, k);
                }
                s.submit(b)
            });
            (a.clone(), c)
        };
        drop(c);
        Ok(a)
    }

    pub(crate) async fn create_archive(&self, ctx: &RequestContext, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct I {
            archive_name: String,
            event_source_arn: String,
            description: Option<String>,
            event_pattern: Option<String>,
            retention_days: Option<i64>,
        }
        let i: I = parse(input)?;
        if let Some(p) = &i.event_pattern {
            check_pattern(p)?;
        }
        let source = aloft_core::arn::parse(&i.event_source_arn)
            .filter(|a| a.service == "events" && a.resource.starts_with("event-bus/"))
            .ok_or_else(|| {
                EbError::validation(format!(
                    "Parameter {} is not valid. Reason: Provided Arn is not in correct format.",
                    i.event_source_arn
                ))
            })?;
        let bus = bus_name(Some(source.resource));
        if source.account != ctx.account_id || source.region != ctx.region {
            return Err(EbError::not_found(format!(
                "Event bus {bus} does not exist."
            )));
        }
        let b = self.bus(&ctx.account_id, &ctx.region, &bus)?;
        let arn = archive_arn(&ctx.region, &ctx.account_id, &i.archive_name);
        let now = clock::now_secs();
        let a = Archive {
            name: i.archive_name.clone(),
            arn: arn.clone(),
            account: ctx.account_id.clone(),
            region: ctx.region.clone(),
            source_arn: b.arn,
            bus_name: bus,
            event_pattern: i.event_pattern,
            description: i.description,
            retention_days: i.retention_days.unwrap_or(0),
            created_s: now,
            next_seq: 0,
            events: Vec::new(),
        };
        let c = {
            let mut m = self.state.lock();
            if m.archives.contains_key(&arn) {
                return Err(EbError::new(
                    Code::ResourceAlreadyExistsException,
                    format!("Archive {} already exists.", i.archive_name),
                ));
            }
            m.archives.insert(arn.clone(), a.clone());
            self.state.put(NS_ARCHIVES, &arn, &a)
        };
        commit(c).await?;
        Ok(json!({"ArchiveArn": arn, "State": "ENABLED", "CreationTime": now}))
    }

    pub(crate) async fn describe_archive(&self, ctx: &RequestContext, input: Value) -> Out {
        let i: NameOnly = parse(input)?;
        let a = self.archive(ctx, &i.archive_name)?;
        let mut out = a.json();
        out["ArchiveArn"] = json!(a.arn);
        if let Some(p) = &a.event_pattern {
            out["EventPattern"] = json!(p);
        }
        Ok(out)
    }

    pub(crate) async fn list_archives(&self, ctx: &RequestContext, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct I {
            name_prefix: Option<String>,
            event_source_arn: Option<String>,
            state: Option<String>,
            next_token: Option<String>,
            limit: Option<usize>,
        }
        let i: I = parse(input)?;
        let filters = [
            i.name_prefix.is_some(),
            i.event_source_arn.is_some(),
            i.state.is_some(),
        ];
        if filters.iter().filter(|f| **f).count() > 1 {
            return Err(EbError::validation(
                "At most one filter is allowed for ListArchives. Use either : State, EventSourceArn, or NamePrefix.",
            ));
        }
        if let Some(src) = &i.event_source_arn {
            let bus = bus_name(Some(src));
            self.bus(&ctx.account_id, &ctx.region, &bus)?;
        }
        let names: Vec<String> = {
            let m = self.state.lock();
            let mut v: Vec<String> = m
                .archives
                .values()
                .filter(|a| a.account == ctx.account_id && a.region == ctx.region)
                .filter(|a| {
                    i.name_prefix
                        .as_deref()
                        .is_none_or(|p| a.name.starts_with(p))
                })
                .filter(|a| {
                    i.event_source_arn
                        .as_deref()
                        .is_none_or(|s| a.source_arn == s)
                })
                .filter(|_| i.state.as_deref().is_none_or(|s| s == "ENABLED"))
                .map(|a| a.name.clone())
                .collect();
            v.sort();
            v
        };
        let (page, next) = paginate(names, i.next_token.as_deref(), i.limit)?;
        let mut list = Vec::new();
        for n in page {
            if let Ok(a) = self.archive(ctx, &n) {
                list.push(a.json());
            }
        }
        let mut out = json!({"Archives": list});
        if let Some(t) = next {
            out["NextToken"] = json!(t);
        }
        Ok(out)
    }

    pub(crate) async fn update_archive(&self, ctx: &RequestContext, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct I {
            archive_name: String,
            description: Option<String>,
            event_pattern: Option<String>,
            retention_days: Option<i64>,
        }
        let i: I = parse(input)?;
        if let Some(p) = &i.event_pattern {
            check_pattern(p)?;
        }
        let arn = archive_arn(&ctx.region, &ctx.account_id, &i.archive_name);
        let (created, c) = {
            let mut m = self.state.lock();
            let a = m
                .archives
                .get_mut(&arn)
                .ok_or_else(|| not_found(&i.archive_name))?;
            if let Some(d) = i.description {
                a.description = Some(d);
            }
            if let Some(p) = i.event_pattern {
                a.event_pattern = Some(p);
            }
            if let Some(r) = i.retention_days {
                a.retention_days = r;
            }
            (a.created_s, self.state.put(NS_ARCHIVES, &arn, &*a))
        };
        commit(c).await?;
        Ok(json!({"ArchiveArn": arn, "State": "ENABLED", "CreationTime": created}))
    }

    pub(crate) async fn delete_archive(&self, ctx: &RequestContext, input: Value) -> Out {
        let i: NameOnly = parse(input)?;
        let arn = archive_arn(&ctx.region, &ctx.account_id, &i.archive_name);
        let cs = {
            let mut m = self.state.lock();
            if m.archives.remove(&arn).is_none() {
                return Err(not_found(&i.archive_name));
            }
            let a = self.state.delete(NS_ARCHIVES, &arn);
            let b = self
                .state
                .store()
                .map(|s| s.clear(NS_ARCHIVED, events_prefix(&arn).as_bytes()));
            (a, b)
        };
        commit(cs.0).await?;
        if let Some(b) = cs.1 {
            commit(b).await?;
        }
        Ok(json!({}))
    }
}

/// Index-based paging over a sorted name list (NextToken is the next index).
pub(crate) fn paginate(
    names: Vec<String>,
    token: Option<&str>,
    limit: Option<usize>,
) -> Result<(Vec<String>, Option<String>)> {
    let start = match token {
        None => 0,
        Some(t) => t
            .parse::<usize>()
            .map_err(|_| EbError::validation("The NextToken provided is invalid."))?,
    };
    let limit = limit.unwrap_or(100).clamp(1, 100);
    let end = (start + limit).min(names.len());
    let next = (end < names.len()).then(|| end.to_string());
    Ok((
        names
            .get(start.min(names.len())..end)
            .unwrap_or_default()
            .to_vec(),
        next,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn archive(days: i64) -> Archive {
        Archive {
            name: "a".into(),
            arn: archive_arn("us-east-1", "000000000000", "a"),
            account: "000000000000".into(),
            region: "us-east-1".into(),
            source_arn: String::new(),
            bus_name: "default".into(),
            event_pattern: None,
            description: None,
            retention_days: days,
            created_s: 0,
            next_seq: 0,
            events: Vec::new(),
        }
    }

    fn ev(a: &Archive, seq: u64, received_ms: i64) -> Archived {
        Archived {
            archive_arn: a.arn.clone(),
            seq,
            received_ms,
            time_ms: received_ms,
            size: 2,
            event: json!({}),
        }
    }

    #[test]
    fn retention_drops_only_old_events() {
        let mut a = archive(1);
        a.events = vec![ev(&a, 0, 0), ev(&a, 1, DAY_MS)];
        let gone = a.expire(DAY_MS + 1);
        assert_eq!(
            gone,
            vec!["000000000000/us-east-1/archive/a/0000000000000000"]
        );
        assert_eq!(a.events.len(), 1);
        let mut forever = archive(0);
        forever.events = vec![ev(&forever, 0, 0)];
        assert!(forever.expire(DAY_MS * 1000).is_empty());
    }

    #[test]
    fn event_time_parses_rfc3339() {
        assert_eq!(
            event_time_ms(&json!({"time": "1970-01-02T00:00:00Z"})),
            Some(DAY_MS)
        );
        assert_eq!(event_time_ms(&json!({})), None);
    }

    #[test]
    fn pages_by_index() {
        let names: Vec<String> = (0..3).map(|i| i.to_string()).collect();
        let (p, n) = paginate(names.clone(), None, Some(2)).unwrap();
        assert_eq!((p.len(), n.as_deref()), (2, Some("2")));
        let (p, n) = paginate(names, Some("2"), Some(2)).unwrap();
        assert_eq!((p, n), (vec!["2".to_string()], None));
    }
}
