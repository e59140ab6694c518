//! The minimum pace of a send. A write timeout alone only asks for *some* progress
//! within its time: a peer that takes a few bytes now and then (a tiny receive window,
//! read slowly on purpose) would hold its thread, and the message waiting for it, for
//! as long as it likes. So the time a connection's writes spend blocked is added up,
//! with the bytes they moved, and every time a whole window of blocked time has
//! passed, the bytes must come to at least the minimum rate for that time.
//!
//! Only blocked time counts: a connection that sends little, and whose writes never
//! wait, is never judged; an honest slow link is judged on what it takes while we
//! wait for it, which is its real speed.
//!
//! Progress must be seen to be judged, and a blocked `write` hides it: the kernel
//! wakes a writer only once a third or so of the send buffer is free, and on
//! loopback that buffer grows to megabytes, so a peer reading 20 KiB/s could leave a
//! write without a byte for a minute. So the stream's own write timeout is kept
//! short (a slice, see [`WRITE_SLICE`]) and a write that times out is tried again:
//! each new try takes whatever room has opened since. Only a whole window with no
//! byte taken at all fails the write as "stalled".

use super::keepalive::is_timeout;
use std::io::{self, IoSlice, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A write that returns sooner than this did not wait for the peer.
const BLOCKED: Duration = Duration::from_millis(1);

/// The longest a single write system call should wait when a pace is set: the
/// stream's write timeout is set to this (or to the window, if shorter), so that
/// progress is seen at least this often.
pub const WRITE_SLICE: Duration = Duration::from_secs(1);

/// The slowest a peer may take what is sent to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendPace {
    /// Bytes per second, averaged over blocked time.
    pub min_rate: u64,
    /// How much blocked time is judged at once.
    pub window: Duration,
}

/// Blocked time and the bytes moved in it, since the last judgement.
#[derive(Debug, Default)]
pub(super) struct PaceMeter {
    pub(super) pace: Option<SendPace>,
    /// Bytes handed to the stream, ever: keepalive's measure of what the peer still
    /// has to read before it reaches a ping.
    pub(super) written: Arc<AtomicU64>,
    blocked: Duration,
    moved: u64,
    /// Time since the last byte was taken, counted over timed-out writes.
    stalled: Duration,
}

impl PaceMeter {
    /// Counts one write that took `took` and moved `n` bytes; an error once a window
    /// of blocked time has moved too little.
    fn record(&mut self, took: Duration, n: usize) -> io::Result<()> {
        let Some(pace) = self.pace else {
            return Ok(());
        };
        if took < BLOCKED && self.blocked.is_zero() {
            return Ok(());
        }
        if took >= BLOCKED {
            self.blocked += took;
        }
        self.moved += n as u64;
        if self.blocked < pace.window {
            return Ok(());
        }
        let owed = pace.min_rate as f64 * self.blocked.as_secs_f64();
        let (blocked, moved) = (self.blocked, self.moved);
        (self.blocked, self.moved) = (Duration::ZERO, 0);
        if (moved as f64) < owed {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "peer reads too slowly: {moved} bytes in {} ms of waiting",
                    blocked.as_millis() as u64
                ),
            ));
        }
        Ok(())
    }
}

/// A stream whose writes are timed by a [`PaceMeter`].
pub(super) struct Paced<'a, W: ?Sized> {
    pub(super) stream: &'a mut W,
    pub(super) meter: &'a mut PaceMeter,
    /// Try a timed-out write again until a whole window has passed without a byte
    /// taken (false for the relay, whose short timeout means "stalled, stop").
    pub(super) retry: bool,
}

impl<W: Write + ?Sized> Paced<'_, W> {
    fn timed(&mut self, mut write: impl FnMut(&mut W) -> io::Result<usize>) -> io::Result<usize> {
        let Some(pace) = self.meter.pace else {
            let n = write(self.stream)?;
            self.meter.written.fetch_add(n as u64, Ordering::Relaxed);
            return Ok(n);
        };
        loop {
            let started = Instant::now();
            let result = write(self.stream);
            let took = started.elapsed();
            match result {
                Ok(n) => {
                    self.meter.written.fetch_add(n as u64, Ordering::Relaxed);
                    self.meter.stalled = Duration::ZERO;
                    self.meter.record(took, n)?;
                    return Ok(n);
                }
                Err(e) if is_timeout(&e) => {
                    self.meter.record(took, 0)?;
                    self.meter.stalled += took;
                    if !self.retry || self.meter.stalled >= pace.window {
                        self.meter.stalled = Duration::ZERO;
                        return Err(e);
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }
}

impl<W: Write + ?Sized> Write for Paced<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.timed(|s| s.write(buf))
    }
    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.timed(|s| s.write_vectored(bufs))
    }
    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meter(min_rate: u64, window_ms: u64) -> PaceMeter {
        PaceMeter {
            pace: Some(SendPace {
                min_rate,
                window: Duration::from_millis(window_ms),
            }),
            ..PaceMeter::default()
        }
    }

    #[test]
    fn a_trickle_fails_once_a_window_of_waiting_has_passed() {
        // 1 KiB/s over 30 s of waiting: a peer taking 4 KiB per 10 s write fails at
        // the third, when 30 s of waiting have moved 12 KiB of the 30 KiB owed.
        let mut m = meter(1024, 30_000);
        let ten_s = Duration::from_secs(10);
        assert!(m.record(ten_s, 4096).is_ok());
        assert!(m.record(ten_s, 4096).is_ok());
        let e = m.record(ten_s, 4096).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
    }

    #[test]
    fn an_honest_slow_link_and_writes_that_never_wait_pass() {
        // 20 KiB/s for ten minutes of waiting, one write a second.
        let mut m = meter(1024, 30_000);
        for _ in 0..600 {
            m.record(Duration::from_secs(1), 20 * 1024).unwrap();
        }
        // Writes that return at once are never judged, whatever they move.
        let mut m = meter(1024, 30_000);
        for _ in 0..100_000 {
            m.record(Duration::ZERO, 0).unwrap();
        }
        // No pace set: nothing is judged.
        let mut m = PaceMeter::default();
        m.record(Duration::from_secs(3600), 0).unwrap();
    }
}
