//! The hixie-76 opening handshake (draft-hixie-thewebsocketprotocol-76 §5.2): key
//! numbers from Sec-WebSocket-Key1/Key2, the 8 bytes of key3, and the MD5 challenge
//! response.
//!
//! For each key: the digits, read in order, form a decimal number; it is divided by
//! the number of spaces (U+0020) in the key; the quotient must be whole. Then
//!
//! ```text
//! response = MD5( quotient1 as 4 bytes big-endian
//!              ++ quotient2 as 4 bytes big-endian
//!              ++ key3 (the 8 bytes after the request head) )
//! ```
//!
//! A well-known article draws those 16 bytes as "key3 | key2 | key1" from the high bit
//! down: that is the little-endian picture of memory, not the byte order MD5 reads.

use super::{push_field, Rejection};
use crate::http::Head;
use std::fmt;
use std::io::{self, Read};

/// Why a hixie-76 key is refused (draft §5.2, step 4 of the server's side).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyError {
    /// The key holds no digit at all.
    NoDigits,
    /// The digits make a number above 4,294,967,295: "a symptom of an attack".
    TooLarge,
    /// The key holds no space, so there is nothing to divide by.
    NoSpaces,
    /// The number is not an integral multiple of the count of spaces.
    NotMultiple {
        /// The key number.
        number: u64,
        /// The count of spaces.
        spaces: u64,
    },
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::NoDigits => f.write_str("the key holds no digits"),
            KeyError::TooLarge => f.write_str("the key number is above 4294967295"),
            KeyError::NoSpaces => f.write_str("the key holds no spaces"),
            KeyError::NotMultiple { number, spaces } => write!(
                f,
                "the key number {number} is not a whole multiple of its {spaces} spaces"
            ),
        }
    }
}

/// A key's parts, as `--explain` shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyParts {
    /// The key's digits, in order.
    pub digits: String,
    /// The count of U+0020 spaces.
    pub spaces: u64,
}

/// Splits a key into its digits and its count of spaces.
pub fn key_parts(key: &str) -> KeyParts {
    let mut parts = KeyParts {
        digits: String::new(),
        spaces: 0,
    };
    // Byte by byte: in UTF-8, an ASCII digit or space is never part of another character.
    for b in key.bytes() {
        match b {
            b'0'..=b'9' => parts.digits.push(char::from(b)),
            b' ' => parts.spaces += 1,
            _ => {}
        }
    }
    parts
}

/// The key's 32-bit part: its digits as a number, divided by its spaces.
///
/// ```
/// use stdws::handshake::hixie76::{key_number, KeyError};
/// // digits 4146546015, 5 spaces
/// assert_eq!(key_number("4 @1  46546xW%0l 1 5"), Ok(829_309_203));
/// // digits 1299853100, 5 spaces
/// assert_eq!(key_number("12998 5 Y3 1  .P00"), Ok(259_970_620));
/// // The article's key: 102251 / 4 is not whole, so it is refused, not truncated.
/// assert!(matches!(key_number("1\\}  a`;l022aaf  51"), Err(KeyError::NotMultiple { .. })));
/// ```
pub fn key_number(key: &str) -> Result<u32, KeyError> {
    let parts = key_parts(key);
    if parts.digits.is_empty() {
        return Err(KeyError::NoDigits);
    }
    let mut number: u64 = 0;
    for d in parts.digits.bytes() {
        number = number
            .checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(d - b'0')))
            .filter(|&n| n <= u64::from(u32::MAX))
            .ok_or(KeyError::TooLarge)?;
    }
    if parts.spaces == 0 {
        return Err(KeyError::NoSpaces);
    }
    if number % parts.spaces != 0 {
        return Err(KeyError::NotMultiple {
            number,
            spaces: parts.spaces,
        });
    }
    // number ≤ u32::MAX and spaces ≥ 1, so the quotient fits.
    Ok((number / parts.spaces) as u32)
}

/// The 16 bytes that go into MD5: both quotients big-endian, then key3.
pub fn challenge(number1: u32, number2: u32, key3: &[u8; 8]) -> [u8; 16] {
    let mut c = [0u8; 16];
    c[..4].copy_from_slice(&number1.to_be_bytes());
    c[4..8].copy_from_slice(&number2.to_be_bytes());
    c[8..].copy_from_slice(key3);
    c
}

/// The server's 16-byte answer: MD5 of the challenge.
///
/// ```
/// use stdws::handshake::hixie76::{challenge_response, key_number};
/// let n1 = key_number("4 @1  46546xW%0l 1 5").unwrap();
/// let n2 = key_number("12998 5 Y3 1  .P00").unwrap();
/// assert_eq!(&challenge_response(n1, n2, b"^n:ds[4U"), b"8jKS'y:G*Co,Wxa-");
/// ```
pub fn challenge_response(number1: u32, number2: u32, key3: &[u8; 8]) -> [u8; 16] {
    md5::compute(challenge(number1, number2, key3)).0
}

/// Checks both keys (each present exactly once and valid) and returns their numbers.
pub fn check_request(head: &Head) -> Result<(u32, u32), Rejection> {
    let mut numbers = [0u32; 2];
    for (i, name) in ["Sec-WebSocket-Key1", "Sec-WebSocket-Key2"]
        .iter()
        .enumerate()
    {
        let key = match head.count(name) {
            0 => return Err(Rejection::bad_request(&format!("{name} is missing"))),
            1 => head.header(name).unwrap_or(""),
            _ => {
                return Err(Rejection::bad_request(&format!(
                    "{name} appears more than once"
                )))
            }
        };
        numbers[i] =
            key_number(key).map_err(|e| Rejection::bad_request(&format!("{name} refused: {e}")))?;
    }
    Ok((numbers[0], numbers[1]))
}

/// Reads key3: the 8 bytes after the head. `already` holds whatever arrived with
/// the head; the rest is read from `stream`, whose timeout bounds the wait. Any bytes
/// beyond the 8 are left in `already` (the client's first frames).
pub fn read_key3<R: Read + ?Sized>(stream: &mut R, already: &mut Vec<u8>) -> io::Result<[u8; 8]> {
    let mut chunk = [0u8; 64];
    while already.len() < 8 {
        match stream.read(&mut chunk) {
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "connection closed before the 8 bytes of key3",
                ))
            }
            Ok(n) => already.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let mut key3 = [0u8; 8];
    key3.copy_from_slice(&already[..8]);
    already.drain(..8);
    Ok(key3)
}

/// The 101 answer followed by the 16-byte challenge response (draft §5.2).
pub fn response(
    origin: &str,
    location: &str,
    protocol: Option<&str>,
    answer: &[u8; 16],
) -> Vec<u8> {
    let mut out = String::from(
        "HTTP/1.1 101 WebSocket Protocol Handshake\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n",
    );
    push_field(&mut out, "Sec-WebSocket-Origin", origin);
    push_field(&mut out, "Sec-WebSocket-Location", location);
    if let Some(p) = protocol {
        push_field(&mut out, "Sec-WebSocket-Protocol", p);
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(answer);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_md_vectors() {
        let cases: [(&str, &str, &[u8; 8], &[u8; 16]); 2] = [
            (
                "18x 6]8vM;54 *(5:  {   U1]8  z [  8",
                "1_ tx7X d  <  nw  334J702) 7]o}` 0",
                b"Tm[K T2u",
                b"fQJ,fN/4F4!~K~MH",
            ),
            (
                "4 @1  46546xW%0l 1 5",
                "12998 5 Y3 1  .P00",
                b"^n:ds[4U",
                b"8jKS'y:G*Co,Wxa-",
            ),
        ];
        for (k1, k2, key3, expected) in cases {
            let n1 = key_number(k1).unwrap();
            let n2 = key_number(k2).unwrap();
            assert_eq!(&challenge_response(n1, n2, key3), expected);
        }
        assert_eq!(key_number(cases[0].0), Ok(1868545188 / 12));
        assert_eq!(key_number(cases[0].1), Ok(1733470270 / 10));
    }

    #[test]
    fn article_key_is_refused_not_truncated() {
        assert_eq!(
            key_number("1\\}  a`;l022aaf  51"),
            Err(KeyError::NotMultiple {
                number: 102251,
                spaces: 4
            })
        );
    }

    #[test]
    fn refusals() {
        assert_eq!(key_number("no digits here"), Err(KeyError::NoDigits));
        assert_eq!(key_number("12345"), Err(KeyError::NoSpaces));
        assert_eq!(key_number("4294967296 "), Err(KeyError::TooLarge));
        assert_eq!(
            key_number(&format!("{} ", "9".repeat(60))),
            Err(KeyError::TooLarge)
        );
        assert_eq!(key_number("4294967295 "), Ok(u32::MAX));
        assert_eq!(key_number("0 "), Ok(0));
    }

    #[test]
    fn byte_order_is_key1_key2_key3() {
        let c = challenge(0x01020304, 0x05060708, b"ABCDEFGH");
        assert_eq!(&c, b"\x01\x02\x03\x04\x05\x06\x07\x08ABCDEFGH");
    }
}
