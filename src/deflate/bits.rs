//! Bits packed least-significant first (RFC 1951 §3.1.1): "Data elements are packed
//! into bytes in order of increasing bit number within the byte", and a number of
//! several bits starts at its least significant bit. Huffman codes are the exception
//! (sent most significant bit first); [`super::huffman`] stores them bit-reversed, so
//! that here every value is simply LSB first.

/// Reads bits from input that arrives in slices of any size.
///
/// Bytes move from the caller's slice into a 64-bit accumulator; a reader looks at
/// the bits it needs ([`BitReader::peek`]) and takes them ([`BitReader::consume`])
/// only once it has all of them, so an element cut between two slices is simply read
/// again on the next call. Nothing but the accumulator survives between calls.
#[derive(Debug, Default, Clone)]
pub struct BitReader {
    bits: u64,
    count: u32,
}

impl BitReader {
    /// The most bits that one element of the format needs at once: a length code with
    /// its extra bits and a distance code with its extra bits (15 + 5 + 15 + 13).
    pub const MAX_ELEMENT_BITS: u32 = 48;

    /// Moves whole bytes from the front of `input` into the accumulator until it
    /// holds more than 56 bits or the input runs out; returns how many it took.
    pub fn fill(&mut self, input: &[u8]) -> usize {
        // Eight bytes at hand: as many of them as fit, in one load.
        if let (true, Some(chunk)) = (self.count <= 56, input.first_chunk::<8>()) {
            let taken = (64 - self.count) / 8;
            self.bits |= (u64::from_le_bytes(*chunk) & low_mask(8 * taken)) << self.count;
            self.count += 8 * taken;
            return taken as usize;
        }
        let mut taken = 0;
        while self.count <= 56 && taken < input.len() {
            self.bits |= u64::from(input[taken]) << self.count;
            self.count += 8;
            taken += 1;
        }
        taken
    }

    /// Fills from `input[*consumed..]` (advancing `consumed`) if fewer than `n` bits
    /// are held; true if `n` bits are held now.
    pub fn fill_to(&mut self, n: u32, input: &[u8], consumed: &mut usize) -> bool {
        if self.count < n {
            *consumed += self.fill(&input[*consumed..]);
        }
        self.count >= n
    }

    /// The bits held, the next one in bit 0.
    pub fn peek(&self) -> u64 {
        self.bits
    }

    /// How many bits are held.
    pub fn available(&self) -> u32 {
        self.count
    }

    /// Drops the next `n` bits, which must be held.
    pub fn consume(&mut self, n: u32) {
        debug_assert!(n <= self.count);
        self.bits = if n == 64 { 0 } else { self.bits >> n };
        self.count -= n;
    }

    /// Takes the next `n` bits (at most 32, which must be held) as a number.
    pub fn take(&mut self, n: u32) -> u32 {
        let value = (self.bits & low_mask(n)) as u32;
        self.consume(n);
        value
    }

    /// Drops the bits up to the next byte boundary of the input (§3.2.4: a stored
    /// block's LEN starts on a byte boundary).
    pub fn align_to_byte(&mut self) {
        self.consume(self.count % 8);
    }

    /// Forgets every held bit.
    pub fn clear(&mut self) {
        *self = BitReader::default();
    }
}

/// A mask of the `n` low bits, `n` at most 64.
pub fn low_mask(n: u32) -> u64 {
    if n >= 64 {
        u64::MAX
    } else {
        (1u64 << n) - 1
    }
}

/// Writes bits, least significant first, onto the end of a caller's `Vec`.
///
/// The bits of an unfinished byte stay here between calls, so one message may be
/// written in several calls; [`BitWriter::align_to_byte`] pads with zeros.
#[derive(Debug, Default, Clone)]
pub struct BitWriter {
    bits: u64,
    count: u32,
}

impl BitWriter {
    /// Appends the `n` low bits of `value` (`n` at most 32).
    pub fn put(&mut self, out: &mut Vec<u8>, value: u32, n: u32) {
        debug_assert!(n <= 32 && u64::from(value) <= low_mask(n));
        self.bits |= u64::from(value) << self.count;
        self.count += n;
        if self.count >= 32 {
            out.extend_from_slice(&(self.bits as u32).to_le_bytes());
            self.bits >>= 32;
            self.count -= 32;
        }
    }

    /// Writes out the held bits, padding the last byte with zero bits.
    pub fn align_to_byte(&mut self, out: &mut Vec<u8>) {
        while self.count > 0 {
            out.push(self.bits as u8);
            self.bits >>= 8;
            self.count = self.count.saturating_sub(8);
        }
        self.bits = 0;
    }

    /// How many bits are waiting for their byte to be complete (0..=31).
    pub fn pending(&self) -> u32 {
        self.count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_come_least_significant_bit_first() {
        let mut out = Vec::new();
        let mut w = BitWriter::default();
        w.put(&mut out, 0b1, 1);
        w.put(&mut out, 0b10, 2);
        w.put(&mut out, 0x1ABCD, 17);
        w.align_to_byte(&mut out);
        assert_eq!(out, [0x6D, 0x5E, 0x0D]);
        let mut r = BitReader::default();
        assert_eq!(r.fill(&out), 3);
        assert_eq!((r.take(1), r.take(2), r.take(17)), (1, 2, 0x1ABCD));
    }

    #[test]
    fn a_value_cut_between_slices_is_read_whole() {
        let mut r = BitReader::default();
        assert_eq!(r.fill(&[0x34]), 1);
        assert!(r.available() < 16);
        r.fill(&[0x12]);
        assert_eq!(r.take(16), 0x1234);
    }

    #[test]
    fn fill_stops_below_the_top_of_the_accumulator() {
        let mut r = BitReader::default();
        assert_eq!(r.fill(&[0xFF; 20]), 8);
        r.consume(3);
        assert_eq!(r.fill(&[0; 20]), 0);
        r.align_to_byte();
        assert_eq!(r.available(), 56);
    }
}
