//! The start of a dynamic block (RFC 1951 §3.2.7): the sizes of its two codes, the
//! code length code, then every code length, run-length coded with it.
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
use super::bits::{low_mask, BitReader};
use super::huffman::{CodeError, CodeKind, Decoded, Decoder};
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
        CodeLengthReader {
            stage: Stage::Counts,
            literal_count: 0,
            distance_count: 0,
            code_length_count: 0,
            code_length_lengths: [0; CODE_LENGTH_SYMBOLS],
            code_lengths: Decoder::default(),
            lengths: [0; LITERAL_LENGTH_SYMBOLS + DISTANCE_SYMBOLS],
        }
    }
}

impl CodeLengthReader {
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

    /// The run-length coded lengths, each symbol taken with its extra bits at once.
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
