//! Canonical Huffman codes (RFC 1951 §3.2.2): a code is fully described by the bit
//! length of each symbol's code, so that is all a dynamic block sends.
//!
//! The rules of §3.2.2: shorter codes come before longer ones in code order, and
//! codes of one length are given to their symbols in symbol order. A code whose
//! lengths claim more than the whole code space is *over-subscribed*; one that leaves
//! part of it unused is *incomplete*. Both are refused, except the one incomplete
//! code §3.2.7 allows (a single code of one bit, as zlib also accepts it) and, for
//! distances only, no code at all (a block of literals).
//!
//! The decoder reads the first [`TABLE_BITS`] bits through a lookup table and walks
//! the code lengths one bit at a time for the rare longer codes, the way zlib's
//! `contrib/puff` decodes every symbol. The compressor's side builds code lengths
//! from symbol frequencies, no longer than a given limit ([`limited_lengths`]).

use super::bits::low_mask;

/// The longest code of the literal/length and distance codes (§3.2.7).
pub const MAX_CODE_BITS: u32 = 15;

/// The longest code of the code length code: its lengths are sent in 3 bits.
pub const MAX_CODE_LENGTH_BITS: u32 = 7;

/// Codes up to this many bits are decoded with one table lookup.
pub const TABLE_BITS: u32 = 9;

/// Which code a table is for: they differ in the incomplete codes they allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeKind {
    /// The code length code of a dynamic block: complete, always.
    CodeLengths,
    /// A literal/length code: complete, or a single code of one bit.
    Literals,
    /// A distance code: also no code at all, for a block of literals only.
    Distances,
}

/// A code that cannot be decoded: what was wrong with its lengths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeError {
    /// More codes of some lengths than the code space holds.
    OverSubscribed,
    /// Part of the code space left unused (and not the allowed single code).
    Incomplete,
}

/// The outcome of decoding one symbol from the bits at hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoded {
    /// The symbol and the length of its code.
    Symbol(u16, u32),
    /// The bits at hand are the start of a longer code: more input is needed.
    NeedBits,
    /// The bits match no code (possible only in the allowed incomplete codes).
    NoCode,
}

/// A decoding table for one canonical code, rebuilt in place for each block.
#[derive(Debug, Clone)]
pub struct Decoder {
    /// How many codes have each length 0..=15.
    counts: [u16; 16],
    /// The longest code's length.
    longest: u32,
    /// The symbols in code order (by length, then by symbol).
    symbols: [u16; 288],
    /// For each `TABLE_BITS`-bit pattern (next bit first): `symbol << 4 | length`,
    /// or 0 when the code is longer than the table.
    table: [u16; 1 << TABLE_BITS],
}

impl Default for Decoder {
    fn default() -> Decoder {
        Decoder::EMPTY
    }
}

impl Decoder {
    /// No code yet, all zeros (so that a `Box` of decoders can be allocated zeroed).
    pub const EMPTY: Decoder = Decoder {
        counts: [0; 16],
        longest: 0,
        symbols: [0; 288],
        table: [0; 1 << TABLE_BITS],
    };

    /// Builds the code described by `lengths` (one per symbol, 0 = unused).
    pub fn build(&mut self, lengths: &[u8], kind: CodeKind) -> Result<(), CodeError> {
        debug_assert!(lengths.len() <= 288);
        self.counts = [0; 16];
        for &len in lengths {
            self.counts[usize::from(len)] += 1;
        }
        self.counts[0] = 0;
        self.longest = (1..16).rev().find(|&l| self.counts[l] != 0).unwrap_or(0) as u32;
        let used: u16 = self.counts.iter().sum();
        let mut left: i32 = 1;
        for len in 1..16 {
            left = 2 * left - i32::from(self.counts[len]);
            if left < 0 {
                return Err(CodeError::OverSubscribed);
            }
        }
        let allowed = match kind {
            CodeKind::CodeLengths => false,
            CodeKind::Literals => used == 1 && self.counts[1] == 1,
            CodeKind::Distances => used == 0 || (used == 1 && self.counts[1] == 1),
        };
        if left > 0 && !allowed {
            return Err(CodeError::Incomplete);
        }
        // Symbols in code order: offsets[len] is where the codes of that length start.
        let mut offsets = [0u16; 16];
        for len in 1..15 {
            offsets[len + 1] = offsets[len] + self.counts[len];
        }
        for (symbol, &len) in lengths.iter().enumerate() {
            if len != 0 {
                self.symbols[usize::from(offsets[usize::from(len)])] = symbol as u16;
                offsets[usize::from(len)] += 1;
            }
        }
        self.fill_table();
        Ok(())
    }

    /// The lookup table, from the symbols in code order: the codes of one length are
    /// consecutive, and the first code of the next length is one past the last code
    /// of this one, shifted left by a bit (§3.2.2). No array of codes is needed.
    fn fill_table(&mut self) {
        self.table.fill(0);
        let (mut code, mut index) = (0u16, 0);
        for len in 1..=self.longest.min(TABLE_BITS) {
            let count = usize::from(self.counts[len as usize]);
            for &symbol in &self.symbols[index..index + count] {
                // Every pattern that starts with this code, whatever bits follow it.
                let entry = symbol << 4 | len as u16;
                let mut pattern = usize::from(sent_order(code, len));
                while pattern < self.table.len() {
                    self.table[pattern] = entry;
                    pattern += 1 << len;
                }
                code += 1;
            }
            index += count;
            code <<= 1;
        }
    }

    /// Decodes one symbol from `bits` (the next bit in bit 0), of which `available`
    /// are real input.
    #[inline]
    pub fn decode(&self, bits: u64, available: u32) -> Decoded {
        let entry = self.table[(bits & low_mask(TABLE_BITS)) as usize];
        let len = u32::from(entry & 0xF);
        if len != 0 {
            return if len <= available {
                Decoded::Symbol(entry >> 4, len)
            } else {
                Decoded::NeedBits
            };
        }
        self.decode_slowly(bits, available)
    }

    /// Walks the code lengths one bit at a time (puff's `decode`): `code` is the
    /// code read so far, `first` the first code of the current length, `index` the
    /// position of that code's symbol in `symbols`.
    fn decode_slowly(&self, bits: u64, available: u32) -> Decoded {
        let (mut code, mut first, mut index) = (0i32, 0i32, 0i32);
        for len in 1..=self.longest {
            if len > available {
                return Decoded::NeedBits;
            }
            code |= ((bits >> (len - 1)) & 1) as i32;
            let count = i32::from(self.counts[len as usize]);
            if code - first < count {
                return Decoded::Symbol(self.symbols[(index + code - first) as usize], len);
            }
            index += count;
            first = (first + count) << 1;
            code <<= 1;
        }
        Decoded::NoCode
    }
}

/// The canonical code of each symbol (§3.2.2), bit-reversed so that it can be sent
/// least significant bit first. `codes` must be at least as long as `lengths`.
pub fn canonical_codes(lengths: &[u8], codes: &mut [u16]) {
    let mut counts = [0u16; 16];
    for &len in lengths {
        counts[usize::from(len)] += 1;
    }
    counts[0] = 0;
    let mut next = [0u16; 16];
    let mut code = 0u16;
    for bits in 1..16 {
        code = (code + counts[bits - 1]) << 1;
        next[bits] = code;
    }
    for (symbol, &len) in lengths.iter().enumerate() {
        if len != 0 {
            let code = next[usize::from(len)];
            next[usize::from(len)] += 1;
            codes[symbol] = sent_order(code, u32::from(len));
        }
    }
}

/// A code of `len` bits, bit-reversed: Huffman codes are packed most significant
/// bit first (§3.1.1), everything else least significant first.
fn sent_order(code: u16, len: u32) -> u16 {
    code.reverse_bits() >> (16 - len)
}

/// Code lengths for symbols of the given frequencies, none longer than `max_len`:
/// a Huffman code, with the overlong codes folded back as miniz and zlib do.
///
/// Symbols of frequency 0 get length 0. At least two symbols always get a code
/// (low-numbered unused ones are added when needed), so that every code built here
/// is complete.
pub fn limited_lengths(freqs: &[u32], max_len: u32, lengths: &mut [u8]) {
    limited_lengths_in(&mut LengthWork::default(), freqs, max_len, lengths);
}

/// The working arrays of [`limited_lengths`] (about 6 KiB), on the heap: a caller
/// that keeps one builds codes without touching that much stack, which matters where
/// each connection has a thread that keeps every page of stack it has touched.
#[derive(Debug, Clone)]
pub struct LengthWork {
    leaves: Vec<(u32, u16)>,
    weight: Vec<u32>,
    parent: Vec<u16>,
    depth: Vec<u8>,
}

impl Default for LengthWork {
    fn default() -> LengthWork {
        LengthWork {
            leaves: vec![(0, 0); 288],
            weight: vec![0; 2 * 288],
            parent: vec![0; 2 * 288],
            depth: vec![0; 2 * 288],
        }
    }
}

impl LengthWork {
    /// Bytes it holds.
    pub fn memory(&self) -> usize {
        std::mem::size_of::<(u32, u16)>() * self.leaves.capacity()
            + 4 * self.weight.capacity()
            + 2 * self.parent.capacity()
            + self.depth.capacity()
    }
}

/// [`limited_lengths`] with its working arrays in `work`.
pub fn limited_lengths_in(work: &mut LengthWork, freqs: &[u32], max_len: u32, lengths: &mut [u8]) {
    let n = freqs.len();
    debug_assert!(n <= 288 && lengths.len() >= n);
    lengths[..n].fill(0);
    let LengthWork {
        leaves,
        weight,
        parent,
        depth,
    } = work;
    // Leaves sorted by frequency: (frequency, symbol), with at least two of them.
    let mut count = 0;
    for (symbol, &f) in freqs.iter().enumerate() {
        if f > 0 {
            leaves[count] = (f, symbol as u16);
            count += 1;
        }
    }
    let mut filler = 0;
    while count < 2 {
        if freqs[filler] == 0 {
            leaves[count] = (1, filler as u16);
            count += 1;
        }
        filler += 1;
    }
    let leaves = &mut leaves[..count];
    heap_sort(leaves);

    // The two-queue method: the leaves in order, and the internal nodes in the order
    // they are made, whose weights never decrease; each step joins the two lightest
    // heads. Node ids: leaves 0..count, internal nodes count.., the root last.
    for (id, leaf) in leaves.iter().enumerate() {
        weight[id] = leaf.0;
    }
    let (mut next_leaf, mut next_node) = (0, count);
    for made in count..2 * count - 1 {
        let mut pick = || {
            if next_leaf < count && (next_node >= made || weight[next_leaf] <= weight[next_node]) {
                next_leaf += 1;
                next_leaf - 1
            } else {
                next_node += 1;
                next_node - 1
            }
        };
        let (a, b) = (pick(), pick());
        weight[made] = weight[a].saturating_add(weight[b]);
        parent[a] = made as u16;
        parent[b] = made as u16;
    }
    // Depths, from the root down (a parent is always made after its children).
    let root = 2 * count - 2;
    depth[root] = 0;
    for id in (0..root).rev() {
        depth[id] = depth[usize::from(parent[id])] + 1;
    }

    // How many leaves at each depth, overlong ones counted at max_len; then the
    // Kraft sum is restored by moving a leaf from the deepest level down, below a
    // shorter leaf that becomes one level longer (miniz's `enforce_max_code_size`).
    let max = max_len as usize;
    let mut per_len = [0u32; 16];
    for &d in &depth[..count] {
        per_len[usize::from(d).min(max)] += 1;
    }
    let mut total: u64 = (1..=max).map(|l| u64::from(per_len[l]) << (max - l)).sum();
    while total > 1 << max {
        per_len[max] -= 1;
        for l in (1..max).rev() {
            if per_len[l] > 0 {
                per_len[l] -= 1;
                per_len[l + 1] += 2;
                break;
            }
        }
        total -= 1;
    }
    // The shortest codes to the most frequent symbols.
    let mut len = 1;
    for &(_, symbol) in leaves.iter().rev() {
        while per_len[len] == 0 {
            len += 1;
        }
        per_len[len] -= 1;
        lengths[usize::from(symbol)] = len as u8;
    }
}

/// Sorts `(frequency, symbol)` pairs into ascending order: a plain heapsort, in
/// place and O(n log n). Written out rather than `sort_unstable`, whose generic
/// quicksort costs about 3 KB of the size-profile binary for this one call; the
/// pairs are distinct, so the order, and with it the code, is the same.
fn heap_sort(v: &mut [(u32, u16)]) {
    // Moves v[root] down until it is no smaller than its children, within v[..end].
    fn sift_down(v: &mut [(u32, u16)], mut root: usize, end: usize) {
        loop {
            let mut child = 2 * root + 1;
            if child >= end {
                return;
            }
            if child + 1 < end && v[child] < v[child + 1] {
                child += 1;
            }
            if v[root] >= v[child] {
                return;
            }
            v.swap(root, child);
            root = child;
        }
    }
    let n = v.len();
    for root in (0..n / 2).rev() {
        sift_down(v, root, n);
    }
    for end in (1..n).rev() {
        v.swap(0, end);
        sift_down(v, 0, end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heap_sort_orders_as_sort_unstable_does() {
        let mut seed = 0x2545_f491_u32;
        for n in [0, 1, 2, 3, 7, 64, 288] {
            let mut v: Vec<(u32, u16)> = (0..n)
                .map(|symbol| {
                    seed ^= seed << 13;
                    seed ^= seed >> 17;
                    seed ^= seed << 5;
                    (seed % 9, symbol as u16)
                })
                .collect();
            let mut expect = v.clone();
            expect.sort_unstable();
            heap_sort(&mut v);
            assert_eq!(v, expect);
        }
    }

    #[test]
    fn rfc_1951_example_codes() {
        // §3.2.2: lengths (3, 3, 3, 3, 3, 2, 4, 4) give codes 010 011 100 101 110 00
        // 1110 1111 (shown here reversed, as they are sent).
        let lengths = [3, 3, 3, 3, 3, 2, 4, 4];
        let mut codes = [0u16; 8];
        canonical_codes(&lengths, &mut codes);
        let expect = [0b010, 0b011, 0b100, 0b101, 0b110, 0b00, 0b1110, 0b1111];
        for (i, &e) in expect.iter().enumerate() {
            let len = u32::from(lengths[i]);
            assert_eq!(u32::from(codes[i]), (e as u32).reverse_bits() >> (32 - len));
        }
    }

    #[test]
    fn decoder_reads_each_code_back() {
        let mut lengths = [0u8; 288];
        lengths[..144].fill(8);
        lengths[144..256].fill(9);
        lengths[256..280].fill(7);
        lengths[280..].fill(8);
        // Make some codes longer than the table: a different, still complete code.
        let long = [1u8, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 15];
        for lengths in [&lengths[..], &long[..]] {
            let mut d = Decoder::default();
            d.build(lengths, CodeKind::Literals).unwrap();
            let mut codes = [0u16; 288];
            canonical_codes(lengths, &mut codes);
            for (symbol, &len) in lengths.iter().enumerate() {
                let bits = u64::from(codes[symbol]) | 0xABC0000;
                let len = u32::from(len);
                assert_eq!(d.decode(bits, 64), Decoded::Symbol(symbol as u16, len));
                assert_eq!(d.decode(bits, len - 1), Decoded::NeedBits);
            }
        }
    }

    #[test]
    fn bad_codes_are_refused() {
        let mut d = Decoder::default();
        use CodeKind::*;
        assert_eq!(
            d.build(&[1, 1, 1], Literals),
            Err(CodeError::OverSubscribed)
        );
        assert_eq!(d.build(&[1, 2], Distances), Err(CodeError::Incomplete));
        assert_eq!(d.build(&[0, 0], Literals), Err(CodeError::Incomplete));
        assert_eq!(d.build(&[0, 1], CodeLengths), Err(CodeError::Incomplete));
        assert_eq!(d.build(&[0, 0], Distances), Ok(()));
        assert_eq!(d.build(&[0, 1], Distances), Ok(()));
        assert_eq!(d.decode(0b0, 8), Decoded::Symbol(1, 1));
        assert_eq!(d.decode(0b1, 8), Decoded::NoCode);
    }

    #[test]
    fn limited_lengths_are_complete_and_short_enough() {
        // Fibonacci frequencies make the deepest possible Huffman tree.
        let mut freqs = [0u32; 30];
        let (mut a, mut b) = (1u32, 1u32);
        for f in freqs.iter_mut() {
            *f = a;
            (a, b) = (b, a.saturating_add(b));
        }
        for max_len in [7, 9, 15] {
            let mut lengths = [0u8; 30];
            limited_lengths(&freqs, max_len, &mut lengths);
            assert!(lengths.iter().all(|&l| 1 <= l && u32::from(l) <= max_len));
            assert_eq!(
                Decoder::default().build(&lengths, CodeKind::CodeLengths),
                Ok(())
            );
        }
        let mut lengths = [9u8; 4];
        limited_lengths(&[0, 0, 5, 0], 15, &mut lengths);
        assert_eq!(lengths, [1, 0, 1, 0]);
    }
}
