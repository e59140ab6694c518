//! RFC 6455 over real TCP: handshake answers, framing, fragmentation with control
//! frames in between, every close-code rule, fail-fast UTF-8, and frames split at
//! every byte boundary.

mod common;

use common::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::thread::sleep;
use std::time::Duration;
use stdws::Config;

#[test]
fn echoes_text_and_binary_then_closes_cleanly() {
    let server = echo_server(Config::default());
    let mut s = open_rfc(server.local_addr(), "/any/path");
    s.write_all(&masked(0x1, "héllo".as_bytes())).unwrap();
    assert_eq!(read_frame(&mut s), (true, 0x1, "héllo".as_bytes().to_vec()));
    let blob: Vec<u8> = (0..70_000u32).map(|i| (i * 7) as u8).collect();
    s.write_all(&masked(0x2, &blob)).unwrap();
    // A binary message over 64 KiB is echoed in fragments, as it arrives.
    let (mut fin, opcode, mut echoed) = read_frame(&mut s);
    assert_eq!(opcode, 0x2);
    while !fin {
        let (last, opcode, more) = read_frame(&mut s);
        assert_eq!(opcode, 0x0, "continuation");
        fin = last;
        echoed.extend(more);
    }
    assert_eq!(echoed, blob);
    s.write_all(&masked(0x8, &close_payload(1000, "bye")))
        .unwrap();
    assert_eq!(read_close(&mut s), Some(1000));
    assert!(server_closed(&mut s));
}

#[test]
fn fragmented_message_with_control_frames_in_between() {
    let server = echo_server(Config::default());
    let mut s = open_rfc(server.local_addr(), "/");
    let mut wire = frame(false, 0x1, b"frag-", true);
    wire.extend(frame(true, 0x9, b"ping-1", true));
    wire.extend(frame(false, 0x0, "mented-é".as_bytes(), true));
    wire.extend(frame(true, 0xA, b"unsolicited", true));
    wire.extend(frame(true, 0x0, b"-end", true));
    s.write_all(&wire).unwrap();
    // The pong answers at once, before the message it interrupted is complete.
    assert_eq!(read_frame(&mut s), (true, 0xA, b"ping-1".to_vec()));
    assert_eq!(
        read_frame(&mut s),
        (true, 0x1, "frag-mented-é-end".as_bytes().to_vec())
    );
}

#[test]
fn close_code_rules() {
    // (payload the client sends, close code the server answers: None = empty close)
    let mut cases: Vec<(Vec<u8>, Option<u16>)> = vec![
        (vec![], None),
        (close_payload(1000, "done"), Some(1000)),
        (close_payload(1001, ""), Some(1001)),
        (close_payload(1003, ""), Some(1003)),
        (close_payload(1007, ""), Some(1007)),
        (close_payload(1014, ""), Some(1014)),
        (close_payload(3000, "lib"), Some(3000)),
        (close_payload(4999, "app"), Some(4999)),
        (vec![0x03], Some(1002)),
        (vec![0x03, 0xE8, 0xFF, 0xFE], Some(1007)),
    ];
    for invalid in [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535] {
        cases.push((close_payload(invalid, ""), Some(1002)));
    }
    let server = echo_server(Config::default());
    for (payload, expected) in cases {
        let mut s = open_rfc(server.local_addr(), "/");
        s.write_all(&masked(0x8, &payload)).unwrap();
        assert_eq!(read_close(&mut s), expected, "client close {payload:02x?}");
        assert!(
            server_closed(&mut s),
            "server closes TCP after {payload:02x?}"
        );
    }
    assert_still_serving(server.local_addr());
}

#[test]
fn violations_fail_the_connection_with_their_codes() {
    let big = vec![b'a'; 2000];
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("unmasked", frame(true, 0x1, b"x", false), 1002),
        ("reserved opcode 3", masked(0x3, b""), 1002),
        ("reserved opcode 11", masked(0xB, b""), 1002),
        (
            "rsv1",
            {
                let mut f = masked(0x1, b"x");
                f[0] |= 0x40;
                f
            },
            1002,
        ),
        ("fragmented ping", frame(false, 0x9, b"", true), 1002),
        ("ping over 125", masked(0x9, &[0; 126]), 1002),
        ("lone continuation", masked(0x0, b"x"), 1002),
        (
            "text inside fragmented",
            {
                let mut f = frame(false, 0x1, b"a", true);
                f.extend(masked(0x1, b"b"));
                f
            },
            1002,
        ),
        (
            "64-bit length top bit",
            vec![0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4],
            1002,
        ),
        ("invalid utf-8", masked(0x1, &[0xCE, 0xBA, 0xFF]), 1007),
        ("utf-8 cut at message end", masked(0x1, &[0xE2, 0x82]), 1007),
        ("message over the limit", masked(0x2, &big), 1009),
    ];
    let server = echo_server(Config {
        max_message_size: 1000,
        max_frame_size: 1000,
        ..Config::default()
    });
    for (name, wire, code) in cases {
        let mut s = open_rfc(server.local_addr(), "/");
        s.write_all(&wire).unwrap();
        assert_eq!(read_close(&mut s), Some(code), "{name}");
        assert!(server_closed(&mut s), "{name}: TCP closed");
    }
    assert_still_serving(server.local_addr());
}

#[test]
fn invalid_utf8_fails_before_the_frame_is_complete() {
    let server = echo_server(Config::default());
    let mut s = open_rfc(server.local_addr(), "/");
    // Announce 1000 bytes of text, send a valid start and one impossible byte, and
    // stop: the server must not wait for the other 990 bytes.
    let mut whole = masked(0x1, &[b'a'; 1000]);
    let key = [whole[4], whole[5], whole[6], whole[7]];
    whole[8 + 5] = 0xFF ^ key[5 % 4];
    s.write_all(&whole[..8 + 10]).unwrap();
    assert_eq!(read_close(&mut s), Some(1007));
}

#[test]
fn frame_size_is_refused_from_the_header_alone() {
    let server = echo_server(Config {
        max_frame_size: 100,
        ..Config::default()
    });
    let mut s = open_rfc(server.local_addr(), "/");
    // Only the header of a 1 MiB frame: the answer comes without any payload.
    let whole = masked(0x2, &vec![0; 1 << 20]);
    s.write_all(&whole[..14]).unwrap();
    assert_eq!(read_close(&mut s), Some(1009));
}

#[test]
fn frames_split_at_every_byte_boundary() {
    let server = echo_server(Config::default());
    let mut wire = frame(false, 0x1, "αβ".as_bytes(), true);
    wire.extend(masked(0x9, b"pp"));
    wire.extend(frame(true, 0x0, "γ!".as_bytes(), true));
    wire.extend(masked(0x2, &[1, 2, 3, 200]));
    for cut in 1..wire.len() {
        let mut s = open_rfc(server.local_addr(), "/");
        s.write_all(&wire[..cut]).unwrap();
        s.flush().unwrap();
        sleep(Duration::from_millis(2));
        s.write_all(&wire[cut..]).unwrap();
        assert_eq!(read_frame(&mut s), (true, 0xA, b"pp".to_vec()), "cut {cut}");
        assert_eq!(
            read_frame(&mut s),
            (true, 0x1, "αβγ!".as_bytes().to_vec()),
            "cut {cut}"
        );
        assert_eq!(
            read_frame(&mut s),
            (true, 0x2, vec![1, 2, 3, 200]),
            "cut {cut}"
        );
    }
}

#[test]
fn first_frame_sent_with_the_request_is_not_lost() {
    let server = echo_server(Config::default());
    let mut s = connect(server.local_addr());
    let mut wire = rfc_request("/").into_bytes();
    wire.extend(masked(0x1, b"eager"));
    s.write_all(&wire).unwrap();
    let (status, _) = read_response_head(&mut s);
    assert_eq!(status, 101);
    assert_eq!(read_frame(&mut s), (true, 0x1, b"eager".to_vec()));
}

#[test]
fn subprotocol_is_the_first_offered_that_the_server_speaks() {
    let server = echo_server(Config {
        protocols: vec!["chat".into(), "superchat".into()],
        ..Config::default()
    });
    for (offer, answer) in [
        (Some("superchat, chat"), Some("superchat")),
        (Some("x, chat"), Some("chat")),
        (Some("x, y"), None),
        (None, None),
    ] {
        let mut s = connect(server.local_addr());
        let mut req = rfc_request("/");
        if let Some(o) = offer {
            req = req.replace(
                "\r\n\r\n",
                &format!("\r\nSec-WebSocket-Protocol: {o}\r\n\r\n"),
            );
        }
        s.write_all(req.as_bytes()).unwrap();
        let (status, head) = read_response_head(&mut s);
        assert_eq!(status, 101);
        let got = head
            .lines()
            .find_map(|l| l.strip_prefix("Sec-WebSocket-Protocol: "));
        assert_eq!(got, answer, "offer {offer:?}");
    }
}

#[test]
fn handshake_refusals_carry_their_status() {
    let server = echo_server(Config::default());
    let base = rfc_request("/");
    let cases: Vec<(String, u16)> = vec![
        (
            base.replace("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8"),
            426,
        ),
        (base.replace("Sec-WebSocket-Version: 13\r\n", ""), 426),
        (
            base.replace("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", ""),
            400,
        ),
        (base.replace("dGhlIHNhbXBsZSBub25jZQ==", "c2hvcnQ="), 400),
        (base.replace("GET", "POST"), 400),
        (base.replace("Host: 127.0.0.1\r\n", ""), 400),
        (
            base.replace("Connection: Upgrade", "Connection: update"),
            400,
        ),
        (base.replace("Upgrade: websocket", "Upgrade: h2c"), 400),
        (base.replace("HTTP/1.1", "HTTP/1.0"), 400),
        (base.replace("Host: 127.0.0.1", "Host: "), 400),
        (
            base.replace(
                "\r\n\r\n",
                "\r\nOrigin: http://a.example\r\nOrigin: http://b.example\r\n\r\n",
            ),
            400,
        ),
        (
            base.replace("Upgrade: websocket", "Upgrade: websocket\r"),
            400,
        ),
        ("GET / HTTP/1.1\r\n\r\n".to_string(), 400),
    ];
    for (request, status) in cases {
        let mut s = connect(server.local_addr());
        s.write_all(request.as_bytes()).unwrap();
        let (got, head, body) = read_response(&mut s);
        assert_eq!(got, status, "{request}");
        assert!(head.contains("Connection: close\r\n"), "{head}");
        assert!(body.ends_with(b"\n") && !body[..body.len() - 1].contains(&b'\n'));
        if status == 426 {
            assert!(head.contains("Sec-WebSocket-Version: 13\r\n"));
            assert!(head.contains("Upgrade: websocket\r\n"));
        }
        let mut rest = Vec::new();
        assert_eq!(
            s.read_to_end(&mut rest).unwrap_or(0),
            0,
            "closed after the answer"
        );
    }
    assert_still_serving(server.local_addr());
}

#[test]
fn a_client_that_sends_a_whole_large_message_before_reading_gets_its_echo() {
    // The simplest client: write everything, then read. An echo that answers while the
    // message is still arriving would block on this client's full receive buffer while
    // the client blocks sending: both would wait for the write timeout.
    let server = echo_server(Config::default());
    let mut s = open_rfc(server.local_addr(), "/");
    let blob: Vec<u8> = (0..16u32 << 20).map(|i| (i % 251) as u8).collect();
    s.write_all(&masked(0x2, &blob))
        .expect("the whole message is sent");
    let mut echoed = Vec::new();
    loop {
        let (fin, _, payload) = read_frame(&mut s);
        echoed.extend_from_slice(&payload);
        if fin {
            break;
        }
    }
    assert!(echoed == blob, "16 MiB echoed byte for byte");

    // The same connection, now read while sending: the echo flows again.
    echo_while_sending(&mut s, 2 << 20, 7);
}

#[test]
fn a_ping_inside_a_large_message_from_a_client_that_is_not_reading_is_answered() {
    // Two 12 MiB fragments with a ping between them, all written before reading. The
    // echo's relay stalls on this client; the pong must then wait behind the rest of
    // the echo instead of blocking the server while the client is still sending.
    let server = echo_server(Config::default());
    let mut s = open_rfc(server.local_addr(), "/");
    let blob: Vec<u8> = (0..24u32 << 20).map(|i| (i % 239) as u8).collect();
    let (a, b) = blob.split_at(12 << 20);
    let mut wire = frame(false, 0x2, a, true);
    wire.extend(frame(true, 0x9, b"still there?", true));
    wire.extend(frame(true, 0x0, b, true));
    s.write_all(&wire).expect("the whole message is sent");
    let (mut echoed, mut pong) = (Vec::new(), None);
    loop {
        let (fin, opcode, payload) = read_frame(&mut s);
        if opcode == 0xA {
            pong = Some(payload);
            continue;
        }
        echoed.extend_from_slice(&payload);
        if fin {
            break;
        }
    }
    assert_eq!(pong.as_deref(), Some(&b"still there?"[..]));
    assert!(echoed == blob, "24 MiB echoed byte for byte");
    s.write_all(&masked(0x8, &close_payload(1000, ""))).unwrap();
    assert_eq!(read_close(&mut s), Some(1000));
}

/// Sends one masked binary frame of `len` bytes (over 64 KiB) in two parts: its
/// header with the first 64 KiB, then, only once the echo's first fragment has come
/// back, the rest. Then checks the whole echo byte for byte. (The first part is small
/// enough for the socket buffers, so the first fragment can leave whole even though
/// this client does not read while it writes.)
fn echo_while_sending(s: &mut TcpStream, len: usize, seed: u32) {
    let blob: Vec<u8> = (0..len as u32).map(|i| (i % 241 + seed) as u8).collect();
    let wire = masked(0x2, &blob);
    let first_part = 14 + (64 << 10); // 14: a masked header with a 64-bit length
    s.write_all(&wire[..first_part]).unwrap();
    let (fin, opcode, first) = read_frame(s);
    assert!(
        !fin,
        "the first fragment came before the message was complete"
    );
    assert_eq!(opcode, 0x2);
    let mut echoed = first;
    s.write_all(&wire[first_part..]).unwrap();
    loop {
        let (fin, opcode, payload) = read_frame(s);
        assert_eq!(opcode, 0x0, "continuation fragments");
        echoed.extend_from_slice(&payload);
        if fin {
            break;
        }
    }
    assert!(echoed == blob, "{len} bytes echoed byte for byte");
}

#[test]
fn a_large_binary_message_is_echoed_while_it_is_still_arriving() {
    let server = echo_server(Config::default());
    let mut s = open_rfc(server.local_addr(), "/");
    echo_while_sending(&mut s, 4 << 20, 1);
    echo_while_sending(&mut s, 1 << 20, 2);
    s.write_all(&masked(0x8, &close_payload(1000, ""))).unwrap();
    assert_eq!(read_close(&mut s), Some(1000));
}
