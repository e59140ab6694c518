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

use super::{grow, MessageReader, FIRST_GROWTH};
use crate::deflate::{Status, MESSAGE_TAIL};
use crate::error::{Error, Result, Violation};
use crate::frame::{apply_mask, Opcode};
use crate::input::eof_mid_frame;
use std::io::Read;

/// The most compressed bytes read (and then inflated) at a time.
const INPUT_CHUNK: usize = 16 * 1024;

impl MessageReader {
    /// Reads and inflates the current compressed frame, to its end (false) or until a
    /// piece of a binary message is full (true; see `read_part`). Returning false
    /// means the frame is done: if it ended the message, the stream ended too.
    pub(super) fn read_compressed_payload<R: Read + ?Sized>(
        &mut self,
        stream: &mut R,
        piece_size: usize,
    ) -> Result<bool> {
        let cut = (self.message == Some(Opcode::Binary)).then_some(piece_size);
        loop {
            if self.inflate_pending(cut)? {
                return Ok(true);
            }
            let (Some(frame), Some(deflate)) = (self.frame.as_mut(), self.deflate.as_deref_mut())
            else {
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

    /// Inflates the compressed bytes held into the message buffer; true if it stopped
    /// because the piece (`cut`) is full.
    fn inflate_pending(&mut self, cut: Option<usize>) -> Result<bool> {
        let Some(deflate) = self.deflate.as_deref_mut() else {
            return Ok(false);
        };
        while deflate.pending() {
            let limit = self.limits.max_message_size - self.streamed;
            let end = cut.map_or(limit, |piece| piece.min(limit));
            // Room for about what the input is likely to give, as the bytes arrive.
            let guess = (4 * (deflate.input.len() - deflate.used)).max(1024);
            let wanted = (end - self.data_len).min(guess);
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
