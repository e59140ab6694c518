//! A connection's thread serves the next connection once it is done: short
//! connections one after another do not each cost a new thread (the server's threads
//! wait in `accept` between connections). 127.0.0.1 only; every wait is bounded.

mod common;

use common::*;
use std::collections::HashSet;
use std::io::Write;
use std::time::{Duration, Instant};
use stdws::Message;

#[test]
fn twenty_connections_in_turn_are_served_by_at_most_three_threads() {
    let server = handler_server(|mut ws, _| {
        let me = format!("{:?}", std::thread::current().id());
        ws.send(Message::text(me))?;
        Ok(())
    });
    let addr = server.local_addr();
    let mut threads = HashSet::new();
    for _ in 0..20 {
        let mut s = open_rfc(addr, "/who");
        let (_, opcode, id) = read_frame(&mut s);
        assert_eq!(opcode, 0x1);
        threads.insert(String::from_utf8(id).unwrap());
        assert_eq!(read_close(&mut s), Some(1000));
        s.write_all(&masked(0x8, &[0x03, 0xE8])).unwrap();
        drop(s); // the server's lingering read sees the end at once
        let until = Instant::now() + PATIENCE;
        while server.active_connections() > 0 && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(1));
        }
        // Give the thread a moment to be back in `accept` before the next connects.
        std::thread::sleep(Duration::from_millis(20));
    }
    // One thread takes a connection, starting the next one to wait meanwhile; after
    // that they take turns. A third may start if a connection arrives in the instant
    // before a thread is back. Without reuse, it would be twenty.
    assert!(threads.len() <= 3, "{} threads: {threads:?}", threads.len());
}
