//! Stopping the binary on SIGINT or SIGTERM: the first signal starts a clean stop,
//! a second one ends the process at once.
//!
//! A clean stop is what `ServerHandle::shutdown` does (no new connections, close
//! 1001 to RFC 6455 clients and 0xFF 0x00 to hixie-76 ones, up to `--gracems` for
//! connections to end), with every exec program ended as [`super::reap`] describes.
//! The binary then exits 0. A second signal during that wait sends SIGKILL to every
//! program's group and exits with 128 + the signal's number (130 for SIGINT, 143 for
//! SIGTERM), as a shell reports a process killed by that signal.
//!
//! The signals themselves only bump a counter ([`super::unix`]); the main thread
//! polls it, since nothing else may safely run inside a signal handler.

#[cfg(unix)]
use super::log::Log;
use std::sync::atomic::{AtomicBool, Ordering};

/// How often the main thread looks at the signal counter: a stop starts at most
/// this late, and an idle server wakes 20 times a second.
#[cfg(unix)]
const POLL: std::time::Duration = std::time::Duration::from_millis(50);

/// Set once a stop has begun, before any connection is told.
static STOPPING: AtomicBool = AtomicBool::new(false);

/// Whether the server is stopping: a connection that ends now ends because of it,
/// and says 1001 rather than 1000.
pub fn stopping() -> bool {
    STOPPING.load(Ordering::SeqCst)
}

/// Marks the stop as begun. Called before the server shuts any connection, so every
/// connection that sees its reading side end also sees this.
#[cfg(unix)]
pub fn begin() {
    STOPPING.store(true, Ordering::SeqCst);
}

/// Blocks until the first stop signal; its number.
#[cfg(unix)]
pub fn wait_for_signal() -> i32 {
    loop {
        let (count, last) = super::unix::stop_signals();
        if count > 0 {
            return last;
        }
        std::thread::sleep(POLL);
    }
}

/// Watches, on a thread of its own, for a second stop signal while the clean stop
/// runs; on one, kills every program's group and exits at once.
#[cfg(unix)]
pub fn exit_on_second_signal(log: Log) {
    let watch = Box::new(move || loop {
        let (count, last) = super::unix::stop_signals();
        if count > 1 {
            super::reap::kill_all();
            log.error(format_args!("{}: second signal, exiting now", name(last)));
            std::process::exit(128 + last);
        }
        std::thread::sleep(POLL);
    });
    if let Err(e) = super::spawn_named("stdws-signals", watch) {
        log.error(format_args!("cannot watch for a second signal: {e}"));
    }
}

/// A signal's name for the log.
#[cfg(unix)]
pub fn name(signum: i32) -> &'static str {
    match signum {
        2 => "SIGINT",
        15 => "SIGTERM",
        _ => "signal",
    }
}
