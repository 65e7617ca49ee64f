//! Fuzzes S3's request parts parsing (aloft_s3::fuzzing::request_parts): any input, no panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    aloft_s3::fuzzing::request_parts(data);
});
