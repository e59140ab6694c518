//! The incoming half of the protocol for either variant, and the answers a read owes
//! the peer (a pong, the close reply, the close that fails the connection).

use super::close_state::CloseState;
use super::keepalive::Keepalive;
use crate::budget::Share;
use crate::error::{Error, Result};
use crate::handshake::Variant;
use crate::hixie_frame::HixieReader;
use crate::message::{CloseCode, MessageRef};
use crate::message_reader::{Limits, MessageReader, Part, Role};
use std::io::Read;

/// The incoming half of the protocol, for either variant.
#[derive(Debug)]
pub(super) enum Codec {
    Rfc6455(MessageReader),
    Hixie76(HixieReader),
}

impl Codec {
    pub(super) fn new(variant: Variant, role: Role, limits: Limits, leftover: &[u8]) -> Codec {
        match variant {
            Variant::Rfc6455 => Codec::Rfc6455(MessageReader::new(role, limits, leftover)),
            Variant::Hixie76 => Codec::Hixie76(HixieReader::new(limits.max_message_size, leftover)),
        }
    }

    pub(super) fn read<R: Read + ?Sized>(
        &mut self,
        stream: &mut R,
        close: &CloseState,
    ) -> Result<MessageRef<'_>> {
        if close.received().is_some() {
            return Err(Error::Closed);
        }
        let message = match self {
            Codec::Rfc6455(r) => r.read(stream),
            Codec::Hixie76(r) => r.read(stream),
        }?;
        if let MessageRef::Close(c) = message {
            close.mark_received(c.map(|(code, _)| code));
        }
        Ok(message)
    }

    /// Like `read`, but large binary messages come in pieces (RFC 6455 only).
    pub(super) fn read_part<R: Read + ?Sized>(
        &mut self,
        stream: &mut R,
        close: &CloseState,
        piece_size: usize,
    ) -> Result<Part<'_>> {
        match self {
            Codec::Rfc6455(r) => {
                if close.received().is_some() {
                    return Err(Error::Closed);
                }
                let part = r.read_part(stream, piece_size)?;
                if let Part::Message(MessageRef::Close(c)) = part {
                    close.mark_received(c.map(|(code, _)| code));
                }
                Ok(part)
            }
            Codec::Hixie76(_) => self.read(stream, close).map(Part::Message),
        }
    }

    pub(super) fn set_share(&mut self, share: Share) {
        match self {
            Codec::Rfc6455(r) => r.set_share(share),
            Codec::Hixie76(r) => r.set_share(share),
        }
    }

    pub(super) fn set_deflate(&mut self, params: &crate::deflate::Parameters) {
        if let Codec::Rfc6455(r) = self {
            r.set_deflate(params);
        }
    }

    pub(super) fn has_buffered_input(&self) -> bool {
        match self {
            Codec::Rfc6455(r) => r.has_buffered_input(),
            Codec::Hixie76(r) => r.has_buffered_input(),
        }
    }
}

/// What the reader asks the writer to send on its behalf.
#[derive(Debug, Clone, Copy)]
pub(super) enum Answer<'a> {
    /// A pong with the ping's payload (§5.5.2).
    Pong(&'a [u8]),
    /// The close reply: the peer's code echoed, or an empty close (§5.5.1).
    Close(Option<CloseCode>),
    /// The close that fails the connection (§7.1.7): a violation's code and rule,
    /// 1013 when the memory budget refused, 1001 when keepalive gave up.
    Fail(CloseCode, &'static str),
}

/// The reason sent with 1001 to a peer that answered no keepalive ping.
pub(super) const NO_ANSWER_TO_PING: &str = "no answer to ping";

/// The reason sent with 1013 when the memory budget refused.
pub(crate) const OVERLOADED: &str = "server memory budget exhausted; try again later";

/// The automatic answer to the outcome of a read, if any.
pub(super) fn answer_for<'a>(
    result: &Result<MessageRef<'a>>,
    keepalive: &Keepalive,
) -> Option<Answer<'a>> {
    match result {
        Ok(MessageRef::Ping(p)) => Some(Answer::Pong(p)),
        Ok(MessageRef::Close(c)) => Some(Answer::Close(c.map(|(code, _)| code))),
        Err(e) => answer_for_error(e, keepalive),
        _ => None,
    }
}

/// The close owed for a failed read, if any.
pub(super) fn answer_for_error(e: &Error, keepalive: &Keepalive) -> Option<Answer<'static>> {
    match e {
        Error::Protocol(v) => Some(Answer::Fail(v.close_code(), v.reason())),
        Error::Overloaded(_) => Some(Answer::Fail(CloseCode::TRY_AGAIN_LATER, OVERLOADED)),
        e if keepalive.gave_up(e) => Some(Answer::Fail(CloseCode::GOING_AWAY, NO_ANSWER_TO_PING)),
        _ => None,
    }
}
