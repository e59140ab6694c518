//! The echo application: every text and binary message goes back as it came.

use crate::error::{Error, Result};
use crate::message::MessageRef;
use crate::socket::{TryClone, WebSocket};
use std::io::{Read, Write};

/// Echoes until the peer closes. Returns `Ok` after a clean close handshake.
///
/// Messages are read without copying and answered from the reader's buffer. While
/// more input is already buffered, answers are queued and then written together:
/// a client that pipelines many small messages gets many echoes per system call.
///
/// A message goes back only once it has arrived whole. Echoing a large binary message
/// piece by piece as it arrives ([`Reader::read_part_ref`]) is faster, but it
/// deadlocks a client that sends a whole large message before it starts reading:
/// its receive buffer fills, the server blocks writing and stops reading, and the
/// client blocks sending. Echo must work for the simplest client, so it waits.
///
/// [`Reader::read_part_ref`]: crate::Reader::read_part_ref
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
        match reader.read_ref() {
            Ok(message @ (MessageRef::Text(_) | MessageRef::Binary(_))) => {
                writer.feed_ref(message)?;
            }
            Ok(MessageRef::Close(_)) | Err(Error::Closed) => return writer.flush(),
            Ok(MessageRef::Ping(_) | MessageRef::Pong(_)) => {}
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
