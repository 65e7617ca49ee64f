//! Multi-Region strong consistency (MRSC) rules for global tables: which region sets a
//! group may span, how many members it has (three replicas, or two and a witness), which
//! changes to the group UpdateTable may ask for, and what an MRSC table refuses.

use aloft_core::AwsError;

use crate::error::validation;

/// The region sets an MRSC global table lives within (AWS's, as its API reference lists
/// them for a witness).
const REGION_SETS: &[&[&str]] = &[
    &["us-east-1", "us-east-2", "us-west-2"],
    &["eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1"],
    &["ap-northeast-1", "ap-northeast-2", "ap-northeast-3"],
];

fn region_set(region: &str) -> Option<usize> {
    REGION_SETS.iter().position(|s| s.contains(&region))
}

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

/// The group after `c`, or AWS's refusal. `content` is the caller's table.
pub fn plan(group: &Group, c: &Changes, content: &Content) -> Result<Group, AwsError> {
    let global = group.replicas.len() > 1;
    if let Some(mode) = &c.consistency {
        if c.create.is_empty() {
            return Err(invalid(
                "MultiRegionConsistency can only be specified when creating a global table",
            ));
        }
        if global && (mode == "STRONG") != group.strong {
            return Err(invalid(
                "The consistency mode of a global table cannot be changed after creation",
            ));
        }
    }
    if !group.strong && c.consistency.as_deref() != Some("STRONG") {
        return Err(invalid(
            "GlobalTableWitnessUpdates can only be specified for a global table with MultiRegionConsistency set to STRONG",
        ));
    }
    if !group.strong {
        // Converting a regional table.
        if global {
            return Err(invalid(
                "The consistency mode of a global table cannot be changed after creation",
            ));
        }
        if !c.delete.is_empty() || c.witness_delete.is_some() {
            return Err(invalid(
                "Replicas and witnesses can only be deleted from an existing global table",
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
    }
    let mut next = group.clone();
    next.strong = true;
    for r in &c.delete {
        if !next.replicas.iter().any(|x| x == r) || *r == group.replicas[0] {
            return Err(invalid(&format!(
                "Region {r} is not a replica of this global table"
            )));
        }
        next.replicas.retain(|x| x != r);
    }
    if let Some(w) = &c.witness_delete {
        if next.witness.as_deref() != Some(w) {
            return Err(invalid(&format!(
                "Region {w} is not a witness of this global table"
            )));
        }
        next.witness = None;
    }
    for r in &c.create {
        if next.replicas.iter().any(|x| x == r) || next.witness.as_deref() == Some(r) {
            return Err(invalid(&format!(
                "Region {r} is already a member of this global table"
            )));
        }
        next.replicas.push(r.clone());
    }
    if let Some(w) = &c.witness_create {
        if next.witness.is_some() {
            return Err(invalid(
                "A global table with MultiRegionConsistency set to STRONG can have only one witness",
            ));
        }
        if next.replicas.iter().any(|x| x == w) {
            return Err(invalid(&format!(
                "Region {w} cannot be both a replica and a witness"
            )));
        }
        next.witness = Some(w.clone());
    }
    let members: Vec<&String> = next.replicas.iter().chain(next.witness.iter()).collect();
    if next.replicas.len() == 1 && next.witness.is_none() {
        // Every other member removed: a regional table again.
        next.strong = false;
        return Ok(next);
    }
    if members.len() != 3 {
        return Err(invalid(
            "A global table with MultiRegionConsistency set to STRONG must have either three replicas, or two replicas and one witness",
        ));
    }
    let home = region_set(&next.replicas[0]);
    if home.is_none() || members.iter().any(|r| region_set(r) != home) {
        return Err(invalid(
            "All replicas and the witness of a global table with MultiRegionConsistency set to STRONG must be in the same region set",
        ));
    }
    Ok(next)
}

/// What an MRSC table refuses: transactions.
pub fn refuse_transaction() -> AwsError {
    validation(
        "Transactions are not supported for global tables with MultiRegionConsistency set to STRONG",
    )
}

/// DeleteTable of one replica of an MRSC table.
pub fn refuse_delete() -> AwsError {
    validation(
        "One or more parameter values were invalid: A replica of a global table with MultiRegionConsistency set to STRONG cannot be deleted alone; remove the other replicas (and the witness) with UpdateTable first",
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

    fn msg(e: AwsError) -> String {
        e.message.clone()
    }

    #[test]
    fn three_replicas_or_two_and_a_witness_in_one_set() {
        let g = plan(
            &regional("us-east-1"),
            &strong(&["us-east-2", "us-west-2"], None),
            &Content::default(),
        )
        .unwrap();
        assert!(g.strong);
        assert_eq!(g.replicas, ["us-east-1", "us-east-2", "us-west-2"]);
        let g = plan(
            &regional("us-east-1"),
            &strong(&["us-east-2"], Some("us-west-2")),
            &Content::default(),
        )
        .unwrap();
        assert_eq!(g.witness.as_deref(), Some("us-west-2"));
        let two = plan(
            &regional("us-east-1"),
            &strong(&["us-east-2"], None),
            &Content::default(),
        );
        assert!(msg(two.unwrap_err()).contains("three replicas"));
        let across = plan(
            &regional("us-east-1"),
            &strong(&["us-east-2", "eu-west-1"], None),
            &Content::default(),
        );
        assert!(msg(across.unwrap_err()).contains("same region set"));
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
            assert!(msg(plan(&regional("eu-west-1"), &c, &content).unwrap_err()).contains(word));
        }
        let witness_alone = Changes {
            witness_create: Some("us-west-2".into()),
            ..Changes::default()
        };
        assert!(applies(&regional("us-east-1"), &witness_alone));
        assert!(
            msg(plan(&regional("us-east-1"), &witness_alone, &Content::default()).unwrap_err())
                .contains("GlobalTableWitnessUpdates")
        );
    }

    #[test]
    fn removing_members() {
        let g = Group {
            replicas: vec!["us-east-1".into(), "us-east-2".into()],
            witness: Some("us-west-2".into()),
            strong: true,
        };
        let only_witness = Changes {
            witness_delete: Some("us-west-2".into()),
            ..Changes::default()
        };
        assert!(plan(&g, &only_witness, &Content::default()).is_err());
        let both = Changes {
            delete: vec!["us-east-2".into()],
            witness_delete: Some("us-west-2".into()),
            ..Changes::default()
        };
        let single = plan(&g, &both, &Content::default()).unwrap();
        assert_eq!(single, regional("us-east-1"));
        let eventual = Changes {
            create: vec!["us-east-2".into()],
            consistency: Some("EVENTUAL".into()),
            ..Changes::default()
        };
        assert!(
            msg(plan(&g, &eventual, &Content::default()).unwrap_err())
                .contains("cannot be changed")
        );
    }
}
