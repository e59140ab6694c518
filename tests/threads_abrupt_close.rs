//! 2,000 connections opened and dropped abruptly, in the middle of a frame (half of
//! them with a pong the client never read, so closing resets the connection), must
//! leave the process's OS thread count back at its baseline: no connection thread is
//! left behind. A test binary of its own, so no other test's threads are counted.

mod common;

use common::*;
use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};
use stdws::Config;

const CONNECTIONS: usize = 2000;
/// Connections open at once: far below a 1024 file-descriptor limit, counting both
/// ends of each connection (the server is in this process too).
const BATCH: usize = 50;

/// `Threads:` from /proc/self/status.
fn os_threads() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("a Threads: line")
}

#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "reads /proc/self/status")]
fn connections_dropped_mid_frame_leave_no_thread_behind() {
    let server = echo_server(Config::default());
    let addr = server.local_addr();
    let baseline = os_threads();
    let started = Instant::now();
    let mut peak = baseline;
    let mut opened = 0;
    while opened < CONNECTIONS {
        let batch: Vec<TcpStream> = (0..BATCH)
            .map(|i| {
                let mut s = open_rfc(addr, "/abrupt");
                let mut wire = Vec::new();
                if i % 2 == 0 {
                    // Answered with a pong that is never read: the drop then resets.
                    wire.extend(masked(0x9, b"unread"));
                }
                // A 100-byte text frame cut off after 10 bytes of payload.
                wire.extend_from_slice(&masked(0x1, &[b'x'; 100])[..2 + 4 + 10]);
                s.write_all(&wire).unwrap();
                s
            })
            .collect();
        peak = peak.max(os_threads());
        opened += batch.len();
        drop(batch);
    }
    let opened_in = started.elapsed();
    let until = Instant::now() + PATIENCE;
    while (os_threads() > baseline || server.active_connections() > 0) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(10));
    }
    let settled = os_threads();
    eprintln!(
        "threads: baseline {baseline}, peak {peak}, after {CONNECTIONS} abrupt closes {settled}; \
         opened in {} ms, settled {} ms later",
        opened_in.as_millis(),
        (started.elapsed() - opened_in).as_millis()
    );
    assert_eq!(server.active_connections(), 0);
    assert_eq!(settled, baseline, "every connection thread has ended");
    assert_still_serving(addr);
}
