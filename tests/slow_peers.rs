//! Slow peers, at a small scale so the test is quick: the minimum send pace drops a
//! peer that takes a few bytes now and then, in bounded time and with its memory
//! given back, while an honest slow link is never dropped; a close owed behind a
//! stalled frame is not stuck there longer than that bound. (The defaults, 1 KiB/s
//! judged over 30 s, are these rules at a scale of minutes: docs/HARDENING.md.)

mod common;

use common::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};
use stdws::{Config, Message, Server, ServerHandle};

const MIB: usize = 1 << 20;

/// 64 KiB/s judged over each 3 s of blocked writing (long enough that a reader
/// starved of CPU for a moment on a loaded machine is not taken for a trickle).
fn paced_config() -> Config {
    Config {
        log: false,
        write_timeout: Duration::from_secs(3),
        min_send_rate: 64 * 1024,
        ..Config::default()
    }
}

/// A server whose handler sends `count` binary messages of 1 MiB as fast as the
/// peer takes them; what the last send failed with is kept in `failure`.
fn sender(count: usize, failure: Arc<Mutex<Option<String>>>) -> ServerHandle {
    Server::bind("127.0.0.1:0", paced_config())
        .unwrap()
        .on_connection(move |mut ws, _| {
            let message = Message::binary(vec![0x42; MIB]);
            for _ in 0..count {
                if let Err(e) = ws.send(message.clone()) {
                    *failure.lock().unwrap() = Some(e.to_string());
                    return Err(e.into());
                }
            }
            Ok(())
        })
        .spawn()
        .unwrap()
}

/// Waits up to `within` for the server to have no connection; how long it took.
fn until_no_connection(server: &ServerHandle, within: Duration) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < within {
        if server.active_connections() == 0 {
            return Some(started.elapsed());
        }
        thread::sleep(Duration::from_millis(20));
    }
    None
}

/// Reads `chunk` bytes every `every` until `until` or the end of the stream;
/// the bytes read.
fn read_at_pace(s: &mut TcpStream, chunk: usize, every: Duration, until: Instant) -> usize {
    let mut buf = vec![0u8; chunk];
    let mut total = 0;
    while Instant::now() < until {
        let tick = Instant::now();
        let mut got = 0;
        while got < chunk {
            match s.read(&mut buf[got..]) {
                Ok(0) | Err(_) => return total + got,
                Ok(n) => got += n,
            }
        }
        total += got;
        thread::sleep(every.saturating_sub(tick.elapsed()));
    }
    total
}

#[test]
fn a_peer_that_takes_a_trickle_is_dropped_in_bounded_time() {
    let failure = Arc::new(Mutex::new(None));
    let server = sender(64, failure.clone());
    let mut s = open_rfc(server.local_addr(), "/trickle");
    // 16 KiB every half second: 32 KiB/s, half the minimum pace. The socket
    // buffers take several MiB at once; after that every write waits for us.
    let ours = s.try_clone().unwrap();
    let reading = thread::spawn(move || {
        read_at_pace(
            &mut s,
            16 * 1024,
            Duration::from_millis(500),
            Instant::now() + Duration::from_secs(25),
        )
    });
    let dropped_after = until_no_connection(&server, Duration::from_secs(20));
    // What the kernel still holds for us would take the trickle minutes to read.
    let _ = ours.shutdown(std::net::Shutdown::Both);
    let read = reading.join().unwrap();
    let failure = failure.lock().unwrap().clone();
    eprintln!("trickle: dropped after {dropped_after:?} having read {read} bytes: {failure:?}");
    assert!(dropped_after.is_some(), "a 32 KiB/s reader must be dropped");
    // Judged too slow, or (the kernel frees send-buffer room a whole segment at a
    // time, so a trickle can show no progress at all) stalled for a window.
    let failure = failure.expect("the send failed");
    assert!(
        failure.contains("reads too slowly") || failure.contains("took nothing"),
        "{failure}"
    );
    assert_eq!(
        server.memory_used(),
        0,
        "nothing of the budget is left held"
    );
}

#[test]
fn an_honest_slow_link_is_never_dropped() {
    let failure = Arc::new(Mutex::new(None));
    let server = sender(24, failure.clone());
    let mut s = open_rfc(server.local_addr(), "/honest");
    // 128 KiB every 100 ms: about 1.25 MiB/s, twenty times the minimum pace, for
    // the 24 MiB the handler sends (and its close frame).
    let expected = 24 * (MIB + 10) + 4;
    let read = read_at_pace(
        &mut s,
        128 * 1024,
        Duration::from_millis(100),
        Instant::now() + Duration::from_secs(60),
    );
    assert_eq!(failure.lock().unwrap().clone(), None, "no send failed");
    assert_eq!(read, expected, "every message and the close arrived");
}

#[test]
fn a_close_owed_behind_a_stalled_frame_ends_within_the_write_timeout() {
    // Messages over 4 MiB close with 1009; the client sends 12 MiB of fragments,
    // never reading, so the echo's relay stalls and the 1009 waits behind it.
    let server = echo_server(Config {
        max_message_size: 4 * MIB,
        ..paced_config()
    });
    let mut s = open_rfc(server.local_addr(), "/stalled");
    s.set_write_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let fragment = frame(false, 0x2, &vec![1; MIB], true);
    let continuation = frame(false, 0x0, &vec![1; MIB], true);
    for i in 0..12 {
        let wire = if i == 0 { &fragment } else { &continuation };
        if s.write_all(wire).is_err() {
            break;
        }
    }
    // The server does not wait for a reader that never comes: its socket goes
    // within a window of blocked writing (plus the close's own wait).
    let gone = until_no_connection(&server, Duration::from_secs(15));
    eprintln!("stalled 1009: connection gone after {gone:?}");
    assert!(gone.is_some(), "the connection must not outlive the bound");
    assert_eq!(server.memory_used(), 0);
    assert_still_serving(server.local_addr());
    let _ = s.write_all(b"");
}

/// Reads at most 32 KiB per eighth of a second: 256 KiB/s.
struct Slow<'a>(&'a mut TcpStream);

impl Read for Slow<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        thread::sleep(Duration::from_millis(125));
        let n = buf.len().min(32 * 1024);
        self.0.read(&mut buf[..n])
    }
}

/// One unmasked server frame from `r`: (fin, opcode, payload).
fn slow_frame(r: &mut impl Read) -> (bool, u8, Vec<u8>) {
    let mut h = [0u8; 2];
    r.read_exact(&mut h).expect("a frame header");
    let len = match h[1] & 0x7F {
        126 => {
            let mut b = [0u8; 2];
            r.read_exact(&mut b).unwrap();
            u64::from(u16::from_be_bytes(b))
        }
        127 => {
            let mut b = [0u8; 8];
            r.read_exact(&mut b).unwrap();
            u64::from_be_bytes(b)
        }
        n => u64::from(n),
    };
    let mut payload = vec![0u8; len as usize];
    r.read_exact(&mut payload).expect("a frame payload");
    (h[0] & 0x80 != 0, h[0] & 0x0F, payload)
}

#[test]
fn a_slow_reader_whose_pong_waits_behind_our_data_is_not_taken_for_dead() {
    // Pings after 1 s of silence; the client reads its 2 MiB echo at 256 KiB/s
    // (four times the minimum pace), so it reaches the ping only after about 8 s,
    // long after the two intervals that would otherwise end a silent peer.
    let server = echo_server(Config {
        ping_interval: Some(Duration::from_secs(1)),
        ..paced_config()
    });
    let mut s = open_rfc(server.local_addr(), "/phone");
    let message: Vec<u8> = (0..2 * MIB).map(|i| (i % 253) as u8).collect();
    s.write_all(&frame(true, 0x2, &message, true)).unwrap();
    let started = Instant::now();
    // The echo, in as many fragments as the relay made, then the ping.
    let mut echo = Vec::new();
    let mut slow = Slow(&mut s);
    loop {
        let (fin, opcode, payload) = slow_frame(&mut slow);
        assert!(
            opcode == 0x2 || opcode == 0x0,
            "a data frame, not {opcode:#x}"
        );
        echo.extend(payload);
        if fin {
            break;
        }
    }
    assert!(echo == message, "the echo, whole ({} bytes)", echo.len());
    assert_eq!(
        slow_frame(&mut slow),
        (true, 0x9, Vec::new()),
        "then the ping"
    );
    let reached = started.elapsed();
    s.write_all(&masked(0xA, b"")).unwrap();
    s.write_all(&masked(0x1, b"still here")).unwrap();
    assert_eq!(read_frame(&mut s), (true, 0x1, b"still here".to_vec()));
    eprintln!("slow reader reached the ping after {reached:?}; still served");
    assert!(
        reached > Duration::from_secs(3),
        "the ping was behind the data"
    );
}
