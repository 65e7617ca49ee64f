//! Fuzzes S3's post form parsing (aloft_s3::fuzzing::post_form): any input, no panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    aloft_s3::fuzzing::post_form(data);
});
