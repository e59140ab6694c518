//! `stdws --connect URL` (`-c URL`): the library's client on the command line.
//!
//! Each line of stdin is sent as a text message (`--binary`: each read of stdin as a
//! binary message); each message received is written to stdout, text as a line,
//! binary as its bytes (or as a line of hex with `--hex`). A server that closes
//! first is answered by the library, and the client ends too.
//!
//! When stdin ends, the replies still to come must not be lost. Sending close at
//! once is not enough: a server answers a close "as soon as practical" (RFC 6455
//! §5.5.1) and sends no data after it, so many (Python `websockets`, stdws's own
//! exec mode) drop every reply their application had not yet written. So the
//! client first makes sure the server has read all it sent: a ping, whose pong
//! comes only once everything before it was read (hixie-76 has no ping). Then it
//! waits until nothing has arrived for `--lingerms`, sends close 1000, and keeps
//! printing until the server's close arrives (§7.1.2).
//!
//! Exit status: 0 after a clean close (both close frames exchanged, the server's
//! code 1000 or none); 1 with a one-line reason for anything else, including a
//! refused handshake, whose status line is printed; 2 for an unusable command line.
//!
//! `--trace` tells the client's side of the handshake: the request as sent, the
//! nonce and the derivation of the accept value it calls for (the functions
//! `--explain` prints with), the answer as received, then one line per frame in
//! each direction with its masking key, from the library's tap.

use super::args::Args;
use super::log::write_line;
use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use stdws::client::{self, ClientOptions, Expected, Opening, Url};
use stdws::tap::{FrameEvent, Tap};
use stdws::{
    CloseCode, Error, Limits, MessageRef, Role, SharedTcpStream, Variant, WebSocket, Writer,
};

/// How long the server gets to answer our close before the client gives up, and
/// our ping at the end of input before the client closes anyway.
const CLOSE_WAIT: Duration = Duration::from_secs(10);

/// How long connecting and the server's answer may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// What the stdin side ended with, for the exit status, and what the receiving side
/// has heard, for the moment to close.
#[derive(Default)]
struct Sending {
    /// A reason the session failed on our side (stdin not UTF-8, stdin unreadable).
    failure: Mutex<Option<String>>,
    /// Our close went and no answer came in [`CLOSE_WAIT`].
    gave_up: AtomicBool,
    heard: Mutex<Heard>,
    news: Condvar,
}

/// When a message last arrived, and how many pongs have.
#[derive(Default)]
struct Heard {
    last: Option<Instant>,
    pongs: u32,
}

impl Sending {
    fn heard(&self) -> MutexGuard<'_, Heard> {
        self.heard.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The receiving side got a message (or a pong).
    fn arrived(&self, pong: bool) {
        let mut heard = self.heard();
        heard.last = Some(Instant::now());
        heard.pongs += u32::from(pong);
        self.news.notify_all();
    }

    /// Waits until the server has read everything sent (RFC 6455: the pong to a
    /// ping sent now; at most [`CLOSE_WAIT`]) and then sent nothing for `quiet`.
    fn settle(&self, writer: &Writer<SharedTcpStream>, quiet: Duration) {
        let wait = |heard, left| {
            let woken = self.news.wait_timeout(heard, left);
            woken.map_or_else(|p| p.into_inner().0, |(heard, _)| heard)
        };
        let mut heard = self.heard();
        if writer.variant() == Variant::Rfc6455 {
            let before = heard.pongs;
            drop(heard);
            let _ = writer.send_ref(MessageRef::Ping(b"stdws: end of input"));
            heard = self.heard();
            let until = Instant::now() + CLOSE_WAIT;
            while heard.pongs == before && Instant::now() < until {
                heard = wait(heard, until.saturating_duration_since(Instant::now()));
            }
        }
        let mut since = Instant::now();
        loop {
            since = heard.last.map_or(since, |last| last.max(since));
            match quiet.checked_sub(since.elapsed()) {
                Some(left) if !left.is_zero() => heard = wait(heard, left),
                _ => return,
            }
        }
    }
}

/// Runs the client for `url`; the exit status as the module docs say.
pub fn run(args: &Args, url: &str) -> ExitCode {
    let fail = |why: std::fmt::Arguments<'_>| {
        write_line(why);
        ExitCode::FAILURE
    };
    let url = match Url::parse(url) {
        Ok(u) => u,
        Err(e) => {
            write_line(format_args!("{e}"));
            return ExitCode::from(2);
        }
    };
    let variant = if args.hixie76 {
        Variant::Hixie76
    } else {
        Variant::Rfc6455
    };
    let options = ClientOptions {
        variant,
        protocols: args.protocols.clone(),
        origin: args.origins.first().cloned(),
        headers: args.headers.clone(),
        timeout: HANDSHAKE_TIMEOUT,
        deflate: args.deflate,
        ..ClientOptions::default()
    };
    let opening = match Opening::new(&url, &options) {
        Ok(o) => o,
        Err(e) => {
            write_line(format_args!("{e}"));
            return ExitCode::from(2);
        }
    };
    if args.trace {
        trace_opening(&opening);
    }
    let target = format!("{}:{}", url.host, url.port);
    let tcp = match client::open_tcp(&url, options.timeout) {
        Ok(t) => t,
        Err(e) => return fail(format_args!("cannot connect to {target}: {e}")),
    };
    if let Err(e) = (&tcp).write_all(&opening.bytes()) {
        return fail(format_args!("cannot send the handshake to {target}: {e}"));
    }
    let answer = match opening.read_answer(&mut &tcp, &options) {
        Ok(a) => a,
        Err(client::ClientError::Status(_, line)) => {
            return fail(format_args!("handshake refused: {line}"))
        }
        Err(e) => return fail(format_args!("handshake failed: {e}")),
    };
    if args.trace {
        trace_answer(&answer.response);
    }
    let _ = tcp.set_read_timeout(None);
    let tcp = SharedTcpStream::new(tcp);
    let stream = if args.trace {
        let tap = Tap::new(variant, Arc::new(trace_frame));
        tap.incoming(&answer.leftover);
        tcp.with_tap(tap)
    } else {
        tcp.clone()
    };
    let mut ws = WebSocket::with_limits(
        stream,
        variant,
        Role::Client,
        Limits::default(),
        &answer.leftover,
    );
    if let Some(params) = &answer.deflate {
        ws.set_deflate(params);
    }
    let (reader, writer) = match ws.split() {
        Ok(halves) => halves,
        Err(e) => return fail(format_args!("{e}")),
    };
    let sending = Arc::new(Sending::default());
    let job = {
        let (sending, binary) = (sending.clone(), args.binary);
        let quiet = Duration::from_millis(args.linger_ms);
        Box::new(move || {
            send_stdin(&writer, binary, &sending);
            sending.settle(&writer, quiet);
            let _ = writer.close(CloseCode::NORMAL, "");
            // Until the server's close arrives, or for CLOSE_WAIT: then the reader is
            // ended, since the process exits as soon as it returns.
            std::thread::sleep(CLOSE_WAIT);
            sending.gave_up.store(true, Ordering::Release);
            let _ = tcp.shutdown(Shutdown::Both);
        })
    };
    if let Err(e) = super::spawn_named("stdws-stdin", job) {
        return fail(format_args!("cannot start the stdin thread: {e}"));
    }
    match receive(reader, args.hex, &sending) {
        Err(why) if sending.gave_up.load(Ordering::Acquire) => fail(format_args!(
            "no close from the server within {} s ({why})",
            CLOSE_WAIT.as_secs()
        )),
        Err(why) => fail(format_args!("{why}")),
        Ok(()) => match sending
            .failure
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            Some(why) => fail(format_args!("{why}")),
            None => ExitCode::SUCCESS,
        },
    }
}

/// Sends stdin until it ends (or the connection fails): lines as text messages, or
/// each read as a binary message.
fn send_stdin(writer: &Writer<SharedTcpStream>, binary: bool, sending: &Sending) {
    let stdin = io::stdin();
    let mut stdin = stdin.lock();
    let fail = |why: String| *sending.failure.lock().unwrap_or_else(|p| p.into_inner()) = Some(why);
    if binary {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match stdin.read(&mut buf) {
                Ok(0) => return,
                Ok(n) => {
                    if writer.send_ref(MessageRef::Binary(&buf[..n])).is_err() {
                        return;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return fail(format!("cannot read stdin: {e}")),
            }
        }
    }
    let mut line = Vec::new();
    for number in 1.. {
        line.clear();
        match super::read_line(&mut stdin, u64::MAX, &mut line) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) => return fail(format!("cannot read stdin: {e}")),
        }
        if line.last() == Some(&b'\n') {
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
        }
        let Ok(text) = std::str::from_utf8(&line) else {
            return fail(format!(
                "stdin line {number} is not UTF-8, so it cannot be a text message (try --binary)"
            ));
        };
        if writer.send_ref(MessageRef::Text(text)).is_err() {
            return;
        }
    }
}

/// Prints every message until the server's close: `Ok` for a clean close, the
/// reason otherwise.
fn receive(
    mut reader: stdws::Reader<SharedTcpStream>,
    hex: bool,
    sending: &Sending,
) -> Result<(), String> {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    loop {
        let written = match reader.read_ref() {
            Ok(MessageRef::Text(t)) => out
                .write_all(t.as_bytes())
                .and_then(|()| out.write_all(b"\n")),
            Ok(MessageRef::Binary(b)) if hex => out
                .write_all(super::hex(b).as_bytes())
                .and_then(|()| out.write_all(b"\n")),
            Ok(MessageRef::Binary(b)) => out.write_all(b),
            Ok(MessageRef::Ping(_)) => Ok(()),
            Ok(MessageRef::Pong(_)) => {
                sending.arrived(true);
                Ok(())
            }
            Ok(MessageRef::Close(None)) => return Ok(()),
            Ok(MessageRef::Close(Some((code, reason)))) => {
                return if code == CloseCode::NORMAL {
                    Ok(())
                } else {
                    Err(format!(
                        "the server closed with {code} ({}){}{reason}",
                        code.meaning(),
                        if reason.is_empty() { "" } else { ": " }
                    ))
                };
            }
            Err(Error::Closed) => return Ok(()),
            Err(Error::Protocol(v)) => return Err(format!("the server broke the protocol: {v}")),
            Err(e) => return Err(format!("connection lost before the server's close: {e}")),
        };
        if let Err(e) = written.and_then(|()| out.flush()) {
            return Err(format!("cannot write to stdout: {e}"));
        }
        sending.arrived(false);
    }
}

/// The request about to be sent, and how the answer it calls for is derived.
fn trace_opening(opening: &Opening) {
    for line in opening.head.lines().filter(|l| !l.is_empty()) {
        write_line(format_args!("trace > {line}"));
    }
    let explanation = match &opening.expected {
        Expected::Accept { nonce, key, .. } => {
            write_line(format_args!(
                "trace nonce: 16 random bytes {}, sent as Sec-WebSocket-Key {key}",
                super::hex(nonce)
            ));
            stdws::explain::rfc6455(key)
        }
        Expected::Challenge {
            key1, key2, key3, ..
        } => stdws::explain::hixie76(key1, key2, key3),
    };
    write_line(format_args!("trace the answer it calls for:"));
    for line in explanation.to_string().lines() {
        write_line(format_args!("trace {line}"));
    }
    if let Expected::Accept { accept, .. } = &opening.expected {
        write_line(format_args!("trace expected accept: {accept}"));
    }
}

/// The answer as received; it has passed every check by now.
fn trace_answer(response: &stdws::http::ResponseHead) {
    write_line(format_args!("trace < {}", response.status_line));
    for h in &response.headers {
        write_line(format_args!("trace < {}: {}", h.name, h.value));
    }
    match response.header("Sec-WebSocket-Accept") {
        Some(got) => write_line(format_args!("trace received accept: {got} (matches)")),
        None => write_line(format_args!(
            "trace received the 16-byte answer after the head (matches)"
        )),
    }
}

fn trace_frame(event: &FrameEvent) {
    write_line(format_args!("trace frame {event}"));
}
