//! The server: a listener, one thread per connection, the limits in [`Config`], and
//! the end of every connection (last close frame, lingering close, log line).
//!
//! This is the only module that knows about sockets, threads and time; everything it
//! calls (HTTP, handshake, frames) works on any `Read + Write`.

use crate::error::Error;
use crate::handshake::{self, HandshakeError, OriginPolicy, Rejection, Request, Variant};
use crate::http::{Head, HeadLimits, Response};
use crate::message::CloseCode;
use crate::message_reader::{Limits, Role};
use crate::socket::{close_if_open, TryClone, WebSocket, WriteTimeout};
use crate::tap::{FrameEvent, Tap};
use crate::thread_cache::ThreadCache;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// Every limit and policy of the server, each with a safe default.
#[derive(Debug, Clone)]
pub struct Config {
    /// Most bytes in a request head (default 16 KiB; 431 beyond). Browsers send a few
    /// hundred bytes, more with cookies.
    pub max_head_bytes: usize,
    /// Most header lines in a request head (default 100; 431 beyond).
    pub max_headers: usize,
    /// Time for the whole handshake, head and hixie-76 key3 together (default 10 s,
    /// as websocketd). A client that dribbles its head is answered 408 and closed.
    pub handshake_timeout: Duration,
    /// Keepalive and idle timeout (default 60 s): after this long with no byte from
    /// the peer, an RFC 6455 connection is sent a ping (RFC 6455 §5.5.2); if another
    /// interval passes with still nothing (no pong, no data), the connection is
    /// dropped. hixie-76 has no ping, so a silent hixie-76 peer is dropped after two
    /// intervals. Any byte counts as a sign of life, so a busy client that never
    /// answers pings is never dropped; a long default leaves slow benchmarks alone.
    /// `None` waits for ever (a dead peer then holds its thread until the process ends).
    pub ping_interval: Option<Duration>,
    /// A send that cannot make progress for this long fails and the connection is
    /// dropped (default 30 s), so a client that stops reading never pins a thread for
    /// ever.
    pub write_timeout: Duration,
    /// Largest frame payload (default 16 MiB; close 1009 beyond).
    pub max_frame_size: usize,
    /// Largest message, all fragments together (default 64 MiB; close 1009 beyond).
    pub max_message_size: usize,
    /// Stack size of each connection thread (default 128 KiB). Only the pages a
    /// thread touches cost memory; raise it for handlers that recurse deeply.
    pub stack_size: usize,
    /// Most connections served at once (default 16384). One more is answered
    /// `503 Service Unavailable` with Retry-After and closed.
    pub max_connections: usize,
    /// Subprotocols the server speaks (default none).
    pub protocols: Vec<String>,
    /// Which origins may connect (default any).
    pub origin: OriginPolicy,
    /// After the last close frame, how long to wait for the peer to close its side
    /// before dropping the connection (default 2 s).
    pub close_timeout: Duration,
    /// Write one line per connection (and per error) to stderr (default true).
    pub log: bool,
}

impl Default for Config {
    fn default() -> Config {
        let limits = Limits::default();
        Config {
            max_head_bytes: 16 * 1024,
            max_headers: 100,
            handshake_timeout: Duration::from_secs(10),
            ping_interval: Some(Duration::from_secs(60)),
            write_timeout: Duration::from_secs(30),
            max_frame_size: limits.max_frame_size,
            max_message_size: limits.max_message_size,
            stack_size: 128 * 1024,
            max_connections: 16384,
            protocols: Vec::new(),
            origin: OriginPolicy::Any,
            close_timeout: Duration::from_secs(2),
            log: true,
        }
    }
}

impl Config {
    fn limits(&self) -> Limits {
        Limits {
            max_frame_size: self.max_frame_size,
            max_message_size: self.max_message_size,
        }
    }

    fn handshake_options(&self) -> handshake::Options {
        handshake::Options {
            protocols: self.protocols.clone(),
            origin: self.origin.clone(),
            head_limits: Some(HeadLimits {
                max_bytes: self.max_head_bytes,
                max_headers: self.max_headers,
            }),
        }
    }
}

/// A TCP connection shared by reference count: the reader, the writer and the
/// server's shutdown list all hold the same socket, with one file descriptor.
///
/// It may carry a [`Tap`] that watches the bytes pass (`--trace`); without one, the
/// only cost is one `Option` check per system call.
#[derive(Debug, Clone)]
pub struct SharedTcpStream(Arc<TcpStream>, Option<Arc<Tap>>);

impl SharedTcpStream {
    /// Wraps a stream.
    pub fn new(stream: TcpStream) -> SharedTcpStream {
        SharedTcpStream(Arc::new(stream), None)
    }

    /// Another handle on the same stream whose bytes, both ways, are shown to `tap`.
    pub fn with_tap(&self, tap: Tap) -> SharedTcpStream {
        SharedTcpStream(self.0.clone(), Some(Arc::new(tap)))
    }
}

impl std::ops::Deref for SharedTcpStream {
    type Target = TcpStream;
    fn deref(&self) -> &TcpStream {
        &self.0
    }
}

impl Read for SharedTcpStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = (&*self.0).read(buf)?;
        if let Some(tap) = &self.1 {
            tap.incoming(&buf[..n]);
        }
        Ok(n)
    }
}

impl Write for SharedTcpStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = (&*self.0).write(buf)?;
        if let Some(tap) = &self.1 {
            tap.outgoing(&buf[..n]);
        }
        Ok(n)
    }
    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        let n = (&*self.0).write_vectored(bufs)?;
        if let Some(tap) = &self.1 {
            let mut left = n;
            for b in bufs {
                let take = left.min(b.len());
                tap.outgoing(&b[..take]);
                left -= take;
            }
        }
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl WriteTimeout for SharedTcpStream {
    fn write_timeout(&self) -> io::Result<Option<Duration>> {
        self.0.write_timeout()
    }
    fn set_write_timeout(&self, limit: Option<Duration>) -> io::Result<()> {
        self.0.set_write_timeout(limit)
    }
}

impl TryClone for SharedTcpStream {
    fn try_clone(&self) -> io::Result<SharedTcpStream> {
        Ok(self.clone())
    }
}

/// What a connection handler returns: an error closes the connection with 1011.
pub type HandlerResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

type Handler = dyn Fn(WebSocket<SharedTcpStream>, &Request) -> HandlerResult + Send + Sync;
type HttpHandler = dyn Fn(&Head) -> Response + Send + Sync;
type Admission = dyn Fn(&Head, Variant) -> Result<(), Rejection> + Send + Sync;
type FrameHook = dyn Fn(SocketAddr, &FrameEvent) + Send + Sync;

/// State shared by the accept loop, every connection thread and the handle.
struct Shared {
    config: Config,
    options: handshake::Options,
    handler: Box<Handler>,
    http: Box<HttpHandler>,
    admit: Box<Admission>,
    frames: Option<Arc<FrameHook>>,
    active: AtomicUsize,
    open: Mutex<OpenConnections>,
    shutting_down: AtomicBool,
    /// Connection threads, reused: creating a thread costs more than a handshake.
    threads: ThreadCache,
}

/// The connections being served, so that a shutdown can reach them: one slot each,
/// reused once its connection has ended, so registering and leaving cost the same
/// with ten connections as with ten thousand. (No `HashMap`: it would bring its table
/// code and SipHash into the binary for this one use.)
#[derive(Default)]
struct OpenConnections {
    slots: Vec<Option<SharedTcpStream>>,
    /// The empty slots.
    free: Vec<usize>,
}

impl OpenConnections {
    /// Registers `stream`; the slot it gets is its ticket for [`leave`](Self::leave).
    fn register(&mut self, stream: SharedTcpStream) -> usize {
        match self.free.pop() {
            Some(slot) => {
                self.slots[slot] = Some(stream);
                slot
            }
            None => {
                self.slots.push(Some(stream));
                self.slots.len() - 1
            }
        }
    }

    fn leave(&mut self, slot: usize) {
        self.slots[slot] = None;
        self.free.push(slot);
    }

    fn streams(&self) -> impl Iterator<Item = &SharedTcpStream> {
        self.slots.iter().flatten()
    }
}

/// A WebSocket server, bound and ready to run.
///
/// ```
/// use stdws::{Config, Server};
/// use std::time::Duration;
/// let server = Server::bind("127.0.0.1:0", Config { log: false, ..Config::default() })?
///     .on_connection(|ws, _request| Ok(stdws::echo(ws)?))
///     .spawn()?; // or .run()? to serve on this thread for ever
/// let mut ws = stdws::client::connect(&format!("ws://{}/", server.local_addr()))?.socket;
/// ws.send(stdws::Message::binary(vec![0xFF; 3]))?;
/// assert_eq!(ws.read()?, stdws::Message::binary(vec![0xFF; 3]));
/// assert_eq!(server.active_connections(), 1);
/// drop(ws);
/// server.shutdown(Duration::from_secs(5));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Server {
    listener: TcpListener,
    config: Config,
    handler: Box<Handler>,
    http: Box<HttpHandler>,
    admit: Box<Admission>,
    frames: Option<Arc<FrameHook>>,
}

impl Server {
    /// Binds a listener. The default handler echoes; the default HTTP answer is 404.
    pub fn bind(addr: impl ToSocketAddrs, config: Config) -> io::Result<Server> {
        Ok(Server {
            listener: TcpListener::bind(addr)?,
            config,
            handler: Box::new(|ws, _| Ok(crate::echo::echo(ws)?)),
            http: Box::new(|_| Response::error(404, "not found")),
            admit: Box::new(|_, _| Ok(())),
            frames: None,
        })
    }

    /// Sets the handler that runs, on the connection's own thread, for each upgraded
    /// connection. When it returns the server sends a close frame if none was sent
    /// (1000 on `Ok`, 1011 on an error or a panic) and closes the connection.
    pub fn on_connection<F>(mut self, handler: F) -> Server
    where
        F: Fn(WebSocket<SharedTcpStream>, &Request) -> HandlerResult + Send + Sync + 'static,
    {
        self.handler = Box::new(handler);
        self
    }

    /// Sets the answer to plain GET and HEAD requests (no upgrade). Other methods get
    /// 405 without asking it.
    pub fn on_http<F>(mut self, http: F) -> Server
    where
        F: Fn(&Head) -> Response + Send + Sync + 'static,
    {
        self.http = Box::new(http);
        self
    }

    /// Sets a check that runs for every valid upgrade request before it is answered;
    /// a `Rejection` is sent instead of the 101 (for example 503 when a resource the
    /// handler needs is exhausted).
    pub fn on_upgrade<F>(mut self, admit: F) -> Server
    where
        F: Fn(&Head, Variant) -> Result<(), Rejection> + Send + Sync + 'static,
    {
        self.admit = Box::new(admit);
        self
    }

    /// Sets a hook that sees every frame of every upgraded connection, both ways, with
    /// the peer's address (`--trace`). Frames are read from the bytes as they pass
    /// ([`crate::tap`]); without a hook, nothing is decoded twice.
    pub fn on_frame<F>(mut self, hook: F) -> Server
    where
        F: Fn(SocketAddr, &FrameEvent) + Send + Sync + 'static,
    {
        self.frames = Some(Arc::new(hook));
        self
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until the process ends.
    pub fn run(self) -> io::Result<()> {
        let (listener, shared) = self.into_shared();
        accept_loop(&listener, &shared);
        Ok(())
    }

    /// Serves on a background thread; the handle stops it.
    pub fn spawn(self) -> io::Result<ServerHandle> {
        let addr = self.local_addr()?;
        let (listener, shared) = self.into_shared();
        let loop_shared = shared.clone();
        let thread = thread::Builder::new()
            .name("stdws-accept".into())
            .spawn(move || accept_loop(&listener, &loop_shared))?;
        Ok(ServerHandle {
            shared,
            addr,
            thread,
        })
    }

    fn into_shared(self) -> (TcpListener, Arc<Shared>) {
        let shared = Arc::new(Shared {
            options: self.config.handshake_options(),
            threads: ThreadCache::new(self.config.stack_size),
            config: self.config,
            handler: self.handler,
            http: self.http,
            admit: self.admit,
            frames: self.frames,
            active: AtomicUsize::new(0),
            open: Mutex::new(OpenConnections::default()),
            shutting_down: AtomicBool::new(false),
        });
        (self.listener, shared)
    }
}

/// Controls a server started with [`Server::spawn`].
pub struct ServerHandle {
    shared: Arc<Shared>,
    addr: SocketAddr,
    thread: JoinHandle<()>,
}

impl ServerHandle {
    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many connections are being served.
    pub fn active_connections(&self) -> usize {
        self.shared.active.load(Ordering::Acquire)
    }

    /// Stops the server and returns once every connection has ended, or soon after
    /// `grace` has passed:
    ///
    /// 1. stop accepting (the accept loop is woken out of `accept()` by a connection
    ///    of our own, so the listener closes at once);
    /// 2. end every connection's reading side: a handler blocked in a read sees the
    ///    end of the stream, returns, and its thread sends close 1001 "going away"
    ///    (hixie-76: 0xFF 0x00), RFC 6455 §7.4.1; handshakes in progress end unanswered;
    /// 3. wait up to `grace` for the connection threads to finish;
    /// 4. then close the stragglers' sockets outright, so a handler blocked writing to
    ///    a peer that stopped reading fails at once instead of at its write timeout,
    ///    and wait a last moment (at most 1 s) for those threads.
    pub fn shutdown(self, grace: Duration) {
        let deadline = Instant::now() + grace;
        self.shared.shutting_down.store(true, Ordering::Release);
        stop_accepting(self.addr, self.thread);
        for stream in lock(&self.shared.open).streams() {
            let _ = stream.shutdown(Shutdown::Read);
        }
        let active = || self.shared.active.load(Ordering::Acquire);
        while active() > 0 && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(5));
        }
        if active() == 0 {
            return;
        }
        for stream in lock(&self.shared.open).streams() {
            let _ = stream.shutdown(Shutdown::Both);
        }
        let last = Instant::now() + Duration::from_secs(1);
        while active() > 0 && Instant::now() < last {
            thread::sleep(Duration::from_millis(5));
        }
    }
}

/// Wakes the accept loop (which checks the shutdown flag after every `accept()`) by
/// connecting to it, retrying while it has not ended, then waits for it.
fn stop_accepting(addr: SocketAddr, accept_thread: JoinHandle<()>) {
    let wake = match addr {
        SocketAddr::V4(a) if a.ip().is_unspecified() => {
            SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, a.port()))
        }
        SocketAddr::V6(a) if a.ip().is_unspecified() => {
            SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, a.port()))
        }
        other => other,
    };
    for _ in 0..50 {
        if accept_thread.is_finished() {
            break;
        }
        let _ = TcpStream::connect_timeout(&wake, Duration::from_millis(200));
        let waited = Instant::now();
        while !accept_thread.is_finished() && waited.elapsed() < Duration::from_millis(100) {
            thread::sleep(Duration::from_millis(1));
        }
    }
    if accept_thread.is_finished() {
        let _ = accept_thread.join();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Writes one log line to stderr. The line is formatted first and written with one
/// call: stderr is unbuffered, so `eprintln!` would make a system call for every
/// formatted piece (a dozen for an address), and hold stderr's lock meanwhile.
fn log(shared: &Shared, line: std::fmt::Arguments<'_>) {
    if shared.config.log {
        let line = format!("stdws: {line}\n");
        let _ = io::stderr().write_all(line.as_bytes());
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    loop {
        let accepted = listener.accept();
        if shared.shutting_down.load(Ordering::Acquire) {
            return;
        }
        match accepted {
            Ok((stream, peer)) => admit(stream, peer, shared),
            Err(e) => {
                // Too many open files, out of memory, a connection reset before accept:
                // say so, pause so a persistent error cannot spin, and go on.
                log(
                    shared,
                    format_args!("accept failed: {e}; retrying in 100 ms"),
                );
                thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

/// Starts a thread for the connection, or answers 503 at the cap (and when the system
/// refuses another thread: that is a cap too, only not ours).
fn admit(stream: TcpStream, peer: SocketAddr, shared: &Arc<Shared>) {
    let active = shared.active.fetch_add(1, Ordering::AcqRel);
    if active >= shared.config.max_connections {
        shared.active.fetch_sub(1, Ordering::AcqRel);
        refuse_busy(stream, peer, shared, "connection limit reached");
        return;
    }
    // The stream waits here until the thread takes it, so it is still ours to answer
    // if the thread cannot start.
    let slot = Arc::new(Mutex::new(Some(stream)));
    let thread_slot = slot.clone();
    let thread_shared = shared.clone();
    let spawned = shared.threads.spawn(move || {
        let _counted = Counted(&thread_shared.active);
        if let Some(stream) = lock(&thread_slot).take() {
            serve(stream, peer, &thread_shared);
        }
    });
    if let Err(e) = spawned {
        shared.active.fetch_sub(1, Ordering::AcqRel);
        log(shared, format_args!("{peer}: cannot start a thread: {e}"));
        if let Some(stream) = lock(&slot).take() {
            refuse_busy(stream, peer, shared, "cannot start a thread");
        }
    }
}

/// One served connection in the count: given back when the thread ends, however it
/// ends, so the count can never creep towards the cap.
struct Counted<'a>(&'a AtomicUsize);

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// 503 with Retry-After, written without blocking the accept loop. Whatever of the
/// request has already arrived is read first: closing a socket with unread input
/// sends a reset, which could destroy the answer before the client reads it.
fn refuse_busy(stream: TcpStream, peer: SocketAddr, shared: &Shared, why: &str) {
    let response = Response::error(503, why).header("Retry-After", "1");
    let _ = stream.set_nonblocking(true);
    let mut sink = [0u8; 2048];
    let _ = (&stream).read(&mut sink);
    let _ = (&stream).write_all(&response.to_bytes(false));
    let _ = stream.shutdown(Shutdown::Write);
    log(shared, format_args!("{peer}: 503 {why}"));
}

/// Reads from a TCP stream with one deadline for a whole exchange: each read may wait
/// only for the time that is left.
struct Deadline<'a> {
    stream: &'a TcpStream,
    until: Instant,
}

impl Read for Deadline<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        self.stream.set_read_timeout(Some(left))?;
        self.stream.read(buf)
    }
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
fn serve(stream: TcpStream, peer: SocketAddr, shared: &Shared) {
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
    serve_registered(stream, peer, shared);
    lock(&shared.open).leave(slot);
}

/// One connection, from the first byte to the log line.
fn serve_registered(stream: SharedTcpStream, peer: SocketAddr, shared: &Shared) {
    let started = Instant::now();
    let config = &shared.config;
    let _ = stream.set_nodelay(true);
    let _ = stream.set_write_timeout(Some(config.write_timeout));
    let mut deadline = Deadline {
        stream: &stream,
        until: started + config.handshake_timeout,
    };
    let upgraded = match handshake::accept_with(&mut deadline, &shared.options, &*shared.admit) {
        Ok(u) => u,
        Err(HandshakeError::NotUpgrade(head)) => {
            serve_plain(&stream, &head, shared);
            log(
                shared,
                format_args!("{peer} {} {} http", head.method, head.target),
            );
            linger(&stream, config.close_timeout);
            return;
        }
        Err(e) => {
            log(shared, format_args!("{peer} handshake failed: {e}"));
            linger(&stream, config.close_timeout);
            return;
        }
    };
    let mut request = upgraded.request;
    request.peer = Some(peer);
    let _ = stream.set_read_timeout(config.ping_interval);

    let stream = match &shared.frames {
        None => stream,
        Some(hook) => {
            let hook = hook.clone();
            let tap = Tap::new(request.variant, Arc::new(move |e| hook(peer, e)));
            tap.incoming(&upgraded.leftover);
            stream.with_tap(tap)
        }
    };
    let mut ws = WebSocket::with_limits(
        stream.clone(),
        request.variant,
        Role::Server,
        config.limits(),
        &upgraded.leftover,
    );
    ws.set_keepalive(config.ping_interval.is_some());
    let close = ws.close_state_handle();
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| (shared.handler)(ws, &request)));

    let (code, reason) = match &outcome {
        _ if shared.shutting_down.load(Ordering::Acquire) => (
            Some(CloseCode::GOING_AWAY),
            "server shutting down".to_string(),
        ),
        Ok(Ok(())) => (Some(CloseCode::NORMAL), String::new()),
        Ok(Err(e)) => match e.downcast_ref::<Error>() {
            // The peer broke the protocol (already answered) or the connection is gone.
            Some(Error::Protocol(_) | Error::Closed | Error::Io(_)) => (None, e.to_string()),
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
        let reason_on_wire = if code == CloseCode::INTERNAL_ERROR {
            "internal error"
        } else {
            ""
        };
        let _ = close_if_open(
            &mut stream.clone(),
            request.variant,
            &close,
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
        linger(&stream, config.close_timeout);
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
    let mut sink = [0u8; 4096];
    let mut reader = Deadline { stream, until };
    while let Ok(n) = reader.read(&mut sink) {
        if n == 0 {
            break;
        }
    }
    let _ = stream.shutdown(Shutdown::Both);
}
