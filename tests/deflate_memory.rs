//! permessage-deflate's memory settings end to end (RFC 7692 §7.1): what each
//! `ServerPreferences` setting answers, exactly; that with small windows the history
//! still carries from message to message and no distance reaches past 1 KiB; that a
//! handler can send a message plain (RSV1 = 0 on the wire); and what an idle
//! compressing connection holds of the memory budget in each setting. In a binary of
//! its own, as it counts memory.

mod common;

use common::{connect, echo_server, read_response_head, PATIENCE};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};
use stdws::deflate::extension::ServerPreferences;
use stdws::deflate::{Compressor, InflateError, Inflater};
use stdws::{Config, Message, Server, ServerHandle};

const CHROME: &str = "permessage-deflate; client_max_window_bits";
const BARE: &str = "permessage-deflate";

fn config(prefs: ServerPreferences) -> Config {
    Config {
        deflate: Some(prefs),
        log: false,
        ..Config::default()
    }
}

/// A connection upgraded with `offer`: the stream and the server's
/// `Sec-WebSocket-Extensions` line, if any.
fn upgrade(server: &ServerHandle, offer: &str) -> (TcpStream, Option<String>) {
    let mut s = connect(server.local_addr());
    let request = format!(
        "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Extensions: {offer}\r\n\r\n"
    );
    s.write_all(request.as_bytes()).unwrap();
    let (status, head) = read_response_head(&mut s);
    assert_eq!(status, 101, "{head}");
    let answer = head
        .lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Extensions: "))
        .map(str::to_string);
    (s, answer)
}

/// Sends `payload` as a masked text frame, with RSV1 when `compressed`.
fn send(s: &mut TcpStream, payload: &[u8], compressed: bool) {
    assert!(payload.len() < 126);
    let key = [3, 1, 4, 1];
    let mut frame = vec![
        if compressed { 0xC1 } else { 0x81 },
        0x80 | payload.len() as u8,
    ];
    frame.extend_from_slice(&key);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    s.write_all(&frame).unwrap();
}

/// One unfragmented server text frame: whether RSV1 was set, and its payload.
fn receive(s: &mut TcpStream) -> (bool, Vec<u8>) {
    let mut h = [0u8; 2];
    s.read_exact(&mut h).unwrap();
    assert_eq!(h[0] & 0xBF, 0x81, "FIN, text: {h:02x?}");
    assert!(h[1] < 126, "{h:02x?}");
    let mut payload = vec![0; usize::from(h[1])];
    s.read_exact(&mut payload).unwrap();
    (h[0] & 0x40 != 0, payload)
}

/// A chat message as JSON, unique to `seq`.
fn chat(seq: u32) -> Vec<u8> {
    format!(
        r#"{{"type":"message","room":"lobby","user":"ada","seq":{seq},"text":"see you at noon"}}"#
    )
    .into_bytes()
}

#[test]
fn each_setting_answers_exactly() {
    for (prefs, offer, expected) in [
        (ServerPreferences::full(), CHROME, "permessage-deflate"),
        (ServerPreferences::full(), BARE, "permessage-deflate"),
        (
            ServerPreferences::small_windows(),
            CHROME,
            "permessage-deflate; server_max_window_bits=10; client_max_window_bits=10",
        ),
        (
            ServerPreferences::small_windows(),
            BARE,
            "permessage-deflate; client_no_context_takeover; server_max_window_bits=10",
        ),
        (
            ServerPreferences::stateless(),
            CHROME,
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
        ),
        (
            ServerPreferences::stateless(),
            BARE,
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
        ),
    ] {
        let server = echo_server(config(prefs));
        let (_, answer) = upgrade(&server, offer);
        assert_eq!(answer.as_deref(), Some(expected), "{prefs:?} to {offer}");
    }
}

#[test]
fn small_windows_carry_history_and_stay_within_1_kib() {
    let server = echo_server(config(ServerPreferences::small_windows()));
    let (mut s, _) = upgrade(&server, CHROME);
    // An inflater with a 1 KiB window refuses any distance beyond it.
    let mut inflater = Inflater::new(10, true);
    let mut compressor = Compressor::new(10, true);
    // Unique filler bigger than the window between two equal messages: a match
    // reaching back to the first would be more than 1 KiB back.
    let filler: Vec<Vec<u8>> = (0..30)
        .map(|i| format!("{i:03} {}", "zq".repeat(i + 10)).into_bytes())
        .collect();
    let mut sizes = Vec::new();
    for (n, message) in [chat(1), chat(2)]
        .into_iter()
        .chain(filler)
        .chain([chat(1)])
        .enumerate()
    {
        let mut wire = Vec::new();
        compressor.compress_message(&message, &mut wire);
        send(&mut s, &wire, true);
        let (rsv1, payload) = receive(&mut s);
        assert!(rsv1, "message {n} compressed");
        let mut out = Vec::new();
        let inflated = inflater.inflate_message(&payload, &mut out, 1 << 20);
        assert_eq!(inflated, Ok(()), "message {n} within the window");
        assert_eq!(out, message);
        sizes.push(payload.len());
    }
    // The second message refers to the first: far smaller than it.
    assert!(sizes[1] * 2 < sizes[0], "{sizes:?}");
    // And the check can fail: the same echoes through a 256-byte window are refused.
    let mut narrow = Inflater::new(8, true);
    let (mut t, _) = upgrade(&server, CHROME);
    let mut refused = None;
    for message in [
        chat(1),
        b"x".repeat(100),
        b"y".repeat(100),
        b"z".repeat(100),
        chat(1),
    ] {
        let mut wire = Vec::new();
        Compressor::new(10, false).compress_message(&message, &mut wire);
        send(&mut t, &wire, true);
        let (_, payload) = receive(&mut t);
        if let Err(e) = narrow.inflate_message(&payload, &mut Vec::new(), 1 << 20) {
            refused = Some(e);
            break;
        }
    }
    assert_eq!(refused, Some(InflateError::DistanceTooFarBack));
}

#[test]
fn stateless_messages_stand_alone() {
    let server = echo_server(config(ServerPreferences::stateless()));
    let (mut s, _) = upgrade(&server, BARE);
    let mut echoes = Vec::new();
    for _ in 0..2 {
        let mut wire = Vec::new();
        Compressor::new(15, false).compress_message(&chat(7), &mut wire);
        send(&mut s, &wire, true);
        let (rsv1, payload) = receive(&mut s);
        assert!(rsv1);
        // A fresh inflater for each: no history needed.
        let mut out = Vec::new();
        Inflater::new(15, false)
            .inflate_message(&payload, &mut out, 1 << 20)
            .unwrap();
        assert_eq!(out, chat(7));
        echoes.push(payload);
    }
    assert_eq!(echoes[0], echoes[1], "the same message, the same bytes");
}

#[test]
fn a_handler_sends_plain_on_purpose() {
    let server = Server::bind("127.0.0.1:0", config(ServerPreferences::small_windows()))
        .unwrap()
        .on_connection(|mut ws, _| {
            while let Ok(Message::Text(t)) = ws.read() {
                // The secret goes plain; the rest compressed.
                ws.set_compression(!t.starts_with("plain"));
                ws.send(Message::text(format!("{t} token=4f1e8a9c0b2d7e6f")))?;
            }
            Ok(())
        })
        .spawn()
        .unwrap();
    let (mut s, _) = upgrade(&server, CHROME);
    for (text, compressed) in [
        ("compressed, as the others", true),
        ("plain, as it carries a secret", false),
        ("compressed again, afterwards", true),
    ] {
        send(&mut s, text.as_bytes(), false);
        let (rsv1, payload) = receive(&mut s);
        assert_eq!(rsv1, compressed, "{text}");
        let expected = format!("{text} token=4f1e8a9c0b2d7e6f");
        if !compressed {
            assert_eq!(payload, expected.as_bytes());
        }
    }
}

/// What the server's budget holds once `connections` connections have each sent
/// and received two compressed messages, then sit idle.
fn idle_budget(prefs: ServerPreferences, offer: &str, connections: usize) -> usize {
    let server = echo_server(config(prefs));
    let mut open = Vec::new();
    for i in 0..connections {
        let (mut s, answer) = upgrade(&server, offer);
        assert!(answer.is_some());
        for m in 0..2 {
            let message = chat((i * 10 + m) as u32);
            let mut wire = Vec::new();
            Compressor::new(10, false).compress_message(&message, &mut wire);
            send(&mut s, &wire, true);
            assert!(receive(&mut s).0, "the echo is compressed");
        }
        open.push(s);
    }
    // The last echo is out before its writer gives back what it borrowed.
    let started = Instant::now();
    let mut last = usize::MAX;
    loop {
        let used = server.memory_used();
        if used == last || started.elapsed() > PATIENCE {
            return used;
        }
        last = used;
        thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn an_idle_connection_holds_its_history_or_nothing() {
    let n = 20;
    assert_eq!(idle_budget(ServerPreferences::stateless(), CHROME, n), 0);
    let small = idle_budget(ServerPreferences::small_windows(), CHROME, n);
    assert!(
        (n * 2048..n * 2200).contains(&small),
        "1 KiB of history each way: {} per connection",
        small / n
    );
    // Firefox and Safari were asked to reset: only the server's history is kept.
    let bare = idle_budget(ServerPreferences::small_windows(), BARE, n);
    assert!((n * 1024..n * 1100).contains(&bare), "{}", bare / n);
    let full = idle_budget(ServerPreferences::full(), CHROME, n);
    assert!(full > n * 200 * 1024, "{}", full / n);
}
