//! A passive tap on a connection's bytes: it reads frame headers from what passes in
//! each direction and reports one [`FrameEvent`] per frame, for `--trace`.
//!
//! The tap never changes, holds back or reorders a byte; it only watches. It keeps
//! its own small decoder per direction, so the reader and writer on the hot path know
//! nothing about it, and a connection without a tap pays one `Option` check per
//! system call.
//!
//! RFC 6455 frames are decoded with [`decode_header`] (§5.2) and their payloads
//! skipped; hixie-76 frames (draft §4.2) are counted up to their 0xFF sentinel or
//! over their base-128 length.

use crate::frame::{decode_header, Opcode, MAX_HEADER_LEN};
use crate::handshake::Variant;
use std::fmt;
use std::sync::{Arc, Mutex};

/// Which way a frame went, seen from the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// From the peer to us.
    In,
    /// From us to the peer.
    Out,
}

/// One frame as seen on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameEvent {
    /// Which way it went.
    pub direction: Direction,
    /// The protocol variant of the connection.
    pub variant: Variant,
    /// The opcode's name (`text`, `close`, ...; hixie-76: `text`, `close`, `discarded`).
    pub opcode: &'static str,
    /// FIN: the last frame of its message (always true on hixie-76).
    pub fin: bool,
    /// Payload length in bytes.
    pub len: u64,
    /// Whether the payload was masked (never on hixie-76).
    pub masked: bool,
}

impl fmt::Display for FrameEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let arrow = match self.direction {
            Direction::In => "<-",
            Direction::Out => "->",
        };
        write!(
            f,
            "{arrow} {} {} fin={} len={} masked={}",
            self.variant,
            self.opcode,
            u8::from(self.fin),
            self.len,
            u8::from(self.masked)
        )
    }
}

/// What a tap calls for every frame.
pub type FrameCallback = dyn Fn(&FrameEvent) + Send + Sync;

/// A tap for one connection: one decoder per direction and the callback.
pub struct Tap {
    incoming: Mutex<Decoder>,
    outgoing: Mutex<Decoder>,
    callback: Arc<FrameCallback>,
}

impl fmt::Debug for Tap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Tap")
    }
}

impl Tap {
    /// A tap for a connection speaking `variant`.
    pub fn new(variant: Variant, callback: Arc<FrameCallback>) -> Tap {
        Tap {
            incoming: Mutex::new(Decoder::new(variant, Direction::In)),
            outgoing: Mutex::new(Decoder::new(variant, Direction::Out)),
            callback,
        }
    }

    /// Bytes that arrived from the peer.
    pub fn incoming(&self, bytes: &[u8]) {
        self.feed(&self.incoming, bytes);
    }

    /// Bytes that went to the peer.
    pub fn outgoing(&self, bytes: &[u8]) {
        self.feed(&self.outgoing, bytes);
    }

    fn feed(&self, decoder: &Mutex<Decoder>, bytes: &[u8]) {
        let mut d = decoder.lock().unwrap_or_else(|p| p.into_inner());
        d.feed(bytes, &*self.callback);
    }
}

/// Where a decoder stands in the byte stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// RFC 6455: gathering a header (up to 14 bytes).
    Header,
    /// Skipping this many payload bytes.
    Skip(u64),
    /// hixie-76: expecting a frame-type byte.
    FrameType,
    /// hixie-76: inside a sentinel frame (0x00–0x7F) of this type, this long so far.
    Sentinel { frame_type: u8, len: u64 },
    /// hixie-76: reading a base-128 length of a frame of this type.
    Length { frame_type: u8, len: u64 },
    /// The stream made no sense (a header the peer will be failed for): stop.
    Lost,
}

/// A frame-boundary decoder for one direction.
#[derive(Debug)]
struct Decoder {
    variant: Variant,
    direction: Direction,
    state: State,
    header: Vec<u8>,
}

impl Decoder {
    fn new(variant: Variant, direction: Direction) -> Decoder {
        Decoder {
            variant,
            direction,
            state: match variant {
                Variant::Rfc6455 => State::Header,
                Variant::Hixie76 => State::FrameType,
            },
            header: Vec::with_capacity(MAX_HEADER_LEN),
        }
    }

    fn event(&self, opcode: &'static str, fin: bool, len: u64, masked: bool) -> FrameEvent {
        FrameEvent {
            direction: self.direction,
            variant: self.variant,
            opcode,
            fin,
            len,
            masked,
        }
    }

    fn feed(&mut self, mut bytes: &[u8], report: &FrameCallback) {
        while let Some((&byte, rest)) = bytes.split_first() {
            match self.state {
                State::Lost => return,
                State::Skip(n) => {
                    let take = usize::try_from(n).map_or(bytes.len(), |n| n.min(bytes.len()));
                    bytes = &bytes[take..];
                    self.state = self.after_payload(n - take as u64);
                    continue;
                }
                State::Header => self.header_byte(byte, report),
                State::FrameType => self.frame_type(byte),
                State::Sentinel { frame_type, len } => {
                    if byte == 0xFF {
                        let name = if frame_type == 0 { "text" } else { "discarded" };
                        report(&self.event(name, true, len, false));
                        self.state = State::FrameType;
                    } else {
                        self.state = State::Sentinel {
                            frame_type,
                            len: len.saturating_add(1),
                        };
                    }
                }
                State::Length { frame_type, len } => {
                    let len = len
                        .saturating_mul(128)
                        .saturating_add(u64::from(byte & 0x7F));
                    if byte & 0x80 != 0 {
                        self.state = State::Length { frame_type, len };
                    } else {
                        let name = if frame_type == 0xFF && len == 0 {
                            "close"
                        } else {
                            "discarded"
                        };
                        report(&self.event(name, true, len, false));
                        self.state = self.after_payload(len);
                    }
                }
            }
            bytes = rest;
        }
    }

    /// The state once `remaining` payload bytes are still to be skipped.
    fn after_payload(&self, remaining: u64) -> State {
        match (remaining, self.variant) {
            (0, Variant::Rfc6455) => State::Header,
            (0, Variant::Hixie76) => State::FrameType,
            (n, _) => State::Skip(n),
        }
    }

    fn header_byte(&mut self, byte: u8, report: &FrameCallback) {
        self.header.push(byte);
        match decode_header(&self.header) {
            Ok(None) => {}
            Ok(Some((h, _))) => {
                let name = Opcode::from_bits(h.opcode_bits).map_or("reserved", Opcode::name);
                report(&self.event(name, h.fin, h.len, h.mask.is_some()));
                self.header.clear();
                self.state = self.after_payload(h.len);
            }
            Err(_) => self.state = State::Lost,
        }
    }

    fn frame_type(&mut self, byte: u8) {
        self.state = if byte & 0x80 == 0 {
            State::Sentinel {
                frame_type: byte,
                len: 0,
            }
        } else {
            State::Length {
                frame_type: byte,
                len: 0,
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(variant: Variant, chunks: &[&[u8]]) -> Vec<String> {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let tap = Tap::new(
            variant,
            Arc::new(move |e: &FrameEvent| sink.lock().unwrap().push(e.to_string())),
        );
        for c in chunks {
            tap.incoming(c);
        }
        let out = seen.lock().unwrap().clone();
        out
    }

    #[test]
    fn rfc6455_frames_split_anywhere() {
        // The RFC's masked "Hello" (§5.7), then an empty close, fed a byte at a time.
        let mut wire = vec![
            0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
        ];
        wire.extend_from_slice(&[0x88, 0x80, 1, 2, 3, 4]);
        let chunks: Vec<&[u8]> = wire.chunks(1).collect();
        assert_eq!(
            events(Variant::Rfc6455, &chunks),
            [
                "<- rfc6455 text fin=1 len=5 masked=1",
                "<- rfc6455 close fin=1 len=0 masked=1"
            ]
        );
    }

    #[test]
    fn rfc6455_long_payload_is_skipped() {
        let mut wire = vec![0x02, 0x7E, 0x01, 0x00];
        wire.extend_from_slice(&[7u8; 256]);
        wire.extend_from_slice(&[0x80, 0x00]);
        assert_eq!(
            events(Variant::Rfc6455, &[&wire[..100], &wire[100..]]),
            [
                "<- rfc6455 binary fin=0 len=256 masked=0",
                "<- rfc6455 continuation fin=1 len=0 masked=0"
            ]
        );
    }

    #[test]
    fn hixie76_frames() {
        let wire = b"\x00hi\xff\x80\x02ab\xff\x00";
        assert_eq!(
            events(Variant::Hixie76, &[&wire[..2], &wire[2..]]),
            [
                "<- hixie76 text fin=1 len=2 masked=0",
                "<- hixie76 discarded fin=1 len=2 masked=0",
                "<- hixie76 close fin=1 len=0 masked=0"
            ]
        );
    }
}
