//! SIGTERM and SIGINT to the built binary: every client gets its close frame (1001 on
//! RFC 6455, 0xFF 0x00 on hixie-76), the exec programs end, the binary exits 0; a
//! second signal during the stop exits at once, with 128 + the signal's number.
#![cfg(target_os = "linux")]

mod cli_support;
mod common;

use cli_support::*;
use common::{masked, open_hixie, open_rfc, read_frame};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Close 1001 with no reason, as the server sends it on RFC 6455: FIN + close, length
/// 2, the code big-endian.
const CLOSE_1001: [u8; 4] = [0x88, 0x02, 0x03, 0xE9];

/// Sends `probe` on both clients and checks each gets it back: the connections, and
/// in exec mode the programs, are up.
fn echoed(rfc: &mut TcpStream, hixie: &mut TcpStream, probe: &str) {
    rfc.write_all(&masked(0x1, probe.as_bytes())).unwrap();
    assert_eq!(read_frame(rfc), (true, 0x1, probe.as_bytes().to_vec()));
    hixie.write_all(&hixie_text(probe)).unwrap();
    assert_eq!(read_hixie_text(hixie).as_deref(), Some(probe));
}

/// Signals the server with both clients connected, checks the exact close bytes on
/// each, answers them, and returns the exit code.
fn stop_with(args: &[&str], signal: &str) -> i32 {
    let mut server = Stdws::start(args);
    let mut rfc = open_rfc(server.addr, "/stop-rfc");
    let mut hixie = open_hixie(server.addr, "/stop-hixie");
    echoed(&mut rfc, &mut hixie, &format!("before-{signal}-5c"));

    server.signal(signal);
    let mut close = [0u8; 4];
    rfc.read_exact(&mut close).unwrap();
    assert_eq!(close, CLOSE_1001);
    rfc.write_all(&masked(0x8, &common::close_payload(1001, "")))
        .unwrap();
    let mut close = [0u8; 2];
    hixie.read_exact(&mut close).unwrap();
    assert_eq!(close, [0xFF, 0x00]);
    assert!(common::server_closed(&mut rfc));
    assert!(common::server_closed(&mut hixie));

    let status = server.exit_status(WAIT).expect("stdws exits");
    assert!(server.wait_for_log(|l| l.ends_with(": stopped")).is_some());
    status
        .code()
        .expect("an exit code, not killed by the signal")
}

#[test]
fn sigterm_closes_exec_clients_with_1001_and_exits_0() {
    assert_eq!(stop_with(&["--", "cat"], "TERM"), 0);
}

#[test]
fn sigint_closes_echo_clients_with_1001_and_exits_0() {
    assert_eq!(stop_with(&[], "INT"), 0);
}

#[test]
fn sigint_closes_exec_clients_with_1001_and_exits_0() {
    assert_eq!(stop_with(&["--", "cat"], "INT"), 0);
}

#[test]
fn a_second_signal_exits_at_once() {
    // The program does not read, so after the 1001 it has a minute to exit: the clean
    // stop would take the whole --gracems. The second signal cuts that short.
    let mut server = Stdws::start(&[
        "--closems",
        "60000",
        "--gracems",
        "60000",
        "--",
        "sh",
        "-c",
        "echo $$; exec sleep 1000",
    ]);
    let mut rfc = open_rfc(server.addr, "/second");
    let (_, _, pid) = read_frame(&mut rfc);
    let pid: u32 = String::from_utf8(pid).unwrap().parse().unwrap();
    server.signal("TERM");
    assert!(server.wait_for_log(|l| l.contains("stopping")).is_some());
    server.signal("INT");
    let status = server.exit_status(WAIT).expect("stdws exits");
    assert_eq!(status.code(), Some(128 + 2), "{:?}", server.log());
    assert!(server
        .wait_for_log(|l| l.contains("second signal"))
        .is_some());
    // Killed with its group on the way out, not left running.
    let left = wait_gone(&[pid], server.pid(), Duration::from_secs(5));
    assert!(left.is_empty(), "program {pid} still running");
}
