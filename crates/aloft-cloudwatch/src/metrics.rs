//! Metric data: PutMetricData, GetMetricStatistics, ListMetrics, and the statistics
//! (SampleCount, Sum, Average, Minimum, Maximum, pNN) over period buckets that
//! GetMetricData and alarms share. Points older than 15 days are dropped.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use aloft_core::clock;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::{Code, CwError, Result};
use crate::{CloudWatch, Out, parse};

const RETENTION_MS: i64 = 15 * 86_400_000;

/// Journal table of data points: `account/region/timestamp/sequence` → (metric, point).
pub const NS: &str = "cloudwatch/metrics";

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct MetricId {
    pub account: String,
    pub region: String,
    pub namespace: String,
    pub name: String,
    /// Sorted by name: a metric is the same whatever order its dimensions came in.
    pub dims: Vec<(String, String)>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Point {
    pub ts_ms: i64,
    pub sum: f64,
    pub count: f64,
    pub min: f64,
    pub max: f64,
    pub unit: Option<String>,
    /// Raw values (for percentiles); empty for statistic sets.
    pub values: Vec<f64>,
}

/// A period's aggregate.
#[derive(Debug, Clone, Default)]
pub struct Agg {
    pub sum: f64,
    pub count: f64,
    pub min: f64,
    pub max: f64,
    pub values: Vec<f64>,
    pub unit: Option<String>,
}

impl Agg {
    fn add(&mut self, p: &Point) {
        if self.count == 0.0 {
            self.min = p.min;
            self.max = p.max;
        } else {
            self.min = self.min.min(p.min);
            self.max = self.max.max(p.max);
        }
        self.sum += p.sum;
        self.count += p.count;
        self.values.extend(&p.values);
        if self.unit.is_none() {
            self.unit.clone_from(&p.unit);
        }
    }

    /// A statistic by name: `Sum`, `Average`, `SampleCount`, `Minimum`, `Maximum`, `pNN`.
    pub fn stat(&self, name: &str) -> Option<f64> {
        if self.count == 0.0 {
            return None;
        }
        match name {
            "Sum" => Some(self.sum),
            "Average" | "Avg" => Some(self.sum / self.count),
            "SampleCount" => Some(self.count),
            "Minimum" | "Min" => Some(self.min),
            "Maximum" | "Max" => Some(self.max),
            p if p.starts_with('p') => {
                let q: f64 = p[1..].parse().ok()?;
                let mut v = self.values.clone();
                if v.is_empty() {
                    return None;
                }
                v.sort_by(f64::total_cmp);
                #[allow(
                    clippy::cast_possible_truncation,
                    clippy::cast_sign_loss,
                    clippy::cast_precision_loss
                )]
                let idx = ((q / 100.0) * (v.len() as f64)).ceil().max(1.0) as usize - 1;
                v.get(idx.min(v.len() - 1)).copied()
            }
            _ => None,
        }
    }
}

pub fn valid_stat(s: &str) -> bool {
    matches!(s, "Sum" | "Average" | "SampleCount" | "Minimum" | "Maximum")
        || s.strip_prefix('p')
            .and_then(|q| q.parse::<f64>().ok())
            .is_some_and(|q| (0.0..=100.0).contains(&q))
}

#[derive(Default)]
pub struct Store {
    series: Mutex<BTreeMap<MetricId, Vec<Point>>>,
}

impl Store {
    pub fn lock(&self) -> MutexGuard<'_, BTreeMap<MetricId, Vec<Point>>> {
        self.series
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Buckets of `period_s` between `start_ms` and `end_ms`, keyed by bucket start.
    pub fn buckets(
        &self,
        id: &MetricId,
        start_ms: i64,
        end_ms: i64,
        period_s: i64,
        unit: Option<&str>,
    ) -> BTreeMap<i64, Agg> {
        let p = period_s.max(1) * 1000;
        let mut out: BTreeMap<i64, Agg> = BTreeMap::new();
        if let Some(points) = self.lock().get(id) {
            for pt in points {
                if pt.ts_ms < start_ms || pt.ts_ms >= end_ms {
                    continue;
                }
                if unit.is_some() && pt.unit.as_deref() != unit {
                    continue;
                }
                let b = start_ms + (pt.ts_ms - start_ms).div_euclid(p) * p;
                out.entry(b).or_default().add(pt);
            }
        }
        out
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Dimension {
    pub name: String,
    pub value: Option<String>,
}

pub fn metric_id(
    account: &str,
    region: &str,
    namespace: &str,
    name: &str,
    dims: &[Dimension],
) -> MetricId {
    let mut d: Vec<(String, String)> = dims
        .iter()
        .map(|x| (x.name.clone(), x.value.clone().unwrap_or_default()))
        .collect();
    d.sort();
    d.dedup_by(|a, b| a.0 == b.0);
    MetricId {
        account: account.into(),
        region: region.into(),
        namespace: namespace.into(),
        name: name.into(),
        dims: d,
    }
}

pub fn dims_json(id: &MetricId) -> Value {
    Value::Array(
        id.dims
            .iter()
            .map(|(n, v)| json!({"Name": n, "Value": v}))
            .collect(),
    )
}

#[allow(clippy::cast_possible_truncation)]
pub fn to_ms(s: f64) -> i64 {
    (s * 1000.0).round() as i64
}

#[allow(clippy::cast_precision_loss)]
pub fn to_s(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StatisticSet {
    sample_count: f64,
    sum: f64,
    minimum: f64,
    maximum: f64,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Datum {
    metric_name: String,
    #[serde(default)]
    dimensions: Vec<Dimension>,
    timestamp: Option<f64>,
    value: Option<f64>,
    statistic_values: Option<StatisticSet>,
    values: Option<Vec<f64>>,
    counts: Option<Vec<f64>>,
    unit: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PutIn {
    namespace: String,
    #[serde(default)]
    metric_data: Vec<Datum>,
}

impl CloudWatch {
    /// Records data points; returns the journal commit to await (durable mode only).
    pub(crate) fn put_metric_data(
        &self,
        account: &str,
        region: &str,
        input: Value,
        internal: bool,
    ) -> Result<Option<aloft_store::Commit>> {
        let i: PutIn = parse(input)?;
        if !internal && i.namespace.starts_with("AWS/") {
            return Err(CwError::invalid(
                "The value AWS/ for parameter Namespace is invalid.",
            ));
        }
        if i.metric_data.is_empty() {
            return Err(CwError::new(
                Code::MissingRequiredParameterException,
                "The parameter MetricData is required.",
            ));
        }
        let now = clock::now_millis();
        let mut batch = Vec::with_capacity(i.metric_data.len());
        for (n, d) in i.metric_data.into_iter().enumerate() {
            let n = n + 1;
            let ts = d.timestamp.map_or(now, to_ms);
            if ts < now - RETENTION_MS || ts > now + 2 * 3_600_000 {
                return Err(CwError::invalid(format!(
                    "The parameter MetricData.member.{n}.Timestamp must specify a time no more than two weeks in the past or two hours in the future."
                )));
            }
            let kinds = usize::from(d.value.is_some())
                + usize::from(d.statistic_values.is_some())
                + usize::from(d.values.is_some());
            if kinds > 1 {
                return Err(CwError::new(
                    Code::InvalidParameterCombinationException,
                    format!(
                        "The parameters MetricData.member.{n}.Value and MetricData.member.{n}.StatisticValues are mutually exclusive and you have specified both."
                    ),
                ));
            }
            let mut p = Point {
                ts_ms: ts,
                unit: d.unit.clone(),
                ..Point::default()
            };
            if let Some(v) = d.value {
                (p.sum, p.count, p.min, p.max, p.values) = (v, 1.0, v, v, vec![v]);
            } else if let Some(s) = d.statistic_values {
                (p.sum, p.count, p.min, p.max) = (s.sum, s.sample_count, s.minimum, s.maximum);
            } else if let Some(vals) = d.values {
                let counts = d.counts.unwrap_or_else(|| vec![1.0; vals.len()]);
                if counts.len() != vals.len() {
                    return Err(CwError::invalid(format!(
                        "The parameters MetricData.member.{n}.Values and MetricData.member.{n}.Counts must be of the same size."
                    )));
                }
                p.min = f64::INFINITY;
                p.max = f64::NEG_INFINITY;
                for (v, c) in vals.iter().zip(&counts) {
                    p.sum += v * c;
                    p.count += c;
                    p.min = p.min.min(*v);
                    p.max = p.max.max(*v);
                    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                    p.values
                        .extend(std::iter::repeat_n(*v, (*c as usize).min(1000)));
                }
            } else {
                return Err(CwError::new(
                    Code::MissingRequiredParameterException,
                    format!("The parameter MetricData.member.{n}.Value is required."),
                ));
            }
            let id = metric_id(account, region, &i.namespace, &d.metric_name, &d.dimensions);
            batch.push((id, p));
        }
        let mut journal = aloft_store::Batch::new();
        let durable = self.store.is_durable();
        let mut m = self.metrics.lock();
        for (id, p) in batch {
            if durable {
                let seq = self.seq.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let key = format!("{}/{}/{:016}/{seq:012}", id.account, id.region, p.ts_ms);
                journal.put(NS, key, serde_json::to_vec(&(&id, &p)).unwrap_or_default());
            }
            let s = m.entry(id).or_default();
            s.push(p);
            if s.first().is_some_and(|f| f.ts_ms < now - RETENTION_MS) {
                s.retain(|x| x.ts_ms >= now - RETENTION_MS);
            }
        }
        Ok(if durable {
            Some(self.store.submit(journal))
        } else {
            None
        })
    }

    /// Reloads journaled data points, forgetting those past retention.
    pub(crate) fn load_metrics(&self) {
        let now = clock::now_millis();
        let mut stale = aloft_store::Batch::new();
        let mut any_stale = false;
        let mut m = self.metrics.lock();
        for (k, v) in self.store.load(NS, b"").unwrap_or_default() {
            match serde_json::from_slice::<(MetricId, Point)>(&v) {
                Ok((id, p)) if p.ts_ms >= now - RETENTION_MS => m.entry(id).or_default().push(p),
                _ => {
                    stale.delete(NS, k);
                    any_stale = true;
                }
            }
        }
        for s in m.values_mut() {
            s.sort_by_key(|p| p.ts_ms);
        }
        if any_stale {
            drop(self.store.submit(stale));
        }
    }

    pub(crate) fn get_metric_statistics(&self, account: &str, region: &str, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            namespace: String,
            metric_name: String,
            #[serde(default)]
            dimensions: Vec<Dimension>,
            start_time: f64,
            end_time: f64,
            period: i64,
            #[serde(default)]
            statistics: Vec<String>,
            #[serde(default)]
            extended_statistics: Vec<String>,
            unit: Option<String>,
        }
        let i: In = parse(input)?;
        if i.statistics.is_empty() && i.extended_statistics.is_empty() {
            return Err(CwError::new(
                Code::MissingRequiredParameterException,
                "Must specify either Statistics or ExtendedStatistics.",
            ));
        }
        check_period(i.period)?;
        let (start, end) = (to_ms(i.start_time), to_ms(i.end_time));
        if start >= end {
            return Err(CwError::invalid(
                "The parameter StartTime must be less than the parameter EndTime.",
            ));
        }
        let n = (end - start) / (i.period * 1000);
        if n > 1440 {
            return Err(CwError::new(
                Code::InvalidParameterCombinationException,
                format!(
                    "You have requested up to {n} datapoints, which exceeds the limit of 1,440. You may reduce the datapoints requested by increasing Period, or decreasing the time range."
                ),
            ));
        }
        let id = metric_id(account, region, &i.namespace, &i.metric_name, &i.dimensions);
        let buckets = self
            .metrics
            .buckets(&id, start, end, i.period, i.unit.as_deref());
        let points: Vec<Value> = buckets
            .iter()
            .map(|(ts, agg)| {
                let mut d = json!({"Timestamp": to_s(*ts), "Unit": agg.unit.clone().unwrap_or_else(|| "None".into())});
                for s in &i.statistics {
                    if let Some(v) = agg.stat(s) {
                        d[s.as_str()] = json!(v);
                    }
                }
                if !i.extended_statistics.is_empty() {
                    let ext: serde_json::Map<String, Value> = i
                        .extended_statistics
                        .iter()
                        .filter_map(|s| agg.stat(s).map(|v| (s.clone(), json!(v))))
                        .collect();
                    d["ExtendedStatistics"] = Value::Object(ext);
                }
                d
            })
            .collect();
        Ok(json!({"Label": i.metric_name, "Datapoints": points}))
    }

    pub(crate) fn list_metrics(&self, account: &str, region: &str, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            namespace: Option<String>,
            metric_name: Option<String>,
            #[serde(default)]
            dimensions: Vec<Dimension>,
            next_token: Option<String>,
            recently_active: Option<String>,
        }
        let i: In = parse(input)?;
        let since = if i.recently_active.is_some() {
            clock::now_millis() - 3 * 3_600_000
        } else {
            i64::MIN
        };
        let m = self.metrics.lock();
        let list: Vec<Value> = m
            .iter()
            .filter(|(id, _)| id.account == account && id.region == region)
            .filter(|(id, _)| i.namespace.as_ref().is_none_or(|n| &id.namespace == n))
            .filter(|(id, _)| i.metric_name.as_ref().is_none_or(|n| &id.name == n))
            .filter(|(id, _)| {
                i.dimensions.iter().all(|d| {
                    id.dims
                        .iter()
                        .any(|(n, v)| n == &d.name && d.value.as_ref().is_none_or(|x| x == v))
                })
            })
            .filter(|(_, pts)| pts.iter().any(|p| p.ts_ms >= since))
            .map(|(id, _)| json!({"Namespace": id.namespace, "MetricName": id.name, "Dimensions": dims_json(id)}))
            .collect();
        let start = match &i.next_token {
            None => 0,
            Some(t) => t
                .parse::<usize>()
                .ok()
                .filter(|n| *n <= list.len())
                .ok_or_else(|| {
                    CwError::new(
                        Code::InvalidNextToken,
                        "The service couldn't process the NextToken.",
                    )
                })?,
        };
        let end = (start + 500).min(list.len());
        let mut out = json!({"Metrics": list[start..end].to_vec()});
        if end < list.len() {
            out["NextToken"] = json!(end.to_string());
        }
        Ok(out)
    }
}

pub fn check_period(p: i64) -> Result<()> {
    if p <= 0 || !(matches!(p, 1 | 5 | 10 | 30) || p % 60 == 0) {
        return Err(CwError::invalid(
            "The parameter Period must be a multiple of 60.",
        ));
    }
    Ok(())
}
