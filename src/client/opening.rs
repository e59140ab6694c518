//! The client's half of the opening handshake, in two steps a person can watch: the
//! request it sends, with the answer that request calls for ([`Opening::new`]), then
//! the server's answer read and checked ([`Opening::read_answer`]).
//!
//! Between the two the caller writes [`Opening::bytes`] itself, so a tool can print
//! the request, its nonce and the accept value it expects before anything is sent
//! (`stdws --connect --trace`).

use super::{ClientError, ClientOptions, Url};
use crate::deflate::extension::{check_answer, CLIENT_OFFER};
use crate::deflate::Parameters;
use crate::handshake::hixie76;
use crate::handshake::rfc6455::accept_key;
use crate::handshake::{push_field, Variant};
use crate::http::{self, HeadLimits, ResponseHead};
use crate::random::Random;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use std::io::Read;

/// A prepared upgrade request and the answer that proves a server read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opening {
    /// The request head, through its blank line, as it is sent.
    pub head: String,
    /// The keys sent and the answer they call for.
    pub expected: Expected,
}

/// The keys a request carries and the answer it calls for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    /// RFC 6455 §4.1: a fresh 16-byte nonce, sent base64-encoded as
    /// `Sec-WebSocket-Key`; the server must answer `Sec-WebSocket-Accept` =
    /// base64(SHA-1(key ++ GUID)).
    Accept {
        /// The nonce's 16 random bytes.
        nonce: [u8; 16],
        /// The nonce in base64: the `Sec-WebSocket-Key` sent.
        key: String,
        /// The `Sec-WebSocket-Accept` value the server must send back.
        accept: String,
    },
    /// hixie-76 §4.1: two keys in headers and 8 bytes of key3 after the head; the
    /// server must answer with MD5 of the keys' quotients and key3, 16 raw bytes.
    Challenge {
        /// `Sec-WebSocket-Key1` as sent.
        key1: String,
        /// `Sec-WebSocket-Key2` as sent.
        key2: String,
        /// The 8 bytes sent after the head.
        key3: [u8; 8],
        /// The 16 bytes the server must send after its head.
        answer: [u8; 16],
    },
}

/// A server's answer that passed every check.
#[derive(Debug)]
pub struct Answer {
    /// The response head.
    pub response: ResponseHead,
    /// The subprotocol the server chose (one of those offered), if any.
    pub protocol: Option<String>,
    /// The permessage-deflate parameters the server accepted, if offered and accepted.
    pub deflate: Option<Parameters>,
    /// Bytes read past the answer: the start of the server's first frames.
    pub leftover: Vec<u8>,
}

/// Header fields the handshake writes itself: an extra header may not repeat them.
const OWN_HEADERS: [&str; 4] = ["Host", "Upgrade", "Connection", "Origin"];

impl Opening {
    /// The request for `url` with `options`: a fresh nonce (or fresh hixie-76 keys)
    /// for every call.
    pub fn new(url: &Url, options: &ClientOptions) -> Result<Opening, ClientError> {
        check_options(options)?;
        let mut random = Random::new();
        let mut head = String::from("GET ");
        head.push_str(&url.resource);
        head.push_str(" HTTP/1.1\r\n");
        push_field(&mut head, "Host", &url.host_header());
        let expected = match options.variant {
            Variant::Rfc6455 => {
                let nonce = random.nonce();
                let key = BASE64.encode(nonce);
                head.push_str("Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ");
                head.push_str(&key);
                head.push_str("\r\nSec-WebSocket-Version: 13\r\n");
                let accept = accept_key(&key);
                Expected::Accept { nonce, key, accept }
            }
            Variant::Hixie76 => {
                let (key1, n1) = hixie_key(&mut random);
                let (key2, n2) = hixie_key(&mut random);
                let key3 = random.next_u64().to_le_bytes();
                head.push_str("Upgrade: WebSocket\r\nConnection: Upgrade\r\n");
                push_field(&mut head, "Sec-WebSocket-Key1", &key1);
                push_field(&mut head, "Sec-WebSocket-Key2", &key2);
                if options.origin.is_none() {
                    head.push_str("Origin: null\r\n");
                }
                let answer = hixie76::challenge_response(n1, n2, &key3);
                Expected::Challenge {
                    key1,
                    key2,
                    key3,
                    answer,
                }
            }
        };
        if let Some(origin) = &options.origin {
            push_field(&mut head, "Origin", origin);
        }
        if offers_deflate(options) {
            push_field(&mut head, "Sec-WebSocket-Extensions", CLIENT_OFFER);
        }
        if !options.protocols.is_empty() {
            push_field(
                &mut head,
                "Sec-WebSocket-Protocol",
                &options.protocols.join(", "),
            );
        }
        for (name, value) in &options.headers {
            push_field(&mut head, name, value);
        }
        head.push_str("\r\n");
        Ok(Opening { head, expected })
    }

    /// Everything the client sends before the server answers: the head, and for
    /// hixie-76 key3 behind it.
    pub fn bytes(&self) -> Vec<u8> {
        let mut bytes = self.head.clone().into_bytes();
        if let Expected::Challenge { key3, .. } = &self.expected {
            bytes.extend_from_slice(key3);
        }
        bytes
    }

    /// Reads the server's answer from `stream` and checks it as the module docs of
    /// [`crate::client`] list: status 101, the upgrade headers, the accept value (or
    /// the 16 challenge bytes) for this request's keys, no extension, and a
    /// subprotocol only from those offered.
    pub fn read_answer<S: Read + ?Sized>(
        &self,
        stream: &mut S,
        options: &ClientOptions,
    ) -> Result<Answer, ClientError> {
        let limits = HeadLimits {
            max_bytes: 16 * 1024,
            max_headers: 100,
        };
        let (response, mut leftover) =
            http::read_response_head(stream, limits).map_err(ClientError::Head)?;
        if response.status != 101 {
            return Err(ClientError::Status(response.status, response.status_line));
        }
        if !response.has_token("Upgrade", "websocket")
            || !response.has_token("Connection", "Upgrade")
        {
            return Err(ClientError::NotUpgraded);
        }
        match &self.expected {
            Expected::Accept { accept, .. } => {
                let got = response.header("Sec-WebSocket-Accept").map(str::trim);
                if got != Some(accept.as_str()) {
                    return Err(ClientError::BadAccept(got.unwrap_or("").to_string()));
                }
            }
            Expected::Challenge { answer, .. } => {
                let mut got = [0u8; 16];
                let have = leftover.len().min(16);
                got[..have].copy_from_slice(&leftover[..have]);
                if have < 16 {
                    stream.read_exact(&mut got[have..])?;
                }
                leftover.drain(..have);
                if &got != answer {
                    return Err(ClientError::BadAccept(escaped(&got)));
                }
            }
        }
        let answers: Vec<&str> = response.headers_named("Sec-WebSocket-Extensions").collect();
        let bad_extension = || ClientError::BadExtension(answers.join(", ").trim().to_string());
        let deflate = match (offers_deflate(options), answers.is_empty()) {
            (_, true) => None,
            (false, false) => return Err(bad_extension()),
            (true, false) => check_answer(&answers).map_err(|_| bad_extension())?,
        };
        let protocol = response
            .header("Sec-WebSocket-Protocol")
            .map(|p| p.trim().to_string());
        if let Some(p) = &protocol {
            if !options.protocols.iter().any(|o| o == p) {
                return Err(ClientError::BadProtocol(p.clone()));
            }
        }
        Ok(Answer {
            response,
            protocol,
            deflate,
            leftover,
        })
    }
}

/// Whether the request offers permessage-deflate: asked for, on RFC 6455.
fn offers_deflate(options: &ClientOptions) -> bool {
    options.deflate && options.variant == Variant::Rfc6455
}

/// Bytes as text: printable ASCII as it is, anything else as `\xNN`.
fn escaped(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len());
    for &b in bytes {
        text.extend(std::ascii::escape_default(b).map(char::from));
    }
    text
}

/// Refuses options that would put something other than a header value on the wire.
fn check_options(options: &ClientOptions) -> Result<(), ClientError> {
    // RFC 7230 §3.2.6: token = 1*tchar; the subprotocol list is "1#token" (§4.1).
    let tchar = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    let is_token = |s: &str| !s.is_empty() && s.bytes().all(tchar);
    // A field value may hold visible characters, spaces and tabs (RFC 9110 §5.5).
    let is_value = |s: &str| !s.bytes().any(|b| (b < b' ' && b != b'\t') || b == 0x7F);
    for (i, p) in options.protocols.iter().enumerate() {
        if !is_token(p) {
            return Err(ClientError::BadOption(format!(
                "subprotocol {p:?} is not an HTTP token"
            )));
        }
        if options.protocols[..i].contains(p) {
            return Err(ClientError::BadOption(format!(
                "subprotocol {p:?} offered twice"
            )));
        }
    }
    if let Some(origin) = &options.origin {
        if !is_value(origin) {
            return Err(ClientError::BadOption(format!(
                "origin {origin:?} holds control characters"
            )));
        }
    }
    for (name, value) in &options.headers {
        if !is_token(name) || !is_value(value) {
            return Err(ClientError::BadOption(format!(
                "header {name:?}: {value:?} is not a valid header field"
            )));
        }
        let owned = OWN_HEADERS.iter().any(|h| h.eq_ignore_ascii_case(name))
            || name.len() >= 14 && name[..14].eq_ignore_ascii_case("Sec-WebSocket-");
        if owned {
            return Err(ClientError::BadOption(format!(
                "header {name} is written by the handshake itself"
            )));
        }
    }
    Ok(())
}

/// A random hixie-76 key and its number (draft §4.1 steps 16–23): a quotient times a
/// count of spaces, with random non-digit characters and the spaces mixed in.
fn hixie_key(random: &mut Random) -> (String, u32) {
    let spaces = 1 + (random.next_u64() % 12) as u32;
    let max = u32::MAX / spaces;
    let number = (random.next_u64() % u64::from(max)) as u32;
    // Every character is ASCII, so any index is a place to insert at.
    let mut key = (number * spaces).to_string();
    let noise =
        b"!\"#$%&'()*+,-./:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~";
    for _ in 0..(1 + random.next_u64() % 12) {
        let c = noise[(random.next_u64() % noise.len() as u64) as usize] as char;
        let at = (random.next_u64() % (key.len() as u64 + 1)) as usize;
        key.insert(at, c);
    }
    for _ in 0..spaces {
        // Not first or last, so a server that trims the value counts every space.
        let at = 1 + (random.next_u64() % (key.len() as u64 - 1)) as usize;
        key.insert(at, ' ');
    }
    (key, number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_hixie_keys_decode_to_their_numbers() {
        let mut random = Random::new();
        for _ in 0..2000 {
            let (key, number) = hixie_key(&mut random);
            assert_eq!(hixie76::key_number(&key), Ok(number), "{key:?}");
            assert!(!key.starts_with(' ') && !key.ends_with(' '));
        }
    }

    #[test]
    fn the_request_carries_its_key_and_extra_headers() {
        let url = Url::parse("ws://h:9/p").unwrap();
        let options = ClientOptions {
            headers: vec![("X-Token".into(), "a b".into())],
            ..ClientOptions::default()
        };
        let opening = Opening::new(&url, &options).unwrap();
        let Expected::Accept { nonce, key, accept } = &opening.expected else {
            panic!("RFC 6455 by default");
        };
        assert_eq!(BASE64.decode(key).unwrap(), nonce);
        assert_eq!(accept, &accept_key(key));
        assert!(opening.head.starts_with("GET /p HTTP/1.1\r\nHost: h:9\r\n"));
        assert!(opening
            .head
            .contains(&format!("Sec-WebSocket-Key: {key}\r\n")));
        assert!(opening.head.ends_with("X-Token: a b\r\n\r\n"));
    }

    #[test]
    fn extra_headers_may_not_break_the_request() {
        let url = Url::parse("ws://h/").unwrap();
        for (name, value) in [
            ("X-A", "a\r\nInjected: 1"),
            ("Bad Name", "v"),
            ("", "v"),
            ("sec-websocket-key", "x"),
            ("Host", "elsewhere"),
        ] {
            let options = ClientOptions {
                headers: vec![(name.into(), value.into())],
                ..ClientOptions::default()
            };
            assert!(
                matches!(Opening::new(&url, &options), Err(ClientError::BadOption(_))),
                "{name:?}: {value:?}"
            );
        }
    }
}
