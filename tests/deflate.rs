//! permessage-deflate's DEFLATE from the outside: RFC 7692's vectors, round trips at
//! every window size, input cut at every byte, each refusal, a bomb, and miniz_oxide
//! (someone else's DEFLATE) both ways.

use miniz_oxide::deflate::core::{create_comp_flags_from_zip_params, CompressorOxide};
use miniz_oxide::inflate::stream::{inflate as mz_inflate, InflateState};
use miniz_oxide::{DataFormat, MZFlush};
use stdws::deflate::{Compressor, InflateError, Inflater, Status, MESSAGE_TAIL};

/// A small deterministic generator (xorshift64*), so every run tests the same bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const WORDS: [&str; 16] = [
    "the", "message", "socket", "frame", "window", "deflate", "server", "client", "hello", "world",
    "stream", "block", "history", "length", "distance", "code",
];

/// A chat-like JSON message.
fn json(rng: &mut Rng) -> Vec<u8> {
    let words: Vec<&str> = (0..3 + rng.below(12))
        .map(|_| WORDS[rng.below(16)])
        .collect();
    format!(
        r#"{{"id":{},"user":"user{}","room":"lobby","text":"{}","ts":{}}}"#,
        rng.below(100_000),
        rng.below(50),
        words.join(" "),
        1_700_000_000 + rng.below(1_000_000)
    )
    .into_bytes()
}

/// Text from a small vocabulary.
fn text(rng: &mut Rng, len: usize) -> Vec<u8> {
    let mut out = Vec::new();
    while out.len() < len {
        out.extend_from_slice(WORDS[rng.below(16)].as_bytes());
        out.push(if rng.below(10) == 0 { b'\n' } else { b' ' });
    }
    out.truncate(len);
    out
}

/// Random bytes drawn from an alphabet of `spread` values (1: a run of one byte).
fn noise(rng: &mut Rng, len: usize, spread: usize) -> Vec<u8> {
    (0..len).map(|_| rng.below(spread) as u8).collect()
}

/// A mixed bag of messages: empty, tiny, JSON, text, noise, runs, up to 40 KiB.
fn messages(seed: u64) -> Vec<Vec<u8>> {
    let mut rng = Rng(seed);
    let mut all = vec![Vec::new(), b"a".to_vec(), b"Hello".to_vec()];
    for _ in 0..6 {
        all.push(json(&mut rng));
    }
    all.push(text(&mut rng, 3000));
    all.push(noise(&mut rng, 700, 256));
    all.push(noise(&mut rng, 2000, 4));
    all.push(noise(&mut rng, 1000, 1));
    all.push(text(&mut rng, 40_000));
    all.push(json(&mut rng).repeat(100));
    all
}

/// Inflates a message's payload with ours, generously limited.
fn ours(inflater: &mut Inflater, payload: &[u8]) -> Result<Vec<u8>, InflateError> {
    let mut out = Vec::new();
    inflater.inflate_message(payload, &mut out, 1 << 24)?;
    Ok(out)
}

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

/// Throughput on a few MiB of JSON-like text: `cargo test --release --test deflate
/// -- --ignored --nocapture throughput`.
#[test]
#[ignore]
fn throughput() {
    let mut rng = Rng(42);
    let batch: Vec<Vec<u8>> = (0..20_000).map(|_| json(&mut rng)).collect();
    let total: usize = batch.iter().map(Vec::len).sum();
    let whole: Vec<u8> = batch.concat();
    let mb = |n: usize, t: std::time::Duration| n as f64 / 1e6 / t.as_secs_f64();
    for (name, takeover, pieces) in [
        ("one 4 MiB message", true, vec![whole.clone()]),
        ("small messages, context takeover", true, batch.clone()),
        ("small messages, no context takeover", false, batch.clone()),
    ] {
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
