//! The reader's tests: pieces, fragments and limits on hand-built frames.

use super::*;
use crate::frame::{encode_header, MAX_HEADER_LEN};

/// A masked client frame.
fn frame(fin: bool, opcode: Opcode, payload: &[u8]) -> Vec<u8> {
    let key = [0x12, 0x34, 0x56, 0x78];
    let mut header = [0u8; MAX_HEADER_LEN];
    let n = encode_header(&mut header, fin, opcode, payload.len() as u64, Some(key));
    let mut out = header[..n].to_vec();
    out.extend_from_slice(payload);
    apply_mask(&mut out[n..], key, 0);
    out
}

fn reader() -> MessageReader {
    MessageReader::new(Role::Server, Limits::default(), &[])
}

/// Collects what `read_part` yields until the stream ends.
fn parts(wire: &[u8], piece_size: usize) -> Vec<(String, Vec<u8>)> {
    let mut r = reader();
    let mut stream = wire;
    let mut out = Vec::new();
    while let Ok(part) = r.read_part(&mut stream, piece_size) {
        out.push(match part {
            Part::Message(MessageRef::Binary(b)) => ("binary".into(), b.to_vec()),
            Part::Message(MessageRef::Text(t)) => ("text".into(), t.as_bytes().to_vec()),
            Part::Message(MessageRef::Ping(p)) => ("ping".into(), p.to_vec()),
            Part::Message(other) => (format!("{other:?}"), Vec::new()),
            Part::Piece(p) => (
                format!("piece first={} last={}", p.first, p.last),
                p.data.to_vec(),
            ),
        });
    }
    out
}

#[test]
fn large_binary_comes_in_pieces_and_small_whole() {
    let big: Vec<u8> = (0..2500u32).map(|i| i as u8).collect();
    let mut wire = frame(true, Opcode::Binary, &big);
    wire.extend(frame(true, Opcode::Binary, b"small"));
    let got = parts(&wire, 1000);
    let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "piece first=true last=false",
            "piece first=false last=false",
            "piece first=false last=false",
            "piece first=false last=true",
            "binary"
        ]
    );
    // A new reader has no input buffer yet: its first read takes 64 bytes (8 of
    // them the header); every later read of this frame is one piece.
    let sizes: Vec<usize> = got[..4].iter().map(|(_, d)| d.len()).collect();
    assert_eq!(sizes, [56, 1000, 1000, 444]);
    let joined: Vec<u8> = got[..4].iter().flat_map(|(_, d)| d.clone()).collect();
    assert_eq!(joined, big);
    assert_eq!(got[4].1, b"small");
}

/// A stream that hands out at most `chunk` bytes per read, as a socket does
/// when the rest has not arrived yet.
struct Chunky<'a> {
    data: &'a [u8],
    chunk: usize,
}

impl Read for Chunky<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.chunk).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

#[test]
fn a_frame_of_a_piece_or_more_comes_out_read_by_read() {
    let big: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
    let wire = frame(true, Opcode::Binary, &big);
    let mut stream = Chunky {
        data: &wire,
        chunk: 3000,
    };
    let mut r = reader();
    let mut sizes = Vec::new();
    let mut joined = Vec::new();
    loop {
        let Ok(Part::Piece(p)) = r.read_part(&mut stream, 4000) else {
            panic!("pieces expected");
        };
        sizes.push(p.data.len());
        joined.extend_from_slice(p.data);
        if p.last {
            break;
        }
    }
    // The first read (64 bytes, 8 of them header: a new reader holds no input
    // buffer yet, see `crate::input`) goes onto the stack; after that each read of
    // the socket is one piece.
    assert_eq!(sizes, [56, 3000, 3000, 3000, 944]);
    assert_eq!(joined, big);

    // A frame shorter than the piece size waits to be whole.
    let wire = frame(true, Opcode::Binary, &big[..3999]);
    let mut stream = Chunky {
        data: &wire,
        chunk: 3000,
    };
    let got = reader().read_part(&mut stream, 4000).map(|p| match p {
        Part::Message(MessageRef::Binary(b)) => b.len(),
        _ => 0,
    });
    assert_eq!(got.ok(), Some(3999));
}

#[test]
fn pieces_cross_fragments_and_let_pings_through() {
    let mut wire = frame(false, Opcode::Binary, &[1; 700]);
    wire.extend(frame(true, Opcode::Ping, b"hi"));
    wire.extend(frame(false, Opcode::Continuation, &[2; 700]));
    wire.extend(frame(true, Opcode::Continuation, &[]));
    let got = parts(&wire, 1000);
    let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "ping",
            "piece first=true last=false",
            "piece first=false last=true"
        ]
    );
    assert_eq!(got[1].1.len(), 1000);
    assert_eq!(got[2].1, vec![2; 400]);
}

#[test]
fn text_is_never_cut_and_the_message_limit_counts_pieces() {
    let text = "é".repeat(1000);
    let got = parts(&frame(true, Opcode::Text, text.as_bytes()), 100);
    assert_eq!(got, [("text".to_string(), text.into_bytes())]);

    let limits = Limits {
        max_frame_size: 1000,
        max_message_size: 1500,
    };
    let mut r = MessageReader::new(Role::Server, limits, &[]);
    let mut wire = frame(false, Opcode::Binary, &[0; 1000]);
    wire.extend(frame(true, Opcode::Continuation, &[0; 600]));
    let mut stream = &wire[..];
    assert!(matches!(r.read_part(&mut stream, 500), Ok(Part::Piece(_))));
    assert!(matches!(r.read_part(&mut stream, 500), Ok(Part::Piece(_))));
    assert!(matches!(
        r.read_part(&mut stream, 500),
        Err(Error::Protocol(Violation::MessageTooLarge))
    ));
}
