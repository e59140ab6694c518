//! The end of a connection that an application starts: after our close frame the
//! peer gets a bounded time to answer (RFC 6455 §7.1.2 asks it to), then the read
//! side is shut so the connection's thread, blocked reading, ends instead of waiting
//! for ever.

use std::net::Shutdown;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;
use stdws::SharedTcpStream;

/// How long a peer has to answer our close frame.
pub const CLOSE_PATIENCE: Duration = Duration::from_secs(2);

/// Waits until `finished` says the reading thread is done (a message or a hang-up),
/// or `CLOSE_PATIENCE` passes; in the second case shuts the read side of `tcp`.
pub fn unblock_reader(tcp: &SharedTcpStream, finished: &Receiver<()>) {
    if let Err(RecvTimeoutError::Timeout) = finished.recv_timeout(CLOSE_PATIENCE) {
        let _ = tcp.shutdown(Shutdown::Read);
    }
}
