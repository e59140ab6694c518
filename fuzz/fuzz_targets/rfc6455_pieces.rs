//! The piece reader (`MessageReader::read_part`, which the echo uses to pass large
//! binary messages on as they arrive) against the whole-message reader, on the same
//! bytes cut in arbitrary places: the pieces of each message join to exactly what
//! `read` returns whole, every piece respects the piece size, only the first piece
//! of a message says `first` and only the last says `last`, and control frames and
//! errors come out the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::io;
use stdws::message_reader::MessageReader;
use stdws::{Error, Limits, MessageRef, Part, Role};
use stdws_fuzz::Wire;

const LIMITS: Limits = Limits {
    max_frame_size: 1 << 12,
    max_message_size: 1 << 14,
};

fn is_timeout(e: &Error) -> bool {
    matches!(e, Error::Io(e) if e.kind() == io::ErrorKind::TimedOut)
}

/// Messages as `read` hands them out, then the error that ended the stream.
fn whole(mut wire: Wire<'_>) -> Vec<String> {
    let mut reader = MessageReader::new(Role::Server, LIMITS, &[]);
    let mut events = Vec::new();
    for _ in 0..100_000 {
        match reader.read(&mut wire) {
            Ok(m) => events.push(format!("{m:?}")),
            Err(e) if is_timeout(&e) => {}
            Err(e) => {
                events.push(format!("error: {e}"));
                break;
            }
        }
    }
    events
}

/// The same, read with `read_part`: pieces are joined back into their message.
fn pieced(mut wire: Wire<'_>, piece_size: usize) -> Vec<String> {
    let mut reader = MessageReader::new(Role::Server, LIMITS, &[]);
    let mut events = Vec::new();
    let mut joined: Option<Vec<u8>> = None;
    for _ in 0..100_000 {
        match reader.read_part(&mut wire, piece_size) {
            Ok(Part::Message(m)) => {
                if matches!(m, MessageRef::Text(_) | MessageRef::Binary(_)) {
                    assert!(joined.is_none(), "a whole message inside a pieced one");
                }
                events.push(format!("{m:?}"));
            }
            Ok(Part::Piece(p)) => {
                assert!(p.data.len() <= piece_size, "a piece over the piece size");
                assert_eq!(p.first, joined.is_none(), "first marks the first piece");
                let bytes = joined.get_or_insert_with(Vec::new);
                bytes.extend_from_slice(p.data);
                if p.last {
                    let bytes = joined.take().unwrap_or_default();
                    events.push(format!("{:?}", MessageRef::Binary(&bytes)));
                }
            }
            Err(e) if is_timeout(&e) => {}
            Err(e) => {
                events.push(format!("error: {e}"));
                break;
            }
        }
    }
    events
}

fuzz_target!(|data: &[u8]| {
    let piece_size = 1 + usize::from(Wire::selector(data)) * 97;
    assert_eq!(pieced(Wire::new(data), piece_size), whole(Wire::whole(data)));
});
