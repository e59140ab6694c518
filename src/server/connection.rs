//! One connection on its own thread: the handshake, the handler, the last close
//! frame, the lingering close (RFC 6455 §7.1.1) and the log line.

use super::{lock, log, HandlerResult, Shared, SharedTcpStream};
use crate::error::Error;
use crate::handshake::{self, HandshakeError, Request, Upgraded};
use crate::http::{Head, Response};
use crate::message::CloseCode;
use crate::message_reader::Role;
use crate::socket::{close_if_open, CloseState, WebSocket, OVERLOADED};
use crate::tap::{FrameCallback, Tap};
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Reads from a TCP stream with one deadline for a whole exchange: each read may wait
/// only for the time that is left.
///
/// Setting the socket's read timeout is a system call, so it is set only when the one
/// the socket already has could outlast the deadline by more than [`SLACK`]: a new
/// connection starts with the listener's read timeout (the handshake's, or 2 s if
/// shorter, see `super::preset`), which fits the first read, and most handshakes
/// need only that one. A read that times out before the deadline is tried again
/// with the time that is left.
struct Deadline<'a> {
    stream: &'a TcpStream,
    until: Instant,
    /// The socket's read timeout, if known.
    timeout: Option<Duration>,
}

/// How far past its deadline a read may be allowed to wait rather than pay a system
/// call to shorten its timeout.
const SLACK: Duration = Duration::from_millis(50);

impl<'a> Deadline<'a> {
    fn new(stream: &'a TcpStream, until: Instant) -> Deadline<'a> {
        Deadline {
            stream,
            until,
            timeout: None,
        }
    }
}

impl Read for Deadline<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let now = Instant::now();
            let left = self.until.saturating_duration_since(now);
            if left.is_zero() {
                return Err(io::ErrorKind::TimedOut.into());
            }
            let fits = self
                .timeout
                .is_some_and(|timeout| now + timeout <= self.until + SLACK);
            if !fits {
                self.stream.set_read_timeout(Some(left))?;
                self.timeout = Some(left);
            }
            match self.stream.read(buf) {
                // A timeout set earlier than needed ran out before the deadline.
                Err(e) if is_timeout(&e) && Instant::now() < self.until => {
                    self.timeout = None;
                }
                other => return other,
            }
        }
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
    )
}

impl Write for Deadline<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.stream.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// One connection, registered for shutdown from its first byte to its end.
pub(super) fn serve(stream: TcpStream, peer: SocketAddr, shared: &Shared) {
    let stream = SharedTcpStream::new(stream);
    let slot = {
        // Registered under the lock, then the flag read: a shutdown either finds this
        // connection in the list or is seen here.
        let mut open = lock(&shared.open);
        if shared.shutting_down.load(Ordering::Acquire) {
            return;
        }
        open.register(stream.clone())
    };
    if let Some((upgraded, started)) = handshake_phase(&stream, peer, shared) {
        serve_upgraded(stream, peer, shared, started, upgraded);
    }
    lock(&shared.open).leave(slot);
}

/// One connection, from the first byte to the handshake's end: the upgraded request
/// and when the connection started, or `None` once a plain HTTP request was answered
/// or the handshake failed (both logged). The two phases run one after the other
/// from [`serve`], out of line: the deepest points of a connection's life are in the
/// handshake's parsing and below the handler, and if one frame held both phases'
/// locals, each would sit below the other's (one more stack page for every idle
/// connection).
#[inline(never)]
fn handshake_phase(
    stream: &SharedTcpStream,
    peer: SocketAddr,
    shared: &Shared,
) -> Option<(Box<Upgraded>, Instant)> {
    let started = Instant::now();
    let config = &shared.config;
    let mut deadline = Deadline::new(stream, started + config.handshake_timeout);
    if shared.preset {
        deadline.timeout = Some(config.handshake_timeout.min(super::IDLE_LIFETIME));
    } else {
        let _ = stream.set_nodelay(true);
        let _ = stream.set_write_timeout(Some(config.write_slice()));
    }
    let upgraded = match handshake::accept_with(&mut deadline, &shared.options, &*shared.admit) {
        Ok(u) => u,
        Err(HandshakeError::NotUpgrade(head)) => {
            if config.write_slice() != config.write_timeout {
                // A plain response (a file, say) is given the whole write timeout.
                let _ = stream.set_write_timeout(Some(config.write_timeout));
            }
            serve_plain(stream, &head, shared);
            log(
                shared,
                format_args!("{peer} {} {} http", head.method, head.target),
            );
            linger(stream, config.close_timeout);
            return None;
        }
        Err(e) => {
            log(shared, format_args!("{peer} handshake failed: {e}"));
            linger(stream, config.close_timeout);
            return None;
        }
    };
    // Boxed: the request lives as long as the connection, and on the heap it takes
    // no room in the frames below the handler.
    Some((Box::new(upgraded), started))
}

/// An upgraded connection, from its first frame to the log line. The request comes
/// boxed (see [`handshake_phase`]).
#[inline(never)]
#[allow(clippy::boxed_local)]
fn serve_upgraded(
    stream: SharedTcpStream,
    peer: SocketAddr,
    shared: &Shared,
    started: Instant,
    mut upgraded: Box<Upgraded>,
) {
    let config = &shared.config;
    let leftover = std::mem::take(&mut upgraded.leftover);
    upgraded.request.peer = Some(peer);
    let request = &upgraded.request;
    let _ = stream.set_read_timeout(config.ping_interval);

    let stream = match shared.taps.as_ref().and_then(|choose| choose(request)) {
        None => stream,
        Some(callback) => tapped(&stream, request, callback, &leftover),
    };
    let ws = open_websocket(&stream, request, leftover, shared);
    let close = ws.close_state_handle();
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| (shared.handler)(ws, request)));
    finish(&stream, peer, shared, started, request, &close, outcome);
}

/// The stream with a [`Tap`] watching its bytes, which has seen the bytes read past
/// the handshake. Out of line: a tap's two decoders are built on the stack before
/// they move to the heap, and inlined they would sit in [`serve_upgraded`]'s frame,
/// below the handler of every connection, tapped or not.
#[inline(never)]
fn tapped(
    stream: &SharedTcpStream,
    request: &Request,
    callback: Arc<FrameCallback>,
    leftover: &[u8],
) -> SharedTcpStream {
    let tap = Tap::new(request.variant, callback);
    tap.incoming(leftover);
    stream.with_tap(tap)
}

/// The connection as a [`WebSocket`] set up as the configuration says, starting with
/// the bytes read past the handshake.
fn open_websocket(
    stream: &SharedTcpStream,
    request: &Request,
    leftover: Vec<u8>,
    shared: &Shared,
) -> WebSocket<SharedTcpStream> {
    let config = &shared.config;
    let mut ws = WebSocket::with_limits(
        stream.clone(),
        request.variant,
        Role::Server,
        config.limits(),
        &leftover,
    );
    // Not kept while the connection is open.
    drop(leftover);
    ws.set_keepalive(config.ping_interval.is_some());
    ws.set_send_pace(config.send_pace());
    ws.set_share(shared.share());
    if let Some(params) = &request.deflate {
        ws.set_deflate(params);
    }
    ws
}

/// What the handler's end leaves to do: the server's close frame if none went (1000,
/// 1011, 1013 or 1001), the end of TCP, and the log line. Out of line: its locals
/// would otherwise sit in [`serve_upgraded`]'s frame, below the handler of every
/// connection.
#[inline(never)]
fn finish(
    stream: &SharedTcpStream,
    peer: SocketAddr,
    shared: &Shared,
    started: Instant,
    request: &Request,
    close: &Arc<CloseState>,
    outcome: std::thread::Result<HandlerResult>,
) {
    let config = &shared.config;
    let (code, reason) = match &outcome {
        _ if shared.shutting_down.load(Ordering::Acquire) => (
            Some(CloseCode::GOING_AWAY),
            "server shutting down".to_string(),
        ),
        Ok(Ok(())) => (Some(CloseCode::NORMAL), String::new()),
        Ok(Err(e)) => match e.downcast_ref::<Error>() {
            // The peer broke the protocol (already answered) or the connection is gone.
            Some(Error::Protocol(_) | Error::Closed | Error::Io(_)) => (None, e.to_string()),
            // Answered with 1013 already if the reader was refused; not yet if a
            // write was (the stream is on a frame boundary then).
            Some(Error::Overloaded(_)) => (Some(CloseCode::TRY_AGAIN_LATER), e.to_string()),
            _ => (
                Some(CloseCode::INTERNAL_ERROR),
                format!("handler error: {e}"),
            ),
        },
        Err(_) => (
            Some(CloseCode::INTERNAL_ERROR),
            "handler panicked".to_string(),
        ),
    };
    if let Some(code) = code {
        let reason_on_wire = match code {
            CloseCode::INTERNAL_ERROR => "internal error",
            CloseCode::TRY_AGAIN_LATER => OVERLOADED,
            _ => "",
        };
        let _ = close_if_open(
            &mut stream.clone(),
            request.variant,
            close,
            code,
            reason_on_wire,
        );
    }
    if close.sent().is_some() && close.received().is_some() {
        // Both close frames went: "the server MUST close the underlying TCP
        // connection immediately" (§5.5.1). The peer has nothing more to send, so no
        // unread byte can turn our FIN into a reset, and waiting for the peer's FIN
        // would only cost this thread another wake-up.
        let _ = stream.shutdown(Shutdown::Write);
    } else {
        linger(stream, config.close_timeout);
    }
    log(
        shared,
        format_args!(
            "{peer} {} {} closed sent={} received={} in {} ms{}",
            request.path(),
            request.variant,
            CloseSide(close.sent()),
            CloseSide(close.received()),
            // As u64, which lasts 584 million years: u128's Display alone would add
            // a kilobyte to the binary.
            started.elapsed().as_millis() as u64,
            if reason.is_empty() {
                String::new()
            } else {
                format!(" ({reason})")
            }
        ),
    );
}

/// One side of the close handshake in a log line: the code sent or received, `empty`
/// for a close frame without one, `-` where none went.
struct CloseSide(Option<Option<CloseCode>>);

impl std::fmt::Display for CloseSide {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            None => f.write_str("-"),
            Some(None) => f.write_str("empty"),
            Some(Some(code)) => std::fmt::Display::fmt(&code, f),
        }
    }
}

/// A plain HTTP request: GET and HEAD go to the HTTP handler, others get 405.
fn serve_plain(stream: &TcpStream, head: &Head, shared: &Shared) {
    let head_only = head.method == "HEAD";
    let response = if head.version >= (1, 1) && head.count("Host") != 1 {
        // RFC 9112 §3.2: an HTTP/1.1 request without exactly one Host gets 400.
        Response::error(400, "an HTTP/1.1 request needs exactly one Host header")
    } else if head.method == "GET" || head_only {
        let mut r = (shared.http)(head);
        if !r
            .headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("Connection"))
        {
            r.headers.push(("Connection".into(), "close".into()));
        }
        r
    } else {
        Response::error(405, "only GET and HEAD are served").header("Allow", "GET, HEAD")
    };
    let _ = response.write_to(&mut &*stream, head_only);
}

/// The end of every connection (RFC 6455 §7.1.1: the server closes TCP first):
/// send FIN, then read and discard until the peer closes too or `timeout` passes,
/// so the last frame is not lost to a reset caused by unread input.
fn linger(stream: &TcpStream, timeout: Duration) {
    let _ = stream.shutdown(Shutdown::Write);
    let until = Instant::now() + timeout;
    // Small: what is read here is thrown away, and a thread keeps every stack page it
    // has touched for the connections it serves next.
    let mut sink = [0u8; 512];
    let mut reader = Deadline::new(stream, until);
    while let Ok(n) = reader.read(&mut sink) {
        if n == 0 {
            break;
        }
    }
    let _ = stream.shutdown(Shutdown::Both);
}
