//! The opening handshake: telling RFC 6455 from hixie-76, the rules both share
//! (method, Host, Upgrade, Connection, Origin, subprotocol), and the answers.
//!
//! A request with `Sec-WebSocket-Key` is RFC 6455 ([`rfc6455`]); one with
//! `Sec-WebSocket-Key1`/`Key2` is hixie-76 ([`hixie76`]). A request that asks to
//! upgrade (an `Upgrade` header naming `websocket`, or any `Sec-WebSocket-*` header) but
//! fits neither gets a 400 with a one-line reason. A request that does not ask to
//! upgrade is plain HTTP, left to the caller.

pub mod hixie76;
pub mod rfc6455;

use crate::deflate::extension::{self, ServerPreferences};
use crate::deflate::Parameters;
use crate::http::{self, Head, HeadError, HeadLimits, Response};
use std::fmt;
use std::io::{self, Read, Write};
use std::net::SocketAddr;

/// The two protocols a client may speak after the handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Variant {
    /// RFC 6455 (2011), what every current client speaks.
    Rfc6455,
    /// draft-hixie-thewebsocketprotocol-76 (2010), spoken by browsers of that year.
    Hixie76,
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Variant::Rfc6455 => "rfc6455",
            Variant::Hixie76 => "hixie76",
        })
    }
}

/// A refused handshake: the status, a one-line reason, and any extra headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The HTTP status (400, 403, 426, ...).
    pub status: u16,
    /// One line of plain text saying why.
    pub reason: String,
    /// Extra header fields (426 names the version it speaks).
    pub headers: Vec<(String, String)>,
}

impl Rejection {
    /// A rejection with `status` and `reason`.
    pub fn new(status: u16, reason: &str) -> Rejection {
        Rejection {
            status,
            reason: reason.to_string(),
            headers: Vec::new(),
        }
    }

    /// A 400 Bad Request.
    pub fn bad_request(reason: &str) -> Rejection {
        Rejection::new(400, reason)
    }

    /// Adds a header field to the answer.
    pub fn with_header(mut self, name: &str, value: &str) -> Rejection {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// The HTTP response: status, extra headers, plain-text reason, `Connection: close`.
    pub fn to_response(&self) -> Response {
        let mut r = Response::error(self.status, &self.reason);
        r.headers.extend(self.headers.iter().cloned());
        r
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status, self.reason)
    }
}

/// Which `Origin` values are welcome (RFC 6455 §4.2.2 item 4, §10.2).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum OriginPolicy {
    /// Any origin, or none.
    #[default]
    Any,
    /// Only these serialized origins (`scheme://host[:port]`), compared
    /// case-insensitively; a missing Origin is refused.
    Allow(Vec<String>),
    /// The Origin's `host[:port]` must equal the Host header; a missing Origin is refused.
    SameOrigin,
}

impl OriginPolicy {
    /// Whether `origin` (the header's value, if sent) passes, given the `host` header.
    ///
    /// ```
    /// use stdws::OriginPolicy;
    /// let list = OriginPolicy::Allow(vec!["https://example.com".into()]);
    /// assert!(list.allows(Some("HTTPS://Example.com"), "x"));
    /// assert!(!list.allows(Some("https://evil.com"), "x"));
    /// assert!(!list.allows(None, "x"));
    /// assert!(OriginPolicy::SameOrigin.allows(Some("http://localhost:9001"), "localhost:9001"));
    /// assert!(!OriginPolicy::SameOrigin.allows(Some("http://localhost:9002"), "localhost:9001"));
    /// ```
    pub fn allows(&self, origin: Option<&str>, host: &str) -> bool {
        match (self, origin) {
            (OriginPolicy::Any, _) => true,
            (_, None) => false,
            (OriginPolicy::Allow(list), Some(o)) => {
                let o = o.trim().trim_end_matches('/');
                list.iter()
                    .any(|a| a.trim().trim_end_matches('/').eq_ignore_ascii_case(o))
            }
            (OriginPolicy::SameOrigin, Some(o)) => o
                .split_once(':')
                .and_then(|(_, rest)| rest.strip_prefix("//"))
                .map(|rest| rest.trim_end_matches('/'))
                .is_some_and(|authority| authority.eq_ignore_ascii_case(host.trim())),
        }
    }
}

/// What the server accepts in a handshake.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Subprotocols the server speaks, in no particular order. The answer is the
    /// first one the client offered that is in this list; none if there is none.
    pub protocols: Vec<String>,
    /// Which origins may connect.
    pub origin: OriginPolicy,
    /// Limits on the request head.
    pub head_limits: Option<HeadLimits>,
    /// permessage-deflate (RFC 7692), if the server offers it: the first acceptable
    /// offer is answered in `Sec-WebSocket-Extensions`; without this, or without an
    /// acceptable offer, the answer has no such header and messages go plain.
    pub deflate: Option<ServerPreferences>,
}

/// Whether the request asks to upgrade: an `Upgrade` header naming `websocket` (any
/// case), or any `Sec-WebSocket-*` header.
pub fn asks_to_upgrade(head: &Head) -> bool {
    head.has_token("Upgrade", "websocket")
        || head
            .headers
            .iter()
            .any(|h| h.name.len() >= 14 && h.name[..14].eq_ignore_ascii_case("Sec-WebSocket-"))
}

/// An accepted handshake request: what the application sees of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The request head as received.
    pub head: Head,
    /// The protocol variant.
    pub variant: Variant,
    /// The subprotocol the server answered, if any.
    pub protocol: Option<String>,
    /// The peer's address, when the server knows it.
    pub peer: Option<SocketAddr>,
    /// hixie-76 only: the 8 bytes of key3 that followed the head (for `--trace`).
    pub key3: Option<[u8; 8]>,
    /// The permessage-deflate parameters agreed, if the extension was accepted.
    pub deflate: Option<Parameters>,
    /// The `Sec-WebSocket-Extensions` value the 101 carried, if any.
    pub extensions: Option<String>,
}

impl Request {
    /// The request path, without the query.
    pub fn path(&self) -> &str {
        self.head.path()
    }
}

/// The handshake's verdict before any answer is written: which variant, and the
/// values its answer needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accepted {
    /// RFC 6455 with the client's key.
    Rfc6455 {
        /// `Sec-WebSocket-Key` as sent.
        key: String,
        /// The subprotocol chosen.
        protocol: Option<String>,
    },
    /// hixie-76 with both key numbers; key3 is still to be read.
    Hixie76 {
        /// Key1's and Key2's quotients.
        numbers: (u32, u32),
        /// The subprotocol chosen.
        protocol: Option<String>,
    },
}

/// Checks a request that asks to upgrade, for both variants (PROTOCOL.md §6 of the
/// project notes: 400, 403 or 426).
///
/// ```
/// use stdws::handshake::{check, Accepted, Options};
/// use stdws::http::{parse_head, Parsed};
/// let wire = b"GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
///              Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
/// let Parsed::Complete(head, _) = parse_head(wire, 100).unwrap() else { panic!() };
/// let accepted = check(&head, &Options::default()).unwrap();
/// assert!(matches!(accepted, Accepted::Rfc6455 { protocol: None, .. }));
/// ```
pub fn check(head: &Head, options: &Options) -> Result<Accepted, Rejection> {
    let has_key = head.count("Sec-WebSocket-Key") > 0;
    let has_hixie_keys = head.count("Sec-WebSocket-Key1") + head.count("Sec-WebSocket-Key2") > 0;
    if head.method != "GET" {
        return Err(Rejection::bad_request("a WebSocket upgrade must use GET"));
    }
    if head.version < (1, 1) {
        return Err(Rejection::bad_request("a WebSocket upgrade needs HTTP/1.1"));
    }
    match head.count("Host") {
        0 => return Err(Rejection::bad_request("missing Host header")),
        1 if head.header("Host").is_some_and(str::is_empty) => {
            return Err(Rejection::bad_request("empty Host header"))
        }
        1 => {}
        _ => return Err(Rejection::bad_request("more than one Host header")),
    }
    if !head.has_token("Upgrade", "websocket") {
        return Err(Rejection::bad_request("Upgrade header must name websocket"));
    }
    if !head.has_token("Connection", "Upgrade") {
        return Err(Rejection::bad_request(
            "Connection header must name Upgrade",
        ));
    }
    if has_key && has_hixie_keys {
        return Err(Rejection::bad_request(
            "both RFC 6455 and hixie-76 keys sent",
        ));
    }
    if !has_key && !has_hixie_keys {
        return Err(Rejection::bad_request("missing Sec-WebSocket-Key"));
    }
    if head.count("Origin") > 1 {
        // Which one would the policy judge? Refuse rather than pick (RFC 6454 §7.3:
        // the Origin header holds one serialized origin).
        return Err(Rejection::bad_request("more than one Origin header"));
    }
    let origin = head.header("Origin");
    if !options
        .origin
        .allows(origin, head.header("Host").unwrap_or(""))
    {
        return Err(Rejection::new(403, "origin not allowed"));
    }
    let protocol = choose_protocol(head, &options.protocols);
    if has_key {
        let key = rfc6455::check_request(head)?;
        Ok(Accepted::Rfc6455 { key, protocol })
    } else {
        let numbers = hixie76::check_request(head)?;
        Ok(Accepted::Hixie76 { numbers, protocol })
    }
}

/// The first subprotocol the client offered that the server speaks (§4.2.2 item 5.4):
/// never one the client did not offer.
pub fn choose_protocol(head: &Head, supported: &[String]) -> Option<String> {
    head.tokens("Sec-WebSocket-Protocol")
        .find(|offered| supported.iter().any(|s| s == offered))
        .map(str::to_string)
}

/// The permessage-deflate offer the server accepts, if it offers the extension at
/// all: the parameters agreed and the `Sec-WebSocket-Extensions` answer (RFC 7692
/// §5.1). Offers on several header lines count in order; other extensions are ignored.
pub fn negotiate_deflate(
    head: &Head,
    prefs: Option<&ServerPreferences>,
) -> Option<(Parameters, String)> {
    let prefs = prefs?;
    let offers: Vec<&str> = head.headers_named("Sec-WebSocket-Extensions").collect();
    if offers.is_empty() {
        return None;
    }
    extension::accept(&offers, prefs)
}

/// Why [`accept`] did not produce a WebSocket. In every case the answer stdws owes
/// the client has already been written (or none was due).
#[derive(Debug)]
pub enum HandshakeError {
    /// The request head was refused or never arrived.
    Head(HeadError),
    /// The request asked to upgrade and was refused with this answer.
    Rejected(Rejection),
    /// A plain HTTP request (no upgrade): not answered; the caller serves it.
    NotUpgrade(Head),
    /// hixie-76's key3 did not arrive in time (nothing was sent).
    Key3(io::Error),
    /// Writing the answer failed.
    Io(io::Error),
}

impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandshakeError::Head(e) => e.fmt(f),
            HandshakeError::Rejected(r) => write!(f, "handshake refused: {r}"),
            HandshakeError::NotUpgrade(h) => {
                write!(f, "plain HTTP request: {} {}", h.method, h.target)
            }
            HandshakeError::Key3(e) => write!(f, "hixie-76 key3 not received: {e}"),
            HandshakeError::Io(e) => write!(f, "i/o error during the handshake: {e}"),
        }
    }
}

impl std::error::Error for HandshakeError {}

/// A completed handshake: the request, and bytes the client sent behind it.
#[derive(Debug)]
pub struct Upgraded {
    /// The accepted request.
    pub request: Request,
    /// Bytes read past the handshake: the start of the first frames.
    pub leftover: Vec<u8>,
}

/// Runs the server side of the handshake on `stream`: reads the head, checks it,
/// reads hixie-76's key3, and writes the 101 answer (or the refusal).
///
/// Timeouts are the stream's own; the server sets a deadline for the whole
/// handshake. Build the connection with [`WebSocket::with_limits`], passing the
/// `leftover` bytes.
///
/// [`WebSocket::with_limits`]: crate::WebSocket::with_limits
pub fn accept<S: Read + Write + ?Sized>(
    stream: &mut S,
    options: &Options,
) -> Result<Upgraded, HandshakeError> {
    accept_with(stream, options, &|_, _| Ok(()))
}

/// [`accept`] with an admission check: `admit` runs once the request is known to be a
/// valid upgrade, before anything is answered, and may refuse it (a server at its
/// program cap answers 503 this way).
pub fn accept_with<S: Read + Write + ?Sized>(
    stream: &mut S,
    options: &Options,
    admit: &dyn Fn(&Head, Variant) -> Result<(), Rejection>,
) -> Result<Upgraded, HandshakeError> {
    let limits = options.head_limits.unwrap_or(HeadLimits {
        max_bytes: 16 * 1024,
        max_headers: 100,
    });
    let (head, mut leftover) = match http::read_head(stream, limits) {
        Ok(r) => r,
        Err(e) => {
            if let Some(response) = e.response() {
                let _ = response.write_to(stream, false);
            }
            return Err(HandshakeError::Head(e));
        }
    };
    if !asks_to_upgrade(&head) {
        return Err(HandshakeError::NotUpgrade(head));
    }
    let accepted = check(&head, options).and_then(|a| {
        let variant = match a {
            Accepted::Rfc6455 { .. } => Variant::Rfc6455,
            Accepted::Hixie76 { .. } => Variant::Hixie76,
        };
        admit(&head, variant).map(|()| a)
    });
    let accepted = match accepted {
        Ok(a) => a,
        Err(rejection) => {
            let _ = rejection.to_response().write_to(stream, false);
            return Err(HandshakeError::Rejected(rejection));
        }
    };
    let mut key3_seen = None;
    let mut deflate = None;
    let mut extensions = None;
    let (answer, variant, protocol) = match accepted {
        Accepted::Rfc6455 { key, protocol } => {
            let agreed = negotiate_deflate(&head, options.deflate.as_ref());
            deflate = agreed.as_ref().map(|(params, _)| *params);
            extensions = agreed.map(|(_, answer)| answer);
            (
                rfc6455::response(&key, protocol.as_deref(), extensions.as_deref()),
                Variant::Rfc6455,
                protocol,
            )
        }
        Accepted::Hixie76 { numbers, protocol } => {
            let key3 = hixie76::read_key3(stream, &mut leftover).map_err(HandshakeError::Key3)?;
            key3_seen = Some(key3);
            let answer = hixie76::challenge_response(numbers.0, numbers.1, &key3);
            let origin = head.header("Origin").unwrap_or("null");
            let location = format!("ws://{}{}", head.header("Host").unwrap_or(""), head.target);
            let bytes = hixie76::response(origin, &location, protocol.as_deref(), &answer);
            (bytes, Variant::Hixie76, protocol)
        }
    };
    stream
        .write_all(&answer)
        .and_then(|()| stream.flush())
        .map_err(HandshakeError::Io)?;
    Ok(Upgraded {
        request: Request {
            head,
            variant,
            protocol,
            peer: None,
            key3: key3_seen,
            deflate,
            extensions,
        },
        leftover,
    })
}

/// Appends one header field, `name: value` and its CRLF, to a head being written.
/// (Heads are pieced together, not formatted: the answer and the client's request
/// are plain concatenation.)
pub(crate) fn push_field(head: &mut String, name: &str, value: &str) {
    head.push_str(name);
    head.push_str(": ");
    head.push_str(value);
    head.push_str("\r\n");
}
