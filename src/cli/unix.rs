//! The binary's one module with `unsafe`: two POSIX calls that the standard library
//! does not offer, declared here by hand because stdws takes no crate for them.
//!
//! - `signal(2)` installs a handler for SIGINT and SIGTERM, so that the binary can
//!   stop cleanly (close every connection with 1001) instead of dying mid-frame. The
//!   handler only adds to an atomic counter: it runs in the middle of whatever the
//!   thread it interrupted was doing, and POSIX allows nothing there but
//!   async-signal-safe operations (POSIX.1-2017 §2.4.3). A lock-free atomic store is
//!   one; taking a lock, allocating or writing a log line is not. The main thread
//!   polls the counter and does the real work.
//! - `kill(2)` with a negative pid sends a signal to a whole process group, so that
//!   ending an exec program also ends what it started in the background. std's
//!   `Child::kill` reaches only the direct child.
//!
//! `signal` rather than `sigaction`: `struct sigaction` has a different layout on
//! every platform, and declaring it by hand would be the riskiest line here. Linux
//! (glibc, musl) and the BSDs give `signal` the BSD meaning: the handler stays
//! installed and interrupted calls restart (`SA_RESTART`). Where a system resets the
//! handler after one delivery, a second signal takes the default action and still
//! ends the process at once, which is what a second signal asks for.
//!
//! The signal numbers are the ones POSIX fixes for `kill -s` (XSI): 2, 9 and 15, the
//! same on every Unix.

#![allow(unsafe_code)]

use std::os::raw::c_int;
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};

/// `pid_t`: a C `int` on Linux, macOS and the BSDs.
type Pid = c_int;

/// `SIG_ERR`, what `signal` returns when it fails: `(void (*)(int)) -1`.
const SIG_ERR: usize = usize::MAX;

extern "C" {
    /// Installs `handler` for `signum`; returns the previous handler or `SIG_ERR`.
    fn signal(signum: c_int, handler: extern "C" fn(c_int)) -> usize;
    /// Sends `sig` to `pid`, or to the process group `-pid` when `pid` is negative;
    /// signal 0 sends nothing and only checks that the target exists. 0 on success.
    fn kill(pid: Pid, sig: c_int) -> c_int;
}

/// The signals the binary sends or handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// Ctrl-C at a terminal.
    Int = 2,
    /// Cannot be caught or ignored.
    Kill = 9,
    /// "Please stop": what service managers send first.
    Term = 15,
}

/// Stop signals received so far.
static RECEIVED: AtomicUsize = AtomicUsize::new(0);
/// The number of the last stop signal received.
static LAST: AtomicI32 = AtomicI32::new(0);

/// Runs on whichever thread the signal interrupted: atomics only.
extern "C" fn on_stop_signal(signum: c_int) {
    LAST.store(signum, Ordering::SeqCst);
    RECEIVED.fetch_add(1, Ordering::SeqCst);
}

/// Counts SIGINT and SIGTERM from now on instead of dying of them.
pub fn count_stop_signals() -> std::io::Result<()> {
    for signum in [Signal::Int, Signal::Term] {
        // SAFETY: `signal` is declared with the C prototype (int, void (*)(int)) ->
        // void (*)(int), a function pointer the size of usize. The handler is an
        // `extern "C" fn(c_int)` that lives as long as the program and does only
        // async-signal-safe work (two lock-free atomic operations).
        let previous = unsafe { signal(signum as c_int, on_stop_signal) };
        if previous == SIG_ERR {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// How many stop signals have arrived, and the number of the last one.
pub fn stop_signals() -> (usize, i32) {
    let count = RECEIVED.load(Ordering::SeqCst);
    (count, LAST.load(Ordering::SeqCst))
}

/// Sends `signal` to every process in the group `group`, or with `None` only checks
/// that the group still has a member (a zombie counts). Whether any process was
/// there to receive it.
pub fn signal_group(group: u32, signal: Option<Signal>) -> bool {
    let Ok(group) = Pid::try_from(group) else {
        return false;
    };
    if group <= 1 {
        // -1 would mean "every process we may signal", -0 our own group.
        return false;
    }
    let signum = signal.map_or(0, |s| s as c_int);
    // SAFETY: `kill` takes two ints and touches no memory of ours; a negative pid
    // names a process group (POSIX kill(2)), and `group > 1` rules out the special
    // targets 0 and -1.
    unsafe { kill(-group, signum) == 0 }
}
