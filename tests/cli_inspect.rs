//! The inspector's server side, driven as the page drives it but with the library's
//! client: the report channel's token, the handshake report checked against the
//! request that was sent, frame reports whose wire bytes unmask to what was sent,
//! the server's ping and the pong, a close code answered, in echo, broadcast and exec
//! modes; and no report about anyone else's connection. (The page itself runs in
//! Chromium in scripts/interop-test.sh.)

mod cli_support;

use cli_support::Stdws;
use std::net::TcpStream;
use std::time::{Duration, SystemTime};
use stdws::client::connect;
use stdws::{CloseCode, Message, WebSocket};

type Ws = WebSocket<TcpStream>;

/// A token no other run shares.
fn unique() -> String {
    let t = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap();
    format!("{}-{}", std::process::id(), t.subsec_nanos())
}

/// The value of `"name":` in a flat JSON object: a string's raw text or a number.
fn field(json: &str, name: &str) -> Option<String> {
    let start = json.find(&format!("\"{name}\":"))? + name.len() + 3;
    let rest = &json[start..];
    Some(match rest.strip_prefix('"') {
        Some(s) => s[..s.find('"')?].to_string(),
        None => rest[..rest.find([',', '}'])?].to_string(),
    })
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

fn next_text(ws: &mut Ws) -> String {
    loop {
        match ws.read().expect("a report") {
            Message::Text(t) => return t,
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
}

/// Every report up to the next frame report whose `dir` and `name` match, that one
/// last.
fn reports_until(report: &mut Ws, dir: &str, name: &str) -> Vec<String> {
    let mut seen = Vec::new();
    loop {
        let r = next_text(report);
        let found =
            field(&r, "dir").as_deref() == Some(dir) && field(&r, "name").as_deref() == Some(name);
        seen.push(r);
        if found {
            return seen;
        }
    }
}

/// The next frame report whose `dir` and `name` match.
fn next_frame(report: &mut Ws, dir: &str, name: &str) -> String {
    reports_until(report, dir, name).pop().unwrap()
}

/// A report channel, the subject connection that presented its token, the
/// handshake report, and the token.
fn inspected(server: &Stdws, path: &str) -> (Ws, Ws, String, String) {
    let mut report = connect(&format!("ws://{}/.stdws/events", server.addr))
        .unwrap()
        .socket;
    report
        .get_ref()
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let token_message = next_text(&mut report);
    let token = field(&token_message, "token").expect("a token first");
    assert_eq!(token.len(), 32, "{token_message}");
    let url = format!("ws://{}{path}?inspect={token}", server.addr);
    let subject = connect(&url).unwrap().socket;
    subject
        .get_ref()
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let handshake = next_text(&mut report);
    assert_eq!(field(&handshake, "type").as_deref(), Some("handshake"));
    (report, subject, handshake, token)
}

/// Sends `text`, and checks the report of it: masked on the wire with the key shown,
/// and the payload unmasked.
fn sent_is_reported(report: &mut Ws, subject: &mut Ws, text: &str) {
    subject.send(Message::text(text)).unwrap();
    let r = next_frame(report, "in", "text");
    assert_eq!(field(&r, "mask").as_deref(), Some("1"), "{r}");
    assert_eq!(field(&r, "len"), Some(text.len().to_string()));
    let key = hex_bytes(&field(&r, "key").unwrap());
    let mut wire = hex_bytes(&field(&r, "wire").unwrap());
    assert_ne!(wire, text.as_bytes(), "masked on the wire");
    for (i, b) in wire.iter_mut().enumerate() {
        *b ^= key[i % 4];
    }
    assert_eq!(wire, text.as_bytes());
    assert_eq!(hex_bytes(&field(&r, "data").unwrap()), text.as_bytes());
    assert_eq!(field(&r, "text").as_deref(), Some(text));
}

/// The server's ping and the client's pong, then a close code answered in kind.
fn ping_and_close(report: &mut Ws, subject: &mut Ws) {
    report.send(Message::text("ping")).unwrap();
    next_frame(report, "out", "ping");
    assert!(matches!(subject.read().unwrap(), Message::Ping(_)));
    next_frame(report, "in", "pong");
    subject.close(CloseCode(4321), "bye").unwrap();
    let r = next_frame(report, "in", "close");
    assert_eq!(field(&r, "code").as_deref(), Some("4321"), "{r}");
    assert_eq!(field(&r, "text").as_deref(), Some("bye"));
    let r = next_frame(report, "out", "close");
    assert_eq!(field(&r, "code").as_deref(), Some("4321"), "{r}");
    assert_eq!(
        field(&r, "meaning").as_deref(),
        Some("private use (4000-4999)")
    );
}

#[test]
fn echo_mode_reports_its_own_connection_and_no_other() {
    let server = Stdws::start(&[]);
    let (mut report, mut subject, handshake, token) = inspected(&server, "/");
    let head = field(&handshake, "head").unwrap();
    let key = head
        .split("\\r\\n")
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
        .expect("the key in the head");
    let answer = field(&handshake, "answer").unwrap();
    assert!(
        answer.contains(&format!("Sec-WebSocket-Accept: {}", stdws::accept_key(key))),
        "{answer}"
    );
    assert!(handshake.contains("\"5. base64 of those 20 bytes\""));

    // Another page: its own token, and only its own frames.
    let (mut other_report, mut other, _, _) = inspected(&server, "/");
    let mine = format!("mine {}", unique());
    sent_is_reported(&mut report, &mut subject, &mine);
    assert_eq!(subject.read().unwrap(), Message::text(&mine));
    next_frame(&mut report, "out", "text");
    let theirs = format!("theirs {}", unique());
    sent_is_reported(&mut other_report, &mut other, &theirs);
    assert_eq!(other.read().unwrap(), Message::text(&theirs));
    let seen = next_frame(&mut other_report, "out", "text");
    assert!(!seen.contains("mine"), "{seen}");

    // The token is spent: a connection presenting it again is served, not reported.
    let mut intruder = connect(&format!("ws://{}/?inspect={token}", server.addr))
        .unwrap()
        .socket;
    let secret = format!("intruder {}", unique());
    intruder.send(Message::text(&secret)).unwrap();
    assert_eq!(intruder.read().unwrap(), Message::text(&secret));
    let marker = format!("marker {}", unique());
    subject.send(Message::text(&marker)).unwrap();
    for r in reports_until(&mut report, "in", "text") {
        assert!(!r.contains("intruder") && !r.contains("handshake"), "{r}");
    }
    assert_eq!(subject.read().unwrap(), Message::text(&marker));
    ping_and_close(&mut report, &mut subject);
    ping_and_close(&mut other_report, &mut other);
}

#[test]
fn broadcast_and_exec_modes_are_inspected_too() {
    let server = Stdws::start(&["--broadcast"]);
    let (mut report, mut subject, _, _) = inspected(&server, "/room");
    sent_is_reported(
        &mut report,
        &mut subject,
        &format!("to the room {}", unique()),
    );
    ping_and_close(&mut report, &mut subject);

    let server = Stdws::start(&["--", "cat"]);
    let (mut report, mut subject, _, _) = inspected(&server, "/");
    let line = format!("to cat {}", unique());
    sent_is_reported(&mut report, &mut subject, &line);
    assert_eq!(subject.read().unwrap(), Message::text(&line));
    let r = next_frame(&mut report, "out", "text");
    assert_eq!(field(&r, "text").as_deref(), Some(line.as_str()));
    ping_and_close(&mut report, &mut subject);
}
