//! What PutBucketLifecycleConfiguration refuses: S3's rules on actions, expirations and the
//! storage-class transitions (minimum days, the waterfall order, minimum stays), with its texts.

use aloft_core::AwsError;

use crate::domain::lifecycle::{LifecycleConfiguration, LifecycleRule};
use crate::domain::storage::{is_transition_target, min_stay_days, rank};
use crate::error::{S3Error, invalid_argument};

/// How S3 names a rule's filter in its messages: `(prefix=logs/)`,
/// `(prefix=logs/ and objectsizelessthan=100)`.
fn describe(r: &LifecycleRule) -> String {
    let mut parts = Vec::new();
    let mut add =
        |prefix: Option<&str>, tags: Vec<(&str, &str)>, gt: Option<u64>, lt: Option<u64>| {
            parts.push(format!("prefix={}", prefix.unwrap_or("")));
            for (k, v) in tags {
                parts.push(format!("tag={k}={v}"));
            }
            if let Some(g) = gt {
                parts.push(format!("objectsizegreaterthan={g}"));
            }
            if let Some(l) = lt {
                parts.push(format!("objectsizelessthan={l}"));
            }
        };
    match &r.filter {
        Some(f) => match &f.and {
            Some(a) => add(
                a.prefix.as_deref(),
                a.tags
                    .iter()
                    .map(|t| (t.key.as_str(), t.value.as_str()))
                    .collect(),
                a.size_gt,
                a.size_lt,
            ),
            None => add(
                f.prefix.as_deref(),
                f.tag
                    .iter()
                    .map(|t| (t.key.as_str(), t.value.as_str()))
                    .collect(),
                f.size_gt,
                f.size_lt,
            ),
        },
        None => add(r.prefix.as_deref(), Vec::new(), None, None),
    }
    format!("({})", parts.join(" and "))
}

fn is_midnight(date: &str) -> Option<bool> {
    let t = time::OffsetDateTime::parse(date, &time::format_description::well_known::Rfc3339)
        .or_else(|_| {
            // S3 also takes a bare ISO 8601 date-time without an offset.
            time::PrimitiveDateTime::parse(
                date,
                &time::format_description::well_known::Iso8601::DEFAULT,
            )
            .map(time::PrimitiveDateTime::assume_utc)
        })
        .ok()?;
    let t = t.to_offset(time::UtcOffset::UTC);
    Some(t.hour() == 0 && t.minute() == 0 && t.second() == 0 && t.nanosecond() == 0)
}

fn check_date(date: &str) -> Result<(), AwsError> {
    match is_midnight(date) {
        None => Err(S3Error::MalformedXML.err()),
        Some(false) => Err(invalid_argument(
            "'Date' must be at midnight GMT",
            "Date",
            date,
        )),
        Some(true) => Ok(()),
    }
}

fn check_transitions(r: &LifecycleRule) -> Result<(), AwsError> {
    let filter = describe(r);
    let mut by_days: Vec<(u32, &str)> = Vec::new();
    let (mut dated, mut counted) = (false, false);
    for t in &r.transitions {
        let class = t.storage_class.as_deref().unwrap_or("");
        if !is_transition_target(class) {
            return Err(S3Error::MalformedXML.err());
        }
        match (t.days, t.date.as_deref()) {
            (Some(d), None) => {
                counted = true;
                if matches!(class, "STANDARD_IA" | "ONEZONE_IA") && d < 30 {
                    return Err(invalid_argument(
                        format!(
                            "'Days' in Transition action must be greater than or equal to 30 for storageClass '{class}'"
                        ),
                        "Days",
                        &d.to_string(),
                    ));
                }
                by_days.push((d, class));
            }
            (None, Some(date)) => {
                dated = true;
                check_date(date)?;
            }
            _ => return Err(S3Error::MalformedXML.err()),
        }
    }
    for (i, t) in r.transitions.iter().enumerate() {
        if r.transitions[..i]
            .iter()
            .any(|o| o.storage_class == t.storage_class)
        {
            return Err(S3Error::InvalidArgument.msg(format!(
                "'StorageClass' must be different for 'Transition' actions in same 'Rule' with filter '{filter}'"
            )));
        }
    }
    let exp = r.expiration.as_ref();
    if (dated && exp.is_some_and(|e| e.days.is_some()))
        || (counted && exp.is_some_and(|e| e.date.is_some()))
        || (dated && counted)
    {
        return Err(S3Error::InvalidRequest.msg(format!(
            "Found mixed 'Date' and 'Days' based Expiration and Transition actions in lifecycle rule for filter '{filter}'"
        )));
    }
    // Later classes must come later, after the earlier class's minimum stay.
    by_days.sort_by_key(|(_, c)| rank(c));
    for w in by_days.windows(2) {
        let ((d0, c0), (d1, c1)) = (w[0], w[1]);
        if d1 <= d0 {
            return Err(S3Error::InvalidArgument.msg(format!(
                "'Days' in the Transition action for StorageClass '{c1}' for filter '{filter}' must be greater than 'Days' in the Transition action for StorageClass '{c0}' for filter '{filter}'"
            )));
        }
        let stay = min_stay_days(c0);
        if d1 - d0 < stay {
            return Err(S3Error::InvalidArgument.msg(format!(
                "'Days' in the Transition action for StorageClass '{c1}' for filter '{filter}' must be {stay} days more than 'Days' in the Transition action for StorageClass '{c0}' for filter '{filter}'"
            )));
        }
    }
    if let (Some(e), Some((d, c))) = (
        exp.and_then(|e| e.days),
        by_days.iter().max_by_key(|(d, _)| *d),
    ) && e <= *d
    {
        return Err(S3Error::InvalidArgument.msg(format!(
            "'Days' in the Expiration action for filter '{filter}' must be greater than 'Days' in the Transition action for StorageClass '{c}' for filter '{filter}'"
        )));
    }
    let mut nc: Vec<(u32, &str)> = Vec::new();
    for t in &r.noncurrent_transitions {
        let class = t.storage_class.as_deref().unwrap_or("");
        let Some(d) = t.noncurrent_days else {
            return Err(S3Error::MalformedXML.err());
        };
        if !is_transition_target(class) {
            return Err(S3Error::MalformedXML.err());
        }
        if matches!(class, "STANDARD_IA" | "ONEZONE_IA") && d < 30 {
            return Err(invalid_argument(
                format!(
                    "'NoncurrentDays' in NoncurrentVersionTransition action must be greater than or equal to 30 for storageClass '{class}'"
                ),
                "NoncurrentDays",
                &d.to_string(),
            ));
        }
        if nc.iter().any(|(_, c)| *c == class) {
            return Err(S3Error::InvalidArgument.msg(format!(
                "'StorageClass' must be different for 'NoncurrentVersionTransition' actions in same 'Rule' with filter '{filter}'"
            )));
        }
        nc.push((d, class));
    }
    if let (Some(e), Some((d, c))) = (
        r.noncurrent_expiration
            .as_ref()
            .and_then(|e| e.noncurrent_days),
        nc.iter().max_by_key(|(d, _)| *d),
    ) && e <= *d
    {
        return Err(S3Error::InvalidArgument.msg(format!(
            "'NoncurrentDays' in the NoncurrentVersionExpiration action for filter '{filter}' must be greater than 'NoncurrentDays' in the NoncurrentVersionTransition action for StorageClass '{c}' for filter '{filter}'"
        )));
    }
    Ok(())
}

/// The checks S3 makes on a lifecycle configuration before storing it.
pub fn validate(l: &LifecycleConfiguration) -> Result<(), AwsError> {
    if l.rules.is_empty() || l.rules.len() > 1000 {
        return Err(S3Error::MalformedXML.err());
    }
    for (i, r) in l.rules.iter().enumerate() {
        if !matches!(r.status.as_str(), "Enabled" | "Disabled") {
            return Err(S3Error::MalformedXML.err());
        }
        if let Some(id) = &r.id {
            if id.len() > 255 {
                return Err(invalid_argument(
                    "ID length should not exceed allowed limit of 255",
                    "ID",
                    id,
                ));
            }
            if l.rules[..i].iter().any(|o| o.id.as_ref() == Some(id)) {
                return Err(invalid_argument(
                    "Rule ID must be unique. Found same ID for more than one rule",
                    "ID",
                    id,
                ));
            }
        }
        let has_action = r.expiration.is_some()
            || !r.transitions.is_empty()
            || !r.noncurrent_transitions.is_empty()
            || r.noncurrent_expiration.is_some()
            || r.abort_incomplete.is_some();
        if !has_action {
            return Err(
                S3Error::InvalidRequest.msg("At least one action needs to be specified in a rule")
            );
        }
        if r.filter.is_some() && r.prefix.is_some() {
            return Err(S3Error::MalformedXML.err());
        }
        if let Some(e) = &r.expiration {
            if e.days == Some(0) {
                return Err(invalid_argument(
                    "'Days' for Expiration action must be a positive integer",
                    "Days",
                    "0",
                ));
            }
            if let Some(d) = e.date.as_deref() {
                check_date(d)?;
            }
        }
        if r.abort_incomplete.is_some()
            && let Some(f) = &r.filter
        {
            let and = f.and.as_ref();
            if f.tag.is_some() || and.is_some_and(|a| !a.tags.is_empty()) {
                return Err(S3Error::InvalidRequest
                    .msg("AbortIncompleteMultipartUpload cannot be specified with Tags."));
            }
            let sized = |gt: Option<u64>, lt: Option<u64>| gt.is_some() || lt.is_some();
            if sized(f.size_gt, f.size_lt) || and.is_some_and(|a| sized(a.size_gt, a.size_lt)) {
                return Err(S3Error::InvalidRequest
                    .msg("AbortIncompleteMultipartUpload cannot be specified with Object Size."));
            }
        }
        check_transitions(r)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::lifecycle::{Expiration, LifecycleFilter, Transition};

    fn rule(transitions: &[(u32, &str)], expire: Option<u32>) -> LifecycleConfiguration {
        LifecycleConfiguration {
            rules: vec![LifecycleRule {
                status: "Enabled".into(),
                filter: Some(LifecycleFilter {
                    prefix: Some("logs/".into()),
                    ..Default::default()
                }),
                transitions: transitions
                    .iter()
                    .map(|(d, c)| Transition {
                        days: Some(*d),
                        storage_class: Some((*c).into()),
                        date: None,
                    })
                    .collect(),
                expiration: expire.map(|d| Expiration {
                    days: Some(d),
                    ..Default::default()
                }),
                ..Default::default()
            }],
        }
    }

    fn message(l: &LifecycleConfiguration) -> String {
        validate(l).unwrap_err().message
    }

    #[test]
    fn transition_rules_follow_s3() {
        assert!(validate(&rule(&[(30, "STANDARD_IA"), (60, "GLACIER")], Some(365))).is_ok());
        assert!(validate(&rule(&[(0, "GLACIER")], None)).is_ok());
        assert_eq!(
            message(&rule(&[(7, "STANDARD_IA")], None)),
            "'Days' in Transition action must be greater than or equal to 30 for storageClass 'STANDARD_IA'"
        );
        assert!(
            message(&rule(&[(30, "STANDARD_IA"), (40, "GLACIER")], None))
                .contains("must be 30 days more than")
        );
        assert!(
            message(&rule(&[(90, "STANDARD_IA"), (60, "GLACIER")], None)).contains(
                "for StorageClass 'GLACIER' for filter '(prefix=logs/)' must be greater than"
            )
        );
        assert!(
            message(&rule(&[(30, "GLACIER")], Some(30)))
                .starts_with("'Days' in the Expiration action")
        );
        assert!(
            message(&rule(&[(30, "GLACIER"), (120, "GLACIER")], None))
                .starts_with("'StorageClass' must be different")
        );
        assert_eq!(
            validate(&rule(&[(30, "STANDARD")], None)).unwrap_err().code,
            "MalformedXML"
        );
    }

    #[test]
    fn uploads_are_not_filtered_by_tags_or_size() {
        let mut l = rule(&[], Some(1));
        l.rules[0].abort_incomplete =
            Some(crate::domain::lifecycle::AbortIncompleteMultipartUpload {
                days_after_initiation: Some(1),
            });
        assert!(validate(&l).is_ok());
        l.rules[0].filter.as_mut().unwrap().size_gt = Some(10);
        assert_eq!(
            message(&l),
            "AbortIncompleteMultipartUpload cannot be specified with Object Size."
        );
    }

    #[test]
    fn dates_must_be_midnight() {
        assert_eq!(is_midnight("2030-01-01T00:00:00Z"), Some(true));
        assert_eq!(is_midnight("2030-01-01T00:00:00.000Z"), Some(true));
        assert_eq!(is_midnight("2030-01-01T05:00:00Z"), Some(false));
        assert_eq!(is_midnight("soon"), None);
    }
}
