//! Messages as the application sees them, and close codes (RFC 6455 §5.6, §7.4).

use std::fmt;

/// One complete WebSocket message, owned.
///
/// Text and Binary are data messages (RFC 6455 §5.6); Ping, Pong and Close are
/// control frames (§5.5), which [`WebSocket::read`](crate::WebSocket::read) reports
/// after it has answered them itself. hixie-76 only ever yields `Text` and `Close(None)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A text message: always valid UTF-8 (§8.1).
    Text(String),
    /// A binary message (not available on hixie-76).
    Binary(Vec<u8>),
    /// A ping; the pong with the same payload has already been sent (§5.5.2).
    Ping(Vec<u8>),
    /// A pong (solicited or not; §5.5.3).
    Pong(Vec<u8>),
    /// The peer's close frame, with its code and reason if it sent one (§5.5.1).
    Close(Option<CloseFrame>),
}

impl Message {
    /// A text message.
    ///
    /// ```
    /// let m = stdws::Message::text("hi");
    /// assert_eq!(m, stdws::Message::Text("hi".to_string()));
    /// ```
    pub fn text(s: impl Into<String>) -> Message {
        Message::Text(s.into())
    }

    /// A binary message.
    pub fn binary(b: impl Into<Vec<u8>>) -> Message {
        Message::Binary(b.into())
    }

    /// Borrows this message as a [`MessageRef`], the view that senders accept.
    pub fn as_message_ref(&self) -> MessageRef<'_> {
        match self {
            Message::Text(t) => MessageRef::Text(t),
            Message::Binary(b) => MessageRef::Binary(b),
            Message::Ping(p) => MessageRef::Ping(p),
            Message::Pong(p) => MessageRef::Pong(p),
            Message::Close(c) => MessageRef::Close(c.as_ref().map(|c| (c.code, c.reason.as_str()))),
        }
    }
}

/// A message borrowed from the reader's buffer: valid until the next read.
///
/// This is what the zero-copy read ([`Reader::read_ref`](crate::Reader::read_ref))
/// returns; an echo loop hands it straight to [`Writer::send_ref`](crate::Writer::send_ref)
/// without allocating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageRef<'a> {
    /// A text message (valid UTF-8).
    Text(&'a str),
    /// A binary message.
    Binary(&'a [u8]),
    /// A ping (already answered).
    Ping(&'a [u8]),
    /// A pong.
    Pong(&'a [u8]),
    /// A close frame: code and reason, or nothing if its payload was empty.
    Close(Option<(CloseCode, &'a str)>),
}

impl MessageRef<'_> {
    /// Copies the borrowed message into an owned [`Message`].
    pub fn to_message(&self) -> Message {
        match *self {
            MessageRef::Text(t) => Message::Text(t.to_owned()),
            MessageRef::Binary(b) => Message::Binary(b.to_vec()),
            MessageRef::Ping(p) => Message::Ping(p.to_vec()),
            MessageRef::Pong(p) => Message::Pong(p.to_vec()),
            MessageRef::Close(c) => Message::Close(c.map(|(code, reason)| CloseFrame {
                code,
                reason: reason.to_owned(),
            })),
        }
    }
}

/// The code and reason of a close frame (RFC 6455 §5.5.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseFrame {
    /// The status code.
    pub code: CloseCode,
    /// A UTF-8 reason, at most 123 bytes on the wire.
    pub reason: String,
}

/// A close status code (RFC 6455 §7.4).
///
/// ```
/// use stdws::CloseCode;
/// assert!(CloseCode::NORMAL.is_valid_on_wire());
/// assert!(!CloseCode(1005).is_valid_on_wire()); // reserved for "no code", never sent
/// assert!(CloseCode(3000).is_valid_on_wire());  // registered by libraries
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CloseCode(pub u16);

impl CloseCode {
    /// 1000: the purpose of the connection has been fulfilled.
    pub const NORMAL: CloseCode = CloseCode(1000);
    /// 1001: the server is going down, or a browser leaves the page.
    pub const GOING_AWAY: CloseCode = CloseCode(1001);
    /// 1002: the peer broke the protocol.
    pub const PROTOCOL_ERROR: CloseCode = CloseCode(1002);
    /// 1003: a kind of data the endpoint cannot accept.
    pub const UNSUPPORTED_DATA: CloseCode = CloseCode(1003);
    /// 1007: a text message (or close reason) was not valid UTF-8.
    pub const INVALID_PAYLOAD: CloseCode = CloseCode(1007);
    /// 1008: a policy was violated (stdws: a broadcast client that fell too far behind).
    pub const POLICY_VIOLATION: CloseCode = CloseCode(1008);
    /// 1009: a frame or message was larger than the configured limit.
    pub const MESSAGE_TOO_BIG: CloseCode = CloseCode(1009);
    /// 1011: the server hit an unexpected condition (a handler error or panic).
    pub const INTERNAL_ERROR: CloseCode = CloseCode(1011);
    /// 1013 Try Again Later: the server is overloaded for now (its memory budget is
    /// full); the client may reconnect later (IANA registry, RFC 6455 §11.7).
    pub const TRY_AGAIN_LATER: CloseCode = CloseCode(1013);

    /// Whether this code may appear in a close frame (RFC 6455 §7.4.1, §7.4.2, and the
    /// IANA registry's 1012–1014): 1000–1003, 1007–1014 and 3000–4999. 1004, 1005, 1006
    /// and 1015 are reserved and never sent; 1016–2999 are reserved for future RFCs.
    pub fn is_valid_on_wire(self) -> bool {
        matches!(self.0, 1000..=1003 | 1007..=1014 | 3000..=4999)
    }

    /// What the code means, in the words of RFC 6455 §7.4.1 and the IANA registry
    /// (§11.7), for a person reading a log or the inspector page.
    ///
    /// ```
    /// assert_eq!(stdws::CloseCode(1009).meaning(), "message too big");
    /// assert_eq!(stdws::CloseCode(4001).meaning(), "private use (4000-4999)");
    /// ```
    pub fn meaning(self) -> &'static str {
        match self.0 {
            1000 => "normal closure",
            1001 => "going away",
            1002 => "protocol error",
            1003 => "unsupported data",
            1005 => "no status received (never sent)",
            1006 => "abnormal closure (never sent)",
            1007 => "invalid frame payload data",
            1008 => "policy violation",
            1009 => "message too big",
            1010 => "mandatory extension",
            1011 => "internal error",
            1012 => "service restart",
            1013 => "try again later",
            1014 => "bad gateway",
            1015 => "TLS handshake failure (never sent)",
            3000..=3999 => "registered by a library or framework (3000-3999)",
            4000..=4999 => "private use (4000-4999)",
            _ => "reserved: not allowed in a close frame",
        }
    }
}

impl fmt::Display for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}
