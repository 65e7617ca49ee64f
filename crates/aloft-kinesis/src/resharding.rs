//! Resharding: SplitShard, MergeShards (adjacent hash ranges only) and UpdateShardCount
//! (uniform scaling as AWS does it, by splits and merges). Parents close with an
//! EndingSequenceNumber; children name them as ParentShardId/AdjacentParentShardId.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{KinesisError, Result};
use crate::keys;
use crate::records::shard_not_found;
use crate::state::{Shard, Stream};
use crate::streams::SHARD_LIMIT;
use crate::{Kinesis, Out, parse};

fn open_index(s: &Stream, id: &str) -> Result<u32> {
    let sh = s.shard(id).ok_or_else(|| shard_not_found(s, id))?;
    if !sh.is_open() {
        // AWS's words for a closed shard (reported by users of real Kinesis).
        return Err(KinesisError::invalid(format!(
            "Shard {id} in stream {} under account {} has already been merged or split, and thus is not eligible for merging or splitting.",
            s.name, s.account
        )));
    }
    Ok(sh.index)
}

/// Splits an open shard at `new_start`: the children hold `[start, new_start)` and
/// `[new_start, end]`.
pub fn split(s: &mut Stream, shard_id: &str, new_start: &str, now: i64) -> Result<()> {
    let index = open_index(s, shard_id)?;
    let sh = s.shard(shard_id).expect("found above");
    let (start, end) = (sh.start_hash, sh.end_hash);
    let at = keys::parse_hash_key(new_start)
        .filter(|k| *k > start && *k <= end)
        .ok_or_else(|| {
            KinesisError::invalid(format!(
                "NewStartingHashKey {new_start} used in SplitShard() on shard {shard_id} in stream {} under account {} is not both greater than one plus the shard's StartingHashKey {start} and less than the shard's EndingHashKey {end}.",
                s.name, s.account
            ))
        })?;
    s.close_shard(index, now);
    s.add_shard((start, at - 1), (Some(index), None), now);
    s.add_shard((at, end), (Some(index), None), now);
    Ok(())
}

/// Merges two open shards whose hash ranges touch.
pub fn merge(s: &mut Stream, first: &str, second: &str, now: i64) -> Result<()> {
    let a = open_index(s, first)?;
    let b = open_index(s, second)?;
    let (sa, sb) = (
        s.shard(first).expect("found above"),
        s.shard(second).expect("found above"),
    );
    let adjacent = sa.end_hash.checked_add(1) == Some(sb.start_hash)
        || sb.end_hash.checked_add(1) == Some(sa.start_hash);
    if a == b || !adjacent {
        return Err(KinesisError::invalid(format!(
            "Shards {first} and {second} in stream {} under account {} are not an adjacent pair of shards eligible for merging",
            s.name, s.account
        )));
    }
    let range = (
        sa.start_hash.min(sb.start_hash),
        sa.end_hash.max(sb.end_hash),
    );
    s.close_shard(a, now);
    s.close_shard(b, now);
    s.add_shard(range, (Some(a), Some(b)), now);
    Ok(())
}

/// Brings the stream to `target` open shards of uniform width, as UNIFORM_SCALING does: first
/// splitting the open shards at every boundary of the uniform layout they straddle, then
/// merging, inside each uniform range, the pieces left to right into one. Lineage runs through
/// the intermediate shards, as on AWS.
pub fn scale(s: &mut Stream, target: usize, now: i64) -> Result<()> {
    let layout = keys::uniform_ranges(u32::try_from(target).unwrap_or(u32::MAX));
    for &(start, _) in layout.iter().skip(1) {
        let straddling = s
            .shards
            .iter()
            .find(|sh| sh.is_open() && sh.start_hash < start && start <= sh.end_hash)
            .map(Shard::id);
        if let Some(id) = straddling {
            split(s, &id, &start.to_string(), now)?;
        }
    }
    for &(lo, hi) in &layout {
        loop {
            let mut pieces: Vec<&Shard> = s
                .shards
                .iter()
                .filter(|sh| sh.is_open() && lo <= sh.start_hash && sh.end_hash <= hi)
                .collect();
            if pieces.len() < 2 {
                break;
            }
            pieces.sort_by_key(|sh| sh.start_hash);
            let (x, y) = (pieces[0].id(), pieces[1].id());
            merge(s, &x, &y, now)?;
        }
    }
    Ok(())
}

/// Resharding is for provisioned streams only: on-demand ones are scaled by Kinesis itself.
fn provisioned(s: &Stream, op: &str) -> Result<()> {
    if s.mode == "ON_DEMAND" {
        return Err(KinesisError::validation(format!(
            "{op} is not supported for stream {} under account {} because it is in ON_DEMAND capacity mode.",
            s.name, s.account
        )));
    }
    Ok(())
}

impl Kinesis {
    pub(crate) async fn split_shard(&self, a: &str, r: &str, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            shard_to_split: String,
            new_starting_hash_key: String,
        }
        let i: In = parse(input.clone())?;
        let open_total = self.open_shards_in(a, r);
        self.mutate(a, r, &input, |s, now| {
            provisioned(s, "SplitShard")?;
            if open_total + 1 > SHARD_LIMIT {
                return Err(shard_limit(s, open_total, 1));
            }
            split(s, &i.shard_to_split, &i.new_starting_hash_key, now)?;
            Ok(json!({}))
        })
        .await
    }

    pub(crate) async fn merge_shards(&self, a: &str, r: &str, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            shard_to_merge: String,
            adjacent_shard_to_merge: String,
        }
        let i: In = parse(input.clone())?;
        self.mutate(a, r, &input, |s, now| {
            provisioned(s, "MergeShards")?;
            merge(s, &i.shard_to_merge, &i.adjacent_shard_to_merge, now)?;
            Ok(json!({}))
        })
        .await
    }

    pub(crate) async fn update_shard_count(&self, a: &str, r: &str, input: Value) -> Out {
        let target = input
            .get("TargetShardCount")
            .and_then(Value::as_u64)
            .and_then(|t| usize::try_from(t).ok())
            .unwrap_or(1);
        let open_total = self.open_shards_in(a, r);
        self.mutate(a, r, &input, |s, now| {
            provisioned(s, "UpdateShardCount")?;
            let current = s.open_shards();
            if target > current * 2 {
                return Err(KinesisError::limit(format!(
                    "UpdateShardCount cannot scale up over double your current open shard count. Current open shard count: {current} Target shard count: {target}"
                )));
            }
            if target * 2 < current {
                return Err(KinesisError::limit(format!(
                    "UpdateShardCount cannot scale down below half your current open shard count. Current open shard count: {current} Target shard count: {target}"
                )));
            }
            if target > current && open_total + target - current > SHARD_LIMIT {
                return Err(shard_limit(s, open_total, target - current));
            }
            scale(s, target, now)?;
            Ok(json!({
                "StreamName": s.name, "StreamARN": s.arn,
                "CurrentShardCount": current, "TargetShardCount": target,
            }))
        })
        .await
    }
}

fn shard_limit(s: &Stream, current: usize, more: usize) -> KinesisError {
    KinesisError::limit(format!(
        "This request would exceed the shard limit for the account {} in {}. Current shard count for the account: {current}. Limit: {SHARD_LIMIT}. Number of additional shards that would have resulted from this request: {more}. Refer to the AWS Service Limits page (https://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) for current limits and how to request higher limits.",
        s.account, s.region
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(n: u32) -> Stream {
        Stream::for_test(n)
    }

    fn covers_key_space(s: &Stream) {
        let mut open: Vec<_> = s.shards.iter().filter(|x| x.is_open()).collect();
        open.sort_by_key(|x| x.start_hash);
        assert_eq!(open[0].start_hash, 0);
        assert_eq!(open.last().unwrap().end_hash, u128::MAX);
        for w in open.windows(2) {
            assert_eq!(w[0].end_hash + 1, w[1].start_hash);
        }
    }

    #[test]
    fn split_closes_the_parent_and_halves_its_range() {
        let mut s = stream(1);
        let half = (u128::MAX / 2 + 1).to_string();
        split(&mut s, "shardId-000000000000", &half, 1).unwrap();
        assert!(!s.shards[0].is_open());
        assert_eq!(s.shards[1].parent, Some(0));
        assert_eq!(s.shards[2].start_hash.to_string(), half);
        covers_key_space(&s);
        assert!(split(&mut s, "shardId-000000000000", &half, 1).is_err());
        assert!(split(&mut s, "shardId-000000000001", "0", 1).is_err());
    }

    #[test]
    fn merge_needs_adjacent_open_shards() {
        let mut s = stream(3);
        assert!(merge(&mut s, "shardId-000000000000", "shardId-000000000002", 1).is_err());
        merge(&mut s, "shardId-000000000001", "shardId-000000000000", 1).unwrap();
        let child = s.shards.last().unwrap();
        assert_eq!((child.parent, child.adjacent_parent), (Some(1), Some(0)));
        assert_eq!(child.start_hash, 0);
        covers_key_space(&s);
    }

    #[test]
    fn scale_reaches_the_target_and_covers_the_key_space() {
        let uniform = |s: &Stream, n: u32| {
            let mut open: Vec<(u128, u128)> = s
                .shards
                .iter()
                .filter(|x| x.is_open())
                .map(|x| (x.start_hash, x.end_hash))
                .collect();
            open.sort_unstable();
            assert_eq!(open, keys::uniform_ranges(n));
        };
        let mut s = stream(3);
        scale(&mut s, 6, 1).unwrap();
        uniform(&s, 6);
        scale(&mut s, 4, 2).unwrap();
        uniform(&s, 4);
        scale(&mut s, 3, 3).unwrap();
        uniform(&s, 3);
        scale(&mut s, 2, 4).unwrap();
        uniform(&s, 2);
        covers_key_space(&s);
        // Every closed shard's range is covered by its children.
        for sh in s.shards.iter().filter(|x| !x.is_open()) {
            let kids: Vec<_> = s
                .shards
                .iter()
                .filter(|c| c.parent == Some(sh.index) || c.adjacent_parent == Some(sh.index))
                .collect();
            assert!(!kids.is_empty());
            assert!(kids.iter().any(|c| c.start_hash <= sh.start_hash));
            assert!(kids.iter().any(|c| c.end_hash >= sh.end_hash));
        }
        let starts: Vec<u128> = s.shards.iter().map(|x| x.start_seq).collect();
        assert!(starts.windows(2).all(|w| w[0] < w[1]));
    }
}
