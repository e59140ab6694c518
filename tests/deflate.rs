//! permessage-deflate's DEFLATE from the outside: RFC 7692's vectors, round trips at
//! every window size, input cut at every byte, a bomb, and the throughput. The
//! refusals are in deflate_refusals.rs, miniz_oxide both ways in deflate_miniz.rs.

mod deflate_support;

use deflate_support::{json, messages, noise, ours, text, Rng};
use stdws::deflate::{Compressor, InflateError, Inflater, Status, MESSAGE_TAIL};

#[test]
fn rfc_7692_vectors() {
    let hello = |payload: &[u8]| ours(&mut Inflater::new(15, true), payload);
    assert_eq!(
        hello(&[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]).unwrap(),
        b"Hello"
    );
    let stored = [
        0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
    ];
    assert_eq!(hello(&stored).unwrap(), b"Hello");
    let last = [0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00];
    assert_eq!(hello(&last).unwrap(), b"Hello");
    let two = [
        0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00,
    ];
    assert_eq!(hello(&two).unwrap(), b"Hello");
    assert_eq!(hello(&[0x00]).unwrap(), b"");

    // §7.2.3.2: the second message refers back into the first.
    let first = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
    let second = [0xf2, 0x00, 0x11, 0x00, 0x00];
    let mut takeover = Inflater::new(15, true);
    ours(&mut takeover, &first).unwrap();
    assert_eq!(ours(&mut takeover, &second).unwrap(), b"Hello");
    let mut no_takeover = Inflater::new(15, false);
    ours(&mut no_takeover, &first).unwrap();
    assert_eq!(
        ours(&mut no_takeover, &second),
        Err(InflateError::DistanceTooFarBack)
    );

    let mut compressor = Compressor::new(15, false);
    let mut wire = Vec::new();
    compressor.compress_message(b"Hello", &mut wire);
    assert_eq!(wire, first);
    wire.clear();
    compressor.compress_message(b"", &mut wire);
    assert_eq!(wire, [0x00]);
}

#[test]
fn round_trips_at_every_window_with_and_without_context_takeover() {
    for bits in 8..=15u8 {
        for takeover in [true, false] {
            let mut compressor = Compressor::new(bits, takeover);
            let mut inflater = Inflater::new(bits, takeover);
            let mut wire = Vec::new();
            for message in messages(u64::from(bits) * 7 + 1) {
                wire.clear();
                compressor.compress_message(&message, &mut wire);
                assert_eq!(ours(&mut inflater, &wire).unwrap(), message, "bits {bits}");
            }
        }
    }
}

#[test]
fn a_small_window_never_sees_a_distance_beyond_it() {
    // An inflater of the same window refuses any longer distance: a round trip of
    // data with repeats at every distance proves the compressor kept within it.
    let mut rng = Rng(99);
    let block = noise(&mut rng, 400, 256);
    let data: Vec<u8> = block
        .iter()
        .chain(&block)
        .chain(&block[..300])
        .copied()
        .collect();
    for bits in 8..=9u8 {
        let mut wire = Vec::new();
        Compressor::new(bits, true).compress_message(&data, &mut wire);
        assert_eq!(ours(&mut Inflater::new(bits, true), &wire).unwrap(), data);
    }
}

#[test]
fn input_cut_at_every_byte_inflates_the_same() {
    let mut rng = Rng(5);
    let mut message = json(&mut rng).repeat(3);
    message.extend(text(&mut rng, 200));
    let mut wires = Vec::new();
    for chain in [1, 32] {
        let mut compressor = Compressor::with_chain(15, true, chain);
        let mut wire = Vec::new();
        compressor.compress_message(&message, &mut wire);
        wire.extend_from_slice(&MESSAGE_TAIL);
        wires.push(wire);
    }
    let mut stored = vec![0x00, 0x05, 0x00, 0xfa, 0xff];
    stored.extend_from_slice(b"Hello");
    stored.extend_from_slice(&[0x00, 0x00, 0x00, 0xff, 0xff]);
    wires.push(stored);
    for wire in &wires {
        let whole = ours(&mut Inflater::new(15, true), &wire[..wire.len() - 4]).unwrap();
        for cut in 0..=wire.len() {
            let mut inflater = Inflater::new(15, true);
            let mut out = Vec::new();
            inflater
                .inflate_into(&wire[..cut], &mut out, 1 << 20)
                .unwrap();
            inflater
                .inflate_into(&wire[cut..], &mut out, 1 << 20)
                .unwrap();
            inflater.finish_message().unwrap();
            assert_eq!(out, whole, "cut at {cut}");
        }
    }
}

#[test]
fn one_byte_at_a_time_in_and_out() {
    let message = text(&mut Rng(8), 2000);
    let mut wire = Vec::new();
    Compressor::new(10, true).compress_message(&message, &mut wire);
    wire.extend_from_slice(&MESSAGE_TAIL);
    let mut inflater = Inflater::new(10, true);
    let (mut out, mut byte, mut at) = (Vec::new(), [0u8; 1], 0);
    while at < wire.len() {
        let p = inflater.inflate(&wire[at..at + 1], &mut byte).unwrap();
        at += p.consumed;
        out.extend_from_slice(&byte[..p.produced]);
        assert!(p.consumed == 1 || p.status == Status::OutputFull);
    }
    inflater.finish_message().unwrap();
    assert_eq!(out, message);
}

#[test]
fn a_bomb_stops_at_the_limit() {
    let zeros = vec![0u8; 4 << 20];
    let mut wire = Vec::new();
    Compressor::new(15, false).compress_message(&zeros, &mut wire);
    assert!(wire.len() < 8 << 10, "{} bytes", wire.len());
    let mut out = Vec::new();
    let result = Inflater::new(15, false).inflate_message(&wire, &mut out, 100_000);
    assert_eq!(result, Err(InflateError::OutputLimit));
    assert_eq!(out.len(), 100_000);
    assert!(out.capacity() < 200_000);
    // Exactly the limit is fine.
    let mut out = Vec::new();
    Inflater::new(15, false)
        .inflate_message(&wire, &mut out, zeros.len())
        .unwrap();
    assert_eq!(out.len(), zeros.len());
}

/// Throughput on a few MiB of JSON-like text: `cargo test --release --test deflate
/// -- --ignored --nocapture throughput`.
#[test]
#[ignore]
fn throughput() {
    let mut rng = Rng(42);
    let batch: Vec<Vec<u8>> = (0..20_000).map(|_| json(&mut rng)).collect();
    let whole: Vec<u8> = batch.concat();
    let prose = text(&mut rng, 4 << 20);
    let chapters: Vec<Vec<u8>> = prose.chunks(4096).map(<[u8]>::to_vec).collect();
    let mb = |n: usize, t: std::time::Duration| n as f64 / 1e6 / t.as_secs_f64();
    for (name, takeover, pieces) in [
        ("JSON as one message", true, vec![whole]),
        (
            "JSON, ~125 B messages, context takeover",
            true,
            batch.clone(),
        ),
        ("JSON, ~125 B messages, no context takeover", false, batch),
        ("text as one message", true, vec![prose]),
        ("text, 4 KiB messages, no context takeover", false, chapters),
    ] {
        let total: usize = pieces.iter().map(Vec::len).sum();
        let mut compressor = Compressor::new(15, takeover);
        let mut inflater = Inflater::new(15, takeover);
        let (mut wires, mut size) = (Vec::new(), 0);
        let start = std::time::Instant::now();
        for piece in &pieces {
            let mut wire = Vec::new();
            compressor.compress_message(piece, &mut wire);
            size += wire.len();
            wires.push(wire);
        }
        let deflate = start.elapsed();
        let start = std::time::Instant::now();
        let mut out = Vec::new();
        for wire in &wires {
            out.clear();
            inflater.inflate_message(wire, &mut out, 1 << 24).unwrap();
        }
        let inflate = start.elapsed();
        println!(
            "{name}: {total} B -> {size} B (ratio {:.3}), deflate {:.0} MB/s, inflate {:.0} MB/s",
            size as f64 / total as f64,
            mb(total, deflate),
            mb(total, inflate)
        );
    }
}
