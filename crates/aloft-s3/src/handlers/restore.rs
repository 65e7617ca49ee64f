//! RestoreObject: a temporary readable copy of an archived (GLACIER, DEEP_ARCHIVE) object,
//! ready after its tier's time on the one clock (202 first, 409 while in progress, 200 when an
//! existing copy's expiry is extended).

use aloft_core::AwsError;
use aloft_core::body::Response;
use aloft_store::Batch;
use serde::Deserialize;

use super::objects::check_version_id;
use super::{Call, committed};
use crate::domain::notifications::{EventExtra, ObjectEvent};
use crate::domain::storage::{Restore, RestoreState, Tier, expiry_after, is_archive};
use crate::domain::versions;
use crate::error::{S3Error, internal, invalid_argument, no_such_key};
use crate::xml::Resp;
use crate::{S3, events, store};

#[derive(Debug, Default, Deserialize)]
struct GlacierJobParameters {
    #[serde(rename = "Tier")]
    tier: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct RestoreRequest {
    #[serde(rename = "Days")]
    days: Option<i64>,
    #[serde(rename = "GlacierJobParameters")]
    glacier: Option<GlacierJobParameters>,
    #[serde(rename = "Tier")]
    tier: Option<String>,
    #[serde(rename = "Type")]
    kind: Option<String>,
    #[serde(rename = "OutputLocation")]
    output: Option<serde::de::IgnoredAny>,
    #[serde(rename = "SelectParameters")]
    select: Option<serde::de::IgnoredAny>,
}

pub async fn restore_object(s3: &S3, call: &mut Call) -> Result<Response, AwsError> {
    let version = call.q.get("versionId").map(str::to_string);
    if let Some(v) = &version {
        check_version_id(v)?;
    }
    let cell = s3.bucket(&call.bucket)?;
    let raw = call.read_small().await?;
    let req: RestoreRequest = if raw.iter().all(u8::is_ascii_whitespace) {
        RestoreRequest::default()
    } else {
        crate::xml::from_xml(&raw)?
    };
    if req.kind.is_some() || req.output.is_some() || req.select.is_some() {
        return Err(S3Error::NotImplemented
            .msg("S3 Select restores (Type SELECT, OutputLocation) are not implemented by Aloft"));
    }
    let tier_name = req
        .glacier
        .as_ref()
        .and_then(|g| g.tier.clone())
        .or(req.tier.clone())
        .unwrap_or_else(|| "Standard".into());
    let tier = Tier::parse(&tier_name).ok_or_else(|| S3Error::MalformedXML.err())?;
    let days = match req.days {
        Some(d) if d >= 1 && d <= i64::from(u32::MAX) => d as u32,
        Some(d) => {
            return Err(invalid_argument(
                "Days must be a positive integer",
                "Days",
                &d.to_string(),
            ));
        }
        // Archived objects need a lifetime for their copy.
        None => return Err(S3Error::MalformedXML.err()),
    };
    let now = aloft_core::clock::now_millis();
    let (commit, status, staged) = {
        let mut b = cell.write().map_err(internal)?;
        let (name, account, region) = (
            b.info.name.clone(),
            b.info.account.clone(),
            b.info.region.clone(),
        );
        let notif = b.info.config.notification.clone();
        let found = versions::find(&b, &call.key, version.as_deref()).map(|v| v.delete_marker);
        match (found, &version) {
            (None, None) | (Some(true), None) => return Err(no_such_key(&call.key)),
            (None, Some(v)) => {
                return Err(S3Error::NoSuchVersion
                    .err()
                    .with_field("Key", call.key.clone())
                    .with_field("VersionId", v.clone()));
            }
            (Some(true), Some(_)) => {
                return Err(S3Error::MethodNotAllowed
                    .err()
                    .with_field("Method", "POST")
                    .with_field("ResourceType", "DeleteMarker"));
            }
            (Some(false), _) => {}
        }
        let want = version.as_deref();
        let v = b
            .objects
            .get_mut(&call.key)
            .and_then(|vs| match want {
                None => vs.last_mut(),
                Some(id) => vs.iter_mut().find(|v| v.version_str() == id),
            })
            .ok_or_else(|| no_such_key(&call.key))?;
        let class = v.meta.storage_class.clone().unwrap_or_default();
        if !is_archive(Some(&class)) {
            return Err(S3Error::InvalidObjectState
                .msg("Restore is not allowed for the object's current storage class")
                .with_field(
                    "StorageClass",
                    if class.is_empty() {
                        "STANDARD".into()
                    } else {
                        class
                    },
                ));
        }
        if class == "DEEP_ARCHIVE" && tier == Tier::Expedited {
            return Err(invalid_argument(
                "Expedited retrieval is not supported for the DEEP_ARCHIVE storage class",
                "Tier",
                "Expedited",
            ));
        }
        let status = match v.meta.restore.as_deref().map(|r| r.state(now)) {
            Some(RestoreState::Ongoing) => return Err(S3Error::RestoreAlreadyInProgress.err()),
            Some(RestoreState::Restored { .. }) => {
                // A restored copy's expiry is recomputed from now.
                if let Some(r) = v.meta.restore.as_deref_mut() {
                    r.days = days;
                    r.expires_at = expiry_after(now, days);
                }
                200
            }
            _ => {
                v.meta.restore = Some(Box::new(Restore::new(now, days, tier, &class)));
                202
            }
        };
        let mut batch = Batch::new();
        store::put_version(&mut batch, &name, &call.key, v);
        let event = (status == 202).then(|| ObjectEvent {
            name: "ObjectRestore:Post",
            bucket: name.clone(),
            key: call.key.clone(),
            size: Some(v.size),
            etag: Some(v.etag.clone()),
            version_id: v.version_id.clone(),
            seq: s3.next_seq(),
            time_ms: now,
            region,
            account,
            request_id: call.ctx.request_id.clone(),
            principal: super::objects::principal(call),
            source_ip: "127.0.0.1".into(),
            extra: EventExtra {
                source_class: Some(class.clone()),
                ..EventExtra::default()
            },
        });
        if status == 202 {
            s3.track_restore(&name, &call.key, v.version_id.clone());
        }
        let staged = event.map(|ev| events::stage(s3, notif.as_ref(), &ev, &mut batch));
        (s3.store.submit(batch), status, staged)
    };
    committed(commit).await?;
    if let Some(staged) = staged {
        events::send(s3, staged);
    }
    Ok(Resp::new(status).empty())
}
