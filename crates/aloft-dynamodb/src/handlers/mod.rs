//! Request handlers, one module per resource.

pub mod autoscaling;
pub mod backups;
pub mod batch;
pub mod bulk;
pub mod exports;
pub mod global;
pub mod global_accounts;
pub mod imports;
pub mod insights;
pub mod items;
pub mod kinesis_destinations;
pub mod legacy;
pub mod legacy_global;
pub mod partiql;
pub mod pitr;
pub mod policies;
pub mod query;
pub mod tables;
pub mod transact;
pub mod vectors;
