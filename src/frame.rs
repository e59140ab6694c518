//! RFC 6455 frame headers (§5.2) and masking (§5.3).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-------+-+-------------+-------------------------------+
//! |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//! |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
//! |N|V|V|V|       |S|             |   (if payload len==126/127)   |
//! | |1|2|3|       |K|             |                               |
//! +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
//! |     Extended payload length continued, if payload len == 127  |
//! + - - - - - - - - - - - - - - - +-------------------------------+
//! |                               | Masking-key, if MASK set to 1 |
//! +-------------------------------+-------------------------------+
//! ```
//!
//! This module knows bytes only: no stream, no state. Which headers are acceptable
//! (masking direction, opcodes, control-frame rules) is decided by the message reader.

use crate::error::Violation;

/// The longest header: 2 bytes, an 8-byte length and a 4-byte masking key.
pub const MAX_HEADER_LEN: usize = 14;

/// Opcodes (§5.2, §11.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opcode {
    /// 0x0: continues a fragmented message.
    Continuation,
    /// 0x1: the first frame of a text message.
    Text,
    /// 0x2: the first frame of a binary message.
    Binary,
    /// 0x8: close.
    Close,
    /// 0x9: ping.
    Ping,
    /// 0xA: pong.
    Pong,
}

impl Opcode {
    /// The opcode for a 4-bit value, or `None` for the reserved 3–7 and 11–15.
    pub fn from_bits(bits: u8) -> Option<Opcode> {
        Some(match bits {
            0x0 => Opcode::Continuation,
            0x1 => Opcode::Text,
            0x2 => Opcode::Binary,
            0x8 => Opcode::Close,
            0x9 => Opcode::Ping,
            0xA => Opcode::Pong,
            _ => return None,
        })
    }

    /// The 4-bit value on the wire.
    pub fn bits(self) -> u8 {
        match self {
            Opcode::Continuation => 0x0,
            Opcode::Text => 0x1,
            Opcode::Binary => 0x2,
            Opcode::Close => 0x8,
            Opcode::Ping => 0x9,
            Opcode::Pong => 0xA,
        }
    }

    /// Control frames have the high bit of the opcode set (§5.5).
    pub fn is_control(self) -> bool {
        self.bits() & 0x8 != 0
    }

    /// The opcode's name, as `--trace` prints it.
    pub fn name(self) -> &'static str {
        match self {
            Opcode::Continuation => "continuation",
            Opcode::Text => "text",
            Opcode::Binary => "binary",
            Opcode::Close => "close",
            Opcode::Ping => "ping",
            Opcode::Pong => "pong",
        }
    }
}

/// A decoded frame header, as it was on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// FIN: this is the last frame of its message.
    pub fin: bool,
    /// RSV1–RSV3 as the low three bits.
    pub rsv: u8,
    /// The 4-bit opcode, unchecked (see [`Opcode::from_bits`]).
    pub opcode_bits: u8,
    /// The masking key, when the MASK bit is set.
    pub mask: Option<[u8; 4]>,
    /// The payload length.
    pub len: u64,
}

/// Decodes a header from the front of `buf`.
///
/// Returns `Ok(None)` when `buf` does not hold the whole header yet, and otherwise the
/// header and its length in bytes. A receiver may accept a length in a longer form
/// than needed (§5.2 asks only the sender for the shortest), so stdws does.
///
/// ```
/// use stdws::frame::decode_header;
/// // The RFC's example: a single-frame masked text "Hello" (§5.7).
/// let wire = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
/// let (h, used) = decode_header(&wire).unwrap().unwrap();
/// assert_eq!((h.fin, h.opcode_bits, h.len, used), (true, 1, 5, 6));
/// assert_eq!(h.mask, Some([0x37, 0xfa, 0x21, 0x3d]));
/// assert_eq!(decode_header(&wire[..3]).unwrap(), None);
/// ```
pub fn decode_header(buf: &[u8]) -> Result<Option<(Header, usize)>, Violation> {
    if buf.len() < 2 {
        return Ok(None);
    }
    let masked = buf[1] & 0x80 != 0;
    let (len, mut used) = match buf[1] & 0x7F {
        126 => match buf.get(2..4) {
            Some(b) => (u64::from(u16::from_be_bytes([b[0], b[1]])), 4),
            None => return Ok(None),
        },
        127 => match buf.get(2..10) {
            Some(b) => {
                let mut n = [0u8; 8];
                n.copy_from_slice(b);
                let len = u64::from_be_bytes(n);
                if len >> 63 != 0 {
                    return Err(Violation::LengthTopBitSet);
                }
                (len, 10)
            }
            None => return Ok(None),
        },
        short => (u64::from(short), 2),
    };
    let mask = if masked {
        match buf.get(used..used + 4) {
            Some(k) => {
                used += 4;
                Some([k[0], k[1], k[2], k[3]])
            }
            None => return Ok(None),
        }
    } else {
        None
    };
    let header = Header {
        fin: buf[0] & 0x80 != 0,
        rsv: (buf[0] >> 4) & 0x7,
        opcode_bits: buf[0] & 0x0F,
        mask,
        len,
    };
    Ok(Some((header, used)))
}

/// Encodes a header into `out`, using the shortest length form (§5.2), and returns
/// how many bytes it wrote.
///
/// ```
/// use stdws::frame::{encode_header, Opcode};
/// let mut out = [0u8; 14];
/// let n = encode_header(&mut out, true, Opcode::Binary, 256, None);
/// assert_eq!(&out[..n], &[0x82, 126, 0x01, 0x00]);
/// ```
pub fn encode_header(
    out: &mut [u8; MAX_HEADER_LEN],
    fin: bool,
    opcode: Opcode,
    len: u64,
    mask: Option<[u8; 4]>,
) -> usize {
    out[0] = (if fin { 0x80 } else { 0 }) | opcode.bits();
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    let mut n = if len < 126 {
        out[1] = mask_bit | len as u8;
        2
    } else if len <= u64::from(u16::MAX) {
        out[1] = mask_bit | 126;
        out[2..4].copy_from_slice(&(len as u16).to_be_bytes());
        4
    } else {
        out[1] = mask_bit | 127;
        out[2..10].copy_from_slice(&len.to_be_bytes());
        10
    };
    if let Some(key) = mask {
        out[n..n + 4].copy_from_slice(&key);
        n += 4;
    }
    n
}

/// XORs `buf` with the masking key (§5.3), where `buf` starts `offset` bytes into the
/// frame's payload (so a payload can be unmasked in the pieces it arrives in).
///
/// Works a 64-bit word at a time: the key repeated twice is one word, and the compiler
/// turns the loop into vector instructions. Masking and unmasking are the same XOR.
///
/// ```
/// use stdws::frame::apply_mask;
/// let key = [0x37, 0xfa, 0x21, 0x3d];
/// let mut hello = [0x7f, 0x9f, 0x4d, 0x51, 0x58];
/// apply_mask(&mut hello[..2], key, 0);
/// apply_mask(&mut hello[2..], key, 2);
/// assert_eq!(&hello, b"Hello");
/// ```
pub fn apply_mask(buf: &mut [u8], key: [u8; 4], offset: usize) {
    let mut key = key;
    key.rotate_left(offset % 4);
    let mut chunks = buf.chunks_exact_mut(8);
    let word = u64::from_ne_bytes([
        key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3],
    ]);
    for chunk in &mut chunks {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(chunk);
        let masked = u64::from_ne_bytes(bytes) ^ word;
        chunk.copy_from_slice(&masked.to_ne_bytes());
    }
    for (i, b) in chunks.into_remainder().iter_mut().enumerate() {
        *b ^= key[i % 4];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_examples_decode() {
        // §5.7: unmasked "Hello", a 256-byte binary, a 64 KiB binary.
        let (h, n) = decode_header(&[0x01, 0x03]).unwrap().unwrap();
        assert_eq!((h.fin, h.opcode_bits, h.len, n), (false, 1, 3, 2));
        let (h, n) = decode_header(&[0x82, 0x7E, 0x01, 0x00]).unwrap().unwrap();
        assert_eq!((h.opcode_bits, h.len, n), (2, 256, 4));
        let wire = [0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0];
        let (h, n) = decode_header(&wire).unwrap().unwrap();
        assert_eq!((h.len, n), (65536, 10));
    }

    #[test]
    fn top_bit_of_64_bit_length_is_refused() {
        let wire = [0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(decode_header(&wire), Err(Violation::LengthTopBitSet));
    }

    #[test]
    fn encode_decode_round_trip_at_length_boundaries() {
        for len in [0u64, 125, 126, 65535, 65536, 1 << 40] {
            for mask in [None, Some([1, 2, 3, 4])] {
                let mut out = [0u8; MAX_HEADER_LEN];
                let n = encode_header(&mut out, true, Opcode::Text, len, mask);
                let (h, used) = decode_header(&out[..n]).unwrap().unwrap();
                assert_eq!((h.len, h.mask, used), (len, mask, n));
                for short in 0..n {
                    assert_eq!(decode_header(&out[..short]).unwrap(), None);
                }
            }
        }
    }

    #[test]
    fn word_masking_equals_bytewise_masking_at_every_offset() {
        let key = [0xA1, 0x02, 0xF3, 0x44];
        let data: Vec<u8> = (0..100u8).collect();
        for offset in 0..8 {
            for len in [0, 1, 7, 8, 9, 31, 92] {
                let mut fast = data[..len].to_vec();
                apply_mask(&mut fast, key, offset);
                let slow: Vec<u8> = data[..len]
                    .iter()
                    .enumerate()
                    .map(|(i, b)| b ^ key[(i + offset) % 4])
                    .collect();
                assert_eq!(fast, slow, "offset {offset} len {len}");
            }
        }
    }
}
