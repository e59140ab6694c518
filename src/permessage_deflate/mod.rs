//! permessage-deflate on an open connection (RFC 7692 §6, §7.2): which window and
//! which history each direction uses, and the DEFLATE state of each direction,
//! created on the first compressed message and charged to the memory budget.
//!
//! [`crate::deflate`] knows bytes only; this module knows a connection. Once the
//! handshake has agreed on [`Parameters`], the reader gets an [`Inbound`] and the
//! writer an [`Outbound`] ([`WebSocket::set_deflate`](crate::WebSocket::set_deflate)):
//! what was agreed, and the record of the direction's state ([`Decompression`],
//! [`Compression`]) where one is kept ([`kept`]). Nothing else is allocated before a
//! message needs it, so a connection that negotiated compression and never uses it
//! costs a few bytes.
//!
//! **Memory.** Between messages a connection keeps only what the protocol needs:
//!
//! - without context takeover, nothing: each message is read and sent with working
//!   memory, and the direction's record, lent by [`scratch`] for that message;
//! - with context takeover, the history: the inflater's last `2^window_bits` bytes
//!   ([`Window`]), and on the sending side the last `2^window_bits` bytes sent, from
//!   which a lent compressor rebuilds its hash chains at the start of each message;
//! - except that a sending window over [`SMALL_WINDOW_BITS`] with context takeover
//!   keeps its whole compressor (about 210 KiB at 15 bits): rebuilding 32 KiB of
//!   chains for every message would cost more time than the message.
//!
//! Kept state is drawn from the connection's account in the memory budget
//! ([`crate::budget`]) when created, and given back when the connection ends; lent
//! memory is drawn at the start of a message and given back at its end. If the
//! budget cannot cover them:
//!
//! - the reading side waits for the budget as a growing message does, then fails the
//!   connection with 1013 (a compressed message cannot be read any other way);
//! - the sending side is not waited for: the message goes out uncompressed (RSV1 = 0),
//!   which RFC 7692 §6 always allows, and the next message tries again.

pub mod kept;
pub mod scratch;

pub use kept::{Inbound, Outbound};

use crate::budget::{Account, Refusal, Share};
use crate::deflate::extension::SMALL_WINDOW_BITS;
use crate::deflate::{Compressor, Inflater, Parameters, Window};
use crate::message_reader::Role;
use scratch::{ReadScratch, WriteScratch};
use std::time::Duration;

/// Without context takeover, messages shorter than this go out uncompressed.
///
/// Measured (`cargo run --release --example deflate_sizes threshold`, chat-like JSON
/// and English-like text cut to each size, each message compressed alone): below
/// 32 bytes compressing saves nothing on average (24 bytes of JSON become 26); at
/// 32 to 40 it saves a byte or three, and text only half the time; from 48 bytes on
/// it saves at least a tenth (JSON 48 to 42, text 48 to 43) nearly always. A short
/// message is also the likeliest to carry a secret next to text someone else chose
/// (CRIME, RFC 7692 §8.1), and each compressed message costs a few microseconds.
pub const MIN_COMPRESSED_SIZE: usize = 48;

/// With context takeover, messages shorter than this go out uncompressed: a message
/// that repeats what came before compresses well even when short (16 bytes of text
/// to 8.5 on average, of JSON to 4, after a previous message, with a 1 KiB window).
pub const MIN_COMPRESSED_SIZE_WITH_CONTEXT: usize = 16;

/// How one direction's sender compresses, and so what its receiver must accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Direction {
    /// The LZ77 window, 8..=15 bits (`*_max_window_bits`, RFC 7692 §7.1.2).
    pub window_bits: u8,
    /// History carries over from one message to the next (no
    /// `*_no_context_takeover`, RFC 7692 §7.1.1).
    pub context_takeover: bool,
}

impl Direction {
    /// What the peer compresses with: the client's parameters on a server.
    pub fn incoming(params: &Parameters, role: Role) -> Direction {
        Direction::of_sender(params, role == Role::Client)
    }

    /// What we compress with: the server's parameters on a server.
    pub fn outgoing(params: &Parameters, role: Role) -> Direction {
        Direction::of_sender(params, role == Role::Server)
    }

    fn of_sender(params: &Parameters, server_sends: bool) -> Direction {
        if server_sends {
            Direction {
                window_bits: params.server_max_window_bits,
                context_takeover: !params.server_no_context_takeover,
            }
        } else {
            Direction {
                window_bits: params.client_max_window_bits,
                context_takeover: !params.client_no_context_takeover,
            }
        }
    }
}

/// Bytes drawn from a connection's account, given back when dropped.
#[derive(Debug, Default)]
struct Drawn {
    account: Option<Account>,
    bytes: usize,
}

impl Drawn {
    /// Draws `bytes` from `share`'s account (nothing without a budget).
    fn draw(share: Option<&Share>, bytes: usize, patience: Duration) -> Result<Drawn, Refusal> {
        let Some(share) = share else {
            return Ok(Drawn::default());
        };
        share.account.reserve(bytes, patience)?;
        Ok(Drawn {
            account: Some(share.account.clone()),
            bytes,
        })
    }
}

impl Drop for Drawn {
    fn drop(&mut self) {
        if let Some(account) = &self.account {
            account.release(self.bytes);
        }
    }
}

/// The receiving half: the history kept between messages (with context takeover),
/// and for the message being read, a lent inflater and the compressed bytes read from
/// the stream but not yet inflated.
#[derive(Debug)]
pub struct Decompression {
    direction: Direction,
    window: Option<(Window, Drawn)>,
    lent: Option<(Box<ReadScratch>, Drawn)>,
    /// Compressed payload, unmasked; `input[used..]` is still to be inflated. Lent
    /// with the inflater, never larger than [`INPUT_CHUNK`].
    pub(crate) input: Vec<u8>,
    pub(crate) used: usize,
    /// The inflater stopped on a full output with a byte waiting.
    pub(crate) output_waiting: bool,
    /// The message's last frame is in and `00 00 ff ff` has been put back (§7.2.2).
    pub(crate) tail_fed: bool,
}

impl Decompression {
    /// Ready to inflate what a peer compressing as `direction` sends.
    pub fn new(direction: Direction) -> Decompression {
        Decompression {
            direction,
            window: None,
            lent: None,
            input: Vec::new(),
            used: 0,
            output_waiting: false,
            tail_fed: false,
        }
    }

    /// The inflater of the message being read. At the start of a message, borrows an
    /// inflater and input buffer (drawn from `share`, waiting at most its patience)
    /// and, with context takeover, lends it this direction's history, created on
    /// first use.
    ///
    /// Without context takeover nothing is kept: a peer that said it would reset and
    /// refers back anyway (Safari 15.0 to 15.3 did) has its message refused with
    /// 1007, as a distance too far back.
    pub(crate) fn inflater(&mut self, share: Option<&Share>) -> Result<&mut Inflater, Refusal> {
        let lent = match self.lent.take() {
            Some(lent) => lent,
            None => self.borrow(share)?,
        };
        Ok(&mut self.lent.insert(lent).0.inflater)
    }

    fn borrow(&mut self, share: Option<&Share>) -> Result<(Box<ReadScratch>, Drawn), Refusal> {
        let patience = share.map_or(Duration::ZERO, |s| s.patience);
        let Direction {
            window_bits,
            context_takeover,
        } = self.direction;
        if context_takeover && self.window.is_none() {
            let window = Window::new(window_bits);
            let drawn = Drawn::draw(share, window.memory(), patience)?;
            self.window = Some((window, drawn));
        }
        let mut lent = scratch::take_reader();
        let drawn = match Drawn::draw(share, lent.memory(), patience) {
            Ok(drawn) => drawn,
            Err(refusal) => {
                scratch::give_reader(lent);
                return Err(refusal);
            }
        };
        match self.window.as_mut() {
            Some((window, _)) => lent.inflater.swap_window(window),
            None => lent.inflater.restart(window_bits),
        }
        self.input = std::mem::take(&mut lent.input);
        self.used = 0;
        Ok((lent, drawn))
    }

    /// The message has been read: the history goes back to the connection, the
    /// inflater and input buffer to the stock.
    pub(crate) fn end(&mut self) {
        let Some((mut lent, drawn)) = self.lent.take() else {
            return;
        };
        if let Some((window, _)) = self.window.as_mut() {
            lent.inflater.swap_window(window);
        }
        self.input.clear();
        lent.input = std::mem::take(&mut self.input);
        self.used = 0;
        scratch::give_reader(lent);
        drop(drawn);
    }

    /// Whether a message's compressed bytes are still to be inflated.
    pub(crate) fn pending(&self) -> bool {
        self.used < self.input.len() || self.output_waiting
    }

    /// Bytes kept between messages: what an idle connection holds for this direction.
    pub fn kept(&self) -> usize {
        self.window.as_ref().map_or(0, |(w, _)| w.memory()) + self.input.capacity()
    }
}

/// The sending half: what is kept between messages (nothing, a history, or a whole
/// compressor; see the module's docs), the compressor lent for the message being
/// sent, and the compressed message being framed.
#[derive(Debug)]
pub struct Compression {
    direction: Direction,
    kept: Option<(Box<Compressor>, Drawn)>,
    history: Option<(Vec<u8>, Drawn)>,
    lent: Option<(Box<WriteScratch>, Drawn)>,
    /// The compressed payload of the message being sent.
    pub(crate) out: Vec<u8>,
}

/// The compressed-message buffer keeps at most this much capacity between messages
/// (and is charged for it); a larger message's buffer is freed once it is sent.
const RETAINED_OUTPUT: usize = 16 * 1024;

/// The most compressed bytes read from the stream (and then inflated) at a time: the
/// size the reading side's input buffer reaches, and is charged for.
pub(crate) const INPUT_CHUNK: usize = 16 * 1024;

impl Compression {
    /// Ready to compress as `direction` allows.
    pub fn new(direction: Direction) -> Compression {
        Compression {
            direction,
            kept: None,
            history: None,
            lent: None,
            out: Vec::new(),
        }
    }

    /// Whether this direction keeps a whole compressor between messages: context
    /// takeover with a window too large to rebuild chains over for every message.
    fn keeps_compressor(&self) -> bool {
        self.direction.context_takeover && self.direction.window_bits > SMALL_WINDOW_BITS
    }

    /// Compresses `payload` into `out`; false when it should go out plain instead
    /// because the budget has no room. After true, [`Compression::give_back`] must
    /// follow. Whether a message is worth compressing at all is [`Outbound`]'s call.
    pub(crate) fn compress(&mut self, payload: &[u8], share: Option<&Share>) -> bool {
        if self.keeps_compressor() {
            return self.compress_kept(payload, share);
        }
        let Direction {
            window_bits,
            context_takeover,
        } = self.direction;
        if context_takeover && self.history.is_none() {
            let history = Vec::with_capacity(1 << window_bits);
            let bytes = std::mem::size_of::<Vec<u8>>() + history.capacity();
            let Ok(drawn) = Drawn::draw(share, bytes, Duration::ZERO) else {
                return false;
            };
            self.history = Some((history, drawn));
        }
        let mut lent = scratch::take_writer(window_bits);
        let Ok(drawn) = Drawn::draw(share, lent.memory(RETAINED_OUTPUT), Duration::ZERO) else {
            scratch::give_writer(lent);
            return false;
        };
        let history = self.history.as_ref().map_or(&[][..], |(h, _)| h.as_slice());
        lent.compressor.start_from(history);
        self.out = std::mem::take(&mut lent.out);
        self.out.clear();
        lent.compressor.compress_message(payload, &mut self.out);
        if let Some((history, _)) = self.history.as_mut() {
            history.clear();
            history.extend_from_slice(lent.compressor.history());
        }
        self.lent = Some((lent, drawn));
        true
    }

    /// `compress` with this connection's own compressor, created on first use. Out of
    /// line, so that the stack of the other modes does not hold its frame.
    #[inline(never)]
    fn compress_kept(&mut self, payload: &[u8], share: Option<&Share>) -> bool {
        if self.kept.is_none() {
            let d = self.direction;
            let compressor = Box::new(Compressor::new(d.window_bits, d.context_takeover));
            let bytes = compressor.memory() + RETAINED_OUTPUT;
            let Ok(drawn) = Drawn::draw(share, bytes, Duration::ZERO) else {
                return false;
            };
            self.kept = Some((compressor, drawn));
        }
        let Some((compressor, _)) = self.kept.as_mut() else {
            return false;
        };
        self.out.clear();
        compressor.compress_message(payload, &mut self.out);
        true
    }

    /// Takes back the buffer lent out for framing, dropping a large one; a lent
    /// compressor goes back to the stock with it.
    pub(crate) fn give_back(&mut self, mut out: Vec<u8>) {
        if out.capacity() > RETAINED_OUTPUT {
            out = Vec::new();
        }
        match self.lent.take() {
            Some((mut lent, drawn)) => {
                lent.out = out;
                scratch::give_writer(lent);
                drop(drawn);
            }
            None => self.out = out,
        }
    }

    /// Bytes kept between messages: what an idle connection holds for this direction.
    pub fn kept(&self) -> usize {
        let compressor = self.kept.as_ref().map_or(0, |(c, _)| c.memory());
        let history = self.history.as_ref().map_or(0, |(h, _)| h.capacity());
        compressor + history + self.out.capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::budget::Budget;
    use std::sync::Arc;

    #[test]
    fn each_side_uses_the_senders_parameters() {
        let params = Parameters {
            server_no_context_takeover: true,
            client_no_context_takeover: false,
            server_max_window_bits: 9,
            client_max_window_bits: 12,
        };
        let server = Direction {
            window_bits: 9,
            context_takeover: false,
        };
        let client = Direction {
            window_bits: 12,
            context_takeover: true,
        };
        assert_eq!(Direction::outgoing(&params, Role::Server), server);
        assert_eq!(Direction::incoming(&params, Role::Client), server);
        assert_eq!(Direction::outgoing(&params, Role::Client), client);
        assert_eq!(Direction::incoming(&params, Role::Server), client);
    }

    /// A 32 KiB window with context takeover: the most state a direction can need.
    const WIDEST: Direction = Direction {
        window_bits: 15,
        context_takeover: true,
    };

    /// A share of `budget` with no allowance that never waits.
    fn impatient_share(budget: &Arc<Budget>) -> Share {
        Share {
            account: budget.account(),
            allowance: 0,
            patience: Duration::ZERO,
        }
    }

    /// A chat message whose second sending refers back to the first.
    pub(super) const CHAT: &[u8] =
        b"{\"user\":\"ada\",\"text\":\"the same words, the same words again\"}";

    /// Context takeover with 1 KiB windows (`--deflatememory small`).
    pub(super) const SMALL: Direction = Direction {
        window_bits: 10,
        context_takeover: true,
    };

    /// No context takeover (`--deflatememory stateless`).
    pub(super) const STATELESS: Direction = Direction {
        window_bits: 15,
        context_takeover: false,
    };

    /// Reads one compressed message of `text` through `d`, as the reader does.
    fn read_one(d: &mut Decompression, wire: &[u8], share: Option<&Share>) -> Vec<u8> {
        let mut out = Vec::new();
        let inflater = d.inflater(share).unwrap();
        inflater.inflate_message(wire, &mut out, 1 << 20).unwrap();
        d.end();
        out
    }

    /// Sends one message through `c`, as the writer does: its compressed bytes.
    fn send_one(c: &mut Compression, text: &[u8], share: Option<&Share>) -> Vec<u8> {
        assert!(c.compress(text, share));
        let out = std::mem::take(&mut c.out);
        let wire = out.clone();
        c.give_back(out);
        wire
    }

    #[test]
    fn state_is_drawn_on_first_use_and_given_back_with_it() {
        let budget = Budget::new(1 << 20);
        let share = impatient_share(&budget);
        let mut d = Decompression::new(WIDEST);
        let mut c = Compression::new(WIDEST);
        assert_eq!(budget.used(), 0);
        d.inflater(Some(&share)).unwrap();
        let reading = budget.used();
        assert!(
            reading > 2 * 32 * 1024,
            "history and lent inflater: {reading}"
        );
        d.end();
        let kept = budget.used();
        assert_eq!(kept, d.kept());
        assert!(
            (32 * 1024..33 * 1024).contains(&kept),
            "the history: {kept}"
        );
        assert!(c.compress(&[b'a'; 100], Some(&share)));
        assert!(budget.used() > kept + 150 * 1024, "{}", budget.used());
        drop((d, c));
        assert_eq!(budget.used(), 0);
    }

    #[test]
    fn small_windows_keep_their_history_only() {
        let budget = Budget::new(1 << 20);
        let share = impatient_share(&budget);
        let (mut c, mut d) = (Compression::new(SMALL), Decompression::new(SMALL));
        let text = CHAT;
        let first = send_one(&mut c, text, Some(&share));
        let second = send_one(&mut c, text, Some(&share));
        assert!(
            second.len() < first.len() / 4,
            "{second:?} refers to {first:?}"
        );
        assert_eq!(read_one(&mut d, &first, Some(&share)), text);
        assert_eq!(read_one(&mut d, &second, Some(&share)), text);
        let kept = c.kept() + d.kept();
        assert_eq!(kept, 1024 + 1024 + std::mem::size_of::<Window>());
        let charged = budget.used();
        assert!((kept..kept + 64).contains(&charged), "{charged}");
        drop((c, d));
        assert_eq!(budget.used(), 0);
    }

    #[test]
    fn stateless_keeps_nothing() {
        let budget = Budget::new(1 << 20);
        let share = impatient_share(&budget);
        let (mut c, mut d) = (Compression::new(STATELESS), Decompression::new(STATELESS));
        let text = CHAT;
        let first = send_one(&mut c, text, Some(&share));
        let second = send_one(&mut c, text, Some(&share));
        assert_eq!(first, second, "each message alone");
        assert_eq!(read_one(&mut d, &first, Some(&share)), text);
        assert_eq!(read_one(&mut d, &second, Some(&share)), text);
        assert_eq!((c.kept(), d.kept(), budget.used()), (0, 0, 0));
    }

    #[test]
    fn without_budget_room_a_message_goes_out_plain() {
        // Room for a compressor with a 1 KiB window, not for one with 32 KiB.
        let budget = Budget::new(150 * 1024);
        let share = impatient_share(&budget);
        for direction in [WIDEST, SMALL, STATELESS] {
            let mut c = Compression::new(direction);
            let fits = c.compress(&[b'a'; 100], Some(&share));
            assert_eq!(fits, direction.window_bits == 10, "{direction:?}");
            if fits {
                let out = std::mem::take(&mut c.out);
                c.give_back(out);
                assert_eq!(budget.used(), 1024 + std::mem::size_of::<Vec<u8>>());
            }
        }
        assert_eq!(budget.used(), 0);
    }

    #[test]
    fn without_budget_room_a_compressed_message_cannot_be_read() {
        let budget = Budget::new(100 * 1024);
        let share = impatient_share(&budget);
        let mut d = Decompression::new(WIDEST);
        assert!(d.inflater(Some(&share)).is_ok(), "one inflater fits");
        let mut again = Decompression::new(STATELESS);
        let other = Share {
            account: budget.account(),
            ..share
        };
        assert_eq!(
            again.inflater(Some(&other)).err(),
            Some(Refusal::TimedOut),
            "a second one does not"
        );
        d.end();
        assert!(
            again.inflater(Some(&other)).is_ok(),
            "once the first is back"
        );
    }
}
