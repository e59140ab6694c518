//! Exec mode leaves nothing behind: a program that ignores SIGTERM and a grandchild
//! it left running in the background are gone within 5 s of the connection's end,
//! whether the client closed or the server was stopped with SIGTERM. Each program
//! prints its own pid and its background child's, which are then watched in /proc.
#![cfg(target_os = "linux")]

mod cli_support;
mod common;

use cli_support::*;
use common::{masked, open_rfc, read_close, read_frame};
use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// The promise: everything a connection started is gone this soon after its end.
const GONE_WITHIN: Duration = Duration::from_secs(5);

/// Exits once its stdin closes, leaving a grandchild that ignores SIGTERM.
const LEAVES_GRANDCHILD: &str = "trap '' TERM; sleep 1000 & echo $$ $!; cat";
/// Ignores both the end of its stdin and SIGTERM, and waits for its grandchild.
const IGNORES_TERM: &str = "trap '' TERM; sleep 1000 & echo $$ $!; cat; wait";

/// Reads the program's first line, "PID CHILD_PID".
fn pids(s: &mut TcpStream) -> Vec<u32> {
    let (_, opcode, payload) = read_frame(s);
    assert_eq!(opcode, 0x1, "expected the program's pids as text");
    let line = String::from_utf8(payload).unwrap();
    let pids: Vec<u32> = line
        .split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect();
    assert_eq!(pids.len(), 2, "{line}");
    pids
}

fn client_close_ends(script: &str) {
    let server = Stdws::start(&["-v", "--", "sh", "-c", script]);
    let mut rfc = open_rfc(server.addr, "/cleanup");
    let pids = pids(&mut rfc);
    rfc.write_all(&masked(0x1, b"still-here-4e")).unwrap();
    assert_eq!(read_frame(&mut rfc).2, b"still-here-4e");
    rfc.write_all(&masked(0x8, &common::close_payload(1000, "")))
        .unwrap();
    assert_eq!(read_close(&mut rfc), Some(1000));
    let closed = Instant::now();
    let left = wait_gone(&pids, server.pid(), GONE_WITHIN);
    let took = closed.elapsed().as_millis();
    assert!(
        left.is_empty(),
        "still running {took} ms after the close: {left:?}"
    );
    eprintln!("{script}: program and grandchild gone {took} ms after the close");
}

#[test]
fn a_grandchild_that_ignores_sigterm_is_gone_after_the_client_closes() {
    client_close_ends(LEAVES_GRANDCHILD);
}

#[test]
fn a_program_that_ignores_sigterm_is_gone_after_the_client_closes() {
    client_close_ends(IGNORES_TERM);
}

#[test]
fn programs_are_gone_after_sigterm_to_the_server() {
    let mut server = Stdws::start(&["--", "sh", "-c", IGNORES_TERM]);
    let mut a = open_rfc(server.addr, "/a");
    let mut b = open_rfc(server.addr, "/b");
    let mut all = pids(&mut a);
    all.extend(pids(&mut b));
    server.signal("TERM");
    let signalled = Instant::now();
    assert_eq!(read_close(&mut a), Some(1001));
    assert_eq!(read_close(&mut b), Some(1001));
    for s in [&mut a, &mut b] {
        s.write_all(&masked(0x8, &common::close_payload(1001, "")))
            .unwrap();
    }
    let left = wait_gone(&all, server.pid(), GONE_WITHIN);
    let took = signalled.elapsed().as_millis();
    assert!(
        left.is_empty(),
        "still running {took} ms after SIGTERM: {left:?}"
    );
    let status = server.exit_status(WAIT).expect("stdws exits");
    assert_eq!(status.code(), Some(0), "{:?}", server.log());
    eprintln!(
        "two programs ignoring SIGTERM gone {took} ms after SIGTERM to the server; \
         it exited 0 after {} ms",
        signalled.elapsed().as_millis()
    );
}
