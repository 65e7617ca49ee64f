//! The EventBridge rendering of an object event: S3's `detail-type`s on the default bus
//! (`Object Created`, `Object Deleted`, `Object Restore Initiated`/`Completed`/`Expired`,
//! `Object Storage Class Changed`, `Object Tags Added`/`Deleted`, `Object ACL Updated`), each
//! with the `detail` members AWS documents for it and no others.

use serde_json::{Value, json};

use super::notifications::{ObjectEvent, SERVICE_PRINCIPAL};

/// EventBridge times have whole seconds (`2021-11-12T00:00:00Z`).
pub fn seconds_time(ms: i64) -> String {
    let s = aloft_core::clock::iso8601_millis(ms.div_euclid(1000) * 1000);
    s.replace(".000Z", "Z")
}

/// The `detail-type` an S3 event name is published as, if EventBridge gets it.
pub fn detail_type(name: &str) -> Option<&'static str> {
    Some(match name {
        n if n.starts_with("ObjectCreated:") => "Object Created",
        n if n.starts_with("ObjectRemoved:") || n.starts_with("LifecycleExpiration:") => {
            "Object Deleted"
        }
        "ObjectRestore:Post" => "Object Restore Initiated",
        "ObjectRestore:Completed" => "Object Restore Completed",
        "ObjectRestore:Delete" => "Object Restore Expired",
        "LifecycleTransition" => "Object Storage Class Changed",
        "ObjectTagging:Put" => "Object Tags Added",
        "ObjectTagging:Delete" => "Object Tags Deleted",
        "ObjectAcl:Put" => "Object ACL Updated",
        _ => return None,
    })
}

/// What the `object` member of each detail type carries.
struct ObjectFields {
    size: bool,
    etag: bool,
    sequencer: bool,
}

fn object_fields(detail_type: &str) -> ObjectFields {
    let (size, etag, sequencer) = match detail_type {
        "Object Created" => (true, true, true),
        "Object Deleted" => (false, true, true),
        "Object Restore Expired" => (false, false, false),
        "Object Tags Added" | "Object Tags Deleted" | "Object ACL Updated" => (false, true, false),
        _ => (true, true, false),
    };
    ObjectFields {
        size,
        etag,
        sequencer,
    }
}

impl ObjectEvent {
    /// The event for the account's default bus, or `None` for events EventBridge never gets.
    pub fn eventbridge(&self) -> Option<Value> {
        let kind = detail_type(self.name)?;
        let by_s3 = self.principal == SERVICE_PRINCIPAL;
        let want = object_fields(kind);
        let mut object = json!({"key": self.key});
        if let Some(size) = self.size.filter(|_| want.size) {
            object["size"] = json!(size);
        }
        if let Some(etag) = self.etag.as_ref().filter(|_| want.etag) {
            object["etag"] = json!(etag);
        }
        if let Some(v) = &self.version_id {
            object["version-id"] = json!(v);
        }
        if want.sequencer {
            object["sequencer"] = json!(format!("{:016X}", self.seq));
        }
        let mut detail = json!({
            "version": "0",
            "bucket": {"name": self.bucket},
            "object": object,
            "request-id": self.request_id,
            // AWS names the account of a caller, and S3 itself for what it does on its own.
            "requester": if by_s3 { SERVICE_PRINCIPAL } else { self.account.as_str() },
        });
        if !by_s3 {
            detail["source-ip-address"] = json!(self.source_ip);
        }
        match kind {
            "Object Created" => {
                detail["reason"] = json!(match self.name {
                    "ObjectCreated:Post" => "POST Object",
                    "ObjectCreated:Copy" => "CopyObject",
                    "ObjectCreated:CompleteMultipartUpload" => "CompleteMultipartUpload",
                    _ => "PutObject",
                });
            }
            "Object Deleted" => {
                let lifecycle = self.name.starts_with("LifecycleExpiration:");
                detail["reason"] = json!(if lifecycle {
                    "Lifecycle Expiration"
                } else {
                    "DeleteObject"
                });
                detail["deletion-type"] = json!(if self.name.ends_with(":DeleteMarkerCreated") {
                    "Delete Marker Created"
                } else {
                    "Permanently Deleted"
                });
            }
            "Object Restore Initiated" => {
                if let Some(c) = &self.extra.source_class {
                    detail["source-storage-class"] = json!(c);
                }
            }
            "Object Restore Completed" => {
                if let Some(at) = self.extra.restore_expiry_ms {
                    detail["restore-expiry-time"] = json!(seconds_time(at));
                }
                if let Some(c) = &self.extra.source_class {
                    detail["source-storage-class"] = json!(c);
                }
            }
            "Object Storage Class Changed" => {
                if let Some(c) = &self.extra.destination_class {
                    detail["destination-storage-class"] = json!(c);
                }
            }
            _ => {}
        }
        Some(json!({
            "version": "0",
            "id": aloft_core::ids::uuid(),
            "detail-type": kind,
            "source": "aws.s3",
            "account": self.account,
            "time": seconds_time(self.time_ms),
            "region": self.region,
            "resources": [format!("arn:aws:s3:::{}", self.bucket)],
            "detail": detail,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::notifications::EventExtra;

    fn event(name: &'static str, principal: &str) -> ObjectEvent {
        ObjectEvent {
            name,
            bucket: "b".into(),
            key: "k".into(),
            size: Some(5),
            etag: Some("e".into()),
            version_id: None,
            seq: 1,
            time_ms: 1_700_000_000_123,
            region: "us-east-1".into(),
            account: "000000000000".into(),
            request_id: "r".into(),
            principal: principal.into(),
            source_ip: "127.0.0.1".into(),
            extra: EventExtra::default(),
        }
    }

    #[test]
    fn lifecycle_expiration_is_an_object_deleted_by_s3() {
        let e = event("LifecycleExpiration:DeleteMarkerCreated", SERVICE_PRINCIPAL)
            .eventbridge()
            .unwrap();
        assert_eq!(e["detail-type"], "Object Deleted");
        assert_eq!(e["time"], "2023-11-14T22:13:20Z");
        let d = &e["detail"];
        assert_eq!(d["reason"], "Lifecycle Expiration");
        assert_eq!(d["deletion-type"], "Delete Marker Created");
        assert_eq!(d["requester"], "s3.amazonaws.com");
        assert!(d.get("source-ip-address").is_none());
        assert!(d["object"].get("size").is_none());
    }

    #[test]
    fn restore_and_transition_details() {
        let mut ev = event("ObjectRestore:Completed", SERVICE_PRINCIPAL);
        ev.extra.source_class = Some("GLACIER".into());
        ev.extra.restore_expiry_ms = Some(1_700_006_400_000);
        let d = ev.eventbridge().unwrap()["detail"].clone();
        assert_eq!(d["source-storage-class"], "GLACIER");
        assert_eq!(d["restore-expiry-time"], "2023-11-15T00:00:00Z");
        let mut ev = event("LifecycleTransition", SERVICE_PRINCIPAL);
        ev.extra.destination_class = Some("GLACIER".into());
        let e = ev.eventbridge().unwrap();
        assert_eq!(e["detail-type"], "Object Storage Class Changed");
        assert_eq!(e["detail"]["destination-storage-class"], "GLACIER");
        let e = event("ObjectTagging:Delete", "AWS:AKID")
            .eventbridge()
            .unwrap();
        assert_eq!(e["detail-type"], "Object Tags Deleted");
        assert_eq!(e["detail"]["requester"], "000000000000");
        assert_eq!(e["detail"]["source-ip-address"], "127.0.0.1");
        assert!(e["detail"]["object"].get("size").is_none());
        assert!(
            event("IntelligentTiering", SERVICE_PRINCIPAL)
                .eventbridge()
                .is_none()
        );
    }
}
