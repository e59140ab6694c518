//! Keepalive (RFC 6455 §5.5.2): a ping after an interval of silence, and the end of a
//! peer that stays silent for a second interval.

use crate::error::{Error, Result};
use std::io::{self, Read};

/// Keepalive (RFC 6455 §5.5.2: a ping "may serve as a keepalive"), driven by the
/// stream's read timeout, which is the ping interval. It is off unless turned on, so a
/// plain read timeout still fails the read.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Keepalive {
    pub(super) enabled: bool,
    /// A ping went out (or, on hixie-76, which has no ping, an interval passed) and
    /// nothing at all has arrived since.
    pub(super) unanswered: bool,
}

impl Keepalive {
    /// Whether a read failed because the peer stayed silent after the ping: the
    /// connection is then closed with 1001, if a close frame can still be written.
    pub(super) fn gave_up(&self, e: &Error) -> bool {
        self.enabled
            && self.unanswered
            && matches!(e, Error::Io(e) if e.kind() == io::ErrorKind::TimedOut)
    }
}

/// The stream as the codec sees it: any byte received proves the peer alive, not only
/// a pong (a load generator that never answers pings but keeps sending is alive). A
/// read that times out sends a ping through `ping` and waits one more interval; a
/// second timeout with nothing received fails with `TimedOut`. The codec is resumable,
/// so nothing is lost while it waits.
pub(super) struct Watched<'a, R: ?Sized, P> {
    pub(super) stream: &'a mut R,
    pub(super) keepalive: &'a mut Keepalive,
    pub(super) ping: P,
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
pub(super) fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
    )
}
