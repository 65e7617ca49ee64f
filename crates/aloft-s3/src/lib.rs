//! S3 for application developers.

pub mod bodies;
pub mod checksums;
pub mod domain;
pub mod error;
pub mod routes;
pub mod xml;
