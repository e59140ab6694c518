//! A passive tap on a connection's bytes: it reads frame headers from what passes in
//! each direction and reports one [`FrameEvent`] per frame, with the first bytes of
//! its payload as they crossed the wire, for `--trace` and the inspector page.
//!
//! The tap never changes, holds back or reorders a byte; it only watches. It keeps
//! its own small decoder per direction, so the reader and writer on the hot path know
//! nothing about it, and a connection without a tap pays one `Option` check per
//! system call.
//!
//! RFC 6455 frames are decoded with [`decode_header`] (§5.2); up to [`PREVIEW_LEN`]
//! bytes of each payload are kept (still masked, as sent) and the rest skipped.
//! hixie-76 frames (draft §4.2) are counted up to their 0xFF sentinel or over their
//! base-128 length. A frame is reported once its preview is complete.
//!
//! The frame that ends a compressed message (permessage-deflate, RSV1 on its first
//! frame) is reported once its whole payload has passed instead, with the message's
//! sizes on the wire and inflated ([`MessageSizes`], counted by an inflater of the
//! tap's own, `src/tap/message_sizes.rs`).

mod message_sizes;

pub use message_sizes::MessageSizes;

use crate::frame::{decode_header, Opcode, MAX_HEADER_LEN};
use crate::handshake::Variant;
use std::fmt;
use std::sync::{Arc, Mutex};

/// Which way a frame went, seen from the endpoint that taps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// From the peer to us.
    In,
    /// From us to the peer.
    Out,
}

/// How many payload bytes a [`FrameEvent`] keeps: 125, so a control frame (a close
/// code and its whole reason, a ping's payload) is always seen entire (§5.5).
pub const PREVIEW_LEN: usize = 125;

/// One frame as seen on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// The opcode's four bits (hixie-76: the frame-type byte).
    pub opcode_bits: u8,
    /// RSV1, RSV2 and RSV3 as the three low bits (RSV1 is 4); 0 unless an extension
    /// was agreed (§5.2).
    pub rsv: u8,
    /// The masking key, for a masked frame (§5.3).
    pub mask: Option<[u8; 4]>,
    /// The first payload bytes (at most [`PREVIEW_LEN`]) as they crossed the wire:
    /// still masked if the frame was; [`crate::frame::apply_mask`] with `mask`
    /// recovers them.
    pub preview: Vec<u8>,
    /// On the final frame of a compressed message: the message's sizes.
    pub message: Option<MessageSizes>,
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
        )?;
        match self.rsv {
            0 => {}
            0b100 => f.write_str(" rsv1=1 (compressed)")?,
            rsv => write!(f, " rsv={rsv:03b}")?,
        }
        if let Some(key) = self.mask {
            f.write_str(" key=")?;
            for b in key {
                write!(f, "{b:02x}")?;
            }
        }
        Ok(())
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
    /// Inside a payload, this many bytes still to come.
    Payload(u64),
    /// hixie-76: expecting a frame-type byte.
    FrameType,
    /// hixie-76: inside a sentinel frame (0x00–0x7F), up to its 0xFF.
    Sentinel,
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
    /// The frame whose preview is being gathered.
    pending: Option<FrameEvent>,
    /// The current frame's masking key, and how far into its payload the bytes are.
    mask: Option<[u8; 4]>,
    offset: u64,
    /// Whether the current frame's payload belongs to a compressed message.
    compressed: bool,
    follower: message_sizes::Follower,
}

impl Decoder {
    fn new(variant: Variant, direction: Direction) -> Decoder {
        Decoder {
            variant,
            direction,
            state: Decoder::frame_start(variant),
            header: Vec::with_capacity(MAX_HEADER_LEN),
            pending: None,
            mask: None,
            offset: 0,
            compressed: false,
            follower: message_sizes::Follower::default(),
        }
    }

    fn frame_start(variant: Variant) -> State {
        match variant {
            Variant::Rfc6455 => State::Header,
            Variant::Hixie76 => State::FrameType,
        }
    }

    fn event(&self, opcode: &'static str, opcode_bits: u8, len: u64) -> FrameEvent {
        FrameEvent {
            direction: self.direction,
            variant: self.variant,
            opcode,
            fin: true,
            len,
            masked: false,
            opcode_bits,
            rsv: 0,
            mask: None,
            preview: Vec::new(),
            message: None,
        }
    }

    fn feed(&mut self, mut bytes: &[u8], report: &FrameCallback) {
        while let Some((&byte, rest)) = bytes.split_first() {
            match self.state {
                State::Lost => return,
                State::Payload(left) => {
                    let take = usize::try_from(left).map_or(bytes.len(), |n| n.min(bytes.len()));
                    let left = left - take as u64;
                    self.keep(&bytes[..take]);
                    if self.compressed {
                        self.follower.feed(&bytes[..take], self.mask, self.offset);
                        self.offset += take as u64;
                    }
                    let last_of_message =
                        self.compressed && self.pending.as_ref().is_some_and(|e| e.fin);
                    if left == 0
                        || !last_of_message
                            && self
                                .pending
                                .as_ref()
                                .is_some_and(|e| e.preview.len() == PREVIEW_LEN)
                    {
                        if let Some(mut event) = self.pending.take() {
                            if last_of_message {
                                event.message = self.follower.finish();
                            }
                            report(&event);
                        }
                    }
                    bytes = &bytes[take..];
                    self.state = match left {
                        0 => Decoder::frame_start(self.variant),
                        n => State::Payload(n),
                    };
                    continue;
                }
                State::Header => self.header_byte(byte, report),
                State::FrameType => self.frame_type(byte),
                State::Sentinel if byte == 0xFF => {
                    if let Some(event) = self.pending.take() {
                        report(&event);
                    }
                    self.state = State::FrameType;
                }
                State::Sentinel => {
                    self.keep(&[byte]);
                    if let Some(e) = &mut self.pending {
                        e.len = e.len.saturating_add(1);
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
                        report(&self.event(name, frame_type, len));
                        self.state = match len {
                            0 => State::FrameType,
                            n => State::Payload(n),
                        };
                    }
                }
            }
            bytes = rest;
        }
    }

    /// Adds payload bytes to the pending frame's preview, up to its limit.
    fn keep(&mut self, bytes: &[u8]) {
        if let Some(e) = &mut self.pending {
            let room = PREVIEW_LEN - e.preview.len();
            e.preview.extend_from_slice(&bytes[..room.min(bytes.len())]);
        }
    }

    fn header_byte(&mut self, byte: u8, report: &FrameCallback) {
        self.header.push(byte);
        match decode_header(&self.header) {
            Ok(None) => {}
            Ok(Some((h, _))) => {
                let name = Opcode::from_bits(h.opcode_bits).map_or("reserved", Opcode::name);
                let mut event = self.event(name, h.opcode_bits, h.len);
                event.fin = h.fin;
                event.rsv = h.rsv;
                event.masked = h.mask.is_some();
                event.mask = h.mask;
                self.header.clear();
                self.follow(&h);
                if h.len == 0 {
                    if self.compressed && h.fin {
                        event.message = self.follower.finish();
                    }
                    report(&event);
                    self.state = State::Header;
                } else {
                    event.preview.reserve(PREVIEW_LEN.min(h.len as usize));
                    self.pending = Some(event);
                    self.state = State::Payload(h.len);
                }
            }
            Err(_) => self.state = State::Lost,
        }
    }

    /// Notes whether a new frame's payload belongs to a compressed message: a text
    /// or binary frame starts a message (compressed if RSV1 is set, RFC 7692 §6), a
    /// continuation goes on with it, a control frame stands apart.
    fn follow(&mut self, h: &crate::frame::Header) {
        self.mask = h.mask;
        self.offset = 0;
        match h.opcode_bits {
            1 | 2 if h.rsv & 0b100 != 0 => self.follower.start(),
            1 | 2 => self.follower.plain(),
            _ => {}
        }
        self.compressed = h.opcode_bits <= 2 && self.follower.following();
    }

    fn frame_type(&mut self, byte: u8) {
        self.state = if byte & 0x80 == 0 {
            let name = if byte == 0 { "text" } else { "discarded" };
            self.pending = Some(self.event(name, byte, 0));
            State::Sentinel
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
                "<- rfc6455 text fin=1 len=5 masked=1 key=37fa213d",
                "<- rfc6455 close fin=1 len=0 masked=1 key=01020304"
            ]
        );
    }

    #[test]
    fn previews_are_the_wire_bytes_up_to_their_limit() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let tap = Tap::new(
            Variant::Rfc6455,
            Arc::new(move |e: &FrameEvent| sink.lock().unwrap().push(e.clone())),
        );
        // §5.7's masked "Hello", a byte at a time, then an unmasked 300-byte binary
        // frame with RSV1 set, split in two.
        for b in [
            0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
        ] {
            tap.incoming(&[b]);
        }
        let mut long = vec![0xC2, 0x7E, 0x01, 0x2C];
        long.extend((0..300).map(|i| i as u8));
        tap.incoming(&long[..50]);
        tap.incoming(&long[50..]);
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 2);
        let mut hello = seen[0].preview.clone();
        assert_eq!(hello, [0x7f, 0x9f, 0x4d, 0x51, 0x58]);
        crate::frame::apply_mask(&mut hello, seen[0].mask.unwrap(), 0);
        assert_eq!(hello, b"Hello");
        assert_eq!((seen[1].rsv, seen[1].opcode_bits, seen[1].len), (4, 2, 300));
        assert_eq!(seen[1].preview, long[4..4 + PREVIEW_LEN]);
    }

    /// A frame header (FIN, RSV1, opcode; 7- or 16-bit length), its key and payload,
    /// masked when a key is given.
    fn frame(first: u8, key: Option<[u8; 4]>, payload: &[u8]) -> Vec<u8> {
        let mask_bit = if key.is_some() { 0x80 } else { 0 };
        let mut wire = vec![first];
        match payload.len() {
            n @ 0..=125 => wire.push(mask_bit | n as u8),
            n => {
                wire.push(mask_bit | 126);
                wire.extend_from_slice(&(n as u16).to_be_bytes());
            }
        }
        let mut payload = payload.to_vec();
        if let Some(key) = key {
            wire.extend_from_slice(&key);
            crate::frame::apply_mask(&mut payload, key, 0);
        }
        wire.extend_from_slice(&payload);
        wire
    }

    #[test]
    fn compressed_messages_are_reported_with_their_sizes() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let tap = Tap::new(
            Variant::Rfc6455,
            Arc::new(move |e: &FrameEvent| sink.lock().unwrap().push(e.clone())),
        );
        let key = Some([9, 8, 7, 6]);
        // RFC 7692 §7.2.3.1's "Hello" in two masked frames (RSV1 on the first only)
        // with a ping between; then §7.2.3.2's "Hello" again by back-reference; then
        // a plain message; then 20,000 bytes compressed into one long frame.
        let mut wire = frame(0x41, key, &[0xf2, 0x48, 0xcd]);
        wire.extend(frame(0x89, key, b""));
        wire.extend(frame(0x80, key, &[0xc9, 0xc9, 0x07, 0x00]));
        wire.extend(frame(0xC1, None, &[0xf2, 0x00, 0x11, 0x00, 0x00]));
        wire.extend(frame(0x81, key, b"plain"));
        let long: Vec<u8> = (0..4000u32)
            .flat_map(|i| format!("{} ", i * 7919 % 10007).into_bytes())
            .collect();
        let mut payload = Vec::new();
        crate::deflate::Compressor::new(15, true).compress_message(&long, &mut payload);
        assert!(payload.len() > PREVIEW_LEN);
        wire.extend(frame(0xC2, key, &payload));
        for piece in wire.chunks(50) {
            tap.incoming(piece);
        }
        let seen = seen.lock().unwrap();
        let sizes: Vec<_> = seen.iter().map(|e| (e.opcode, e.message)).collect();
        let sized = |compressed: usize, inflated: usize| {
            Some(MessageSizes {
                compressed: compressed as u64,
                inflated: Ok(inflated as u64),
            })
        };
        assert_eq!(
            sizes,
            [
                ("text", None),
                ("ping", None),
                ("continuation", sized(7, 5)),
                ("text", sized(5, 5)),
                ("text", None),
                ("binary", sized(payload.len(), long.len())),
            ]
        );
        // The long frame's preview is still its first bytes as sent.
        assert_eq!(seen[5].preview.len(), PREVIEW_LEN);
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
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let tap = Tap::new(
            Variant::Hixie76,
            Arc::new(move |e: &FrameEvent| sink.lock().unwrap().push(e.preview.clone())),
        );
        tap.outgoing(b"\x00hi\xff");
        assert_eq!(*seen.lock().unwrap(), [b"hi".to_vec()]);
        hixie76_frame_names();
    }

    fn hixie76_frame_names() {
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
