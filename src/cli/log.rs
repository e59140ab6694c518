//! The binary's log: one line per event on stderr, at the verbosity `-q` / `-v` chose.

use std::fmt;
use std::io::{self, Write};
use stdws::Request;

/// Where log lines go and how many: 0 errors only (`-q`), 1 normal, 2 verbose (`-v`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Log {
    /// The verbosity.
    pub level: u8,
}

impl Log {
    /// Something failed: always shown.
    pub fn error(self, line: fmt::Arguments<'_>) {
        write_line(line);
    }

    /// A normal event (a program started, a client dropped): hidden by `-q`.
    pub fn info(self, line: fmt::Arguments<'_>) {
        if self.level >= 1 {
            write_line(line);
        }
    }

    /// Detail for `-v` (each program's exit status, stdin closed early).
    pub fn debug(self, line: fmt::Arguments<'_>) {
        if self.level >= 2 {
            write_line(line);
        }
    }
}

/// Writes `stdws: ` and `line` to stderr with one call, as the server's own log
/// lines are written: stderr is unbuffered, so `eprintln!` would make a system call
/// for every formatted piece. A failed write is ignored: there is nowhere left to say so.
pub fn write_line(line: fmt::Arguments<'_>) {
    let line = format!("stdws: {line}\n");
    let _ = io::stderr().write_all(line.as_bytes());
}

/// The client's address as log lines show it, or `?` when the server did not say.
/// (`format!`, not `to_string`, which would compile the generic `ToString` once
/// more for `SocketAddr`.)
pub fn peer(request: &Request) -> String {
    request
        .peer
        .map_or_else(|| "?".to_string(), |p| format!("{p}"))
}
