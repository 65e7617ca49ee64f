//! SigV4 as Aloft needs it: every request's credential scope is parsed (it names the account
//! key, region and service); verification is opt-in.

mod parse;

pub use parse::{Credential, SignatureParts, parse_authorization, parse_presigned};
