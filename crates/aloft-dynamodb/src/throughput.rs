//! The throughput settings a table and each of its GSIs carry beside their capacity:
//! `OnDemandThroughput` (an on-demand table's request-unit ceilings) and `WarmThroughput`
//! (the rate it serves at once, which only rises). Aloft keeps and describes them; opt-in
//! throttling (`throttle.rs`) acts on the ceilings, not on the warm throughput.

use aloft_core::AwsError;
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};

use crate::error::invalid_param;

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
}
