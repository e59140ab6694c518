//! miniz_oxide, someone else's DEFLATE, both ways: it inflates what stdws compresses
//! (every window, with and without context takeover), and stdws inflates what it
//! compresses at every level and strategy, sync-flushed per message or as one stream
//! with BFINAL.

mod deflate_support;

use deflate_support::{messages, ours};
use miniz_oxide::deflate::core::{create_comp_flags_from_zip_params, CompressorOxide};
use miniz_oxide::inflate::stream::{inflate as mz_inflate, InflateState};
use miniz_oxide::{DataFormat, MZFlush};
use stdws::deflate::{Compressor, Inflater, MESSAGE_TAIL};

/// Inflates with miniz_oxide, a stream kept across messages.
fn theirs(state: &mut InflateState, payload: &[u8]) -> Vec<u8> {
    let mut input = payload.to_vec();
    input.extend_from_slice(&MESSAGE_TAIL);
    let (mut out, mut buf, mut at) = (Vec::new(), vec![0u8; 1 << 16], 0);
    loop {
        let r = mz_inflate(state, &input[at..], &mut buf, MZFlush::Sync);
        r.status.expect("miniz_oxide inflates it");
        at += r.bytes_consumed;
        out.extend_from_slice(&buf[..r.bytes_written]);
        if at == input.len() && r.bytes_written < buf.len() {
            return out;
        }
    }
}

#[test]
fn miniz_oxide_inflates_what_we_compress() {
    for bits in [8, 9, 12, 15] {
        for takeover in [true, false] {
            let mut compressor = Compressor::new(bits, takeover);
            let mut state = InflateState::new(DataFormat::Raw);
            for message in messages(u64::from(bits)) {
                let mut wire = Vec::new();
                compressor.compress_message(&message, &mut wire);
                assert_eq!(theirs(&mut state, &wire), message);
                if !takeover {
                    state.reset(DataFormat::Raw);
                }
            }
        }
    }
}

/// Compresses with miniz_oxide, raw, sync-flushed, the tail removed.
fn mz_compress(compressor: &mut CompressorOxide, message: &[u8]) -> Vec<u8> {
    let (mut out, mut buf, mut at) = (Vec::new(), vec![0u8; 1 << 16], 0);
    loop {
        let r = miniz_oxide::deflate::stream::deflate(
            compressor,
            &message[at..],
            &mut buf,
            MZFlush::Sync,
        );
        r.status.expect("miniz_oxide compresses");
        at += r.bytes_consumed;
        out.extend_from_slice(&buf[..r.bytes_written]);
        if at == message.len() && r.bytes_written < buf.len() {
            break;
        }
    }
    assert!(out.ends_with(&MESSAGE_TAIL));
    out.truncate(out.len() - 4);
    out
}

#[test]
fn we_inflate_what_miniz_oxide_compresses_at_every_level_and_strategy() {
    for level in 0..=9 {
        for strategy in 0..=4 {
            let flags = create_comp_flags_from_zip_params(level, -15, strategy);
            let mut compressor = CompressorOxide::new(flags);
            let mut inflater = Inflater::new(15, true);
            for message in messages(level as u64 * 5 + strategy as u64) {
                let wire = mz_compress(&mut compressor, &message);
                assert_eq!(
                    ours(&mut inflater, &wire).unwrap(),
                    message,
                    "level {level}"
                );
            }
        }
        // A whole stream with BFINAL set, as compress_to_vec makes it.
        for message in messages(level as u64) {
            let wire = miniz_oxide::deflate::compress_to_vec(&message, level as u8);
            assert_eq!(ours(&mut Inflater::new(15, false), &wire).unwrap(), message);
        }
    }
}
