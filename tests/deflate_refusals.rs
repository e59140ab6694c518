//! Every way a DEFLATE stream can be wrong (RFC 1951), built bit by bit, refused by
//! the inflater with its own reason; and the window's bound on distances.

use stdws::deflate::alphabet::{distance_code, length_code, LENGTH_BASE, LENGTH_EXTRA};
mod deflate_support;

use deflate_support::{noise, ours, Rng};
use stdws::deflate::alphabet::{DISTANCE_BASE, DISTANCE_EXTRA, FIXED_LITERAL_LENGTHS};
use stdws::deflate::bits::BitWriter;
use stdws::deflate::huffman::canonical_codes;
use stdws::deflate::{Compressor, InflateError, Inflater, MESSAGE_TAIL};

/// Inflates a raw stream (no tail added) with ours and returns the error.
fn refusal(stream: &[u8]) -> InflateError {
    let mut out = Vec::new();
    let mut inflater = Inflater::new(15, false);
    let result = inflater
        .inflate_into(stream, &mut out, 1 << 16)
        .and_then(|_| inflater.finish_message());
    result.expect_err("refused")
}

/// Packs (value, bit count) pairs least significant bit first.
fn pack(fields: &[(u32, u32)]) -> Vec<u8> {
    let (mut out, mut acc, mut n) = (Vec::new(), 0u64, 0);
    for &(value, bits) in fields {
        acc |= u64::from(value) << n;
        n += bits;
        while n >= 8 {
            out.push(acc as u8);
            acc >>= 8;
            n -= 8;
        }
    }
    if n > 0 {
        out.push(acc as u8);
    }
    out
}

/// A dynamic block header: HLIT, HDIST, HCLEN, then the code length code lengths in
/// their order (16 17 18 0 8 7 9 6 10 5 11 4 12 3 13 2 14 1 15).
fn dynamic(hlit: u32, hdist: u32, cl: &[u32]) -> Vec<(u32, u32)> {
    let mut fields = vec![
        (0, 1),
        (2, 2),
        (hlit - 257, 5),
        (hdist - 1, 5),
        (cl.len() as u32 - 4, 4),
    ];
    fields.extend(cl.iter().map(|&l| (l, 3)));
    fields
}

#[test]
fn every_broken_stream_is_refused_with_its_reason() {
    use InflateError::*;
    assert_eq!(refusal(&pack(&[(0, 1), (3, 2)])), InvalidBlockType);
    assert_eq!(
        refusal(&[0x00, 0x05, 0x00, 0xfa, 0xfe]),
        StoredLengthMismatch
    );
    assert_eq!(
        refusal(&pack(&dynamic(287, 1, &[0; 4]))),
        TooManyLengthCodes
    );
    assert_eq!(
        refusal(&pack(&dynamic(257, 31, &[0; 4]))),
        TooManyDistanceCodes
    );
    // Code length code: three codes of one bit; then one code of two bits.
    assert_eq!(
        refusal(&pack(&dynamic(257, 1, &[1, 1, 1, 0]))),
        OverSubscribedCode
    );
    assert_eq!(
        refusal(&pack(&dynamic(257, 1, &[2, 0, 0, 0]))),
        IncompleteCode
    );
    // Symbols 0 and 16 with one bit each (codes 0 and 1, in symbol order): a 16 first.
    let mut fields = dynamic(257, 1, &[1, 0, 0, 1]);
    fields.extend([(1, 1), (0, 2)]);
    assert_eq!(refusal(&pack(&fields)), RepeatWithoutLength);
    // Symbols 0 and 18 (code 1): 18 with 7 bits of 127 = 138 zeros, twice, overruns 258.
    let mut fields = dynamic(257, 1, &[0, 0, 1, 1]);
    fields.extend([(1, 1), (127, 7), (1, 1), (127, 7)]);
    assert_eq!(refusal(&pack(&fields)), RepeatPastEnd);
    // Symbols 0 and 18: 138 + 120 zero lengths, so no end-of-block code.
    let mut fields = dynamic(257, 1, &[0, 0, 1, 1]);
    fields.extend([(1, 1), (127, 7), (1, 1), (109, 7)]);
    assert_eq!(refusal(&pack(&fields)), MissingEndOfBlock);
    // Fixed code: 286 is 8 bits 11000110, sent most significant bit first.
    let code_286 = 0b1100_0110u32.reverse_bits() >> 24;
    assert_eq!(
        refusal(&pack(&[(0, 1), (1, 2), (code_286, 8)])),
        InvalidLengthCode
    );
    // Fixed code: length 3 (symbol 257, 7 bits 0000001), then distance code 30.
    let code_257 = 0b000_0001u32.reverse_bits() >> 25;
    let code_30 = 0b11110u32.reverse_bits() >> 27;
    let fields = [(0, 1), (1, 2), (code_257, 7), (code_30, 5)];
    assert_eq!(refusal(&pack(&fields)), InvalidDistanceCode);
    // Fixed code: length 3 at distance 1 with nothing produced yet.
    let fields = [(0, 1), (1, 2), (code_257, 7), (0, 5), (0, 7)];
    assert_eq!(refusal(&pack(&fields)), DistanceTooFarBack);
    // A fixed block that never ends.
    assert_eq!(refusal(&[0xf2, 0x48]), UnexpectedEnd);
    // Every later call repeats the reason.
    let mut inflater = Inflater::new(15, true);
    let mut out = [0u8; 8];
    assert_eq!(inflater.inflate(&[0x07], &mut out), Err(InvalidBlockType));
    assert_eq!(inflater.inflate(&[0x00], &mut out), Err(InvalidBlockType));
}

#[test]
fn a_distance_beyond_the_window_is_refused_even_with_history() {
    // 300 bytes of history, then a match 300 back: too far for a 256-byte window.
    let mut rng = Rng(3);
    let history = noise(&mut rng, 300, 256);
    let mut wire = Vec::new();
    let mut compressor = Compressor::new(15, true);
    compressor.compress_message(&history, &mut wire);
    wire.clear();
    compressor.compress_message(&history[..10], &mut wire);
    let mut wide = Inflater::new(15, true);
    let mut narrow = Inflater::new(8, true);
    let mut first = Vec::new();
    Compressor::new(15, true).compress_message(&history, &mut first);
    ours(&mut wide, &first).unwrap();
    ours(&mut narrow, &first).unwrap();
    assert_eq!(ours(&mut wide, &wire).unwrap(), &history[..10]);
    assert_eq!(
        ours(&mut narrow, &wire),
        Err(InflateError::DistanceTooFarBack)
    );
}

/// A fixed-code block of literals, then (length, distance) matches, then a sync
/// flush with its tail.
fn fixed_block(literals: &[u8], matches: &[(usize, usize)]) -> Vec<u8> {
    let lengths = FIXED_LITERAL_LENGTHS;
    let mut codes = [0u16; 288];
    canonical_codes(&lengths, &mut codes);
    let (mut out, mut w) = (Vec::new(), BitWriter::default());
    let put = |w: &mut BitWriter, out: &mut Vec<u8>, s: usize| {
        w.put(out, u32::from(codes[s]), u32::from(lengths[s]))
    };
    w.put(&mut out, 0b010, 3);
    for &b in literals {
        put(&mut w, &mut out, usize::from(b));
    }
    for &(length, distance) in matches {
        let code = length_code(length);
        put(&mut w, &mut out, 257 + code);
        let extra = length - usize::from(LENGTH_BASE[code]);
        w.put(&mut out, extra as u32, u32::from(LENGTH_EXTRA[code]));
        let code = distance_code(distance);
        w.put(&mut out, (code as u32).reverse_bits() >> 27, 5);
        let extra = distance - usize::from(DISTANCE_BASE[code]);
        w.put(&mut out, extra as u32, u32::from(DISTANCE_EXTRA[code]));
    }
    put(&mut w, &mut out, 256);
    w.put(&mut out, 0, 3);
    w.align_to_byte(&mut out);
    out.extend_from_slice(&MESSAGE_TAIL);
    out
}

fn inflate_all(window_bits: u8, input: &[u8]) -> Result<Vec<u8>, InflateError> {
    let mut inflater = Inflater::new(window_bits, true);
    let mut out = Vec::new();
    inflater.inflate_into(input, &mut out, 1 << 20)?;
    inflater.finish_message()?;
    Ok(out)
}

#[test]
fn the_window_bounds_every_distance() {
    // 257 bytes of history: 256 back is inside a window of 8 bits, 257 is not.
    let literals: Vec<u8> = (0..=256).map(|i| i as u8).collect();
    let out = inflate_all(8, &fixed_block(&literals, &[(3, 256)])).unwrap();
    assert_eq!(out[257..], [1, 2, 3]);
    let too_far = fixed_block(&literals, &[(3, 257)]);
    assert_eq!(
        inflate_all(8, &too_far),
        Err(InflateError::DistanceTooFarBack)
    );
    assert_eq!(inflate_all(9, &too_far).unwrap()[257..], [0, 1, 2]);
    // The longest distance of all, 32768, in a full window; and one byte too far.
    let history: Vec<u8> = (0..32768).map(|i| (i % 251) as u8).collect();
    let far = fixed_block(&history, &[(258, 32768)]);
    assert_eq!(inflate_all(15, &far).unwrap()[32768..], history[..258]);
    assert_eq!(
        inflate_all(15, &fixed_block(&history[1..], &[(3, 32768)])),
        Err(InflateError::DistanceTooFarBack)
    );
}
