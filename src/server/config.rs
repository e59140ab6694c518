//! Every limit and policy of the server, each with a safe default.

use crate::deflate::extension::ServerPreferences;
use crate::handshake::{self, OriginPolicy};
use crate::http::HeadLimits;
use crate::message_reader::Limits;
use crate::socket::{SendPace, WRITE_SLICE};
use std::time::Duration;

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
    /// Keepalive and idle timeout (default 20 s): after this long with no byte from
    /// the peer, an RFC 6455 connection is sent a ping (RFC 6455 §5.5.2); if another
    /// interval passes with still nothing (no pong, no data), the connection is
    /// closed with 1001 (if the close can still be written) and dropped. hixie-76 has
    /// no ping, so a silent hixie-76 peer is dropped after two intervals. Any byte
    /// counts as a sign of life, so a busy client that never answers pings is never
    /// dropped. The default sits well under the 60 s after which nginx and common
    /// load balancers cut a silent connection, so the ping keeps a healthy one open.
    /// `None` waits for ever (a dead peer then holds its thread until the process ends).
    pub ping_interval: Option<Duration>,
    /// A send that cannot make progress for this long fails and the connection is
    /// dropped (default 30 s), so a client that stops reading never pins a thread for
    /// ever. It is also the window over which [`min_send_rate`](Config::min_send_rate)
    /// is judged.
    pub write_timeout: Duration,
    /// The slowest a peer may take what is sent to it, in bytes per second of time
    /// our writes spend waiting for it (default 1024; 0 for no minimum). Each time
    /// `write_timeout` of waiting has added up, the bytes moved in it must come to
    /// this rate, or the connection is dropped: a peer that takes a few bytes now and
    /// then cannot hold its thread and its queued messages for hours, while an
    /// honest slow link (a 20 KiB/s phone) is never judged too slow.
    pub min_send_rate: u64,
    /// Bytes the whole server may hold for its peers beyond each connection's
    /// allowance (default 256 MiB): messages still arriving, the echo's stalled
    /// relay, broadcast queues ([`crate::budget`]). A connection that needs more than
    /// is free waits without reading; if nothing frees up within `memory_wait`, or if
    /// everything is held by connections that wait too, it is closed with 1013.
    pub memory_budget: usize,
    /// Bytes of each buffer a connection holds outside the budget (default 64 KiB),
    /// so ordinary short messages never wait on it.
    pub memory_allowance: usize,
    /// How long a connection waits for the memory budget before it is closed with
    /// 1013 (default 5 s).
    pub memory_wait: Duration,
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
    /// permessage-deflate (RFC 7692): `None` (the default) declines every offer;
    /// `Some` accepts a client's offer within these preferences, whose settings say
    /// what a connection keeps between messages:
    /// [`ServerPreferences::stateless`] nothing, [`ServerPreferences::small_windows`]
    /// 1 KiB of history each way, [`ServerPreferences::full`] (the default) about
    /// 250 KiB. All of it, and the working memory lent to each message, is drawn
    /// from `memory_budget` ([`crate::permessage_deflate`]).
    pub deflate: Option<ServerPreferences>,
}

impl Default for Config {
    fn default() -> Config {
        let limits = Limits::default();
        Config {
            max_head_bytes: 16 * 1024,
            max_headers: 100,
            handshake_timeout: Duration::from_secs(10),
            ping_interval: Some(Duration::from_secs(20)),
            write_timeout: Duration::from_secs(30),
            min_send_rate: 1024,
            memory_budget: 256 << 20,
            memory_allowance: 64 << 10,
            memory_wait: Duration::from_secs(5),
            max_frame_size: limits.max_frame_size,
            max_message_size: limits.max_message_size,
            stack_size: 128 * 1024,
            max_connections: 16384,
            protocols: Vec::new(),
            origin: OriginPolicy::Any,
            close_timeout: Duration::from_secs(2),
            log: true,
            deflate: None,
        }
    }
}

impl Config {
    pub(crate) fn limits(&self) -> Limits {
        Limits {
            max_frame_size: self.max_frame_size,
            max_message_size: self.max_message_size,
        }
    }

    /// The pace every connection's peer must keep, if any.
    pub(crate) fn send_pace(&self) -> Option<SendPace> {
        (self.min_send_rate > 0).then_some(SendPace {
            min_rate: self.min_send_rate,
            window: self.write_timeout,
        })
    }

    /// The socket's write timeout once upgraded: with a pace, a slice of
    /// `write_timeout`, so that a slow peer's progress is seen ([`crate::socket`]'s
    /// pace); without one, `write_timeout` itself.
    pub(crate) fn write_slice(&self) -> Duration {
        if self.send_pace().is_some() {
            WRITE_SLICE.min(self.write_timeout)
        } else {
            self.write_timeout
        }
    }

    pub(crate) fn handshake_options(&self) -> handshake::Options {
        handshake::Options {
            protocols: self.protocols.clone(),
            origin: self.origin.clone(),
            head_limits: Some(HeadLimits {
                max_bytes: self.max_head_bytes,
                max_headers: self.max_headers,
            }),
            deflate: self.deflate,
        }
    }
}
