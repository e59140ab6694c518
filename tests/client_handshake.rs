//! The blocking client (`stdws::client`) against the in-process server and against a
//! deliberately wrong fake server: fresh key per connection, fresh mask per frame,
//! `Sec-WebSocket-Accept` verified, subprotocol offer and answer checked, hixie-76's
//! 16-byte answer verified.

mod common;

use common::{echo_server, PATIENCE};
use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use stdws::client::{connect, connect_with, ClientError, ClientOptions};
use stdws::{accept_key, CloseCode, Config, Message, Variant};

/// Reads an HTTP head (up to the blank line) byte by byte, so nothing after it is lost.
fn read_head(s: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut byte).expect("request head");
        head.push(byte[0]);
    }
    String::from_utf8(head).expect("head is text")
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// A fake server for `connections` connections: each request head goes to the
/// channel, then `answer(head, stream)` writes whatever the test wants.
fn fake_server<F>(connections: usize, answer: F) -> (String, mpsc::Receiver<String>)
where
    F: Fn(&str, &mut TcpStream) + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/fake", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for _ in 0..connections {
            let (mut s, _) = listener.accept().unwrap();
            s.set_read_timeout(Some(PATIENCE)).unwrap();
            let head = read_head(&mut s);
            answer(&head, &mut s);
            let _ = tx.send(head);
        }
    });
    (url, rx)
}

/// The correct 101 for an RFC 6455 request, with extra header lines.
fn good_answer(head: &str, extra: &str) -> String {
    let key = header(head, "Sec-WebSocket-Key").expect("client sent a key");
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n{extra}\r\n",
        accept_key(key)
    )
}

/// `key` with its first character changed.
fn one_off(key: &str) -> String {
    let first = if key.starts_with('A') { 'B' } else { 'A' };
    format!("{first}{}", &key[1..])
}

#[test]
fn every_connection_sends_a_fresh_16_byte_key() {
    use base64::Engine;
    let n = 20;
    let (url, heads) = fake_server(n, |head, s| {
        s.write_all(good_answer(head, "").as_bytes()).unwrap();
    });
    let mut keys = HashSet::new();
    for _ in 0..n {
        let connected = connect(&url).expect("handshake with the fake server");
        drop(connected);
        let head = heads.recv_timeout(PATIENCE).unwrap();
        assert!(head.starts_with("GET /fake HTTP/1.1\r\n"), "{head}");
        assert_eq!(header(&head, "Sec-WebSocket-Version"), Some("13"));
        assert_eq!(header(&head, "Upgrade"), Some("websocket"));
        assert_eq!(header(&head, "Connection"), Some("Upgrade"));
        let key = header(&head, "Sec-WebSocket-Key").unwrap().to_string();
        let nonce = base64::engine::general_purpose::STANDARD
            .decode(&key)
            .expect("key is base64");
        assert_eq!(nonce.len(), 16, "{key}");
        assert!(keys.insert(key.clone()), "key {key} was sent twice");
    }
    assert_eq!(keys.len(), n);
}

#[test]
fn every_frame_is_masked_with_a_fresh_key() {
    let frames = 50;
    let (tx, rx) = mpsc::channel();
    let (url, _heads) = fake_server(1, move |head, s| {
        s.write_all(good_answer(head, "").as_bytes()).unwrap();
        let mut seen = Vec::new();
        for _ in 0..frames {
            let mut h = [0u8; 2];
            s.read_exact(&mut h).unwrap();
            assert_eq!(h[0], 0x81, "FIN + text");
            assert_eq!(h[1] & 0x80, 0x80, "client frames must be masked");
            let len = (h[1] & 0x7F) as usize;
            assert!(len < 126);
            let mut key = [0u8; 4];
            s.read_exact(&mut key).unwrap();
            let mut payload = vec![0u8; len];
            s.read_exact(&mut payload).unwrap();
            for (i, b) in payload.iter_mut().enumerate() {
                *b ^= key[i % 4];
            }
            seen.push((key, String::from_utf8(payload).unwrap()));
        }
        tx.send(seen).unwrap();
    });
    let mut ws = connect(&url).unwrap().socket;
    let sent: Vec<String> = (0..frames).map(|i| format!("frame {i} of a run")).collect();
    for text in &sent {
        ws.send(Message::text(text.clone())).unwrap();
    }
    let seen = rx
        .recv_timeout(PATIENCE)
        .expect("fake server read every frame");
    let texts: Vec<String> = seen.iter().map(|(_, t)| t.clone()).collect();
    assert_eq!(texts, sent, "unmasked payloads equal what was sent");
    let keys: HashSet<[u8; 4]> = seen.iter().map(|(k, _)| *k).collect();
    // 50 random 32-bit keys: a repeat has probability ~3e-7.
    assert_eq!(keys.len(), frames, "a masking key was reused");
    assert!(!keys.contains(&[0, 0, 0, 0]));
}

#[test]
fn a_wrong_accept_value_is_refused() {
    // The RFC's example accept value: right for the RFC's key, wrong for ours.
    let (url, _heads) = fake_server(1, |_, s| {
        s.write_all(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
        )
        .unwrap();
    });
    assert!(matches!(connect(&url), Err(ClientError::BadAccept(_))));
    // No accept at all.
    let (url, _heads) = fake_server(1, |_, s| {
        s.write_all(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
        )
        .unwrap();
    });
    assert!(matches!(connect(&url), Err(ClientError::BadAccept(_))));
    // The accept of a key one character off is wrong too.
    let (url, _heads) = fake_server(1, |head, s| {
        let key = header(head, "Sec-WebSocket-Key").unwrap();
        let answer = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {}\r\n\r\n",
            accept_key(&one_off(key))
        );
        s.write_all(answer.as_bytes()).unwrap();
    });
    assert!(matches!(connect(&url), Err(ClientError::BadAccept(_))));
}

#[test]
fn an_answer_that_does_not_upgrade_is_refused() {
    let (url, _heads) = fake_server(1, |head, s| {
        let key = header(head, "Sec-WebSocket-Key").unwrap();
        let answer = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {}\r\n\r\n",
            accept_key(key)
        );
        s.write_all(answer.as_bytes()).unwrap();
    });
    assert!(matches!(connect(&url), Err(ClientError::NotUpgraded)));

    let (url, _heads) = fake_server(1, |_, s| {
        s.write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            .unwrap();
    });
    assert!(matches!(connect(&url), Err(ClientError::Status(403, _))));

    let (url, _heads) = fake_server(1, |_, s| {
        s.write_all(b"SSH-2.0-OpenSSH_9.2\r\n\r\n").unwrap();
    });
    assert!(matches!(connect(&url), Err(ClientError::Head(_))));
}

#[test]
fn a_subprotocol_that_was_not_offered_is_refused() {
    let (url, heads) = fake_server(1, |head, s| {
        s.write_all(good_answer(head, "Sec-WebSocket-Protocol: superchat\r\n").as_bytes())
            .unwrap();
    });
    let options = ClientOptions {
        protocols: vec!["chat".into(), "v2.chat".into()],
        ..ClientOptions::default()
    };
    match connect_with(&url, &options) {
        Err(ClientError::BadProtocol(p)) => assert_eq!(p, "superchat"),
        other => panic!("expected BadProtocol, got {other:?}"),
    }
    let head = heads.recv_timeout(PATIENCE).unwrap();
    assert_eq!(
        header(&head, "Sec-WebSocket-Protocol"),
        Some("chat, v2.chat")
    );

    // A protocol answered when none was offered is as wrong.
    let (url, heads) = fake_server(1, |head, s| {
        s.write_all(good_answer(head, "Sec-WebSocket-Protocol: chat\r\n").as_bytes())
            .unwrap();
    });
    assert!(matches!(connect(&url), Err(ClientError::BadProtocol(_))));
    let head = heads.recv_timeout(PATIENCE).unwrap();
    assert_eq!(header(&head, "Sec-WebSocket-Protocol"), None);
}

#[test]
fn an_extension_that_was_not_offered_is_refused() {
    let (url, _heads) = fake_server(1, |head, s| {
        s.write_all(
            good_answer(head, "Sec-WebSocket-Extensions: permessage-deflate\r\n").as_bytes(),
        )
        .unwrap();
    });
    match connect(&url) {
        Err(ClientError::BadExtension(e)) => assert_eq!(e, "permessage-deflate"),
        other => panic!("expected BadExtension, got {other:?}"),
    }
}

#[test]
fn options_that_would_break_the_request_are_refused_before_sending() {
    let protocols = |p: &[&str]| ClientOptions {
        protocols: p.iter().map(|s| s.to_string()).collect(),
        ..ClientOptions::default()
    };
    let bad = [
        protocols(&["a b"]),
        protocols(&["x\r\nEvil: 1"]),
        protocols(&[""]),
        protocols(&["p", "p"]),
        ClientOptions {
            origin: Some("http://a\r\nX: y".into()),
            ..ClientOptions::default()
        },
    ];
    for options in bad {
        // The listener never accepts: the error comes before a byte is sent.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("ws://{}/", listener.local_addr().unwrap());
        assert!(
            matches!(connect_with(&url, &options), Err(ClientError::BadOption(_))),
            "{options:?}"
        );
    }
}

#[test]
fn subprotocol_negotiation_with_the_stdws_server() {
    let server = echo_server(Config {
        protocols: vec!["chat".into(), "superchat".into()],
        ..Config::default()
    });
    let url = format!("ws://{}/neg", server.local_addr());
    let offer = |p: &[&str]| ClientOptions {
        protocols: p.iter().map(|s| s.to_string()).collect(),
        ..ClientOptions::default()
    };
    // The server answers the first offered protocol it speaks.
    let c = connect_with(&url, &offer(&["v9", "superchat", "chat"])).unwrap();
    assert_eq!(c.protocol.as_deref(), Some("superchat"));
    assert_eq!(
        c.response.header("Sec-WebSocket-Protocol"),
        Some("superchat")
    );
    // Nothing in common: no protocol answered, which the client accepts (§4.1).
    let c = connect_with(&url, &offer(&["v9"])).unwrap();
    assert_eq!(c.protocol, None);
    // Nothing offered: nothing answered.
    let c = connect(&url).unwrap();
    assert_eq!(c.protocol, None);
}

#[test]
fn client_and_server_echo_and_close_cleanly() {
    let server = echo_server(Config::default());
    let url = format!("ws://{}/client", server.local_addr());
    let unique = format!(
        "client-{}-{:?}",
        std::process::id(),
        std::time::Instant::now()
    );
    let mut ws = connect(&url).unwrap().socket;
    ws.send(Message::text(unique.clone())).unwrap();
    assert_eq!(ws.read().unwrap(), Message::text(unique.clone()));
    let blob: Vec<u8> = unique.bytes().cycle().take(200_000).collect();
    ws.send(Message::binary(blob.clone())).unwrap();
    assert_eq!(ws.read().unwrap(), Message::binary(blob));
    ws.send(Message::Ping(b"are you there".to_vec())).unwrap();
    assert_eq!(ws.read().unwrap(), Message::Pong(b"are you there".to_vec()));
    ws.close(CloseCode::NORMAL, "bye").unwrap();
    match ws.read().unwrap() {
        Message::Close(Some(c)) => assert_eq!(c.code, CloseCode::NORMAL),
        other => panic!("expected close 1000, got {other:?}"),
    }
    assert!(matches!(ws.read(), Err(stdws::Error::Closed)));
    assert_eq!(ws.close_state().sent(), Some(Some(CloseCode::NORMAL)));
    assert_eq!(ws.close_state().received(), Some(Some(CloseCode::NORMAL)));
}

#[test]
fn hixie76_client_against_the_stdws_server() {
    let server = echo_server(Config::default());
    let url = format!("ws://{}/old", server.local_addr());
    let options = ClientOptions {
        variant: Variant::Hixie76,
        origin: Some("http://example.com".into()),
        ..ClientOptions::default()
    };
    for i in 0..5 {
        let connected = connect_with(&url, &options).expect("hixie-76 handshake");
        assert_eq!(
            connected.response.header("Sec-WebSocket-Location"),
            Some(format!("ws://{}/old", server.local_addr()).as_str())
        );
        assert_eq!(
            connected.response.header("Sec-WebSocket-Origin"),
            Some("http://example.com")
        );
        let mut ws = connected.socket;
        let text = format!("hixie {i} ünïcode");
        ws.send(Message::text(text.clone())).unwrap();
        assert_eq!(ws.read().unwrap(), Message::text(text));
        assert!(matches!(
            ws.send(Message::binary(vec![1])),
            Err(stdws::Error::BinaryOnHixie76)
        ));
        ws.send(Message::Close(None)).unwrap();
        assert_eq!(ws.read().unwrap(), Message::Close(None));
    }
}

#[test]
fn a_wrong_hixie76_answer_is_refused() {
    let (url, heads) = fake_server(1, |_, s| {
        let mut key3 = [0u8; 8];
        s.read_exact(&mut key3).unwrap();
        s.write_all(
            b"HTTP/1.1 101 WebSocket Protocol Handshake\r\nUpgrade: WebSocket\r\n\
              Connection: Upgrade\r\n\r\n0123456789abcdef",
        )
        .unwrap();
    });
    let options = ClientOptions {
        variant: Variant::Hixie76,
        ..ClientOptions::default()
    };
    assert!(matches!(
        connect_with(&url, &options),
        Err(ClientError::BadAccept(_))
    ));
    let head = heads.recv_timeout(PATIENCE).unwrap();
    for key in ["Sec-WebSocket-Key1", "Sec-WebSocket-Key2"] {
        let value = header(&head, key).expect("both hixie-76 keys sent");
        assert!(
            stdws::handshake::hixie76::key_number(value).is_ok(),
            "{value:?}"
        );
    }
    assert_eq!(header(&head, "Origin"), Some("null"));
}
