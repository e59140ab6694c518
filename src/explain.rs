//! The teaching view of both opening handshakes: every step from the client's keys to
//! the server's answer, as lines a person can check by hand (`stdws --explain`, and
//! `--trace` for every real handshake); and of permessage-deflate, a message taken
//! from its text to its compressed payload and back ([`deflate`]).
//!
//! Each value is computed by the functions the server itself answers with
//! ([`rfc6455::sha1_of_key`], [`rfc6455::accept_key`], [`hixie76::key_number`],
//! [`hixie76::challenge`], [`hixie76::challenge_response`]), so what is printed is
//! what the server would send, never a copy from a table.
//!
//! Two slips of a well-known hixie-76 article are called out where they apply: its
//! "key3 | key2 | key1" picture of the challenge (MD5 reads key1, key2, key3), and its
//! example key ``1\}  a`;l022aaf  51``, whose 102251 / 4 is not whole and must be
//! refused, not truncated to 25562.
//!
//! ```
//! let e = stdws::explain::rfc6455("dGhlIHNhbXBsZSBub25jZQ==");
//! assert_eq!(e.answer.as_deref(), Some("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
//! assert!(e.to_string().contains("258EAFA5-E914-47DA-95CA-C5AB0DC85B11"));
//! ```

mod deflate_view;

pub use deflate_view::deflate;

use crate::handshake::hixie76::{self, KeyError};
use crate::handshake::rfc6455::{self, GUID};
use crate::handshake::{Request, Variant};
use std::fmt::{self, Write as _};

/// One line of an explanation: a label and its value (an empty label continues the
/// line above).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// What the value is.
    pub label: String,
    /// The value, as text.
    pub value: String,
}

/// A handshake explained: a title, the steps in order, and the answer the server
/// sends (`None` when the server refuses the handshake).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    /// Which derivation this is, with the section that defines it.
    pub title: String,
    /// Each step, in order.
    pub steps: Vec<Step>,
    /// The answer as the server sends it, or `None` for a refusal.
    pub answer: Option<String>,
}

impl Explanation {
    fn new(title: &str) -> Explanation {
        Explanation {
            title: title.to_string(),
            steps: Vec::new(),
            answer: None,
        }
    }

    fn step(&mut self, label: &str, value: &str) {
        self.step_fmt(format_args!("{label}"), format_args!("{value}"));
    }

    /// A step whose label and value are formatted in place. (Every step goes through
    /// this one function: a `String` made at each call site, then dropped, costs
    /// code at each of them.)
    fn step_fmt(&mut self, label: fmt::Arguments<'_>, value: fmt::Arguments<'_>) {
        self.steps.push(Step {
            label: label.to_string(),
            value: value.to_string(),
        });
    }
}

/// Labels are padded to this width so values line up.
const LABEL_WIDTH: usize = 28;

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.title)?;
        for s in &self.steps {
            writeln!(f, "  {:<LABEL_WIDTH$} {}", s.label, s.value)?;
        }
        Ok(())
    }
}

/// Bytes as spaced upper-case hex: `31 6E 41 13`.
struct HexSpaced<'a>(&'a [u8]);

impl fmt::Display for HexSpaced<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_char(' ')?;
            }
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

/// Bytes as packed lower-case hex, the way digests are usually written.
struct HexPacked<'a>(&'a [u8]);

impl fmt::Display for HexPacked<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// Bytes as text: printable ASCII as it is, anything else as `\xNN` (the hex is
/// printed beside it wherever that could be ambiguous).
struct Printable<'a>(&'a [u8]);

impl fmt::Display for Printable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for &b in self.0 {
            if (0x20..0x7F).contains(&b) {
                f.write_char(char::from(b))?;
            } else {
                write!(f, "\\x{b:02X}")?;
            }
        }
        Ok(())
    }
}

/// Bytes as quoted text, between double quotes so leading and trailing spaces show.
struct Quoted<'a>(&'a [u8]);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{}\"", Printable(self.0))
    }
}

/// The RFC 6455 derivation (§4.2.2 item 5): key, GUID, concatenation, SHA-1, base64.
pub fn rfc6455(key: &str) -> Explanation {
    let mut e =
        Explanation::new("RFC 6455 §4.2.2: Sec-WebSocket-Accept = base64( SHA-1( key ++ GUID ) )");
    let key = key.trim();
    e.step("1. key, as sent", key);
    e.step("", "used as ASCII text: it is never base64-decoded first");
    let nonce_ok = rfc6455::is_base64_nonce(key);
    e.step(
        "",
        if nonce_ok {
            "(it is the base64 of a 16-byte nonce, as §4.1 asks)"
        } else {
            "(it is not the base64 of 16 bytes: the server answers 400)"
        },
    );
    e.step("2. GUID (§1.3)", GUID);
    e.step_fmt(format_args!("3. key ++ GUID"), format_args!("{key}{GUID}"));
    let sha1 = rfc6455::sha1_of_key(key);
    e.step_fmt(
        format_args!("4. SHA-1, hex"),
        format_args!("{}", HexPacked(&sha1)),
    );
    let accept = rfc6455::accept_key(key);
    e.step("5. base64 of those 20 bytes", &accept);
    if nonce_ok {
        e.step_fmt(
            format_args!("answer"),
            format_args!("Sec-WebSocket-Accept: {accept}"),
        );
        e.answer = Some(accept);
    } else {
        e.step("answer", "none: 400 Bad Request, never a 101");
    }
    e
}

/// One hixie-76 key's steps (draft §5.2): digits, number, spaces, quotient or refusal.
fn hixie76_key(e: &mut Explanation, name: &str, key: &str) -> Option<u32> {
    let parts = hixie76::key_parts(key);
    e.step_fmt(
        format_args!("{name}"),
        format_args!("{}", Quoted(key.as_bytes())),
    );
    let digits = match parts.digits.as_str() {
        "" => "(none)",
        digits => digits,
    };
    e.step("  digits, in order", digits);
    let spaces = parts.spaces;
    e.step_fmt(
        format_args!("  spaces (U+0020 only)"),
        format_args!("{spaces}"),
    );
    match hixie76::key_number(key) {
        Ok(quotient) => {
            let number = u64::from(quotient) * spaces;
            e.step_fmt(
                format_args!("  key number"),
                format_args!("{number} (at most 4294967295: ok)"),
            );
            e.step_fmt(
                format_args!("  quotient"),
                format_args!(
                    "{number} / {spaces} = {quotient}, exactly; as 4 bytes big-endian: {}",
                    HexSpaced(&quotient.to_be_bytes())
                ),
            );
            Some(quotient)
        }
        Err(err) => {
            match err {
                KeyError::NoDigits => e.step("  quotient", "no digits, so there is no key number"),
                KeyError::TooLarge => e.step_fmt(
                    format_args!("  quotient"),
                    format_args!(
                        "the key number {} is above 4294967295, \"a symptom of an attack\"",
                        parts.digits
                    ),
                ),
                KeyError::NoSpaces => {
                    e.step("  quotient", "no spaces, so there is nothing to divide by")
                }
                KeyError::NotMultiple { number, spaces } => {
                    e.step_fmt(format_args!("  key number"), format_args!("{number}"));
                    e.step_fmt(
                        format_args!("  quotient"),
                        format_args!(
                            "{number} / {spaces} = {} remainder {}: not a whole multiple",
                            number / spaces,
                            number % spaces
                        ),
                    );
                }
            }
            e.step(
                "  verdict",
                "REFUSED: the draft says abort, so the server answers 400",
            );
            if let KeyError::NotMultiple { number, spaces } = err {
                e.step_fmt(
                    format_args!(""),
                    format_args!(
                        "(truncating to {}, as a well-known article does, is wrong)",
                        number / spaces
                    ),
                );
            }
            None
        }
    }
}

const HIXIE_TITLE: &str = "hixie-76 (draft-hixie-thewebsocketprotocol-76 §5.2): \
     answer = MD5( key1 quotient ++ key2 quotient ++ key3 )";

/// One hixie-76 key on its own: whether the server accepts it, and its quotient.
pub fn hixie76_single_key(key: &str) -> Explanation {
    let mut e = Explanation::new(HIXIE_TITLE);
    if let Some(q) = hixie76_key(&mut e, "key", key) {
        e.answer = Some(q.to_string());
    }
    e
}

/// The hixie-76 derivation: both keys, the 16 challenge bytes in the order MD5 reads
/// them, and the answer in hex and as text.
pub fn hixie76(key1: &str, key2: &str, key3: &[u8; 8]) -> Explanation {
    let mut e = Explanation::new(HIXIE_TITLE);
    let n1 = hixie76_key(&mut e, "Sec-WebSocket-Key1", key1);
    let n2 = hixie76_key(&mut e, "Sec-WebSocket-Key2", key2);
    e.step_fmt(
        format_args!("key3 (8 bytes after head)"),
        format_args!("{} = {}", Quoted(key3), HexSpaced(key3)),
    );
    let (Some(n1), Some(n2)) = (n1, n2) else {
        e.step("answer", "none: 400 Bad Request, never a 101");
        return e;
    };
    let challenge = hixie76::challenge(n1, n2, key3);
    e.step_fmt(
        format_args!("challenge, 16 bytes"),
        format_args!(
            "{} | {} | {}",
            HexSpaced(&challenge[..4]),
            HexSpaced(&challenge[4..8]),
            HexSpaced(&challenge[8..])
        ),
    );
    e.step(
        "",
        "in this order: key1 quotient (big-endian), key2 quotient (big-endian), key3",
    );
    e.step(
        "",
        "(an article's \"key3 | key2 | key1\" drawing, high bit first, is the",
    );
    e.step(
        "",
        "little-endian picture of memory: MD5 reads key1 first, as above)",
    );
    let answer = hixie76::challenge_response(n1, n2, key3);
    e.step_fmt(
        format_args!("MD5, hex"),
        format_args!("{}", HexPacked(&answer)),
    );
    // `format!`, not `to_string`: the generic `ToString` would be compiled once more.
    let text = format!("{}", Printable(&answer));
    e.step_fmt(
        format_args!("answer, as text"),
        format_args!("{text}  (16 raw bytes after the 101 head)"),
    );
    e.answer = Some(text);
    e
}

/// Reads key3 as given on a command line: 8 characters (its bytes as typed) or
/// 16 hex digits.
///
/// ```
/// use stdws::explain::parse_key3;
/// assert_eq!(parse_key3("^n:ds[4U"), Ok(*b"^n:ds[4U"));
/// assert_eq!(parse_key3("5e6e3a64735b3455"), Ok(*b"^n:ds[4U"));
/// assert!(parse_key3("short").is_err());
/// ```
pub fn parse_key3(text: &str) -> Result<[u8; 8], String> {
    let bytes = text.as_bytes();
    let mut key3 = [0u8; 8];
    if bytes.len() == 8 {
        key3.copy_from_slice(bytes);
        return Ok(key3);
    }
    let hex_digit = |c: u8| char::from(c).to_digit(16);
    if bytes.len() == 16 {
        for (i, pair) in bytes.chunks(2).enumerate() {
            match (hex_digit(pair[0]), hex_digit(pair[1])) {
                (Some(hi), Some(lo)) => key3[i] = (hi * 16 + lo) as u8,
                _ => break,
            }
            if i == 7 {
                return Ok(key3);
            }
        }
    }
    Err(format!(
        "KEY3 must be 8 characters or 16 hex digits, not {} bytes: {}",
        bytes.len(),
        Quoted(bytes)
    ))
}

/// The explanation asked for by `--explain WORDS...`: `rfc6455 KEY`,
/// `hixie76 KEY1 KEY2 KEY3`, `hixie76 KEY` for one key alone, or `deflate TEXT...`
/// (each TEXT a message, in order, on one connection).
pub fn from_words(words: &[String]) -> Result<Explanation, String> {
    let usage = "usage: --explain rfc6455 KEY | --explain hixie76 KEY1 KEY2 KEY3 \
                 | --explain hixie76 KEY | --explain deflate TEXT...";
    let Some((which, rest)) = words.split_first() else {
        return Err(usage.to_string());
    };
    match (which.to_ascii_lowercase().as_str(), rest) {
        ("rfc6455" | "rfc", [key]) => Ok(rfc6455(key)),
        ("hixie76" | "hixie-76" | "hixie", [key]) => Ok(hixie76_single_key(key)),
        ("hixie76" | "hixie-76" | "hixie", [k1, k2, k3]) => Ok(hixie76(k1, k2, &parse_key3(k3)?)),
        ("deflate" | "permessage-deflate", texts) if !texts.is_empty() => {
            let messages: Vec<&[u8]> = texts.iter().map(|t| t.as_bytes()).collect();
            Ok(deflate(&messages))
        }
        _ => Err(usage.to_string()),
    }
}

/// The derivation behind a handshake the server just answered (`--trace`).
pub fn for_request(request: &Request) -> Option<Explanation> {
    let head = &request.head;
    match request.variant {
        Variant::Rfc6455 => head.header("Sec-WebSocket-Key").map(rfc6455),
        Variant::Hixie76 => Some(hixie76(
            head.header("Sec-WebSocket-Key1")?,
            head.header("Sec-WebSocket-Key2")?,
            request.key3.as_ref()?,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6455_vectors() {
        for (key, accept) in [
            ("dGhlIHNhbXBsZSBub25jZQ==", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
            ("08kp54j1E3z4IfuM1m75tQ==", "Dhg2s/gXkbuTiYk690dns7LmEhY="),
        ] {
            let e = rfc6455(key);
            assert_eq!(e.answer.as_deref(), Some(accept));
            assert!(e.to_string().contains(&format!("{key}{GUID}")));
        }
        let sha = rfc6455("dGhlIHNhbXBsZSBub25jZQ==").to_string();
        assert!(sha.contains("b37a4f2cc0624f1690f64606cf385945b2bec4ea"));
    }

    #[test]
    fn rfc6455_key_of_wrong_size_is_refused() {
        assert_eq!(rfc6455("c2hvcnQ=").answer, None);
    }

    #[test]
    fn hixie76_vectors() {
        let e = hixie76("4 @1  46546xW%0l 1 5", "12998 5 Y3 1  .P00", b"^n:ds[4U");
        assert_eq!(e.answer.as_deref(), Some("8jKS'y:G*Co,Wxa-"));
        let text = e.to_string();
        assert!(text.contains("4146546015 / 5 = 829309203"));
        let e = hixie76(
            "18x 6]8vM;54 *(5:  {   U1]8  z [  8",
            "1_ tx7X d  <  nw  334J702) 7]o}` 0",
            b"Tm[K T2u",
        );
        assert_eq!(e.answer.as_deref(), Some("fQJ,fN/4F4!~K~MH"));
        assert!(e.to_string().contains("1868545188 / 12 = 155712099"));
    }

    #[test]
    fn article_key_is_refused() {
        let e = hixie76_single_key("1\\}  a`;l022aaf  51");
        assert_eq!(e.answer, None);
        let text = e.to_string();
        assert!(text.contains("102251 / 4 = 25562 remainder 3"));
        assert!(text.contains("REFUSED"));
    }

    #[test]
    fn words() {
        assert!(from_words(&[]).is_err());
        assert!(from_words(&["hixie76".into(), "a".into(), "b".into()]).is_err());
        assert!(from_words(&["hixie76".into(), "1 ".into(), "1 ".into(), "x".into()]).is_err());
    }
}
