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
/// ```no_run
/// let server = stdws::Server::bind("127.0.0.1:9001", stdws::Config::default())?
///     .on_connection(|ws, _| Ok(stdws::echo(ws)?));
/// # Ok::<(), std::io::Error>(())
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
