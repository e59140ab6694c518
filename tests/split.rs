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

#[test]
fn pieces_pass_through_as_one_fragmented_message() {
    // A handler that streams large binary messages on as they arrive: the client here
    // sends a message that fits the socket buffers, so it can read after sending.
    let server = handler_server(|ws, _| {
        let (mut reader, writer) = ws.split()?;
        loop {
            match reader.read_part_ref(1000)? {
                stdws::Part::Piece(piece) => writer.feed_piece(piece)?,
                stdws::Part::Message(stdws::MessageRef::Binary(b)) => {
                    writer.send_ref(stdws::MessageRef::Binary(b))?
                }
                stdws::Part::Message(stdws::MessageRef::Close(_)) => return Ok(()),
                stdws::Part::Message(_) => {}
            }
            writer.flush()?;
        }
    });
    let mut s = open_rfc(server.local_addr(), "/");
    let blob: Vec<u8> = (0..2500u32).map(|i| (i % 253) as u8).collect();
    s.write_all(&masked(0x2, &blob)).unwrap();
    let mut frames = Vec::new();
    let mut echoed = Vec::new();
    loop {
        let (fin, opcode, payload) = read_frame(&mut s);
        frames.push((fin, opcode, payload.len()));
        echoed.extend_from_slice(&payload);
        if fin {
            break;
        }
    }
    // Pieces of at most 1000 bytes (each what one read brought): a binary frame,
    // then continuations, FIN on the last only.
    assert!(frames.len() >= 3, "{frames:?}");
    for (i, &(fin, opcode, len)) in frames.iter().enumerate() {
        assert_eq!(opcode, if i == 0 { 0x2 } else { 0x0 }, "{frames:?}");
        assert_eq!(fin, i == frames.len() - 1, "{frames:?}");
        assert!(len <= 1000, "{frames:?}");
    }
    assert_eq!(echoed, blob);
    s.write_all(&masked(0x2, b"small")).unwrap();
    assert_eq!(read_frame(&mut s), (true, 0x2, b"small".to_vec()));
}
