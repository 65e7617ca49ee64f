//! Throttling (token buckets: rate per second, burst) and usage-plan quotas, on the one clock.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::model::QuotaSettings;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last_ms: i64,
}

#[derive(Default)]
pub struct Limiter {
    buckets: Mutex<HashMap<String, Bucket>>,
    /// `plan/key` → (period start, used).
    quotas: Mutex<HashMap<String, (i64, i64)>>,
}

/// Why a request was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    Throttled,
    QuotaExceeded,
}

const DAY_MS: i64 = 86_400_000;

/// The start of the quota period containing `now` (UTC days; weeks from Monday... as AWS counts
/// them from the epoch's week; months by calendar).
fn period_start(period: &str, now_ms: i64) -> i64 {
    let day = now_ms.div_euclid(DAY_MS);
    match period {
        "WEEK" => {
            // 1970-01-01 was a Thursday; AWS weeks start on Monday (UTC).
            let weekday = (day + 3).rem_euclid(7);
            (day - weekday) * DAY_MS
        }
        "MONTH" => {
            let dt = time::OffsetDateTime::from_unix_timestamp(now_ms.div_euclid(1000))
                .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
            let first = dt.date().replace_day(1).unwrap_or(dt.date());
            first.midnight().assume_utc().unix_timestamp() * 1000
        }
        _ => day * DAY_MS,
    }
}

impl Limiter {
    pub fn reset(&self) {
        self.buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
        self.quotas
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }

    /// Forgets the counters of a plan whose limits changed.
    pub fn forget_plan(&self, plan: &str) {
        let prefix = format!("{plan}/");
        self.buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .retain(|k, _| !k.starts_with(&prefix));
        self.quotas
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .retain(|k, _| !k.starts_with(&prefix));
    }

    /// Takes a token from the bucket `key` (rate per second, burst capacity).
    pub fn take(&self, key: &str, rate: f64, burst: f64, now_ms: i64) -> Result<(), Refusal> {
        // A burst of 0 would refuse everything; AWS treats the bucket as at least 1 deep.
        let capacity = burst.max(1.0);
        let mut b = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let bucket = b.entry(key.to_string()).or_insert(Bucket {
            tokens: capacity,
            last_ms: now_ms,
        });
        #[allow(clippy::cast_precision_loss)]
        let elapsed = (now_ms - bucket.last_ms).max(0) as f64 / 1000.0;
        bucket.tokens = (bucket.tokens + elapsed * rate).min(capacity);
        bucket.last_ms = now_ms;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Refusal::Throttled)
        }
    }

    /// Counts one request against a quota.
    pub fn count(&self, key: &str, quota: &QuotaSettings, now_ms: i64) -> Result<(), Refusal> {
        let start = period_start(&quota.period, now_ms);
        let mut q = self
            .quotas
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let e = q.entry(key.to_string()).or_insert((start, 0));
        if e.0 != start {
            *e = (start, 0);
        }
        if e.1 >= quota.limit {
            return Err(Refusal::QuotaExceeded);
        }
        e.1 += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_refills_at_the_rate() {
        let l = Limiter::default();
        assert!(l.take("k", 1.0, 2.0, 0).is_ok());
        assert!(l.take("k", 1.0, 2.0, 0).is_ok());
        assert_eq!(l.take("k", 1.0, 2.0, 0), Err(Refusal::Throttled));
        assert!(l.take("k", 1.0, 2.0, 1000).is_ok());
        assert_eq!(l.take("k", 1.0, 2.0, 1500), Err(Refusal::Throttled));
    }

    #[test]
    fn quota_resets_each_period() {
        let l = Limiter::default();
        let q = QuotaSettings {
            limit: 2,
            offset: 0,
            period: "DAY".into(),
        };
        assert!(l.count("p/k", &q, 1000).is_ok());
        assert!(l.count("p/k", &q, 2000).is_ok());
        assert_eq!(l.count("p/k", &q, 3000), Err(Refusal::QuotaExceeded));
        assert!(l.count("p/k", &q, DAY_MS + 1).is_ok());
        // 2026-11-21 is a Saturday; its week began on Monday 2026-11-16.
        let sat = time::macros::datetime!(2026-11-21 10:00 UTC).unix_timestamp() * 1000;
        let mon = time::macros::datetime!(2026-11-16 0:00 UTC).unix_timestamp() * 1000;
        assert_eq!(period_start("WEEK", sat), mon);
        let first = time::macros::datetime!(2026-11-01 0:00 UTC).unix_timestamp() * 1000;
        assert_eq!(period_start("MONTH", sat), first);
    }
}
