//! The two halves of a split WebSocket: a [`Reader`] for one thread and a cloneable
//! [`Writer`] whose clones share one lock, so frames from several threads never
//! interleave.

use super::close_state::CloseState;
use super::codec::{answer_for, answer_for_error, Answer, Codec};
use super::frame_writer::{FrameWriter, Relayed};
use super::keepalive::{Keepalive, Watched};
use super::stream::WriteTimeout;
use crate::budget::Share;
use crate::error::Result;
use crate::handshake::Variant;
use crate::message::{CloseCode, Message, MessageRef};
use crate::message_reader::{Part, Piece};
use std::io::{Read, Write};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// The reading half of a split WebSocket; answers pings and closes through its writer.
#[derive(Debug)]
pub struct Reader<S> {
    pub(super) stream: S,
    pub(super) codec: Box<Codec>,
    pub(super) writer: Writer<S>,
    pub(super) close: Arc<CloseState>,
    pub(super) keepalive: Keepalive,
    pub(super) share: Option<Share>,
}

impl<S: Read + Write> Reader<S> {
    /// The connection's share of the memory budget, if it has one (see
    /// [`WebSocket::share`](crate::WebSocket::share)).
    pub fn share(&self) -> Option<&Share> {
        self.share.as_ref()
    }

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
        if let Ok(Part::Message(MessageRef::Pong(_))) = &result {
            self.keepalive.pong();
        }
        let answer = match &result {
            Ok(Part::Message(m)) => answer_for(&Ok(*m), &self.keepalive),
            Ok(Part::Piece(_)) => None,
            Err(e) => answer_for_error(e, &self.keepalive),
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
    pub(super) inner: Arc<Mutex<WriteHalf<S>>>,
}

impl<S> Clone for Writer<S> {
    fn clone(&self) -> Writer<S> {
        Writer {
            inner: self.inner.clone(),
        }
    }
}

#[derive(Debug)]
pub(super) struct WriteHalf<S> {
    pub(super) stream: S,
    pub(super) frames: FrameWriter,
}

/// The writer's lock, held for one operation.
pub(super) struct Locked<'a, S> {
    pub(super) guard: MutexGuard<'a, WriteHalf<S>>,
}

impl<S: Write> Locked<'_, S> {
    pub(super) fn answer(&mut self, answer: Answer<'_>) -> Result<()> {
        let WriteHalf { stream, frames } = &mut *self.guard;
        frames.answer(stream, answer)
    }
}

impl<S: Write> Writer<S> {
    pub(super) fn lock(&self) -> Locked<'_, S> {
        // A panic while holding the lock leaves at worst a half-written frame; the
        // connection is failing anyway, so later callers may proceed.
        let guard = self
            .inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        Locked { guard }
    }

    pub(super) fn with<T>(
        &self,
        f: impl FnOnce(&mut FrameWriter, &mut S) -> Result<T>,
    ) -> Result<T> {
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
    /// peer's answer as a `Close` message and then [`Error::Closed`](crate::Error::Closed).
    pub fn close(&self, code: CloseCode, reason: &str) -> Result<()> {
        self.send_ref(MessageRef::Close(Some((code, reason))))
    }

    /// Whether later text and binary messages go out compressed, when
    /// permessage-deflate was negotiated (see
    /// [`WebSocket::set_compression`](crate::WebSocket::set_compression)).
    pub fn set_compression(&self, on: bool) {
        self.lock().guard.frames.set_compression(on);
    }

    /// The protocol variant spoken on this connection.
    pub fn variant(&self) -> Variant {
        self.lock().guard.frames.variant
    }
}
