//! Faults over time: graceful shutdown with connections in every state, and keepalive
//! (a silent peer is pinged, then dropped; a busy peer that never answers pings is
//! not). 127.0.0.1 only; every wait is bounded.

mod common;

use common::*;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use stdws::Config;

/// Reads until the server closes TCP; returns what arrived.
fn rest_of_stream(s: &mut TcpStream) -> Vec<u8> {
    let mut all = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return all,
            Ok(n) => all.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return all,
            Err(e) => panic!("the server did not close the connection: {e}"),
        }
    }
}

/// Close 1001 with its reason: what a peer that stays silent after a ping gets.
const NO_ANSWER_CLOSE: &[u8] = b"\x88\x13\x03\xe9no answer to ping";

#[test]
fn shutdown_says_1001_to_everyone_and_does_not_wait_for_a_blocked_writer() {
    let server = echo_server(Config::default());
    let addr = server.local_addr();
    let mut rfc = open_rfc(addr, "/idle");
    let mut hixie = open_hixie(addr, "/idle");
    let mut half_head = connect(addr);
    half_head.write_all(b"GET / HTTP/1.1\r\nHo").unwrap();
    // A client that never reads while its echo is being written: that handler is
    // blocked in a write (the default write timeout is 30 s).
    let mut stalled = open_rfc(addr, "/stalled");
    stalled
        .set_write_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let blob = masked(0x2, &vec![7; 256 * 1024]);
    for _ in 0..400 {
        if stalled.write_all(&blob).is_err() {
            break;
        }
    }
    let until = Instant::now() + PATIENCE;
    while server.active_connections() < 4 && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(server.active_connections(), 4);

    let grace = Duration::from_millis(700);
    let started = Instant::now();
    server.shutdown(grace);
    let took = started.elapsed();
    eprintln!(
        "shutdown: returned after {} ms (grace {} ms)",
        took.as_millis(),
        grace.as_millis()
    );
    // Far below the blocked writer's 30 s write timeout: shutdown did not wait for it.
    assert!(took < grace + Duration::from_secs(8), "{took:?}");

    assert_eq!(read_close(&mut rfc), Some(1001));
    assert!(server_closed(&mut rfc));
    assert_eq!(rest_of_stream(&mut hixie), [0xFF, 0x00]);
    assert_eq!(
        rest_of_stream(&mut half_head),
        b"",
        "a handshake in progress ends unanswered"
    );
    rest_of_stream(&mut stalled);
    let refused = TcpStream::connect_timeout(&addr, Duration::from_secs(2));
    assert!(refused.is_err(), "the listener is closed");
}

#[test]
fn a_silent_peer_is_pinged_then_dropped_and_a_pong_keeps_it() {
    // Long enough that a loaded machine answers each ping in time.
    let interval = Duration::from_millis(1000);
    let server = echo_server(Config {
        ping_interval: Some(interval),
        ..Config::default()
    });
    let mut s = open_rfc(server.local_addr(), "/quiet");
    for _ in 0..3 {
        assert_eq!(
            read_frame(&mut s),
            (true, 0x9, Vec::new()),
            "a keepalive ping"
        );
        s.write_all(&masked(0xA, b"")).unwrap();
    }
    s.write_all(&masked(0x1, b"still open")).unwrap();
    loop {
        let (_, opcode, payload) = read_frame(&mut s);
        if opcode == 0x1 {
            assert_eq!(payload, b"still open");
            break;
        }
        assert_eq!(opcode, 0x9);
        s.write_all(&masked(0xA, b"")).unwrap();
    }
    // Now silence: one more ping after an interval, then after another the server
    // gives up, with a close frame: 1001 and the reason.
    let started = Instant::now();
    assert_eq!(read_frame(&mut s), (true, 0x9, Vec::new()));
    assert_eq!(
        rest_of_stream(&mut s),
        NO_ANSWER_CLOSE,
        "closed with 1001, then dropped"
    );
    eprintln!(
        "keepalive: silent peer dropped {} ms after it fell silent (interval {} ms)",
        started.elapsed().as_millis(),
        interval.as_millis()
    );
}

#[test]
fn a_busy_peer_that_never_answers_pings_is_kept() {
    // Over TCP: it sends well within each interval and ignores everything else, for
    // several intervals. (The exact rule, ping then data then ping, is checked
    // without a clock below.)
    let interval = Duration::from_millis(900);
    let server = echo_server(Config {
        ping_interval: Some(interval),
        ..Config::default()
    });
    let mut s = open_rfc(server.local_addr(), "/busy");
    for i in 0..12 {
        std::thread::sleep(interval / 3);
        let text = format!("message {i}");
        s.write_all(&masked(0x1, text.as_bytes())).unwrap();
        loop {
            match read_frame(&mut s) {
                (true, 0x9, _) => {}
                (true, 0x1, payload) => {
                    assert_eq!(payload, text.as_bytes());
                    break;
                }
                other => panic!("unexpected frame {other:?}"),
            }
        }
    }
    s.write_all(&masked(0x8, &close_payload(1000, ""))).unwrap();
    assert_eq!(read_close(&mut s), Some(1000));
}

/// A scripted peer: each read gets the next step's bytes, or a read timeout.
struct Script {
    steps: std::collections::VecDeque<Option<Vec<u8>>>,
    written: Vec<u8>,
}

impl Read for Script {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self.steps.pop_front() {
            Some(Some(bytes)) => {
                buf[..bytes.len()].copy_from_slice(&bytes);
                Ok(bytes.len())
            }
            Some(None) => Err(ErrorKind::TimedOut.into()),
            None => Ok(0),
        }
    }
}

impl Write for Script {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.written.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn keepalive_rule_any_byte_after_a_ping_counts_two_silent_intervals_do_not() {
    use stdws::{Error, Message, Role, Variant, WebSocket};
    const PING: [u8; 2] = [0x89, 0x00];
    let timeout = None;
    let data = |t: &str| Some(masked(0x1, t.as_bytes()));
    let steps = [
        timeout.clone(),
        data("a"),
        timeout.clone(),
        data("b"),
        timeout.clone(),
        timeout,
    ];
    let script = Script {
        steps: steps.into_iter().collect(),
        written: Vec::new(),
    };
    let mut ws = WebSocket::new(script, Variant::Rfc6455, Role::Server);
    ws.set_keepalive(true);
    assert_eq!(ws.read().unwrap(), Message::text("a"));
    assert_eq!(
        ws.get_ref().written,
        PING,
        "a ping after the first silent interval"
    );
    assert_eq!(ws.read().unwrap(), Message::text("b"));
    assert_eq!(
        ws.get_ref().written,
        [PING, PING].concat(),
        "data answered the ping"
    );
    match ws.read() {
        Err(Error::Io(e)) => assert_eq!(e.kind(), ErrorKind::TimedOut),
        other => panic!("two silent intervals must end the read: {other:?}"),
    }
    assert_eq!(
        ws.get_ref().written,
        [&PING[..], &PING, &PING, NO_ANSWER_CLOSE].concat(),
        "the third ping unanswered, then close 1001"
    );

    // Without keepalive, a timeout is the caller's, and nothing is written.
    let script = Script {
        steps: [None, data("c")].into_iter().collect(),
        written: Vec::new(),
    };
    let mut ws = WebSocket::new(script, Variant::Rfc6455, Role::Server);
    assert!(matches!(ws.read(), Err(Error::Io(e)) if e.kind() == ErrorKind::TimedOut));
    assert_eq!(ws.read().unwrap(), Message::text("c"), "nothing was lost");
    assert!(ws.get_ref().written.is_empty());
}

#[test]
fn a_silent_hixie76_peer_is_dropped_without_a_ping() {
    let server = echo_server(Config {
        ping_interval: Some(Duration::from_millis(300)),
        ..Config::default()
    });
    let mut s = open_hixie(server.local_addr(), "/quiet");
    assert_eq!(
        rest_of_stream(&mut s),
        [0xFF, 0x00],
        "no ping to send; the closing frame, then the end"
    );
}

#[test]
fn a_connection_woken_after_a_silent_interval_reads_a_burst_whole() {
    // After a keepalive ping the connection holds no input buffer; what arrives
    // next is read a few bytes first, then the rest: nothing may be lost or reordered.
    let server = echo_server(Config {
        ping_interval: Some(Duration::from_millis(300)),
        ..Config::default()
    });
    let mut s = open_rfc(server.local_addr(), "/parked");
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    assert_eq!(
        read_frame(&mut s),
        (true, 0x9, Vec::new()),
        "a keepalive ping"
    );
    let text: String = (0..200)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    let blob: Vec<u8> = (0..5000u32).map(|i| (i * 7) as u8).collect();
    let mut burst = masked(0xA, b"");
    burst.extend(masked(0x1, text.as_bytes()));
    burst.extend(masked(0x2, &blob));
    burst.extend(masked(0x9, b"p"));
    s.write_all(&burst).unwrap();
    let mut got = Vec::new();
    while got.len() < 3 {
        let (fin, opcode, payload) = read_frame(&mut s);
        if opcode == 0x9 {
            s.write_all(&masked(0xA, b"")).unwrap(); // a later keepalive ping
            continue;
        }
        got.push((fin, opcode, payload));
    }
    assert_eq!(got[0], (true, 0x1, text.into_bytes()));
    assert_eq!(got[1], (true, 0x2, blob));
    assert_eq!(got[2], (true, 0xA, b"p".to_vec()));
}

#[test]
fn a_head_slower_than_the_listeners_read_timeout_is_still_served_within_the_deadline() {
    // Accepted sockets start with a 2 s read timeout (the listener's, which is also
    // how long an idle server thread waits in accept); the handshake's own deadline
    // is longer, so a head that pauses for 2.5 s must still be answered.
    let server = echo_server(Config {
        handshake_timeout: Duration::from_secs(6),
        ..Config::default()
    });
    let mut s = connect(server.local_addr());
    let request = rfc_request("/slow-head");
    let (first, rest) = request.as_bytes().split_at(16);
    s.write_all(first).unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    s.write_all(rest).unwrap();
    let (status, _) = read_response_head(&mut s);
    assert_eq!(status, 101);
    s.write_all(&masked(0x1, b"after a pause")).unwrap();
    assert_eq!(read_frame(&mut s), (true, 0x1, b"after a pause".to_vec()));
}
