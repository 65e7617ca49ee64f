//! Capacity accounting by AWS's rules: reads in 4 KB units (half for eventually consistent
//! reads, double in transactions), writes in 1 KB units (double in transactions).

use std::collections::BTreeMap;

use serde_json::{Value as Json, json};

pub fn write_units(size: usize) -> f64 {
    size.div_ceil(1024).max(1) as f64
}

pub fn read_units(size: usize, consistent: bool) -> f64 {
    let u = size.div_ceil(4096).max(1) as f64;
    if consistent { u } else { u / 2.0 }
}

/// What one call consumed on one table and its indexes.
#[derive(Debug, Clone, Default)]
pub struct Consumed {
    pub table: String,
    pub read: bool,
    pub table_units: f64,
    /// Index name → (global?, units).
    pub indexes: BTreeMap<String, (bool, f64)>,
    /// Vector index name → VectorWriteRequestBytes (writes; shown for INDEXES only).
    pub vectors: BTreeMap<String, f64>,
}

impl Consumed {
    pub fn new(table: &str, read: bool) -> Self {
        Consumed {
            table: table.to_string(),
            read,
            ..Default::default()
        }
    }

    pub fn add_index(&mut self, name: &str, global: bool, units: f64) {
        self.indexes
            .entry(name.to_string())
            .or_insert((global, 0.0))
            .1 += units;
    }

    pub fn add_vector(&mut self, name: &str, bytes: f64) {
        *self.vectors.entry(name.to_string()).or_insert(0.0) += bytes;
    }

    pub fn total(&self) -> f64 {
        self.table_units + self.indexes.values().map(|(_, u)| u).sum::<f64>()
    }

    /// The `ConsumedCapacity` member for `ReturnConsumedCapacity` (None for NONE).
    pub fn render(&self, mode: Option<&str>) -> Option<Json> {
        let kind = if self.read {
            "ReadCapacityUnits"
        } else {
            "WriteCapacityUnits"
        };
        match mode {
            Some("TOTAL") => Some(
                json!({"TableName": self.table, "CapacityUnits": self.total(), kind: self.total()}),
            ),
            Some("INDEXES") => {
                let mut j = json!({"TableName": self.table, "CapacityUnits": self.total(), kind: self.total(),
                    "Table": {"CapacityUnits": self.table_units, kind: self.table_units}});
                let (g, l): (Vec<_>, Vec<_>) =
                    self.indexes.iter().partition(|(_, (global, _))| *global);
                let render = |v: Vec<(&String, &(bool, f64))>| {
                    Json::Object(
                        v.into_iter()
                            .map(|(n, (_, u))| (n.clone(), json!({"CapacityUnits": u, kind: u})))
                            .collect(),
                    )
                };
                if !g.is_empty() {
                    j["GlobalSecondaryIndexes"] = render(g);
                }
                if !l.is_empty() {
                    j["LocalSecondaryIndexes"] = render(l);
                }
                if !self.vectors.is_empty() {
                    j["VectorIndexes"] = Json::Object(
                        self.vectors
                            .iter()
                            .map(|(n, b)| (n.clone(), json!({"VectorWriteRequestBytes": b})))
                            .collect(),
                    );
                }
                Some(j)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_follow_aws_rounding() {
        assert_eq!(write_units(1), 1.0);
        assert_eq!(write_units(1025), 2.0);
        assert_eq!(read_units(4096, true), 1.0);
        assert_eq!(read_units(4097, false), 1.0);
        assert_eq!(read_units(100, false), 0.5);
    }
}
