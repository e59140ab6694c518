//! A client that stops reading while the server sends to it: the server's send
//! blocks, the write timeout drops that connection, and other clients are served
//! meanwhile. Bounded in count and time, 127.0.0.1 only; the measured delays are
//! printed (run with `--nocapture` to see them).

mod common;

use common::*;
use std::io::{ErrorKind, Read, Write};
use std::time::{Duration, Instant};
use stdws::Config;

#[test]
fn a_client_that_stops_reading_is_dropped_and_holds_up_no_one() {
    let write_timeout = Duration::from_millis(800);
    let server = echo_server(Config {
        write_timeout,
        close_timeout: Duration::from_millis(500),
        ..Config::default()
    });
    let addr = server.local_addr();

    // The stalled client sends big messages and never reads the echoes: first the
    // socket buffers fill, then the server's echo blocks.
    let mut stalled = open_rfc(addr, "/stalled");
    stalled
        .set_write_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let blob = masked(0x2, &vec![0xAB; 256 * 1024]);
    let mut sent = 0usize;
    for _ in 0..400 {
        match stalled.write_all(&blob) {
            Ok(()) => sent += blob.len(),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => break,
            Err(e) => panic!("the stalled client's own send failed: {e}"),
        }
    }
    let blocked_at = Instant::now();

    // Others are served meanwhile.
    let delays: Vec<u128> = (0..5).map(|_| timed_echo(addr).as_millis()).collect();
    assert!(delays.iter().all(|&d| d < 2000), "{delays:?}");

    // The stalled connection is dropped once its write timeout has passed.
    let until = Instant::now() + PATIENCE;
    while server.active_connections() > 0 && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(10));
    }
    let dropped_after = blocked_at.elapsed();
    assert_eq!(
        server.active_connections(),
        0,
        "the stalled client was dropped"
    );
    eprintln!(
        "load: stalled reader sent {} KiB before blocking; others' echo delays (ms): {delays:?}; \
         dropped {} ms after it blocked (write timeout {} ms)",
        sent / 1024,
        dropped_after.as_millis(),
        write_timeout.as_millis()
    );
    // What it finally reads ends without a close handshake from the server's side:
    // the connection is gone (end of stream or reset).
    stalled.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut sink = vec![0u8; 1 << 16];
    loop {
        match stalled.read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
    assert_still_serving(addr);
}
