//! The server: a listener, one thread per connection, the limits in [`Config`], and
//! the end of every connection (last close frame, lingering close, log line).
//!
//! This is the only module that knows about sockets, threads and time; everything it
//! calls (HTTP, handshake, frames) works on any `Read + Write`.
//!
//! | file | its job |
//! |---|---|
//! | `mod.rs` | [`Server`], [`ServerHandle`]: accept, admit or refuse, shut down |
//! | `config.rs` | [`Config`]: every limit and its default |
//! | `connection.rs` | one connection from its first byte to its log line |
//! | `shared_stream.rs` | [`SharedTcpStream`]: one socket for reader, writer and shutdown |

mod config;
mod connection;
mod shared_stream;

pub use config::Config;
pub use shared_stream::SharedTcpStream;

use crate::budget::{Budget, Share};
use crate::handshake::{self, Rejection, Request, Variant};
use crate::http::{Head, Response};
use crate::socket::WebSocket;
use crate::tap::{FrameCallback, FrameEvent};
use connection::serve;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// What a connection handler returns: an error closes the connection with 1011.
pub type HandlerResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

type Handler = dyn Fn(WebSocket<SharedTcpStream>, &Request) -> HandlerResult + Send + Sync;
type HttpHandler = dyn Fn(&Head) -> Response + Send + Sync;
type Admission = dyn Fn(&Head, Variant) -> Result<(), Rejection> + Send + Sync;
type TapFactory = dyn Fn(&Request) -> Option<Arc<FrameCallback>> + Send + Sync;

/// State shared by the accept loop, every connection thread and the handle.
struct Shared {
    config: Config,
    options: handshake::Options,
    handler: Box<Handler>,
    http: Box<HttpHandler>,
    admit: Box<Admission>,
    taps: Option<Box<TapFactory>>,
    active: AtomicUsize,
    open: Mutex<OpenConnections>,
    shutting_down: AtomicBool,
    /// The listening socket. Every server thread that has no connection waits in its
    /// `accept` (see [`accept_loop`]).
    listener: TcpListener,
    /// Threads waiting in `accept`, or on their way there.
    acceptors: AtomicUsize,
    /// The bytes held for peers beyond their allowances, shared by every connection.
    budget: Arc<Budget>,
    /// Accepted sockets start with `TCP_NODELAY`, the handshake timeout for reads and
    /// the upgraded connection's write timeout, set once on the listener ([`preset`]).
    preset: bool,
}

impl Shared {
    /// A new connection's share of the memory budget.
    fn share(&self) -> Share {
        Share {
            account: self.budget.account(),
            allowance: self.config.memory_allowance,
            patience: self.config.memory_wait,
        }
    }
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
    taps: Option<Box<TapFactory>>,
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
            taps: None,
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
    pub fn on_frame<F>(self, hook: F) -> Server
    where
        F: Fn(SocketAddr, &FrameEvent) + Send + Sync + 'static,
    {
        let hook = Arc::new(hook);
        self.on_tap(move |request| {
            let (hook, peer) = (hook.clone(), request.peer?);
            Some(Arc::new(move |e: &FrameEvent| hook(peer, e)))
        })
    }

    /// Sets a choice, made once per upgraded connection from its request, of whether
    /// to watch its frames and with what: `Some(callback)` taps that connection
    /// ([`crate::tap`]), `None` leaves it untouched. [`Server::on_frame`] is the
    /// special case that watches every one; the `stdws` inspector page watches only
    /// the connection that presents its token. The last of the two calls wins.
    pub fn on_tap<F>(mut self, choose: F) -> Server
    where
        F: Fn(&Request) -> Option<Arc<FrameCallback>> + Send + Sync + 'static,
    {
        self.taps = Some(Box::new(choose));
        self
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until the process ends; this thread is the first to wait for
    /// connections (and serves some of them itself).
    pub fn run(self) -> io::Result<()> {
        let shared = self.into_shared();
        accept_loop(&shared);
        Ok(())
    }

    /// Serves on a background thread; the handle stops it.
    pub fn spawn(self) -> io::Result<ServerHandle> {
        let addr = self.local_addr()?;
        let shared = self.into_shared();
        start_acceptor(&shared, "stdws-accept")?;
        Ok(ServerHandle { shared, addr })
    }

    fn into_shared(self) -> Arc<Shared> {
        let (listener, preset) = preset(self.listener, &self.config);
        Arc::new(Shared {
            preset,
            listener,
            acceptors: AtomicUsize::new(1),
            options: self.config.handshake_options(),
            budget: Budget::new(self.config.memory_budget),
            config: self.config,
            handler: self.handler,
            http: self.http,
            admit: self.admit,
            taps: self.taps,
            active: AtomicUsize::new(0),
            open: Mutex::new(OpenConnections::default()),
            shutting_down: AtomicBool::new(false),
        })
    }
}

/// Sets, on the listening socket, the options every connection starts with: Linux
/// copies a listener's `TCP_NODELAY`, `SO_RCVTIMEO` and `SO_SNDTIMEO` into each socket
/// that `accept` returns, which spares every connection three system calls (a
/// handshake makes about a dozen). The read timeout is the handshake's, or
/// [`IDLE_LIFETIME`] if shorter (the handshake's first read fits in either); it also
/// makes `accept` return when no one has connected for that long, which is how a
/// thread without work finds out it may end. The write timeout is the upgraded
/// connection's.
///
/// std sets these options on streams only, so the listener is viewed as one for the
/// moment, through its file descriptor. Returns false (each connection then sets
/// its own) where the options are not known to be copied, or could not be set.
fn preset(listener: TcpListener, config: &Config) -> (TcpListener, bool) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::OwnedFd;
        let socket = TcpStream::from(OwnedFd::from(listener));
        let preset = socket.set_nodelay(true).is_ok()
            && socket
                .set_read_timeout(Some(config.handshake_timeout.min(IDLE_LIFETIME)))
                .is_ok()
            && socket.set_write_timeout(Some(config.write_slice())).is_ok();
        (TcpListener::from(OwnedFd::from(socket)), preset)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = config;
        (listener, false)
    }
}

/// Controls a server started with [`Server::spawn`].
pub struct ServerHandle {
    shared: Arc<Shared>,
    addr: SocketAddr,
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

    /// Bytes of the memory budget held now ([`Config::memory_budget`]).
    pub fn memory_used(&self) -> usize {
        self.shared.budget.used()
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
        stop_accepting(&self.shared, self.addr);
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

/// Stops every thread waiting in `accept` (each checks the shutdown flag when
/// `accept` returns) and closes the listener to new connections. On Linux, shutting
/// the listening socket down does both at once: blocked `accept` calls fail, and a
/// new connection is refused. Elsewhere, or if that fails, the waiting threads are
/// woken one connection at a time. Bounded: at most about 5 s.
fn stop_accepting(shared: &Shared, addr: SocketAddr) {
    #[cfg(target_os = "linux")]
    if let Ok(listener) = shared.listener.try_clone() {
        let socket = TcpStream::from(std::os::fd::OwnedFd::from(listener));
        let _ = socket.shutdown(Shutdown::Both);
    }
    let wake = match addr {
        SocketAddr::V4(a) if a.ip().is_unspecified() => {
            SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, a.port()))
        }
        SocketAddr::V6(a) if a.ip().is_unspecified() => {
            SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, a.port()))
        }
        other => other,
    };
    let waiting = || shared.acceptors.load(Ordering::Acquire);
    for _ in 0..50 {
        let waited = Instant::now();
        while waiting() > 0 && waited.elapsed() < Duration::from_millis(50) {
            thread::sleep(Duration::from_millis(1));
        }
        if waiting() == 0 {
            return;
        }
        let _ = TcpStream::connect_timeout(&wake, Duration::from_millis(50));
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

/// At most this many threads wait in `accept` at once; a thread finishing its
/// connection when this many already wait ends instead. Enough to absorb a burst of
/// short connections, small enough that the memory their stacks have touched stays
/// modest after a burst.
const MAX_IDLE: usize = 64;

/// A thread that has waited this long in `accept` with nothing coming ends, unless it
/// is the last one waiting: a server that goes quiet is back to one thread per open
/// connection, plus one, within about this time.
const IDLE_LIFETIME: Duration = Duration::from_secs(2);

/// What every server thread runs: wait in `accept`, serve the connection that comes
/// on this same thread, then wait again (leader and followers). The kernel hands each
/// new connection to one waiting thread, so a connection costs no hand-over between
/// threads (no lock, no wake-up of a second thread), and a thread is created only
/// when the last waiting one takes a connection. It is still one thread per
/// connection: a thread serves one at a time. Creating a thread costs more than a
/// handshake (`clone`, the guard page, the signal stack std maps for it and unmaps at
/// its end, which interrupts every other core to flush their page tables), so
/// threads are kept for the next connection rather than ended.
///
/// Where accepted sockets do not inherit the listener's read timeout ([`preset`]),
/// `accept` never times out, and waiting threads (at most [`MAX_IDLE`]) stay.
///
/// One consequence for handlers: a `thread_local!` value set while serving one
/// connection is still there when the same thread serves the next.
fn accept_loop(shared: &Arc<Shared>) {
    loop {
        let accepted = shared.listener.accept();
        if shared.shutting_down.load(Ordering::Acquire) {
            shared.acceptors.fetch_sub(1, Ordering::AcqRel);
            return;
        }
        match accepted {
            Ok((stream, peer)) => {
                if !serve_accepted(stream, peer, shared) {
                    return;
                }
            }
            // No one connected for a while ([`preset`]): end, unless the last.
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                let one_fewer =
                    shared
                        .acceptors
                        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                            (n > 1).then(|| n - 1)
                        });
                if one_fewer.is_ok() {
                    return;
                }
            }
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

/// Serves an accepted connection on this thread, after making sure another thread
/// waits in `accept` meanwhile; answers 503 at the cap instead (and when the system
/// refuses another thread: that is a cap too, only not ours). Returns whether this
/// thread goes back to `accept`.
fn serve_accepted(stream: TcpStream, peer: SocketAddr, shared: &Arc<Shared>) -> bool {
    let active = shared.active.fetch_add(1, Ordering::AcqRel);
    if active >= shared.config.max_connections {
        shared.active.fetch_sub(1, Ordering::AcqRel);
        refuse_busy(stream, peer, shared, "connection limit reached");
        return true;
    }
    let counted = Counted(&shared.active);
    if shared.acceptors.fetch_sub(1, Ordering::AcqRel) == 1 {
        // This was the last thread waiting: start the next one before serving.
        shared.acceptors.fetch_add(1, Ordering::AcqRel);
        if let Err(e) = start_acceptor(shared, "stdws-conn") {
            // This thread stays the one waiting, and the connection is refused.
            shared.acceptors.fetch_add(1, Ordering::AcqRel);
            drop(counted);
            log(shared, format_args!("{peer}: cannot start a thread: {e}"));
            refuse_busy(stream, peer, shared, "cannot start a thread");
            return true;
        }
    }
    serve(stream, peer, shared);
    drop(counted);
    if shared.shutting_down.load(Ordering::Acquire) {
        return false;
    }
    let waiting = shared.acceptors.fetch_add(1, Ordering::AcqRel);
    if waiting >= MAX_IDLE {
        shared.acceptors.fetch_sub(1, Ordering::AcqRel);
        return false;
    }
    true
}

/// Starts a thread that waits in `accept` (already counted in `acceptors`; the count
/// is given back if the thread cannot start).
fn start_acceptor(shared: &Arc<Shared>, name: &str) -> io::Result<()> {
    let thread_shared = shared.clone();
    // Boxed: `Builder::spawn` is generic over its closure, and every closure type
    // would compile std's thread start-up into the binary once more.
    let run: Box<dyn FnOnce() + Send> = Box::new(move || accept_loop(&thread_shared));
    let started = thread::Builder::new()
        .name(name.into())
        .stack_size(shared.config.stack_size)
        .spawn(run);
    if started.is_err() {
        shared.acceptors.fetch_sub(1, Ordering::AcqRel);
    }
    started.map(drop)
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

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn accepted_sockets_start_with_the_options_preset_on_the_listener() {
        let config = Config {
            handshake_timeout: Duration::from_millis(300),
            write_timeout: Duration::from_millis(700),
            ..Config::default()
        };
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let (listener, preset) = preset(listener, &config);
        assert!(preset);
        let _client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (accepted, _) = listener.accept().unwrap();
        assert!(accepted.nodelay().unwrap());
        assert_eq!(
            accepted.read_timeout().unwrap(),
            Some(config.handshake_timeout)
        );
        assert_eq!(
            accepted.write_timeout().unwrap(),
            Some(config.write_slice())
        );
        // With no one connecting, accept returns when the read timeout runs out (the
        // accept loop ignores that).
        let e = listener.accept().unwrap_err();
        assert!(matches!(
            e.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
        ));
    }
}
