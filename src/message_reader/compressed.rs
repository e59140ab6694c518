//! The payload of a compressed message (RSV1, RFC 7692 §6, §7.2.2): read a chunk at a
//! time, unmasked, and inflated straight into the message buffer.
//!
//! The message's frames are one DEFLATE stream; once the last frame is in, the four
//! bytes `00 00 ff ff` its sender removed are put back and the stream must then end
//! between blocks. The inflated bytes are held to the same rules as a plain message's
//! payload: they count against `max_message_size` as they come out (1009 at the first
//! byte too many, so a bomb costs no more than the limit), grow the buffer through the
//! memory budget, and text is UTF-8-checked as it inflates (1007 at the first bad
//! byte). Malformed DEFLATE data is 1007 too: the payload is not what the message
//! type says it is (RFC 6455 §7.4.1).

use super::{grow, MessageReader, FIRST_GROWTH, RETAINED_CAPACITY};
use crate::deflate::{Status, MESSAGE_TAIL};
use crate::error::{Error, Result, Violation};
use crate::frame::{apply_mask, Opcode};
use crate::input::eof_mid_frame;
use crate::permessage_deflate::{scratch, Inbound, INPUT_CHUNK};
use std::io::Read;

impl MessageReader {
    /// Reads and inflates the current compressed frame, to its end (false) or until a
    /// piece of a binary message is full (true; see `read_part`). Returning false
    /// means the frame is done: if it ended the message, the stream ended too.
    /// Out of line, so that a plain message's path stays as short as it was.
    #[inline(never)]
    pub(super) fn read_compressed_payload<R: Read + ?Sized>(
        &mut self,
        stream: &mut R,
        piece_size: usize,
    ) -> Result<bool> {
        let cut = (self.message == Some(Opcode::Binary)).then_some(piece_size);
        if let Some(deflate) = self.deflate.as_mut() {
            deflate.start().inflater(self.share.as_ref())?;
        }
        loop {
            if self.inflate_pending(cut)? {
                return Ok(true);
            }
            let (Some(frame), Some(deflate)) = (
                self.frame.as_mut(),
                self.deflate.as_mut().and_then(Inbound::record),
            ) else {
                return Ok(false);
            };
            if frame.remaining == 0 {
                if !frame.fin {
                    return Ok(false);
                }
                if !deflate.tail_fed {
                    deflate.tail_fed = true;
                    deflate.input.clear();
                    deflate.input.extend_from_slice(&MESSAGE_TAIL);
                    deflate.used = 0;
                    continue;
                }
                deflate.tail_fed = false;
                let inflater = deflate.inflater(self.share.as_ref())?;
                inflater
                    .finish_message()
                    .map_err(|_| Violation::InvalidCompressedData)?;
                if let Some(inbound) = self.deflate.as_mut() {
                    inbound.end();
                }
                return Ok(false);
            }
            let want = usize::try_from(frame.remaining)
                .unwrap_or(usize::MAX)
                .min(INPUT_CHUNK);
            deflate.input.resize(want, 0);
            deflate.used = 0;
            let n = if self.input.is_empty() {
                match stream.read(&mut deflate.input) {
                    Ok(0) => return Err(Error::Io(eof_mid_frame())),
                    Ok(n) => n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => 0,
                    Err(e) => {
                        deflate.input.clear();
                        return Err(Error::Io(e));
                    }
                }
            } else {
                let n = want.min(self.input.data().len());
                deflate.input[..n].copy_from_slice(&self.input.data()[..n]);
                self.input.consume(n);
                n
            };
            deflate.input.truncate(n);
            if let Some(key) = frame.mask {
                apply_mask(&mut deflate.input, key, frame.received);
            }
            frame.received += n;
            frame.remaining -= n as u64;
        }
    }

    /// Gives the message buffer back to the stock of [`scratch`] once a compressed
    /// message has been handled, unless it is large enough for
    /// `shrink_after_message` to deal with: an idle connection then holds nothing
    /// that compression brought.
    pub(super) fn release_inflated(&mut self) {
        let allowance = self
            .share
            .as_ref()
            .map_or(RETAINED_CAPACITY, |s| s.allowance);
        if self.data.len() <= allowance {
            scratch::give_message_buffer(std::mem::take(&mut self.data));
        }
    }

    /// Inflates the compressed bytes held into the message buffer; true if it stopped
    /// because the piece (`cut`) is full. Inlined into its one caller: two frames
    /// would each hold what the inflater's calls then stack below them, on a
    /// connection's thread that keeps every page of stack it touches.
    #[inline(always)]
    fn inflate_pending(&mut self, cut: Option<usize>) -> Result<bool> {
        let Some(deflate) = self.deflate.as_mut().and_then(Inbound::record) else {
            return Ok(false);
        };
        while deflate.pending() {
            let limit = self.limits.max_message_size - self.streamed;
            let end = cut.map_or(limit, |piece| piece.min(limit));
            // Room for about what the input is likely to give, as the bytes arrive.
            let guess = (4 * (deflate.input.len() - deflate.used)).max(1024);
            let wanted = (end - self.data_len).min(guess);
            if self.data.capacity() == 0 {
                self.data = scratch::take_message_buffer();
            }
            if self.data.len() - self.data_len < wanted {
                // Doubling, as for a plain message: memory follows the bytes produced.
                let needed = self.data_len + wanted;
                let len = (self.data.len() * 2).max(FIRST_GROWTH).min(needed);
                grow(&mut self.data, self.data_len, self.share.as_ref(), len)?;
            }
            let out_end = end.min(self.data.len());
            let out = &mut self.data[self.data_len..out_end];
            let used = deflate.used;
            let input = std::mem::take(&mut deflate.input);
            let progress = match deflate.inflater(self.share.as_ref()) {
                Ok(inflater) => inflater.inflate(&input[used..], out),
                Err(refusal) => {
                    deflate.input = input;
                    return Err(refusal.into());
                }
            };
            deflate.input = input;
            let progress = progress.map_err(|_| Violation::InvalidCompressedData)?;
            deflate.used += progress.consumed;
            deflate.output_waiting = progress.status == Status::OutputFull;
            self.data_len += progress.produced;
            if self.message == Some(Opcode::Text)
                && progress.produced > 0
                && self.utf8.check(&self.data[..self.data_len]).is_err()
            {
                return Err(Violation::InvalidUtf8.into());
            }
            if deflate.output_waiting && self.data_len == end {
                if end == limit {
                    return Err(Violation::MessageTooLarge.into());
                }
                return Ok(true);
            }
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Limits, Part, Role};
    use super::*;
    use crate::deflate::{Compressor, Parameters};
    use crate::frame::{encode_header, MAX_HEADER_LEN};
    use crate::message::MessageRef;

    /// A masked client frame with RSV bits `rsv` (RSV1 = 0b100).
    fn frame(fin: bool, rsv: u8, opcode: Opcode, payload: &[u8]) -> Vec<u8> {
        let key = [0x12, 0x34, 0x56, 0x78];
        let mut header = [0u8; MAX_HEADER_LEN];
        let n = encode_header(&mut header, fin, opcode, payload.len() as u64, Some(key));
        header[0] |= rsv << 4;
        let mut out = header[..n].to_vec();
        out.extend_from_slice(payload);
        apply_mask(&mut out[n..], key, 0);
        out
    }

    fn reader(limit: usize) -> MessageReader {
        let limits = Limits {
            max_frame_size: limit,
            max_message_size: limit,
        };
        let mut r = MessageReader::new(Role::Server, limits, &[]);
        r.set_deflate(&Parameters::default());
        r
    }

    /// What reading `wire` gives, message by message, until the first error.
    fn read_all(r: &mut MessageReader, wire: &[u8]) -> (Vec<String>, Option<Error>) {
        let mut stream = wire;
        let mut got = Vec::new();
        loop {
            match r.read(&mut stream) {
                Ok(MessageRef::Text(t)) => got.push(format!("text {t}")),
                Ok(MessageRef::Binary(b)) => got.push(format!("binary {}", b.len())),
                Ok(other) => got.push(format!("{other:?}")),
                Err(Error::Io(_)) => return (got, None),
                Err(e) => return (got, Some(e)),
            }
        }
    }

    fn violation(wire: &[u8], negotiated: bool) -> Option<Violation> {
        let mut r = reader(1 << 20);
        if !negotiated {
            r.deflate = None;
        }
        match read_all(&mut r, wire).1 {
            Some(Error::Protocol(v)) => Some(v),
            _ => None,
        }
    }

    const HELLO: [u8; 7] = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];

    #[test]
    fn rfc_7692_vectors_and_context_takeover() {
        let mut wire = frame(true, 0b100, Opcode::Text, &HELLO);
        // §7.2.3.2: the same "Hello", a back-reference into the first message.
        wire.extend(frame(
            true,
            0b100,
            Opcode::Text,
            &[0xf2, 0x00, 0x11, 0x00, 0x00],
        ));
        // §7.2.3.3: a stored block; §7.2.3.4: BFINAL and a trailing byte.
        let stored = [
            0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
        ];
        wire.extend(frame(true, 0b100, Opcode::Text, &stored));
        let bfinal = [0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00];
        wire.extend(frame(true, 0b100, Opcode::Text, &bfinal));
        // §7.2.3.6: an empty message; then a plain one on the same connection.
        wire.extend(frame(true, 0b100, Opcode::Binary, &[0x00]));
        wire.extend(frame(true, 0, Opcode::Text, b"plain"));
        let (got, err) = read_all(&mut reader(1 << 20), &wire);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(
            got,
            [
                "text Hello",
                "text Hello",
                "text Hello",
                "text Hello",
                "binary 0",
                "text plain"
            ]
        );
    }

    #[test]
    fn fragments_with_control_frames_between() {
        // §7.2.3.5's two blocks, cut across three frames, a ping in the middle.
        let data = [
            0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00,
        ];
        let mut wire = frame(false, 0b100, Opcode::Text, &data[..4]);
        wire.extend(frame(true, 0, Opcode::Ping, b"p"));
        wire.extend(frame(false, 0, Opcode::Continuation, &data[4..9]));
        wire.extend(frame(true, 0, Opcode::Continuation, &data[9..]));
        let (got, err) = read_all(&mut reader(1 << 20), &wire);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(got, ["Ping([112])", "text Hello"]);
    }

    #[test]
    fn rsv1_only_where_rfc_7692_allows_it() {
        use Violation::*;
        let rsv1 = |opcode| frame(true, 0b100, opcode, &HELLO);
        assert_eq!(violation(&rsv1(Opcode::Text), false), Some(ReservedBits));
        assert_eq!(
            violation(&rsv1(Opcode::Ping), true),
            Some(MisplacedCompressionBit)
        );
        assert_eq!(
            violation(&rsv1(Opcode::Close), true),
            Some(MisplacedCompressionBit)
        );
        let mut wire = frame(false, 0b100, Opcode::Text, &HELLO[..3]);
        wire.extend(frame(true, 0b100, Opcode::Continuation, &HELLO[3..]));
        assert_eq!(violation(&wire, true), Some(MisplacedCompressionBit));
        for rsv in [0b010, 0b001, 0b110, 0b101] {
            assert_eq!(
                violation(&frame(true, rsv, Opcode::Text, &HELLO), true),
                Some(ReservedBits)
            );
        }
        assert_eq!(MisplacedCompressionBit.close_code().0, 1002);
    }

    #[test]
    fn malformed_data_is_1007_and_a_bomb_stops_at_the_limit_with_1009() {
        let garbage = frame(true, 0b100, Opcode::Binary, &[0xff, 0xff, 0xff]);
        assert_eq!(
            violation(&garbage, true),
            Some(Violation::InvalidCompressedData)
        );
        // A message that stops inside a block: the tail does not end it.
        let cut = frame(true, 0b100, Opcode::Binary, &HELLO[..3]);
        assert_eq!(
            violation(&cut, true),
            Some(Violation::InvalidCompressedData)
        );
        assert_eq!(Violation::InvalidCompressedData.close_code().0, 1007);

        let mut bomb = Vec::new();
        Compressor::new(15, true).compress_message(&vec![0; 4 << 20], &mut bomb);
        assert!(bomb.len() < 8 * 1024);
        let mut r = reader(1 << 20);
        let (_, err) = read_all(&mut r, &frame(true, 0b100, Opcode::Binary, &bomb));
        assert!(matches!(
            err,
            Some(Error::Protocol(Violation::MessageTooLarge))
        ));
        assert!(r.data.len() <= 1 << 20, "held {} bytes", r.data.len());
        let mut exact = Vec::new();
        Compressor::new(15, true).compress_message(&vec![7; 1 << 20], &mut exact);
        let (got, err) = read_all(
            &mut reader(1 << 20),
            &frame(true, 0b100, Opcode::Binary, &exact),
        );
        assert!(err.is_none(), "exactly the limit is allowed: {err:?}");
        assert_eq!(got, [format!("binary {}", 1 << 20)]);
    }

    #[test]
    fn invalid_utf8_fails_as_soon_as_it_inflates() {
        let mut text = vec![b'a'; 100_000];
        text[10] = 0xff;
        let mut data = Vec::new();
        Compressor::new(15, true).compress_message(&text, &mut data);
        // Only the first frame of three is sent: the error comes before the end.
        let mut wire = frame(false, 0b100, Opcode::Text, &data[..data.len() / 2]);
        wire.extend(frame(
            false,
            0,
            Opcode::Continuation,
            &data[data.len() / 2..],
        ));
        assert_eq!(violation(&wire, true), Some(Violation::InvalidUtf8));
    }

    #[test]
    fn a_large_compressed_binary_message_comes_out_in_pieces() {
        let big: Vec<u8> = (0..300_000u32)
            .map(|i| ((i % 7) * (i / 1000)) as u8)
            .collect();
        let mut data = Vec::new();
        Compressor::new(15, true).compress_message(&big, &mut data);
        let mut wire = frame(false, 0b100, Opcode::Binary, &data[..data.len() / 3]);
        wire.extend(frame(true, 0, Opcode::Ping, b""));
        wire.extend(frame(
            true,
            0,
            Opcode::Continuation,
            &data[data.len() / 3..],
        ));
        wire.extend(frame(true, 0b100, Opcode::Binary, &HELLO));
        let mut r = reader(1 << 20);
        let mut stream = &wire[..];
        let mut joined = Vec::new();
        let mut pieces = 0;
        loop {
            match r.read_part(&mut stream, 64 * 1024).unwrap() {
                Part::Piece(p) => {
                    assert!(p.data.len() <= 64 * 1024);
                    assert_eq!(p.first, joined.is_empty());
                    joined.extend_from_slice(p.data);
                    pieces += 1;
                    if p.last {
                        break;
                    }
                }
                Part::Message(MessageRef::Ping(_)) => {}
                other => panic!("{other:?}"),
            }
        }
        assert!(joined == big, "pieces join to the message");
        assert!(pieces >= 5, "{pieces}");
        let next = r.read_part(&mut stream, 64 * 1024).unwrap();
        assert_eq!(next, Part::Message(MessageRef::Binary(b"Hello")));
    }
}
