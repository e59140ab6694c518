//! permessage-deflate (RFC 7692) end to end: the server's answers to offers, exact
//! to the byte; stdws's client against stdws's server with compressed frames seen on
//! the wire; the client refusing answers it may not accept; the memory budget drawn
//! for the compression state and given back when the connection ends.

mod common;

use common::{connect, echo_server, read_frame, read_response_head, PATIENCE};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Instant;
use stdws::client::{connect_with, ClientError, ClientOptions};
use stdws::deflate::extension::ServerPreferences;
use stdws::deflate::{Compressor, Inflater};
use stdws::tap::Direction;
use stdws::{accept_key, Config, Message, Server};

fn deflating() -> Config {
    Config {
        deflate: Some(ServerPreferences::default()),
        ..Config::default()
    }
}

/// The server's 101 to an upgrade with these `Sec-WebSocket-Extensions` lines:
/// the answer's extension lines, in order.
fn answered(config: Config, offers: &[&str]) -> Vec<String> {
    let server = echo_server(config);
    let mut s = connect(server.local_addr());
    let mut request = "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                       Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        .to_string();
    for offer in offers {
        request.push_str(&format!("Sec-WebSocket-Extensions: {offer}\r\n"));
    }
    request.push_str("\r\n");
    s.write_all(request.as_bytes()).unwrap();
    let (status, head) = read_response_head(&mut s);
    assert_eq!(status, 101, "a bad offer never fails the handshake: {head}");
    head.lines()
        .filter(|l| {
            l.to_ascii_lowercase()
                .starts_with("sec-websocket-extensions")
        })
        .map(str::to_string)
        .collect()
}

#[test]
fn offers_are_answered_exactly_or_declined_without_a_header() {
    let ext = |v: &str| vec![format!("Sec-WebSocket-Extensions: {v}")];
    let none: Vec<String> = Vec::new();
    // Chrome's offer, and the bare one of Firefox and Safari.
    assert_eq!(
        answered(deflating(), &["permessage-deflate; client_max_window_bits"]),
        ext("permessage-deflate")
    );
    assert_eq!(
        answered(deflating(), &["permessage-deflate"]),
        ext("permessage-deflate")
    );
    // Autobahn 13.3's shape.
    assert_eq!(
        answered(
            deflating(),
            &["permessage-deflate; server_max_window_bits=9; client_no_context_takeover"]
        ),
        ext("permessage-deflate; server_max_window_bits=9")
    );
    assert_eq!(
        answered(
            deflating(),
            &["permessage-deflate; server_no_context_takeover"]
        ),
        ext("permessage-deflate; server_no_context_takeover")
    );
    // Bad offers are declined, never failed, never answered with an empty header.
    for bad in [
        "permessage-deflate; server_max_window_bits",
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; client_max_window_bits=08",
        "permessage-deflate; unknown",
        "permessage-deflate; server_no_context_takeover=1",
        "x-webkit-deflate-frame",
        "permessage-deflate; a=\"unterminated",
    ] {
        assert_eq!(answered(deflating(), &[bad]), none, "{bad}");
    }
    // The next acceptable offer, on the same line or the next.
    assert_eq!(
        answered(
            deflating(),
            &["permessage-deflate; foo, permessage-deflate; client_max_window_bits=10"]
        ),
        ext("permessage-deflate; client_max_window_bits=10")
    );
    assert_eq!(
        answered(
            deflating(),
            &[
                "x-webkit-deflate-frame",
                "permessage-deflate; server_max_window_bits=12"
            ]
        ),
        ext("permessage-deflate; server_max_window_bits=12")
    );
    // Off by default: every offer declined.
    assert_eq!(answered(Config::default(), &["permessage-deflate"]), none);
}

/// Every frame event the server's tap saw: (direction, opcode, rsv1).
type Seen = Arc<Mutex<Vec<(Direction, &'static str, bool)>>>;

fn tapped_server(config: Config) -> (stdws::ServerHandle, Seen) {
    let seen: Seen = Arc::default();
    let log = seen.clone();
    let server = Server::bind(
        "127.0.0.1:0",
        Config {
            log: false,
            ..config
        },
    )
    .unwrap()
    .on_connection(|ws, _| Ok(stdws::echo(ws)?))
    .on_frame(move |_, e| {
        log.lock()
            .unwrap()
            .push((e.direction, e.opcode, e.rsv & 0b100 != 0))
    })
    .spawn()
    .unwrap();
    (server, seen)
}

#[test]
fn client_and_server_compress_both_ways() {
    let (server, seen) = tapped_server(deflating());
    let url = format!("ws://{}/", server.local_addr());
    let options = ClientOptions {
        deflate: true,
        ..ClientOptions::default()
    };
    let connected = connect_with(&url, &options).unwrap();
    assert_eq!(connected.deflate, Some(Default::default()));
    let mut ws = connected.socket;
    let json = r#"{"user":"ada","text":"the same words again and again and again"}"#;
    let noise: Vec<u8> = (0..50_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let messages = [
        Message::text(json),
        Message::text(json),
        Message::text("short"),
        Message::binary(vec![0; 200_000]),
        Message::binary(noise),
        Message::text("é".repeat(40_000)),
    ];
    for m in &messages {
        ws.send(m.clone()).unwrap();
        assert_eq!(&ws.read().unwrap(), m);
    }
    // A message sent plain on purpose, and an uncompressed one still read.
    ws.set_compression(false);
    ws.send(Message::text(json)).unwrap();
    assert_eq!(ws.read().unwrap(), Message::text(json));
    ws.close(stdws::CloseCode::NORMAL, "").unwrap();
    let _ = ws.read();
    let seen = seen.lock().unwrap().clone();
    let data: Vec<_> = seen
        .iter()
        .filter(|(_, op, _)| *op == "text" || *op == "binary")
        .collect();
    let rsv1 = |dir| {
        data.iter()
            .filter(|(d, _, _)| *d == dir)
            .map(|e| e.2)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        rsv1(Direction::In),
        [true, true, false, true, true, true, false],
        "the client compresses all but the short and the deliberate plain one"
    );
    assert_eq!(
        rsv1(Direction::Out),
        [true, true, false, true, true, true, true],
        "the server compresses its echoes but the short one"
    );
    assert!(seen
        .iter()
        .all(|(_, op, r)| !r || *op == "text" || *op == "binary"));
}

#[test]
fn compressed_frames_are_smaller_on_the_wire() {
    let server = echo_server(deflating());
    let mut s = connect(server.local_addr());
    s.write_all(
        b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
          Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
    )
    .unwrap();
    let (_, head) = read_response_head(&mut s);
    assert!(head.contains("\r\nSec-WebSocket-Extensions: permessage-deflate\r\n"));
    let text = "compress me, ".repeat(100);
    let mut compressor = Compressor::new(15, true);
    let mut inflater = Inflater::new(15, true);
    for _ in 0..3 {
        let mut payload = Vec::new();
        compressor.compress_message(text.as_bytes(), &mut payload);
        let mut frame = vec![0xC1];
        frame.extend(masked_len_and_payload(&payload));
        s.write_all(&frame).unwrap();
        let mut first = [0u8; 2];
        s.read_exact(&mut first).unwrap();
        assert_eq!(first[0], 0xC1, "FIN, RSV1, text");
        let len = usize::from(first[1]);
        assert!(len < 60, "{} bytes became {len}", text.len());
        let mut wire = vec![0u8; len];
        s.read_exact(&mut wire).unwrap();
        let mut out = Vec::new();
        inflater.inflate_message(&wire, &mut out, 1 << 20).unwrap();
        assert_eq!(out, text.as_bytes());
    }
    // A plain message on the same connection comes back.
    s.write_all(&common::masked(0x1, b"plain")).unwrap();
    assert_eq!(read_frame(&mut s), (true, 0x1, b"plain".to_vec()));
}

/// A masked payload after its first byte: the length and key, then the bytes.
fn masked_len_and_payload(payload: &[u8]) -> Vec<u8> {
    assert!(payload.len() < 126);
    let key = [9, 8, 7, 6];
    let mut out = vec![0x80 | payload.len() as u8];
    out.extend_from_slice(&key);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    out
}

#[test]
fn compression_state_is_drawn_from_the_budget_and_given_back() {
    let server = echo_server(deflating());
    let url = format!("ws://{}/", server.local_addr());
    let options = ClientOptions {
        deflate: true,
        ..ClientOptions::default()
    };
    let mut ws = connect_with(&url, &options).unwrap().socket;
    assert_eq!(server.memory_used(), 0, "nothing before the first message");
    let text = Message::text("x".repeat(1000));
    ws.send(text.clone()).unwrap();
    assert_eq!(ws.read().unwrap(), text);
    let used = server.memory_used();
    assert!(
        (200 * 1024..400 * 1024).contains(&used),
        "an inflater and a compressor at 32 KiB windows: {used}"
    );
    ws.close(stdws::CloseCode::NORMAL, "").unwrap();
    let _ = ws.read();
    drop(ws);
    let started = Instant::now();
    while server.memory_used() != 0 {
        assert!(
            started.elapsed() < PATIENCE,
            "{} still held",
            server.memory_used()
        );
        thread::sleep(std::time::Duration::from_millis(10));
    }
}

#[test]
fn a_full_budget_fails_a_compressed_message_with_1013() {
    let server = echo_server(Config {
        memory_budget: 16 * 1024,
        memory_wait: std::time::Duration::from_millis(10),
        ..deflating()
    });
    let url = format!("ws://{}/", server.local_addr());
    let options = ClientOptions {
        deflate: true,
        ..ClientOptions::default()
    };
    let mut ws = connect_with(&url, &options).unwrap().socket;
    ws.send(Message::text("y".repeat(100))).unwrap();
    match ws.read() {
        Ok(Message::Close(Some(c))) => assert_eq!(c.code.0, 1013),
        other => panic!("expected close 1013, got {other:?}"),
    }
}

/// A fake server answering the client's offer with `extensions`.
fn answer_with(extensions: &'static str) -> Result<(), ClientError> {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    let server = thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            s.read_exact(&mut byte).unwrap();
            head.push(byte[0]);
        }
        let head = String::from_utf8(head).unwrap();
        assert!(head.contains(
            "\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
        ));
        let key = head
            .lines()
            .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
            .unwrap();
        let answer = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {}\r\n{extensions}\r\n",
            accept_key(key)
        );
        s.write_all(answer.as_bytes()).unwrap();
    });
    let options = ClientOptions {
        deflate: true,
        ..ClientOptions::default()
    };
    let result = connect_with(&url, &options).map(|_| ());
    server.join().unwrap();
    result
}

#[test]
fn the_client_checks_the_answer_strictly() {
    assert!(answer_with("").is_ok(), "declined: plain messages");
    assert!(answer_with("Sec-WebSocket-Extensions: permessage-deflate\r\n").is_ok());
    assert!(answer_with(
        "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=9; \
         server_max_window_bits=8; server_no_context_takeover\r\n"
    )
    .is_ok());
    for bad in [
        "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n",
        "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=16\r\n",
        "Sec-WebSocket-Extensions: x-webkit-deflate-frame\r\n",
        "Sec-WebSocket-Extensions: permessage-deflate, permessage-deflate\r\n",
        "Sec-WebSocket-Extensions: permessage-deflate\r\nSec-WebSocket-Extensions: permessage-deflate\r\n",
        "Sec-WebSocket-Extensions: permessage-deflate; mystery\r\n",
    ] {
        assert!(
            matches!(answer_with(bad), Err(ClientError::BadExtension(_))),
            "{bad}"
        );
    }
}
