//! The standard `AWS/Kinesis` metrics (per stream) and the shard-level ones
//! EnableEnhancedMonitoring turns on (per stream and shard), through the shared batcher.

use std::sync::Arc;

use aloft_core::clock;

use crate::state::Stream;
use crate::{Kinesis, keys};

impl Kinesis {
    /// Shard-level metrics, for the ones EnableEnhancedMonitoring turned on.
    pub(crate) fn meter_shards(
        &self,
        acct: &str,
        region: &str,
        name: &str,
        per_shard: &[(String, Vec<aloft_events::Sample>)],
    ) {
        for (shard, samples) in per_shard {
            let dims: aloft_events::Dimensions = Arc::new([
                ("StreamName", Arc::from(name)),
                ("ShardId", Arc::from(shard.as_str())),
            ]);
            self.metrics.record(
                &Arc::from(acct),
                &Arc::from(region),
                "AWS/Kinesis",
                clock::now_secs(),
                &[&dims],
                samples,
            );
        }
    }

    pub(crate) fn meter(
        &self,
        acct: &str,
        region: &str,
        name: &str,
        samples: &[aloft_events::Sample],
    ) {
        let dims: aloft_events::Dimensions = Arc::new([("StreamName", Arc::from(name))]);
        self.metrics.record(
            &Arc::from(acct),
            &Arc::from(region),
            "AWS/Kinesis",
            clock::now_secs(),
            &[&dims],
            samples,
        );
    }
}

/// `{prefix}Records` and `{prefix}Bytes` per shard for `(shard index, records, bytes)` items, keeping
/// only the metrics enabled on the stream.
pub(crate) fn shard_samples(
    s: &Stream,
    items: impl std::iter::Iterator<Item = (u32, usize, usize)>,
    prefix: &str,
) -> Vec<(String, Vec<aloft_events::Sample>)> {
    let (records, bytes): (&'static str, &'static str) = if prefix == "Incoming" {
        ("IncomingRecords", "IncomingBytes")
    } else {
        ("OutgoingRecords", "OutgoingBytes")
    };
    let on = |m: &str| s.shard_metrics.iter().any(|x| x == m);
    if !on(records) && !on(bytes) {
        return Vec::new();
    }
    let mut by_shard: std::collections::BTreeMap<u32, (usize, usize)> = Default::default();
    for (i, count, size) in items {
        let e = by_shard.entry(i).or_default();
        e.0 += count;
        e.1 += size;
    }
    by_shard
        .into_iter()
        .map(|(i, (n, b))| {
            let mut samples = Vec::new();
            if on(records) {
                samples.push((records, "Count", n as f64));
            }
            if on(bytes) {
                samples.push((bytes, "Bytes", b as f64));
            }
            (keys::shard_id(i), samples)
        })
        .collect()
}
