//! hixie-76 framing (draft-hixie-thewebsocketprotocol-76 §4.2, §5.3).
//!
//! ```text
//! text frame:    0x00  <UTF-8 text, no 0xFF>  0xFF
//! other framing: 0x01..0x7F  <bytes>  0xFF                (discarded)
//!                0x80..0xFF  <base-128 length>  <length bytes>   (discarded)
//! closing:       0xFF 0x00
//! ```
//!
//! There is no masking, no binary message, no ping and no close code. The reader is
//! resumable like the RFC 6455 one: a timeout mid-frame loses nothing.

use crate::budget::Share;
use crate::error::{Error, Result, Violation};
use crate::input::{eof_mid_frame, eof_without_close, InputBuffer};
use crate::message::MessageRef;
use crate::message_reader::RETAINED_CAPACITY;
use crate::utf8::Utf8Progress;
use std::io::Read;

/// The closing handshake frame: type 0xFF, length 0.
pub const CLOSE_FRAME: [u8; 2] = [0xFF, 0x00];

/// The byte that opens a text frame (draft §4.2).
pub const TEXT_START: u8 = 0x00;

/// The byte that ends a text frame; valid UTF-8 never contains it.
pub const TEXT_END: u8 = 0xFF;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Expecting a frame-type byte.
    FrameType,
    /// Inside a 0x00 text frame.
    Text,
    /// Inside a 0x01–0x7F sentinel frame whose contents are discarded.
    DiscardText,
    /// Reading the base-128 length of a 0x80–0xFF frame.
    Length { frame_type: u8, len: u64 },
    /// Discarding the contents of a length-prefixed frame.
    Discard(u64),
}

/// Reads hixie-76 frames and yields text messages and the close.
#[derive(Debug)]
pub struct HixieReader {
    input: InputBuffer,
    state: State,
    text: Vec<u8>,
    utf8: Utf8Progress,
    /// Bytes of a discarded sentinel frame so far (capped like a message).
    discarded: usize,
    max_message_size: usize,
    delivered: bool,
    /// Where the text buffer's growth beyond its allowance is drawn from, if the
    /// connection has a memory budget ([`crate::budget`]).
    share: Option<Share>,
}

impl HixieReader {
    /// A reader whose stream has already delivered `leftover`.
    pub fn new(max_message_size: usize, leftover: &[u8]) -> HixieReader {
        HixieReader {
            input: InputBuffer::new(leftover),
            state: State::FrameType,
            text: Vec::new(),
            utf8: Utf8Progress::default(),
            discarded: 0,
            max_message_size,
            delivered: false,
            share: None,
        }
    }

    /// Draws the text buffer's growth beyond `share.allowance` from a memory budget,
    /// as [`MessageReader::set_share`](crate::message_reader::MessageReader::set_share)
    /// does.
    pub fn set_share(&mut self, share: Share) {
        self.share = Some(share);
    }

    /// Whether bytes are already buffered.
    pub fn has_buffered_input(&self) -> bool {
        !self.input.is_empty()
    }

    /// Reads until a text frame or the closing frame is complete.
    pub fn read<R: Read + ?Sized>(&mut self, stream: &mut R) -> Result<MessageRef<'_>> {
        if self.delivered {
            self.delivered = false;
            self.text.clear();
            self.utf8.reset();
            let held = self.text.capacity();
            let keep = self
                .share
                .as_ref()
                .map_or(RETAINED_CAPACITY, |s| s.allowance);
            if held > keep {
                self.text = Vec::new();
                if let Some(share) = &self.share {
                    share.shrink(held, 0);
                }
            }
        }
        loop {
            if self.input.is_empty() && self.input.fill(stream)? == 0 {
                return Err(Error::Io(if self.state == State::FrameType {
                    eof_without_close()
                } else {
                    eof_mid_frame()
                }));
            }
            match self.step()? {
                Step::More => {}
                Step::Text => {
                    self.delivered = true;
                    let text = std::str::from_utf8(&self.text)
                        .map_err(|_| Error::Protocol(Violation::InvalidUtf8))?;
                    return Ok(MessageRef::Text(text));
                }
                Step::Close => return Ok(MessageRef::Close(None)),
            }
        }
    }

    /// Consumes buffered input (at least one byte) and says what it completed.
    fn step(&mut self) -> Result<Step> {
        let data = self.input.data();
        match self.state {
            State::FrameType => {
                let frame_type = data[0];
                self.input.consume(1);
                self.state = match frame_type {
                    0x00 => State::Text,
                    0x01..=0x7F => {
                        self.discarded = 0;
                        State::DiscardText
                    }
                    _ => State::Length { frame_type, len: 0 },
                };
            }
            State::Text => {
                let end = data.iter().position(|&b| b == 0xFF);
                let piece = &data[..end.unwrap_or(data.len())];
                let needed = self.text.len() + piece.len();
                if needed > self.max_message_size {
                    return Err(Violation::MessageTooLarge.into());
                }
                if needed > self.text.capacity() {
                    let grown = (self.text.capacity() * 2).max(needed);
                    if let Some(share) = &self.share {
                        share.grow(self.text.capacity(), grown)?;
                    }
                    self.text.reserve_exact(grown - self.text.len());
                }
                self.text.extend_from_slice(piece);
                let used = piece.len() + usize::from(end.is_some());
                self.input.consume(used);
                self.utf8
                    .check(&self.text)
                    .map_err(|_| Violation::InvalidUtf8)?;
                if end.is_some() {
                    self.state = State::FrameType;
                    if !self.utf8.is_complete(&self.text) {
                        return Err(Violation::InvalidUtf8.into());
                    }
                    return Ok(Step::Text);
                }
            }
            State::DiscardText => {
                let end = data.iter().position(|&b| b == 0xFF);
                let used = end.map_or(data.len(), |e| e + 1);
                self.discarded += used;
                self.input.consume(used);
                if self.discarded > self.max_message_size {
                    return Err(Violation::MessageTooLarge.into());
                }
                if end.is_some() {
                    self.state = State::FrameType;
                }
            }
            State::Length { frame_type, len } => {
                let b = data[0];
                self.input.consume(1);
                let len = len
                    .checked_mul(128)
                    .map(|l| l + u64::from(b & 0x7F))
                    .filter(|&l| l <= self.max_message_size as u64)
                    .ok_or(Violation::HixieLengthTooLarge)?;
                if b & 0x80 != 0 {
                    self.state = State::Length { frame_type, len };
                    return Ok(Step::More);
                }
                // The last length byte: 0xFF 0x00 is the closing handshake (§4.2).
                self.state = if len == 0 {
                    State::FrameType
                } else {
                    State::Discard(len)
                };
                if frame_type == 0xFF && len == 0 {
                    return Ok(Step::Close);
                }
            }
            State::Discard(left) => {
                let n = (data.len() as u64).min(left);
                self.input.consume(n as usize);
                self.state = if n == left {
                    State::FrameType
                } else {
                    State::Discard(left - n)
                };
            }
        }
        Ok(Step::More)
    }
}

enum Step {
    More,
    Text,
    Close,
}

/// Appends a text frame for `text` to `out`. Valid UTF-8 never contains 0xFF, so the
/// text needs no escaping.
pub fn encode_text(out: &mut Vec<u8>, text: &str) {
    out.reserve(text.len() + 2);
    out.push(TEXT_START);
    out.extend_from_slice(text.as_bytes());
    out.push(TEXT_END);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(wire: &[u8]) -> Vec<std::result::Result<String, String>> {
        let mut r = HixieReader::new(1024, &[]);
        let mut stream = wire;
        let mut out = Vec::new();
        loop {
            match r.read(&mut stream) {
                Ok(MessageRef::Text(t)) => out.push(Ok(t.to_string())),
                Ok(MessageRef::Close(None)) => out.push(Ok("<close>".into())),
                Ok(other) => out.push(Err(format!("{other:?}"))),
                Err(e) => {
                    out.push(Err(e.to_string()));
                    return out;
                }
            }
        }
    }

    #[test]
    fn text_frames_and_close() {
        let got = read_all(b"\x00hello\xFF\x00\xFF\xFF\x00");
        assert_eq!(
            got[..3],
            [Ok("hello".into()), Ok("".into()), Ok("<close>".into())]
        );
    }

    #[test]
    fn length_prefixed_and_sentinel_frames_are_discarded() {
        // type 0x80, length 0x81 0x00 = 128 bytes; then type 0x05 sentinel frame.
        let mut wire = vec![0x80, 0x81, 0x00];
        wire.extend_from_slice(&[0xAB; 128]);
        wire.extend_from_slice(b"\x05junk\xFF\x00after\xFF");
        let got = read_all(&wire);
        assert_eq!(got[0], Ok("after".into()));
    }

    #[test]
    fn absurd_length_closes() {
        let wire = [
            0x80, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F,
        ];
        let got = read_all(&wire);
        assert_eq!(
            got[0],
            Err(Error::Protocol(Violation::HixieLengthTooLarge).to_string())
        );
    }

    #[test]
    fn invalid_utf8_fails_before_the_frame_ends() {
        let mut r = HixieReader::new(1024, &[]);
        let mut stream: &[u8] = b"\x00ok\xC0";
        assert!(matches!(
            r.read(&mut stream),
            Err(Error::Protocol(Violation::InvalidUtf8))
        ));
    }

    #[test]
    fn unterminated_text_over_the_limit_closes() {
        let mut wire = vec![0x00];
        wire.extend_from_slice(&[b'a'; 2000]);
        let got = read_all(&wire);
        assert_eq!(
            got[0],
            Err(Error::Protocol(Violation::MessageTooLarge).to_string())
        );
    }
}
