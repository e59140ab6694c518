//! One error type for the WebSocket layer: what the peer did wrong, or what failed.

use crate::budget::Refusal;
use crate::message::CloseCode;
use std::fmt;
use std::io;

/// A rule of the protocol that the peer broke. Each names the rule; [`close_code`]
/// says which close code stdws answers with (PROTOCOL.md §6 of the project's notes,
/// RFC 6455 §7.4.1).
///
/// [`close_code`]: Violation::close_code
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Violation {
    /// A client frame without the MASK bit (RFC 6455 §5.1, §5.3).
    UnmaskedFrameFromClient,
    /// A server frame with the MASK bit (RFC 6455 §5.1).
    MaskedFrameFromServer,
    /// RSV1, RSV2 or RSV3 set without a negotiated extension (§5.2).
    ReservedBits,
    /// Opcode 3–7 or 11–15 (§5.2).
    ReservedOpcode,
    /// A control frame with FIN clear (§5.5).
    FragmentedControlFrame,
    /// A control frame with more than 125 bytes of payload (§5.5).
    ControlFrameTooLong,
    /// A continuation frame with no message in progress (§5.4).
    UnexpectedContinuation,
    /// A new text or binary frame while a fragmented message is in progress (§5.4).
    ExpectedContinuation,
    /// A 64-bit payload length with the most significant bit set (§5.2).
    LengthTopBitSet,
    /// A close payload of exactly one byte (§5.5.1).
    CloseFrameOneByte,
    /// A close code that may not appear on the wire (§7.4).
    InvalidCloseCode,
    /// Text that is not valid UTF-8, detected as soon as the bytes arrive (§8.1).
    InvalidUtf8,
    /// A close reason that is not valid UTF-8 (§5.5.1).
    CloseReasonNotUtf8,
    /// A frame larger than the configured frame limit (§10.4).
    FrameTooLarge,
    /// A message larger than the configured message limit (§10.4).
    MessageTooLarge,
    /// A hixie-76 length-prefixed frame whose length overflows or exceeds the limit.
    HixieLengthTooLarge,
    /// RSV1 on a continuation or control frame, with permessage-deflate negotiated:
    /// only a message's first frame says it is compressed (RFC 7692 §6).
    MisplacedCompressionBit,
    /// A compressed message whose payload is not valid DEFLATE data (RFC 1951), or
    /// that does not end between blocks (RFC 7692 §7.2.2).
    InvalidCompressedData,
}

impl Violation {
    /// The close code stdws sends for this violation.
    pub fn close_code(self) -> CloseCode {
        match self {
            Violation::InvalidUtf8
            | Violation::CloseReasonNotUtf8
            | Violation::InvalidCompressedData => CloseCode::INVALID_PAYLOAD,
            Violation::FrameTooLarge
            | Violation::MessageTooLarge
            | Violation::HixieLengthTooLarge => CloseCode::MESSAGE_TOO_BIG,
            _ => CloseCode::PROTOCOL_ERROR,
        }
    }

    /// The rule, in a few words: also the reason sent in the close frame.
    pub fn reason(self) -> &'static str {
        match self {
            Violation::UnmaskedFrameFromClient => "client frames must be masked",
            Violation::MaskedFrameFromServer => "server frames must not be masked",
            Violation::ReservedBits => "reserved bits set without an extension",
            Violation::ReservedOpcode => "reserved opcode",
            Violation::FragmentedControlFrame => "control frames must not be fragmented",
            Violation::ControlFrameTooLong => "control frame payload over 125 bytes",
            Violation::UnexpectedContinuation => "continuation frame with no message to continue",
            Violation::ExpectedContinuation => "new data frame inside a fragmented message",
            Violation::LengthTopBitSet => "64-bit length with the top bit set",
            Violation::CloseFrameOneByte => "close payload of one byte",
            Violation::InvalidCloseCode => "invalid close code",
            Violation::InvalidUtf8 => "text is not valid UTF-8",
            Violation::CloseReasonNotUtf8 => "close reason is not valid UTF-8",
            Violation::FrameTooLarge => "frame over the size limit",
            Violation::MessageTooLarge => "message over the size limit",
            Violation::HixieLengthTooLarge => "hixie-76 frame length over the limit",
            Violation::MisplacedCompressionBit => "RSV1 on a continuation or control frame",
            Violation::InvalidCompressedData => "invalid compressed data",
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.reason())
    }
}

/// Everything that can go wrong on an open WebSocket.
#[derive(Debug)]
pub enum Error {
    /// The stream failed (including a read or write timeout, and EOF in mid-frame).
    Io(io::Error),
    /// The peer broke a rule; the matching close frame has already been sent.
    Protocol(Violation),
    /// The close handshake is over (or the peer closed TCP between messages):
    /// nothing more can be read or sent.
    Closed,
    /// A binary message cannot be sent to a hixie-76 peer: that draft has no binary
    /// frames, and stdws never mangles one into text.
    BinaryOnHixie76,
    /// A control frame (ping, pong, close) with more than 125 bytes of payload.
    ControlPayloadTooLong,
    /// A close code that may not be sent (RFC 6455 §7.4).
    InvalidCloseCode(CloseCode),
    /// The server's memory budget could not cover what this connection needed
    /// ([`crate::budget`]); close 1013 (Try Again Later) has been sent if it could be.
    Overloaded(Refusal),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "i/o error: {e}"),
            Error::Protocol(v) => write!(f, "protocol violation ({}): {v}", v.close_code()),
            Error::Closed => f.write_str("connection closed"),
            Error::BinaryOnHixie76 => f.write_str("hixie-76 has no binary messages"),
            Error::ControlPayloadTooLong => f.write_str("control payload over 125 bytes"),
            Error::InvalidCloseCode(c) => write!(f, "close code {c} may not be sent"),
            Error::Overloaded(r) => write!(f, "overloaded: {r}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Error {
        Error::Io(e)
    }
}

impl From<Refusal> for Error {
    fn from(r: Refusal) -> Error {
        Error::Overloaded(r)
    }
}

impl From<Violation> for Error {
    fn from(v: Violation) -> Error {
        Error::Protocol(v)
    }
}

/// The result type of the WebSocket layer.
pub type Result<T, E = Error> = std::result::Result<T, E>;
