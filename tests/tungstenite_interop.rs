//! Interop with tungstenite, a WebSocket implementation nobody on this project wrote.
//!
//! tungstenite's client talks to an in-process stdws server (text, binary, fragmented
//! text, ping, close), and stdws's client talks to a tungstenite server (echo and
//! subprotocol choice). Every payload is unique to the run and compared byte for byte.

mod common;

use common::{echo_server, PATIENCE};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::{SystemTime, UNIX_EPOCH};
use stdws::client::{connect_with, ClientOptions};
use stdws::Config;
use tungstenite::protocol::frame::coding::{CloseCode as TCloseCode, Data, OpCode};
use tungstenite::protocol::frame::Frame;
use tungstenite::protocol::CloseFrame as TCloseFrame;
use tungstenite::Message as TMessage;

/// A string no other run (or test) produces: pid, time and a counter.
fn unique(label: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{label}-{}-{nanos}-{n}", std::process::id())
}

type Client = tungstenite::WebSocket<TcpStream>;

/// A tungstenite client connected to a fresh stdws echo server.
fn tungstenite_client(path: &str) -> (stdws::ServerHandle, Client) {
    let server = echo_server(Config::default());
    let stream = TcpStream::connect(server.local_addr()).unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    stream.set_write_timeout(Some(PATIENCE)).unwrap();
    let url = format!("ws://{}{path}", server.local_addr());
    let (ws, response) = tungstenite::client(url.as_str(), stream).expect("handshake");
    assert_eq!(response.status(), 101);
    (server, ws)
}

/// Closes with 1000 and checks that stdws answers 1000 and then closes TCP.
fn close_cleanly(ws: &mut Client) {
    ws.close(Some(TCloseFrame {
        code: TCloseCode::Normal,
        reason: "done".into(),
    }))
    .unwrap();
    match ws.read() {
        Ok(TMessage::Close(Some(frame))) => assert_eq!(frame.code, TCloseCode::Normal),
        Ok(TMessage::Close(None)) => panic!("stdws answered an empty close to 1000"),
        Ok(other) => panic!("unexpected message while closing: {other:?}"),
        Err(e) => panic!("no close answer: {e}"),
    }
    match ws.read() {
        Err(tungstenite::Error::ConnectionClosed) => {}
        other => panic!("expected the connection to end cleanly, got {other:?}"),
    }
}

#[test]
fn tungstenite_echoes_text_and_binary() {
    let (_server, mut ws) = tungstenite_client("/echo");
    let text = format!("{} héllo wörld ✓", unique("text"));
    ws.send(TMessage::text(text.clone())).unwrap();
    assert_eq!(ws.read().unwrap(), TMessage::text(text));

    let mut blob = unique("binary").into_bytes();
    blob.extend((0..300_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    ws.send(TMessage::binary(blob.clone())).unwrap();
    assert_eq!(ws.read().unwrap(), TMessage::binary(blob));

    ws.send(TMessage::text("")).unwrap();
    assert_eq!(ws.read().unwrap(), TMessage::text(""));
    close_cleanly(&mut ws);
}

#[test]
fn tungstenite_fragmented_text_is_reassembled() {
    let (_server, mut ws) = tungstenite_client("/fragments");
    let whole = format!("{}|€uro|second|third", unique("fragments"));
    // Split inside the 3-byte '€' so the server must validate UTF-8 across frames.
    let euro = whole.find('€').unwrap();
    let (a, rest) = whole.as_bytes().split_at(euro + 1);
    let (b, c) = rest.split_at(rest.len() / 2);
    let frames = [
        Frame::message(a.to_vec(), OpCode::Data(Data::Text), false),
        Frame::message(b.to_vec(), OpCode::Data(Data::Continue), false),
        Frame::message(c.to_vec(), OpCode::Data(Data::Continue), true),
    ];
    for frame in frames {
        ws.write(TMessage::Frame(frame)).unwrap();
    }
    ws.flush().unwrap();
    assert_eq!(ws.read().unwrap(), TMessage::text(whole));
    close_cleanly(&mut ws);
}

#[test]
fn tungstenite_ping_gets_its_pong() {
    let (_server, mut ws) = tungstenite_client("/ping");
    let payload = unique("ping").into_bytes();
    assert!(payload.len() <= 125);
    ws.send(TMessage::Ping(payload.clone().into())).unwrap();
    assert_eq!(ws.read().unwrap(), TMessage::Pong(payload.into()));
    // A message after the ping still echoes: the pong did not disturb the stream.
    let after = unique("after-ping");
    ws.send(TMessage::text(after.clone())).unwrap();
    assert_eq!(ws.read().unwrap(), TMessage::text(after));
    close_cleanly(&mut ws);
}

#[test]
fn tungstenite_sees_a_clean_close_with_1000() {
    let (server, mut ws) = tungstenite_client("/close");
    close_cleanly(&mut ws);
    drop(ws);
    // The connection thread ends once the handshake is over and TCP is closed.
    let deadline = std::time::Instant::now() + PATIENCE;
    while server.active_connections() > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "connection still open"
        );
        thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// A tungstenite echo server for one connection that answers `protocol` (if any).
// The callback's large error type is tungstenite's signature, not ours.
#[allow(clippy::result_large_err)]
fn tungstenite_server(protocol: Option<&'static str>) -> (String, thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/tungstenite", listener.local_addr().unwrap());
    let thread = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        let answer = |_: &tungstenite::handshake::server::Request,
                      mut response: tungstenite::handshake::server::Response| {
            if let Some(p) = protocol {
                response
                    .headers_mut()
                    .insert("Sec-WebSocket-Protocol", p.parse().unwrap());
            }
            Ok(response)
        };
        let mut ws = tungstenite::accept_hdr(stream, answer).expect("server handshake");
        loop {
            match ws.read() {
                Ok(m @ (TMessage::Text(_) | TMessage::Binary(_))) => ws.send(m).unwrap(),
                Ok(_) => {}
                Err(tungstenite::Error::ConnectionClosed) => return,
                Err(e) => panic!("tungstenite server: {e}"),
            }
        }
    });
    (url, thread)
}

#[test]
fn stdws_client_talks_to_a_tungstenite_server() {
    let (url, server) = tungstenite_server(Some("chat"));
    let options = ClientOptions {
        protocols: vec!["superchat".into(), "chat".into()],
        ..ClientOptions::default()
    };
    let connected = connect_with(&url, &options).expect("stdws client handshake");
    assert_eq!(connected.protocol.as_deref(), Some("chat"));
    let mut ws = connected.socket;
    let text = unique("stdws-client");
    ws.send(stdws::Message::text(text.clone())).unwrap();
    assert_eq!(ws.read().unwrap(), stdws::Message::text(text));
    let blob: Vec<u8> = unique("stdws-binary")
        .bytes()
        .cycle()
        .take(100_000)
        .collect();
    ws.send(stdws::Message::binary(blob.clone())).unwrap();
    assert_eq!(ws.read().unwrap(), stdws::Message::binary(blob));
    ws.close(stdws::CloseCode::NORMAL, "").unwrap();
    match ws.read().unwrap() {
        stdws::Message::Close(Some(frame)) => assert_eq!(frame.code, stdws::CloseCode::NORMAL),
        other => panic!("expected tungstenite's close 1000, got {other:?}"),
    }
    server.join().expect("tungstenite server thread");
}
