//! A small Redis client, for what broadcast rooms spanning several instances need:
//! pub/sub. RESP2 over `std::net::TcpStream`, blocking, with timeouts and bounded
//! buffers so that a broken or hostile server costs a bounded wait and bounded memory.
//!
//! - [`resp`]: the wire format, both ways (the reader is the bounded part);
//! - [`target`]: where the server is, from a `redis://` URL;
//! - [`connection`]: one connection, logged in (`AUTH`, `SELECT`, `PING`), for
//!   commands such as `PUBLISH`;
//! - [`subscriber`]: a connection in subscriber mode (`SUBSCRIBE`, `UNSUBSCRIBE`).
//!
//! Pub/sub is fire-and-forget: a message published while a subscriber is
//! disconnected is never delivered to it (at most once).
//!
//! ```no_run
//! use stdws::redis::{connection::Connection, resp::Limits, target::Target};
//! use std::time::Duration;
//! let target = Target::parse("redis://:secret@127.0.0.1:6379")?;
//! let limits = Limits { max_bulk: 1 << 20, max_items: 8 };
//! let mut redis = Connection::open(&target, Duration::from_secs(2), limits)?;
//! let receivers = redis.publish(b"stdws:/lobby", b"hello")?;
//! # let _ = receivers;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod connection;
pub mod resp;
pub mod subscriber;
pub mod target;
