//! permessage-deflate on an open connection (RFC 7692 §6, §7.2): which window and
//! which history each direction uses, and the DEFLATE state of each direction,
//! created on the first compressed message and charged to the memory budget.
//!
//! [`crate::deflate`] knows bytes only; this module knows a connection. Once the
//! handshake has agreed on [`Parameters`], the reader gets a [`Decompression`] and the
//! writer a [`Compression`] ([`WebSocket::set_deflate`](crate::WebSocket::set_deflate)).
//! Neither allocates its inflater or compressor before a message needs it, so a
//! connection that negotiated compression and never uses it costs a few bytes.
//!
//! **Memory.** An inflater holds its history ring (`2^window_bits` bytes) and about
//! 9 KiB of tables, and the reading side a 16 KiB input buffer; a compressor about
//! 210 KiB at a 15-bit window, and the sending side a 16 KiB output buffer. On a server both
//! are drawn from the connection's account in the memory budget
//! ([`crate::budget`]) when they are created, and given back when the connection ends
//! (they live as long as it does: with context takeover their history is part of the
//! protocol state). If the budget cannot cover them:
//!
//! - an inflater waits for the budget as a growing message does, then fails the
//!   connection with 1013 (a compressed message cannot be read any other way);
//! - a compressor is not waited for: the message goes out uncompressed (RSV1 = 0),
//!   which RFC 7692 §6 always allows, and the next message tries again.

use crate::budget::{Account, Refusal, Share};
use crate::deflate::{Compressor, Inflater, Parameters};
use crate::message_reader::Role;
use std::time::Duration;

/// Messages shorter than this go out uncompressed: a fixed-Huffman block of a few
/// bytes saves less than the time it takes, and a short message is the likeliest to
/// carry a secret next to text someone else chose (CRIME, RFC 7692 §8.1).
pub const MIN_COMPRESSED_SIZE: usize = 32;

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

/// The receiving half: the inflater once a compressed message has arrived, and the
/// compressed bytes read from the stream but not yet inflated.
#[derive(Debug)]
pub struct Decompression {
    direction: Direction,
    inflater: Option<(Box<Inflater>, Drawn)>,
    /// Compressed payload, unmasked; `input[used..]` is still to be inflated. Reused
    /// from frame to frame, never larger than [`INPUT_CHUNK`].
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
            inflater: None,
            input: Vec::new(),
            used: 0,
            output_waiting: false,
            tail_fed: false,
        }
    }

    /// The inflater, created (and drawn from `share`, waiting at most its patience)
    /// on first use.
    ///
    /// It keeps its history even when the peer said it would not
    /// (`*_no_context_takeover`): a peer that resets never refers back, the ring is
    /// allocated anyway, and Safari 15.0 to 15.3 said it would reset and did not.
    pub(crate) fn inflater(&mut self, share: Option<&Share>) -> Result<&mut Inflater, Refusal> {
        let (inflater, _) = match &mut self.inflater {
            Some(state) => state,
            empty => {
                let inflater = Box::new(Inflater::new(self.direction.window_bits, true));
                let patience = share.map_or(Duration::ZERO, |s| s.patience);
                let bytes = inflater.memory() + INPUT_CHUNK;
                let drawn = Drawn::draw(share, bytes, patience)?;
                empty.insert((inflater, drawn))
            }
        };
        Ok(inflater)
    }

    /// Whether a message's compressed bytes are still to be inflated.
    pub(crate) fn pending(&self) -> bool {
        self.used < self.input.len() || self.output_waiting
    }
}

/// The sending half: the compressor once a message is worth compressing, and the
/// compressed message being framed.
#[derive(Debug)]
pub struct Compression {
    direction: Direction,
    compressor: Option<(Box<Compressor>, Drawn)>,
    /// The compressed payload of the message being sent; reused.
    pub(crate) out: Vec<u8>,
    /// Whether text and binary messages are compressed at all.
    pub(crate) enabled: bool,
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
            compressor: None,
            out: Vec::new(),
            enabled: true,
        }
    }

    /// Compresses `payload` into `out`; false when it should go out plain instead:
    /// compression turned off, a message shorter than [`MIN_COMPRESSED_SIZE`], or no
    /// room in the budget for a compressor.
    pub(crate) fn compress(&mut self, payload: &[u8], share: Option<&Share>) -> bool {
        if !self.enabled || payload.len() < MIN_COMPRESSED_SIZE {
            return false;
        }
        if self.compressor.is_none() {
            let d = self.direction;
            let compressor = Box::new(Compressor::new(d.window_bits, d.context_takeover));
            let bytes = compressor.memory() + RETAINED_OUTPUT;
            let Ok(drawn) = Drawn::draw(share, bytes, Duration::ZERO) else {
                return false;
            };
            self.compressor = Some((compressor, drawn));
        }
        let Some((compressor, _)) = self.compressor.as_mut() else {
            return false;
        };
        self.out.clear();
        compressor.compress_message(payload, &mut self.out);
        true
    }

    /// Takes back the buffer lent out for framing, dropping a large one.
    pub(crate) fn give_back(&mut self, out: Vec<u8>) {
        self.out = out;
        if self.out.capacity() > RETAINED_OUTPUT {
            self.out = Vec::new();
        }
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

    #[test]
    fn state_is_drawn_on_first_use_and_given_back_with_it() {
        let budget = Budget::new(1 << 20);
        let share = impatient_share(&budget);
        let direction = WIDEST;
        let mut d = Decompression::new(direction);
        let mut c = Compression::new(direction);
        assert_eq!(budget.used(), 0);
        assert!(!c.compress(b"short", Some(&share)));
        assert_eq!(budget.used(), 0, "a short message needs no compressor");
        d.inflater(Some(&share)).unwrap();
        let inflater = budget.used();
        assert!(inflater > 32 * 1024, "{inflater}");
        assert!(c.compress(&[b'a'; 100], Some(&share)));
        assert!(budget.used() > inflater + 150 * 1024, "{}", budget.used());
        drop((d, c));
        assert_eq!(budget.used(), 0);
    }

    #[test]
    fn without_budget_room_a_message_goes_out_plain() {
        let budget = Budget::new(60 * 1024);
        let share = impatient_share(&budget);
        let direction = WIDEST;
        let mut c = Compression::new(direction);
        assert!(!c.compress(&[b'a'; 100], Some(&share)));
        assert_eq!(budget.used(), 0);
        let mut d = Decompression::new(direction);
        assert!(d.inflater(Some(&share)).is_ok(), "an inflater fits");
        let mut again = Decompression::new(direction);
        let other = Share {
            account: budget.account(),
            ..share
        };
        assert_eq!(
            again.inflater(Some(&other)).err(),
            Some(Refusal::TimedOut),
            "a second one does not"
        );
    }
}
