//! The `stdws` binary's pieces: arguments, the log, the inspector page, and the apps
//! each mode runs (exec, broadcast, static files), the client (`--connect`), plus
//! `--trace` output, stopping on signals, and the one way they start helper threads.
//!
//! [`unix`] is the binary's only module with `unsafe` (the crate root denies it
//! everywhere else): signal handlers and process-group kills, which std lacks.

pub mod args;
pub mod broadcast;
pub mod cgi_env;
pub mod closing;
pub mod connect;
pub mod exec;
pub mod inspect;
pub mod json;
pub mod log;
pub mod queue;
pub mod reap;
pub mod static_files;
pub mod stop;
pub mod trace;
#[cfg(unix)]
pub mod unix;

use std::io::{self, BufRead, Read};
use std::thread::{self, JoinHandle};

/// Starts a helper thread named `name`: a program's stdout or stderr relay, a room
/// member's writer.
///
/// The job is boxed so that every helper thread goes through this one function:
/// `thread::Builder::spawn` is generic over its closure, and each closure type would
/// compile the standard library's thread start-up once more into the binary.
pub fn spawn_named(name: &str, job: Box<dyn FnOnce() + Send>) -> io::Result<JoinHandle<()>> {
    thread::Builder::new().name(name.to_string()).spawn(job)
}

/// Appends the next line of `input` to `line`, its `\n` included, reading at most
/// `limit` bytes; the bytes read, 0 at the end of the input.
///
/// Every line the binary reads (stdin for `--connect`, a program's stdout and
/// stderr) goes through this one function and a `dyn BufRead`: `read_until` is
/// generic over its reader, and each reader type would compile it once more.
pub fn read_line(input: &mut dyn BufRead, limit: u64, line: &mut Vec<u8>) -> io::Result<usize> {
    input.take(limit).read_until(b'\n', line)
}

/// Bytes as lower-case hex, two digits each, nothing between.
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    push_hex(&mut s, bytes);
    s
}

/// Appends `bytes` to `out` as [`hex`] writes them.
pub fn push_hex(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
}
