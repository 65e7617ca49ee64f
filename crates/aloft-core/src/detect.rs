//! Which service a request is for.
