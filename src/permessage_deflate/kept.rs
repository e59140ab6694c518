//! What a connection keeps of each direction of permessage-deflate between messages:
//! what the handshake agreed, and a record of the direction's state only where the
//! protocol needs one.
//!
//! With context takeover (RFC 7692 §7.1.1) a direction's history carries over from
//! one message to the next, so its record ([`Decompression`], [`Compression`]) stays
//! with the connection. Without it, nothing does: the record is borrowed from
//! [`scratch`] at the start of a compressed message, with the rest of the working
//! memory, and given back at its end. An idle connection that agreed on
//! `server_no_context_takeover` and `client_no_context_takeover` then holds the few
//! bytes of what was agreed, and nothing on the heap.

use super::{scratch, Compression, Decompression, Direction};
use super::{MIN_COMPRESSED_SIZE, MIN_COMPRESSED_SIZE_WITH_CONTEXT};
use crate::budget::Share;

/// The receiving direction: inflates what the peer compressed.
#[derive(Debug)]
pub struct Inbound {
    direction: Direction,
    record: Option<Box<Decompression>>,
}

impl Inbound {
    /// Ready for a peer that compresses as `direction`; a record only with context
    /// takeover (its history is created with the first message).
    pub fn new(direction: Direction) -> Inbound {
        let record = direction
            .context_takeover
            .then(|| Box::new(Decompression::new(direction)));
        Inbound { direction, record }
    }

    /// The record for the message being read, borrowed now if the connection keeps
    /// none.
    pub(crate) fn start(&mut self) -> &mut Decompression {
        let direction = self.direction;
        self.record
            .get_or_insert_with(|| scratch::take_decompression(direction))
    }

    /// The record, while a message is being read (or kept between messages).
    pub(crate) fn record(&mut self) -> Option<&mut Decompression> {
        self.record.as_deref_mut()
    }

    /// The message has been read: the working memory goes back to the stock, and
    /// without context takeover the record too.
    pub(crate) fn end(&mut self) {
        if let Some(record) = self.record.as_deref_mut() {
            record.end();
        }
        if !self.direction.context_takeover {
            if let Some(record) = self.record.take() {
                scratch::give_decompression(record);
            }
        }
    }

    /// Bytes kept between messages: what an idle connection holds for this direction.
    pub fn kept(&self) -> usize {
        self.record.as_ref().map_or(0, |r| r.kept())
    }
}

/// The sending direction: compresses text and binary messages.
#[derive(Debug)]
pub struct Outbound {
    direction: Direction,
    /// Whether messages are compressed at all ([`crate::WebSocket::set_compression`]).
    pub(crate) enabled: bool,
    record: Option<Box<Compression>>,
}

impl Outbound {
    /// Ready to compress as `direction` allows; a record only with context takeover.
    pub fn new(direction: Direction) -> Outbound {
        let record = direction
            .context_takeover
            .then(|| Box::new(Compression::new(direction)));
        Outbound {
            direction,
            enabled: true,
            record,
        }
    }

    /// Compresses `payload`; the compressed bytes, or `None` when it should go out
    /// plain (turned off, too short to be worth it, or no room in the budget). After
    /// `Some`, [`Outbound::give_back`] must follow.
    pub(crate) fn compress(&mut self, payload: &[u8], share: Option<&Share>) -> Option<Vec<u8>> {
        let min = if self.direction.context_takeover {
            MIN_COMPRESSED_SIZE_WITH_CONTEXT
        } else {
            MIN_COMPRESSED_SIZE
        };
        if !self.enabled || payload.len() < min {
            return None;
        }
        let direction = self.direction;
        let record = self
            .record
            .get_or_insert_with(|| scratch::take_compression(direction));
        if record.compress(payload, share) {
            return Some(std::mem::take(&mut record.out));
        }
        self.rest();
        None
    }

    /// The compressed message has been sent: its buffer and the working memory go
    /// back, and without context takeover the record too.
    pub(crate) fn give_back(&mut self, out: Vec<u8>) {
        if let Some(record) = self.record.as_deref_mut() {
            record.give_back(out);
        }
        self.rest();
    }

    /// Gives the record back to the stock when nothing of it is needed until the
    /// next message.
    fn rest(&mut self) {
        if !self.direction.context_takeover {
            if let Some(record) = self.record.take() {
                scratch::give_compression(record);
            }
        }
    }

    /// Bytes kept between messages: what an idle connection holds for this direction.
    pub fn kept(&self) -> usize {
        self.record.as_ref().map_or(0, |r| r.kept())
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{CHAT, SMALL, STATELESS};
    use super::*;
    use crate::deflate::Compressor;

    /// Sends `payload` as the writer does; its compressed bytes, if it was compressed.
    fn send(out: &mut Outbound, payload: &[u8]) -> Option<Vec<u8>> {
        let compressed = out.compress(payload, None)?;
        out.give_back(compressed.clone());
        Some(compressed)
    }

    /// Reads one compressed message as the reader does.
    fn read(inbound: &mut Inbound, wire: &[u8]) -> Vec<u8> {
        let mut text = Vec::new();
        let inflater = inbound.start().inflater(None).unwrap();
        inflater.inflate_message(wire, &mut text, 1 << 20).unwrap();
        inbound.end();
        text
    }

    #[test]
    fn without_context_takeover_no_record_stays_between_messages() {
        let text = CHAT;
        let (mut out, mut inbound) = (Outbound::new(STATELESS), Inbound::new(STATELESS));
        assert!(out.record.is_none() && inbound.record.is_none());
        let wire = send(&mut out, text).unwrap();
        assert!(out.record.is_none(), "given back once sent");
        assert_eq!(read(&mut inbound, &wire), text);
        assert!(inbound.record.is_none(), "given back once read");
        assert_eq!(send(&mut out, text).unwrap(), wire, "each message alone");
    }

    #[test]
    fn with_context_takeover_the_record_stays() {
        let text = CHAT;
        let (mut out, mut inbound) = (Outbound::new(SMALL), Inbound::new(SMALL));
        let first = send(&mut out, text).unwrap();
        let second = send(&mut out, text).unwrap();
        assert!(
            second.len() < first.len() / 4,
            "the second refers to the first"
        );
        assert_eq!(read(&mut inbound, &first), text);
        assert_eq!(read(&mut inbound, &second), text);
        assert!(out.record.is_some() && inbound.record.is_some());
        assert_eq!(out.kept() + inbound.kept(), 1024 + 1024 + 32);
    }

    #[test]
    fn short_or_unwanted_messages_go_out_plain() {
        let mut alone = Outbound::new(STATELESS);
        assert_eq!(send(&mut alone, &[b'a'; MIN_COMPRESSED_SIZE - 1]), None);
        assert!(alone.record.is_none(), "no record taken for it");
        assert!(send(&mut alone, &[b'a'; MIN_COMPRESSED_SIZE]).is_some());
        let mut after = Outbound::new(SMALL);
        let short = [b'a'; MIN_COMPRESSED_SIZE_WITH_CONTEXT];
        assert_eq!(send(&mut after, &short[1..]), None);
        assert!(send(&mut after, &short).is_some());
        after.enabled = false;
        assert_eq!(send(&mut after, &[b'a'; 1000]), None, "turned off");
        // A peer's message that refers to nothing earlier inflates on a stateless side.
        let mut wire = Vec::new();
        Compressor::new(15, false).compress_message(&[b'b'; 300], &mut wire);
        assert_eq!(read(&mut Inbound::new(STATELESS), &wire), [b'b'; 300]);
    }
}
