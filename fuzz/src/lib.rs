//! What the fuzz targets share: an in-memory peer whose bytes arrive in pieces of
//! fuzzer-chosen sizes, with the odd read timeout in between, so the resumable readers
//! are driven through every way a network can cut a stream.

use std::io::{self, Read, Write};

/// A stream that yields `data` in pieces and records what is written to it.
pub struct Wire<'a> {
    data: &'a [u8],
    /// Drives the piece sizes and the timeouts; cycles.
    cuts: &'a [u8],
    turn: usize,
    /// Whether a cut of 0 is a read timeout (otherwise a 1-byte piece).
    timeouts: bool,
    /// Everything the code under test wrote.
    pub written: Vec<u8>,
}

impl<'a> Wire<'a> {
    /// Splits the fuzzer's input: the first byte says how many of the following bytes
    /// choose the cuts (at most 15); the rest is the peer's byte stream.
    pub fn new(input: &'a [u8]) -> Wire<'a> {
        let (&head, rest) = input.split_first().unwrap_or((&0, &[]));
        let n = usize::from(head & 0x0F).min(rest.len());
        let (cuts, data) = rest.split_at(n);
        Wire {
            data,
            cuts,
            turn: 0,
            timeouts: true,
            written: Vec::new(),
        }
    }

    /// The same peer bytes as [`Wire::new`], delivered whole: no cuts, no timeouts.
    pub fn whole(input: &'a [u8]) -> Wire<'a> {
        Wire {
            cuts: &[],
            ..Wire::new(input)
        }
    }

    /// The same pieces as [`Wire::new`], without the timeouts.
    pub fn without_timeouts(input: &'a [u8]) -> Wire<'a> {
        Wire {
            timeouts: false,
            ..Wire::new(input)
        }
    }

    /// The first byte of the input, for targets that pick options with it.
    pub fn selector(input: &[u8]) -> u8 {
        input.first().copied().unwrap_or(0) >> 4
    }
}

impl Read for Wire<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.data.is_empty() {
            return Ok(0);
        }
        let cut = if self.cuts.is_empty() {
            usize::MAX
        } else {
            let c = self.cuts[self.turn % self.cuts.len()];
            self.turn += 1;
            // 0 is a timeout (a resumable reader must lose nothing); others a size.
            if c == 0 && self.timeouts && self.turn % 2 == 1 {
                return Err(io::ErrorKind::TimedOut.into());
            }
            usize::from(c).max(1)
        };
        let n = buf.len().min(self.data.len()).min(cut);
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

impl Write for Wire<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // Keep memory flat: the targets care that writing does not panic.
        if self.written.len() < 1 << 16 {
            self.written.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Reads messages from a server-side WebSocket over `wire` until an error other than
/// a timeout (which a resumable reader simply retries), and returns a transcript of
/// every message, the final error and every byte written back, so two deliveries of
/// the same bytes can be compared.
pub fn transcript(
    wire: Wire<'_>,
    variant: stdws::Variant,
    check: impl Fn(&stdws::MessageRef<'_>),
) -> (Vec<String>, Vec<u8>) {
    use stdws::{Error, Limits, Role, WebSocket};
    let limits = Limits {
        max_frame_size: 1 << 12,
        max_message_size: 1 << 14,
    };
    let mut ws = WebSocket::with_limits(wire, variant, Role::Server, limits, &[]);
    let mut events = Vec::new();
    for _ in 0..100_000 {
        match ws.read_ref() {
            Ok(m) => {
                check(&m);
                events.push(format!("{m:?}"));
            }
            Err(Error::Io(e)) if e.kind() == io::ErrorKind::TimedOut => {}
            Err(e) => {
                events.push(format!("error: {e}"));
                break;
            }
        }
    }
    (events, ws.get_ref().written.clone())
}
