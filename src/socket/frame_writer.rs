//! The outgoing half of the protocol: frames encoded into one output buffer, written
//! with as few system calls as possible, and the relay that never blocks on a peer
//! that is still sending.

use super::close_state::CloseState;
use super::codec::Answer;
use super::keepalive::is_timeout;
use super::pace::{PaceMeter, Paced};
use crate::budget::Share;
use crate::error::{Error, Result};
use crate::frame::{apply_mask, encode_header, Opcode, MAX_HEADER_LEN};
use crate::handshake::Variant;
use crate::hixie_frame;
use crate::message::{CloseCode, MessageRef};
use crate::message_reader::{Piece, Role};
use crate::permessage_deflate::{Direction, Outbound};
use crate::random::Random;
use std::io::{self, IoSlice, Write};
use std::sync::Arc;

/// What became of a piece passed to [`Writer::relay_piece`](crate::Writer::relay_piece).
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

/// The RSV1 bit of a frame's first byte: "compressed" under permessage-deflate.
const RSV1: u8 = 0x40;

/// Buffered output is written out once it reaches this size, even when more answers
/// are expected.
const OUTPUT_HIGH_WATER: usize = 64 * 1024;

/// The outgoing half of the protocol: frame encoding, output buffering, close state.
#[derive(Debug)]
pub(super) struct FrameWriter {
    pub(super) variant: Variant,
    pub(super) out: Vec<u8>,
    pub(super) close: Arc<CloseState>,
    pub(super) random: Option<Random>,
    /// A relayed piece stalled, so the queue starts with the unwritten rest of its
    /// frame. Automatic answers (a pong) then wait in the queue until the next
    /// explicit flush: the peer is still sending and not reading, and a blocking
    /// write now would wait for it while it waits for us.
    pub(super) stalled: bool,
    /// Where the pong queued while stalled lies in `out`, so that a newer one can
    /// replace it: only the latest ping is answered then (RFC 6455 §5.5.3 allows it),
    /// and a flood of pings cannot grow the queue while nothing can be written.
    pub(super) late_pong: Option<(usize, usize)>,
    /// How fast the peer must take what we send ([`super::pace`]).
    pub(super) meter: PaceMeter,
    /// Where a stalled queue's bytes are drawn from, and how many it drew.
    pub(super) share: Option<Share>,
    pub(super) drawn: usize,
    /// permessage-deflate, when negotiated: whole text and binary messages are
    /// compressed (pieces and control frames never are).
    pub(super) deflate: Option<Outbound>,
}

impl FrameWriter {
    pub(super) fn new(variant: Variant, role: Role, close: Arc<CloseState>) -> FrameWriter {
        FrameWriter {
            variant,
            out: Vec::new(),
            close,
            random: (role == Role::Client).then(Random::new),
            stalled: false,
            late_pong: None,
            meter: PaceMeter::default(),
            share: None,
            drawn: 0,
            deflate: None,
        }
    }

    /// Compresses outgoing messages with what the handshake agreed (RFC 7692).
    pub(super) fn set_deflate(&mut self, params: &crate::deflate::Parameters) {
        let role = if self.random.is_some() {
            Role::Client
        } else {
            Role::Server
        };
        let direction = Direction::outgoing(params, role);
        self.deflate = Some(Outbound::new(direction));
    }

    /// Sends later text and binary messages compressed (`on`, the default once
    /// negotiated) or plain.
    pub(super) fn set_compression(&mut self, on: bool) {
        if let Some(deflate) = self.deflate.as_mut() {
            deflate.enabled = on;
        }
    }

    /// A text or binary message in one frame: compressed, with RSV1 (RFC 7692 §6),
    /// when the extension was negotiated and the message is worth it.
    #[inline]
    fn push_message<W: Write + ?Sized>(
        &mut self,
        w: &mut W,
        opcode: Opcode,
        payload: &[u8],
    ) -> Result<()> {
        if self.deflate.is_some() {
            return self.push_compressed(w, opcode, payload);
        }
        self.push_frame(w, opcode, payload, true, false)
    }

    /// `push_message` on a connection that negotiated compression: kept out of line,
    /// so that a plain connection's path stays as short as it was.
    #[inline(never)]
    fn push_compressed<W: Write + ?Sized>(
        &mut self,
        w: &mut W,
        opcode: Opcode,
        payload: &[u8],
    ) -> Result<()> {
        let compressed = match self.deflate.as_mut() {
            Some(deflate) => deflate.compress(payload, self.share.as_ref()),
            None => None,
        };
        if let Some(compressed) = compressed {
            let sent = self.push_frame(w, opcode, &compressed, true, true);
            if let Some(deflate) = self.deflate.as_mut() {
                deflate.give_back(compressed);
            }
            return sent;
        }
        self.push_frame(w, opcode, payload, true, false)
    }

    /// Encodes `msg`; writes it (and anything queued) now if `flush`, otherwise
    /// leaves small frames queued for a later flush.
    pub(super) fn send<W: Write + ?Sized>(
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
                self.push_message(w, Opcode::Text, t.as_bytes())?
            }
            (Variant::Rfc6455, MessageRef::Binary(b)) => self.push_message(w, Opcode::Binary, b)?,
            (Variant::Rfc6455, MessageRef::Ping(p)) => self.push_control(w, Opcode::Ping, p)?,
            (Variant::Rfc6455, MessageRef::Pong(p)) => self.push_control(w, Opcode::Pong, p)?,
            (Variant::Hixie76, MessageRef::Text(t)) if t.len() > DIRECT_WRITE_THRESHOLD => {
                let queued = std::mem::take(&mut self.out);
                let result = write_all_vectored(
                    &mut self.paced(w),
                    &mut [
                        IoSlice::new(&queued),
                        IoSlice::new(&[hixie_frame::TEXT_START]),
                        IoSlice::new(t.as_bytes()),
                        IoSlice::new(&[hixie_frame::TEXT_END]),
                    ],
                );
                self.out = queued;
                self.written();
                return Ok(result?);
            }
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
    pub(super) fn piece_opcode(&self, piece: Piece<'_>) -> Result<Opcode> {
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
    pub(super) fn send_piece<W: Write + ?Sized>(
        &mut self,
        w: &mut W,
        piece: Piece<'_>,
    ) -> Result<()> {
        let opcode = self.piece_opcode(piece)?;
        self.push_frame(w, opcode, piece.data, piece.last, false)?;
        if self.out.len() >= OUTPUT_HIGH_WATER {
            self.flush(w)?;
        }
        Ok(())
    }

    /// One piece as its own frame, like `send_piece`, but written at once with
    /// everything queued before it, and given up if the stream's write times out
    /// with nothing taken: the unwritten rest then waits in the queue.
    pub(super) fn relay_piece<W: Write + ?Sized>(
        &mut self,
        w: &mut W,
        piece: Piece<'_>,
    ) -> Result<Relayed> {
        let opcode = self.piece_opcode(piece)?;
        if self.random.is_some() {
            // A client masks its frames, so the frame is built in the queue first.
            self.push_frame(w, opcode, piece.data, piece.last, false)?;
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
    pub(super) fn write_or_queue<W: Write + ?Sized>(
        &mut self,
        w: &mut W,
        mut bufs: &mut [IoSlice<'_>],
    ) -> Result<Relayed> {
        self.late_pong = None;
        let mut relay = Paced {
            retry: false,
            ..self.paced(w)
        };
        self.stalled = write_until_stalled(&mut relay, &mut bufs)?;
        if !self.stalled {
            self.written();
            return Ok(Relayed::Sent);
        }
        let owed_len = bufs.iter().map(|b| b.len()).sum();
        if let Some(share) = &self.share {
            if let Err(refusal) = share.grow(self.drawn, owed_len) {
                // No room to queue the rest: finish the frame the slow way, at the
                // pace of any blocking send, so that the stream ends on a frame
                // boundary and the 1013 that follows can be read.
                self.stalled = false;
                write_all_vectored(&mut self.paced(w), bufs)?;
                self.written();
                return Err(refusal.into());
            }
            self.drawn = owed_len.max(self.drawn);
        }
        let mut owed = Vec::with_capacity(owed_len);
        for b in bufs.iter() {
            owed.extend_from_slice(b);
        }
        self.out = owed;
        Ok(Relayed::Stalled)
    }

    pub(super) fn push_control<W: Write + ?Sized>(
        &mut self,
        w: &mut W,
        opcode: Opcode,
        payload: &[u8],
    ) -> Result<()> {
        if payload.len() > 125 {
            return Err(Error::ControlPayloadTooLong);
        }
        self.push_frame(w, opcode, payload, true, false)
    }

    /// One frame: the header and payload leave together. `rsv1` marks the first
    /// frame of a compressed message (RFC 7692 §6).
    pub(super) fn push_frame<W: Write + ?Sized>(
        &mut self,
        w: &mut W,
        opcode: Opcode,
        payload: &[u8],
        fin: bool,
        rsv1: bool,
    ) -> Result<()> {
        let mask = self.random.as_mut().map(Random::mask);
        let mut header = [0u8; MAX_HEADER_LEN];
        let n = encode_header(&mut header, fin, opcode, payload.len() as u64, mask);
        if rsv1 {
            header[0] |= RSV1;
        }
        if mask.is_none() && payload.len() > DIRECT_WRITE_THRESHOLD {
            let queued = std::mem::take(&mut self.out);
            let result = write_all_vectored(
                &mut self.paced(w),
                &mut [
                    IoSlice::new(&queued),
                    IoSlice::new(&header[..n]),
                    IoSlice::new(payload),
                ],
            );
            self.out = queued;
            self.written();
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
    pub(super) fn flush<W: Write + ?Sized>(&mut self, w: &mut W) -> Result<()> {
        let out = std::mem::take(&mut self.out);
        let result = {
            let mut paced = self.paced(w);
            paced.write_all(&out).and_then(|()| paced.flush())
        };
        self.out = out;
        self.written();
        Ok(result?)
    }

    /// The queue has been written (or given up with its connection): it is emptied,
    /// a large one is freed, and what a stalled queue drew from the budget goes back.
    fn written(&mut self) {
        self.out.clear();
        (self.stalled, self.late_pong) = (false, None);
        if self.out.capacity() > 4 * OUTPUT_HIGH_WATER {
            self.out = Vec::new();
        }
        if let Some(share) = &self.share {
            share.shrink(self.drawn, 0);
            self.drawn = 0;
        }
    }

    /// `w`, with its writes timed against the minimum pace.
    fn paced<'a, W: Write + ?Sized>(&'a mut self, w: &'a mut W) -> Paced<'a, W> {
        Paced {
            stream: w,
            meter: &mut self.meter,
            retry: true,
        }
    }

    /// Sends a close frame (once): RFC 6455 with `code` and `reason` (no payload when
    /// `code` is None), hixie-76 as 0xFF 0x00.
    pub(super) fn close<W: Write + ?Sized>(
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
                self.push_frame(w, Opcode::Close, &payload[..len], true, false)?;
            }
        }
        self.flush(w)
    }

    /// The keepalive ping: an empty ping on RFC 6455, nothing on hixie-76 (the draft
    /// has no ping), nothing once a close has gone out.
    pub(super) fn keepalive_ping<W: Write + ?Sized>(&mut self, w: &mut W) -> Result<()> {
        if self.variant == Variant::Hixie76 || self.close.sent().is_some() {
            return Ok(());
        }
        self.send(w, MessageRef::Ping(b""), true)
    }

    /// Sends what the reader asked for, unless a close has already gone out.
    pub(super) fn answer<W: Write + ?Sized>(
        &mut self,
        w: &mut W,
        answer: Answer<'_>,
    ) -> Result<()> {
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
            Answer::Fail(code, reason) => self.close(w, Some(code), reason),
        }
    }
}

pub(super) fn truncate_to_char_boundary(s: &str, max: usize) -> &str {
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
pub(super) fn write_all_vectored<W: Write + ?Sized>(
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
pub(super) fn write_until_stalled<W: Write + ?Sized>(
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
    pub(super) fn a_stalled_piece_keeps_its_rest_queued_in_order() {
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
