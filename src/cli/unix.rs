//! The binary's one module with `unsafe`: a POSIX call that the standard library
//! does not offer, declared here by hand because stdws takes no crate for it.
//!
//! `kill(2)` with a negative pid sends a signal to a whole process group, so that
//! ending an exec program also ends what it started in the background. std's
//! `Child::kill` reaches only the direct child.
//!
//! The signal numbers are the ones POSIX fixes for `kill -s` (XSI): 9 and 15, the
//! same on every Unix.

#![allow(unsafe_code)]

use std::os::raw::c_int;

/// `pid_t`: a C `int` on Linux, macOS and the BSDs.
type Pid = c_int;

extern "C" {
    /// Sends `sig` to `pid`, or to the process group `-pid` when `pid` is negative;
    /// signal 0 sends nothing and only checks that the target exists. 0 on success.
    fn kill(pid: Pid, sig: c_int) -> c_int;
}

/// The signals the binary sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// Cannot be caught or ignored.
    Kill = 9,
    /// "Please stop": what service managers send first.
    Term = 15,
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
