//! Rooms that span instances, with Redis pub/sub as the bus between them
//! (`--redis URL`): the room at a path is the channel `stdws:PATH`.
//!
//! **Order.** Every message goes through Redis, the sender's own instance included:
//! the member's thread publishes it, and each instance's subscription thread hands
//! what Redis sends back to its members, in the order Redis sends it. Redis runs one
//! command at a time and writes every subscriber's messages in that order, so every
//! member of a room, on every instance, receives the room's messages in one order.
//! The sender's instance recognises its member's messages by the sender in the
//! envelope ([`super::envelope`]) and leaves that member out.
//!
//! **Subscriptions.** An instance subscribes to a room's channel while it has members
//! there: `SUBSCRIBE` when the room is made, `UNSUBSCRIBE` once it is empty. The
//! upgrade that makes the room waits (up to 1 s) for Redis to confirm, so that its
//! member, like any other, hears every message sent after its `101`. Until Redis
//! confirms, the room is *not live* on this instance: its members' messages are
//! delivered here directly, and published marked so that this instance skips them if
//! they come back (`d` in the envelope).
//!
//! **Outages.** If Redis cannot be reached, or stops answering (no reply to a `PING`
//! after 5 s of silence), or a `PUBLISH` fails, the instance says so in one log line,
//! every room falls back to local delivery, and it reconnects with backoff (0.1 s
//! doubling to 1 s), then subscribes every room again. Pub/sub is at most once: a
//! message sent while Redis is unreachable reaches the members on its sender's
//! instance only; one published just as the connection fails may reach some
//! instances and not others, or none.
//!
//! **Slow members, memory.** The subscription thread only ever *offers* a message to
//! each member's bounded queue, as a local sender does: a member that reads too slowly
//! is closed with 1008 and never slows the others. Each message from Redis draws its
//! bytes from the server's memory budget until its last member has sent it; if the
//! budget is full, the message is dropped for this instance's members (logged),
//! since waiting would stall every room here. The reply being read is bounded by
//! `--maxmessagesize` (plus the envelope's header).

use super::envelope::{self, Sender, HEADER};
use super::{lock, size_of, Held, Rooms};
use crate::cli::log::Log;
use crate::cli::spawn_named;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};
use stdws::redis::connection::Connection;
use stdws::redis::resp::Limits;
use stdws::redis::subscriber::{Event, Subscriber};
use stdws::redis::target::Target;
use stdws::MessageRef;

/// What a room's channel is named: this, then the room's path.
pub const CHANNEL_PREFIX: &str = "stdws:";

/// How long the subscription thread waits for an event before it looks at rooms made
/// or emptied meanwhile.
const POLL: Duration = Duration::from_millis(50);

/// How long connecting, logging in, and each `PUBLISH` reply may take.
const TIMEOUT: Duration = Duration::from_secs(2);

/// A subscription silent this long is sent a `PING`; silent twice as long, lost.
const QUIET: Duration = Duration::from_secs(5);

/// How long an upgrade to a room new on this instance waits for its subscription.
const SUBSCRIBE_WAIT: Duration = Duration::from_secs(1);

/// The first wait before reconnecting, doubled each failure up to [`LAST_RETRY`].
const FIRST_RETRY: Duration = Duration::from_millis(100);
const LAST_RETRY: Duration = Duration::from_secs(1);

/// An instance's link to Redis.
pub struct Bus {
    target: Target,
    /// This instance's id in the envelopes it publishes: random per process.
    instance: u64,
    /// The connection members' threads publish on, one `PUBLISH` at a time; `None`
    /// while Redis is unreachable.
    publisher: Mutex<Option<Connection>>,
    /// A room was made or emptied: the subscription thread (un)subscribes.
    changed: AtomicBool,
    /// Signalled (with the rooms' lock) when a room becomes live.
    subscribed: Condvar,
    /// The longest payload a subscription accepts.
    max_bulk: usize,
}

/// What a member's thread keeps to send through the bus: its room, its id, and the
/// envelope buffer, reused message after message.
pub struct Outgoing {
    path: String,
    channel: Vec<u8>,
    member: u64,
    envelope: Vec<u8>,
}

fn channel_of(path: &str) -> Vec<u8> {
    [CHANNEL_PREFIX.as_bytes(), path.as_bytes()].concat()
}

impl Bus {
    pub(super) fn rooms_changed(&self) {
        self.changed.store(true, Ordering::Release);
    }

    pub(super) fn outgoing(&self, path: &str, member: u64) -> Outgoing {
        Outgoing {
            path: path.to_string(),
            channel: channel_of(path),
            member,
            envelope: Vec::new(),
        }
    }

    /// Publishes `envelope`; false if there is no connection or it failed (and is
    /// then dropped: the subscription thread reconnects).
    fn publish(&self, channel: &[u8], envelope: &[u8]) -> bool {
        let mut publisher = lock(&self.publisher);
        let Some(connection) = publisher.as_mut() else {
            return false;
        };
        match connection.publish(channel, envelope) {
            Ok(_) => true,
            Err(_) => {
                *publisher = None;
                false
            }
        }
    }

    fn limits(&self) -> Limits {
        Limits {
            max_bulk: self.max_bulk,
            max_items: 4,
        }
    }
}

impl Rooms {
    /// Rooms that span every instance using the Redis at `target`; messages up to
    /// `max_message` bytes cross. Starts the subscription thread, which connects (and
    /// reconnects) in the background: rooms work locally until it has.
    pub fn with_redis(
        queue: usize,
        log: Log,
        target: Target,
        max_message: usize,
    ) -> io::Result<Arc<Rooms>> {
        let mut rooms = Rooms::new(queue, log);
        rooms.bus = Some(Bus {
            target,
            instance: stdws::random::Random::new().next_u64(),
            publisher: Mutex::new(None),
            changed: AtomicBool::new(false),
            subscribed: Condvar::new(),
            max_bulk: max_message.saturating_add(HEADER).max(64 << 10),
        });
        let rooms = Arc::new(rooms);
        let running = rooms.clone();
        spawn_named("stdws-redis", Box::new(move || subscription(&running)))?;
        Ok(rooms)
    }

    /// While Redis is connected, waits (up to [`SUBSCRIBE_WAIT`]) until the room at
    /// `path` is live: the admission of a room's first member on this instance waits
    /// so, and then hears, like any member, every message sent after its `101`, from
    /// every instance.
    pub(super) fn await_live(&self, bus: &Bus, path: &str) {
        if lock(&bus.publisher).is_none() {
            return;
        }
        let rooms = self.lock();
        let _ = bus
            .subscribed
            .wait_timeout_while(rooms, SUBSCRIBE_WAIT, |rooms| {
                Rooms::find(rooms, path).is_ok_and(|i| !rooms[i].live)
            });
    }

    /// Sends a member's message through the bus: whether it must still be delivered
    /// directly to this instance's members (the room is not live here, or publishing
    /// failed).
    pub(super) fn send_through(
        &self,
        bus: &Bus,
        out: &mut Outgoing,
        message: MessageRef<'_>,
    ) -> bool {
        let live = {
            let rooms = self.lock();
            Rooms::find(&rooms, &out.path).is_ok_and(|i| rooms[i].live)
        };
        let sender = Sender {
            instance: bus.instance,
            member: out.member,
            direct: !live,
        };
        if !envelope::seal(&mut out.envelope, message, sender) {
            return false;
        }
        let published = bus.publish(&out.channel, &out.envelope);
        !(live && published)
    }

    /// The (un)subscriptions that make Redis match the rooms: a channel for each room
    /// with members, none for an empty one (forgotten once Redis has confirmed).
    fn reconcile(&self) -> Vec<(bool, Vec<u8>)> {
        let mut rooms = self.lock();
        let mut commands = Vec::new();
        rooms.retain_mut(|room| {
            let wanted = !room.members.is_empty();
            if wanted != room.asked {
                room.asked = wanted;
                room.unconfirmed += 1;
                room.live = false;
                commands.push((wanted, channel_of(&room.path)));
            }
            wanted || room.unconfirmed > 0
        });
        commands
    }

    /// Redis confirmed a command for `channel`: once all are, the room is live if the
    /// last was `SUBSCRIBE`, and forgotten if it was `UNSUBSCRIBE` and still empty.
    fn confirmed(&self, channel: &[u8]) {
        let Some(path) = path_of(channel) else {
            return;
        };
        let mut rooms = self.lock();
        let Ok(i) = Rooms::find(&rooms, path) else {
            return;
        };
        let room = &mut rooms[i];
        room.unconfirmed = room.unconfirmed.saturating_sub(1);
        if room.unconfirmed == 0 {
            room.live = room.asked;
            if room.live {
                self.log.debug(format_args!("{path}: subscribed on redis"));
                if let Some(bus) = &self.bus {
                    bus.subscribed.notify_all();
                }
            }
            if !room.asked && room.members.is_empty() {
                rooms.remove(i);
            }
        }
    }

    /// Redis is gone: every room is local, nothing is subscribed or awaited.
    fn all_local(&self) {
        let mut rooms = self.lock();
        rooms.retain_mut(|room| {
            room.asked = false;
            room.unconfirmed = 0;
            room.live = false;
            !room.members.is_empty()
        });
    }

    /// A message from Redis, to this instance's members of its room (all but its
    /// sender, if the sender is here; none if this instance delivered it already).
    fn deliver(&self, bus: &Bus, channel: &[u8], payload: Vec<u8>) {
        let Some(path) = path_of(channel) else {
            return;
        };
        let Some((sender, message)) = envelope::open(payload) else {
            self.log
                .info(format_args!("redis: {path}: not a stdws message; skipped"));
            return;
        };
        let own = sender.instance == bus.instance;
        if own && sender.direct {
            return;
        }
        let bytes = match self.budget.get() {
            Some(budget) => {
                let account = budget.account();
                let size = size_of(message.as_message_ref());
                if let Err(refusal) = account.reserve(size, Duration::ZERO) {
                    self.log
                        .info(format_args!("redis: {path}: message dropped: {refusal}"));
                    return;
                }
                Some(account)
            }
            None => None,
        };
        let from = if own { sender.member } else { u64::MAX };
        self.relay(
            path,
            from,
            Arc::new(Held {
                message,
                _bytes: bytes,
            }),
        );
    }
}

fn path_of(channel: &[u8]) -> Option<&str> {
    std::str::from_utf8(channel.strip_prefix(CHANNEL_PREFIX.as_bytes())?).ok()
}

/// The subscription thread: connects, serves the subscription until it fails, falls
/// back to local rooms, waits, and again, for as long as the process runs.
fn subscription(rooms: &Rooms) {
    let Some(bus) = &rooms.bus else {
        return;
    };
    let log = rooms.log;
    let target = &bus.target;
    let mut retry = FIRST_RETRY;
    let mut said_down = false;
    loop {
        let opened = Connection::open(target, TIMEOUT, bus.limits()).and_then(|s| {
            let small = Limits {
                max_bulk: 4096,
                max_items: 4,
            };
            let publisher = Connection::open(target, TIMEOUT, small)?;
            s.set_read_timeout(POLL)?;
            Ok((Subscriber::new(s), publisher))
        });
        let (subscriber, publisher) = match opened {
            Ok(both) => both,
            Err(e) => {
                if !said_down {
                    log.info(format_args!(
                        "redis {target}: unreachable ({e}); rooms are local to this \
                         instance until it answers (retrying)"
                    ));
                    said_down = true;
                }
                thread::sleep(retry);
                retry = (retry * 2).min(LAST_RETRY);
                continue;
            }
        };
        log.info(format_args!(
            "redis {target}: connected; rooms span the instances using it"
        ));
        retry = FIRST_RETRY;
        *lock(&bus.publisher) = Some(publisher);
        bus.rooms_changed();
        let e = serve(rooms, bus, subscriber);
        *lock(&bus.publisher) = None;
        rooms.all_local();
        log.info(format_args!(
            "redis {target}: lost ({e}); rooms are local to this instance until it \
             answers (retrying)"
        ));
        said_down = true;
    }
}

/// Serves one subscription: (un)subscribes as rooms come and go, delivers what
/// arrives, checks that Redis still answers; the error that ended it.
fn serve(rooms: &Rooms, bus: &Bus, mut subscriber: Subscriber) -> io::Error {
    let mut heard = Instant::now();
    let mut pinged = false;
    loop {
        if bus.changed.swap(false, Ordering::AcqRel) {
            for (subscribe, channel) in rooms.reconcile() {
                let sent = if subscribe {
                    subscriber.subscribe(&channel)
                } else {
                    subscriber.unsubscribe(&channel)
                };
                if let Err(e) = sent {
                    return e;
                }
            }
        }
        if lock(&bus.publisher).is_none() {
            return io::Error::new(io::ErrorKind::BrokenPipe, "a PUBLISH failed");
        }
        match subscriber.next_event() {
            Ok(event) => {
                heard = Instant::now();
                pinged = false;
                match event {
                    Event::Message { channel, payload } => rooms.deliver(bus, &channel, payload),
                    Event::Subscribed(channel) | Event::Unsubscribed(channel) => {
                        rooms.confirmed(&channel)
                    }
                    Event::Pong => {}
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                let silent = heard.elapsed();
                if silent > 2 * QUIET {
                    return io::Error::new(io::ErrorKind::TimedOut, "no answer to PING");
                }
                if silent > QUIET && !pinged {
                    if let Err(e) = subscriber.ping() {
                        return e;
                    }
                    pinged = true;
                }
            }
            Err(e) => return e,
        }
    }
}
