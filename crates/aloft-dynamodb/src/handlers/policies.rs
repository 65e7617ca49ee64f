//! PutResourcePolicy, GetResourcePolicy, DeleteResourcePolicy and CreateTable's
//! `ResourcePolicy`: one policy per table and one per stream (a stream's policy is its own
//! slot, apart from its table's). The RevisionId is the change time in epoch milliseconds, as
//! AWS's are, and an equivalent re-put keeps it. Under `--enforce-iam` the gateway asks
//! [`DynamoDb::policy_for_resource`] for the policy of the table, index or stream a request
//! acts on.

use std::sync::Arc;

use aloft_core::{AwsError, RequestContext, clock};
use aloft_store::Batch;
use serde_json::{Value as Json, json};

use crate::DynamoDb;
use crate::attached::Kind;
use crate::error::{ErrorCode, table_named_not_found, validation};
use crate::handlers::items::str_param;
use crate::policy_doc::{self, Target};
use crate::state::Table;
use crate::tables::TableMeta;

/// The revision callers pass to put a policy only where none exists.
const NO_POLICY: &str = "NO_POLICY";

fn invalid(detail: &str) -> AwsError {
    validation(format!(
        "One or more parameter values were invalid: {detail}"
    ))
}

fn policy_not_found(detail: &str) -> AwsError {
    ErrorCode::PolicyNotFoundException.err(format!(
        "Resource-based policy not found for the provided ResourceArn: {detail}"
    ))
}

/// A request naming its table by ARN, the way another account reaches a table whose policy
/// lets it in: answered as if made in the table's account and region, by the table's name.
/// (The gateway has already decided, under `--enforce-iam`, with the table's policy.)
pub(crate) fn by_table_arn(
    rc: &RequestContext,
    op: &str,
    input: &mut Json,
) -> Option<RequestContext> {
    // A table is created in the caller's own account only.
    if op == "CreateTable" {
        return None;
    }
    let a = aloft_core::arn::parse(input.get("TableName")?.as_str()?)?;
    let name = a.resource.strip_prefix("table/")?;
    if a.service != "dynamodb" || name.contains('/') {
        return None;
    }
    let mut owner = rc.clone();
    owner.account_id = a.account.to_string();
    owner.region = a.region.to_string();
    input["TableName"] = json!(name);
    Some(owner)
}

/// The resource a policy operation names.
struct Resolved {
    table: Arc<Table>,
    meta: Arc<TableMeta>,
    target: Target,
    /// The key of the policy's slot: the table's ARN or its stream's.
    slot: String,
}

/// The policy attached to a resource: its canonical text and revision.
struct Attachment {
    policy: String,
    revision: String,
}

impl Attachment {
    fn from_json(v: &Json) -> Option<Self> {
        Some(Attachment {
            policy: v["Policy"].as_str()?.to_string(),
            revision: v["RevisionId"].as_str()?.to_string(),
        })
    }
}

impl DynamoDb {
    /// The policy attached to a resolved table or stream, if any.
    fn attached_policy(&self, r: &Resolved) -> Option<Attachment> {
        self.attached
            .get(Kind::Policy, &r.slot, &r.meta)
            .and_then(|v| Attachment::from_json(&v))
    }

    /// The table or stream a `ResourceArn` names, with AWS's answers for every other form.
    fn policy_resource(&self, rc: &RequestContext, arn: &str) -> Result<Resolved, AwsError> {
        if !arn.starts_with("arn:") {
            return Err(invalid(&format!("ARNs must start with 'arn:': {arn}")));
        }
        let bad_arn = || invalid(&format!("Invalid resource Arn: {arn}"));
        let a = aloft_core::arn::parse(arn).ok_or_else(bad_arn)?;
        if a.partition != "aws" || a.service != "dynamodb" || a.region != rc.region {
            return Err(bad_arn());
        }
        if a.account != rc.account_id {
            return Err(validation(
                "This action is only supported by accounts that match the resource owner\u{2019}s account.",
            ));
        }
        let parts: Vec<&str> = a.resource.split('/').collect();
        let (name, stream) = match parts.as_slice() {
            ["table", name] if !name.is_empty() => (*name, None),
            ["table", name, "stream", label] if !name.is_empty() => (*name, Some(*label)),
            ["table", _, "index", _] => {
                return Err(invalid(&format!(
                    "Invalid resource arn provided, only table or stream is accepted. Provided resource arn: {arn}"
                )));
            }
            _ => {
                return Err(invalid(&format!(
                    "Provided Arn is not a DynamoDB resource arn: {arn}"
                )));
            }
        };
        let table = self
            .db
            .get(&rc.account_id, &rc.region, name)
            .ok_or_else(|| table_named_not_found(name))?;
        let meta = table.data.read().expect("table lock").meta.clone();
        let target = match stream {
            None => Target::Table,
            Some(label) if meta.stream_label.as_deref() == Some(label) => Target::Stream,
            Some(label) => {
                return Err(ErrorCode::ResourceNotFoundException.err(format!(
                    "Requested resource not found: Stream: {label} not found for Table: {name}"
                )));
            }
        };
        let slot = match target {
            Target::Table => meta.arn(),
            Target::Stream => meta.stream_arn().unwrap_or_default(),
        };
        Ok(Resolved {
            table,
            meta,
            target,
            slot,
        })
    }

    /// Checks `ExpectedRevisionId` against the attached policy, with AWS's messages.
    fn check_revision(
        expected: Option<&str>,
        current: Option<&Attachment>,
        arn: &str,
        table: &str,
    ) -> Result<(), AwsError> {
        match (expected, current) {
            (None, _) | (Some(NO_POLICY), None) => Ok(()),
            (Some(NO_POLICY), Some(c)) => Err(policy_not_found(&format!(
                "Requested policy update expecting none to be present for table {table}, but a policy exists with revision id {}.",
                c.revision
            ))),
            (Some(e), Some(c)) if e == c.revision => Ok(()),
            (Some(e), Some(c)) => Err(policy_not_found(&format!(
                "Requested update for policy with revision id {e}, but the policy associated to target table {table} has revision id {}.",
                c.revision
            ))),
            (Some(_), None) => Err(policy_not_found(arn)),
        }
    }

    pub async fn put_resource_policy(
        &self,
        rc: &RequestContext,
        input: Json,
    ) -> Result<Json, AwsError> {
        let arn = str_param(&input, "ResourceArn").unwrap_or_default();
        let r = self.policy_resource(rc, arn)?;
        let text = str_param(&input, "Policy").unwrap_or_default();
        let canonical = policy_doc::validate(text, r.target).map_err(validation)?;
        let confirmed = input
            .get("ConfirmRemoveSelfResourceAccess")
            .and_then(Json::as_bool)
            .unwrap_or(false);
        if !confirmed && policy_doc::locks_out(&canonical, &rc.account_id) {
            return Err(ErrorCode::AccessDeniedException.err(
                "The new resource policy will not allow you to update the resource policy in the future.",
            ));
        }
        let expected = str_param(&input, "ExpectedRevisionId");
        let mut batch = Batch::new();
        let revision = {
            // The table's lock orders policy changes on it.
            let _order = r.table.data.write().expect("table lock");
            let current = self.attached_policy(&r);
            Self::check_revision(expected, current.as_ref(), arn, &r.meta.name)?;
            match current {
                // An equivalent document is no change: AWS answers the same revision.
                Some(c) if c.policy == canonical => return Ok(json!({"RevisionId": c.revision})),
                c => {
                    let now = clock::now_millis();
                    let prev = c.and_then(|c| c.revision.parse::<i64>().ok()).unwrap_or(0);
                    let revision = now.max(prev + 1).to_string();
                    self.attached.set(
                        Kind::Policy,
                        &r.slot,
                        &r.meta,
                        Some(json!({"Policy": canonical, "RevisionId": revision})),
                        &mut batch,
                    );
                    revision
                }
            }
        };
        self.commit(batch).await?;
        Ok(json!({"RevisionId": revision}))
    }

    pub async fn get_resource_policy(
        &self,
        rc: &RequestContext,
        input: Json,
    ) -> Result<Json, AwsError> {
        let arn = str_param(&input, "ResourceArn").unwrap_or_default();
        let r = self.policy_resource(rc, arn)?;
        let current = self
            .attached_policy(&r)
            .ok_or_else(|| policy_not_found(arn))?;
        Ok(json!({
            "Policy": policy_doc::as_read(&current.policy),
            "RevisionId": current.revision,
        }))
    }

    pub async fn delete_resource_policy(
        &self,
        rc: &RequestContext,
        input: Json,
    ) -> Result<Json, AwsError> {
        let arn = str_param(&input, "ResourceArn").unwrap_or_default();
        let r = self.policy_resource(rc, arn)?;
        let expected = str_param(&input, "ExpectedRevisionId");
        let mut batch = Batch::new();
        let removed = {
            let _order = r.table.data.write().expect("table lock");
            let current = self.attached_policy(&r);
            Self::check_revision(expected, current.as_ref(), arn, &r.meta.name)?;
            // Deleting where no policy is attached is an idempotent success with an empty
            // answer; a real deletion answers the removed policy's revision.
            let Some(c) = current else {
                return Ok(json!({}));
            };
            self.attached
                .set(Kind::Policy, &r.slot, &r.meta, None, &mut batch);
            c.revision
        };
        self.commit(batch).await?;
        Ok(json!({"RevisionId": removed}))
    }

    /// CreateTable's `ResourcePolicy`, checked before the table is made.
    pub(crate) fn create_table_policy(input: &Json) -> Result<Option<String>, AwsError> {
        match str_param(input, "ResourcePolicy") {
            None => Ok(None),
            Some(text) => policy_doc::validate(text, Target::Table)
                .map(Some)
                .map_err(validation),
        }
    }

    /// Attaches CreateTable's checked policy to the new table, in the creation's batch.
    pub(crate) fn attach_table_policy(&self, meta: &TableMeta, policy: String, batch: &mut Batch) {
        let body = json!({"Policy": policy, "RevisionId": meta.created_ms.to_string()});
        self.attached
            .set(Kind::Policy, &meta.arn(), meta, Some(body), batch);
    }

    /// After DeleteTable: the table's policies, Insights and scaling settings go with it, and
    /// its region leaves the 2017.11.29 global table of its name.
    pub(crate) async fn drop_attached(&self, meta: &TableMeta) -> Result<(), AwsError> {
        let mut batch = Batch::new();
        self.attached.drop_table(meta, &mut batch);
        self.leave_legacy_global(meta, &mut batch);
        if batch.is_empty() {
            return Ok(());
        }
        self.commit(batch).await
    }

    /// The policy that governs `resource` (a table, index or stream ARN) for `--enforce-iam`:
    /// an index is governed by its table's policy, a stream by its own.
    pub fn policy_for_resource(&self, resource: &str) -> Option<String> {
        let a = aloft_core::arn::parse(resource)?;
        if a.service != "dynamodb" {
            return None;
        }
        let mut parts = a.resource.split('/');
        let (Some("table"), Some(name)) = (parts.next(), parts.next()) else {
            return None;
        };
        let table = self.db.get(a.account, a.region, name)?;
        let meta = table.data.read().expect("table lock").meta.clone();
        let slot = match (parts.next(), parts.next()) {
            (Some("stream"), Some(label)) => format!("{}/stream/{label}", meta.arn()),
            _ => meta.arn(),
        };
        let v = self.attached.get(Kind::Policy, &slot, &meta)?;
        Attachment::from_json(&v).map(|c| policy_doc::as_read(&c.policy))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn current(rev: &str) -> Attachment {
        Attachment {
            policy: "{}".into(),
            revision: rev.into(),
        }
    }

    #[test]
    fn expected_revision_rules() {
        let arn = "arn:aws:dynamodb:us-east-1:000000000000:table/t";
        let check = |e: Option<&str>, c: Option<&Attachment>| {
            DynamoDb::check_revision(e, c, arn, "t").map_err(|e| (e.code, e.message))
        };
        let c = current("1700000000000");
        // No expectation, a matching one, or NO_POLICY where none exists: go ahead.
        assert!(check(None, Some(&c)).is_ok());
        assert!(check(None, None).is_ok());
        assert!(check(Some("1700000000000"), Some(&c)).is_ok());
        assert!(check(Some(NO_POLICY), None).is_ok());
        let (code, msg) = check(Some(NO_POLICY), Some(&c)).unwrap_err();
        assert_eq!(code, "PolicyNotFoundException");
        assert_eq!(
            msg,
            "Resource-based policy not found for the provided ResourceArn: Requested policy update expecting none to be present for table t, but a policy exists with revision id 1700000000000."
        );
        let (_, msg) = check(Some("1"), Some(&c)).unwrap_err();
        assert_eq!(
            msg,
            "Resource-based policy not found for the provided ResourceArn: Requested update for policy with revision id 1, but the policy associated to target table t has revision id 1700000000000."
        );
        let (code, msg) = check(Some("1"), None).unwrap_err();
        assert_eq!(code, "PolicyNotFoundException");
        assert!(msg.ends_with(arn));
    }
}
