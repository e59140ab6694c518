//! Exec mode: one program per connection, as websocketd runs them. Each text message
//! becomes a line on the program's stdin; each line the program writes to stdout
//! becomes a text message, sent as soon as the line is complete; stderr goes to the
//! log. When the program's output ends, the connection closes with 1000; when the
//! client leaves, the program and everything it started are ended ([`super::reap`]:
//! stdin closed, `--closems`, SIGTERM and then SIGKILL to its process group) and it
//! is always waited for, so no process or zombie is left behind. When the server
//! stops, the client gets 1001 first and the program is ended the same way.
//!
//! With `--binary`, stdout is relayed as binary messages, a message per read, and
//! binary messages are written to stdin as they are. hixie-76 has no binary frames
//! (draft §4.2), so those sends fail with `Error::BinaryOnHixie76` and are logged.
//!
//! With `--passstderr`, stderr lines go to the client as well as to the log, and
//! every line of either stream is sent as a small JSON object naming its stream
//! ([`super::json`]); the connection then closes once both streams have ended.

use super::cgi_env;
use super::closing::{self, Signal};
use super::inspect::Inspector;
use super::log::{self, Log};
use super::{json, reap, spawn_named, stop};
use std::cell::Cell;
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use stdws::budget::Share;
use stdws::handshake::Rejection;
use stdws::http::Head;
use stdws::{
    CloseCode, Error, HandlerResult, MessageRef, Request, SharedTcpStream, Variant, WebSocket,
    Writer,
};

/// Largest piece of stdout sent as one binary message with `--binary`.
const BINARY_CHUNK: usize = 64 * 1024;

/// Lines shorter than this are copied to go to stdin with their newline in one
/// write; stdout lines are read in pieces of this size.
const LINE_COPY_MAX: usize = 64 * 1024;

/// The reason sent with 1013 when a line of the program's output could not be held.
const OVERLOADED_REASON: &str = "server memory budget exhausted; try again later";

/// Longest stderr line logged as one; a longer line is logged in pieces.
const STDERR_LINE_MAX: u64 = 4096;

/// How exec mode runs programs; shared by every connection.
#[derive(Debug)]
pub struct Exec {
    /// The program and its arguments.
    pub program: String,
    /// Arguments given after the program.
    pub args: Vec<String>,
    /// Parent variables passed on (`--passenv`).
    pub inherited: Vec<(String, OsString)>,
    /// Time a program has to exit once its stdin is closed (`--closems`).
    pub close_wait: Duration,
    /// Relay bytes as binary messages (`--binary`).
    pub binary: bool,
    /// Send stderr to the client too, every line tagged with its stream
    /// (`--passstderr`).
    pub pass_stderr: bool,
    /// Most programs running at once (`--maxforks`).
    pub max_forks: usize,
    /// Longest stdout line sent as one message; a longer one is sent in pieces.
    pub max_line: usize,
    /// The port the server listens on, for `SERVER_PORT`.
    pub server_port: u16,
    /// The log.
    pub log: Log,
    /// Programs running now.
    pub running: AtomicUsize,
}

/// A place under `--maxforks`, given back when dropped.
struct Slot<'a>(&'a AtomicUsize);

impl<'a> Slot<'a> {
    fn take(running: &'a AtomicUsize, max: usize) -> Option<Slot<'a>> {
        running
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()
            .map(|_| Slot(running))
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Exec {
    /// The admission check (`Server::on_upgrade`): at the cap, 503 with Retry-After
    /// before any 101 is sent.
    pub fn admit(&self, _head: &Head, _variant: Variant) -> Result<(), Rejection> {
        if self.running.load(Ordering::Acquire) >= self.max_forks {
            return Err(Rejection::new(503, "too many programs running; try again")
                .with_header("Retry-After", "1"));
        }
        Ok(())
    }

    /// Runs the program for one connection, until either side ends. The writer is
    /// lent to `inspector` meanwhile, should a page be watching the connection.
    pub fn serve(
        &self,
        mut ws: WebSocket<SharedTcpStream>,
        request: &Request,
        inspector: &Inspector,
    ) -> HandlerResult {
        let peer = log::peer(request);
        let Some(_slot) = Slot::take(&self.running, self.max_forks) else {
            // Another connection took the last place between admission and now.
            ws.close(CloseCode(1013), "too many programs running")?;
            return Ok(());
        };
        let tcp = ws.get_ref().clone();
        let share = ws.share().cloned();
        let (mut reader, writer) = ws.split()?;
        let _lent = inspector.attach(request, &writer);
        let mut child = match self.spawn(request) {
            Ok(c) => c,
            Err(e) => {
                self.log
                    .error(format_args!("{peer}: cannot start {}: {e}", self.program));
                return Err(e.into());
            }
        };
        self.log.debug(format_args!(
            "{peer}: started {} (pid {})",
            self.program,
            child.id()
        ));
        let stdin = child.stdin.take();
        let stderr_relay = child.stderr.take().and_then(|stderr| {
            let (log, label) = (self.log, format!("{peer} {}", self.program));
            let to_client = self.pass_stderr.then(|| writer.clone());
            let job = Box::new(move || relay_stderr(stderr, log, &label, to_client.as_ref()));
            spawn_named("stdws-stderr", job).ok()
        });
        // Only with --passstderr does the close wait for stderr to end as well.
        let stderr_relay = stderr_relay.filter(|_| self.pass_stderr);
        let (finished, reader_done) = Signal::new();
        let (relayed, relay_done) = Signal::new();
        let closer = writer.clone();
        let relay = Relay {
            writer,
            binary: self.binary,
            tagged: self.pass_stderr,
            max_line: self.max_line.max(1),
            share,
            log: self.log,
            peer: peer.clone(),
            warned: Cell::new(false),
        };
        let stdout = child.stdout.take();
        let relaying = spawn_named(
            "stdws-stdout",
            Box::new(move || {
                let overloaded = stdout.is_some_and(|stdout| relay.run(stdout));
                if let Some(stderr) = stderr_relay {
                    let _ = stderr.join();
                }
                // The program's output has ended: close, then give the client its
                // time to answer before the reader is unblocked.
                let _ = if overloaded {
                    relay
                        .writer
                        .close(CloseCode::TRY_AGAIN_LATER, OVERLOADED_REASON)
                } else {
                    close(&relay.writer)
                };
                closing::unblock_reader(&tcp, &finished);
                drop(relay_done);
            }),
        );
        // From here on, every path reaps the program.
        let outcome = match relaying {
            Ok(_) => self.feed_stdin(&mut reader, stdin, &peer),
            Err(e) => Err(e.into()),
        };
        drop(reader_done);
        if stop::stopping() {
            // The client hears 1001 now, not whenever the program's output ends.
            let _ = close(&closer);
        }
        self.reap(&mut child, &peer);
        // Once the program's group is gone nothing holds stdout open any more, so the
        // relay ends soon; the wait is bounded all the same.
        relayed.wait(closing::CLOSE_PATIENCE);
        outcome
    }

    fn spawn(&self, request: &Request) -> std::io::Result<Child> {
        let mut command = Command::new(&self.program);
        command.args(&self.args).env_clear();
        for (name, value) in &self.inherited {
            cgi_env::set(&mut command, name, value);
        }
        cgi_env::set_variables(&mut command, request, self.server_port);
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        reap::spawn(&mut command)
    }

    /// Writes each message to the program's stdin until the client closes or goes.
    fn feed_stdin(
        &self,
        reader: &mut stdws::Reader<SharedTcpStream>,
        stdin: Option<ChildStdin>,
        peer: &str,
    ) -> HandlerResult {
        let mut stdin = stdin;
        let mut line = Vec::new();
        loop {
            let (bytes, as_is) = match reader.read_ref() {
                Ok(MessageRef::Text(t)) => (t.as_bytes(), false),
                Ok(MessageRef::Binary(b)) => (b, self.binary),
                Ok(MessageRef::Ping(_) | MessageRef::Pong(_)) => continue,
                Ok(MessageRef::Close(_)) | Err(Error::Closed) => return Ok(()),
                // A protocol violation was answered already; a hang-up needs no answer.
                Err(Error::Protocol(_) | Error::Io(_)) => return Ok(()),
                Err(e) => return Err(e.into()),
            };
            let Some(pipe) = stdin.as_mut() else {
                continue;
            };
            let written = if as_is {
                pipe.write_all(bytes)
            } else if bytes.len() < LINE_COPY_MAX {
                // One write for the line and its end: the program sees it whole.
                line.clear();
                line.extend_from_slice(bytes);
                line.push(b'\n');
                pipe.write_all(&line)
            } else {
                // A long line is written from the message itself, not copied.
                pipe.write_all(bytes).and_then(|()| pipe.write_all(b"\n"))
            };
            if let Err(e) = written {
                // The program closed its stdin or ended; its output decides the rest.
                self.log
                    .debug(format_args!("{peer}: program's stdin closed: {e}"));
                stdin = None;
            }
        }
    }

    /// Ends the program and its process group, and waits for it.
    fn reap(&self, child: &mut Child, peer: &str) {
        match reap::end(child, self.close_wait) {
            (Ok(status), step) => self.log.debug(format_args!(
                "{peer}: {} {}: {status}",
                self.program,
                step.describe()
            )),
            (Err(e), _) => self.log.error(format_args!(
                "{peer}: cannot wait for {}: {e}",
                self.program
            )),
        }
    }
}

/// The server's last word from an exec connection: 1000 when the program's output
/// ended, 1001 when the server is stopping (RFC 6455 §7.4.1, "going away"; no reason,
/// as the library's own shutdown sends it). hixie-76 gets 0xFF 0x00 either way.
fn close(writer: &Writer<SharedTcpStream>) -> Result<(), Error> {
    if stop::stopping() {
        writer.close(CloseCode::GOING_AWAY, "")
    } else {
        writer.close(CloseCode::NORMAL, "")
    }
}

/// The program's stdout, relayed to the client.
struct Relay {
    writer: Writer<SharedTcpStream>,
    binary: bool,
    /// Each line as `{"stream":"stdout","data":...}` (`--passstderr`).
    tagged: bool,
    max_line: usize,
    /// The connection's share of the memory budget: a long line draws on it.
    share: Option<Share>,
    log: Log,
    peer: String,
    /// Whether the hixie-76 refusal of binary has been logged (once is enough).
    warned: Cell<bool>,
}

impl Relay {
    /// Relays until stdout ends or the client is gone; true if a line was refused
    /// by the memory budget (the connection then closes with 1013).
    fn run(&self, stdout: ChildStdout) -> bool {
        let result = if self.binary {
            self.chunks(stdout)
        } else {
            self.lines(stdout)
        };
        match &result {
            Err(e @ Error::Overloaded(_)) => self.log.info(format_args!(
                "{}: closing with 1013: a line of output: {e}",
                self.peer
            )),
            Err(e) => self
                .log
                .debug(format_args!("{}: stdout relay ended: {e}", self.peer)),
            Ok(()) => {}
        }
        matches!(result, Err(Error::Overloaded(_)))
    }

    /// Sends one message; a hixie-76 client refusing binary is logged, not fatal.
    fn send(&self, message: MessageRef<'_>) -> Result<(), Error> {
        match self.writer.send_ref(message) {
            Err(Error::BinaryOnHixie76) => {
                if !self.warned.replace(true) {
                    self.log.info(format_args!(
                        "{}: {}: binary output dropped",
                        self.peer,
                        Error::BinaryOnHixie76
                    ));
                }
                Ok(())
            }
            other => other,
        }
    }

    /// Text mode: each line, without its "\n" or "\r\n", as one text message, sent
    /// as soon as it is complete; a last line without "\n" when stdout ends.
    fn lines(&self, stdout: ChildStdout) -> Result<(), Error> {
        let mut input = BufReader::new(stdout);
        let mut line = Vec::new();
        loop {
            self.give_back(&mut line);
            if self.read_line(&mut input, &mut line)? == 0 {
                return Ok(());
            }
            if line.last() == Some(&b'\n') {
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
            }
            let text = String::from_utf8_lossy(&line);
            if matches!(text, std::borrow::Cow::Owned(_)) {
                self.log.info(format_args!(
                    "{}: program wrote invalid UTF-8; sent with U+FFFD in its place",
                    self.peer
                ));
            }
            if self.tagged {
                self.send(MessageRef::Text(&json::tagged("stdout", &text)))?;
            } else {
                self.send(MessageRef::Text(&text))?;
            }
        }
    }

    /// Reads one line of at most `max_line` bytes into `line`, a piece at a time, so
    /// that a long line's growth beyond the allowance is drawn from the budget as it
    /// happens (a program that writes 64 MiB without a newline waits, or fails with
    /// `Overloaded`, like any peer). The bytes read; 0 at the end of stdout.
    fn read_line(&self, input: &mut dyn BufRead, line: &mut Vec<u8>) -> Result<usize, Error> {
        loop {
            let held = line.capacity();
            let room = self.max_line - line.len();
            let n = super::read_line(input, room.min(LINE_COPY_MAX) as u64, line)?;
            if let Some(share) = &self.share {
                share.grow(held, line.capacity())?;
            }
            if n == 0 || line.last() == Some(&b'\n') || line.len() >= self.max_line {
                return Ok(line.len());
            }
        }
    }

    /// Empties `line` for the next one; a long line's buffer is freed and what it
    /// drew from the budget given back.
    fn give_back(&self, line: &mut Vec<u8>) {
        line.clear();
        let held = line.capacity();
        if held > LINE_COPY_MAX {
            *line = Vec::new();
            if let Some(share) = &self.share {
                share.shrink(held, 0);
            }
        }
    }

    /// Binary mode: whatever one read returns, as one binary message.
    fn chunks(&self, mut stdout: ChildStdout) -> Result<(), Error> {
        let mut buf = vec![0u8; BINARY_CHUNK];
        loop {
            let n = match stdout.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            };
            self.send(MessageRef::Binary(&buf[..n]))?;
        }
    }
}

/// A program's line as the log shows it: control characters (an escape sequence
/// that would recolour or rewrite an operator's terminal, a carriage return that
/// would hide the line before it) appear as `\u{..}` escapes; tabs stay.
struct Printable<'a>(&'a str);

impl std::fmt::Display for Printable<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for c in self.0.chars() {
            if c.is_control() && c != '\t' {
                write!(f, "\\u{{{:x}}}", u32::from(c))?;
            } else {
                std::fmt::Write::write_char(f, c)?;
            }
        }
        Ok(())
    }
}

/// The program's stderr, one log line per line; with `--passstderr` each line also
/// goes to the client, tagged as stderr.
fn relay_stderr(
    stderr: impl Read,
    log: Log,
    label: &str,
    to_client: Option<&Writer<SharedTcpStream>>,
) {
    let mut input = BufReader::new(stderr);
    let mut line = Vec::new();
    loop {
        line.clear();
        match super::read_line(&mut input, STDERR_LINE_MAX, &mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                let text = String::from_utf8_lossy(&line);
                let text = text.trim_end_matches(['\r', '\n']);
                log.info(format_args!("{label}: {}", Printable(text)));
                if let Some(writer) = to_client {
                    // A closed connection is no reason to stop logging.
                    let _ = writer.send_ref(MessageRef::Text(&json::tagged("stderr", text)));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Printable;

    #[test]
    fn control_characters_reach_the_log_escaped() {
        let line = "red \u{1b}[31mtext\u{1b}[0m\rover\tand tab, caf\u{e9}";
        assert_eq!(
            Printable(line).to_string(),
            "red \\u{1b}[31mtext\\u{1b}[0m\\u{d}over\tand tab, caf\u{e9}"
        );
    }
}
