//! Replays: archived events of a time window sent again to their bus, marked with
//! `replay-name`, to the rules named in FilterArns (or every rule of the bus).

use std::sync::Arc;

use aloft_core::{RequestContext, clock};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::archives::{NS_REPLAYS, paginate};
use crate::error::{Code, EbError, Result};
use crate::{EventBridge, Out, commit, parse};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Replay {
    pub name: String,
    pub arn: String,
    pub account: String,
    pub region: String,
    pub description: Option<String>,
    pub archive_arn: String,
    pub destination: Value,
    pub start_s: f64,
    pub end_s: f64,
    pub state: String,
    pub replay_start_s: f64,
    pub replay_end_s: Option<f64>,
    pub last_replayed_s: Option<f64>,
}

fn replay_arn(region: &str, account: &str, name: &str) -> String {
    aloft_core::arn::build("events", region, account, &format!("replay/{name}"))
}

fn not_found(name: &str) -> EbError {
    EbError::not_found(format!("Replay {name} does not exist."))
}

impl Replay {
    fn json(&self, full: bool) -> Value {
        let mut out = json!({
            "ReplayName": self.name,
            "EventSourceArn": self.archive_arn,
            "State": self.state,
            "EventStartTime": self.start_s,
            "EventEndTime": self.end_s,
            "ReplayStartTime": self.replay_start_s,
        });
        if let Some(t) = self.replay_end_s {
            out["ReplayEndTime"] = json!(t);
        }
        if let Some(t) = self.last_replayed_s {
            out["EventLastReplayedTime"] = json!(t);
        }
        if full {
            out["ReplayArn"] = json!(self.arn);
            out["Destination"] = self.destination.clone();
            if let Some(d) = &self.description {
                out["Description"] = json!(d);
            }
        }
        out
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct NameOnly {
    replay_name: String,
}

impl EventBridge {
    pub(crate) async fn start_replay(self: &Arc<Self>, ctx: &RequestContext, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Dest {
            arn: String,
            #[serde(default)]
            filter_arns: Vec<String>,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct I {
            replay_name: String,
            description: Option<String>,
            event_source_arn: String,
            event_start_time: f64,
            event_end_time: f64,
            destination: Dest,
        }
        let i: I = parse(input)?;
        let archive_name = aloft_core::arn::parse(&i.event_source_arn)
            .and_then(|a| a.resource.strip_prefix("archive/").map(str::to_string))
            .ok_or_else(|| {
                EbError::validation(format!(
                    "Parameter EventSourceArn is not valid. Reason: Provided Arn {} is not in correct format.",
                    i.event_source_arn
                ))
            })?;
        let archive = self.archive(ctx, &archive_name)?;
        if i.event_start_time >= i.event_end_time {
            return Err(EbError::validation(
                "Parameter EventEndTime is not valid. Reason: EventStartTime must be before EventEndTime.",
            ));
        }
        if i.event_end_time > clock::now_secs_f64() {
            return Err(EbError::validation(
                "Parameter EventEndTime is not valid. Reason: EventEndTime cannot be in the future.",
            ));
        }
        if i.destination.arn != archive.source_arn {
            return Err(EbError::validation(
                "Parameter Destination.Arn is not valid. Reason: Cross event bus replay is not permitted.",
            ));
        }
        let arn = replay_arn(&ctx.region, &ctx.account_id, &i.replay_name);
        let mut destination = json!({"Arn": i.destination.arn});
        if !i.destination.filter_arns.is_empty() {
            destination["FilterArns"] = json!(i.destination.filter_arns);
        }
        let r = Replay {
            name: i.replay_name.clone(),
            arn: arn.clone(),
            account: ctx.account_id.clone(),
            region: ctx.region.clone(),
            description: i.description,
            archive_arn: archive.arn.clone(),
            destination,
            start_s: i.event_start_time,
            end_s: i.event_end_time,
            state: "STARTING".into(),
            replay_start_s: clock::now_secs_f64(),
            replay_end_s: None,
            last_replayed_s: None,
        };
        let c = {
            let mut m = self.state.lock();
            if m.replays.contains_key(&arn) {
                return Err(EbError::new(
                    Code::ResourceAlreadyExistsException,
                    format!("Replay {} already exists.", i.replay_name),
                ));
            }
            m.replays.insert(arn.clone(), r.clone());
            self.state.put(NS_REPLAYS, &arn, &r)
        };
        commit(c).await?;
        let (start_ms, end_ms) = (
            (i.event_start_time * 1000.0) as i64,
            (i.event_end_time * 1000.0) as i64,
        );
        let mut events: Vec<_> = archive
            .events
            .into_iter()
            .filter(|e| e.time_ms >= start_ms && e.time_ms <= end_ms)
            .collect();
        events.sort_by_key(|e| (e.time_ms, e.seq));
        let me = self.clone();
        let rules = i.destination.filter_arns;
        let (account, region, bus, name) = (
            ctx.account_id.clone(),
            ctx.region.clone(),
            archive.bus_name,
            i.replay_name.clone(),
        );
        tokio::spawn(async move {
            me.set_replay(&arn, |r| {
                if r.state == "STARTING" {
                    r.state = "RUNNING".into();
                }
            })
            .await;
            let mut last = None;
            for e in events {
                if me.replay_state(&arn).as_deref() != Some("RUNNING") {
                    break;
                }
                let mut ev = e.event;
                ev["replay-name"] = json!(name);
                me.route_to(&account, &region, &bus, ev, Some(&rules));
                last = Some(e.time_ms as f64 / 1000.0);
            }
            me.set_replay(&arn, |r| {
                r.state = if r.state == "RUNNING" {
                    "COMPLETED"
                } else {
                    "CANCELLED"
                }
                .into();
                r.last_replayed_s = last.or(r.last_replayed_s);
                r.replay_end_s = Some(clock::now_secs_f64());
            })
            .await;
        });
        Ok(json!({"ReplayArn": r.arn, "State": r.state, "ReplayStartTime": r.replay_start_s}))
    }

    fn replay_state(&self, arn: &str) -> Option<String> {
        self.state.lock().replays.get(arn).map(|r| r.state.clone())
    }

    async fn set_replay(&self, arn: &str, f: impl FnOnce(&mut Replay)) {
        let c = {
            let mut m = self.state.lock();
            let Some(r) = m.replays.get_mut(arn) else {
                return;
            };
            f(r);
            self.state.put(NS_REPLAYS, arn, &*r)
        };
        if c.await.is_err() {
            tracing::warn!("events: could not journal replay {arn}");
        }
    }

    fn replay(&self, ctx: &RequestContext, name: &str) -> Result<Replay> {
        let arn = replay_arn(&ctx.region, &ctx.account_id, name);
        self.state
            .lock()
            .replays
            .get(&arn)
            .cloned()
            .ok_or_else(|| not_found(name))
    }

    pub(crate) async fn describe_replay(&self, ctx: &RequestContext, input: Value) -> Out {
        let i: NameOnly = parse(input)?;
        Ok(self.replay(ctx, &i.replay_name)?.json(true))
    }

    pub(crate) async fn list_replays(&self, ctx: &RequestContext, input: Value) -> Out {
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
                "At most one filter is allowed for ListReplays. Use either : State, EventSourceArn, or NamePrefix.",
            ));
        }
        let mut all: Vec<Replay> = self
            .state
            .lock()
            .replays
            .values()
            .filter(|r| r.account == ctx.account_id && r.region == ctx.region)
            .filter(|r| {
                i.name_prefix
                    .as_deref()
                    .is_none_or(|p| r.name.starts_with(p))
            })
            .filter(|r| {
                i.event_source_arn
                    .as_deref()
                    .is_none_or(|s| r.archive_arn == s)
            })
            .filter(|r| i.state.as_deref().is_none_or(|s| r.state == s))
            .cloned()
            .collect();
        all.sort_by(|a, b| a.name.cmp(&b.name));
        let names = all.iter().map(|r| r.name.clone()).collect();
        let (page, next) = paginate(names, i.next_token.as_deref(), i.limit)?;
        let list: Vec<Value> = all
            .iter()
            .filter(|r| page.contains(&r.name))
            .map(|r| r.json(false))
            .collect();
        let mut out = json!({"Replays": list});
        if let Some(t) = next {
            out["NextToken"] = json!(t);
        }
        Ok(out)
    }

    pub(crate) async fn cancel_replay(&self, ctx: &RequestContext, input: Value) -> Out {
        let i: NameOnly = parse(input)?;
        let arn = replay_arn(&ctx.region, &ctx.account_id, &i.replay_name);
        let c = {
            let mut m = self.state.lock();
            let r = m
                .replays
                .get_mut(&arn)
                .ok_or_else(|| not_found(&i.replay_name))?;
            if r.state != "STARTING" && r.state != "RUNNING" {
                return Err(EbError::new(
                    Code::IllegalStatusException,
                    format!(
                        "Replay {} is not in a valid state for this operation.",
                        i.replay_name
                    ),
                ));
            }
            r.state = "CANCELLING".into();
            self.state.put(NS_REPLAYS, &arn, &*r)
        };
        commit(c).await?;
        Ok(json!({"ReplayArn": arn, "State": "CANCELLING"}))
    }
}
