//! The literal/length and distance alphabets (RFC 1951 §3.2.5), the order in which
//! code length code lengths are sent (§3.2.7), and the fixed Huffman code lengths
//! (§3.2.6).
//!
//! A match of length 3..=258 at distance 1..=32768 is sent as a code from one of two
//! alphabets plus a few extra bits read as a number:
//!
//! ```text
//! literal/length  0..=255 a literal byte   256 end of block   257..=285 a length
//! distance        0..=29  a distance       (286, 287, 30, 31 take part in the fixed
//!                                           code but never occur in valid data)
//! ```

/// The end-of-block symbol of the literal/length alphabet.
pub const END_OF_BLOCK: usize = 256;

/// Literal/length symbols that may occur in data: 0..=285.
pub const LITERAL_LENGTH_SYMBOLS: usize = 286;

/// Distance symbols that may occur in data: 0..=29.
pub const DISTANCE_SYMBOLS: usize = 30;

/// Symbols of the code length alphabet (§3.2.7): lengths 0..=15, then the repeat
/// codes 16, 17 and 18.
pub const CODE_LENGTH_SYMBOLS: usize = 19;

/// The order in which the lengths of the code length code are sent (§3.2.7): the ones
/// most often zero come last, so that HCLEN can leave them out.
pub const CODE_LENGTH_ORDER: [usize; CODE_LENGTH_SYMBOLS] = [
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
];

/// The shortest and longest match.
pub const MIN_MATCH: usize = 3;
/// See [`MIN_MATCH`].
pub const MAX_MATCH: usize = 258;

/// The length of each length code 257..=285 (index 0..=28) with no extra bits.
pub const LENGTH_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];

/// How many extra bits follow each length code.
pub const LENGTH_EXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];

/// The distance of each distance code 0..=29 with no extra bits.
pub const DISTANCE_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];

/// How many extra bits follow each distance code.
pub const DISTANCE_EXTRA: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];

/// The code lengths of the fixed literal/length code (§3.2.6), all 288 symbols:
/// 8 bits for 0..=143, 9 for 144..=255, 7 for 256..=279, 8 for 280..=287. A constant,
/// so that building the fixed code reads it in place instead of making a copy on
/// the stack.
pub const FIXED_LITERAL_LENGTHS: [u8; 288] = {
    let mut lengths = [8u8; 288];
    let mut symbol = 144;
    while symbol < 256 {
        lengths[symbol] = 9;
        symbol += 1;
    }
    while symbol < 280 {
        lengths[symbol] = 7;
        symbol += 1;
    }
    lengths
};

/// The code lengths of the fixed distance code: 32 symbols of 5 bits.
pub const FIXED_DISTANCE_LENGTHS: [u8; 32] = [5; 32];

/// The length code (0..=28, that is symbol 257 + code) for a match length 3..=258.
pub fn length_code(length: usize) -> usize {
    debug_assert!((MIN_MATCH..=MAX_MATCH).contains(&length));
    if length == MAX_MATCH {
        return 28;
    }
    let n = length - MIN_MATCH;
    if n < 8 {
        return n;
    }
    // From 8 on, each power of two is split into four codes.
    let log = usize::BITS - 1 - n.leading_zeros();
    4 * (log as usize - 1) + ((n >> (log - 2)) & 3)
}

/// The distance code (0..=29) for a distance 1..=32768.
pub fn distance_code(distance: usize) -> usize {
    debug_assert!((1..=32768).contains(&distance));
    let n = distance - 1;
    if n < 4 {
        return n;
    }
    // From 4 on, each power of two is split into two codes.
    let log = usize::BITS - 1 - n.leading_zeros();
    2 * log as usize + ((n >> (log - 1)) & 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_length_falls_in_its_code_range() {
        for length in MIN_MATCH..=MAX_MATCH {
            let code = length_code(length);
            let base = usize::from(LENGTH_BASE[code]);
            let extra = (1usize << LENGTH_EXTRA[code]) - 1;
            assert!(base <= length && length <= base + extra, "length {length}");
        }
        assert_eq!(length_code(257), 27); // 227 + 30: code 284, not 285
    }

    #[test]
    fn every_distance_falls_in_its_code_range() {
        for distance in 1..=32768 {
            let code = distance_code(distance);
            let base = usize::from(DISTANCE_BASE[code]);
            let extra = (1usize << DISTANCE_EXTRA[code]) - 1;
            assert!(
                base <= distance && distance <= base + extra,
                "distance {distance}"
            );
        }
    }

    #[test]
    fn fixed_code_counts_match_the_rfc_table() {
        let lit = FIXED_LITERAL_LENGTHS;
        let count = |n| lit.iter().filter(|&&l| l == n).count();
        assert_eq!((count(7), count(8), count(9)), (24, 152, 112));
    }
}
