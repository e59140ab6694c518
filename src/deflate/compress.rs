//! The compressor: bytes to DEFLATE blocks (RFC 1951), ending each message as RFC
//! 7692 §7.2.1 asks.
//!
//! LZ77 finds repeats through hash chains: every position is filed under a hash of
//! its next three bytes, and the positions with the same hash are linked newest
//! first, so a match is looked for among the most recent few ([`Compressor::new`]'s
//! chain limit) within the window. Each block of up to [`BLOCK`] input bytes is then
//! sent whichever way is shortest: with the fixed Huffman codes, with codes built for
//! the block (dynamic), or stored as it is.
//!
//! A message ends with an empty stored block (a sync flush) minus its last four bytes
//! `00 00 ff ff`; BFINAL is never set, so with context takeover the next message
//! continues the same stream. Without context takeover each message starts afresh.
//!
//! Memory is taken once, in [`Compressor::new`]: `2^window_bits` + 16 KiB of input,
//! twice `2^window_bits` in chain links, up to 32 KiB of hash heads and 64 KiB of
//! tokens, and about 8 KiB of code tables and the work of building them: about 215
//! KiB at a window of 15 bits, 90 KiB at 8. A compressor needs none of it between
//! messages except the history ([`Compressor::history`]): a connection may keep just
//! that and lend it to any compressor with the same window ([`Compressor::start_from`]).

use super::alphabet::{
    distance_code, length_code, DISTANCE_BASE, DISTANCE_EXTRA, DISTANCE_SYMBOLS, END_OF_BLOCK,
    FIXED_DISTANCE_LENGTHS, FIXED_LITERAL_LENGTHS, LENGTH_BASE, LENGTH_EXTRA,
    LITERAL_LENGTH_SYMBOLS, MAX_MATCH, MIN_MATCH,
};
use super::bits::BitWriter;
use super::code_lengths::DynamicHeader;
use super::huffman::{canonical_codes, limited_lengths_in, LengthWork, MAX_CODE_BITS};

/// The most input bytes compressed as one block.
pub const BLOCK: usize = 16 * 1024;

/// How many earlier positions with the same hash are tried, by default.
pub const DEFAULT_CHAIN: usize = 8;

/// An empty link in a hash chain.
const NIL: u16 = u16::MAX;

/// A DEFLATE compressor for one direction of one connection.
///
/// ```
/// use stdws::deflate::Compressor;
/// let mut compressor = Compressor::new(15, true);
/// let mut wire = Vec::new();
/// compressor.compress_message(b"", &mut wire);
/// assert_eq!(wire, [0x00]); // RFC 7692 §7.2.3.6: an empty message
/// wire.clear();
/// compressor.compress_message(b"Hello", &mut wire);
/// assert_eq!(wire, [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]); // §7.2.3.1
/// wire.clear();
/// compressor.compress_message(b"Hello", &mut wire);
/// // Context takeover: the second "Hello" is one match of 5 bytes 5 back (zlib's
/// // answer in §7.2.3.2, `f2 00 11 00 00`, is a literal "H" and a match of 4).
/// assert_eq!(wire, [0x02, 0x13, 0x00, 0x00]);
/// ```
#[derive(Debug, Clone)]
pub struct Compressor {
    context_takeover: bool,
    /// The window's size, `2^window_bits`.
    window: usize,
    chain: usize,
    /// History (up to a window's worth), then input not yet compressed.
    buf: Vec<u8>,
    /// Where the input not yet compressed starts in `buf`.
    pending: usize,
    /// For each hash, the newest position in `buf` with it.
    head: Vec<u16>,
    hash_bits: u32,
    /// For each position (modulo the window), the previous one with the same hash.
    /// Position `p` of `buf` is at `(p + slid) % window`.
    prev: Vec<u16>,
    /// How far `buf` has slid, modulo the window: a slide moves no link, so `prev`
    /// is never rotated (a rotation adds about 700 bytes of generic code to the
    /// size-profile binary).
    slid: usize,
    /// The current block as literals (`byte`) and matches (`length << 16 | distance`).
    tokens: Vec<u32>,
    bits: BitWriter,
    /// The working arrays of building a code.
    work: LengthWork,
    tables: Box<Tables>,
}

/// A block's symbol counts, its codes and its header: about 5 KiB, kept on the heap
/// and filled in place. Every page of stack a connection's thread touches stays
/// with it for as long as the connection lives: built on the stack, or returned by
/// value, these would add pages to every thread that compresses.
#[derive(Debug, Clone)]
struct Tables {
    literal_freqs: [u32; LITERAL_LENGTH_SYMBOLS],
    distance_freqs: [u32; DISTANCE_SYMBOLS],
    fixed: Codes,
    dynamic: Codes,
    header: DynamicHeader,
}

/// A block's Huffman codes: lengths and bit-reversed codes.
#[derive(Debug, Clone)]
struct Codes {
    literal_lengths: [u8; 288],
    literal_codes: [u16; 288],
    distance_lengths: [u8; 32],
    distance_codes: [u16; 32],
}

impl Tables {
    /// Tables with the fixed codes made and nothing else, straight on the heap: all
    /// zeros is how `Box::new` allocates them zeroed instead of building them on the
    /// stack and copying them over.
    fn new() -> Box<Tables> {
        let mut tables = Box::new(Tables {
            literal_freqs: [0; LITERAL_LENGTH_SYMBOLS],
            distance_freqs: [0; DISTANCE_SYMBOLS],
            fixed: Codes::EMPTY,
            dynamic: Codes::EMPTY,
            header: DynamicHeader::EMPTY,
        });
        let fixed = &mut tables.fixed;
        fixed
            .literal_lengths
            .copy_from_slice(&FIXED_LITERAL_LENGTHS);
        fixed
            .distance_lengths
            .copy_from_slice(&FIXED_DISTANCE_LENGTHS);
        fixed.make_codes();
        tables
    }
}

impl Codes {
    /// No codes at all.
    const EMPTY: Codes = Codes {
        literal_lengths: [0; 288],
        literal_codes: [0; 288],
        distance_lengths: [0; 32],
        distance_codes: [0; 32],
    };

    /// The codes for the lengths held.
    fn make_codes(&mut self) {
        canonical_codes(&self.literal_lengths, &mut self.literal_codes);
        canonical_codes(&self.distance_lengths, &mut self.distance_codes);
    }

    /// Sends a symbol of the literal/length alphabet.
    fn put_literal(&self, bits: &mut BitWriter, out: &mut Vec<u8>, symbol: usize) {
        let (code, len) = (self.literal_codes[symbol], self.literal_lengths[symbol]);
        bits.put(out, u32::from(code), u32::from(len));
    }
}

impl Compressor {
    /// A compressor that never looks more than `2^window_bits - 1` bytes back
    /// (8..=15), keeping its history across messages when `context_takeover` is true.
    ///
    /// # Panics
    ///
    /// If `window_bits` is outside 8..=15 (negotiation never produces such a value).
    pub fn new(window_bits: u8, context_takeover: bool) -> Compressor {
        Compressor::with_chain(window_bits, context_takeover, DEFAULT_CHAIN)
    }

    /// Like [`Compressor::new`], trying at most `chain` earlier positions for each
    /// match: longer chains find longer matches, slowly.
    pub fn with_chain(window_bits: u8, context_takeover: bool, chain: usize) -> Compressor {
        assert!(
            (8..=15).contains(&window_bits),
            "window bits must be 8..=15"
        );
        let window = 1usize << window_bits;
        let hash_bits = u32::from(window_bits).clamp(9, 14);
        Compressor {
            context_takeover,
            window,
            chain: chain.max(1),
            buf: Vec::with_capacity(window + BLOCK),
            pending: 0,
            head: vec![NIL; 1 << hash_bits],
            hash_bits,
            prev: vec![NIL; window],
            slid: 0,
            tokens: Vec::with_capacity(BLOCK),
            bits: BitWriter::default(),
            work: LengthWork::default(),
            tables: Tables::new(),
        }
    }

    /// Compresses a whole message onto the end of `out`: [`Compressor::compress`]
    /// then [`Compressor::finish_message`].
    pub fn compress_message(&mut self, payload: &[u8], out: &mut Vec<u8>) {
        self.compress(payload, out);
        self.finish_message(out);
    }

    /// Bytes this compressor holds: input and history, hash heads and chains, the
    /// block's tokens, the fixed codes. What a connection's memory budget is charged
    /// for it.
    pub fn memory(&self) -> usize {
        std::mem::size_of::<Compressor>()
            + self.buf.capacity()
            + 2 * (self.head.capacity() + self.prev.capacity())
            + 4 * self.tokens.capacity()
            + std::mem::size_of::<Tables>()
            + self.work.memory()
    }

    /// Takes the next piece of a message; complete blocks are appended to `out`.
    pub fn compress(&mut self, mut input: &[u8], out: &mut Vec<u8>) {
        while !input.is_empty() {
            if self.buf.len() == self.window + BLOCK {
                self.compress_pending(out);
                self.slide();
            }
            let take = (self.window + BLOCK - self.buf.len()).min(input.len());
            self.buf.extend_from_slice(&input[..take]);
            input = &input[take..];
        }
    }

    /// Ends the message: compresses what is pending, then a sync flush (§7.2.1): an
    /// empty stored block, whose LEN and NLEN (`00 00 ff ff`) are left off.
    pub fn finish_message(&mut self, out: &mut Vec<u8>) {
        self.compress_pending(out);
        self.bits.put(out, 0, 3);
        self.bits.align_to_byte(out);
        if !self.context_takeover {
            self.buf.clear();
            self.pending = 0;
            self.head.fill(NIL);
        }
    }

    /// Starts a message that may refer back into `history` (the bytes sent before,
    /// of which the last window's worth count): the hash chains are rebuilt over it.
    /// With an empty history, a message that refers to nothing earlier.
    ///
    /// This is how a connection that keeps only its history between messages lends it
    /// to a shared compressor (`src/permessage_deflate`): rebuilding costs one hash
    /// per byte of history, little for a small window.
    pub fn start_from(&mut self, history: &[u8]) {
        let history = &history[history.len().saturating_sub(self.window)..];
        self.buf.clear();
        self.buf.extend_from_slice(history);
        self.head.fill(NIL);
        self.slid = 0;
        self.bits = BitWriter::default();
        let end = self.buf.len();
        for p in 0..end {
            self.insert(p, end);
        }
        self.pending = end;
    }

    /// The history the next message may refer to, between messages: the last window's
    /// worth of bytes compressed.
    pub fn history(&self) -> &[u8] {
        &self.buf[self.buf.len().saturating_sub(self.window)..self.pending]
    }

    /// The window's size in bits.
    pub fn window_bits(&self) -> u8 {
        self.window.trailing_zeros() as u8
    }

    /// Keeps the last window's worth of bytes, moving them (and the chains that
    /// point at them) to the front of `buf`.
    fn slide(&mut self) {
        let Some(delta) = self.buf.len().checked_sub(self.window) else {
            return;
        };
        self.buf.copy_within(delta.., 0);
        self.buf.truncate(self.window);
        self.pending -= delta;
        // A position p moves to p - delta; its link stays where it is.
        self.slid = (self.slid + delta) & (self.window - 1);
        for link in self.head.iter_mut().chain(self.prev.iter_mut()) {
            *link = match (*link as usize).checked_sub(delta) {
                Some(moved) if *link != NIL => moved as u16,
                _ => NIL,
            };
        }
    }

    /// LZ77 over the pending bytes, then one block for them: two steps, each out of
    /// line. Nested or inlined into one function, their frames would add up on the
    /// stack, and a connection's thread keeps every page of stack it has touched.
    fn compress_pending(&mut self, out: &mut Vec<u8>) {
        let (start, end) = (self.pending, self.buf.len());
        if start == end {
            return;
        }
        self.find_matches(start, end);
        self.write_block(start, end, out);
        self.pending = end;
    }

    /// Turns `buf[start..end]` into the block's tokens, counting their symbols. Out
    /// of line, as the steps of [`Compressor::compress_pending`].
    #[inline(never)]
    fn find_matches(&mut self, start: usize, end: usize) {
        self.tokens.clear();
        self.tables.literal_freqs.fill(0);
        self.tables.distance_freqs.fill(0);
        self.tables.literal_freqs[END_OF_BLOCK] = 1;
        let mut p = start;
        while p < end {
            let (length, distance) = self.longest_match(p, end);
            if length >= MIN_MATCH {
                self.tokens.push((length << 16 | distance) as u32);
                self.tables.literal_freqs[257 + length_code(length)] += 1;
                self.tables.distance_freqs[distance_code(distance)] += 1;
                for q in p + 1..p + length {
                    self.insert(q, end);
                }
                p += length;
            } else {
                self.tokens.push(u32::from(self.buf[p]));
                self.tables.literal_freqs[usize::from(self.buf[p])] += 1;
                p += 1;
            }
        }
    }

    /// Files position `p` under the hash of its next three bytes; returns the
    /// previous position with that hash.
    fn insert(&mut self, p: usize, end: usize) -> u16 {
        if p + MIN_MATCH > end {
            return NIL;
        }
        let b = &self.buf[p..p + 3];
        let key = u32::from(b[0]) | u32::from(b[1]) << 8 | u32::from(b[2]) << 16;
        let hash = (key.wrapping_mul(0x9E37_79B1) >> (32 - self.hash_bits)) as usize;
        let older = self.head[hash];
        self.head[hash] = p as u16;
        let at = self.link(p);
        self.prev[at] = older;
        older
    }

    /// Where position `p`'s link is in `prev`.
    fn link(&self, p: usize) -> usize {
        (p + self.slid) & (self.window - 1)
    }

    /// The longest match for position `p` among the chain of earlier positions with
    /// the same hash, at most `window - 1` back; `(0, 0)` if none of 3 bytes or more.
    fn longest_match(&mut self, p: usize, end: usize) -> (usize, usize) {
        let mut candidate = self.insert(p, end);
        let limit = (end - p).min(MAX_MATCH);
        let (mut best_length, mut best_distance) = (MIN_MATCH - 1, 0);
        for _ in 0..self.chain {
            let c = usize::from(candidate);
            if candidate == NIL || c >= p || p - c >= self.window {
                break;
            }
            if self.buf[c + best_length] == self.buf[p + best_length] {
                let length = self.buf[c..c + limit]
                    .iter()
                    .zip(&self.buf[p..p + limit])
                    .take_while(|(a, b)| a == b)
                    .count();
                if length > best_length {
                    (best_length, best_distance) = (length, p - c);
                    if length == limit {
                        break;
                    }
                }
            }
            candidate = self.prev[self.link(c)];
        }
        if best_distance == 0 {
            (0, 0)
        } else {
            (best_length, best_distance)
        }
    }

    /// Sends `buf[start..end]`, already turned into tokens, as the shortest of a
    /// fixed, a dynamic and a stored block. Out of line, as the steps of
    /// [`Compressor::compress_pending`], and so are the pieces it calls one after the
    /// other ([`Tables::build_dynamic`], [`data_bits`], [`write_tokens`]).
    #[inline(never)]
    fn write_block(&mut self, start: usize, end: usize, out: &mut Vec<u8>) {
        self.tables.build_dynamic(&mut self.work);
        let Tables {
            literal_freqs,
            distance_freqs,
            fixed,
            dynamic,
            header,
        } = &*self.tables;
        let fixed_bits = 3 + data_bits(literal_freqs, distance_freqs, fixed);
        let dynamic_bits = 3 + header.bits() + data_bits(literal_freqs, distance_freqs, dynamic);
        let padding = (8 - (self.bits.pending() + 3) % 8) % 8;
        let stored_bits = 3 + u64::from(padding) + 32 + 8 * (end - start) as u64;

        if stored_bits < fixed_bits.min(dynamic_bits) {
            self.bits.put(out, 0b000, 3);
            self.bits.align_to_byte(out);
            let len = (end - start) as u16;
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(&(!len).to_le_bytes());
            out.extend_from_slice(&self.buf[start..end]);
        } else if fixed_bits <= dynamic_bits {
            self.bits.put(out, 0b010, 3);
            write_tokens(&self.tokens, fixed, &mut self.bits, out);
        } else {
            self.bits.put(out, 0b100, 3);
            header.write(&mut self.bits, out);
            write_tokens(&self.tokens, dynamic, &mut self.bits, out);
        }
    }
}

impl Tables {
    /// The dynamic block's code for the symbols counted, and its header. Out of
    /// line, as the steps of [`Compressor::compress_pending`].
    #[inline(never)]
    fn build_dynamic(&mut self, work: &mut LengthWork) {
        let Tables {
            literal_freqs,
            distance_freqs,
            dynamic,
            header,
            ..
        } = self;
        limited_lengths_in(
            work,
            literal_freqs,
            MAX_CODE_BITS,
            &mut dynamic.literal_lengths,
        );
        limited_lengths_in(
            work,
            distance_freqs,
            MAX_CODE_BITS,
            &mut dynamic.distance_lengths,
        );
        dynamic.make_codes();
        header.build(work, &dynamic.literal_lengths, &dynamic.distance_lengths);
    }
}

/// The size in bits of a block's tokens and end-of-block code with `codes`, from the
/// symbols' frequencies.
#[inline(never)]
fn data_bits(literal_freqs: &[u32], distance_freqs: &[u32], codes: &Codes) -> u64 {
    let mut bits = 0;
    for (symbol, &freq) in literal_freqs.iter().enumerate() {
        let extra = symbol.checked_sub(257).map_or(0, |code| LENGTH_EXTRA[code]);
        bits += u64::from(freq) * u64::from(codes.literal_lengths[symbol] + extra);
    }
    for (code, &freq) in distance_freqs.iter().enumerate() {
        let len = codes.distance_lengths[code] + DISTANCE_EXTRA[code];
        bits += u64::from(freq) * u64::from(len);
    }
    bits
}

/// Sends a block's tokens and its end-of-block code with `codes`.
#[inline(never)]
fn write_tokens(tokens: &[u32], codes: &Codes, bits: &mut BitWriter, out: &mut Vec<u8>) {
    for &token in tokens {
        let (length, distance) = ((token >> 16) as usize, (token & 0xFFFF) as usize);
        if length == 0 {
            codes.put_literal(bits, out, distance);
            continue;
        }
        let code = length_code(length);
        codes.put_literal(bits, out, 257 + code);
        let extra = (length - usize::from(LENGTH_BASE[code])) as u32;
        bits.put(out, extra, u32::from(LENGTH_EXTRA[code]));
        let code = distance_code(distance);
        let (huffman, len) = (codes.distance_codes[code], codes.distance_lengths[code]);
        bits.put(out, u32::from(huffman), u32::from(len));
        let extra = (distance - usize::from(DISTANCE_BASE[code])) as u32;
        bits.put(out, extra, u32::from(DISTANCE_EXTRA[code]));
    }
    codes.put_literal(bits, out, END_OF_BLOCK);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deflate::{Inflater, Status, MESSAGE_TAIL};

    #[test]
    fn never_sets_bfinal() {
        let mut compressor = Compressor::new(15, true);
        let mut inflater = Inflater::new(15, true);
        let text = b"to be or not to be, that is the question; ".repeat(2000);
        for message in [&b""[..], b"x", &text] {
            let mut wire = Vec::new();
            compressor.compress_message(message, &mut wire);
            wire.extend_from_slice(&MESSAGE_TAIL);
            let mut out = vec![0; message.len() + 1];
            let p = inflater.inflate(&wire, &mut out).unwrap();
            assert_eq!((p.status, &out[..p.produced]), (Status::NeedInput, message));
            inflater.finish_message().unwrap();
        }
    }

    #[test]
    fn incompressible_data_is_stored() {
        let mut state = 1u32;
        let noise: Vec<u8> = (0..5000)
            .map(|_| {
                state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (state >> 24) as u8
            })
            .collect();
        let mut wire = Vec::new();
        Compressor::new(15, false).compress_message(&noise, &mut wire);
        // One stored block: 3 bits and padding, LEN, NLEN, the bytes; then the flush.
        assert_eq!(wire.len(), 1 + 4 + noise.len() + 1);
        assert_eq!(wire[5..5 + noise.len()], noise);
    }

    #[test]
    fn a_message_in_pieces_compresses_as_a_whole() {
        let text = b"pieces of a message, pieces of a message ".repeat(1000);
        let (mut whole, mut pieces) = (Vec::new(), Vec::new());
        Compressor::new(12, true).compress_message(&text, &mut whole);
        let mut compressor = Compressor::new(12, true);
        for piece in text.chunks(777) {
            compressor.compress(piece, &mut pieces);
        }
        compressor.finish_message(&mut pieces);
        assert_eq!(pieces, whole);
    }

    #[test]
    fn a_history_lent_to_another_compressor_compresses_as_one_stream() {
        let first = b"{\"type\":\"chat\",\"room\":\"lobby\",\"text\":\"hello there\"}";
        let second = b"{\"type\":\"chat\",\"room\":\"lobby\",\"text\":\"hello again\"}";
        let mut kept = Compressor::new(10, true);
        let (mut one, mut two) = (Vec::new(), Vec::new());
        kept.compress_message(first, &mut one);
        kept.compress_message(second, &mut two);

        let mut shared = Compressor::new(10, true);
        let (mut lent_one, mut lent_two) = (Vec::new(), Vec::new());
        shared.start_from(b"");
        shared.compress_message(first, &mut lent_one);
        let history = shared.history().to_vec();
        assert_eq!(history, first);
        shared.start_from(b"unrelated bytes in between, sent by another connection");
        shared.compress_message(b"x".repeat(2000).as_slice(), &mut Vec::new());
        shared.start_from(&history);
        shared.compress_message(second, &mut lent_two);
        assert_eq!((lent_one, &lent_two), (one, &two));
        // The second message refers back to the first: far shorter than alone.
        let mut alone = Vec::new();
        Compressor::new(10, true).compress_message(second, &mut alone);
        assert!(two.len() * 2 < alone.len(), "{} {}", two.len(), alone.len());
    }

    #[test]
    fn lent_history_compresses_as_well_as_a_kept_compressor_at_any_window() {
        use crate::deflate::Window;
        let mut state = 7u32;
        let mut next = |n: u32| {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (state >> 16) % n
        };
        let words = ["alpha ", "beta ", "gamma ", "{\"k\":", "1234, ", "zz"];
        for bits in 8..=15u8 {
            let mut kept = Compressor::new(bits, true);
            let mut lent = Compressor::new(bits, true);
            let mut history = Vec::new();
            let (mut window, mut inflater) = (Window::new(bits), Inflater::new(bits, true));
            let (mut kept_total, mut lent_total) = (0, 0);
            for _ in 0..40 {
                let len = next(600);
                let message: Vec<u8> = (0..len)
                    .flat_map(|_| words[next(6) as usize].bytes())
                    .collect();
                let (mut a, mut b) = (Vec::new(), Vec::new());
                kept.compress_message(&message, &mut a);
                lent.start_from(&history);
                lent.compress_message(&message, &mut b);
                history = lent.history().to_vec();
                // Blocks may be cut elsewhere (the kept one's buffer fills at other
                // points), so the bytes may differ, not their number.
                (kept_total, lent_total) = (kept_total + a.len(), lent_total + b.len());
                // Inflated by a fresh inflater each time, with the window lent to it.
                inflater.reset();
                inflater.swap_window(&mut window);
                let mut out = Vec::new();
                inflater.inflate_message(&b, &mut out, 1 << 20).unwrap();
                inflater.swap_window(&mut window);
                assert_eq!(out, message, "window {bits}");
            }
            assert!(
                lent_total <= kept_total + kept_total / 50,
                "{lent_total} {kept_total}"
            );
        }
    }

    #[test]
    fn history_keeps_a_window_at_most() {
        let mut compressor = Compressor::new(8, true);
        let text: Vec<u8> = (0..1000u32).map(|i| (i % 256) as u8).collect();
        compressor.compress_message(&text, &mut Vec::new());
        assert_eq!(compressor.history(), &text[1000 - 256..]);
        compressor.start_from(&text);
        assert_eq!(compressor.history(), &text[1000 - 256..]);
    }

    #[test]
    fn memory_is_taken_once() {
        let mut compressor = Compressor::new(15, true);
        let capacity = (compressor.buf.capacity(), compressor.tokens.capacity());
        let text = b"0123456789abcdef".repeat(10_000);
        let mut wire = Vec::with_capacity(1 << 20);
        for _ in 0..3 {
            compressor.compress_message(&text, &mut wire);
        }
        assert_eq!(
            (compressor.buf.capacity(), compressor.tokens.capacity()),
            capacity
        );
    }
}
