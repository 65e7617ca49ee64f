//! Fuzzes S3's xml documents parsing (aloft_s3::fuzzing::xml_documents): any input, no panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    aloft_s3::fuzzing::xml_documents(data);
});
