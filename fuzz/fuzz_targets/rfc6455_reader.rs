//! The RFC 6455 message reader behind a server-side WebSocket (so the automatic pong
//! and close answers run too), fed arbitrary bytes in arbitrary pieces: no panic, no
//! limit exceeded, and the pieces decode exactly as the whole stream does.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stdws::{MessageRef, Variant};
use stdws_fuzz::{transcript, Wire};

fuzz_target!(|data: &[u8]| {
    let check = |m: &MessageRef<'_>| match m {
        MessageRef::Text(t) => assert!(t.len() <= 1 << 14),
        MessageRef::Binary(b) => assert!(b.len() <= 1 << 14),
        MessageRef::Ping(p) | MessageRef::Pong(p) => assert!(p.len() <= 125),
        MessageRef::Close(_) => {}
    };
    let cut = transcript(Wire::new(data), Variant::Rfc6455, check);
    let whole = transcript(Wire::whole(data), Variant::Rfc6455, check);
    assert_eq!(cut, whole);
});
