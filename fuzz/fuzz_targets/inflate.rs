//! The permessage-deflate inflater on arbitrary bytes, in arbitrary pieces, with a
//! small output limit: no panic, never more output than the limit, and the pieces
//! inflate exactly as the whole does (the same bytes, or the same error; after a
//! stream error only the error counts, since the output of the failing call is
//! dropped, and where that call began depends on the cuts). Two messages run
//! through one inflater, so history carried between them is exercised too. Then the
//! same bytes go through the compressor and back: the round trip must be exact.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stdws::deflate::{Compressor, InflateError, Inflater, MESSAGE_TAIL};

const LIMIT: usize = 4096;

/// Inflates `data` as two messages, each fed in pieces whose sizes cycle through
/// `cuts` (whole when `cuts` is empty); returns each message's bytes and outcome.
fn transcript(
    window_bits: u8,
    takeover: bool,
    data: &[u8],
    cuts: &[u8],
) -> Vec<(Vec<u8>, Result<(), InflateError>)> {
    let mut inflater = Inflater::new(window_bits, takeover);
    let mut turn = 0;
    let mut messages = Vec::new();
    for _ in 0..2 {
        let mut out = Vec::new();
        let mut rest = data;
        let mut outcome = Ok(());
        while !rest.is_empty() && outcome.is_ok() {
            let n = match cuts.get(turn % cuts.len().max(1)) {
                Some(&c) => usize::from(c).clamp(1, rest.len()),
                None => rest.len(),
            };
            turn += 1;
            outcome = inflater.inflate_into(&rest[..n], &mut out, LIMIT);
            rest = &rest[n..];
        }
        let outcome = outcome
            .and_then(|()| inflater.inflate_into(&MESSAGE_TAIL, &mut out, LIMIT))
            .and_then(|()| inflater.finish_message());
        assert!(out.len() <= LIMIT);
        let failed = outcome.is_err();
        if failed && outcome != Err(InflateError::OutputLimit) {
            out.clear();
        }
        messages.push((out, outcome));
        if failed {
            break;
        }
    }
    messages
}

fuzz_target!(|input: &[u8]| {
    let (&head, rest) = input.split_first().unwrap_or((&0, &[]));
    let window_bits = 8 + (head & 7);
    let takeover = head & 8 != 0;
    let n = usize::from(head >> 4).min(rest.len());
    let (cuts, data) = rest.split_at(n);

    let whole = transcript(window_bits, takeover, data, &[]);
    let pieces = transcript(window_bits, takeover, data, cuts);
    assert_eq!(whole, pieces);

    let chain = 1 + usize::from(head >> 4) * 4;
    let mut compressor = Compressor::with_chain(window_bits, takeover, chain);
    let mut inflater = Inflater::new(window_bits, takeover);
    for _ in 0..2 {
        let mut wire = Vec::new();
        compressor.compress_message(data, &mut wire);
        let mut back = Vec::new();
        inflater
            .inflate_message(&wire, &mut back, data.len())
            .unwrap();
        assert_eq!(back, data);
    }
});
