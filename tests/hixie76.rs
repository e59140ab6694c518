//! hixie-76 over real TCP: the exact 101 answer, key3 arriving late or never, refused
//! keys, text frames split at every byte boundary, discarded frames, the closing
//! handshake and invalid UTF-8.

mod common;

use common::*;
use std::io::{ErrorKind, Read, Write};
use std::thread::sleep;
use std::time::{Duration, Instant};
use stdws::Config;

#[test]
fn answer_is_byte_exact() {
    let server = echo_server(Config {
        protocols: vec!["sample".into()],
        ..Config::default()
    });
    let mut s = connect(server.local_addr());
    s.write_all(hixie_request("/demo").as_bytes()).unwrap();
    s.write_all(HIXIE_KEY3).unwrap();
    let mut expected = b"HTTP/1.1 101 WebSocket Protocol Handshake\r\n\
        Upgrade: WebSocket\r\n\
        Connection: Upgrade\r\n\
        Sec-WebSocket-Origin: http://example.com\r\n\
        Sec-WebSocket-Location: ws://example.com/demo\r\n\
        Sec-WebSocket-Protocol: sample\r\n\r\n"
        .to_vec();
    expected.extend_from_slice(HIXIE_ANSWER);
    let mut got = vec![0u8; expected.len()];
    s.read_exact(&mut got).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(&expected)
    );
}

#[test]
fn nothing_is_sent_before_key3_has_arrived() {
    let server = echo_server(Config::default());
    let mut s = connect(server.local_addr());
    s.write_all(hixie_request("/demo").as_bytes()).unwrap();
    s.write_all(&HIXIE_KEY3[..3]).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut b = [0u8; 1];
    let early = s.read(&mut b);
    assert!(
        matches!(&early, Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)),
        "server answered before key3 was complete: {early:?}"
    );
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    s.write_all(&HIXIE_KEY3[3..]).unwrap();
    let (status, _) = read_response_head(&mut s);
    assert_eq!(status, 101);
    let mut answer = [0u8; 16];
    s.read_exact(&mut answer).unwrap();
    assert_eq!(&answer, HIXIE_ANSWER);
}

#[test]
fn missing_key3_is_closed_without_an_answer() {
    let server = echo_server(Config {
        handshake_timeout: Duration::from_millis(500),
        ..Config::default()
    });
    let mut s = connect(server.local_addr());
    s.write_all(hixie_request("/").as_bytes()).unwrap();
    s.write_all(b"1234").unwrap();
    let started = Instant::now();
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    assert_eq!(got, b"", "no 101, nothing at all");
    assert!(
        started.elapsed() < PATIENCE,
        "closed by the handshake timeout"
    );
}

#[test]
fn refused_keys_get_400() {
    let server = echo_server(Config::default());
    let good = hixie_request("/");
    let article = "1\\}  a`;l022aaf  51";
    let cases = [
        good.replace("4 @1  46546xW%0l 1 5", article),
        good.replace("4 @1  46546xW%0l 1 5", "no digits at all"),
        good.replace("4 @1  46546xW%0l 1 5", "4294967296 "),
        good.replace("4 @1  46546xW%0l 1 5", "12345"),
        good.replace("Sec-WebSocket-Key1: 4 @1  46546xW%0l 1 5\r\n", ""),
        good.replace("Sec-WebSocket-Key2: 12998 5 Y3 1  .P00\r\n", ""),
    ];
    for request in cases {
        let mut s = connect(server.local_addr());
        s.write_all(request.as_bytes()).unwrap();
        s.write_all(HIXIE_KEY3).unwrap();
        let (status, head, _) = read_response(&mut s);
        assert_eq!(status, 400, "{request}");
        assert!(head.contains("Connection: close\r\n"));
    }
    assert_still_serving(server.local_addr());
}

#[test]
fn key3_with_the_head_and_a_first_frame_behind_it() {
    let server = echo_server(Config::default());
    let mut s = connect(server.local_addr());
    let mut wire = hixie_request("/").into_bytes();
    wire.extend_from_slice(HIXIE_KEY3);
    wire.extend_from_slice(b"\x00early\xFF");
    s.write_all(&wire).unwrap();
    read_response_head(&mut s);
    let mut got = [0u8; 16 + 7];
    s.read_exact(&mut got).unwrap();
    assert_eq!(&got[..16], HIXIE_ANSWER);
    assert_eq!(&got[16..], b"\x00early\xFF");
}

#[test]
fn text_frames_split_at_every_byte_boundary() {
    let server = echo_server(Config::default());
    // A text frame, a discarded length-prefixed frame, a discarded sentinel frame,
    // another text frame.
    let mut wire = b"\x00h\xC3\xA9llo\xFF".to_vec();
    wire.extend_from_slice(&[0x80, 0x03, 1, 2, 3]);
    wire.extend_from_slice(b"\x01skip\xFF");
    wire.extend_from_slice(b"\x00again\xFF");
    for cut in 1..wire.len() {
        let mut s = open_hixie(server.local_addr(), "/");
        s.write_all(&wire[..cut]).unwrap();
        sleep(Duration::from_millis(2));
        s.write_all(&wire[cut..]).unwrap();
        let expected = b"\x00h\xC3\xA9llo\xFF\x00again\xFF";
        let mut got = vec![0u8; expected.len()];
        s.read_exact(&mut got).unwrap();
        assert_eq!(&got[..], &expected[..], "cut {cut}");
    }
}

#[test]
fn closing_handshake() {
    let server = echo_server(Config::default());
    let mut s = open_hixie(server.local_addr(), "/");
    s.write_all(b"\x00last\xFF\xFF\x00").unwrap();
    let mut got = [0u8; 8];
    s.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"\x00last\xFF\xFF\x00");
    assert!(server_closed(&mut s));
}

#[test]
fn invalid_utf8_closes_the_connection() {
    let server = echo_server(Config::default());
    let mut s = open_hixie(server.local_addr(), "/");
    // An impossible byte, and no end of frame: the server must not wait for it.
    s.write_all(b"\x00ok\xC0").unwrap();
    let mut got = [0u8; 2];
    s.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"\xFF\x00");
    assert!(server_closed(&mut s));
    assert_still_serving(server.local_addr());
}

#[test]
fn unterminated_text_over_the_limit_closes() {
    let server = echo_server(Config {
        max_message_size: 1000,
        ..Config::default()
    });
    let mut s = open_hixie(server.local_addr(), "/");
    let mut wire = vec![0x00];
    wire.extend_from_slice(&[b'a'; 1500]);
    s.write_all(&wire).unwrap();
    let mut got = [0u8; 2];
    s.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"\xFF\x00");
    assert!(server_closed(&mut s));
}
