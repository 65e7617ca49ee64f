//! CloudWatch Logs.
