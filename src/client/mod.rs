//! A blocking client: opens `ws://` URLs, speaks RFC 6455 (or hixie-76, for testing
//! old-protocol servers), and hands back the same [`WebSocket`] the server uses, in the
//! client role.
//!
//! ```
//! use stdws::client::{connect_with, ClientOptions};
//! use stdws::{Config, Message, Server};
//!
//! // A server on an ephemeral port that speaks the subprotocol "chat".
//! let config = Config { protocols: vec!["chat".into()], log: false, ..Config::default() };
//! let server = Server::bind("127.0.0.1:0", config)?.spawn()?;
//! let url = format!("ws://{}/room", server.local_addr());
//!
//! let options = ClientOptions { protocols: vec!["v2.chat".into(), "chat".into()], ..Default::default() };
//! let connected = connect_with(&url, &options)?;
//! assert_eq!(connected.protocol.as_deref(), Some("chat")); // one we offered
//! let mut ws = connected.socket;
//! ws.send(Message::text("hello"))?;
//! assert_eq!(ws.read()?, Message::text("hello"));
//! ws.close(stdws::CloseCode::NORMAL, "")?;
//! assert!(matches!(ws.read()?, Message::Close(Some(c)) if c.code == stdws::CloseCode::NORMAL));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## What the client checks (RFC 6455 §4.1)
//!
//! - A fresh `Sec-WebSocket-Key` for every connection: 16 random bytes, base64.
//! - The answer is `101`, with `Upgrade: websocket` and `Connection: Upgrade`.
//! - `Sec-WebSocket-Accept` equals base64(SHA-1(key ++ GUID)) for *our* key
//!   ([`ClientError::BadAccept`] otherwise), so a cached or misdirected answer fails.
//! - A `Sec-WebSocket-Protocol` in the answer is one of those offered
//!   ([`ClientError::BadProtocol`]); no answer is allowed (the server speaks none).
//! - No `Sec-WebSocket-Extensions` in the answer, unless permessage-deflate was
//!   offered ([`ClientOptions::deflate`]); then an answer must accept exactly that
//!   extension with parameters RFC 7692 §7.1 allows in an answer to
//!   `permessage-deflate; client_max_window_bits`
//!   ([`crate::deflate::extension::check_answer`]; [`ClientError::BadExtension`]
//!   otherwise).
//! - Every frame it sends is masked with a fresh 4-byte key (§5.3); frames the server
//!   sends masked fail the connection (1002).
//!
//! For hixie-76 it sends two random keys (a quotient times a count of spaces, with
//! noise characters mixed in) and 8 random bytes of key3, and compares the server's 16
//! bytes with the MD5 answer it computed itself.
//!
//! ## How randomness works
//!
//! No random-number crate: [`crate::random::Random`] hashes a counter with the
//! standard library's `RandomState`, whose SipHash keys come from the operating
//! system's random source (once per thread; each further `RandomState` on that thread
//! gets the keys plus one). Each connection builds its own generator, so its key and
//! its masks are unrelated to those of any other connection, and a peer that sees some
//! masks cannot compute the next without the keys. That is what masking needs: the
//! point of §10.3 is that script running in a browser cannot choose the bytes an
//! intermediary sees. It is not a general-purpose cryptographic generator; do not use
//! it for secrets.
//!
//! `wss://` is not spoken here: put TLS in front (the README shows nginx), or run the
//! handshake yourself over a TLS stream with [`handshake`].

mod opening;
mod url;

pub use opening::{Answer, Expected, Opening};
pub use url::Url;

use crate::deflate::Parameters;
use crate::handshake::Variant;
use crate::http::{HeadError, ResponseHead};
use crate::message_reader::{Limits, Role};
use crate::socket::WebSocket;
use std::fmt;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// How to open a connection.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// The protocol to speak (default RFC 6455).
    pub variant: Variant,
    /// Subprotocols to offer, in order of preference.
    pub protocols: Vec<String>,
    /// An Origin header to send, if any (hixie-76 always sends one: `null` if none).
    pub origin: Option<String>,
    /// Size limits for incoming messages.
    pub limits: Limits,
    /// Time allowed for connecting and for the server's answer (default 10 s).
    pub timeout: Duration,
    /// Extra header fields for the request (`Authorization`, a cookie, ...); names
    /// the handshake writes itself (`Host`, `Upgrade`, `Connection`, `Origin`,
    /// `Sec-WebSocket-*`) are refused with [`ClientError::BadOption`].
    pub headers: Vec<(String, String)>,
    /// Offer permessage-deflate (RFC 7692) as Chrome does,
    /// `permessage-deflate; client_max_window_bits` (default off; RFC 6455 only).
    pub deflate: bool,
}

impl Default for ClientOptions {
    fn default() -> ClientOptions {
        ClientOptions {
            variant: Variant::Rfc6455,
            protocols: Vec::new(),
            origin: None,
            limits: Limits::default(),
            timeout: Duration::from_secs(10),
            headers: Vec::new(),
            deflate: false,
        }
    }
}

/// Why a connection could not be opened.
#[derive(Debug)]
pub enum ClientError {
    /// The URL is not a `ws://` URL.
    Url(String),
    /// Connecting or the exchange failed.
    Io(io::Error),
    /// The server's answer was not a well-formed HTTP response.
    Head(HeadError),
    /// The server answered with this status instead of 101; the status line as
    /// received (`HTTP/1.1 403 Forbidden`).
    Status(u16, String),
    /// The 101 lacks `Upgrade: websocket` or `Connection: Upgrade`.
    NotUpgraded,
    /// `Sec-WebSocket-Accept` (or hixie-76's 16-byte answer) does not match our key:
    /// what the server sent instead (empty if nothing; hixie-76's bytes escaped).
    BadAccept(String),
    /// The server chose a subprotocol we did not offer.
    BadProtocol(String),
    /// The server answered an extension this client did not offer (RFC 6455 §4.1),
    /// or answered permessage-deflate with parameters it may not send (RFC 7692 §7.1).
    BadExtension(String),
    /// An option cannot be sent: a subprotocol that is not an HTTP token, a repeated
    /// subprotocol, or an origin with control characters.
    BadOption(String),
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Url(why) => write!(f, "bad URL: {why}"),
            ClientError::Io(e) => write!(f, "i/o error: {e}"),
            ClientError::Head(e) => write!(f, "bad answer: {e}"),
            ClientError::Status(_, line) => write!(f, "server answered {line:?}, not 101"),
            ClientError::NotUpgraded => f.write_str("the 101 does not upgrade to websocket"),
            ClientError::BadAccept(got) => write!(
                f,
                "the server's accept value {got:?} does not match our key"
            ),
            ClientError::BadProtocol(p) => write!(
                f,
                "the server chose subprotocol '{p}', which we did not offer"
            ),
            ClientError::BadExtension(e) => write!(
                f,
                "the server answered extension '{e}', which we did not offer"
            ),
            ClientError::BadOption(why) => write!(f, "bad option: {why}"),
        }
    }
}

impl std::error::Error for ClientError {}

impl From<io::Error> for ClientError {
    fn from(e: io::Error) -> ClientError {
        ClientError::Io(e)
    }
}

/// An open client connection and what the handshake settled.
#[derive(Debug)]
pub struct Connected<S> {
    /// The connection.
    pub socket: WebSocket<S>,
    /// The subprotocol the server chose, if any.
    pub protocol: Option<String>,
    /// The permessage-deflate parameters the server accepted, if it did.
    pub deflate: Option<Parameters>,
    /// The server's response head.
    pub response: ResponseHead,
}

/// Connects to a `ws://` URL with default options (RFC 6455, no subprotocol, 10 s to
/// connect and to be answered).
///
/// ```
/// let server = stdws::Server::bind("127.0.0.1:0", stdws::Config { log: false, ..Default::default() })?.spawn()?;
/// let mut ws = stdws::client::connect(&format!("ws://{}/", server.local_addr()))?.socket;
/// ws.send(stdws::Message::binary(vec![1, 2, 3]))?;
/// assert_eq!(ws.read()?, stdws::Message::binary(vec![1, 2, 3]));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn connect(url: &str) -> Result<Connected<TcpStream>, ClientError> {
    connect_with(url, &ClientOptions::default())
}

/// Connects to a `ws://` URL with `options`: TCP (with `TCP_NODELAY`), then the
/// handshake of [`handshake`]. Reads wait without limit once connected; writes keep
/// `options.timeout`.
///
/// ```
/// use stdws::client::{connect_with, ClientOptions};
/// use stdws::{Config, Message, Server, Variant};
/// let server = Server::bind("127.0.0.1:0", Config { log: false, ..Default::default() })?.spawn()?;
/// let options = ClientOptions { variant: Variant::Hixie76, ..Default::default() };
/// let mut ws = connect_with(&format!("ws://{}/old", server.local_addr()), &options)?.socket;
/// ws.send(Message::text("hixie-76 still works"))?;
/// assert_eq!(ws.read()?, Message::text("hixie-76 still works"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn connect_with(
    url: &str,
    options: &ClientOptions,
) -> Result<Connected<TcpStream>, ClientError> {
    let url = Url::parse(url)?;
    let stream = open_tcp(&url, options.timeout)?;
    let connected = handshake(stream, &url, options)?;
    connected.socket.get_ref().set_read_timeout(None)?;
    Ok(connected)
}

/// Opens the TCP connection for `url`: each of the host's addresses in turn, up to
/// `timeout` each, with `TCP_NODELAY` (a frame is sent whole or not at all) and
/// `timeout` for reads and writes, as the handshake wants.
pub fn open_tcp(url: &Url, timeout: Duration) -> io::Result<TcpStream> {
    use std::net::ToSocketAddrs;
    let host = url.host.trim_start_matches('[').trim_end_matches(']');
    let mut last = io::Error::new(io::ErrorKind::NotFound, "host has no address");
    for addr in (host, url.port).to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(stream) => {
                stream.set_nodelay(true)?;
                stream.set_read_timeout(Some(timeout))?;
                stream.set_write_timeout(Some(timeout))?;
                return Ok(stream);
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Runs the client side of the handshake on a stream that is already connected (a TCP
/// stream, a TLS stream, a Unix socket, or memory in tests), checking the answer as the
/// module docs list. Timeouts are the stream's own.
///
/// This is [`Opening::new`], the request written, and [`Opening::read_answer`]; call
/// those yourself to see each step.
pub fn handshake<S: Read + Write>(
    mut stream: S,
    url: &Url,
    options: &ClientOptions,
) -> Result<Connected<S>, ClientError> {
    let opening = Opening::new(url, options)?;
    stream.write_all(&opening.bytes())?;
    stream.flush()?;
    let answer = opening.read_answer(&mut stream, options)?;
    let mut socket = WebSocket::with_limits(
        stream,
        options.variant,
        Role::Client,
        options.limits,
        &answer.leftover,
    );
    if let Some(params) = &answer.deflate {
        socket.set_deflate(params);
    }
    Ok(Connected {
        socket,
        protocol: answer.protocol,
        deflate: answer.deflate,
        response: answer.response,
    })
}
