//! RFC 6455 messages from frames: header rules, unmasking, fragmentation, control
//! frames in between, size limits and UTF-8 as the bytes arrive (§5.2–§5.6, §8.1).
//!
//! The reader is a resumable state machine: every byte it has taken from the stream
//! is recorded in its fields before it can return, so a read timeout (or
//! `WouldBlock`) in the middle of a frame loses nothing, and the next call carries on.

use crate::budget::Share;
use crate::error::{Error, Result, Violation};
use crate::frame::{apply_mask, decode_header, Header, Opcode};
use crate::input::{eof_mid_frame, eof_without_close, InputBuffer};
use crate::message::{CloseCode, MessageRef};
use crate::permessage_deflate::{Direction, Inbound};
use crate::utf8::Utf8Progress;
use std::io::Read;

mod compressed;

/// Which side of the connection we are: it decides which frames must be masked (§5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// We accepted the connection: incoming frames must be masked, ours never are.
    Server,
    /// We opened the connection: we mask every frame, incoming ones must not be masked.
    Client,
}

/// Size limits checked from the frame header, before any payload is read (§10.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest payload of one frame, in bytes.
    pub max_frame_size: usize,
    /// Largest message (all its fragments together), in bytes.
    pub max_message_size: usize,
}

impl Default for Limits {
    /// 16 MiB frames and 64 MiB messages: enough for Autobahn's largest cases (16 MiB
    /// in one frame), small enough that one client cannot ask for gigabytes.
    fn default() -> Limits {
        Limits {
            max_frame_size: 16 << 20,
            max_message_size: 64 << 20,
        }
    }
}

/// The message buffer starts at this size when it first has to grow.
const FIRST_GROWTH: usize = 64 * 1024;

/// The message buffer keeps at most this much capacity between messages; a larger one
/// (from a big message) is given back once that message has been delivered.
pub(crate) const RETAINED_CAPACITY: usize = 2 << 20;

/// What the previous call handed out, and so what the next call must clear first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Delivered {
    Nothing,
    /// A whole message, or the last piece of one.
    Message,
    /// A piece of a message that goes on.
    Piece,
}

/// A piece of a large binary message, handed out before the message is complete so
/// that a relay (the echo) can pass it on while the rest is still arriving, and so
/// that holding the message never takes more memory than one piece.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece<'a> {
    /// The next bytes of the message, unmasked.
    pub data: &'a [u8],
    /// This is the message's first piece.
    pub first: bool,
    /// This is the message's last piece.
    pub last: bool,
}

/// What [`MessageReader::read_part`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part<'a> {
    /// A complete message, as [`MessageReader::read`] returns it.
    Message(MessageRef<'a>),
    /// A piece of a binary message too large to wait for.
    Piece(Piece<'a>),
}

/// The frame whose payload is being read.
#[derive(Debug, Clone, Copy)]
struct FrameInProgress {
    opcode: Opcode,
    fin: bool,
    mask: Option<[u8; 4]>,
    /// Payload bytes still to come.
    remaining: u64,
    /// Payload bytes already received (the masking key's offset).
    received: usize,
}

/// Reads RFC 6455 frames from a stream and yields whole messages.
#[derive(Debug)]
pub struct MessageReader {
    role: Role,
    limits: Limits,
    input: InputBuffer,
    frame: Option<FrameInProgress>,
    /// The data message in progress: `Text` or `Binary` from its first frame.
    message: Option<Opcode>,
    /// Message payload; only `data[..data_len]` is meaningful. The vector's length is
    /// its high-water mark, so refilling it needs no zeroing.
    data: Vec<u8>,
    data_len: usize,
    /// Bytes of the message in progress already handed out as pieces.
    streamed: usize,
    control: Vec<u8>,
    utf8: Utf8Progress,
    delivered: Delivered,
    /// Where the message buffer's growth beyond its allowance is drawn from, if the
    /// connection has a memory budget ([`crate::budget`]).
    share: Option<Share>,
    /// permessage-deflate, when negotiated ([`crate::permessage_deflate`]).
    deflate: Option<Inbound>,
    /// The message in progress came with RSV1: its payload is DEFLATE data.
    compressed: bool,
}

impl MessageReader {
    /// A reader whose stream has already delivered `leftover` (bytes after the
    /// handshake).
    pub fn new(role: Role, limits: Limits, leftover: &[u8]) -> MessageReader {
        MessageReader {
            role,
            limits,
            input: InputBuffer::new(leftover),
            frame: None,
            message: None,
            data: Vec::new(),
            data_len: 0,
            streamed: 0,
            control: Vec::new(),
            utf8: Utf8Progress::default(),
            delivered: Delivered::Nothing,
            share: None,
            deflate: None,
            compressed: false,
        }
    }

    /// Accepts compressed messages (RSV1, RFC 7692 §6) as negotiated in the
    /// handshake. Without this, RSV1 fails the connection with 1002.
    pub fn set_deflate(&mut self, params: &crate::deflate::Parameters) {
        let direction = Direction::incoming(params, self.role);
        self.deflate = Some(Inbound::new(direction));
    }

    /// Draws the message buffer's growth beyond `share.allowance` from a memory
    /// budget: a message that needs more than is free waits, without reading, for at
    /// most `share.patience`, then fails with [`Error::Overloaded`]. Between messages
    /// the buffer shrinks back to the allowance, so an idle connection holds nothing
    /// of the pool.
    pub fn set_share(&mut self, share: Share) {
        self.share = Some(share);
    }

    /// Whether bytes are already buffered, so the next read may not need the stream.
    /// Writers use it to hold answers back and send many with one system call.
    pub fn has_buffered_input(&self) -> bool {
        !self.input.is_empty()
    }

    /// Reads until one message (data or control) is complete and returns it, borrowed
    /// from the reader's buffers.
    pub fn read<R: Read + ?Sized>(&mut self, stream: &mut R) -> Result<MessageRef<'_>> {
        match self.read_part(stream, usize::MAX)? {
            Part::Message(message) => Ok(message),
            Part::Piece(_) => unreachable!("a piece is cut at usize::MAX bytes only"),
        }
    }

    /// Like [`read`](MessageReader::read), but a binary message longer than
    /// `piece_size` comes out in pieces, so it can be passed on while the rest is
    /// still arriving and never needs more than `piece_size` bytes of memory:
    ///
    /// - a frame of `piece_size` bytes or more is handed out read by read: each piece
    ///   is what one read of the stream brought (at most `piece_size` bytes), so the
    ///   bytes leave again while they are still in the cache, as in a TCP echo;
    /// - shorter frames gather until `piece_size` bytes are in or the message ends.
    ///
    /// Text is always whole: it is valid UTF-8 only once complete. Control frames
    /// between the fragments of a message come out whole. A `piece_size` of 0
    /// counts as 1.
    pub fn read_part<R: Read + ?Sized>(
        &mut self,
        stream: &mut R,
        piece_size: usize,
    ) -> Result<Part<'_>> {
        let piece_size = piece_size.max(1);
        match std::mem::replace(&mut self.delivered, Delivered::Nothing) {
            Delivered::Nothing => {}
            Delivered::Piece => self.data_len = 0,
            Delivered::Message => {
                self.message = None;
                self.data_len = 0;
                self.streamed = 0;
                if std::mem::take(&mut self.compressed) {
                    self.release_inflated();
                }
                self.utf8.reset();
                self.shrink_after_message();
            }
        }
        loop {
            if self.frame.is_none() {
                let header = self.read_header(stream)?;
                self.frame = Some(self.start_frame(header)?);
            }
            let piece_ready = self.read_payload(stream, piece_size)?;
            let Some(frame) = self.frame else {
                continue;
            };
            // A compressed frame whose piece filled up may still hold output.
            let frame_done = frame.remaining == 0 && !(self.compressed && piece_ready);
            if frame_done {
                self.frame = None;
                if frame.opcode.is_control() {
                    return self.control_message(frame.opcode).map(Part::Message);
                }
            }
            let ends_message = frame_done && frame.fin;
            if ends_message && self.streamed == 0 {
                self.delivered = Delivered::Message;
                let payload = &self.data[..self.data_len];
                return match self.message {
                    Some(Opcode::Text) => {
                        let text = std::str::from_utf8(payload)
                            .map_err(|_| Error::Protocol(Violation::InvalidUtf8))?;
                        Ok(Part::Message(MessageRef::Text(text)))
                    }
                    _ => Ok(Part::Message(MessageRef::Binary(payload))),
                };
            }
            if piece_ready || ends_message {
                let first = self.streamed == 0;
                self.streamed += self.data_len;
                self.delivered = if ends_message {
                    Delivered::Message
                } else {
                    Delivered::Piece
                };
                return Ok(Part::Piece(Piece {
                    data: &self.data[..self.data_len],
                    first,
                    last: ends_message,
                }));
            }
        }
    }

    fn read_header<R: Read + ?Sized>(&mut self, stream: &mut R) -> Result<Header> {
        loop {
            if let Some((header, used)) = decode_header(self.input.data())? {
                self.input.consume(used);
                return Ok(header);
            }
            if self.input.fill(stream)? == 0 {
                let between_messages = self.input.is_empty() && self.message.is_none();
                return Err(Error::Io(if between_messages {
                    eof_without_close()
                } else {
                    eof_mid_frame()
                }));
            }
        }
    }

    /// Applies the header rules of §5.2–§5.5 and the size limits.
    fn start_frame(&mut self, h: Header) -> Result<FrameInProgress, Violation> {
        let rsv1 = h.rsv != 0 && self.compression_bit(h)?;
        let opcode = Opcode::from_bits(h.opcode_bits).ok_or(Violation::ReservedOpcode)?;
        match (self.role, h.mask.is_some()) {
            (Role::Server, false) => return Err(Violation::UnmaskedFrameFromClient),
            (Role::Client, true) => return Err(Violation::MaskedFrameFromServer),
            _ => {}
        }
        if opcode.is_control() {
            if !h.fin {
                return Err(Violation::FragmentedControlFrame);
            }
            if h.len > 125 {
                return Err(Violation::ControlFrameTooLong);
            }
            self.control.clear();
        } else {
            match (opcode, self.message) {
                (Opcode::Continuation, None) => return Err(Violation::UnexpectedContinuation),
                (Opcode::Continuation, Some(_)) => {}
                (_, Some(_)) => return Err(Violation::ExpectedContinuation),
                (_, None) => {
                    self.message = Some(opcode);
                    self.compressed = rsv1;
                }
            }
            if h.len > self.limits.max_frame_size as u64 {
                return Err(Violation::FrameTooLarge);
            }
            // A compressed message is measured as it inflates (1009 there).
            let so_far = self.streamed + self.data_len;
            if !self.compressed && h.len > (self.limits.max_message_size - so_far) as u64 {
                return Err(Violation::MessageTooLarge);
            }
        }
        Ok(FrameInProgress {
            opcode,
            fin: h.fin,
            mask: h.mask,
            remaining: h.len,
            received: 0,
        })
    }

    /// Reads the current frame's payload to its end, unmasking and checking UTF-8 as
    /// each piece lands. Returns true if it stopped early because a piece of a binary
    /// message is ready (see [`read_part`](MessageReader::read_part)).
    fn read_payload<R: Read + ?Sized>(
        &mut self,
        stream: &mut R,
        piece_size: usize,
    ) -> Result<bool> {
        let Some(frame) = self.frame.as_mut() else {
            return Ok(false);
        };
        if self.compressed && !frame.opcode.is_control() {
            return self.read_compressed_payload(stream, piece_size);
        }
        let cut = !frame.opcode.is_control() && self.message == Some(Opcode::Binary);
        let frame_len = frame.received as u64 + frame.remaining;
        let read_by_read = cut && frame_len >= piece_size as u64;
        while frame.remaining > 0 {
            if cut && self.data_len >= piece_size {
                return Ok(true);
            }
            let mut want = usize::try_from(frame.remaining).unwrap_or(usize::MAX);
            if cut {
                want = want.min(piece_size - self.data_len);
            }
            let (buf, at) = if frame.opcode.is_control() {
                let at = self.control.len();
                self.control.resize(at + want, 0);
                (&mut self.control, at)
            } else {
                let needed = self.data_len + want;
                if self.data.len() < needed {
                    // Memory follows the bytes that arrive, so a lying length costs
                    // nothing; a piece read by read is bounded by the caller instead.
                    let grown = if read_by_read {
                        needed
                    } else {
                        (self.data.len() * 2).max(FIRST_GROWTH).min(needed)
                    };
                    grow(&mut self.data, self.data_len, self.share.as_ref(), grown)?;
                }
                (&mut self.data, self.data_len)
            };
            let room = (buf.len() - at).min(want);
            let n = if self.input.is_empty() {
                match stream.read(&mut buf[at..at + room]) {
                    Ok(0) => {
                        if frame.opcode.is_control() {
                            self.control.truncate(at);
                        }
                        return Err(Error::Io(eof_mid_frame()));
                    }
                    Ok(n) => n,
                    Err(e) => {
                        if frame.opcode.is_control() {
                            self.control.truncate(at);
                        }
                        if e.kind() == std::io::ErrorKind::Interrupted {
                            continue;
                        }
                        return Err(Error::Io(e));
                    }
                }
            } else {
                let n = room.min(self.input.data().len());
                buf[at..at + n].copy_from_slice(&self.input.data()[..n]);
                self.input.consume(n);
                n
            };
            if let Some(key) = frame.mask {
                apply_mask(&mut buf[at..at + n], key, frame.received);
            }
            frame.received += n;
            frame.remaining -= n as u64;
            if frame.opcode.is_control() {
                self.control.truncate(at + n);
            } else {
                self.data_len += n;
                // The chunk that completes a text message is left to the final
                // whole-message check, which is needed anyway to hand out a `&str`.
                let completes_message = frame.remaining == 0 && frame.fin;
                if self.message == Some(Opcode::Text)
                    && !completes_message
                    && self.utf8.check(&self.data[..self.data_len]).is_err()
                {
                    return Err(Violation::InvalidUtf8.into());
                }
                if read_by_read && frame.remaining > 0 {
                    return Ok(true);
                }
            }
        }
        Ok(cut && self.data_len >= piece_size)
    }

    /// Whether RSV bits `h.rsv` (not zero) are RSV1 where RFC 7692 §6 allows it: on
    /// the first frame of a text or binary message, with the extension negotiated.
    /// Anywhere else they fail the connection (1002).
    #[cold]
    fn compression_bit(&self, h: Header) -> Result<bool, Violation> {
        if h.rsv != 0b100 || self.deflate.is_none() {
            return Err(Violation::ReservedBits);
        }
        match h.opcode_bits {
            0x1 | 0x2 => Ok(true),
            _ => Err(Violation::MisplacedCompressionBit),
        }
    }

    /// Gives back a large message's buffer once it has been delivered: with a
    /// budget, everything beyond the allowance (kept as a spare for the next large
    /// message, on any connection); without one, anything beyond
    /// [`RETAINED_CAPACITY`].
    fn shrink_after_message(&mut self) {
        let held = self.data.len();
        match &self.share {
            Some(share) if held > share.allowance => {
                share.keep_spare(std::mem::take(&mut self.data));
            }
            None if held > RETAINED_CAPACITY => self.data = Vec::new(),
            _ => {}
        }
    }

    fn control_message(&self, opcode: Opcode) -> Result<MessageRef<'_>> {
        let payload = &self.control[..];
        Ok(match opcode {
            Opcode::Ping => MessageRef::Ping(payload),
            Opcode::Pong => MessageRef::Pong(payload),
            _ => MessageRef::Close(parse_close_payload(payload)?),
        })
    }
}

/// Grows a message buffer holding `used` bytes to `len` bytes. Beyond the allowance,
/// with a budget: a spare buffer of a finished message if one is kept (no fresh
/// pages, no zeroing), else the budget's bytes for the growth, waiting for them if
/// need be.
fn grow(data: &mut Vec<u8>, used: usize, share: Option<&Share>, len: usize) -> Result<()> {
    if let Some(share) = share {
        if data.len() <= share.allowance && len > share.allowance {
            if let Some(mut spare) = share.spare(len) {
                spare[..used].copy_from_slice(&data[..used]);
                *data = spare;
                return Ok(());
            }
        }
        share.grow(data.len(), len)?;
    }
    data.reserve_exact(len - data.len());
    data.resize(len, 0);
    Ok(())
}

/// A close frame's payload: empty, or a 2-byte code and a UTF-8 reason (§5.5.1).
///
/// ```
/// use stdws::message_reader::parse_close_payload;
/// use stdws::{CloseCode, Violation};
/// assert_eq!(parse_close_payload(b""), Ok(None));
/// assert_eq!(parse_close_payload(&[0x03, 0xE8, b'o', b'k']), Ok(Some((CloseCode(1000), "ok"))));
/// assert_eq!(parse_close_payload(&[0x03]), Err(Violation::CloseFrameOneByte));
/// assert_eq!(parse_close_payload(&[0x03, 0xED]), Err(Violation::InvalidCloseCode)); // 1005
/// assert_eq!(parse_close_payload(&[0x03, 0xE8, 0xFF]), Err(Violation::CloseReasonNotUtf8));
/// ```
pub fn parse_close_payload(payload: &[u8]) -> Result<Option<(CloseCode, &str)>, Violation> {
    match payload {
        [] => Ok(None),
        [_] => Err(Violation::CloseFrameOneByte),
        [hi, lo, reason @ ..] => {
            let code = CloseCode(u16::from_be_bytes([*hi, *lo]));
            if !code.is_valid_on_wire() {
                return Err(Violation::InvalidCloseCode);
            }
            let reason = std::str::from_utf8(reason).map_err(|_| Violation::CloseReasonNotUtf8)?;
            Ok(Some((code, reason)))
        }
    }
}

#[cfg(test)]
mod tests;
