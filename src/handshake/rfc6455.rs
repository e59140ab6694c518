//! The RFC 6455 opening handshake (§4.2): validating the client's request and
//! computing `Sec-WebSocket-Accept`.

use super::Rejection;
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
    match BASE64.decode(key) {
        Ok(nonce) if nonce.len() == 16 => Ok(key.to_string()),
        _ => Err(Rejection::bad_request(
            "Sec-WebSocket-Key must be 16 bytes in base64",
        )),
    }
}

/// The 101 answer (§4.2.2 item 5).
pub fn response(key: &str, protocol: Option<&str>) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n",
        accept_key(key)
    );
    if let Some(p) = protocol {
        out.push_str(&format!("Sec-WebSocket-Protocol: {p}\r\n"));
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
    fn surrounding_whitespace_is_not_part_of_the_key() {
        assert_eq!(
            accept_key(" dGhlIHNhbXBsZSBub25jZQ== "),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }
}
