//! The single port every service is served on.
