//! 10,000 connections opened and dropped abruptly, in every state a connection can
//! be in, leave the server's threads, file descriptors, connection count and memory
//! budget back at their baseline; a broadcast room's members likewise, measured on
//! the binary. (Exec programs: tests/cli_exec_abrupt.rs.) A test binary of its own,
//! so no other test's threads or descriptors are counted.

mod cli_support;
mod common;

use common::*;
use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};
use stdws::{Config, ServerHandle};

/// Connections open at once: far below a 1024 descriptor limit, counting both ends.
const BATCH: usize = 50;

/// `Threads:` of a /proc/PID/status.
fn threads(pid: &str) -> usize {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("a Threads: line")
}

/// Open file descriptors of a process.
fn descriptors(pid: &str) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("/proc/PID/fd")
        .count()
}

/// The ways a connection is left, each dropped without a word.
#[derive(Debug, Clone, Copy)]
enum State {
    /// Half a request head.
    MidHandshake,
    /// Upgraded, with 10 bytes of a 100-byte frame sent.
    MidFrame,
    /// 100 KiB of a 1 MiB text frame sent: the message buffer has drawn on the budget.
    HoldingBudget,
    /// Our close sent, its answer never read.
    MidClose,
    /// 4 MiB sent without reading: the echo has stalled and queued what it owes.
    Stalled,
}

/// Opens `count` connections in `state`, `BATCH` at a time, and drops them.
fn open_and_drop(addr: SocketAddr, state: State, count: usize) {
    let mut opened = 0;
    while opened < count {
        let batch: Vec<TcpStream> = (0..BATCH.min(count - opened))
            .map(|_| leave_in(addr, state))
            .collect();
        opened += batch.len();
        drop(batch);
    }
}

fn leave_in(addr: SocketAddr, state: State) -> TcpStream {
    if let State::MidHandshake = state {
        let mut s = connect(addr);
        let request = rfc_request("/abrupt");
        s.write_all(&request.as_bytes()[..request.len() / 2])
            .unwrap();
        return s;
    }
    let mut s = open_rfc(addr, "/abrupt");
    s.write_all(wire_for(state)).unwrap();
    s
}

/// What a connection in `state` has sent since its handshake; built once per state
/// (masking megabytes is slow in a debug build).
fn wire_for(state: State) -> &'static [u8] {
    static WIRES: OnceLock<[Vec<u8>; 4]> = OnceLock::new();
    let [mid_frame, holding, mid_close, stalled] = WIRES.get_or_init(|| {
        let mut stalled = Vec::new();
        for i in 0..4 {
            let opcode = if i == 0 { 0x2 } else { 0x0 };
            stalled.extend(frame(i == 3, opcode, &[7; 1 << 20], true));
        }
        [
            masked(0x1, &[b'x'; 100])[..2 + 4 + 10].to_vec(),
            masked(0x1, &vec![b'y'; 1 << 20])[..14 + 100 * 1024].to_vec(),
            masked(0x8, &close_payload(1000, "bye")),
            stalled,
        ]
    });
    match state {
        State::MidFrame => mid_frame,
        State::HoldingBudget => holding,
        State::MidClose => mid_close,
        State::Stalled => stalled,
        State::MidHandshake => unreachable!("no frames before the handshake"),
    }
}

/// Checks that (threads, descriptors) `after` are back at or below `before`.
fn assert_back_at(before: (usize, usize), after: (usize, usize)) {
    assert!(after.0 <= before.0, "threads {} -> {}", before.0, after.0);
    assert!(
        after.1 <= before.1,
        "descriptors {} -> {}",
        before.1,
        after.1
    );
}

/// Waits until `settled` holds or [`PATIENCE`] passes.
fn settle(mut settled: impl FnMut() -> bool) {
    let until = Instant::now() + PATIENCE;
    while !settled() && Instant::now() < until {
        thread::sleep(Duration::from_millis(20));
    }
}

#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "reads /proc/self")]
fn ten_thousand_abrupt_ends_in_every_state_leave_nothing_behind() {
    let server: ServerHandle = echo_server(Config::default());
    let addr = server.local_addr();
    assert_still_serving(addr);
    // Let the connection thread of the check above go idle and end.
    settle(|| server.active_connections() == 0);
    thread::sleep(Duration::from_secs(3));
    let (threads_before, fds_before) = (threads("self"), descriptors("self"));
    let started = Instant::now();
    let plan = [
        (State::MidHandshake, 2500),
        (State::MidFrame, 2500),
        (State::HoldingBudget, 2400),
        (State::MidClose, 2500),
        (State::Stalled, 100),
    ];
    for (state, count) in plan {
        open_and_drop(addr, state, count);
    }
    let opened_in = started.elapsed();
    settle(|| {
        server.active_connections() == 0
            && server.memory_used() == 0
            && threads("self") <= threads_before
            && descriptors("self") <= fds_before
    });
    let (threads_after, fds_after) = (threads("self"), descriptors("self"));
    eprintln!(
        "10,000 abrupt ends in {} ms: threads {threads_before} -> {threads_after}, \
         descriptors {fds_before} -> {fds_after}, budget used {} B, connections {}",
        opened_in.as_millis(),
        server.memory_used(),
        server.active_connections()
    );
    assert_eq!(server.active_connections(), 0);
    assert_eq!(
        server.memory_used(),
        0,
        "every connection gave its budget back"
    );
    assert_back_at((threads_before, fds_before), (threads_after, fds_after));
    assert_still_serving(addr);
}

#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "reads /proc/PID")]
fn room_members_dropped_abruptly_leave_nothing_behind() {
    let server = cli_support::Stdws::start(&["--broadcast"]);
    let addr = server.addr;
    let pid = server.pid().to_string();
    // One member that stays, so the room lives on while the others come and go.
    let mut stays = open_rfc(addr, "/room");
    thread::sleep(Duration::from_millis(200));
    let (threads_before, fds_before) = (threads(&pid), descriptors(&pid));
    for round in 0..20 {
        let members: Vec<TcpStream> = (0..BATCH)
            .map(|i| {
                let mut s = open_rfc(addr, "/room");
                // Some send a message first, some are cut off mid-frame.
                let wire = if i % 2 == 0 {
                    masked(0x1, format!("hello {round}.{i}").as_bytes())
                } else {
                    masked(0x1, &[b'x'; 100])[..8].to_vec()
                };
                s.write_all(&wire).unwrap();
                s
            })
            .collect();
        drop(members);
    }
    // The member that stayed heard what was said, and the room still relays.
    let (_, opcode, first) = read_frame(&mut stays);
    assert_eq!((opcode, &first[..6]), (0x1, &b"hello "[..]));
    settle(|| threads(&pid) <= threads_before && descriptors(&pid) <= fds_before);
    let (threads_after, fds_after) = (threads(&pid), descriptors(&pid));
    eprintln!(
        "1,000 room members dropped: threads {threads_before} -> {threads_after}, \
         descriptors {fds_before} -> {fds_after}"
    );
    assert_back_at((threads_before, fds_before), (threads_after, fds_after));
    let mut speaker = open_rfc(addr, "/room");
    speaker.write_all(&masked(0x1, b"after the storm")).unwrap();
    loop {
        let (_, _, text) = read_frame(&mut stays);
        if text == b"after the storm" {
            break;
        }
    }
}
