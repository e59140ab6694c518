//! The request-head parser (and the client's response-head parser) on arbitrary
//! bytes: no panic, and a `Complete` head never claims more bytes than it was given.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stdws::http::{parse_head, parse_response_head, Parsed};

fuzz_target!(|data: &[u8]| {
    let max_headers = usize::from(data.first().copied().unwrap_or(0) % 8) + 1;
    if let Ok(Parsed::Complete(head, used)) = parse_head(data, max_headers) {
        assert!(used <= data.len());
        assert!(head.headers.len() <= max_headers);
        let _ = (
            head.path(),
            head.query(),
            head.has_token("Connection", "upgrade"),
        );
        let _ = head.tokens("Sec-WebSocket-Protocol").count();
    }
    if let Ok(Some((_, used))) = parse_response_head(data, max_headers) {
        assert!(used <= data.len());
    }
});
