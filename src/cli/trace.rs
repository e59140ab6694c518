//! `--trace`: for every real handshake, the derivation `--explain` prints (computed by
//! the library from the request the server just answered) and the permessage-deflate
//! parameters agreed; one line per frame in either direction, from the server's frame
//! tap; and for each compressed message, its size on the wire and inflated.

use std::net::SocketAddr;
use stdws::tap::{Direction, FrameEvent};
use stdws::Request;

/// Prints how the server's answer to `request` was derived, one line at a time, each
/// prefixed with the peer, and the permessage-deflate parameters agreed, if any.
pub fn handshake(request: &Request) {
    let peer = super::log::peer(request);
    match stdws::explain::for_request(request) {
        Some(explanation) => {
            for line in explanation.to_string().lines() {
                super::log::write_line(format_args!("{peer} trace {line}"));
            }
        }
        None => super::log::write_line(format_args!("{peer} trace (no keys to explain)")),
    }
    if let Some(p) = &request.deflate {
        super::log::write_line(format_args!(
            "{peer} trace permessage-deflate agreed: server window 2^{} with{} context \
             takeover, client window 2^{} with{} context takeover",
            p.server_max_window_bits,
            if p.server_no_context_takeover {
                "out"
            } else {
                ""
            },
            p.client_max_window_bits,
            if p.client_no_context_takeover {
                "out"
            } else {
                ""
            },
        ));
    }
}

/// Prints one frame: direction, opcode name, FIN, length, masked; after the last
/// frame of a compressed message, a line with the message's size on the wire and
/// inflated.
pub fn frame(peer: SocketAddr, event: &FrameEvent) {
    super::log::write_line(format_args!("{peer} trace frame {event}"));
    let Some(sizes) = &event.message else {
        return;
    };
    let arrow = match event.direction {
        Direction::In => "<-",
        Direction::Out => "->",
    };
    match sizes.inflated {
        Ok(inflated) => super::log::write_line(format_args!(
            "{peer} trace message {arrow} compressed {} bytes, inflated {inflated} bytes ({}%)",
            sizes.compressed,
            100 * sizes.compressed / inflated.max(1)
        )),
        Err(e) => super::log::write_line(format_args!(
            "{peer} trace message {arrow} compressed {} bytes, not inflated: {e}",
            sizes.compressed
        )),
    }
}
