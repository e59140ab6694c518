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
//!
//! | file | its job |
//! |---|---|
//! | `codec.rs` | the incoming half for either variant, and the answers a read owes |
//! | `keepalive.rs` | the ping after a silence, the end of a peer that stays silent |
//! | `frame_writer.rs` | frames out: one buffer, few system calls, the relay |
//! | `pace.rs` | the minimum pace a peer must take what is sent to it |
//! | `close_state.rs` | which close frames have gone each way |
//! | `halves.rs` | [`Reader`] and [`Writer`], the two halves of a split connection |
//! | `stream.rs` | what a stream must offer: [`TryClone`], [`WriteTimeout`] |

mod close_state;
mod codec;
mod frame_writer;
mod halves;
mod keepalive;
mod pace;
mod stream;

pub use close_state::CloseState;
pub(crate) use codec::OVERLOADED;
pub(crate) use frame_writer::close_if_open;
pub use frame_writer::Relayed;
pub use halves::{Reader, Writer};
pub use pace::{SendPace, WRITE_SLICE};
pub use stream::{TryClone, WriteTimeout};

use crate::budget::Share;
use crate::error::Result;
use crate::handshake::Variant;
use crate::message::{CloseCode, Message, MessageRef};
use crate::message_reader::{Limits, Role};
use codec::{answer_for, Answer, Codec};
use frame_writer::FrameWriter;
use halves::WriteHalf;
use keepalive::{Keepalive, Watched};
use std::io::{self, Read, Write};
use std::sync::{Arc, Mutex};

/// An open WebSocket connection over one stream, for either protocol variant.
///
/// `read` answers pings and close frames by itself; after a close has been received,
/// `read` returns [`Error::Closed`](crate::Error::Closed). A protocol violation by the peer sends the
/// matching close frame (1002, 1007, 1009) and returns [`Error::Protocol`](crate::Error::Protocol).
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
    /// Boxed: the connection is passed by value to its handler and split there,
    /// and every copy of it on the way is in a frame its thread keeps while it waits.
    codec: Box<Codec>,
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
        let writer = FrameWriter::new(variant, role, close.clone());
        let keepalive = Keepalive {
            written: writer.meter.written.clone(),
            ..Keepalive::default()
        };
        WebSocket {
            stream,
            codec: Box::new(Codec::new(variant, role, limits, leftover)),
            writer,
            close,
            keepalive,
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
        if let Ok(MessageRef::Pong(_)) = &result {
            self.keepalive.pong();
        }
        if let Some(answer) = answer_for(&result, &self.keepalive) {
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
    /// reading until [`Error::Closed`](crate::Error::Closed) to see the peer's answer.
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
        self.keepalive.unanswered = false;
    }

    /// Puts the connection's buffers on a memory budget ([`crate::budget`]): a
    /// message growing beyond `share.allowance`, and a relayed frame queued behind a
    /// peer that is not reading, draw from the pool and wait for it; a refusal closes
    /// the connection with 1013. The server does this for every connection.
    pub fn set_share(&mut self, share: Share) {
        self.codec.set_share(share.clone());
        self.writer.share = Some(share);
    }

    /// Turns on permessage-deflate as the handshake agreed (RFC 7692): incoming
    /// messages with RSV1 are inflated, outgoing text and binary messages compressed.
    /// The server and the client call it when their handshake accepted the extension;
    /// call it yourself only after a handshake of your own that did. Nothing is
    /// allocated until the first compressed message ([`crate::permessage_deflate`]).
    /// RFC 6455 only: hixie-76 has no extensions.
    pub fn set_deflate(&mut self, params: &crate::deflate::Parameters) {
        if self.writer.variant == Variant::Rfc6455 {
            self.codec.set_deflate(params);
            self.writer.set_deflate(params);
        }
    }

    /// Whether outgoing messages are compressed, when permessage-deflate was
    /// negotiated (default on). Turn it off around a message that carries a secret
    /// next to text an attacker chooses: its compressed length would tell (CRIME,
    /// RFC 7692 §8.1). Incoming compressed messages are read either way.
    pub fn set_compression(&mut self, on: bool) {
        self.writer.set_compression(on);
    }

    /// Whether permessage-deflate was turned on for this connection.
    pub fn deflate_enabled(&self) -> bool {
        self.writer.deflate.is_some()
    }

    /// The connection's share of the memory budget, if it has one: an application
    /// that holds more for this peer (a queue of messages) draws on the same account.
    pub fn share(&self) -> Option<&Share> {
        self.writer.share.as_ref()
    }

    /// Sets the slowest pace at which the peer must take what is sent
    /// ([`SendPace`]); a peer slower than that fails the send with `TimedOut`. With a
    /// pace set, a write that times out is tried again until `pace.window` passes
    /// with no byte taken, so set the stream's write timeout to a slice of the window
    /// ([`WRITE_SLICE`]): the server does. None (the default) fails at the stream's
    /// own write timeout.
    ///
    /// The pace also makes keepalive patient: a ping waits behind whatever was sent
    /// before it, so a peer is given, beyond the second interval, the time those
    /// bytes take at `pace.min_rate` (at most 5 minutes) to answer.
    pub fn set_send_pace(&mut self, pace: Option<SendPace>) {
        self.writer.meter.pace = pace;
        self.keepalive.patience = pace.map(|p| p.min_rate);
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
        let share = self.writer.share.clone();
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
            share,
        };
        Ok((reader, writer))
    }
}
