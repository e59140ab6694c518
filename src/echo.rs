//! The echo application: every text and binary message goes back as it came.

use crate::error::{Error, Result};
use crate::message::MessageRef;
use crate::message_reader::Part;
use crate::socket::{Reader, Relayed, TryClone, WebSocket, WriteTimeout, Writer};
use std::io::{Read, Write};
use std::time::Duration;

/// Binary frames of this size or more go back in pieces as they arrive; each piece
/// is what one read brought, at most this much. Smaller messages go back whole.
///
/// Measured with 1 MiB messages: echoing whole messages cost about twice a raw TCP
/// echo's CPU per byte, nearly all of it in the kernel's copies, because each message
/// sat in buffers long enough to leave the cache. Passing on what each read brings
/// keeps the bytes hot, as a TCP echo does; reads of up to 1 MiB cost less CPU than
/// reads capped at 256 or 512 KiB.
const PIECE_SIZE: usize = 1024 * 1024;

/// How long a piece may wait for the peer to take it. A peer that reads while it
/// sends takes pieces within microseconds; one that is still sending and not reading
/// never will, and its message is then gathered whole instead.
const PATIENCE: Duration = Duration::from_millis(50);

/// Echoes until the peer closes. Returns `Ok` after a clean close handshake.
///
/// Messages are read without copying and answered from the reader's buffer. While
/// more input is already buffered, answers are queued and then written together:
/// a client that pipelines many small messages gets many echoes per system call.
///
/// A binary message sent in frames of 1 MiB or more goes back as a fragmented
/// message (RFC 6455 §5.4) while it is still arriving, one fragment per read, as a TCP
/// echo would. That needs a peer that reads while it sends. The simplest client sends
/// a whole message before it reads: its receive buffer fills, and a blocking write
/// would wait for it while it waits for us. So each piece gets 50 ms to leave
/// ([`Writer::relay_piece`]); if the peer takes nothing in that time, the rest of the
/// message is read whole and only then written. Text always goes back whole, once it
/// is known to be valid UTF-8.
///
/// [`Writer::relay_piece`]: crate::Writer::relay_piece
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
pub fn echo<S: Read + Write + TryClone + WriteTimeout>(ws: WebSocket<S>) -> Result<()> {
    let (reader, writer) = ws.split()?;
    echo_split(reader, writer)
}

/// [`echo()`] on a connection already split, for a caller that keeps a clone of the
/// writer (the `stdws` inspector pings through one).
pub fn echo_split<S: Read + Write + WriteTimeout>(
    mut reader: Reader<S>,
    writer: Writer<S>,
) -> Result<()> {
    // A piece stalled: the rest of that message is read whole before anything is written.
    let mut gathering = false;
    loop {
        let piece_size = if gathering { usize::MAX } else { PIECE_SIZE };
        match reader.read_part_ref(piece_size) {
            Ok(Part::Message(message @ (MessageRef::Text(_) | MessageRef::Binary(_)))) => {
                writer.feed_ref(message)?;
            }
            Ok(Part::Piece(piece)) if gathering => {
                writer.feed_piece(piece)?;
                gathering = !piece.last;
            }
            Ok(Part::Piece(piece)) => {
                gathering = writer.relay_piece(piece, PATIENCE)? == Relayed::Stalled && !piece.last;
            }
            Ok(Part::Message(MessageRef::Close(_))) | Err(Error::Closed) => return writer.flush(),
            Ok(Part::Message(MessageRef::Ping(_) | MessageRef::Pong(_))) => {}
            Err(e) => {
                let _ = writer.flush();
                return Err(e);
            }
        }
        if !gathering && !reader.has_buffered_input() {
            writer.flush()?;
        }
    }
}
