//! 300 exec connections dropped abruptly while their programs run, each program with a
//! grandchild in the background, must leave the count of processes the server
//! started back at zero. A test binary of its own, so no other test's programs are
//! counted.
//!
//! What counts: every process whose parent is the server (running or a zombie it has
//! not reaped), and every live process carrying this test's marker in its
//! environment (the programs and whatever they forked, wherever they were reparented
//! to). A zombie reparented to init is gone: in a container, PID 1 may never reap it.
#![cfg(target_os = "linux")]

mod cli_support;
mod common;

use cli_support::*;
use common::open_rfc;
use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

const CONNECTIONS: usize = 300;
/// Connections (and so programs: three processes each) open at once.
const BATCH: usize = 50;
/// Marks the programs in their environment: `--passenv` hands it on.
const MARKER: &str = "STDWS_ABRUPT_MARK";

/// Processes started by the server `server` that are still there.
fn started_by(server: u32, marker: &[u8]) -> usize {
    let mut count = 0;
    for entry in std::fs::read_dir("/proc").expect("/proc") {
        let Some(pid) = entry
            .ok()
            .and_then(|e| e.file_name().to_str()?.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == server {
            continue;
        }
        let Some((state, ppid)) = proc_stat(pid) else {
            continue;
        };
        let marked = || {
            std::fs::read(format!("/proc/{pid}/environ"))
                .is_ok_and(|env| env.split(|&b| b == 0).any(|var| var == marker))
        };
        if ppid == server || (state != 'Z' && marked()) {
            count += 1;
        }
    }
    count
}

#[test]
fn programs_of_abruptly_dropped_connections_all_end() {
    let value = format!("run-{}", std::process::id());
    let marker = format!("{MARKER}={value}");
    let server = Stdws::start_with_env(
        &[
            "--passenv",
            &format!("PATH,{MARKER}"),
            "--",
            "sh",
            "-c",
            "sleep 1000 & echo up; cat",
        ],
        &[(MARKER, &value)],
    );
    let pid = server.pid();
    let marker = marker.as_bytes();
    assert_eq!(started_by(pid, marker), 0, "nothing started yet");

    let started = Instant::now();
    let mut peak = 0;
    let mut opened = 0;
    while opened < CONNECTIONS {
        let batch: Vec<TcpStream> = (0..BATCH)
            .map(|i| {
                let mut s = open_rfc(server.addr, "/abrupt");
                assert_eq!(read_text(&mut s), "up");
                if i % 2 == 0 {
                    // Half of them go in the middle of a frame.
                    s.write_all(&common::masked(0x1, &[b'x'; 100])[..2 + 4 + 10])
                        .unwrap();
                }
                s
            })
            .collect();
        peak = peak.max(started_by(pid, marker));
        opened += batch.len();
        drop(batch);
    }
    let dropped_in = started.elapsed();
    let until = Instant::now() + WAIT;
    let mut left = started_by(pid, marker);
    while left > 0 && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(100));
        left = started_by(pid, marker);
    }
    eprintln!(
        "processes: peak {peak}, after {CONNECTIONS} abrupt drops {left}; \
         opened and dropped in {} ms, settled {} ms later",
        dropped_in.as_millis(),
        (started.elapsed() - dropped_in).as_millis()
    );
    assert!(peak >= BATCH * 2, "the programs ran: peak {peak}");
    assert_eq!(left, 0, "every program and grandchild has ended");

    // The server still runs programs; this one is closed properly, and waited for
    // too, so that the test leaves nothing behind when it kills the server.
    let mut s = open_rfc(server.addr, "/after");
    assert_eq!(read_text(&mut s), "up");
    s.write_all(&common::masked(0x8, &common::close_payload(1000, "")))
        .unwrap();
    assert_eq!(common::read_close(&mut s), Some(1000));
    let until = Instant::now() + WAIT;
    while started_by(pid, marker) > 0 && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(started_by(pid, marker), 0, "the last program has ended");
}

fn read_text(s: &mut TcpStream) -> String {
    let (_, opcode, payload) = common::read_frame(s);
    assert_eq!(opcode, 0x1);
    String::from_utf8(payload).unwrap()
}
