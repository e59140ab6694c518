//! The binary's log: one line per event on stderr, at the verbosity `-q` / `-v` chose.

use std::fmt;
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
        eprintln!("stdws: {line}");
    }

    /// A normal event (a program started, a client dropped): hidden by `-q`.
    pub fn info(self, line: fmt::Arguments<'_>) {
        if self.level >= 1 {
            eprintln!("stdws: {line}");
        }
    }

    /// Detail for `-v` (each program's exit status, stdin closed early).
    pub fn debug(self, line: fmt::Arguments<'_>) {
        if self.level >= 2 {
            eprintln!("stdws: {line}");
        }
    }
}

/// The client's address as log lines show it, or `?` when the server did not say.
pub fn peer(request: &Request) -> String {
    request
        .peer
        .map_or_else(|| "?".to_string(), |p| p.to_string())
}
