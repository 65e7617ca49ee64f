//! S3's behaviour apart from HTTP and storage: names, models, listing, conditions and the
//! bucket sub-resource rules.

pub mod conditions;
pub mod config;
pub mod cors;
pub mod lifecycle;
pub mod listing;
pub mod model;
pub mod names;
pub mod notifications;
pub mod versions;
pub mod website;
