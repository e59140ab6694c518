//! Shared by the tests/deflate*.rs files: deterministic messages (chat-like JSON,
//! text, noise, runs) and a one-call inflate.
#![allow(dead_code)]

use stdws::deflate::{InflateError, Inflater};

/// A small deterministic generator (xorshift64*), so every run tests the same bytes.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

pub const WORDS: [&str; 16] = [
    "the", "message", "socket", "frame", "window", "deflate", "server", "client", "hello", "world",
    "stream", "block", "history", "length", "distance", "code",
];

/// A chat-like JSON message.
pub fn json(rng: &mut Rng) -> Vec<u8> {
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
pub fn text(rng: &mut Rng, len: usize) -> Vec<u8> {
    let mut out = Vec::new();
    while out.len() < len {
        out.extend_from_slice(WORDS[rng.below(16)].as_bytes());
        out.push(if rng.below(10) == 0 { b'\n' } else { b' ' });
    }
    out.truncate(len);
    out
}

/// Random bytes drawn from an alphabet of `spread` values (1: a run of one byte).
pub fn noise(rng: &mut Rng, len: usize, spread: usize) -> Vec<u8> {
    (0..len).map(|_| rng.below(spread) as u8).collect()
}

/// A mixed bag of messages: empty, tiny, JSON, text, noise, runs, up to 40 KiB.
pub fn messages(seed: u64) -> Vec<Vec<u8>> {
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
pub fn ours(inflater: &mut Inflater, payload: &[u8]) -> Result<Vec<u8>, InflateError> {
    let mut out = Vec::new();
    inflater.inflate_message(payload, &mut out, 1 << 24)?;
    Ok(out)
}
