//! Request handlers, one module per resource.

pub mod backups;
pub mod batch;
pub mod exports;
pub mod global;
pub mod items;
pub mod legacy;
pub mod partiql;
pub mod pitr;
pub mod query;
pub mod tables;
pub mod transact;
pub mod vectors;
