//! SQS behaviour without HTTP: queue settings, message attributes, a queue's messages.

pub mod attributes;
pub mod config;
pub mod queue;
