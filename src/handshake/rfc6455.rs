//! The RFC 6455 opening handshake (§4.2): validating the client's request and
//! computing `Sec-WebSocket-Accept`.

use super::{push_field, Rejection};
use crate::http::Head;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;

/// The GUID every server appends to the client's key (§1.3).
pub const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The only version this server speaks (§4.1 item 9, §4.4).
pub const VERSION: &str = "13";

/// `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key`: base64(SHA-1(key ++ GUID)).
/// The key is used as the text the client sent, never base64-decoded first (§4.2.2).
///
/// ```
/// assert_eq!(stdws::accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
/// ```
pub fn accept_key(key: &str) -> String {
    BASE64.encode(sha1_of_key(key))
}

/// Whether `key` is a 16-byte nonce in base64, as §4.1 item 7 asks.
///
/// No decoding is needed to tell: 16 bytes are five 3-byte groups (20 characters)
/// and one last byte, which base64 writes as two characters and `==`. The second of
/// those holds only the byte's low 2 bits, so its low 4 bits must be zero (`A`, `Q`,
/// `g` or `w`); any other is not the canonical encoding of 16 bytes (RFC 4648 §3.5).
///
/// ```
/// use stdws::handshake::rfc6455::is_base64_nonce;
/// assert!(is_base64_nonce("dGhlIHNhbXBsZSBub25jZQ=="));
/// assert!(!is_base64_nonce("c2hvcnQ=")); // 5 bytes
/// assert!(!is_base64_nonce("dGhlIHNhbXBsZSBub25jZR=="));  // trailing bits set
/// ```
pub fn is_base64_nonce(key: &str) -> bool {
    let Some(data) = key.strip_suffix("==") else {
        return false;
    };
    let is_alphabet = |b: &u8| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/';
    data.len() == 22
        && data.as_bytes().iter().all(is_alphabet)
        && matches!(data.as_bytes()[21], b'A' | b'Q' | b'g' | b'w')
}

/// The 20-byte SHA-1 of key ++ GUID, before base64 (shown by `--explain`).
pub fn sha1_of_key(key: &str) -> [u8; 20] {
    let mut sha1 = sha1_smol::Sha1::new();
    sha1.update(key.trim().as_bytes());
    sha1.update(GUID.as_bytes());
    sha1.digest().bytes()
}

/// Checks the RFC 6455 request rules of §4.2.1 and returns the client's key.
///
/// The method, Host, Upgrade and Connection have been checked by the caller for
/// both variants; this checks the version and the key.
pub fn check_request(head: &Head) -> Result<String, Rejection> {
    if head.count("Sec-WebSocket-Key") > 1 {
        return Err(Rejection::bad_request(
            "Sec-WebSocket-Key appears more than once",
        ));
    }
    let key = head.header("Sec-WebSocket-Key").unwrap_or("").trim();
    if head.count("Sec-WebSocket-Version") != 1
        || head.header("Sec-WebSocket-Version").map(str::trim) != Some(VERSION)
    {
        return Err(
            Rejection::new(426, "this server speaks Sec-WebSocket-Version 13")
                .with_header("Sec-WebSocket-Version", VERSION)
                .with_header("Upgrade", "websocket"),
        );
    }
    if !is_base64_nonce(key) {
        return Err(Rejection::bad_request(
            "Sec-WebSocket-Key must be 16 bytes in base64",
        ));
    }
    Ok(key.to_string())
}

/// The 101 answer (§4.2.2 item 5), with the accepted extension, if any.
pub fn response(key: &str, protocol: Option<&str>, extensions: Option<&str>) -> Vec<u8> {
    let mut out = String::from(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n",
    );
    push_field(&mut out, "Sec-WebSocket-Accept", &accept_key(key));
    if let Some(p) = protocol {
        push_field(&mut out, "Sec-WebSocket-Protocol", p);
    }
    if let Some(e) = extensions {
        push_field(&mut out, "Sec-WebSocket-Extensions", e);
    }
    out.push_str("\r\n");
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_md_vectors() {
        assert_eq!(
            accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
        assert_eq!(
            accept_key("08kp54j1E3z4IfuM1m75tQ=="),
            "Dhg2s/gXkbuTiYk690dns7LmEhY="
        );
    }

    #[test]
    fn the_nonce_check_agrees_with_decoding() {
        // Every length around 16 bytes, and every last character: the check says
        // yes exactly when strict base64 decoding gives 16 bytes.
        for len in 14..=18usize {
            let bytes: Vec<u8> = (0..len as u8).map(|i| i.wrapping_mul(37)).collect();
            let key = BASE64.encode(&bytes);
            assert_eq!(is_base64_nonce(&key), len == 16, "{key}");
        }
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=*";
        for &last in alphabet {
            let key = format!("dGhlIHNhbXBsZSBub25jZ{}==", last as char);
            let decodes = BASE64.decode(&key).is_ok_and(|n| n.len() == 16);
            assert_eq!(is_base64_nonce(&key), decodes, "{key}");
        }
        assert!(!is_base64_nonce("dGhlIHNhbXBsZSBub25jZQ="));
        assert!(!is_base64_nonce("dGhlIHNhbXBsZSBub25jZQ==="));
        assert!(!is_base64_nonce("dGhlIHNhbXBsZSBu*25jZQ=="));
    }

    #[test]
    fn surrounding_whitespace_is_not_part_of_the_key() {
        assert_eq!(
            accept_key(" dGhlIHNhbXBsZSBub25jZQ== "),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }
}
