//! The teaching view of permessage-deflate (RFC 7692 over RFC 1951): how each message
//! becomes a compressed payload, symbol by symbol (`stdws --explain deflate TEXT...`).
//!
//! The payload is the one stdws's own [`Compressor`] sends; it is then taken apart
//! with [`disassemble`] (LZ77 literals and matches, and the Huffman codes that carry
//! them), and inflated back with the [`Inflater`] the server reads with. Several
//! texts are several messages on one connection with context takeover, so a later
//! message can be seen reaching back into an earlier one.

use super::{Explanation, HexSpaced, Printable, Quoted};
use crate::deflate::alphabet::{DISTANCE_BASE, LENGTH_BASE};
use crate::deflate::disassemble::{disassemble, BlockKind, Element};
use crate::deflate::{Compressor, Inflater, MESSAGE_TAIL};
use std::fmt::{self, Write as _};

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
    e.step_fmt(
        format_args!("settings"),
        format_args!("window 2^{WINDOW_BITS} bytes, context takeover (the extension's defaults)"),
    );
    let mut compressor = Compressor::new(WINDOW_BITS, true);
    let mut inflater = Inflater::new(WINDOW_BITS, true);
    // Every byte of every message so far: what a match copies from.
    let mut history = Vec::new();
    let mut answer = String::new();
    for (n, message) in messages.iter().enumerate() {
        e.step_fmt(
            format_args!("message {}", n + 1),
            format_args!("{}, {} bytes", Quoted(message), message.len()),
        );
        let mut payload = Vec::new();
        compressor.compress_message(message, &mut payload);
        let mut stream = payload.clone();
        stream.extend_from_slice(&MESSAGE_TAIL);
        let start = history.len();
        match disassemble(&stream, start as u64) {
            Ok(elements) => walk(&mut e, &elements, &mut history),
            Err(err) => e.step_fmt(format_args!("  (cannot be read)"), format_args!("{err}")),
        }
        let percent = 100 * payload.len() / message.len().max(1);
        e.step_fmt(
            format_args!("  on the wire"),
            format_args!(
                "{} ({} bytes for {}: {percent}%)",
                HexSpaced(&payload),
                payload.len(),
                message.len()
            ),
        );
        e.step_fmt(
            format_args!("  stripped (§7.2.1)"),
            format_args!(
                "{}: LEN 0 and NLEN FFFF of the flush's empty stored block",
                HexSpaced(&MESSAGE_TAIL)
            ),
        );
        let mut back = Vec::new();
        let inflated = inflater.inflate_message(&payload, &mut back, message.len());
        let back = Quoted(&back);
        let verdict = format_args!("{back} (tail put back):");
        match inflated {
            Ok(()) if back.0 == *message => e.step_fmt(
                format_args!("  inflated back"),
                format_args!("{verdict} equal to the message"),
            ),
            Ok(()) => e.step_fmt(
                format_args!("  inflated back"),
                format_args!("{verdict} DIFFERENT from the message"),
            ),
            Err(err) => e.step_fmt(
                format_args!("  inflated back"),
                format_args!("{verdict} refused: {err}"),
            ),
        }
        if history.len() - start != message.len() {
            e.step("", "(the disassembly does not add up to the message)");
        }
        if n > 0 {
            answer.push_str(" / ");
        }
        let _ = write!(answer, "{}", HexSpaced(&payload));
    }
    e.answer = Some(answer);
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
                e.step_fmt(
                    format_args!("  block {blocks}"),
                    format_args!("BFINAL {}, BTYPE {what}", u8::from(*last)),
                );
            }
            Element::Stored(bytes) if bytes.is_empty() => e.step(
                "    LEN 0",
                "empty: the sync flush that ends every message (§7.2.1)",
            ),
            Element::Stored(bytes) => {
                history.extend_from_slice(bytes);
                e.step_fmt(
                    format_args!("    LEN {}", bytes.len()),
                    format_args!("{}", Quoted(bytes)),
                );
            }
            Element::Codes {
                code_length_count,
                code_length_lengths,
                literal_lengths,
                distance_lengths,
            } => {
                e.step_fmt(
                    format_args!("    HLIT, HDIST, HCLEN"),
                    format_args!(
                        "{} literal/length, {} distance and {code_length_count} code length \
                         code lengths sent",
                        literal_lengths.len(),
                        distance_lengths.len()
                    ),
                );
                e.step_fmt(
                    format_args!("    code length code"),
                    format_args!("{}", Lengths(code_length_lengths, false)),
                );
                e.step_fmt(
                    format_args!("    literal/length code"),
                    format_args!("{}", Lengths(literal_lengths, true)),
                );
                e.step_fmt(
                    format_args!("    distance code"),
                    format_args!("{}", Lengths(distance_lengths, false)),
                );
                e.step("", "(symbol:bits; symbols without a code left out)");
            }
            Element::Literal(byte, code) => {
                history.push(*byte);
                e.step_fmt(
                    format_args!("    literal {}", Quoted(&[*byte])),
                    format_args!("code {code} ({} bits)", code.len),
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
                e.step_fmt(
                    format_args!("    match {length}, {distance} back"),
                    format_args!(
                        "copies {}: length symbol {length_symbol} code {length_code} {}, \
                         distance symbol {distance_symbol} code {distance_code} {}",
                        Quoted(copied),
                        Extra(*length, length_base, *length_extra_bits),
                        Extra(*distance, distance_base, *distance_extra_bits),
                    ),
                );
            }
            Element::EndOfBlock(code) => e.step_fmt(
                format_args!("    end of block"),
                format_args!("symbol 256, code {code} ({} bits)", code.len),
            ),
        }
    }
}

/// How a length or distance is made of its symbol's base and its extra bits
/// (§3.2.5): the value, the base and the number of bits.
struct Extra(u16, u16, u8);

impl fmt::Display for Extra {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Extra(value, base, bits) = *self;
        match bits {
            0 => write!(f, "({value}, no extra bits)"),
            1 => write!(f, "({base} + {} in 1 extra bit)", value - base),
            _ => write!(f, "({base} + {} in {bits} extra bits)", value - base),
        }
    }
}

/// `symbol:length` for each symbol that has a code; with `true`, literal/length
/// symbols named as a person reads them (the byte, `end`, or the number).
struct Lengths<'a>(&'a [u8], bool);

impl fmt::Display for Lengths<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut separator = "";
        for (s, &l) in self.0.iter().enumerate().filter(|(_, &l)| l != 0) {
            f.write_str(separator)?;
            separator = " ";
            match u8::try_from(s) {
                // A space between quotes, so that it shows.
                Ok(b' ') if self.1 => f.write_str("\" \"")?,
                Ok(b) if self.1 => write!(f, "{}", Printable(&[b]))?,
                Err(_) if self.1 && s == 256 => f.write_str("end")?,
                _ => write!(f, "{s}")?,
            }
            write!(f, ":{l}")?;
        }
        Ok(())
    }
}
