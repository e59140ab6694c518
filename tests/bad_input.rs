//! The bad-input catalogue: every situation of the project's answer table (what stdws
//! answers in every failure case) and every framing rule of RFC 6455 §5 and hixie-76
//! §4.2, each as one row: the bytes a peer sends and the exact answer it must get (HTTP
//! status with `Content-Length`, `Connection: close` and a one-line reason; or close
//! code; or hixie-76 bytes), then a check that the next client is served normally.

mod common;

use common::*;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};
use stdws::{Config, OriginPolicy, ServerHandle};

/// How long the test servers give a handshake: long enough for any machine to send a
/// head in one go, short enough that the timeout rows stay quick.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_millis(600);

/// What a row sends.
enum Send {
    /// Raw bytes on a fresh connection (a request head, or not).
    Raw(Vec<u8>),
    /// Raw bytes, then nothing more for longer than the handshake timeout.
    RawThenWait(Vec<u8>),
    /// Frames after a successful RFC 6455 handshake.
    Rfc(Vec<u8>),
    /// Frames after a successful hixie-76 handshake.
    Hixie(Vec<u8>),
}

/// One frame from the server, with a close reduced to its code.
#[derive(Debug, PartialEq, Eq)]
enum Got {
    Data(u8, Vec<u8>),
    Close(Option<u16>),
}

/// What a row must get back.
enum Expect {
    /// An HTTP error: status, then header lines that must appear besides
    /// `Connection: close` and `Content-Length`.
    Http(u16, &'static [&'static str]),
    /// The connection closed with nothing sent at all.
    Silence,
    /// Exactly these RFC 6455 frames, then the server closes TCP.
    Frames(Vec<Got>),
    /// Exactly these hixie-76 bytes, then the server closes TCP.
    HixieBytes(Vec<u8>),
}

struct Row {
    rule: &'static str,
    send: Send,
    expect: Expect,
}

fn row(rule: &'static str, send: Send, expect: Expect) -> Row {
    Row { rule, send, expect }
}

fn server(config: Config) -> ServerHandle {
    echo_server(Config {
        handshake_timeout: HANDSHAKE_TIMEOUT,
        max_head_bytes: 2048,
        max_headers: 20,
        max_frame_size: 64 * 1024,
        max_message_size: 100 * 1024,
        close_timeout: Duration::from_millis(500),
        ..config
    })
}

/// The shared RFC 6455 request with `from` replaced by `to`.
fn rfc_with(from: &str, to: &str) -> Send {
    let base = rfc_request("/");
    assert!(base.contains(from), "{from:?} is not in the request");
    Send::Raw(base.replacen(from, to, 1).into_bytes())
}

/// The shared hixie-76 request (key3 included) with `from` replaced by `to`.
fn hixie_with(from: &str, to: &str) -> Send {
    let base = hixie_request("/");
    assert!(base.contains(from), "{from:?} is not in the request");
    let mut wire = base.replacen(from, to, 1).into_bytes();
    wire.extend_from_slice(HIXIE_KEY3);
    Send::Raw(wire)
}

fn close(code: u16) -> Vec<u8> {
    masked(0x8, &close_payload(code, ""))
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// A frame header alone (masked), for lengths too large to send.
fn header_only(first: u8, len_bytes: &[u8]) -> Vec<u8> {
    cat(&[&[first], len_bytes, &[1, 2, 3, 4]])
}

/// Reads every frame until the server closes TCP.
fn frames_until_closed(s: &mut TcpStream) -> Vec<Got> {
    let mut all = Vec::new();
    let _ = s.read_to_end(&mut all);
    let mut got = Vec::new();
    let mut rest = &all[..];
    while rest.len() >= 2 {
        assert_eq!(rest[1] & 0x80, 0, "server frames are never masked");
        let (len, at) = match rest[1] & 0x7F {
            126 => (usize::from(u16::from_be_bytes([rest[2], rest[3]])), 4),
            127 => panic!("no row expects a 64-bit length"),
            n => (usize::from(n), 2),
        };
        let payload = rest[at..at + len].to_vec();
        got.push(match rest[0] & 0x0F {
            0x8 => Got::Close((len >= 2).then(|| u16::from_be_bytes([payload[0], payload[1]]))),
            op => Got::Data(op, payload),
        });
        rest = &rest[at + len..];
    }
    assert!(rest.is_empty(), "a partial frame: {rest:?}");
    got
}

/// Checks an HTTP error answer: status, Content-Length, `Connection: close`, a
/// one-line reason, extra headers, and that the server then closes.
fn check_http(s: &mut TcpStream, status: u16, headers: &[&str], rule: &str) {
    let (got, head, body) = read_response(s);
    assert_eq!(got, status, "{rule}: {head}");
    assert!(head.contains("\r\nConnection: close\r\n"), "{rule}: {head}");
    assert!(
        head.contains(&format!("\r\nContent-Length: {}\r\n", body.len())),
        "{rule}: {head}"
    );
    assert!(
        body.len() > 1 && body.ends_with(b"\n") && !body[..body.len() - 1].contains(&b'\n'),
        "{rule}: the reason is one line: {body:?}"
    );
    for h in headers {
        assert!(
            head.contains(&format!("\r\n{h}\r\n")),
            "{rule}: {h} in {head}"
        );
    }
    assert!(server_closed(s), "{rule}: closed after the answer");
}

fn run(addr: SocketAddr, row: Row, still_serving: &dyn Fn(SocketAddr)) {
    let rule = row.rule;
    let mut s = match row.send {
        Send::Raw(bytes) | Send::RawThenWait(bytes) => {
            let mut s = connect(addr);
            s.write_all(&bytes).unwrap();
            s
        }
        Send::Rfc(bytes) => {
            let mut s = open_rfc(addr, "/");
            s.write_all(&bytes).unwrap();
            s
        }
        Send::Hixie(bytes) => {
            let mut s = open_hixie(addr, "/");
            s.write_all(&bytes).unwrap();
            s
        }
    };
    match row.expect {
        Expect::Http(status, headers) => check_http(&mut s, status, headers, rule),
        Expect::Silence => {
            let mut rest = Vec::new();
            let _ = s.read_to_end(&mut rest);
            assert!(rest.is_empty(), "{rule}: nothing is sent, got {rest:?}");
        }
        Expect::Frames(want) => assert_eq!(frames_until_closed(&mut s), want, "{rule}"),
        Expect::HixieBytes(want) => {
            let mut got = Vec::new();
            let _ = s.read_to_end(&mut got);
            assert_eq!(got, want, "{rule}");
        }
    }
    still_serving(addr);
}

/// Rows answered by the server with the default policy.
fn rows() -> Vec<Row> {
    use Expect::*;
    use Send::*;
    let echo = |op: u8, p: &[u8]| Got::Data(op, p.to_vec());
    let p1002 = || Frames(vec![Got::Close(Some(1002))]);
    let p1007 = || Frames(vec![Got::Close(Some(1007))]);
    let p1009 = || Frames(vec![Got::Close(Some(1009))]);
    let hixie_closed = || HixieBytes(vec![0xFF, 0x00]);
    let v426: &[&str] = &["Sec-WebSocket-Version: 13", "Upgrade: websocket"];
    let mut rows = vec![
        // --- head malformed: 400
        row("request line with one word", Raw(b"GARBAGE\r\n\r\n".to_vec()), Http(400, &[])),
        row("request line with four words", Raw(b"GET / HTTP/1.1 x\r\nHost: a\r\n\r\n".to_vec()), Http(400, &[])),
        row("empty method", Raw(b" / HTTP/1.1\r\nHost: a\r\n\r\n".to_vec()), Http(400, &[])),
        row("bad version token", Raw(b"GET / HTTX/1.1\r\nHost: a\r\n\r\n".to_vec()), Http(400, &[])),
        row("HTTP/2.0 request line", Raw(b"GET / HTTP/2.0\r\nHost: a\r\n\r\n".to_vec()), Http(400, &[])),
        row("control byte in the target", Raw(b"GET /\x01 HTTP/1.1\r\nHost: a\r\n\r\n".to_vec()), Http(400, &[])),
        row("header line without a colon", Raw(b"GET / HTTP/1.1\r\nHost a\r\n\r\n".to_vec()), Http(400, &[])),
        row("space in a header name", Raw(b"GET / HTTP/1.1\r\nHo st: a\r\n\r\n".to_vec()), Http(400, &[])),
        row("empty header name", Raw(b"GET / HTTP/1.1\r\n: a\r\n\r\n".to_vec()), Http(400, &[])),
        row("obsolete line folding", Raw(b"GET / HTTP/1.1\r\nHost: a\r\n b\r\n\r\n".to_vec()), Http(400, &[])),
        row("control byte in a header value", Raw(b"GET / HTTP/1.1\r\nHost: a\x07\r\n\r\n".to_vec()), Http(400, &[])),
        row("bare binary garbage, no newline", Raw(vec![0x00, 0x01, 0xFE, 0xFF]), Http(400, &[])),
        row("a TLS ClientHello", Raw(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03".to_vec()), Http(400, &[])),
        // --- limits: 431
        row(
            "head over the byte limit",
            Raw(format!("GET / HTTP/1.1\r\nHost: a\r\nX: {}\r\n\r\n", "x".repeat(3000)).into_bytes()),
            Http(431, &[]),
        ),
        row(
            "head over the byte limit, no blank line ever",
            Raw(format!("GET / HTTP/1.1\r\nX: {}", "x".repeat(3000)).into_bytes()),
            Http(431, &[]),
        ),
        row(
            "too many header lines",
            Raw(format!("GET / HTTP/1.1\r\nHost: a\r\n{}\r\n", "X: 1\r\n".repeat(25)).into_bytes()),
            Http(431, &[]),
        ),
        // --- timeouts
        row(
            "head not complete in time (something received): 408",
            RawThenWait(b"GET / HTTP/1.1\r\nHost: a\r\n".to_vec()),
            Http(408, &[]),
        ),
        row("nothing received in time: closed, no answer", RawThenWait(Vec::new()), Silence),
        row(
            "hixie-76 key3 never sent: closed, never a 101",
            RawThenWait(hixie_request("/").into_bytes()),
            Silence,
        ),
        row(
            "hixie-76 key3 half sent: closed, never a 101",
            RawThenWait(cat(&[hixie_request("/").as_bytes(), b"^n:d"])),
            Silence,
        ),
        // --- asks to upgrade, refused: 400
        row("upgrade with POST", rfc_with("GET", "POST"), Http(400, &[])),
        row("upgrade with HTTP/1.0", rfc_with("HTTP/1.1", "HTTP/1.0"), Http(400, &[])),
        row("upgrade without Host", rfc_with("Host: 127.0.0.1\r\n", ""), Http(400, &[])),
        row("upgrade with two Host headers", rfc_with("Host: 127.0.0.1\r\n", "Host: a\r\nHost: b\r\n"), Http(400, &[])),
        row("Upgrade lacks websocket", rfc_with("Upgrade: websocket", "Upgrade: h2c"), Http(400, &[])),
        row("Connection lacks Upgrade", rfc_with("Connection: Upgrade", "Connection: keep-alive"), Http(400, &[])),
        row("the 'update' slip", rfc_with("Connection: Upgrade", "Connection: update"), Http(400, &[])),
        row(
            "key missing",
            rfc_with("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", ""),
            Http(400, &[]),
        ),
        row(
            "key duplicated",
            rfc_with(
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Key: 08kp54j1E3z4IfuM1m75tQ==\r\n",
            ),
            Http(400, &[]),
        ),
        row("key decodes to 5 bytes", rfc_with("dGhlIHNhbXBsZSBub25jZQ==", "c2hvcnQ="), Http(400, &[])),
        row("key decodes to 17 bytes", rfc_with("dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25jZXg="), Http(400, &[])),
        row("key not base64", rfc_with("dGhlIHNhbXBsZSBub25jZQ==", "not*base64*at*all*!!===="), Http(400, &[])),
        row(
            "both RFC 6455 and hixie-76 keys",
            rfc_with("Sec-WebSocket-Version: 13\r\n", "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key1: 1 2\r\n"),
            Http(400, &[]),
        ),
        row(
            "a Sec-WebSocket-* header but no key",
            Raw(b"GET / HTTP/1.1\r\nHost: a\r\nSec-WebSocket-Version: 13\r\n\r\n".to_vec()),
            Http(400, &[]),
        ),
        // --- version: 426
        row("version missing", rfc_with("Sec-WebSocket-Version: 13\r\n", ""), Http(426, v426)),
        row("version 8", rfc_with("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8"), Http(426, v426)),
        row(
            "version sent twice",
            rfc_with("Sec-WebSocket-Version: 13\r\n", "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Version: 8\r\n"),
            Http(426, v426),
        ),
        // --- hixie-76 keys: 400, never a 101
        row("hixie-76 Key1 missing", hixie_with("Sec-WebSocket-Key1: 4 @1  46546xW%0l 1 5\r\n", ""), Http(400, &[])),
        row("hixie-76 Key2 missing", hixie_with("Sec-WebSocket-Key2: 12998 5 Y3 1  .P00\r\n", ""), Http(400, &[])),
        row(
            "hixie-76 Key1 twice",
            hixie_with("Sec-WebSocket-Key1: 4 @1  46546xW%0l 1 5\r\n", "Sec-WebSocket-Key1: 4 @1  46546xW%0l 1 5\r\nSec-WebSocket-Key1: 1 2\r\n"),
            Http(400, &[]),
        ),
        row("hixie-76 key without digits", hixie_with("4 @1  46546xW%0l 1 5", "a b c"), Http(400, &[])),
        row("hixie-76 key above 4294967295", hixie_with("4 @1  46546xW%0l 1 5", "4294967296 "), Http(400, &[])),
        row("hixie-76 key with dozens of digits", hixie_with("4 @1  46546xW%0l 1 5", &format!("{} 1", "9".repeat(60))), Http(400, &[])),
        row("hixie-76 key without spaces", hixie_with("12998 5 Y3 1  .P00", "1299853100"), Http(400, &[])),
        row("hixie-76 key not a whole multiple", hixie_with("4 @1  46546xW%0l 1 5", "1\\}  a`;l022aaf  51"), Http(400, &[])),
        // --- plain HTTP
        row("plain POST", Raw(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n".to_vec()), Http(405, &["Allow: GET, HEAD"])),
        row("plain DELETE", Raw(b"DELETE /x HTTP/1.1\r\nHost: a\r\n\r\n".to_vec()), Http(405, &["Allow: GET, HEAD"])),
        row("plain GET of no such file", Raw(b"GET /nothing HTTP/1.1\r\nHost: a\r\n\r\n".to_vec()), Http(404, &[])),
        // --- RFC 6455 framing rules (§5), each failing with its code
        row("unmasked client frame", Rfc(frame(true, 0x1, b"hi", false)), p1002()),
        row("reserved data opcode 3", Rfc(masked(0x3, b"")), p1002()),
        row("reserved control opcode 0xB", Rfc(masked(0xB, b"")), p1002()),
        row("RSV1 set", Rfc(cat(&[&[0xC1], &masked(0x1, b"x")[1..]])), p1002()),
        row("RSV2 set", Rfc(cat(&[&[0xA1], &masked(0x1, b"x")[1..]])), p1002()),
        row("RSV3 set", Rfc(cat(&[&[0x91], &masked(0x1, b"x")[1..]])), p1002()),
        row("fragmented ping", Rfc(frame(false, 0x9, b"p", true)), p1002()),
        row("ping of 126 bytes", Rfc(masked(0x9, &[b'p'; 126])), p1002()),
        row("close of 126 bytes", Rfc(masked(0x8, &cat(&[&[0x03, 0xE8], &[b'r'; 124]]))), p1002()),
        row("continuation with no message", Rfc(frame(true, 0x0, b"x", true)), p1002()),
        row(
            "new text frame inside a fragmented message",
            Rfc(cat(&[&frame(false, 0x1, b"a", true), &masked(0x1, b"b")])),
            p1002(),
        ),
        row(
            "new binary frame inside a fragmented message",
            Rfc(cat(&[&frame(false, 0x2, b"a", true), &frame(false, 0x2, b"b", true)])),
            p1002(),
        ),
        row("64-bit length with the top bit set", Rfc(header_only(0x82, &[0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0])), p1002()),
        row("close payload of one byte", Rfc(masked(0x8, &[0x03])), p1002()),
        row("close reason not UTF-8", Rfc(masked(0x8, &[0x03, 0xE8, 0xFF, 0xFE])), p1007()),
        row("text not UTF-8 (one frame)", Rfc(masked(0x1, b"ok\xC0\xAF")), p1007()),
        row(
            "text not UTF-8 in the first fragment, message unfinished",
            Rfc(frame(false, 0x1, b"\xED\xA0\x80", true)),
            p1007(),
        ),
        fail_fast_row(),
        row(
            "text ending in the middle of a code point",
            Rfc(cat(&[&frame(false, 0x1, b"\xCE", true), &frame(true, 0x0, b"", true)])),
            p1007(),
        ),
        row("frame over the size limit (header alone)", Rfc(header_only(0x82, &[0xFF, 0, 0, 0, 0, 0, 0x02, 0, 0])), p1009()),
        row(
            "message over the size limit across fragments",
            Rfc(cat(&[&frame(false, 0x2, &[0; 60_000], true), &frame(true, 0x0, &[0; 60_000], true)])),
            p1009(),
        ),
        // --- RFC 6455 rules that are answered rather than failed
        row(
            "ping answered with a pong of the same payload",
            Rfc(cat(&[&masked(0x9, b"hello?"), &close(1000)])),
            Frames(vec![echo(0xA, b"hello?"), Got::Close(Some(1000))]),
        ),
        row(
            "unsolicited pong ignored",
            Rfc(cat(&[&masked(0xA, b"x"), &masked(0x1, b"after"), &close(1000)])),
            Frames(vec![echo(0x1, b"after"), Got::Close(Some(1000))]),
        ),
        row(
            "control frames inside a fragmented message",
            Rfc(cat(&[
                &frame(false, 0x1, b"frag", true),
                &masked(0x9, b"p"),
                &frame(false, 0x0, b"men", true),
                &masked(0xA, b""),
                &frame(true, 0x0, b"ted", true),
                &close(1000),
            ])),
            Frames(vec![echo(0xA, b"p"), echo(0x1, b"fragmented"), Got::Close(Some(1000))]),
        ),
        row(
            "longer length form accepted (5 bytes in a 16-bit length)",
            Rfc(cat(&[&[0x81, 0xFE, 0x00, 0x05, 0, 0, 0, 0], b"hello", &close(1000)])),
            Frames(vec![echo(0x1, b"hello"), Got::Close(Some(1000))]),
        ),
        row("empty close answered with an empty close", Rfc(masked(0x8, b"")), Frames(vec![Got::Close(None)])),
    ];
    for code in [1000u16, 1001, 1003, 1007, 1011, 1012, 1014, 3000, 4999] {
        rows.push(row(
            "valid close code echoed",
            Rfc(masked(0x8, &close_payload(code, "bye"))),
            Frames(vec![Got::Close(Some(code))]),
        ));
    }
    for code in [0u16, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535] {
        rows.push(row("invalid close code", Rfc(close(code)), p1002()));
    }
    // --- hixie-76 framing rules (§4.2)
    rows.extend([
        row(
            "hixie-76 closing frame answered and closed",
            Hixie(vec![0xFF, 0x00]),
            hixie_closed(),
        ),
        row(
            "hixie-76 text echoed, then closed",
            Hixie(cat(&[b"\x00h\xC3\xA9llo\xFF", &[0xFF, 0x00]])),
            HixieBytes(cat(&[b"\x00h\xC3\xA9llo\xFF", &[0xFF, 0x00]])),
        ),
        row(
            "hixie-76 text not UTF-8",
            Hixie(b"\x00ok\xC0\xAF\xFF".to_vec()),
            hixie_closed(),
        ),
        row(
            "hixie-76 text not UTF-8, frame unfinished",
            Hixie(b"\x00ok\xC0".to_vec()),
            hixie_closed(),
        ),
        row(
            "hixie-76 length-prefixed frame discarded",
            Hixie(cat(&[
                &[0x80, 0x03],
                b"abc",
                b"\x00after\xFF",
                &[0xFF, 0x00],
            ])),
            HixieBytes(cat(&[b"\x00after\xFF", &[0xFF, 0x00]])),
        ),
        row(
            "hixie-76 sentinel frame of type 0x05 discarded",
            Hixie(cat(&[b"\x05junk\xFF", b"\x00after\xFF", &[0xFF, 0x00]])),
            HixieBytes(cat(&[b"\x00after\xFF", &[0xFF, 0x00]])),
        ),
        row(
            "hixie-76 length that overflows",
            Hixie(vec![
                0x80, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F,
            ]),
            hixie_closed(),
        ),
        row(
            "hixie-76 length over the limit",
            Hixie(vec![0x80, 0x87, 0xFF, 0x7F]),
            hixie_closed(),
        ),
        row(
            "hixie-76 text over the limit without an end",
            Hixie(cat(&[&[0x00], &[b'a'; 110 * 1024]])),
            hixie_closed(),
        ),
    ]);
    rows
}

/// Masked text whose first bad byte arrives while the frame is unfinished: the
/// answer must come without the rest of the frame (fail fast, RFC 6455 §8.1).
fn fail_fast_row() -> Row {
    let mut wire = masked(0x1, &cat(&[&[b'a'; 5], b"\xFF", &[b'a'; 94]]));
    wire.truncate(2 + 4 + 6);
    row(
        "text not UTF-8 in mid-frame, rest of the frame never sent",
        Send::Rfc(wire),
        Expect::Frames(vec![Got::Close(Some(1007))]),
    )
}

#[test]
fn every_bad_input_gets_its_answer_and_the_next_client_is_served() {
    let server = server(Config::default());
    let addr = server.local_addr();
    let rows = rows();
    let count = rows.len();
    let started = Instant::now();
    for r in rows {
        run(addr, r, &assert_still_serving);
    }
    eprintln!(
        "bad_input: {count} rows in {} ms",
        started.elapsed().as_millis()
    );
    assert!(count >= 90, "{count} rows");
}

/// A request with `Origin: origin` (or none), for either variant, on `addr`.
fn request_with_origin(hixie: bool, host: &str, origin: Option<&str>) -> Vec<u8> {
    let base = if hixie {
        hixie_request("/")
    } else {
        rfc_request("/")
    };
    let base = base.replace("Origin: http://example.com\r\n", "");
    let base = base.replacen("Host: 127.0.0.1", &format!("Host: {host}"), 1);
    let base = base.replacen("Host: example.com", &format!("Host: {host}"), 1);
    let mut wire = match origin {
        Some(o) => base.replacen("\r\n\r\n", &format!("\r\nOrigin: {o}\r\n\r\n"), 1),
        None => base,
    }
    .into_bytes();
    if hixie {
        wire.extend_from_slice(HIXIE_KEY3);
    }
    wire
}

/// Opens a connection with an allowed origin and checks the 101 and one echo.
fn served_with_origin(addr: SocketAddr, hixie: bool, host: &str, origin: &str) {
    let mut s = connect(addr);
    s.write_all(&request_with_origin(hixie, host, Some(origin)))
        .unwrap();
    let (status, head) = read_response_head(&mut s);
    assert_eq!(status, 101, "{head}");
    if hixie {
        let mut answer = [0u8; 16];
        s.read_exact(&mut answer).unwrap();
        s.write_all(b"\x00ok\xFF").unwrap();
        let mut echo = [0u8; 4];
        s.read_exact(&mut echo).unwrap();
        assert_eq!(&echo, b"\x00ok\xFF");
    } else {
        s.write_all(&masked(0x1, b"ok")).unwrap();
        assert_eq!(read_frame(&mut s), (true, 0x1, b"ok".to_vec()));
    }
}

#[test]
fn origin_list_refuses_others_and_a_missing_origin_for_both_variants() {
    let server = server(Config {
        origin: OriginPolicy::Allow(vec![
            "https://app.example".into(),
            "http://localhost:8080".into(),
        ]),
        ..Config::default()
    });
    let addr = server.local_addr();
    let ok = |a: SocketAddr| {
        served_with_origin(a, false, "x", "https://APP.example");
        served_with_origin(a, true, "x", "http://localhost:8080");
    };
    for hixie in [false, true] {
        for origin in [
            Some("https://evil.example"),
            Some("http://app.example"),
            Some("null"),
            None,
        ] {
            let r = row(
                "origin not in the list",
                Send::Raw(request_with_origin(hixie, "x", origin)),
                Expect::Http(403, &[]),
            );
            run(addr, r, &ok);
        }
    }
}

#[test]
fn same_origin_compares_the_origin_with_host_for_both_variants() {
    let server = server(Config {
        origin: OriginPolicy::SameOrigin,
        ..Config::default()
    });
    let addr = server.local_addr();
    let ok = |a: SocketAddr| {
        served_with_origin(a, false, "site.example:9001", "http://site.example:9001");
        served_with_origin(a, true, "SITE.example:9001", "http://site.example:9001");
    };
    for hixie in [false, true] {
        for origin in [
            Some("http://site.example:9002"),
            Some("http://other.example:9001"),
            None,
        ] {
            let request = request_with_origin(hixie, "site.example:9001", origin);
            let r = row(
                "origin not the Host",
                Send::Raw(request),
                Expect::Http(403, &[]),
            );
            run(addr, r, &ok);
        }
    }
}

#[test]
fn subprotocol_answer_is_the_first_offered_in_the_list_for_both_variants() {
    let server = server(Config {
        protocols: vec!["chat".into(), "sample".into()],
        ..Config::default()
    });
    let addr = server.local_addr();
    for (hixie, offer, answer) in [
        (false, "superchat, chat", Some("chat")),
        (false, "sample, chat", Some("sample")),
        (false, "superchat", None),
        (true, "sample", Some("sample")),
        (true, "other", None),
    ] {
        let base = if hixie {
            hixie_request("/")
        } else {
            rfc_request("/")
        };
        let base = base.replace("Sec-WebSocket-Protocol: sample\r\n", "");
        let mut wire = base
            .replacen(
                "\r\n\r\n",
                &format!("\r\nSec-WebSocket-Protocol: {offer}\r\n\r\n"),
                1,
            )
            .into_bytes();
        if hixie {
            wire.extend_from_slice(HIXIE_KEY3);
        }
        let mut s = connect(addr);
        s.write_all(&wire).unwrap();
        let (status, head) = read_response_head(&mut s);
        assert_eq!(status, 101, "{head}");
        let got = head
            .lines()
            .find_map(|l| l.strip_prefix("Sec-WebSocket-Protocol: "));
        assert_eq!(got, answer, "offer {offer:?}");
    }
    assert_still_serving(addr);
}

#[test]
fn at_the_connection_cap_the_next_client_gets_503_then_is_served_once_there_is_room() {
    let server = server(Config {
        max_connections: 1,
        ..Config::default()
    });
    let addr = server.local_addr();
    let mut held = open_rfc(addr, "/held");
    for _ in 0..3 {
        let mut s = connect(addr);
        s.write_all(rfc_request("/").as_bytes()).unwrap();
        check_http(&mut s, 503, &["Retry-After: 1"], "at the cap");
    }
    held.write_all(&close(1000)).unwrap();
    assert_eq!(read_close(&mut held), Some(1000));
    assert!(server_closed(&mut held));
    let until = Instant::now() + PATIENCE;
    while server.active_connections() > 0 && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_still_serving(addr);
}

#[test]
fn handler_error_or_panic_closes_only_its_connection_with_1011() {
    let server = handler_server(|mut ws, _| loop {
        match ws.read()? {
            stdws::Message::Text(t) if t == "error" => return Err("the handler failed".into()),
            stdws::Message::Text(t) if t == "panic" => panic!("the handler panicked"),
            stdws::Message::Close(_) => return Ok(()),
            m => ws.send(m)?,
        }
    });
    let addr = server.local_addr();
    let mut bystander = open_rfc(addr, "/bystander");
    for (what, hixie) in [
        ("error", false),
        ("panic", false),
        ("error", true),
        ("panic", true),
    ] {
        let r = if hixie {
            let wire = cat(&[&[0x00], what.as_bytes(), &[0xFF]]);
            row(
                "handler failure on hixie-76",
                Send::Hixie(wire),
                Expect::HixieBytes(vec![0xFF, 0x00]),
            )
        } else {
            row(
                "handler failure",
                Send::Rfc(masked(0x1, what.as_bytes())),
                Expect::Frames(vec![Got::Close(Some(1011))]),
            )
        };
        run(addr, r, &assert_still_serving);
    }
    bystander.write_all(&masked(0x1, b"still here")).unwrap();
    assert_eq!(
        read_frame(&mut bystander),
        (true, 0x1, b"still here".to_vec())
    );
}
