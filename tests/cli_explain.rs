//! `stdws --explain` for every vector of the project's protocol notes, the refused
//! article key, and `--trace` on real handshakes and frames.

mod cli_support;
mod common;

use cli_support::*;
use std::io::{Read, Write};

/// The line of `text` whose label is `label` (steps print as "  label   value").
fn step<'a>(text: &'a str, label: &str) -> Vec<&'a str> {
    text.lines()
        .filter(|l| l.trim_start().starts_with(label))
        .map(|l| l.trim_start()[label.len()..].trim())
        .collect()
}

#[test]
fn rfc6455_vectors() {
    for (key, sha1, accept) in [
        (
            "dGhlIHNhbXBsZSBub25jZQ==",
            "b37a4f2cc0624f1690f64606cf385945b2bec4ea",
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
        ),
        (
            "08kp54j1E3z4IfuM1m75tQ==",
            "0e1836b3f81791bb9389893af74767b3b2e61216",
            "Dhg2s/gXkbuTiYk690dns7LmEhY=",
        ),
    ] {
        let (code, out, err) = run(&["--explain", "rfc6455", key]);
        assert_eq!(code, 0, "{err}");
        assert_eq!(step(&out, "1. key, as sent"), [key]);
        assert_eq!(
            step(&out, "2. GUID (§1.3)"),
            ["258EAFA5-E914-47DA-95CA-C5AB0DC85B11"]
        );
        let joined = format!("{key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
        assert_eq!(step(&out, "3. key ++ GUID"), [joined.as_str()]);
        assert_eq!(step(&out, "4. SHA-1, hex"), [sha1]);
        assert_eq!(step(&out, "5. base64 of those 20 bytes"), [accept]);
        let answer = format!("Sec-WebSocket-Accept: {accept}");
        assert_eq!(step(&out, "answer"), [answer.as_str()]);
    }
}

#[test]
fn hixie76_vectors() {
    let cases = [
        (
            "18x 6]8vM;54 *(5:  {   U1]8  z [  8",
            "1_ tx7X d  <  nw  334J702) 7]o}` 0",
            "Tm[K T2u",
            ["1868545188 / 12 = 155712099", "1733470270 / 10 = 173347027"],
            "fQJ,fN/4F4!~K~MH",
        ),
        (
            "4 @1  46546xW%0l 1 5",
            "12998 5 Y3 1  .P00",
            "^n:ds[4U",
            ["4146546015 / 5 = 829309203", "1299853100 / 5 = 259970620"],
            "8jKS'y:G*Co,Wxa-",
        ),
    ];
    for (key1, key2, key3, quotients, answer) in cases {
        let key3_hex: String = key3.bytes().map(|b| format!("{b:02x}")).collect();
        for key3_arg in [key3.to_string(), key3_hex] {
            let (code, out, err) = run(&["--explain", "hixie76", key1, key2, &key3_arg]);
            assert_eq!(code, 0, "{err}");
            let q = step(&out, "quotient");
            assert_eq!(q.len(), 2, "{out}");
            for (line, expected) in q.iter().zip(quotients) {
                assert!(line.starts_with(expected), "{line} / {expected}");
            }
            let answer_line = step(&out, "answer, as text");
            assert_eq!(answer_line.len(), 1, "{out}");
            assert!(answer_line[0].starts_with(answer), "{out}");
            let md5: String = answer.bytes().map(|b| format!("{b:02x}")).collect();
            assert_eq!(step(&out, "MD5, hex"), [md5.as_str()]);
            // key1's quotient comes first in the challenge, then key2's, then key3.
            let challenge = step(&out, "challenge, 16 bytes");
            let n1: u32 = quotients[0].rsplit(' ').next().unwrap().parse().unwrap();
            let first: String = n1
                .to_be_bytes()
                .iter()
                .map(|b| format!("{b:02X} "))
                .collect();
            assert!(challenge[0].starts_with(first.trim_end()), "{out}");
            assert!(out.contains("key3 | key2 | key1"), "{out}");
        }
    }
}

#[test]
fn article_key_is_refused_not_truncated() {
    let article = "1\\}  a`;l022aaf  51";
    let (code, out, _) = run(&[
        "--explain",
        "hixie76",
        article,
        "12998 5 Y3 1  .P00",
        "^n:ds[4U",
    ]);
    assert_eq!(code, 0);
    assert_eq!(
        step(&out, "quotient")[0],
        "102251 / 4 = 25562 remainder 3: not a whole multiple"
    );
    assert!(step(&out, "verdict")[0].starts_with("REFUSED"), "{out}");
    assert!(out.contains("(truncating to 25562, as a well-known article does, is wrong)"));
    assert_eq!(step(&out, "answer"), ["none: 400 Bad Request, never a 101"]);
    assert!(!out.contains("MD5, hex"), "{out}");

    let (code, alone, _) = run(&["--explain", "hixie76", article]);
    assert_eq!(code, 0);
    assert!(alone.contains("REFUSED"), "{alone}");
}

#[test]
fn bad_explain_words_exit_2() {
    for words in [
        &["--explain", "rfc6455"][..],
        &["--explain", "hixie76", "1 ", "2 "],
        &["--explain", "hixie76", "1 ", "2 ", "seven77"],
        &["--explain", "gopher", "x"],
        &["--explain", "deflate"],
    ] {
        let (code, out, err) = run(words);
        assert_eq!((code, out.as_str()), (2, ""), "{words:?}");
        assert!(err.starts_with("stdws: "), "{err}");
    }
}

/// Spaced upper-case hex, as the explanation prints bytes.
fn hex(bytes: &[u8]) -> String {
    let parts: Vec<String> = bytes.iter().map(|b| format!("{b:02X}")).collect();
    parts.join(" ")
}

#[test]
fn deflate_shows_matches_codes_wire_bytes_and_the_way_back() {
    let (code, out, err) = run(&["--explain", "deflate", "abcabcabcabc", "Hello, abcabc"]);
    assert_eq!(code, 0, "{err}");
    // Three literals, then one match copying the rest from 3 back; the second
    // message reaches back into the first (context takeover).
    assert_eq!(step(&out, "literal \"c\""), ["code 10010011 (8 bits)"]);
    let first = step(&out, "match 9, 3 back");
    assert_eq!(first.len(), 1, "{out}");
    assert!(
        first[0].starts_with("copies \"abcabcabc\": length symbol 263 code 0000111"),
        "{out}"
    );
    let second = step(&out, "match 6, 13 back");
    assert_eq!(second.len(), 1, "{out}");
    assert!(second[0].contains("(13 + 0 in 2 extra bits)"), "{out}");
    // The bytes shown are the compressor's own, the tail shown as stripped.
    let mut compressor = stdws::deflate::Compressor::new(15, true);
    let wire: Vec<String> = [&b"abcabcabcabc"[..], b"Hello, abcabc"]
        .iter()
        .map(|m| {
            let mut payload = Vec::new();
            compressor.compress_message(m, &mut payload);
            hex(&payload)
        })
        .collect();
    let shown: Vec<&str> = step(&out, "on the wire")
        .iter()
        .map(|l| l.split(" (").next().unwrap())
        .collect();
    assert_eq!(shown, wire);
    for stripped in step(&out, "stripped (§7.2.1)") {
        assert!(
            stripped.starts_with("00 00 FF FF: LEN 0 and NLEN FFFF"),
            "{out}"
        );
    }
    assert_eq!(
        step(&out, "inflated back"),
        [
            "\"abcabcabcabc\" (tail put back): equal to the message",
            "\"Hello, abcabc\" (tail put back): equal to the message"
        ]
    );
    assert_eq!(step(&out, "LEN 0").len(), 2, "one sync flush per message");
}

#[test]
fn deflate_shows_a_dynamic_blocks_code_lengths() {
    // Letters drawn at random from a small alphabet: few matches, and dynamic codes
    // beat the fixed ones.
    let mut state = 7u32;
    let text: String = (0..400)
        .map(|_| {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
            ['a', 'b', 'c', 'd', ' '][(state >> 16) as usize % 5]
        })
        .collect();
    let (code, out, err) = run(&["--explain", "deflate", &text]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        step(&out, "block 1"),
        ["BFINAL 0, BTYPE 10: dynamic Huffman codes (§3.2.7)"]
    );
    let literal_code = step(&out, "literal/length code");
    assert_eq!(literal_code.len(), 1, "{out}");
    // Each of the five letters has a code, and the end of block.
    for letter in ["a:", "b:", "c:", "d:", "\" \":", "end:"] {
        assert!(literal_code[0].contains(letter), "{letter} in {out}");
    }
    assert!(!literal_code[0].contains("e:"), "{out}");
    assert_eq!(step(&out, "inflated back").len(), 1, "{out}");
    assert!(step(&out, "inflated back")[0].ends_with("equal to the message"));
}

#[test]
fn trace_prints_the_derivation_and_each_frame() {
    let mut server = Stdws::start(&["--trace"]);
    let mut rfc = common::open_rfc(server.addr, "/traced");
    rfc.write_all(&common::masked(0x1, b"trace-me-5")).unwrap();
    assert_eq!(
        common::read_frame(&mut rfc),
        (true, 1, b"trace-me-5".to_vec())
    );
    let mut hixie = common::open_hixie(server.addr, "/traced");
    hixie.write_all(b"\x00hixie-tr\xff").unwrap();
    let mut echoed = [0u8; 10];
    hixie.read_exact(&mut echoed).unwrap();
    assert_eq!(&echoed, b"\x00hixie-tr\xff");

    for expected in [
        "answer                       Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
        "trace frame <- rfc6455 text fin=1 len=10 masked=1",
        "trace frame -> rfc6455 text fin=1 len=10 masked=0",
        "answer, as text              8jKS'y:G*Co,Wxa-",
        "trace frame <- hixie76 text fin=1 len=8 masked=0",
        "trace frame -> hixie76 text fin=1 len=8 masked=0",
    ] {
        assert!(
            server.wait_for_log(|l| l.contains(expected)).is_some(),
            "missing {expected:?} in {:#?}",
            server.log()
        );
    }
}

#[test]
fn trace_prints_each_compressed_messages_sizes() {
    let mut server = Stdws::start(&["--trace", "--deflatememory", "full"]);
    let mut s = common::connect(server.addr);
    let request = common::rfc_request("/sized").replace(
        "\r\n\r\n",
        "\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
    );
    s.write_all(request.as_bytes()).unwrap();
    let (status, head) = common::read_response_head(&mut s);
    assert_eq!(status, 101, "{head}");
    assert!(head.contains("Sec-WebSocket-Extensions: permessage-deflate\r\n"));
    let text: String = (0..60).map(|i| format!("{{\"n\":{i}}},")).collect();
    let mut payload = Vec::new();
    stdws::deflate::Compressor::new(15, true).compress_message(text.as_bytes(), &mut payload);
    // opcode 1 with RSV1 (0x40): a compressed text message (RFC 7692 §6).
    s.write_all(&common::masked(0x41, &payload)).unwrap();
    let (fin, opcode, echoed) = common::read_frame(&mut s);
    assert_eq!((fin, opcode), (true, 1));
    assert!(echoed.len() < text.len(), "the echo came back compressed");
    for expected in [
        "trace permessage-deflate agreed: server window 2^15 with context takeover".to_string(),
        format!(
            "trace message <- compressed {} bytes, inflated {} bytes",
            payload.len(),
            text.len()
        ),
        format!(
            "trace message -> compressed {} bytes, inflated {} bytes",
            echoed.len(),
            text.len()
        ),
    ] {
        assert!(
            server.wait_for_log(|l| l.contains(&expected)).is_some(),
            "missing {expected:?} in {:#?}",
            server.log()
        );
    }
    let agreed = server.log().iter().filter(|l| l.contains("agreed")).count();
    assert_eq!(agreed, 1, "the parameters once per connection");
}
