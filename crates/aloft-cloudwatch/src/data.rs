//! GetMetricData: metric stats and metric math expressions over a time range; alarms on
//! metric math reuse [`CloudWatch::run_queries`].

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{Code, CwError, Result};
use crate::math::{self, Series, Val};
use crate::metrics::{Dimension, check_period, metric_id, to_ms, to_s, valid_stat};
use crate::{CloudWatch, Out, parse};

#[derive(Deserialize, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct Metric {
    pub namespace: String,
    pub metric_name: String,
    #[serde(default)]
    pub dimensions: Vec<DimensionIn>,
}

#[derive(Deserialize, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct DimensionIn {
    pub name: String,
    pub value: String,
}

#[derive(Deserialize, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct MetricStat {
    pub metric: Metric,
    pub period: i64,
    pub stat: String,
    pub unit: Option<String>,
}

#[derive(Deserialize, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct Query {
    pub id: String,
    pub metric_stat: Option<MetricStat>,
    pub expression: Option<String>,
    pub label: Option<String>,
    pub return_data: Option<bool>,
    pub period: Option<i64>,
}

/// One query's result.
pub struct Result1 {
    pub id: String,
    pub label: String,
    pub series: Series,
    pub returned: bool,
}

impl CloudWatch {
    /// Runs queries (stats first, then expressions in order) over `[start_ms, end_ms)`.
    pub(crate) fn run_queries(
        &self,
        account: &str,
        region: &str,
        queries: &[Query],
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<Result1>> {
        let mut vars: HashMap<String, Series> = HashMap::new();
        let mut out = Vec::new();
        for q in queries {
            if !q.id.starts_with(|c: char| c.is_ascii_lowercase()) {
                return Err(CwError::invalid(format!(
                    "The value {} for parameter MetricDataQueries.member.Id is invalid: it must start with a lowercase letter.",
                    q.id
                )));
            }
            if let (Some(ms), None) = (&q.metric_stat, &q.expression) {
                check_period(ms.period)?;
                if !valid_stat(&ms.stat) {
                    return Err(CwError::invalid(format!(
                        "The value {} for parameter MetricDataQueries.member.MetricStat.Stat is invalid.",
                        ms.stat
                    )));
                }
                let dims: Vec<Dimension> = ms
                    .metric
                    .dimensions
                    .iter()
                    .map(|d| Dimension {
                        name: d.name.clone(),
                        value: Some(d.value.clone()),
                    })
                    .collect();
                let id = metric_id(
                    account,
                    region,
                    &ms.metric.namespace,
                    &ms.metric.metric_name,
                    &dims,
                );
                let series: Series = self
                    .metrics
                    .buckets(&id, start_ms, end_ms, ms.period, ms.unit.as_deref())
                    .into_iter()
                    .filter_map(|(t, agg)| agg.stat(&ms.stat).map(|v| (t, v)))
                    .collect();
                vars.insert(q.id.clone(), series.clone());
                out.push(Result1 {
                    id: q.id.clone(),
                    label: q
                        .label
                        .clone()
                        .unwrap_or_else(|| ms.metric.metric_name.clone()),
                    series,
                    returned: q.return_data.unwrap_or(true),
                });
            }
        }
        for q in queries {
            let Some(expr) = &q.expression else {
                if q.metric_stat.is_none() {
                    return Err(CwError::new(
                        Code::InvalidParameterCombinationException,
                        "Each MetricDataQuery must have exactly one of MetricStat or Expression.",
                    ));
                }
                continue;
            };
            if q.metric_stat.is_some() {
                return Err(CwError::new(
                    Code::InvalidParameterCombinationException,
                    "Each MetricDataQuery must have exactly one of MetricStat or Expression.",
                ));
            }
            let series = match math::eval(expr, &vars)
                .map_err(|e| CwError::invalid(format!("Error in expression '{}': {e}", q.id)))?
            {
                Val::Series(s) => s,
                Val::List(l) => l.into_iter().next().unwrap_or_default(),
                // A scalar is drawn at every timestamp the inputs have.
                Val::Scalar(x) => vars
                    .values()
                    .flat_map(|s| s.keys().copied())
                    .map(|t| (t, x))
                    .collect(),
            };
            vars.insert(q.id.clone(), series.clone());
            out.push(Result1 {
                id: q.id.clone(),
                label: q.label.clone().unwrap_or_else(|| q.id.clone()),
                series,
                returned: q.return_data.unwrap_or(true),
            });
        }
        Ok(out)
    }

    pub(crate) fn get_metric_data(&self, account: &str, region: &str, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            metric_data_queries: Vec<Query>,
            start_time: f64,
            end_time: f64,
            scan_by: Option<String>,
            max_datapoints: Option<usize>,
        }
        let i: In = parse(input)?;
        let (start, end) = (to_ms(i.start_time), to_ms(i.end_time));
        if start >= end {
            return Err(CwError::invalid(
                "The parameter StartTime must be less than the parameter EndTime.",
            ));
        }
        let mut ids = std::collections::HashSet::new();
        for q in &i.metric_data_queries {
            if !ids.insert(q.id.clone()) {
                return Err(CwError::invalid(format!(
                    "The values for parameter id in MetricDataQueries are not unique: {}",
                    q.id
                )));
            }
        }
        let results = self.run_queries(account, region, &i.metric_data_queries, start, end)?;
        let ascending = i.scan_by.as_deref() == Some("TimestampAscending");
        let max = i.max_datapoints.unwrap_or(100_800);
        let out: Vec<Value> = results
            .into_iter()
            .filter(|r| r.returned)
            .map(|r| {
                let mut pts: Vec<(i64, f64)> = r.series.into_iter().collect();
                if !ascending {
                    pts.reverse();
                }
                pts.truncate(max);
                json!({
                    "Id": r.id, "Label": r.label, "StatusCode": "Complete", "Messages": [],
                    "Timestamps": pts.iter().map(|(t, _)| to_s(*t)).collect::<Vec<_>>(),
                    "Values": pts.iter().map(|(_, v)| *v).collect::<Vec<_>>(),
                })
            })
            .collect();
        Ok(json!({"MetricDataResults": out, "Messages": []}))
    }
}
