//! Chat rooms: every text a client sends goes to the other clients on the same path.
//!
//!     cargo run --example chat                     # ws://127.0.0.1:9002/ROOM
//!     cargo run --example chat -- 127.0.0.1:9100
//!
//! Open two browser tabs on the echo page of `cargo run` pointed at this port, or two
//! `cargo run --example client` sessions on `ws://127.0.0.1:9002/lobby`.
//!
//! This is what [`WebSocket::split`](stdws::WebSocket::split) is for: each connection's
//! thread blocks in `read`, while other connections' threads send to it through its
//! [`Writer`]. A writer is cheap to clone and serialises its frames with one lock, so
//! a message from a neighbour never interleaves with a pong the reader sends.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use stdws::{Config, Message, Server, SharedTcpStream, Writer};

/// One member of a room: an id, and the writing half of its connection.
type Member = (u64, Writer<SharedTcpStream>);

/// Rooms by path.
#[derive(Default)]
struct Rooms {
    next_id: AtomicU64,
    rooms: Mutex<HashMap<String, Vec<Member>>>,
}

impl Rooms {
    fn join(&self, room: &str, writer: Writer<SharedTcpStream>) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut rooms = self.rooms.lock().unwrap();
        rooms
            .entry(room.to_string())
            .or_default()
            .push((id, writer));
        id
    }

    fn leave(&self, room: &str, id: u64) {
        let mut rooms = self.rooms.lock().unwrap();
        if let Some(members) = rooms.get_mut(room) {
            members.retain(|(member, _)| *member != id);
            if members.is_empty() {
                rooms.remove(room);
            }
        }
    }

    /// Sends `text` to everyone in `room` but `from`. The list is copied first, so
    /// the lock is not held while sending; a member whose send fails is dropped.
    fn say(&self, room: &str, from: u64, text: &str) {
        let others: Vec<Member> = match self.rooms.lock().unwrap().get(room) {
            Some(members) => members
                .iter()
                .filter(|(id, _)| *id != from)
                .cloned()
                .collect(),
            None => return,
        };
        for (id, writer) in others {
            if writer.send(Message::text(text)).is_err() {
                self.leave(room, id);
            }
        }
    }
}

fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or("127.0.0.1:9002".into());
    let rooms = Arc::new(Rooms::default());
    let server = Server::bind(addr, Config::default())?.on_connection(move |ws, request| {
        let room = request.path().to_string();
        let (mut reader, writer) = ws.split()?;
        let id = rooms.join(&room, writer);
        // Whatever ends the loop (a close, an error), leave the room.
        let result = loop {
            match reader.read() {
                Ok(Message::Text(text)) => rooms.say(&room, id, &text),
                Ok(Message::Close(_)) | Err(stdws::Error::Closed) => break Ok(()),
                Ok(_) => {} // binary is not chat; pings were answered by read()
                Err(e) => break Err(e.into()),
            }
        };
        rooms.leave(&room, id);
        result
    });
    eprintln!("chat on ws://{}/ROOM", server.local_addr()?);
    server.run()
}
