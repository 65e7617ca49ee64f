//! The XML element-tree parser (S3 request documents: CompleteMultipartUpload, DeleteObjects,
//! bucket configurations): never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = aloft_protocol::xml::parse(data);
});
