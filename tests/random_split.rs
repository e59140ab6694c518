//! Randomized: valid message streams of both variants (random fragmentation, control
//! frames between fragments, hixie-76 frames that must be discarded), cut at random
//! byte boundaries with read timeouts at some cuts, must decode exactly as the whole
//! stream does, and as the messages that were encoded.
//!
//! The generator is a fixed-seed xorshift, so a failure names its seed and case and
//! replays the same way every time.

use std::io::{self, Read, Write};
use stdws::{Error, Message, Role, Variant, WebSocket};

const SEED: u64 = 0x5EED_CAFE_F00D_0001;
const STREAMS_PER_VARIANT: usize = 300;
const CUTTINGS_PER_STREAM: usize = 4;

/// xorshift64 (Marsaglia 2003): small, deterministic, good enough to pick sizes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
    /// Valid UTF-8 mixing 1- to 4-byte characters.
    fn text(&mut self, chars: usize) -> String {
        const POOL: [char; 8] = ['a', 'Z', ' ', 'é', 'κ', '€', '😀', '\u{10FFFF}'];
        (0..chars).map(|_| POOL[self.below(POOL.len())]).collect()
    }
}

/// The peer: `input` arrives in pieces ending at `cuts`; at a cut marked for it, a
/// read first fails with `TimedOut`, as a socket read timeout would.
struct Peer {
    input: Vec<u8>,
    at: usize,
    cuts: Vec<(usize, bool)>,
    next_cut: usize,
    output: Vec<u8>,
}

impl Peer {
    fn new(input: Vec<u8>, cuts: Vec<(usize, bool)>) -> Peer {
        Peer {
            input,
            at: 0,
            cuts,
            next_cut: 0,
            output: Vec::new(),
        }
    }
}

impl Read for Peer {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut end = self.input.len();
        while let Some(&(cut, timeout)) = self.cuts.get(self.next_cut) {
            if cut > self.at {
                end = cut;
                break;
            }
            self.next_cut += 1;
            if cut == self.at && timeout {
                return Err(io::ErrorKind::TimedOut.into());
            }
        }
        let n = buf.len().min(end - self.at);
        buf[..n].copy_from_slice(&self.input[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

impl Write for Peer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.output.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// One masked client frame with a random key and, sometimes, a longer length form
/// than needed (a receiver must accept it, RFC 6455 §5.2).
fn client_frame(rng: &mut Rng, fin: bool, opcode: u8, payload: &[u8], out: &mut Vec<u8>) {
    out.push(if fin { 0x80 | opcode } else { opcode });
    let n = payload.len();
    match (n, rng.chance(10)) {
        (0..=125, false) => out.push(0x80 | n as u8),
        (0..=0xFFFF, _) => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        _ => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    let key = rng.bytes(4);
    out.extend_from_slice(&key);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
}

/// A random control frame (ping or pong) and the message the reader must yield.
fn control(rng: &mut Rng, out: &mut Vec<u8>) -> Message {
    let len = rng.below(126);
    let payload = rng.bytes(len);
    if rng.chance(50) {
        client_frame(rng, true, 0x9, &payload, out);
        Message::Ping(payload)
    } else {
        client_frame(rng, true, 0xA, &payload, out);
        Message::Pong(payload)
    }
}

/// A random RFC 6455 stream ending in a close, and the messages it holds.
fn rfc_stream(rng: &mut Rng) -> (Vec<u8>, Vec<Message>) {
    let mut wire = Vec::new();
    let mut messages = Vec::new();
    for _ in 0..rng.below(12) + 1 {
        if rng.chance(20) {
            messages.push(control(rng, &mut wire));
            continue;
        }
        let size = if rng.chance(10) {
            rng.below(70_000)
        } else {
            rng.below(300)
        };
        let (opcode, payload, message) = if rng.chance(50) {
            let text = rng.text(size / 2);
            (0x1, text.clone().into_bytes(), Message::Text(text))
        } else {
            let bytes = rng.bytes(size);
            (0x2, bytes.clone(), Message::Binary(bytes))
        };
        // Fragments cut anywhere, even inside a UTF-8 character.
        let pieces = rng.below(5) + 1;
        let mut cuts: Vec<usize> = (1..pieces).map(|_| rng.below(payload.len() + 1)).collect();
        cuts.sort_unstable();
        cuts.insert(0, 0);
        cuts.push(payload.len());
        for (i, w) in cuts.windows(2).enumerate() {
            let last = i == cuts.len() - 2;
            let op = if i == 0 { opcode } else { 0x0 };
            client_frame(rng, last, op, &payload[w[0]..w[1]], &mut wire);
            if !last && rng.chance(30) {
                // Control frames may arrive between fragments; they come out first.
                messages.push(control(rng, &mut wire));
            }
        }
        messages.push(message);
    }
    let code = [1000u16, 1001, 3000, 4999][rng.below(4)];
    let mut payload = code.to_be_bytes().to_vec();
    let reason_chars = rng.below(20);
    payload.extend_from_slice(rng.text(reason_chars).as_bytes());
    payload.truncate(125);
    while std::str::from_utf8(&payload[2..]).is_err() {
        payload.pop();
    }
    client_frame(rng, true, 0x8, &payload, &mut wire);
    let reason = String::from_utf8(payload[2..].to_vec()).unwrap();
    messages.push(Message::Close(Some(stdws::CloseFrame {
        code: stdws::CloseCode(code),
        reason,
    })));
    (wire, messages)
}

/// A random hixie-76 stream (text frames, frames to discard) ending in 0xFF 0x00.
fn hixie_stream(rng: &mut Rng) -> (Vec<u8>, Vec<Message>) {
    let mut wire = Vec::new();
    let mut messages = Vec::new();
    for _ in 0..rng.below(12) + 1 {
        match rng.below(10) {
            0 => {
                // A length-prefixed frame (type 0x80–0xFE), discarded.
                let len = rng.below(400);
                wire.push(0x80 | rng.below(0x7F) as u8);
                let mut digits = vec![(len & 0x7F) as u8];
                let mut rest = len >> 7;
                while rest > 0 {
                    digits.push(0x80 | (rest & 0x7F) as u8);
                    rest >>= 7;
                }
                wire.extend(digits.iter().rev());
                wire.extend(rng.bytes(len));
            }
            1 => {
                // A sentinel frame of type 0x01–0x7F, discarded.
                wire.push(1 + rng.below(0x7F) as u8);
                let len = rng.below(50);
                wire.extend(rng.bytes(len).iter().map(|b| b & 0x7F));
                wire.push(0xFF);
            }
            _ => {
                let chars = if rng.chance(10) {
                    rng.below(20_000)
                } else {
                    rng.below(100)
                };
                let text = rng.text(chars);
                wire.push(0x00);
                wire.extend_from_slice(text.as_bytes());
                wire.push(0xFF);
                messages.push(Message::Text(text));
            }
        }
    }
    wire.extend_from_slice(&[0xFF, 0x00]);
    messages.push(Message::Close(None));
    (wire, messages)
}

/// Reads every message, retrying after each timeout (the reader resumes), until the
/// close. Returns the messages and the bytes the reader wrote back.
fn decode(variant: Variant, peer: Peer) -> (Vec<Message>, Vec<u8>) {
    let mut ws = WebSocket::new(peer, variant, Role::Server);
    let mut got = Vec::new();
    loop {
        match ws.read() {
            Ok(m) => {
                let done = matches!(m, Message::Close(_));
                got.push(m);
                if done {
                    break;
                }
            }
            Err(Error::Io(e)) if e.kind() == io::ErrorKind::TimedOut => {}
            Err(e) => panic!("the stream is valid, yet: {e}"),
        }
    }
    (got, ws.get_ref().output.clone())
}

fn check_variant(variant: Variant, seed: u64) {
    let mut rng = Rng(seed);
    for case in 0..STREAMS_PER_VARIANT {
        let (wire, messages) = match variant {
            Variant::Rfc6455 => rfc_stream(&mut rng),
            Variant::Hixie76 => hixie_stream(&mut rng),
        };
        let whole = decode(variant, Peer::new(wire.clone(), Vec::new()));
        assert_eq!(
            whole.0, messages,
            "seed {seed:#x}, {variant} case {case}: whole stream"
        );
        for cutting in 0..CUTTINGS_PER_STREAM {
            let mut cuts: Vec<(usize, bool)> = (0..rng.below(40) + 1)
                .map(|_| (rng.below(wire.len() + 1), rng.chance(30)))
                .collect();
            if cutting == 0 && wire.len() < 4000 {
                // Once per small stream: one byte at a time.
                cuts = (0..=wire.len()).map(|i| (i, i % 7 == 3)).collect();
            }
            cuts.sort_unstable();
            let split = decode(variant, Peer::new(wire.clone(), cuts.clone()));
            assert!(
                split == whole,
                "seed {seed:#x}, {variant} case {case}, cutting {cutting}: cut at {cuts:?} \
                 decodes differently from the whole stream"
            );
        }
    }
}

#[test]
fn rfc6455_streams_cut_anywhere_decode_as_the_whole() {
    check_variant(Variant::Rfc6455, SEED);
}

#[test]
fn hixie76_streams_cut_anywhere_decode_as_the_whole() {
    check_variant(Variant::Hixie76, SEED ^ 0x76);
}
