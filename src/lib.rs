//! # stdws: a small WebSocket server, library and tool
//!
//! stdws speaks both WebSocket protocols a browser has ever shipped, RFC 6455 (2011)
//! and the hixie-76 draft (2010), over the standard library's blocking sockets, one
//! thread per connection, with three small crates (sha1_smol for SHA-1, md5 for MD5,
//! base64) and nothing else. HTTP and the command line are parsed by hand, and there
//! is no `unsafe`.
//!
//! This page teaches the protocol in one sitting, follows one connection through the
//! modules, and shows the four ways to use the crate: a [`Server`] with a handler, a
//! [`client`], your own stream upgraded with [`handshake::accept`], and the pieces
//! alone (frames and handshakes from memory).
//!
//! ## The protocol in one page
//!
//! **1. The opening handshake** (RFC 6455 §4). A WebSocket starts as an HTTP/1.1
//! request that asks to switch protocols, carrying a random 16-byte nonce, base64:
//!
//! ```text
//! GET /chat HTTP/1.1                            HTTP/1.1 101 Switching Protocols
//! Host: server.example.com                      Upgrade: websocket
//! Upgrade: websocket                    ->      Connection: Upgrade
//! Connection: Upgrade                           Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
//! Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==   Sec-WebSocket-Protocol: chat
//! Sec-WebSocket-Version: 13
//! Sec-WebSocket-Protocol: chat, superchat
//! ```
//!
//! The accept value proves that the server read this very request (and is not, say,
//! a cache replaying an old answer): base64(SHA-1(key ++ a fixed GUID)), with the key
//! taken as the text sent, never decoded first ([`accept_key`]):
//!
//! ```
//! assert_eq!(stdws::accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
//! ```
//!
//! A subprotocol is optional: the client offers a list, the server picks at most one
//! of them ([`handshake::choose_protocol`]). A request without version 13 is answered
//! `426` naming the version the server speaks; other mistakes get a `400` with one
//! line saying which rule was broken ([`handshake::check`]).
//!
//! hixie-76 (the 2010 draft) did the same job differently: two keys whose digits,
//! divided by their count of spaces, give two 32-bit numbers; those, big-endian, and
//! 8 raw bytes sent after the head go through MD5, and the 16 raw bytes of the digest
//! follow the server's head ([`handshake::hixie76`]):
//!
//! ```
//! use stdws::handshake::hixie76::{challenge_response, key_number};
//! let n1 = key_number("4 @1  46546xW%0l 1 5")?; // digits 4146546015, 5 spaces
//! let n2 = key_number("12998 5 Y3 1  .P00")?;   // digits 1299853100, 5 spaces
//! assert_eq!((n1, n2), (829309203, 259970620));
//! assert_eq!(&challenge_response(n1, n2, b"^n:ds[4U"), b"8jKS'y:G*Co,Wxa-");
//! # Ok::<(), stdws::handshake::hixie76::KeyError>(())
//! ```
//!
//! **2. Frames** (§5). After the `101` both sides send frames: a 2-byte header (FIN,
//! three reserved bits, a 4-bit opcode, MASK, a 7-bit length), a 16- or 64-bit length
//! when the 7 bits say 126 or 127, a 4-byte masking key on every client frame, then the
//! payload, XORed with that key by clients ([`frame`]). Opcodes: text (UTF-8, checked
//! as the bytes arrive), binary, continuation; and the control frames ping, pong and
//! close, at most 125 bytes, never fragmented, allowed between the fragments of a
//! message. Here is "Hello" as a client sends it (§5.7), read from memory:
//!
//! ```
//! use stdws::frame::{apply_mask, decode_header, Opcode};
//! let wire = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
//! let (header, used) = decode_header(&wire).unwrap().expect("a whole header");
//! assert_eq!((header.fin, header.len, used), (true, 5, 6));
//! assert_eq!(Opcode::from_bits(header.opcode_bits), Some(Opcode::Text));
//! let mut payload = wire[used..].to_vec();
//! apply_mask(&mut payload, header.mask.unwrap(), 0);
//! assert_eq!(payload, b"Hello");
//! ```
//!
//! Masking is not encryption: it stops script in a browser from choosing the bytes
//! that a confused proxy on the path would see (§10.3). Servers never mask.
//! hixie-76 frames are simpler: `0x00`, UTF-8 text, `0xFF`; no binary, no ping
//! ([`hixie_frame`]).
//!
//! **3. Closing** (§7). Either side sends a close frame with a 2-byte code and an
//! optional UTF-8 reason; the other answers with a close frame, and the server closes
//! TCP first. stdws answers a valid code with the same code, a malformed close with
//! 1002; it closes with 1002 for broken rules, 1007 for bad UTF-8, 1009 for a frame or
//! message over the limits, 1011 when the handler fails, 1001 when shutting down
//! ([`CloseCode`], [`Violation`]). hixie-76 closes with the two bytes `0xFF 0x00`.
//!
//! **4. Compression** (RFC 7692, permessage-deflate; off unless asked for). The
//! client offers it in the handshake (`Sec-WebSocket-Extensions: permessage-deflate;
//! client_max_window_bits`), the server names what it accepts in the 101, and from
//! then on either side may send a message compressed: DEFLATE (RFC 1951) of the whole
//! message, ended with a sync flush whose last 4 bytes `00 00 ff ff` are cut off, with
//! RSV1 set on its first frame. Each direction keeps its LZ77 history from message to
//! message unless `*_no_context_takeover` was agreed, so a repeat costs a few bytes
//! ([`deflate`], [`permessage_deflate`]; `stdws --explain deflate TEXT` shows every
//! literal, match and Huffman code):
//!
//! ```
//! use stdws::deflate::{Compressor, Inflater};
//! let (mut ours, mut theirs) = (Compressor::new(15, true), Inflater::new(15, true));
//! let (mut first, mut again, mut text) = (Vec::new(), Vec::new(), Vec::new());
//! ours.compress_message(b"Hello", &mut first);
//! assert_eq!(first, [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]); // RFC 7692 §7.2.3.1
//! ours.compress_message(b"Hello", &mut again); // one match, 5 bytes from 5 back
//! assert_eq!(again.len(), 4);
//! theirs.inflate_message(&first, &mut text, 1 << 20)?; // 00 00 ff ff put back inside
//! theirs.inflate_message(&again, &mut text, 1 << 20)?;
//! assert_eq!(text, b"HelloHello");
//! # Ok::<(), stdws::deflate::InflateError>(())
//! ```
//!
//! ## The path of one connection
//!
//! ```text
//! TcpListener::accept                                 server
//!   -> one thread per connection, small stack, capped count (503 beyond)
//!   -> read the request head (bounded bytes and time)  http
//!   -> not an upgrade? plain HTTP: page, files, 404    server (on_http)
//!   -> which handshake?                                handshake
//!        Sec-WebSocket-Key         -> handshake::rfc6455: accept key, 101
//!        Sec-WebSocket-Key1 + Key2 -> handshake::hixie76: key numbers, key3, MD5
//!        neither / invalid         -> 400 / 403 / 426 with a one-line reason
//!   -> WebSocket<stream>                               socket
//!        RFC 6455: message_reader (frames, UTF-8, limits), frame (headers, masking)
//!                  permessage_deflate (RSV1 messages, when negotiated): deflate
//!        hixie-76: hixie_frame
//!   -> your handler: read() -> Message, send(Message), close(code, reason)
//!   -> last close frame, lingering close, one log line
//! ```
//!
//! | step | module | what it owns |
//! |---|---|---|
//! | accept, threads, limits, shutdown | [`server`] | [`Server`], [`Config`], [`ServerHandle`] |
//! | the request head | [`http`] | [`http::parse_head`], [`http::Response`] |
//! | which handshake, and its answer | [`handshake`] | [`handshake::accept`], [`handshake::check`] |
//! | RFC 6455 accept key | [`handshake::rfc6455`] | [`accept_key`] |
//! | hixie-76 challenge | [`handshake::hixie76`] | `key_number`, `challenge_response` |
//! | frame headers and masking | [`frame`] | [`frame::decode_header`], [`frame::apply_mask`] |
//! | messages from frames | [`message_reader`] | fragments, control frames, [`Limits`] |
//! | UTF-8 as it arrives | [`utf8`] | [`utf8::Utf8Progress`] |
//! | hixie-76 frames | [`hixie_frame`] | `0x00 .. 0xFF`, `0xFF 0x00` |
//! | watching frames pass | [`tap`] | [`tap::FrameEvent`]: `--trace`, the `stdws` inspector page |
//! | an open connection | [`socket`] | [`WebSocket`], [`Reader`], [`Writer`] |
//! | the echo application | [`mod@echo`] | [`echo()`](crate::echo()), large messages relayed read by read |
//! | messages and close codes | [`message`] | [`Message`], [`CloseCode`] |
//! | the memory held for peers | [`budget`] | [`budget::Budget`], [`budget::Share`] |
//! | the client side | [`client`] | [`client::connect`], nonce and masks from [`random`] |
//! | DEFLATE and its negotiation (RFC 1951, RFC 7692) | [`deflate`] | [`deflate::Inflater`], [`deflate::Compressor`], [`deflate::extension`] |
//! | permessage-deflate on a connection | [`permessage_deflate`] | each direction's window and history, state created on first use and charged to the [`budget`] |
//!
//! Everything but [`server`] and [`client::connect`] works on any `Read + Write`, so
//! the protocol can be driven from memory in tests, or over a stream the embedder
//! accepted (or encrypted) itself.
//!
//! ## Serving
//!
//! A handler runs on the connection's own thread; returning ends the connection
//! (with close 1000, or 1011 on an error). [`Server::run`] serves for ever;
//! [`Server::spawn`] serves on a background thread, as here:
//!
//! ```
//! use stdws::{Config, Message, Server};
//! let config = Config { log: false, ..Config::default() };
//! let server = Server::bind("127.0.0.1:0", config)?
//!     .on_connection(|mut ws, request| {
//!         let greeting = format!("welcome to {}", request.path());
//!         ws.send(Message::text(greeting))?;
//!         while let Ok(msg) = ws.read() {
//!             match msg {
//!                 Message::Text(t) => ws.send(Message::text(t.to_uppercase()))?,
//!                 Message::Close(_) => break,
//!                 _ => {} // pings are answered by read() itself
//!             }
//!         }
//!         Ok(())
//!     })
//!     .spawn()?;
//!
//! let url = format!("ws://{}/lobby", server.local_addr());
//! let mut ws = stdws::client::connect(&url)?.socket;
//! assert_eq!(ws.read()?, Message::text("welcome to /lobby"));
//! ws.send(Message::text("quiet please"))?;
//! assert_eq!(ws.read()?, Message::text("QUIET PLEASE"));
//! ws.close(stdws::CloseCode::NORMAL, "")?;
//! server.shutdown(std::time::Duration::from_secs(5));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! When one thread reads while others send (a chat room, a program's output),
//! [`WebSocket::split`] gives a [`Reader`] and a cloneable [`Writer`]. Frames from
//! all writers and the reader's automatic answers (pongs, the close reply) share one
//! lock, so they never interleave; the `examples/chat.rs` rooms are built this way:
//!
//! ```
//! use stdws::{Config, Message, Server};
//! let server = Server::bind("127.0.0.1:0", Config { log: false, ..Config::default() })?
//!     .on_connection(|ws, _| {
//!         let (mut reader, writer) = ws.split()?;
//!         // Another thread talks on the same connection while this one reads.
//!         let ticker = writer.clone();
//!         std::thread::spawn(move || ticker.send(Message::text("tick")));
//!         while let Ok(Message::Text(t)) = reader.read() {
//!             writer.send(Message::text(format!("heard {t}")))?;
//!         }
//!         Ok(())
//!     })
//!     .spawn()?;
//! let mut ws = stdws::client::connect(&format!("ws://{}/", server.local_addr()))?.socket;
//! ws.send(Message::text("hi"))?;
//! let mut got = vec![ws.read()?, ws.read()?];
//! got.sort_by_key(|m| format!("{m:?}"));
//! assert_eq!(got, [Message::text("heard hi"), Message::text("tick")]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Your own stream
//!
//! [`handshake::accept`] runs the server side of the handshake on any `Read + Write`
//! and returns the request and any bytes read past it; [`WebSocket::with_limits`] then
//! speaks the protocol on the same stream. Here the "network" is memory:
//!
//! ```
//! use std::io::{Cursor, Read, Write};
//! use stdws::handshake::{accept, Options};
//! use stdws::{Limits, Message, Role, WebSocket};
//!
//! /// Reads from a script of bytes, records what is written.
//! struct Wire { input: Cursor<Vec<u8>>, output: Vec<u8> }
//! impl Read for Wire {
//!     fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> { self.input.read(buf) }
//! }
//! impl Write for Wire {
//!     fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> { self.output.write(buf) }
//!     fn flush(&mut self) -> std::io::Result<()> { Ok(()) }
//! }
//!
//! let mut input = b"GET /own HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
//!     Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".to_vec();
//! // The client was quick: its first frame (masked "Hello") came with the head.
//! input.extend([0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
//! let mut wire = Wire { input: Cursor::new(input), output: Vec::new() };
//!
//! let upgraded = accept(&mut wire, &Options::default())?;
//! assert!(wire.output.starts_with(b"HTTP/1.1 101 Switching Protocols\r\n"));
//! assert_eq!(upgraded.request.path(), "/own");
//! let mut ws = WebSocket::with_limits(
//!     wire, upgraded.request.variant, Role::Server, Limits::default(), &upgraded.leftover);
//! assert_eq!(ws.read()?, Message::text("Hello"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! `examples/own_stream.rs` does the same with a `TcpListener` of its own.
//!
//! ## Randomness
//!
//! Only a client needs it: a fresh nonce per connection and a fresh masking key per
//! frame. [`random::Random`] hashes a counter with the standard library's
//! `RandomState`, whose SipHash keys come from the operating system; no crate, and
//! unpredictable enough for masking (§10.3), though not a general-purpose
//! cryptographic generator. The [`client`] docs say more.
//!
//! ## Limits
//!
//! Every limit is a field of [`Config`] with a safe default: head bytes (16 KiB) and
//! header count (100), handshake time (10 s), frame (16 MiB) and message (64 MiB)
//! size, idle and write timeouts, the slowest pace a peer may read at (1 KiB/s),
//! thread stack (128 KiB), and connections (16384). One limit is for the whole
//! server: the [`budget`] of memory held for peers (256 MiB), which a connection that
//! needs more waits for, without reading, before it is closed with 1013.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod budget;
pub mod client;
pub mod deflate;
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
pub mod permessage_deflate;
pub mod random;
pub mod redis;
pub mod server;
pub mod socket;
pub mod tap;
pub mod utf8;

pub use echo::echo;
pub use error::{Error, Result, Violation};
pub use handshake::rfc6455::accept_key;
pub use handshake::{OriginPolicy, Request, Variant};
pub use message::{CloseCode, CloseFrame, Message, MessageRef};
pub use message_reader::{Limits, Part, Piece, Role};
pub use server::{Config, HandlerResult, Server, ServerHandle, SharedTcpStream};
pub use socket::{CloseState, Reader, Relayed, TryClone, WebSocket, WriteTimeout, Writer};
