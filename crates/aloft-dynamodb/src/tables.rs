//! Table definitions: what CreateTable accepts (with AWS's checks), what DescribeTable shows.

use aloft_core::AwsError;
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};

use crate::domain::key::{KeyAttr, KeySchema};
use crate::domain::value::{Item, KeyType};
use crate::error::{invalid_param, validation};
use crate::throughput::{self, Throughput};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProjectionType {
    All,
    KeysOnly,
    Include(Vec<String>),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IndexMeta {
    pub name: String,
    pub schema: KeySchema,
    pub projection: ProjectionType,
    pub global: bool,
    pub rcu: u64,
    pub wcu: u64,
    /// GSIs only.
    #[serde(default)]
    pub throughput: Throughput,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TableMeta {
    pub name: String,
    pub id: String,
    pub account: String,
    pub region: String,
    pub schema: KeySchema,
    pub attribute_definitions: Vec<(String, KeyType)>,
    pub pay_per_request: bool,
    pub rcu: u64,
    pub wcu: u64,
    pub created_ms: i64,
    pub indexes: Vec<IndexMeta>,
    /// Stream view type when a stream is enabled.
    pub stream_view: Option<String>,
    /// Label of the latest stream (kept after the stream is disabled, as AWS does).
    pub stream_label: Option<String>,
    pub deletion_protection: bool,
    pub tags: Vec<(String, String)>,
    pub ttl_attribute: Option<String>,
    pub pitr: bool,
    pub sse: bool,
    pub table_class: String,
    /// Regions of the global table (version 2019.11.21) this table belongs to, itself
    /// included; empty when it is not global.
    #[serde(default)]
    pub replicas: Vec<String>,
    /// Multi-Region strong consistency (MRSC): chosen when the first replicas are created.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub strong: bool,
    /// An MRSC global table's witness region (it holds no table).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub witness: Option<String>,
    /// A global table replica's disassociation protection, when changed from AWS's default
    /// (enabled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disassociation_protection: Option<bool>,
    /// The accounts of a multi-account global table's members, by region (empty when every
    /// member is in this table's account).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub member_accounts: Vec<(String, String)>,
    /// The other members' own table classes, by region (a global table never synchronizes
    /// table class), for DescribeTable's `ReplicaTableClassSummary`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replica_classes: Vec<(String, String)>,
    /// GlobalTableSettingsReplicationMode set on a regional table (ENABLED or DISABLED).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings_mode: Option<String>,
    #[serde(default)]
    pub throughput: Throughput,
    #[serde(default)]
    pub vector_indexes: Vec<crate::vectors::VectorIndexMeta>,
    /// Kinesis Data Streams destinations, DISABLED and ENABLE_FAILED ones included (AWS keeps
    /// listing them); DescribeTable does not show them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kinesis: Vec<crate::kinesis::Destination>,
}

impl TableMeta {
    pub fn arn(&self) -> String {
        aloft_core::arn::build(
            "dynamodb",
            &self.region,
            &self.account,
            &format!("table/{}", self.name),
        )
    }

    /// The account of the group's member in `region` (a global table has one per region).
    pub fn member_account<'a>(&'a self, region: &str) -> &'a str {
        self.member_accounts
            .iter()
            .find(|(r, _)| r == region)
            .map_or(&self.account, |(_, a)| a)
    }

    /// The regions of a global table's other members.
    pub fn other_regions(&self) -> Vec<String> {
        self.replicas
            .iter()
            .filter(|r| **r != self.region)
            .cloned()
            .collect()
    }

    pub fn stream_arn(&self) -> Option<String> {
        self.stream_label
            .as_ref()
            .map(|l| format!("{}/stream/{l}", self.arn()))
    }

    pub fn index(&self, name: &str) -> Option<(usize, &IndexMeta)> {
        self.indexes
            .iter()
            .enumerate()
            .find(|(_, i)| i.name == name)
    }

    /// The attributes an index entry keeps, applied when reading through the index.
    pub fn project_for_index(&self, idx: &IndexMeta, item: &Item) -> Item {
        match &idx.projection {
            ProjectionType::All => item.clone(),
            ProjectionType::KeysOnly | ProjectionType::Include(_) => item
                .iter()
                .filter(|(k, _)| {
                    self.schema.is_key_attr(k)
                        || idx.schema.is_key_attr(k)
                        || matches!(&idx.projection, ProjectionType::Include(a) if a.iter().any(|x| **x == ***k))
                })
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        }
    }

    pub fn describe(
        &self,
        status: &str,
        item_count: u64,
        size_bytes: u64,
        index_stats: &[(u64, u64)],
    ) -> Json {
        let key_schema = |s: &KeySchema| {
            let mut v = vec![json!({"AttributeName": s.hash.name, "KeyType": "HASH"})];
            if let Some(r) = &s.range {
                v.push(json!({"AttributeName": r.name, "KeyType": "RANGE"}));
            }
            Json::Array(v)
        };
        let projection = |p: &ProjectionType| match p {
            ProjectionType::All => json!({"ProjectionType": "ALL"}),
            ProjectionType::KeysOnly => json!({"ProjectionType": "KEYS_ONLY"}),
            ProjectionType::Include(a) => {
                json!({"ProjectionType": "INCLUDE", "NonKeyAttributes": a})
            }
        };
        let created = self.created_ms as f64 / 1000.0;
        let throughput = |r: u64, w: u64| json!({"NumberOfDecreasesToday": 0, "ReadCapacityUnits": r, "WriteCapacityUnits": w});
        let mut d = json!({
            "AttributeDefinitions": self.attribute_definitions.iter()
                .map(|(n, t)| json!({"AttributeName": n, "AttributeType": t.tag()})).collect::<Vec<_>>(),
            "TableName": self.name,
            "KeySchema": key_schema(&self.schema),
            "TableStatus": status,
            "CreationDateTime": created,
            "ProvisionedThroughput": throughput(self.rcu, self.wcu),
            "TableSizeBytes": size_bytes,
            "ItemCount": item_count,
            "TableArn": self.arn(),
            "TableId": self.id,
            "DeletionProtectionEnabled": self.deletion_protection,
        });
        self.throughput
            .describe_into(&mut d, self.pay_per_request, (self.rcu, self.wcu), status);
        if self.pay_per_request {
            d["BillingModeSummary"] = json!({"BillingMode": "PAY_PER_REQUEST", "LastUpdateToPayPerRequestDateTime": created});
        }
        let mut lsis = Vec::new();
        let mut gsis = Vec::new();
        for (i, idx) in self.indexes.iter().enumerate() {
            let (count, size) = index_stats.get(i).copied().unwrap_or_default();
            let mut j = json!({
                "IndexName": idx.name,
                "KeySchema": key_schema(&idx.schema),
                "Projection": projection(&idx.projection),
                "IndexSizeBytes": size,
                "ItemCount": count,
                "IndexArn": format!("{}/index/{}", self.arn(), idx.name),
            });
            if idx.global {
                j["IndexStatus"] = json!("ACTIVE");
                j["ProvisionedThroughput"] = throughput(idx.rcu, idx.wcu);
                idx.throughput.describe_into(
                    &mut j,
                    self.pay_per_request,
                    (idx.rcu, idx.wcu),
                    "ACTIVE",
                );
                gsis.push(j);
            } else {
                lsis.push(j);
            }
        }
        if !lsis.is_empty() {
            d["LocalSecondaryIndexes"] = Json::Array(lsis);
        }
        if !gsis.is_empty() {
            d["GlobalSecondaryIndexes"] = Json::Array(gsis);
        }
        if let Some(view) = &self.stream_view {
            d["StreamSpecification"] = json!({"StreamEnabled": true, "StreamViewType": view});
        }
        if let (Some(label), Some(arn)) = (&self.stream_label, self.stream_arn()) {
            d["LatestStreamLabel"] = json!(label);
            d["LatestStreamArn"] = json!(arn);
        }
        if self.sse {
            d["SSEDescription"] = json!({"Status": "ENABLED", "SSEType": "KMS",
                "KMSMasterKeyArn": aloft_core::arn::build("kms", &self.region, &self.account, "key/aws-dynamodb")});
        }
        crate::handlers::global::describe_into(self, &mut d);
        if self.table_class != "STANDARD" {
            d["TableClassSummary"] = json!({"TableClass": self.table_class});
        }
        d
    }
}

fn constraint(value: &str, member: &str, rule: &str) -> AwsError {
    validation(format!(
        "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {rule}"
    ))
}

/// AWS's table/index name rule: 3..=255 of `[a-zA-Z0-9_.-]`.
pub fn check_table_name(name: &str, member: &str) -> Result<(), AwsError> {
    if name.len() < 3 {
        return Err(constraint(
            name,
            member,
            "Member must have length greater than or equal to 3",
        ));
    }
    if name.len() > 255 {
        return Err(constraint(
            name,
            member,
            "Member must have length less than or equal to 255",
        ));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-')
    {
        return Err(constraint(
            name,
            member,
            "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
        ));
    }
    Ok(())
}

fn parse_key_schema(
    v: &Json,
    defs: &[(String, KeyType)],
    what: &str,
) -> Result<KeySchema, AwsError> {
    let arr = v.as_array().filter(|a| !a.is_empty()).ok_or_else(|| {
        validation(format!("1 validation error detected: Value null at '{what}' failed to satisfy constraint: Member must not be null"))
    })?;
    if arr.len() > 2 {
        return Err(validation(format!(
            "1 validation error detected: Value '{}' at '{what}' failed to satisfy constraint: Member must have length less than or equal to 2",
            arr.len()
        )));
    }
    let mut hash = None;
    let mut range = None;
    for (i, e) in arr.iter().enumerate() {
        let name = e["AttributeName"].as_str().unwrap_or_default().to_string();
        let kt = e["KeyType"].as_str().unwrap_or_default();
        let ty = defs.iter().find(|(n, _)| *n == name).map(|(_, t)| *t);
        let Some(ty) = ty else {
            let keys: Vec<&str> = arr
                .iter()
                .filter_map(|e| e["AttributeName"].as_str())
                .collect();
            let dn: Vec<&str> = defs.iter().map(|(n, _)| n.as_str()).collect();
            return Err(invalid_param(format!(
                "Some index key attributes are not defined in AttributeDefinitions. Keys: [{}], AttributeDefinitions: [{}]",
                keys.join(", "),
                dn.join(", ")
            )));
        };
        match (i, kt) {
            (0, "HASH") => hash = Some(KeyAttr { name, ty }),
            (1, "RANGE") => range = Some(KeyAttr { name, ty }),
            (0, _) => {
                return Err(invalid_param(
                    "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
                ));
            }
            _ => {
                return Err(invalid_param(
                    "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type",
                ));
            }
        }
    }
    Ok(KeySchema {
        hash: hash.ok_or_else(|| {
            invalid_param("Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
        })?,
        range,
    })
}

pub(crate) fn parse_projection(v: &Json) -> Result<ProjectionType, AwsError> {
    Ok(match v["ProjectionType"].as_str() {
        Some("ALL") | None => ProjectionType::All,
        Some("KEYS_ONLY") => ProjectionType::KeysOnly,
        Some("INCLUDE") => {
            let attrs: Vec<String> = v["NonKeyAttributes"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            if attrs.is_empty() {
                return Err(invalid_param(
                    "NonKeyAttributes must not be empty when ProjectionType is INCLUDE",
                ));
            }
            ProjectionType::Include(attrs)
        }
        Some(other) => {
            return Err(constraint(
                other,
                "projection.projectionType",
                "Member must satisfy enum value set: [ALL, INCLUDE, KEYS_ONLY]",
            ));
        }
    })
}

/// (read, write) capacity from a ProvisionedThroughput member, checked against the billing mode.
fn throughput(v: &Json, pay_per_request: bool) -> Result<(u64, u64), AwsError> {
    let pt = &v["ProvisionedThroughput"];
    if pay_per_request {
        if !pt.is_null() {
            return Err(invalid_param(
                "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
            ));
        }
        return Ok((0, 0));
    }
    if pt.is_null() {
        return Err(validation(
            "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED",
        ));
    }
    let r = pt["ReadCapacityUnits"].as_u64().unwrap_or(0);
    let w = pt["WriteCapacityUnits"].as_u64().unwrap_or(0);
    if r < 1 || w < 1 {
        return Err(validation(
            "One or more parameter values were invalid: Provisioned throughput must be at least 1 for ReadCapacityUnits and WriteCapacityUnits",
        ));
    }
    Ok((r, w))
}

pub fn parse_billing(input: &Json) -> Result<bool, AwsError> {
    match input["BillingMode"].as_str() {
        None | Some("PROVISIONED") => Ok(false),
        Some("PAY_PER_REQUEST") => Ok(true),
        Some(other) => Err(constraint(
            other,
            "billingMode",
            "Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]",
        )),
    }
}

pub fn parse_gsi(
    v: &Json,
    defs: &[(String, KeyType)],
    pay_per_request: bool,
) -> Result<IndexMeta, AwsError> {
    let name = v["IndexName"].as_str().unwrap_or_default().to_string();
    check_table_name(&name, "globalSecondaryIndexes.member.indexName")?;
    let schema = parse_key_schema(
        &v["KeySchema"],
        defs,
        "globalSecondaryIndexes.member.keySchema",
    )?;
    let projection = parse_projection(&v["Projection"])?;
    let (rcu, wcu) = throughput(v, pay_per_request)?;
    let mut index = IndexMeta {
        name,
        schema,
        projection,
        global: true,
        rcu,
        wcu,
        throughput: Throughput::default(),
    };
    let name = index.name.clone();
    index.throughput.set(
        v,
        pay_per_request,
        (index.rcu, index.wcu),
        throughput::Op::Create,
        Some(&name),
    )?;
    Ok(index)
}

/// Builds a table definition from a CreateTable input, with AWS's validation.
pub fn from_create(
    input: &Json,
    account: &str,
    region: &str,
    now_ms: i64,
) -> Result<TableMeta, AwsError> {
    let name = input["TableName"].as_str().ok_or_else(|| {
        validation("1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null")
    })?;
    check_table_name(name, "tableName")?;
    let mut defs = Vec::new();
    for d in input["AttributeDefinitions"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let n = d["AttributeName"].as_str().unwrap_or_default().to_string();
        let t = d["AttributeType"].as_str().unwrap_or_default();
        let ty = KeyType::parse(t).ok_or_else(|| {
            constraint(
                t,
                "attributeDefinitions.member.attributeType",
                "Member must satisfy enum value set: [B, N, S]",
            )
        })?;
        if defs.iter().any(|(x, _)| *x == n) {
            return Err(invalid_param(format!(
                "Duplicate AttributeName in AttributeDefinitions: {n}"
            )));
        }
        defs.push((n, ty));
    }
    let schema = parse_key_schema(&input["KeySchema"], &defs, "keySchema")?;
    let pay = parse_billing(input)?;
    let (rcu, wcu) = throughput(input, pay)?;
    let mut indexes = Vec::new();
    let lsis = input["LocalSecondaryIndexes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if lsis.len() > 5 {
        return Err(invalid_param(
            "Number of LocalSecondaryIndexes exceeds per-table limit of 5",
        ));
    }
    for l in &lsis {
        if schema.range.is_none() {
            return Err(invalid_param(
                "Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex",
            ));
        }
        let name = l["IndexName"].as_str().unwrap_or_default().to_string();
        check_table_name(&name, "localSecondaryIndexes.member.indexName")?;
        let s = parse_key_schema(
            &l["KeySchema"],
            &defs,
            "localSecondaryIndexes.member.keySchema",
        )?;
        if s.hash != schema.hash || s.range.is_none() {
            return Err(invalid_param(format!(
                "Index KeySchema does not have the same leading hash key as table KeySchema for index: {name}. index hash key: {}, table hash key: {}",
                s.hash.name, schema.hash.name
            )));
        }
        indexes.push(IndexMeta {
            name,
            schema: s,
            projection: parse_projection(&l["Projection"])?,
            global: false,
            rcu: 0,
            wcu: 0,
            throughput: Throughput::default(),
        });
    }
    let gsis = input["GlobalSecondaryIndexes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if gsis.len() > 20 {
        return Err(validation(
            "One or more parameter values were invalid: GlobalSecondaryIndex count exceeds the per-table limit of 20",
        ));
    }
    for g in &gsis {
        indexes.push(parse_gsi(g, &defs, pay)?);
    }
    for (i, idx) in indexes.iter().enumerate() {
        if indexes[..i].iter().any(|o| o.name == idx.name) {
            return Err(invalid_param(format!("Duplicate index name: {}", idx.name)));
        }
    }
    let vector_indexes = crate::vectors::parse_create(input, &defs, &schema, pay, &indexes)?;
    // Every definition must be used by the table or an index key (or a search schema).
    let used = |n: &str| {
        schema.is_key_attr(n)
            || indexes.iter().any(|i| i.schema.is_key_attr(n))
            || vector_indexes.iter().any(|v| v.in_schema(n).is_some())
    };
    if defs.iter().any(|(n, _)| !used(n)) {
        return Err(invalid_param(
            "Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions",
        ));
    }
    let stream_view = parse_stream_spec(&input["StreamSpecification"])?;
    let tags = input["Tags"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            (
                t["Key"].as_str().unwrap_or_default().to_string(),
                t["Value"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let mut meta = TableMeta {
        name: name.to_string(),
        id: aloft_core::ids::uuid(),
        account: account.to_string(),
        region: region.to_string(),
        schema,
        attribute_definitions: defs,
        pay_per_request: pay,
        rcu,
        wcu,
        created_ms: now_ms,
        indexes,
        stream_label: stream_view.as_ref().map(|_| stream_label(now_ms)),
        stream_view,
        deletion_protection: input["DeletionProtectionEnabled"]
            .as_bool()
            .unwrap_or(false),
        tags,
        ttl_attribute: None,
        pitr: false,
        sse: input["SSESpecification"]["Enabled"]
            .as_bool()
            .unwrap_or(false),
        table_class: input["TableClass"]
            .as_str()
            .unwrap_or("STANDARD")
            .to_string(),
        replicas: Vec::new(),
        strong: false,
        witness: None,
        disassociation_protection: None,
        member_accounts: Vec::new(),
        replica_classes: Vec::new(),
        settings_mode: None,
        throughput: Throughput::default(),
        vector_indexes,
        kinesis: Vec::new(),
    };
    meta.throughput.set(
        input,
        meta.pay_per_request,
        (meta.rcu, meta.wcu),
        throughput::Op::Create,
        None,
    )?;
    Ok(meta)
}

/// `Some(view type)` when the specification enables a stream.
pub fn parse_stream_spec(spec: &Json) -> Result<Option<String>, AwsError> {
    if spec.is_null() || !spec["StreamEnabled"].as_bool().unwrap_or(false) {
        return Ok(None);
    }
    match spec["StreamViewType"].as_str() {
        Some(v @ ("KEYS_ONLY" | "NEW_IMAGE" | "OLD_IMAGE" | "NEW_AND_OLD_IMAGES")) => {
            Ok(Some(v.to_string()))
        }
        None => Err(validation(
            "One or more parameter values were invalid: StreamViewType must be specified when StreamEnabled is true",
        )),
        Some(other) => Err(constraint(
            other,
            "streamSpecification.streamViewType",
            "Member must satisfy enum value set: [NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES, KEYS_ONLY]",
        )),
    }
}

/// Stream labels are the creation time in ISO 8601 with milliseconds, as AWS labels them.
pub fn stream_label(now_ms: i64) -> String {
    aloft_core::clock::iso8601_millis(now_ms)
        .trim_end_matches('Z')
        .to_string()
}
