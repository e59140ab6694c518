//! Exec mode against the built binary: a program per connection, lines both ways,
//! early output, the CGI environment, closing in both directions, --maxforks,
//! --binary and --passstderr, over RFC 6455 and hixie-76.
#![cfg(unix)]

mod cli_support;
mod common;

use cli_support::*;
use common::{masked, open_hixie, open_rfc, read_close, read_frame};
use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn text(s: &mut TcpStream) -> String {
    let (fin, opcode, payload) = read_frame(s);
    assert_eq!((fin, opcode), (true, 0x1), "expected a text frame");
    String::from_utf8(payload).expect("UTF-8")
}

#[test]
fn shell_one_liner_gets_lines_and_answers_lines() {
    let server = Stdws::start(&["--", "sh", "-c", "while read l; do echo \"got:$l\"; done"]);
    let mut rfc = open_rfc(server.addr, "/one-liner");
    rfc.write_all(&masked(0x1, b"exec-one-7f3a")).unwrap();
    assert_eq!(text(&mut rfc), "got:exec-one-7f3a");
    rfc.write_all(&masked(0x1, "ünï-42".as_bytes())).unwrap();
    assert_eq!(text(&mut rfc), "got:ünï-42");

    let mut hixie = open_hixie(server.addr, "/one-liner");
    hixie.write_all(&hixie_text("hix-exec-93")).unwrap();
    assert_eq!(
        read_hixie_text(&mut hixie).as_deref(),
        Some("got:hix-exec-93")
    );

    // The client leaves: stdin closes, the loop ends, the close is answered.
    rfc.write_all(&masked(0x8, &common::close_payload(1000, "")))
        .unwrap();
    assert_eq!(read_close(&mut rfc), Some(1000));
}

#[test]
fn lines_arrive_as_written_not_at_exit() {
    // Prints before it reads, sleeps between lines, and then sleeps for far longer
    // than the test waits: every line must arrive while it is still running.
    let script = "echo \"early-a91 pid=$$\"; sleep 1; echo mid-b72; read x; \
                  echo \"echo-$x\"; exec sleep 60";
    let mut server = Stdws::start(&["--closems", "200", "--", "sh", "-c", script]);
    let mut rfc = open_rfc(server.addr, "/slow");
    let early = text(&mut rfc);
    assert!(early.starts_with("early-a91 pid="), "{early}");
    let pid: u32 = early["early-a91 pid=".len()..].parse().unwrap();
    assert_eq!(text(&mut rfc), "mid-b72");
    rfc.write_all(&masked(0x1, b"c55")).unwrap();
    assert_eq!(text(&mut rfc), "echo-c55");

    // The client closes while the program sleeps: it is killed after --closems and
    // reaped; the close handshake completes long before the 60 s sleep would end.
    let asked = Instant::now();
    rfc.write_all(&masked(0x8, &common::close_payload(1000, "done")))
        .unwrap();
    assert_eq!(read_close(&mut rfc), Some(1000));
    assert!(common::server_closed(&mut rfc));
    assert!(asked.elapsed() < Duration::from_secs(30));
    let proc_dir = format!("/proc/{pid}");
    if std::path::Path::new("/proc/self").exists() {
        let until = Instant::now() + WAIT;
        while std::path::Path::new(&proc_dir).exists() && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(
            !std::path::Path::new(&proc_dir).exists(),
            "program {pid} still exists (running or a zombie)"
        );
    }
    assert!(server
        .wait_for_log(|l| l.contains("/slow rfc6455 closed"))
        .is_some());
}

#[test]
fn program_exit_closes_with_1000_after_its_last_lines() {
    let script = "printf 'crlf-line-1\\r\\nbad-\\377-utf8\\nno-newline-q8'";
    let mut server = Stdws::start(&["--", "sh", "-c", script]);
    let mut rfc = open_rfc(server.addr, "/exit");
    assert_eq!(text(&mut rfc), "crlf-line-1");
    assert_eq!(text(&mut rfc), "bad-\u{FFFD}-utf8");
    assert_eq!(text(&mut rfc), "no-newline-q8");
    assert_eq!(read_close(&mut rfc), Some(1000));
    rfc.write_all(&masked(0x8, &common::close_payload(1000, "")))
        .unwrap();
    assert!(common::server_closed(&mut rfc));
    assert!(server
        .wait_for_log(|l| l.contains("invalid UTF-8"))
        .is_some());

    let mut hixie = open_hixie(server.addr, "/exit");
    assert_eq!(read_hixie_text(&mut hixie).as_deref(), Some("crlf-line-1"));
    assert_eq!(
        read_hixie_text(&mut hixie).as_deref(),
        Some("bad-\u{FFFD}-utf8")
    );
    assert_eq!(
        read_hixie_text(&mut hixie).as_deref(),
        Some("no-newline-q8")
    );
    assert_eq!(read_hixie_text(&mut hixie), None);
}

#[test]
fn stderr_goes_to_the_log() {
    let mut server = Stdws::start(&["--", "sh", "-c", "echo to-stderr-x7 >&2; echo out"]);
    let mut rfc = open_rfc(server.addr, "/");
    assert_eq!(text(&mut rfc), "out");
    assert!(server
        .wait_for_log(|l| l.ends_with(": to-stderr-x7") && l.contains(" sh: "))
        .is_some());
}

#[test]
fn environment_seen_by_the_program() {
    let mut server = Stdws::start_with_env(
        &["--passenv", "PATH,STDWS_TEST_PASSED", "--", "env"],
        &[
            ("STDWS_TEST_PASSED", "passed-z1"),
            ("STDWS_TEST_HIDDEN", "hidden-z2"),
        ],
    );
    let mut s = common::connect(server.addr);
    let request = format!(
        "GET /env/path?q=1&r=two HTTP/1.1\r\nHost: localhost:{port}\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\nX-Multi: one\r\nX-Multi: two\r\n\r\n",
        port = server.addr.port()
    );
    s.write_all(request.as_bytes()).unwrap();
    let (status, _) = common::read_response_head(&mut s);
    assert_eq!(status, 101);
    let mut vars = std::collections::HashMap::new();
    loop {
        let (_, opcode, payload) = read_frame(&mut s);
        if opcode == 0x8 {
            break;
        }
        let line = String::from_utf8(payload).unwrap();
        let (k, v) = line.split_once('=').unwrap();
        vars.insert(k.to_string(), v.to_string());
    }
    let local_port = s.local_addr().unwrap().port().to_string();
    let server_port = server.addr.port().to_string();
    for (k, v) in [
        ("REMOTE_ADDR", "127.0.0.1"),
        ("REMOTE_PORT", local_port.as_str()),
        ("SERVER_NAME", "localhost"),
        ("SERVER_PORT", server_port.as_str()),
        ("SERVER_PROTOCOL", "HTTP/1.1"),
        (
            "SERVER_SOFTWARE",
            concat!("stdws/", env!("CARGO_PKG_VERSION")),
        ),
        ("GATEWAY_INTERFACE", "websocketd-CGI/0.1"),
        ("REQUEST_METHOD", "GET"),
        ("REQUEST_URI", "/env/path?q=1&r=two"),
        ("SCRIPT_NAME", ""),
        ("PATH_INFO", "/env/path"),
        ("QUERY_STRING", "q=1&r=two"),
        ("HTTP_X_MULTI", "one, two"),
        ("HTTP_SEC_WEBSOCKET_VERSION", "13"),
        ("HTTP_UPGRADE", "websocket"),
        ("STDWS_TEST_PASSED", "passed-z1"),
    ] {
        assert_eq!(vars.get(k).map(String::as_str), Some(v), "{k} in {vars:#?}");
    }
    assert!(!vars.contains_key("STDWS_TEST_HIDDEN"), "{vars:#?}");
    assert!(vars.contains_key("PATH"));
    let _ = server.wait_for_log(|l| l.contains("/env/path rfc6455 closed"));
}

#[test]
fn maxforks_answers_503_with_retry_after() {
    let server = Stdws::start(&["--maxforks", "1", "--", "sh", "-c", "echo ready; read x"]);
    let mut first = open_rfc(server.addr, "/first");
    assert_eq!(text(&mut first), "ready");
    let mut second = common::connect(server.addr);
    second
        .write_all(common::rfc_request("/second").as_bytes())
        .unwrap();
    let (status, head, _) = common::read_response(&mut second);
    assert_eq!(status, 503, "{head}");
    assert!(head.contains("Retry-After: 1\r\n"), "{head}");

    // Once the first program ends, a new connection gets one again.
    first.write_all(&masked(0x1, b"go")).unwrap();
    assert_eq!(read_close(&mut first), Some(1000));
    drop(first);
    let until = Instant::now() + WAIT;
    loop {
        let mut again = common::connect(server.addr);
        again
            .write_all(common::rfc_request("/again").as_bytes())
            .unwrap();
        let (status, _) = common::read_response_head(&mut again);
        if status == 101 {
            assert_eq!(text(&mut again), "ready");
            break;
        }
        assert_eq!(status, 503);
        assert!(
            Instant::now() < until,
            "the program slot was never given back"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn binary_mode_relays_bytes_as_they_are() {
    let mut server = Stdws::start(&["--binary", "--", "cat"]);
    let mut rfc = open_rfc(server.addr, "/bin");
    let bytes = [0u8, 1, 2, 0xFF, b'\n', 0x80, 0x7F];
    rfc.write_all(&masked(0x2, &bytes)).unwrap();
    let mut got = Vec::new();
    while got.len() < bytes.len() {
        let (_, opcode, payload) = read_frame(&mut rfc);
        assert_eq!(opcode, 0x2);
        got.extend(payload);
    }
    assert_eq!(got, bytes);

    // A hixie-76 client cannot receive binary: the error is logged, nothing mangled.
    let mut hixie = open_hixie(server.addr, "/bin");
    hixie.write_all(&hixie_text("to-hixie-b1")).unwrap();
    assert!(server
        .wait_for_log(|l| l.contains("hixie-76 has no binary messages"))
        .is_some());
}

#[test]
fn a_program_that_cannot_start_closes_with_1011() {
    let mut server = Stdws::start(&["--", "/nonexistent/stdws-no-such-program"]);
    let mut rfc = open_rfc(server.addr, "/missing");
    assert_eq!(read_close(&mut rfc), Some(1011));
    assert!(server
        .wait_for_log(|l| l.contains("cannot start /nonexistent/stdws-no-such-program"))
        .is_some());
}

#[test]
fn passstderr_tags_both_streams_as_json() {
    let script = "echo out-a1; echo 'err \"b2\"' >&2; echo out-c3";
    let mut server = Stdws::start(&["--passstderr", "--", "sh", "-c", script]);
    // The two streams are relayed by two threads: their order relative to each
    // other is not fixed, each stream's own order is.
    let mut expected = vec![
        r#"{"stream":"stdout","data":"out-a1"}"#,
        r#"{"stream":"stderr","data":"err \"b2\""}"#,
        r#"{"stream":"stdout","data":"out-c3"}"#,
    ];
    expected.sort_unstable();

    let mut rfc = open_rfc(server.addr, "/tagged");
    let mut got: Vec<String> = (0..3).map(|_| text(&mut rfc)).collect();
    let stdout_order: Vec<&String> = got.iter().filter(|l| l.contains("stdout")).collect();
    assert!(stdout_order[0].contains("out-a1"), "{got:?}");
    got.sort_unstable();
    assert_eq!(got, expected);
    assert_eq!(read_close(&mut rfc), Some(1000));

    let mut hixie = open_hixie(server.addr, "/tagged");
    let mut got: Vec<String> = (0..3)
        .map(|_| read_hixie_text(&mut hixie).expect("a text frame"))
        .collect();
    got.sort_unstable();
    assert_eq!(got, expected);
    assert_eq!(read_hixie_text(&mut hixie), None);

    // stderr still reaches the log as well.
    assert!(server
        .wait_for_log(|l| l.ends_with(": err \"b2\""))
        .is_some());
}
