//! The end of a connection that an application starts: after our close frame the
//! peer gets a bounded time to answer (RFC 6455 §7.1.2 asks it to), then the read
//! side is shut so the connection's thread, blocked reading, ends instead of waiting
//! for ever.
//!
//! The threads involved tell each other "I am done" with a [`Signal`]: one bit under
//! a lock, and a condition variable to wait on it with a time limit. (A channel would
//! do the same job, but brings the standard library's whole channel machinery into
//! the binary for that one bit.)

use std::net::Shutdown;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;
use stdws::SharedTcpStream;

/// How long a peer has to answer our close frame.
pub const CLOSE_PATIENCE: Duration = Duration::from_secs(2);

/// "Done", said once by one thread and waited for by another.
#[derive(Debug, Default)]
pub struct Signal {
    done: Mutex<bool>,
    changed: Condvar,
}

impl Signal {
    /// A signal not yet given, and the guard that gives it when dropped.
    pub fn new() -> (Arc<Signal>, DoneOnDrop) {
        let signal = Arc::new(Signal::default());
        (signal.clone(), DoneOnDrop(signal))
    }

    /// Waits until the signal is given or `timeout` passes; whether it was given.
    pub fn wait(&self, timeout: Duration) -> bool {
        let done = self.done.lock().unwrap_or_else(|p| p.into_inner());
        let (done, _) = self
            .changed
            .wait_timeout_while(done, timeout, |done| !*done)
            .unwrap_or_else(|p| p.into_inner());
        *done
    }
}

/// Gives its [`Signal`] when dropped, so every way out of the thread that holds it
/// counts as "done", a panic included.
#[derive(Debug)]
pub struct DoneOnDrop(Arc<Signal>);

impl Drop for DoneOnDrop {
    fn drop(&mut self) {
        *self.0.done.lock().unwrap_or_else(|p| p.into_inner()) = true;
        self.0.changed.notify_all();
    }
}

/// Waits until `finished` says the reading thread is done (a message or a hang-up),
/// or `CLOSE_PATIENCE` passes; in the second case shuts the read side of `tcp`.
pub fn unblock_reader(tcp: &SharedTcpStream, finished: &Signal) {
    if !finished.wait(CLOSE_PATIENCE) {
        let _ = tcp.shutdown(Shutdown::Read);
    }
}
