//! The compressor and the inflater together: for every window of 8 to 15 bits, with
//! and without context takeover, the input cut into two messages, each handed to the
//! compressor in fuzzer-chosen pieces, comes back exactly from the inflater (also fed
//! in pieces), with the output limit set to the message's own length. Whatever the
//! bytes, the compressor must never write a distance beyond its window: the
//! inflater, sized to the same window, refuses one.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stdws::deflate::{Compressor, Inflater, MESSAGE_TAIL};

fuzz_target!(|input: &[u8]| {
    let (&head, data) = input.split_first().unwrap_or((&0, &[]));
    let piece = 1 + usize::from(head & 0x3F) * 97;
    let chain = 1 + usize::from(head >> 6) * 20;
    let split = usize::from(head).min(data.len());
    let messages = [&data[..split], &data[split..]];
    for window_bits in 8..=15 {
        for takeover in [true, false] {
            let mut compressor = Compressor::with_chain(window_bits, takeover, chain);
            let mut inflater = Inflater::new(window_bits, takeover);
            for message in messages {
                let mut wire = Vec::new();
                for part in message.chunks(piece) {
                    compressor.compress(part, &mut wire);
                }
                compressor.finish_message(&mut wire);
                let mut back = Vec::new();
                for part in wire.chunks(piece.div_ceil(3)).chain([&MESSAGE_TAIL[..]]) {
                    inflater
                        .inflate_into(part, &mut back, message.len())
                        .unwrap_or_else(|e| panic!("window {window_bits}: {e}"));
                }
                inflater.finish_message().unwrap();
                assert!(back == message, "window {window_bits}: other bytes back");
            }
        }
    }
});
