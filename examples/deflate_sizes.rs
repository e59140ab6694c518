//! Where compressing a message starts to pay, and how fast each memory setting
//! compresses: the measurements behind `MIN_COMPRESSED_SIZE` and the speed figures
//! of docs/COMPRESSION.md.
//!
//! ```text
//! cargo run --release --example deflate_sizes [threshold|speed]
//! ```
//!
//! `threshold` compresses chat-like JSON and plain text messages cut to each size,
//! alone (no context takeover) and after the previous message (context takeover,
//! 1 KiB window), and prints the mean compressed size and how often it is smaller.
//! `speed` compresses and inflates a stream of JSON messages and a block of text
//! with a kept compressor (32 KiB window, context takeover), one rebuilt from a 1 KiB
//! history for each message, and one that starts afresh, and prints MB/s of input.
//! The data is generated here, the same on every run.

use std::time::Instant;
use stdws::deflate::{Compressor, Inflater};

fn main() {
    let what = std::env::args().nth(1).unwrap_or_default();
    if what != "speed" {
        threshold();
    }
    if what != "threshold" {
        speed();
    }
}

/// A little pseudo-random generator, so that runs are comparable.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        ((self.0 >> 33) as usize) % n
    }
}

const WORDS: [&str; 24] = [
    "the", "a", "meeting", "is", "at", "noon", "and", "we", "need", "more", "coffee", "for",
    "everyone", "who", "joins", "today", "please", "bring", "your", "notes", "thanks", "see",
    "you", "soon",
];

/// A sentence of `words` words.
fn sentence(rng: &mut Lcg, words: usize) -> String {
    let mut s = String::new();
    for i in 0..words {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(WORDS[rng.next(WORDS.len())]);
    }
    s
}

/// A chat message as an application would send it.
fn chat(rng: &mut Lcg, seq: usize) -> Vec<u8> {
    let words = 3 + rng.next(20);
    format!(
        "{{\"type\":\"message\",\"room\":\"room-{}\",\"user\":\"user{}\",\"id\":{},\"text\":\"{}\"}}",
        rng.next(20),
        rng.next(500),
        100_000 + seq * 7 + rng.next(7),
        sentence(rng, words)
    )
    .into_bytes()
}

fn compressed_len(compressor: &mut Compressor, message: &[u8]) -> usize {
    let mut wire = Vec::new();
    compressor.compress_message(message, &mut wire);
    wire.len()
}

fn threshold() {
    println!("size  kind  alone: mean bytes, smaller  |  after the previous (1 KiB window)");
    for size in [8, 16, 24, 32, 40, 48, 64, 96, 128] {
        for kind in ["json", "text"] {
            let mut rng = Lcg(size as u64);
            let (mut alone, mut alone_wins, mut after, mut after_wins) = (0, 0, 0, 0);
            let mut kept = Compressor::new(10, true);
            let n = 1000;
            for seq in 0..n {
                let mut m = match kind {
                    "json" => chat(&mut rng, seq),
                    _ => sentence(&mut rng, 40).into_bytes(),
                };
                m.truncate(size);
                let a = compressed_len(&mut Compressor::new(15, false), &m);
                let b = compressed_len(&mut kept, &m);
                alone += a;
                after += b;
                alone_wins += usize::from(a < m.len());
                after_wins += usize::from(b < m.len());
            }
            println!(
                "{size:4}  {kind}  {:6.1} {:4.0}%  |  {:6.1} {:4.0}%",
                alone as f64 / n as f64,
                100.0 * alone_wins as f64 / n as f64,
                after as f64 / n as f64,
                100.0 * after_wins as f64 / n as f64
            );
        }
    }
}

/// MB/s of `bytes` input done in `secs`.
fn rate(bytes: usize, secs: f64) -> f64 {
    bytes as f64 / secs / 1e6
}

fn speed() {
    let mut rng = Lcg(7);
    let messages: Vec<Vec<u8>> = (0..20_000).map(|seq| chat(&mut rng, seq)).collect();
    let text = sentence(&mut rng, 200_000).into_bytes();
    let total: usize = messages.iter().map(Vec::len).sum();
    println!("\nspeed (MB/s of uncompressed bytes; ratio = compressed / original)");
    for (name, bits, takeover, rebuild) in [
        ("full (15 bits, kept)", 15u8, true, false),
        ("small (10 bits, history)", 10, true, true),
        ("stateless (15 bits)", 15, false, false),
    ] {
        let mut compressor = Compressor::new(bits, takeover);
        let mut history = Vec::new();
        let mut wires = Vec::with_capacity(messages.len());
        let start = Instant::now();
        for m in &messages {
            let mut wire = Vec::new();
            if rebuild {
                compressor.start_from(&history);
            }
            compressor.compress_message(m, &mut wire);
            if rebuild {
                history.clear();
                history.extend_from_slice(compressor.history());
            }
            wires.push(wire);
        }
        let compress = start.elapsed().as_secs_f64();
        let wire_total: usize = wires.iter().map(Vec::len).sum();
        let mut inflater = Inflater::new(bits, takeover);
        let mut out = Vec::new();
        let start = Instant::now();
        for (wire, m) in wires.iter().zip(&messages) {
            out.clear();
            inflater.inflate_message(wire, &mut out, 1 << 20).unwrap();
            assert_eq!(&out, m);
        }
        let inflate = start.elapsed().as_secs_f64();
        println!(
            "json messages  {name:26} compress {:6.1}  inflate {:6.1}  ratio {:.3}",
            rate(total, compress),
            rate(total, inflate),
            wire_total as f64 / total as f64
        );
    }
    for bits in [15u8, 10] {
        let mut wire = Vec::new();
        let start = Instant::now();
        Compressor::new(bits, false).compress_message(&text, &mut wire);
        let compress = start.elapsed().as_secs_f64();
        let mut out = Vec::new();
        let start = Instant::now();
        Inflater::new(bits, false)
            .inflate_message(&wire, &mut out, 1 << 30)
            .unwrap();
        let inflate = start.elapsed().as_secs_f64();
        assert_eq!(out, text);
        println!(
            "text {} KiB, {bits}-bit window          compress {:6.1}  inflate {:6.1}  ratio {:.3}",
            text.len() / 1024,
            rate(text.len(), compress),
            rate(text.len(), inflate),
            wire.len() as f64 / text.len() as f64
        );
    }
}
