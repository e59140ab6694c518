//! Shared by the integration tests: a server on an ephemeral 127.0.0.1 port, and a raw
//! peer that writes exact bytes and reads exact frames, so each test can assert what
//! is on the wire.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;
use stdws::{Config, Server, ServerHandle};

/// How long a test waits for an answer before calling it a failure. Generous: the
/// machines are shared, and nothing a test waits for should take more than
/// milliseconds when it works.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// An echo server with `config`, quiet, on an ephemeral port.
pub fn echo_server(config: Config) -> ServerHandle {
    Server::bind(
        "127.0.0.1:0",
        Config {
            log: false,
            ..config
        },
    )
    .expect("bind")
    .spawn()
    .expect("spawn")
}

/// A server running `handler` for every connection, quiet, on an ephemeral port.
pub fn handler_server<F>(handler: F) -> ServerHandle
where
    F: Fn(stdws::WebSocket<stdws::SharedTcpStream>, &stdws::Request) -> stdws::HandlerResult
        + Send
        + Sync
        + 'static,
{
    Server::bind(
        "127.0.0.1:0",
        Config {
            log: false,
            ..Config::default()
        },
    )
    .expect("bind")
    .on_connection(handler)
    .spawn()
    .expect("spawn")
}

/// An echo round trip on a fresh connection, handshake included: how long it took.
pub fn timed_echo(addr: SocketAddr) -> Duration {
    let started = std::time::Instant::now();
    let mut s = open_rfc(addr, "/normal");
    s.write_all(&masked(0x1, b"on time")).unwrap();
    assert_eq!(read_frame(&mut s), (true, 0x1, b"on time".to_vec()));
    started.elapsed()
}

/// A TCP connection to `addr` with read and write timeouts.
pub fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    s.set_write_timeout(Some(PATIENCE)).unwrap();
    s.set_nodelay(true).unwrap();
    s
}

/// A valid RFC 6455 upgrade request for `path`.
pub fn rfc_request(path: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
}

/// The draft's hixie-76 request (without key3), whose answer is `8jKS'y:G*Co,Wxa-`.
pub fn hixie_request(path: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: example.com\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key2: 12998 5 Y3 1  .P00\r\nSec-WebSocket-Protocol: sample\r\n\
         Upgrade: WebSocket\r\nSec-WebSocket-Key1: 4 @1  46546xW%0l 1 5\r\n\
         Origin: http://example.com\r\n\r\n"
    )
}

pub const HIXIE_KEY3: &[u8; 8] = b"^n:ds[4U";
pub const HIXIE_ANSWER: &[u8; 16] = b"8jKS'y:G*Co,Wxa-";

/// Reads an HTTP response head: (status, head text). Stops at the blank line.
pub fn read_response_head(s: &mut TcpStream) -> (u16, String) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match s.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            // A signal landing in the read is not the end of the head.
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            other => panic!(
                "connection ended inside the response head ({other:?}): {:?}",
                String::from_utf8_lossy(&head)
            ),
        }
    }
    let text = String::from_utf8(head).expect("head is text");
    let status = text[9..12].parse().expect("status");
    (status, text)
}

/// Reads a whole HTTP response (head and Content-Length body).
pub fn read_response(s: &mut TcpStream) -> (u16, String, Vec<u8>) {
    let (status, head) = read_response_head(s);
    let len = head
        .lines()
        .find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().unwrap())
        })
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).expect("body");
    (status, head, body)
}

/// Opens an RFC 6455 connection and checks the 101.
pub fn open_rfc(addr: SocketAddr, path: &str) -> TcpStream {
    let mut s = connect(addr);
    s.write_all(rfc_request(path).as_bytes()).unwrap();
    let (status, head) = read_response_head(&mut s);
    assert_eq!(status, 101, "{head}");
    assert!(head.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
    s
}

/// Opens a hixie-76 connection and checks the 101 and the 16-byte answer.
pub fn open_hixie(addr: SocketAddr, path: &str) -> TcpStream {
    let mut s = connect(addr);
    s.write_all(hixie_request(path).as_bytes()).unwrap();
    s.write_all(HIXIE_KEY3).unwrap();
    let (status, head) = read_response_head(&mut s);
    assert_eq!(status, 101, "{head}");
    let mut answer = [0u8; 16];
    s.read_exact(&mut answer).unwrap();
    assert_eq!(&answer, HIXIE_ANSWER);
    s
}

/// A client frame, masked with a fixed key (or unmasked when `mask` is false).
pub fn frame(fin: bool, opcode: u8, payload: &[u8], mask: bool) -> Vec<u8> {
    let key = [0x12, 0x34, 0x56, 0x78];
    let mut out = vec![(if fin { 0x80 } else { 0 }) | opcode];
    let mask_bit = if mask { 0x80 } else { 0 };
    match payload.len() {
        n if n < 126 => out.push(mask_bit | n as u8),
        n if n <= 0xFFFF => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    if mask {
        out.extend_from_slice(&key);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    } else {
        out.extend_from_slice(payload);
    }
    out
}

/// A masked single-frame message.
pub fn masked(opcode: u8, payload: &[u8]) -> Vec<u8> {
    frame(true, opcode, payload, true)
}

/// One server frame: (fin, opcode, payload). Panics if the server masked it.
pub fn read_frame(s: &mut TcpStream) -> (bool, u8, Vec<u8>) {
    let mut h = [0u8; 2];
    s.read_exact(&mut h).expect("frame header");
    assert_eq!(h[1] & 0x80, 0, "server frames must not be masked");
    let len = match h[1] & 0x7F {
        126 => {
            let mut b = [0u8; 2];
            s.read_exact(&mut b).unwrap();
            u16::from_be_bytes(b) as usize
        }
        127 => {
            let mut b = [0u8; 8];
            s.read_exact(&mut b).unwrap();
            u64::from_be_bytes(b) as usize
        }
        n => n as usize,
    };
    let mut payload = vec![0u8; len];
    s.read_exact(&mut payload).expect("frame payload");
    (h[0] & 0x80 != 0, h[0] & 0x0F, payload)
}

/// Reads the server's close frame and returns its code (None for an empty close).
pub fn read_close(s: &mut TcpStream) -> Option<u16> {
    loop {
        let (_, opcode, payload) = read_frame(s);
        if opcode == 0x8 {
            return (payload.len() >= 2).then(|| u16::from_be_bytes([payload[0], payload[1]]));
        }
    }
}

/// Whether the server has closed TCP: the next read sees end of stream (or a reset).
pub fn server_closed(s: &mut TcpStream) -> bool {
    let mut b = [0u8; 64];
    loop {
        match s.read(&mut b) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(_) => return false,
        }
    }
}

/// A close payload: code then reason.
pub fn close_payload(code: u16, reason: &str) -> Vec<u8> {
    let mut p = code.to_be_bytes().to_vec();
    p.extend_from_slice(reason.as_bytes());
    p
}

/// Checks that the server still serves a fresh client: a unique text is echoed.
pub fn assert_still_serving(addr: SocketAddr) {
    let mut s = open_rfc(addr, "/still-serving");
    let text = format!("alive-{:?}", std::time::Instant::now());
    s.write_all(&masked(0x1, text.as_bytes())).unwrap();
    let (fin, opcode, payload) = read_frame(&mut s);
    assert_eq!((fin, opcode, payload), (true, 0x1, text.into_bytes()));
}
