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
//! - No `Sec-WebSocket-Extensions` in the answer: this client offers none
//!   ([`ClientError::BadExtension`]).
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

use crate::handshake::hixie76;
use crate::handshake::rfc6455::accept_key;
use crate::handshake::Variant;
use crate::http::{self, HeadError, HeadLimits, ResponseHead};
use crate::message_reader::{Limits, Role};
use crate::random::Random;
use crate::socket::WebSocket;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use std::fmt;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// The parts of a `ws://host[:port]/path` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    /// The host as written (IPv6 in brackets).
    pub host: String,
    /// The port (80 if none was given).
    pub port: u16,
    /// The resource: path and query, at least `/`.
    pub resource: String,
}

impl Url {
    /// Parses a `ws://` URL (RFC 6455 §3). `wss://` is refused: terminate TLS in front
    /// (see README). A fragment (`#...`), spaces and control characters are refused.
    ///
    /// ```
    /// let url = stdws::client::Url::parse("ws://[::1]:9001/chat?x=1").unwrap();
    /// assert_eq!((url.host.as_str(), url.port, url.resource.as_str()), ("[::1]", 9001, "/chat?x=1"));
    /// assert_eq!(stdws::client::Url::parse("ws://example.com").unwrap().resource, "/");
    /// assert!(stdws::client::Url::parse("wss://example.com/").is_err());
    /// assert!(stdws::client::Url::parse("ws://example.com/#top").is_err());
    /// ```
    pub fn parse(url: &str) -> Result<Url, ClientError> {
        let bad = |why: &str| ClientError::Url(format!("{url}: {why}"));
        if url.starts_with("wss://") {
            return Err(bad(
                "wss:// is not supported: terminate TLS in front (see README)",
            ));
        }
        let rest = url
            .strip_prefix("ws://")
            .ok_or_else(|| bad("only ws:// URLs are supported"))?;
        if rest.bytes().any(|b| b <= b' ' || b == 0x7F) {
            return Err(bad("spaces and control characters must be percent-encoded"));
        }
        // §3: "Fragment identifiers are meaningless in the context of WebSocket URIs".
        if rest.contains('#') {
            return Err(bad("a WebSocket URL has no fragment (#)"));
        }
        let (authority, resource) = match rest.find(['/', '?']) {
            Some(i) => (&rest[..i], rest[i..].to_string()),
            None => (rest, "/".to_string()),
        };
        let resource = if resource.starts_with('?') {
            format!("/{resource}")
        } else {
            resource
        };
        let (host, port) = match authority.rfind(':') {
            Some(i) if !authority[i..].contains(']') => {
                let port = authority[i + 1..].parse().map_err(|_| bad("bad port"))?;
                (&authority[..i], port)
            }
            _ => (authority, 80),
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        Ok(Url {
            host: host.to_string(),
            port,
            resource,
        })
    }

    /// The Host header value: host, plus the port unless it is 80.
    pub fn host_header(&self) -> String {
        if self.port == 80 {
            self.host.clone()
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

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
}

impl Default for ClientOptions {
    fn default() -> ClientOptions {
        ClientOptions {
            variant: Variant::Rfc6455,
            protocols: Vec::new(),
            origin: None,
            limits: Limits::default(),
            timeout: Duration::from_secs(10),
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
    /// The server answered with this status instead of 101.
    Status(u16),
    /// The 101 lacks `Upgrade: websocket` or `Connection: Upgrade`.
    NotUpgraded,
    /// `Sec-WebSocket-Accept` (or hixie-76's 16-byte answer) does not match our key.
    BadAccept,
    /// The server chose a subprotocol we did not offer.
    BadProtocol(String),
    /// The server answered an extension, though this client offers none (§4.1).
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
            ClientError::Status(s) => write!(f, "server answered {s} instead of 101"),
            ClientError::NotUpgraded => f.write_str("the 101 does not upgrade to websocket"),
            ClientError::BadAccept => {
                f.write_str("the server's accept value does not match our key")
            }
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
    let host = url.host.trim_start_matches('[').trim_end_matches(']');
    let stream = connect_tcp(host, url.port, options.timeout)?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(options.timeout))?;
    stream.set_write_timeout(Some(options.timeout))?;
    let connected = handshake(stream, &url, options)?;
    connected.socket.get_ref().set_read_timeout(None)?;
    Ok(connected)
}

fn connect_tcp(host: &str, port: u16, timeout: Duration) -> io::Result<TcpStream> {
    use std::net::ToSocketAddrs;
    let mut last = io::Error::new(io::ErrorKind::NotFound, "host has no address");
    for addr in (host, port).to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(s) => return Ok(s),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Runs the client side of the handshake on a stream that is already connected (a TCP
/// stream, a TLS stream, a Unix socket, or memory in tests), checking the answer as the
/// module docs list. Timeouts are the stream's own.
pub fn handshake<S: Read + Write>(
    mut stream: S,
    url: &Url,
    options: &ClientOptions,
) -> Result<Connected<S>, ClientError> {
    check_options(options)?;
    let mut random = Random::new();
    let mut request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\n",
        url.resource,
        url.host_header()
    );
    let expected: Expected = match options.variant {
        Variant::Rfc6455 => {
            let key = BASE64.encode(random.nonce());
            request.push_str(&format!(
                "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            ));
            Expected::Accept(accept_key(&key))
        }
        Variant::Hixie76 => {
            let (key1, n1) = hixie_key(&mut random);
            let (key2, n2) = hixie_key(&mut random);
            let key3 = random.next_u64().to_le_bytes();
            request.push_str(&format!(
                "Upgrade: WebSocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key1: {key1}\r\nSec-WebSocket-Key2: {key2}\r\n"
            ));
            if options.origin.is_none() {
                request.push_str("Origin: null\r\n");
            }
            Expected::Challenge(hixie76::challenge_response(n1, n2, &key3), key3)
        }
    };
    if let Some(origin) = &options.origin {
        request.push_str(&format!("Origin: {origin}\r\n"));
    }
    if !options.protocols.is_empty() {
        request.push_str(&format!(
            "Sec-WebSocket-Protocol: {}\r\n",
            options.protocols.join(", ")
        ));
    }
    request.push_str("\r\n");
    let mut bytes = request.into_bytes();
    if let Expected::Challenge(_, key3) = &expected {
        bytes.extend_from_slice(key3);
    }
    stream.write_all(&bytes)?;
    stream.flush()?;

    let limits = HeadLimits {
        max_bytes: 16 * 1024,
        max_headers: 100,
    };
    let (response, mut leftover) =
        http::read_response_head(&mut stream, limits).map_err(ClientError::Head)?;
    if response.status != 101 {
        return Err(ClientError::Status(response.status));
    }
    if !response.has_token("Upgrade", "websocket") || !response.has_token("Connection", "Upgrade") {
        return Err(ClientError::NotUpgraded);
    }
    match &expected {
        Expected::Accept(accept) => {
            if response.header("Sec-WebSocket-Accept").map(str::trim) != Some(accept.as_str()) {
                return Err(ClientError::BadAccept);
            }
        }
        Expected::Challenge(answer, _) => {
            let mut got = [0u8; 16];
            let have = leftover.len().min(16);
            got[..have].copy_from_slice(&leftover[..have]);
            if have < 16 {
                stream.read_exact(&mut got[have..])?;
            }
            leftover.drain(..have);
            if &got != answer {
                return Err(ClientError::BadAccept);
            }
        }
    }
    if let Some(extension) = response.header("Sec-WebSocket-Extensions") {
        return Err(ClientError::BadExtension(extension.trim().to_string()));
    }
    let protocol = response
        .header("Sec-WebSocket-Protocol")
        .map(|p| p.trim().to_string());
    if let Some(p) = &protocol {
        if !options.protocols.iter().any(|o| o == p) {
            return Err(ClientError::BadProtocol(p.clone()));
        }
    }
    let socket = WebSocket::with_limits(
        stream,
        options.variant,
        Role::Client,
        options.limits,
        &leftover,
    );
    Ok(Connected {
        socket,
        protocol,
        response,
    })
}

/// Refuses options that would put something other than a header value on the wire.
fn check_options(options: &ClientOptions) -> Result<(), ClientError> {
    // RFC 7230 §3.2.6: token = 1*tchar; the subprotocol list is "1#token" (§4.1).
    let tchar = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    for (i, p) in options.protocols.iter().enumerate() {
        if p.is_empty() || !p.bytes().all(tchar) {
            return Err(ClientError::BadOption(format!(
                "subprotocol {p:?} is not an HTTP token"
            )));
        }
        if options.protocols[..i].contains(p) {
            return Err(ClientError::BadOption(format!(
                "subprotocol {p:?} offered twice"
            )));
        }
    }
    if let Some(origin) = &options.origin {
        if origin.bytes().any(|b| b < b' ' || b == 0x7F) {
            return Err(ClientError::BadOption(format!(
                "origin {origin:?} holds control characters"
            )));
        }
    }
    Ok(())
}

enum Expected {
    Accept(String),
    Challenge([u8; 16], [u8; 8]),
}

/// A random hixie-76 key and its number (draft §4.1 steps 16–23): a quotient times a
/// count of spaces, with random non-digit characters and the spaces mixed in.
fn hixie_key(random: &mut Random) -> (String, u32) {
    let spaces = 1 + (random.next_u64() % 12) as u32;
    let max = u32::MAX / spaces;
    let number = (random.next_u64() % u64::from(max)) as u32;
    let mut key: Vec<char> = (number * spaces).to_string().chars().collect();
    let noise =
        b"!\"#$%&'()*+,-./:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~";
    for _ in 0..(1 + random.next_u64() % 12) {
        let c = noise[(random.next_u64() % noise.len() as u64) as usize] as char;
        let at = (random.next_u64() % (key.len() as u64 + 1)) as usize;
        key.insert(at, c);
    }
    for _ in 0..spaces {
        // Not first or last, so a server that trims the value counts every space.
        let at = 1 + (random.next_u64() % (key.len() as u64 - 1)) as usize;
        key.insert(at, ' ');
    }
    (key.into_iter().collect(), number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_hixie_keys_decode_to_their_numbers() {
        let mut random = Random::new();
        for _ in 0..2000 {
            let (key, number) = hixie_key(&mut random);
            assert_eq!(hixie76::key_number(&key), Ok(number), "{key:?}");
            assert!(!key.starts_with(' ') && !key.ends_with(' '));
        }
    }

    #[test]
    fn urls() {
        assert!(Url::parse("wss://x/").is_err());
        assert!(Url::parse("ws://:80/").is_err());
        assert!(Url::parse("ws://h:99999/").is_err());
        assert_eq!(Url::parse("ws://h?q").unwrap().resource, "/?q");
        assert_eq!(Url::parse("ws://h:8080/").unwrap().host_header(), "h:8080");
    }
}
