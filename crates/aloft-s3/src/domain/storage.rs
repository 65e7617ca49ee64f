//! Storage classes (their lifecycle order, which are archives) and restores of archived objects
//! (tiers, completion and expiry on the one clock, the `x-amz-restore` header).

use serde::{Deserialize, Serialize};

const DAY_MS: i64 = 86_400_000;
const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 60 * MINUTE_MS;

/// Where a class sits in S3's transition "waterfall": lifecycle moves objects only to a class
/// further down (STANDARD → STANDARD_IA → INTELLIGENT_TIERING → ONEZONE_IA → GLACIER_IR →
/// GLACIER → DEEP_ARCHIVE). `None` for classes lifecycle never targets.
pub fn rank(class: &str) -> Option<u8> {
    Some(match class {
        "STANDARD" | "REDUCED_REDUNDANCY" => 0,
        "STANDARD_IA" => 1,
        "INTELLIGENT_TIERING" => 2,
        "ONEZONE_IA" => 3,
        "GLACIER_IR" => 4,
        "GLACIER" => 5,
        "DEEP_ARCHIVE" => 6,
        _ => return None,
    })
}

/// The classes a lifecycle Transition may name.
pub fn is_transition_target(class: &str) -> bool {
    rank(class).is_some_and(|r| r > 0)
}

/// Archive classes: their objects must be restored before they can be read.
pub fn is_archive(class: Option<&str>) -> bool {
    matches!(class, Some("GLACIER" | "DEEP_ARCHIVE"))
}

/// The least days an object must have stayed in its class before lifecycle may move it on
/// (S3's minimum storage durations, enforced between transitions of one rule).
pub fn min_stay_days(class: &str) -> u32 {
    match class {
        "STANDARD_IA" | "ONEZONE_IA" => 30,
        "GLACIER_IR" | "GLACIER" => 90,
        _ => 0,
    }
}

/// A restore request's retrieval tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Tier {
    Expedited,
    Standard,
    Bulk,
}

impl Tier {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "Expedited" => Self::Expedited,
            "Standard" => Self::Standard,
            "Bulk" => Self::Bulk,
            _ => return None,
        })
    }

    /// How long a restore takes. AWS documents ranges; Aloft takes their upper ends:
    /// S3 Glacier Flexible Retrieval: Expedited 1–5 minutes, Standard 3–5 hours, Bulk 5–12 hours;
    /// S3 Glacier Deep Archive: Standard within 12 hours, Bulk within 48 hours (no Expedited).
    pub fn duration_ms(self, class: &str) -> i64 {
        match (class, self) {
            ("DEEP_ARCHIVE", Self::Bulk) => 48 * HOUR_MS,
            ("DEEP_ARCHIVE", _) => 12 * HOUR_MS,
            (_, Self::Expedited) => 5 * MINUTE_MS,
            (_, Self::Standard) => 5 * HOUR_MS,
            (_, Self::Bulk) => 12 * HOUR_MS,
        }
    }
}

/// A restore of an archived object: requested, then complete at `ready_at`, the temporary copy
/// readable until `expires_at`. State is derived from the clock, so it needs no sweeper to be
/// right; the sweeper only announces completions and expiries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Restore {
    pub requested_at: i64,
    pub ready_at: i64,
    pub days: u32,
    pub expires_at: i64,
    /// Whether the completion (and later the expiry) was announced to notifications.
    #[serde(default)]
    pub announced: u8,
}

/// What a restore looks like at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestoreState {
    Ongoing,
    Restored { expires_at: i64 },
    Expired,
}

/// S3 rounds a restored copy's expiry up to the next midnight UTC after `from + days`.
pub fn expiry_after(from: i64, days: u32) -> i64 {
    let t = from + i64::from(days) * DAY_MS;
    t.div_euclid(DAY_MS) * DAY_MS + if t.rem_euclid(DAY_MS) == 0 { 0 } else { DAY_MS }
}

impl Restore {
    pub fn new(now: i64, days: u32, tier: Tier, class: &str) -> Self {
        let ready_at = now + tier.duration_ms(class);
        Self {
            requested_at: now,
            ready_at,
            days,
            expires_at: expiry_after(ready_at, days),
            announced: 0,
        }
    }

    pub fn state(&self, now: i64) -> RestoreState {
        if now < self.ready_at {
            RestoreState::Ongoing
        } else if now < self.expires_at {
            RestoreState::Restored {
                expires_at: self.expires_at,
            }
        } else {
            RestoreState::Expired
        }
    }

    /// The `x-amz-restore` header, `None` once the copy has expired.
    pub fn header(&self, now: i64) -> Option<String> {
        match self.state(now) {
            RestoreState::Ongoing => Some("ongoing-request=\"true\"".into()),
            RestoreState::Restored { expires_at } => Some(format!(
                "ongoing-request=\"false\", expiry-date=\"{}\"",
                aloft_core::clock::http_date(expires_at)
            )),
            RestoreState::Expired => None,
        }
    }
}

/// Whether an object of `class` with `restore` can be read at `now`.
pub fn readable(class: Option<&str>, restore: Option<&Restore>, now: i64) -> bool {
    !is_archive(class)
        || restore.is_some_and(|r| matches!(r.state(now), RestoreState::Restored { .. }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waterfall_goes_one_way() {
        assert!(rank("GLACIER") > rank("STANDARD_IA"));
        assert!(rank("DEEP_ARCHIVE") > rank("GLACIER"));
        assert!(!is_transition_target("STANDARD"));
        assert!(!is_transition_target("EXPRESS_ONEZONE"));
        assert!(is_archive(Some("DEEP_ARCHIVE")) && !is_archive(Some("GLACIER_IR")));
    }

    #[test]
    fn restores_complete_then_expire_at_midnight() {
        let now = 10 * DAY_MS + 3 * HOUR_MS;
        let r = Restore::new(now, 2, Tier::Expedited, "GLACIER");
        assert_eq!(r.state(now), RestoreState::Ongoing);
        assert_eq!(r.header(now).unwrap(), "ongoing-request=\"true\"");
        assert!(!readable(Some("GLACIER"), Some(&r), now));
        let done = now + 5 * MINUTE_MS;
        assert_eq!(r.expires_at, 13 * DAY_MS);
        assert!(readable(Some("GLACIER"), Some(&r), done));
        assert!(r.header(done).unwrap().contains("expiry-date=\""));
        assert_eq!(r.state(13 * DAY_MS), RestoreState::Expired);
        assert!(!readable(Some("GLACIER"), Some(&r), 13 * DAY_MS));
        let deep = Restore::new(0, 1, Tier::Bulk, "DEEP_ARCHIVE");
        assert_eq!(deep.ready_at, 48 * HOUR_MS);
        assert_eq!(expiry_after(0, 1), DAY_MS);
    }
}
