//! The memory budget holds under hostile senders, with the binary's default flags: 40
//! clients that each send most of a 60 MiB message in 1 MiB fragments and never finish
//! it, and a broadcast room whose members never read. The server's peak RSS stays
//! within the budget plus a margin, ordinary clients are served promptly meanwhile,
//! and the budget's refusals are closes with 1013. A test binary of its own: it reads
//! the server's RSS, and its load would disturb timing in other tests.

mod cli_support;
mod common;

use cli_support::Stdws;
use common::*;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

const MIB: usize = 1 << 20;

/// The default `--maxmemory`.
const BUDGET_MIB: u64 = 256;

/// What the server may hold beyond the budget: its own code and heap, allocator
/// overhead, and each connection's allowances.
const MARGIN_MIB: u64 = 96;

/// A masked 1 MiB fragment of a message that never ends (FIN clear): the first
/// with `opcode`, the rest continuations.
fn fragment(opcode: u8, first: bool) -> Vec<u8> {
    frame(
        false,
        if first { opcode } else { 0x0 },
        &vec![b'a'; MIB],
        true,
    )
}

/// Sends up to 60 fragments of a text or binary message, for as long as the server
/// takes them and `stop` is not set; keeps the connection open until `stop`.
/// Returns the socket.
fn hostile_sender(
    addr: SocketAddr,
    opcode: u8,
    stop: Arc<AtomicBool>,
    closed: Arc<AtomicUsize>,
) -> TcpStream {
    let mut s = open_rfc(addr, "/hostile");
    s.set_write_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let (first, rest) = (fragment(opcode, true), fragment(opcode, false));
    let mut sent_fragments = 0;
    let mut offset = 0;
    while sent_fragments < 60 && !stop.load(Ordering::Relaxed) {
        let wire = if sent_fragments == 0 { &first } else { &rest };
        match s.write(&wire[offset..]) {
            Ok(n) => offset += n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => {
                // Closed by the server (1013).
                closed.fetch_add(1, Ordering::Relaxed);
                break;
            }
        }
        if offset == wire.len() {
            (sent_fragments, offset) = (sent_fragments + 1, 0);
        }
    }
    while !stop.load(Ordering::Relaxed) {
        thread::sleep(Duration::from_millis(20));
    }
    s
}

/// Reads what the server sent on a hostile connection (echoed pieces) until its
/// close frame; its code, or None if the connection ended without one in `patience`.
fn close_code_after_echoes(s: &mut TcpStream, patience: Duration) -> Option<u16> {
    s.set_read_timeout(Some(patience)).unwrap();
    loop {
        let mut head = [0u8; 2];
        s.read_exact(&mut head).ok()?;
        let len = match head[1] & 0x7F {
            126 => {
                let mut l = [0u8; 2];
                s.read_exact(&mut l).ok()?;
                u64::from(u16::from_be_bytes(l))
            }
            127 => {
                let mut l = [0u8; 8];
                s.read_exact(&mut l).ok()?;
                u64::from_be_bytes(l)
            }
            n => u64::from(n),
        };
        let mut payload = Vec::new();
        Read::by_ref(s).take(len).read_to_end(&mut payload).ok()?;
        if head[0] & 0x0F == 0x8 {
            return payload.get(..2).map(|c| u16::from_be_bytes([c[0], c[1]]));
        }
    }
}

#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "reads /proc/PID/status")]
fn forty_unfinished_60_mib_messages_stay_within_the_budget() {
    let server = Stdws::start(&[]);
    let addr = server.addr;
    let baseline = server.status_kib("VmRSS");
    let stop = Arc::new(AtomicBool::new(false));
    let closed = Arc::new(AtomicUsize::new(0));
    // Text is held whole until it ends (it must be valid UTF-8), so those twenty fill
    // the budget whatever the kernel buffers; binary is echoed in pieces, and held
    // once the echo stalls behind a client that does not read.
    let senders: Vec<_> = (0..40)
        .map(|i| {
            let (stop, closed) = (stop.clone(), closed.clone());
            let opcode = if i % 2 == 0 { 0x1 } else { 0x2 };
            thread::spawn(move || hostile_sender(addr, opcode, stop, closed))
        })
        .collect();
    // While they push, an ordinary client's echo (handshake included) stays prompt.
    // They push for at least 8 s, and on until the budget has turned one away (how
    // soon depends on the machine: the binary is a debug build), for at most 90 s.
    let started = Instant::now();
    let mut slowest = Duration::ZERO;
    let pushing = |elapsed: Duration| {
        elapsed < Duration::from_secs(8)
            || (closed.load(Ordering::Relaxed) == 0 && elapsed < Duration::from_secs(90))
    };
    while pushing(started.elapsed()) {
        slowest = slowest.max(timed_echo(addr));
        thread::sleep(Duration::from_millis(100));
    }
    stop.store(true, Ordering::Relaxed);
    let peak = server.status_kib("VmHWM");
    // Those still waiting for the budget give up within its 5 s; read them all at once.
    let readers: Vec<_> = senders
        .into_iter()
        .map(|t| {
            let mut s = t.join().unwrap();
            thread::spawn(move || close_code_after_echoes(&mut s, Duration::from_secs(8)))
        })
        .collect();
    let refused = readers
        .into_iter()
        .filter_map(|t| t.join().unwrap())
        .filter(|&code| code == 1013)
        .count();
    eprintln!(
        "40 x 60 MiB unfinished: server RSS {} KiB before, peak {} KiB; slowest ordinary \
         echo {} ms; {refused} senders closed with 1013",
        baseline,
        peak,
        slowest.as_millis()
    );
    assert!(
        peak <= (BUDGET_MIB + MARGIN_MIB) * 1024,
        "peak RSS {peak} KiB over the budget of {BUDGET_MIB} MiB plus {MARGIN_MIB} MiB"
    );
    assert!(
        slowest < Duration::from_secs(3),
        "an ordinary echo waited {slowest:?}"
    );
    assert!(
        refused >= 1,
        "2400 MiB cannot fit a 256 MiB budget: some must get 1013"
    );
    assert_still_serving(addr);
}

#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "reads /proc/PID/status")]
fn a_room_whose_members_never_read_stays_within_the_budget() {
    let server = Stdws::start(&["--broadcast"]);
    let addr = server.addr;
    // Ten members that never read, then a sender of 1 MiB messages.
    let sleepers: Vec<TcpStream> = (0..10).map(|_| open_rfc(addr, "/big")).collect();
    let mut sender = open_rfc(addr, "/big");
    // Meanwhile two ordinary members of another room talk.
    let mut alice = open_rfc(addr, "/chat");
    let mut bob = open_rfc(addr, "/chat");
    thread::sleep(Duration::from_millis(200)); // both have joined
    let message = masked(0x2, &vec![0x5A; MIB]);
    let started = Instant::now();
    let mut sent = 0;
    let mut slowest = Duration::ZERO;
    while sent < 300 && started.elapsed() < Duration::from_secs(30) {
        if sender.write_all(&message).is_err() {
            break;
        }
        sent += 1;
        if sent % 50 == 0 {
            let asked = Instant::now();
            let text = format!("still here {sent}");
            alice.write_all(&masked(0x1, text.as_bytes())).unwrap();
            assert_eq!(read_frame(&mut bob), (true, 0x1, text.into_bytes()));
            slowest = slowest.max(asked.elapsed());
        }
    }
    let peak = server.status_kib("VmHWM");
    eprintln!(
        "broadcast: {sent} x 1 MiB to 10 members that never read: peak RSS {peak} KiB; \
         slowest chat message {} ms",
        slowest.as_millis()
    );
    assert_eq!(sent, 300, "the sender was never refused");
    assert!(
        peak <= (BUDGET_MIB + MARGIN_MIB) * 1024,
        "peak RSS {peak} KiB over the budget of {BUDGET_MIB} MiB plus {MARGIN_MIB} MiB"
    );
    assert!(
        slowest < Duration::from_secs(3),
        "a chat message waited {slowest:?}"
    );
    drop(sleepers);
}

#[test]
fn maxmemory_sets_the_budget_and_a_message_beyond_it_gets_1013() {
    let server = Stdws::start(&["--maxmemory", "1048576"]);
    let mut s = open_rfc(server.addr, "/budget");
    // 512 KiB fits the 1 MiB budget (beyond the 64 KiB allowance): echoed whole.
    let half: Vec<u8> = (0..512 * 1024).map(|i| (i % 251) as u8).collect();
    for (i, chunk) in half.chunks(64 * 1024).enumerate() {
        let opcode = if i == 0 { 0x2 } else { 0x0 };
        let last = (i + 1) * 64 * 1024 == half.len();
        s.write_all(&frame(last, opcode, chunk, true)).unwrap();
    }
    assert_eq!(read_frame(&mut s), (true, 0x2, half));
    // 2 MiB of text in 64 KiB fragments (text is held whole until it is known to be
    // UTF-8; binary this large would be echoed in pieces) needs more than the whole
    // budget: refused at once.
    for i in 0..32 {
        let opcode = if i == 0 { 0x1 } else { 0x0 };
        if s.write_all(&frame(i == 31, opcode, &[b'z'; 64 * 1024], true))
            .is_err()
        {
            break;
        }
    }
    assert_eq!(read_close(&mut s), Some(1013));
    assert_still_serving(server.addr);
}

#[test]
#[cfg(unix)]
fn a_program_line_beyond_the_budget_closes_with_1013() {
    // A line of 3 MB with a 1 MiB budget: the first short line arrives, then 1013.
    let script = "echo first; head -c 3000000 /dev/zero | tr '\\0' a; echo; cat";
    let server = Stdws::start(&["--maxmemory", "1048576", "--", "sh", "-c", script]);
    let mut s = open_rfc(server.addr, "/program");
    assert_eq!(read_frame(&mut s), (true, 0x1, b"first".to_vec()));
    assert_eq!(read_close(&mut s), Some(1013));
    assert_still_serving_program(server.addr);
}

/// A fresh connection still gets the program's first line.
fn assert_still_serving_program(addr: SocketAddr) {
    let mut s = open_rfc(addr, "/again");
    assert_eq!(read_frame(&mut s), (true, 0x1, b"first".to_vec()));
}

#[test]
fn a_relay_the_budget_cannot_queue_finishes_its_frame_then_closes_with_1013() {
    // 1.5 MiB: room for the echo's 1 MiB piece buffer, not for the queue of a
    // stalled piece as well.
    let server = echo_server(stdws::Config {
        memory_budget: 3 * MIB / 2,
        memory_wait: Duration::from_millis(500),
        ..stdws::Config::default()
    });
    let mut s = open_rfc(server.local_addr(), "/stalled");
    let mut sending = s.try_clone().unwrap();
    let (first, rest) = (fragment(0x2, true), fragment(0x2, false));
    // Sends without reading, until the server stops taking its bytes.
    let sender = thread::spawn(move || {
        sending
            .set_write_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        let mut sent = 0;
        while sent < 64
            && sending
                .write_all(if sent == 0 { &first } else { &rest })
                .is_ok()
        {
            sent += 1;
        }
        sent
    });
    thread::sleep(Duration::from_secs(1));
    // Now read: the echoed fragments, whole, then the close.
    let code = close_code_after_echoes(&mut s, Duration::from_secs(10));
    let sent = sender.join().unwrap();
    eprintln!("stalled relay without budget: {sent} fragments sent, closed with {code:?}");
    assert_eq!(code, Some(1013));
    assert_still_serving(server.local_addr());
}
