//! # stdws: a small WebSocket server, library and tool
//!
//! stdws speaks both WebSocket protocols a browser has ever shipped, RFC 6455 (2011)
//! and the hixie-76 draft (2010), over the standard library's blocking sockets, one
//! thread per connection, with three small crates (sha1_smol, md5, base64).
//!
//! ## The protocol in one page
//!
//! A WebSocket starts as an HTTP/1.1 request that asks to switch protocols:
//!
//! ```text
//! GET /chat HTTP/1.1                            HTTP/1.1 101 Switching Protocols
//! Host: server.example.com                      Upgrade: websocket
//! Upgrade: websocket                    ->      Connection: Upgrade
//! Connection: Upgrade                           Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
//! Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==
//! Sec-WebSocket-Version: 13
//! ```
//!
//! The accept value proves the server read this very request: it is
//! base64(SHA-1(key ++ "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")) ([`accept_key`]).
//! hixie-76 did the same with two keys whose digits, divided by their spaces, and 8
//! more bytes go through MD5 ([`handshake::hixie76`]).
//!
//! After the 101, both sides exchange *frames* ([`frame`]): a 2-byte header (FIN,
//! opcode, MASK, 7-bit length), an extended length for 126 and 127, a 4-byte masking
//! key on every client frame, then the payload XORed with that key. Text frames carry
//! UTF-8, binary frames bytes; a message may be split into fragments; ping, pong and
//! close are control frames that may arrive between fragments. Closing is a handshake:
//! each side sends a close frame with a code, then the server closes TCP. hixie-76
//! frames are simpler: `0x00 text 0xFF`, and `0xFF 0x00` to close ([`hixie_frame`]).
//!
//! ## The path of one connection
//!
//! ```text
//! TcpListener::accept                                 server
//!   -> one thread per connection, small stack, capped count
//!   -> read the request head (bounded bytes and time)  http
//!   -> not an upgrade? plain HTTP: page, files, 404    server (on_http)
//!   -> which handshake?                                handshake
//!        Sec-WebSocket-Key         -> handshake::rfc6455: accept key, 101
//!        Sec-WebSocket-Key1 + Key2 -> handshake::hixie76: key numbers, key3, MD5
//!        neither / invalid         -> 400 / 403 / 426 with a one-line reason
//!   -> WebSocket<stream>                               socket
//!        RFC 6455: message_reader (frames, UTF-8, limits), frame (headers, masking)
//!        hixie-76: hixie_frame
//!   -> your handler: read() -> Message, send(Message), close(code, reason)
//!   -> last close frame, lingering close, one log line
//! ```
//!
//! Everything but [`server`] works on any `Read + Write`, so the protocol can be driven
//! from memory in tests, or over a stream the embedder accepted itself.
//!
//! ## Serving
//!
//! ```no_run
//! use stdws::{Config, Message, Server};
//! Server::bind("127.0.0.1:9001", Config::default())?
//!     .on_connection(|mut ws, request| {
//!         eprintln!("{} opened {}", request.peer.unwrap(), request.path());
//!         while let Ok(msg) = ws.read() {
//!             match msg {
//!                 Message::Text(t) => ws.send(Message::text(t.to_uppercase()))?,
//!                 Message::Close(_) => break,
//!                 _ => {}
//!             }
//!         }
//!         Ok(())
//!     })
//!     .run()?;
//! # Ok::<(), std::io::Error>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod client;
pub mod echo;
pub mod error;
pub mod explain;
pub mod frame;
pub mod handshake;
pub mod hixie_frame;
pub mod http;
pub mod input;
pub mod message;
pub mod message_reader;
pub mod random;
pub mod server;
pub mod socket;
pub mod tap;
pub mod utf8;

pub use echo::echo;
pub use error::{Error, Result, Violation};
pub use handshake::rfc6455::accept_key;
pub use handshake::{OriginPolicy, Request, Variant};
pub use message::{CloseCode, CloseFrame, Message, MessageRef};
pub use message_reader::{Limits, Role};
pub use server::{Config, HandlerResult, Server, ServerHandle, SharedTcpStream};
pub use socket::{CloseState, Reader, TryClone, WebSocket, Writer};
