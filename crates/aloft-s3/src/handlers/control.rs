//! S3 Control's access points and Object Lambda access points (`/v20180820/...` with the
//! `x-amz-account-id` header; signed as `s3`, so S3 serves them). Held in memory.

use std::collections::BTreeMap;

use aloft_core::AwsError;
use aloft_core::body::{Response, full};
use serde::{Deserialize, Serialize};

use super::Call;
use crate::S3;
use crate::error::{S3Error, internal};
use crate::xml::{Resp, to_xml};

const NS: &str = "http://awss3control.amazonaws.com/doc/2018-08-20/";

#[derive(Debug, Clone)]
pub struct AccessPoint {
    pub bucket: String,
    pub created_ms: i64,
    pub alias: String,
}

#[derive(Debug, Clone)]
pub struct ObjectLambdaPoint {
    pub config: OlConfig,
    pub created_ms: i64,
    pub alias: String,
}

/// Access points by (account, region, name).
#[derive(Default)]
pub struct Points {
    pub access: BTreeMap<(String, String, String), AccessPoint>,
    pub object_lambda: BTreeMap<(String, String, String), ObjectLambdaPoint>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OlConfig {
    pub supporting_access_point: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_watch_metrics_enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_features: Option<Features>,
    pub transformation_configurations: Transforms,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Features {
    #[serde(rename = "AllowedFeature", default)]
    pub items: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Transforms {
    #[serde(rename = "TransformationConfiguration", default)]
    pub items: Vec<Transform>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Transform {
    pub actions: Actions,
    pub content_transformation: ContentTransformation,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Actions {
    #[serde(rename = "Action", default)]
    pub items: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContentTransformation {
    pub aws_lambda: AwsLambda,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AwsLambda {
    pub function_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function_payload: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateAccessPointRequest {
    bucket: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateOlRequest {
    configuration: OlConfig,
}

fn xml_ok<T: Serialize>(root: &str, v: &T) -> Response {
    let body = String::from_utf8_lossy(&to_xml(root, v)).replacen(
        &format!("<{root}>"),
        &format!("<{root} xmlns=\"{NS}\">"),
        1,
    );
    Resp::ok()
        .header("content-type", "application/xml")
        .body(full(body))
}

fn no_such_access_point() -> AwsError {
    S3Error::NoSuchAccessPoint.err()
}

/// The alias AWS derives for an access point: name, a random part, `-s3alias`.
fn alias(name: &str, suffix: &str) -> String {
    let short: String = name.chars().take(20).collect();
    format!("{short}-{}-{suffix}", aloft_core::ids::hex(13))
}

pub fn ap_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:s3:{region}:{account}:accesspoint/{name}")
}

pub fn olap_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:s3-object-lambda:{region}:{account}:accesspoint/{name}")
}

fn check_name(name: &str) -> Result<(), AwsError> {
    let ok = (3..=50).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(S3Error::InvalidRequest.msg(format!("Invalid access point name: {name}")))
    }
}

/// Serves one `/v20180820/...` request.
pub async fn serve(s3: &S3, call: &mut Call) -> Result<Response, AwsError> {
    let account = call
        .header("x-amz-account-id")
        .unwrap_or(&call.ctx.account_id)
        .to_string();
    let region = call.ctx.region.clone();
    let path = call.parts.uri.path().to_string();
    let rest = path.trim_start_matches("/v20180820/");
    let mut segs = rest.split('/');
    let (kind, name, sub) = (
        segs.next().unwrap_or(""),
        segs.next().filter(|n| !n.is_empty()),
        segs.next(),
    );
    let method = call.parts.method.as_str().to_string();
    let key = |n: &str| (account.clone(), region.clone(), n.to_string());
    let now = aloft_core::clock::now_millis();
    match (kind, method.as_str(), name, sub) {
        ("accesspoint", "PUT", Some(n), None) => {
            check_name(n)?;
            let req: CreateAccessPointRequest = call.read_xml().await?;
            s3.bucket(&req.bucket)?;
            let mut points = s3.points.write().map_err(internal)?;
            if points.access.contains_key(&key(n)) {
                return Err(S3Error::AccessPointAlreadyOwnedByYou.err());
            }
            let ap = AccessPoint {
                bucket: req.bucket,
                created_ms: now,
                alias: alias(n, "s3alias"),
            };
            #[derive(Serialize)]
            #[serde(rename_all = "PascalCase")]
            struct Out {
                access_point_arn: String,
                alias: String,
            }
            let o = Out {
                access_point_arn: ap_arn(&region, &account, n),
                alias: ap.alias.clone(),
            };
            points.access.insert(key(n), ap);
            Ok(xml_ok("CreateAccessPointResult", &o))
        }
        ("accesspoint", "GET", Some(n), None) => {
            let points = s3.points.read().map_err(internal)?;
            let ap = points
                .access
                .get(&key(n))
                .ok_or_else(no_such_access_point)?;
            Ok(xml_ok(
                "GetAccessPointResult",
                &ApOut::of(&region, &account, n, ap, true),
            ))
        }
        ("accesspoint", "DELETE", Some(n), None) => {
            let mut points = s3.points.write().map_err(internal)?;
            points
                .access
                .remove(&key(n))
                .ok_or_else(no_such_access_point)?;
            Ok(Resp::ok().empty())
        }
        ("accesspoint", "GET", None, None) => {
            let bucket = call.q.get("bucket").map(str::to_string);
            let points = s3.points.read().map_err(internal)?;
            let items: Vec<ApOut> = points
                .access
                .iter()
                .filter(|((a, r, _), ap)| {
                    *a == account && *r == region && bucket.as_ref().is_none_or(|b| *b == ap.bucket)
                })
                .map(|((_, _, n), ap)| ApOut::of(&region, &account, n, ap, false))
                .collect();
            #[derive(Serialize)]
            #[serde(rename_all = "PascalCase")]
            struct Out {
                access_point_list: ApList,
            }
            #[derive(Serialize)]
            struct ApList {
                #[serde(rename = "AccessPoint")]
                items: Vec<ApOut>,
            }
            Ok(xml_ok(
                "ListAccessPointsResult",
                &Out {
                    access_point_list: ApList { items },
                },
            ))
        }
        ("accesspointforobjectlambda", "PUT", Some(n), None) => {
            check_name(n)?;
            let req: CreateOlRequest = call.read_xml().await?;
            let supporting = req
                .configuration
                .supporting_access_point
                .rsplit('/')
                .next()
                .unwrap_or("")
                .to_string();
            let mut points = s3.points.write().map_err(internal)?;
            if !points.access.contains_key(&key(&supporting)) {
                return Err(no_such_access_point());
            }
            if points.object_lambda.contains_key(&key(n)) {
                return Err(S3Error::AccessPointAlreadyOwnedByYou.err());
            }
            let p = ObjectLambdaPoint {
                config: req.configuration,
                created_ms: now,
                alias: alias(n, "ol-s3"),
            };
            #[derive(Serialize)]
            #[serde(rename_all = "PascalCase")]
            struct Out {
                object_lambda_access_point_arn: String,
                alias: AliasOut,
            }
            let o = Out {
                object_lambda_access_point_arn: olap_arn(&region, &account, n),
                alias: AliasOut::ready(&p.alias),
            };
            points.object_lambda.insert(key(n), p);
            Ok(xml_ok("CreateAccessPointForObjectLambdaResult", &o))
        }
        ("accesspointforobjectlambda", "GET", Some(n), sub) => {
            let points = s3.points.read().map_err(internal)?;
            let p = points
                .object_lambda
                .get(&key(n))
                .ok_or_else(no_such_access_point)?;
            if sub == Some("configuration") {
                #[derive(Serialize)]
                #[serde(rename_all = "PascalCase")]
                struct Out<'a> {
                    configuration: &'a OlConfig,
                }
                return Ok(xml_ok(
                    "GetAccessPointConfigurationForObjectLambdaResult",
                    &Out {
                        configuration: &p.config,
                    },
                ));
            }
            #[derive(Serialize)]
            #[serde(rename_all = "PascalCase")]
            struct Out {
                name: String,
                public_access_block_configuration: Pab,
                creation_date: String,
                alias: AliasOut,
            }
            Ok(xml_ok(
                "GetAccessPointForObjectLambdaResult",
                &Out {
                    name: n.to_string(),
                    public_access_block_configuration: Pab::all(),
                    creation_date: super::iso(p.created_ms),
                    alias: AliasOut::ready(&p.alias),
                },
            ))
        }
        ("accesspointforobjectlambda", "DELETE", Some(n), None) => {
            let mut points = s3.points.write().map_err(internal)?;
            points
                .object_lambda
                .remove(&key(n))
                .ok_or_else(no_such_access_point)?;
            Ok(Resp::ok().empty())
        }
        ("accesspointforobjectlambda", "GET", None, None) => {
            let points = s3.points.read().map_err(internal)?;
            #[derive(Serialize)]
            #[serde(rename_all = "PascalCase")]
            struct Item {
                name: String,
                object_lambda_access_point_arn: String,
                alias: AliasOut,
            }
            let items: Vec<Item> = points
                .object_lambda
                .iter()
                .filter(|((a, r, _), _)| *a == account && *r == region)
                .map(|((_, _, n), p)| Item {
                    name: n.clone(),
                    object_lambda_access_point_arn: olap_arn(&region, &account, n),
                    alias: AliasOut::ready(&p.alias),
                })
                .collect();
            #[derive(Serialize)]
            #[serde(rename_all = "PascalCase")]
            struct Out {
                object_lambda_access_point_list: List,
            }
            #[derive(Serialize)]
            struct List {
                #[serde(rename = "ObjectLambdaAccessPoint")]
                items: Vec<Item>,
            }
            Ok(xml_ok(
                "ListAccessPointsForObjectLambdaResult",
                &Out {
                    object_lambda_access_point_list: List { items },
                },
            ))
        }
        _ => Err(S3Error::NotImplemented.msg(format!(
            "The S3 Control operation {method} /v20180820/{rest} is not implemented by Aloft"
        ))),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Pab {
    block_public_acls: bool,
    ignore_public_acls: bool,
    block_public_policy: bool,
    restrict_public_buckets: bool,
}

impl Pab {
    fn all() -> Self {
        Pab {
            block_public_acls: true,
            ignore_public_acls: true,
            block_public_policy: true,
            restrict_public_buckets: true,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AliasOut {
    value: String,
    status: &'static str,
}

impl AliasOut {
    fn ready(v: &str) -> Self {
        AliasOut {
            value: v.to_string(),
            status: "READY",
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ApOut {
    name: String,
    bucket: String,
    network_origin: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    public_access_block_configuration: Option<Pab>,
    #[serde(skip_serializing_if = "Option::is_none")]
    creation_date: Option<String>,
    alias: String,
    access_point_arn: String,
    bucket_account_id: String,
}

impl ApOut {
    fn of(region: &str, account: &str, name: &str, ap: &AccessPoint, full: bool) -> Self {
        ApOut {
            name: name.to_string(),
            bucket: ap.bucket.clone(),
            network_origin: "Internet",
            public_access_block_configuration: full.then(Pab::all),
            creation_date: full.then(|| super::iso(ap.created_ms)),
            alias: ap.alias.clone(),
            access_point_arn: ap_arn(region, account, name),
            bucket_account_id: account.to_string(),
        }
    }
}
