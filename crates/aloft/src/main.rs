//! `aloft`: parse the configuration, build the services, serve them on one port.

fn main() {}
