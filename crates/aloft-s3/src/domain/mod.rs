//! S3's behaviour apart from HTTP and storage: names, models, listing, conditions and the
//! bucket sub-resource rules.

pub mod access;
pub mod acl;
pub mod conditions;
pub mod config;
pub mod cors;
pub mod eventbridge;
pub mod lifecycle;
pub mod lifecycle_rules;
pub mod listing;
pub mod model;
pub mod names;
pub mod notifications;
pub mod storage;
pub mod versions;
pub mod website;
