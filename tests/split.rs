//! The reader/writer split: one thread sends while another is blocked reading, and
//! the reader's automatic answers go through the same writer without interleaving.

mod common;

use common::*;
use std::io::Write;
use std::thread;
use std::time::Duration;
use stdws::Message;

#[test]
fn writer_sends_while_reader_is_blocked() {
    let server = handler_server(|ws, _| {
        let (mut reader, writer) = ws.split()?;
        let ticker = thread::spawn(move || {
            for i in 0..50 {
                if writer.send(Message::text(format!("tick {i}"))).is_err() {
                    break;
                }
                thread::sleep(Duration::from_millis(1));
            }
        });
        // Blocked here while the ticker sends; pings are answered meanwhile.
        while let Ok(msg) = reader.read() {
            if let Message::Close(_) = msg {
                break;
            }
        }
        ticker.join().ok();
        Ok(())
    });
    let mut s = open_rfc(server.local_addr(), "/");
    let mut ticks = 0;
    let mut pong_seen = false;
    s.write_all(&masked(0x9, b"are you there")).unwrap();
    while ticks < 50 {
        let (fin, opcode, payload) = read_frame(&mut s);
        assert!(fin);
        match opcode {
            0x1 => {
                assert_eq!(payload, format!("tick {ticks}").into_bytes());
                ticks += 1;
            }
            0xA => {
                assert_eq!(payload, b"are you there");
                pong_seen = true;
            }
            other => panic!("unexpected opcode {other}"),
        }
    }
    assert!(pong_seen, "the pong went out between the ticks");
    s.write_all(&masked(0x8, &close_payload(1000, ""))).unwrap();
    assert_eq!(read_close(&mut s), Some(1000));
}
