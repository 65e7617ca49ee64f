//! ExportTableToPointInTime's output: the files as AWS writes them (`files`) and an export's
//! run in the background (`runs`), both writing through S3's target.

pub mod files;
pub mod runs;
