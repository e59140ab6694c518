//! Broadcast mode against the built binary: rooms by path, mixed RFC 6455 and
//! hixie-76 members, one order for everyone, and a slow member closed with 1008
//! while the others keep receiving.

mod cli_support;
mod common;

use cli_support::*;
use common::{masked, open_hixie, open_rfc, read_frame};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn text(s: &mut TcpStream) -> String {
    let (fin, opcode, payload) = read_frame(s);
    assert_eq!((fin, opcode), (true, 0x1), "expected a text frame");
    String::from_utf8(payload).expect("UTF-8")
}

/// Waits for the server's log to say that `path` has `members` members.
fn joined(server: &mut Stdws, path: &str, members: usize) {
    let line = format!(" joined {path} ({members} members)");
    assert!(
        server.wait_for_log(|l| l.ends_with(&line)).is_some(),
        "{line:?} never logged: {:#?}",
        server.log()
    );
}

/// Reads a hixie-76 text frame that must hold exactly `expected`, in one read call
/// per buffer rather than byte by byte.
fn read_hixie_exactly(s: &mut TcpStream, expected: &str) {
    let mut got = vec![0u8; expected.len() + 2];
    s.read_exact(&mut got).unwrap();
    assert_eq!(got, hixie_text(expected), "hixie frame differs");
}

/// Calls `send_one(0)`, `send_one(1)`, ... until the log says the member on
/// `slow_port` was closed with 1008 for overflowing; fails after `max` messages or a
/// minute. Returns how many were sent.
fn send_until_overflow(
    server: &mut Stdws,
    slow_port: u16,
    path: &str,
    max: usize,
    mut send_one: impl FnMut(usize),
) -> usize {
    let overflow_line = format!(":{slow_port} {path}: closing with 1008");
    let until = Instant::now() + Duration::from_secs(60);
    let mut sent = 0;
    while !server.log().iter().any(|l| l.contains(&overflow_line)) {
        assert!(
            sent < max && Instant::now() < until,
            "no overflow after {sent} messages"
        );
        send_one(sent);
        sent += 1;
    }
    sent
}

/// Nothing arrives on `s` within a short while.
fn quiet(s: &mut TcpStream) -> bool {
    quiet_for(s, Duration::from_millis(300))
}

#[test]
fn rooms_relay_to_others_across_variants() {
    let mut server = Stdws::start(&["--broadcast", "-v"]);
    let mut a = open_rfc(server.addr, "/room-1");
    let mut b = open_hixie(server.addr, "/room-1");
    let mut other_room = open_rfc(server.addr, "/room-2");
    joined(&mut server, "/room-1", 2);
    joined(&mut server, "/room-2", 1);

    a.write_all(&masked(0x1, b"from-a-61")).unwrap();
    assert_eq!(read_hixie_text(&mut b).as_deref(), Some("from-a-61"));
    b.write_all(&hixie_text("from-b-62")).unwrap();
    assert_eq!(text(&mut a), "from-b-62");
    // Binary reaches RFC members; the hixie-76 member is skipped with a log line.
    let mut c = open_rfc(server.addr, "/room-1");
    joined(&mut server, "/room-1", 3);
    a.write_all(&masked(0x2, &[9, 8, 7])).unwrap();
    assert_eq!(read_frame(&mut c), (true, 0x2, vec![9, 8, 7]));
    assert!(server
        .wait_for_log(|l| l.contains("hixie-76 has no binary messages"))
        .is_some());
    a.write_all(&masked(0x1, b"after-binary-63")).unwrap();
    assert_eq!(read_hixie_text(&mut b).as_deref(), Some("after-binary-63"));
    assert_eq!(text(&mut c), "after-binary-63");
    // Never back to the sender, never to another room.
    assert!(quiet(&mut a));
    assert!(quiet(&mut other_room));
}

#[test]
fn every_member_sees_one_order() {
    let mut server = Stdws::start(&["--broadcast", "-v"]);
    let senders: Vec<TcpStream> = (0..2).map(|_| open_rfc(server.addr, "/order")).collect();
    let mut watchers: Vec<TcpStream> = (0..2).map(|_| open_rfc(server.addr, "/order")).collect();
    joined(&mut server, "/order", 4);
    let threads: Vec<_> = senders
        .into_iter()
        .enumerate()
        .map(|(i, mut s)| {
            std::thread::spawn(move || {
                for n in 0..50 {
                    s.write_all(&masked(0x1, format!("s{i}-m{n}").as_bytes()))
                        .unwrap();
                }
                s
            })
        })
        .collect();
    let seen: Vec<Vec<String>> = watchers
        .iter_mut()
        .map(|w| (0..100).map(|_| text(w)).collect())
        .collect();
    for t in threads {
        drop(t.join().unwrap());
    }
    assert_eq!(seen[0], seen[1]);
    for i in 0..2 {
        let own: Vec<_> = seen[0]
            .iter()
            .filter(|m| m.starts_with(&format!("s{i}-")))
            .collect();
        let expected: Vec<_> = (0..50).map(|n| format!("s{i}-m{n}")).collect();
        assert_eq!(own, expected.iter().collect::<Vec<_>>());
    }
}

#[test]
fn slow_member_gets_1008_and_the_room_keeps_going() {
    let mut server = Stdws::start(&["--broadcast", "-v"]);
    let mut sender = open_rfc(server.addr, "/busy");
    let mut hixie = open_hixie(server.addr, "/busy");
    let mut slow = open_rfc(server.addr, "/busy");
    let slow_port = slow.local_addr().unwrap().port();
    joined(&mut server, "/busy", 3);

    // `slow` reads nothing. Send 64 KiB messages until its queue overflows (the
    // socket buffers take a few megabytes first); the hixie member reads them all.
    let filler = "x".repeat(64 * 1024);
    let sent = send_until_overflow(&mut server, slow_port, "/busy", 2000, |n| {
        let msg = format!("bulk-{n}-{filler}");
        sender.write_all(&masked(0x1, msg.as_bytes())).unwrap();
        read_hixie_exactly(&mut hixie, &msg);
    });

    // The room goes on without it.
    sender
        .write_all(&masked(0x1, b"after-overflow-77"))
        .unwrap();
    assert_eq!(
        read_hixie_text(&mut hixie).as_deref(),
        Some("after-overflow-77")
    );

    // The slow member, reading at last, finds a prefix of the traffic and then 1008.
    let mut received = 0;
    loop {
        let (_, opcode, payload) = read_frame(&mut slow);
        if opcode == 0x8 {
            assert_eq!(&payload[..2], &1008u16.to_be_bytes());
            assert_eq!(
                std::str::from_utf8(&payload[2..]).unwrap(),
                "send queue overflow: reading too slowly"
            );
            break;
        }
        let text = String::from_utf8(payload).unwrap();
        assert!(
            text.starts_with(&format!("bulk-{received}-")),
            "out of order"
        );
        received += 1;
    }
    assert!(received < sent, "{received} of {sent}");
    slow.write_all(&masked(0x8, &common::close_payload(1008, "")))
        .unwrap();
    assert!(common::server_closed(&mut slow));
}

#[test]
fn a_slow_member_is_also_bounded_in_bytes() {
    // 1 MiB messages: a member that reads nothing is closed with 1008 once about
    // 16 MiB wait for it (beyond its socket buffers), long before 4096 messages.
    let mut server = Stdws::start(&["--broadcast", "-v"]);
    let mut sender = open_rfc(server.addr, "/big");
    let mut reader = open_rfc(server.addr, "/big");
    let slow = open_rfc(server.addr, "/big");
    let slow_port = slow.local_addr().unwrap().port();
    joined(&mut server, "/big", 3);

    let filler = "y".repeat(1 << 20);
    let sent = send_until_overflow(&mut server, slow_port, "/big", 120, |n| {
        let msg = format!("big-{n}-{filler}");
        sender.write_all(&masked(0x1, msg.as_bytes())).unwrap();
        assert!(
            text(&mut reader) == msg,
            "the reading member gets message {n}"
        );
    });
    assert!(sent >= 16, "overflowed after only {sent} messages");
}

#[test]
fn a_burst_of_small_messages_reaches_a_member_that_reads() {
    // 1000 short messages in one write are parsed from one read and queued at once;
    // a member that reads keeps up with them and is not dropped.
    let mut server = Stdws::start(&["--broadcast", "-v"]);
    let mut sender = open_rfc(server.addr, "/burst");
    let mut reader = open_rfc(server.addr, "/burst");
    joined(&mut server, "/burst", 2);
    let burst: Vec<u8> = (0..1000)
        .flat_map(|n| masked(0x1, format!("burst-{n}").as_bytes()))
        .collect();
    sender.write_all(&burst).unwrap();
    for n in 0..1000 {
        assert_eq!(text(&mut reader), format!("burst-{n}"));
    }
    assert!(
        !server.log().iter().any(|l| l.contains("closing with 1008")),
        "nobody was dropped"
    );
}
