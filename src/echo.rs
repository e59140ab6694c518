//! The echo application: every text and binary message goes back as it came.

use crate::error::{Error, Result};
use crate::message::MessageRef;
use crate::message_reader::Part;
use crate::socket::{TryClone, WebSocket};
use std::io::{Read, Write};

/// Binary messages longer than this are echoed piece by piece as they arrive.
///
/// Measured, not guessed: with 1 MiB messages, echoing whole messages cost about twice
/// a raw TCP echo's CPU per byte, nearly all of it in the kernel's copies, because
/// each message sat in socket and message buffers long enough to leave the cache.
/// 256 KiB pieces helped little; 64 KiB pieces brought the cost close to raw TCP's.
const PIECE_SIZE: usize = 64 * 1024;

/// Echoes until the peer closes. Returns `Ok` after a clean close handshake.
///
/// Messages are read without copying and answered from the reader's buffer. While
/// more input is already buffered, answers are queued and then written together:
/// a client that pipelines many small messages gets many echoes per system call.
///
/// A binary message longer than 64 KiB goes back as a fragmented message (RFC 6455
/// §5.4), one fragment per 64 KiB received: the echo flows while the message is
/// still arriving, as a TCP echo would, and the connection never holds more than
/// one piece of it. Text always goes back whole, once it is known to be valid UTF-8.
///
/// ```
/// let config = stdws::Config { log: false, ..Default::default() };
/// let server = stdws::Server::bind("127.0.0.1:0", config)?
///     .on_connection(|ws, _| Ok(stdws::echo(ws)?))
///     .spawn()?;
/// let mut ws = stdws::client::connect(&format!("ws://{}/", server.local_addr()))?.socket;
/// ws.send(stdws::Message::text("echo?"))?;
/// assert_eq!(ws.read()?, stdws::Message::text("echo?"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn echo<S: Read + Write + TryClone>(ws: WebSocket<S>) -> Result<()> {
    let (mut reader, writer) = ws.split()?;
    loop {
        match reader.read_part_ref(PIECE_SIZE) {
            Ok(Part::Message(message @ (MessageRef::Text(_) | MessageRef::Binary(_)))) => {
                writer.feed_ref(message)?;
            }
            Ok(Part::Piece(piece)) => writer.feed_piece(piece)?,
            Ok(Part::Message(MessageRef::Close(_))) | Err(Error::Closed) => return writer.flush(),
            Ok(Part::Message(MessageRef::Ping(_) | MessageRef::Pong(_))) => {}
            Err(e) => {
                let _ = writer.flush();
                return Err(e);
            }
        }
        if !reader.has_buffered_input() {
            writer.flush()?;
        }
    }
}
