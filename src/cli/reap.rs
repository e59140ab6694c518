//! Ending an exec program and everything it started, so a connection leaves nothing
//! behind.
//!
//! On Unix each program is started as the leader of a process group of its own
//! (`setpgid(0, 0)` in the child, through std's `CommandExt::process_group`), and
//! whatever it forks stays in that group unless it asks to leave. When the
//! connection ends:
//!
//! 1. its stdin is closed: a program that reads until end of input ends by itself;
//! 2. it has `close_wait` (`--closems`) to exit;
//! 3. SIGTERM goes to the whole group, which reaches a background grandchild too
//!    (`sh -c 'sleep 1000 & cat'`), even when the program itself has already exited;
//! 4. after at most `TERM_WAIT` (1 s), SIGKILL goes to whatever of the group is left,
//!    which cannot be ignored;
//! 5. the program is always waited for, so no zombie is left behind.
//!
//! The same runs on every connection when the server stops, and [`kill_all`] sends
//! SIGKILL to the groups still running when the binary exits.
//!
//! Limits: a descendant that starts a session or group of its own (`setsid`, a
//! daemon) leaves the group and is beyond reach, as it is for a shell's job control.
//! The group is named by the program's pid; once the program has been waited for,
//! a new process could in principle get that pid and make it its own group's id
//! before step 3. Pids are handed out in increasing order and wrap only after
//! `pid_max` more processes, so the window is the few milliseconds between the wait
//! and the signal.
//!
//! Elsewhere (no process groups) the program alone is killed after `close_wait`.

use std::io;
use std::process::{Child, Command, ExitStatus};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

/// How long a program's group has, after SIGTERM, before SIGKILL.
#[cfg(unix)]
pub const TERM_WAIT: Duration = Duration::from_secs(1);

/// How often an ending program is checked on.
const POLL: Duration = Duration::from_millis(5);

/// The process groups of the programs running now, for [`kill_all`]. (A `Vec`: it
/// holds at most `--maxforks` entries, and a `HashMap` would add its hashing code to
/// the binary for no measurable gain.)
static GROUPS: Mutex<Vec<u32>> = Mutex::new(Vec::new());

fn groups() -> std::sync::MutexGuard<'static, Vec<u32>> {
    GROUPS.lock().unwrap_or_else(|p| p.into_inner())
}

/// The last step that [`end`] needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Everything had exited by the end of `close_wait`.
    Exited,
    /// Everything exited after SIGTERM.
    #[cfg_attr(not(unix), allow(dead_code))]
    Terminated,
    /// Something was still running after [`TERM_WAIT`] and got SIGKILL.
    Killed,
}

impl Step {
    /// For the log.
    pub fn describe(self) -> &'static str {
        match self {
            Step::Exited => "exited",
            Step::Terminated => "ended by SIGTERM",
            Step::Killed => "killed",
        }
    }
}

/// Starts `command` in a process group of its own and registers the group.
pub fn spawn(command: &mut Command) -> io::Result<Child> {
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(command, 0);
    let child = command.spawn()?;
    groups().push(child.id());
    Ok(child)
}

/// Ends `child` and its group as the module docs describe; returns its exit status
/// (or why it could not be waited for) and the last step needed.
pub fn end(child: &mut Child, close_wait: Duration) -> (io::Result<ExitStatus>, Step) {
    drop(child.stdin.take());
    let mut status = wait_until(child, Instant::now() + close_wait, || true);
    let step = stop_group(child, &mut status);
    let status = match status {
        Some(s) => Ok(s),
        None => {
            // Outside the group (it left it, or there are no groups here): this
            // process alone.
            let _ = child.kill();
            child.wait()
        }
    };
    let id = child.id();
    groups().retain(|&g| g != id);
    (status, step)
}

/// Polls `child` until it has exited and `settled()` holds, or `deadline` passes;
/// its exit status once it has one.
fn wait_until(
    child: &mut Child,
    deadline: Instant,
    settled: impl Fn() -> bool,
) -> Option<ExitStatus> {
    let mut status = None;
    loop {
        if status.is_none() {
            status = child.try_wait().ok().flatten();
        }
        if (status.is_some() && settled()) || Instant::now() >= deadline {
            return status;
        }
        thread::sleep(POLL);
    }
}

/// Steps 3 and 4: SIGTERM to the group, SIGKILL to what is left of it.
#[cfg(unix)]
fn stop_group(child: &mut Child, status: &mut Option<ExitStatus>) -> Step {
    use super::unix::{signal_group, Signal};
    let group = child.id();
    if !signal_group(group, Some(Signal::Term)) {
        // Nothing left in the group: the program exited in time (or left the group,
        // and [`end`] kills it alone).
        return if status.is_some() {
            Step::Exited
        } else {
            Step::Killed
        };
    }
    let gone = || !signal_group(group, None);
    let waited = wait_until(child, Instant::now() + TERM_WAIT, gone);
    *status = status.or(waited);
    if status.is_some() && gone() {
        return Step::Terminated;
    }
    signal_group(group, Some(Signal::Kill));
    Step::Killed
}

#[cfg(not(unix))]
fn stop_group(_child: &mut Child, status: &mut Option<ExitStatus>) -> Step {
    if status.is_some() {
        Step::Exited
    } else {
        Step::Killed
    }
}

/// SIGKILL to every program's group still registered: the binary is about to exit
/// and cannot wait for them any longer. Their connection threads, if still running,
/// then reap them.
#[cfg(unix)]
pub fn kill_all() {
    for &group in groups().iter() {
        super::unix::signal_group(group, Some(super::unix::Signal::Kill));
    }
}
