//! A connection in subscriber mode: after `SUBSCRIBE`, Redis pushes each message
//! published on a subscribed channel as the array `message`, channel, payload, and
//! confirms each `SUBSCRIBE` and `UNSUBSCRIBE` with an array of its own. In this
//! mode only (P)(UN)SUBSCRIBE, PING and QUIT are allowed; `PING` is answered with the
//! array `pong`, "" (and with the status `PONG` while nothing is subscribed).
//!
//! Commands are sent without waiting: their confirmations arrive among the messages,
//! in the order the commands were sent, and [`Subscriber::next_event`] reports them so.

use super::connection::Connection;
use super::resp::Reply;
use std::io;

/// What arrived on a subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A message published on a subscribed channel.
    Message {
        /// The channel it was published on.
        channel: Vec<u8>,
        /// Its bytes, as published.
        payload: Vec<u8>,
    },
    /// A `SUBSCRIBE` took effect: messages published on the channel from now on
    /// arrive here.
    Subscribed(Vec<u8>),
    /// An `UNSUBSCRIBE` took effect.
    Unsubscribed(Vec<u8>),
    /// The answer to a `PING`.
    Pong,
}

/// A connection used for subscriptions only.
#[derive(Debug)]
pub struct Subscriber(Connection);

impl Subscriber {
    /// Puts an open connection into subscriber use.
    pub fn new(connection: Connection) -> Subscriber {
        Subscriber(connection)
    }

    /// Asks for the messages of `channel`; [`Event::Subscribed`] follows.
    pub fn subscribe(&mut self, channel: &[u8]) -> io::Result<()> {
        self.0.send(&[b"SUBSCRIBE", channel])
    }

    /// Stops the messages of `channel`; [`Event::Unsubscribed`] follows.
    pub fn unsubscribe(&mut self, channel: &[u8]) -> io::Result<()> {
        self.0.send(&[b"UNSUBSCRIBE", channel])
    }

    /// Asks for a sign of life; [`Event::Pong`] follows.
    pub fn ping(&mut self) -> io::Result<()> {
        self.0.send(&[b"PING"])
    }

    /// The next event; a read timeout comes back as that error (nothing is lost).
    pub fn next_event(&mut self) -> io::Result<Event> {
        let reply = self.0.receive()?;
        let items = match &reply {
            Reply::Array(Some(items)) => items,
            // Before the first SUBSCRIBE (or after the last UNSUBSCRIBE) the
            // connection is not in subscriber mode, and PING is answered as usual.
            Reply::Status(s) if s == b"PONG" => return Ok(Event::Pong),
            _ => return Err(odd()),
        };
        let bulk = |i: usize| match items.get(i) {
            Some(Reply::Bulk(Some(b))) => Some(b.clone()),
            _ => None,
        };
        let kind = bulk(0).ok_or_else(odd)?;
        let event = match (kind.as_slice(), items.len()) {
            (b"message", 3) => bulk(1)
                .zip(bulk(2))
                .map(|(channel, payload)| Event::Message { channel, payload }),
            (b"subscribe", 3) => bulk(1).map(Event::Subscribed),
            (b"unsubscribe", 3) => bulk(1).map(Event::Unsubscribed),
            (b"pong", 2) => Some(Event::Pong),
            _ => None,
        };
        event.ok_or_else(odd)
    }

    /// Changes how long [`Subscriber::next_event`] waits.
    pub fn set_read_timeout(&self, timeout: std::time::Duration) -> io::Result<()> {
        self.0.set_read_timeout(timeout)
    }
}

fn odd() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        "redis: not a pub/sub reply on a subscription",
    )
}
