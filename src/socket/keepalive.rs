//! Keepalive (RFC 6455 §5.5.2): a ping after an interval of silence, and the end of a
//! peer that stays silent for a second interval.
//!
//! A ping joins the back of the queue: a peer still reading megabytes we sent before
//! it reaches the ping only once it has read them, and a slow but honest link (a
//! phone taking 20 KiB/s) can need far longer than an interval for that. So when a
//! pace is known ([`Keepalive::patience`]), the wait for an answer grows by the time
//! the bytes that may still be unread would take at that pace (at most
//! [`MAX_EXTRA_WAIT`]): everything sent before the ping since the last pong, since a
//! pong proves the peer read all that came before its ping. A peer that takes
//! nothing at all meanwhile is found by the pace rule on our writes, not here.

use crate::error::{Error, Result};
use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The longest a keepalive waits, beyond its second interval, for a peer that may
/// still be reading what was sent before the ping.
pub const MAX_EXTRA_WAIT: Duration = Duration::from_secs(300);

/// Keepalive (RFC 6455 §5.5.2: a ping "may serve as a keepalive"), driven by the
/// stream's read timeout, which is the ping interval. It is off unless turned on, so a
/// plain read timeout still fails the read.
#[derive(Debug, Default, Clone)]
pub(super) struct Keepalive {
    pub(super) enabled: bool,
    /// A ping went out (or, on hixie-76, which has no ping, an interval passed) and
    /// nothing at all has arrived since.
    pub(super) unanswered: bool,
    /// Bytes the writer has handed to the stream, ever (shared with the writer).
    pub(super) written: Arc<AtomicU64>,
    /// `written` when the last keepalive ping went out.
    pub(super) written_at_ping: u64,
    /// `written` up to which the peer has proved it read, by answering a ping.
    pub(super) acknowledged: u64,
    /// The slowest honest pace, in bytes per second, when one is set.
    pub(super) patience: Option<u64>,
    /// When the unanswered ping went out.
    pub(super) pinged_at: Option<Instant>,
}

impl Keepalive {
    /// Whether the peer may still be reading what was sent before the ping: the
    /// silence so far is shorter than those bytes take at the slowest honest pace.
    /// A pong arrived: the peer has read everything sent before our last ping.
    pub(super) fn pong(&mut self) {
        self.acknowledged = self.written_at_ping;
    }

    fn may_still_be_reading(&self) -> bool {
        let (Some(rate), Some(pinged_at)) = (self.patience, self.pinged_at) else {
            return false;
        };
        let queued = self.written_at_ping.saturating_sub(self.acknowledged);
        let needed = Duration::from_secs(queued / rate.max(1)).min(MAX_EXTRA_WAIT);
        pinged_at.elapsed() < needed
    }

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
/// so nothing is lost while it waits. The read that sent the ping returns
/// `Interrupted`: every reader retries that, and the input buffer first gives its
/// memory back, since the peer has been silent for an interval.
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
                    if self.keepalive.unanswered && self.keepalive.may_still_be_reading() {
                        continue;
                    }
                    if self.keepalive.unanswered {
                        return Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            "no answer to the keepalive ping",
                        ));
                    }
                    self.keepalive.unanswered = true;
                    self.keepalive.pinged_at = Some(Instant::now());
                    self.keepalive.written_at_ping = self.keepalive.written.load(Ordering::Relaxed);
                    match (self.ping)(self.stream) {
                        // The caller may use the pause (the input buffer is given
                        // back, see `InputBuffer::fill`), then reads again.
                        Ok(()) | Err(Error::Closed) => {
                            return Err(io::ErrorKind::Interrupted.into());
                        }
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
