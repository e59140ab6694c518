//! The per-connection input buffer: bytes read from the stream but not yet parsed.
//!
//! One read fetches as much as is waiting (up to the buffer's size), so many small
//! frames cost one system call; large payloads bypass it and are read straight into
//! the message buffer.
//!
//! A connection that waits for its peer holds no buffer: it is allocated when bytes
//! arrive and given back when the peer has been silent for a while (a keepalive
//! interval, see [`InputBuffer::fill`]). Thousands of idle connections then cost
//! nothing here.

use std::io::{self, Read};

/// Size of the input buffer. Frame headers are at most 14 bytes and large payloads
/// go around the buffer, so it never needs to grow; small keeps idle connections cheap.
pub const INPUT_BUFFER_SIZE: usize = 4096;

/// What a connection without a buffer reads at once, on its stack: one small
/// message. Whatever else is waiting follows with the next read, into the buffer.
const PARKED_READ: usize = 64;

/// Bytes read but not yet consumed: `buf[start..end]`.
#[derive(Debug)]
pub struct InputBuffer {
    /// Empty (no allocation) while the connection is parked.
    buf: Box<[u8]>,
    start: usize,
    end: usize,
}

impl InputBuffer {
    /// A buffer that starts with `leftover`: bytes that arrived after the handshake
    /// in the same read (a client may send its first frame right behind the request).
    /// Without any, nothing is allocated until the first bytes arrive.
    pub fn new(leftover: &[u8]) -> InputBuffer {
        let mut input = InputBuffer {
            buf: Box::default(),
            start: 0,
            end: 0,
        };
        if !leftover.is_empty() {
            input.unpark(leftover);
        }
        input
    }

    /// The unconsumed bytes.
    pub fn data(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// Whether no unconsumed bytes are left.
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// Marks `n` bytes as consumed.
    pub fn consume(&mut self, n: usize) {
        debug_assert!(n <= self.end - self.start);
        self.start += n;
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Reads once from `stream`, appending to the unconsumed bytes; returns how many
    /// bytes arrived (0 at end of stream).
    ///
    /// `Interrupted` is retried. The keepalive reports a silent interval that way
    /// (its ping has gone out, see `socket::keepalive`): if nothing is buffered, the
    /// buffer is given back then, and the wait goes on without it.
    pub fn fill<R: Read + ?Sized>(&mut self, stream: &mut R) -> io::Result<usize> {
        if self.end == self.buf.len() {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        loop {
            if self.buf.is_empty() {
                return self.fill_parked(stream);
            }
            match stream.read(&mut self.buf[self.end..]) {
                Ok(n) => {
                    self.end += n;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                    if self.is_empty() {
                        self.buf = Box::default();
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Whether the connection holds no buffer now (it was idle).
    pub fn is_parked(&self) -> bool {
        self.buf.is_empty()
    }

    /// A read without a buffer: a few bytes onto the stack, then a buffer for them.
    fn fill_parked<R: Read + ?Sized>(&mut self, stream: &mut R) -> io::Result<usize> {
        let mut first = [0u8; PARKED_READ];
        loop {
            match stream.read(&mut first) {
                Ok(0) => return Ok(0),
                Ok(n) => {
                    self.unpark(&first[..n]);
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Allocates the buffer, holding `bytes`.
    fn unpark(&mut self, bytes: &[u8]) {
        let mut buf = vec![0u8; INPUT_BUFFER_SIZE.max(bytes.len())].into_boxed_slice();
        buf[..bytes.len()].copy_from_slice(bytes);
        (self.buf, self.start, self.end) = (buf, 0, bytes.len());
    }
}

/// End of stream where more bytes were needed.
pub fn eof_mid_frame() -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "peer closed the connection in the middle of a frame",
    )
}

/// End of stream between messages, without a close frame.
pub fn eof_without_close() -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "peer closed the connection without a close frame",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    /// A stream that answers each read with the next scripted outcome: bytes (as much
    /// as fits) or `Interrupted`, the keepalive's "an interval passed in silence".
    struct Script(VecDeque<Option<Vec<u8>>>);

    impl Read for Script {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            match self.0.pop_front() {
                None => Ok(0),
                Some(None) => Err(io::ErrorKind::Interrupted.into()),
                Some(Some(mut bytes)) => {
                    let n = bytes.len().min(buf.len());
                    buf[..n].copy_from_slice(&bytes[..n]);
                    if n < bytes.len() {
                        self.0.push_front(Some(bytes.split_off(n)));
                    }
                    Ok(n)
                }
            }
        }
    }

    #[test]
    fn a_silent_interval_gives_the_buffer_back_and_nothing_is_lost() {
        let message: Vec<u8> = (0..300u16).map(|i| i as u8).collect();
        let mut stream = Script(VecDeque::from([
            Some(b"abc".to_vec()),
            None,
            Some(message.clone()),
        ]));
        let mut input = InputBuffer::new(b"");
        assert!(input.is_parked(), "no buffer before the first byte");
        assert_eq!(input.fill(&mut stream).unwrap(), 3);
        assert!(!input.is_parked());
        assert_eq!(input.data(), b"abc");
        input.consume(3);

        // An interval of silence, then a message longer than the parked read.
        let n = input.fill(&mut stream).unwrap();
        assert_eq!(n, PARKED_READ, "the parked read takes its first bytes");
        let mut got = input.data().to_vec();
        input.consume(n);
        while got.len() < message.len() {
            let n = input.fill(&mut stream).unwrap();
            got.extend_from_slice(input.data());
            input.consume(n);
        }
        assert_eq!(got, message);
        assert_eq!(input.fill(&mut stream).unwrap(), 0, "end of stream");
    }

    #[test]
    fn silence_with_bytes_still_buffered_keeps_them() {
        let mut stream = Script(VecDeque::from([Some(b"xy".to_vec()), None]));
        let mut input = InputBuffer::new(b"w");
        assert_eq!(input.fill(&mut stream).unwrap(), 2);
        input.consume(1);
        assert_eq!(input.fill(&mut stream).unwrap(), 0);
        assert_eq!(input.data(), b"xy", "unconsumed bytes survive the silence");
    }

    #[test]
    fn a_released_buffer_is_observed_through_interrupted() {
        let mut stream = Script(VecDeque::from([Some(b"a".to_vec()), None, None]));
        let mut input = InputBuffer::new(b"");
        input.fill(&mut stream).unwrap();
        input.consume(1);
        // Interrupted twice, then the end: the buffer went back at the first.
        assert_eq!(input.fill(&mut stream).unwrap(), 0);
        assert!(
            input.is_parked(),
            "an empty buffer is given back in silence"
        );
    }
}
