//! ListShards: pages by token or ExclusiveStartShardId, and the shard filters the KCL uses to
//! find where to start (AT_TRIM_HORIZON, AT_LATEST, AT_TIMESTAMP, ...).

use aloft_core::clock;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{Code, KinesisError, Result};
use crate::keys;
use crate::state::Shard;
use crate::streams::{shard_json, stream_arn};
use crate::{Kinesis, Out, parse};

impl Kinesis {
    pub(crate) fn list_shards(&self, a: &str, r: &str, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Filter {
            #[serde(rename = "Type")]
            kind: String,
            shard_id: Option<String>,
            timestamp: Option<f64>,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            next_token: Option<String>,
            exclusive_start_shard_id: Option<String>,
            max_results: Option<usize>,
            shard_filter: Option<Filter>,
        }
        let i: In = parse(input.clone())?;
        let limit = i.max_results.unwrap_or(1000);
        let (target, after) = match &i.next_token {
            Some(t) => {
                // AWS's words, one conflicting member at a time.
                for other in [
                    "StreamName",
                    "StreamARN",
                    "ExclusiveStartShardId",
                    "ShardFilter",
                    "StreamCreationTimestamp",
                ] {
                    if input.get(other).is_some_and(|v| !v.is_null()) {
                        return Err(KinesisError::invalid(format!(
                            "NextToken and {other} cannot be provided together."
                        )));
                    }
                }
                let (parts, issued) = keys::decode_token(t)
                    .ok_or_else(|| KinesisError::invalid("Invalid NextToken."))?;
                if clock::now_millis() - issued > 300_000 {
                    return Err(KinesisError::new(
                        Code::ExpiredNextTokenException,
                        "The NextToken has expired. Tokens are valid for 300 seconds.",
                    ));
                }
                let [acct, region, name, after] = &parts[..] else {
                    return Err(KinesisError::invalid("Invalid NextToken."));
                };
                (
                    json!({"StreamARN": stream_arn(acct, region, name)}),
                    after.parse::<i64>().unwrap_or(-1),
                )
            }
            None => {
                let after = i
                    .exclusive_start_shard_id
                    .as_deref()
                    .and_then(keys::shard_index)
                    .map_or(-1, i64::from);
                (input.clone(), after)
            }
        };
        let now = clock::now_millis();
        self.read(a, r, &target, |s| {
            let horizon = now - s.retention_ms();
            let filter = i.shard_filter.as_ref();
            let mut after = after;
            if let Some(f) = filter
                && f.kind == "AFTER_SHARD_ID"
            {
                let id = f.shard_id.as_deref().ok_or_else(|| {
                    KinesisError::invalid("ShardId is required for the AFTER_SHARD_ID ShardFilter.")
                })?;
                after = after.max(keys::shard_index(id).map_or(-1, i64::from));
            }
            let keep = |sh: &Shard| -> Result<bool> {
                let Some(f) = filter else { return Ok(true) };
                let ts = || {
                    f.timestamp.map(|t| (t * 1000.0) as i64).ok_or_else(|| {
                        KinesisError::invalid(format!(
                            "Timestamp is required for the {} ShardFilter.",
                            f.kind
                        ))
                    })
                };
                let open_at = |t: i64| sh.created_ms <= t && sh.closed_ms.is_none_or(|c| c > t);
                Ok(match f.kind.as_str() {
                    "AT_LATEST" => sh.is_open(),
                    "AT_TRIM_HORIZON" => {
                        open_at(horizon) || (sh.created_ms > horizon && sh.parent.is_none())
                    }
                    "FROM_TRIM_HORIZON" => sh.closed_ms.is_none_or(|c| c > horizon),
                    "AT_TIMESTAMP" => {
                        let t = ts()?;
                        open_at(t) || (sh.created_ms > t && sh.parent.is_none())
                    }
                    "FROM_TIMESTAMP" => {
                        let t = ts()?;
                        sh.closed_ms.is_none_or(|c| c > t)
                    }
                    _ => true,
                })
            };
            let mut rest = Vec::new();
            for sh in s.shards.iter().filter(|sh| i64::from(sh.index) > after) {
                if keep(sh)? {
                    rest.push(sh);
                }
            }
            let mut out = json!({
                "Shards": rest.iter().take(limit).map(|sh| shard_json(sh)).collect::<Vec<_>>(),
            });
            if rest.len() > limit {
                let last = rest[limit - 1].index.to_string();
                out["NextToken"] = json!(keys::encode_token(
                    &[&s.account, &s.region, &s.name, &last],
                    now
                ));
            }
            Ok(out)
        })
    }
}
