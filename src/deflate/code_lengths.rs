//! The start of a dynamic block (RFC 1951 §3.2.7): the sizes of its two codes, the
//! code length code, then every code length, run-length coded with it. Read by the
//! inflater ([`CodeLengthReader`]), written by the compressor ([`DynamicHeader`]).
//!
//! ```text
//! HLIT (5 bits) + 257    literal/length code lengths sent, 257..=286
//! HDIST (5 bits) + 1     distance code lengths sent, 1..=30
//! HCLEN (4 bits) + 4     code length code lengths sent (3 bits each), 4..=19
//! then HLIT + HDIST code lengths: 0..=15 a length; 16 + 2 bits: the previous length
//! 3..=6 times; 17 + 3 bits: 3..=10 zeros; 18 + 7 bits: 11..=138 zeros
//! ```

use super::alphabet::{
    CODE_LENGTH_ORDER, CODE_LENGTH_SYMBOLS, DISTANCE_SYMBOLS, END_OF_BLOCK, LITERAL_LENGTH_SYMBOLS,
};
use super::bits::{low_mask, BitReader, BitWriter};
use super::huffman::{
    canonical_codes, limited_lengths_in, CodeError, CodeKind, Decoded, Decoder, LengthWork,
    MAX_CODE_LENGTH_BITS,
};
use super::InflateError;

/// How far the reading has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Before HLIT, HDIST and HCLEN.
    Counts,
    /// Reading the code length code's lengths; this many read.
    CodeLengthCode(usize),
    /// Reading the code lengths; this many read.
    CodeLengths(usize),
}

/// Reads a dynamic block's header in as many calls as its input takes.
#[derive(Debug, Clone)]
pub struct CodeLengthReader {
    stage: Stage,
    literal_count: usize,
    distance_count: usize,
    code_length_count: usize,
    code_length_lengths: [u8; CODE_LENGTH_SYMBOLS],
    code_lengths: Decoder,
    lengths: [u8; LITERAL_LENGTH_SYMBOLS + DISTANCE_SYMBOLS],
}

impl Default for CodeLengthReader {
    fn default() -> CodeLengthReader {
        CodeLengthReader::EMPTY
    }
}

impl CodeLengthReader {
    /// Before any header (all zeros, so that a `Box` holding one can be allocated
    /// zeroed).
    pub const EMPTY: CodeLengthReader = CodeLengthReader {
        stage: Stage::Counts,
        literal_count: 0,
        distance_count: 0,
        code_length_count: 0,
        code_length_lengths: [0; CODE_LENGTH_SYMBOLS],
        code_lengths: Decoder::EMPTY,
        lengths: [0; LITERAL_LENGTH_SYMBOLS + DISTANCE_SYMBOLS],
    };

    /// Starts on a new block's header.
    pub fn start(&mut self) {
        self.stage = Stage::Counts;
    }

    /// Reads on from `input[*consumed..]`. `Ok(true)`: the header is complete and
    /// its codes are built into `literals` and `distances`; `Ok(false)`: the input
    /// ran out first.
    pub fn read(
        &mut self,
        bits: &mut BitReader,
        input: &[u8],
        consumed: &mut usize,
        literals: &mut Decoder,
        distances: &mut Decoder,
    ) -> Result<bool, InflateError> {
        if self.stage == Stage::Counts {
            if !bits.fill_to(14, input, consumed) {
                return Ok(false);
            }
            self.literal_count = 257 + bits.take(5) as usize;
            self.distance_count = 1 + bits.take(5) as usize;
            self.code_length_count = 4 + bits.take(4) as usize;
            if self.literal_count > LITERAL_LENGTH_SYMBOLS {
                return Err(InflateError::TooManyLengthCodes);
            }
            if self.distance_count > DISTANCE_SYMBOLS {
                return Err(InflateError::TooManyDistanceCodes);
            }
            self.code_length_lengths = [0; CODE_LENGTH_SYMBOLS];
            self.stage = Stage::CodeLengthCode(0);
        }
        if let Stage::CodeLengthCode(mut read) = self.stage {
            while read < self.code_length_count {
                if !bits.fill_to(3, input, consumed) {
                    self.stage = Stage::CodeLengthCode(read);
                    return Ok(false);
                }
                self.code_length_lengths[CODE_LENGTH_ORDER[read]] = bits.take(3) as u8;
                read += 1;
            }
            let lengths = &self.code_length_lengths;
            self.code_lengths
                .build(lengths, CodeKind::CodeLengths)
                .map_err(code_error)?;
            self.stage = Stage::CodeLengths(0);
        }
        if let Stage::CodeLengths(read) = self.stage {
            if !self.read_lengths(bits, input, consumed, read)? {
                return Ok(false);
            }
        }
        let total = self.literal_count + self.distance_count;
        let (literal_lengths, distance_lengths) =
            self.lengths[..total].split_at(self.literal_count);
        if literal_lengths[END_OF_BLOCK] == 0 {
            return Err(InflateError::MissingEndOfBlock);
        }
        literals
            .build(literal_lengths, CodeKind::Literals)
            .map_err(code_error)?;
        distances
            .build(distance_lengths, CodeKind::Distances)
            .map_err(code_error)?;
        Ok(true)
    }

    /// The last complete header's code length code: how many of its lengths were
    /// sent (HCLEN + 4), and its lengths by symbol 0..=18.
    pub fn code_length_code(&self) -> (usize, &[u8; CODE_LENGTH_SYMBOLS]) {
        (self.code_length_count, &self.code_length_lengths)
    }

    /// The last complete header's code lengths: literal/length (HLIT + 257 of them)
    /// and distance (HDIST + 1).
    pub fn code_lengths(&self) -> (&[u8], &[u8]) {
        let total = self.literal_count + self.distance_count;
        self.lengths[..total].split_at(self.literal_count)
    }

    /// The run-length coded lengths, each symbol taken with its extra bits at once.
    /// Out of line: its frame would otherwise sit above every code [`read`] builds.
    ///
    /// [`read`]: CodeLengthReader::read
    #[inline(never)]
    fn read_lengths(
        &mut self,
        bits: &mut BitReader,
        input: &[u8],
        consumed: &mut usize,
        mut read: usize,
    ) -> Result<bool, InflateError> {
        let total = self.literal_count + self.distance_count;
        while read < total {
            // The longest element: a 7-bit code and 7 extra bits.
            bits.fill_to(14, input, consumed);
            let (held, available) = (bits.peek(), bits.available());
            let (symbol, len) = match self.code_lengths.decode(held, available) {
                Decoded::Symbol(symbol, len) => (symbol, len),
                Decoded::NeedBits => {
                    self.stage = Stage::CodeLengths(read);
                    return Ok(false);
                }
                Decoded::NoCode => return Err(InflateError::InvalidCode),
            };
            let (extra, base, value) = match symbol {
                0..=15 => (0, 1, symbol as u8),
                16 if read == 0 => return Err(InflateError::RepeatWithoutLength),
                16 => (2, 3, self.lengths[read - 1]),
                17 => (3, 3, 0),
                _ => (7, 11, 0),
            };
            if len + extra > available {
                self.stage = Stage::CodeLengths(read);
                return Ok(false);
            }
            let repeat = base + ((held >> len) & low_mask(extra)) as usize;
            if read + repeat > total {
                return Err(InflateError::RepeatPastEnd);
            }
            bits.consume(len + extra);
            self.lengths[read..read + repeat].fill(value);
            read += repeat;
        }
        Ok(true)
    }
}

/// The inflater's name for what was wrong with a code.
pub fn code_error(e: CodeError) -> InflateError {
    match e {
        CodeError::OverSubscribed => InflateError::OverSubscribedCode,
        CodeError::Incomplete => InflateError::IncompleteCode,
    }
}

/// The header of a dynamic block as the compressor sends it: the code lengths of its
/// two codes, run-length coded, and the code length code built for them.
///
/// About 1 KiB: the compressor keeps one on the heap and fills it in place for
/// each block ([`DynamicHeader::build`]), as a connection's thread keeps every page
/// of stack it has touched.
#[derive(Debug, Clone)]
pub struct DynamicHeader {
    literal_count: usize,
    distance_count: usize,
    code_length_count: usize,
    /// The code lengths sent: literal/length then distance, one sequence, as a run
    /// may go on from one code into the other (§3.2.7).
    all: [u8; LITERAL_LENGTH_SYMBOLS + DISTANCE_SYMBOLS],
    /// Code length symbols 0..=18 with their extra bits' value.
    runs: [(u8, u8); LITERAL_LENGTH_SYMBOLS + DISTANCE_SYMBOLS],
    run_count: usize,
    /// How often each code length symbol occurs in `runs`.
    freqs: [u32; CODE_LENGTH_SYMBOLS],
    lengths: [u8; CODE_LENGTH_SYMBOLS],
    codes: [u16; CODE_LENGTH_SYMBOLS],
}

/// Extra bits after code length symbols 16, 17 and 18.
fn repeat_extra(symbol: u8) -> u32 {
    match symbol {
        16 => 2,
        17 => 3,
        18 => 7,
        _ => 0,
    }
}

impl DynamicHeader {
    /// Room for a header, all zeros (so that a `Box` of a struct holding one can be
    /// allocated zeroed): not a header until [`DynamicHeader::build`] makes it one.
    pub const EMPTY: DynamicHeader = DynamicHeader {
        literal_count: 0,
        distance_count: 0,
        code_length_count: 0,
        all: [0; LITERAL_LENGTH_SYMBOLS + DISTANCE_SYMBOLS],
        runs: [(0, 0); LITERAL_LENGTH_SYMBOLS + DISTANCE_SYMBOLS],
        run_count: 0,
        freqs: [0; CODE_LENGTH_SYMBOLS],
        lengths: [0; CODE_LENGTH_SYMBOLS],
        codes: [0; CODE_LENGTH_SYMBOLS],
    };

    /// The header for these literal/length (at least 257) and distance code lengths.
    pub fn new(literal_lengths: &[u8], distance_lengths: &[u8]) -> DynamicHeader {
        let mut header = DynamicHeader::EMPTY;
        header.build(
            &mut LengthWork::default(),
            literal_lengths,
            distance_lengths,
        );
        header
    }

    /// Makes this the header for these code lengths, with the code length code's
    /// working arrays in `work`.
    pub fn build(
        &mut self,
        work: &mut LengthWork,
        literal_lengths: &[u8],
        distance_lengths: &[u8],
    ) {
        let count = |lengths: &[u8], min: usize| {
            lengths
                .iter()
                .rposition(|&l| l != 0)
                .map_or(min, |i| (i + 1).max(min))
        };
        let literal_count = count(&literal_lengths[..LITERAL_LENGTH_SYMBOLS], 257);
        let distance_count = count(&distance_lengths[..DISTANCE_SYMBOLS], 1);
        self.literal_count = literal_count;
        self.distance_count = distance_count;
        self.run_count = 0;
        let total = literal_count + distance_count;
        self.all[..literal_count].copy_from_slice(&literal_lengths[..literal_count]);
        self.all[literal_count..total].copy_from_slice(&distance_lengths[..distance_count]);
        let mut i = 0;
        while i < total {
            let value = self.all[i];
            let mut run = self.all[i..total]
                .iter()
                .take_while(|&&l| l == value)
                .count();
            i += run;
            if value == 0 {
                while run >= 11 {
                    let n = run.min(138);
                    self.push(18, n - 11);
                    run -= n;
                }
                if run >= 3 {
                    self.push(17, run - 3);
                    run = 0;
                }
            } else {
                self.push(value, 0);
                run -= 1;
                while run >= 3 {
                    let n = run.min(6);
                    self.push(16, n - 3);
                    run -= n;
                }
            }
            for _ in 0..run {
                self.push(value, 0);
            }
        }
        self.freqs = [0; CODE_LENGTH_SYMBOLS];
        for &(symbol, _) in &self.runs[..self.run_count] {
            self.freqs[usize::from(symbol)] += 1;
        }
        limited_lengths_in(work, &self.freqs, MAX_CODE_LENGTH_BITS, &mut self.lengths);
        canonical_codes(&self.lengths, &mut self.codes);
        self.code_length_count = CODE_LENGTH_ORDER
            .iter()
            .rposition(|&s| self.lengths[s] != 0)
            .map_or(4, |i| (i + 1).max(4));
    }

    fn push(&mut self, symbol: u8, extra: usize) {
        self.runs[self.run_count] = (symbol, extra as u8);
        self.run_count += 1;
    }

    /// The header's size in bits.
    pub fn bits(&self) -> u64 {
        let runs: u64 = self.runs[..self.run_count]
            .iter()
            .map(|&(s, _)| u64::from(u32::from(self.lengths[usize::from(s)]) + repeat_extra(s)))
            .sum();
        14 + 3 * self.code_length_count as u64 + runs
    }

    /// Sends HLIT, HDIST, HCLEN, the code length code and the code lengths.
    pub fn write(&self, bits: &mut BitWriter, out: &mut Vec<u8>) {
        bits.put(out, (self.literal_count - 257) as u32, 5);
        bits.put(out, (self.distance_count - 1) as u32, 5);
        bits.put(out, (self.code_length_count - 4) as u32, 4);
        for &symbol in &CODE_LENGTH_ORDER[..self.code_length_count] {
            bits.put(out, u32::from(self.lengths[symbol]), 3);
        }
        for &(symbol, extra) in &self.runs[..self.run_count] {
            let s = usize::from(symbol);
            bits.put(out, u32::from(self.codes[s]), u32::from(self.lengths[s]));
            bits.put(out, u32::from(extra), repeat_extra(symbol));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deflate::alphabet::{FIXED_DISTANCE_LENGTHS, FIXED_LITERAL_LENGTHS};
    use crate::deflate::huffman::limited_lengths;
    use crate::deflate::Compressor;

    /// The header's bits as sent.
    fn sent(header: &DynamicHeader) -> Vec<u8> {
        let (mut bits, mut out) = (BitWriter::default(), Vec::new());
        header.write(&mut bits, &mut out);
        bits.align_to_byte(&mut out);
        out
    }

    #[test]
    fn a_header_rebuilt_in_place_is_the_header_built_afresh() {
        // A block's code: 16 literals, each half as frequent as the one before, and
        // two distance codes.
        let mut freqs = [0u32; LITERAL_LENGTH_SYMBOLS];
        for (i, symbol) in (b'a'..=b'p').enumerate() {
            freqs[usize::from(symbol)] = 1000 >> i;
        }
        freqs[END_OF_BLOCK] = 1;
        let mut literals = [0u8; LITERAL_LENGTH_SYMBOLS];
        limited_lengths(&freqs, 15, &mut literals);
        let mut distances = [0u8; DISTANCE_SYMBOLS];
        distances[..2].fill(1);
        let afresh = DynamicHeader::new(&literals, &distances);
        // The compressor keeps one header and builds each block's into it.
        let mut reused = DynamicHeader::new(&FIXED_LITERAL_LENGTHS, &FIXED_DISTANCE_LENGTHS);
        reused.build(&mut LengthWork::default(), &literals, &distances);
        assert_eq!(reused.bits(), afresh.bits());
        assert_eq!(sent(&reused), sent(&afresh));
        // HLIT 257 + 0: symbol 256 is the last literal/length code used.
        assert_eq!(sent(&afresh)[0] & 0b11111, 0);
    }

    #[test]
    fn a_header_cut_into_single_bytes_is_read_whole() {
        // Letters from a small alphabet: a dynamic code beats the fixed one.
        let mut state = 7u32;
        let text: Vec<u8> = (0..3000)
            .map(|_| {
                state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
                b'a' + (state >> 28) as u8
            })
            .collect();
        let mut wire = Vec::new();
        Compressor::new(15, false).compress_message(&text, &mut wire);
        assert_eq!(wire[0] & 0b111, 0b100, "a dynamic block");
        let (mut whole_lit, mut whole_dist) = (Decoder::default(), Decoder::default());
        let mut bits = BitReader::default();
        let mut consumed = 0;
        bits.fill_to(3, &wire, &mut consumed);
        bits.consume(3);
        let mut reader = CodeLengthReader::default();
        let done = reader.read(
            &mut bits,
            &wire,
            &mut consumed,
            &mut whole_lit,
            &mut whole_dist,
        );
        assert_eq!(done, Ok(true));

        let (mut lit, mut dist) = (Decoder::default(), Decoder::default());
        let (mut bits, mut at) = (BitReader::default(), 0);
        bits.fill_to(3, &wire[..1], &mut at);
        bits.consume(3);
        let mut reader = CodeLengthReader::default();
        loop {
            let mut used = 0;
            let piece = &wire[at..at + 1];
            let done = reader
                .read(&mut bits, piece, &mut used, &mut lit, &mut dist)
                .unwrap();
            at += used;
            if done {
                break;
            }
        }
        for probe in 0..1u64 << 15 {
            assert_eq!(lit.decode(probe, 64), whole_lit.decode(probe, 64));
            assert_eq!(dist.decode(probe, 64), whole_dist.decode(probe, 64));
        }
    }
}
