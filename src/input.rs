//! The per-connection input buffer: bytes read from the stream but not yet parsed.
//!
//! One read fetches as much as is waiting (up to the buffer's size), so many small
//! frames cost one system call; large payloads bypass it and are read straight into
//! the message buffer.

use std::io::{self, Read};

/// Size of the input buffer. Frame headers are at most 14 bytes and large payloads
/// go around the buffer, so it never needs to grow; small keeps idle connections cheap.
pub const INPUT_BUFFER_SIZE: usize = 4096;

/// Bytes read but not yet consumed: `buf[start..end]`.
#[derive(Debug)]
pub struct InputBuffer {
    buf: Box<[u8]>,
    start: usize,
    end: usize,
}

impl InputBuffer {
    /// A buffer that starts with `leftover`: bytes that arrived after the handshake
    /// in the same read (a client may send its first frame right behind the request).
    pub fn new(leftover: &[u8]) -> InputBuffer {
        let size = INPUT_BUFFER_SIZE.max(leftover.len());
        let mut buf = vec![0u8; size].into_boxed_slice();
        buf[..leftover.len()].copy_from_slice(leftover);
        InputBuffer {
            buf,
            start: 0,
            end: leftover.len(),
        }
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
    /// bytes arrived (0 at end of stream). Retries on `Interrupted`.
    pub fn fill<R: Read + ?Sized>(&mut self, stream: &mut R) -> io::Result<usize> {
        if self.end == self.buf.len() {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        loop {
            match stream.read(&mut self.buf[self.end..]) {
                Ok(n) => {
                    self.end += n;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
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
