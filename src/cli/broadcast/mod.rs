//! Broadcast mode: the clients on one path form a room, and every message one of them
//! sends goes to every other member (not back to the sender), RFC 6455 and hixie-76
//! clients alike.
//!
//! Order: a message is handed to every member's queue while the room's lock is held,
//! so all members receive the room's messages in one and the same order.
//!
//! Memory: each message is held once, however many members it goes to, and what it
//! holds is drawn from the server's memory budget (`stdws::budget`) until the last
//! member has sent it. So members that fall behind are counted in the same pool as
//! every other connection; a sender that finds the pool full waits, without reading,
//! and is closed with 1013 if nothing frees up in time.
//!
//! A slow client never stalls the room: each member has a bounded queue (in messages
//! and in bytes) drained by its own writer thread, and the sender only ever *tries*
//! to enqueue. A member whose queue is full is dropped from the room and closed with
//! 1008 (policy violation, RFC 6455 §7.4.1) and a reason. hixie-76 has no binary
//! frames: a binary message meets `Error::BinaryOnHixie76` at such a member's writer
//! and is skipped there with a log line.
//!
//! With `--redis`, a room spans every instance that uses the same Redis ([`bus`]):
//! each message goes through Redis, and every instance hands it to its members in the
//! order Redis gives it back.

pub mod bus;
pub mod envelope;

use super::closing::{self, Signal};
use super::inspect::Inspector;
use super::log::{self, Log};
use super::queue::{bounded, End, Offer};
use super::spawn_named;
use std::net::Shutdown;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};
use stdws::budget::{Account, Budget, Refusal, Share};
use stdws::handshake::Rejection;
use stdws::http::Head;
use stdws::{
    CloseCode, Error, HandlerResult, Message, MessageRef, Request, SharedTcpStream, WebSocket,
    Writer,
};

/// Messages a member may have waiting before it counts as too slow. Many, because a
/// sender's burst of small messages is parsed from one read and queued at once, far
/// faster than any member's writer sends them one by one: with 256, a burst of 300
/// short messages dropped every other member, however fast it read.
pub const DEFAULT_QUEUE: usize = 4096;

/// Bytes of messages a member may have waiting (beyond one message of any size, which
/// always fits): the bound that matters for memory, since 4096 messages of the 64 MiB
/// allowed each could otherwise hold 256 GiB behind one reader that stopped. With the
/// socket buffers in front of it, a reader gets several megabytes more of slack.
pub const QUEUE_BYTES: usize = 16 << 20;

/// The reason sent with 1008 to a member that fell behind.
pub const OVERFLOW_REASON: &str = "send queue overflow: reading too slowly";

/// The reason sent with 1013 to a sender whose message the memory budget could not
/// hold in time.
pub const OVERLOADED_REASON: &str = "server memory budget exhausted; try again later";

/// A message on its way to the members, with the budget it holds: given back when
/// the last member has sent it (or dropped it).
struct Held {
    message: Message,
    /// An account of the message's own, holding its bytes; `None` without a budget.
    _bytes: Option<Account>,
}

/// One member as the room sees it.
struct Member {
    id: u64,
    peer: String,
    /// The room's end of the member's queue: dropping the member closes it.
    queue: End<Arc<Held>>,
    /// Set when the queue overflowed: the writer closes with 1008 instead of sending.
    overflowed: Arc<AtomicBool>,
}

/// The members on one path.
struct Room {
    path: String,
    members: Vec<Member>,
    /// With a bus: `SUBSCRIBE` was the last command sent for the room's channel.
    asked: bool,
    /// With a bus: commands sent for the channel and not yet confirmed.
    unconfirmed: u32,
    /// With a bus: subscribed and confirmed, so the room's messages come back from
    /// Redis and are delivered from there, in Redis's order.
    live: bool,
}

/// A place in a room taken when the upgrade is admitted, before the `101` is written,
/// so that a member hears every message sent after its `101`; its connection's
/// handler claims it a moment later.
struct Seat {
    /// The request's key (`Sec-WebSocket-Key`, or hixie-76's two keys): how the
    /// handler finds its seat.
    key: String,
    path: String,
    id: u64,
    waiting: End<Arc<Held>>,
    overflowed: Arc<AtomicBool>,
    taken_at: Instant,
}

/// How long an unclaimed seat is kept: its upgrade failed after admission (the
/// `101` could not be written), so no handler will come for it.
const SEAT_LIFETIME: Duration = Duration::from_secs(30);

/// Every room, kept sorted by path so that a path is found by binary search. (A
/// `HashMap` does the same, and brings its own table code and SipHash into the binary.)
pub struct Rooms {
    rooms: Mutex<Vec<Room>>,
    seats: Mutex<Vec<Seat>>,
    next_id: AtomicU64,
    queue: usize,
    log: Log,
    /// Redis, when rooms span instances.
    bus: Option<bus::Bus>,
    /// The server's memory budget, learnt from the first member's share: what the
    /// messages from Redis are drawn from.
    budget: OnceLock<Arc<Budget>>,
}

impl Rooms {
    /// No rooms yet; each member may have `queue` messages waiting.
    pub fn new(queue: usize, log: Log) -> Rooms {
        Rooms {
            rooms: Mutex::new(Vec::new()),
            seats: Mutex::new(Vec::new()),
            next_id: AtomicU64::new(0),
            queue: queue.max(1),
            log,
            bus: None,
            budget: OnceLock::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Room>> {
        lock(&self.rooms)
    }

    /// Where the room at `path` is in `rooms`, or where it would go.
    fn find(rooms: &[Room], path: &str) -> Result<usize, usize> {
        rooms.binary_search_by(|room| room.path.as_str().cmp(path))
    }

    /// The admission check (`Server::on_upgrade`): takes a seat in the room at the
    /// request's path, so the member is in the room before its `101` is written (and,
    /// with a bus, the room subscribed on Redis).
    /// Seats left unclaimed for [`SEAT_LIFETIME`] are given up here too.
    pub fn admit(&self, head: &Head) -> Result<(), Rejection> {
        let now = Instant::now();
        let stale: Vec<Seat> = {
            let mut seats = lock(&self.seats);
            let (stale, live) = std::mem::take(&mut *seats)
                .into_iter()
                .partition(|s| now.duration_since(s.taken_at) > SEAT_LIFETIME);
            *seats = live;
            stale
        };
        for seat in stale {
            self.leave(&seat.path, seat.id);
        }
        let path = head.path().to_string();
        let (id, waiting, overflowed) = self.join(&path, "(joining)");
        if let Some(bus) = &self.bus {
            self.await_live(bus, &path);
        }
        lock(&self.seats).push(Seat {
            key: seat_key(head),
            path,
            id,
            waiting,
            overflowed,
            taken_at: now,
        });
        Ok(())
    }

    /// The seat admitted for this request, taken out of the waiting list.
    fn claim(&self, request: &Request, peer: &str) -> Option<Seat> {
        let key = seat_key(&request.head);
        let path = request.path();
        let seat = {
            let mut seats = lock(&self.seats);
            let at = seats.iter().position(|s| s.key == key && s.path == path)?;
            seats.remove(at)
        };
        let mut rooms = self.lock();
        if let Ok(i) = Rooms::find(&rooms, path) {
            if let Some(member) = rooms[i].members.iter_mut().find(|m| m.id == seat.id) {
                member.peer = peer.to_string();
            }
        }
        Some(seat)
    }

    /// Puts a new member into the room at `path` (made if need be); its id, the
    /// member's end of its queue, and its overflow flag.
    fn join(&self, path: &str, peer: &str) -> (u64, End<Arc<Held>>, Arc<AtomicBool>) {
        let (queue, waiting) = bounded(self.queue, QUEUE_BYTES);
        let overflowed = Arc::new(AtomicBool::new(false));
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut rooms = self.lock();
        let i = match Rooms::find(&rooms, path) {
            Ok(i) => i,
            Err(i) => {
                let room = Room {
                    path: path.to_string(),
                    members: Vec::new(),
                    asked: false,
                    unconfirmed: 0,
                    live: false,
                };
                rooms.insert(i, room);
                if let Some(bus) = &self.bus {
                    bus.rooms_changed();
                }
                i
            }
        };
        rooms[i].members.push(Member {
            id,
            peer: peer.to_string(),
            queue,
            overflowed: overflowed.clone(),
        });
        (id, waiting, overflowed)
    }

    /// Serves one member: takes its seat in its room (or joins now, if it was not
    /// admitted through [`Rooms::admit`]), relays what it sends, leaves. Its writer
    /// is lent to `inspector` meanwhile, should a page be watching it.
    pub fn serve(
        &self,
        ws: WebSocket<SharedTcpStream>,
        request: &Request,
        inspector: &Inspector,
    ) -> HandlerResult {
        let path = request.path().to_string();
        let peer = log::peer(request);
        let tcp = ws.get_ref().clone();
        let (mut reader, writer) = ws.split()?;
        let _lent = inspector.attach(request, &writer);
        let own_writer = writer.clone();
        let (id, waiting, overflowed) = match self.claim(request, &peer) {
            Some(seat) => (seat.id, seat.waiting, seat.overflowed),
            None => self.join(&path, &peer),
        };
        let (finished, reader_done) = Signal::new();
        let drain = {
            let (overflowed, log, peer) = (overflowed.clone(), self.log, peer.clone());
            spawn_named(
                "stdws-room-writer",
                Box::new(move || {
                    let sent = drain(&waiting, &writer, &overflowed, log, &peer);
                    if overflowed.load(Ordering::Acquire) {
                        closing::unblock_reader(&tcp, &finished);
                    } else if !sent {
                        // The member's socket failed (or it read too slowly): end its
                        // reader too, so it leaves the room now.
                        let _ = tcp.shutdown(Shutdown::Both);
                    }
                }),
            )?
        };
        let members = {
            let rooms = self.lock();
            Rooms::find(&rooms, &path).map_or(0, |i| rooms[i].members.len())
        };
        self.log
            .debug(format_args!("{peer} joined {path} ({members} members)"));
        let share = reader.share().cloned();
        if let Some(share) = &share {
            let _ = self.budget.set(share.account.budget().clone());
        }
        let mut outgoing = self.bus.as_ref().map(|bus| bus.outgoing(&path, id));
        let outcome = loop {
            let message = match reader.read_ref() {
                Ok(m @ (MessageRef::Text(_) | MessageRef::Binary(_))) => m,
                Ok(MessageRef::Ping(_) | MessageRef::Pong(_)) => continue,
                Ok(MessageRef::Close(_)) | Err(Error::Closed) => break Ok(()),
                Err(Error::Protocol(_) | Error::Io(_) | Error::Overloaded(_)) => break Ok(()),
                Err(e) => break Err(e.into()),
            };
            if let (Some(bus), Some(outgoing)) = (&self.bus, &mut outgoing) {
                if !self.send_through(bus, outgoing, message) {
                    continue;
                }
            }
            let bytes = match hold(share.as_ref(), size_of(message)) {
                Ok(bytes) => bytes,
                Err(refusal) => {
                    self.log
                        .info(format_args!("{peer} {path}: closing with 1013: {refusal}"));
                    let _ = own_writer.close(CloseCode::TRY_AGAIN_LATER, OVERLOADED_REASON);
                    break Ok(());
                }
            };
            let held = Held {
                message: message.to_message(),
                _bytes: bytes,
            };
            self.relay(&path, id, Arc::new(held));
        };
        drop(reader_done);
        self.leave(&path, id);
        let _ = drain.join();
        outcome
    }

    /// Hands `message` to every other member of the room at `path`, under the lock.
    fn relay(&self, path: &str, from: u64, message: Arc<Held>) {
        let mut rooms = self.lock();
        let Ok(i) = Rooms::find(&rooms, path) else {
            return;
        };
        let size = size_of(message.message.as_message_ref());
        rooms[i].members.retain(|m| {
            if m.id == from {
                return true;
            }
            match m.queue.offer(message.clone(), size) {
                Offer::Queued => true,
                Offer::Full => {
                    m.overflowed.store(true, Ordering::Release);
                    // It will be sent none of them: free them now, not when its
                    // writer, likely blocked on a full socket, gets to look.
                    m.queue.clear();
                    self.log.info(format_args!(
                        "{} {path}: closing with 1008: {OVERFLOW_REASON}",
                        m.peer
                    ));
                    false
                }
                Offer::Closed => false,
            }
        });
    }

    fn leave(&self, path: &str, id: u64) {
        let mut rooms = self.lock();
        if let Ok(i) = Rooms::find(&rooms, path) {
            rooms[i].members.retain(|m| m.id != id);
            if rooms[i].members.is_empty() {
                match &self.bus {
                    // The bus unsubscribes, then forgets the room.
                    Some(bus) if rooms[i].asked || rooms[i].unconfirmed > 0 => bus.rooms_changed(),
                    _ => drop(rooms.remove(i)),
                }
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing under these locks can panic half-way through a change.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// What identifies a request between its admission and its handler: the client's
/// nonce (RFC 6455 §4.1), or hixie-76's two keys.
fn seat_key(head: &Head) -> String {
    match head.header("Sec-WebSocket-Key") {
        Some(key) => key.to_string(),
        None => {
            let key1 = head.header("Sec-WebSocket-Key1").unwrap_or("");
            let key2 = head.header("Sec-WebSocket-Key2").unwrap_or("");
            format!("{key1}\n{key2}")
        }
    }
}

/// The payload bytes of a data message.
fn size_of(message: MessageRef<'_>) -> usize {
    match message {
        MessageRef::Text(t) => t.len(),
        MessageRef::Binary(b) => b.len(),
        _ => 0,
    }
}

/// Draws `bytes` from the budget for a message on its way to the room: an account of
/// its own, so that it is given back when the message is, whoever drops it last.
fn hold(share: Option<&Share>, bytes: usize) -> Result<Option<Account>, Refusal> {
    let Some(share) = share else {
        return Ok(None);
    };
    let account = share.account.budget().account();
    account.reserve(bytes, share.patience)?;
    Ok(Some(account))
}

/// A member's writer thread: sends queued messages in order until the member leaves,
/// or closes with 1008 once its queue has overflowed. False if a send failed.
fn drain(
    waiting: &End<Arc<Held>>,
    writer: &Writer<SharedTcpStream>,
    overflowed: &AtomicBool,
    log: Log,
    peer: &str,
) -> bool {
    let mut warned = false;
    while let Some(held) = waiting.take() {
        if overflowed.load(Ordering::Acquire) {
            break;
        }
        match writer.send_ref(held.message.as_message_ref()) {
            Ok(()) => {}
            Err(Error::BinaryOnHixie76) => {
                if !warned {
                    log.info(format_args!(
                        "{peer}: {}: binary message skipped",
                        Error::BinaryOnHixie76
                    ));
                    warned = true;
                }
            }
            Err(_) => return false,
        }
    }
    if overflowed.load(Ordering::Acquire) {
        let _ = writer.close(CloseCode::POLICY_VIOLATION, OVERFLOW_REASON);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use stdws::http::{parse_head, Parsed};
    use stdws::Variant;

    fn head(path: &str, key: &str) -> Head {
        let text = format!(
            "GET {path} HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        match parse_head(text.as_bytes(), 100) {
            Ok(Parsed::Complete(head, _)) => head,
            other => panic!("not a head: {other:?}"),
        }
    }

    #[test]
    fn a_seat_taken_at_admission_hears_what_is_sent_before_its_handler_runs() {
        let rooms = Rooms::new(DEFAULT_QUEUE, Log { level: 0 });
        rooms.admit(&head("/lobby", "b-key")).unwrap();
        rooms.admit(&head("/elsewhere", "c-key")).unwrap();
        // Another member speaks between B's 101 and B's handler.
        let said = Arc::new(Held {
            message: Message::text("welcome"),
            _bytes: None,
        });
        rooms.relay("/lobby", u64::MAX, said);
        // B's handler claims its seat by path and key, and finds the message there.
        let request = Request {
            head: head("/lobby", "b-key"),
            variant: Variant::Rfc6455,
            protocol: None,
            peer: None,
            key3: None,
            deflate: None,
            extensions: None,
        };
        let seat = rooms.claim(&request, "b").expect("B's seat");
        let heard = seat.waiting.take().expect("a message");
        assert_eq!(heard.message, Message::text("welcome"));
        assert!(
            rooms.claim(&request, "b").is_none(),
            "a seat is claimed once"
        );
        // C, on another path, has its seat but heard nothing.
        let other = Request {
            head: head("/elsewhere", "c-key"),
            ..request
        };
        let seat = rooms.claim(&other, "c").expect("C's seat");
        rooms.leave("/elsewhere", seat.id);
        drop(rooms);
        assert!(seat.waiting.take().is_none(), "nothing for C");
    }
}
