//! The whole server handshake (head, checks, origin policy, subprotocol, hixie-76
//! key3, the answer) over an in-memory stream cut at fuzzer-chosen places: no panic,
//! a 101 only for an accepted request, and the same answer however the bytes are cut.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stdws::handshake::{self, HandshakeError, Options, OriginPolicy};
use stdws::http::{parse_head, HeadLimits, Parsed};
use stdws_fuzz::Wire;

fuzz_target!(|data: &[u8]| {
    let origin = match Wire::selector(data) % 3 {
        0 => OriginPolicy::Any,
        1 => OriginPolicy::SameOrigin,
        _ => OriginPolicy::Allow(vec!["http://example.com".into()]),
    };
    let options = Options {
        protocols: vec!["chat".into(), "sample".into()],
        origin,
        head_limits: Some(HeadLimits {
            max_bytes: 4096,
            max_headers: 32,
        }),
    };
    let mut wire = Wire::new(data);
    match handshake::accept(&mut wire, &options) {
        Ok(upgraded) => {
            // A 101 is only ever written for a request the checks accept.
            assert!(wire.written.starts_with(b"HTTP/1.1 101 "));
            if let Some(p) = &upgraded.request.protocol {
                assert!(upgraded
                    .request
                    .head
                    .tokens("Sec-WebSocket-Protocol")
                    .any(|o| o == p));
            }
        }
        Err(HandshakeError::Key3(_)) => assert!(wire.written.is_empty()),
        Err(_) => assert!(!wire.written.starts_with(b"HTTP/1.1 101 ")),
    }
    // Cut into pieces (without timeouts), the same bytes get the same answer.
    let answer = |wire: &mut Wire<'_>| {
        let outcome = match handshake::accept(wire, &options) {
            Ok(u) => format!("{:?}", u.request),
            Err(e) => e.to_string(),
        };
        (outcome, std::mem::take(&mut wire.written))
    };
    assert_eq!(
        answer(&mut Wire::without_timeouts(data)),
        answer(&mut Wire::whole(data))
    );
    // The checks alone, on a head parsed in one piece.
    if let Ok(Parsed::Complete(head, _)) = parse_head(data, 32) {
        let _ = handshake::check(&head, &options);
    }
});
