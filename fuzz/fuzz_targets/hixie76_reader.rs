//! The hixie-76 frame reader behind a server-side WebSocket, fed arbitrary bytes in
//! arbitrary pieces: no panic, only text and close come out, and the pieces decode
//! exactly as the whole stream does.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stdws::{MessageRef, Variant};
use stdws_fuzz::{transcript, Wire};

fuzz_target!(|data: &[u8]| {
    let check = |m: &MessageRef<'_>| match m {
        MessageRef::Text(t) => assert!(t.len() <= 1 << 14),
        MessageRef::Close(None) => {}
        other => panic!("hixie-76 yielded {other:?}"),
    };
    let cut = transcript(Wire::new(data), Variant::Hixie76, check);
    let whole = transcript(Wire::whole(data), Variant::Hixie76, check);
    assert_eq!(cut, whole);
});
