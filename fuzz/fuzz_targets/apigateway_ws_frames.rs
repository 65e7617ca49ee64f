//! Bytes from a WebSocket client: the frame reader must answer messages or a close code,
//! never panic or allocate past its message limit.
#![no_main]

use aloft_apigateway::v2::frames::Reader;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    rt.block_on(async {
        let mut r = data;
        let mut reader = Reader::default();
        // Every call consumes input or ends with an error.
        for _ in 0..=data.len() {
            if reader.read(&mut r, 64 * 1024).await.is_err() {
                break;
            }
        }
    });
});
