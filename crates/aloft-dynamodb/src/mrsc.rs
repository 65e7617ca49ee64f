//! Multi-Region strong consistency (MRSC) rules for global tables: which regions may hold
//! a member, how many members a group has (three replicas, or two and a witness), which
//! changes to the group UpdateTable may ask for, and what an MRSC table refuses.
//!
//! The refusals and their order follow AWS's measured answers (ack-api-quirks probes
//! DDB-TABLE-202/257/260/261): a group is born complete in one UpdateTable, its membership
//! is then frozen, and it is dissolved by one call deleting every other replica and the
//! witness.

use aloft_core::AwsError;

use crate::error::validation;

/// The regions that may hold an MRSC replica or witness. AWS once required all three in
/// one region set (US, EU or AP); measured since, a eu-west-1 replica with a us-east-2
/// witness is accepted, so only membership of this list is checked.
const STRONG_REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-central-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
];

/// A group's members as UpdateTable sees them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Group {
    /// Regions holding a replica, the caller's included (just it for a regional table).
    pub replicas: Vec<String>,
    pub witness: Option<String>,
    pub strong: bool,
}

/// The changes one UpdateTable asks of the group.
#[derive(Debug, Default)]
pub struct Changes {
    pub create: Vec<String>,
    pub delete: Vec<String>,
    pub witness_create: Option<String>,
    pub witness_delete: Option<String>,
    /// `MultiRegionConsistency` as given.
    pub consistency: Option<String>,
}

/// What the table holds that MRSC cannot have.
#[derive(Debug, Default)]
pub struct Content {
    pub items: usize,
    pub has_lsi: bool,
    pub has_ttl: bool,
}

/// Whether the request concerns MRSC at all (else the eventual path handles it).
pub fn applies(group: &Group, c: &Changes) -> bool {
    group.strong
        || c.consistency.as_deref() == Some("STRONG")
        || c.witness_create.is_some()
        || c.witness_delete.is_some()
}

fn invalid(detail: &str) -> AwsError {
    validation(format!(
        "One or more parameter values were invalid: {detail}"
    ))
}

fn region_list(regions: &[&String]) -> String {
    let names: Vec<&str> = regions.iter().map(|r| r.as_str()).collect();
    format!("[{}]", names.join(", "))
}

/// The group after `c`, or AWS's refusal. `content` is the caller's table.
pub fn plan(group: &Group, c: &Changes, content: &Content) -> Result<Group, AwsError> {
    let strong_asked = c.consistency.as_deref() == Some("STRONG");
    let witness_given = c.witness_create.is_some() || c.witness_delete.is_some();
    if c.consistency.is_some() && (!c.delete.is_empty() || c.witness_delete.is_some()) {
        return Err(validation(
            "Only Replica Create actions are supported when MultiRegionConsistency parameter is provided.",
        ));
    }
    if group.strong {
        return plan_existing(group, c);
    }
    if witness_given && !strong_asked {
        return Err(validation(
            "MultiRegionConsistency must be set as STRONG when GlobalTableWitnessUpdates parameter is present.",
        ));
    }
    // Creating an MRSC group: the caller's region, the created replicas and the witness.
    let here = &group.replicas[0];
    if 1 + c.create.len() + usize::from(c.witness_create.is_some()) != 3 {
        return Err(validation(
            "Unsupported replica count for global tables with MultiRegionConsistency set to STRONG.",
        ));
    }
    let mut unsupported: Vec<&String> = Vec::new();
    for r in std::iter::once(here)
        .chain(c.create.iter())
        .chain(c.witness_create.iter())
    {
        if !STRONG_REGIONS.contains(&r.as_str()) && !unsupported.contains(&r) {
            unsupported.push(r);
        }
    }
    if !unsupported.is_empty() {
        return Err(validation(format!(
            "Unsupported Region(s) specified for global tables with MultiRegionConsistency set to STRONG: {}.",
            region_list(&unsupported)
        )));
    }
    let mut targets: Vec<&String> = c.create.iter().collect();
    targets.extend(c.witness_create.iter());
    if targets
        .iter()
        .enumerate()
        .any(|(i, r)| targets[..i].contains(r))
    {
        return Err(validation(
            "Cannot target multiple regions with the same action",
        ));
    }
    if c.witness_create.as_ref() == Some(here) {
        return Err(validation(
            "Cannot add a witness in the same region as an existing replica when creating a global table with MultiRegionConsistency set to STRONG.",
        ));
    }
    if group.replicas.len() > 1 {
        // An eventual group cannot become strong (AWS's shape checks come first; this is
        // the message it gives an existing group asked to change mode).
        return Err(validation(
            "MultiRegionConsistency parameter is unsupported on existing global table",
        ));
    }
    if content.items > 0 {
        return Err(invalid(
            "A table must be empty to be converted to a global table with MultiRegionConsistency set to STRONG",
        ));
    }
    if content.has_lsi {
        return Err(invalid(
            "Local secondary indexes are not supported for global tables with MultiRegionConsistency set to STRONG",
        ));
    }
    if content.has_ttl {
        return Err(invalid(
            "Time to Live is not supported for global tables with MultiRegionConsistency set to STRONG",
        ));
    }
    let mut replicas = group.replicas.clone();
    replicas.extend(c.create.iter().cloned());
    Ok(Group {
        replicas,
        witness: c.witness_create.clone(),
        strong: true,
    })
}

/// A change to an existing MRSC group: only its dissolution (every other replica and the
/// witness deleted in one call) is allowed.
fn plan_existing(group: &Group, c: &Changes) -> Result<Group, AwsError> {
    if let Some(mode) = &c.consistency {
        if mode != "STRONG" {
            return Err(validation(
                "MultiRegionConsistency parameter is unsupported on existing global table",
            ));
        }
        return Err(validation(
            "Unsupported replica count for global tables with MultiRegionConsistency set to STRONG.",
        ));
    }
    if !c.create.is_empty() || c.witness_create.is_some() {
        return Err(validation(
            "Cannot add replicas to a global table with strong MultiRegionConsistency",
        ));
    }
    let strangers: Vec<&String> = c
        .delete
        .iter()
        .filter(|r| !group.replicas[1..].contains(r))
        .collect();
    if !strangers.is_empty() {
        return Err(validation(format!(
            "Update global table operation failed because one or more replicas were not part of the global table. Please retry the request without these replicas: {}.",
            region_list(&strangers)
        )));
    }
    if let Some(w) = &c.witness_delete
        && group.witness.as_ref() != Some(w)
    {
        return Err(validation(format!(
            "Update global table operation failed because one or more witnesses were not part of the global table. Please retry the request without these witnesses: {}.",
            region_list(&[w])
        )));
    }
    if group.witness.is_some() && c.witness_delete.is_none() {
        return Err(validation(
            "Update table delete operation does not include all witnesses.",
        ));
    }
    if c.delete.len() + 1 != group.replicas.len() {
        return Err(refuse_delete());
    }
    Ok(Group {
        replicas: vec![group.replicas[0].clone()],
        witness: None,
        strong: false,
    })
}

/// What an MRSC table refuses: transactions.
pub fn refuse_transaction() -> AwsError {
    validation(
        "Transactions are not supported for global tables with MultiRegionConsistency set to STRONG",
    )
}

/// DeleteTable of one replica of an MRSC table, or an UpdateTable removing some but not
/// all of the others (AWS's measured text for both).
pub fn refuse_delete() -> AwsError {
    validation(
        "Deletion of only one table replica is not supported for global tables with MultiRegionConsistency set to STRONG.",
    )
}

/// What an MRSC table refuses: Time to Live.
pub fn refuse_ttl() -> AwsError {
    validation(
        "Time to Live is not supported for global tables with MultiRegionConsistency set to STRONG",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn regional(r: &str) -> Group {
        Group {
            replicas: vec![r.into()],
            ..Group::default()
        }
    }

    fn strong(create: &[&str], witness: Option<&str>) -> Changes {
        Changes {
            create: create.iter().map(|s| s.to_string()).collect(),
            witness_create: witness.map(str::to_string),
            consistency: Some("STRONG".into()),
            ..Changes::default()
        }
    }

    fn msg(r: Result<Group, AwsError>) -> String {
        r.unwrap_err().message
    }

    #[test]
    fn three_replicas_or_two_and_a_witness_in_capable_regions() {
        let none = Content::default();
        let g = plan(
            &regional("us-east-1"),
            &strong(&["us-east-2", "us-west-2"], None),
            &none,
        );
        let g = g.unwrap();
        assert!(g.strong);
        assert_eq!(g.replicas, ["us-east-1", "us-east-2", "us-west-2"]);
        let g = plan(
            &regional("us-east-1"),
            &strong(&["us-east-2"], Some("us-west-2")),
            &none,
        );
        assert_eq!(g.unwrap().witness.as_deref(), Some("us-west-2"));
        // Measured: a cross-continent group is accepted.
        assert!(
            plan(
                &regional("us-west-2"),
                &strong(&["eu-west-1"], Some("us-east-2")),
                &none
            )
            .is_ok()
        );
        assert_eq!(
            msg(plan(
                &regional("us-east-1"),
                &strong(&["us-east-2"], None),
                &none
            )),
            "Unsupported replica count for global tables with MultiRegionConsistency set to STRONG."
        );
        assert_eq!(
            msg(plan(
                &regional("us-west-2"),
                &strong(&["us-west-1"], Some("us-west-1")),
                &none
            )),
            "Unsupported Region(s) specified for global tables with MultiRegionConsistency set to STRONG: [us-west-1]."
        );
        assert_eq!(
            msg(plan(
                &regional("us-west-2"),
                &strong(&["us-east-1"], Some("us-east-1")),
                &none
            )),
            "Cannot target multiple regions with the same action"
        );
        assert!(
            msg(plan(
                &regional("us-west-2"),
                &strong(&["us-east-1"], Some("us-west-2")),
                &none
            ))
            .starts_with("Cannot add a witness in the same region as an existing replica")
        );
    }

    #[test]
    fn what_a_conversion_needs() {
        let c = strong(&["eu-west-2"], Some("eu-central-1"));
        for (content, word) in [
            (
                Content {
                    items: 1,
                    ..Content::default()
                },
                "empty",
            ),
            (
                Content {
                    has_lsi: true,
                    ..Content::default()
                },
                "Local secondary",
            ),
            (
                Content {
                    has_ttl: true,
                    ..Content::default()
                },
                "Time to Live",
            ),
        ] {
            assert!(msg(plan(&regional("eu-west-1"), &c, &content)).contains(word));
        }
        let witness_alone = Changes {
            create: vec!["us-east-2".into()],
            witness_create: Some("us-west-2".into()),
            ..Changes::default()
        };
        assert!(applies(&regional("us-east-1"), &witness_alone));
        assert_eq!(
            msg(plan(
                &regional("us-east-1"),
                &witness_alone,
                &Content::default()
            )),
            "MultiRegionConsistency must be set as STRONG when GlobalTableWitnessUpdates parameter is present."
        );
    }

    #[test]
    fn an_existing_group_is_frozen_until_dissolved() {
        let none = Content::default();
        let g = Group {
            replicas: vec!["us-east-1".into(), "us-east-2".into()],
            witness: Some("us-west-2".into()),
            strong: true,
        };
        let delete = |d: &[&str], w: Option<&str>| Changes {
            delete: d.iter().map(|s| s.to_string()).collect(),
            witness_delete: w.map(str::to_string),
            ..Changes::default()
        };
        assert_eq!(
            msg(plan(&g, &delete(&["us-east-2"], None), &none)),
            "Update table delete operation does not include all witnesses."
        );
        assert!(
            msg(plan(&g, &delete(&["us-east-2"], Some("eu-west-1")), &none))
                .ends_with("Please retry the request without these witnesses: [eu-west-1].")
        );
        let single = plan(&g, &delete(&["us-east-2"], Some("us-west-2")), &none).unwrap();
        assert_eq!(single, regional("us-east-1"));
        let add = Changes {
            create: vec!["eu-west-1".into()],
            ..Changes::default()
        };
        assert_eq!(
            msg(plan(&g, &add, &none)),
            "Cannot add replicas to a global table with strong MultiRegionConsistency"
        );
        let eventual = Changes {
            consistency: Some("EVENTUAL".into()),
            ..add
        };
        assert_eq!(
            msg(plan(&g, &eventual, &none)),
            "MultiRegionConsistency parameter is unsupported on existing global table"
        );
        let strong_delete = Changes {
            consistency: Some("STRONG".into()),
            ..delete(&["us-east-2"], None)
        };
        assert!(msg(plan(&g, &strong_delete, &none)).starts_with("Only Replica Create actions"));
        let three = Group {
            replicas: vec!["us-east-1".into(), "us-east-2".into(), "us-west-2".into()],
            witness: None,
            strong: true,
        };
        assert!(
            msg(plan(&three, &delete(&["us-east-2"], None), &none))
                .starts_with("Deletion of only one")
        );
        assert!(plan(&three, &delete(&["us-east-2", "us-west-2"], None), &none).is_ok());
    }
}
