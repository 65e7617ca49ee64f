//! The rest-xml protocol (S3, S3 Control): HTTP bindings from `rest`, XML bodies, and
//! `<Error><Code/><Message/>…<RequestId/></Error>` errors.

use aloft_model::{Operation, ServiceModel};
use bytes::Bytes;
use http::request::Parts;
use serde_json::Value;

use crate::xml::XmlWriter;
use crate::{AwsError, Protocol, response, rest};

pub(crate) fn decode(
    model: &'static ServiceModel,
    parts: &Parts,
    body: &[u8],
) -> Result<(&'static str, Value), AwsError> {
    rest::decode(model, parts, body, Protocol::RestXml)
}

/// The namespace S3-style services put on their documents (not in the models).
pub fn namespace(model: &ServiceModel) -> Option<&'static str> {
    match model.metadata.endpoint_prefix.as_str() {
        "s3" => Some("http://s3.amazonaws.com/doc/2006-03-01/"),
        "s3-control" => Some("http://awss3control.amazonaws.com/doc/2018-08-20/"),
        _ => None,
    }
}

/// Root elements of S3 responses whose output has no payload member: S3's documented
/// names, which the model does not carry.
pub fn root_element(operation: &str) -> String {
    match operation {
        "ListObjects" | "ListObjectsV2" => "ListBucketResult",
        "ListBuckets" | "ListDirectoryBuckets" => "ListAllMyBucketsResult",
        "ListObjectVersions" => "ListVersionsResult",
        "ListMultipartUploads" => "ListMultipartUploadsResult",
        "ListParts" => "ListPartsResult",
        "CreateMultipartUpload" => "InitiateMultipartUploadResult",
        "CompleteMultipartUpload" => "CompleteMultipartUploadResult",
        "DeleteObjects" => "DeleteResult",
        "GetBucketLocation" => "LocationConstraint",
        "GetBucketTagging" | "GetObjectTagging" => "Tagging",
        "GetBucketVersioning" => "VersioningConfiguration",
        "GetBucketAcl" | "GetObjectAcl" => "AccessControlPolicy",
        "GetBucketCors" => "CORSConfiguration",
        "GetBucketLifecycleConfiguration" => "LifecycleConfiguration",
        "GetBucketNotificationConfiguration" => "NotificationConfiguration",
        "GetBucketWebsite" => "WebsiteConfiguration",
        "GetBucketAccelerateConfiguration" => "AccelerateConfiguration",
        "GetBucketRequestPayment" => "RequestPaymentConfiguration",
        "GetBucketLogging" => "BucketLoggingStatus",
        "GetObjectAttributes" => "GetObjectAttributesResponse",
        "GetObjectRetention" => "Retention",
        "GetObjectLegalHold" => "LegalHold",
        "ListBucketAnalyticsConfigurations" => "ListBucketAnalyticsConfigurationResult",
        "ListBucketInventoryConfigurations" => "ListInventoryConfigurationsResult",
        "ListBucketMetricsConfigurations" => "ListMetricsConfigurationsResult",
        "ListBucketIntelligentTieringConfigurations" => {
            "ListBucketIntelligentTieringConfigurationsOutput"
        }
        other => return format!("{other}Result"),
    }
    .to_string()
}

pub(crate) fn encode_output(
    model: &ServiceModel,
    op: &Operation,
    output: &Value,
) -> Result<http::Response<Bytes>, AwsError> {
    let Some(shape) = model.output_shape(op) else {
        let status = op.http.response_code.unwrap_or(200);
        let mut resp = http::Response::new(Bytes::new());
        *resp.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::OK);
        return Ok(resp);
    };
    // `GetBucketLocation` is the one document whose root holds text, not members.
    if op.name == "GetBucketLocation" {
        let mut w = XmlWriter::default();
        w.declaration();
        let mut attrs = Vec::new();
        if let Some(ns) = namespace(model) {
            attrs.push(("xmlns", ns));
        }
        w.open("LocationConstraint", &attrs);
        w.out.push_str(&crate::xml::escape_text(
            output
                .get("LocationConstraint")
                .and_then(Value::as_str)
                .unwrap_or(""),
        ));
        w.close("LocationConstraint");
        return Ok(response(
            http::StatusCode::OK,
            "application/xml",
            w.out.into_bytes(),
        ));
    }
    let root = shape
        .location_name
        .clone()
        .unwrap_or_else(|| root_element(&op.name));
    Ok(rest::encode(
        model,
        op,
        shape,
        output,
        Protocol::RestXml,
        &root,
        namespace(model),
    ))
}

pub(crate) fn encode_error(error: &AwsError, request_id: &str) -> http::Response<Bytes> {
    let mut w = XmlWriter::default();
    w.declaration();
    w.open("Error", &[]);
    w.leaf("Code", error.code);
    w.leaf("Message", &error.message);
    for (k, v) in &error.fields {
        let text = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        w.leaf(k, &text);
    }
    w.leaf("RequestId", request_id);
    w.leaf("HostId", request_id);
    w.close("Error");
    response(error.status, "application/xml", w.out.into_bytes())
}
