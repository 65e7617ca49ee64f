//! The throughput settings a table and each of its GSIs carry beside their capacity:
//! `OnDemandThroughput` (an on-demand table's request-unit ceilings) and `WarmThroughput`
//! (the rate it serves at once, which only rises). Aloft keeps and describes them; opt-in
//! throttling (`throttle.rs`) acts on the ceilings, not on the warm throughput.

use aloft_core::AwsError;
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};

use crate::error::{ErrorCode, invalid_param};
use crate::tables::TableMeta;

/// A new on-demand table or GSI starts warm at these many read and write units per second;
/// a provisioned one at its provisioned capacity.
const ON_DEMAND_WARM: (u64, u64) = (12_000, 4_000);

/// The page CreateTable's refusal of a warm throughput below the on-demand start points to.
const ON_DEMAND_DOC: &str = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/on-demand-capacity-mode.html#on-demand-capacity-mode-initial";

/// An on-demand table's or GSI's ceilings: `None` is no ceiling (AWS's `-1`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnDemand {
    pub max_read: Option<u64>,
    pub max_write: Option<u64>,
}

/// The warm throughput of a table or GSI, in units per second.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warm {
    pub read: u64,
    pub write: u64,
}

/// A table's or GSI's throughput settings as stored with its definition.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Throughput {
    #[serde(default)]
    pub on_demand: OnDemand,
    /// `None` in definitions stored before Aloft kept it: then where the table or GSI started
    /// ([`Warm::initial`]).
    #[serde(default)]
    pub warm: Option<Warm>,
    /// When provisioned capacity last rose and fell (DescribeTable's dates and the daily
    /// decrease budget, see [`Changes`]).
    #[serde(default)]
    pub changes: Changes,
}

impl Throughput {
    /// The warm throughput of a table or GSI with this billing mode and capacity.
    pub fn warm(&self, pay_per_request: bool, (rcu, wcu): (u64, u64)) -> Warm {
        let mut warm = self
            .warm
            .unwrap_or_else(|| Warm::initial(pay_per_request, rcu, wcu));
        warm.follow(rcu, wcu);
        warm
    }

    /// Applies the `OnDemandThroughput` and `WarmThroughput` members of a CreateTable or
    /// UpdateTable input, or of a GSI's Create or Update action (`index` names the GSI), to a
    /// table or GSI whose billing mode and capacity are already the new ones. Whether either
    /// member was there.
    pub fn set(
        &mut self,
        v: &Json,
        pay_per_request: bool,
        capacity: (u64, u64),
        op: Op,
        index: Option<&str>,
    ) -> Result<bool, AwsError> {
        let mut next = *self;
        let mut warm = self.warm(pay_per_request, capacity);
        next.on_demand
            .apply(&v["OnDemandThroughput"], pay_per_request, op)?;
        warm.raise(&v["WarmThroughput"], op, pay_per_request, index)?;
        if !pay_per_request {
            // Ceilings belong to on-demand mode: a switch to provisioned drops them.
            next.on_demand = OnDemand::default();
        }
        next.warm = Some(warm);
        *self = next;
        Ok(!v["OnDemandThroughput"].is_null() || !v["WarmThroughput"].is_null())
    }

    /// Adds `WarmThroughput` (and `OnDemandThroughput` when a ceiling is set) to a table's or
    /// GSI's description.
    pub fn describe_into(
        &self,
        d: &mut Json,
        pay_per_request: bool,
        capacity: (u64, u64),
        status: &str,
    ) {
        d["WarmThroughput"] = self.warm(pay_per_request, capacity).describe(status);
        if let Some(pt) = d.get_mut("ProvisionedThroughput") {
            self.changes
                .describe_into(pt, aloft_core::clock::now_millis());
        }
        if let Some(od) = self.on_demand.describe() {
            d["OnDemandThroughput"] = od;
        }
    }
}

/// Which operation a request came in, for its messages (AWS words them differently).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Create,
    Update,
}

impl OnDemand {
    /// Applies an `OnDemandThroughput` member to a table or GSI that ends up on demand or
    /// not (`pay_per_request`). Members merge one by one; on UpdateTable `-1` removes a
    /// ceiling. An object without members changes nothing.
    pub fn apply(&mut self, v: &Json, pay_per_request: bool, op: Op) -> Result<(), AwsError> {
        let members = [
            ("MaxReadRequestUnits", &v["MaxReadRequestUnits"]),
            ("MaxWriteRequestUnits", &v["MaxWriteRequestUnits"]),
        ];
        let Some((first, _)) = members.iter().find(|(_, m)| !m.is_null()) else {
            return Ok(());
        };
        if !pay_per_request {
            return Err(invalid_param(match op {
                Op::Create => format!(
                    "{first} for OnDemandThroughput cannot be specified when table BillingMode is PROVISIONED."
                ),
                Op::Update => format!(
                    "{first} for OnDemandThroughput cannot be specified when the table BillingMode is PROVISIONED"
                ),
            }));
        }
        let mut next = *self;
        for (i, (name, m)) in members.iter().enumerate() {
            if m.is_null() {
                continue;
            }
            let value = match m.as_i64() {
                Some(-1) if op == Op::Update => None,
                Some(n) if n >= 1 => Some(n as u64),
                _ => {
                    return Err(invalid_param(format!(
                        "Requested {name} for OnDemandThroughput for table is outside of valid range"
                    )));
                }
            };
            if i == 0 {
                next.max_read = value;
            } else {
                next.max_write = value;
            }
        }
        *self = next;
        Ok(())
    }

    /// DescribeTable's `OnDemandThroughput`, when a ceiling is set.
    pub fn describe(&self) -> Option<Json> {
        if self.max_read.is_none() && self.max_write.is_none() {
            return None;
        }
        let unit = |v: Option<u64>| v.map_or(json!(-1), |n| json!(n));
        Some(json!({
            "MaxReadRequestUnits": unit(self.max_read),
            "MaxWriteRequestUnits": unit(self.max_write),
        }))
    }
}

impl Warm {
    /// Where a table or GSI starts: on demand at AWS's baseline, provisioned at its capacity.
    pub fn initial(pay_per_request: bool, rcu: u64, wcu: u64) -> Self {
        if pay_per_request {
            Self {
                read: ON_DEMAND_WARM.0,
                write: ON_DEMAND_WARM.1,
            }
        } else {
            Self {
                read: rcu.max(1),
                write: wcu.max(1),
            }
        }
    }

    /// Raises the warm throughput to a `WarmThroughput` member's values (a member left out
    /// keeps its value). It never falls: a lower value (zero and negatives included) is
    /// refused, in CreateTable's words (below the start) or UpdateTable's (below the present).
    pub fn raise(
        &mut self,
        v: &Json,
        op: Op,
        pay_per_request: bool,
        index: Option<&str>,
    ) -> Result<(), AwsError> {
        if let (Some(o), Some(name), Op::Update) = (v.as_object(), index, op)
            && !o.contains_key("ReadUnitsPerSecond")
            && !o.contains_key("WriteUnitsPerSecond")
        {
            return Err(invalid_param(format!(
                "WarmThroughput must have at least one of ReadUnitsPerSecond or WriteUnitsPerSecond specified for index: {name}"
            )));
        }
        let subject = index.map_or_else(|| "table".to_string(), |n| format!("index {n}"));
        let mut next = *self;
        for (name, member, current) in [
            (
                "ReadUnitsPerSecond",
                &v["ReadUnitsPerSecond"],
                &mut next.read,
            ),
            (
                "WriteUnitsPerSecond",
                &v["WriteUnitsPerSecond"],
                &mut next.write,
            ),
        ] {
            if member.is_null() {
                continue;
            }
            let n = member.as_u64().unwrap_or(0);
            if n < *current {
                return Err(invalid_param(match op {
                    Op::Update => format!(
                        "Requested {name} for WarmThroughput for {subject} is lower than current WarmThroughput, decreasing WarmThroughput is not supported"
                    ),
                    Op::Create if pay_per_request => format!(
                        "Requested {name} for WarmThroughput for {subject} is lower than initial throughput for OnDemand. See: {ON_DEMAND_DOC}"
                    ),
                    Op::Create => format!(
                        "Requested {name} for WarmThroughput for {subject} is lower than initial throughput"
                    ),
                }));
            }
            *current = n;
        }
        *self = next;
        Ok(())
    }

    /// Provisioned capacity above the warm throughput is a new peak: the warm throughput
    /// follows it up.
    pub fn follow(&mut self, rcu: u64, wcu: u64) {
        self.read = self.read.max(rcu);
        self.write = self.write.max(wcu);
    }

    /// DescribeTable's `WarmThroughput` of a table or GSI.
    pub fn describe(&self, status: &str) -> Json {
        json!({"ReadUnitsPerSecond": self.read, "WriteUnitsPerSecond": self.write, "Status": status})
    }
}

/// Decreases allowed at any time of a UTC day; after them, one an hour.
const FREE_DECREASES: u32 = 4;
const MAX_DECREASES: u32 = 27;
const DECREASE_GAP_MS: i64 = 3_600_000;
const DAY_MS: i64 = 86_400_000;

/// A table's or GSI's provisioned-capacity history. Table and GSIs keep separate budgets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Changes {
    #[serde(default)]
    pub last_increase: Option<i64>,
    #[serde(default)]
    pub last_decrease: Option<i64>,
    /// Decreases on the UTC day of `last_decrease`.
    #[serde(default)]
    pub decreases: u32,
}

impl Changes {
    /// `NumberOfDecreasesToday`: the count restarts at 00:00 UTC.
    pub fn decreases_today(&self, now: i64) -> u32 {
        match self.last_decrease {
            Some(t) if t.div_euclid(DAY_MS) == now.div_euclid(DAY_MS) => self.decreases,
            _ => 0,
        }
    }

    /// Records a capacity change from `old` to `new` (read, write). One call lowering either
    /// unit is one decrease, even if the other rises. Past the first four decreases of the
    /// day, one more is allowed 3600 s after the last accepted one (not at the top of the
    /// hour), at most 27 a day; a refused change leaves the history as it was.
    pub fn record(&mut self, old: (u64, u64), new: (u64, u64), now: i64) -> Result<(), AwsError> {
        let decrease = new.0 < old.0 || new.1 < old.1;
        let increase = new.0 > old.0 || new.1 > old.1;
        if decrease {
            let today = self.decreases_today(now);
            if let Some(last) = self.last_decrease
                && today >= FREE_DECREASES
                && (today >= MAX_DECREASES || now - last < DECREASE_GAP_MS)
            {
                let midnight = (now.div_euclid(DAY_MS) + 1) * DAY_MS;
                let next = if today >= MAX_DECREASES {
                    midnight
                } else {
                    (last + DECREASE_GAP_MS).min(midnight)
                };
                return Err(ErrorCode::LimitExceededException.err(format!(
                    "Subscriber limit exceeded: Provisioned throughput decreases are limited within a given UTC day. After the first {FREE_DECREASES} decreases, each subsequent decrease in the same UTC day can be performed at most once every {} seconds. Number of decreases today: {today}. Last decrease at {}. Next decrease can be made at {}",
                    DECREASE_GAP_MS / 1000,
                    human_utc(last),
                    human_utc(next)
                )));
            }
            self.decreases = today + 1;
            self.last_decrease = Some(now);
        }
        if increase {
            self.last_increase = Some(now);
        }
        Ok(())
    }

    /// Adds the dates and today's count to a `ProvisionedThroughput` description.
    fn describe_into(&self, pt: &mut Json, now: i64) {
        if let Some(t) = self.last_increase {
            pt["LastIncreaseDateTime"] = json!(t as f64 / 1000.0);
        }
        if let Some(t) = self.last_decrease {
            pt["LastDecreaseDateTime"] = json!(t as f64 / 1000.0);
        }
        pt["NumberOfDecreasesToday"] = json!(self.decreases_today(now));
    }
}

/// Records UpdateTable's capacity changes of a provisioned table and its GSIs (`old` is the
/// definition before the update, `new` after it, `input` the request); a switch of billing
/// mode is neither an increase nor a decrease. Capacity sent unchanged is refused, as AWS
/// refuses it (ack-api-quirks DDB-TABLE-057/164).
pub fn record_update(
    old: &TableMeta,
    new: &mut TableMeta,
    input: &Json,
    now: i64,
) -> Result<(), AwsError> {
    // Also when the table is provisioned already (ack-api-quirks DDB-TABLE-057).
    if input["BillingMode"].as_str() == Some("PROVISIONED")
        && !input["ProvisionedThroughput"].is_object()
    {
        return Err(invalid_param(
            "ProvisionedThroughput must be specified when BillingMode is PROVISIONED",
        ));
    }
    if old.pay_per_request || new.pay_per_request {
        return Ok(());
    }
    let (before, after) = ((old.rcu, old.wcu), (new.rcu, new.wcu));
    if input["ProvisionedThroughput"].is_object() && before == after {
        return Err(unchanged("the table", before));
    }
    new.throughput.changes.record(before, after, now)?;
    let updated = |name: &str| {
        input["GlobalSecondaryIndexUpdates"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|u| {
                u["Update"]["IndexName"].as_str() == Some(name)
                    && u["Update"]["ProvisionedThroughput"].is_object()
            })
    };
    for idx in new.indexes.iter_mut().filter(|i| i.global) {
        if let Some((_, was)) = old.index(&idx.name) {
            let (before, after) = ((was.rcu, was.wcu), (idx.rcu, idx.wcu));
            if before == after && updated(&idx.name) {
                return Err(unchanged(&format!("the index {}", idx.name), before));
            }
            idx.throughput.changes.record(before, after, now)?;
        }
    }
    Ok(())
}

fn unchanged(subject: &str, (r, w): (u64, u64)) -> AwsError {
    crate::error::validation(format!(
        "The provisioned throughput for {subject} will not change. The requested value equals the current value. Current ReadCapacityUnits provisioned for {subject}: {r}. Requested ReadCapacityUnits: {r}. Current WriteCapacityUnits provisioned for {subject}: {w}. Requested WriteCapacityUnits: {w}. Refer to the Amazon DynamoDB Developer Guide for current limits and how to request higher limits."
    ))
}

/// The way AWS words a time in this message: `Friday, October 9, 2026 at 1:21:34 AM
/// Coordinated Universal Time`.
fn human_utc(ms: i64) -> String {
    const WEEKDAYS: [&str; 7] = [
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
        "Monday",
        "Tuesday",
        "Wednesday",
    ];
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let days = ms.div_euclid(DAY_MS);
    let secs = ms.rem_euclid(DAY_MS) / 1000;
    // Civil date from days since 1970-01-01 (proleptic Gregorian, era of 400 years).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let h12 = if h % 12 == 0 { 12 } else { h % 12 };
    format!(
        "{}, {} {day}, {year} at {h12}:{m:02}:{s:02} {} Coordinated Universal Time",
        WEEKDAYS[days.rem_euclid(7) as usize],
        MONTHS[(month - 1) as usize],
        if h < 12 { "AM" } else { "PM" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(r: Result<(), AwsError>) -> String {
        r.unwrap_err().message
    }

    #[test]
    fn on_demand_ceilings_merge_and_minus_one_removes_one_on_update() {
        let mut od = OnDemand::default();
        od.apply(&json!({"MaxReadRequestUnits": 100}), true, Op::Create)
            .unwrap();
        od.apply(&json!({"MaxWriteRequestUnits": 50}), true, Op::Update)
            .unwrap();
        assert_eq!(
            od,
            OnDemand {
                max_read: Some(100),
                max_write: Some(50)
            }
        );
        od.apply(&json!({"MaxReadRequestUnits": -1}), true, Op::Update)
            .unwrap();
        assert_eq!(
            od.describe(),
            Some(json!({"MaxReadRequestUnits": -1, "MaxWriteRequestUnits": 50}))
        );
        od.apply(&json!({}), true, Op::Update).unwrap();
        od.apply(&json!({"MaxWriteRequestUnits": -1}), true, Op::Update)
            .unwrap();
        assert_eq!(od.describe(), None);
    }

    #[test]
    fn on_demand_errors_are_worded_per_operation() {
        let mut od = OnDemand::default();
        assert!(
            message(od.apply(&json!({"MaxWriteRequestUnits": 5}), false, Op::Create))
                .ends_with("MaxWriteRequestUnits for OnDemandThroughput cannot be specified when table BillingMode is PROVISIONED.")
        );
        assert!(
            message(od.apply(&json!({"MaxReadRequestUnits": 5}), false, Op::Update))
                .ends_with("MaxReadRequestUnits for OnDemandThroughput cannot be specified when the table BillingMode is PROVISIONED")
        );
        // -1 removes a ceiling on UpdateTable only; 0 is never valid. Nothing is half-applied.
        for (v, op) in [(-1, Op::Create), (0, Op::Update)] {
            let r = od.apply(
                &json!({"MaxReadRequestUnits": 7, "MaxWriteRequestUnits": v}),
                true,
                op,
            );
            assert!(message(r).ends_with(
                "Requested MaxWriteRequestUnits for OnDemandThroughput for table is outside of valid range"
            ));
        }
        assert_eq!(od, OnDemand::default());
    }

    #[test]
    fn warm_throughput_starts_per_billing_mode_and_only_rises() {
        assert_eq!(
            Warm::initial(true, 0, 0),
            Warm {
                read: 12_000,
                write: 4_000
            }
        );
        let mut w = Warm::initial(false, 5, 3);
        assert_eq!(w, Warm { read: 5, write: 3 });
        w.raise(
            &json!({"ReadUnitsPerSecond": 5000}),
            Op::Update,
            false,
            None,
        )
        .unwrap();
        assert_eq!(
            w,
            Warm {
                read: 5000,
                write: 3
            }
        );
        let r = w.raise(
            &json!({"WriteUnitsPerSecond": 10, "ReadUnitsPerSecond": 4000}),
            Op::Update,
            false,
            None,
        );
        // AWS's words, as users paste them (terraform-provider-aws, cdkd live probes).
        assert_eq!(
            message(r),
            "One or more parameter values were invalid: Requested ReadUnitsPerSecond for WarmThroughput for table is lower than current WarmThroughput, decreasing WarmThroughput is not supported"
        );
        assert_eq!(
            w,
            Warm {
                read: 5000,
                write: 3
            }
        );
        w.follow(6000, 2);
        assert_eq!(
            w,
            Warm {
                read: 6000,
                write: 3
            }
        );
        assert_eq!(
            w.describe("ACTIVE"),
            json!({"ReadUnitsPerSecond": 6000, "WriteUnitsPerSecond": 3, "Status": "ACTIVE"})
        );
    }

    #[test]
    fn warm_throughput_refusals_name_the_operation_and_the_index() {
        let mut w = Warm::initial(true, 0, 0);
        let r = w.raise(&json!({"ReadUnitsPerSecond": -1}), Op::Create, true, None);
        assert!(message(r).starts_with(
            "One or more parameter values were invalid: Requested ReadUnitsPerSecond for WarmThroughput for table is lower than initial throughput for OnDemand. See: https://docs.aws.amazon.com/"
        ));
        let r = w.raise(
            &json!({"WriteUnitsPerSecond": 0}),
            Op::Update,
            true,
            Some("gsi1"),
        );
        assert_eq!(
            message(r),
            "One or more parameter values were invalid: Requested WriteUnitsPerSecond for WarmThroughput for index gsi1 is lower than current WarmThroughput, decreasing WarmThroughput is not supported"
        );
        let r = w.raise(&json!({}), Op::Update, true, Some("gsi1"));
        assert_eq!(
            message(r),
            "One or more parameter values were invalid: WarmThroughput must have at least one of ReadUnitsPerSecond or WriteUnitsPerSecond specified for index: gsi1"
        );
        // An empty WarmThroughput is accepted for the table, and for a GSI being created.
        w.raise(&json!({}), Op::Update, true, None).unwrap();
        w.raise(&json!({}), Op::Create, true, Some("gsi1")).unwrap();
        // Re-asserting the present value is accepted.
        w.raise(
            &json!({"ReadUnitsPerSecond": 12_000}),
            Op::Update,
            true,
            None,
        )
        .unwrap();
        assert_eq!(w, Warm::initial(true, 0, 0));
    }

    #[test]
    fn human_dates_are_worded_as_aws_words_them() {
        // 2026-10-09T00:21:34Z and an hour later, the times of a live probe's message.
        let t = 1_791_505_294_000;
        assert_eq!(
            human_utc(t),
            "Friday, October 9, 2026 at 12:21:34 AM Coordinated Universal Time"
        );
        assert_eq!(
            human_utc(t + 3_600_000),
            "Friday, October 9, 2026 at 1:21:34 AM Coordinated Universal Time"
        );
        assert_eq!(
            human_utc(0),
            "Thursday, January 1, 1970 at 12:00:00 AM Coordinated Universal Time"
        );
        assert_eq!(
            human_utc(951_825_600_000),
            "Tuesday, February 29, 2000 at 12:00:00 PM Coordinated Universal Time"
        );
    }

    #[test]
    fn four_decreases_then_one_an_hour_after_the_last_and_a_new_day_resets() {
        let day = 1_791_504_000_000; // 2026-10-09T00:00:00Z
        let mut c = Changes::default();
        let mut cap = 100;
        for i in 0..4 {
            c.record((cap, 10), (cap - 1, 10), day + i * 1000).unwrap();
            cap -= 1;
        }
        assert_eq!(c.decreases_today(day + 5000), 4);
        // Raising one unit while lowering the other is still a decrease.
        let before = c;
        let e = c
            .record((cap, 10), (cap - 1, 20), day + 60_000)
            .unwrap_err();
        assert_eq!(e.code, "LimitExceededException");
        assert_eq!(
            e.message,
            "Subscriber limit exceeded: Provisioned throughput decreases are limited within a given UTC day. After the first 4 decreases, each subsequent decrease in the same UTC day can be performed at most once every 3600 seconds. Number of decreases today: 4. Last decrease at Friday, October 9, 2026 at 12:00:03 AM Coordinated Universal Time. Next decrease can be made at Friday, October 9, 2026 at 1:00:03 AM Coordinated Universal Time"
        );
        assert_eq!(c, before, "a refused decrease is not counted");
        // Increases are always allowed.
        c.record((cap, 10), (cap, 11), day + 60_000).unwrap();
        assert_eq!(c.last_increase, Some(day + 60_000));
        // 3600 s after the last accepted decrease, one more; then the hour starts again.
        assert!(c.record((cap, 11), (cap - 1, 11), day + 3_602_999).is_err());
        c.record((cap, 11), (cap - 1, 11), day + 3_603_000).unwrap();
        assert_eq!(c.decreases_today(day + 3_603_000), 5);
        assert!(c.record((9, 9), (8, 8), day + 3_603_001).is_err());
        // A new UTC day starts a new budget.
        assert_eq!(c.decreases_today(day + DAY_MS), 0);
        c.record((9, 9), (8, 8), day + DAY_MS).unwrap();
        assert_eq!(c.decreases_today(day + DAY_MS), 1);
        // Equal capacity changes nothing.
        let same = c;
        c.record((8, 8), (8, 8), day + DAY_MS + 1).unwrap();
        assert_eq!(c, same);
    }

    #[test]
    fn at_most_27_decreases_a_day() {
        let day = 1_791_504_000_000;
        let mut c = Changes::default();
        let mut t = day;
        for _ in 0..27 {
            c.record((2, 2), (1, 1), t).unwrap();
            t += DECREASE_GAP_MS;
            if c.decreases < FREE_DECREASES {
                t = c.last_decrease.unwrap() + 1;
            }
        }
        assert_eq!(c.decreases_today(c.last_decrease.unwrap()), 27);
        let e = c.record((2, 2), (1, 1), day + DAY_MS - 1).unwrap_err();
        assert!(
            e.message.contains("Number of decreases today: 27."),
            "{}",
            e.message
        );
        assert!(e.message.ends_with("Next decrease can be made at Saturday, October 10, 2026 at 12:00:00 AM Coordinated Universal Time"));
    }
}
