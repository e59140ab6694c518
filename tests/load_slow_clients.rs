//! Slow peers must not hold up anyone else: 200 clients dribbling their request heads
//! a byte at a time while a normal client is served within 2 s. A test binary of its
//! own, so no other test competes for the machine while the delay is measured.
//! Bounded in count and time, 127.0.0.1 only. The measured delays are printed (run
//! with `--nocapture` to see them).

mod common;

use common::*;
use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};
use stdws::Config;

const DRIBBLERS: usize = 200;

#[test]
fn a_normal_client_is_served_within_2_s_among_200_clients_dribbling_their_heads() {
    let server = echo_server(Config::default());
    let addr = server.local_addr();
    let mut slow: Vec<TcpStream> = (0..DRIBBLERS)
        .map(|_| {
            let mut s = connect(addr);
            s.write_all(b"GET /slow HTTP/1.1\r\nX-Slow: ").unwrap();
            s
        })
        .collect();
    let mut worst = Duration::ZERO;
    let mut delays = Vec::new();
    let until = Instant::now() + Duration::from_secs(3);
    while Instant::now() < until {
        // One more byte from every slow client, then a normal client's round trip.
        for s in &mut slow {
            s.write_all(b"a").unwrap();
        }
        let d = timed_echo(addr);
        delays.push(d.as_micros());
        worst = worst.max(d);
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!(
        "load: {DRIBBLERS} dribbling clients; {} normal echoes; delays (µs): {delays:?}; worst {} ms",
        delays.len(),
        worst.as_millis()
    );
    assert!(worst < Duration::from_secs(2), "worst delay {worst:?}");
    // The dribblers are still waiting for an answer, not refused or dropped (the
    // normal clients' connections end as soon as their threads see them closed).
    let until = Instant::now() + PATIENCE;
    while server.active_connections() > DRIBBLERS && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(server.active_connections(), DRIBBLERS);
}
