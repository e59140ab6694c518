//! The inflater: DEFLATE data (RFC 1951 §3.2) back to bytes, resumable, into the
//! caller's buffer.
//!
//! Input may arrive cut anywhere; output goes into whatever room the caller gives, so
//! a decompression bomb stops at the caller's limit instead of growing a buffer of
//! the input's choosing. Each block type has its own step (stored, code lengths of a
//! dynamic block, Huffman-coded data), and every way a stream can be wrong is an
//! [`InflateError`]: the inflater never panics, never loops without progress.
//!
//! History is a ring of `2^window_bits` bytes, the LZ77 window negotiated by RFC 7692
//! (§7.1.2): a distance reaching past it, or past the bytes produced so far, is an
//! error. With context takeover the ring carries over from message to message; without,
//! it is forgotten at each [`Inflater::finish_message`]. The ring and its count are
//! all that matters between messages: a connection may keep just its [`Window`] and
//! lend it to any inflater for one message ([`Inflater::swap_window`]).

use super::alphabet::{
    DISTANCE_BASE, DISTANCE_EXTRA, DISTANCE_SYMBOLS, END_OF_BLOCK, FIXED_DISTANCE_LENGTHS,
    FIXED_LITERAL_LENGTHS, LENGTH_BASE, LENGTH_EXTRA,
};
use super::bits::{low_mask, BitReader};
use super::code_lengths::CodeLengthReader;
use super::huffman::{CodeKind, Decoded, Decoder};
use super::InflateError;

/// What stopped one call of [`Inflater::inflate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// All the input was used; give more (or finish the message).
    NeedInput,
    /// The output buffer is full and a byte is waiting: give more room.
    OutputFull,
    /// A block with BFINAL set has ended; any further input of this message is
    /// ignored, as RFC 7692 §7.2.3.4 allows.
    Done,
}

/// What one call of [`Inflater::inflate`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Bytes of input used (all of them, unless the output was full).
    pub consumed: usize,
    /// Bytes written to the front of the output buffer.
    pub produced: usize,
    /// Why it stopped.
    pub status: Status,
}

/// Where in the stream the inflater stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before a block's 3-bit header (BFINAL, BTYPE).
    Header,
    /// Before a stored block's LEN and NLEN (§3.2.4).
    StoredLength,
    /// Inside a stored block, this many bytes to go.
    Stored(u16),
    /// Reading a dynamic block's code lengths (§3.2.7).
    DynamicHeader,
    /// Huffman-coded literals and matches; `true` for the fixed codes.
    Data(bool),
    /// A match cut short by a full output: length to go and distance.
    Copy(u16, u16, bool),
    /// After the block with BFINAL set.
    Done,
    /// The stream was refused; every later call says why again.
    Failed(InflateError),
}

/// A resumable DEFLATE decoder for one direction of one connection: `2^window_bits`
/// bytes of history and about 10 KiB of code tables.
///
/// ```
/// use stdws::deflate::{Inflater, MESSAGE_TAIL};
/// let mut inflater = Inflater::new(15, true);
/// let mut out = [0u8; 16];
/// // RFC 7692 §7.2.3.1: "Hello", with the removed 00 00 ff ff put back.
/// let p = inflater.inflate(&[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00], &mut out)?;
/// let q = inflater.inflate(&MESSAGE_TAIL, &mut out[p.produced..])?;
/// inflater.finish_message()?;
/// assert_eq!(&out[..p.produced + q.produced], b"Hello");
/// # Ok::<(), stdws::deflate::InflateError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Inflater {
    state: State,
    last_block: bool,
    bits: BitReader,
    /// The last `window.len()` bytes produced; byte `i` of the stream at `i % len`.
    window: Vec<u8>,
    /// Bytes produced since the history was last forgotten.
    produced: u64,
    context_takeover: bool,
    codes: Box<Codes>,
}

/// The codes a block is decoded with and the reader of a dynamic block's header:
/// about 9 KiB, allocated zeroed and built in place. Every page of stack a
/// connection's thread touches stays with it for as long as the connection lives:
/// built on the stack and moved into place, these would add pages to every thread
/// that inflates.
#[derive(Debug, Clone)]
struct Codes {
    header_reader: CodeLengthReader,
    literals: Decoder,
    distances: Decoder,
    fixed_literals: Decoder,
    fixed_distances: Decoder,
}

impl Codes {
    fn new() -> Box<Codes> {
        let mut codes = Box::new(Codes {
            header_reader: CodeLengthReader::EMPTY,
            literals: Decoder::EMPTY,
            distances: Decoder::EMPTY,
            fixed_literals: Decoder::EMPTY,
            fixed_distances: Decoder::EMPTY,
        });
        // Both fixed codes are complete, so building them cannot fail.
        let fixed = (&mut codes.fixed_literals, &mut codes.fixed_distances);
        let _ = fixed.0.build(&FIXED_LITERAL_LENGTHS, CodeKind::Literals);
        let _ = fixed.1.build(&FIXED_DISTANCE_LENGTHS, CodeKind::Distances);
        codes
    }
}

impl Inflater {
    /// An inflater whose history holds `2^window_bits` bytes (8..=15), kept across
    /// messages when `context_takeover` is true.
    ///
    /// # Panics
    ///
    /// If `window_bits` is outside 8..=15 (negotiation never produces such a value).
    pub fn new(window_bits: u8, context_takeover: bool) -> Inflater {
        assert!(
            (8..=15).contains(&window_bits),
            "window bits must be 8..=15"
        );
        Inflater {
            state: State::Header,
            last_block: false,
            bits: BitReader::default(),
            window: vec![0; 1 << window_bits],
            produced: 0,
            context_takeover,
            codes: Codes::new(),
        }
    }

    /// Inflates as much of `input` as fits into `out`.
    ///
    /// Call again with the rest of the input (from `consumed` on) and more room when
    /// the status is [`Status::OutputFull`]. A message is complete once its payload
    /// and [`super::MESSAGE_TAIL`] have been consumed; then call
    /// [`Inflater::finish_message`].
    pub fn inflate(&mut self, input: &[u8], out: &mut [u8]) -> Result<Progress, InflateError> {
        let mut run = Run {
            input,
            consumed: 0,
            out,
            produced: 0,
        };
        let status = loop {
            let step = match self.state {
                State::Failed(e) => Err(e),
                State::Done => {
                    run.consumed = input.len();
                    break Status::Done;
                }
                State::Header => self.header(&mut run),
                State::StoredLength => self.stored_length(&mut run),
                State::Stored(left) => self.stored(&mut run, left),
                State::DynamicHeader => self.dynamic_header(&mut run),
                State::Data(fixed) => self.data(&mut run, fixed),
                State::Copy(len, dist, fixed) => self.resume_copy(&mut run, len, dist, fixed),
            };
            match step {
                Ok(Some(status)) => break status,
                Ok(None) => {}
                Err(e) => {
                    self.state = State::Failed(e);
                    return Err(e);
                }
            }
        };
        Ok(Progress {
            consumed: run.consumed,
            produced: run.produced,
            status,
        })
    }

    /// Ends a message (RFC 7692 §7.2.2): its payload and the tail `00 00 ff ff` must
    /// have been inflated, leaving the stream between blocks (or after a final one).
    /// Without context takeover, the history is forgotten here.
    pub fn finish_message(&mut self) -> Result<(), InflateError> {
        match self.state {
            State::Failed(e) => return Err(e),
            State::Done => {}
            State::Header if self.bits.available() == 0 => {}
            _ => {
                self.state = State::Failed(InflateError::UnexpectedEnd);
                return Err(InflateError::UnexpectedEnd);
            }
        }
        self.state = State::Header;
        self.last_block = false;
        self.bits.clear();
        if !self.context_takeover {
            self.produced = 0;
        }
        Ok(())
    }

    /// Inflates `input` onto the end of `out`, letting `out` grow to at most `limit`
    /// bytes, a piece at a time as the bytes are produced.
    ///
    /// [`InflateError::OutputLimit`] when there is more output than that: a bomb is
    /// stopped at the limit, having cost no more memory than the limit. After any
    /// other error, what `out` holds of this call's output is unspecified: the
    /// message is lost.
    pub fn inflate_into(
        &mut self,
        mut input: &[u8],
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<(), InflateError> {
        const PIECE: usize = 16 * 1024;
        loop {
            let start = out.len();
            // Room for about what the input is likely to give: zeroing more would
            // cost more than inflating a small message.
            let guess = (4 * input.len()).max(1024);
            let room = limit.saturating_sub(start).min(PIECE).min(guess);
            out.resize(start + room, 0);
            let progress = self.inflate(input, &mut out[start..]);
            let produced = progress.map_or(0, |p| p.produced);
            out.truncate(start + produced);
            let progress = progress?;
            input = &input[progress.consumed..];
            match progress.status {
                Status::OutputFull if out.len() >= limit => {
                    self.state = State::Failed(InflateError::OutputLimit);
                    return Err(InflateError::OutputLimit);
                }
                Status::OutputFull => {}
                Status::NeedInput | Status::Done => return Ok(()),
            }
        }
    }

    /// Inflates one whole message's payload (RFC 7692 §7.2.2): the payload, then the
    /// four bytes its sender removed, then [`Inflater::finish_message`].
    ///
    /// ```
    /// use stdws::deflate::Inflater;
    /// let mut inflater = Inflater::new(15, true);
    /// let mut out = Vec::new();
    /// inflater.inflate_message(&[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00], &mut out, 100)?;
    /// assert_eq!(out, b"Hello");
    /// // Context takeover: the second message is a back-reference into the first.
    /// out.clear();
    /// inflater.inflate_message(&[0xf2, 0x00, 0x11, 0x00, 0x00], &mut out, 100)?;
    /// assert_eq!(out, b"Hello");
    /// # Ok::<(), stdws::deflate::InflateError>(())
    /// ```
    pub fn inflate_message(
        &mut self,
        payload: &[u8],
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<(), InflateError> {
        self.inflate_into(payload, out, limit)?;
        self.inflate_into(&super::MESSAGE_TAIL, out, limit)?;
        self.finish_message()
    }

    /// Bytes this inflater holds: its codes and its history ring. What a
    /// connection's memory budget is charged for it.
    pub fn memory(&self) -> usize {
        std::mem::size_of::<Inflater>() + std::mem::size_of::<Codes>() + self.window.capacity()
    }

    /// Exchanges this inflater's history with `window`, between messages: a
    /// connection that keeps only its [`Window`] lends it to a shared inflater for one
    /// message, then takes it back (`src/permessage_deflate`). The inflater's tables
    /// hold nothing from one message to the next, so the history is all a direction
    /// with context takeover needs to keep.
    pub fn swap_window(&mut self, window: &mut Window) {
        std::mem::swap(&mut self.window, &mut window.ring);
        std::mem::swap(&mut self.produced, &mut window.produced);
    }

    /// Starts afresh with a history of `2^window_bits` bytes (8..=15), reusing the
    /// ring's memory: for a message that refers to no earlier one.
    ///
    /// # Panics
    ///
    /// If `window_bits` is outside 8..=15.
    pub fn restart(&mut self, window_bits: u8) {
        assert!(
            (8..=15).contains(&window_bits),
            "window bits must be 8..=15"
        );
        self.reset();
        self.window.resize(1 << window_bits, 0);
    }

    /// Forgets everything: history, position, and any error.
    pub fn reset(&mut self) {
        self.state = State::Header;
        self.last_block = false;
        self.bits.clear();
        self.produced = 0;
    }

    /// Takes input until `n` bits are held; false if the input ran out first.
    fn want(&mut self, run: &mut Run<'_>, n: u32) -> bool {
        self.bits.fill_to(n, run.input, &mut run.consumed)
    }

    /// The 3-bit block header (§3.2.3).
    fn header(&mut self, run: &mut Run<'_>) -> Step {
        if !self.want(run, 3) {
            return Ok(Some(Status::NeedInput));
        }
        self.last_block = self.bits.take(1) == 1;
        self.state = match self.bits.take(2) {
            0b00 => {
                self.bits.align_to_byte();
                State::StoredLength
            }
            0b01 => State::Data(true),
            0b10 => {
                self.codes.header_reader.start();
                State::DynamicHeader
            }
            _ => return Err(InflateError::InvalidBlockType),
        };
        Ok(None)
    }

    /// LEN and its one's complement NLEN (§3.2.4).
    fn stored_length(&mut self, run: &mut Run<'_>) -> Step {
        if !self.want(run, 32) {
            return Ok(Some(Status::NeedInput));
        }
        let len = self.bits.take(16) as u16;
        let nlen = self.bits.take(16) as u16;
        if len != !nlen {
            return Err(InflateError::StoredLengthMismatch);
        }
        self.state = State::Stored(len);
        Ok(None)
    }

    /// A stored block's bytes: first those the bit reader already holds, then
    /// straight from the input, as many at once as input and output allow.
    ///
    /// Each step of a block (this one, [`Inflater::dynamic_header`],
    /// [`Inflater::data`]) is out of line: only one step's frame is ever below
    /// [`Inflater::inflate`]'s, instead of all of them in one large frame, on the
    /// stack of a connection's thread, which keeps every page it touches.
    #[inline(never)]
    fn stored(&mut self, run: &mut Run<'_>, mut left: u16) -> Step {
        while left > 0 && self.bits.available() >= 8 {
            if run.produced == run.out.len() {
                self.state = State::Stored(left);
                return Ok(Some(Status::OutputFull));
            }
            let byte = self.bits.take(8) as u8;
            self.emit(run, byte);
            left -= 1;
        }
        while left > 0 {
            let room = run.out.len() - run.produced;
            let input = &run.input[run.consumed..];
            let n = usize::from(left).min(room).min(input.len());
            if n == 0 {
                self.state = State::Stored(left);
                let full = room == 0;
                return Ok(Some(if full {
                    Status::OutputFull
                } else {
                    Status::NeedInput
                }));
            }
            run.out[run.produced..run.produced + n].copy_from_slice(&input[..n]);
            self.remember(&input[..n]);
            run.produced += n;
            run.consumed += n;
            left -= n as u16;
        }
        self.end_block();
        Ok(None)
    }

    /// A dynamic block's code lengths, then its codes ([`CodeLengthReader`]). Out
    /// of line, as [`Inflater::stored`].
    #[inline(never)]
    fn dynamic_header(&mut self, run: &mut Run<'_>) -> Step {
        let Codes {
            header_reader,
            literals,
            distances,
            ..
        } = &mut *self.codes;
        let input = run.input;
        if !header_reader.read(
            &mut self.bits,
            input,
            &mut run.consumed,
            literals,
            distances,
        )? {
            return Ok(Some(Status::NeedInput));
        }
        self.state = State::Data(false);
        Ok(None)
    }

    /// Huffman-coded data (§3.2.5): literals, and matches of a length and a
    /// distance, until the end-of-block code. Each symbol with its extra bits, and a
    /// whole match, is taken only once all its bits are at hand. Out of line, as
    /// [`Inflater::stored`].
    #[inline(never)]
    fn data(&mut self, run: &mut Run<'_>, fixed: bool) -> Step {
        loop {
            self.want(run, BitReader::MAX_ELEMENT_BITS);
            let (bits, available) = (self.bits.peek(), self.bits.available());
            let (literals, distances) = if fixed {
                (&self.codes.fixed_literals, &self.codes.fixed_distances)
            } else {
                (&self.codes.literals, &self.codes.distances)
            };
            let (symbol, mut used) = match literals.decode(bits, available) {
                Decoded::Symbol(symbol, len) => (usize::from(symbol), len),
                Decoded::NeedBits => return Ok(Some(Status::NeedInput)),
                Decoded::NoCode => return Err(InflateError::InvalidCode),
            };
            if symbol < END_OF_BLOCK {
                if run.produced == run.out.len() {
                    return Ok(Some(Status::OutputFull));
                }
                self.bits.consume(used);
                self.emit(run, symbol as u8);
                continue;
            }
            if symbol == END_OF_BLOCK {
                self.bits.consume(used);
                self.end_block();
                return Ok(None);
            }
            let code = symbol - 257;
            if code >= LENGTH_BASE.len() {
                return Err(InflateError::InvalidLengthCode);
            }
            let extra = u32::from(LENGTH_EXTRA[code]);
            let length = LENGTH_BASE[code] + ((bits >> used) & low_mask(extra)) as u16;
            used += extra;
            let (code, len) = match distances.decode(bits >> used, available.saturating_sub(used)) {
                Decoded::Symbol(code, len) => (usize::from(code), len),
                Decoded::NeedBits => return Ok(Some(Status::NeedInput)),
                Decoded::NoCode => return Err(InflateError::InvalidCode),
            };
            if code >= DISTANCE_SYMBOLS {
                return Err(InflateError::InvalidDistanceCode);
            }
            used += len;
            let extra = u32::from(DISTANCE_EXTRA[code]);
            if used + extra > available {
                return Ok(Some(Status::NeedInput));
            }
            let distance = DISTANCE_BASE[code] + ((bits >> used) & low_mask(extra)) as u16;
            used += extra;
            if u64::from(distance) > self.produced.min(self.window.len() as u64) {
                return Err(InflateError::DistanceTooFarBack);
            }
            self.bits.consume(used);
            self.copy(run, length, distance, fixed)?;
            if let State::Copy(..) = self.state {
                return Ok(Some(Status::OutputFull));
            }
        }
    }

    /// The rest of a match that the output could not hold, once there is room. Out
    /// of line, as [`Inflater::stored`].
    #[inline(never)]
    fn resume_copy(&mut self, run: &mut Run<'_>, length: u16, distance: u16, fixed: bool) -> Step {
        self.copy(run, length, distance, fixed)
    }

    /// Copies `length` bytes from `distance` back, as far as the output has room.
    /// A match may overlap the bytes it is producing (a distance shorter than the
    /// length repeats them): that is copied byte by byte, in order; one that does
    /// not overlap and does not wrap around the history ring, as one slice.
    ///
    /// Inlined into [`Inflater::data`], its one caller in a block: a frame of its own
    /// would sit below data's on the stack, which a connection's thread keeps.
    #[inline(always)]
    fn copy(&mut self, run: &mut Run<'_>, length: u16, distance: u16, fixed: bool) -> Step {
        let len = self.window.len();
        let mask = len - 1;
        let room = run.out.len() - run.produced;
        let n = usize::from(length).min(room);
        let mut to = self.produced as usize & mask;
        let mut from = to.wrapping_sub(usize::from(distance)) & mask;
        let out = &mut run.out[run.produced..run.produced + n];
        let apart = to < from || to - from >= n;
        if apart && from + n <= len && to + n <= len {
            self.window.copy_within(from..from + n, to);
            out.copy_from_slice(&self.window[to..to + n]);
        } else {
            for out in out {
                let byte = self.window[from];
                self.window[to] = byte;
                *out = byte;
                from = (from + 1) & mask;
                to = (to + 1) & mask;
            }
        }
        run.produced += n;
        self.produced += n as u64;
        if n < usize::from(length) {
            self.state = State::Copy(length - n as u16, distance, fixed);
            return Ok(Some(Status::OutputFull));
        }
        self.state = State::Data(fixed);
        Ok(None)
    }

    /// Bytes already in the caller's output, into the history.
    fn remember(&mut self, bytes: &[u8]) {
        let len = self.window.len();
        // Only the last window's worth matters; older bytes would be overwritten.
        let skipped = bytes.len().saturating_sub(len);
        self.produced += skipped as u64;
        let bytes = &bytes[skipped..];
        let at = self.produced as usize & (len - 1);
        let first = bytes.len().min(len - at);
        self.window[at..at + first].copy_from_slice(&bytes[..first]);
        self.window[..bytes.len() - first].copy_from_slice(&bytes[first..]);
        self.produced += bytes.len() as u64;
    }

    /// One byte out: into the caller's buffer and the history.
    fn emit(&mut self, run: &mut Run<'_>, byte: u8) {
        let mask = self.window.len() - 1;
        self.window[self.produced as usize & mask] = byte;
        self.produced += 1;
        run.out[run.produced] = byte;
        run.produced += 1;
    }

    fn end_block(&mut self) {
        self.state = if self.last_block {
            State::Done
        } else {
            State::Header
        };
    }
}

/// The history one direction keeps between messages with context takeover (RFC 7692
/// §7.1.1): the last `2^window_bits` bytes inflated, and how many bytes came before
/// (so that a distance reaching past the start of the stream is refused).
#[derive(Debug, Clone)]
pub struct Window {
    /// Byte `i` of the stream at `i % ring.len()`.
    ring: Vec<u8>,
    produced: u64,
}

impl Window {
    /// An empty history of `2^window_bits` bytes (8..=15).
    ///
    /// # Panics
    ///
    /// If `window_bits` is outside 8..=15.
    pub fn new(window_bits: u8) -> Window {
        assert!(
            (8..=15).contains(&window_bits),
            "window bits must be 8..=15"
        );
        Window {
            ring: vec![0; 1 << window_bits],
            produced: 0,
        }
    }

    /// Bytes it holds: what a connection is charged for keeping it.
    pub fn memory(&self) -> usize {
        std::mem::size_of::<Window>() + self.ring.capacity()
    }
}

/// The input and output of one call.
struct Run<'a> {
    input: &'a [u8],
    consumed: usize,
    out: &'a mut [u8],
    produced: usize,
}

/// `Some(status)` to return to the caller, `None` to go on with the next state.
type Step = Result<Option<Status>, InflateError>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deflate::{Compressor, MESSAGE_TAIL};

    /// RFC 7692 §7.2.3.1 and §7.2.3.2: "Hello", then "Hello" again by reference.
    const HELLO: [u8; 7] = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
    const HELLO_AGAIN: [u8; 5] = [0xf2, 0x00, 0x11, 0x00, 0x00];

    fn inflate_all(inflater: &mut Inflater, payload: &[u8]) -> Result<Vec<u8>, InflateError> {
        let mut out = Vec::new();
        inflater.inflate_message(payload, &mut out, 1 << 20)?;
        Ok(out)
    }

    #[test]
    fn a_match_resumes_when_the_output_was_full() {
        let message = b"ab".repeat(200);
        let mut wire = Vec::new();
        Compressor::new(15, false).compress_message(&message, &mut wire);
        wire.extend_from_slice(&MESSAGE_TAIL);
        let mut inflater = Inflater::new(15, true);
        let (mut out, mut room, mut at) = (Vec::new(), [0u8; 7], 0);
        loop {
            let p = inflater.inflate(&wire[at..], &mut room).unwrap();
            at += p.consumed;
            out.extend_from_slice(&room[..p.produced]);
            if p.status == Status::NeedInput {
                break;
            }
        }
        inflater.finish_message().unwrap();
        assert_eq!(out, message);
    }

    #[test]
    fn stored_bytes_enter_a_small_history_whatever_the_room() {
        // 1000 bytes of noise go stored, longer than an 8-bit window; the next
        // message repeats their last 200 bytes, which only the history can give.
        let mut state = 5u32;
        let noise: Vec<u8> = (0..1000)
            .map(|_| {
                state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (state >> 24) as u8
            })
            .collect();
        let compressor = Compressor::new(8, true);
        let tail = &noise[800..];
        for room in [7, 1 << 12] {
            let mut inflater = Inflater::new(8, true);
            let mut compressor = compressor.clone();
            for message in [&noise[..], tail] {
                let mut wire = Vec::new();
                compressor.compress_message(message, &mut wire);
                wire.extend_from_slice(&MESSAGE_TAIL);
                let (mut out, mut piece, mut at) = (Vec::new(), vec![0u8; room], 0);
                loop {
                    let p = inflater.inflate(&wire[at..], &mut piece).unwrap();
                    at += p.consumed;
                    out.extend_from_slice(&piece[..p.produced]);
                    if p.status == Status::NeedInput {
                        break;
                    }
                }
                inflater.finish_message().unwrap();
                assert_eq!(out, message, "room {room}");
                if message.len() < 1000 {
                    assert!(wire.len() < 100, "the repeat is a match: {}", wire.len());
                }
            }
        }
    }

    #[test]
    fn history_is_kept_or_forgotten_per_message() {
        let mut keep = Inflater::new(15, true);
        inflate_all(&mut keep, &HELLO).unwrap();
        assert_eq!(inflate_all(&mut keep, &HELLO_AGAIN).unwrap(), b"Hello");
        let mut forget = Inflater::new(15, false);
        inflate_all(&mut forget, &HELLO).unwrap();
        let refused = inflate_all(&mut forget, &HELLO_AGAIN);
        assert_eq!(refused, Err(InflateError::DistanceTooFarBack));
        forget.reset();
        assert_eq!(inflate_all(&mut forget, &HELLO).unwrap(), b"Hello");
    }

    #[test]
    fn input_after_a_final_block_is_ignored() {
        // RFC 7692 §7.2.3.4: BFINAL set, then a trailing byte, then the tail.
        let wire = [
            0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff,
        ];
        let mut inflater = Inflater::new(15, true);
        let mut out = [0u8; 8];
        let p = inflater.inflate(&wire, &mut out).unwrap();
        assert_eq!(
            (p.consumed, p.produced, p.status),
            (wire.len(), 5, Status::Done)
        );
        inflater.finish_message().unwrap();
        // The next message starts a new block, with the history kept.
        assert_eq!(inflate_all(&mut inflater, &HELLO_AGAIN).unwrap(), b"Hello");
    }

    #[test]
    fn a_lent_window_carries_the_history_from_inflater_to_inflater() {
        let mut window = Window::new(10);
        let mut first = Inflater::new(15, true);
        first.swap_window(&mut window);
        inflate_all(&mut first, &HELLO).unwrap();
        first.swap_window(&mut window);
        // Another inflater, with the same window, resolves the back-reference.
        let mut second = Inflater::new(15, true);
        second.swap_window(&mut window);
        assert_eq!(inflate_all(&mut second, &HELLO_AGAIN).unwrap(), b"Hello");
        // Restarted, it has no history to refer to.
        second.restart(10);
        let refused = inflate_all(&mut second, &HELLO_AGAIN);
        assert_eq!(refused, Err(InflateError::DistanceTooFarBack));
    }

    #[test]
    fn a_distance_beyond_a_small_window_is_refused() {
        // 300 bytes, then a match 300 back: fine in a 512-byte window, not in 256.
        let text: Vec<u8> = (0..300u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut wire = Vec::new();
        let mut compressor = Compressor::new(9, true);
        compressor.compress_message(&text, &mut wire);
        let mut again = Vec::new();
        compressor.compress_message(&text, &mut again);
        let mut wide = Inflater::new(9, true);
        inflate_all(&mut wide, &wire).unwrap();
        assert_eq!(inflate_all(&mut wide, &again).unwrap(), text);
        let mut narrow = Inflater::new(8, true);
        inflate_all(&mut narrow, &wire).unwrap();
        let refused = inflate_all(&mut narrow, &again);
        assert_eq!(refused, Err(InflateError::DistanceTooFarBack));
    }

    #[test]
    fn a_message_that_ends_inside_a_block_is_refused() {
        let mut inflater = Inflater::new(15, true);
        let refused = inflate_all(&mut inflater, &HELLO[..4]);
        assert_eq!(refused, Err(InflateError::UnexpectedEnd));
        assert_eq!(inflater.finish_message(), Err(InflateError::UnexpectedEnd));
    }
}
