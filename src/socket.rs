//! An open WebSocket over any `Read + Write`: messages in, messages out, the automatic
//! answers (pong, close), and the close handshake (RFC 6455 §5.5, §7; hixie-76 §4.2).
//!
//! [`WebSocket`] owns one stream and is driven by one thread. When one thread must send
//! while another is blocked reading (a chat room, a program's output), [`split`]
//! turns it into a [`Reader`] and a [`Writer`] over two handles to the same socket;
//! the reader's automatic answers then go through the shared writer, so frames from
//! both never interleave.
//!
//! [`split`]: WebSocket::split

use crate::error::{Error, Result, Violation};
use crate::frame::{apply_mask, encode_header, Opcode, MAX_HEADER_LEN};
use crate::handshake::Variant;
use crate::hixie_frame::{self, HixieReader};
use crate::message::{CloseCode, Message, MessageRef};
use crate::message_reader::{Limits, MessageReader, Part, Piece, Role};
use crate::random::Random;
use std::io::{self, IoSlice, Read, Write};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// Streams that can be duplicated into a second handle on the same connection, so a
/// WebSocket can be [split](WebSocket::split) into a reader and a writer.
pub trait TryClone: Sized {
    /// Another handle on the same underlying connection.
    fn try_clone(&self) -> io::Result<Self>;
}

impl TryClone for std::net::TcpStream {
    fn try_clone(&self) -> io::Result<Self> {
        std::net::TcpStream::try_clone(self)
    }
}

#[cfg(unix)]
impl TryClone for std::os::unix::net::UnixStream {
    fn try_clone(&self) -> io::Result<Self> {
        std::os::unix::net::UnixStream::try_clone(self)
    }
}

/// Streams whose writes can be given a time limit (`SO_SNDTIMEO` on sockets). A relay
/// uses a short one to notice a peer that has stopped reading
/// ([`Writer::relay_piece`]); the usual limit is restored after each write.
pub trait WriteTimeout {
    /// The current limit; `None` waits for ever.
    fn write_timeout(&self) -> io::Result<Option<Duration>>;
    /// Sets the limit; a zero duration is an error, as for [`std::net::TcpStream`].
    fn set_write_timeout(&self, limit: Option<Duration>) -> io::Result<()>;
}

impl WriteTimeout for std::net::TcpStream {
    fn write_timeout(&self) -> io::Result<Option<Duration>> {
        std::net::TcpStream::write_timeout(self)
    }
    fn set_write_timeout(&self, limit: Option<Duration>) -> io::Result<()> {
        std::net::TcpStream::set_write_timeout(self, limit)
    }
}

#[cfg(unix)]
impl WriteTimeout for std::os::unix::net::UnixStream {
    fn write_timeout(&self) -> io::Result<Option<Duration>> {
        std::os::unix::net::UnixStream::write_timeout(self)
    }
    fn set_write_timeout(&self, limit: Option<Duration>) -> io::Result<()> {
        std::os::unix::net::UnixStream::set_write_timeout(self, limit)
    }
}

/// What became of a piece passed to [`Writer::relay_piece`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relayed {
    /// The whole frame was written.
    Sent,
    /// The peer took nothing for the whole patience: the unwritten rest of the frame
    /// is queued. Read the rest of the message before writing again.
    Stalled,
}

/// Payloads above this size are written straight from the caller's buffer, beside the
/// header, with one vectored write; smaller ones are copied into the output buffer so
/// several frames can leave in one system call.
const DIRECT_WRITE_THRESHOLD: usize = 16 * 1024;

/// Buffered output is written out once it reaches this size, even when more answers
/// are expected.
const OUTPUT_HIGH_WATER: usize = 64 * 1024;

/// Which close frames have gone each way, shared by both halves of a connection (and
/// read by the server for its log line and its last word).
#[derive(Debug, Default)]
pub struct CloseState {
    sent: AtomicU32,
    received: AtomicU32,
}

/// Stored in the atomics: 0 for "not yet", otherwise this bit plus the code (0 for a
/// close without a code).
const PRESENT: u32 = 1 << 16;

fn encode_code(code: Option<CloseCode>) -> u32 {
    PRESENT | u32::from(code.map_or(0, |c| c.0))
}

fn decode_code(v: u32) -> Option<Option<CloseCode>> {
    if v & PRESENT == 0 {
        None
    } else {
        let code = (v & 0xFFFF) as u16;
        Some((code != 0).then_some(CloseCode(code)))
    }
}

impl CloseState {
    /// Records that a close frame is being sent; false if one was sent already.
    fn mark_sent(&self, code: Option<CloseCode>) -> bool {
        self.sent
            .compare_exchange(0, encode_code(code), Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    fn mark_received(&self, code: Option<CloseCode>) {
        self.received.store(encode_code(code), Ordering::Release);
    }

    /// The close we sent: `None` if none yet, `Some(None)` for one without a code.
    pub fn sent(&self) -> Option<Option<CloseCode>> {
        decode_code(self.sent.load(Ordering::Acquire))
    }

    /// The close we received, in the same form.
    pub fn received(&self) -> Option<Option<CloseCode>> {
        decode_code(self.received.load(Ordering::Acquire))
    }
}

/// The incoming half of the protocol, for either variant.
#[derive(Debug)]
enum Codec {
    Rfc6455(MessageReader),
    Hixie76(HixieReader),
}

impl Codec {
    fn new(variant: Variant, role: Role, limits: Limits, leftover: &[u8]) -> Codec {
        match variant {
            Variant::Rfc6455 => Codec::Rfc6455(MessageReader::new(role, limits, leftover)),
            Variant::Hixie76 => Codec::Hixie76(HixieReader::new(limits.max_message_size, leftover)),
        }
    }

    fn read<R: Read + ?Sized>(
        &mut self,
        stream: &mut R,
        close: &CloseState,
    ) -> Result<MessageRef<'_>> {
        if close.received().is_some() {
            return Err(Error::Closed);
        }
        let message = match self {
            Codec::Rfc6455(r) => r.read(stream),
            Codec::Hixie76(r) => r.read(stream),
        }?;
        if let MessageRef::Close(c) = message {
            close.mark_received(c.map(|(code, _)| code));
        }
        Ok(message)
    }

    /// Like `read`, but large binary messages come in pieces (RFC 6455 only).
    fn read_part<R: Read + ?Sized>(
        &mut self,
        stream: &mut R,
        close: &CloseState,
        piece_size: usize,
    ) -> Result<Part<'_>> {
        match self {
            Codec::Rfc6455(r) => {
                if close.received().is_some() {
                    return Err(Error::Closed);
                }
                let part = r.read_part(stream, piece_size)?;
                if let Part::Message(MessageRef::Close(c)) = part {
                    close.mark_received(c.map(|(code, _)| code));
                }
                Ok(part)
            }
            Codec::Hixie76(_) => self.read(stream, close).map(Part::Message),
        }
    }

    fn has_buffered_input(&self) -> bool {
        match self {
            Codec::Rfc6455(r) => r.has_buffered_input(),
            Codec::Hixie76(r) => r.has_buffered_input(),
        }
    }
}

/// What the reader asks the writer to send on its behalf.
#[derive(Debug, Clone, Copy)]
enum Answer<'a> {
    /// A pong with the ping's payload (§5.5.2).
    Pong(&'a [u8]),
    /// The close reply: the peer's code echoed, or an empty close (§5.5.1).
    Close(Option<CloseCode>),
    /// The close that fails the connection for a violation (§7.1.7).
    Fail(Violation),
}

/// The automatic answer to the outcome of a read, if any.
fn answer_for<'a>(result: &Result<MessageRef<'a>>) -> Option<Answer<'a>> {
    match result {
        Ok(MessageRef::Ping(p)) => Some(Answer::Pong(p)),
        Ok(MessageRef::Close(c)) => Some(Answer::Close(c.map(|(code, _)| code))),
        Err(Error::Protocol(v)) => Some(Answer::Fail(*v)),
        _ => None,
    }
}

/// Keepalive (RFC 6455 §5.5.2: a ping "may serve as a keepalive"), driven by the
/// stream's read timeout, which is the ping interval. It is off unless turned on, so a
/// plain read timeout still fails the read.
#[derive(Debug, Default, Clone, Copy)]
struct Keepalive {
    enabled: bool,
    /// A ping went out (or, on hixie-76, which has no ping, an interval passed) and
    /// nothing at all has arrived since.
    unanswered: bool,
}

/// The stream as the codec sees it: any byte received proves the peer alive, not only
/// a pong (a load generator that never answers pings but keeps sending is alive). A
/// read that times out sends a ping through `ping` and waits one more interval; a
/// second timeout with nothing received fails with `TimedOut`. The codec is resumable,
/// so nothing is lost while it waits.
struct Watched<'a, R: ?Sized, P> {
    stream: &'a mut R,
    keepalive: &'a mut Keepalive,
    ping: P,
}

impl<R: Read + ?Sized, P: FnMut(&mut R) -> Result<()>> Read for Watched<'_, R, P> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.stream.read(buf) {
                Ok(n) => {
                    self.keepalive.unanswered = false;
                    return Ok(n);
                }
                Err(e) if self.keepalive.enabled && is_timeout(&e) => {
                    if self.keepalive.unanswered {
                        return Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            "no answer to the keepalive ping",
                        ));
                    }
                    self.keepalive.unanswered = true;
                    match (self.ping)(self.stream) {
                        Ok(()) | Err(Error::Closed) => {}
                        Err(Error::Io(e)) => return Err(e),
                        Err(e) => return Err(io::Error::other(e.to_string())),
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// A read that gave up for want of input: `TimedOut`, or `WouldBlock` (what Unix
/// reports for `SO_RCVTIMEO`).
fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
    )
}

/// The outgoing half of the protocol: frame encoding, output buffering, close state.
#[derive(Debug)]
pub(crate) struct FrameWriter {
    variant: Variant,
    out: Vec<u8>,
    close: Arc<CloseState>,
    random: Option<Random>,
    /// A relayed piece stalled, so the queue starts with the unwritten rest of its
    /// frame. Automatic answers (a pong) then wait in the queue until the next
    /// explicit flush: the peer is still sending and not reading, and a blocking
    /// write now would wait for it while it waits for us.
    stalled: bool,
    /// Where the pong queued while stalled lies in `out`, so that a newer one can
    /// replace it: only the latest ping is answered then (RFC 6455 §5.5.3 allows it),
    /// and a flood of pings cannot grow the queue while nothing can be written.
    late_pong: Option<(usize, usize)>,
}

impl FrameWriter {
    pub(crate) fn new(variant: Variant, role: Role, close: Arc<CloseState>) -> FrameWriter {
        FrameWriter {
            variant,
            out: Vec::new(),
            close,
            random: (role == Role::Client).then(Random::new),
            stalled: false,
            late_pong: None,
        }
    }

    /// Encodes `msg`; writes it (and anything queued) now if `flush`, otherwise
    /// leaves small frames queued for a later flush.
    fn send<W: Write + ?Sized>(
        &mut self,
        w: &mut W,
        msg: MessageRef<'_>,
        flush: bool,
    ) -> Result<()> {
        if let MessageRef::Close(c) = msg {
            let (code, reason) = c.map_or((None, ""), |(code, r)| (Some(code), r));
            if let Some(code) = code {
                if !code.is_valid_on_wire() {
                    return Err(Error::InvalidCloseCode(code));
                }
            }
            return self.close(w, code, reason);
        }
        if self.close.sent().is_some() {
            return Err(Error::Closed);
        }
        match (self.variant, msg) {
            (Variant::Rfc6455, MessageRef::Text(t)) => {
                self.push_frame(w, Opcode::Text, t.as_bytes(), true)?
            }
            (Variant::Rfc6455, MessageRef::Binary(b)) => {
                self.push_frame(w, Opcode::Binary, b, true)?
            }
            (Variant::Rfc6455, MessageRef::Ping(p)) => self.push_control(w, Opcode::Ping, p)?,
            (Variant::Rfc6455, MessageRef::Pong(p)) => self.push_control(w, Opcode::Pong, p)?,
            (Variant::Hixie76, MessageRef::Text(t)) => hixie_frame::encode_text(&mut self.out, t),
            (Variant::Hixie76, _) => return Err(Error::BinaryOnHixie76),
            (_, MessageRef::Close(_)) => unreachable!("close frames are handled above"),
        }
        if !self.stalled && (flush || self.out.len() >= OUTPUT_HIGH_WATER) {
            self.flush(w)?;
        }
        Ok(())
    }

    /// The opcode of a piece's frame (§5.4): binary for the first piece, continuation
    /// after it; an error if the connection cannot carry it.
    fn piece_opcode(&self, piece: Piece<'_>) -> Result<Opcode> {
        if self.close.sent().is_some() {
            return Err(Error::Closed);
        }
        if self.variant == Variant::Hixie76 {
            return Err(Error::BinaryOnHixie76);
        }
        Ok(if piece.first {
            Opcode::Binary
        } else {
            Opcode::Continuation
        })
    }

    /// One piece of a binary message as its own frame (§5.4): a binary frame for the
    /// first piece, continuation frames after it, FIN on the last.
    fn send_piece<W: Write + ?Sized>(&mut self, w: &mut W, piece: Piece<'_>) -> Result<()> {
        let opcode = self.piece_opcode(piece)?;
        self.push_frame(w, opcode, piece.data, piece.last)?;
        if self.out.len() >= OUTPUT_HIGH_WATER {
            self.flush(w)?;
        }
        Ok(())
    }

    /// One piece as its own frame, like `send_piece`, but written at once with
    /// everything queued before it, and given up if the stream's write times out
    /// with nothing taken: the unwritten rest then waits in the queue.
    fn relay_piece<W: Write + ?Sized>(&mut self, w: &mut W, piece: Piece<'_>) -> Result<Relayed> {
        let opcode = self.piece_opcode(piece)?;
        if self.random.is_some() {
            // A client masks its frames, so the frame is built in the queue first.
            self.push_frame(w, opcode, piece.data, piece.last)?;
            let queued = std::mem::take(&mut self.out);
            return self.write_or_queue(w, &mut [IoSlice::new(&queued)]);
        }
        let mut header = [0u8; MAX_HEADER_LEN];
        let n = encode_header(
            &mut header,
            piece.last,
            opcode,
            piece.data.len() as u64,
            None,
        );
        let queued = std::mem::take(&mut self.out);
        self.write_or_queue(
            w,
            &mut [
                IoSlice::new(&queued),
                IoSlice::new(&header[..n]),
                IoSlice::new(piece.data),
            ],
        )
    }

    /// Writes `bufs` (the first of which was the queue); whatever the stream does not
    /// take before its write timeout becomes the queue.
    fn write_or_queue<W: Write + ?Sized>(
        &mut self,
        w: &mut W,
        mut bufs: &mut [IoSlice<'_>],
    ) -> Result<Relayed> {
        self.late_pong = None;
        self.stalled = write_until_stalled(w, &mut bufs)?;
        if !self.stalled {
            return Ok(Relayed::Sent);
        }
        let mut owed = Vec::with_capacity(bufs.iter().map(|b| b.len()).sum());
        for b in bufs.iter() {
            owed.extend_from_slice(b);
        }
        self.out = owed;
        Ok(Relayed::Stalled)
    }

    fn push_control<W: Write + ?Sized>(
        &mut self,
        w: &mut W,
        opcode: Opcode,
        payload: &[u8],
    ) -> Result<()> {
        if payload.len() > 125 {
            return Err(Error::ControlPayloadTooLong);
        }
        self.push_frame(w, opcode, payload, true)
    }

    /// One frame: the header and payload leave together.
    fn push_frame<W: Write + ?Sized>(
        &mut self,
        w: &mut W,
        opcode: Opcode,
        payload: &[u8],
        fin: bool,
    ) -> Result<()> {
        let mask = self.random.as_mut().map(Random::mask);
        let mut header = [0u8; MAX_HEADER_LEN];
        let n = encode_header(&mut header, fin, opcode, payload.len() as u64, mask);
        if mask.is_none() && payload.len() > DIRECT_WRITE_THRESHOLD {
            let queued = std::mem::take(&mut self.out);
            let result = write_all_vectored(
                w,
                &mut [
                    IoSlice::new(&queued),
                    IoSlice::new(&header[..n]),
                    IoSlice::new(payload),
                ],
            );
            self.out = queued;
            self.out.clear();
            (self.stalled, self.late_pong) = (false, None);
            return Ok(result?);
        }
        self.out.extend_from_slice(&header[..n]);
        let start = self.out.len();
        self.out.extend_from_slice(payload);
        if let Some(key) = mask {
            apply_mask(&mut self.out[start..], key, 0);
        }
        Ok(())
    }

    /// Writes everything queued.
    fn flush<W: Write + ?Sized>(&mut self, w: &mut W) -> Result<()> {
        let result = w.write_all(&self.out).and_then(|()| w.flush());
        self.out.clear();
        (self.stalled, self.late_pong) = (false, None);
        if self.out.capacity() > 4 * OUTPUT_HIGH_WATER {
            self.out = Vec::new();
        }
        Ok(result?)
    }

    /// Sends a close frame (once): RFC 6455 with `code` and `reason` (no payload when
    /// `code` is None), hixie-76 as 0xFF 0x00.
    fn close<W: Write + ?Sized>(
        &mut self,
        w: &mut W,
        code: Option<CloseCode>,
        reason: &str,
    ) -> Result<()> {
        if !self.close.mark_sent(code) {
            return Err(Error::Closed);
        }
        match self.variant {
            Variant::Hixie76 => self.out.extend_from_slice(&hixie_frame::CLOSE_FRAME),
            Variant::Rfc6455 => {
                let mut payload = [0u8; 125];
                let len = match code {
                    None => 0,
                    Some(code) => {
                        payload[..2].copy_from_slice(&code.0.to_be_bytes());
                        let reason = truncate_to_char_boundary(reason, 123);
                        payload[2..2 + reason.len()].copy_from_slice(reason.as_bytes());
                        2 + reason.len()
                    }
                };
                self.push_frame(w, Opcode::Close, &payload[..len], true)?;
            }
        }
        self.flush(w)
    }

    /// The keepalive ping: an empty ping on RFC 6455, nothing on hixie-76 (the draft
    /// has no ping), nothing once a close has gone out.
    fn keepalive_ping<W: Write + ?Sized>(&mut self, w: &mut W) -> Result<()> {
        if self.variant == Variant::Hixie76 || self.close.sent().is_some() {
            return Ok(());
        }
        self.send(w, MessageRef::Ping(b""), true)
    }

    /// Sends what the reader asked for, unless a close has already gone out.
    fn answer<W: Write + ?Sized>(&mut self, w: &mut W, answer: Answer<'_>) -> Result<()> {
        if self.close.sent().is_some() {
            return Ok(());
        }
        match answer {
            Answer::Pong(p) if self.stalled => {
                if let Some((start, end)) = self.late_pong {
                    if self.out.len() == end {
                        self.out.truncate(start);
                    }
                }
                let start = self.out.len();
                self.push_control(w, Opcode::Pong, p)?;
                self.late_pong = Some((start, self.out.len()));
                Ok(())
            }
            Answer::Pong(p) => self.send(w, MessageRef::Pong(p), true),
            Answer::Close(code) => self.close(w, code, ""),
            Answer::Fail(v) => self.close(w, Some(v.close_code()), v.reason()),
        }
    }
}

fn truncate_to_char_boundary(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// `write_all` for several buffers: one system call when the kernel takes everything.
fn write_all_vectored<W: Write + ?Sized>(
    w: &mut W,
    mut bufs: &mut [IoSlice<'_>],
) -> io::Result<()> {
    if write_until_stalled(w, &mut bufs)? {
        return Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "the peer took nothing for the write timeout",
        ));
    }
    Ok(())
}

/// Writes `bufs` in order until all is written (false) or a write times out with
/// nothing taken (true); `bufs` is left holding what was not written.
fn write_until_stalled<W: Write + ?Sized>(
    w: &mut W,
    bufs: &mut &mut [IoSlice<'_>],
) -> io::Result<bool> {
    IoSlice::advance_slices(bufs, 0);
    while !bufs.is_empty() {
        match w.write_vectored(bufs) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(bufs, n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if is_timeout(&e) => return Ok(true),
            Err(e) => return Err(e),
        }
    }
    w.flush()?;
    Ok(false)
}

/// An open WebSocket connection over one stream, for either protocol variant.
///
/// `read` answers pings and close frames by itself; after a close has been received,
/// `read` returns [`Error::Closed`]. A protocol violation by the peer sends the
/// matching close frame (1002, 1007, 1009) and returns [`Error::Protocol`].
///
/// ```
/// use stdws::{Message, Role, Variant, WebSocket};
/// use std::io::Cursor;
/// // A masked client text frame "Hello" (RFC 6455 §5.7), read from memory.
/// let wire = vec![0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
/// let mut ws = WebSocket::new(Cursor::new(wire), Variant::Rfc6455, Role::Server);
/// assert_eq!(ws.read().unwrap(), Message::text("Hello"));
/// ```
#[derive(Debug)]
pub struct WebSocket<S> {
    stream: S,
    codec: Codec,
    writer: FrameWriter,
    close: Arc<CloseState>,
    keepalive: Keepalive,
}

impl<S: Read + Write> WebSocket<S> {
    /// A WebSocket over a stream whose handshake is done, with default [`Limits`].
    pub fn new(stream: S, variant: Variant, role: Role) -> WebSocket<S> {
        WebSocket::with_limits(stream, variant, role, Limits::default(), &[])
    }

    /// A WebSocket with explicit limits; `leftover` holds bytes that were read
    /// past the handshake (the start of the first frame, if the peer was quick).
    pub fn with_limits(
        stream: S,
        variant: Variant,
        role: Role,
        limits: Limits,
        leftover: &[u8],
    ) -> WebSocket<S> {
        let close = Arc::new(CloseState::default());
        WebSocket {
            stream,
            codec: Codec::new(variant, role, limits, leftover),
            writer: FrameWriter::new(variant, role, close.clone()),
            close,
            keepalive: Keepalive::default(),
        }
    }

    /// Reads the next message, owned.
    pub fn read(&mut self) -> Result<Message> {
        self.read_ref().map(|m| m.to_message())
    }

    /// Reads the next message, borrowed from the internal buffer (no allocation).
    pub fn read_ref(&mut self) -> Result<MessageRef<'_>> {
        let writer = &mut self.writer;
        let mut watched = Watched {
            stream: &mut self.stream,
            keepalive: &mut self.keepalive,
            ping: |s: &mut S| writer.keepalive_ping(s),
        };
        let result = self.codec.read(&mut watched, &self.close);
        if let Some(answer) = answer_for(&result) {
            let sent = self.writer.answer(&mut self.stream, answer);
            if let (Ok(_), Err(e)) = (&result, sent) {
                if matches!(answer, Answer::Pong(_)) {
                    return Err(e);
                }
            }
        }
        result
    }

    /// Sends a message (a `Close` message sends a close frame).
    pub fn send(&mut self, msg: Message) -> Result<()> {
        self.writer
            .send(&mut self.stream, msg.as_message_ref(), true)
    }

    /// Sends a borrowed message.
    pub fn send_ref(&mut self, msg: MessageRef<'_>) -> Result<()> {
        self.writer.send(&mut self.stream, msg, true)
    }

    /// Starts the closing handshake (§7.1.2): sends a close frame with `code` and
    /// `reason` (at most 123 bytes; longer is cut at a character boundary). Keep
    /// reading until [`Error::Closed`] to see the peer's answer.
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<()> {
        self.send_ref(MessageRef::Close(Some((code, reason))))
    }

    /// The protocol variant spoken on this connection.
    pub fn variant(&self) -> Variant {
        self.writer.variant
    }

    /// Turns keepalive on or off (off by default). With it on, the stream's read
    /// timeout is the ping interval: a read that times out sends a ping (RFC 6455;
    /// hixie-76 has none) and keeps waiting; if a second interval passes with no byte
    /// at all from the peer, the read fails with `TimedOut`. The server turns it on
    /// when [`Config::ping_interval`](crate::Config::ping_interval) is set.
    pub fn set_keepalive(&mut self, enabled: bool) {
        self.keepalive.enabled = enabled;
    }

    /// The close frames exchanged so far.
    pub fn close_state(&self) -> &CloseState {
        &self.close
    }

    pub(crate) fn close_state_handle(&self) -> Arc<CloseState> {
        self.close.clone()
    }

    /// The underlying stream.
    pub fn get_ref(&self) -> &S {
        &self.stream
    }
}

impl<S: Read + Write + TryClone> WebSocket<S> {
    /// Splits the connection into a reader and a writer that can live on different
    /// threads. The writer can be cloned; every clone shares one lock, so frames
    /// never interleave.
    pub fn split(self) -> io::Result<(Reader<S>, Writer<S>)> {
        let write_stream = self.stream.try_clone()?;
        let writer = Writer {
            inner: Arc::new(Mutex::new(WriteHalf {
                stream: write_stream,
                frames: self.writer,
            })),
        };
        let reader = Reader {
            stream: self.stream,
            codec: self.codec,
            writer: writer.clone(),
            close: self.close,
            keepalive: self.keepalive,
        };
        Ok((reader, writer))
    }
}

/// The reading half of a split WebSocket; answers pings and closes through its writer.
#[derive(Debug)]
pub struct Reader<S> {
    stream: S,
    codec: Codec,
    writer: Writer<S>,
    close: Arc<CloseState>,
    keepalive: Keepalive,
}

impl<S: Read + Write> Reader<S> {
    /// Reads the next message, owned.
    pub fn read(&mut self) -> Result<Message> {
        self.read_ref().map(|m| m.to_message())
    }

    /// Reads the next message, borrowed from the internal buffer (no allocation).
    pub fn read_ref(&mut self) -> Result<MessageRef<'_>> {
        match self.read_part_ref(usize::MAX)? {
            Part::Message(message) => Ok(message),
            Part::Piece(_) => unreachable!("a piece is cut at usize::MAX bytes only"),
        }
    }

    /// Like [`read_ref`](Reader::read_ref), but a binary message longer than
    /// `piece_size` comes out in pieces as it arrives (see
    /// [`MessageReader::read_part`](crate::message_reader::MessageReader::read_part)),
    /// so it can be passed on before its end is in, and never needs more than one
    /// piece of memory. Text messages and hixie-76 always come whole.
    ///
    /// To pass pieces elsewhere, use [`Writer::feed_piece`]. To pass them back to
    /// the peer they come from, use [`Writer::relay_piece`]: a peer that sends a
    /// whole large message before it reads would otherwise leave both sides
    /// blocked writing.
    pub fn read_part_ref(&mut self, piece_size: usize) -> Result<Part<'_>> {
        let writer = &self.writer;
        let mut watched = Watched {
            stream: &mut self.stream,
            keepalive: &mut self.keepalive,
            ping: |_: &mut S| writer.with(|f, s| f.keepalive_ping(s)),
        };
        let result = self.codec.read_part(&mut watched, &self.close, piece_size);
        let answer = match &result {
            Ok(Part::Message(m)) => answer_for(&Ok(*m)),
            Ok(Part::Piece(_)) => None,
            Err(Error::Protocol(v)) => Some(Answer::Fail(*v)),
            Err(_) => None,
        };
        if let Some(answer) = answer {
            let sent = self.writer.lock().answer(answer);
            if let (Ok(_), Err(e), Answer::Pong(_)) = (&result, sent, answer) {
                return Err(e);
            }
        }
        result
    }

    /// Whether more input is already buffered: an echo loop can then queue its
    /// answer with [`Writer::feed_ref`] and flush once the buffer runs dry.
    pub fn has_buffered_input(&self) -> bool {
        self.codec.has_buffered_input()
    }

    /// Another handle on this connection's writer.
    pub fn writer(&self) -> Writer<S> {
        self.writer.clone()
    }

    /// The close frames exchanged so far.
    pub fn close_state(&self) -> &CloseState {
        &self.close
    }
}

/// The writing half of a split WebSocket. Cheap to clone; all clones share one lock.
#[derive(Debug)]
pub struct Writer<S> {
    inner: Arc<Mutex<WriteHalf<S>>>,
}

impl<S> Clone for Writer<S> {
    fn clone(&self) -> Writer<S> {
        Writer {
            inner: self.inner.clone(),
        }
    }
}

#[derive(Debug)]
struct WriteHalf<S> {
    stream: S,
    frames: FrameWriter,
}

/// The writer's lock, held for one operation.
struct Locked<'a, S> {
    guard: MutexGuard<'a, WriteHalf<S>>,
}

impl<S: Write> Locked<'_, S> {
    fn answer(&mut self, answer: Answer<'_>) -> Result<()> {
        let WriteHalf { stream, frames } = &mut *self.guard;
        frames.answer(stream, answer)
    }
}

impl<S: Write> Writer<S> {
    fn lock(&self) -> Locked<'_, S> {
        // A panic while holding the lock leaves at worst a half-written frame; the
        // connection is failing anyway, so later callers may proceed.
        let guard = self
            .inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        Locked { guard }
    }

    fn with<T>(&self, f: impl FnOnce(&mut FrameWriter, &mut S) -> Result<T>) -> Result<T> {
        let mut locked = self.lock();
        let WriteHalf { stream, frames } = &mut *locked.guard;
        f(frames, stream)
    }

    /// Sends a message now.
    pub fn send(&self, msg: Message) -> Result<()> {
        self.send_ref(msg.as_message_ref())
    }

    /// Sends a borrowed message now.
    pub fn send_ref(&self, msg: MessageRef<'_>) -> Result<()> {
        self.with(|f, s| f.send(s, msg, true))
    }

    /// Queues a message; small frames wait for [`flush`](Writer::flush) (or for 64 KiB
    /// to gather) so many answers leave in one system call.
    pub fn feed_ref(&self, msg: MessageRef<'_>) -> Result<()> {
        self.with(|f, s| f.send(s, msg, false))
    }

    /// Queues one piece from [`Reader::read_part_ref`] as its own frame (RFC 6455
    /// §5.4 fragmentation); pieces of more than 16 KiB are written at once. Send the
    /// pieces of a message in order, with no other data message between them.
    pub fn feed_piece(&self, piece: Piece<'_>) -> Result<()> {
        self.with(|f, s| f.send_piece(s, piece))
    }

    /// Sends one piece from [`Reader::read_part_ref`] as its own frame, with anything
    /// queued before it, waiting at most `patience` for the peer to take it (the
    /// stream's own write timeout is put back afterwards).
    ///
    /// This is how a relay passes a large message back to the peer it comes from
    /// without ever deadlocking: a peer that reads while it sends takes each piece
    /// at once, but one that sends a whole message before it reads fills its
    /// receive buffer, and a blocking write would then wait for it while it waits
    /// for us. After [`Relayed::Stalled`], read the rest of the message (with
    /// `read_part_ref(usize::MAX)`) before anything is written or flushed; its last
    /// piece, sent with [`feed_piece`](Writer::feed_piece), follows what was queued.
    pub fn relay_piece(&self, piece: Piece<'_>, patience: Duration) -> Result<Relayed>
    where
        S: WriteTimeout,
    {
        self.with(|f, s| {
            let usual = s.write_timeout()?;
            s.set_write_timeout(Some(patience.max(Duration::from_millis(1))))?;
            let result = f.relay_piece(s, piece);
            s.set_write_timeout(usual)?;
            result
        })
    }

    /// Writes everything queued by [`feed_ref`](Writer::feed_ref).
    pub fn flush(&self) -> Result<()> {
        self.with(|f, s| f.flush(s))
    }

    /// Starts the closing handshake with `code` and `reason`; the reader sees the
    /// peer's answer as a `Close` message and then [`Error::Closed`].
    pub fn close(&self, code: CloseCode, reason: &str) -> Result<()> {
        self.send_ref(MessageRef::Close(Some((code, reason))))
    }

    /// The protocol variant spoken on this connection.
    pub fn variant(&self) -> Variant {
        self.lock().guard.frames.variant
    }
}

/// Sends a close frame on `stream` unless one was already sent on this connection:
/// the server's last word when a handler ends without closing (1000), fails (1011) or
/// the server shuts down (1001).
pub(crate) fn close_if_open<W: Write>(
    stream: &mut W,
    variant: Variant,
    close: &Arc<CloseState>,
    code: CloseCode,
    reason: &str,
) -> Result<()> {
    if close.sent().is_some() {
        return Ok(());
    }
    FrameWriter::new(variant, Role::Server, close.clone()).close(stream, Some(code), reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A peer whose receive buffer holds `room` bytes and then stops reading: writes
    /// beyond it time out, as a socket's do with `SO_SNDTIMEO`.
    struct Peer {
        got: Vec<u8>,
        room: usize,
    }

    impl Write for Peer {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let n = buf.len().min(self.room - self.got.len());
            if n == 0 && !buf.is_empty() {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            self.got.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_stalled_piece_keeps_its_rest_queued_in_order() {
        let close = Arc::new(CloseState::default());
        let mut writer = FrameWriter::new(Variant::Rfc6455, Role::Server, close);
        let mut peer = Peer {
            got: Vec::new(),
            room: 100_000,
        };
        let first = Piece {
            data: &[1; 60_000],
            first: true,
            last: false,
        };
        let relayed = writer.relay_piece(&mut peer, first).unwrap();
        assert_eq!(relayed, Relayed::Sent);
        let second = Piece {
            data: &[2; 60_000],
            first: false,
            last: false,
        };
        let relayed = writer.relay_piece(&mut peer, second).unwrap();
        assert_eq!(relayed, Relayed::Stalled);
        assert_eq!(
            peer.got.len(),
            100_000,
            "the peer took what it had room for"
        );
        assert_eq!(
            writer.out.len(),
            2 * (60_000 + 4) - 100_000,
            "the rest is queued"
        );

        // The peer reads again; the pong and the last piece follow what was queued.
        peer.room = usize::MAX;
        let last = Piece {
            data: &[3; 10],
            first: false,
            last: true,
        };
        // Pings answered meanwhile wait behind the queued rest, unwritten, and only
        // the latest is answered.
        let got_before = peer.got.len();
        writer.answer(&mut peer, Answer::Pong(b"first")).unwrap();
        writer.answer(&mut peer, Answer::Pong(b"hi")).unwrap();
        assert_eq!(peer.got.len(), got_before, "nothing written while stalled");
        writer.send_piece(&mut peer, last).unwrap();
        writer.flush(&mut peer).unwrap();
        let mut expected = vec![0x02, 126, 0xEA, 0x60];
        expected.extend([1; 60_000]);
        expected.extend([0x00, 126, 0xEA, 0x60]);
        expected.extend([2; 60_000]);
        expected.extend([0x8A, 2, b'h', b'i']);
        expected.extend([0x80, 10]);
        expected.extend([3; 10]);
        assert!(peer.got == expected, "three frames, whole and in order");
    }
}
