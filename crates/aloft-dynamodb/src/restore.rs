//! The overrides RestoreTableFromBackup and RestoreTableToPointInTime accept, applied to the
//! source table's definition: billing mode and throughput, which secondary indexes come back
//! (a subset, none, or renamed — never new ones), and encryption. The rules and messages are
//! AWS's as live probes recorded them (ack-api-quirks DDB-TABLE-273/279/280/215/276).

use aloft_core::AwsError;
use serde_json::Value as Json;

use crate::domain::key::KeySchema;
use crate::error::validation;
use crate::tables::{IndexMeta, ProjectionType, TableMeta, parse_projection};
use crate::throughput::{Changes, OnDemand};

/// Applies a restore's overrides to `meta`, a copy of the source table's definition.
pub fn apply_overrides(meta: &mut TableMeta, input: &Json) -> Result<(), AwsError> {
    let billing = input.get("BillingModeOverride").and_then(Json::as_str);
    let pt = input
        .get("ProvisionedThroughputOverride")
        .filter(|v| !v.is_null());
    let pay = match billing {
        Some("PAY_PER_REQUEST") => true,
        Some("PROVISIONED") => false,
        None => meta.pay_per_request,
        Some(other) => {
            return Err(validation(format!(
                "1 validation error detected: Value '{other}' at 'billingModeOverride' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]"
            )));
        }
    };
    match (pay, pt) {
        (true, Some(_)) if billing == Some("PAY_PER_REQUEST") => {
            return Err(validation(
                "Invalid Request: Cannot override ProvisionedThroughput if BillingMode is overridden to PAY_PER_REQUEST",
            ));
        }
        (true, Some(_)) => {
            return Err(validation(
                "Invalid Request: Cannot override ProvisionedThroughput unless BillingMode is PROVISIONED",
            ));
        }
        (false, None) if billing == Some("PROVISIONED") => {
            return Err(validation(
                "Invalid Request: Must override ProvisionedThroughput if BillingMode is overridden to PROVISIONED",
            ));
        }
        _ => {}
    }
    let odt = input
        .get("OnDemandThroughputOverride")
        .filter(|v| !v.is_null());
    if let Some(odt) = odt {
        check_on_demand(odt, pay)?;
    }
    let switched = pay != meta.pay_per_request;
    meta.pay_per_request = pay;
    if pay {
        meta.rcu = 0;
        meta.wcu = 0;
    } else if let Some(pt) = pt {
        meta.rcu = pt["ReadCapacityUnits"].as_u64().unwrap_or(meta.rcu).max(1);
        meta.wcu = pt["WriteCapacityUnits"].as_u64().unwrap_or(meta.wcu).max(1);
    }
    restart_throughput(&mut meta.throughput, pay, switched, odt);

    let source = std::mem::take(&mut meta.indexes);
    let (gsis, lsis): (Vec<IndexMeta>, Vec<IndexMeta>) = source.into_iter().partition(|i| i.global);
    let gsis = match input
        .get("GlobalSecondaryIndexOverride")
        .and_then(Json::as_array)
    {
        Some(list) => list
            .iter()
            .map(|o| override_gsi(o, &gsis, pay, switched))
            .collect::<Result<Vec<_>, _>>()?,
        None => gsis
            .into_iter()
            .map(|mut g| {
                if pay {
                    (g.rcu, g.wcu) = (0, 0);
                } else if g.rcu == 0 {
                    // An on-demand index turned provisioned takes the table's capacity.
                    (g.rcu, g.wcu) = (meta.rcu, meta.wcu);
                }
                restart_throughput(&mut g.throughput, pay, switched, None);
                g
            })
            .collect(),
    };
    let lsis = match input
        .get("LocalSecondaryIndexOverride")
        .and_then(Json::as_array)
    {
        Some(list) => list
            .iter()
            .map(|o| {
                matching(o, &lsis).map(|(name, projection, src)| IndexMeta {
                    name,
                    projection,
                    ..src.clone()
                })
            })
            .collect::<Result<Vec<_>, _>>()?,
        None => lsis,
    };
    meta.indexes = lsis.into_iter().chain(gsis).collect();
    for (i, idx) in meta.indexes.iter().enumerate() {
        if meta.indexes[..i].iter().any(|o| o.name == idx.name) {
            return Err(validation(format!(
                "One or more parameter values were invalid: Duplicate index name: {}",
                idx.name
            )));
        }
    }
    prune_definitions(meta);

    if let Some(sse) = input
        .get("SSESpecificationOverride")
        .filter(|v| !v.is_null())
    {
        // An override without `Enabled` asks for KMS encryption, as SSESpecification does.
        meta.sse = sse["Enabled"].as_bool().unwrap_or(true);
    }
    Ok(())
}

/// `OnDemandThroughputOverride` belongs to an on-demand restore; its values are at least 1.
fn check_on_demand(v: &Json, pay: bool) -> Result<(), AwsError> {
    for name in ["MaxReadRequestUnits", "MaxWriteRequestUnits"] {
        let m = &v[name];
        if m.is_null() {
            continue;
        }
        if !pay {
            return Err(validation(format!(
                "Invalid Request: Cannot override {name} for OnDemandThroughput unless BillingModeOverride is PAY_PER_REQUEST"
            )));
        }
        if m.as_i64().is_none_or(|n| n < 1) {
            return Err(validation(format!(
                "Invalid Request: Requested {name} for OnDemandThroughput is outside of valid range"
            )));
        }
    }
    Ok(())
}

/// A restored table or index starts a new throughput history: no increases or decreases yet,
/// the recorded on-demand ceilings kept (or overridden) while it stays on demand.
fn restart_throughput(
    t: &mut crate::throughput::Throughput,
    pay: bool,
    switched: bool,
    odt: Option<&Json>,
) {
    t.changes = Changes::default();
    if switched {
        t.warm = None;
    }
    if !pay {
        t.on_demand = OnDemand::default();
    } else if let Some(odt) = odt {
        for (name, slot) in [
            ("MaxReadRequestUnits", &mut t.on_demand.max_read),
            ("MaxWriteRequestUnits", &mut t.on_demand.max_write),
        ] {
            if let Some(n) = odt[name].as_u64() {
                *slot = Some(n);
            }
        }
    }
}

/// A GSI override: a source GSI (matched by keys and projection, possibly renamed) with the
/// throughput the restored table's billing mode asks for.
fn override_gsi(
    o: &Json,
    source: &[IndexMeta],
    pay: bool,
    switched: bool,
) -> Result<IndexMeta, AwsError> {
    let (name, projection, src) = matching(o, source)?;
    let pt = o.get("ProvisionedThroughput").filter(|v| !v.is_null());
    let (rcu, wcu) = match (pay, pt) {
        (true, Some(_)) => {
            return Err(validation(format!(
                "Invalid Request: Cannot override ProvisionedThroughput if BillingMode is overridden to PAY_PER_REQUEST for index {name}"
            )));
        }
        (true, None) => (0, 0),
        (false, None) => {
            return Err(validation(format!(
                "Invalid Request: Must specify provisioned throughput for index {name}"
            )));
        }
        (false, Some(pt)) => (
            pt["ReadCapacityUnits"].as_u64().unwrap_or(0).max(1),
            pt["WriteCapacityUnits"].as_u64().unwrap_or(0).max(1),
        ),
    };
    let mut index = IndexMeta {
        name,
        projection,
        rcu,
        wcu,
        ..src.clone()
    };
    let odt = o.get("OnDemandThroughput").filter(|v| !v.is_null());
    if let Some(odt) = odt {
        check_on_demand(odt, pay)?;
    }
    restart_throughput(&mut index.throughput, pay, switched, odt);
    Ok(index)
}

/// The source index an override stands for: same key schema and projection (AWS lets the
/// name change). Answers the override's name and projection beside it.
fn matching<'a>(
    o: &Json,
    source: &'a [IndexMeta],
) -> Result<(String, ProjectionType, &'a IndexMeta), AwsError> {
    let name = o["IndexName"].as_str().unwrap_or_default().to_string();
    let no_match = || {
        validation(format!(
            "Invalid Request: Index {name} does not match a secondary index that existed in the source table and cannot be created during the restore operation"
        ))
    };
    let projection = parse_projection(&o["Projection"]).map_err(|_| no_match())?;
    let found = source
        .iter()
        .find(|s| {
            same_keys(&o["KeySchema"], &s.schema) && same_projection(&projection, &s.projection)
        })
        .ok_or_else(no_match)?;
    Ok((name, projection, found))
}

fn same_keys(v: &Json, schema: &KeySchema) -> bool {
    let elems: Vec<(&str, &str)> = v
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            (
                e["AttributeName"].as_str().unwrap_or_default(),
                e["KeyType"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    let mut want = vec![(schema.hash.name.as_str(), "HASH")];
    if let Some(r) = &schema.range {
        want.push((r.name.as_str(), "RANGE"));
    }
    elems == want
}

fn same_projection(a: &ProjectionType, b: &ProjectionType) -> bool {
    match (a, b) {
        (ProjectionType::Include(x), ProjectionType::Include(y)) => {
            let (mut x, mut y) = (x.clone(), y.clone());
            x.sort();
            y.sort();
            x == y
        }
        _ => a == b,
    }
}

/// Attribute definitions only the dropped indexes used go with them, as on a GSI deletion.
fn prune_definitions(meta: &mut TableMeta) {
    let (schema, indexes, vectors) = (&meta.schema, &meta.indexes, &meta.vector_indexes);
    meta.attribute_definitions.retain(|(n, _)| {
        schema.is_key_attr(n)
            || indexes.iter().any(|i| i.schema.is_key_attr(n))
            || vectors.iter().any(|v| v.in_schema(n).is_some())
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn source() -> TableMeta {
        let input = json!({
            "TableName": "src",
            "AttributeDefinitions": [
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
                {"AttributeName": "g", "AttributeType": "S"},
                {"AttributeName": "h", "AttributeType": "N"},
                {"AttributeName": "l", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                          {"AttributeName": "sk", "KeyType": "RANGE"}],
            "BillingMode": "PROVISIONED",
            "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
            "GlobalSecondaryIndexes": [
                {"IndexName": "byG", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                 "Projection": {"ProjectionType": "ALL"},
                 "ProvisionedThroughput": {"ReadCapacityUnits": 3, "WriteCapacityUnits": 3}},
                {"IndexName": "byH", "KeySchema": [{"AttributeName": "h", "KeyType": "HASH"}],
                 "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["a", "b"]},
                 "ProvisionedThroughput": {"ReadCapacityUnits": 2, "WriteCapacityUnits": 2}}],
            "LocalSecondaryIndexes": [
                {"IndexName": "byL", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                                   {"AttributeName": "l", "KeyType": "RANGE"}],
                 "Projection": {"ProjectionType": "KEYS_ONLY"}}],
        });
        crate::tables::from_create(&input, "000000000000", "us-east-1", 0).unwrap()
    }

    fn names(m: &TableMeta) -> Vec<&str> {
        m.indexes.iter().map(|i| i.name.as_str()).collect()
    }

    fn message(r: Result<(), AwsError>) -> String {
        r.unwrap_err().message
    }

    #[test]
    fn no_overrides_keep_every_index() {
        let mut m = source();
        apply_overrides(&mut m, &json!({})).unwrap();
        assert_eq!(names(&m), ["byL", "byG", "byH"]);
        assert_eq!(m.attribute_definitions.len(), 5);
    }

    #[test]
    fn empty_lists_drop_every_index_and_their_definitions() {
        let mut m = source();
        apply_overrides(
            &mut m,
            &json!({"GlobalSecondaryIndexOverride": [], "LocalSecondaryIndexOverride": []}),
        )
        .unwrap();
        assert!(m.indexes.is_empty());
        let defs: Vec<&str> = m
            .attribute_definitions
            .iter()
            .map(|(n, _)| n.as_str())
            .collect();
        assert_eq!(defs, ["pk", "sk"]);
    }

    #[test]
    fn a_subset_may_be_renamed_and_carries_its_throughput() {
        let mut m = source();
        apply_overrides(
            &mut m,
            &json!({"GlobalSecondaryIndexOverride": [
                {"IndexName": "renamed", "KeySchema": [{"AttributeName": "h", "KeyType": "HASH"}],
                 "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["b", "a"]},
                 "ProvisionedThroughput": {"ReadCapacityUnits": 7, "WriteCapacityUnits": 8}}]}),
        )
        .unwrap();
        assert_eq!(names(&m), ["byL", "renamed"]);
        assert_eq!((m.indexes[1].rcu, m.indexes[1].wcu), (7, 8));
        assert!(!m.attribute_definitions.iter().any(|(n, _)| n == "g"));
    }

    #[test]
    fn new_keys_or_projections_are_refused() {
        for o in [
            json!({"IndexName": "byG", "KeySchema": [{"AttributeName": "h", "KeyType": "HASH"}],
                   "Projection": {"ProjectionType": "ALL"},
                   "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}}),
            json!({"IndexName": "byG", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                   "Projection": {"ProjectionType": "KEYS_ONLY"},
                   "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}}),
        ] {
            let mut m = source();
            let r = apply_overrides(&mut m, &json!({"GlobalSecondaryIndexOverride": [o]}));
            assert_eq!(
                message(r),
                "Invalid Request: Index byG does not match a secondary index that existed in the source table and cannot be created during the restore operation"
            );
        }
        // An LSI override is matched against LSIs only.
        let mut m = source();
        let r = apply_overrides(
            &mut m,
            &json!({"LocalSecondaryIndexOverride": [
                {"IndexName": "x", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                 "Projection": {"ProjectionType": "ALL"}}]}),
        );
        assert!(message(r).starts_with("Invalid Request: Index x does not match"));
    }

    #[test]
    fn throughput_overrides_follow_the_billing_mode() {
        let gsi = |pt: Json| {
            let mut g = json!({"IndexName": "byG",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"}});
            if !pt.is_null() {
                g["ProvisionedThroughput"] = pt;
            }
            g
        };
        let cases = [
            (
                json!({"GlobalSecondaryIndexOverride": [gsi(Json::Null)]}),
                "Invalid Request: Must specify provisioned throughput for index byG",
            ),
            (
                json!({"BillingModeOverride": "PAY_PER_REQUEST", "GlobalSecondaryIndexOverride": [
                    gsi(json!({"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}))]}),
                "Invalid Request: Cannot override ProvisionedThroughput if BillingMode is overridden to PAY_PER_REQUEST for index byG",
            ),
            (
                json!({"BillingModeOverride": "PROVISIONED"}),
                "Invalid Request: Must override ProvisionedThroughput if BillingMode is overridden to PROVISIONED",
            ),
            (
                json!({"OnDemandThroughputOverride": {"MaxReadRequestUnits": 5}}),
                "Invalid Request: Cannot override MaxReadRequestUnits for OnDemandThroughput unless BillingModeOverride is PAY_PER_REQUEST",
            ),
            (
                json!({"BillingModeOverride": "PAY_PER_REQUEST",
                       "OnDemandThroughputOverride": {"MaxWriteRequestUnits": 0}}),
                "Invalid Request: Requested MaxWriteRequestUnits for OnDemandThroughput is outside of valid range",
            ),
        ];
        for (input, want) in cases {
            let mut m = source();
            assert_eq!(message(apply_overrides(&mut m, &input)), want, "{input}");
        }
        let mut m = source();
        m.pay_per_request = true;
        let r = apply_overrides(
            &mut m,
            &json!({"ProvisionedThroughputOverride": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}}),
        );
        assert_eq!(
            message(r),
            "Invalid Request: Cannot override ProvisionedThroughput unless BillingMode is PROVISIONED"
        );
    }

    #[test]
    fn on_demand_restore_zeroes_capacity_and_takes_ceilings() {
        let mut m = source();
        apply_overrides(
            &mut m,
            &json!({"BillingModeOverride": "PAY_PER_REQUEST",
                    "OnDemandThroughputOverride": {"MaxReadRequestUnits": 100},
                    "SSESpecificationOverride": {"Enabled": true}}),
        )
        .unwrap();
        assert!(m.pay_per_request && m.sse);
        assert_eq!((m.rcu, m.wcu), (0, 0));
        assert!(m.indexes.iter().all(|i| i.rcu == 0 && i.wcu == 0));
        assert_eq!(m.throughput.on_demand.max_read, Some(100));
        assert_eq!(m.throughput.on_demand.max_write, None);
    }
}
