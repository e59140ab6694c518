//! A DEFLATE stream taken apart for reading (`stdws --explain deflate`): each block
//! header, each dynamic block's code lengths, and each literal, match and
//! end-of-block with the Huffman code that carried it.
//!
//! It only reads. The real decoding is the [`super::Inflater`]'s; this walks a whole
//! stream held in one slice with the same pieces ([`BitReader`], [`Decoder`],
//! [`CodeLengthReader`]), and keeps what the inflater throws away: which symbol each
//! code was, and its bits.

use super::alphabet::{
    DISTANCE_BASE, DISTANCE_EXTRA, DISTANCE_SYMBOLS, END_OF_BLOCK, FIXED_DISTANCE_LENGTHS,
    FIXED_LITERAL_LENGTHS, LENGTH_BASE, LENGTH_EXTRA, LITERAL_LENGTH_SYMBOLS,
};
use super::bits::{low_mask, BitReader};
use super::code_lengths::{code_error, CodeLengthReader};
use super::huffman::{CodeKind, Decoded, Decoder};
use super::InflateError;

/// A Huffman code as RFC 1951 §3.2.2 writes it: `len` bits, most significant first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code {
    /// The code's value, read most significant bit first.
    pub bits: u16,
    /// Its length in bits.
    pub len: u8,
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:0width$b}", self.bits, width = usize::from(self.len))
    }
}

/// The three kinds of block (BTYPE, §3.2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockKind {
    /// BTYPE 00: bytes as they are.
    Stored,
    /// BTYPE 01: the codes of §3.2.6.
    Fixed,
    /// BTYPE 10: codes sent at the start of the block (§3.2.7).
    Dynamic,
}

/// One element of a stream, in the order it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Element {
    /// A block's 3-bit header.
    Block {
        /// BFINAL: the last block of the stream.
        last: bool,
        /// BTYPE.
        kind: BlockKind,
    },
    /// A stored block's LEN (NLEN, its complement, checked) and its bytes.
    Stored(Vec<u8>),
    /// A dynamic block's codes, as its header described them.
    Codes {
        /// How many code length code lengths were sent (HCLEN + 4).
        code_length_count: usize,
        /// The code length code's lengths, by symbol 0..=18.
        code_length_lengths: [u8; 19],
        /// Literal/length code lengths, HLIT + 257 of them.
        literal_lengths: Vec<u8>,
        /// Distance code lengths, HDIST + 1 of them.
        distance_lengths: Vec<u8>,
    },
    /// A literal byte and its code.
    Literal(u8, Code),
    /// A match: repeat `length` bytes from `distance` back.
    Match {
        /// 3..=258.
        length: u16,
        /// 1..=32768.
        distance: u16,
        /// The length symbol (257..=285) and its code.
        length_symbol: u16,
        /// See `length_symbol`.
        length_code: Code,
        /// How many extra bits followed the length code.
        length_extra_bits: u8,
        /// The distance symbol (0..=29) and its code.
        distance_symbol: u16,
        /// See `distance_symbol`.
        distance_code: Code,
        /// How many extra bits followed the distance code.
        distance_extra_bits: u8,
    },
    /// The end-of-block symbol (256) and its code.
    EndOfBlock(Code),
}

/// Takes apart `stream`, which must end between blocks (or after a final block).
/// `history` is how many bytes came before this stream in the same LZ77 history
/// (context takeover): a distance reaching further back than that is refused.
pub fn disassemble(stream: &[u8], history: u64) -> Result<Vec<Element>, InflateError> {
    let mut r = Reader {
        bits: BitReader::default(),
        input: stream,
        consumed: 0,
    };
    let mut elements = Vec::new();
    let mut produced = history;
    let (mut fixed_literals, mut fixed_distances) = (Decoder::default(), Decoder::default());
    fixed_literals
        .build(&FIXED_LITERAL_LENGTHS, CodeKind::Literals)
        .map_err(code_error)?;
    fixed_distances
        .build(&FIXED_DISTANCE_LENGTHS, CodeKind::Distances)
        .map_err(code_error)?;
    let (mut literals, mut distances) = (Decoder::default(), Decoder::default());
    let mut header = CodeLengthReader::default();
    while r.consumed < stream.len() || r.bits.available() >= 8 {
        let last = r.take(1)? == 1;
        let kind = match r.take(2)? {
            0b00 => BlockKind::Stored,
            0b01 => BlockKind::Fixed,
            0b10 => BlockKind::Dynamic,
            _ => return Err(InflateError::InvalidBlockType),
        };
        elements.push(Element::Block { last, kind });
        let codes = match kind {
            BlockKind::Stored => {
                r.bits.align_to_byte();
                let len = r.take(16)?;
                if len != !r.take(16)? & 0xFFFF {
                    return Err(InflateError::StoredLengthMismatch);
                }
                let mut bytes = Vec::with_capacity(len as usize);
                for _ in 0..len {
                    bytes.push(r.take(8)? as u8);
                }
                produced += bytes.len() as u64;
                elements.push(Element::Stored(bytes));
                None
            }
            BlockKind::Fixed => Some((&fixed_literals, &fixed_distances)),
            BlockKind::Dynamic => {
                header.start();
                let (input, consumed) = (r.input, &mut r.consumed);
                if !header.read(&mut r.bits, input, consumed, &mut literals, &mut distances)? {
                    return Err(InflateError::UnexpectedEnd);
                }
                let (code_length_count, code_length_lengths) = header.code_length_code();
                let (literal_lengths, distance_lengths) = header.code_lengths();
                elements.push(Element::Codes {
                    code_length_count,
                    code_length_lengths: *code_length_lengths,
                    literal_lengths: literal_lengths.to_vec(),
                    distance_lengths: distance_lengths.to_vec(),
                });
                Some((&literals, &distances))
            }
        };
        if let Some((literals, distances)) = codes {
            read_data(&mut r, literals, distances, &mut produced, &mut elements)?;
        }
        if last {
            break;
        }
    }
    Ok(elements)
}

/// A Huffman block's symbols, up to and including its end-of-block.
fn read_data(
    r: &mut Reader<'_>,
    literals: &Decoder,
    distances: &Decoder,
    produced: &mut u64,
    elements: &mut Vec<Element>,
) -> Result<(), InflateError> {
    loop {
        let (symbol, code) = r.symbol(literals)?;
        match usize::from(symbol) {
            byte if byte < END_OF_BLOCK => {
                *produced += 1;
                elements.push(Element::Literal(byte as u8, code));
            }
            END_OF_BLOCK => {
                elements.push(Element::EndOfBlock(code));
                return Ok(());
            }
            s if s >= LITERAL_LENGTH_SYMBOLS => return Err(InflateError::InvalidLengthCode),
            s => {
                let index = s - 257;
                let length_extra_bits = LENGTH_EXTRA[index];
                let length = LENGTH_BASE[index] + r.take(u32::from(length_extra_bits))? as u16;
                let (distance_symbol, distance_code) = r.symbol(distances)?;
                let d = usize::from(distance_symbol);
                if d >= DISTANCE_SYMBOLS {
                    return Err(InflateError::InvalidDistanceCode);
                }
                let distance_extra_bits = DISTANCE_EXTRA[d];
                let distance = DISTANCE_BASE[d] + r.take(u32::from(distance_extra_bits))? as u16;
                if u64::from(distance) > *produced {
                    return Err(InflateError::DistanceTooFarBack);
                }
                *produced += u64::from(length);
                elements.push(Element::Match {
                    length,
                    distance,
                    length_symbol: symbol,
                    length_code: code,
                    length_extra_bits,
                    distance_symbol,
                    distance_code,
                    distance_extra_bits,
                });
            }
        }
    }
}

/// The stream and the bits taken from it so far.
struct Reader<'a> {
    bits: BitReader,
    input: &'a [u8],
    consumed: usize,
}

impl Reader<'_> {
    /// The next `n` bits (at most 32) as a number.
    fn take(&mut self, n: u32) -> Result<u32, InflateError> {
        if !self.bits.fill_to(n, self.input, &mut self.consumed) {
            return Err(InflateError::UnexpectedEnd);
        }
        Ok(self.bits.take(n))
    }

    /// The next symbol of `code`, with its code as sent.
    fn symbol(&mut self, code: &Decoder) -> Result<(u16, Code), InflateError> {
        self.bits.fill_to(32, self.input, &mut self.consumed);
        match code.decode(self.bits.peek(), self.bits.available()) {
            Decoded::Symbol(symbol, len) => {
                // Sent most significant bit first, so held here reversed.
                let held = (self.bits.peek() & low_mask(len)) as u16;
                let bits = held.reverse_bits() >> (16 - len);
                self.bits.consume(len);
                Ok((
                    symbol,
                    Code {
                        bits,
                        len: len as u8,
                    },
                ))
            }
            Decoded::NeedBits => Err(InflateError::UnexpectedEnd),
            Decoded::NoCode => Err(InflateError::InvalidCode),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deflate::MESSAGE_TAIL;

    #[test]
    fn rfc_7692_hello_in_fixed_codes() {
        // §7.2.3.1: "Hello" in one fixed block, then the sync flush's stored block.
        let mut stream = vec![0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
        stream.extend_from_slice(&MESSAGE_TAIL);
        let elements = disassemble(&stream, 0).unwrap();
        let fixed = Element::Block {
            last: false,
            kind: BlockKind::Fixed,
        };
        assert_eq!(elements[0], fixed);
        // 'H' is 0x48: fixed codes 0..=143 are 8 bits from 00110000.
        let h = Code {
            bits: 0x30 + 0x48,
            len: 8,
        };
        assert_eq!(elements[1], Element::Literal(b'H', h));
        assert_eq!(elements[6], Element::EndOfBlock(Code { bits: 0, len: 7 }));
        let stored = Element::Block {
            last: false,
            kind: BlockKind::Stored,
        };
        assert_eq!(elements[7..], [stored, Element::Stored(Vec::new())]);
    }

    #[test]
    fn a_stored_block_keeps_its_bytes() {
        // §3.2.4: BFINAL 1, BTYPE 00, then LEN 3 and NLEN (its complement), then "abc".
        let stream = [0x01, 0x03, 0x00, 0xFC, 0xFF, b'a', b'b', b'c'];
        let block = Element::Block {
            last: true,
            kind: BlockKind::Stored,
        };
        let stored = Element::Stored(b"abc".to_vec());
        assert_eq!(disassemble(&stream, 0), Ok(vec![block, stored]));
        assert_eq!(
            disassemble(&stream[..7], 0),
            Err(InflateError::UnexpectedEnd)
        );
    }

    #[test]
    fn a_back_reference_needs_its_history() {
        // §7.2.3.2: "Hello" again, as a literal "H" and a match of 4 at distance 5,
        // which reaches into the previous message: only with history before it.
        let mut stream = vec![0xf2, 0x00, 0x11, 0x00, 0x00];
        stream.extend_from_slice(&MESSAGE_TAIL);
        assert_eq!(
            disassemble(&stream, 0),
            Err(InflateError::DistanceTooFarBack)
        );
        let elements = disassemble(&stream, 5).unwrap();
        let Element::Match {
            length, distance, ..
        } = elements[2]
        else {
            panic!("{elements:?}")
        };
        assert_eq!((length, distance), (4, 5));
    }
}
