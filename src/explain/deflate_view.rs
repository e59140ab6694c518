//! The teaching view of permessage-deflate (RFC 7692 over RFC 1951): how each message
//! becomes a compressed payload, symbol by symbol (`stdws --explain deflate TEXT...`).
//!
//! The payload is the one stdws's own [`Compressor`] sends; it is then taken apart
//! with [`disassemble`] (LZ77 literals and matches, and the Huffman codes that carry
//! them), and inflated back with the [`Inflater`] the server reads with. Several
//! texts are several messages on one connection with context takeover, so a later
//! message can be seen reaching back into an earlier one.

use super::{hex_spaced, printable, quoted, Explanation};
use crate::deflate::alphabet::{DISTANCE_BASE, LENGTH_BASE};
use crate::deflate::disassemble::{disassemble, BlockKind, Element};
use crate::deflate::{Compressor, Inflater, MESSAGE_TAIL};

/// The window and history of the explanation: the extension's defaults.
const WINDOW_BITS: u8 = 15;

/// How each of `messages` is compressed, in order, on one connection.
///
/// ```
/// let e = stdws::explain::deflate(&[b"Hello"]);
/// assert_eq!(e.answer.as_deref(), Some("F2 48 CD C9 C9 07 00")); // RFC 7692 §7.2.3.1
/// ```
pub fn deflate(messages: &[&[u8]]) -> Explanation {
    let mut e = Explanation::new(
        "RFC 7692 §7.2.1: payload = DEFLATE (RFC 1951) of the message, sync-flushed, \
         minus its last 4 bytes 00 00 FF FF",
    );
    e.step(
        "settings",
        format!("window 2^{WINDOW_BITS} bytes, context takeover (the extension's defaults)"),
    );
    let mut compressor = Compressor::new(WINDOW_BITS, true);
    let mut inflater = Inflater::new(WINDOW_BITS, true);
    // Every byte of every message so far: what a match copies from.
    let mut history = Vec::new();
    let mut payloads = Vec::new();
    for (n, message) in messages.iter().enumerate() {
        e.step(
            &format!("message {}", n + 1),
            format!("{}, {} bytes", quoted(message), message.len()),
        );
        let mut payload = Vec::new();
        compressor.compress_message(message, &mut payload);
        let mut stream = payload.clone();
        stream.extend_from_slice(&MESSAGE_TAIL);
        let start = history.len();
        match disassemble(&stream, start as u64) {
            Ok(elements) => walk(&mut e, &elements, &mut history),
            Err(err) => e.step("  (cannot be read)", err.to_string()),
        }
        let percent = 100 * payload.len() / message.len().max(1);
        e.step(
            "  on the wire",
            format!(
                "{} ({} bytes for {}: {percent}%)",
                hex_spaced(&payload),
                payload.len(),
                message.len()
            ),
        );
        e.step(
            "  stripped (§7.2.1)",
            format!(
                "{}: LEN 0 and NLEN FFFF of the flush's empty stored block",
                hex_spaced(&MESSAGE_TAIL)
            ),
        );
        let mut back = Vec::new();
        let verdict = match inflater.inflate_message(&payload, &mut back, message.len()) {
            Ok(()) if back == *message => "equal to the message".to_string(),
            Ok(()) => "DIFFERENT from the message".to_string(),
            Err(err) => format!("refused: {err}"),
        };
        e.step(
            "  inflated back",
            format!("{} (tail put back): {verdict}", quoted(&back)),
        );
        if history.len() - start != message.len() {
            e.step("", "(the disassembly does not add up to the message)");
        }
        payloads.push(hex_spaced(&payload));
    }
    e.answer = Some(payloads.join(" / "));
    e
}

/// One message's elements as steps; literals and matches append to `history`.
fn walk(e: &mut Explanation, elements: &[Element], history: &mut Vec<u8>) {
    let mut blocks = 0;
    for element in elements {
        match element {
            Element::Block { last, kind } => {
                blocks += 1;
                let what = match kind {
                    BlockKind::Stored => "00: stored (§3.2.4)",
                    BlockKind::Fixed => "01: fixed Huffman codes (§3.2.6)",
                    BlockKind::Dynamic => "10: dynamic Huffman codes (§3.2.7)",
                };
                e.step(
                    &format!("  block {blocks}"),
                    format!("BFINAL {}, BTYPE {what}", u8::from(*last)),
                );
            }
            Element::Stored(bytes) if bytes.is_empty() => e.step(
                "    LEN 0",
                "empty: the sync flush that ends every message (§7.2.1)",
            ),
            Element::Stored(bytes) => {
                history.extend_from_slice(bytes);
                e.step(&format!("    LEN {}", bytes.len()), quoted(bytes));
            }
            Element::Codes {
                code_length_count,
                code_length_lengths,
                literal_lengths,
                distance_lengths,
            } => {
                e.step(
                    "    HLIT, HDIST, HCLEN",
                    format!(
                        "{} literal/length, {} distance and {code_length_count} code length \
                         code lengths sent",
                        literal_lengths.len(),
                        distance_lengths.len()
                    ),
                );
                e.step(
                    "    code length code",
                    lengths(code_length_lengths, |s| s.to_string()),
                );
                e.step("    literal/length code", lengths(literal_lengths, symbol));
                e.step(
                    "    distance code",
                    lengths(distance_lengths, |s| s.to_string()),
                );
                e.step("", "(symbol:bits; symbols without a code left out)");
            }
            Element::Literal(byte, code) => {
                history.push(*byte);
                e.step(
                    &format!("    literal {}", quoted(&[*byte])),
                    format!("code {code} ({} bits)", code.len),
                );
            }
            Element::Match {
                length,
                distance,
                length_symbol,
                length_code,
                length_extra_bits,
                distance_symbol,
                distance_code,
                distance_extra_bits,
            } => {
                let from = history.len() - usize::from(*distance);
                for i in 0..usize::from(*length) {
                    history.push(history[from + i]);
                }
                let copied = &history[history.len() - usize::from(*length)..];
                let length_base = LENGTH_BASE[usize::from(*length_symbol) - 257];
                let distance_base = DISTANCE_BASE[usize::from(*distance_symbol)];
                e.step(
                    &format!("    match {length}, {distance} back"),
                    format!(
                        "copies {}: length symbol {length_symbol} code {length_code} {}, \
                         distance symbol {distance_symbol} code {distance_code} {}",
                        quoted(copied),
                        extra(*length, length_base, *length_extra_bits),
                        extra(*distance, distance_base, *distance_extra_bits),
                    ),
                );
            }
            Element::EndOfBlock(code) => e.step(
                "    end of block",
                format!("symbol 256, code {code} ({} bits)", code.len),
            ),
        }
    }
}

/// How a length or distance is made of its symbol's base and its extra bits
/// (§3.2.5).
fn extra(value: u16, base: u16, bits: u8) -> String {
    match bits {
        0 => format!("({value}, no extra bits)"),
        1 => format!("({base} + {} in 1 extra bit)", value - base),
        _ => format!("({base} + {} in {bits} extra bits)", value - base),
    }
}

/// `symbol:length` for each symbol that has a code.
fn lengths(lengths: &[u8], name: impl Fn(usize) -> String) -> String {
    let used = lengths.iter().enumerate().filter(|(_, &l)| l != 0);
    let parts: Vec<String> = used.map(|(s, l)| format!("{}:{l}", name(s))).collect();
    parts.join(" ")
}

/// A literal/length symbol as a person reads it: the byte, `end`, or the number.
fn symbol(s: usize) -> String {
    match u8::try_from(s) {
        Ok(b) => printable(&[b]).replace(' ', "\" \""),
        Err(_) if s == 256 => "end".to_string(),
        Err(_) => s.to_string(),
    }
}
