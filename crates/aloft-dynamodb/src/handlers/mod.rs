//! Request handlers, one module per resource.

pub mod backups;
pub mod batch;
pub mod bulk;
pub mod global;
pub mod imports;
pub mod items;
pub mod legacy;
pub mod partiql;
pub mod pitr;
pub mod query;
pub mod tables;
pub mod transact;
