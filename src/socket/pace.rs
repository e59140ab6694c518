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

use std::io::{self, IoSlice, Write};
use std::time::{Duration, Instant};

/// A write that returns sooner than this did not wait for the peer.
const BLOCKED: Duration = Duration::from_millis(1);

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
    blocked: Duration,
    moved: u64,
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
}

impl<W: Write + ?Sized> Paced<'_, W> {
    fn timed(&mut self, write: impl FnOnce(&mut W) -> io::Result<usize>) -> io::Result<usize> {
        if self.meter.pace.is_none() {
            return write(self.stream);
        }
        let started = Instant::now();
        let result = write(self.stream);
        let moved = *result.as_ref().unwrap_or(&0);
        self.meter.record(started.elapsed(), moved)?;
        result
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
